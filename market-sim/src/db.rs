//! SQLite helpers shared by the market and the exchange: connection setup and the
//! deterministic table dump used for world digests.
//!
//! Invariant: a dump lists tables by name and rows by `rowid`, so the same database
//! contents always give the same JSON, byte for byte.

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value};

/// Prepares a freshly opened connection: foreign keys on. (Journal mode and
/// synchronous settings are the caller's choice when it opens a file.)
pub fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    // Room for every statement a service's hot paths run, so none is parsed twice.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch("PRAGMA foreign_keys = ON;")
}

/// Statements kept prepared per connection.
pub const STATEMENT_CACHE: usize = 256;

/// `execute` and `query_row` through the connection's statement cache: SQLite parses and
/// plans each statement once instead of on every request (parsing was a tenth of a busy
/// world's time).
pub trait Cached {
    /// [`Connection::execute`] with a cached statement.
    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// [`Connection::query_row`] with a cached statement.
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Every user table of `conn` as `{table: [row, ...]}`, tables by name, rows by `rowid`.
///
/// Integers and reals become JSON numbers, text becomes strings, blobs become lower-case
/// hex strings and NULL becomes `null`.
pub fn dump_tables(conn: &Connection) -> rusqlite::Result<Value> {
    let mut tables = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for name in rows {
            tables.push(name?);
        }
    }
    let mut out = Map::new();
    for table in tables {
        // Table names come from sqlite_master, not from a user; quote them anyway.
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let mut stmt = conn.prepare(&format!("SELECT * FROM {quoted} ORDER BY rowid"))?;
        let columns: Vec<String> = stmt.column_names().iter().map(|c| (*c).to_string()).collect();
        let mut rows = stmt.query([])?;
        let mut list = Vec::new();
        while let Some(row) = rows.next()? {
            let mut obj = Map::new();
            for (i, col) in columns.iter().enumerate() {
                obj.insert(col.clone(), json_of(row.get_ref(i)?));
            }
            list.push(Value::Object(obj));
        }
        out.insert(table, Value::Array(list));
    }
    Ok(Value::Object(out))
}

fn json_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(hex::encode(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_is_ordered_and_typed() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE b (id INTEGER PRIMARY KEY, x TEXT, y BLOB);
             CREATE TABLE a (id INTEGER PRIMARY KEY, n INTEGER);
             INSERT INTO b (id, x, y) VALUES (2, 'two', x'00ff'), (1, NULL, NULL);
             INSERT INTO a (n) VALUES (7);",
        )
        .unwrap();
        let v = dump_tables(&conn).unwrap();
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(text, r#"{"a":[{"id":1,"n":7}],"b":[{"id":1,"x":null,"y":null},{"id":2,"x":"two","y":"00ff"}]}"#);
    }
}
