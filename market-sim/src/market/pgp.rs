//! Real OpenPGP keys and messages (rpgp), made deterministically from a caller's seed.
//!
//! Personas publish an armoured public key on their vendor profile; a careless one puts
//! an e-mail address in the key's user ID, which any OpenPGP tool shows. Keys are v4:
//! an Ed25519 primary key (certify, sign) with one Curve25519 ECDH subkey (encrypt).
//!
//! Determinism: every random byte comes from a ChaCha20 RNG seeded by the caller, and
//! every timestamp (key creation, self-signatures) is given by the caller — rpgp's key
//! builder stamps signatures with the wall clock, so keys are put together here packet by
//! packet instead. Same seed, user ID and time → the same armoured text, byte for byte.

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, Message, MessageBuilder, SignedKeyDetails, SignedPublicKey,
    SignedPublicSubKey, SignedSecretKey, SignedSecretSubKey,
};
use pgp::crypto::ecc_curve::ECCCurve;
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::packet::{
    KeyFlags, PubKeyInner, PublicKey, PublicSubkey, SecretKey, SecretSubkey, SignatureConfig, SignatureType, Subpacket, SubpacketData,
    UserId,
};
use pgp::types::{KeyDetails, KeyVersion, PacketHeaderVersion, Password, SignedUser, Tag, Timestamp};
use rand_chacha_03::ChaCha20Rng;
use rand_chacha_03::rand_core::SeedableRng;

/// Creation time of keys made by [`generate_key`]: 2025-01-01T00:00:00Z.
pub const DEFAULT_KEY_TIME: u32 = 1_735_689_600;

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum PgpError {
    /// The text is not an armoured OpenPGP public key (or its self-signatures are bad).
    #[error("not a valid OpenPGP public key: {0}")]
    BadKey(String),
    /// The key has no subkey that can encrypt.
    #[error("the key has no encryption subkey")]
    NoEncryptionKey,
    /// The user ID is empty or too long.
    #[error("user ID must be 1-256 bytes")]
    BadUserId,
    /// The signature does not verify against the key and text.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// rpgp failed to build, sign or encrypt.
    #[error("OpenPGP operation failed: {0}")]
    Crypto(String),
}

fn crypto(e: impl std::fmt::Display) -> PgpError {
    PgpError::Crypto(e.to_string())
}

/// A persona's key made from `seed`, created at [`DEFAULT_KEY_TIME`]; returns
/// `(armored_public, armored_secret)`. See [`generate_key_at`].
pub fn generate_key(seed: [u8; 32], user_id: &str) -> Result<(String, String), PgpError> {
    generate_key_at(seed, user_id, DEFAULT_KEY_TIME)
}

/// A persona's key made from `seed`, with `user_id` (e.g. `"dr_white <dr.white@mail.example>"`)
/// and created at `created_unix` (seconds since 1970, UTC); returns
/// `(armored_public, armored_secret)`. The secret key has no passphrase.
pub fn generate_key_at(seed: [u8; 32], user_id: &str, created_unix: u32) -> Result<(String, String), PgpError> {
    if user_id.is_empty() || user_id.len() > 256 {
        return Err(PgpError::BadUserId);
    }
    let secret = build_key(seed, user_id, Timestamp::from_secs(created_unix))?;
    let public = secret.to_public_key();
    let public_armored = public.to_armored_string(ArmorOptions::default()).map_err(crypto)?;
    let secret_armored = secret.to_armored_string(ArmorOptions::default()).map_err(crypto)?;
    Ok((public_armored, secret_armored))
}

