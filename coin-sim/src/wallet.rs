//! Deterministic P2WPKH wallet: keys from a seed, addresses, coin selection and BIP143 signing.
//!
//! Key `i` is `SHA256(seed || i as u32 big-endian)`; if that is not a valid secp256k1 secret
//! key (zero or ≥ the group order, astronomically unlikely) it is hashed again until it is.
//! The same seed therefore always yields the same addresses in the same order.

use std::collections::BTreeMap;
use std::fmt;

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash as _;
use bitcoin::secp256k1::{Message, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{Address, Amount, CompressedPublicKey, OutPoint, Script, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use sha2::{Digest, Sha256};
use sim_core::rng::{SimRng, bytes32};

use crate::params::{DEFAULT_DUST_LIMIT_SAT, NETWORK};
use crate::secp;

/// An unspent output a wallet may spend: where it is, what it is worth, and its script.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Utxo {
    /// The output being spent.
    pub outpoint: OutPoint,
    /// Its value in satoshis.
    pub value_sat: u64,
    /// Its locking script (the wallet signs only scripts it owns).
    pub script_pubkey: ScriptBuf,
}

/// Why a wallet could not build or sign a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// No payment outputs were requested.
    #[error("a transaction needs at least one payment output")]
    NoOutputs,
    /// The given inputs cannot cover the outputs plus the fee.
    #[error("insufficient funds: need {needed_sat} sat (outputs plus fee), have {available_sat} sat")]
    InsufficientFunds {
        /// Outputs plus the fee at the requested rate, in satoshis.
        needed_sat: u64,
        /// Sum of the inputs offered, in satoshis.
        available_sat: u64,
    },
    /// An input's script is not one of this wallet's addresses.
    #[error("input {0} is not locked to one of this wallet's addresses")]
    ForeignInput(OutPoint),
    /// A requested payment is below the dust limit and would be refused by the network.
    #[error("output {index} pays {value_sat} sat, below the dust limit of {dust_limit_sat} sat")]
    DustOutput {
        /// Index of the payment in the request.
        index: usize,
        /// The amount requested.
        value_sat: u64,
        /// The wallet's dust limit.
        dust_limit_sat: u64,
    },
    /// Amounts overflowed (more than 21 million coins in play).
    #[error("amount overflow")]
    AmountOverflow,
    /// The prevouts given to [`Wallet::sign`] do not match the transaction's inputs.
    #[error("expected {expected} prevouts (one per input), got {got}")]
    PrevoutsMismatch {
        /// Number of inputs of the transaction.
        expected: usize,
        /// Number of prevouts given.
        got: usize,
    },
    /// The sighash could not be computed (internal inconsistency).
    #[error("cannot compute sighash for input {0}")]
    Sighash(usize),
}

/// One derived key: secret, public key and its P2WPKH script.
#[derive(Clone)]
struct Key {
    secret: SecretKey,
    public: CompressedPublicKey,
    address: Address,
}

/// A deterministic single-seed P2WPKH wallet. It holds keys only; coins come from the chain.
#[derive(Clone)]
pub struct Wallet {
    seed: [u8; 32],
    keys: Vec<Key>,
    by_script: BTreeMap<ScriptBuf, usize>,
    dust_limit_sat: u64,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the seed or secret keys.
        f.debug_struct("Wallet").field("addresses", &self.keys.len()).finish_non_exhaustive()
    }
}

