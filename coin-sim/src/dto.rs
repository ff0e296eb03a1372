//! Esplora-shaped JSON types: what the explorer serves and the client reads.
//!
//! Field names and meanings follow Blockstream's Esplora REST API so that existing tools
//! and habits carry over; amounts are integer satoshis, scripts lowercase hex.

use bitcoin::{Address, Block, BlockHash, Script, TxOut, Txid};
use serde::{Deserialize, Serialize};

use crate::chain::Chain;
use crate::params::NETWORK;
use crate::query::{AddressStats, AddressUtxo, TxInfo, TxStatus, TxoStats};

/// Confirmation status (`/tx/:txid/status` and inside transactions and UTXOs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDto {
    /// Whether it is in a block.
    pub confirmed: bool,
    /// The block height, when confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_height: Option<u32>,
    /// The block hash, when confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<BlockHash>,
    /// The block's header time, when confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_time: Option<u32>,
}

impl From<TxStatus> for StatusDto {
    fn from(s: TxStatus) -> Self {
        match s {
            TxStatus::Mempool => StatusDto { confirmed: false, block_height: None, block_hash: None, block_time: None },
            TxStatus::Confirmed { block_hash, height, time } => {
                StatusDto { confirmed: true, block_height: Some(height), block_hash: Some(block_hash), block_time: Some(time) }
            }
        }
    }
}

/// A transaction output (also a spent input's `prevout`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoutDto {
    /// The locking script, hex.
    pub scriptpubkey: String,
    /// The locking script in assembly.
    #[serde(default)]
    pub scriptpubkey_asm: String,
    /// `v0_p2wpkh`, `v1_p2tr`, `p2pkh`, `op_return`, …
    pub scriptpubkey_type: String,
    /// The address it pays, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scriptpubkey_address: Option<String>,
    /// Value in satoshis.
    pub value: u64,
}

impl From<&TxOut> for VoutDto {
    fn from(o: &TxOut) -> Self {
        VoutDto {
            scriptpubkey: hex::encode(o.script_pubkey.as_bytes()),
            scriptpubkey_asm: o.script_pubkey.to_asm_string(),
            scriptpubkey_type: script_type(&o.script_pubkey).to_string(),
            scriptpubkey_address: Address::from_script(&o.script_pubkey, NETWORK).ok().map(|a| a.to_string()),
            value: o.value.to_sat(),
        }
    }
}

/// Esplora's name for an output script's template.
pub fn script_type(s: &Script) -> &'static str {
    if s.is_empty() {
        "empty"
    } else if s.is_p2wpkh() {
        "v0_p2wpkh"
    } else if s.is_p2wsh() {
        "v0_p2wsh"
    } else if s.is_p2tr() {
        "v1_p2tr"
    } else if s.is_p2pkh() {
        "p2pkh"
    } else if s.is_p2sh() {
        "p2sh"
    } else if s.is_op_return() {
        "op_return"
    } else if s.is_p2pk() {
        "p2pk"
    } else if s.is_multisig() {
        "multisig"
    } else {
        "unknown"
    }
}

/// A transaction input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VinDto {
    /// Txid of the output spent (all zeros for a coinbase).
    pub txid: Txid,
    /// Index of the output spent (`4294967295` for a coinbase).
    pub vout: u32,
    /// The output spent (`null` for a coinbase).
    pub prevout: Option<VoutDto>,
    /// The scriptSig, hex.
    pub scriptsig: String,
    /// The scriptSig in assembly.
    #[serde(default)]
    pub scriptsig_asm: String,
    /// Witness items, hex (omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witness: Vec<String>,
    /// Whether this is a coinbase input.
    pub is_coinbase: bool,
    /// The sequence number.
    pub sequence: u32,
}

/// A transaction (`/tx/:txid`, `/address/:a/txs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxDto {
    /// The txid.
    pub txid: Txid,
    /// Transaction version.
    pub version: i32,
    /// Lock time (consensus value).
    pub locktime: u32,
    /// Inputs.
    pub vin: Vec<VinDto>,
    /// Outputs.
    pub vout: Vec<VoutDto>,
    /// Serialized size in bytes, witness included.
    pub size: u64,
    /// Weight units.
    pub weight: u64,
    /// Fee in satoshis (0 for a coinbase).
    pub fee: u64,
    /// Confirmation status.
    pub status: StatusDto,
}

impl TxDto {
    /// The Esplora view of `info`, looking prevouts up in `chain`.
    pub fn new(chain: &Chain, info: &TxInfo) -> Self {
        let tx = &info.tx;
        let coinbase = tx.is_coinbase();
        let vin = tx
            .input
            .iter()
            .map(|i| VinDto {
                txid: i.previous_output.txid,
                vout: i.previous_output.vout,
                prevout: if coinbase { None } else { chain.prevout(&i.previous_output).as_ref().map(VoutDto::from) },
                scriptsig: hex::encode(i.script_sig.as_bytes()),
                scriptsig_asm: i.script_sig.to_asm_string(),
                witness: i.witness.iter().map(hex::encode).collect(),
                is_coinbase: coinbase,
                sequence: i.sequence.0,
            })
            .collect();
        TxDto {
            txid: info.txid,
            version: tx.version.0,
            locktime: tx.lock_time.to_consensus_u32(),
            vin,
            vout: tx.output.iter().map(VoutDto::from).collect(),
            size: tx.total_size() as u64,
            weight: tx.weight().to_wu(),
            fee: info.fee_sat,
            status: info.status.into(),
        }
    }
}

