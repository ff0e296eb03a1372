//! A hosting company: customers, the servers they rent (with the address each got), the
//! payments for them (method and amount) and the IPs of every control-panel login — the
//! records that tie a market's server to whoever pays for and runs it.
//!
//! Paid in darkcoin (a provider with a wallet, [`HostingService::with_darkcoin`]), a rental
//! or renewal is answered with an invoice: a fresh deposit address from the provider's
//! wallet — the exchange's way of handing out deposit addresses — and the amount. The
//! provider watches the chain ([`HostingService::watch_invoices`], after each block and when
//! the customer looks at the panel) and records the payment once it is confirmed, with its
//! transaction id, the deposit address and the addresses that paid it.
//!
//! Routes:
//! - `POST /api/signup` `{username, password, full_name, email}` → `{token}`
//! - `POST /api/login` `{username, password}` → `{token}` (a panel login; its IP is recorded)
//! - 🔒 `POST /api/servers` `{plan, payment: {method, amount, currency, reference?}}` → [`RentAnswer`]
//!   (the server, and for `darkcoin` an [`InvoiceView`] to pay)
//! - 🔒 `POST /api/servers/{id}/renew` `{method, amount, currency, reference?}` → [`PaymentRecord`],
//!   or for `darkcoin` an [`InvoiceView`]
//! - 🔒 `GET /api/servers` → `[ServerView]`; 🔒 `GET /api/invoices` → `[InvoiceView]` (paid ones refreshed first)
//! - 🔒 `GET /legal/records?account=…` | `?email=…` | `?server_ip=…` → [`HostingRecords`]
//! - 🔒 `POST /legal/preserve?…` (same selectors) → [`Preservation`](legal::Preservation)
//!
//! Legal answer (stable keys, the lab parses them):
//! ```json
//! {"provider", "jurisdiction", "retention", "produced_at", "query": {"account"} | {"email"} | {"server_ip"},
//!  "customers": [{"username", "full_name", "email", "created",
//!                 "servers": [{"id", "ip", "plan", "rented_at"}],
//!                 "payments": [{"time", "server_ip", "method", "amount", "currency", "reference",
//!                               "txid", "deposit_address", "paid_from": [address]}],
//!                 "invoices": [{"id", "server_ip", "address", "amount_sat", "currency", "created", "status", "txid"}],
//!                 "logins": [{"time", "ip", "kind": "signup" | "login"}]}]}
//! ```
//! Customer details and servers are held while the account exists; payments, invoices and
//! logins are dated records under the retention rule of [`super::legal`].

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use coin_sim::{EsploraClient, Wallet};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimDuration, SimTime};
use sim_core::rng::{SimRng, below};

use super::legal::{self, LegalQuery, ProductionHeader, RetentionWindow, legal_desk};
use super::{ProviderError, provider_config, text_field, validate_common};
use crate::chain::ObservedPayment;
use crate::credentials::{AccountTable, TokenResponse, hash_password, new_salt, validate_password, validate_username};
use crate::http_util::{ApiJson, ApiPath, bearer_token, client_ip, method_not_allowed, not_found, peer_of};
use crate::service::{RecordCore, RecordState};

const CUSTOMERS: AccountTable = AccountTable { table: "customers", session_column: "customer_id" };

/// How the hosting company is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostingConfig {
    /// The provider's name, as it appears on produced records.
    pub name: String,
    /// The bearer credential of the legal desk (only the lab holds it).
    pub legal_token: String,
    /// How long dated records (payments, logins) are kept.
    pub retention: SimDuration,
    /// Where the provider is, e.g. `"DE"`.
    pub jurisdiction: String,
    /// The IPv4 block its servers' addresses come from, e.g. `"185.220.0.0/22"`.
    pub pool: String,
}

provider_config!(HostingConfig);

