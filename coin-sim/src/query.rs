//! Read-only views of a chain: tip and blocks, transactions with their confirmation status,
//! and per-address history, unspent outputs and statistics (what the explorer serves).

use bitcoin::hashes::Hash as _;
use bitcoin::{Address, Block, BlockHash, OutPoint, Script, Transaction, TxOut, Txid};

use crate::chain::{Chain, UtxoEntry};
use crate::wallet::Utxo;

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// Waiting in the mempool.
    Mempool,
    /// Included in a block.
    Confirmed {
        /// The block's hash.
        block_hash: BlockHash,
        /// The block's height.
        height: u32,
        /// The block's header time.
        time: u32,
    },
}

impl TxStatus {
    /// Whether the transaction is in a block.
    pub fn is_confirmed(&self) -> bool {
        matches!(self, TxStatus::Confirmed { .. })
    }
}

/// A transaction with its status and fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxInfo {
    /// Its txid.
    pub txid: Txid,
    /// The transaction itself.
    pub tx: Transaction,
    /// Mempool or confirmed.
    pub status: TxStatus,
    /// Inputs minus outputs in satoshis (0 for a coinbase).
    pub fee_sat: u64,
}

/// Counts and sums of an address's outputs, as Esplora's `chain_stats` / `mempool_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxoStats {
    /// Outputs paying the address.
    pub funded_txo_count: u64,
    /// Their total value in satoshis.
    pub funded_txo_sum: u64,
    /// Of those, outputs spent.
    pub spent_txo_count: u64,
    /// Their total value in satoshis.
    pub spent_txo_sum: u64,
    /// Transactions touching the address.
    pub tx_count: u64,
}

/// Confirmed and mempool statistics of one address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddressStats {
    /// From confirmed transactions.
    pub chain: TxoStats,
    /// From mempool transactions.
    pub mempool: TxoStats,
}

impl AddressStats {
    /// Confirmed balance in satoshis.
    pub fn confirmed_balance_sat(&self) -> u64 {
        self.chain.funded_txo_sum.saturating_sub(self.chain.spent_txo_sum)
    }
    /// Balance counting the mempool, in satoshis.
    pub fn total_balance_sat(&self) -> u64 {
        (self.chain.funded_txo_sum + self.mempool.funded_txo_sum).saturating_sub(self.chain.spent_txo_sum + self.mempool.spent_txo_sum)
    }
}

/// An unspent output of an address with its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressUtxo {
    /// The coin, ready to hand to [`crate::Wallet::build_and_sign`].
    pub utxo: Utxo,
    /// Whether its funding transaction is confirmed.
    pub status: TxStatus,
}

impl Chain {
    /// Hash of the tip block.
    pub fn tip_hash(&self) -> BlockHash {
        self.blocks.last().map(Block::block_hash).unwrap_or_else(|| BlockHash::from_byte_array([0; 32]))
    }

