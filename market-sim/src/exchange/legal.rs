//! The exchange's answer to legal process: the records it holds on the accounts matching
//! an address or an account name.
//!
//! The JSON shape is a contract with the lab, which parses it to learn facts — keep the
//! key names stable:
//! ```json
//! {"provider": "...", "query": {"address": "bcrt1..."} | {"account": "name"},
//!  "produced_at": "2026-03-01T08:00:00Z",
//!  "accounts": [{"username", "created", "kyc": {"full_name", "date_of_birth", "email", "phone", "address"},
//!                "deposit_addresses": [{"address", "created"}],
//!                "deposits": [{"txid", "vout", "address", "amount_sat", "credited_at"}],
//!                "logins": [{"time", "ip", "kind"}]}]}
//! ```
//! No match is an honest `"accounts": []`. Every production is logged in `legal_requests`.
//!
//! Retention (when the exchange has one): deposit addresses, deposits and logins are dated
//! records under the rule of [`crate::providers::legal`] — past retention they are left out
//! unless `POST /legal/preserve` for the same query was served while they existed; an
//! address whose records are gone matches no account any more. The account and its KYC
//! documents are kept while the account is open.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sim_core::clock::{SimDuration, SimTime};

use super::ExchangeError;
use super::accounts::Kyc;
use super::deposits::{Deposit, DepositAddress, addresses_of, deposits_of};
use crate::credentials::constant_time_eq;
use crate::providers::ProviderError;
use crate::providers::legal::{LegalQuery, Preservation, RetentionWindow};

/// The query string of `GET /legal/records`: exactly one of `address` or `account`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsQuery {
    /// A coin address: records of the account(s) it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// An account name: records of that account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl RecordsQuery {
    /// Checks that exactly one non-empty selector is given.
    pub fn validate(&self) -> Result<(), ExchangeError> {
        match (&self.address, &self.account) {
            (Some(a), None) if !a.trim().is_empty() && a.len() <= 128 => Ok(()),
            (None, Some(u)) if !u.trim().is_empty() && u.len() <= 128 => Ok(()),
            _ => Err(ExchangeError::BadInput("give exactly one of ?address= or ?account=".into())),
        }
    }
}

impl LegalQuery for RecordsQuery {
    fn validate(&self) -> Result<(), ProviderError> {
        RecordsQuery::validate(self).map_err(|e| ProviderError::BadInput(e.to_string()))
    }

    fn key(&self) -> (&'static str, String) {
        match (&self.address, &self.account) {
            (Some(a), _) => ("address", a.trim().to_string()),
            (None, Some(u)) => ("account", u.trim().to_string()),
            (None, None) => ("none", String::new()),
        }
    }
}

/// A shared legal-desk error as the exchange's own.
fn exchange_error(e: ProviderError) -> ExchangeError {
    match e {
        ProviderError::BadInput(m) => ExchangeError::BadInput(m),
        ProviderError::Db(d) => ExchangeError::Db(d),
        other => ExchangeError::Internal(other.to_string()),
    }
}

/// Records a preservation of the records matching `q` (validated here) at `now`.
pub fn preserve(conn: &Connection, now: SimTime, provider: &str, q: &RecordsQuery) -> Result<Preservation<RecordsQuery>, ExchangeError> {
    q.validate()?;
    crate::providers::legal::preserve(conn, now, provider, q).map_err(exchange_error)
}

/// A login (or sign-up) with its IP (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRecord {
    /// Simulated time, ISO-8601.
    pub time: String,
    /// The client IP as the exchange saw it.
    pub ip: String,
    /// `signup` or `login`.
    pub kind: String,
}

/// Everything the exchange holds on one account (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The account name.
    pub username: String,
    /// When it was opened (simulated time, ISO-8601).
    pub created: String,
    /// Identity documents given at sign-up.
    pub kyc: Kyc,
    /// Deposit addresses issued, oldest first.
    pub deposit_addresses: Vec<DepositAddress>,
    /// Deposits credited, in order.
    pub deposits: Vec<Deposit>,
    /// Sign-ups and logins with IPs, in order.
    pub logins: Vec<LoginRecord>,
}

/// The production answered to a legal request (stable JSON keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalRecords {
    /// The provider's name.
    pub provider: String,
    /// What was asked.
    pub query: RecordsQuery,
    /// When the records were produced (simulated time, ISO-8601).
    pub produced_at: String,
    /// Matching accounts by id; empty when the provider holds nothing.
    pub accounts: Vec<AccountRecord>,
}

