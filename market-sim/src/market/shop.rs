//! Vendor shops, listings and the public vendor profile.
//!
//! A vendor's bio is free text the vendor writes; it is shown verbatim (careless vendors
//! leave contact details or a direct-deal address in it, which trainees capture).

use crate::db::Cached as _;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
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
    /// Whether buyers may release escrow before the goods ship (finalize-early).
    #[serde(default)]
    pub finalize_early: bool,
    /// A photo for the market to draw (with the EXIF block given), if any.
    #[serde(default)]
    pub photo: Option<PhotoSpec>,
}

/// A photo the market draws for a listing (`photo` in `POST /api/listings`); uploading
/// real bytes is `POST /api/listings/{id}/photo`.
#[derive(Debug, Clone, Deserialize)]
pub struct PhotoSpec {
    /// 64 hex characters seeding the picture; drawn from the market's RNG if absent.
    #[serde(default)]
    pub seed: Option<String>,
    /// Width in pixels (default 480).
    #[serde(default)]
    pub width: Option<u16>,
    /// Height in pixels (default 360).
    #[serde(default)]
    pub height: Option<u16>,
    /// The camera metadata to embed; no EXIF block if absent.
    #[serde(default)]
    pub exif: Option<super::photo::PhotoExif>,
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
    /// Whether finalize-early is allowed.
    #[serde(default)]
    pub finalize_early: bool,
    /// Where its photo is served, if it has one.
    #[serde(default)]
    pub photo_url: Option<String>,
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
    /// The key's fingerprint and user IDs, if it is a valid OpenPGP key.
    #[serde(default)]
    pub pgp: Option<super::pgp::KeySummary>,
    /// Whether the operator banned this vendor.
    #[serde(default)]
    pub banned: bool,
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
    open_shop_with_bond(conn, now, user, req, || Ok(None))
}

/// Opens a shop; `bond` (called once the request is valid) gives the bond to pay and its
/// address when the market asks one.
pub fn open_shop_with_bond(
    conn: &Connection,
    now: SimTime,
    user: &User,
    req: &OpenShop,
    bond: impl FnOnce() -> Result<Option<(u64, String)>, MarketError>,
) -> Result<(), MarketError> {
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
    // A key that does not parse is still shown (as text); only a real one gets a summary.
    let summary = pgp.and_then(|k| super::pgp::summarize(k).ok());
    let uids = summary.as_ref().map(|s| serde_json::to_string(&s.user_ids).unwrap_or_default());
    let (bond_sat, bond_address) = bond()?.map_or((0, None), |(sat, a)| (sat, Some(a)));
    conn.cached_exec(
        "INSERT INTO vendors (user_id, bio, pgp_key, payout_address, opened, bond_sat, bond_address, pgp_fingerprint, pgp_user_ids)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            user.id,
            req.bio,
            pgp,
            address.to_string(),
            now.to_string(),
            sat_to_db(bond_sat)?,
            bond_address,
            summary.as_ref().map(|s| s.fingerprint.clone()),
            uids
        ],
    )?;
    tracing::info!(vendor = %user.username, "market: shop opened");
    Ok(())
}

/// Whether `user_id` has opened a shop.
pub fn is_vendor(conn: &Connection, user_id: i64) -> Result<bool, MarketError> {
    let found: Option<i64> =
        conn.cached_row("SELECT user_id FROM vendors WHERE user_id = ?1", params![user_id], |r| r.get(0)).optional()?;
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
    if let Some(b) = bond(conn, user.id)?
        && b.paid_at.is_none()
    {
        return Err(MarketError::Conflict(format!(
            "vendor bond not paid: send {} sat to {} and wait for a confirmation",
            b.bond_sat, b.address
        )));
    }
    conn.cached_exec(
        "INSERT INTO listings (vendor_id, title, category, description, price_sat, ships_from, ships_to, stock, created,
                               finalize_early)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            user.id,
            req.title,
            req.category,
            req.description,
            sat_to_db(req.price_sat)?,
            req.ships_from,
            req.ships_to,
            req.stock,
            now.to_string(),
            req.finalize_early
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

/// A vendor's bond: how much, where, and when it was seen paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bond {
    /// The bond in satoshis.
    pub bond_sat: u64,
    /// Where to pay it.
    pub address: String,
    /// When it was seen confirmed (simulated time), if it was.
    pub paid_at: Option<String>,
}

