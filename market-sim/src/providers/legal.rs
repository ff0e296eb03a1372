//! What the providers' legal desks share: the lab's bearer credential, retention and
//! preservation, the request log and the header every production starts with.
//!
//! Retention rule: a dated record (a login, a lease, a payment, a parcel) is produced when
//! it is younger than `now - retention`, or when a preservation for the same query key was
//! recorded while the record still existed and had not yet expired
//! (`record_time <= preserved_at < record_time + retention`). A preservation freezes what
//! exists when it is made; it does not bring back what was already gone, and it does not
//! cover records made after it.
//!
//! Every production and preservation is logged (`legal_requests`, `preservations`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, params};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sim_core::clock::{SimDuration, SimTime};

use super::{ProviderConfig, ProviderError};
use crate::credentials::constant_time_eq;
use crate::http_util::{ApiQuery, bearer_token};
use crate::service::{RecordCore, ServiceConfig};

/// The tables every provider adds to its own schema.
pub(crate) const LEGAL_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS preservations (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    query_kind  TEXT NOT NULL,
    query_value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS legal_requests (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    query_kind  TEXT NOT NULL,
    query_value TEXT NOT NULL,
    records     INTEGER NOT NULL
);
";

/// Longest accepted legal-query value, in bytes.
pub const QUERY_VALUE_MAX: usize = 200;

/// A provider's legal query (the query string of `GET /legal/records` and
/// `POST /legal/preserve`).
pub trait LegalQuery: Serialize {
    /// Checks that the query is well formed (exactly one selector, sane values).
    fn validate(&self) -> Result<(), ProviderError>;
    /// The key a preservation of this query is filed under, and a production logged under:
    /// `(kind, value)`, e.g. `("ip", "81.2.3.4")`. Times in the query are not part of it.
    fn key(&self) -> (&'static str, String);
}

/// Checks one selector value: trimmed, 1..=[`QUERY_VALUE_MAX`] bytes, no control characters.
pub fn check_value(name: &str, value: &str) -> Result<(), ProviderError> {
    let v = value.trim();
    if v.is_empty() || v.len() > QUERY_VALUE_MAX || v.chars().any(char::is_control) {
        return Err(ProviderError::BadInput(format!("?{name}= must be 1-{QUERY_VALUE_MAX} bytes")));
    }
    Ok(())
}

/// Checks the presented bearer credential against the lab's legal token (401 otherwise).
pub fn check_legal_token(expected: &str, presented: Option<&str>) -> Result<(), ProviderError> {
    let presented = presented.ok_or(ProviderError::Unauthorized)?;
    // Compare digests so neither length nor content leaks through timing.
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    if constant_time_eq(&a, &b) { Ok(()) } else { Err(ProviderError::Unauthorized) }
}

/// The header every production starts with (flattened into the answer; stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionHeader {
    /// The provider's name.
    pub provider: String,
    /// Where the provider is (as configured, e.g. `"NL"`).
    pub jurisdiction: String,
    /// How long it keeps dated records, e.g. `"90d"`.
    pub retention: SimDuration,
    /// When the records were produced (simulated time, ISO-8601).
    pub produced_at: String,
}

impl ProductionHeader {
    /// The header for a production by the provider configured as `config`, made at `now`.
    pub(crate) fn of<C: ProviderConfig>(config: &C, now: SimTime) -> Self {
        ProductionHeader {
            provider: config.name().to_string(),
            jurisdiction: config.jurisdiction().to_string(),
            retention: config.retention(),
            produced_at: now.to_string(),
        }
    }
}

/// The answer to `POST /legal/preserve` (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preservation<Q> {
    /// The provider's name.
    pub provider: String,
    /// What is to be preserved.
    pub query: Q,
    /// When the preservation was recorded (simulated time, ISO-8601).
    pub preserved_at: String,
}

/// Records a preservation for `q` at `now`.
pub fn preserve<Q: LegalQuery + Clone>(conn: &Connection, now: SimTime, provider: &str, q: &Q) -> Result<Preservation<Q>, ProviderError> {
    q.validate()?;
    let (kind, value) = q.key();
    conn.execute("INSERT INTO preservations (time, query_kind, query_value) VALUES (?1, ?2, ?3)", params![now.to_string(), kind, value])?;
    tracing::info!(provider, kind, value = %value, "provider: records preserved");
    Ok(Preservation { provider: provider.to_string(), query: q.clone(), preserved_at: now.to_string() })
}

/// Logs a production of `count` records for `q` at `now`.
pub fn log_request<Q: LegalQuery>(conn: &Connection, now: SimTime, q: &Q, count: usize) -> Result<(), ProviderError> {
    let (kind, value) = q.key();
    conn.execute(
        "INSERT INTO legal_requests (time, query_kind, query_value, records) VALUES (?1, ?2, ?3, ?4)",
        params![now.to_string(), kind, value, i64::try_from(count).unwrap_or(i64::MAX)],
    )?;
    tracing::info!(kind, value = %value, count, "provider: records produced under legal process");
    Ok(())
}