fn build_key(seed: [u8; 32], user_id: &str, created: Timestamp) -> Result<SignedSecretKey, PgpError> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    let no_pw = Password::empty();

    let primary_type = KeyType::Ed25519Legacy;
    let (pub_params, sec_params) = primary_type.generate(&mut rng).map_err(crypto)?;
    let inner = PubKeyInner::new(KeyVersion::V4, primary_type.to_alg(), created, None, pub_params).map_err(crypto)?;
    let primary_pub = PublicKey::from_inner(inner).map_err(crypto)?;
    let primary = SecretKey::new(primary_pub.clone(), sec_params).map_err(crypto)?;

    let sub_type = KeyType::ECDH(ECCCurve::Curve25519Legacy);
    let (pub_params, sec_params) = sub_type.generate(&mut rng).map_err(crypto)?;
    let inner = PubKeyInner::new(KeyVersion::V4, sub_type.to_alg(), created, None, pub_params).map_err(crypto)?;
    let sub_pub = PublicSubkey::from_inner(inner).map_err(crypto)?;
    let sub = SecretSubkey::new(sub_pub.clone(), sec_params).map_err(crypto)?;

    let subpackets = |flags: KeyFlags| -> Result<Vec<Subpacket>, PgpError> {
        Ok(vec![
            Subpacket::regular(SubpacketData::SignatureCreationTime(created)).map_err(crypto)?,
            Subpacket::regular(SubpacketData::IssuerFingerprint(primary_pub.fingerprint())).map_err(crypto)?,
            Subpacket::regular(SubpacketData::KeyFlags(flags)).map_err(crypto)?,
        ])
    };
    let issuer = || Subpacket::regular(SubpacketData::IssuerKeyId(primary_pub.legacy_key_id())).map_err(crypto);

    // The user ID, self-certified.
    let uid = UserId::from_str(PacketHeaderVersion::New, user_id).map_err(crypto)?;
    let mut flags = KeyFlags::default();
    flags.set_certify(true);
    flags.set_sign(true);
    let mut config = SignatureConfig::v4(SignatureType::CertPositive, primary_type.to_alg(), HashAlgorithm::Sha256);
    config.hashed_subpackets = subpackets(flags)?;
    config.unhashed_subpackets = vec![issuer()?];
    let uid_sig = config.sign_certification(&primary, &primary_pub, &no_pw, Tag::UserId, &uid).map_err(crypto)?;

    // The encryption subkey, bound to the primary key.
    let mut flags = KeyFlags::default();
    flags.set_encrypt_comms(true);
    flags.set_encrypt_storage(true);
    let mut config = SignatureConfig::v4(SignatureType::SubkeyBinding, primary_type.to_alg(), HashAlgorithm::Sha256);
    config.hashed_subpackets = subpackets(flags)?;
    config.unhashed_subpackets = vec![issuer()?];
    let sub_sig = config.sign_subkey_binding(&primary, &primary_pub, &no_pw, &sub_pub).map_err(crypto)?;

    let details = SignedKeyDetails::new(vec![], vec![], vec![SignedUser::new(uid, vec![uid_sig])], vec![]);
    Ok(SignedSecretKey::new(primary, details, vec![], vec![SignedSecretSubKey::new(sub, vec![sub_sig])]))
}

/// Parses an armoured public key and checks its self-signatures.
pub fn read_public_key(armored: &str) -> Result<SignedPublicKey, PgpError> {
    let (key, _) = SignedPublicKey::from_string(armored).map_err(|e| PgpError::BadKey(e.to_string()))?;
    key.verify_bindings().map_err(|e| PgpError::BadKey(e.to_string()))?;
    Ok(key)
}

/// What a profile page shows of a public key: its fingerprint and user IDs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeySummary {
    /// Upper-case hex fingerprint of the primary key.
    pub fingerprint: String,
    /// Every user ID on the key, as text (this is where an e-mail slips out).
    pub user_ids: Vec<String>,
}

/// The fingerprint and user IDs of an armoured public key.
pub fn summarize(armored: &str) -> Result<KeySummary, PgpError> {
    let key = read_public_key(armored)?;
    Ok(summary_of(&key))
}

fn summary_of(key: &SignedPublicKey) -> KeySummary {
    let user_ids = key.details.users.iter().map(|u| String::from_utf8_lossy(u.id.id()).into_owned()).collect();
    KeySummary { fingerprint: hex::encode_upper(key.fingerprint().as_bytes()), user_ids }
}

/// Encrypts `plaintext` to the encryption subkey of the armoured public key `recipient`;
/// returns an armoured OpenPGP message (SEIPDv1, AES-256). Deterministic given `seed`.
pub fn encrypt_to(recipient: &str, plaintext: &[u8], seed: [u8; 32]) -> Result<String, PgpError> {
    let key = read_public_key(recipient)?;
    let sub = key.public_subkeys.iter().find(|k| k.algorithm().can_encrypt()).ok_or(PgpError::NoEncryptionKey)?;
    encrypt_with(sub, plaintext, seed)
}

fn encrypt_with(sub: &SignedPublicSubKey, plaintext: &[u8], seed: [u8; 32]) -> Result<String, PgpError> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    let mut builder = MessageBuilder::from_bytes("", plaintext.to_vec()).seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    builder.encrypt_to_key(&mut rng, sub).map_err(crypto)?;
    builder.to_armored_string(&mut rng, ArmorOptions::default()).map_err(crypto)
}