/// A block header summary (`/block/:hash`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockDto {
    /// The block hash.
    pub id: BlockHash,
    /// Its height.
    pub height: u32,
    /// Header version.
    pub version: i32,
    /// Header time.
    pub timestamp: u32,
    /// Number of transactions.
    pub tx_count: u64,
    /// Serialized size in bytes.
    pub size: u64,
    /// Weight units.
    pub weight: u64,
    /// Merkle root, hex.
    pub merkle_root: String,
    /// Parent hash (`null` for genesis).
    pub previousblockhash: Option<BlockHash>,
    /// Median time past.
    pub mediantime: u32,
    /// Header nonce.
    pub nonce: u32,
    /// Compact target.
    pub bits: u32,
    /// Difficulty relative to the easiest mainnet target.
    pub difficulty: f64,
}

impl BlockDto {
    /// The Esplora view of the block at `height`.
    pub fn new(chain: &Chain, block: &Block, height: u32) -> Self {
        BlockDto {
            id: block.block_hash(),
            height,
            version: block.header.version.to_consensus(),
            timestamp: block.header.time,
            tx_count: block.txdata.len() as u64,
            size: block.total_size() as u64,
            weight: block.weight().to_wu(),
            merkle_root: block.header.merkle_root.to_string(),
            previousblockhash: (height > 0).then_some(block.header.prev_blockhash),
            mediantime: chain.median_time_past(height),
            nonce: block.header.nonce,
            bits: block.header.bits.to_consensus(),
            difficulty: block.header.difficulty_float(),
        }
    }
}

/// Output statistics (`chain_stats`, `mempool_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxoStatsDto {
    /// Outputs paying the address.
    pub funded_txo_count: u64,
    /// Their value in satoshis.
    pub funded_txo_sum: u64,
    /// Of those, outputs spent.
    pub spent_txo_count: u64,
    /// Their value in satoshis.
    pub spent_txo_sum: u64,
    /// Transactions touching the address.
    pub tx_count: u64,
}

impl From<TxoStats> for TxoStatsDto {
    fn from(s: TxoStats) -> Self {
        TxoStatsDto {
            funded_txo_count: s.funded_txo_count,
            funded_txo_sum: s.funded_txo_sum,
            spent_txo_count: s.spent_txo_count,
            spent_txo_sum: s.spent_txo_sum,
            tx_count: s.tx_count,
        }
    }
}

/// An address summary (`/address/:address`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressDto {
    /// The address.
    pub address: String,
    /// From confirmed transactions.
    pub chain_stats: TxoStatsDto,
    /// From mempool transactions.
    pub mempool_stats: TxoStatsDto,
}

impl AddressDto {
    /// The Esplora view of an address's statistics.
    pub fn new(address: &Address, stats: AddressStats) -> Self {
        AddressDto { address: address.to_string(), chain_stats: stats.chain.into(), mempool_stats: stats.mempool.into() }
    }
}

/// An unspent output (`/address/:address/utxo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtxoDto {
    /// Funding txid.
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// Status of the funding transaction.
    pub status: StatusDto,
    /// Value in satoshis.
    pub value: u64,
}

impl From<&AddressUtxo> for UtxoDto {
    fn from(u: &AddressUtxo) -> Self {
        UtxoDto { txid: u.utxo.outpoint.txid, vout: u.utxo.outpoint.vout, status: u.status.into(), value: u.utxo.value_sat }
    }
}

/// Whether an output is spent, and by what (`/tx/:txid/outspends`, `/tx/:txid/outspend/:vout`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutspendDto {
    /// Whether a confirmed or mempool transaction spends it.
    pub spent: bool,
    /// The spending transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txid: Option<Txid>,
    /// The spending input's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vin: Option<u32>,
    /// The spending transaction's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusDto>,
}

/// A block's place in the chain (`/block/:hash/status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStatusDto {
    /// Always true for a known block (Darkcoin has no forks).
    pub in_best_chain: bool,
    /// Its height.
    pub height: u32,
    /// The next block's hash, unless it is the tip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_best: Option<BlockHash>,
}

/// Mempool backlog statistics (`/mempool`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MempoolDto {
    /// Transactions waiting.
    pub count: u64,
    /// Their total virtual size.
    pub vsize: u64,
    /// Their total fees, in satoshis.
    pub total_fee: u64,
    /// `[fee rate (sat/vB), vsize]` pairs, highest fee rate first.
    pub fee_histogram: Vec<(f64, u64)>,
}
