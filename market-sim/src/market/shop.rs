//! Vendor shops, listings and the public vendor profile.
//!
//! A vendor's bio is free text the vendor writes; it is shown verbatim (careless vendors
//! leave contact details or a direct-deal address in it, which trainees capture).

use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::MarketError;
use super::accounts::User;

/// Longest accepted bio, in bytes.
pub const BIO_MAX: usize = 10_000;
/// Longest accepted PGP key block, in bytes.
pub const PGP_MAX: usize = 20_000;
/// Longest accepted listing description, in bytes.
pub const DESCRIPTION_MAX: usize = 10_000;
/// Largest accepted price: the coin's 21 million cap, in satoshis.
pub const MAX_SAT: u64 = 21_000_000 * 100_000_000;

/// Body of `POST /api/vendor/shop`.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenShop {
    /// Free text shown on the vendor profile.
    pub bio: String,
    /// An ASCII-armoured OpenPGP public key, if the vendor publishes one.
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// Regtest address (`bcrt1…`) that receives escrow payouts.
    pub payout_address: String,
}

/// Body of `POST /api/listings`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewListing {
    /// 1–200 bytes.
    pub title: String,
    /// 1–64 bytes, e.g. "Drugs/Stimulants".
    pub category: String,
    /// Up to 10 000 bytes.
    #[serde(default)]
    pub description: String,
    /// Price per unit in satoshis, 1 ..= 21e14.
    pub price_sat: u64,
    /// Origin country or region, 1–64 bytes.
    pub ships_from: String,
    /// Destination(s), 1–64 bytes.
    pub ships_to: String,
    /// Units available.
    pub stock: u32,
}

/// A listing as shown in the public index (`GET /api/listings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingSummary {
    /// Listing id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// The vendor's handle.
    pub vendor: String,
    /// Category.
    pub category: String,
    /// Price per unit in satoshis.
    pub price_sat: u64,
    /// Shipping origin.
    pub ships_from: String,
    /// Shipping destinations.
    pub ships_to: String,
    /// Units left.
    pub stock: u32,
}

/// A listing in full (`GET /api/listings/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingDetail {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: ListingSummary,
    /// Description text.
    pub description: String,
    /// When it was listed (simulated time, ISO-8601).
    pub created: String,
}

/// One feedback entry on a vendor profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackEntry {
    /// The order it rates.
    pub order_id: i64,
    /// The listing bought.
    pub listing_title: String,
    /// The buyer's handle, masked like real markets do ("b***r").
    pub buyer: String,
    /// 1–5.
    pub rating: u8,
    /// Free text.
    pub text: String,
    /// When it was left (simulated time, ISO-8601).
    pub created: String,
}

/// The public vendor profile (`GET /api/vendors/{handle}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorProfile {
    /// The vendor's handle.
    pub handle: String,
    /// When the account was registered (simulated time, ISO-8601).
    pub joined: String,
    /// When the shop was opened (simulated time, ISO-8601).
    pub shop_opened: String,
    /// Free text written by the vendor, verbatim.
    pub bio: String,
    /// The vendor's OpenPGP public key, if published.
    pub pgp_key: Option<String>,
    /// The vendor's listings, by id.
    pub listings: Vec<ListingSummary>,
    /// Number of finalized orders.
    pub sales: u64,
    /// Feedback, oldest first.
    pub feedback: Vec<FeedbackEntry>,
}

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), MarketError> {
    let len = value.trim().len();
    if len < min || value.len() > max {
        return Err(MarketError::BadInput(format!("{field} must be {min}-{max} bytes")));
    }
    Ok(())
}

/// Parses a payout address and requires it to be a regtest (`bcrt1…`) address.
pub fn parse_regtest_address(s: &str) -> Result<bitcoin::Address, MarketError> {
    let unchecked =
        bitcoin::Address::from_str(s.trim()).map_err(|_| MarketError::BadInput("payout_address is not a valid address".into()))?;
    unchecked
        .require_network(bitcoin::Network::Regtest)
        .map_err(|_| MarketError::BadInput("payout_address is not an address of this network".into()))
}