/// The bond `vendor_id` owes or paid; `None` when the shop was opened without one.
pub fn bond(conn: &Connection, vendor_id: i64) -> Result<Option<Bond>, MarketError> {
    let row: Option<(i64, Option<String>, Option<String>)> = conn
        .query_row("SELECT bond_sat, bond_address, bond_paid_at FROM vendors WHERE user_id = ?1", params![vendor_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(match row {
        Some((sat, Some(address), paid_at)) if sat > 0 => Some(Bond { bond_sat: sat_from_db(sat), address, paid_at }),
        _ => None,
    })
}

/// Marks a vendor's bond paid if `confirmed_sat` (confirmed coins at the bond address)
/// covers it. Returns whether it is paid now.
pub fn apply_bond_payment(conn: &Connection, now: SimTime, vendor_id: i64, confirmed_sat: u64) -> Result<bool, MarketError> {
    let Some(b) = bond(conn, vendor_id)? else { return Ok(true) };
    if b.paid_at.is_some() {
        return Ok(true);
    }
    if confirmed_sat < b.bond_sat {
        return Ok(false);
    }
    conn.cached_exec("UPDATE vendors SET bond_paid_at = ?1 WHERE user_id = ?2", params![now.to_string(), vendor_id])?;
    tracing::info!(vendor = vendor_id, "market: vendor bond paid");
    Ok(true)
}

/// Stores a listing's photo (replacing any earlier one). 403 unless `user` owns the
/// listing; 400 unless the bytes are a JPEG of at most 2 MiB.
pub fn set_photo(conn: &Connection, now: SimTime, user: &User, listing_id: i64, bytes: &[u8]) -> Result<(), MarketError> {
    let owner: Option<i64> =
        conn.cached_row("SELECT vendor_id FROM listings WHERE id = ?1", params![listing_id], |r| r.get(0)).optional()?;
    match owner {
        None => return Err(MarketError::NotFound("listing")),
        Some(o) if o != user.id => return Err(MarketError::Forbidden("only the listing's vendor may change its photo")),
        Some(_) => {}
    }
    super::photo::check_upload(bytes).map_err(|e| MarketError::BadInput(e.to_string()))?;
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    conn.cached_exec(
        "INSERT OR REPLACE INTO photos (listing_id, sha256, bytes, uploaded) VALUES (?1, ?2, ?3, ?4)",
        params![listing_id, sha, bytes, now.to_string()],
    )?;
    conn.cached_exec("UPDATE listings SET photo_sha256 = ?1 WHERE id = ?2", params![sha, listing_id])?;
    Ok(())
}

/// Body of `POST /api/listings/{id}/stock`.
#[derive(Debug, Clone, Deserialize)]
pub struct Restock {
    /// Units now in stock.
    pub stock: u32,
}

/// Sets how many units a listing has left (the vendor restocks, or marks it sold out).
/// 403 unless `user` owns the listing.
pub fn restock(conn: &Connection, user: &User, listing_id: i64, stock: u32) -> Result<(), MarketError> {
    own_listing(conn, user, listing_id, "only the listing's vendor may restock it")?;
    conn.cached_exec("UPDATE listings SET stock = ?1 WHERE id = ?2", params![stock, listing_id])?;
    Ok(())
}

/// That the listing exists (404) and is `user`'s (403 with `refusal`).
fn own_listing(conn: &Connection, user: &User, listing_id: i64, refusal: &'static str) -> Result<(), MarketError> {
    let owner: Option<i64> =
        conn.cached_row("SELECT vendor_id FROM listings WHERE id = ?1", params![listing_id], |r| r.get(0)).optional()?;
    match owner {
        None => Err(MarketError::NotFound("listing")),
        Some(o) if o != user.id => Err(MarketError::Forbidden(refusal)),
        Some(_) => Ok(()),
    }
}

/// The listing's vendor takes it down: deleted with its photo when no order refers to it,
/// else its stock is emptied (orders keep their listing). Returns whether it was deleted.
pub fn take_down(conn: &Connection, user: &User, listing_id: i64) -> Result<bool, MarketError> {
    own_listing(conn, user, listing_id, "only the listing's vendor may take it down")?;
    let orders: i64 = conn.cached_row("SELECT COUNT(*) FROM orders WHERE listing_id = ?1", params![listing_id], |r| r.get(0))?;
    if orders > 0 {
        conn.cached_exec("UPDATE listings SET stock = 0 WHERE id = ?1", params![listing_id])?;
        return Ok(false);
    }
    conn.cached_exec("DELETE FROM photos WHERE listing_id = ?1", params![listing_id])?;
    conn.cached_exec("DELETE FROM listings WHERE id = ?1", params![listing_id])?;
    Ok(true)
}

/// A listing's photo bytes; 404 if it has none.
pub fn photo(conn: &Connection, listing_id: i64) -> Result<Vec<u8>, MarketError> {
    conn.cached_row("SELECT bytes FROM photos WHERE listing_id = ?1", params![listing_id], |r| r.get(0))
        .optional()?
        .ok_or(MarketError::NotFound("photo"))
}

/// The photo URL of listing `id`.
pub fn photo_url(id: i64) -> String {
    format!("/listing/{id}/photo.jpg")
}

/// A category and how many visible listings it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Its name.
    pub name: String,
    /// Visible listings in it.
    pub count: u64,
}

/// The categories of visible listings, by name.
pub fn categories(conn: &Connection) -> Result<Vec<Category>, MarketError> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.category, COUNT(*) FROM listings l JOIN users u ON u.id = l.vendor_id WHERE u.banned = 0
         GROUP BY l.category ORDER BY l.category",
    )?;
    let rows = stmt.query_map([], |r| Ok(Category { name: r.get(0)?, count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0) }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Visible listings (banned vendors' are hidden), by id, optionally in one category and
/// matching a search text in the title (case-insensitive).
pub fn browse(conn: &Connection, category: Option<&str>, query: Option<&str>) -> Result<Vec<ListingSummary>, MarketError> {
    let category = category.filter(|c| !c.is_empty());
    let pattern = query.filter(|q| !q.trim().is_empty()).map(|q| {
        let escaped = q.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    });
    let mut stmt = conn.prepare_cached(&format!(
        "{SUMMARY_SQL} WHERE u.banned = 0 AND (?1 IS NULL OR l.category = ?1)
         AND (?2 IS NULL OR l.title LIKE ?2 ESCAPE '\\') ORDER BY l.id"
    ))?;
    let rows = stmt.query_map(params![category, pattern], detail_of)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?.summary);
    }
    Ok(out)
}

