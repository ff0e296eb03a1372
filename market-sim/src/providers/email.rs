//! An e-mail provider: mailboxes (with the recovery phone given at sign-up) and the IPs
//! every sign-up and login came from.
//!
//! Routes:
//! - `POST /api/signup` `{username, password, display_name?, recovery_phone?}` → `{address, token}`
//! - `POST /api/login` `{username, password}` (`username` may be the full address) → `{token}`
//! - 🔒 `GET /api/mailbox` (bearer session) → `{address, display_name, created}`
//! - 🔒 `GET /legal/records?address=…` → [`EmailRecords`]
//! - 🔒 `POST /legal/preserve?address=…` → [`Preservation`](legal::Preservation)
//!
//! Legal answer (stable keys, the lab parses them):
//! ```json
//! {"provider", "jurisdiction", "retention", "produced_at", "query": {"address"},
//!  "subscribers": [{"address", "display_name", "recovery_phone", "created",
//!                   "logins": [{"time", "ip", "kind": "signup" | "login"}]}]}
//! ```
//! Subscriber details are held while the mailbox exists; logins are dated records under
//! the retention rule of [`super::legal`]. Client IPs: first `X-Forwarded-For` entry,
//! else the socket peer.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimDuration, SimTime};
use sim_core::rng::SimRng;

use super::legal::{self, LegalQuery, ProductionHeader, RetentionWindow, legal_desk};
use super::{ProviderError, provider_config, text_field, validate_common};
use crate::credentials::{AccountTable, TokenResponse, hash_password, new_salt, validate_password};
use crate::http_util::{ApiJson, bearer_token, client_ip, method_not_allowed, not_found, peer_of};
use crate::service::record_service;

const MAILBOXES: AccountTable = AccountTable { table: "mailboxes", session_column: "mailbox_id" };

/// How the e-mail provider is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailConfig {
    /// The provider's name, as it appears on produced records.
    pub name: String,
    /// The bearer credential of the legal desk (only the lab holds it).
    pub legal_token: String,
    /// How long dated records (logins) are kept.
    pub retention: SimDuration,
    /// Where the provider is, e.g. `"CH"`.
    pub jurisdiction: String,
    /// The mail domain, e.g. `"tutamail.example"`; addresses are `username@domain`.
    pub domain: String,
}

provider_config!(EmailConfig);

impl EmailConfig {
    /// Checks the configuration and the domain (letters, digits, dots and dashes).
    pub fn validate(&self) -> Result<(), ProviderError> {
        validate_common(&self.name, &self.legal_token, self.retention, &self.jurisdiction)?;
        let d = &self.domain;
        let ok =
            !d.is_empty() && d.len() <= 100 && d.contains('.') && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if ok { Ok(()) } else { Err(ProviderError::Config(format!("domain {d:?} must be a DNS name like mail.example"))) }
    }
}

/// Body of `POST /api/signup`.
#[derive(Debug, Clone, Deserialize)]
pub struct Signup {
    /// The local part: 3–32 characters of `[A-Za-z0-9_-]`.
    pub username: String,
    /// 1–256 bytes.
    pub password: String,
    /// The name shown on sent mail.
    #[serde(default)]
    pub display_name: Option<String>,
    /// A phone number for account recovery.
    #[serde(default)]
    pub recovery_phone: Option<String>,
}

/// Body of `POST /api/login`.
#[derive(Debug, Clone, Deserialize)]
pub struct Login {
    /// The local part or the full address.
    pub username: String,
    /// The password.
    pub password: String,
}

/// Answer to sign-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupResponse {
    /// The new address.
    pub address: String,
    /// A session token.
    pub token: String,
}

/// `GET /api/mailbox`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxView {
    /// The address.
    pub address: String,
    /// The display name, if any.
    pub display_name: Option<String>,
    /// When it was opened.
    pub created: String,
}

/// The legal query: `?address=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailQuery {
    /// The e-mail address.
    #[serde(default)]
    pub address: Option<String>,
}

impl LegalQuery for EmailQuery {
    fn validate(&self) -> Result<(), ProviderError> {
        match &self.address {
            Some(a) if a.contains('@') => legal::check_value("address", a),
            _ => Err(ProviderError::BadInput("give ?address= with an e-mail address".into())),
        }
    }

    fn key(&self) -> (&'static str, String) {
        ("address", self.address.as_deref().unwrap_or("").trim().to_ascii_lowercase())
    }
}

