//! BIP32 HD wallets: BIP84 (P2WPKH) and BIP86 (P2TR) accounts, coin selection, habits, signing.
//!
//! A wallet is a 32-byte seed; the BIP32 master key is derived from it as BIP32 says, and
//! addresses follow the standard paths on the test-network coin type (`1'`):
//! `m/84'/1'/0'/{0,1}/i` for P2WPKH (`bcrt1q…`) and `m/86'/1'/0'/{0,1}/i` for P2TR key-path
//! outputs (`bcrt1p…`), chain `0` receiving and chain `1` change. Any BIP32 tool given the
//! seed (or the account xpub, see [`Wallet::descriptor`]) finds the same addresses.
//!
//! P2WPKH inputs are signed with ECDSA over the BIP143 sighash, P2TR inputs with Schnorr over
//! the BIP341 sighash (`SIGHASH_DEFAULT`, no auxiliary randomness), both through the bitcoin
//! crate's `SighashCache`; signing is deterministic, so the same seed and inputs give the
//! same transaction byte for byte.
//!
//! [`WalletHabits`] make an actor's coins look like a person's on Bitcoin: address reuse,
//! round payment amounts, consolidation of all coins — the patterns the common-input and
//! change heuristics rely on. [`Wallet::pay`] honours them; [`Wallet::build_and_sign`] is the
//! plain primitive underneath.

use std::collections::BTreeMap;
use std::fmt;

use bitcoin::absolute::LockTime;
use bitcoin::bip32::{ChildNumber, DerivationPath, Xpriv, Xpub};
use bitcoin::hashes::Hash as _;
use bitcoin::key::{Keypair, TapTweak as _};
use bitcoin::secp256k1::{Message, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::transaction::Version;
use bitcoin::{Address, Amount, CompressedPublicKey, OutPoint, Script, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use sha2::{Digest, Sha256};
use sim_core::rng::{SimRng, bytes32};

use crate::params::{DEFAULT_DUST_LIMIT_SAT, NETWORK};
use crate::secp;
use crate::validate::MAX_STANDARD_TX_WEIGHT;

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

/// The kind of address (and BIP purpose) a wallet hands out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum AddressKind {
    /// Native segwit v0 pay-to-witness-pubkey-hash, BIP84 paths, `bcrt1q…`.
    #[default]
    P2wpkh,
    /// Taproot key-path outputs, BIP86 paths, `bcrt1p…`.
    P2tr,
}

impl AddressKind {
    /// The BIP43 purpose of this kind's account (84 or 86).
    pub fn purpose(self) -> u32 {
        match self {
            AddressKind::P2wpkh => 84,
            AddressKind::P2tr => 86,
        }
    }
}

/// How an actor handles coins, from the scenario: the patterns chain analysis feeds on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalletHabits {
    /// Change goes back to the wallet's first address, and [`Wallet::receive_address`] hands
    /// that same address out again (a single-address wallet). Off: fresh addresses each time.
    pub reuse_addresses: bool,
    /// Payments made with [`Wallet::pay`] are rounded up to two significant digits
    /// (e.g. 1 234 567 sat → 1 300 000 sat), so the change is the odd amount.
    pub round_amounts: bool,
    /// Every payment spends all coins offered (a sweep), merging them into one change output.
    pub consolidate: bool,
    /// Address type for receiving and change.
    pub kind: AddressKind,
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
    /// Paying needs so many coins that the transaction would be heavier than the network
    /// relays (the standard weight limit): the payer must pay in several transactions.
    #[error(
        "spending {inputs} coins would make a transaction heavier than the network relays \
         (400,000 weight units); at most {max_sat} sat can be sent in one transaction from these coins"
    )]
    TooHeavy {
        /// Coins the payment would have spent.
        inputs: usize,
        /// The most one standard transaction can send from the coins offered (largest first).
        max_sat: u64,
    },
}

/// A signed payment made by [`Wallet::pay`], with what an observer cannot see directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The signed transaction, ready to broadcast.
    pub tx: Transaction,
    /// The fee paid, in satoshis.
    pub fee_sat: u64,
    /// The amounts actually paid, per requested output (rounded when the habit says so).
    pub paid_sat: Vec<u64>,
    /// The change output's index and address, if there is change.
    pub change: Option<(u32, Address)>,
}

