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
//! - [`disputes`]: a buyer's dispute and the operator's ruling (release or refund).
//! - [`messages`]: private messages between users, optionally OpenPGP-encrypted.
//! - [`operator`]: the operator's account and powers (bans, news, canary, withdrawals).
//! - [`site`]: market news, the canary and the displayed exchange rate.
//! - [`captcha`]: the registration captcha (a question and its picture).
//! - [`pgp`], [`photo`]: real OpenPGP keys and real JPEG photos with EXIF metadata.
//! - [`serverlog`]: the access log and the forensic image a seizure yields.
//! - [`routes`]: the axum `Router` (JSON API and operator side); [`web`]: the HTML pages,
//!   rendered with minijinja (auto-escaped) or answered as JSON on the same URLs.
//!
//! Shared with the exchange: [`crate::credentials`], [`crate::chain`] and the service
//! skeleton (state behind one lock) in `crate::service`.
//!
//! Invariants: no wall clock (every time is `SimClock::now()`), no unseeded randomness
//! (salts and tokens come from the service's `SimRng`), and everything that reaches
//! output is ordered by id, so the same requests give the same database.

pub mod accounts;
pub mod captcha;
pub mod disputes;
pub mod escrow;
pub mod image;
pub mod messages;
pub mod operator;
pub mod orders;
pub mod pgp;
pub mod photo;
pub mod routes;
pub mod schema;
pub mod serverlog;
pub mod shop;
pub mod site;
pub mod web;

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
pub use serverlog::{ForensicImage, LogLine};

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
    /// Whether registration asks a captcha (`GET /api/captcha`; off by default).
    #[serde(default)]
    pub captcha_required: bool,
    /// The bond a vendor pays before listing, in satoshis (0 = no bond).
    #[serde(default)]
    pub vendor_bond_sat: u64,
    /// The operator's account name, created at start with role `operator` (none if `None`).
    #[serde(default)]
    pub operator_username: Option<String>,
    /// The operator's password (used only when `operator_username` is set).
    #[serde(default)]
    pub operator_password: Option<String>,
    /// The displayed exchange rate: US cents per whole darkcoin.
    #[serde(default = "default_rate")]
    pub usd_cents_per_coin: u64,
    /// How many access-log lines the server keeps (older ones are rotated out).
    #[serde(default = "default_log_retention")]
    pub log_retention: u32,
}

fn default_rate() -> u64 {
    6_500_000
}

fn default_log_retention() -> u32 {
    20_000
}

impl Default for MarketConfig {
    /// A market called "Market" with 3 % commission, 2 sat/vB payouts, one confirmation,
    /// no captcha, no bond, no operator account, 1 DRK = $65,000.
    fn default() -> Self {
        MarketConfig {
            name: "Market".into(),
            commission_bps: 300,
            feerate_sat_per_vb: 2,
            min_confirmations: 1,
            captcha_required: false,
            vendor_bond_sat: 0,
            operator_username: None,
            operator_password: None,
            usd_cents_per_coin: default_rate(),
            log_retention: default_log_retention(),
        }
    }
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
        if self.vendor_bond_sat > shop::MAX_SAT {
            return Err(MarketError::Config("vendor_bond_sat exceeds the coin's supply".into()));
        }
        if let Some(user) = &self.operator_username {
            crate::credentials::validate_username(user).map_err(|e| MarketError::Config(format!("operator_username: {e}")))?;
            let pw = self.operator_password.as_deref().unwrap_or_default();
            crate::credentials::validate_password(pw).map_err(|e| MarketError::Config(format!("operator_password: {e}")))?;
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
        let mut rng = rng;
        operator::ensure_operator(&db, &mut rng, clock.now(), &config)?;
        site::ensure_canary(&db, clock.now(), &config.name)?;
        site::ensure_operator_key(&db, &mut rng, &config.name)?;
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

    /// Every table of the market's database, tables by name and rows by id (for world
    /// digests) — except the access log, which records observers too.
    pub fn dump(&self) -> Result<serde_json::Value, MarketError> {
        let mut dump = self.inner.dump()?;
        if let Some(tables) = dump.as_object_mut() {
            tables.remove("server_log");
        }
        Ok(dump)
    }

    /// What a seizure of the market's server yields: a consistent copy of its database
    /// (SQLite's online backup, taken under the state lock) and its access log.
    pub fn forensic_image(&self) -> Result<ForensicImage, MarketError> {
        let st = self.lock()?;
        serverlog::forensic_image(&st.conn)
    }

    /// The whole site as an axum router (state included): the JSON API under `/api/`,
    /// the HTML pages (JSON too on `Accept: application/json`), the operator side under
    /// `/operator/`, all behind the access log.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, ServiceState>, MarketError> {
        self.inner.lock()
    }
}