impl HostingConfig {
    /// Checks the configuration and the pool.
    pub fn validate(&self) -> Result<(), ProviderError> {
        validate_common(&self.name, &self.legal_token, self.retention, &self.jurisdiction)?;
        super::isp::parse_pool(&self.pool)?;
        Ok(())
    }
}

/// Body of `POST /api/signup`.
#[derive(Debug, Clone, Deserialize)]
pub struct Signup {
    /// 3–32 characters of `[A-Za-z0-9_-]`.
    pub username: String,
    /// 1–256 bytes.
    pub password: String,
    /// The name given for billing.
    pub full_name: String,
    /// The contact e-mail.
    pub email: String,
}

/// Body of `POST /api/login`.
#[derive(Debug, Clone, Deserialize)]
pub struct Login {
    /// The account name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A payment as given by the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// How it was paid: 1–32 characters of `[a-z_]`, e.g. `card`, `darkcoin`, `bank_transfer`.
    pub method: String,
    /// Amount in the currency's smallest unit (cents, satoshis).
    pub amount: u64,
    /// Three upper-case letters, e.g. `EUR`, `DRK`.
    pub currency: String,
    /// A card's last digits, a transaction id, an IBAN…
    #[serde(default)]
    pub reference: Option<String>,
}

/// Body of `POST /api/servers`.
#[derive(Debug, Clone, Deserialize)]
pub struct RentServer {
    /// The plan's name, e.g. `vps-small`.
    pub plan: String,
    /// The first period's payment.
    pub payment: Payment,
}

/// A rented server, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerView {
    /// Server id.
    pub id: i64,
    /// Its public address.
    pub ip: String,
    /// The plan.
    pub plan: String,
    /// When it was rented.
    pub rented_at: String,
}

/// An invoice for a darkcoin payment: where to pay and how much (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    /// Invoice id.
    pub id: i64,
    /// The server it is for.
    pub server_ip: String,
    /// The deposit address to pay (fresh from the provider's wallet).
    pub address: String,
    /// Amount due, in satoshis.
    pub amount_sat: u64,
    /// Currency code, as the customer gave it.
    pub currency: String,
    /// When it was issued.
    pub created: String,
    /// `open` until a confirmed payment covers it, then `paid`.
    pub status: String,
    /// The paying transaction(s), comma-separated, once paid.
    pub txid: Option<String>,
}

/// The answer to a rental: the server, and for a darkcoin payment the invoice to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RentAnswer {
    /// The server.
    #[serde(flatten)]
    pub server: ServerView,
    /// The invoice, when the payment is in darkcoin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceView>,
}

/// The answer to a renewal: the payment as recorded, or the invoice to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RenewAnswer {
    /// A payment taken as given (card, bank transfer).
    Paid(PaymentRecord),
    /// A darkcoin invoice: recorded as paid once the chain shows it.
    Invoiced(InvoiceView),
}

/// The legal query: exactly one of `account`, `email`, `server_ip`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostingQuery {
    /// A customer account name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// A contact e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A server's address: its renter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ip: Option<String>,
}

impl LegalQuery for HostingQuery {
    fn validate(&self) -> Result<(), ProviderError> {
        match (&self.account, &self.email, &self.server_ip) {
            (Some(v), None, None) => legal::check_value("account", v),
            (None, Some(v), None) => legal::check_value("email", v),
            (None, None, Some(v)) => legal::check_value("server_ip", v),
            _ => Err(ProviderError::BadInput("give exactly one of ?account=, ?email= or ?server_ip=".into())),
        }
    }

    fn key(&self) -> (&'static str, String) {
        match (&self.account, &self.email, &self.server_ip) {
            (Some(v), _, _) => ("account", v.trim().to_string()),
            (None, Some(v), _) => ("email", v.trim().to_ascii_lowercase()),
            (None, None, Some(v)) => ("server_ip", v.trim().to_string()),
            (None, None, None) => ("none", String::new()),
        }
    }
}

