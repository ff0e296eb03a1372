//! A discussion forum about markets: boards (from configuration), threads, posts and user
//! profiles (join date, signature, post count). Vendors advertise, buyers review, and a
//! handle reused here and elsewhere links personas.
//!
//! Pages (HTML, or JSON with `Accept: application/json`, same URLs):
//! - `GET /` → [`IndexView`]: boards with thread and post counts
//! - `GET /board/{slug}` → [`BoardView`]: threads, newest activity first
//! - `GET /thread/{id}` → [`ThreadView`]: posts in order, each with its author's profile line
//! - `GET /user/{username}` → [`UserView`]: join date, signature, post count, recent posts
//!
//! Forms (JSON or URL-encoded; JSON answers for API clients, `303` + cookie for browsers;
//! 🔒 = bearer token or `session` cookie):
//! - `POST /register` `{username, password}` → `{token}`
//! - `POST /login` `{username, password}` → `{token}` (the login IP is recorded)
//! - 🔒 `POST /board/{slug}` `{title, body}` → [`Posted`] (a new thread)
//! - 🔒 `POST /thread/{id}` `{body}` → [`Posted`] (a reply)
//! - 🔒 `POST /profile` `{signature}` → [`UserView`]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimTime};
use sim_core::rng::SimRng;

use super::pages::{after_form, page, text};
use super::{WebError, authenticate_user, login_user, register_user, session_form, web_config};
use crate::http_util::{ApiPath, FormInput, method_not_allowed, not_found, session_token};
use crate::service::{RecordCore, record_service};

/// Longest thread title, in bytes.
pub const TITLE_MAX: usize = 150;
/// Longest post, in bytes.
pub const BODY_MAX: usize = 20_000;
/// Longest signature, in bytes.
pub const SIGNATURE_MAX: usize = 300;

/// A board, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardConfig {
    /// URL name: 1–32 characters of `[a-z0-9-]`.
    pub slug: String,
    /// Display title.
    pub title: String,
    /// One-line description.
    pub description: String,
}

/// How the forum is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForumConfig {
    /// The forum's name (page titles).
    pub name: String,
    /// Its boards, in display order.
    pub boards: Vec<BoardConfig>,
}

web_config!(ForumConfig);

impl ForumConfig {
    /// Checks the configuration: a name, at least one board, unique well-formed slugs.
    pub fn validate(&self) -> Result<(), WebError> {
        if self.name.trim().is_empty() {
            return Err(WebError::Config("forum name must not be empty".into()));
        }
        if self.boards.is_empty() {
            return Err(WebError::Config("a forum needs at least one board".into()));
        }
        let mut seen = BTreeSet::new();
        for b in &self.boards {
            let ok = (1..=32).contains(&b.slug.len()) && b.slug.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
            if !ok {
                return Err(WebError::Config(format!("board slug {:?} must be 1-32 characters of a-z, 0-9 or '-'", b.slug)));
            }
            if !seen.insert(b.slug.as_str()) {
                return Err(WebError::Config(format!("board slug {:?} is used twice", b.slug)));
            }
            if b.title.trim().is_empty() {
                return Err(WebError::Config(format!("board {:?} needs a title", b.slug)));
            }
        }
        Ok(())
    }
}

/// A board in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardSummary {
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Number of threads.
    pub threads: u64,
    /// Number of posts.
    pub posts: u64,
}

/// `GET /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexView {
    /// The forum's name.
    pub site: String,
    /// Boards in display order.
    pub boards: Vec<BoardSummary>,
}

/// A thread in a board listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    /// Thread id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Who started it.
    pub author: String,
    /// When.
    pub created: String,
    /// Posts after the first.
    pub replies: u64,
    /// Time of the latest post.
    pub last_post: String,
}

/// `GET /board/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    /// The forum's name.
    pub site: String,
    /// The board.
    pub board: BoardSummary,
    /// Threads, latest activity first.
    pub threads: Vec<ThreadSummary>,
}

/// A post in a thread, with its author's profile line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    /// Post id.
    pub id: i64,
    /// Author's username.
    pub author: String,
    /// When the author joined.
    pub author_joined: String,
    /// The author's post count.
    pub author_posts: u64,
    /// The author's signature (may be empty).
    pub author_signature: String,
    /// The post's text.
    pub body: String,
    /// When it was posted.
    pub created: String,
}

