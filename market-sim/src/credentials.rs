//! Credentials shared by the market and the exchange: username rules, salted password
//! hashes and session tokens, all drawn from the service's seeded RNG, and the account and
//! session tables both services keep (each names its own account table; see `AccountTable`).
//!
//! Invariants: no secret is ever drawn from an unseeded source (same requests, same
//! salts and tokens); only hashes of tokens are stored, so a dump or a seized database
//! does not hand out live sessions; a failed login costs the same work whether the
//! username exists or not.

use crate::db::Cached as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sim_core::clock::SimTime;
use sim_core::rng::{SimRng, bytes32};

/// Shortest accepted username.
pub const USERNAME_MIN: usize = 3;
/// Longest accepted username.
pub const USERNAME_MAX: usize = 32;
/// Longest accepted password, in bytes.
pub const PASSWORD_MAX: usize = 256;

/// Why a username or password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Username length or characters out of bounds.
    #[error("username must be 3-32 characters of A-Z, a-z, 0-9, '_' or '-'")]
    BadUsername,
    /// Empty or overlong password.
    #[error("password must be 1-256 bytes")]
    BadPassword,
}

/// Checks a username: 3–32 characters of `[A-Za-z0-9_-]`.
pub fn validate_username(name: &str) -> Result<(), CredentialError> {
    let ok_len = (USERNAME_MIN..=USERNAME_MAX).contains(&name.len());
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok_len && ok_chars { Ok(()) } else { Err(CredentialError::BadUsername) }
}

/// Checks a password: 1–256 bytes.
pub fn validate_password(password: &str) -> Result<(), CredentialError> {
    if password.is_empty() || password.len() > PASSWORD_MAX { Err(CredentialError::BadPassword) } else { Ok(()) }
}

/// A fresh hex salt (32 bytes) from the service RNG.
pub fn new_salt(rng: &mut SimRng) -> String {
    hex::encode(bytes32(rng))
}

/// SHA-256 over `salt || 0x00 || password`, as lower-case hex.
pub fn hash_password(salt_hex: &str, password: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt_hex.as_bytes());
    h.update([0u8]);
    h.update(password.as_bytes());
    hex::encode(h.finalize())
}

/// Whether `password` matches the stored salt and hash. When the user is unknown, call
/// it with [`DUMMY_SALT`] and [`DUMMY_HASH`] so the work done is the same.
pub fn verify_password(salt_hex: &str, hash_hex: &str, password: &str) -> bool {
    let computed = hash_password(salt_hex, password);
    constant_time_eq(computed.as_bytes(), hash_hex.as_bytes())
}

/// A salt used to burn the same work for an unknown username.
pub const DUMMY_SALT: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// A hash no password produces in practice, paired with [`DUMMY_SALT`].
pub const DUMMY_HASH: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

/// A fresh session token (64 hex characters) from the service RNG.
pub fn new_token(rng: &mut SimRng) -> String {
    hex::encode(bytes32(rng))
}

/// The stored form of a token: SHA-256 of it, as hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Answer to register, sign-up and login: `{"token": "<64 hex>"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    /// The bearer token for `Authorization: Bearer <token>`.
    pub token: String,
}

/// Where a service keeps its accounts: a table with `id`, `username`, `password_salt` and
/// `password_hash` columns, and the column of its `sessions` table (with `token_hash` and
/// `created`) that refers to it. Both names are fixed in code, never taken from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AccountTable {
    /// The account table (`users` at the market, `accounts` at the exchange).
    pub(crate) table: &'static str,
    /// The column of `sessions` holding the account id.
    pub(crate) session_column: &'static str,
}

impl AccountTable {
    /// Whether an account named `username` exists.
    pub(crate) fn username_taken(&self, conn: &Connection, username: &str) -> rusqlite::Result<bool> {
        let sql = format!("SELECT id FROM {} WHERE username = ?1", self.table);
        let taken: Option<i64> = conn.cached_row(&sql, params![username], |r| r.get(0)).optional()?;
        Ok(taken.is_some())
    }

    /// The id of the account `username` if `password` matches; `None` for a wrong username
    /// or a wrong password alike, with the same work done for both.
    pub(crate) fn check_login(&self, conn: &Connection, username: &str, password: &str) -> rusqlite::Result<Option<i64>> {
        let sql = format!("SELECT id, password_salt, password_hash FROM {} WHERE username = ?1", self.table);
        let row: Option<(i64, String, String)> =
            conn.cached_row(&sql, params![username], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
        match row {
            Some((id, salt, hash)) if verify_password(&salt, &hash, password) => Ok(Some(id)),
            Some(_) => Ok(None),
            None => {
                // Same work as a wrong password.
                let _ = verify_password(DUMMY_SALT, DUMMY_HASH, password);
                Ok(None)
            }
        }
    }

    /// Opens a session for `account_id` (only the token's hash is stored); returns the token.
    pub(crate) fn open_session(&self, conn: &Connection, rng: &mut SimRng, now: SimTime, account_id: i64) -> rusqlite::Result<String> {
        let token = new_token(rng);
        let sql = format!("INSERT INTO sessions ({}, token_hash, created) VALUES (?1, ?2, ?3)", self.session_column);
        conn.cached_exec(&sql, params![account_id, token_hash(&token), now.to_string()])?;
        Ok(token)
    }

    /// The `(id, username)` of the account whose session `token` is, if any.
    pub(crate) fn session_account(&self, conn: &Connection, token: &str) -> rusqlite::Result<Option<(i64, String)>> {
        let sql = format!(
            "SELECT a.id, a.username FROM sessions s JOIN {} a ON a.id = s.{} WHERE s.token_hash = ?1",
            self.table, self.session_column
        );
        conn.cached_row(&sql, params![token_hash(token)], |r| Ok((r.get(0)?, r.get(1)?))).optional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "vendor_1", "Big-Pharma", &"a".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "", "has space", "ünï", "a;drop", &"a".repeat(33)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let mut rng = sim_core::rng::stream(1, "t");
        let salt = new_salt(&mut rng);
        let h = hash_password(&salt, "hunter2");
        assert!(verify_password(&salt, &h, "hunter2"));
        assert!(!verify_password(&salt, &h, "hunter3"));
        assert!(!verify_password(DUMMY_SALT, DUMMY_HASH, "hunter2"));
    }

    #[test]
    fn tokens_are_seeded() {
        let a = new_token(&mut sim_core::rng::stream(9, "market"));
        let b = new_token(&mut sim_core::rng::stream(9, "market"));
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