/// A payment in a production (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    /// When it was received.
    pub time: String,
    /// The server it paid for.
    pub server_ip: String,
    /// How it was paid.
    pub method: String,
    /// Amount in the smallest unit.
    pub amount: u64,
    /// Currency code.
    pub currency: String,
    /// Reference given, if any.
    pub reference: Option<String>,
    /// The paying transaction(s) as the provider saw them on the chain (darkcoin).
    #[serde(default)]
    pub txid: Option<String>,
    /// The deposit address of the invoice it paid (darkcoin).
    #[serde(default)]
    pub deposit_address: Option<String>,
    /// The addresses the paying transaction spent from (darkcoin).
    #[serde(default)]
    pub paid_from: Vec<String>,
}

/// A panel login or the sign-up, with its IP (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRecord {
    /// Simulated time, ISO-8601.
    pub time: String,
    /// The client IP.
    pub ip: String,
    /// `signup` or `login`.
    pub kind: String,
}

/// Everything held on one customer (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// Account name.
    pub username: String,
    /// Billing name as given.
    pub full_name: String,
    /// Contact e-mail as given.
    pub email: String,
    /// When the account was opened.
    pub created: String,
    /// Servers rented, by id.
    pub servers: Vec<ServerView>,
    /// Payments still held, oldest first.
    pub payments: Vec<PaymentRecord>,
    /// Darkcoin invoices still held (by issue date), oldest first.
    #[serde(default)]
    pub invoices: Vec<InvoiceView>,
    /// Sign-up and panel logins still held, oldest first.
    pub logins: Vec<LoginRecord>,
}

/// The hosting company's answer to a production order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostingRecords {
    /// Provider, jurisdiction, retention, time of production.
    #[serde(flatten)]
    pub header: ProductionHeader,
    /// What was asked.
    pub query: HostingQuery,
    /// Matching customers by id; empty when nothing is held.
    pub customers: Vec<CustomerRecord>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS customers (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL,
    full_name     TEXT NOT NULL,
    email         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    time        TEXT NOT NULL,
    ip          TEXT NOT NULL,
    kind        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS servers (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    ip          TEXT NOT NULL UNIQUE,
    plan        TEXT NOT NULL,
    rented_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    server_id   INTEGER NOT NULL REFERENCES servers(id),
    time        TEXT NOT NULL,
    method      TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    reference   TEXT,
    txid        TEXT,
    deposit_address TEXT,
    paid_from   TEXT
);
CREATE TABLE IF NOT EXISTS invoices (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    server_id   INTEGER NOT NULL REFERENCES servers(id),
    address     TEXT NOT NULL UNIQUE,
    amount_sat  INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    created     TEXT NOT NULL,
    payment_id  INTEGER REFERENCES payments(id)
);
";

/// The payment method a provider with a wallet invoices on the chain.
pub const DARKCOIN: &str = "darkcoin";

/// Opens a customer account, records the sign-up IP and returns a session token.
pub fn signup(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, s: &Signup) -> Result<String, ProviderError> {
    validate_username(&s.username)?;
    validate_password(&s.password)?;
    let full_name = text_field("full_name", &s.full_name, 200)?;
    let email = text_field("email", &s.email, 200)?;
    if !email.contains('@') {
        return Err(ProviderError::BadInput("email must be an e-mail address".into()));
    }
    if CUSTOMERS.username_taken(conn, &s.username)? {
        return Err(ProviderError::Conflict("username already taken".into()));
    }
    let salt = new_salt(rng);
    conn.execute(
        "INSERT INTO customers (username, password_salt, password_hash, created, full_name, email) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![s.username, salt, hash_password(&salt, &s.password), now.to_string(), full_name, email],
    )?;
    let id = conn.last_insert_rowid();
    record_login(conn, id, now, ip, "signup")?;
    tracing::info!(customer = %s.username, "hosting: customer signed up");
    Ok(CUSTOMERS.open_session(conn, rng, now, id)?)
}

/// Checks a panel login, records its IP and returns a session token.
pub fn login(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, l: &Login) -> Result<String, ProviderError> {
    let id = CUSTOMERS.check_login(conn, &l.username, &l.password)?.ok_or(ProviderError::BadLogin)?;
    record_login(conn, id, now, ip, "login")?;
    Ok(CUSTOMERS.open_session(conn, rng, now, id)?)
}

fn record_login(conn: &Connection, id: i64, now: SimTime, ip: &str, kind: &str) -> Result<(), ProviderError> {
    conn.execute("INSERT INTO logins (customer_id, time, ip, kind) VALUES (?1, ?2, ?3, ?4)", params![id, now.to_string(), ip, kind])?;
    Ok(())
}

/// The customer id behind a session token (401 otherwise).
pub fn authenticate(conn: &Connection, token: Option<&str>) -> Result<i64, ProviderError> {
    let token = token.ok_or(ProviderError::Unauthorized)?;
    Ok(CUSTOMERS.session_account(conn, token)?.ok_or(ProviderError::Unauthorized)?.0)
}

fn check_payment(p: &Payment) -> Result<(), ProviderError> {
    let method_ok = (1..=32).contains(&p.method.len()) && p.method.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if !method_ok {
        return Err(ProviderError::BadInput("payment.method must be 1-32 characters of a-z or '_'".into()));
    }
    if p.amount == 0 || i64::try_from(p.amount).is_err() {
        return Err(ProviderError::BadInput("payment.amount must be a positive integer".into()));
    }
    if p.currency.len() != 3 || !p.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ProviderError::BadInput("payment.currency must be three upper-case letters".into()));
    }
    if let Some(r) = &p.reference {
        text_field("payment.reference", r, 100)?;
    }
    Ok(())
}

