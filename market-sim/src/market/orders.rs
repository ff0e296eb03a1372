//! Orders and feedback: the escrow order state machine.
//!
//! ```text
//! awaiting_payment --(escrow funded, confirmed)--> paid --(vendor ships)--> shipped
//!   --(buyer finalizes: payout built)--> finalizing --(payout broadcast)--> finalized
//! ```
//! `finalizing` is a short-lived claim that stops two finalize requests from paying out
//! twice; a failed broadcast returns the order to `shipped`. Every transition records its
//! simulated time. Feedback may be left once, by the buyer, after finalization.

use crate::db::Cached as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::MarketError;
use super::accounts::User;
use super::shop::{sat_from_db, sat_to_db};
use crate::chain::ObservedOutput;

/// Longest accepted shipping info, in bytes.
pub const SHIPPING_MAX: usize = 2_000;
/// Longest accepted feedback text, in bytes.
pub const FEEDBACK_MAX: usize = 2_000;
/// Most units in one order.
pub const QUANTITY_MAX: u32 = 10_000;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Waiting for the buyer's coins at the escrow address.
    AwaitingPayment,
    /// Escrow funded with enough confirmations.
    Paid,
    /// The vendor says it shipped.
    Shipped,
    /// The payout is being built and broadcast.
    Finalizing,
    /// Escrow released to the vendor.
    Finalized,
    /// The buyer opened a dispute; the operator rules.
    Disputed,
    /// The operator ruled for the buyer: escrow returned.
    Refunded,
}

impl OrderStatus {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Finalizing => "finalizing",
            OrderStatus::Finalized => "finalized",
            OrderStatus::Disputed => "disputed",
            OrderStatus::Refunded => "refunded",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "awaiting_payment" => OrderStatus::AwaitingPayment,
            "paid" => OrderStatus::Paid,
            "shipped" => OrderStatus::Shipped,
            "finalizing" => OrderStatus::Finalizing,
            "finalized" => OrderStatus::Finalized,
            "disputed" => OrderStatus::Disputed,
            "refunded" => OrderStatus::Refunded,
            _ => return None,
        })
    }
}

/// Body of `POST /api/orders`.
#[derive(Debug, Clone, Deserialize)]
pub struct PlaceOrder {
    /// The listing bought.
    pub listing_id: i64,
    /// Units, 1 ..= 10 000 and at most the stock.
    pub quantity: u32,
    /// Where to send it (free text, seen by the vendor).
    pub shipping_info: String,
}

/// Answer to `POST /api/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    /// The new order's id.
    pub order_id: i64,
    /// Where the buyer pays.
    pub escrow_address: String,
    /// How much, in satoshis.
    pub amount_sat: u64,
    /// Always `awaiting_payment`.
    pub status: OrderStatus,
}

/// Body of `POST /api/orders/{id}/feedback`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewFeedback {
    /// 1–5.
    pub rating: u8,
    /// Up to 2 000 bytes.
    #[serde(default)]
    pub text: String,
}

/// An order as its buyer and vendor see it (`GET /api/orders/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// Order id.
    pub id: i64,
    /// The listing bought.
    pub listing_id: i64,
    /// Its title.
    pub listing_title: String,
    /// The buyer's handle.
    pub buyer: String,
    /// The vendor's handle.
    pub vendor: String,
    /// Units.
    pub quantity: u32,
    /// Total price in satoshis.
    pub amount_sat: u64,
    /// Shipping information given by the buyer.
    pub shipping_info: String,
    /// The order's escrow address.
    pub escrow_address: String,
    /// Current status.
    pub status: OrderStatus,
    /// When ordered (simulated time, ISO-8601).
    pub created: String,
    /// When payment was seen confirmed.
    pub paid_at: Option<String>,
    /// Satoshis received at the escrow address (confirmed) when it was marked paid.
    pub paid_sat: Option<u64>,
    /// Funding transaction id(s), comma-separated if more than one.
    pub funding_txid: Option<String>,
    /// When the vendor shipped.
    pub shipped_at: Option<String>,
    /// The courier's tracking number the vendor gave when shipping, if any.
    #[serde(default)]
    pub tracking: Option<String>,
    /// When the buyer finalized.
    pub finalized_at: Option<String>,
    /// The escrow payout transaction id.
    pub payout_txid: Option<String>,
    /// The operator's commission taken.
    pub commission_sat: Option<u64>,
    /// The payout's network fee.
    pub fee_sat: Option<u64>,
    /// Whether the buyer released escrow before the goods were shipped.
    #[serde(default)]
    pub finalized_early: bool,
}

