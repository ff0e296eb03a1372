//! Block validation: the consensus rules a block must meet before it extends the chain.
//!
//! [`Chain::check_block`] follows Core's `CheckBlock` / `ContextualCheckBlock` /
//! `ConnectBlock` order, and [`BlockReject`]'s `Display` is Core's reason string
//! (`bad-txnmrklroot`, `high-hash`, `bad-cb-amount`, …). It is used for blocks submitted
//! from outside ([`Chain::submit_block`]) and for every block replayed from the block store.
//! Differences from Bitcoin: the target never retargets (it is the scenario's `pow_bits`),
//! and a block's time must not be before its parent's (instead of Core's median-time-past
//! rule), so the world may mine several blocks at one simulated instant.

use std::collections::{BTreeMap, BTreeSet};

use bitcoin::{Block, BlockHash, OutPoint, Target, Transaction};

use crate::chain::{Chain, ChainError, UtxoEntry};
use crate::reject::Reject;
use crate::validate::{MAX_MONEY_SAT, check_transaction, check_tx_inputs, verify_scripts};

/// Consensus weight limit of a block.
pub const MAX_BLOCK_WEIGHT: u64 = 4_000_000;

/// Why a block was refused, with Core's reason as its `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockReject {
    /// The block is already in the chain.
    #[error("duplicate")]
    Duplicate,
    /// Its parent is not the tip (no forks on Darkcoin).
    #[error("prev-blk-not-found")]
    PrevNotTip {
        /// The parent it names.
        prev: BlockHash,
    },
    /// `nBits` is not the chain's target.
    #[error("bad-diffbits")]
    BadDiffBits,
    /// The header hash does not meet its target.
    #[error("high-hash")]
    HighHash,
    /// Header time before the parent's.
    #[error("time-too-old")]
    TimeTooOld,
    /// The merkle root does not commit to the transactions.
    #[error("bad-txnmrklroot")]
    BadMerkleRoot,
    /// No transactions, or heavier than 4 M weight units.
    #[error("bad-blk-length")]
    BadLength,
    /// The first transaction is not a coinbase.
    #[error("bad-cb-missing")]
    CoinbaseMissing,
    /// A coinbase after the first transaction.
    #[error("bad-cb-multiple")]
    CoinbaseMultiple,
    /// The coinbase does not start with the block height (BIP34).
    #[error("bad-cb-height")]
    CoinbaseHeight,
    /// The coinbase pays more than subsidy plus fees.
    #[error("bad-cb-amount")]
    CoinbaseAmount,
    /// The witness commitment is missing or wrong.
    #[error("bad-witness-merkle-match")]
    WitnessCommitment,
    /// Two transactions with the same txid, or one already confirmed (BIP30).
    #[error("bad-txns-BIP30")]
    DuplicateTx,
    /// A transaction breaks a consensus rule; the reason is the transaction's.
    #[error("{reject}")]
    Tx {
        /// Index of the transaction in the block.
        index: usize,
        /// What is wrong with it.
        reject: Reject,
    },
}

impl Chain {
    /// Checks that `block` may extend the tip, without changing anything. Returns the fees
    /// it collects.
    pub fn check_block(&self, block: &Block) -> Result<u64, BlockReject> {
        let hash = block.block_hash();
        if self.heights.contains_key(&hash) {
            return Err(BlockReject::Duplicate);
        }
        let header = &block.header;
        if header.prev_blockhash != self.tip_hash() {
            return Err(BlockReject::PrevNotTip { prev: header.prev_blockhash });
        }
        if header.bits.to_consensus() != self.params.pow_bits {
            return Err(BlockReject::BadDiffBits);
        }
        if header.validate_pow(Target::from_compact(header.bits)).is_err() {
            return Err(BlockReject::HighHash);
        }
        if header.time < self.tip_time() {
            return Err(BlockReject::TimeTooOld);
        }
        if block.txdata.is_empty() || block.weight().to_wu() > MAX_BLOCK_WEIGHT {
            return Err(BlockReject::BadLength);
        }
        if !block.check_merkle_root() {
            return Err(BlockReject::BadMerkleRoot);
        }
        let height = self.height().saturating_add(1);
        let mut txs = block.txdata.iter();
        let coinbase = txs.next().filter(|t| t.is_coinbase()).ok_or(BlockReject::CoinbaseMissing)?;
        // BIP34 as Core checks it: the scriptSig starts with `CScript() << nHeight`.
        let expect = bitcoin::script::Builder::new().push_int(i64::from(height)).into_script();
        if !coinbase.input.first().is_some_and(|i| i.script_sig.as_bytes().starts_with(expect.as_bytes())) {
            return Err(BlockReject::CoinbaseHeight);
        }
        let any_witness = block.txdata.iter().skip(1).any(|t| t.input.iter().any(|i| !i.witness.is_empty()));
        if any_witness && !block.check_witness_commitment() {
            return Err(BlockReject::WitnessCommitment);
        }
        let mut created: BTreeMap<OutPoint, UtxoEntry> = BTreeMap::new();
        let mut spent: BTreeSet<OutPoint> = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut fees: u64 = 0;
        for (index, tx) in (1usize..).zip(txs) {
            let fail = |reject| BlockReject::Tx { index, reject };
            if tx.is_coinbase() {
                return Err(BlockReject::CoinbaseMultiple);
            }
            check_transaction(tx).map_err(fail)?;
            let txid = tx.compute_txid();
            if !seen.insert(txid) || self.tx_pos.contains_key(&txid) {
                return Err(BlockReject::DuplicateTx);
            }
            let mut coins = Vec::with_capacity(tx.input.len());
            for input in &tx.input {
                let op = input.previous_output;
                let coin = if spent.contains(&op) { None } else { created.get(&op).or_else(|| self.utxos.get(&op)).cloned() };
                coins.push(coin.ok_or(fail(Reject::MissingOrSpent { outpoint: op }))?);
            }
            let fee = check_tx_inputs(tx, &coins, height, &self.params).map_err(fail)?;
            verify_scripts(tx, &coins).map_err(fail)?;
            fees = fees.saturating_add(fee);
            for input in &tx.input {
                spent.insert(input.previous_output);
                created.remove(&input.previous_output);
            }
            add_outputs(&mut created, tx, txid, height);
        }
        let cb_out = coinbase.output.iter().fold(0u64, |a, o| a.saturating_add(o.value.to_sat()));
        let allowed = self.params.block_reward_sat.saturating_add(fees).min(MAX_MONEY_SAT);
        if cb_out > allowed {
            return Err(BlockReject::CoinbaseAmount);
        }
        Ok(fees)
    }

    /// Validates a block built elsewhere and, if valid, writes it to the store (if any) and
    /// connects it. Mempool transactions it confirms or conflicts with leave the mempool.
    pub fn submit_block(&mut self, block: Block) -> Result<BlockHash, ChainError> {
        self.check_block(&block).map_err(|reason| ChainError::InvalidBlock { height: self.height().saturating_add(1), reason })?;
        let hash = block.block_hash();
        self.persist_and_connect(block)?;
        Ok(hash)
    }
}

fn add_outputs(created: &mut BTreeMap<OutPoint, UtxoEntry>, tx: &Transaction, txid: bitcoin::Txid, height: u32) {
    for (vout, out) in (0u32..).zip(&tx.output) {
        if !out.script_pubkey.is_op_return() {
            created.insert(OutPoint { txid, vout }, UtxoEntry { txout: out.clone(), height, is_coinbase: false });
        }
    }
}