impl Wallet {
    /// A wallet whose keys are derived from `seed`; it starts with no addresses.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Wallet { seed, keys: Vec::new(), by_script: BTreeMap::new(), dust_limit_sat: DEFAULT_DUST_LIMIT_SAT }
    }

    /// A wallet seeded with 32 bytes drawn from a simulation RNG stream.
    pub fn from_rng(rng: &mut SimRng) -> Self {
        Self::from_seed(bytes32(rng))
    }

    /// Sets the dust limit used to drop change and refuse tiny payments (match the chain's).
    pub fn with_dust_limit(mut self, dust_limit_sat: u64) -> Self {
        self.dust_limit_sat = dust_limit_sat;
        self
    }

    /// Derives the next key and returns its P2WPKH address (`bcrt1q…`).
    pub fn new_address(&mut self) -> Address {
        let index = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        let secret = derive_secret(&self.seed, index);
        let public = CompressedPublicKey(secret.public_key(secp()));
        let address = Address::p2wpkh(&public, NETWORK);
        self.by_script.insert(address.script_pubkey(), self.keys.len());
        self.keys.push(Key { secret, public, address: address.clone() });
        address
    }

    /// Whether `script` pays one of this wallet's addresses.
    pub fn owns(&self, script: &Script) -> bool {
        self.by_script.contains_key(script)
    }

    /// All addresses derived so far, oldest first.
    pub fn addresses(&self) -> Vec<Address> {
        self.keys.iter().map(|k| k.address.clone()).collect()
    }

    /// The public key behind an owned script, if any (e.g. for multisig escrow later).
    pub fn public_key(&self, script: &Script) -> Option<CompressedPublicKey> {
        self.by_script.get(script).and_then(|&i| self.keys.get(i)).map(|k| k.public)
    }

    /// Builds and signs a payment.
    ///
    /// Coin selection is largest-first over `inputs` (ties broken by outpoint), so the
    /// result does not depend on the order the caller lists them. Outputs come in the order
    /// given, then change to `change` — unless the change would be below the dust limit, in
    /// which case it is left to the fee. The fee is `feerate × vsize`, with vsize measured on
    /// the transaction carrying maximum-size signatures, so the real fee rate is never lower.
    pub fn build_and_sign(
        &self,
        inputs: &[Utxo],
        outputs: &[(Address, u64)],
        feerate_sat_per_vb: u64,
        change: &Address,
    ) -> Result<Transaction, WalletError> {
        if outputs.is_empty() {
            return Err(WalletError::NoOutputs);
        }
        let mut target: u64 = 0;
        for (index, (_, value)) in outputs.iter().enumerate() {
            if *value < self.dust_limit_sat {
                return Err(WalletError::DustOutput { index, value_sat: *value, dust_limit_sat: self.dust_limit_sat });
            }
            target = target.checked_add(*value).ok_or(WalletError::AmountOverflow)?;
        }
        if let Some(foreign) = inputs.iter().find(|u| !self.owns(&u.script_pubkey)) {
            return Err(WalletError::ForeignInput(foreign.outpoint));
        }
        let mut candidates: Vec<&Utxo> = inputs.iter().collect();
        candidates.sort_by(|a, b| b.value_sat.cmp(&a.value_sat).then(a.outpoint.cmp(&b.outpoint)));

        let pay: Vec<TxOut> =
            outputs.iter().map(|(a, v)| TxOut { value: Amount::from_sat(*v), script_pubkey: a.script_pubkey() }).collect();
        let change_script = change.script_pubkey();
        let mut total: u64 = 0;
        let mut last_needed = target;
        for k in 1..=candidates.len() {
            let selected = &candidates[..k];
            total = total.checked_add(selected[k - 1].value_sat).ok_or(WalletError::AmountOverflow)?;
            // Try with change first.
            let mut with_change = pay.clone();
            with_change.push(TxOut { value: Amount::ZERO, script_pubkey: change_script.clone() });
            let fee_c = fee_for(selected, &with_change, feerate_sat_per_vb)?;
            let need_c = target.checked_add(fee_c).ok_or(WalletError::AmountOverflow)?;
            if total >= need_c && total - need_c >= self.dust_limit_sat {
                if let Some(last) = with_change.last_mut() {
                    last.value = Amount::from_sat(total - need_c);
                }
                return self.finish(selected, with_change);
            }
            let fee_n = fee_for(selected, &pay, feerate_sat_per_vb)?;
            let need_n = target.checked_add(fee_n).ok_or(WalletError::AmountOverflow)?;
            if total >= need_n {
                return self.finish(selected, pay);
            }
            last_needed = need_n;
        }
        Err(WalletError::InsufficientFunds { needed_sat: last_needed, available_sat: total })
    }

    fn finish(&self, selected: &[&Utxo], output: Vec<TxOut>) -> Result<Transaction, WalletError> {
        let mut tx = unsigned_tx(selected, output);
        let prevouts: Vec<Utxo> = selected.iter().map(|u| (*u).clone()).collect();
        self.sign(&mut tx, &prevouts)?;
        tracing::debug!(txid = %tx.compute_txid(), inputs = tx.input.len(), outputs = tx.output.len(), "wallet signed transaction");
        Ok(tx)
    }

    /// Signs every input of `tx` whose prevout this wallet owns (SIGHASH_ALL, BIP143);
    /// `prevouts[i]` describes the output spent by input `i`. Inputs it does not own are left
    /// untouched, so several wallets can sign one transaction in turn (e.g. CoinJoin).
    pub fn sign(&self, tx: &mut Transaction, prevouts: &[Utxo]) -> Result<(), WalletError> {
        if prevouts.len() != tx.input.len() {
            return Err(WalletError::PrevoutsMismatch { expected: tx.input.len(), got: prevouts.len() });
        }
        let mut witnesses: Vec<(usize, Witness)> = Vec::new();
        {
            let mut cache = SighashCache::new(&*tx);
            for (i, prev) in prevouts.iter().enumerate() {
                let Some(key) = self.by_script.get(&prev.script_pubkey).and_then(|&k| self.keys.get(k)) else {
                    continue;
                };
                let sighash = cache
                    .p2wpkh_signature_hash(i, &prev.script_pubkey, Amount::from_sat(prev.value_sat), EcdsaSighashType::All)
                    .map_err(|_| WalletError::Sighash(i))?;
                let msg = Message::from_digest(sighash.to_byte_array());
                let sig = secp().sign_ecdsa(&msg, &key.secret);
                let sig = bitcoin::ecdsa::Signature::sighash_all(sig);
                witnesses.push((i, Witness::p2wpkh(&sig, &key.public.0)));
            }
        }
        for (i, w) in witnesses {
            if let Some(input) = tx.input.get_mut(i) {
                input.witness = w;
            }
        }
        Ok(())
    }
}

