//! Reading a seized market server's image: the SQLite file a seizure yields (its access
//! log included), opened read-only in memory and examined through fixed views.
//!
//! An examiner never writes SQL: a view is one of [`TABLES`], each a fixed, parameterless
//! query over the market's schema (secrets such as password hashes and session tokens are
//! never selected), and a filter is an exact match — or a case-insensitive substring — on
//! one of that view's own columns, checked against the view's column list before anything
//! is read.

use crate::db::Cached as _;
use std::collections::BTreeMap;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, MAIN_DB};
use serde::{Deserialize, Serialize};

use super::MarketError;

/// The views of an image, by name, with their fixed queries.
const VIEWS: &[(&str, &str)] = &[
    ("users", "SELECT id, username, role, created, banned FROM users ORDER BY id"),
    (
        "vendors",
        "SELECT u.username AS handle, v.payout_address, v.pgp_fingerprint, v.pgp_user_ids, v.opened, v.bond_sat
         FROM vendors v JOIN users u ON u.id = v.user_id ORDER BY u.id",
    ),
    (
        "listings",
        "SELECT l.id, u.username AS vendor, l.title, l.category, l.price_sat, l.ships_from, l.ships_to, l.stock, l.created
         FROM listings l JOIN users u ON u.id = l.vendor_id ORDER BY l.id",
    ),
    (
        "orders",
        "SELECT o.id, o.listing_id, b.username AS buyer, v.username AS vendor, o.quantity, o.amount_sat, o.status,
                o.escrow_address, o.shipping_info, o.created, o.shipped_at, o.tracking, o.finalized_at, o.payout_txid
         FROM orders o JOIN users b ON b.id = o.buyer_id JOIN users v ON v.id = o.vendor_id ORDER BY o.id",
    ),
    (
        "messages",
        "SELECT m.id, s.username AS sender, r.username AS recipient, m.subject, m.body, m.encrypted, m.created
         FROM messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id ORDER BY m.id",
    ),
    ("operator_logins", "SELECT time, method, path, status, client FROM server_log WHERE path LIKE '/operator%' ORDER BY id"),
    ("server_log", "SELECT time, method, path, status, client FROM server_log ORDER BY id"),
];

/// The names of the views an image offers.
pub const TABLES: &[&str] = &["users", "vendors", "listings", "orders", "messages", "operator_logins", "server_log"];

/// Most rows one query returns.
pub const MAX_ROWS: usize = 500;

/// One view of an image, filtered and paged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableView {
    /// The view.
    pub table: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// Matching rows (at most `limit`), each a value per column.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// How many rows match in all.
    pub total: usize,
}

/// A query of one view: exact matches and substrings on its columns, and a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Column → value every returned row must show (as text).
    pub filters: BTreeMap<String, String>,
    /// Column → text every returned row's value must contain (ignoring case).
    pub contains: BTreeMap<String, String>,
    /// Most rows (1–[`MAX_ROWS`]).
    pub limit: usize,
    /// Rows skipped first.
    pub offset: usize,
}

/// A seized image opened for examination (read-only, in memory).
pub struct SeizedImage {
    conn: Connection,
}

impl std::fmt::Debug for SeizedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeizedImage").finish_non_exhaustive()
    }
}

fn json_of(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(r) => serde_json::Number::from_f64(r).map_or(serde_json::Value::Null, serde_json::Value::Number),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => format!("<{} bytes>", b.len()).into(),
    }
}

