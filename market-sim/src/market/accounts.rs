//! Market accounts: registration, login and bearer-token authentication.
//!
//! Every account can buy; opening a shop (see [`super::shop`]) makes it a vendor too.
//! A wrong username and a wrong password get the same answer.

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
}

/// Body of `POST /api/register` and `POST /api/login`.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    /// 3–32 characters of `[A-Za-z0-9_-]`.
    pub username: String,
    /// 1–256 bytes.
    pub password: String,
}

/// Creates an account and a first session; returns its token. 409 if the name is taken.
pub fn register(conn: &Connection, rng: &mut SimRng, now: SimTime, c: &Credentials) -> Result<String, MarketError> {
    validate_username(&c.username)?;
    validate_password(&c.password)?;
    if USERS.username_taken(conn, &c.username)? {
        return Err(MarketError::Conflict("username already taken".into()));
    }
    let salt = new_salt(rng);
    let hash = hash_password(&salt, &c.password);
    conn.execute(
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
    Ok(USERS.open_session(conn, rng, now, id)?)
}

/// The user behind a bearer token; 401 when there is none or it is unknown.
pub fn authenticate(conn: &Connection, token: Option<&str>) -> Result<User, MarketError> {
    let token = token.ok_or(MarketError::Unauthorized)?;
    let (id, username) = USERS.session_account(conn, token)?.ok_or(MarketError::Unauthorized)?;
    Ok(User { id, username })
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
        Credentials { username: u.into(), password: p.into() }
    }

    #[test]
    fn register_login_authenticate() {
        let conn = db();
        let mut rng = sim_core::rng::stream(1, "market");
        let t = SimTime(1000);
        let tok = register(&conn, &mut rng, t, &creds("alice", "pw")).unwrap();
        assert_eq!(authenticate(&conn, Some(&tok)).unwrap().username, "alice");
        assert!(matches!(register(&conn, &mut rng, t, &creds("alice", "x")), Err(MarketError::Conflict(_))));
        assert!(matches!(register(&conn, &mut rng, t, &creds("a b", "x")), Err(MarketError::Credential(_))));
        let tok2 = login(&conn, &mut rng, t, &creds("alice", "pw")).unwrap();
        assert_ne!(tok, tok2);
        let wrong_pw = login(&conn, &mut rng, t, &creds("alice", "nope")).unwrap_err();
        let wrong_user = login(&conn, &mut rng, t, &creds("bob", "pw")).unwrap_err();
        assert_eq!(wrong_pw.to_string(), wrong_user.to_string());
        assert!(matches!(authenticate(&conn, Some("bogus")), Err(MarketError::Unauthorized)));
        assert!(matches!(authenticate(&conn, None), Err(MarketError::Unauthorized)));
    }
}
