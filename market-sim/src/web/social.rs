//! A clearnet social network: profiles under a handle (display name, bio, links) and short
//! public posts. Personas who reuse a market handle here, or link their shop, leave the
//! traces investigators search for.
//!
//! Pages (HTML, or JSON with `Accept: application/json`):
//! - `GET /` → [`SocialIndex`]: profiles and the latest posts
//! - `GET /u/{handle}` → [`ProfileView`]
//! - `GET /sitemap` → [`Sitemap`] (JSON; what the search engine crawls)
//!
//! Forms (JSON or URL-encoded; 🔒 = bearer token or `session` cookie):
//! - `POST /register` `{username, password}` → `{token}` (the username is the handle)
//! - `POST /login` `{username, password}` → `{token}` (the login IP is recorded)
//! - 🔒 `POST /profile` `{display_name, bio, links}` (`links`: one http(s) URL per line) → [`ProfileView`]
//! - 🔒 `POST /posts` `{body}` → [`PostView`]

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimTime};
use sim_core::rng::SimRng;

use super::pages::{after_form, page, text};
use super::{WebError, authenticate_user, login_user, open_core, register_user, require_name, session_form, web_config};
use crate::http_util::{ApiPath, method_not_allowed, not_found};
use crate::http_util::{FormInput, session_token};
use crate::service::record_service;

/// Longest post, in bytes.
pub const POST_MAX: usize = 1_000;
/// Longest bio, in bytes.
pub const BIO_MAX: usize = 1_000;
/// Most links on a profile.
pub const LINKS_MAX: usize = 10;

/// How the social network is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialConfig {
    /// Its name (page titles).
    pub name: String,
}

web_config!(SocialConfig);

/// A post (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    /// Post id.
    pub id: i64,
    /// Its author's handle.
    pub handle: String,
    /// The text.
    pub body: String,
    /// When it was posted.
    pub created: String,
}

/// `GET /u/{handle}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    /// The site's name.
    pub site: String,
    /// The handle.
    pub handle: String,
    /// Display name (may be empty).
    pub display_name: String,
    /// Bio (may be empty).
    pub bio: String,
    /// Links, in the order given.
    pub links: Vec<String>,
    /// When the profile was made.
    pub joined: String,
    /// Posts, newest first.
    pub posts: Vec<PostView>,
}

/// A profile in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary {
    /// The handle.
    pub handle: String,
    /// Display name.
    pub display_name: String,
}

/// `GET /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialIndex {
    /// The site's name.
    pub site: String,
    /// Profiles by handle.
    pub profiles: Vec<ProfileSummary>,
    /// The 50 latest posts, newest first.
    pub recent: Vec<PostView>,
}

/// `GET /sitemap`: the pages a crawler should fetch (paths, ordered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sitemap {
    /// Paths, e.g. `/u/alice`.
    pub pages: Vec<String>,
}

/// `POST /register` and `POST /login`.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    /// Handle.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `POST /profile`.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileEdit {
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Bio.
    #[serde(default)]
    pub bio: String,
    /// Links, one per line.
    #[serde(default)]
    pub links: String,
}

/// `POST /posts`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewPost {
    /// The text.
    pub body: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    bio           TEXT NOT NULL DEFAULT '',
    links         TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sessions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    time    TEXT NOT NULL,
    ip      TEXT NOT NULL,
    kind    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    body    TEXT NOT NULL,
    created TEXT NOT NULL
);
";

/// Registers a handle, records the IP and returns a session token.
pub fn register(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, c: &Credentials) -> Result<String, WebError> {
    register_user(conn, rng, now, ip, &c.username, &c.password, "handle already taken")
}

/// Checks a login, records the IP and returns a session token.
pub fn login(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, c: &Credentials) -> Result<String, WebError> {
    login_user(conn, rng, now, ip, &c.username, &c.password)
}

/// The `(id, handle)` behind a session token (401 otherwise).
pub fn authenticate(conn: &Connection, token: Option<&str>) -> Result<(i64, String), WebError> {
    authenticate_user(conn, token)
}

fn check_links(raw: &str) -> Result<String, WebError> {
    let links: Vec<&str> = raw.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if links.len() > LINKS_MAX {
        return Err(WebError::BadInput(format!("at most {LINKS_MAX} links")));
    }
    for l in &links {
        let scheme_ok = l.starts_with("http://") || l.starts_with("https://");
        if !scheme_ok || l.len() > 200 || l.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(WebError::BadInput("each link must be an http:// or https:// URL of at most 200 bytes".into()));
        }
    }
    Ok(links.join("\n"))
}

/// Updates the caller's profile.
pub fn edit_profile(conn: &Connection, user_id: i64, p: &ProfileEdit) -> Result<(), WebError> {
    let display_name = if p.display_name.trim().is_empty() { String::new() } else { text("display_name", &p.display_name, 1, 64, false)? };
    let bio = if p.bio.trim().is_empty() { String::new() } else { text("bio", &p.bio, 1, BIO_MAX, true)? };
    let links = check_links(&p.links)?;
    conn.execute("UPDATE users SET display_name = ?1, bio = ?2, links = ?3 WHERE id = ?4", params![display_name, bio, links, user_id])?;
    Ok(())
}

