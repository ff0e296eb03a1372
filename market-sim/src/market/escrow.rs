//! The market's escrow: addresses handed out by the escrow wallet and the payout
//! transaction that releases an order's escrow to the vendor and the operator.
//!
//! Every address the escrow wallet derives is recorded in `escrow_addresses` in
//! derivation order, so a market restarted over the same database and seed re-derives the
//! same keys (and refuses a wallet whose seed does not match). The first address is the
//! operator's commission address.
//!
//! Payout rule: the whole escrow balance is swept; the operator gets
//! `amount × commission_bps / 10 000` (nothing if that would be dust), the fee is
//! `feerate × vsize`, and the vendor gets the rest (`received − commission − fee`).

use crate::db::Cached as _;
use bitcoin::{Address, Amount, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use coin_sim::params::DEFAULT_DUST_LIMIT_SAT;
use coin_sim::{Utxo, Wallet};
use rusqlite::{Connection, OptionalExtension, params};
use sim_core::clock::SimTime;

use super::MarketError;

/// Purpose of the operator's commission address in `escrow_addresses`.
pub const PURPOSE_OPERATOR: &str = "operator";
/// Purpose of an order's escrow address in `escrow_addresses`.
pub const PURPOSE_ORDER: &str = "order";
/// Purpose of a vendor's bond address in `escrow_addresses`.
pub const PURPOSE_BOND: &str = "bond";

/// Re-derives in `wallet` every escrow address on record, checking each matches.
pub fn restore_wallet(conn: &Connection, wallet: &mut Wallet) -> Result<(), MarketError> {
    let mut stmt = conn.prepare_cached("SELECT address FROM escrow_addresses ORDER BY id")?;
    let recorded: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    crate::service::restore_wallet(wallet, &recorded).map_err(|_| MarketError::WalletMismatch)
}

/// Derives the next escrow address, records it with its purpose and time, and returns it.
pub fn new_address(conn: &Connection, wallet: &mut Wallet, purpose: &str, now: SimTime) -> Result<Address, MarketError> {
    let address = wallet.new_address();
    conn.cached_exec(
        "INSERT INTO escrow_addresses (address, purpose, created) VALUES (?1, ?2, ?3)",
        params![address.to_string(), purpose, now.to_string()],
    )?;
    Ok(address)
}

/// Makes the operator's commission address on first start (no-op afterwards).
pub fn ensure_operator_address(conn: &Connection, wallet: &mut Wallet, now: SimTime) -> Result<(), MarketError> {
    let existing: Option<String> = conn
        .query_row("SELECT address FROM escrow_addresses WHERE purpose = ?1 ORDER BY id LIMIT 1", params![PURPOSE_OPERATOR], |r| r.get(0))
        .optional()?;
    if existing.is_none() {
        let a = new_address(conn, wallet, PURPOSE_OPERATOR, now)?;
        tracing::info!(address = %a, "market: operator commission address created");
    }
    Ok(())
}

/// The operator's commission address.
pub fn operator_address(conn: &Connection) -> Result<String, MarketError> {
    conn.cached_row("SELECT address FROM escrow_addresses WHERE purpose = ?1 ORDER BY id LIMIT 1", params![PURPOSE_OPERATOR], |r| r.get(0))
        .optional()?
        .ok_or(MarketError::NotFound("operator address"))
}

/// The operator's commission on `amount_sat` at `bps` basis points (rounded down).
pub fn commission_sat(amount_sat: u64, bps: u32) -> u64 {
    let c = u128::from(amount_sat) * u128::from(bps) / 10_000;
    u64::try_from(c).unwrap_or(u64::MAX)
}

/// What a payout pays: to whom, how much, and the fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutSplit {
    /// Sum of the escrow outputs swept.
    pub received_sat: u64,
    /// To the operator's address (0 when it would be dust; then no operator output).
    pub commission_sat: u64,
    /// Network fee.
    pub fee_sat: u64,
    /// To the vendor's payout address.
    pub vendor_sat: u64,
}

/// Worst-case virtual size of a P2WPKH sweep of `inputs` into `outputs` (largest
/// signatures), the same measure the coin-sim wallet uses to price its fee.
fn sweep_vsize(inputs: &[Utxo], outputs: &[TxOut]) -> u64 {
    let tx = Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: inputs
            .iter()
            .map(|u| TxIn {
                previous_output: u.outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_LOCKTIME_NO_RBF,
                witness: Witness::from_slice(&[vec![0u8; 73], vec![0u8; 33]]),
            })
            .collect(),
        output: outputs.to_vec(),
    };
    u64::try_from(tx.vsize()).unwrap_or(u64::MAX)
}

