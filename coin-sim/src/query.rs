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

/// Esplora's page size for confirmed address history.
pub const CHAIN_TXS_PER_PAGE: usize = 25;
/// Esplora's limit for mempool address history.
pub const MEMPOOL_TXS_PER_PAGE: usize = 50;

/// Who spends an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outspend {
    /// The spending transaction.
    pub txid: Txid,
    /// The spending input.
    pub vin: u32,
    /// Its status.
    pub status: TxStatus,
}

impl Chain {
    /// Who spends each output of `txid` (`None` for unspent), confirmed or in the mempool;
    /// `None` if the transaction is unknown.
    pub fn outspends(&self, txid: &Txid) -> Option<Vec<Option<Outspend>>> {
        let (tx, _) = self.tx_ref(txid)?;
        Some((0u32..).zip(&tx.output).map(|(vout, _)| self.outspend(&OutPoint { txid: *txid, vout })).collect())
    }

    /// Who spends `outpoint`, if anyone does.
    pub fn outspend(&self, outpoint: &OutPoint) -> Option<Outspend> {
        if let Some(&(txid, vin)) = self.spends.get(outpoint) {
            let status = self.tx_pos.get(&txid).map_or(TxStatus::Mempool, |&(h, _)| self.status_at(h));
            return Some(Outspend { txid, vin, status });
        }
        let txid = *self.mempool_spends.get(outpoint)?;
        let m = self.mempool.get(*self.mempool_pos.get(&txid)?)?;
        let vin = (0u32..).zip(&m.tx.input).find(|(_, i)| i.previous_output == *outpoint).map(|(v, _)| v)?;
        Some(Outspend { txid, vin, status: TxStatus::Mempool })
    }

    /// Mempool transactions touching `spk`, latest arrival first, at most `limit`.
    pub fn script_mempool_txs(&self, spk: &Script, limit: usize) -> Vec<TxInfo> {
        let txids: Vec<Txid> = self.mempool.iter().rev().filter(|m| self.touches(&m.tx, spk)).take(limit).map(|m| m.txid).collect();
        txids.iter().filter_map(|t| self.tx(t)).collect()
    }

    /// One page of confirmed transactions touching `spk`, newest first: the first `limit`
    /// after `last_seen` (from the newest when `None`). `None` if `last_seen` is not in the
    /// address's history.
    pub fn script_chain_txs(&self, spk: &Script, last_seen: Option<&Txid>, limit: usize) -> Option<Vec<TxInfo>> {
        let Some(hist) = self.script_history.get(spk) else {
            return last_seen.is_none().then(Vec::new);
        };
        let end = match last_seen {
            None => hist.len(),
            Some(seen) => hist.iter().rposition(|t| t == seen)?,
        };
        let start = end.saturating_sub(limit);
        Some(hist.get(start..end).unwrap_or_default().iter().rev().filter_map(|t| self.tx(t)).collect())
    }

    /// Mempool size, fees and fee-rate histogram.
    pub fn mempool_summary(&self) -> (u64, u64, u64, Vec<(f64, u64)>) {
        let mut rates: Vec<(f64, u64)> = Vec::new();
        let (mut vsize, mut fees) = (0u64, 0u64);
        for m in &self.mempool {
            let v = m.tx.vsize() as u64;
            vsize = vsize.saturating_add(v);
            fees = fees.saturating_add(m.fee_sat);
            rates.push((m.fee_sat as f64 / v.max(1) as f64, v));
        }
        rates.sort_by(|a, b| b.0.total_cmp(&a.0));
        (self.mempool.len() as u64, vsize, fees, rates)
    }

    /// Fee-rate estimates (sat/vB) per confirmation target, Esplora's targets: the fee rate of
    /// the mempool's top block's worth for fast targets, never below the minimum relay rate.
    pub fn fee_estimates(&self) -> std::collections::BTreeMap<u16, f64> {
        let floor = self.params.min_relay_feerate_sat_per_vb as f64;
        let (_, _, _, rates) = self.mempool_summary();
        // Walk the backlog highest rate first; the rate at depth d·1 MvB is what target d needs.
        let at_depth = |depth_vb: u64| {
            let mut acc = 0u64;
            for (rate, v) in &rates {
                acc = acc.saturating_add(*v);
                if acc >= depth_vb {
                    return rate.max(floor);
                }
            }
            floor
        };
        let targets: [u16; 28] =
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008];
        targets.iter().map(|&t| (t, at_depth(u64::from(t).saturating_mul(1_000_000)))).collect()
    }
}