fn record_payment(conn: &Connection, now: SimTime, customer: i64, server: i64, p: &Payment) -> Result<(), ProviderError> {
    let amount = i64::try_from(p.amount).map_err(|_| ProviderError::BadInput("payment.amount out of range".into()))?;
    let reference = p.reference.as_deref().map(str::trim);
    conn.execute(
        "INSERT INTO payments (customer_id, server_id, time, method, amount, currency, reference) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![customer, server, now.to_string(), p.method, amount, p.currency, reference],
    )?;
    Ok(())
}

/// Issues an invoice for `server`: a fresh deposit address from the provider's wallet.
fn issue_invoice(
    conn: &Connection,
    wallet: &mut Wallet,
    now: SimTime,
    customer: i64,
    server: i64,
    p: &Payment,
) -> Result<InvoiceView, ProviderError> {
    let amount = i64::try_from(p.amount).map_err(|_| ProviderError::BadInput("payment.amount out of range".into()))?;
    let address = wallet.new_address().to_string();
    conn.execute(
        "INSERT INTO invoices (customer_id, server_id, address, amount_sat, currency, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![customer, server, address, amount, p.currency, now.to_string()],
    )?;
    let id = conn.last_insert_rowid();
    tracing::info!(invoice = id, %address, "hosting: darkcoin invoice issued");
    invoice(conn, id)
}

const INVOICE_SELECT: &str = "SELECT i.id, s.ip, i.address, i.amount_sat, i.currency, i.created, p.txid
     FROM invoices i JOIN servers s ON s.id = i.server_id LEFT JOIN payments p ON p.id = i.payment_id";

fn invoice_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InvoiceView> {
    let txid: Option<String> = r.get(6)?;
    Ok(InvoiceView {
        id: r.get(0)?,
        server_ip: r.get(1)?,
        address: r.get(2)?,
        amount_sat: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        currency: r.get(4)?,
        created: r.get(5)?,
        status: if txid.is_some() { "paid" } else { "open" }.into(),
        txid,
    })
}

fn invoice(conn: &Connection, id: i64) -> Result<InvoiceView, ProviderError> {
    Ok(conn.query_row(&format!("{INVOICE_SELECT} WHERE i.id = ?1"), params![id], invoice_row)?)
}

