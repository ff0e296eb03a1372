//! The record-keeping providers: companies whose records investigators obtain by legal
//! process. Each keeps what the cast's own activity produced — nothing is written from a
//! side table — and answers a legal desk with a credential only the lab holds.
//!
//! - [`isp`]: an internet provider — subscribers and IP leases over time.
//! - [`email`]: an e-mail provider — mailboxes with recovery phone, login IPs.
//! - [`hosting`]: a hosting company — customers, rented servers, payments (darkcoin invoices
//!   paid on chain, watched through the explorer), panel logins.
//! - [`courier`]: a courier/postal service — parcels dropped off at an office.
//! - [`legal`]: what the legal desks share — the token check, retention and preservation,
//!   the request log and the answer header.
//!
//! Every provider has a jurisdiction and a retention period: its legal desk omits records
//! older than `now - retention` unless a preservation for the same query was recorded
//! (`POST /legal/preserve`) while they still existed. (The exchange in
//! [`crate::exchange`] is the fifth provider; it predates this module.)
//!
//! Invariants: no wall clock, no unseeded randomness; every SQL statement is
//! parameterised; output is ordered by id or time.

pub mod courier;
pub mod email;
pub mod hosting;
pub mod isp;
pub mod legal;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;
use sim_core::clock::{SimClock, SimDuration};
use sim_core::rng::SimRng;

use crate::credentials::CredentialError;
use crate::http_util::service_error_response;
use crate::service::{RecordCore, ServiceConfig};

/// Everything that can go wrong at a provider, each with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The service configuration is invalid (construction only).
    #[error("invalid provider configuration: {0}")]
    Config(String),
    /// A request field is missing, malformed or out of bounds (400).
    #[error("{0}")]
    BadInput(String),
    /// A username or password broke the rules (400).
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// No bearer token, or not a live session / not the legal credential (401).
    #[error("missing or invalid token")]
    Unauthorized,
    /// Wrong account name or password — the same answer for both (401).
    #[error("invalid username or password")]
    BadLogin,
    /// The thing asked for does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The provider ran out of something it hands out, e.g. addresses (503).
    #[error("{0}")]
    Exhausted(String),
    /// Data on record is inconsistent (500).
    #[error("internal inconsistency: {0}")]
    Internal(String),
    /// A database error (500).
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// A thread panicked while holding the service state (500).
    #[error("service state poisoned")]
    Poisoned,
}

impl ProviderError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            ProviderError::BadInput(_) | ProviderError::Credential(_) => StatusCode::BAD_REQUEST,
            ProviderError::Unauthorized | ProviderError::BadLogin => StatusCode::UNAUTHORIZED,
            ProviderError::NotFound(_) => StatusCode::NOT_FOUND,
            ProviderError::Conflict(_) => StatusCode::CONFLICT,
            ProviderError::Exhausted(_) => StatusCode::SERVICE_UNAVAILABLE,
            ProviderError::Config(_) | ProviderError::Internal(_) | ProviderError::Db(_) | ProviderError::Poisoned => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for ProviderError {
    fn into_response(self) -> Response {
        service_error_response("provider", self.status(), false, &self)
    }
}

/// Checks what every provider configuration shares: a non-empty name and jurisdiction, a
/// legal token of at least 16 bytes and a positive retention.
pub(crate) fn validate_common(name: &str, legal_token: &str, retention: SimDuration, jurisdiction: &str) -> Result<(), ProviderError> {
    if name.trim().is_empty() {
        return Err(ProviderError::Config("provider name must not be empty".into()));
    }
    if legal_token.len() < 16 {
        return Err(ProviderError::Config("legal_token must be at least 16 bytes".into()));
    }
    if retention.as_secs() <= 0 {
        return Err(ProviderError::Config("retention must be positive".into()));
    }
    if jurisdiction.trim().is_empty() {
        return Err(ProviderError::Config("jurisdiction must not be empty".into()));
    }
    Ok(())
}

/// Checks a free-text request field: trimmed, 1..=`max` bytes, no control characters.
pub(crate) fn text_field(field: &str, value: &str, max: usize) -> Result<String, ProviderError> {
    let v = value.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(ProviderError::BadInput(format!("{field} must be 1-{max} bytes of text without control characters")));
    }
    Ok(v.to_string())
}

/// What every provider configuration holds besides its name: the legal desk's credential,
/// the retention period and the jurisdiction.
pub(crate) trait ProviderConfig: ServiceConfig<Error = ProviderError> {
    /// The bearer credential of the legal desk.
    fn legal_token(&self) -> &str;
    /// How long dated records are kept.
    fn retention(&self) -> SimDuration;
    /// Where the provider is.
    fn jurisdiction(&self) -> &str;
}

/// The shared core of a provider over `db` (configuration already validated): prepares the
/// database and creates the provider's `schema` and the legal-desk tables if needed.
pub(crate) fn open_core<C: ServiceConfig>(
    config: C,
    db: Connection,
    clock: SimClock,
    rng: SimRng,
    schema: &str,
) -> Result<Arc<RecordCore<C>>, ProviderError> {
    crate::db::prepare(&db)?;
    db.execute_batch(schema)?;
    db.execute_batch(legal::LEGAL_SCHEMA)?;
    Ok(Arc::new(RecordCore::new(config, clock, db, rng)))
}

/// Implements [`crate::service::ServiceConfig`] and [`ProviderConfig`] for a provider
/// configuration.
macro_rules! provider_config {
    ($t:ty) => {
        impl $crate::service::ServiceConfig for $t {
            type Error = $crate::providers::ProviderError;

            fn poisoned() -> $crate::providers::ProviderError {
                $crate::providers::ProviderError::Poisoned
            }

            fn name(&self) -> &str {
                &self.name
            }
        }

        impl $crate::providers::ProviderConfig for $t {
            fn legal_token(&self) -> &str {
                &self.legal_token
            }

            fn retention(&self) -> sim_core::clock::SimDuration {
                self.retention
            }

            fn jurisdiction(&self) -> &str {
                &self.jurisdiction
            }
        }
    };
}
pub(crate) use provider_config;
