//! The challenge's front door: the lab API routed by member token to the team's own lab
//! (with the verdict held back until the announcement and the deadline enforced), the
//! public scoreboard (page, JSON, Server-Sent Events) and the instructor's console.
//!
//! Routes:
//! - `/api/…` — the lab API of [`crate::lab::http`], for the token's own team. Differences:
//!   `POST /api/case` answers `{"submitted": true, …}` without the verdict; `GET
//!   /api/verdict` and `/api/verdict.html` answer 403 until the results are announced;
//!   `PUT`/`POST /api/case` after the deadline answer 409.
//! - `GET /scoreboard` (HTML for the projector), `GET /scoreboard.json` and `GET
//!   /scoreboard/events` (`text/event-stream`, one `board` event per change): a
//!   [`super::board::Scoreboard`], public, without scores until the announcement.
//! - `/instructor/…` (instructor token): `status`, `pause`, `resume`, `compression`,
//!   `inject`, `hints`, `end` (lock the cases now), `freeze`, `announce`, `standings` (the
//!   ranking before it is public), `teams/{team}/timeline`, `teams/{team}/report`, and the
//!   workstation console's views: `scoreboard` (the standings), `truth` and `network` (of
//!   one team's world, `?team=`, default the first: with variants the worlds differ). A team
//!   member's token is refused these three with 403.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::json;
use tower::ServiceExt;

use super::Shared;
use crate::instructor::{CompressionBody, HintBody, InjectBody, carries_token};
use crate::lab::LabError;

const PAGE: &str = include_str!("../../templates/scoreboard.html");

type S = State<Arc<Shared>>;

/// The challenge's routes.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/{*rest}", any(team_api))
        .route("/scoreboard", get(page))
        .route("/scoreboard.json", get(board_json))
        .route("/scoreboard/events", get(board_events))
        .route("/instructor/status", get(status))
        .route("/instructor/pause", post(pause))
        .route("/instructor/resume", post(resume))
        .route("/instructor/compression", post(compression))
        .route("/instructor/inject", post(inject))
        .route("/instructor/hints", post(hint))
        .route("/instructor/end", post(end))
        .route("/instructor/freeze", post(freeze))
        .route("/instructor/announce", post(announce))
        .route("/instructor/standings", get(standings))
        .route("/instructor/teams/{team}/timeline", get(timeline))
        .route("/instructor/teams/{team}/report", get(report))
        .route("/instructor/scoreboard", get(scoreboard))
        .route("/instructor/truth", get(truth))
        .route("/instructor/network", get(network))
        .with_state(shared)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// Routes a lab request to the token's own team, holding back what must wait.