/// A login or sign-up with its IP (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRecord {
    /// Simulated time, ISO-8601.
    pub time: String,
    /// The client IP.
    pub ip: String,
    /// `signup` or `login`.
    pub kind: String,
}

/// Everything held on one mailbox (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxRecord {
    /// The address.
    pub address: String,
    /// Display name given, if any.
    pub display_name: Option<String>,
    /// Recovery phone given, if any.
    pub recovery_phone: Option<String>,
    /// When it was opened.
    pub created: String,
    /// Sign-up and logins still held, oldest first.
    pub logins: Vec<LoginRecord>,
}

/// The e-mail provider's answer to a production order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailRecords {
    /// Provider, jurisdiction, retention, time of production.
    #[serde(flatten)]
    pub header: ProductionHeader,
    /// What was asked.
    pub query: EmailQuery,
    /// The matching mailbox (at most one); empty when nothing is held.
    pub subscribers: Vec<MailboxRecord>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS mailboxes (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_salt  TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created        TEXT NOT NULL,
    address        TEXT NOT NULL UNIQUE,
    display_name   TEXT,
    recovery_phone TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id         INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    token_hash TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    id         INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    time       TEXT NOT NULL,
    ip         TEXT NOT NULL,
    kind       TEXT NOT NULL
);
";

fn optional_text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, ProviderError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text_field(field, t, max).map(Some),
    }
}

fn check_phone(v: &Option<String>) -> Result<Option<String>, ProviderError> {
    let phone = optional_text("recovery_phone", v, 32)?;
    if let Some(p) = &phone {
        let ok = p.bytes().filter(u8::is_ascii_digit).count() >= 5 && p.bytes().all(|b| b.is_ascii_digit() || b" +-()".contains(&b));
        if !ok {
            return Err(ProviderError::BadInput("recovery_phone must be digits with optional + - ( ) and spaces".into()));
        }
    }
    Ok(phone)
}

/// The part of an address before the `@`: 3–64 of `[A-Za-z0-9._-]`, not starting or ending
/// with a dot and without two dots in a row (as mail providers allow).
fn validate_local_part(local: &str) -> Result<(), ProviderError> {
    let ok = (3..=64).contains(&local.len())
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if ok {
        Ok(())
    } else {
        Err(ProviderError::BadInput(
            "the address must be 3-64 letters, digits, '.', '_' or '-' (no leading, trailing or double dot)".into(),
        ))
    }
}

/// Opens a mailbox, records the sign-up IP and returns the address and a session token.
pub fn signup(
    conn: &Connection,
    rng: &mut SimRng,
    now: SimTime,
    ip: &str,
    domain: &str,
    s: &Signup,
) -> Result<SignupResponse, ProviderError> {
    validate_local_part(&s.username)?;
    validate_password(&s.password)?;
    let display_name = optional_text("display_name", &s.display_name, 100)?;
    let recovery_phone = check_phone(&s.recovery_phone)?;
    let username = s.username.to_ascii_lowercase();
    if MAILBOXES.username_taken(conn, &username)? {
        return Err(ProviderError::Conflict("address already taken".into()));
    }
    let address = format!("{username}@{domain}");
    let salt = new_salt(rng);
    conn.execute(
        "INSERT INTO mailboxes (username, password_salt, password_hash, created, address, display_name, recovery_phone)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![username, salt, hash_password(&salt, &s.password), now.to_string(), address, display_name, recovery_phone],
    )?;
    let id = conn.last_insert_rowid();
    record_login(conn, id, now, ip, "signup")?;
    let token = MAILBOXES.open_session(conn, rng, now, id)?;
    tracing::info!(%address, "email: mailbox opened");
    Ok(SignupResponse { address, token })
}

/// Checks a login, records its IP and returns a session token.
pub fn login(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, domain: &str, l: &Login) -> Result<String, ProviderError> {
    let lower = l.username.trim().to_ascii_lowercase();
    let local = lower.strip_suffix(&format!("@{domain}")).unwrap_or(&lower);
    let id = MAILBOXES.check_login(conn, local, &l.password)?.ok_or(ProviderError::BadLogin)?;
    record_login(conn, id, now, ip, "login")?;
    Ok(MAILBOXES.open_session(conn, rng, now, id)?)
}