/// One derived key: secret, public key, address and (for P2TR) the tweaked key pair.
#[derive(Clone)]
struct Key {
    secret: SecretKey,
    public: CompressedPublicKey,
    address: Address,
    tweaked: Option<Keypair>,
}

/// A deterministic BIP32 wallet (BIP84 and BIP86 accounts). It holds keys only; coins come
/// from the chain.
#[derive(Clone)]
pub struct Wallet {
    master: Xpriv,
    /// Next unused index per (kind, chain) — chain 0 receive, 1 change.
    next: BTreeMap<(AddressKind, u32), u32>,
    keys: Vec<Key>,
    by_script: BTreeMap<ScriptBuf, usize>,
    /// The account keys (`m/84'/1'/0'`, `m/86'/1'/0'`), derived once: every address derives
    /// from one, and three hardened steps per address were most of a wallet's work.
    accounts: BTreeMap<AddressKind, Xpriv>,
    /// Index in `keys` of the first receive address of each kind, once derived.
    firsts: BTreeMap<AddressKind, usize>,
    dust_limit_sat: u64,
    habits: WalletHabits,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the seed or secret keys.
        f.debug_struct("Wallet").field("addresses", &self.keys.len()).field("habits", &self.habits).finish_non_exhaustive()
    }
}

/// Largest non-hardened BIP32 index.
const MAX_INDEX: u32 = (1 << 31) - 1;

impl Wallet {
    /// A wallet whose BIP32 master key comes from `seed`; it starts with no addresses.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let mut material = seed;
        let master = loop {
            // Fails only if the seed hashes to an invalid key (probability ~2^-127): rehash.
            if let Ok(m) = Xpriv::new_master(NETWORK, &material) {
                break m;
            }
            material = Sha256::digest(material).into();
        };
        let accounts = [AddressKind::P2wpkh, AddressKind::P2tr]
            .into_iter()
            .map(|kind| (kind, master.derive_priv(secp(), &Self::account_path(kind)).unwrap_or(master)))
            .collect();
        Wallet {
            master,
            next: BTreeMap::new(),
            keys: Vec::new(),
            by_script: BTreeMap::new(),
            accounts,
            firsts: BTreeMap::new(),
            dust_limit_sat: DEFAULT_DUST_LIMIT_SAT,
            habits: WalletHabits::default(),
        }
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

    /// Sets the actor's habits (address kind, reuse, rounding, consolidation).
    pub fn with_habits(mut self, habits: WalletHabits) -> Self {
        self.habits = habits;
        self
    }

    /// The actor's habits.
    pub fn habits(&self) -> &WalletHabits {
        &self.habits
    }

    /// The account path of `kind`: `m/84'/1'/0'` or `m/86'/1'/0'`.
    pub fn account_path(kind: AddressKind) -> DerivationPath {
        let hardened = |i| ChildNumber::Hardened { index: i };
        DerivationPath::from(vec![hardened(kind.purpose()), hardened(1), hardened(0)])
    }

    fn account(&self, kind: AddressKind) -> Xpriv {
        match self.accounts.get(&kind) {
            Some(account) => *account,
            None => self.master.derive_priv(secp(), &Self::account_path(kind)).unwrap_or(self.master),
        }
    }

    /// The account's extended public key (a `tpub…`), for watch-only tools.
    pub fn account_xpub(&self, kind: AddressKind) -> Xpub {
        Xpub::from_priv(secp(), &self.account(kind))
    }

    /// An output descriptor for the receive chain of `kind`, as Bitcoin Core and BDK read it:
    /// `wpkh([fingerprint/84'/1'/0']tpub…/0/*)` or `tr([fingerprint/86'/1'/0']tpub…/0/*)`.
    pub fn descriptor(&self, kind: AddressKind) -> String {
        let fp = self.master.fingerprint(secp());
        let xpub = self.account_xpub(kind);
        let (f, p) = match kind {
            AddressKind::P2wpkh => ("wpkh", 84),
            AddressKind::P2tr => ("tr", 86),
        };
        format!("{f}([{fp}/{p}h/1h/0h]{xpub}/0/*)")
    }

    /// Derives the next receive address of the wallet's habitual kind (always fresh).
    pub fn new_address(&mut self) -> Address {
        self.derive(self.habits.kind, 0)
    }