async fn team_api(State(c): S, req: Request) -> Result<Response, LabError> {
    let token = req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let arena = match token.and_then(|t| c.tokens.get(t)).and_then(|&i| c.arenas.get(i)) {
        Some(a) => a,
        // The API's description is the same for everyone.
        None if req.uri().path() == "/api/openapi.json" => match c.arenas.first() {
            Some(a) => a,
            None => return Ok(error(StatusCode::NOT_FOUND, "no teams")),
        },
        None => return Err(LabError::UnknownToken),
    };
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if path == "/api/case" && (method == Method::POST || method == Method::PUT) && c.enforce_deadline().await? {
        let message = format!("the submission deadline ({}) has passed: cases are locked", c.deadline);
        return Ok(error(StatusCode::CONFLICT, &message));
    }
    if (path == "/api/verdict" || path == "/api/verdict.html") && !c.announced().await {
        return Ok(error(StatusCode::FORBIDDEN, "verdicts are held back until the instructor announces the results"));
    }
    // The team's router matches the path afresh: drop what the front door's routing left.
    let (mut parts, body) = req.into_parts();
    parts.extensions = Default::default();
    let resp = match arena.router.clone().oneshot(Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    if path == "/api/case" && method == Method::POST && resp.status().is_success() {
        let at = arena.lab.submission(&arena.team).await?.at;
        let body = json!({
            "submitted": true,
            "at": at,
            "message": "The case is submitted and locked. The court's verdict is announced with the results.",
        });
        c.publish().await?;
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    Ok(resp)
}

/// The page for the projector: the board as it stands, kept live by the event stream.
async fn page(State(c): S) -> Result<Response, LabError> {
    let board = c.scoreboard().await?;
    // JSON inside a <script> element: escape what could end it.
    let json = serde_json::to_string(&board)
        .map_err(|e| LabError::Report(e.to_string()))?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    Ok(Html(PAGE.replace("/*BOARD*/null", &json)).into_response())
}

async fn board_json(State(c): S) -> Result<Response, LabError> {
    Ok(Json(c.scoreboard().await?).into_response())
}

/// One `board` event now and one per change; comments keep the connection alive. The
/// stream ends when the challenge stops.
async fn board_events(State(c): S) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = c.board.subscribe();
    let stopping = c.stopping.clone();
    let stream = futures_util::stream::unfold((rx, stopping, true), |(mut rx, mut stopping, first)| async move {
        if !first {
            tokio::select! {
                changed = rx.changed() => changed.ok()?,
                _ = stopping.wait_for(|s| *s) => return None,
            }
        }
        let event = {
            let board = rx.borrow_and_update();
            Event::default().event("board").json_data(&*board).unwrap_or_else(|_| Event::default().comment("unserialisable"))
        };
        Some((Ok(event), (rx, stopping, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn denied() -> Response {
    error(StatusCode::UNAUTHORIZED, "instructor token required")
}

async fn status(State(c): S, headers: HeaderMap) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    let mut teams = Vec::new();
    for a in &c.arenas {
        teams.extend(a.lab.progress().await);
    }
    let board = c.scoreboard().await?;
    Ok(Json(json!({
        "pace": c.pace.view((c.elapsed)()),
        "deadline": c.deadline,
        "phase": board.phase,
        "frozen": board.frozen,
        "ended": board.phase != super::board::Phase::Running,
        "teams": teams,
    }))
    .into_response())
}

async fn pause(State(c): S, headers: HeaderMap) -> Response {
    if !carries_token(&headers, &c.instructor) {
        return denied();
    }
    Json(c.pace.pause((c.elapsed)())).into_response()
}

async fn resume(State(c): S, headers: HeaderMap) -> Response {
    if !carries_token(&headers, &c.instructor) {
        return denied();
    }
    Json(c.pace.resume((c.elapsed)())).into_response()
}

async fn compression(State(c): S, headers: HeaderMap, Json(body): Json<CompressionBody>) -> Response {
    if !carries_token(&headers, &c.instructor) {
        return denied();
    }
    Json(c.pace.set_compression(body.factor, (c.elapsed)())).into_response()
}

async fn inject(State(c): S, headers: HeaderMap, Json(body): Json<InjectBody>) -> Response {
    if !carries_token(&headers, &c.instructor) {
        return denied();
    }
    let message = body.message.trim();
    if message.is_empty() || message.len() > 4000 {
        return error(StatusCode::BAD_REQUEST, "a message of 1 to 4000 bytes");
    }
    let mut sent = Vec::new();
    for a in &c.arenas {
        sent.push(a.lab.inject(message).await);
    }
    (StatusCode::CREATED, Json(sent.into_iter().next())).into_response()
}

async fn hint(State(c): S, headers: HeaderMap, Json(body): Json<HintBody>) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    let given = c.arena(&body.team)?.lab.give_hint(&body.team, &body.hint).await?;
    Ok((StatusCode::CREATED, Json(given)).into_response())
}

async fn end(State(c): S, headers: HeaderMap) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    c.lock().await?;
    c.publish().await?;
    Ok(Json(json!({"locked": true})).into_response())
}

async fn freeze(State(c): S, headers: HeaderMap) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    c.freeze().await?;
    Ok(Json(json!({"frozen": true})).into_response())
}

async fn announce(State(c): S, headers: HeaderMap) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    Ok(Json(c.announce().await?).into_response())
}

async fn standings(State(c): S, headers: HeaderMap) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    Ok(Json(c.standings().await?).into_response())
}

async fn timeline(State(c): S, headers: HeaderMap, Path(team): Path<String>) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    Ok(Json(c.arena(&team)?.lab.timeline(&team).await?).into_response())
}

async fn report(State(c): S, headers: HeaderMap, Path(team): Path<String>) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(denied());
    }
    Ok(match c.arena(&team)?.lab.report_for(&team).await? {
        Some(page) => Html(page).into_response(),
        None => error(StatusCode::NOT_FOUND, "that team has not submitted a case"),
    })
}

/// Which team's world a console view shows.
#[derive(serde::Deserialize)]
struct WorldOf {
    team: Option<String>,
}

/// Refuses a caller without the instructor's token: a team member's token is recognised and
/// forbidden (403), anything else is unauthorised (401).
fn refuse(c: &Shared, headers: &HeaderMap) -> Response {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(t) if c.tokens.contains_key(t) => error(StatusCode::FORBIDDEN, "the instructor's view: a team member may not see it"),
        _ => denied(),
    }
}

/// The team's world the query names, or the first team's.
fn world_of<'a>(c: &'a Shared, q: &WorldOf) -> Result<&'a super::Arena, LabError> {
    match &q.team {
        Some(team) => c.arena(team),
        None => c.arenas.first().ok_or_else(|| LabError::UnknownTeam(String::new())),
    }
}

/// The ranking as it stands, scores included (the console's scoreboard; public only once
/// announced).
async fn scoreboard(State(c): S, headers: HeaderMap) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(refuse(&c, &headers));
    }
    Ok(Json(c.standings().await?).into_response())
}

/// What really happened in one team's world, for the debrief. Never a team's.
async fn truth(State(c): S, headers: HeaderMap, Query(q): Query<WorldOf>) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(refuse(&c, &headers));
    }
    Ok(Json(world_of(&c, &q)?.lab.truth_view()).into_response())
}

/// One team's world's onion services (a challenge runs on the direct network).
async fn network(State(c): S, headers: HeaderMap, Query(q): Query<WorldOf>) -> Result<Response, LabError> {
    if !carries_token(&headers, &c.instructor) {
        return Ok(refuse(&c, &headers));
    }
    Ok(Json(crate::net::consensus::direct_map(&world_of(&c, &q)?.lab.directory().sites)).into_response())
}
