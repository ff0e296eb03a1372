//! An internet provider: subscribers (name, postal address) and the IP leases their
//! connections were given over time — the records that answer "who had IP X at time T".
//!
//! The world connects a subscriber (`POST /api/connect`, or [`IspService::connect`]) when
//! an actor's home line comes up; it may ask for a particular address (the scenario's
//! home IP) or take one from the pool. A new connection ends the subscriber's previous
//! lease; `POST /api/disconnect` ends the current one.
//!
//! Routes:
//! - `POST /api/subscribers` `{name, address}` → [`Subscriber`]
//! - `POST /api/connect` `{account, ip?}` → [`Lease`] (409 when `ip` is leased to another line)
//! - `POST /api/disconnect` `{account}` → [`Lease`] with its `end`
//! - 🔒 `GET /legal/records?ip=…[&at=…]` or `?account=…` → [`IspRecords`]
//! - 🔒 `POST /legal/preserve?ip=…` or `?account=…` → [`Preservation`](legal::Preservation)
//!
//! Legal answer (stable keys, the lab parses them):
//! ```json
//! {"provider", "jurisdiction", "retention": "90d", "produced_at",
//!  "query": {"ip", "at"} | {"account"},
//!  "subscribers": [{"account", "name", "address", "since",
//!                   "leases": [{"ip", "start", "end": null | "…"}]}]}
//! ```
//! With `at`, only leases covering that instant (`start <= at < end`, or still open) are
//! listed. Leases are dated by their end (an open lease is current and always held).

use std::net::{IpAddr, Ipv4Addr};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimDuration, SimTime};
use sim_core::rng::{SimRng, below};

use super::legal::{self, LegalQuery, ProductionHeader, RetentionWindow, legal_desk};
use super::{ProviderError, provider_config, text_field, validate_common};
use crate::http_util::{ApiJson, method_not_allowed, not_found};
use crate::service::record_service;

/// How the internet provider is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IspConfig {
    /// The provider's name, as it appears on produced records.
    pub name: String,
    /// The bearer credential of the legal desk (only the lab holds it).
    pub legal_token: String,
    /// How long dated records (leases) are kept.
    pub retention: SimDuration,
    /// Where the provider is, e.g. `"NL"`.
    pub jurisdiction: String,
    /// The IPv4 block addresses are drawn from when none is asked for, e.g. `"81.204.0.0/16"`.
    pub pool: String,
}

provider_config!(IspConfig);

impl IspConfig {
    /// Checks the configuration (see [`super::validate_common`]) and the pool.
    pub fn validate(&self) -> Result<(), ProviderError> {
        validate_common(&self.name, &self.legal_token, self.retention, &self.jurisdiction)?;
        parse_pool(&self.pool)?;
        Ok(())
    }
}

/// An IPv4 pool `a.b.c.d/n` as (first host, number of hosts).
pub(crate) fn parse_pool(pool: &str) -> Result<(u32, u32), ProviderError> {
    let bad = || ProviderError::Config(format!("pool {pool:?} must be an IPv4 block like 81.204.0.0/16 (prefix 8-30)"));
    let (addr, len) = pool.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    if !(8..=30).contains(&len) {
        return Err(bad());
    }
    let size = 1u32 << (32 - len);
    let network = u32::from(addr) & !(size - 1);
    Ok((network + 1, size - 2))
}

/// A subscriber (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// The account number the provider gave.
    pub account: String,
    /// Name on the contract.
    pub name: String,
    /// Postal address of the line.
    pub address: String,
    /// When the contract began (simulated time, ISO-8601).
    pub since: String,
}

/// An IP lease (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The subscriber's account number.
    pub account: String,
    /// The address leased.
    pub ip: String,
    /// When the lease began (ISO-8601).
    pub start: String,
    /// When it ended; `null` while current.
    pub end: Option<String>,
}

/// Body of `POST /api/subscribers`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewSubscriber {
    /// Name on the contract.
    pub name: String,
    /// Postal address of the line.
    pub address: String,
}