    /// Derives the next receive address of `kind` (always fresh).
    pub fn new_address_of(&mut self, kind: AddressKind) -> Address {
        self.derive(kind, 0)
    }

    /// Derives the next change address (chain 1) of the wallet's habitual kind.
    pub fn new_change_address(&mut self) -> Address {
        self.derive(self.habits.kind, 1)
    }

    /// The address to give a payer: fresh, or — for an actor who reuses addresses — always
    /// the first receive address of the habitual kind.
    pub fn receive_address(&mut self) -> Address {
        if self.habits.reuse_addresses { self.first_address() } else { self.new_address() }
    }

    /// The first receive address of the habitual kind (derived if needed).
    fn first_address(&mut self) -> Address {
        let kind = self.habits.kind;
        if let Some(k) = self.firsts.get(&kind).and_then(|&i| self.keys.get(i)) {
            return k.address.clone();
        }
        self.derive(kind, 0)
    }

    /// The key at `kind/chain/index`, computed without recording it.
    fn key_at(&self, kind: AddressKind, chain: u32, index: u32) -> Option<Key> {
        let (Ok(c), Ok(i)) = (ChildNumber::from_normal_idx(chain), ChildNumber::from_normal_idx(index)) else {
            return None;
        };
        let xpriv = self.account(kind).derive_priv(secp(), &[c, i]).ok()?;
        let secret = xpriv.private_key;
        let public = CompressedPublicKey(secret.public_key(secp()));
        let (address, tweaked) = match kind {
            AddressKind::P2wpkh => (Address::p2wpkh(&public, NETWORK), None),
            AddressKind::P2tr => {
                let keypair = Keypair::from_secret_key(secp(), &secret);
                let (internal, _) = keypair.x_only_public_key();
                let tweaked = keypair.tap_tweak(secp(), None).to_keypair();
                (Address::p2tr(secp(), internal, None, NETWORK), Some(tweaked))
            }
        };
        Some(Key { secret, public, address, tweaked })
    }

    fn derive(&mut self, kind: AddressKind, chain: u32) -> Address {
        let mut index = self.next.get(&(kind, chain)).copied().unwrap_or(0);
        // BIP32: an index whose child key is invalid (probability ~2^-127) is skipped.
        let (key, at) = loop {
            let at = index;
            let key = self.key_at(kind, chain, index);
            index = index.saturating_add(1).min(MAX_INDEX);
            if let Some(k) = key {
                break (k, at);
            }
        };
        self.next.insert((kind, chain), index);
        let address = key.address.clone();
        let spk = address.script_pubkey();
        let slot = match self.by_script.get(&spk) {
            Some(&i) => i,
            None => {
                self.by_script.insert(spk, self.keys.len());
                self.keys.push(key);
                self.keys.len() - 1
            }
        };
        if chain == 0 && at == 0 {
            self.firsts.entry(kind).or_insert(slot);
        }
        address
    }

    /// Whether `script` pays one of this wallet's addresses.
    pub fn owns(&self, script: &Script) -> bool {
        self.by_script.contains_key(script)
    }

    /// All addresses derived so far (receive and change, all kinds), oldest first.
    pub fn addresses(&self) -> Vec<Address> {
        self.keys.iter().map(|k| k.address.clone()).collect()
    }

    /// The public key behind an owned script, if any (the internal key for P2TR).
    pub fn public_key(&self, script: &Script) -> Option<CompressedPublicKey> {
        self.by_script.get(script).and_then(|&i| self.keys.get(i)).map(|k| k.public)
    }

