//! The operator side: the operator's account (made at start from the configured
//! credentials, role `operator`), the dashboard, bans and commission withdrawals. News,
//! the canary and dispute rulings are in [`super::site`] and [`super::disputes`]; their
//! operator routes check the role with [`require_operator`].

use crate::db::Cached as _;
use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;
use sim_core::rng::SimRng;

use super::accounts::{self, ROLE_OPERATOR, User};
use super::{MarketConfig, MarketError};

/// Creates the operator's account if the configuration names one.
pub fn ensure_operator(conn: &Connection, rng: &mut SimRng, now: SimTime, config: &MarketConfig) -> Result<(), MarketError> {
    if let (Some(user), Some(pw)) = (&config.operator_username, &config.operator_password) {
        accounts::ensure_account(conn, rng, now, user, pw, ROLE_OPERATOR)?;
    }
    Ok(())
}

/// 403 unless `user` is the operator.
pub fn require_operator(user: &User) -> Result<(), MarketError> {
    if user.is_operator() { Ok(()) } else { Err(MarketError::Forbidden("operator only")) }
}

/// Body of `POST /operator/ban` and `POST /operator/unban`.
#[derive(Debug, Clone, Deserialize)]
pub struct BanRequest {
    /// The account's handle.
    pub username: String,
}

/// Bans or unbans an account (its sessions stop working; a banned vendor's listings leave
/// the index). The operator cannot ban itself. 404 if unknown.
pub fn set_banned(conn: &Connection, operator: &User, username: &str, banned: bool) -> Result<(), MarketError> {
    require_operator(operator)?;
    if username == operator.username {
        return Err(MarketError::BadInput("the operator cannot ban itself".into()));
    }
    let n = conn.cached_exec("UPDATE users SET banned = ?1 WHERE username = ?2", params![banned, username])?;
    if n == 0 {
        return Err(MarketError::NotFound("user"));
    }
    tracing::info!(user = %username, banned, "market: ban changed");
    Ok(())
}

/// Body of `POST /operator/withdraw`.
#[derive(Debug, Clone, Deserialize)]
pub struct WithdrawRequest {
    /// Where to send the commission (a `bcrt1…` address).
    pub address: String,
    /// How much, in satoshis.
    pub amount_sat: u64,
}

/// Body of `POST /operator/exit`: where the operator sweeps every open escrow.
#[derive(Debug, Clone, Deserialize)]
pub struct ExitRequest {
    /// Destination (a `bcrt1…` address).
    pub address: String,
}

/// What an exit sweep took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitSweep {
    /// The sweeping transaction.
    pub txid: String,
    /// Orders whose escrow it emptied.
    pub orders: Vec<i64>,
    /// What reached the destination, in satoshis.
    pub amount_sat: u64,
}

/// One commission withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Destination.
    pub address: String,
    /// Amount in satoshis.
    pub amount_sat: u64,
    /// The transaction.
    pub txid: String,
    /// When (simulated time, ISO-8601).
    pub created: String,
}

/// Records a broadcast withdrawal.
pub fn record_withdrawal(conn: &Connection, now: SimTime, w: &WithdrawRequest, txid: &str) -> Result<(), MarketError> {
    conn.cached_exec(
        "INSERT INTO withdrawals (address, amount_sat, txid, created) VALUES (?1, ?2, ?3, ?4)",
        params![w.address.trim(), super::shop::sat_to_db(w.amount_sat)?, txid, now.to_string()],
    )?;
    Ok(())
}

/// One account as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// Handle.
    pub username: String,
    /// `user` or `operator`.
    pub role: String,
    /// Whether it has a shop.
    pub vendor: bool,
    /// Whether it is banned.
    pub banned: bool,
    /// When registered.
    pub created: String,
}

/// The operator's dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The address commissions are paid to.
    pub commission_address: String,
    /// Commission rate in basis points.
    pub commission_bps: u32,
    /// Commission earned on released orders, in satoshis.
    pub commission_earned_sat: u64,
    /// Orders by status.
    pub orders_by_status: BTreeMap<String, u64>,
    /// Accounts, by id.
    pub accounts: Vec<AccountRow>,
    /// Open disputes.
    pub open_disputes: u64,
    /// Withdrawals, oldest first.
    pub withdrawals: Vec<Withdrawal>,
    /// The vendor bond, in satoshis (0 = none).
    pub vendor_bond_sat: u64,
}

/// The dashboard's figures (the caller checked the role).
pub fn dashboard(conn: &Connection, config: &MarketConfig) -> Result<Dashboard, MarketError> {
    let earned: i64 =
        conn.cached_row("SELECT COALESCE(SUM(commission_sat), 0) FROM orders WHERE status = 'finalized'", [], |r| r.get(0))?;
    let mut orders_by_status = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached("SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (s, n) = row?;
            orders_by_status.insert(s, u64::try_from(n).unwrap_or(0));
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT u.username, u.role, v.user_id IS NOT NULL, u.banned, u.created FROM users u
         LEFT JOIN vendors v ON v.user_id = u.id ORDER BY u.id",
    )?;
    let accounts = stmt
        .query_map([], |r| {
            Ok(AccountRow { username: r.get(0)?, role: r.get(1)?, vendor: r.get(2)?, banned: r.get(3)?, created: r.get(4)? })
        })?
        .collect::<Result<_, _>>()?;
    let open: i64 = conn.cached_row("SELECT COUNT(*) FROM disputes WHERE status = 'open'", [], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached("SELECT address, amount_sat, txid, created FROM withdrawals ORDER BY id")?;
    let withdrawals = stmt
        .query_map([], |r| {
            Ok(Withdrawal { address: r.get(0)?, amount_sat: super::shop::sat_from_db(r.get(1)?), txid: r.get(2)?, created: r.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Dashboard {
        commission_address: super::escrow::operator_address(conn)?,
        commission_bps: config.commission_bps,
        commission_earned_sat: super::shop::sat_from_db(earned),
        orders_by_status,
        accounts,
        open_disputes: u64::try_from(open).unwrap_or(0),
        withdrawals,
        vendor_bond_sat: config.vendor_bond_sat,
    })
}