/// Decrypts an armoured message with an armoured secret key (no passphrase); returns the
/// plaintext. For tests and for personas reading their mail.
pub fn decrypt(armored_secret: &str, armored_message: &str) -> Result<Vec<u8>, PgpError> {
    let (key, _) = SignedSecretKey::from_string(armored_secret).map_err(|e| PgpError::BadKey(e.to_string()))?;
    let (msg, _) = Message::from_armor(armored_message.as_bytes()).map_err(crypto)?;
    let mut msg = msg.decrypt(&Password::empty(), &key).map_err(crypto)?;
    if msg.is_compressed() {
        msg = msg.decompress().map_err(crypto)?;
    }
    msg.as_data_vec().map_err(crypto)
}

/// Signs `text` with the primary key of an armoured secret key (no passphrase), stamped
/// `created_unix`; returns an armoured detached signature (binary, SHA-256). Ed25519
/// signatures are deterministic, so the same key, text and time give the same signature.
pub fn sign_detached(armored_secret: &str, text: &[u8], created_unix: u32) -> Result<String, PgpError> {
    let (key, _) = SignedSecretKey::from_string(armored_secret).map_err(|e| PgpError::BadKey(e.to_string()))?;
    let primary = &key.primary_key;
    let created = Timestamp::from_secs(created_unix);
    let mut config = SignatureConfig::v4(SignatureType::Binary, primary.algorithm(), HashAlgorithm::Sha256);
    config.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(created)).map_err(crypto)?,
        Subpacket::regular(SubpacketData::IssuerFingerprint(primary.fingerprint())).map_err(crypto)?,
    ];
    config.unhashed_subpackets = vec![Subpacket::regular(SubpacketData::IssuerKeyId(primary.legacy_key_id())).map_err(crypto)?];
    let sig = config.sign(primary, &Password::empty(), text).map_err(crypto)?;
    DetachedSignature::new(sig).to_armored_string(ArmorOptions::default()).map_err(crypto)
}

/// Checks an armoured detached signature over `text` against an armoured public key.
pub fn verify_detached(armored_public: &str, text: &[u8], armored_signature: &str) -> Result<(), PgpError> {
    let key = read_public_key(armored_public)?;
    let (sig, _) = DetachedSignature::from_string(armored_signature).map_err(|e| PgpError::BadSignature(e.to_string()))?;
    sig.verify(&key.primary_key, text).map_err(|e| PgpError::BadSignature(e.to_string()))
}

/// Whether `text` looks like an armoured OpenPGP message (what the market shows as
/// "encrypted" in a mailbox).
pub fn is_armored_message(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("-----BEGIN PGP MESSAGE-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic_and_readable() {
        let (p1, s1) = generate_key([7; 32], "dr_white <dr.white@mail.example>").unwrap();
        let (p2, s2) = generate_key([7; 32], "dr_white <dr.white@mail.example>").unwrap();
        assert_eq!((p1.clone(), s1.clone()), (p2, s2));
        assert!(p1.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        let (p3, _) = generate_key([8; 32], "dr_white <dr.white@mail.example>").unwrap();
        assert_ne!(p1, p3);
        let s = summarize(&p1).unwrap();
        assert_eq!(s.user_ids, vec!["dr_white <dr.white@mail.example>".to_string()]);
        assert_eq!(s.fingerprint.len(), 40);
        assert!(matches!(summarize("not a key"), Err(PgpError::BadKey(_))));
        assert!(matches!(generate_key([1; 32], ""), Err(PgpError::BadUserId)));
    }

    #[test]
    fn detached_signatures_are_deterministic_and_verify() {
        let (public, secret) = generate_key([5; 32], "Silk Lane staff").unwrap();
        let a = sign_detached(&secret, b"no warrants", 1_800_000_000).unwrap();
        assert_eq!(a, sign_detached(&secret, b"no warrants", 1_800_000_000).unwrap());
        assert!(a.starts_with("-----BEGIN PGP SIGNATURE-----"), "{a}");
        verify_detached(&public, b"no warrants", &a).unwrap();
        assert!(matches!(verify_detached(&public, b"no warrants!", &a), Err(PgpError::BadSignature(_))));
        let (other, _) = generate_key([6; 32], "someone else").unwrap();
        assert!(verify_detached(&other, b"no warrants", &a).is_err());
        assert!(matches!(sign_detached("not a key", b"x", 0), Err(PgpError::BadKey(_))));
    }

    #[test]
    fn messages_round_trip() {
        let (public, secret) = generate_key([9; 32], "vendor").unwrap();
        let a = encrypt_to(&public, b"ship to 1 Main St", [1; 32]).unwrap();
        let b = encrypt_to(&public, b"ship to 1 Main St", [1; 32]).unwrap();
        assert_eq!(a, b);
        assert!(is_armored_message(&a));
        assert_eq!(decrypt(&secret, &a).unwrap(), b"ship to 1 Main St");
    }
}