/// Opens a shop for `user`. 400 for a bad address or oversize text; 409 if already open.
pub fn open_shop(conn: &Connection, now: SimTime, user: &User, req: &OpenShop) -> Result<(), MarketError> {
    if req.bio.len() > BIO_MAX {
        return Err(MarketError::BadInput(format!("bio must be at most {BIO_MAX} bytes")));
    }
    if req.pgp_key.as_ref().is_some_and(|k| k.len() > PGP_MAX) {
        return Err(MarketError::BadInput(format!("pgp_key must be at most {PGP_MAX} bytes")));
    }
    let address = parse_regtest_address(&req.payout_address)?;
    if is_vendor(conn, user.id)? {
        return Err(MarketError::Conflict("shop already open".into()));
    }
    let pgp = req.pgp_key.as_ref().filter(|k| !k.trim().is_empty());
    conn.execute(
        "INSERT INTO vendors (user_id, bio, pgp_key, payout_address, opened) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![user.id, req.bio, pgp, address.to_string(), now.to_string()],
    )?;
    tracing::info!(vendor = %user.username, "market: shop opened");
    Ok(())
}

/// Whether `user_id` has opened a shop.
pub fn is_vendor(conn: &Connection, user_id: i64) -> Result<bool, MarketError> {
    let found: Option<i64> = conn.query_row("SELECT user_id FROM vendors WHERE user_id = ?1", params![user_id], |r| r.get(0)).optional()?;
    Ok(found.is_some())
}

/// Creates a listing for a vendor; returns its id. 403 if `user` has no shop.
pub fn create_listing(conn: &Connection, now: SimTime, user: &User, req: &NewListing) -> Result<i64, MarketError> {
    if !is_vendor(conn, user.id)? {
        return Err(MarketError::Forbidden("only vendors may create listings; open a shop first"));
    }
    check_len("title", &req.title, 1, 200)?;
    check_len("category", &req.category, 1, 64)?;
    check_len("description", &req.description, 0, DESCRIPTION_MAX)?;
    check_len("ships_from", &req.ships_from, 1, 64)?;
    check_len("ships_to", &req.ships_to, 1, 64)?;
    if req.price_sat == 0 || req.price_sat > MAX_SAT {
        return Err(MarketError::BadInput("price_sat must be between 1 and 2100000000000000".into()));
    }
    conn.execute(
        "INSERT INTO listings (vendor_id, title, category, description, price_sat, ships_from, ships_to, stock, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            user.id,
            req.title,
            req.category,
            req.description,
            sat_to_db(req.price_sat)?,
            req.ships_from,
            req.ships_to,
            req.stock,
            now.to_string()
        ],
    )?;
    let id = conn.last_insert_rowid();
    tracing::info!(vendor = %user.username, listing = id, "market: listing created");
    Ok(id)
}

/// Converts satoshis to SQLite's signed integer.
pub(crate) fn sat_to_db(v: u64) -> Result<i64, MarketError> {
    i64::try_from(v).map_err(|_| MarketError::BadInput("amount out of range".into()))
}

/// Reads a satoshi amount back (negative values never get written; read them as 0).
pub(crate) fn sat_from_db(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

const SUMMARY_SQL: &str = "SELECT l.id, l.title, u.username, l.category, l.price_sat, l.ships_from, l.ships_to, l.stock,
        l.description, l.created
     FROM listings l JOIN users u ON u.id = l.vendor_id";

fn detail_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<ListingDetail> {
    Ok(ListingDetail {
        summary: ListingSummary {
            id: r.get(0)?,
            title: r.get(1)?,
            vendor: r.get(2)?,
            category: r.get(3)?,
            price_sat: sat_from_db(r.get(4)?),
            ships_from: r.get(5)?,
            ships_to: r.get(6)?,
            stock: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
        },
        description: r.get(8)?,
        created: r.get(9)?,
    })
}

/// Every listing, by id (the public index).
pub fn list_listings(conn: &Connection) -> Result<Vec<ListingSummary>, MarketError> {
    let mut stmt = conn.prepare(&format!("{SUMMARY_SQL} ORDER BY l.id"))?;
    let rows = stmt.query_map([], detail_of)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?.summary);
    }
    Ok(out)
}

/// One listing in full; 404 if unknown.
pub fn get_listing(conn: &Connection, id: i64) -> Result<ListingDetail, MarketError> {
    conn.query_row(&format!("{SUMMARY_SQL} WHERE l.id = ?1"), params![id], detail_of).optional()?.ok_or(MarketError::NotFound("listing"))
}

/// Masks a handle as markets do on feedback: first and last character kept.
pub fn mask_handle(handle: &str) -> String {
    let chars: Vec<char> = handle.chars().collect();
    match (chars.first(), chars.last()) {
        (Some(f), Some(l)) if chars.len() > 2 => format!("{f}***{l}"),
        _ => "***".to_string(),
    }
}

