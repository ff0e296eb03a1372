//! A clearnet paste site: anonymous or signed pastes with a title and a time. Vendors
//! paste price lists, PGP keys and "contact me" notes — sometimes under a reused handle.
//!
//! Pages (HTML, or JSON with `Accept: application/json`):
//! - `GET /` → [`PasteIndex`]: the 50 latest pastes
//! - `GET /p/{key}` → [`PasteView`]
//! - `GET /p/{key}/raw` → `text/plain`
//! - `GET /sitemap` → [`super::social::Sitemap`] (JSON; what the search engine crawls)
//!
//! Form: `POST /` `{title?, author?, body}` (JSON or URL-encoded) → [`Created`] or `303` to
//! the paste. An empty author is "Anonymous". The poster's IP is kept (never shown).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimTime};
use sim_core::rng::{SimRng, below};

use super::pages::{after_form, page, text};
use super::social::Sitemap;
use super::{WebError, open_core, require_name, web_config};
use crate::http_util::{ApiPath, FormInput, client_ip, method_not_allowed, not_found, peer_of};
use crate::service::record_service;

/// Longest paste, in bytes.
pub const BODY_MAX: usize = 100_000;

/// How the paste site is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteConfig {
    /// Its name (page titles).
    pub name: String,
}

web_config!(PasteConfig);

/// `POST /`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewPaste {
    /// Title (empty: "Untitled").
    #[serde(default)]
    pub title: String,
    /// Author handle (empty: anonymous).
    #[serde(default)]
    pub author: String,
    /// The text.
    pub body: String,
}

/// Answer to `POST /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// The paste's key.
    pub key: String,
    /// Its path, `/p/{key}`.
    pub path: String,
}

/// `GET /p/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteView {
    /// The site's name.
    pub site: String,
    /// The key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Author handle, `null` when anonymous.
    pub author: Option<String>,
    /// The text.
    pub body: String,
    /// When it was pasted.
    pub created: String,
}

/// A paste in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteSummary {
    /// The key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Author handle, `null` when anonymous.
    pub author: Option<String>,
    /// When.
    pub created: String,
}

/// `GET /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteIndex {
    /// The site's name.
    pub site: String,
    /// The latest pastes, newest first.
    pub pastes: Vec<PasteSummary>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pastes (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL UNIQUE,
    title   TEXT NOT NULL,
    author  TEXT,
    body    TEXT NOT NULL,
    created TEXT NOT NULL,
    ip      TEXT NOT NULL
);
";

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Stores a paste under a fresh key drawn from the service RNG.
pub fn create(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, p: &NewPaste) -> Result<Created, WebError> {
    let title = if p.title.trim().is_empty() { "Untitled".to_string() } else { text("title", &p.title, 1, 100, false)? };
    let author = if p.author.trim().is_empty() { None } else { Some(text("author", &p.author, 1, 32, false)?) };
    let body = text("body", &p.body, 1, BODY_MAX, true)?;
    let key = loop {
        let k: String = (0..8)
            .map(|_| {
                let i = usize::try_from(below(rng, KEY_ALPHABET.len() as u64)).unwrap_or(0);
                char::from(KEY_ALPHABET.get(i).copied().unwrap_or(b'A'))
            })
            .collect();
        let taken: Option<i64> = conn.query_row("SELECT id FROM pastes WHERE key = ?1", params![k], |r| r.get(0)).optional()?;
        if taken.is_none() {
            break k;
        }
    };
    conn.execute(
        "INSERT INTO pastes (key, title, author, body, created, ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![key, title, author, body, now.to_string(), ip],
    )?;
    Ok(Created { path: format!("/p/{key}"), key })
}

/// A paste.
pub fn view(conn: &Connection, site: &str, key: &str) -> Result<PasteView, WebError> {
    conn.query_row("SELECT key, title, author, body, created FROM pastes WHERE key = ?1", params![key], |r| {
        Ok(PasteView { site: site.to_string(), key: r.get(0)?, title: r.get(1)?, author: r.get(2)?, body: r.get(3)?, created: r.get(4)? })
    })
    .optional()?
    .ok_or(WebError::NotFound("paste"))
}

/// The index page.
pub fn index(conn: &Connection, site: &str) -> Result<PasteIndex, WebError> {
    let mut stmt = conn.prepare("SELECT key, title, author, created FROM pastes ORDER BY id DESC LIMIT 50")?;
    let pastes = stmt
        .query_map([], |r| Ok(PasteSummary { key: r.get(0)?, title: r.get(1)?, author: r.get(2)?, created: r.get(3)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PasteIndex { site: site.to_string(), pastes })
}

/// The crawlable pages: every paste.
pub fn sitemap(conn: &Connection) -> Result<Sitemap, WebError> {
    let mut stmt = conn.prepare("SELECT key FROM pastes ORDER BY id")?;
    let pages = stmt.query_map([], |r| r.get::<_, String>(0))?.map(|k| k.map(|k| format!("/p/{k}"))).collect::<Result<Vec<_>, _>>()?;
    Ok(Sitemap { pages })
}

record_service!(
    /// A running paste site. Cheap to clone (shared state).
    PasteService,
    PasteConfig,
    WebError
);

impl PasteService {
    /// A paste site over `db`; creates the schema if needed.
    pub fn new(config: PasteConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, WebError> {
        require_name(&config.name, "site")?;
        Ok(PasteService { inner: open_core(config, db, clock, rng, SCHEMA)? })
    }

    /// The pages and the form as an axum router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(get_index).post(post_paste))
            .route("/p/{key}", get(get_paste))
            .route("/p/{key}/raw", get(get_raw))
            .route("/sitemap", get(get_sitemap))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(self.clone())
    }

    fn site(&self) -> &str {
        &self.inner.config.name
    }
}

async fn get_index(State(svc): State<PasteService>, headers: HeaderMap) -> Result<Response, WebError> {
    let v = index(&svc.lock()?.conn, svc.site())?;
    page(&headers, "paste_index.html", &v)
}

async fn get_paste(State(svc): State<PasteService>, headers: HeaderMap, ApiPath(key): ApiPath<String>) -> Result<Response, WebError> {
    let v = view(&svc.lock()?.conn, svc.site(), &key)?;
    page(&headers, "paste_view.html", &v)
}

async fn get_raw(State(svc): State<PasteService>, ApiPath(key): ApiPath<String>) -> Result<Response, WebError> {
    let v = view(&svc.lock()?.conn, svc.site(), &key)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], v.body).into_response())
}

async fn get_sitemap(State(svc): State<PasteService>) -> Result<Json<Sitemap>, WebError> {
    Ok(Json(sitemap(&svc.lock()?.conn)?))
}

async fn post_paste(
    State(svc): State<PasteService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    FormInput(p): FormInput<NewPaste>,
) -> Result<Response, WebError> {
    let ip = client_ip(&headers, peer_of(info));
    let mut st = svc.lock()?;
    let st = &mut *st;
    let created = create(&st.conn, &mut st.rng, svc.inner.clock.now(), &ip, &p)?;
    Ok(after_form(&headers, &created, &created.path, None))
}