fn record_login(conn: &Connection, id: i64, now: SimTime, ip: &str, kind: &str) -> Result<(), ProviderError> {
    conn.execute("INSERT INTO logins (mailbox_id, time, ip, kind) VALUES (?1, ?2, ?3, ?4)", params![id, now.to_string(), ip, kind])?;
    Ok(())
}

/// The mailbox behind a session token.
pub fn mailbox(conn: &Connection, token: Option<&str>) -> Result<MailboxView, ProviderError> {
    let (id, _) = MAILBOXES.session_account(conn, token.ok_or(ProviderError::Unauthorized)?)?.ok_or(ProviderError::Unauthorized)?;
    Ok(conn.query_row("SELECT address, display_name, created FROM mailboxes WHERE id = ?1", params![id], |r| {
        Ok(MailboxView { address: r.get(0)?, display_name: r.get(1)?, created: r.get(2)? })
    })?)
}

/// Produces the records for a legal query (validated here) and logs the request.
pub fn produce(conn: &Connection, now: SimTime, config: &EmailConfig, q: &EmailQuery) -> Result<EmailRecords, ProviderError> {
    q.validate()?;
    let key = q.key();
    let window = RetentionWindow::load(conn, now, config.retention, &key)?;
    let row: Option<(i64, MailboxRecord)> = conn
        .query_row("SELECT id, address, display_name, recovery_phone, created FROM mailboxes WHERE address = ?1", params![key.1], |r| {
            Ok((
                r.get(0)?,
                MailboxRecord {
                    address: r.get(1)?,
                    display_name: r.get(2)?,
                    recovery_phone: r.get(3)?,
                    created: r.get(4)?,
                    logins: Vec::new(),
                },
            ))
        })
        .optional()?;
    let mut subscribers = Vec::new();
    if let Some((id, mut record)) = row {
        let mut stmt = conn.prepare("SELECT time, ip, kind FROM logins WHERE mailbox_id = ?1 ORDER BY id")?;
        let logins = stmt
            .query_map(params![id], |r| Ok(LoginRecord { time: r.get(0)?, ip: r.get(1)?, kind: r.get(2)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        for l in logins {
            if window.keeps_stored(&l.time)? {
                record.logins.push(l);
            }
        }
        subscribers.push(record);
    }
    legal::log_request(conn, now, q, subscribers.len())?;
    Ok(EmailRecords { header: ProductionHeader::of(config, now), query: q.clone(), subscribers })
}

record_service!(
    /// A running e-mail provider. Cheap to clone (shared state); serve its router with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so peer IPs are known.
    EmailService,
    EmailConfig,
    ProviderError
);

legal_desk!(EmailService, EmailConfig, EmailQuery, EmailRecords);

impl EmailService {
    /// An e-mail provider over `db`; creates the schema if needed.
    pub fn new(config: EmailConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, ProviderError> {
        config.validate()?;
        Ok(EmailService { inner: super::open_core(config, db, clock, rng, SCHEMA)? })
    }

    /// The API and the legal desk as an axum router.
    pub fn router(&self) -> Router {
        legal::legal_routes(
            Router::new()
                .route("/api/signup", post(api_signup))
                .route("/api/login", post(api_login))
                .route("/api/mailbox", get(api_mailbox)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(self.clone())
    }
}

async fn api_signup(
    State(svc): State<EmailService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(s): ApiJson<Signup>,
) -> Result<Json<SignupResponse>, ProviderError> {
    let ip = client_ip(&headers, peer_of(info));
    let mut st = svc.lock()?;
    let st = &mut *st;
    Ok(Json(signup(&st.conn, &mut st.rng, svc.inner.clock.now(), &ip, &svc.inner.config.domain, &s)?))
}

async fn api_login(
    State(svc): State<EmailService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(l): ApiJson<Login>,
) -> Result<Json<TokenResponse>, ProviderError> {
    let ip = client_ip(&headers, peer_of(info));
    let mut st = svc.lock()?;
    let st = &mut *st;
    let token = login(&st.conn, &mut st.rng, svc.inner.clock.now(), &ip, &svc.inner.config.domain, &l)?;
    Ok(Json(TokenResponse { token }))
}

async fn api_mailbox(State(svc): State<EmailService>, headers: HeaderMap) -> Result<Json<MailboxView>, ProviderError> {
    let st = svc.lock()?;
    Ok(Json(mailbox(&st.conn, bearer_token(&headers))?))
}