    /// Pays `outputs` from `coins` the way this actor habitually does: rounded amounts if
    /// `round_amounts`; all coins spent if `consolidate`; change to a fresh change address,
    /// or back to the first address if `reuse_addresses`.
    pub fn pay(&mut self, coins: &[Utxo], outputs: &[(Address, u64)], feerate_sat_per_vb: u64) -> Result<Payment, WalletError> {
        let habits = self.habits;
        let paid_sat: Vec<u64> = outputs.iter().map(|(_, v)| if habits.round_amounts { round_up_2sig(*v) } else { *v }).collect();
        let request: Vec<(Address, u64)> = outputs.iter().zip(&paid_sat).map(|((a, _), v)| (a.clone(), *v)).collect();
        let change = if habits.reuse_addresses { self.first_address() } else { self.new_change_address() };
        let tx = if habits.consolidate {
            self.build_sweep(coins, &request, feerate_sat_per_vb, &change)?
        } else {
            self.build_and_sign(coins, &request, feerate_sat_per_vb, &change)?
        };
        let in_sat = coins
            .iter()
            .filter(|c| tx.input.iter().any(|i| i.previous_output == c.outpoint))
            .fold(0u64, |a, c| a.saturating_add(c.value_sat));
        let out_sat = tx.output.iter().fold(0u64, |a, o| a.saturating_add(o.value.to_sat()));
        let change_spk = change.script_pubkey();
        let change_out =
            (0u32..).zip(&tx.output).skip(request.len()).find(|(_, o)| o.script_pubkey == change_spk).map(|(i, _)| (i, change.clone()));
        Ok(Payment { fee_sat: in_sat.saturating_sub(out_sat), tx, paid_sat, change: change_out })
    }

    /// Builds and signs a payment spending *all* of `inputs` (a consolidation), with the
    /// remainder to `change` unless it would be dust.
    pub fn build_sweep(
        &self,
        inputs: &[Utxo],
        outputs: &[(Address, u64)],
        feerate_sat_per_vb: u64,
        change: &Address,
    ) -> Result<Transaction, WalletError> {
        let (target, pay) = self.check_request(inputs, outputs)?;
        let mut all: Vec<&Utxo> = inputs.iter().collect();
        all.sort_by_key(|u| u.outpoint);
        all.dedup_by(|a, b| a.outpoint == b.outpoint);
        let total = all.iter().try_fold(0u64, |a, u| a.checked_add(u.value_sat)).ok_or(WalletError::AmountOverflow)?;
        let shape = with_change_shape(&pay, change);
        if weight_with_dummy_witnesses(&all, &shape) > MAX_STANDARD_TX_WEIGHT {
            return Err(too_heavy(all, &shape, feerate_sat_per_vb));
        }
        self.try_selection(&all, total, target, &pay, feerate_sat_per_vb, change)?
            .ok_or(WalletError::InsufficientFunds { needed_sat: target, available_sat: total })
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
        let (target, pay) = self.check_request(inputs, outputs)?;
        let mut candidates: Vec<&Utxo> = inputs.iter().collect();
        candidates.sort_by(|a, b| b.value_sat.cmp(&a.value_sat).then(a.outpoint.cmp(&b.outpoint)));
        candidates.dedup_by(|a, b| a.outpoint == b.outpoint);
        let mut total: u64 = 0;
        let mut last_needed = target;
        let shape = with_change_shape(&pay, change);
        for k in 1..=candidates.len() {
            let selected = candidates.get(..k).unwrap_or_default();
            if weight_with_dummy_witnesses(selected, &shape) > MAX_STANDARD_TX_WEIGHT {
                return Err(too_heavy(candidates, &shape, feerate_sat_per_vb));
            }
            total = total.checked_add(selected.last().map_or(0, |u| u.value_sat)).ok_or(WalletError::AmountOverflow)?;
            if let Some(tx) = self.try_selection(selected, total, target, &pay, feerate_sat_per_vb, change)? {
                return Ok(tx);
            }
            let fee_n = fee_for(selected, &pay, feerate_sat_per_vb)?;
            last_needed = target.checked_add(fee_n).ok_or(WalletError::AmountOverflow)?;
        }
        Err(WalletError::InsufficientFunds { needed_sat: last_needed, available_sat: total })
    }

    /// Validates a payment request: outputs present, not dust, inputs ours. Returns the total
    /// and the outputs.
    fn check_request(&self, inputs: &[Utxo], outputs: &[(Address, u64)]) -> Result<(u64, Vec<TxOut>), WalletError> {
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
        let pay = outputs.iter().map(|(a, v)| TxOut { value: Amount::from_sat(*v), script_pubkey: a.script_pubkey() }).collect();
        Ok((target, pay))
    }

