//! The chain state: blocks, UTXO set, mempool and indexes, plus transaction submission.
//!
//! One [`Chain`] is one Darkcoin network. There are no forks or reorganisations: blocks are
//! mined locally ([`crate::mine`]) and always extend the tip. All maps are `BTreeMap`s and
//! the mempool keeps arrival order, so state and output never depend on hashing order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use bitcoin::consensus::{Encodable, deserialize};
use bitcoin::hashes::Hash as _;
use bitcoin::{Address, Block, BlockHash, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use sha2::{Digest, Sha256};

use crate::block::BlockReject;
use crate::params::ChainParams;
use crate::reject::Reject;
use crate::store::{BlockStore, StoreError};
use crate::validate::{MAX_MONEY_SAT, check_inputs, check_standard, check_transaction, verify_scripts};

/// A coin in the UTXO set: the output, the height of the block that created it, and whether
/// it came from a coinbase (subject to maturity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtxoEntry {
    /// The unspent output.
    pub txout: TxOut,
    /// Height of the block containing it (tip + 1 for a mempool parent).
    pub height: u32,
    /// Whether it is a coinbase output (the genesis allocations are not: they are spendable at once).
    pub is_coinbase: bool,
}

/// Why a block could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The requested block time is earlier than the tip's.
    #[error("block time {time} is before the tip's time {tip_time}")]
    TimeBeforeTip {
        /// The time asked for.
        time: u32,
        /// The tip's header time.
        tip_time: u32,
    },
    /// Genesis allocations or a coinbase value exceed 21 million coins.
    #[error("coinbase value exceeds 21 million coins")]
    ValueTooLarge,
    /// No nonce meets the proof-of-work target at this time (pow_bits too hard).
    #[error("no nonce meets the proof-of-work target for block {height}; lower pow_bits")]
    PowExhausted {
        /// Height of the block being mined.
        height: u32,
    },
    /// A block (submitted, or replayed from the store) breaks a consensus rule.
    #[error("block {height} is invalid: {reason}")]
    InvalidBlock {
        /// The height it would have had.
        height: u32,
        /// Core's reason.
        reason: BlockReject,
    },
    /// The block store failed; the block was not added.
    #[error("{0}")]
    Store(String),
    /// The stored chain was made from other parameters or genesis allocations.
    #[error("the block store's genesis {stored} is not this scenario's genesis {expected}")]
    GenesisMismatch {
        /// Genesis hash found in the store.
        stored: BlockHash,
        /// Genesis hash the parameters and allocations give.
        expected: BlockHash,
    },
}

impl From<StoreError> for ChainError {
    fn from(e: StoreError) -> Self {
        ChainError::Store(e.to_string())
    }
}

/// The optional block store of a chain. Cloning a chain clones its state only: the clone is
/// in-memory (two writers must never share one store).
#[derive(Debug, Default)]
pub(crate) struct StoreSlot(pub(crate) Option<BlockStore>);

impl Clone for StoreSlot {
    fn clone(&self) -> Self {
        StoreSlot(None)
    }
}

/// A transaction waiting in the mempool.
#[derive(Clone, Debug)]
pub(crate) struct MempoolEntry {
    pub(crate) txid: Txid,
    pub(crate) tx: Transaction,
    pub(crate) fee_sat: u64,
}

/// A Darkcoin chain: blocks from genesis to tip, the UTXO set and the mempool.
#[derive(Clone, Debug)]
pub struct Chain {
    pub(crate) params: ChainParams,
    pub(crate) blocks: Vec<Block>,
    pub(crate) heights: BTreeMap<BlockHash, u32>,
    /// Confirmed transactions: (block height, index in block).
    pub(crate) tx_pos: BTreeMap<Txid, (u32, usize)>,
    pub(crate) utxos: BTreeMap<OutPoint, UtxoEntry>,
    pub(crate) script_utxos: BTreeMap<ScriptBuf, BTreeSet<OutPoint>>,
    /// Confirmed transactions touching each script (funding or spending), chain order.
    pub(crate) script_history: BTreeMap<ScriptBuf, Vec<Txid>>,
    pub(crate) mempool: Vec<MempoolEntry>,
    pub(crate) mempool_pos: BTreeMap<Txid, usize>,
    pub(crate) mempool_spends: BTreeMap<OutPoint, Txid>,
    /// Confirmed spends: outpoint → (spending txid, input index).
    pub(crate) spends: BTreeMap<OutPoint, (Txid, u32)>,
    pub(crate) store: StoreSlot,
}

/// A chain shared between the explorer, the world driver and the cast.
/// It is a std mutex: lock with [`lock`], never hold the guard across `.await`.
pub type SharedChain = Arc<Mutex<Chain>>;

/// Wraps a chain for sharing.
pub fn shared(chain: Chain) -> SharedChain {
    Arc::new(Mutex::new(chain))
}