/// Body of `POST /api/connect`.
#[derive(Debug, Clone, Deserialize)]
pub struct Connect {
    /// The subscriber's account number.
    pub account: String,
    /// A particular address to lease (else one is drawn from the pool).
    #[serde(default)]
    pub ip: Option<String>,
}

/// Body of `POST /api/disconnect`.
#[derive(Debug, Clone, Deserialize)]
pub struct Disconnect {
    /// The subscriber's account number.
    pub account: String,
}

/// The legal query: `?ip=…[&at=…]` or `?account=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IspQuery {
    /// An IP address: who had it (at `at`, or at any time held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// With `ip`: the instant asked about (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<SimTime>,
    /// An account number: that subscriber and its leases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl LegalQuery for IspQuery {
    fn validate(&self) -> Result<(), ProviderError> {
        match (&self.ip, &self.account) {
            (Some(ip), None) => {
                ip.trim().parse::<IpAddr>().map_err(|_| ProviderError::BadInput("?ip= must be an IP address".into()))?;
                Ok(())
            }
            (None, Some(a)) if self.at.is_none() => legal::check_value("account", a),
            (None, Some(_)) => Err(ProviderError::BadInput("?at= goes with ?ip=, not ?account=".into())),
            _ => Err(ProviderError::BadInput("give exactly one of ?ip= or ?account=".into())),
        }
    }

    fn key(&self) -> (&'static str, String) {
        match (&self.ip, &self.account) {
            (Some(ip), _) => ("ip", ip.trim().parse::<IpAddr>().map_or_else(|_| ip.trim().to_string(), |a| a.to_string())),
            (None, Some(a)) => ("account", a.trim().to_string()),
            (None, None) => ("none", String::new()),
        }
    }
}

/// A subscriber with the leases produced (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberRecord {
    /// The account number.
    pub account: String,
    /// Name on the contract.
    pub name: String,
    /// Postal address of the line.
    pub address: String,
    /// When the contract began.
    pub since: String,
    /// Matching leases still held, oldest first.
    pub leases: Vec<LeaseRecord>,
}

/// One lease in a production (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The address.
    pub ip: String,
    /// Start (ISO-8601).
    pub start: String,
    /// End, `null` while current.
    pub end: Option<String>,
}

/// The ISP's answer to a production order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IspRecords {
    /// Provider, jurisdiction, retention, time of production.
    #[serde(flatten)]
    pub header: ProductionHeader,
    /// What was asked.
    pub query: IspQuery,
    /// Matching subscribers by account id; empty when nothing is held.
    pub subscribers: Vec<SubscriberRecord>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS subscribers (
    id      INTEGER PRIMARY KEY,
    account TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    address TEXT NOT NULL,
    since   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
    ip            TEXT NOT NULL,
    start         TEXT NOT NULL,
    end_time      TEXT
);
";

/// Signs up a subscriber; the account number comes from the service RNG.
pub fn subscribe(conn: &Connection, rng: &mut SimRng, now: SimTime, s: &NewSubscriber) -> Result<Subscriber, ProviderError> {
    let name = text_field("name", &s.name, 200)?;
    let address = text_field("address", &s.address, 300)?;
    let account = loop {
        let candidate = format!("{:08}", below(rng, 100_000_000));
        let taken: Option<i64> =
            conn.query_row("SELECT id FROM subscribers WHERE account = ?1", params![candidate], |r| r.get(0)).optional()?;
        if taken.is_none() {
            break candidate;
        }
    };
    conn.execute(
        "INSERT INTO subscribers (account, name, address, since) VALUES (?1, ?2, ?3, ?4)",
        params![account, name, address, now.to_string()],
    )?;
    tracing::info!(%account, "isp: subscriber signed up");
    Ok(Subscriber { account, name, address, since: now.to_string() })
}

fn subscriber_id(conn: &Connection, account: &str) -> Result<i64, ProviderError> {
    conn.query_row("SELECT id FROM subscribers WHERE account = ?1", params![account.trim()], |r| r.get(0))
        .optional()?
        .ok_or(ProviderError::NotFound("subscriber"))
}

