//! What the market says about itself: news posts, the warrant canary and the displayed
//! exchange rate.
//!
//! The canary is a dated statement that the operator has not been served a warrant; it is
//! kept in `meta` (`canary`, `canary_updated`) and only the operator changes it. A canary
//! that stops being updated is itself a clue. It is signed with the operator's OpenPGP key
//! (made on first start, kept in `meta`), stamped with the time it was renewed, so anyone
//! can check that the statement comes from the holder of the key.

use crate::db::Cached as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::MarketError;
use super::accounts::User;

/// Longest news title, in bytes.
pub const TITLE_MAX: usize = 200;
/// Longest news body or canary text, in bytes.
pub const BODY_MAX: usize = 10_000;
/// Satoshis per darkcoin.
pub const SAT_PER_COIN: u64 = 100_000_000;

/// One news post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsPost {
    /// Post id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Who posted it.
    pub author: String,
    /// When (simulated time, ISO-8601).
    pub created: String,
}

/// Body of `POST /operator/news`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewNews {
    /// 1–200 bytes.
    pub title: String,
    /// 1–10 000 bytes.
    pub body: String,
}

/// The canary as shown on `/canary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    /// The statement.
    pub text: String,
    /// When it was last renewed (simulated time, ISO-8601).
    pub updated: String,
    /// An armoured detached OpenPGP signature over `text` (its UTF-8 bytes), made by the
    /// operator's key at `updated`.
    pub signature: Option<String>,
    /// The operator's armoured public key, to check the signature with.
    pub signing_key: Option<String>,
}

/// Body of `POST /operator/canary`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewCanary {
    /// 1–10 000 bytes.
    pub text: String,
}

/// The displayed exchange rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// US cents per whole darkcoin.
    pub usd_cents_per_coin: u64,
    /// The same as text, e.g. "1 DRK = $65,000.00".
    pub text: String,
}

/// The rate as configured.
pub fn rate(usd_cents_per_coin: u64) -> Rate {
    Rate { usd_cents_per_coin, text: format!("1 DRK = ${}", usd(SAT_PER_COIN, usd_cents_per_coin)) }
}

/// Satoshis as darkcoin text with eight decimals, e.g. "0.00150000".
pub fn coins(sat: u64) -> String {
    format!("{}.{:08}", sat / SAT_PER_COIN, sat % SAT_PER_COIN)
}

/// Satoshis in dollars at the rate, e.g. "97.50" (rounded down to the cent, thousands
/// separated by commas).
pub fn usd(sat: u64, usd_cents_per_coin: u64) -> String {
    let cents = u128::from(sat) * u128::from(usd_cents_per_coin) / u128::from(SAT_PER_COIN);
    let dollars = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{grouped}.{:02}", cents % 100)
}

fn check(field: &str, value: &str, max: usize) -> Result<(), MarketError> {
    if value.trim().is_empty() || value.len() > max {
        return Err(MarketError::BadInput(format!("{field} must be 1-{max} bytes")));
    }
    Ok(())
}

