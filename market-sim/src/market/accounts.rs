//! Market accounts: registration, login and bearer-token authentication.
//!
//! Every account can buy; opening a shop (see [`super::shop`]) makes it a vendor too.
//! A wrong username and a wrong password get the same answer.

use crate::db::Cached as _;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;
use sim_core::rng::SimRng;

use super::MarketError;
use crate::credentials::{AccountTable, hash_password, new_salt, validate_password, validate_username};

/// The market's accounts: `users`, referred to by `sessions.user_id`.
const USERS: AccountTable = AccountTable { table: "users", session_column: "user_id" };

/// An authenticated market user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// The handle (also the vendor handle once a shop is open).
    pub username: String,
    /// `user` or `operator`.
    pub role: String,
}

impl User {
    /// Whether this is the market's operator.
    pub fn is_operator(&self) -> bool {
        self.role == ROLE_OPERATOR
    }
}

/// The role of the market's operator account.
pub const ROLE_OPERATOR: &str = "operator";

/// Body of `POST /api/register` and `POST /api/login`.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    /// 3–32 characters of `[A-Za-z0-9_-]`.
    pub username: String,
    /// 1–256 bytes.
    pub password: String,
    /// The id from `GET /api/captcha` (needed when the market asks a captcha).
    #[serde(default)]
    pub captcha_id: Option<String>,
    /// The answer to that captcha's question.
    #[serde(default)]
    pub captcha_answer: Option<String>,
}

/// Creates an account and a first session; returns its token. 409 if the name is taken;
/// 400 if `captcha_required` and the captcha is missing or wrong (a captcha is used up
/// by the attempt either way).
pub fn register(conn: &Connection, rng: &mut SimRng, now: SimTime, c: &Credentials, captcha_required: bool) -> Result<String, MarketError> {
    validate_username(&c.username)?;
    validate_password(&c.password)?;
    if captcha_required {
        super::captcha::solve(conn, c.captcha_id.as_deref(), c.captcha_answer.as_deref())?;
    }
    if USERS.username_taken(conn, &c.username)? {
        return Err(MarketError::Conflict("username already taken".into()));
    }
    let salt = new_salt(rng);
    let hash = hash_password(&salt, &c.password);
    conn.cached_exec(
        "INSERT INTO users (username, password_salt, password_hash, created) VALUES (?1, ?2, ?3, ?4)",
        params![c.username, salt, hash, now.to_string()],
    )?;
    let id = conn.last_insert_rowid();
    tracing::info!(user = %c.username, "market: account registered");
    Ok(USERS.open_session(conn, rng, now, id)?)
}

/// Checks a username and password and opens a session; returns its token.
pub fn login(conn: &Connection, rng: &mut SimRng, now: SimTime, c: &Credentials) -> Result<String, MarketError> {
    let id = USERS.check_login(conn, &c.username, &c.password)?.ok_or(MarketError::BadLogin)?;
    if is_banned(conn, id)? {
        return Err(MarketError::Forbidden("this account is banned"));
    }
    Ok(USERS.open_session(conn, rng, now, id)?)
}

/// The user behind a bearer token; 401 when there is none or it is unknown.
pub fn authenticate(conn: &Connection, token: Option<&str>) -> Result<User, MarketError> {
    let token = token.ok_or(MarketError::Unauthorized)?;
    let (id, username) = USERS.session_account(conn, token)?.ok_or(MarketError::Unauthorized)?;
    let (role, banned): (String, bool) =
        conn.cached_row("SELECT role, banned FROM users WHERE id = ?1", params![id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if banned {
        return Err(MarketError::Forbidden("this account is banned"));
    }
    Ok(User { id, username, role })
}

/// Whether account `id` is banned.
pub fn is_banned(conn: &Connection, id: i64) -> Result<bool, MarketError> {
    Ok(conn.cached_row("SELECT banned FROM users WHERE id = ?1", params![id], |r| r.get(0))?)
}

/// Creates the account `username` with `role` unless it exists (the operator's, at start).
pub(crate) fn ensure_account(
    conn: &Connection,
    rng: &mut SimRng,
    now: SimTime,
    username: &str,
    password: &str,
    role: &str,
) -> Result<(), MarketError> {
    if USERS.username_taken(conn, username)? {
        conn.cached_exec("UPDATE users SET role = ?1 WHERE username = ?2", params![role, username])?;
        return Ok(());
    }
    let salt = new_salt(rng);
    let hash = hash_password(&salt, password);
    conn.cached_exec(
        "INSERT INTO users (username, password_salt, password_hash, created, role) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![username, salt, hash, now.to_string(), role],
    )?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::db::prepare(&conn).unwrap();
        crate::market::schema::create(&conn).unwrap();
        conn
    }

    fn creds(u: &str, p: &str) -> Credentials {
        Credentials { username: u.into(), password: p.into(), captcha_id: None, captcha_answer: None }
    }

    #[test]
    fn register_login_authenticate() {
        let conn = db();
        let mut rng = sim_core::rng::stream(1, "market");
        let t = SimTime(1000);
        let tok = register(&conn, &mut rng, t, &creds("alice", "pw"), false).unwrap();
        assert_eq!(authenticate(&conn, Some(&tok)).unwrap().username, "alice");
        assert!(matches!(register(&conn, &mut rng, t, &creds("alice", "x"), false), Err(MarketError::Conflict(_))));
        assert!(matches!(register(&conn, &mut rng, t, &creds("a b", "x"), false), Err(MarketError::Credential(_))));
        let tok2 = login(&conn, &mut rng, t, &creds("alice", "pw")).unwrap();
        assert_ne!(tok, tok2);
        let wrong_pw = login(&conn, &mut rng, t, &creds("alice", "nope")).unwrap_err();
        let wrong_user = login(&conn, &mut rng, t, &creds("bob", "pw")).unwrap_err();
        assert_eq!(wrong_pw.to_string(), wrong_user.to_string());
        assert!(matches!(authenticate(&conn, Some("bogus")), Err(MarketError::Unauthorized)));
        assert!(matches!(authenticate(&conn, None), Err(MarketError::Unauthorized)));
    }
}