fn text_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl SeizedImage {
    /// Opens the bytes of an image (a SQLite database file); an error when they are not one.
    pub fn open(bytes: &[u8]) -> Result<SeizedImage, MarketError> {
        if !bytes.starts_with(b"SQLite format 3\0") {
            return Err(MarketError::BadInput("not a SQLite database image".into()));
        }
        // A served market keeps its database in WAL mode, and the image says so in its header
        // (format versions 2 at offsets 18 and 19); an in-memory copy cannot use a WAL, so it
        // is read as a rollback-journal database — the pages are the same, the evidence's own
        // bytes (and hash) untouched.
        let mut copy = bytes.to_vec();
        for b in copy.iter_mut().skip(18).take(2) {
            if *b == 2 {
                *b = 1;
            }
        }
        let mut conn = Connection::open_in_memory()?;
        conn.deserialize_read_exact(MAIN_DB, copy.as_slice(), copy.len(), true)?;
        // A readable schema, or the image is not a market's.
        conn.cached_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))?;
        Ok(SeizedImage { conn })
    }

    /// One view, filtered on its own columns and paged (see the module docs).
    pub fn view(&self, table: &str, q: &Query) -> Result<TableView, MarketError> {
        let sql = VIEWS
            .iter()
            .find(|(name, _)| *name == table)
            .map(|(_, sql)| *sql)
            .ok_or_else(|| MarketError::BadInput(format!("no table {table:?}; the image has {}", TABLES.join(", "))))?;
        if q.limit == 0 || q.limit > MAX_ROWS {
            return Err(MarketError::BadInput(format!("limit must be 1-{MAX_ROWS}")));
        }
        let mut stmt = self.conn.prepare_cached(sql)?;
        let columns: Vec<String> = stmt.column_names().iter().map(|c| (*c).to_string()).collect();
        let column = |col: &str| {
            columns
                .iter()
                .position(|c| c == col)
                .ok_or_else(|| MarketError::BadInput(format!("table {table} has no column {col:?}; it has {}", columns.join(", "))))
        };
        let mut wanted = Vec::new();
        for (col, value) in &q.filters {
            wanted.push((column(col)?, value.as_str()));
        }
        let mut parts = Vec::new();
        for (col, value) in &q.contains {
            parts.push((column(col)?, value.to_lowercase()));
        }
        let n = columns.len();
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        let mut total = 0;
        while let Some(row) = rows.next()? {
            let values: Vec<serde_json::Value> = (0..n).map(|i| row.get_ref(i).map(json_of)).collect::<Result<_, _>>()?;
            let exact = wanted.iter().all(|(i, v)| values.get(*i).is_some_and(|x| text_of(x) == *v));
            if exact && parts.iter().all(|(i, v)| values.get(*i).is_some_and(|x| text_of(x).to_lowercase().contains(v.as_str()))) {
                if total >= q.offset && out.len() < q.limit {
                    out.push(values);
                }
                total += 1;
            }
        }
        Ok(TableView { table: table.to_string(), columns, rows: out, total })
    }

    /// Every row of a view (for reading what the image shows).
    pub fn all(&self, table: &str) -> Result<Vec<BTreeMap<String, serde_json::Value>>, MarketError> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.view(table, &Query { limit: MAX_ROWS, offset, ..Query::default() })?;
            for r in &page.rows {
                out.push(page.columns.iter().cloned().zip(r.iter().cloned()).collect());
            }
            offset += page.rows.len();
            if page.rows.is_empty() || offset >= page.total {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_fixed_and_filters_checked() {
        let conn = crate::market::accounts::tests::db();
        conn.cached_exec(
            "INSERT INTO users (username, password_salt, password_hash, created, role) VALUES ('op', 's', 'h', 't', 'operator')",
            [],
        )
        .unwrap();
        conn.cached_exec("INSERT INTO users (username, password_salt, password_hash, created) VALUES ('bob', 's', 'h', 't')", []).unwrap();
        let image = crate::market::serverlog::forensic_image(&conn).unwrap();
        let seized = SeizedImage::open(&image.db_snapshot).unwrap();
        let q = |f: &[(&str, &str)]| Query {
            filters: f.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            limit: 10,
            ..Query::default()
        };
        let v = seized.view("users", &q(&[("role", "operator")])).unwrap();
        assert_eq!(v.total, 1);
        assert_eq!(v.rows[0][1], serde_json::json!("op"));
        assert!(!v.columns.contains(&"password_hash".to_string()), "secrets are never selected");
        // A substring, ignoring case, narrows too; on an unknown column it is refused.
        let part = |col: &str, text: &str| Query { contains: [(col.to_string(), text.to_string())].into(), ..q(&[]) };
        assert_eq!(seized.view("users", &part("username", "O")).unwrap().total, 2);
        assert_eq!(seized.view("users", &part("username", "ob")).unwrap().rows[0][1], serde_json::json!("bob"));
        assert!(seized.view("users", &part("password_hash", "h")).is_err());
        assert!(seized.view("users; DROP TABLE users", &q(&[])).is_err());
        assert!(seized.view("users", &q(&[("1=1 OR role", "x")])).is_err());
        assert!(seized.view("users", &Query { limit: 0, ..q(&[]) }).is_err());
        assert_eq!(seized.all("users").unwrap().len(), 2);
        assert!(SeizedImage::open(b"not a database").is_err());
        // A served market's database is in WAL mode: its image opens too.
        let dir = tempfile::tempdir().unwrap();
        let wal = Connection::open(dir.path().join("market.db")).unwrap();
        wal.pragma_update(None, "journal_mode", "WAL").unwrap();
        wal.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, role TEXT, created TEXT, banned INTEGER); INSERT INTO users (username, role, created, banned) VALUES ('eve', 'user', 't', 0);").unwrap();
        let bytes = wal.serialize(MAIN_DB).unwrap().to_vec();
        assert_eq!(bytes[18], 2, "the header says WAL");
        let opened = SeizedImage::open(&bytes).unwrap();
        assert_eq!(opened.view("users", &q(&[])).unwrap().rows[0][1], serde_json::json!("eve"));
        let mut torn = image.db_snapshot.clone();
        torn.truncate(200);
        assert!(SeizedImage::open(&torn).is_err());
    }
}