fn leased_now(conn: &Connection, ip: &str) -> Result<Option<i64>, ProviderError> {
    Ok(conn.query_row("SELECT subscriber_id FROM leases WHERE ip = ?1 AND end_time IS NULL", params![ip], |r| r.get(0)).optional()?)
}

/// Connects a subscriber's line: ends its current lease (if any) and opens a new one on
/// `c.ip` (which must not be leased to another line) or on a free pool address.
pub fn connect(conn: &Connection, rng: &mut SimRng, now: SimTime, pool: &str, c: &Connect) -> Result<Lease, ProviderError> {
    let sid = subscriber_id(conn, &c.account)?;
    let ip = match &c.ip {
        Some(ip) => {
            let ip = ip.trim().parse::<IpAddr>().map_err(|_| ProviderError::BadInput("ip must be an IP address".into()))?.to_string();
            match leased_now(conn, &ip)? {
                Some(holder) if holder != sid => return Err(ProviderError::Conflict(format!("{ip} is leased to another line"))),
                _ => ip,
            }
        }
        None => draw_free(conn, rng, pool)?,
    };
    conn.execute("UPDATE leases SET end_time = ?1 WHERE subscriber_id = ?2 AND end_time IS NULL", params![now.to_string(), sid])?;
    conn.execute("INSERT INTO leases (subscriber_id, ip, start) VALUES (?1, ?2, ?3)", params![sid, ip, now.to_string()])?;
    tracing::info!(account = %c.account.trim(), %ip, "isp: lease opened");
    Ok(Lease { account: c.account.trim().to_string(), ip, start: now.to_string(), end: None })
}

fn draw_free(conn: &Connection, rng: &mut SimRng, pool: &str) -> Result<String, ProviderError> {
    let (first, hosts) = parse_pool(pool)?;
    let start = u32::try_from(below(rng, u64::from(hosts))).unwrap_or(0);
    for i in 0..hosts {
        let ip = Ipv4Addr::from(first + (start + i) % hosts).to_string();
        if leased_now(conn, &ip)?.is_none() {
            return Ok(ip);
        }
    }
    Err(ProviderError::Exhausted("no free address in the pool".into()))
}

