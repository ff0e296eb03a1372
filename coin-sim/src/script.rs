//! Output-script standardness and P2WPKH spend verification (our own small interpreter).
//!
//! Two spend types are verified, the ones Darkcoin wallets make:
//! - P2WPKH: witness `[signature+sighash type, pubkey]`, `HASH160(pubkey)` equal to the
//!   witness program, and ECDSA over the BIP143 sighash with the sighash type taken from the
//!   signature's last byte;
//! - P2TR key path: witness `[schnorr signature]` (64 bytes, or 65 with a sighash byte)
//!   verified against the output key over the BIP341 sighash.
//!
//! Other spend types (legacy, P2WSH, taproot script paths) are refused as unsupported.

use bitcoin::hashes::Hash as _;
use bitcoin::secp256k1::Message;
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::sighash::{Prevouts, SighashCache};
use bitcoin::{PublicKey, Script, Transaction, TxOut, WPubkeyHash};

use crate::secp;

/// What went wrong verifying one input's spend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// A native segwit spend must have an empty scriptSig.
    #[error("witness program spent with a non-empty scriptSig")]
    ScriptSigNotEmpty,
    /// The witness is not exactly [signature, public key].
    #[error("witness program mismatch: expected 2 witness items, found {0}")]
    WitnessShape(usize),
    /// The public key is not a valid compressed key.
    #[error("public key is not a valid compressed secp256k1 key")]
    BadPublicKey,
    /// HASH160 of the public key is not the witness program.
    #[error("public key does not match the witness program")]
    PubkeyHashMismatch,
    /// The signature is not strict DER plus a standard sighash byte.
    #[error("non-canonical DER signature or sighash type")]
    BadSignatureEncoding,
    /// The signature does not verify against the sighash and key.
    #[error("signature does not verify")]
    SignatureInvalid,
    /// The sighash could not be computed.
    #[error("cannot compute the BIP143/BIP341 sighash")]
    Sighash,
    /// The prevout is a script type this simulator does not verify yet.
    #[error("spending this output type is not supported yet")]
    UnsupportedSpend,
}

/// Whether `script` is a standard output: P2WPKH, P2TR, P2WSH, P2PKH, P2SH or `OP_RETURN`
/// (at most 83 bytes, Core's data-carrier limit).
pub fn is_standard_output(script: &Script) -> bool {
    script.is_p2wpkh()
        || script.is_p2tr()
        || script.is_p2wsh()
        || script.is_p2pkh()
        || script.is_p2sh()
        || (script.is_op_return() && script.len() <= 83)
}

/// Verifies input `index` of `tx` spending `prevouts[index]`; `prevouts` lists the output
/// spent by every input (BIP341 signs them all). The cache must be over `tx`.
pub fn verify_input(cache: &mut SighashCache<&Transaction>, tx: &Transaction, index: usize, prevouts: &[TxOut]) -> Result<(), ScriptError> {
    let prevout = prevouts.get(index).ok_or(ScriptError::Sighash)?;
    let spk = &prevout.script_pubkey;
    if spk.is_p2wpkh() {
        verify_p2wpkh(cache, tx, index, prevout)
    } else if spk.is_p2tr() {
        verify_p2tr_key_path(cache, tx, index, prevouts)
    } else {
        Err(ScriptError::UnsupportedSpend)
    }
}

fn verify_p2wpkh(cache: &mut SighashCache<&Transaction>, tx: &Transaction, index: usize, prevout: &TxOut) -> Result<(), ScriptError> {
    let spk = &prevout.script_pubkey;
    let input = tx.input.get(index).ok_or(ScriptError::Sighash)?;
    if !input.script_sig.is_empty() {
        return Err(ScriptError::ScriptSigNotEmpty);
    }
    if input.witness.len() != 2 {
        return Err(ScriptError::WitnessShape(input.witness.len()));
    }
    let (Some(sig_bytes), Some(pk_bytes)) = (input.witness.nth(0), input.witness.nth(1)) else {
        return Err(ScriptError::WitnessShape(input.witness.len()));
    };
    let pubkey = PublicKey::from_slice(pk_bytes).map_err(|_| ScriptError::BadPublicKey)?;
    if !pubkey.compressed {
        return Err(ScriptError::BadPublicKey);
    }
    let program = spk.as_bytes().get(2..22).ok_or(ScriptError::PubkeyHashMismatch)?;
    let hash = WPubkeyHash::hash(pk_bytes);
    if hash.as_byte_array().as_slice() != program {
        return Err(ScriptError::PubkeyHashMismatch);
    }
    let sig = bitcoin::ecdsa::Signature::from_slice(sig_bytes).map_err(|_| ScriptError::BadSignatureEncoding)?;
    let sighash = cache.p2wpkh_signature_hash(index, spk, prevout.value, sig.sighash_type).map_err(|_| ScriptError::Sighash)?;
    let msg = Message::from_digest(sighash.to_byte_array());
    secp().verify_ecdsa(&msg, &sig.signature, &pubkey.inner).map_err(|_| ScriptError::SignatureInvalid)
}

/// A BIP341 key-path spend: the witness is one Schnorr signature (64 bytes for
/// `SIGHASH_DEFAULT`, 65 with an explicit sighash byte) by the output key itself.
fn verify_p2tr_key_path(
    cache: &mut SighashCache<&Transaction>,
    tx: &Transaction,
    index: usize,
    prevouts: &[TxOut],
) -> Result<(), ScriptError> {
    let prevout = prevouts.get(index).ok_or(ScriptError::Sighash)?;
    let input = tx.input.get(index).ok_or(ScriptError::Sighash)?;
    if !input.script_sig.is_empty() {
        return Err(ScriptError::ScriptSigNotEmpty);
    }
    if input.witness.len() != 1 {
        // Script-path spends and annexes are not used on Darkcoin.
        return Err(ScriptError::WitnessShape(input.witness.len()));
    }
    let sig_bytes = input.witness.nth(0).ok_or(ScriptError::WitnessShape(0))?;
    let sig = bitcoin::taproot::Signature::from_slice(sig_bytes).map_err(|_| ScriptError::BadSignatureEncoding)?;
    let program = prevout.script_pubkey.as_bytes().get(2..34).ok_or(ScriptError::BadPublicKey)?;
    let output_key = XOnlyPublicKey::from_slice(program).map_err(|_| ScriptError::BadPublicKey)?;
    let sighash =
        cache.taproot_key_spend_signature_hash(index, &Prevouts::All(prevouts), sig.sighash_type).map_err(|_| ScriptError::Sighash)?;
    let msg = Message::from_digest(sighash.to_byte_array());
    secp().verify_schnorr(&sig.signature, &msg, &output_key).map_err(|_| ScriptError::SignatureInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::ScriptBuf;

    #[test]
    fn standardness() {
        let mut w = crate::Wallet::from_seed([3; 32]);
        assert!(is_standard_output(&w.new_address().script_pubkey()));
        assert!(is_standard_output(&ScriptBuf::new_op_return([1u8; 20])));
        assert!(!is_standard_output(&ScriptBuf::from_bytes(vec![0x51])));
        assert!(!is_standard_output(&ScriptBuf::new()));
    }
}
