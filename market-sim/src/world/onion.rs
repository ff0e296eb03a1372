//! Onion service names: real v3 `.onion` addresses derived from seeded ed25519 keys.
//!
//! The address format is Tor's (rend-spec-v3): base32(pubkey ‖ checksum ‖ version) with
//! checksum = SHA3-256(".onion checksum" ‖ pubkey ‖ version)[..2]. In direct mode the name
//! is only resolved to a loopback socket; the same key can later back a real tor service.

use ed25519_dalek::SigningKey;
use sha3::{Digest, Sha3_256};

/// The v3 onion host name (`<56 chars>.onion`) for the ed25519 key made from `seed`.
pub fn onion_host(seed: [u8; 32]) -> String {
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let version = 3u8;
    let mut h = Sha3_256::new();
    h.update(b".onion checksum");
    h.update(public);
    h.update([version]);
    let checksum = h.finalize();
    let mut raw = Vec::with_capacity(35);
    raw.extend_from_slice(&public);
    raw.extend_from_slice(&checksum[..2]);
    raw.push(version);
    format!("{}.onion", base32_lower(&raw))
}

/// The seed of the key behind site `site`'s onion name in the world of `seed`: direct mode
/// derives the name from it, tor mode hands the same key to tor, so both names agree.
pub fn site_key_seed(seed: u64, site: &str) -> [u8; 32] {
    sim_core::rng::stream_seed(seed, &format!("onion:{site}"))
}

/// The `hs_ed25519_secret_key` file tor reads from a `HiddenServiceDir`: a 32-byte tag
/// and the expanded ed25519 key (SHA-512 of the seed, its scalar half clamped), so that
/// tor serves the service under [`onion_host`]`(seed)`.
pub fn tor_secret_key_file(seed: [u8; 32]) -> Vec<u8> {
    use sha2::{Digest as _, Sha512};
    let mut expanded: [u8; 64] = Sha512::digest(seed).into();
    expanded[0] &= 248;
    expanded[31] &= 127;
    expanded[31] |= 64;
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(b"== ed25519v1-secret: type0 ==\0\0\0");
    out.extend_from_slice(&expanded);
    out
}

/// RFC 4648 base32, lower case, no padding (what onion names use).
fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onion_names_have_v3_shape() {
        let name = onion_host([7u8; 32]);
        assert_eq!(name.len(), 56 + ".onion".len());
        assert!(name.ends_with("d.onion"), "version byte 3 encodes as a trailing 'd': {name}");
        assert_eq!(onion_host([7u8; 32]), name);
        assert_ne!(onion_host([8u8; 32]), name);
    }

    #[test]
    fn tor_key_file_has_tors_layout() {
        let file = tor_secret_key_file([7u8; 32]);
        assert_eq!(file.len(), 96);
        assert_eq!(&file[..32], b"== ed25519v1-secret: type0 ==\0\0\0");
        assert_eq!(file[32] & 7, 0, "the scalar is clamped");
        assert_ne!(tor_secret_key_file([8u8; 32]), file);
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32_lower(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32_lower(b"f"), "my");
    }
}
