//! The market's SQLite schema: what a seized copy of the market server would hold.
//!
//! Times are stored as ISO-8601 UTC text from the simulated clock; amounts as integer
//! satoshis. Session tokens are stored only as hashes.

use rusqlite::Connection;

/// Creates every market table if it does not exist yet.
pub fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vendors (
    user_id        INTEGER PRIMARY KEY REFERENCES users(id),
    bio            TEXT NOT NULL,
    pgp_key        TEXT,
    payout_address TEXT NOT NULL,
    opened         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS listings (
    id          INTEGER PRIMARY KEY,
    vendor_id   INTEGER NOT NULL REFERENCES vendors(user_id),
    title       TEXT NOT NULL,
    category    TEXT NOT NULL,
    description TEXT NOT NULL,
    price_sat   INTEGER NOT NULL,
    ships_from  TEXT NOT NULL,
    ships_to    TEXT NOT NULL,
    stock       INTEGER NOT NULL,
    created     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS escrow_addresses (
    id               INTEGER PRIMARY KEY,
    address          TEXT NOT NULL UNIQUE,
    purpose          TEXT NOT NULL,
    created          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id             INTEGER PRIMARY KEY,
    listing_id     INTEGER NOT NULL REFERENCES listings(id),
    buyer_id       INTEGER NOT NULL REFERENCES users(id),
    vendor_id      INTEGER NOT NULL REFERENCES vendors(user_id),
    quantity       INTEGER NOT NULL,
    unit_price_sat INTEGER NOT NULL,
    amount_sat     INTEGER NOT NULL,
    shipping_info  TEXT NOT NULL,
    escrow_address TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    created        TEXT NOT NULL,
    paid_at        TEXT,
    paid_sat       INTEGER,
    funding_txid   TEXT,
    shipped_at     TEXT,
    finalized_at   TEXT,
    payout_txid    TEXT,
    commission_sat INTEGER,
    fee_sat        INTEGER
);
CREATE TABLE IF NOT EXISTS feedback (
    id        INTEGER PRIMARY KEY,
    order_id  INTEGER NOT NULL UNIQUE REFERENCES orders(id),
    vendor_id INTEGER NOT NULL REFERENCES vendors(user_id),
    buyer_id  INTEGER NOT NULL REFERENCES users(id),
    rating    INTEGER NOT NULL,
    text      TEXT NOT NULL,
    created   TEXT NOT NULL
);
";
