//! The market server's access log and the forensic image a seizure yields.
//!
//! Every request is logged with the simulated time, method, path, status and the client as
//! the server sees it. Behind Tor that is the local onion proxy — nothing useful — which is
//! realistic; in direct mode it is the address the simulated network forwards. The log is
//! rotated to the last `log_retention` lines, as a real server's would be.
//!
//! The forensic image is what police get when the server is seized: a consistent copy of
//! the database file (SQLite's serialization of the live database, taken under the state
//! lock, so no request is half-applied) and the log lines.

use crate::db::Cached as _;
use rusqlite::{Connection, MAIN_DB, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::MarketError;

/// Longest path stored in a log line, in bytes (longer ones are cut).
pub const PATH_MAX: usize = 512;

/// One access-log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When (simulated time, ISO-8601).
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// Path and query as requested.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// The client as the server saw it.
    pub client: String,
}

/// What a seizure of the market server yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForensicImage {
    /// A complete SQLite database file: open it with any SQLite tool.
    pub db_snapshot: Vec<u8>,
    /// The access log, oldest first.
    pub logs: Vec<LogLine>,
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Appends a log line and rotates out lines beyond the newest `retention`.
pub fn record(conn: &Connection, now: SimTime, line: &LogLine, retention: u32) -> Result<(), MarketError> {
    conn.cached_exec(
        "INSERT INTO server_log (time, method, path, status, client) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now.to_string(), cut(&line.method, 16), cut(&line.path, PATH_MAX), line.status, cut(&line.client, 64)],
    )?;
    let id = conn.last_insert_rowid();
    // Rotate in batches of a tenth, so most requests only insert.
    let batch = i64::from((retention / 10).max(1));
    if id % batch == 0 {
        conn.cached_exec("DELETE FROM server_log WHERE id <= ?1", params![id - i64::from(retention)])?;
    }
    Ok(())
}

/// Every log line kept, oldest first.
pub fn lines(conn: &Connection) -> Result<Vec<LogLine>, MarketError> {
    let mut stmt = conn.prepare_cached("SELECT time, method, path, status, client FROM server_log ORDER BY id")?;
    let rows =
        stmt.query_map([], |r| Ok(LogLine { time: r.get(0)?, method: r.get(1)?, path: r.get(2)?, status: r.get(3)?, client: r.get(4)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The database file and the log, as of now (the caller holds the state lock).
pub fn forensic_image(conn: &Connection) -> Result<ForensicImage, MarketError> {
    let data = conn.serialize(MAIN_DB)?;
    Ok(ForensicImage { db_snapshot: data.to_vec(), logs: lines(conn)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_rotates_and_image_opens() {
        let conn = crate::market::accounts::tests::db();
        let line = |i: u32| LogLine {
            time: String::new(),
            method: "GET".into(),
            path: format!("/listing/{i}"),
            status: 200,
            client: "127.0.0.1".into(),
        };
        for i in 0..250 {
            record(&conn, SimTime(i64::from(i)), &line(i), 100).unwrap();
        }
        let kept = lines(&conn).unwrap();
        assert!(kept.len() >= 100 && kept.len() <= 110, "{}", kept.len());
        assert_eq!(kept.last().unwrap().path, "/listing/249");
        let image = forensic_image(&conn).unwrap();
        assert!(image.db_snapshot.starts_with(b"SQLite format 3\0"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seized.db");
        std::fs::write(&path, &image.db_snapshot).unwrap();
        let copy = Connection::open(&path).unwrap();
        let n: i64 = copy.query_row("SELECT COUNT(*) FROM server_log", [], |r| r.get(0)).unwrap();
        assert_eq!(usize::try_from(n).unwrap(), kept.len());
    }
}
