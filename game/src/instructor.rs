//! The instructor's API: the classroom's clock (pause, resume, compression), injects,
//! hints, each team's progress, the end of the exercise, a team's timeline for the
//! debrief, the scoreboard, the network map (in tor mode from its live consensus; in direct
//! mode the onion services alone) and "what really happened" (`lab::debrief`). Gated by the
//! instructor's own token; team tokens are refused (403 on ground truth).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sim_core::ids::HintId;

use crate::lab::{Lab, LabError, TeamProgress};
use crate::net::supervise::NetState;
use crate::pace::{Pace, PaceView};

/// What the instructor's routes share.
#[derive(Clone)]
pub struct Console {
    /// The lab.
    pub lab: Arc<Lab>,
    /// The classroom's pace.
    pub pace: Arc<Pace>,
    /// The instructor's token.
    pub token: String,
    /// Wall time elapsed since the classroom started (read at the edge).
    pub elapsed: Arc<dyn Fn() -> Duration + Send + Sync>,
    /// The private Tor network, in tor mode.
    pub network: Option<Arc<NetState>>,
}

/// The console's overview.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ConsoleStatus {
    /// The clock.
    pub pace: PaceView,
    /// Whether the exercise has ended.
    pub ended: bool,
    /// Every team's progress.
    pub teams: Vec<TeamProgress>,
}

/// A new compression factor.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct CompressionBody {
    /// Simulated seconds per real second (at least 1).
    pub factor: u32,
}

/// A message to every team.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct InjectBody {
    /// The message.
    pub message: String,
}

/// A hint for a team.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct HintBody {
    /// The team.
    pub team: String,
    /// The scenario's hint id.
    pub hint: HintId,
}

/// Whether the request carries the instructor's token.
fn authorised(console: &Console, headers: &HeaderMap) -> bool {
    carries_token(headers, &console.token)
}

/// Whether the request's bearer token is `token` (compared in constant time so it cannot be
/// guessed byte by byte).
pub(crate) fn carries_token(headers: &HeaderMap, token: &str) -> bool {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if cfg!(feature = "weakened-for-security-tests") {
        // Weakened for the security suite: any bearer token opens the console.
        return given.is_some();
    }
    given.is_some_and(|g| g.len() == token.len() && g.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
}

fn denied() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "instructor token required"}))).into_response()
}

/// The instructor's routes.
pub fn router(console: Console) -> Router {
    Router::new()
        .route("/instructor/status", get(status))
        .route("/instructor/pause", post(pause))
        .route("/instructor/resume", post(resume))
        .route("/instructor/compression", post(compression))
        .route("/instructor/inject", post(inject))
        .route("/instructor/hints", post(hint))
        .route("/instructor/end", post(end))
        .route("/instructor/teams/{team}/timeline", get(timeline))
        .route("/instructor/teams/{team}/report", get(report))
        .route("/instructor/network", get(network))
        .route("/instructor/scoreboard", get(scoreboard))
        .route("/instructor/truth", get(truth))
        .with_state(console)
}

async fn status(State(c): State<Console>, headers: HeaderMap) -> Response {
    if !authorised(&c, &headers) {
        return denied();
    }
    let now = (c.elapsed)();
    Json(ConsoleStatus { pace: c.pace.view(now), ended: c.lab.has_ended().await, teams: c.lab.progress().await }).into_response()
}

async fn pause(State(c): State<Console>, headers: HeaderMap) -> Response {
    if !authorised(&c, &headers) {
        return denied();
    }
    Json(c.pace.pause((c.elapsed)())).into_response()
}

async fn resume(State(c): State<Console>, headers: HeaderMap) -> Response {
    if !authorised(&c, &headers) {
        return denied();
    }
    Json(c.pace.resume((c.elapsed)())).into_response()
}

async fn compression(State(c): State<Console>, headers: HeaderMap, Json(body): Json<CompressionBody>) -> Response {
    if !authorised(&c, &headers) {
        return denied();
    }
    Json(c.pace.set_compression(body.factor, (c.elapsed)())).into_response()
}

async fn inject(State(c): State<Console>, headers: HeaderMap, Json(body): Json<InjectBody>) -> Response {
    if !authorised(&c, &headers) {
        return denied();
    }
    let message = body.message.trim();
    if message.is_empty() || message.len() > 4000 {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "a message of 1 to 4000 bytes"}))).into_response();
    }
    (StatusCode::CREATED, Json(c.lab.inject(message).await)).into_response()
}

async fn hint(State(c): State<Console>, headers: HeaderMap, Json(body): Json<HintBody>) -> Result<Response, LabError> {
    if !authorised(&c, &headers) {
        return Ok(denied());
    }
    Ok((StatusCode::CREATED, Json(c.lab.give_hint(&body.team, &body.hint).await?)).into_response())
}

async fn end(State(c): State<Console>, headers: HeaderMap) -> Result<Response, LabError> {
    if !authorised(&c, &headers) {
        return Ok(denied());
    }
    let scores: Vec<serde_json::Value> =
        c.lab.end().await?.into_iter().map(|(team, score)| json!({"team": team, "score": score})).collect();
    Ok(Json(json!({"ended": true, "teams": scores})).into_response())
}

async fn timeline(State(c): State<Console>, headers: HeaderMap, Path(team): Path<String>) -> Result<Response, LabError> {
    if !authorised(&c, &headers) {
        return Ok(denied());
    }
    Ok(Json(c.lab.timeline(&team).await?).into_response())
}

async fn report(State(c): State<Console>, headers: HeaderMap, Path(team): Path<String>) -> Result<Response, LabError> {
    if !authorised(&c, &headers) {
        return Ok(denied());
    }
    Ok(match c.lab.report_for(&team).await? {
        Some(page) => axum::response::Html(page).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "that team has not submitted a case"}))).into_response(),
    })
}

/// Refuses a caller without the instructor's token: a team member's token is recognised
/// and forbidden (403), anything else is unauthorised (401).
async fn refuse(c: &Console, headers: &HeaderMap) -> Response {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(t) if c.lab.is_member(t).await => {
            (StatusCode::FORBIDDEN, Json(json!({"error": "the instructor's view: a team member may not see it"}))).into_response()
        }
        _ => denied(),
    }
}

/// The classroom's ranking (scores included: the instructor's view).
async fn scoreboard(State(c): State<Console>, headers: HeaderMap) -> Response {
    if !authorised(&c, &headers) {
        return refuse(&c, &headers).await;
    }
    Json(c.lab.scoreboard().await).into_response()
}

/// What really happened: the world's ground truth for the debrief. Never a team's.
async fn truth(State(c): State<Console>, headers: HeaderMap) -> Response {
    if !authorised(&c, &headers) {
        return refuse(&c, &headers).await;
    }
    Json(c.lab.truth_view()).into_response()
}

/// The network map (relays with flags and bandwidth, onion services, the watchdog's
/// recoveries) from the live consensus; in direct mode, which has no relays, the onion
/// services with their `.onion` names as the lab's directory lists them.
async fn network(State(c): State<Console>, headers: HeaderMap) -> Response {
    if !authorised(&c, &headers) {
        return refuse(&c, &headers).await;
    }
    let Some(state) = c.network.clone() else {
        return Json(crate::net::consensus::direct_map(&c.lab.directory().sites)).into_response();
    };
    match tokio::task::spawn_blocking(move || crate::net::consensus::network_map(&state)).await {
        Ok(Ok(map)) => Json(map).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": e.to_string()}))).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": e.to_string()}))).into_response(),
    }
}
