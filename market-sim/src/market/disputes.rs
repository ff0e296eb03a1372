//! Disputes: a buyer whose goods did not come opens one on a paid or shipped order; the
//! operator rules, releasing the escrow to the vendor (less commission) or refunding it to
//! the address the buyer gave (no commission).
//!
//! ```text
//! paid | shipped --(buyer disputes)--> disputed --(operator rules)--> finalizing
//!   --(payout broadcast)--> finalized (vendor) | refunded (buyer)
//! ```

use crate::db::Cached as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::MarketError;
use super::accounts::User;
use super::orders::{self, OrderStatus, Party};
use super::shop::{parse_regtest_address, sat_to_db};

/// Longest dispute reason, in bytes.
pub const REASON_MAX: usize = 2_000;

/// Body of `POST /api/orders/{id}/dispute`.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenDispute {
    /// What went wrong, 1–2 000 bytes.
    pub reason: String,
    /// Where a refund goes (a `bcrt1…` address).
    pub refund_address: String,
}

/// Who the operator rules for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ruling {
    /// Release the escrow to the vendor.
    Vendor,
    /// Refund the escrow to the buyer.
    Buyer,
}

/// Body of `POST /operator/disputes/{id}/resolve`.
#[derive(Debug, Clone, Deserialize)]
pub struct Resolve {
    /// `vendor` or `buyer`.
    pub ruling: Ruling,
}

/// A dispute as its parties and the operator see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeView {
    /// Dispute id.
    pub id: i64,
    /// The order.
    pub order_id: i64,
    /// The listing's title.
    pub listing_title: String,
    /// Buyer's handle.
    pub buyer: String,
    /// Vendor's handle.
    pub vendor: String,
    /// The order's price in satoshis.
    pub amount_sat: u64,
    /// The buyer's reason.
    pub reason: String,
    /// Where a refund goes.
    pub refund_address: String,
    /// `open`, `released` (to the vendor) or `refunded` (to the buyer).
    pub status: String,
    /// When opened (simulated time, ISO-8601).
    pub opened: String,
    /// When ruled.
    pub resolved: Option<String>,
    /// The payout or refund transaction.
    pub outcome_txid: Option<String>,
}

/// Opens a dispute on a paid or shipped order; returns its id. 403 for anyone but the
/// buyer, 409 in any other state.
pub fn open(conn: &Connection, now: SimTime, user: &User, order_id: i64, req: &OpenDispute) -> Result<i64, MarketError> {
    if req.reason.trim().is_empty() || req.reason.len() > REASON_MAX {
        return Err(MarketError::BadInput(format!("reason must be 1-{REASON_MAX} bytes")));
    }
    let refund = parse_regtest_address(&req.refund_address)
        .map_err(|_| MarketError::BadInput("refund_address is not an address of this network".into()))?;
    let head = orders::order_head(conn, order_id)?;
    if orders::party(&head, user)? != Party::Buyer {
        return Err(MarketError::Forbidden("only the buyer opens a dispute"));
    }
    if !matches!(head.status, OrderStatus::Paid | OrderStatus::Shipped) {
        return Err(MarketError::Conflict(format!("cannot dispute an order that is {}", head.status.as_str())));
    }
    conn.cached_exec("UPDATE orders SET status = ?1 WHERE id = ?2", params![OrderStatus::Disputed.as_str(), order_id])?;
    conn.cached_exec(
        "INSERT INTO disputes (order_id, opened_by, reason, refund_address, status, opened) VALUES (?1, ?2, ?3, ?4, 'open', ?5)",
        params![order_id, user.id, req.reason, refund.to_string(), now.to_string()],
    )?;
    tracing::info!(order = order_id, "market: dispute opened");
    Ok(conn.last_insert_rowid())
}

/// What the market needs to carry out a ruling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulingClaim {
    /// The dispute.
    pub dispute_id: i64,
    /// Its order.
    pub order_id: i64,
    /// The order's escrow address.
    pub escrow_address: String,
    /// The order's price (the commission base).
    pub amount_sat: u64,
    /// Who is paid: the vendor's payout address or the buyer's refund address.
    pub to_address: String,
    /// The ruling.
    pub ruling: Ruling,
}