/// Locks a shared chain; a panic elsewhere while locked does not make it unusable.
pub fn lock(chain: &SharedChain) -> MutexGuard<'_, Chain> {
    chain.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Chain {
    /// A new chain whose genesis block (at `genesis_time`) pays `allocations` — the
    /// scenario's initial funds, spendable at once (not subject to coinbase maturity).
    pub fn new(params: ChainParams, genesis_time: u32, allocations: &[(Address, u64)]) -> Result<Chain, ChainError> {
        let mut total: u64 = 0;
        for (_, v) in allocations {
            total = total.checked_add(*v).filter(|t| *t <= MAX_MONEY_SAT).ok_or(ChainError::ValueTooLarge)?;
        }
        let mut chain = Chain {
            params,
            blocks: Vec::new(),
            heights: BTreeMap::new(),
            tx_pos: BTreeMap::new(),
            utxos: BTreeMap::new(),
            script_utxos: BTreeMap::new(),
            script_history: BTreeMap::new(),
            mempool: Vec::new(),
            mempool_pos: BTreeMap::new(),
            mempool_spends: BTreeMap::new(),
            spends: BTreeMap::new(),
            store: StoreSlot(None),
        };
        let outputs: Vec<TxOut> =
            allocations.iter().map(|(a, v)| TxOut { value: bitcoin::Amount::from_sat(*v), script_pubkey: a.script_pubkey() }).collect();
        let genesis = crate::mine::assemble(&chain.params, 0, BlockHash::from_byte_array([0; 32]), genesis_time, outputs, Vec::new())?;
        chain.connect(genesis);
        tracing::info!(tip = %chain.tip_hash(), allocations = allocations.len(), total_sat = total, "darkcoin genesis");
        Ok(chain)
    }

    /// A chain persisted in the block store in `dir`: a new store starts with the genesis
    /// block [`Chain::new`] makes; an existing one is replayed, a torn last write cut off,
    /// and every block validated again (proof of work, merkle roots, signatures, amounts).
    /// Mined and submitted blocks are then appended and fsynced before they count.
    pub fn open(dir: &Path, params: ChainParams, genesis_time: u32, allocations: &[(Address, u64)]) -> Result<Chain, ChainError> {
        let mut chain = Chain::new(params, genesis_time, allocations)?;
        let (mut store, recovered) = BlockStore::open(dir)?;
        let mut blocks = recovered.blocks.into_iter();
        match blocks.next() {
            None => {
                if let Some(genesis) = chain.blocks.first() {
                    store.append(genesis)?;
                }
            }
            Some(stored) => {
                let (stored, expected) = (stored.block_hash(), chain.tip_hash());
                if stored != expected {
                    return Err(ChainError::GenesisMismatch { stored, expected });
                }
            }
        }
        for block in blocks {
            let height = chain.height().saturating_add(1);
            chain.check_block(&block).map_err(|reason| ChainError::InvalidBlock { height, reason })?;
            chain.connect(block);
        }
        tracing::info!(dir = %dir.display(), height = chain.height(), tip = %chain.tip_hash(), cut_bytes = recovered.truncated_bytes, "darkcoin chain opened");
        chain.store = StoreSlot(Some(store));
        Ok(chain)
    }

    /// Whether blocks are written to a block store.
    pub fn is_persistent(&self) -> bool {
        self.store.0.is_some()
    }

    /// Writes `block` to the store (when there is one, fsynced) and then connects it.
    pub(crate) fn persist_and_connect(&mut self, block: Block) -> Result<(), ChainError> {
        if let Some(store) = self.store.0.as_mut() {
            store.append(&block)?;
        }
        self.connect(block);
        Ok(())
    }

    /// The chain's parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// Validates `tx` fully and, if acceptable, adds it to the mempool.
    pub fn submit_tx(&mut self, tx: &Transaction) -> Result<Txid, Reject> {
        let result = self.accept(tx);
        match &result {
            Ok(txid) => tracing::info!(%txid, "mempool accepted transaction"),
            Err(reason) => {
                tracing::info!(txid = %tx.compute_txid(), %reason, detail = ?reason, "mempool rejected transaction")
            }
        }
        result
    }

    /// Decodes raw transaction hex (surrounding whitespace allowed) and submits it.
    pub fn submit_tx_hex(&mut self, hex_tx: &str) -> Result<Txid, Reject> {
        let bytes = hex::decode(hex_tx.trim()).map_err(|_| Reject::DecodeFailed)?;
        self.submit_tx_bytes(&bytes)
    }

    /// Decodes a consensus-serialized transaction and submits it.
    pub fn submit_tx_bytes(&mut self, bytes: &[u8]) -> Result<Txid, Reject> {
        let tx: Transaction = deserialize(bytes).map_err(|_| Reject::DecodeFailed)?;
        self.submit_tx(&tx)
    }

    fn accept(&mut self, tx: &Transaction) -> Result<Txid, Reject> {
        let (txid, fee_sat) = self.test_accept(tx)?;
        for input in &tx.input {
            self.mempool_spends.insert(input.previous_output, txid);
        }
        self.mempool_pos.insert(txid, self.mempool.len());
        self.mempool.push(MempoolEntry { txid, tx: tx.clone(), fee_sat });
        Ok(txid)
    }

    /// Every mempool rule applied to `tx` without adding it (Core's `testmempoolaccept`):
    /// its txid and fee, or the reason a node would refuse it.
    pub fn test_accept(&self, tx: &Transaction) -> Result<(Txid, u64), Reject> {
        check_transaction(tx)?;
        check_standard(tx, &self.params)?;
        let txid = tx.compute_txid();
        if self.mempool_pos.contains_key(&txid) {
            return Err(Reject::AlreadyInMempool);
        }
        if self.tx_pos.contains_key(&txid) {
            return Err(Reject::AlreadyKnown);
        }
        for input in &tx.input {
            if let Some(other) = self.mempool_spends.get(&input.previous_output) {
                return Err(Reject::MempoolConflict { outpoint: input.previous_output, conflicting: *other });
            }
        }
        let spend_height = self.height().saturating_add(1);
        let mut coins = Vec::with_capacity(tx.input.len());
        for input in &tx.input {
            let op = input.previous_output;
            let coin = self.utxos.get(&op).cloned().or_else(|| {
                let parent = self.mempool.get(*self.mempool_pos.get(&op.txid)?)?;
                let txout = parent.tx.output.get(usize::try_from(op.vout).ok()?)?.clone();
                (!txout.script_pubkey.is_op_return()).then_some(UtxoEntry { txout, height: spend_height, is_coinbase: false })
            });
            coins.push(coin.ok_or(Reject::MissingOrSpent { outpoint: op })?);
        }
        let fee_sat = check_inputs(tx, &coins, spend_height, &self.params)?;
        verify_scripts(tx, &coins)?;
        Ok((txid, fee_sat))
    }

    /// Appends a block at the next height and applies it to the UTXO set and indexes.
    /// The block must already be valid (built by [`crate::mine`] or checked). Mempool
    /// transactions it does not confirm are accepted again (those now conflicting drop out).
    pub(crate) fn connect(&mut self, block: Block) {
        let height = u32::try_from(self.blocks.len()).unwrap_or(u32::MAX);
        let hash = block.block_hash();
        for (index, tx) in block.txdata.iter().enumerate() {
            let txid = tx.compute_txid();
            let coinbase = tx.is_coinbase();
            if !coinbase {
                for (vin, input) in (0u32..).zip(&tx.input) {
                    self.spends.insert(input.previous_output, (txid, vin));
                    if let Some(spent) = self.utxos.remove(&input.previous_output) {
                        let spk = spent.txout.script_pubkey;
                        if let Some(set) = self.script_utxos.get_mut(&spk) {
                            set.remove(&input.previous_output);
                        }
                        push_history(&mut self.script_history, spk, txid);
                    }
                }
            }
            for (vout, out) in (0u32..).zip(&tx.output) {
                if out.script_pubkey.is_op_return() {
                    continue;
                }
                let op = OutPoint { txid, vout };
                let entry = UtxoEntry { txout: out.clone(), height, is_coinbase: coinbase && height > 0 };
                self.utxos.insert(op, entry);
                self.script_utxos.entry(out.script_pubkey.clone()).or_default().insert(op);
                push_history(&mut self.script_history, out.script_pubkey.clone(), txid);
            }
            self.tx_pos.insert(txid, (height, index));
        }
        self.heights.insert(hash, height);
        self.blocks.push(block);
        let waiting = std::mem::take(&mut self.mempool);
        self.mempool_pos.clear();
        self.mempool_spends.clear();
        for m in waiting {
            if !self.tx_pos.contains_key(&m.txid) && self.accept(&m.tx).is_err() {
                tracing::info!(txid = %m.txid, "mempool transaction dropped: conflicts with the new block");
            }
        }
    }

    /// A SHA-256 digest of the chain state for world digests: tip hash, height, the UTXO set
    /// in outpoint order (outpoint, value, script, height, coinbase flag) and the mempool
    /// txids in arrival order. Equal chains give equal digests.
    pub fn digest(&self) -> [u8; 32] {
        let mut buf: Vec<u8> = Vec::new();
        buf.extend_from_slice(b"darklab-coin-digest-v1\0");
        buf.extend_from_slice(self.tip_hash().as_byte_array());
        buf.extend_from_slice(&self.height().to_le_bytes());
        buf.extend_from_slice(&(self.utxos.len() as u64).to_le_bytes());
        for (op, entry) in &self.utxos {
            // Encoding into a Vec cannot fail.
            let _ = op.consensus_encode(&mut buf);
            let _ = entry.txout.consensus_encode(&mut buf);
            buf.extend_from_slice(&entry.height.to_le_bytes());
            buf.push(u8::from(entry.is_coinbase));
        }
        buf.extend_from_slice(&(self.mempool.len() as u64).to_le_bytes());
        for m in &self.mempool {
            buf.extend_from_slice(m.txid.as_byte_array());
        }
        Sha256::digest(&buf).into()
    }
}

fn push_history(history: &mut BTreeMap<ScriptBuf, Vec<Txid>>, spk: ScriptBuf, txid: Txid) {
    let list = history.entry(spk).or_default();
    if list.last() != Some(&txid) {
        list.push(txid);
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