    /// Signs a transaction spending `selected` (worth `total`) into `pay` plus change if it
    /// is worth keeping; `None` if the selection does not cover outputs and fee.
    fn try_selection(
        &self,
        selected: &[&Utxo],
        total: u64,
        target: u64,
        pay: &[TxOut],
        feerate: u64,
        change: &Address,
    ) -> Result<Option<Transaction>, WalletError> {
        let mut with_change = with_change_shape(pay, change);
        let fee_c = fee_for(selected, &with_change, feerate)?;
        let need_c = target.checked_add(fee_c).ok_or(WalletError::AmountOverflow)?;
        if total >= need_c && total - need_c >= self.dust_limit_sat {
            if let Some(last) = with_change.last_mut() {
                last.value = Amount::from_sat(total - need_c);
            }
            return self.finish(selected, with_change).map(Some);
        }
        let fee_n = fee_for(selected, pay, feerate)?;
        let need_n = target.checked_add(fee_n).ok_or(WalletError::AmountOverflow)?;
        if total >= need_n {
            return self.finish(selected, pay.to_vec()).map(Some);
        }
        Ok(None)
    }

    fn finish(&self, selected: &[&Utxo], output: Vec<TxOut>) -> Result<Transaction, WalletError> {
        let mut tx = unsigned_tx(selected, output);
        let prevouts: Vec<Utxo> = selected.iter().map(|u| (*u).clone()).collect();
        self.sign(&mut tx, &prevouts)?;
        tracing::debug!(txid = %tx.compute_txid(), inputs = tx.input.len(), outputs = tx.output.len(), "wallet signed transaction");
        Ok(tx)
    }

