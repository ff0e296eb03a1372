//! The coin exchange: a custodial provider with KYC whose records investigators obtain by
//! legal process — accounts with identity documents, deposit addresses, credited deposits
//! and login IPs — plus its JSON API and its legal-process endpoint.
//!
//! Layout:
//! - [`schema`]: the tables (what a production order returns comes from here).
//! - [`accounts`]: sign-up with KYC, login, bearer authentication, the login/IP log.
//! - [`deposits`]: deposit addresses from the exchange wallet and crediting confirmed deposits.
//! - [`legal`]: the records produced for a legal request (stable JSON keys the lab parses).
//! - [`routes`]: the axum `Router`.
//!
//! Shared with the market: [`crate::credentials`], [`crate::chain`] and the service
//! skeleton (state behind one lock) in `crate::service`.
//!
//! Invariants: no wall clock, no unseeded randomness, output ordered by id; a deposit
//! (txid, vout) is credited at most once.

pub mod accounts;
pub mod deposits;
pub mod legal;
pub mod routes;
pub mod schema;

use std::sync::{Arc, MutexGuard};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coin_sim::{EsploraClient, Wallet};
use rusqlite::Connection;
use sim_core::clock::SimClock;
use sim_core::rng::SimRng;

use crate::credentials::CredentialError;
use crate::http_util::service_error_response;
use crate::service::{ServiceConfig, ServiceCore, ServiceState};

/// How the exchange is run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExchangeConfig {
    /// The provider's name, as it appears on produced records.
    pub name: String,
    /// The bearer credential that authorises `/legal/records` (only the lab holds it).
    pub legal_token: String,
    /// Confirmations a deposit needs before it is credited.
    pub min_confirmations: u32,
    /// How long dated records (deposit addresses, deposits, logins) are kept; none: forever.
    #[serde(default)]
    pub retention: Option<sim_core::clock::SimDuration>,
}

impl ExchangeConfig {
    /// Checks the configuration: a non-empty name and a legal token of at least 16 bytes.
    pub fn validate(&self) -> Result<(), ExchangeError> {
        if self.name.trim().is_empty() {
            return Err(ExchangeError::Config("exchange name must not be empty".into()));
        }
        if self.legal_token.len() < 16 {
            return Err(ExchangeError::Config("legal_token must be at least 16 bytes".into()));
        }
        Ok(())
    }
}

/// Everything that can go wrong at the exchange, each with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The service configuration is invalid (construction only).
    #[error("invalid exchange configuration: {0}")]
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
    /// Wrong username or password — the same answer for both (401).
    #[error("invalid username or password")]
    BadLogin,
    /// The thing asked for does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The coin network could not be reached (502).
    #[error("coin network error: {0}")]
    Chain(String),
    /// The deposit addresses on record do not match the wallet's seed (construction only).
    #[error("exchange wallet does not match the addresses on record (wrong seed?)")]
    WalletMismatch,
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

impl ExchangeError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            ExchangeError::BadInput(_) | ExchangeError::Credential(_) => StatusCode::BAD_REQUEST,
            ExchangeError::Unauthorized | ExchangeError::BadLogin => StatusCode::UNAUTHORIZED,
            ExchangeError::NotFound(_) => StatusCode::NOT_FOUND,
            ExchangeError::Conflict(_) => StatusCode::CONFLICT,
            ExchangeError::Chain(_) => StatusCode::BAD_GATEWAY,
            ExchangeError::Config(_)
            | ExchangeError::WalletMismatch
            | ExchangeError::Internal(_)
            | ExchangeError::Db(_)
            | ExchangeError::Poisoned => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ExchangeError {
    fn into_response(self) -> Response {
        let is_chain = matches!(self, ExchangeError::Chain(_));
        service_error_response("exchange", self.status(), is_chain, &self)
    }
}

impl ServiceConfig for ExchangeConfig {
    type Error = ExchangeError;

    fn poisoned() -> ExchangeError {
        ExchangeError::Poisoned
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// A running exchange. Cheap to clone (shared state); serve it with [`ExchangeService::router`]
/// through `into_make_service_with_connect_info::<SocketAddr>()` so peer IPs are known.
///
/// Its mutable state (database, RNG, wallet) sits behind one lock.
#[derive(Clone)]
pub struct ExchangeService {
    pub(crate) inner: Arc<ServiceCore<ExchangeConfig>>,
}

impl std::fmt::Debug for ExchangeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt_debug(f, "ExchangeService")
    }
}

impl ExchangeService {
    /// An exchange over `db` (in-memory or a file opened by the caller). Creates the schema
    /// if needed and re-derives the deposit addresses on record (refusing a wallet whose
    /// seed does not match them).
    pub fn new(
        config: ExchangeConfig,
        db: Connection,
        clock: SimClock,
        rng: SimRng,
        mut wallet: Wallet,
        chain: EsploraClient,
    ) -> Result<Self, ExchangeError> {
        config.validate()?;
        crate::db::prepare(&db)?;
        schema::create(&db)?;
        deposits::restore_wallet(&db, &mut wallet)?;
        tracing::info!(exchange = %config.name, "exchange service ready");
        Ok(ExchangeService { inner: Arc::new(ServiceCore::new(config, clock, chain, db, rng, wallet)) })
    }

    /// The exchange's configuration.
    pub fn config(&self) -> &ExchangeConfig {
        &self.inner.config
    }

    /// Every table of the exchange's database, tables by name and rows by id (for world digests).
    pub fn dump(&self) -> Result<serde_json::Value, ExchangeError> {
        self.inner.dump()
    }

    /// The JSON API and the legal-process endpoint as an axum router (state included).
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, ServiceState>, ExchangeError> {
        self.inner.lock()
    }
}
