//! Exchange accounts: sign-up with KYC, login, bearer authentication and the login log.
//!
//! Every sign-up and successful login records the client IP with its simulated time —
//! the trace an investigator later obtains by legal process.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;
use sim_core::rng::SimRng;

use super::ExchangeError;
use crate::credentials::{AccountTable, hash_password, new_salt, validate_password, validate_username};

/// The exchange's accounts: `accounts`, referred to by `sessions.account_id`.
const ACCOUNTS: AccountTable = AccountTable { table: "accounts", session_column: "account_id" };

/// Longest accepted KYC field, in bytes.
pub const KYC_FIELD_MAX: usize = 200;

/// Identity documents given at sign-up (stable JSON keys: the lab parses them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kyc {
    /// Legal name.
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// E-mail address.
    pub email: String,
    /// Phone number.
    pub phone: String,
    /// Postal address.
    pub address: String,
}

/// Body of `POST /api/signup`.
#[derive(Debug, Clone, Deserialize)]
pub struct Signup {
    /// 3–32 characters of `[A-Za-z0-9_-]`.
    pub username: String,
    /// 1–256 bytes.
    pub password: String,
    /// Identity documents.
    pub kyc: Kyc,
}

/// Body of `POST /api/login`.
#[derive(Debug, Clone, Deserialize)]
pub struct Login {
    /// The account name.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// An authenticated exchange account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Row id.
    pub id: i64,
    /// The account name.
    pub username: String,
}

fn check_kyc(k: &Kyc) -> Result<(), ExchangeError> {
    for (name, v) in [
        ("full_name", &k.full_name),
        ("date_of_birth", &k.date_of_birth),
        ("email", &k.email),
        ("phone", &k.phone),
        ("address", &k.address),
    ] {
        if v.trim().is_empty() || v.len() > KYC_FIELD_MAX {
            return Err(ExchangeError::BadInput(format!("kyc.{name} must be 1-{KYC_FIELD_MAX} bytes")));
        }
    }
    let dob = k.date_of_birth.as_bytes();
    let dob_ok = dob.len() == 10 && dob.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !dob_ok {
        return Err(ExchangeError::BadInput("kyc.date_of_birth must be YYYY-MM-DD".into()));
    }
    if !k.email.contains('@') {
        return Err(ExchangeError::BadInput("kyc.email must be an e-mail address".into()));
    }
    Ok(())
}

/// Opens an account with KYC, records the sign-up IP and returns a session token.
pub fn signup(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, s: &Signup) -> Result<String, ExchangeError> {
    validate_username(&s.username)?;
    validate_password(&s.password)?;
    check_kyc(&s.kyc)?;
    if ACCOUNTS.username_taken(conn, &s.username)? {
        return Err(ExchangeError::Conflict("username already taken".into()));
    }
    let salt = new_salt(rng);
    let hash = hash_password(&salt, &s.password);
    conn.execute(
        "INSERT INTO accounts (username, password_salt, password_hash, created, full_name, date_of_birth, email, phone,
                               postal_address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![s.username, salt, hash, now.to_string(), s.kyc.full_name, s.kyc.date_of_birth, s.kyc.email, s.kyc.phone, s.kyc.address],
    )?;
    let id = conn.last_insert_rowid();
    record_login(conn, id, now, ip, "signup")?;
    tracing::info!(account = %s.username, "exchange: account opened");
    Ok(ACCOUNTS.open_session(conn, rng, now, id)?)
}

/// Checks a username and password, records the login IP and returns a session token.
pub fn login(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, l: &Login) -> Result<String, ExchangeError> {
    let id = ACCOUNTS.check_login(conn, &l.username, &l.password)?.ok_or(ExchangeError::BadLogin)?;
    record_login(conn, id, now, ip, "login")?;
    Ok(ACCOUNTS.open_session(conn, rng, now, id)?)
}

fn record_login(conn: &Connection, account_id: i64, now: SimTime, ip: &str, kind: &str) -> Result<(), ExchangeError> {
    conn.execute(
        "INSERT INTO logins (account_id, time, ip, kind) VALUES (?1, ?2, ?3, ?4)",
        params![account_id, now.to_string(), ip, kind],
    )?;
    Ok(())
}

/// The account behind a bearer token; 401 when there is none or it is unknown.
pub fn authenticate(conn: &Connection, token: Option<&str>) -> Result<Account, ExchangeError> {
    let token = token.ok_or(ExchangeError::Unauthorized)?;
    let (id, username) = ACCOUNTS.session_account(conn, token)?.ok_or(ExchangeError::Unauthorized)?;
    Ok(Account { id, username })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::db::prepare(&conn).unwrap();
        crate::exchange::schema::create(&conn).unwrap();
        conn
    }

    pub(crate) fn kyc(name: &str) -> Kyc {
        Kyc {
            full_name: name.into(),
            date_of_birth: "1990-04-01".into(),
            email: "j@example.org".into(),
            phone: "+31 6 1234 5678".into(),
            address: "Kerkstraat 1, Utrecht".into(),
        }
    }

    #[test]
    fn signup_login_and_ip_log() {
        let conn = db();
        let mut rng = sim_core::rng::stream(2, "exchange");
        let s = Signup { username: "jan".into(), password: "pw".into(), kyc: kyc("Jan Jansen") };
        let tok = signup(&conn, &mut rng, SimTime(100), "10.0.0.7", &s).unwrap();
        assert_eq!(authenticate(&conn, Some(&tok)).unwrap().username, "jan");
        assert!(matches!(signup(&conn, &mut rng, SimTime(100), "x", &s), Err(ExchangeError::Conflict(_))));
        let mut bad = s.clone();
        bad.username = "other".into();
        bad.kyc.date_of_birth = "01/04/1990".into();
        assert!(matches!(signup(&conn, &mut rng, SimTime(100), "x", &bad), Err(ExchangeError::BadInput(_))));
        login(&conn, &mut rng, SimTime(200), "10.0.0.8", &Login { username: "jan".into(), password: "pw".into() }).unwrap();
        let a = login(&conn, &mut rng, SimTime(200), "x", &Login { username: "jan".into(), password: "no".into() });
        let b = login(&conn, &mut rng, SimTime(200), "x", &Login { username: "nobody".into(), password: "pw".into() });
        assert_eq!(a.unwrap_err().to_string(), b.unwrap_err().to_string());
        let ips: Vec<String> = conn
            .prepare("SELECT time || ' ' || ip || ' ' || kind FROM logins ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ips, ["1970-01-01T00:01:40Z 10.0.0.7 signup", "1970-01-01T00:03:20Z 10.0.0.8 login"]);
    }
}