/// The secret key at `index` for `seed` (see the module doc).
fn derive_secret(seed: &[u8; 32], index: u32) -> SecretKey {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(index.to_be_bytes());
    let mut bytes: [u8; 32] = h.finalize().into();
    loop {
        if let Ok(sk) = SecretKey::from_slice(&bytes) {
            return sk;
        }
        bytes = Sha256::digest(bytes).into();
    }
}

/// An unsigned version-2 transaction spending `selected` into `output`.
fn unsigned_tx(selected: &[&Utxo], output: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: selected
            .iter()
            .map(|u| TxIn {
                previous_output: u.outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_LOCKTIME_NO_RBF,
                witness: Witness::new(),
            })
            .collect(),
        output,
    }
}

/// Fee for spending `selected` (P2WPKH) into `output` at `feerate`, on a worst-case vsize.
fn fee_for(selected: &[&Utxo], output: &[TxOut], feerate: u64) -> Result<u64, WalletError> {
    let mut tx = unsigned_tx(selected, output.to_vec());
    for input in &mut tx.input {
        // Largest DER signature plus sighash byte, and a compressed public key.
        input.witness = Witness::from_slice(&[vec![0u8; 73], vec![0u8; 33]]);
    }
    let vsize = u64::try_from(tx.vsize()).map_err(|_| WalletError::AmountOverflow)?;
    vsize.checked_mul(feerate).ok_or(WalletError::AmountOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::Txid;

    fn utxo(w: &Wallet, i: usize, n: u8, value: u64) -> Utxo {
        Utxo {
            outpoint: OutPoint { txid: Txid::from_byte_array([n; 32]), vout: 0 },
            value_sat: value,
            script_pubkey: w.addresses()[i].script_pubkey(),
        }
    }

    #[test]
    fn same_seed_same_addresses() {
        let mut a = Wallet::from_seed([7; 32]);
        let mut b = Wallet::from_seed([7; 32]);
        let mut c = Wallet::from_seed([8; 32]);
        let (a1, b1, c1) = (a.new_address(), b.new_address(), c.new_address());
        assert_eq!(a1, b1);
        assert_ne!(a1, c1);
        assert_ne!(a.new_address(), a1);
        assert!(a1.to_string().starts_with("bcrt1q"), "{a1}");
        assert!(a.owns(&a1.script_pubkey()));
        assert!(!c.owns(&a1.script_pubkey()));
    }

    #[test]
    fn selection_is_largest_first_with_change() {
        let mut w = Wallet::from_seed([1; 32]);
        w.new_address();
        let change = w.new_address();
        let dest = Wallet::from_seed([2; 32]).new_address();
        let inputs = vec![utxo(&w, 0, 1, 10_000), utxo(&w, 0, 2, 50_000), utxo(&w, 0, 3, 20_000)];
        let tx = w.build_and_sign(&inputs, &[(dest.clone(), 30_000)], 2, &change).unwrap();
        assert_eq!(tx.input.len(), 1);
        assert_eq!(tx.input[0].previous_output.txid, Txid::from_byte_array([2; 32]));
        assert_eq!(tx.output.len(), 2);
        let fee = 50_000 - tx.output.iter().map(|o| o.value.to_sat()).sum::<u64>();
        assert!(fee >= 2 * tx.vsize() as u64, "fee {fee} vsize {}", tx.vsize());
        assert_eq!(tx.output[1].script_pubkey, change.script_pubkey());
        // Reversed input order gives the same transaction.
        let mut rev = inputs.clone();
        rev.reverse();
        assert_eq!(w.build_and_sign(&rev, &[(dest, 30_000)], 2, &change).unwrap(), tx);
    }

    #[test]
    fn dust_change_goes_to_fee_and_shortfall_is_reported() {
        let mut w = Wallet::from_seed([1; 32]);
        let change = w.new_address();
        let dest = Wallet::from_seed([2; 32]).new_address();
        let inputs = vec![utxo(&w, 0, 1, 10_000)];
        let tx = w.build_and_sign(&inputs, &[(dest.clone(), 9_700)], 1, &change).unwrap();
        assert_eq!(tx.output.len(), 1);
        let err = w.build_and_sign(&inputs, &[(dest.clone(), 9_990)], 1, &change).unwrap_err();
        assert!(matches!(err, WalletError::InsufficientFunds { available_sat: 10_000, .. }), "{err}");
        let foreign = Utxo { script_pubkey: dest.script_pubkey(), ..inputs[0].clone() };
        assert!(matches!(w.build_and_sign(&[foreign], &[(dest, 1_000)], 1, &change), Err(WalletError::ForeignInput(_))));
    }
}
