//! The wider web around the market: where careless personas leave traces.
//!
//! - [`forum`]: a discussion forum about markets — boards, threads, posts, user profiles.
//! - [`mixer_front`]: the coin mixer's public front page and its "start a mix" form, over
//!   a [`mixer_front::MixBackend`] the world connects to the tumbler.
//! - [`social`]: clearnet social profiles (handle, bio, links, posts).
//! - [`paste`]: a clearnet paste site.
//! - [`search`]: a clearnet search engine that crawls the social and paste sites over HTTP.
//! - [`status`]: server-side slips any service can mount — an Apache-style
//!   `/server-status` that may reveal the real IP, and a favicon and TLS certificate whose
//!   hash can be matched across an onion service and a clearnet host.
//!
//! Every page is server-rendered HTML (minijinja, auto-escaping `.html` templates) and the
//! same URL answers JSON when the request says `Accept: application/json`. Forms accept
//! JSON or `application/x-www-form-urlencoded` bodies; a browser gets a `303 See Other`
//! and a `session` cookie where an API client gets JSON and a token.
//!
//! Invariants: all user content is escaped on the way out (templates) and bound as
//! parameters on the way in (SQL); every form field is validated with a message saying
//! what is wrong; no wall clock, no unseeded randomness; lists are ordered in SQL.

pub mod forum;
pub mod mixer_front;
pub(crate) mod pages;
pub mod paste;
pub mod search;
pub mod social;
pub mod status;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, params};
use sim_core::clock::{SimClock, SimTime};
use sim_core::rng::SimRng;

use crate::credentials::{AccountTable, CredentialError, TokenResponse, hash_password, new_salt, validate_password, validate_username};
use crate::http_util::{client_ip, peer_of, service_error_response};
use crate::service::{RecordCore, ServiceConfig};

/// Everything that can go wrong at a web service, each with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The service configuration is invalid (construction only).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A form field is missing, malformed or out of bounds (400).
    #[error("{0}")]
    BadInput(String),
    /// A username or password broke the rules (400).
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// Not logged in, or the session is unknown (401).
    #[error("log in first")]
    Unauthorized,
    /// Wrong username or password — the same answer for both (401).
    #[error("invalid username or password")]
    BadLogin,
    /// The page asked for does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// A backend the service relies on failed (502).
    #[error("backend unavailable: {0}")]
    Backend(String),
    /// A page could not be rendered (500).
    #[error("template error: {0}")]
    Template(String),
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

impl WebError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadInput(_) | WebError::Credential(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized | WebError::BadLogin => StatusCode::UNAUTHORIZED,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Backend(_) => StatusCode::BAD_GATEWAY,
            WebError::Config(_) | WebError::Template(_) | WebError::Internal(_) | WebError::Db(_) | WebError::Poisoned => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        // A backend failure is logged and answered with the variant's own safe message.
        let is_backend = matches!(self, WebError::Backend(_));
        if is_backend {
            tracing::warn!(error = %self, "web: backend error");
            return crate::http_util::error_response(self.status(), "backend unavailable, try again later");
        }
        service_error_response("web", self.status(), false, &self)
    }
}

/// Implements [`crate::service::ServiceConfig`] for a web service configuration.
macro_rules! web_config {
    ($t:ty) => {
        impl $crate::service::ServiceConfig for $t {
            type Error = $crate::web::WebError;

            fn poisoned() -> $crate::web::WebError {
                $crate::web::WebError::Poisoned
            }

            fn name(&self) -> &str {
                &self.name
            }
        }
    };
}
pub(crate) use web_config;

/// The user table of the sites with accounts (forum, social network).
const USERS: AccountTable = AccountTable { table: "users", session_column: "user_id" };

/// The shared core of a web service over `db`: prepares the database and creates `schema`
/// if needed.
pub(crate) fn open_core<C: ServiceConfig>(
    config: C,
    db: Connection,
    clock: SimClock,
    rng: SimRng,
    schema: &str,
) -> Result<Arc<RecordCore<C>>, WebError> {
    crate::db::prepare(&db)?;
    db.execute_batch(schema)?;
    Ok(Arc::new(RecordCore::new(config, clock, db, rng)))
}

/// Checks that a configured site name is not blank (`what` names the kind of site).
pub(crate) fn require_name(name: &str, what: &str) -> Result<(), WebError> {
    if name.trim().is_empty() {
        return Err(WebError::Config(format!("{what} name must not be empty")));
    }
    Ok(())
}

/// Registers an account in the `users` table, records the IP and returns a session token;
/// `taken` is the message when the name is already in use.
pub(crate) fn register_user(
    conn: &Connection,
    rng: &mut SimRng,
    now: SimTime,
    ip: &str,
    username: &str,
    password: &str,
    taken: &str,
) -> Result<String, WebError> {
    validate_username(username)?;
    validate_password(password)?;
    if USERS.username_taken(conn, username)? {
        return Err(WebError::Conflict(taken.into()));
    }
    let salt = new_salt(rng);
    conn.execute(
        "INSERT INTO users (username, password_salt, password_hash, created) VALUES (?1, ?2, ?3, ?4)",
        params![username, salt, hash_password(&salt, password), now.to_string()],
    )?;
    let id = conn.last_insert_rowid();
    record_login(conn, id, now, ip, "signup")?;
    Ok(USERS.open_session(conn, rng, now, id)?)
}

/// Checks a login against the `users` table, records the IP and returns a session token.
pub(crate) fn login_user(
    conn: &Connection,
    rng: &mut SimRng,
    now: SimTime,
    ip: &str,
    username: &str,
    password: &str,
) -> Result<String, WebError> {
    let id = USERS.check_login(conn, username, password)?.ok_or(WebError::BadLogin)?;
    record_login(conn, id, now, ip, "login")?;
    Ok(USERS.open_session(conn, rng, now, id)?)
}

fn record_login(conn: &Connection, id: i64, now: SimTime, ip: &str, kind: &str) -> Result<(), WebError> {
    conn.execute("INSERT INTO logins (user_id, time, ip, kind) VALUES (?1, ?2, ?3, ?4)", params![id, now.to_string(), ip, kind])?;
    Ok(())
}

/// The `(id, username)` behind a session token (401 otherwise).
pub(crate) fn authenticate_user(conn: &Connection, token: Option<&str>) -> Result<(i64, String), WebError> {
    USERS.session_account(conn, token.ok_or(WebError::Unauthorized)?)?.ok_or(WebError::Unauthorized)
}

/// What a register or login form runs: opens a session with `open` (database, RNG, time,
/// client IP) and answers with the token, a redirect to `location` and the session cookie.
pub(crate) fn session_form<C: ServiceConfig<Error = WebError>>(
    core: &RecordCore<C>,
    headers: &HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    location: &str,
    open: impl FnOnce(&Connection, &mut SimRng, SimTime, &str) -> Result<String, WebError>,
) -> Result<Response, WebError> {
    let ip = client_ip(headers, peer_of(info));
    let mut st = core.lock()?;
    let st = &mut *st;
    let token = open(&st.conn, &mut st.rng, core.clock.now(), &ip)?;
    Ok(pages::after_form(headers, &TokenResponse { token: token.clone() }, location, Some(&token)))
}