/// Builds and signs the payout of an order's escrow: sweeps `escrow_utxos` to the vendor
/// and the operator (see the module doc for the split). 409 if the escrow holds too
/// little to pay anything after commission and fee.
pub fn build_payout(
    wallet: &Wallet,
    escrow_utxos: &[Utxo],
    order_amount_sat: u64,
    commission_bps: u32,
    feerate_sat_per_vb: u64,
    vendor: &Address,
    operator: &Address,
) -> Result<(Transaction, PayoutSplit), MarketError> {
    if escrow_utxos.is_empty() {
        return Err(MarketError::Conflict("escrow holds no coins".into()));
    }
    let received_sat = escrow_utxos
        .iter()
        .try_fold(0u64, |acc, u| acc.checked_add(u.value_sat))
        .ok_or_else(|| MarketError::Conflict("escrow amount overflow".into()))?;
    let mut commission = commission_sat(order_amount_sat, commission_bps);
    if commission < DEFAULT_DUST_LIMIT_SAT {
        commission = 0;
    }
    let mut shape = vec![TxOut { value: Amount::ZERO, script_pubkey: vendor.script_pubkey() }];
    if commission > 0 {
        shape.push(TxOut { value: Amount::ZERO, script_pubkey: operator.script_pubkey() });
    }
    let fee = sweep_vsize(escrow_utxos, &shape).saturating_mul(feerate_sat_per_vb);
    let vendor_sat = received_sat
        .checked_sub(commission)
        .and_then(|v| v.checked_sub(fee))
        .filter(|v| *v >= DEFAULT_DUST_LIMIT_SAT)
        .ok_or_else(|| MarketError::Conflict("escrow balance too small to pay out".into()))?;
    let mut outputs = vec![(vendor.clone(), vendor_sat)];
    if commission > 0 {
        outputs.push((operator.clone(), commission));
    }
    // Change cannot arise (the outputs use up everything but the fee); the operator
    // address is named as change only because the wallet requires one.
    let tx = wallet.build_and_sign(escrow_utxos, &outputs, feerate_sat_per_vb, operator)?;
    // The wallet may leave out an input worth less than its own fee: count what it spent.
    let spent: u64 = escrow_utxos.iter().filter(|u| tx.input.iter().any(|i| i.previous_output == u.outpoint)).map(|u| u.value_sat).sum();
    let paid: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
    let split = PayoutSplit { received_sat: spent, commission_sat: commission, fee_sat: spent.saturating_sub(paid), vendor_sat };
    Ok((tx, split))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash as _;
    use bitcoin::{OutPoint, Txid};

    fn utxo(a: &Address, n: u8, v: u64) -> Utxo {
        Utxo { outpoint: OutPoint { txid: Txid::from_byte_array([n; 32]), vout: 0 }, value_sat: v, script_pubkey: a.script_pubkey() }
    }

    #[test]
    fn commission_math() {
        assert_eq!(commission_sat(1_000_000, 250), 25_000);
        assert_eq!(commission_sat(u64::MAX, 10_000), u64::MAX);
        assert_eq!(commission_sat(999, 1), 0);
    }

    #[test]
    fn payout_splits_exactly() {
        let mut w = Wallet::from_seed([3; 32]);
        let operator = w.new_address();
        let escrow = w.new_address();
        let vendor = Wallet::from_seed([4; 32]).new_address();
        let inputs = [utxo(&escrow, 1, 600_000), utxo(&escrow, 2, 400_000)];
        let (tx, split) = build_payout(&w, &inputs, 1_000_000, 250, 2, &vendor, &operator).unwrap();
        assert_eq!(tx.input.len(), 2);
        assert_eq!(tx.output.len(), 2);
        assert_eq!(split.commission_sat, 25_000);
        assert_eq!(split.vendor_sat + split.commission_sat + split.fee_sat, 1_000_000);
        assert_eq!(tx.output[0].value.to_sat(), split.vendor_sat);
        assert_eq!(tx.output[0].script_pubkey, vendor.script_pubkey());
        assert!(split.fee_sat >= 2 * tx.vsize() as u64);
        // Tiny commission is dropped rather than made dust.
        let (tx, split) = build_payout(&w, &inputs, 1_000_000, 1, 1, &vendor, &operator).unwrap();
        assert_eq!((tx.output.len(), split.commission_sat), (1, 0));
        // Too little in escrow.
        assert!(matches!(build_payout(&w, &[utxo(&escrow, 3, 700)], 700, 0, 5, &vendor, &operator), Err(MarketError::Conflict(_))));
    }

    #[test]
    fn restore_checks_the_seed() {
        let conn = crate::market::accounts::tests::db();
        let mut w = Wallet::from_seed([3; 32]);
        ensure_operator_address(&conn, &mut w, SimTime(0)).unwrap();
        let a = new_address(&conn, &mut w, PURPOSE_ORDER, SimTime(1)).unwrap();
        let mut again = Wallet::from_seed([3; 32]);
        restore_wallet(&conn, &mut again).unwrap();
        assert_eq!(again.addresses()[1], a);
        let mut wrong = Wallet::from_seed([9; 32]);
        assert!(matches!(restore_wallet(&conn, &mut wrong), Err(MarketError::WalletMismatch)));
    }
}
