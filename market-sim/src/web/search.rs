//! A clearnet search engine over the social network and the paste site.
//!
//! **How it learns pages: by crawling over HTTP.** The world calls
//! [`SearchService::crawl`] with a `reqwest::Client` and a site's base URL after the
//! clearnet changes; the crawler reads the site's `GET /sitemap` and fetches each page in
//! its JSON form (`Accept: application/json`), indexing the page's text (every string in
//! it). A re-crawl replaces the site's documents, so deleted pages drop out.
//! [`SearchService::index_document`] feeds one document directly (for sites without a
//! sitemap).
//!
//! Ranking: a query is split into terms (lower-case runs of letters, digits, `_`, `-`,
//! `.`, `@`, so handles and e-mail addresses stay whole); a document's score is the number
//! of times the terms occur in it, title occurrences counting double; documents without a
//! match are left out; ties go by URL.
//!
//! **Hosts by fingerprint.** Like Shodan's `http.favicon.hash` search, the engine also
//! knows clearnet hosts by the SHA-256 of the favicon and the TLS certificate they serve:
//! [`SearchService::crawl_host`] reads a host's `/.well-known/fingerprints` (see
//! `web::status`) and stores them with the host's public address (its name's DNS answer).
//! A search by a hash an onion site also serves names the clearnet host and its IP — the
//! `SharedFavicon` slip.
//!
//! Pages (HTML, or JSON with `Accept: application/json`):
//! - `GET /` → the search form ([`SearchView`] with no query)
//! - `GET /search?q=…` → [`SearchView`]; 400 for an empty or overlong query
//! - `GET /hosts?favicon=<sha256 hex>` → [`HostsView`]: the hosts serving a favicon or a
//!   certificate with that hash; 400 unless 64 hex digits

use std::collections::BTreeSet;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_core::clock::{SimClock, SimTime};
use sim_core::rng::SimRng;

use super::pages::page;
use super::social::Sitemap;
use super::status::Fingerprints;
use super::{WebError, open_core, require_name, web_config};
use crate::http_util::{ApiQuery, method_not_allowed, not_found};
use crate::service::record_service;

/// Longest query, in bytes.
pub const QUERY_MAX: usize = 200;
/// Most results shown.
pub const RESULTS_MAX: usize = 50;

/// How the search engine is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Its name (page titles).
    pub name: String,
}

web_config!(SearchConfig);

/// `GET /search?q=…`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchQuery {
    /// The query.
    #[serde(default)]
    pub q: Option<String>,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The page's URL.
    pub url: String,
    /// Its title.
    pub title: String,
    /// The first line of the page that matches.
    pub snippet: String,
    /// Its score (term occurrences; title counts double).
    pub score: u64,
}

/// The search page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchView {
    /// The engine's name.
    pub site: String,
    /// The query, if one was made.
    pub query: Option<String>,
    /// Results, best first.
    pub results: Vec<SearchResult>,
    /// Number of documents indexed.
    pub indexed: u64,
}

/// `GET /hosts?favicon=…`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostsQuery {
    /// SHA-256 (hex) of a favicon or a TLS certificate.
    #[serde(default)]
    pub favicon: Option<String>,
}

/// A clearnet host the engine knows by its fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostResult {
    /// Its name.
    pub host: String,
    /// Its public IP address.
    pub ip: String,
    /// SHA-256 of its favicon, hex.
    pub favicon_sha256: String,
    /// SHA-256 of its TLS certificate, hex.
    pub tls_certificate_sha256: String,
    /// When the engine last crawled it.
    pub seen: String,
}

/// The hosts page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostsView {
    /// The engine's name.
    pub site: String,
    /// The hash searched for, lower-case, if one was given.
    pub query: Option<String>,
    /// Hosts serving a favicon or certificate with that hash, by name.
    pub hosts: Vec<HostResult>,
    /// Number of hosts indexed.
    pub indexed: u64,
}