/// The customer's invoices, oldest first.
pub fn invoices_of(conn: &Connection, customer: i64) -> Result<Vec<InvoiceView>, ProviderError> {
    let mut stmt = conn.prepare(&format!("{INVOICE_SELECT} WHERE i.customer_id = ?1 ORDER BY i.id"))?;
    Ok(stmt.query_map(params![customer], invoice_row)?.collect::<Result<_, _>>()?)
}

/// The invoices not yet paid: (id, deposit address), oldest first.
pub fn open_invoices(conn: &Connection) -> Result<Vec<(i64, String)>, ProviderError> {
    let mut stmt = conn.prepare("SELECT id, address FROM invoices WHERE payment_id IS NULL ORDER BY id")?;
    Ok(stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?)
}

/// Records the payment of invoice `id` when the confirmed outputs to its address cover the
/// amount: the total received, the paying transactions and the addresses that paid. Returns
/// whether it was paid now (an invoice is paid once).
pub fn settle_invoice(conn: &Connection, now: SimTime, id: i64, seen: &[ObservedPayment]) -> Result<bool, ProviderError> {
    let (customer, server, address, amount, currency, paid): (i64, i64, String, i64, String, Option<i64>) = conn.query_row(
        "SELECT customer_id, server_id, address, amount_sat, currency, payment_id FROM invoices WHERE id = ?1",
        params![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )?;
    if paid.is_some() {
        return Ok(false);
    }
    let confirmed = crate::chain::confirmed(seen, 1, |p| &p.output);
    let received: u64 = confirmed.iter().fold(0u64, |acc, p| acc.saturating_add(p.output.value_sat));
    if received < u64::try_from(amount).unwrap_or(u64::MAX) || confirmed.is_empty() {
        return Ok(false);
    }
    let mut txids: Vec<&str> = Vec::new();
    let mut from: Vec<&str> = Vec::new();
    for p in &confirmed {
        if !txids.contains(&p.output.txid.as_str()) {
            txids.push(&p.output.txid);
        }
        for a in &p.from {
            if !from.contains(&a.as_str()) {
                from.push(a);
            }
        }
    }
    let received = i64::try_from(received).map_err(|_| ProviderError::Internal("payment amount out of range".into()))?;
    conn.execute(
        "INSERT INTO payments (customer_id, server_id, time, method, amount, currency, reference, txid, deposit_address, paid_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9)",
        params![customer, server, now.to_string(), DARKCOIN, received, currency, txids.join(","), address, from.join(",")],
    )?;
    let payment = conn.last_insert_rowid();
    conn.execute("UPDATE invoices SET payment_id = ?1 WHERE id = ?2", params![payment, id])?;
    tracing::info!(invoice = id, txid = %txids.join(","), "hosting: darkcoin payment received");
    Ok(true)
}

/// Rents a server on a free pool address and records its first payment — or, paid in
/// darkcoin to a provider with a wallet, issues its first invoice.
pub fn rent(
    conn: &Connection,
    rng: &mut SimRng,
    wallet: Option<&mut Wallet>,
    now: SimTime,
    pool: &str,
    customer: i64,
    r: &RentServer,
) -> Result<RentAnswer, ProviderError> {
    let plan = text_field("plan", &r.plan, 50)?;
    check_payment(&r.payment)?;
    let (first, hosts) = super::isp::parse_pool(pool)?;
    let start = u32::try_from(below(rng, u64::from(hosts))).unwrap_or(0);
    let mut ip = None;
    for i in 0..hosts {
        let candidate = Ipv4Addr::from(first + (start + i) % hosts).to_string();
        let taken: Option<i64> = conn.query_row("SELECT id FROM servers WHERE ip = ?1", params![candidate], |r| r.get(0)).optional()?;
        if taken.is_none() {
            ip = Some(candidate);
            break;
        }
    }
    let ip = ip.ok_or_else(|| ProviderError::Exhausted("no free server address".into()))?;
    conn.execute(
        "INSERT INTO servers (customer_id, ip, plan, rented_at) VALUES (?1, ?2, ?3, ?4)",
        params![customer, ip, plan, now.to_string()],
    )?;
    let id = conn.last_insert_rowid();
    let invoice = match wallet.filter(|_| r.payment.method == DARKCOIN) {
        Some(w) => Some(issue_invoice(conn, w, now, customer, id, &r.payment)?),
        None => {
            record_payment(conn, now, customer, id, &r.payment)?;
            None
        }
    };
    tracing::info!(%ip, "hosting: server rented");
    Ok(RentAnswer { server: ServerView { id, ip, plan, rented_at: now.to_string() }, invoice })
}

/// Records a renewal payment for one of the customer's servers — or, paid in darkcoin to a
/// provider with a wallet, issues the renewal's invoice.
pub fn renew(
    conn: &Connection,
    wallet: Option<&mut Wallet>,
    now: SimTime,
    customer: i64,
    server: i64,
    p: &Payment,
) -> Result<RenewAnswer, ProviderError> {
    check_payment(p)?;
    let ip: String = conn
        .query_row("SELECT ip FROM servers WHERE id = ?1 AND customer_id = ?2", params![server, customer], |r| r.get(0))
        .optional()?
        .ok_or(ProviderError::NotFound("server"))?;
    if let Some(w) = wallet.filter(|_| p.method == DARKCOIN) {
        return Ok(RenewAnswer::Invoiced(issue_invoice(conn, w, now, customer, server, p)?));
    }
    record_payment(conn, now, customer, server, p)?;
    Ok(RenewAnswer::Paid(PaymentRecord {
        time: now.to_string(),
        server_ip: ip,
        method: p.method.clone(),
        amount: p.amount,
        currency: p.currency.clone(),
        reference: p.reference.as_deref().map(|r| r.trim().to_string()),
        txid: None,
        deposit_address: None,
        paid_from: Vec::new(),
    }))
}

/// The customer's servers, by id.
pub fn servers_of(conn: &Connection, customer: i64) -> Result<Vec<ServerView>, ProviderError> {
    let mut stmt = conn.prepare("SELECT id, ip, plan, rented_at FROM servers WHERE customer_id = ?1 ORDER BY id")?;
    let rows =
        stmt.query_map(params![customer], |r| Ok(ServerView { id: r.get(0)?, ip: r.get(1)?, plan: r.get(2)?, rented_at: r.get(3)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn customer_record(conn: &Connection, id: i64, window: &RetentionWindow) -> Result<CustomerRecord, ProviderError> {
    let (username, full_name, email, created) =
        conn.query_row("SELECT username, full_name, email, created FROM customers WHERE id = ?1", params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let mut stmt = conn.prepare(
        "SELECT p.time, s.ip, p.method, p.amount, p.currency, p.reference, p.txid, p.deposit_address, p.paid_from
         FROM payments p JOIN servers s ON s.id = p.server_id WHERE p.customer_id = ?1 ORDER BY p.id",
    )?;
    let payments = stmt
        .query_map(params![id], |r| {
            Ok(PaymentRecord {
                time: r.get(0)?,
                server_ip: r.get(1)?,
                method: r.get(2)?,
                amount: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                currency: r.get(4)?,
                reference: r.get(5)?,
                txid: r.get(6)?,
                deposit_address: r.get(7)?,
                paid_from: r
                    .get::<_, Option<String>>(8)?
                    .map(|f| f.split(',').filter(|a| !a.is_empty()).map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare("SELECT time, ip, kind FROM logins WHERE customer_id = ?1 ORDER BY id")?;
    let logins = stmt
        .query_map(params![id], |r| Ok(LoginRecord { time: r.get(0)?, ip: r.get(1)?, kind: r.get(2)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut record = CustomerRecord {
        username,
        full_name,
        email,
        created,
        servers: servers_of(conn, id)?,
        payments: Vec::new(),
        invoices: Vec::new(),
        logins: Vec::new(),
    };
    for i in invoices_of(conn, id)? {
        if window.keeps_stored(&i.created)? {
            record.invoices.push(i);
        }
    }
    for p in payments {
        if window.keeps_stored(&p.time)? {
            record.payments.push(p);
        }
    }
    for l in logins {
        if window.keeps_stored(&l.time)? {
            record.logins.push(l);
        }
    }
    Ok(record)
}

/// Produces the records for a legal query (validated here) and logs the request.
pub fn produce(conn: &Connection, now: SimTime, config: &HostingConfig, q: &HostingQuery) -> Result<HostingRecords, ProviderError> {
    q.validate()?;
    let key = q.key();
    let window = RetentionWindow::load(conn, now, config.retention, &key)?;
    let sql = match key.0 {
        "account" => "SELECT id FROM customers WHERE username = ?1 ORDER BY id",
        "email" => "SELECT id FROM customers WHERE lower(email) = ?1 ORDER BY id",
        _ => "SELECT DISTINCT customer_id FROM servers WHERE ip = ?1 ORDER BY customer_id",
    };
    let mut stmt = conn.prepare(sql)?;
    let ids = stmt.query_map(params![key.1], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>()?;
    let customers = ids.iter().map(|id| customer_record(conn, *id, &window)).collect::<Result<Vec<_>, _>>()?;
    legal::log_request(conn, now, q, customers.len())?;
    Ok(HostingRecords { header: ProductionHeader::of(config, now), query: q.clone(), customers })
}

/// A running hosting company. Cheap to clone (shared state); serve its router with
/// `into_make_service_with_connect_info::<SocketAddr>()` so peer IPs are known.
#[derive(Clone)]
pub struct HostingService {
    inner: Arc<RecordCore<HostingConfig>>,
    coin: Option<Arc<CoinDesk>>,
}

/// A provider's darkcoin side: the wallet its invoice addresses come from (taken only
/// while the record state is held, so addresses follow invoice ids) and its chain client.
struct CoinDesk {
    wallet: Mutex<Wallet>,
    chain: EsploraClient,
}

impl std::fmt::Debug for HostingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt_debug(f, "HostingService")
    }
}

legal_desk!(HostingService, HostingConfig, HostingQuery, HostingRecords);

impl HostingService {
    /// A hosting company over `db`; creates the schema if needed.
    pub fn new(config: HostingConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, ProviderError> {
        config.validate()?;
        Ok(HostingService { inner: super::open_core(config, db, clock, rng, SCHEMA)?, coin: None })
    }

    /// The same provider taking darkcoin: invoices are paid to addresses from `wallet`, watched
    /// on the chain through `chain`. Re-derives the invoice addresses on record (refusing a
    /// wallet whose seed does not match them).
    pub fn with_darkcoin(mut self, mut wallet: Wallet, chain: EsploraClient) -> Result<Self, ProviderError> {
        {
            let st = self.lock()?;
            let mut stmt = st.conn.prepare("SELECT address FROM invoices ORDER BY id")?;
            let recorded: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            crate::service::restore_wallet(&mut wallet, &recorded)
                .map_err(|_| ProviderError::Config("hosting wallet does not match the invoices on record (wrong seed?)".into()))?;
        }
        self.coin = Some(Arc::new(CoinDesk { wallet: Mutex::new(wallet), chain }));
        Ok(self)
    }

    /// The configuration.
    pub fn config(&self) -> &HostingConfig {
        &self.inner.config
    }

    /// Every table, tables by name and rows by id (for world digests).
    pub fn dump(&self) -> Result<serde_json::Value, ProviderError> {
        self.inner.dump()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, RecordState>, ProviderError> {
        self.inner.lock()
    }

    /// Looks at the chain for each open invoice and records the payments it finds confirmed;
    /// how many were paid now. A chain that cannot be reached is logged and tried next time.
    pub async fn watch_invoices(&self) -> Result<usize, ProviderError> {
        let Some(coin) = &self.coin else { return Ok(0) };
        let open = open_invoices(&self.lock()?.conn)?;
        let mut paid = 0;
        for (id, address) in open {
            let Some(parsed) = coin_sim::params::parse_address(&address) else {
                return Err(ProviderError::Internal(format!("stored address {address:?} does not parse")));
            };
            match crate::chain::payments_to(&coin.chain, &parsed).await {
                Ok(seen) => {
                    let st = self.lock()?;
                    paid += usize::from(settle_invoice(&st.conn, self.inner.clock.now(), id, &seen)?);
                }
                Err(e) => tracing::warn!(%address, error = %e, "hosting: cannot check an invoice"),
            }
        }
        Ok(paid)
    }

    /// The API (customer panel) and the legal desk as an axum router.
    pub fn router(&self) -> Router {
        legal::legal_routes(
            Router::new()
                .route("/api/signup", post(api_signup))
                .route("/api/login", post(api_login))
                .route("/api/servers", post(api_rent).get(api_servers))
                .route("/api/servers/{id}/renew", post(api_renew))
                .route("/api/invoices", get(api_invoices)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(self.clone())
    }
}

async fn api_signup(
    State(svc): State<HostingService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(s): ApiJson<Signup>,
) -> Result<Json<TokenResponse>, ProviderError> {
    let ip = client_ip(&headers, peer_of(info));
    let mut st = svc.lock()?;
    let st = &mut *st;
    Ok(Json(TokenResponse { token: signup(&st.conn, &mut st.rng, svc.inner.clock.now(), &ip, &s)? }))
}

async fn api_login(
    State(svc): State<HostingService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(l): ApiJson<Login>,
) -> Result<Json<TokenResponse>, ProviderError> {
    let ip = client_ip(&headers, peer_of(info));
    let mut st = svc.lock()?;
    let st = &mut *st;
    Ok(Json(TokenResponse { token: login(&st.conn, &mut st.rng, svc.inner.clock.now(), &ip, &l)? }))
}

async fn api_rent(
    State(svc): State<HostingService>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<RentServer>,
) -> Result<Json<RentAnswer>, ProviderError> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    let customer = authenticate(&st.conn, bearer_token(&headers))?;
    let mut wallet = svc.coin.as_ref().map(|c| c.wallet.lock().map_err(|_| ProviderError::Poisoned)).transpose()?;
    Ok(Json(rent(&st.conn, &mut st.rng, wallet.as_deref_mut(), svc.inner.clock.now(), &svc.inner.config.pool, customer, &r)?))
}

async fn api_renew(
    State(svc): State<HostingService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<Payment>,
) -> Result<Json<RenewAnswer>, ProviderError> {
    let st = svc.lock()?;
    let customer = authenticate(&st.conn, bearer_token(&headers))?;
    let mut wallet = svc.coin.as_ref().map(|c| c.wallet.lock().map_err(|_| ProviderError::Poisoned)).transpose()?;
    Ok(Json(renew(&st.conn, wallet.as_deref_mut(), svc.inner.clock.now(), customer, id, &p)?))
}

async fn api_invoices(State(svc): State<HostingService>, headers: HeaderMap) -> Result<Json<Vec<InvoiceView>>, ProviderError> {
    authenticate(&svc.lock()?.conn, bearer_token(&headers))?;
    svc.watch_invoices().await?;
    let st = svc.lock()?;
    let customer = authenticate(&st.conn, bearer_token(&headers))?;
    Ok(Json(invoices_of(&st.conn, customer)?))
}

async fn api_servers(State(svc): State<HostingService>, headers: HeaderMap) -> Result<Json<Vec<ServerView>>, ProviderError> {
    let st = svc.lock()?;
    let customer = authenticate(&st.conn, bearer_token(&headers))?;
    Ok(Json(servers_of(&st.conn, customer)?))
}
