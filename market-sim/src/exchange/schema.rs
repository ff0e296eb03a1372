//! The exchange's SQLite schema: the records a custodial exchange keeps and hands over
//! under legal process (KYC, deposit addresses, deposits, logins with IPs).
//!
//! Times are ISO-8601 UTC text from the simulated clock; amounts integer satoshis;
//! session tokens are stored only as hashes.

use rusqlite::Connection;

/// Creates every exchange table if it does not exist yet.
pub fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_salt  TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created        TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    date_of_birth  TEXT NOT NULL,
    email          TEXT NOT NULL,
    phone          TEXT NOT NULL,
    postal_address TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    token_hash TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    time       TEXT NOT NULL,
    ip         TEXT NOT NULL,
    kind       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deposit_addresses (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    address    TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deposits (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    address     TEXT NOT NULL,
    txid        TEXT NOT NULL,
    vout        INTEGER NOT NULL,
    amount_sat  INTEGER NOT NULL,
    credited_at TEXT NOT NULL,
    UNIQUE (txid, vout)
);
CREATE TABLE IF NOT EXISTS legal_requests (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    query_kind  TEXT NOT NULL,
    query_value TEXT NOT NULL,
    accounts    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS preservations (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    query_kind  TEXT NOT NULL,
    query_value TEXT NOT NULL
);
";