/// Publishes a post.
pub fn new_post(conn: &Connection, now: SimTime, user_id: i64, handle: &str, p: &NewPost) -> Result<PostView, WebError> {
    let body = text("body", &p.body, 1, POST_MAX, true)?;
    conn.execute("INSERT INTO posts (user_id, body, created) VALUES (?1, ?2, ?3)", params![user_id, body, now.to_string()])?;
    Ok(PostView { id: conn.last_insert_rowid(), handle: handle.to_string(), body, created: now.to_string() })
}

/// A profile page.
pub fn profile(conn: &Connection, site: &str, handle: &str) -> Result<ProfileView, WebError> {
    let (id, handle, display_name, bio, links, joined): (i64, String, String, String, String, String) = conn
        .query_row("SELECT id, username, display_name, bio, links, created FROM users WHERE username = ?1", params![handle], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?
        .ok_or(WebError::NotFound("profile"))?;
    let mut stmt = conn.prepare("SELECT id, body, created FROM posts WHERE user_id = ?1 ORDER BY id DESC")?;
    let posts = stmt
        .query_map(params![id], |r| Ok(PostView { id: r.get(0)?, handle: handle.clone(), body: r.get(1)?, created: r.get(2)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    let links = links.lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
    Ok(ProfileView { site: site.to_string(), handle, display_name, bio, links, joined, posts })
}

/// The index page.
pub fn index(conn: &Connection, site: &str) -> Result<SocialIndex, WebError> {
    let mut stmt = conn.prepare("SELECT username, display_name FROM users ORDER BY username")?;
    let profiles =
        stmt.query_map([], |r| Ok(ProfileSummary { handle: r.get(0)?, display_name: r.get(1)? }))?.collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn
        .prepare("SELECT p.id, u.username, p.body, p.created FROM posts p JOIN users u ON u.id = p.user_id ORDER BY p.id DESC LIMIT 50")?;
    let recent = stmt
        .query_map([], |r| Ok(PostView { id: r.get(0)?, handle: r.get(1)?, body: r.get(2)?, created: r.get(3)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SocialIndex { site: site.to_string(), profiles, recent })
}

/// The crawlable pages: every profile.
pub fn sitemap(conn: &Connection) -> Result<Sitemap, WebError> {
    let mut stmt = conn.prepare("SELECT username FROM users ORDER BY id")?;
    let pages = stmt.query_map([], |r| r.get::<_, String>(0))?.map(|h| h.map(|h| format!("/u/{h}"))).collect::<Result<Vec<_>, _>>()?;
    Ok(Sitemap { pages })
}

record_service!(
    /// A running social network. Cheap to clone (shared state).
    SocialService,
    SocialConfig,
    WebError
);

impl SocialService {
    /// A social network over `db`; creates the schema if needed.
    pub fn new(config: SocialConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, WebError> {
        require_name(&config.name, "site")?;
        Ok(SocialService { inner: open_core(config, db, clock, rng, SCHEMA)? })
    }

    /// The pages and forms as an axum router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(get_index))
            .route("/u/{handle}", get(get_profile))
            .route("/sitemap", get(get_sitemap))
            .route("/register", post(post_register))
            .route("/login", post(post_login))
            .route("/profile", post(post_profile))
            .route("/posts", post(post_post))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(self.clone())
    }

    fn site(&self) -> &str {
        &self.inner.config.name
    }
}

async fn get_index(State(svc): State<SocialService>, headers: HeaderMap) -> Result<Response, WebError> {
    let view = index(&svc.lock()?.conn, svc.site())?;
    page(&headers, "social_index.html", &view)
}

async fn get_profile(State(svc): State<SocialService>, headers: HeaderMap, ApiPath(handle): ApiPath<String>) -> Result<Response, WebError> {
    let view = profile(&svc.lock()?.conn, svc.site(), &handle)?;
    page(&headers, "social_profile.html", &view)
}

async fn get_sitemap(State(svc): State<SocialService>) -> Result<Json<Sitemap>, WebError> {
    Ok(Json(sitemap(&svc.lock()?.conn)?))
}

async fn post_register(
    State(svc): State<SocialService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    FormInput(c): FormInput<Credentials>,
) -> Result<Response, WebError> {
    session_form(&svc.inner, &headers, info, &format!("/u/{}", c.username), |conn, rng, now, ip| register(conn, rng, now, ip, &c))
}

async fn post_login(
    State(svc): State<SocialService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    FormInput(c): FormInput<Credentials>,
) -> Result<Response, WebError> {
    session_form(&svc.inner, &headers, info, &format!("/u/{}", c.username), |conn, rng, now, ip| login(conn, rng, now, ip, &c))
}

async fn post_profile(
    State(svc): State<SocialService>,
    headers: HeaderMap,
    FormInput(p): FormInput<ProfileEdit>,
) -> Result<Response, WebError> {
    let st = svc.lock()?;
    let (uid, handle) = authenticate(&st.conn, session_token(&headers))?;
    edit_profile(&st.conn, uid, &p)?;
    let view = profile(&st.conn, svc.site(), &handle)?;
    Ok(after_form(&headers, &view, &format!("/u/{handle}"), None))
}

async fn post_post(State(svc): State<SocialService>, headers: HeaderMap, FormInput(p): FormInput<NewPost>) -> Result<Response, WebError> {
    let st = svc.lock()?;
    let (uid, handle) = authenticate(&st.conn, session_token(&headers))?;
    let post = new_post(&st.conn, svc.inner.clock.now(), uid, &handle, &p)?;
    Ok(after_form(&headers, &post, &format!("/u/{handle}"), None))
}