/// Ends the subscriber's current lease.
pub fn disconnect(conn: &Connection, now: SimTime, d: &Disconnect) -> Result<Lease, ProviderError> {
    let sid = subscriber_id(conn, &d.account)?;
    let (id, ip, start): (i64, String, String) = conn
        .query_row("SELECT id, ip, start FROM leases WHERE subscriber_id = ?1 AND end_time IS NULL", params![sid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .ok_or(ProviderError::NotFound("open lease"))?;
    conn.execute("UPDATE leases SET end_time = ?1 WHERE id = ?2", params![now.to_string(), id])?;
    Ok(Lease { account: d.account.trim().to_string(), ip, start, end: Some(now.to_string()) })
}

/// Produces the records for a legal query (validated here) and logs the request.
pub fn produce(conn: &Connection, now: SimTime, config: &IspConfig, q: &IspQuery) -> Result<IspRecords, ProviderError> {
    q.validate()?;
    let key = q.key();
    let window = RetentionWindow::load(conn, now, config.retention, &key)?;
    // (subscriber id, lease) candidates, by lease id.
    let (sql, value) = match key.0 {
        "ip" => ("SELECT subscriber_id, ip, start, end_time FROM leases WHERE ip = ?1 ORDER BY id", key.1.clone()),
        _ => (
            "SELECT l.subscriber_id, l.ip, l.start, l.end_time FROM leases l JOIN subscribers s ON s.id = l.subscriber_id
             WHERE s.account = ?1 ORDER BY l.id",
            key.1.clone(),
        ),
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt
        .query_map(params![value], |r| Ok((r.get::<_, i64>(0)?, LeaseRecord { ip: r.get(1)?, start: r.get(2)?, end: r.get(3)? })))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut by_subscriber: std::collections::BTreeMap<i64, Vec<LeaseRecord>> = std::collections::BTreeMap::new();
    if key.0 == "account" {
        // The subscriber itself is held as long as the contract exists, leases or not.
        let sid: Option<i64> = conn.query_row("SELECT id FROM subscribers WHERE account = ?1", params![key.1], |r| r.get(0)).optional()?;
        if let Some(sid) = sid {
            by_subscriber.insert(sid, Vec::new());
        }
    }
    for (sid, lease) in rows {
        let held = match &lease.end {
            None => true,
            Some(end) => window.keeps_stored(end)?,
        };
        let covers = match q.at {
            None => true,
            Some(at) => {
                let started = legal::parse_time(&lease.start)? <= at;
                let not_ended = match &lease.end {
                    None => true,
                    Some(end) => at < legal::parse_time(end)?,
                };
                started && not_ended
            }
        };
        if held && covers {
            by_subscriber.entry(sid).or_default().push(lease);
        }
    }
    let mut subscribers = Vec::new();
    for (sid, leases) in by_subscriber {
        let (account, name, address, since) =
            conn.query_row("SELECT account, name, address, since FROM subscribers WHERE id = ?1", params![sid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        subscribers.push(SubscriberRecord { account, name, address, since, leases });
    }
    legal::log_request(conn, now, q, subscribers.len())?;
    Ok(IspRecords { header: ProductionHeader::of(config, now), query: q.clone(), subscribers })
}

record_service!(
    /// A running internet provider. Cheap to clone (shared state).
    IspService,
    IspConfig,
    ProviderError
);

legal_desk!(IspService, IspConfig, IspQuery, IspRecords);

impl IspService {
    /// An ISP over `db` (in-memory or a file the caller opened); creates the schema if needed.
    pub fn new(config: IspConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, ProviderError> {
        config.validate()?;
        Ok(IspService { inner: super::open_core(config, db, clock, rng, SCHEMA)? })
    }

    /// The API and the legal desk as an axum router.
    pub fn router(&self) -> Router {
        legal::legal_routes(
            Router::new()
                .route("/api/subscribers", post(api_subscribe))
                .route("/api/connect", post(api_connect))
                .route("/api/disconnect", post(api_disconnect)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(self.clone())
    }

    /// Signs up a subscriber (what `POST /api/subscribers` does).
    pub fn subscribe(&self, s: &NewSubscriber) -> Result<Subscriber, ProviderError> {
        let mut st = self.lock()?;
        let st = &mut *st;
        subscribe(&st.conn, &mut st.rng, self.inner.clock.now(), s)
    }

    /// Connects a line (what `POST /api/connect` does).
    pub fn connect(&self, c: &Connect) -> Result<Lease, ProviderError> {
        let mut st = self.lock()?;
        let st = &mut *st;
        connect(&st.conn, &mut st.rng, self.inner.clock.now(), &self.inner.config.pool, c)
    }

    /// Ends a line's lease (what `POST /api/disconnect` does).
    pub fn disconnect(&self, d: &Disconnect) -> Result<Lease, ProviderError> {
        let st = self.lock()?;
        disconnect(&st.conn, self.inner.clock.now(), d)
    }
}

async fn api_subscribe(State(svc): State<IspService>, ApiJson(s): ApiJson<NewSubscriber>) -> Result<Json<Subscriber>, ProviderError> {
    Ok(Json(svc.subscribe(&s)?))
}

async fn api_connect(State(svc): State<IspService>, ApiJson(c): ApiJson<Connect>) -> Result<Json<Lease>, ProviderError> {
    Ok(Json(svc.connect(&c)?))
}

async fn api_disconnect(State(svc): State<IspService>, ApiJson(d): ApiJson<Disconnect>) -> Result<Json<Lease>, ProviderError> {
    Ok(Json(svc.disconnect(&d)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools() {
        assert_eq!(parse_pool("10.0.0.0/30").unwrap(), (u32::from(Ipv4Addr::new(10, 0, 0, 1)), 2));
        assert_eq!(parse_pool("81.204.7.9/16").unwrap().0, u32::from(Ipv4Addr::new(81, 204, 0, 1)));
        for bad in ["", "10.0.0.0", "10.0.0.0/31", "x/16", "10.0.0.0/abc", "::1/64"] {
            assert!(parse_pool(bad).is_err(), "{bad}");
        }
    }
}