/// What a crawl did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlReport {
    /// The site crawled.
    pub base_url: String,
    /// Pages fetched and indexed.
    pub indexed: usize,
    /// Documents of the site dropped because they left its sitemap.
    pub dropped: usize,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS documents (
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL UNIQUE,
    site       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hosts (
    host                   TEXT PRIMARY KEY,
    ip                     TEXT NOT NULL,
    favicon_sha256         TEXT NOT NULL,
    tls_certificate_sha256 TEXT NOT NULL,
    seen                   TEXT NOT NULL
);
";

/// The terms of a text: lower-case runs of letters, digits and `_ - . @`, trimmed of
/// leading and trailing `.` and `-`.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@')))
        .map(|t| t.trim_matches(|c| c == '.' || c == '-').to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Every string in a JSON page, in document order, except its `site` name.
fn flatten(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| flatten(x, out)),
        Value::Object(o) => o.iter().filter(|(k, _)| k.as_str() != "site").for_each(|(_, x)| flatten(x, out)),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(_) | Value::Null => {}
    }
}

/// Stores (or replaces) a document.
pub fn index_document(conn: &Connection, now: SimTime, site: &str, url: &str, title: &str, body: &str) -> Result<(), WebError> {
    conn.execute(
        "INSERT INTO documents (url, site, title, body, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(url) DO UPDATE SET site = excluded.site, title = excluded.title, body = excluded.body,
                                        indexed_at = excluded.indexed_at",
        params![url, site, title, body, now.to_string()],
    )?;
    Ok(())
}

/// Searches the index.
pub fn search(conn: &Connection, site: &str, q: Option<&str>) -> Result<SearchView, WebError> {
    let indexed: i64 = conn.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))?;
    let indexed = u64::try_from(indexed).unwrap_or(0);
    let Some(q) = q else {
        return Ok(SearchView { site: site.to_string(), query: None, results: Vec::new(), indexed });
    };
    let q = q.trim();
    let wanted: BTreeSet<String> = terms(q).into_iter().collect();
    if q.len() > QUERY_MAX || wanted.is_empty() {
        return Err(WebError::BadInput(format!("q must be 1-{QUERY_MAX} bytes with at least one word")));
    }
    let mut stmt = conn.prepare("SELECT url, title, body FROM documents ORDER BY url")?;
    let docs = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let mut results = Vec::new();
    for doc in docs {
        let (url, title, body) = doc?;
        let in_title = terms(&title).iter().filter(|t| wanted.contains(*t)).count() as u64;
        let in_body = terms(&body).iter().filter(|t| wanted.contains(*t)).count() as u64;
        let score = 2 * in_title + in_body;
        if score == 0 {
            continue;
        }
        let snippet = body.lines().find(|l| terms(l).iter().any(|t| wanted.contains(t))).unwrap_or(&title).chars().take(200).collect();
        results.push(SearchResult { url, title, snippet, score });
    }
    results.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.url.cmp(&b.url)));
    results.truncate(RESULTS_MAX);
    Ok(SearchView { site: site.to_string(), query: Some(q.to_string()), results, indexed })
}

/// The hosts serving a favicon or certificate whose SHA-256 is `q` (64 hex digits).
pub fn hosts(conn: &Connection, site: &str, q: Option<&str>) -> Result<HostsView, WebError> {
    let indexed: i64 = conn.query_row("SELECT COUNT(*) FROM hosts", [], |r| r.get(0))?;
    let indexed = u64::try_from(indexed).unwrap_or(0);
    let Some(q) = q else {
        return Ok(HostsView { site: site.to_string(), query: None, hosts: Vec::new(), indexed });
    };
    let q = q.trim().to_ascii_lowercase();
    if q.len() != 64 || !q.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::BadInput("favicon must be a SHA-256 hash: 64 hex digits".into()));
    }
    let mut stmt = conn.prepare(
        "SELECT host, ip, favicon_sha256, tls_certificate_sha256, seen FROM hosts
         WHERE favicon_sha256 = ?1 OR tls_certificate_sha256 = ?1 ORDER BY host",
    )?;
    let rows = stmt.query_map(params![q], |r| {
        Ok(HostResult { host: r.get(0)?, ip: r.get(1)?, favicon_sha256: r.get(2)?, tls_certificate_sha256: r.get(3)?, seen: r.get(4)? })
    })?;
    let hosts = rows.collect::<Result<Vec<_>, _>>()?;
    Ok(HostsView { site: site.to_string(), query: Some(q), hosts, indexed })
}