/// A provider service with a legal desk: its shared core, its query and how it produces.
pub(crate) trait LegalDesk: Clone + Send + Sync + 'static {
    /// The provider's configuration.
    type Config: ProviderConfig + Send + Sync + 'static;
    /// The query string of `GET /legal/records` and `POST /legal/preserve`.
    type Query: LegalQuery + Clone + DeserializeOwned + Send + 'static;
    /// The answer to `GET /legal/records`.
    type Records: Serialize + Send + 'static;

    /// The service's shared core.
    fn core(&self) -> &RecordCore<Self::Config>;

    /// Produces the records for a query (validated there) and logs the request.
    fn produce(conn: &Connection, now: SimTime, config: &Self::Config, q: &Self::Query) -> Result<Self::Records, ProviderError>;
}

/// Implements [`LegalDesk`] for a provider service declared with
/// [`crate::service::record_service`], producing with the module's `produce` function.
macro_rules! legal_desk {
    ($svc:ty, $config:ty, $query:ty, $records:ty) => {
        impl $crate::providers::legal::LegalDesk for $svc {
            type Config = $config;
            type Query = $query;
            type Records = $records;

            fn core(&self) -> &$crate::service::RecordCore<$config> {
                &self.inner
            }

            fn produce(
                conn: &rusqlite::Connection,
                now: sim_core::clock::SimTime,
                config: &$config,
                q: &$query,
            ) -> Result<$records, $crate::providers::ProviderError> {
                produce(conn, now, config, q)
            }
        }
    };
}
pub(crate) use legal_desk;

/// Adds the legal desk (`GET /legal/records`, `POST /legal/preserve`, both behind the
/// lab's bearer credential) to a provider's router.
pub(crate) fn legal_routes<S: LegalDesk>(router: Router<S>) -> Router<S> {
    router.route("/legal/records", get(legal_records::<S>)).route("/legal/preserve", post(legal_preserve::<S>))
}

async fn legal_records<S: LegalDesk>(
    State(svc): State<S>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<S::Query>,
) -> Result<Json<S::Records>, ProviderError> {
    let core = svc.core();
    check_legal_token(core.config.legal_token(), bearer_token(&headers))?;
    let st = core.lock()?;
    Ok(Json(S::produce(&st.conn, core.clock.now(), &core.config, &q)?))
}

async fn legal_preserve<S: LegalDesk>(
    State(svc): State<S>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<S::Query>,
) -> Result<Json<Preservation<S::Query>>, ProviderError> {
    let core = svc.core();
    check_legal_token(core.config.legal_token(), bearer_token(&headers))?;
    let st = core.lock()?;
    Ok(Json(preserve(&st.conn, core.clock.now(), core.config.name(), &q)?))
}

/// Which dated records a production may include (see the module doc for the rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionWindow {
    cutoff: SimTime,
    retention: SimDuration,
    preserved: Vec<SimTime>,
}

impl RetentionWindow {
    /// The window for a query key at `now`: the cutoff and the preservations on record.
    pub fn load(conn: &Connection, now: SimTime, retention: SimDuration, key: &(&'static str, String)) -> Result<Self, ProviderError> {
        let mut stmt = conn.prepare("SELECT time FROM preservations WHERE query_kind = ?1 AND query_value = ?2 ORDER BY id")?;
        let times = stmt.query_map(params![key.0, key.1], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        let preserved = times.iter().map(|t| parse_time(t)).collect::<Result<Vec<_>, _>>()?;
        Ok(RetentionWindow { cutoff: SimTime(now.secs().saturating_sub(retention.as_secs())), retention, preserved })
    }

    /// Whether a record dated `t` is still held.
    pub fn keeps(&self, t: SimTime) -> bool {
        t >= self.cutoff || self.preserved.iter().any(|p| t <= *p && *p < t.plus(self.retention))
    }

    /// [`Self::keeps`] for a stored ISO-8601 time.
    pub fn keeps_stored(&self, t: &str) -> Result<bool, ProviderError> {
        Ok(self.keeps(parse_time(t)?))
    }
}

/// A stored ISO-8601 time; an unreadable one is an internal inconsistency.
pub(crate) fn parse_time(t: &str) -> Result<SimTime, ProviderError> {
    t.parse::<SimTime>().map_err(|_| ProviderError::Internal(format!("stored time {t:?} does not parse")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_recent_and_preserved() {
        let w = RetentionWindow { cutoff: SimTime(1000), retention: SimDuration(500), preserved: vec![SimTime(800)] };
        assert!(w.keeps(SimTime(1000)));
        assert!(w.keeps(SimTime(1200)));
        // Preserved at 800 while it existed (400 <= 800 < 900).
        assert!(w.keeps(SimTime(400)));
        // Already expired when preserved (299 + 500 <= 800).
        assert!(!w.keeps(SimTime(299)));
        // Made after the preservation and now past retention.
        assert!(!w.keeps(SimTime(900)));
        assert!(!w.keeps(SimTime(850)));
    }

    #[test]
    fn token_check() {
        assert!(check_legal_token("lab-secret-0123456789", Some("lab-secret-0123456789")).is_ok());
        assert!(check_legal_token("lab-secret-0123456789", Some("nope")).is_err());
        assert!(check_legal_token("lab-secret-0123456789", None).is_err());
    }
}