const SUMMARY_SQL: &str = "SELECT l.id, l.title, u.username, l.category, l.price_sat, l.ships_from, l.ships_to, l.stock,
        l.description, l.created, l.finalize_early, l.photo_sha256
     FROM listings l JOIN users u ON u.id = l.vendor_id";

fn detail_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<ListingDetail> {
    let id: i64 = r.get(0)?;
    Ok(ListingDetail {
        summary: ListingSummary {
            id,
            title: r.get(1)?,
            vendor: r.get(2)?,
            category: r.get(3)?,
            price_sat: sat_from_db(r.get(4)?),
            ships_from: r.get(5)?,
            ships_to: r.get(6)?,
            stock: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
            finalize_early: r.get(10)?,
            photo_url: r.get::<_, Option<String>>(11)?.map(|_| photo_url(id)),
        },
        description: r.get(8)?,
        created: r.get(9)?,
    })
}

/// Every listing, by id (the public index).
pub fn list_listings(conn: &Connection) -> Result<Vec<ListingSummary>, MarketError> {
    let mut stmt = conn.prepare_cached(&format!("{SUMMARY_SQL} ORDER BY l.id"))?;
    let rows = stmt.query_map([], detail_of)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?.summary);
    }
    Ok(out)
}

/// One listing in full; 404 if unknown.
pub fn get_listing(conn: &Connection, id: i64) -> Result<ListingDetail, MarketError> {
    conn.cached_row(&format!("{SUMMARY_SQL} WHERE l.id = ?1"), params![id], detail_of).optional()?.ok_or(MarketError::NotFound("listing"))
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
    type Head = (i64, String, String, String, Option<String>, Option<String>, Option<String>, bool);
    let head: Option<Head> = conn
        .query_row(
            "SELECT u.id, u.created, v.opened, v.bio, v.pgp_key, v.pgp_fingerprint, v.pgp_user_ids, u.banned
             FROM users u JOIN vendors v ON v.user_id = u.id WHERE u.username = ?1",
            params![handle],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .optional()?;
    let Some((vendor_id, joined, shop_opened, bio, pgp_key, fingerprint, uids, banned)) = head else {
        return Err(MarketError::NotFound("vendor"));
    };
    let pgp = fingerprint.map(|fingerprint| super::pgp::KeySummary {
        fingerprint,
        user_ids: uids.and_then(|u| serde_json::from_str(&u).ok()).unwrap_or_default(),
    });
    let mut listings = Vec::new();
    {
        let mut stmt = conn.prepare_cached(&format!("{SUMMARY_SQL} WHERE l.vendor_id = ?1 ORDER BY l.id"))?;
        for r in stmt.query_map(params![vendor_id], detail_of)? {
            listings.push(r?.summary);
        }
    }
    let sales: i64 =
        conn.cached_row("SELECT COUNT(*) FROM orders WHERE vendor_id = ?1 AND status = 'finalized'", params![vendor_id], |r| r.get(0))?;
    let mut feedback = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
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
        pgp,
        banned,
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

    fn listing() -> NewListing {
        NewListing {
            title: "Widgets".into(),
            category: "Misc".into(),
            description: "good".into(),
            price_sat: 100_000,
            ships_from: "NL".into(),
            ships_to: "EU".into(),
            stock: 5,
            finalize_early: false,
            photo: None,
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