/// Checks the presented bearer credential against the lab's legal token (401 otherwise).
pub fn check_legal_token(expected: &str, presented: Option<&str>) -> Result<(), ExchangeError> {
    let presented = presented.ok_or(ExchangeError::Unauthorized)?;
    // Compare digests so neither length nor content leaks through timing.
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    if constant_time_eq(&a, &b) { Ok(()) } else { Err(ExchangeError::Unauthorized) }
}

/// Ids of the accounts matching the query, by id.
pub fn matching_accounts(conn: &Connection, q: &RecordsQuery) -> Result<Vec<i64>, ExchangeError> {
    let (sql, value) = match (&q.address, &q.account) {
        (Some(a), _) => (
            "SELECT DISTINCT account_id FROM (
                 SELECT account_id FROM deposit_addresses WHERE address = ?1
                 UNION SELECT account_id FROM deposits WHERE address = ?1)
             ORDER BY account_id",
            a.trim(),
        ),
        (None, Some(u)) => ("SELECT id FROM accounts WHERE username = ?1 ORDER BY id", u.trim()),
        (None, None) => return Ok(Vec::new()),
    };
    let mut stmt = conn.prepare(sql)?;
    let ids = stmt.query_map(params![value], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// The full record of one account.
pub fn account_record(conn: &Connection, account_id: i64) -> Result<AccountRecord, ExchangeError> {
    let (username, created, kyc) = conn.query_row(
        "SELECT username, created, full_name, date_of_birth, email, phone, postal_address FROM accounts WHERE id = ?1",
        params![account_id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                Kyc { full_name: r.get(2)?, date_of_birth: r.get(3)?, email: r.get(4)?, phone: r.get(5)?, address: r.get(6)? },
            ))
        },
    )?;
    let mut stmt = conn.prepare("SELECT time, ip, kind FROM logins WHERE account_id = ?1 ORDER BY id")?;
    let logins = stmt
        .query_map(params![account_id], |r| Ok(LoginRecord { time: r.get(0)?, ip: r.get(1)?, kind: r.get(2)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AccountRecord {
        username,
        created,
        kyc,
        deposit_addresses: addresses_of(conn, account_id)?,
        deposits: deposits_of(conn, account_id)?,
        logins,
    })
}

/// Produces the records for a (validated) query and logs the request; every record kept.
pub fn produce(conn: &Connection, now: SimTime, provider: &str, q: &RecordsQuery) -> Result<LegalRecords, ExchangeError> {
    produce_within(conn, now, provider, None, q)
}

/// [`produce`] under a retention period (none: everything is kept).
pub fn produce_within(
    conn: &Connection,
    now: SimTime,
    provider: &str,
    retention: Option<SimDuration>,
    q: &RecordsQuery,
) -> Result<LegalRecords, ExchangeError> {
    q.validate()?;
    let ids = matching_accounts(conn, q)?;
    let mut accounts = ids.iter().map(|id| account_record(conn, *id)).collect::<Result<Vec<_>, _>>()?;
    if let Some(r) = retention {
        let window = RetentionWindow::load(conn, now, r, &q.key()).map_err(exchange_error)?;
        accounts = kept(accounts, &window, q).map_err(exchange_error)?;
    }
    let (kind, value) = match (&q.address, &q.account) {
        (Some(a), _) => ("address", a.as_str()),
        (None, Some(u)) => ("account", u.as_str()),
        (None, None) => ("none", ""),
    };
    conn.execute(
        "INSERT INTO legal_requests (time, query_kind, query_value, accounts) VALUES (?1, ?2, ?3, ?4)",
        params![now.to_string(), kind, value, i64::try_from(accounts.len()).unwrap_or(i64::MAX)],
    )?;
    tracing::info!(kind, value, accounts = accounts.len(), "exchange: records produced under legal process");
    Ok(LegalRecords { provider: provider.to_string(), query: q.clone(), produced_at: now.to_string(), accounts })
}

/// The accounts as far as `window` keeps their dated records; an account found by an
/// address whose records are all gone is left out.
fn kept(accounts: Vec<AccountRecord>, window: &RetentionWindow, q: &RecordsQuery) -> Result<Vec<AccountRecord>, ProviderError> {
    let mut out = Vec::new();
    for mut a in accounts {
        let mut addresses = Vec::new();
        for d in a.deposit_addresses {
            if window.keeps_stored(&d.created)? {
                addresses.push(d);
            }
        }
        a.deposit_addresses = addresses;
        let mut deposits = Vec::new();
        for d in a.deposits {
            if window.keeps_stored(&d.credited_at)? && a.deposit_addresses.iter().any(|x| x.address == d.address) {
                deposits.push(d);
            }
        }
        a.deposits = deposits;
        let mut logins = Vec::new();
        for l in a.logins {
            if window.keeps_stored(&l.time)? {
                logins.push(l);
            }
        }
        a.logins = logins;
        let found = match &q.address {
            Some(addr) => a.deposit_addresses.iter().any(|x| x.address == addr.trim()),
            None => true,
        };
        if found {
            out.push(a);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::accounts::tests::{db, kyc};
    use crate::exchange::accounts::{Signup, authenticate, signup};
    use crate::exchange::deposits::new_deposit_address;

    #[test]
    fn retention_drops_old_records_unless_preserved() {
        let conn = db();
        let mut rng = sim_core::rng::stream(4, "exchange");
        let tok = signup(
            &conn,
            &mut rng,
            SimTime(1),
            "10.9.8.7",
            &Signup { username: "dvisser".into(), password: "pw".into(), kyc: kyc("Daan Visser") },
        )
        .unwrap();
        let acct = authenticate(&conn, Some(&tok)).unwrap();
        let a = new_deposit_address(&conn, &mut coin_sim::Wallet::from_seed([2; 32]), SimTime(2), &acct).unwrap();
        let by_addr = RecordsQuery { address: Some(a.address.clone()), account: None };
        let retention = Some(SimDuration(50));
        assert_eq!(produce_within(&conn, SimTime(40), "X", retention, &by_addr).unwrap().accounts.len(), 1, "still within retention");
        let gone = produce_within(&conn, SimTime(100), "X", retention, &by_addr).unwrap();
        assert!(gone.accounts.is_empty(), "the address's record is past retention: no account matches");
        let by_name =
            produce_within(&conn, SimTime(100), "X", retention, &RecordsQuery { address: None, account: Some("dvisser".into()) }).unwrap();
        assert_eq!(by_name.accounts[0].kyc.full_name, "Daan Visser", "the account itself is kept");
        assert!(by_name.accounts[0].deposit_addresses.is_empty() && by_name.accounts[0].logins.is_empty());
        preserve(&conn, SimTime(30), "X", &by_addr).unwrap();
        let kept = produce_within(&conn, SimTime(100), "X", retention, &by_addr).unwrap();
        assert_eq!(kept.accounts.len(), 1, "preserved while it existed");
        assert_eq!(kept.accounts[0].logins.len(), 1);
        assert!(produce(&conn, SimTime(10_000), "X", &by_addr).unwrap().accounts.len() == 1, "without retention nothing expires");
    }

    #[test]
    fn token_check() {
        assert!(check_legal_token("lab-secret-0123456789", Some("lab-secret-0123456789")).is_ok());
        assert!(check_legal_token("lab-secret-0123456789", Some("lab-secret")).is_err());
        assert!(check_legal_token("lab-secret-0123456789", None).is_err());
    }

    #[test]
    fn records_by_address_and_account() {
        let conn = db();
        let mut rng = sim_core::rng::stream(3, "exchange");
        let tok = signup(
            &conn,
            &mut rng,
            SimTime(1),
            "10.9.8.7",
            &Signup { username: "piet".into(), password: "pw".into(), kyc: kyc("Piet Pietersen") },
        )
        .unwrap();
        let acct = authenticate(&conn, Some(&tok)).unwrap();
        let a = new_deposit_address(&conn, &mut coin_sim::Wallet::from_seed([1; 32]), SimTime(2), &acct).unwrap();
        let by_addr = produce(&conn, SimTime(9), "XchG", &RecordsQuery { address: Some(a.address.clone()), account: None }).unwrap();
        assert_eq!(by_addr.accounts.len(), 1);
        assert_eq!(by_addr.accounts[0].kyc.full_name, "Piet Pietersen");
        assert_eq!(by_addr.accounts[0].logins[0].ip, "10.9.8.7");
        let json = serde_json::to_value(&by_addr).unwrap();
        assert_eq!(json["query"]["address"], a.address.as_str());
        assert!(json["query"].get("account").is_none());
        assert_eq!(json["accounts"][0]["deposit_addresses"][0]["created"], "1970-01-01T00:00:02Z");
        let by_name = produce(&conn, SimTime(9), "XchG", &RecordsQuery { address: None, account: Some("piet".into()) }).unwrap();
        assert_eq!(by_name.accounts, by_addr.accounts);
        let none = produce(&conn, SimTime(9), "XchG", &RecordsQuery { address: Some("bcrt1qforeign".into()), account: None }).unwrap();
        assert!(none.accounts.is_empty());
        assert!(produce(&conn, SimTime(9), "XchG", &RecordsQuery::default()).is_err());
        let both = RecordsQuery { address: Some("a".into()), account: Some("b".into()) };
        assert!(matches!(produce(&conn, SimTime(9), "XchG", &both), Err(ExchangeError::BadInput(_))));
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM legal_requests", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 3);
    }
}
