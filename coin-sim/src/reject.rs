//! Why a transaction was refused: one variant per Bitcoin Core reject reason.
//!
//! `Display` prints exactly Core's reason string (`bad-txns-inputs-missingorspent`, …) so
//! trainees see what a real node would say; the variants carry the details for logs.

use bitcoin::{OutPoint, Txid};

use crate::script::ScriptError;

/// A transaction refused by the mempool, with Core's reason as its `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// The bytes (or hex) are not a transaction.
    #[error("TX decode failed")]
    DecodeFailed,
    /// No inputs.
    #[error("bad-txns-vin-empty")]
    VinEmpty,
    /// No outputs.
    #[error("bad-txns-vout-empty")]
    VoutEmpty,
    /// An output above 21 million coins.
    #[error("bad-txns-vout-toolarge")]
    VoutTooLarge {
        /// The output index.
        vout: u32,
    },
    /// Outputs summing above 21 million coins.
    #[error("bad-txns-txouttotal-toolarge")]
    TxoutTotalTooLarge,
    /// The same outpoint spent twice within the transaction.
    #[error("bad-txns-inputs-duplicate")]
    InputsDuplicate {
        /// The outpoint spent twice.
        outpoint: OutPoint,
    },
    /// Heavier than the standard limit (400 000 weight units).
    #[error("tx-size")]
    TxSize {
        /// The transaction's weight.
        weight: u64,
    },
    /// A coinbase transaction submitted outside a block.
    #[error("coinbase")]
    Coinbase,
    /// An output script that is not a standard template.
    #[error("scriptpubkey")]
    NonStandardScript {
        /// The output index.
        vout: u32,
    },
    /// An output below the dust limit.
    #[error("dust")]
    Dust {
        /// The output index.
        vout: u32,
    },
    /// Already in the mempool.
    #[error("txn-already-in-mempool")]
    AlreadyInMempool,
    /// Already confirmed in a block.
    #[error("txn-already-known")]
    AlreadyKnown,
    /// Spends an outpoint another mempool transaction already spends.
    #[error("txn-mempool-conflict")]
    MempoolConflict {
        /// The contested outpoint.
        outpoint: OutPoint,
        /// The mempool transaction that spends it first.
        conflicting: Txid,
    },
    /// Spends an outpoint that does not exist or is already spent (a double spend).
    #[error("bad-txns-inputs-missingorspent")]
    MissingOrSpent {
        /// The missing or spent outpoint.
        outpoint: OutPoint,
    },
    /// Spends a coinbase output before it has matured.
    #[error("bad-txns-premature-spend-of-coinbase")]
    PrematureCoinbaseSpend {
        /// The immature coinbase output.
        outpoint: OutPoint,
        /// Confirmations it has at the spending height.
        depth: u32,
    },
    /// Outputs worth more than inputs.
    #[error("bad-txns-in-belowout")]
    InBelowOut {
        /// Sum of inputs, in satoshis.
        in_sat: u64,
        /// Sum of outputs, in satoshis.
        out_sat: u64,
    },
    /// The fee is below the minimum relay fee rate.
    #[error("min relay fee not met")]
    MinRelayFee {
        /// The fee paid, in satoshis.
        fee_sat: u64,
        /// The minimum fee for its size, in satoshis.
        min_sat: u64,
    },
    /// An input's script or signature does not verify.
    #[error("mandatory-script-verify-flag-failed")]
    ScriptVerify {
        /// The failing input index.
        input: usize,
        /// What exactly failed.
        error: ScriptError,
    },
}

impl Reject {
    /// The JSON-RPC error code Core's `sendrawtransaction` reports for this reason.
    pub fn rpc_code(&self) -> i32 {
        match self {
            Reject::DecodeFailed => -22,
            Reject::MissingOrSpent { .. } => -25,
            Reject::AlreadyKnown => -27,
            _ => -26,
        }
    }
}
