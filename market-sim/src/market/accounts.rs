//! Market accounts: registration, login and bearer-token authentication.
//!
//! Every account can buy; opening a shop (see [`super::shop`]) makes it a vendor too.
//! A wrong username and a wrong password get the same answer.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;
use sim_core::rng::SimRng;

use super::MarketError;
use super::credentials::{
    DUMMY_HASH, DUMMY_SALT, hash_password, new_salt, new_token, token_hash, validate_password, validate_username, verify_password,
};

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

/// Answer to register and login: `{"token": "<64 hex>"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    /// The bearer token for `Authorization: Bearer <token>`.
    pub token: String,
}

/// Creates an account and a first session; returns its token. 409 if the name is taken.
pub fn register(conn: &Connection, rng: &mut SimRng, now: SimTime, c: &Credentials) -> Result<String, MarketError> {
    validate_username(&c.username)?;
    validate_password(&c.password)?;
    let taken: Option<i64> = conn.query_row("SELECT id FROM users WHERE username = ?1", params![c.username], |r| r.get(0)).optional()?;
    if taken.is_some() {
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
    new_session(conn, rng, now, id)
}

/// Checks a username and password and opens a session; returns its token.
pub fn login(conn: &Connection, rng: &mut SimRng, now: SimTime, c: &Credentials) -> Result<String, MarketError> {
    let row: Option<(i64, String, String)> = conn
        .query_row("SELECT id, password_salt, password_hash FROM users WHERE username = ?1", params![c.username], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    match row {
        Some((id, salt, hash)) if verify_password(&salt, &hash, &c.password) => new_session(conn, rng, now, id),
        Some(_) => Err(MarketError::BadLogin),
        None => {
            // Same work as a wrong password.
            let _ = verify_password(DUMMY_SALT, DUMMY_HASH, &c.password);
            Err(MarketError::BadLogin)
        }
    }
}

fn new_session(conn: &Connection, rng: &mut SimRng, now: SimTime, user_id: i64) -> Result<String, MarketError> {
    let token = new_token(rng);
    conn.execute(
        "INSERT INTO sessions (user_id, token_hash, created) VALUES (?1, ?2, ?3)",
        params![user_id, token_hash(&token), now.to_string()],
    )?;
    Ok(token)
}

/// The user behind a bearer token; 401 when there is none or it is unknown.
pub fn authenticate(conn: &Connection, token: Option<&str>) -> Result<User, MarketError> {
    let token = token.ok_or(MarketError::Unauthorized)?;
    conn.query_row(
        "SELECT u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
        params![token_hash(token)],
        |r| Ok(User { id: r.get(0)?, username: r.get(1)? }),
    )
    .optional()?
    .ok_or(MarketError::Unauthorized)
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
