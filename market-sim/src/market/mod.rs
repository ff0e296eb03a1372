//! The dark market: accounts, vendor shops, listings, escrowed orders, feedback — its
//! domain rules over SQLite and its JSON API.
//!
//! Layout (routes stay thin over plain domain functions):
//! - [`schema`]: the tables a seized market server would hold.
//! - [`accounts`]: register, log in, authenticate a bearer token.
//! - [`shop`]: vendor shops, listings, public vendor profiles.
//! - [`orders`]: the order state machine (awaiting_payment → paid → shipped → finalized)
//!   and feedback.
//! - [`escrow`]: escrow addresses and the payout transaction.
//! - [`routes`]: the axum `Router`.
//!
//! Shared with the exchange: [`crate::credentials`], [`crate::chain`] and the service
//! skeleton (state behind one lock) in `crate::service`.
//!
//! Invariants: no wall clock (every time is `SimClock::now()`), no unseeded randomness
//! (salts and tokens come from the service's `SimRng`), and everything that reaches
//! output is ordered by id, so the same requests give the same database.

pub mod accounts;
pub mod escrow;
pub mod orders;
pub mod routes;
pub mod schema;
pub mod shop;

use std::sync::{Arc, MutexGuard};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coin_sim::{EsploraClient, Wallet};
use rusqlite::Connection;
use sim_core::clock::SimClock;
use sim_core::rng::SimRng;

use crate::http_util::service_error_response;
use crate::service::{ServiceConfig, ServiceCore, ServiceState};

pub use crate::credentials::CredentialError;

/// How the market is run: its name, its cut, and its payment rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MarketConfig {
    /// The market's name (shown nowhere security-relevant; used in logs and the dump).
    pub name: String,
    /// The operator's commission in basis points of each order (250 = 2.5 %).
    pub commission_bps: u32,
    /// Fee rate for escrow payouts, satoshis per virtual byte.
    pub feerate_sat_per_vb: u64,
    /// Confirmations an escrow payment needs before the order counts as paid.
    pub min_confirmations: u32,
}

impl MarketConfig {
    /// Checks the configuration: a non-empty name, commission at most 100 %, a non-zero fee rate.
    pub fn validate(&self) -> Result<(), MarketError> {
        if self.name.trim().is_empty() {
            return Err(MarketError::Config("market name must not be empty".into()));
        }
        if self.commission_bps > 10_000 {
            return Err(MarketError::Config(format!("commission_bps {} exceeds 10000 (100 %)", self.commission_bps)));
        }
        if self.feerate_sat_per_vb == 0 {
            return Err(MarketError::Config("feerate_sat_per_vb must be at least 1".into()));
        }
        Ok(())
    }
}

/// Everything that can go wrong in the market, each with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The service configuration is invalid (construction only).
    #[error("invalid market configuration: {0}")]
    Config(String),
    /// A request field is missing, malformed or out of bounds (400).
    #[error("{0}")]
    BadInput(String),
    /// A username or password broke the rules (400).
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// No bearer token, or one that is not a live session (401).
    #[error("missing or invalid token")]
    Unauthorized,
    /// Wrong username or password — the same answer for both (401).
    #[error("invalid username or password")]
    BadLogin,
    /// Authenticated, but not the party allowed to do this (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The thing asked for does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The coin network could not be reached or refused a transaction (502).
    #[error("coin network error: {0}")]
    Chain(String),
    /// The escrow wallet could not build the payout (500).
    #[error("escrow wallet error: {0}")]
    Wallet(#[from] coin_sim::WalletError),
    /// The escrow addresses on record do not match the escrow wallet's seed (construction only).
    #[error("escrow wallet does not match the addresses on record (wrong seed?)")]
    WalletMismatch,
    /// A database error (500).
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// Data on record is inconsistent (500).
    #[error("internal inconsistency: {0}")]
    Internal(String),
    /// A thread panicked while holding the service state (500).
    #[error("service state poisoned")]
    Poisoned,
}

impl MarketError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            MarketError::BadInput(_) | MarketError::Credential(_) => StatusCode::BAD_REQUEST,
            MarketError::Unauthorized | MarketError::BadLogin => StatusCode::UNAUTHORIZED,
            MarketError::Forbidden(_) => StatusCode::FORBIDDEN,
            MarketError::NotFound(_) => StatusCode::NOT_FOUND,
            MarketError::Conflict(_) => StatusCode::CONFLICT,
            MarketError::Chain(_) => StatusCode::BAD_GATEWAY,
            MarketError::Config(_)
            | MarketError::Wallet(_)
            | MarketError::WalletMismatch
            | MarketError::Internal(_)
            | MarketError::Db(_)
            | MarketError::Poisoned => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for MarketError {
    fn into_response(self) -> Response {
        let is_chain = matches!(self, MarketError::Chain(_));
        service_error_response("market", self.status(), is_chain, &self)
    }
}

impl ServiceConfig for MarketConfig {
    type Error = MarketError;

    fn poisoned() -> MarketError {
        MarketError::Poisoned
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// A running market. Cheap to clone (shared state); serve it with [`MarketService::router`].
///
/// Its mutable state (database, RNG, escrow wallet) sits behind one lock so each request
/// sees and changes it atomically.
#[derive(Clone)]
pub struct MarketService {
    pub(crate) inner: Arc<ServiceCore<MarketConfig>>,
}

impl std::fmt::Debug for MarketService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt_debug(f, "MarketService")
    }
}

impl MarketService {
    /// A market over `db` (in-memory or a file opened by the caller). Creates the schema if
    /// needed, re-derives the escrow addresses already on record (refusing a wallet whose
    /// seed does not match them) and makes the operator's commission address on first start.
    pub fn new(
        config: MarketConfig,
        db: Connection,
        clock: SimClock,
        rng: SimRng,
        mut escrow_wallet: Wallet,
        chain: EsploraClient,
    ) -> Result<Self, MarketError> {
        config.validate()?;
        crate::db::prepare(&db)?;
        schema::create(&db)?;
        escrow::restore_wallet(&db, &mut escrow_wallet)?;
        escrow::ensure_operator_address(&db, &mut escrow_wallet, clock.now())?;
        tracing::info!(market = %config.name, "market service ready");
        Ok(MarketService { inner: Arc::new(ServiceCore::new(config, clock, chain, db, rng, escrow_wallet)) })
    }

    /// The market's configuration.
    pub fn config(&self) -> &MarketConfig {
        &self.inner.config
    }

    /// The address that receives the operator's commissions.
    pub fn operator_address(&self) -> Result<String, MarketError> {
        let st = self.lock()?;
        escrow::operator_address(&st.conn)
    }

    /// Every table of the market's database, tables by name and rows by id (for world digests).
    pub fn dump(&self) -> Result<serde_json::Value, MarketError> {
        self.inner.dump()
    }

    /// The JSON API as an axum router (state included).
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, ServiceState>, MarketError> {
        self.inner.lock()
    }
}