/// The public profile of vendor `handle`; 404 if there is no such vendor.
pub fn vendor_profile(conn: &Connection, handle: &str) -> Result<VendorProfile, MarketError> {
    let head: Option<(i64, String, String, String, Option<String>)> = conn
        .query_row(
            "SELECT u.id, u.created, v.opened, v.bio, v.pgp_key FROM users u JOIN vendors v ON v.user_id = u.id
             WHERE u.username = ?1",
            params![handle],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((vendor_id, joined, shop_opened, bio, pgp_key)) = head else {
        return Err(MarketError::NotFound("vendor"));
    };
    let mut listings = Vec::new();
    {
        let mut stmt = conn.prepare(&format!("{SUMMARY_SQL} WHERE l.vendor_id = ?1 ORDER BY l.id"))?;
        for r in stmt.query_map(params![vendor_id], detail_of)? {
            listings.push(r?.summary);
        }
    }
    let sales: i64 =
        conn.query_row("SELECT COUNT(*) FROM orders WHERE vendor_id = ?1 AND status = 'finalized'", params![vendor_id], |r| r.get(0))?;
    let mut feedback = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT f.order_id, l.title, u.username, f.rating, f.text, f.created
             FROM feedback f JOIN orders o ON o.id = f.order_id JOIN listings l ON l.id = o.listing_id
             JOIN users u ON u.id = f.buyer_id
             WHERE f.vendor_id = ?1 ORDER BY f.id",
        )?;
        let rows = stmt.query_map(params![vendor_id], |r| {
            Ok(FeedbackEntry {
                order_id: r.get(0)?,
                listing_title: r.get(1)?,
                buyer: mask_handle(&r.get::<_, String>(2)?),
                rating: u8::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                text: r.get(4)?,
                created: r.get(5)?,
            })
        })?;
        for r in rows {
            feedback.push(r?);
        }
    }
    Ok(VendorProfile {
        handle: handle.to_string(),
        joined,
        shop_opened,
        bio,
        pgp_key,
        listings,
        sales: u64::try_from(sales).unwrap_or(0),
        feedback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::accounts::tests::db;
    use crate::market::accounts::{Credentials, authenticate, register};

    pub(crate) fn addr() -> String {
        coin_sim::Wallet::from_seed([5; 32]).new_address().to_string()
    }

    fn user(conn: &Connection, name: &str) -> User {
        let mut rng = sim_core::rng::stream(1, name);
        let tok = register(conn, &mut rng, SimTime(10), &Credentials { username: name.into(), password: "pw".into() }).unwrap();
        authenticate(conn, Some(&tok)).unwrap()
    }

    fn listing() -> NewListing {
        NewListing {
            title: "Widgets".into(),
            category: "Misc".into(),
            description: "good".into(),
            price_sat: 100_000,
            ships_from: "NL".into(),
            ships_to: "EU".into(),
            stock: 5,
        }
    }

    #[test]
    fn shop_and_listings() {
        let conn = db();
        let v = user(&conn, "vendor1");
        assert!(matches!(create_listing(&conn, SimTime(20), &v, &listing()), Err(MarketError::Forbidden(_))));
        let bad = OpenShop { bio: "hi".into(), pgp_key: None, payout_address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT".into() };
        assert!(matches!(open_shop(&conn, SimTime(20), &v, &bad), Err(MarketError::BadInput(_))));
        let good = OpenShop {
            bio: "direct deals: bcrt1q...".into(),
            pgp_key: Some("-----BEGIN PGP PUBLIC KEY BLOCK-----".into()),
            payout_address: addr(),
        };
        open_shop(&conn, SimTime(20), &v, &good).unwrap();
        assert!(matches!(open_shop(&conn, SimTime(20), &v, &good), Err(MarketError::Conflict(_))));
        let id = create_listing(&conn, SimTime(30), &v, &listing()).unwrap();
        let mut zero = listing();
        zero.price_sat = 0;
        assert!(matches!(create_listing(&conn, SimTime(30), &v, &zero), Err(MarketError::BadInput(_))));
        let all = list_listings(&conn).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].vendor, "vendor1");
        assert_eq!(get_listing(&conn, id).unwrap().created, "1970-01-01T00:00:30Z");
        assert!(matches!(get_listing(&conn, 99), Err(MarketError::NotFound(_))));
        let p = vendor_profile(&conn, "vendor1").unwrap();
        assert_eq!(p.joined, "1970-01-01T00:00:10Z");
        assert_eq!(p.bio, "direct deals: bcrt1q...");
        assert_eq!(p.listings.len(), 1);
        assert!(matches!(vendor_profile(&conn, "nobody"), Err(MarketError::NotFound(_))));
    }

    #[test]
    fn masking() {
        assert_eq!(mask_handle("buyer"), "b***r");
        assert_eq!(mask_handle("ab"), "***");
    }
}