    /// Height of the tip (genesis is 0).
    pub fn height(&self) -> u32 {
        u32::try_from(self.blocks.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// Header time of the tip.
    pub fn tip_time(&self) -> u32 {
        self.blocks.last().map(|b| b.header.time).unwrap_or(0)
    }

    /// The block with this hash.
    pub fn block_by_hash(&self, hash: &BlockHash) -> Option<&Block> {
        self.heights.get(hash).and_then(|h| self.block_at(*h))
    }

    /// The block at this height.
    pub fn block_at(&self, height: u32) -> Option<&Block> {
        self.blocks.get(usize::try_from(height).ok()?)
    }

    /// The hash of the block at this height.
    pub fn block_hash_at(&self, height: u32) -> Option<BlockHash> {
        self.block_at(height).map(Block::block_hash)
    }

    /// The height of the block with this hash.
    pub fn block_height(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    /// Median header time of the 11 blocks ending at `height` (BIP113).
    pub fn median_time_past(&self, height: u32) -> u32 {
        let mut times: Vec<u32> = (height.saturating_sub(10)..=height).filter_map(|h| self.block_at(h)).map(|b| b.header.time).collect();
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }

    /// Txids in the mempool, in arrival order.
    pub fn mempool_txids(&self) -> Vec<Txid> {
        self.mempool.iter().map(|m| m.txid).collect()
    }

    fn status_at(&self, height: u32) -> TxStatus {
        match self.block_at(height) {
            Some(b) => TxStatus::Confirmed { block_hash: b.block_hash(), height, time: b.header.time },
            None => TxStatus::Mempool,
        }
    }

    fn tx_ref(&self, txid: &Txid) -> Option<(&Transaction, TxStatus)> {
        if let Some(&(height, index)) = self.tx_pos.get(txid) {
            let tx = self.block_at(height)?.txdata.get(index)?;
            return Some((tx, self.status_at(height)));
        }
        let m = self.mempool.get(*self.mempool_pos.get(txid)?)?;
        Some((&m.tx, TxStatus::Mempool))
    }

    /// A transaction, confirmed or in the mempool, with status and fee.
    pub fn tx(&self, txid: &Txid) -> Option<TxInfo> {
        let (tx, status) = self.tx_ref(txid)?;
        let fee_sat = if tx.is_coinbase() {
            0
        } else {
            let ins =
                tx.input.iter().filter_map(|i| self.prevout(&i.previous_output)).fold(0u64, |a, o| a.saturating_add(o.value.to_sat()));
            let outs = tx.output.iter().fold(0u64, |a, o| a.saturating_add(o.value.to_sat()));
            ins.saturating_sub(outs)
        };
        Some(TxInfo { txid: *txid, tx: tx.clone(), status, fee_sat })
    }

    /// Any output ever created (spent or not, confirmed or in the mempool).
    pub fn prevout(&self, outpoint: &OutPoint) -> Option<TxOut> {
        let (tx, _) = self.tx_ref(&outpoint.txid)?;
        tx.output.get(usize::try_from(outpoint.vout).ok()?).cloned()
    }

    /// A confirmed unspent output (ignores mempool spends).
    pub fn utxo(&self, outpoint: &OutPoint) -> Option<&UtxoEntry> {
        self.utxos.get(outpoint)
    }

    /// Transactions touching an address, newest first: mempool (latest arrival first), then
    /// confirmed (highest block first, last in block first).
    pub fn address_txs(&self, address: &Address) -> Vec<TxInfo> {
        self.script_txs(&address.script_pubkey())
    }

    /// [`Chain::address_txs`] by output script.
    pub fn script_txs(&self, spk: &Script) -> Vec<TxInfo> {
        let mut txids: Vec<Txid> = self.mempool.iter().rev().filter(|m| self.touches(&m.tx, spk)).map(|m| m.txid).collect();
        if let Some(hist) = self.script_history.get(spk) {
            txids.extend(hist.iter().rev().copied());
        }
        txids.iter().filter_map(|t| self.tx(t)).collect()
    }

    fn touches(&self, tx: &Transaction, spk: &Script) -> bool {
        tx.output.iter().any(|o| o.script_pubkey.as_script() == spk)
            || tx.input.iter().any(|i| self.prevout(&i.previous_output).is_some_and(|o| o.script_pubkey.as_script() == spk))
    }

    /// Unspent outputs of an address, counting the mempool: confirmed coins not spent in the
    /// mempool (outpoint order), then mempool outputs not spent in the mempool (arrival order).
    pub fn address_utxos(&self, address: &Address) -> Vec<AddressUtxo> {
        self.script_utxos_of(&address.script_pubkey())
    }

    /// [`Chain::address_utxos`] by output script.
    pub fn script_utxos_of(&self, spk: &Script) -> Vec<AddressUtxo> {
        let mut out = Vec::new();
        if let Some(set) = self.script_utxos.get(spk) {
            for op in set {
                if self.mempool_spends.contains_key(op) {
                    continue;
                }
                if let Some(e) = self.utxos.get(op) {
                    out.push(AddressUtxo {
                        utxo: Utxo { outpoint: *op, value_sat: e.txout.value.to_sat(), script_pubkey: e.txout.script_pubkey.clone() },
                        status: self.status_at(e.height),
                    });
                }
            }
        }
        for m in &self.mempool {
            for (vout, o) in (0u32..).zip(&m.tx.output) {
                let op = OutPoint { txid: m.txid, vout };
                if o.script_pubkey.as_script() == spk && !self.mempool_spends.contains_key(&op) {
                    out.push(AddressUtxo {
                        utxo: Utxo { outpoint: op, value_sat: o.value.to_sat(), script_pubkey: o.script_pubkey.clone() },
                        status: TxStatus::Mempool,
                    });
                }
            }
        }
        out
    }

    /// Esplora-style statistics of an address.
    pub fn address_stats(&self, address: &Address) -> AddressStats {
        self.script_stats(&address.script_pubkey())
    }

    /// [`Chain::address_stats`] by output script.
    pub fn script_stats(&self, spk: &Script) -> AddressStats {
        let mut stats = AddressStats::default();
        if let Some(hist) = self.script_history.get(spk) {
            for txid in hist {
                if let Some((tx, _)) = self.tx_ref(txid) {
                    self.add_stats(&mut stats.chain, tx, spk);
                }
            }
        }
        for m in &self.mempool {
            if self.touches(&m.tx, spk) {
                self.add_stats(&mut stats.mempool, &m.tx, spk);
            }
        }
        stats
    }

    fn add_stats(&self, s: &mut TxoStats, tx: &Transaction, spk: &Script) {
        s.tx_count += 1;
        for o in tx.output.iter().filter(|o| o.script_pubkey.as_script() == spk) {
            s.funded_txo_count += 1;
            s.funded_txo_sum = s.funded_txo_sum.saturating_add(o.value.to_sat());
        }
        if tx.is_coinbase() {
            return;
        }
        for i in &tx.input {
            if let Some(prev) = self.prevout(&i.previous_output).filter(|o| o.script_pubkey.as_script() == spk) {
                s.spent_txo_count += 1;
                s.spent_txo_sum = s.spent_txo_sum.saturating_add(prev.value.to_sat());
            }
        }
    }
}