/// Posts news (the caller checked the operator role); returns its id.
pub fn post_news(conn: &Connection, now: SimTime, author: &User, req: &NewNews) -> Result<i64, MarketError> {
    check("title", &req.title, TITLE_MAX)?;
    check("body", &req.body, BODY_MAX)?;
    conn.cached_exec(
        "INSERT INTO news (author_id, title, body, created) VALUES (?1, ?2, ?3, ?4)",
        params![author.id, req.title, req.body, now.to_string()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// News, newest first, at most `limit`.
pub fn news(conn: &Connection, limit: u32) -> Result<Vec<NewsPost>, MarketError> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.id, n.title, n.body, u.username, n.created FROM news n JOIN users u ON u.id = n.author_id
         ORDER BY n.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit], |r| {
        Ok(NewsPost { id: r.get(0)?, title: r.get(1)?, body: r.get(2)?, author: r.get(3)?, created: r.get(4)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes the first canary on first start (no-op afterwards).
pub fn ensure_canary(conn: &Connection, now: SimTime, market: &str) -> Result<(), MarketError> {
    if canary(conn)?.is_none() {
        let date = now.to_string();
        let day = date.split('T').next().unwrap_or_default();
        let text = format!(
            "As of {day}, the staff of {market} have not received any warrant, subpoena or court order, \
             have not been compelled to hand over user data, and remain in sole control of the market's keys."
        );
        set_canary(conn, now, &NewCanary { text })?;
    }
    Ok(())
}

/// Makes the operator's OpenPGP key on first start from the service RNG and keeps it in
/// `meta` (`operator_pgp_public`, `operator_pgp_secret`); no-op afterwards.
pub fn ensure_operator_key(conn: &Connection, rng: &mut sim_core::rng::SimRng, market: &str) -> Result<(), MarketError> {
    if meta(conn, "operator_pgp_secret")?.is_some() {
        return Ok(());
    }
    let uid: String = format!("{market} staff").chars().take(200).collect();
    let (public, secret) =
        super::pgp::generate_key(sim_core::rng::bytes32(rng), &uid).map_err(|e| MarketError::Internal(format!("operator key: {e}")))?;
    conn.cached_exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('operator_pgp_public', ?1)", params![public])?;
    conn.cached_exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('operator_pgp_secret', ?1)", params![secret])?;
    Ok(())
}

fn meta(conn: &Connection, key: &str) -> Result<Option<String>, MarketError> {
    Ok(conn.cached_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
}

/// The current canary, if one was ever written, signed by the operator's key when it has one.
pub fn canary(conn: &Connection) -> Result<Option<Canary>, MarketError> {
    let Some(text) = meta(conn, "canary")? else { return Ok(None) };
    let updated = meta(conn, "canary_updated")?.unwrap_or_default();
    let (signature, signing_key) = match (meta(conn, "operator_pgp_secret")?, meta(conn, "operator_pgp_public")?) {
        (Some(secret), Some(public)) => {
            let at = updated.parse::<SimTime>().ok().and_then(|t| u32::try_from(t.0).ok()).unwrap_or(0);
            let sig = super::pgp::sign_detached(&secret, text.as_bytes(), at)
                .map_err(|e| MarketError::Internal(format!("cannot sign the canary: {e}")))?;
            (Some(sig), Some(public))
        }
        _ => (None, None),
    };
    Ok(Some(Canary { text, updated, signature, signing_key }))
}

/// Renews the canary with new text (the caller checked the operator role).
pub fn set_canary(conn: &Connection, now: SimTime, req: &NewCanary) -> Result<(), MarketError> {
    check("text", &req.text, BODY_MAX)?;
    conn.cached_exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('canary', ?1)", params![req.text])?;
    conn.cached_exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('canary_updated', ?1)", params![now.to_string()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_text() {
        assert_eq!(coins(150_000), "0.00150000");
        assert_eq!(coins(2 * SAT_PER_COIN + 1), "2.00000001");
        assert_eq!(usd(150_000, 6_500_000), "97.50");
        assert_eq!(rate(6_500_000).text, "1 DRK = $65,000.00");
        assert!(!usd(u64::MAX, u64::MAX).is_empty());
    }

    #[test]
    fn canary_is_written_once() {
        let conn = crate::market::accounts::tests::db();
        ensure_canary(&conn, SimTime(86_400), "Silk Lane").unwrap();
        let c = canary(&conn).unwrap().unwrap();
        assert!(c.text.starts_with("As of 1970-01-02, the staff of Silk Lane"));
        ensure_canary(&conn, SimTime(2 * 86_400), "Silk Lane").unwrap();
        assert_eq!(canary(&conn).unwrap().unwrap(), c);
    }

    #[test]
    fn the_canary_is_signed_by_the_operators_key_at_its_renewal() {
        let conn = crate::market::accounts::tests::db();
        ensure_canary(&conn, SimTime(86_400), "Silk Lane").unwrap();
        assert_eq!(canary(&conn).unwrap().unwrap().signature, None, "no key yet, no signature");
        let mut rng = sim_core::rng::stream(1, "market");
        ensure_operator_key(&conn, &mut rng, "Silk Lane").unwrap();
        let public = meta(&conn, "operator_pgp_public").unwrap();
        ensure_operator_key(&conn, &mut rng, "Silk Lane").unwrap();
        assert_eq!(meta(&conn, "operator_pgp_public").unwrap(), public, "made once");
        let c = canary(&conn).unwrap().unwrap();
        let (sig, key) = (c.signature.clone().unwrap(), c.signing_key.clone().unwrap());
        crate::market::pgp::verify_detached(&key, c.text.as_bytes(), &sig).unwrap();
        assert!(crate::market::pgp::verify_detached(&key, b"tampered", &sig).is_err());
        set_canary(&conn, SimTime(3 * 86_400), &NewCanary { text: "renewed".into() }).unwrap();
        let renewed = canary(&conn).unwrap().unwrap();
        crate::market::pgp::verify_detached(&key, b"renewed", renewed.signature.as_deref().unwrap()).unwrap();
        assert_ne!(renewed.signature, c.signature);
    }
}
