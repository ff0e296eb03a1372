//! Deposit addresses and deposits: each request for a deposit address derives a fresh
//! one from the exchange wallet; confirmed outputs to an account's addresses are credited
//! once each (by txid and output index) with the simulated time they were seen.
//!
//! Deposit addresses are recorded in derivation order, so a restarted exchange re-derives
//! the same keys from the same seed.

use coin_sim::Wallet;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::ExchangeError;
use super::accounts::Account;
use crate::chain::ObservedOutput;

/// A deposit address with its creation time (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositAddress {
    /// The `bcrt1…` address.
    pub address: String,
    /// When it was handed out (simulated time, ISO-8601).
    pub created: String,
}

/// A credited deposit (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Funding transaction id.
    pub txid: String,
    /// Output index in it.
    pub vout: u32,
    /// The deposit address paid.
    pub address: String,
    /// Value in satoshis.
    pub amount_sat: u64,
    /// When the exchange credited it (simulated time, ISO-8601).
    pub credited_at: String,
}

/// `GET /api/account`: the caller's balance and history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The account name.
    pub username: String,
    /// Sum of credited deposits, in satoshis.
    pub balance_sat: u64,
    /// Deposit addresses, oldest first.
    pub deposit_addresses: Vec<DepositAddress>,
    /// Credited deposits, in the order credited.
    pub deposits: Vec<Deposit>,
}

/// `GET /api/deposit-address`: a fresh address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDepositAddress {
    /// The `bcrt1…` address to pay.
    pub address: String,
    /// When it was made (simulated time, ISO-8601).
    pub created: String,
}

/// Re-derives in `wallet` every deposit address on record, checking each matches.
pub fn restore_wallet(conn: &Connection, wallet: &mut Wallet) -> Result<(), ExchangeError> {
    let mut stmt = conn.prepare("SELECT address FROM deposit_addresses ORDER BY id")?;
    let recorded: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    crate::service::restore_wallet(wallet, &recorded).map_err(|_| ExchangeError::WalletMismatch)
}

/// Derives a fresh deposit address for `account` and records it.
pub fn new_deposit_address(
    conn: &Connection,
    wallet: &mut Wallet,
    now: SimTime,
    account: &Account,
) -> Result<NewDepositAddress, ExchangeError> {
    let address = wallet.new_address().to_string();
    conn.execute(
        "INSERT INTO deposit_addresses (account_id, address, created) VALUES (?1, ?2, ?3)",
        params![account.id, address, now.to_string()],
    )?;
    tracing::info!(account = %account.username, %address, "exchange: deposit address issued");
    Ok(NewDepositAddress { address, created: now.to_string() })
}

/// The deposit addresses of `account_id`, oldest first.
pub fn addresses_of(conn: &Connection, account_id: i64) -> Result<Vec<DepositAddress>, ExchangeError> {
    let mut stmt = conn.prepare("SELECT address, created FROM deposit_addresses WHERE account_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map(params![account_id], |r| Ok(DepositAddress { address: r.get(0)?, created: r.get(1)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The deposits credited to `account_id`, in the order credited.
pub fn deposits_of(conn: &Connection, account_id: i64) -> Result<Vec<Deposit>, ExchangeError> {
    let mut stmt = conn.prepare("SELECT txid, vout, address, amount_sat, credited_at FROM deposits WHERE account_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map(params![account_id], |r| {
        Ok(Deposit {
            txid: r.get(0)?,
            vout: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            address: r.get(2)?,
            amount_sat: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            credited_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Credits the outputs to `address` that have at least `min_confirmations` and were not
/// credited before, to the account that owns the address. Returns how many were new.
pub fn credit(
    conn: &Connection,
    now: SimTime,
    address: &str,
    outputs: &[ObservedOutput],
    min_confirmations: u32,
) -> Result<usize, ExchangeError> {
    let owner: Option<i64> =
        conn.query_row("SELECT account_id FROM deposit_addresses WHERE address = ?1", params![address], |r| r.get(0)).optional()?;
    let Some(account_id) = owner else {
        return Err(ExchangeError::NotFound("deposit address"));
    };
    let mut new = 0;
    for o in crate::chain::confirmed(outputs, min_confirmations, |o| o) {
        let amount = i64::try_from(o.value_sat).map_err(|_| ExchangeError::Internal("deposit amount out of range".into()))?;
        new += conn.execute(
            "INSERT OR IGNORE INTO deposits (account_id, address, txid, vout, amount_sat, credited_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![account_id, address, o.txid, o.vout, amount, now.to_string()],
        )?;
        tracing::debug!(%address, txid = %o.txid, vout = o.vout, "exchange: deposit seen");
    }
    if new > 0 {
        tracing::info!(%address, new, "exchange: deposits credited");
    }
    Ok(new)
}

/// The account's balance and history.
pub fn account_view(conn: &Connection, account: &Account) -> Result<AccountView, ExchangeError> {
    let deposits = deposits_of(conn, account.id)?;
    let balance_sat = deposits.iter().fold(0u64, |acc, d| acc.saturating_add(d.amount_sat));
    Ok(AccountView { username: account.username.clone(), balance_sat, deposit_addresses: addresses_of(conn, account.id)?, deposits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::accounts::tests::{db, kyc};
    use crate::exchange::accounts::{Signup, authenticate, signup};

    #[test]
    fn deposits_are_credited_once() {
        let conn = db();
        let mut rng = sim_core::rng::stream(2, "exchange");
        let tok =
            signup(&conn, &mut rng, SimTime(1), "1.2.3.4", &Signup { username: "jan".into(), password: "pw".into(), kyc: kyc("Jan") })
                .unwrap();
        let acct = authenticate(&conn, Some(&tok)).unwrap();
        let mut w = Wallet::from_seed([6; 32]);
        let a = new_deposit_address(&conn, &mut w, SimTime(5), &acct).unwrap();
        let outs = [
            ObservedOutput { txid: "t1".into(), vout: 0, value_sat: 1_000, confirmations: 2 },
            ObservedOutput { txid: "t2".into(), vout: 1, value_sat: 500, confirmations: 0 },
        ];
        assert_eq!(credit(&conn, SimTime(10), &a.address, &outs, 1).unwrap(), 1);
        assert_eq!(credit(&conn, SimTime(11), &a.address, &outs, 1).unwrap(), 0);
        let v = account_view(&conn, &acct).unwrap();
        assert_eq!(v.balance_sat, 1_000);
        assert_eq!(v.deposits[0].credited_at, "1970-01-01T00:00:10Z");
        assert_eq!(v.deposit_addresses[0].created, "1970-01-01T00:00:05Z");
        assert!(matches!(credit(&conn, SimTime(1), "bcrt1qnotours", &outs, 1), Err(ExchangeError::NotFound(_))));
        // Restart with the same seed re-derives; another seed is refused.
        restore_wallet(&conn, &mut Wallet::from_seed([6; 32])).unwrap();
        assert!(matches!(restore_wallet(&conn, &mut Wallet::from_seed([7; 32])), Err(ExchangeError::WalletMismatch)));
    }
}
