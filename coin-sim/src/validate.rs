//! Transaction rules: context-free checks, standardness, and checks against the coins spent.
//!
//! The order follows Core's `AcceptToMemoryPool` so the first failing rule gives the same
//! reason a real node would: [`check_transaction`], [`check_standard`], then (after the
//! chain has looked the inputs up) [`check_inputs`] and finally [`verify_scripts`].

use std::collections::BTreeSet;

use bitcoin::sighash::SighashCache;
use bitcoin::{Transaction, TxOut};

use crate::chain::UtxoEntry;
use crate::params::ChainParams;
use crate::reject::Reject;
use crate::script::{is_standard_output, verify_input};

/// 21 million coins in satoshis: no amount may exceed it.
pub const MAX_MONEY_SAT: u64 = 21_000_000 * 100_000_000;

/// Core's standardness limit on transaction weight.
pub const MAX_STANDARD_TX_WEIGHT: u64 = 400_000;

/// Rules that need no context (Core's `CheckTransaction`).
pub fn check_transaction(tx: &Transaction) -> Result<(), Reject> {
    if tx.input.is_empty() {
        return Err(Reject::VinEmpty);
    }
    if tx.output.is_empty() {
        return Err(Reject::VoutEmpty);
    }
    let mut total: u64 = 0;
    for (vout, out) in (0u32..).zip(&tx.output) {
        let v = out.value.to_sat();
        if v > MAX_MONEY_SAT {
            return Err(Reject::VoutTooLarge { vout });
        }
        total = total.saturating_add(v);
        if total > MAX_MONEY_SAT {
            return Err(Reject::TxoutTotalTooLarge);
        }
    }
    let mut seen = BTreeSet::new();
    for input in &tx.input {
        if !seen.insert(input.previous_output) {
            return Err(Reject::InputsDuplicate { outpoint: input.previous_output });
        }
    }
    Ok(())
}

/// Mempool policy: no loose coinbase, size limit, standard output scripts, no dust.
pub fn check_standard(tx: &Transaction, params: &ChainParams) -> Result<(), Reject> {
    if tx.is_coinbase() {
        return Err(Reject::Coinbase);
    }
    let weight = tx.weight().to_wu();
    if weight > MAX_STANDARD_TX_WEIGHT {
        return Err(Reject::TxSize { weight });
    }
    for (vout, out) in (0u32..).zip(&tx.output) {
        if !is_standard_output(&out.script_pubkey) {
            return Err(Reject::NonStandardScript { vout });
        }
    }
    for (vout, out) in (0u32..).zip(&tx.output) {
        if !out.script_pubkey.is_op_return() && out.value.to_sat() < params.dust_limit_sat {
            return Err(Reject::Dust { vout });
        }
    }
    Ok(())
}

/// Consensus checks against the coins spent (`coins[i]` for input `i`) at block height
/// `spend_height`: coinbase maturity and inputs covering outputs. Returns the fee in satoshis.
pub fn check_tx_inputs(tx: &Transaction, coins: &[UtxoEntry], spend_height: u32, params: &ChainParams) -> Result<u64, Reject> {
    let mut in_sat: u64 = 0;
    for (input, coin) in tx.input.iter().zip(coins) {
        if coin.is_coinbase {
            let depth = spend_height.saturating_sub(coin.height);
            if depth < params.coinbase_maturity {
                return Err(Reject::PrematureCoinbaseSpend { outpoint: input.previous_output, depth });
            }
        }
        in_sat = in_sat.saturating_add(coin.txout.value.to_sat());
    }
    let out_sat = tx.output.iter().fold(0u64, |a, o| a.saturating_add(o.value.to_sat()));
    if in_sat < out_sat {
        return Err(Reject::InBelowOut { in_sat, out_sat });
    }
    Ok(in_sat - out_sat)
}

/// [`check_tx_inputs`] plus the mempool's minimum relay fee. Returns the fee in satoshis.
pub fn check_inputs(tx: &Transaction, coins: &[UtxoEntry], spend_height: u32, params: &ChainParams) -> Result<u64, Reject> {
    let fee_sat = check_tx_inputs(tx, coins, spend_height, params)?;
    let vsize = u64::try_from(tx.vsize()).unwrap_or(u64::MAX);
    let min_sat = vsize.saturating_mul(params.min_relay_feerate_sat_per_vb);
    if fee_sat < min_sat {
        return Err(Reject::MinRelayFee { fee_sat, min_sat });
    }
    Ok(fee_sat)
}

/// Verifies every input's spend (`coins[i]` for input `i`): P2WPKH (BIP143) or P2TR key path
/// (BIP341).
pub fn verify_scripts(tx: &Transaction, coins: &[UtxoEntry]) -> Result<(), Reject> {
    if coins.len() != tx.input.len() {
        return Err(Reject::MissingOrSpent { outpoint: bitcoin::OutPoint::null() });
    }
    let prevouts: Vec<TxOut> = coins.iter().map(|c| c.txout.clone()).collect();
    let mut cache = SighashCache::new(tx);
    for input in 0..prevouts.len() {
        verify_input(&mut cache, tx, input, &prevouts).map_err(|error| Reject::ScriptVerify { input, error })?;
    }
    Ok(())
}