    /// Signs every input of `tx` whose prevout this wallet owns — P2WPKH with ECDSA over the
    /// BIP143 sighash (`SIGHASH_ALL`), P2TR with Schnorr over the BIP341 sighash
    /// (`SIGHASH_DEFAULT`); `prevouts[i]` describes the output spent by input `i`. Inputs it
    /// does not own are left untouched, so several wallets can sign one transaction in turn
    /// (e.g. CoinJoin).
    pub fn sign(&self, tx: &mut Transaction, prevouts: &[Utxo]) -> Result<(), WalletError> {
        if prevouts.len() != tx.input.len() {
            return Err(WalletError::PrevoutsMismatch { expected: tx.input.len(), got: prevouts.len() });
        }
        let txouts: Vec<TxOut> =
            prevouts.iter().map(|p| TxOut { value: Amount::from_sat(p.value_sat), script_pubkey: p.script_pubkey.clone() }).collect();
        let mut witnesses: Vec<(usize, Witness)> = Vec::new();
        {
            let mut cache = SighashCache::new(&*tx);
            for (i, prev) in prevouts.iter().enumerate() {
                let Some(key) = self.by_script.get(&prev.script_pubkey).and_then(|&k| self.keys.get(k)) else {
                    continue;
                };
                if let Some(tweaked) = &key.tweaked {
                    let sighash = cache
                        .taproot_key_spend_signature_hash(i, &Prevouts::All(&txouts), TapSighashType::Default)
                        .map_err(|_| WalletError::Sighash(i))?;
                    let msg = Message::from_digest(sighash.to_byte_array());
                    let signature = secp().sign_schnorr_no_aux_rand(&msg, tweaked);
                    let sig = bitcoin::taproot::Signature { signature, sighash_type: TapSighashType::Default };
                    witnesses.push((i, Witness::p2tr_key_spend(&sig)));
                } else {
                    let sighash = cache
                        .p2wpkh_signature_hash(i, &prev.script_pubkey, Amount::from_sat(prev.value_sat), EcdsaSighashType::All)
                        .map_err(|_| WalletError::Sighash(i))?;
                    let msg = Message::from_digest(sighash.to_byte_array());
                    let sig = secp().sign_ecdsa(&msg, &key.secret);
                    let sig = bitcoin::ecdsa::Signature::sighash_all(sig);
                    witnesses.push((i, Witness::p2wpkh(&sig, &key.public.0)));
                }
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

/// Rounds `sat` up to two significant decimal digits (amounts below 100 sat are kept).
pub fn round_up_2sig(sat: u64) -> u64 {
    let mut unit: u64 = 1;
    while sat / unit >= 100 {
        unit = unit.saturating_mul(10);
    }
    sat.div_ceil(unit).saturating_mul(unit)
}

/// An unsigned version-2 transaction spending `selected` into `output`.
pub(crate) fn unsigned_tx(selected: &[&Utxo], output: Vec<TxOut>) -> Transaction {
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

/// A worst-case witness for spending `script`: 73-byte DER signature and a compressed key for
/// P2WPKH, a 64-byte Schnorr signature for P2TR (what [`vsize_with_dummy_witnesses`] counts).
#[cfg(test)]
fn dummy_witness(script: &Script) -> Witness {
    if script.is_p2tr() { Witness::from_slice(&[vec![0u8; 64]]) } else { Witness::from_slice(&[vec![0u8; 73], vec![0u8; 33]]) }
}

/// Fee for spending `selected` into `output` at `feerate`, on a worst-case vsize.
fn fee_for(selected: &[&Utxo], output: &[TxOut], feerate: u64) -> Result<u64, WalletError> {
    vsize_with_dummy_witnesses(selected, output).checked_mul(feerate).ok_or(WalletError::AmountOverflow)
}

/// Bytes of a Bitcoin compact-size integer.
fn compact_size_len(n: usize) -> u64 {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// The vsize of [`unsigned_tx`] with [`dummy_witness`] on every input, counted from the
/// serialization rules instead of building the transaction: coin selection asks this for
/// every candidate set, and building each one made selection quadratic in allocations.
fn vsize_with_dummy_witnesses(selected: &[&Utxo], output: &[TxOut]) -> u64 {
    weight_with_dummy_witnesses(selected, output).div_ceil(4)
}

/// The weight behind [`vsize_with_dummy_witnesses`].
fn weight_with_dummy_witnesses(selected: &[&Utxo], output: &[TxOut]) -> u64 {
    // Version, input count, inputs (outpoint, empty script_sig, sequence), output count,
    // outputs (value, script), lock time.
    let outputs: u64 = output.iter().map(|o| 8 + compact_size_len(o.script_pubkey.len()) + o.script_pubkey.len() as u64).sum();
    let base = 4 + compact_size_len(selected.len()) + 41 * selected.len() as u64 + compact_size_len(output.len()) + outputs + 4;
    // Segwit marker and flag (a transaction without inputs is written that way too), then
    // each input's witness: item count and items.
    let witness: u64 = selected.iter().map(|u| if u.script_pubkey.is_p2tr() { 1 + 1 + 64 } else { 1 + 1 + 73 + 1 + 33 }).sum();
    base * 4 + 2 + witness
}

/// The payment's outputs plus a change output, the heaviest shape a payment can take: the
/// weight limit is checked on it so that no payment built afterwards can exceed it.
fn with_change_shape(pay: &[TxOut], change: &Address) -> Vec<TxOut> {
    let mut shape = pay.to_vec();
    shape.push(TxOut { value: Amount::ZERO, script_pubkey: change.script_pubkey() });
    shape
}

/// The error for a payment over the weight limit: how many coins it needed, and the most
/// one standard transaction of `shape` can send from the largest of `coins` (its fee
/// counted at that shape, so paying exactly that much is always possible).
fn too_heavy(mut coins: Vec<&Utxo>, shape: &[TxOut], feerate: u64) -> WalletError {
    let inputs = coins.len();
    coins.sort_by(|a, b| b.value_sat.cmp(&a.value_sat).then(a.outpoint.cmp(&b.outpoint)));
    // Largest first, as many as stay under the limit; weight grows with every coin.
    let fit = (1..=coins.len())
        .take_while(|&n| weight_with_dummy_witnesses(coins.get(..n).unwrap_or_default(), shape) <= MAX_STANDARD_TX_WEIGHT)
        .count();
    let chosen = coins.get(..fit).unwrap_or_default();
    let sum = chosen.iter().fold(0u64, |a, u| a.saturating_add(u.value_sat));
    let fee = vsize_with_dummy_witnesses(chosen, shape).saturating_mul(feerate);
    WalletError::TooHeavy { inputs, max_sat: sum.saturating_sub(fee) }
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
    fn counted_vsize_is_the_built_transactions() {
        let mut w = Wallet::from_seed([8; 32]);
        let mut t = Wallet::from_seed([9; 32]).with_habits(WalletHabits { kind: AddressKind::P2tr, ..WalletHabits::default() });
        for _ in 0..3 {
            w.new_address();
            t.new_address();
        }
        let coins: Vec<Utxo> = (0..300)
            .map(|i| {
                let spk = if i % 3 == 0 { t.addresses()[i % 3].script_pubkey() } else { w.addresses()[i % 3].script_pubkey() };
                Utxo {
                    outpoint: OutPoint { txid: Txid::from_byte_array([(i % 251) as u8; 32]), vout: i as u32 },
                    value_sat: 1_000,
                    script_pubkey: spk,
                }
            })
            .collect();
        let outs: Vec<TxOut> = (0..260)
            .map(|i| TxOut {
                value: Amount::from_sat(600),
                script_pubkey: if i % 2 == 0 { w.addresses()[0].script_pubkey() } else { t.addresses()[0].script_pubkey() },
            })
            .collect();
        for (n_in, n_out) in [(0, 1), (1, 1), (1, 2), (2, 3), (7, 1), (252, 2), (253, 1), (300, 253), (1, 260)] {
            let selected: Vec<&Utxo> = coins.iter().take(n_in).collect();
            let output = &outs[..n_out];
            let mut tx = unsigned_tx(&selected, output.to_vec());
            for (input, u) in tx.input.iter_mut().zip(&selected) {
                input.witness = dummy_witness(&u.script_pubkey);
            }
            assert_eq!(vsize_with_dummy_witnesses(&selected, output), tx.vsize() as u64, "{n_in} inputs, {n_out} outputs");
        }
    }

    /// A payment needing more coins than one standard transaction can spend is refused by
    /// the wallet with the most it can send at once, and that much can then be paid, in a
    /// transaction the network's own policy check accepts.
    #[test]
    fn a_payment_heavier_than_the_network_relays_is_refused_with_what_one_transaction_can_send() {
        let mut w = Wallet::from_seed([4; 32]);
        w.new_address();
        let change = w.new_address();
        let dest = Wallet::from_seed([5; 32]).new_address();
        let coins: Vec<Utxo> = (0..2_000u32)
            .map(|i| Utxo {
                outpoint: OutPoint { txid: Txid::from_byte_array([(i % 251) as u8; 32]), vout: i },
                value_sat: 10_000 + u64::from(i),
                script_pubkey: w.addresses()[0].script_pubkey(),
            })
            .collect();
        let held: u64 = coins.iter().map(|c| c.value_sat).sum();
        let params = crate::ChainParams::default();
        let max = match w.build_and_sign(&coins, &[(dest.clone(), held - 1_000_000)], 2, &change) {
            Err(WalletError::TooHeavy { inputs, max_sat }) => {
                assert_eq!(inputs, 2_000);
                max_sat
            }
            other => panic!("expected TooHeavy, got {other:?}"),
        };
        assert!(max > 10_000 * 1_000 && max < held / 4 * 3, "{max} of {held}");
        let tx = w.build_and_sign(&coins, &[(dest.clone(), max)], 2, &change).expect("the most one transaction can send");
        crate::validate::check_standard(&tx, &params).expect("standard");
        assert!(tx.input.len() > 1_000, "{} inputs", tx.input.len());
        // The coins it did not spend pay the rest in a second transaction.
        let rest: Vec<Utxo> = coins.iter().filter(|c| !tx.input.iter().any(|i| i.previous_output == c.outpoint)).cloned().collect();
        let second = w.build_sweep(&rest, &[(dest.clone(), 1_000_000)], 2, &change).expect("the rest in one sweep");
        crate::validate::check_standard(&second, &params).expect("standard");
        // A sweep of everything is refused the same way.
        assert!(matches!(w.build_sweep(&coins, &[(dest, 1_000_000)], 2, &change), Err(WalletError::TooHeavy { inputs: 2_000, .. })));
    }

    #[test]
    fn the_first_address_is_remembered_not_derived_again() {
        let mut w = Wallet::from_seed([6; 32]).with_habits(WalletHabits { reuse_addresses: true, ..WalletHabits::default() });
        let first = w.receive_address();
        w.new_address();
        w.new_change_address();
        assert_eq!(w.receive_address(), first);
        assert_eq!(w.addresses()[0], first);
        assert_eq!(w.addresses().len(), 3);
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
