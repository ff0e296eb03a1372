//! The market's SQLite schema: what a seized copy of the market server would hold.
//!
//! Times are stored as ISO-8601 UTC text from the simulated clock; amounts as integer
//! satoshis. Session tokens are stored only as hashes. `server_log` is the web server's access log
//! (what a seizure finds beside the database); it is left out of world digests.

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
    created       TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'user',
    banned        INTEGER NOT NULL DEFAULT 0
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
    opened         TEXT NOT NULL,
    bond_sat       INTEGER NOT NULL DEFAULT 0,
    bond_address   TEXT,
    bond_paid_at   TEXT,
    pgp_fingerprint TEXT,
    pgp_user_ids   TEXT
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
    created     TEXT NOT NULL,
    finalize_early INTEGER NOT NULL DEFAULT 0,
    photo_sha256   TEXT
);
CREATE INDEX IF NOT EXISTS listings_vendor ON listings(vendor_id);
CREATE TABLE IF NOT EXISTS photos (
    listing_id INTEGER PRIMARY KEY REFERENCES listings(id),
    sha256     TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    uploaded   TEXT NOT NULL
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
    tracking       TEXT,
    finalized_at   TEXT,
    payout_txid    TEXT,
    commission_sat INTEGER,
    fee_sat        INTEGER,
    prev_status    TEXT,
    finalized_early INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS orders_vendor ON orders(vendor_id);
CREATE INDEX IF NOT EXISTS orders_vendor_status ON orders(vendor_id, status);
CREATE INDEX IF NOT EXISTS orders_buyer ON orders(buyer_id);
CREATE TABLE IF NOT EXISTS feedback (
    id        INTEGER PRIMARY KEY,
    order_id  INTEGER NOT NULL UNIQUE REFERENCES orders(id),
    vendor_id INTEGER NOT NULL REFERENCES vendors(user_id),
    buyer_id  INTEGER NOT NULL REFERENCES users(id),
    rating    INTEGER NOT NULL,
    text      TEXT NOT NULL,
    created   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_vendor ON feedback(vendor_id);
CREATE TABLE IF NOT EXISTS disputes (
    id             INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL UNIQUE REFERENCES orders(id),
    opened_by      INTEGER NOT NULL REFERENCES users(id),
    reason         TEXT NOT NULL,
    refund_address TEXT NOT NULL,
    status         TEXT NOT NULL,
    opened         TEXT NOT NULL,
    resolved       TEXT,
    resolved_by    INTEGER REFERENCES users(id),
    outcome_txid   TEXT
);
CREATE TABLE IF NOT EXISTS messages (
    id           INTEGER PRIMARY KEY,
    sender_id    INTEGER NOT NULL REFERENCES users(id),
    recipient_id INTEGER NOT NULL REFERENCES users(id),
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    encrypted    INTEGER NOT NULL,
    created      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_recipient ON messages(recipient_id);
CREATE INDEX IF NOT EXISTS messages_sender ON messages(sender_id);
CREATE TABLE IF NOT EXISTS news (
    id        INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users(id),
    title     TEXT NOT NULL,
    body      TEXT NOT NULL,
    created   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS captchas (
    id       TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    answer   TEXT NOT NULL,
    created  TEXT NOT NULL,
    used     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS withdrawals (
    id         INTEGER PRIMARY KEY,
    address    TEXT NOT NULL,
    amount_sat INTEGER NOT NULL,
    txid       TEXT NOT NULL,
    created    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_log (
    id     INTEGER PRIMARY KEY,
    time   TEXT NOT NULL,
    method TEXT NOT NULL,
    path   TEXT NOT NULL,
    status INTEGER NOT NULL,
    client TEXT NOT NULL
);
";