/// The parties and state of an order, for access checks and transitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderHead {
    /// Order id.
    pub id: i64,
    /// Buyer's user id.
    pub buyer_id: i64,
    /// Vendor's user id.
    pub vendor_id: i64,
    /// Current status.
    pub status: OrderStatus,
    /// Price in satoshis.
    pub amount_sat: u64,
    /// Escrow address.
    pub escrow_address: String,
}

/// Which side of an order a user is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The one who pays.
    Buyer,
    /// The one who ships.
    Vendor,
}

/// Places an order: checks the listing and stock, takes a fresh escrow address from
/// `next_escrow_address` (called only once the order is valid), decrements stock.
pub fn place_order(
    conn: &Connection,
    now: SimTime,
    buyer: &User,
    req: &PlaceOrder,
    next_escrow_address: impl FnOnce() -> Result<String, MarketError>,
) -> Result<OrderPlaced, MarketError> {
    if req.quantity == 0 || req.quantity > QUANTITY_MAX {
        return Err(MarketError::BadInput(format!("quantity must be 1-{QUANTITY_MAX}")));
    }
    if req.shipping_info.trim().is_empty() || req.shipping_info.len() > SHIPPING_MAX {
        return Err(MarketError::BadInput(format!("shipping_info must be 1-{SHIPPING_MAX} bytes")));
    }
    let listing: Option<(i64, i64, i64)> = conn
        .query_row("SELECT vendor_id, price_sat, stock FROM listings WHERE id = ?1", params![req.listing_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((vendor_id, price, stock)) = listing else {
        return Err(MarketError::NotFound("listing"));
    };
    if vendor_id == buyer.id {
        return Err(MarketError::Forbidden("vendors cannot buy their own listings"));
    }
    if i64::from(req.quantity) > stock {
        return Err(MarketError::Conflict(format!("only {stock} in stock")));
    }
    let unit = sat_from_db(price);
    let amount = unit
        .checked_mul(u64::from(req.quantity))
        .filter(|a| *a <= super::shop::MAX_SAT)
        .ok_or_else(|| MarketError::BadInput("order total too large".into()))?;
    let escrow_address = next_escrow_address()?;
    conn.cached_exec(
        "INSERT INTO orders (listing_id, buyer_id, vendor_id, quantity, unit_price_sat, amount_sat, shipping_info,
                             escrow_address, status, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            req.listing_id,
            buyer.id,
            vendor_id,
            req.quantity,
            price,
            sat_to_db(amount)?,
            req.shipping_info,
            escrow_address,
            OrderStatus::AwaitingPayment.as_str(),
            now.to_string()
        ],
    )?;
    let order_id = conn.last_insert_rowid();
    conn.cached_exec("UPDATE listings SET stock = stock - ?1 WHERE id = ?2", params![req.quantity, req.listing_id])?;
    tracing::info!(order = order_id, buyer = %buyer.username, listing = req.listing_id, amount_sat = amount, "market: order placed");
    Ok(OrderPlaced { order_id, escrow_address, amount_sat: amount, status: OrderStatus::AwaitingPayment })
}

/// The parties and state of order `id`; 404 if unknown.
pub fn order_head(conn: &Connection, id: i64) -> Result<OrderHead, MarketError> {
    let row: Option<(i64, i64, i64, String, i64, String)> = conn
        .query_row("SELECT id, buyer_id, vendor_id, status, amount_sat, escrow_address FROM orders WHERE id = ?1", params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    let Some((id, buyer_id, vendor_id, status, amount, escrow_address)) = row else {
        return Err(MarketError::NotFound("order"));
    };
    let status = OrderStatus::parse(&status).ok_or(MarketError::Conflict(format!("order {id} has an unknown status")))?;
    Ok(OrderHead { id, buyer_id, vendor_id, status, amount_sat: sat_from_db(amount), escrow_address })
}

/// Which party `user` is to the order; 403 if neither.
pub fn party(head: &OrderHead, user: &User) -> Result<Party, MarketError> {
    if head.buyer_id == user.id {
        Ok(Party::Buyer)
    } else if head.vendor_id == user.id {
        Ok(Party::Vendor)
    } else {
        Err(MarketError::Forbidden("not a party to this order"))
    }
}

/// The full view of order `id` (no access check: call [`party`] first).
pub fn order_view(conn: &Connection, id: i64) -> Result<OrderView, MarketError> {
    conn.cached_row(
        "SELECT o.id, o.listing_id, l.title, b.username, v.username, o.quantity, o.amount_sat, o.shipping_info,
                o.escrow_address, o.status, o.created, o.paid_at, o.paid_sat, o.funding_txid, o.shipped_at,
                o.finalized_at, o.payout_txid, o.commission_sat, o.fee_sat, o.finalized_early, o.tracking
         FROM orders o JOIN listings l ON l.id = o.listing_id JOIN users b ON b.id = o.buyer_id
         JOIN users v ON v.id = o.vendor_id WHERE o.id = ?1",
        params![id],
        |r| {
            let status: String = r.get(9)?;
            Ok(OrderView {
                id: r.get(0)?,
                listing_id: r.get(1)?,
                listing_title: r.get(2)?,
                buyer: r.get(3)?,
                vendor: r.get(4)?,
                quantity: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
                amount_sat: sat_from_db(r.get(6)?),
                shipping_info: r.get(7)?,
                escrow_address: r.get(8)?,
                status: OrderStatus::parse(&status).unwrap_or(OrderStatus::AwaitingPayment),
                created: r.get(10)?,
                paid_at: r.get(11)?,
                paid_sat: r.get::<_, Option<i64>>(12)?.map(sat_from_db),
                funding_txid: r.get(13)?,
                shipped_at: r.get(14)?,
                finalized_at: r.get(15)?,
                payout_txid: r.get(16)?,
                commission_sat: r.get::<_, Option<i64>>(17)?.map(sat_from_db),
                fee_sat: r.get::<_, Option<i64>>(18)?.map(sat_from_db),
                finalized_early: r.get(19)?,
                tracking: r.get(20)?,
            })
        },
    )
    .optional()?
    .ok_or(MarketError::NotFound("order"))
}

/// Ids of the orders sold by `vendor_id`, by id.
pub fn vendor_order_ids(conn: &Connection, vendor_id: i64) -> Result<Vec<i64>, MarketError> {
    let mut stmt = conn.prepare_cached("SELECT id FROM orders WHERE vendor_id = ?1 ORDER BY id")?;
    let ids = stmt.query_map(params![vendor_id], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// Ids of the orders sold by `vendor_id` with status `status`, by id (one indexed query,
/// so a vendor with a long history lists today's work without reading all of it).
pub fn vendor_order_ids_in(conn: &Connection, vendor_id: i64, status: OrderStatus) -> Result<Vec<i64>, MarketError> {
    let mut stmt = conn.prepare_cached("SELECT id FROM orders WHERE vendor_id = ?1 AND status = ?2 ORDER BY id")?;
    let ids = stmt.query_map(params![vendor_id, status.as_str()], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// Every order whose escrow still holds the buyer's coins (paid, shipped or disputed):
/// (id, escrow address), by id.
pub fn open_escrows(conn: &Connection) -> Result<Vec<(i64, String)>, MarketError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, escrow_address FROM orders WHERE status IN ('paid', 'shipped', 'disputed') ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<(i64, String)>, _>>()?;
    Ok(rows)
}

/// Ids of the orders bought by `buyer_id`, by id.
pub fn buyer_order_ids(conn: &Connection, buyer_id: i64) -> Result<Vec<i64>, MarketError> {
    let mut stmt = conn.prepare_cached("SELECT id FROM orders WHERE buyer_id = ?1 ORDER BY id")?;
    let ids = stmt.query_map(params![buyer_id], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// Applies what the chain shows at the escrow address: an `awaiting_payment` order whose
/// outputs with at least `min_confirmations` sum to its amount becomes `paid`. Returns
/// whether it changed. Idempotent; any other status is left alone.
pub fn apply_payment(
    conn: &Connection,
    now: SimTime,
    order_id: i64,
    outputs: &[ObservedOutput],
    min_confirmations: u32,
) -> Result<bool, MarketError> {
    let head = order_head(conn, order_id)?;
    if head.status != OrderStatus::AwaitingPayment {
        return Ok(false);
    }
    let mut confirmed: Vec<&ObservedOutput> = outputs.iter().filter(|o| o.confirmations >= min_confirmations.max(1)).collect();
    // Earliest first, then by outpoint: a stable order for the recorded txids.
    confirmed.sort_by(|a, b| b.confirmations.cmp(&a.confirmations).then(a.txid.cmp(&b.txid)).then(a.vout.cmp(&b.vout)));
    let received = confirmed.iter().fold(0u64, |acc, o| acc.saturating_add(o.value_sat));
    if received < head.amount_sat {
        return Ok(false);
    }
    let mut txids: Vec<&str> = Vec::new();
    for o in &confirmed {
        if !txids.contains(&o.txid.as_str()) {
            txids.push(&o.txid);
        }
    }
    let changed = conn.cached_exec(
        "UPDATE orders SET status = ?1, paid_at = ?2, paid_sat = ?3, funding_txid = ?4 WHERE id = ?5 AND status = ?6",
        params![
            OrderStatus::Paid.as_str(),
            now.to_string(),
            sat_to_db(received)?,
            txids.join(","),
            order_id,
            OrderStatus::AwaitingPayment.as_str()
        ],
    )?;
    if changed > 0 {
        tracing::info!(order = order_id, received_sat = received, "market: escrow funded, order paid");
    }
    Ok(changed > 0)
}

fn conflict(head: &OrderHead, action: &str) -> MarketError {
    MarketError::Conflict(format!("cannot {action} an order that is {}", head.status.as_str()))
}

/// Body of `POST /api/orders/{id}/ship` (optional): the courier's tracking number.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Shipment {
    /// 4–40 characters of `[A-Za-z0-9-]`, e.g. `CP123456789NL`; empty or absent: none.
    #[serde(default)]
    pub tracking: Option<String>,
}

impl Shipment {
    /// The tracking number, checked and upper-cased; none when not given.
    pub fn tracking(&self) -> Result<Option<String>, MarketError> {
        let Some(t) = self.tracking.as_deref().map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
        if !(4..=40).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(MarketError::BadInput("tracking must be 4-40 letters, digits or '-'".into()));
        }
        Ok(Some(t.to_ascii_uppercase()))
    }
}

/// The vendor marks a paid order shipped, with the courier's tracking number if given. 403
/// for anyone else, 409 unless `paid`.
pub fn ship(conn: &Connection, now: SimTime, user: &User, order_id: i64, shipment: &Shipment) -> Result<(), MarketError> {
    let tracking = shipment.tracking()?;
    let head = order_head(conn, order_id)?;
    if party(&head, user)? != Party::Vendor {
        return Err(MarketError::Forbidden("only the vendor ships"));
    }
    if head.status != OrderStatus::Paid {
        return Err(conflict(&head, "ship"));
    }
    conn.cached_exec(
        "UPDATE orders SET status = ?1, shipped_at = ?2, tracking = ?3 WHERE id = ?4",
        params![OrderStatus::Shipped.as_str(), now.to_string(), tracking, order_id],
    )?;
    tracing::info!(order = order_id, vendor = %user.username, "market: order shipped");
    Ok(())
}

/// What the market needs to pay out an order's escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalizeClaim {
    /// Order id.
    pub order_id: i64,
    /// The order's escrow address.
    pub escrow_address: String,
    /// The order's price (the commission base).
    pub amount_sat: u64,
    /// The vendor's payout address.
    pub vendor_payout_address: String,
}

/// The buyer starts finalizing a shipped order — or a paid one whose listing allows
/// finalize-early (FE): it moves to `finalizing` so no second request can pay out too.
/// 403 for anyone else, 409 otherwise.
pub fn begin_finalize(conn: &Connection, user: &User, order_id: i64) -> Result<FinalizeClaim, MarketError> {
    let head = order_head(conn, order_id)?;
    if party(&head, user)? != Party::Buyer {
        return Err(MarketError::Forbidden("only the buyer finalizes"));
    }
    let early = match head.status {
        OrderStatus::Shipped => false,
        OrderStatus::Paid => {
            let fe: bool = conn.cached_row(
                "SELECT l.finalize_early FROM orders o JOIN listings l ON l.id = o.listing_id WHERE o.id = ?1",
                params![order_id],
                |r| r.get(0),
            )?;
            if !fe {
                return Err(MarketError::Conflict("this listing does not allow finalize-early; wait until it ships".into()));
            }
            true
        }
        _ => return Err(conflict(&head, "finalize")),
    };
    let vendor_payout_address: String =
        conn.cached_row("SELECT payout_address FROM vendors WHERE user_id = ?1", params![head.vendor_id], |r| r.get(0))?;
    claim(conn, &head)?;
    if early {
        conn.cached_exec("UPDATE orders SET finalized_early = 1 WHERE id = ?1", params![order_id])?;
    }
    Ok(FinalizeClaim { order_id, escrow_address: head.escrow_address, amount_sat: head.amount_sat, vendor_payout_address })
}

/// Moves an order to `finalizing`, remembering where it was (see [`abort_finalize`]).
/// 409 if another request claimed it first.
pub(crate) fn claim(conn: &Connection, head: &OrderHead) -> Result<(), MarketError> {
    let n = conn.cached_exec(
        "UPDATE orders SET status = ?1, prev_status = ?2 WHERE id = ?3 AND status = ?2",
        params![OrderStatus::Finalizing.as_str(), head.status.as_str(), head.id],
    )?;
    if n == 0 {
        return Err(conflict(head, "pay out"));
    }
    Ok(())
}

/// Records a broadcast payout: the order is `finalized`.
pub fn complete_finalize(
    conn: &Connection,
    now: SimTime,
    order_id: i64,
    payout_txid: &str,
    commission_sat: u64,
    fee_sat: u64,
) -> Result<(), MarketError> {
    conn.cached_exec(
        "UPDATE orders SET status = ?1, finalized_at = ?2, payout_txid = ?3, commission_sat = ?4, fee_sat = ?5
         WHERE id = ?6",
        params![OrderStatus::Finalized.as_str(), now.to_string(), payout_txid, sat_to_db(commission_sat)?, sat_to_db(fee_sat)?, order_id],
    )?;
    tracing::info!(order = order_id, payout_txid, commission_sat, fee_sat, "market: order finalized, escrow released");
    Ok(())
}

/// Gives up a payout that could not be broadcast: back to where the order was.
pub fn abort_finalize(conn: &Connection, order_id: i64) -> Result<(), MarketError> {
    conn.cached_exec(
        "UPDATE orders SET status = COALESCE(prev_status, ?1), finalized_early = 0 WHERE id = ?2 AND status = ?3",
        params![OrderStatus::Shipped.as_str(), order_id, OrderStatus::Finalizing.as_str()],
    )?;
    Ok(())
}

/// The buyer leaves feedback on a finalized order, once. Returns its id.
pub fn leave_feedback(conn: &Connection, now: SimTime, user: &User, order_id: i64, req: &NewFeedback) -> Result<i64, MarketError> {
    let head = order_head(conn, order_id)?;
    if party(&head, user)? != Party::Buyer {
        return Err(MarketError::Forbidden("only the buyer leaves feedback"));
    }
    if !(1..=5).contains(&req.rating) {
        return Err(MarketError::BadInput("rating must be 1-5".into()));
    }
    if req.text.len() > FEEDBACK_MAX {
        return Err(MarketError::BadInput(format!("text must be at most {FEEDBACK_MAX} bytes")));
    }
    if head.status != OrderStatus::Finalized {
        return Err(conflict(&head, "leave feedback on"));
    }
    let existing: Option<i64> =
        conn.cached_row("SELECT id FROM feedback WHERE order_id = ?1", params![order_id], |r| r.get(0)).optional()?;
    if existing.is_some() {
        return Err(MarketError::Conflict("feedback already left for this order".into()));
    }
    conn.cached_exec(
        "INSERT INTO feedback (order_id, vendor_id, buyer_id, rating, text, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![order_id, head.vendor_id, head.buyer_id, req.rating, req.text, now.to_string()],
    )?;
    tracing::info!(order = order_id, rating = req.rating, "market: feedback left");
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::accounts::tests::db;
    use crate::market::accounts::{Credentials, authenticate, register};
    use crate::market::shop::{NewListing, OpenShop, create_listing, open_shop, vendor_profile};

    fn user(conn: &Connection, name: &str) -> User {
        let mut rng = sim_core::rng::stream(1, name);
        let tok = register(
            conn,
            &mut rng,
            SimTime(10),
            &Credentials { username: name.into(), password: "pw".into(), captcha_id: None, captcha_answer: None },
            false,
        )
        .unwrap();
        authenticate(conn, Some(&tok)).unwrap()
    }

    fn setup() -> (Connection, User, User, User, i64) {
        let conn = db();
        let v = user(&conn, "vendor");
        let b = user(&conn, "buyer");
        let other = user(&conn, "other");
        let addr = coin_sim::Wallet::from_seed([5; 32]).new_address().to_string();
        open_shop(&conn, SimTime(20), &v, &OpenShop { bio: "b".into(), pgp_key: None, payout_address: addr }).unwrap();
        let l = create_listing(
            &conn,
            SimTime(30),
            &v,
            &NewListing {
                title: "Thing".into(),
                category: "Misc".into(),
                description: String::new(),
                price_sat: 50_000,
                ships_from: "NL".into(),
                ships_to: "EU".into(),
                stock: 3,
                finalize_early: false,
                photo: None,
            },
        )
        .unwrap();
        (conn, v, b, other, l)
    }

    fn out(txid: &str, v: u64, conf: u32) -> ObservedOutput {
        ObservedOutput { txid: txid.into(), vout: 0, value_sat: v, confirmations: conf }
    }

    #[test]
    fn full_lifecycle() {
        let (conn, v, b, other, l) = setup();
        let req = PlaceOrder { listing_id: l, quantity: 2, shipping_info: "1 Main St".into() };
        let placed = place_order(&conn, SimTime(40), &b, &req, || Ok("escrow1".into())).unwrap();
        assert_eq!(placed.amount_sat, 100_000);
        assert_eq!(placed.status, OrderStatus::AwaitingPayment);
        let id = placed.order_id;
        // Stock went down; over-ordering is refused.
        let too_many = PlaceOrder { listing_id: l, quantity: 2, shipping_info: "x".into() };
        assert!(matches!(place_order(&conn, SimTime(41), &b, &too_many, || Ok("e2".into())), Err(MarketError::Conflict(_))));
        // Parties.
        let head = order_head(&conn, id).unwrap();
        assert_eq!(party(&head, &b).unwrap(), Party::Buyer);
        assert_eq!(party(&head, &v).unwrap(), Party::Vendor);
        assert!(matches!(party(&head, &other), Err(MarketError::Forbidden(_))));
        // Shipping before payment is a conflict.
        assert!(matches!(ship(&conn, SimTime(50), &v, id, &Shipment::default()), Err(MarketError::Conflict(_))));
        // Unconfirmed or short payments do not count.
        assert!(!apply_payment(&conn, SimTime(60), id, &[out("aa", 100_000, 0)], 1).unwrap());
        assert!(!apply_payment(&conn, SimTime(60), id, &[out("aa", 99_999, 3)], 1).unwrap());
        assert!(apply_payment(&conn, SimTime(70), id, &[out("bb", 60_000, 1), out("aa", 40_000, 2)], 1).unwrap());
        assert!(!apply_payment(&conn, SimTime(80), id, &[out("bb", 60_000, 1)], 1).unwrap());
        let view = order_view(&conn, id).unwrap();
        assert_eq!(view.status, OrderStatus::Paid);
        assert_eq!(view.funding_txid.as_deref(), Some("aa,bb"));
        assert_eq!(view.paid_at.as_deref(), Some("1970-01-01T00:01:10Z"));
        // Only the vendor ships; only the buyer finalizes.
        assert!(matches!(ship(&conn, SimTime(90), &b, id, &Shipment::default()), Err(MarketError::Forbidden(_))));
        assert!(matches!(begin_finalize(&conn, &b, id), Err(MarketError::Conflict(_))));
        ship(&conn, SimTime(90), &v, id, &Shipment::default()).unwrap();
        assert!(matches!(begin_finalize(&conn, &v, id), Err(MarketError::Forbidden(_))));
        let claim = begin_finalize(&conn, &b, id).unwrap();
        assert_eq!(claim.escrow_address, "escrow1");
        assert!(matches!(begin_finalize(&conn, &b, id), Err(MarketError::Conflict(_))));
        abort_finalize(&conn, id).unwrap();
        begin_finalize(&conn, &b, id).unwrap();
        complete_finalize(&conn, SimTime(100), id, "payout", 2_500, 300).unwrap();
        // Feedback once, from the buyer.
        let fb = NewFeedback { rating: 5, text: "fast".into() };
        assert!(matches!(leave_feedback(&conn, SimTime(110), &v, id, &fb), Err(MarketError::Forbidden(_))));
        assert!(matches!(
            leave_feedback(&conn, SimTime(110), &b, id, &NewFeedback { rating: 6, text: String::new() }),
            Err(MarketError::BadInput(_))
        ));
        leave_feedback(&conn, SimTime(110), &b, id, &fb).unwrap();
        assert!(matches!(leave_feedback(&conn, SimTime(111), &b, id, &fb), Err(MarketError::Conflict(_))));
        let p = vendor_profile(&conn, "vendor").unwrap();
        assert_eq!(p.sales, 1);
        assert_eq!(p.feedback[0].created, "1970-01-01T00:01:50Z");
        assert_eq!(p.feedback[0].buyer, "b***r");
        assert_eq!(p.listings[0].stock, 1);
    }

    #[test]
    fn bad_orders() {
        let (conn, v, b, _, l) = setup();
        let mk = |listing_id, quantity, info: &str| PlaceOrder { listing_id, quantity, shipping_info: info.into() };
        assert!(matches!(place_order(&conn, SimTime(1), &b, &mk(l, 0, "x"), || Ok("e".into())), Err(MarketError::BadInput(_))));
        assert!(matches!(place_order(&conn, SimTime(1), &b, &mk(l, 1, " "), || Ok("e".into())), Err(MarketError::BadInput(_))));
        assert!(matches!(place_order(&conn, SimTime(1), &b, &mk(99, 1, "x"), || Ok("e".into())), Err(MarketError::NotFound(_))));
        assert!(matches!(place_order(&conn, SimTime(1), &v, &mk(l, 1, "x"), || Ok("e".into())), Err(MarketError::Forbidden(_))));
        assert!(matches!(order_head(&conn, 42), Err(MarketError::NotFound(_))));
    }
}