record_service!(
    /// A running search engine. Cheap to clone (shared state).
    SearchService,
    SearchConfig,
    WebError
);

impl SearchService {
    /// A search engine over `db`; creates the schema if needed.
    pub fn new(config: SearchConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, WebError> {
        require_name(&config.name, "search engine")?;
        Ok(SearchService { inner: open_core(config, db, clock, rng, SCHEMA)? })
    }

    /// The search pages as an axum router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(get_home))
            .route("/search", get(get_search))
            .route("/hosts", get(get_hosts))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(self.clone())
    }

    /// Indexes (or replaces) one document, e.g. from a site without a sitemap.
    pub fn index_document(&self, site: &str, url: &str, title: &str, body: &str) -> Result<(), WebError> {
        let st = self.lock()?;
        index_document(&st.conn, self.inner.clock.now(), site, url, title, body)
    }

    /// Crawls the site at `base_url` (e.g. `http://social.example`): its `/sitemap`, then
    /// every page in JSON form. Replaces the site's documents. A site that cannot be
    /// reached or answers nonsense is a [`WebError::Backend`] and leaves the index as it was.
    pub async fn crawl(&self, client: &reqwest::Client, base_url: &str) -> Result<CrawlReport, WebError> {
        let base = base_url.trim_end_matches('/').to_string();
        let sitemap: Sitemap = fetch_json(client, &format!("{base}/sitemap")).await?;
        let mut docs = Vec::new();
        for path in &sitemap.pages {
            if !path.starts_with('/') || path.starts_with("//") {
                return Err(WebError::Backend(format!("{base}: sitemap entry {path:?} is not a path")));
            }
            let url = format!("{base}{path}");
            let page: Value = fetch_json(client, &url).await?;
            let title = ["title", "handle", "username"]
                .iter()
                .find_map(|k| page.get(*k).and_then(Value::as_str))
                .map_or_else(|| path.clone(), str::to_string);
            let mut parts = Vec::new();
            flatten(&page, &mut parts);
            docs.push((url, title, parts.join("\n")));
        }
        let st = self.lock()?;
        let now = self.inner.clock.now();
        let keep: BTreeSet<&str> = docs.iter().map(|d| d.0.as_str()).collect();
        let mut stmt = st.conn.prepare("SELECT url FROM documents WHERE site = ?1 ORDER BY id")?;
        let old = stmt.query_map(params![base], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        let mut dropped = 0;
        for url in old.iter().filter(|u| !keep.contains(u.as_str())) {
            dropped += st.conn.execute("DELETE FROM documents WHERE url = ?1", params![url])?;
        }
        for (url, title, body) in &docs {
            index_document(&st.conn, now, &base, url, title, body)?;
        }
        tracing::info!(site = %base, indexed = docs.len(), dropped, "search: site crawled");
        Ok(CrawlReport { base_url: base, indexed: docs.len(), dropped })
    }

    /// Crawls the clearnet host at `base_url` (e.g. `http://shop.example`), whose name
    /// resolves to `ip`: its `/.well-known/fingerprints`, stored under its host name. A host
    /// that cannot be reached is a [`WebError::Backend`] and leaves the index as it was.
    pub async fn crawl_host(&self, client: &reqwest::Client, base_url: &str, ip: &str) -> Result<HostResult, WebError> {
        let base = base_url.trim_end_matches('/');
        let host = base.rsplit("//").next().unwrap_or(base).to_string();
        let prints: Fingerprints = fetch_json(client, &format!("{base}/.well-known/fingerprints")).await?;
        let seen = self.inner.clock.now().to_string();
        let found = HostResult {
            host,
            ip: ip.to_string(),
            favicon_sha256: prints.favicon_sha256.to_ascii_lowercase(),
            tls_certificate_sha256: prints.tls_certificate_sha256.to_ascii_lowercase(),
            seen,
        };
        self.lock()?.conn.execute(
            "INSERT INTO hosts (host, ip, favicon_sha256, tls_certificate_sha256, seen) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(host) DO UPDATE SET ip = excluded.ip, favicon_sha256 = excluded.favicon_sha256,
                                             tls_certificate_sha256 = excluded.tls_certificate_sha256, seen = excluded.seen",
            params![found.host, found.ip, found.favicon_sha256, found.tls_certificate_sha256, found.seen],
        )?;
        tracing::info!(host = %found.host, ip, "search: host fingerprints crawled");
        Ok(found)
    }
}

async fn fetch_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> Result<T, WebError> {
    let resp = client
        .get(url)
        .header(header::ACCEPT.as_str(), "application/json")
        .send()
        .await
        .map_err(|e| WebError::Backend(format!("{url}: {e}")))?;
    if !resp.status().is_success() {
        return Err(WebError::Backend(format!("{url}: status {}", resp.status())));
    }
    resp.json::<T>().await.map_err(|e| WebError::Backend(format!("{url}: {e}")))
}

async fn get_home(State(svc): State<SearchService>, headers: HeaderMap) -> Result<Response, WebError> {
    let view = search(&svc.lock()?.conn, &svc.inner.config.name, None)?;
    page(&headers, "search.html", &view)
}

async fn get_search(
    State(svc): State<SearchService>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Response, WebError> {
    let view = search(&svc.lock()?.conn, &svc.inner.config.name, Some(q.q.as_deref().unwrap_or("")))?;
    page(&headers, "search.html", &view)
}

async fn get_hosts(State(svc): State<SearchService>, headers: HeaderMap, ApiQuery(q): ApiQuery<HostsQuery>) -> Result<Response, WebError> {
    let view = hosts(&svc.lock()?.conn, &svc.inner.config.name, Some(q.favicon.as_deref().unwrap_or("")))?;
    page(&headers, "search_hosts.html", &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_found_by_either_hash_only() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let (fav, cert) = ("a".repeat(64), "b".repeat(64));
        conn.execute("INSERT INTO hosts VALUES ('shop.example', '185.1.2.3', ?1, ?2, 't')", params![fav, cert]).unwrap();
        assert_eq!(hosts(&conn, "S", Some(&fav.to_uppercase())).unwrap().hosts[0].ip, "185.1.2.3");
        assert_eq!(hosts(&conn, "S", Some(&cert)).unwrap().hosts.len(), 1);
        assert!(hosts(&conn, "S", Some(&"c".repeat(64))).unwrap().hosts.is_empty());
        assert!(hosts(&conn, "S", Some("abc")).is_err());
        assert!(hosts(&conn, "S", Some(&"z".repeat(64))).is_err());
    }

    #[test]
    fn terms_keep_handles_and_addresses_whole() {
        assert_eq!(terms("Ask dr_frost-99, or mail Frost@Mail.example."), ["ask", "dr_frost-99", "or", "mail", "frost@mail.example"]);
        assert!(terms("  <> !! ").is_empty());
    }

    #[test]
    fn ranking() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        index_document(&conn, SimTime(1), "s", "http://a/1", "frost", "nothing").unwrap();
        index_document(&conn, SimTime(1), "s", "http://a/2", "other", "frost frost frost").unwrap();
        index_document(&conn, SimTime(1), "s", "http://a/3", "none", "unrelated").unwrap();
        let v = search(&conn, "S", Some("Frost")).unwrap();
        let urls: Vec<&str> = v.results.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(urls, ["http://a/2", "http://a/1"]);
        assert!(search(&conn, "S", Some("  ")).is_err());
    }
}