/// The operator starts carrying out a ruling: the order moves to `finalizing`. 403 for
/// anyone but the operator, 409 unless the dispute is open.
pub fn begin_ruling(conn: &Connection, user: &User, dispute_id: i64, ruling: Ruling) -> Result<RulingClaim, MarketError> {
    if !user.is_operator() {
        return Err(MarketError::Forbidden("only the operator rules on disputes"));
    }
    let row: Option<(i64, String, String)> = conn
        .query_row("SELECT order_id, refund_address, status FROM disputes WHERE id = ?1", params![dispute_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((order_id, refund_address, status)) = row else {
        return Err(MarketError::NotFound("dispute"));
    };
    if status != "open" {
        return Err(MarketError::Conflict(format!("dispute {dispute_id} is already {status}")));
    }
    let head = orders::order_head(conn, order_id)?;
    if head.status != OrderStatus::Disputed {
        return Err(MarketError::Conflict(format!("order {order_id} is {}", head.status.as_str())));
    }
    let to_address = match ruling {
        Ruling::Buyer => refund_address,
        Ruling::Vendor => {
            conn.cached_row("SELECT payout_address FROM vendors WHERE user_id = ?1", params![head.vendor_id], |r| r.get(0))?
        }
    };
    orders::claim(conn, &head)?;
    Ok(RulingClaim { dispute_id, order_id, escrow_address: head.escrow_address, amount_sat: head.amount_sat, to_address, ruling })
}

/// Records a carried-out ruling: the order is `finalized` or `refunded`, the dispute closed.
pub fn complete_ruling(
    conn: &Connection,
    now: SimTime,
    user: &User,
    claim: &RulingClaim,
    txid: &str,
    commission_sat: u64,
    fee_sat: u64,
) -> Result<(), MarketError> {
    let (order_status, dispute_status) = match claim.ruling {
        Ruling::Vendor => (OrderStatus::Finalized, "released"),
        Ruling::Buyer => (OrderStatus::Refunded, "refunded"),
    };
    conn.cached_exec(
        "UPDATE orders SET status = ?1, finalized_at = ?2, payout_txid = ?3, commission_sat = ?4, fee_sat = ?5 WHERE id = ?6",
        params![order_status.as_str(), now.to_string(), txid, sat_to_db(commission_sat)?, sat_to_db(fee_sat)?, claim.order_id],
    )?;
    conn.cached_exec(
        "UPDATE disputes SET status = ?1, resolved = ?2, resolved_by = ?3, outcome_txid = ?4 WHERE id = ?5",
        params![dispute_status, now.to_string(), user.id, txid, claim.dispute_id],
    )?;
    tracing::info!(dispute = claim.dispute_id, order = claim.order_id, ruling = ?claim.ruling, "market: dispute resolved");
    Ok(())
}

const VIEW_SQL: &str = "SELECT d.id, d.order_id, l.title, b.username, v.username, o.amount_sat, d.reason, d.refund_address,
        d.status, d.opened, d.resolved, d.outcome_txid
     FROM disputes d JOIN orders o ON o.id = d.order_id JOIN listings l ON l.id = o.listing_id
     JOIN users b ON b.id = o.buyer_id JOIN users v ON v.id = o.vendor_id";

fn view(r: &rusqlite::Row<'_>) -> rusqlite::Result<DisputeView> {
    Ok(DisputeView {
        id: r.get(0)?,
        order_id: r.get(1)?,
        listing_title: r.get(2)?,
        buyer: r.get(3)?,
        vendor: r.get(4)?,
        amount_sat: super::shop::sat_from_db(r.get(5)?),
        reason: r.get(6)?,
        refund_address: r.get(7)?,
        status: r.get(8)?,
        opened: r.get(9)?,
        resolved: r.get(10)?,
        outcome_txid: r.get(11)?,
    })
}

/// The disputes `user` may see: all of them for the operator, else those on the user's
/// orders (as buyer or vendor), by id.
pub fn list(conn: &Connection, user: &User) -> Result<Vec<DisputeView>, MarketError> {
    let rows = if user.is_operator() {
        let mut stmt = conn.prepare_cached(&format!("{VIEW_SQL} ORDER BY d.id"))?;
        stmt.query_map([], view)?.collect::<Result<Vec<_>, _>>()?
    } else {
        let mut stmt = conn.prepare_cached(&format!("{VIEW_SQL} WHERE o.buyer_id = ?1 OR o.vendor_id = ?1 ORDER BY d.id"))?;
        stmt.query_map(params![user.id], view)?.collect::<Result<Vec<_>, _>>()?
    };
    Ok(rows)
}