/// `GET /thread/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    /// The forum's name.
    pub site: String,
    /// The board's slug.
    pub board: String,
    /// The board's title.
    pub board_title: String,
    /// Thread id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Posts, oldest first.
    pub posts: Vec<PostView>,
}

/// A post on a profile page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentPost {
    /// Post id.
    pub id: i64,
    /// The thread's id.
    pub thread_id: i64,
    /// The thread's title.
    pub thread_title: String,
    /// The text.
    pub body: String,
    /// When.
    pub created: String,
}

/// `GET /user/{username}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// The forum's name.
    pub site: String,
    /// Username.
    pub username: String,
    /// Join date.
    pub joined: String,
    /// Signature (may be empty).
    pub signature: String,
    /// Number of posts.
    pub post_count: u64,
    /// Latest posts first (at most 20).
    pub recent_posts: Vec<RecentPost>,
}

/// Answer to a new thread or reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    /// The thread.
    pub thread_id: i64,
    /// The new post.
    pub post_id: i64,
}

/// `POST /register` and `POST /login`.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `POST /board/{slug}`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewThread {
    /// Title.
    pub title: String,
    /// First post.
    pub body: String,
}

/// `POST /thread/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Reply {
    /// The post.
    pub body: String,
}

/// `POST /profile`.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileEdit {
    /// New signature (empty clears it).
    #[serde(default)]
    pub signature: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL,
    signature     TEXT NOT NULL DEFAULT ''
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
CREATE TABLE IF NOT EXISTS boards (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS threads (
    id       INTEGER PRIMARY KEY,
    board_id INTEGER NOT NULL REFERENCES boards(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    title    TEXT NOT NULL,
    created  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    id        INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    body      TEXT NOT NULL,
    created   TEXT NOT NULL
);
";

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Registers a user, records the IP and returns a session token.
pub fn register(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, c: &Credentials) -> Result<String, WebError> {
    register_user(conn, rng, now, ip, &c.username, &c.password, "username already taken")
}

/// Checks a login, records the IP and returns a session token.
pub fn login(conn: &Connection, rng: &mut SimRng, now: SimTime, ip: &str, c: &Credentials) -> Result<String, WebError> {
    login_user(conn, rng, now, ip, &c.username, &c.password)
}

/// The `(id, username)` behind a session token (401 otherwise).
pub fn authenticate(conn: &Connection, token: Option<&str>) -> Result<(i64, String), WebError> {
    authenticate_user(conn, token)
}

fn board_summary(conn: &Connection, slug: &str) -> Result<Option<(i64, BoardSummary)>, WebError> {
    Ok(conn
        .query_row(
            "SELECT b.id, b.slug, b.title, b.description,
                    (SELECT COUNT(*) FROM threads t WHERE t.board_id = b.id),
                    (SELECT COUNT(*) FROM posts p JOIN threads t ON t.id = p.thread_id WHERE t.board_id = b.id)
             FROM boards b WHERE b.slug = ?1",
            params![slug],
            |r| {
                Ok((
                    r.get(0)?,
                    BoardSummary {
                        slug: r.get(1)?,
                        title: r.get(2)?,
                        description: r.get(3)?,
                        threads: count(r.get(4)?),
                        posts: count(r.get(5)?),
                    },
                ))
            },
        )
        .optional()?)
}

/// The index page.
pub fn index(conn: &Connection, site: &str) -> Result<IndexView, WebError> {
    let mut stmt = conn.prepare("SELECT slug FROM boards ORDER BY id")?;
    let slugs = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    let mut boards = Vec::new();
    for s in slugs {
        if let Some((_, b)) = board_summary(conn, &s)? {
            boards.push(b);
        }
    }
    Ok(IndexView { site: site.to_string(), boards })
}

/// A board's page.
pub fn board(conn: &Connection, site: &str, slug: &str) -> Result<BoardView, WebError> {
    let (id, summary) = board_summary(conn, slug)?.ok_or(WebError::NotFound("board"))?;
    let mut stmt = conn.prepare(
        "SELECT t.id, t.title, u.username, t.created,
                (SELECT COUNT(*) FROM posts p WHERE p.thread_id = t.id) - 1,
                (SELECT MAX(p.created) FROM posts p WHERE p.thread_id = t.id)
         FROM threads t JOIN users u ON u.id = t.user_id WHERE t.board_id = ?1
         ORDER BY 6 DESC, t.id DESC",
    )?;
    let threads = stmt
        .query_map(params![id], |r| {
            Ok(ThreadSummary {
                id: r.get(0)?,
                title: r.get(1)?,
                author: r.get(2)?,
                created: r.get(3)?,
                replies: count(r.get(4)?),
                last_post: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BoardView { site: site.to_string(), board: summary, threads })
}

/// A thread's page.
pub fn thread(conn: &Connection, site: &str, id: i64) -> Result<ThreadView, WebError> {
    let (title, board, board_title): (String, String, String) = conn
        .query_row("SELECT t.title, b.slug, b.title FROM threads t JOIN boards b ON b.id = t.board_id WHERE t.id = ?1", params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .ok_or(WebError::NotFound("thread"))?;
    let mut stmt = conn.prepare(
        "SELECT p.id, u.username, u.created, (SELECT COUNT(*) FROM posts q WHERE q.user_id = u.id), u.signature, p.body, p.created
         FROM posts p JOIN users u ON u.id = p.user_id WHERE p.thread_id = ?1 ORDER BY p.id",
    )?;
    let posts = stmt
        .query_map(params![id], |r| {
            Ok(PostView {
                id: r.get(0)?,
                author: r.get(1)?,
                author_joined: r.get(2)?,
                author_posts: count(r.get(3)?),
                author_signature: r.get(4)?,
                body: r.get(5)?,
                created: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ThreadView { site: site.to_string(), board, board_title, id, title, posts })
}

/// A user's profile page.
pub fn user(conn: &Connection, site: &str, username: &str) -> Result<UserView, WebError> {
    let (id, username, joined, signature): (i64, String, String, String) = conn
        .query_row("SELECT id, username, created, signature FROM users WHERE username = ?1", params![username], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
        .ok_or(WebError::NotFound("user"))?;
    let post_count: i64 = conn.query_row("SELECT COUNT(*) FROM posts WHERE user_id = ?1", params![id], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT p.id, t.id, t.title, p.body, p.created FROM posts p JOIN threads t ON t.id = p.thread_id
         WHERE p.user_id = ?1 ORDER BY p.id DESC LIMIT 20",
    )?;
    let recent_posts = stmt
        .query_map(params![id], |r| {
            Ok(RecentPost { id: r.get(0)?, thread_id: r.get(1)?, thread_title: r.get(2)?, body: r.get(3)?, created: r.get(4)? })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(UserView { site: site.to_string(), username, joined, signature, post_count: count(post_count), recent_posts })
}

/// Starts a thread on a board with its first post.
pub fn new_thread(conn: &Connection, now: SimTime, user_id: i64, slug: &str, t: &NewThread) -> Result<Posted, WebError> {
    let (board_id, _) = board_summary(conn, slug)?.ok_or(WebError::NotFound("board"))?;
    let title = text("title", &t.title, 1, TITLE_MAX, false)?;
    let body = text("body", &t.body, 1, BODY_MAX, true)?;
    conn.execute(
        "INSERT INTO threads (board_id, user_id, title, created) VALUES (?1, ?2, ?3, ?4)",
        params![board_id, user_id, title, now.to_string()],
    )?;
    let thread_id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO posts (thread_id, user_id, body, created) VALUES (?1, ?2, ?3, ?4)",
        params![thread_id, user_id, body, now.to_string()],
    )?;
    Ok(Posted { thread_id, post_id: conn.last_insert_rowid() })
}

/// Replies to a thread.
pub fn reply(conn: &Connection, now: SimTime, user_id: i64, thread_id: i64, r: &Reply) -> Result<Posted, WebError> {
    let exists: Option<i64> = conn.query_row("SELECT id FROM threads WHERE id = ?1", params![thread_id], |r| r.get(0)).optional()?;
    exists.ok_or(WebError::NotFound("thread"))?;
    let body = text("body", &r.body, 1, BODY_MAX, true)?;
    conn.execute(
        "INSERT INTO posts (thread_id, user_id, body, created) VALUES (?1, ?2, ?3, ?4)",
        params![thread_id, user_id, body, now.to_string()],
    )?;
    Ok(Posted { thread_id, post_id: conn.last_insert_rowid() })
}

/// Sets a user's signature.
pub fn set_signature(conn: &Connection, user_id: i64, p: &ProfileEdit) -> Result<(), WebError> {
    let signature = if p.signature.trim().is_empty() { String::new() } else { text("signature", &p.signature, 1, SIGNATURE_MAX, true)? };
    conn.execute("UPDATE users SET signature = ?1 WHERE id = ?2", params![signature, user_id])?;
    Ok(())
}

record_service!(
    /// A running forum. Cheap to clone (shared state).
    ForumService,
    ForumConfig,
    WebError
);

impl ForumService {
    /// A forum over `db`; creates the schema and the configured boards if needed.
    pub fn new(config: ForumConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, WebError> {
        config.validate()?;
        crate::db::prepare(&db)?;
        db.execute_batch(SCHEMA)?;
        for b in &config.boards {
            db.execute(
                "INSERT OR IGNORE INTO boards (slug, title, description) VALUES (?1, ?2, ?3)",
                params![b.slug, b.title, b.description],
            )?;
        }
        Ok(ForumService { inner: Arc::new(RecordCore::new(config, clock, db, rng)) })
    }

    /// The pages and forms as an axum router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(get_index))
            .route("/board/{slug}", get(get_board).post(post_thread))
            .route("/thread/{id}", get(get_thread).post(post_reply))
            .route("/user/{username}", get(get_user))
            .route("/register", post(post_register))
            .route("/login", post(post_login))
            .route("/profile", post(post_profile))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(self.clone())
    }

    fn site(&self) -> &str {
        &self.inner.config.name
    }
}

async fn get_index(State(svc): State<ForumService>, headers: HeaderMap) -> Result<Response, WebError> {
    let view = index(&svc.lock()?.conn, svc.site())?;
    page(&headers, "forum_index.html", &view)
}

async fn get_board(State(svc): State<ForumService>, headers: HeaderMap, ApiPath(slug): ApiPath<String>) -> Result<Response, WebError> {
    let view = board(&svc.lock()?.conn, svc.site(), &slug)?;
    page(&headers, "forum_board.html", &view)
}

async fn get_thread(State(svc): State<ForumService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> Result<Response, WebError> {
    let view = thread(&svc.lock()?.conn, svc.site(), id)?;
    page(&headers, "forum_thread.html", &view)
}

async fn get_user(State(svc): State<ForumService>, headers: HeaderMap, ApiPath(name): ApiPath<String>) -> Result<Response, WebError> {
    let view = user(&svc.lock()?.conn, svc.site(), &name)?;
    page(&headers, "forum_user.html", &view)
}

async fn post_register(
    State(svc): State<ForumService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    FormInput(c): FormInput<Credentials>,
) -> Result<Response, WebError> {
    session_form(&svc.inner, &headers, info, &format!("/user/{}", c.username), |conn, rng, now, ip| register(conn, rng, now, ip, &c))
}

async fn post_login(
    State(svc): State<ForumService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    FormInput(c): FormInput<Credentials>,
) -> Result<Response, WebError> {
    session_form(&svc.inner, &headers, info, "/", |conn, rng, now, ip| login(conn, rng, now, ip, &c))
}

async fn post_thread(
    State(svc): State<ForumService>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
    FormInput(t): FormInput<NewThread>,
) -> Result<Response, WebError> {
    let st = svc.lock()?;
    let (uid, _) = authenticate(&st.conn, session_token(&headers))?;
    let posted = new_thread(&st.conn, svc.inner.clock.now(), uid, &slug, &t)?;
    Ok(after_form(&headers, &posted, &format!("/thread/{}", posted.thread_id), None))
}

async fn post_reply(
    State(svc): State<ForumService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    FormInput(r): FormInput<Reply>,
) -> Result<Response, WebError> {
    let st = svc.lock()?;
    let (uid, _) = authenticate(&st.conn, session_token(&headers))?;
    let posted = reply(&st.conn, svc.inner.clock.now(), uid, id, &r)?;
    Ok(after_form(&headers, &posted, &format!("/thread/{}#p{}", posted.thread_id, posted.post_id), None))
}

async fn post_profile(
    State(svc): State<ForumService>,
    headers: HeaderMap,
    FormInput(p): FormInput<ProfileEdit>,
) -> Result<Response, WebError> {
    let st = svc.lock()?;
    let (uid, name) = authenticate(&st.conn, session_token(&headers))?;
    set_signature(&st.conn, uid, &p)?;
    let view = user(&st.conn, svc.site(), &name)?;
    Ok(after_form(&headers, &view, &format!("/user/{name}"), None))
}
