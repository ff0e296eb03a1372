//! The lab's HTTP + JSON API: thin routes over [`super::Lab`], authenticated by the
//! member token the instructor hands out (`Authorization: Bearer …`).

use std::sync::Arc;

use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::openapi::{StatusBody, UrlBody};
use super::{AccountDraft, Lab, LabError, MessageDraft, PostDraft, PurchaseDraft, RequestDraft, SeizureDraft};
use crate::case::CaseFile;
use crate::ledger::EvidenceId;

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        let status = match &self {
            LabError::UnknownToken => StatusCode::UNAUTHORIZED,
            LabError::Forbidden { .. } => StatusCode::FORBIDDEN,
            LabError::NotInWorld(_) => StatusCode::BAD_REQUEST,
            LabError::Fetch { .. } => StatusCode::BAD_GATEWAY,
            LabError::UnknownEvidence(_) | LabError::UnknownProvider(_) | LabError::UnknownRequest(_) => StatusCode::NOT_FOUND,
            LabError::NoWarrant(_) => StatusCode::CONFLICT,
            LabError::BadQuery(_) => StatusCode::BAD_REQUEST,
            LabError::CaseLocked | LabError::Ended => StatusCode::CONFLICT,
            LabError::UnknownHint(_) | LabError::UnknownTeam(_) => StatusCode::NOT_FOUND,
            LabError::Roster(_) => StatusCode::CONFLICT,
            LabError::NoAuthorisation(_) => StatusCode::FORBIDDEN,
            LabError::UnknownAccount(_) | LabError::UnknownPurchase(_) => StatusCode::NOT_FOUND,
            LabError::Undercover(_) => StatusCode::CONFLICT,
            LabError::BadInput(_) => StatusCode::BAD_REQUEST,
            LabError::Report(e) => {
                tracing::error!(error = %e, "report failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "the report could not be rendered"}))).into_response();
            }
            LabError::Ledger(e) => {
                tracing::error!(error = %e, "ledger failure");
                return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "the evidence ledger failed; tell the instructor"})))
                    .into_response();
            }
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// A JSON request body. A body the lab cannot read is refused before anything is done, with
/// the lab's own JSON error (`{"error": …}`) and axum's status: 400 malformed JSON, 413 too
/// large, 415 not declared as JSON, 422 JSON of the wrong shape.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err((rejection.status(), Json(json!({"error": rejection.body_text()}))).into_response()),
        }
    }
}

fn token(headers: &HeaderMap) -> Result<&str, LabError> {
    headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).ok_or(LabError::UnknownToken)
}

/// Largest request body the lab accepts (a case file with many claims fits easily).
pub const MAX_BODY: usize = 256 * 1024;

/// The lab's routes (documented in [`super::openapi::ENDPOINTS`]).
pub fn router(lab: Arc<Lab>) -> Router {
    Router::new()
        .route("/api/status", get(status))
        .route("/api/openapi.json", get(openapi))
        .route("/api/captures", post(capture))
        .route("/api/browse", post(browse))
        .route("/api/evidence", get(evidence_list))
        .route("/api/evidence/{id}", get(evidence_detail))
        .route("/api/evidence/{id}/content", get(evidence_content))
        .route("/api/evidence/{id}/export", post(evidence_export))
        .route("/api/requests", get(requests).post(file_request))
        .route("/api/case", get(case).put(save_draft).post(submit_case))
        .route("/api/verdict", get(verdict))
        .route("/api/verdict.html", get(verdict_html))
        .route("/api/announcements", get(announcements))
        .route("/api/hints", get(hints))
        .route("/api/hints/{id}", post(take_hint))
        .route("/api/undercover", get(undercover))
        .route("/api/undercover/accounts", post(open_account))
        .route("/api/undercover/accounts/{id}/messages", post(send_message))
        .route("/api/undercover/accounts/{id}/inbox", post(read_inbox))
        .route("/api/undercover/accounts/{id}/posts", post(post_thread))
        .route("/api/undercover/accounts/{id}/purchases", post(purchase))
        .route("/api/undercover/purchases/{id}/order", post(recheck_purchase))
        .route("/api/seizures", post(seize))
        .route("/api/seized", get(seized))
        .route("/api/seized/{id}/{table}", get(query_seized))
        // Requests are small JSON documents; anything larger is refused before parsing.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(lab)
}

async fn status(State(lab): State<Arc<Lab>>) -> Json<StatusBody> {
    Json(StatusBody {
        exercise: lab.scenario.meta.title.clone(),
        sim_time: lab.clock.now(),
        sites: lab.directory.sites.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        explorer: lab.directory.explorer.clone(),
    })
}

async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

async fn capture(State(lab): State<Arc<Lab>>, headers: HeaderMap, JsonBody(body): JsonBody<UrlBody>) -> Result<Response, LabError> {
    let entry = lab.capture(token(&headers)?, &body.url).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

async fn browse(State(lab): State<Arc<Lab>>, headers: HeaderMap, JsonBody(body): JsonBody<UrlBody>) -> Result<Response, LabError> {
    Ok(lab.browse(token(&headers)?, &body.url).await?.into_response())
}

async fn evidence_list(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    Ok(Json(lab.evidence_list(token(&headers)?).await?).into_response())
}

async fn evidence_content(State(lab): State<Arc<Lab>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, LabError> {
    Ok(lab.evidence_content(token(&headers)?, &EvidenceId(id)).await?.into_response())
}

async fn evidence_detail(State(lab): State<Arc<Lab>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, LabError> {
    Ok(Json(lab.evidence_detail(token(&headers)?, &EvidenceId(id)).await?).into_response())
}

async fn evidence_export(State(lab): State<Arc<Lab>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, LabError> {
    let (entry, content) = lab.export_evidence(token(&headers)?, &EvidenceId(id)).await?;
    let disposition = format!("attachment; filename=\"{}-{}\"", entry.id, &entry.content_hash[..12.min(entry.content_hash.len())]);
    let headers = [(axum::http::header::CONTENT_DISPOSITION, disposition), (axum::http::header::CONTENT_TYPE, entry.media_type.clone())];
    Ok((headers, content).into_response())
}

async fn case(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    Ok(Json(lab.case(token(&headers)?).await?).into_response())
}

async fn save_draft(State(lab): State<Arc<Lab>>, headers: HeaderMap, JsonBody(case): JsonBody<CaseFile>) -> Result<Response, LabError> {
    lab.save_draft(token(&headers)?, case).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn requests(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    Ok(Json(lab.requests(token(&headers)?).await?).into_response())
}

async fn file_request(
    State(lab): State<Arc<Lab>>,
    headers: HeaderMap,
    JsonBody(draft): JsonBody<RequestDraft>,
) -> Result<Response, LabError> {
    let req = lab.request(token(&headers)?, draft).await?;
    Ok((StatusCode::CREATED, Json(req)).into_response())
}

async fn submit_case(State(lab): State<Arc<Lab>>, headers: HeaderMap, JsonBody(case): JsonBody<CaseFile>) -> Result<Response, LabError> {
    Ok(Json(lab.submit_case(token(&headers)?, case).await?).into_response())
}

async fn verdict(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    match lab.verdict(token(&headers)?).await? {
        Some(v) => Ok(Json(v).into_response()),
        None => Ok((StatusCode::NOT_FOUND, Json(json!({"error": "no case submitted yet"}))).into_response()),
    }
}

async fn announcements(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    Ok(Json(lab.announcements(token(&headers)?).await?).into_response())
}

async fn hints(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    Ok(Json(lab.hints(token(&headers)?).await?).into_response())
}

async fn take_hint(State(lab): State<Arc<Lab>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, LabError> {
    let hint = lab.take_hint(token(&headers)?, &sim_core::ids::HintId(id)).await?;
    Ok((StatusCode::CREATED, Json(hint)).into_response())
}

async fn verdict_html(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    match lab.report(token(&headers)?).await? {
        Some(page) => Ok(axum::response::Html(page).into_response()),
        None => Ok((StatusCode::NOT_FOUND, Json(json!({"error": "no case submitted yet"}))).into_response()),
    }
}

async fn undercover(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    Ok(Json(lab.undercover(token(&headers)?).await?).into_response())
}

async fn open_account(
    State(lab): State<Arc<Lab>>,
    headers: HeaderMap,
    JsonBody(draft): JsonBody<AccountDraft>,
) -> Result<Response, LabError> {
    Ok((StatusCode::CREATED, Json(lab.open_account(token(&headers)?, draft).await?)).into_response())
}

async fn send_message(
    State(lab): State<Arc<Lab>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(draft): JsonBody<MessageDraft>,
) -> Result<Response, LabError> {
    Ok((StatusCode::CREATED, Json(lab.send_message(token(&headers)?, &id, draft).await?)).into_response())
}

async fn read_inbox(State(lab): State<Arc<Lab>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, LabError> {
    Ok(Json(lab.read_inbox(token(&headers)?, &id).await?).into_response())
}

async fn post_thread(
    State(lab): State<Arc<Lab>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(draft): JsonBody<PostDraft>,
) -> Result<Response, LabError> {
    Ok((StatusCode::CREATED, Json(lab.post_thread(token(&headers)?, &id, draft).await?)).into_response())
}

async fn purchase(
    State(lab): State<Arc<Lab>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(draft): JsonBody<PurchaseDraft>,
) -> Result<Response, LabError> {
    Ok((StatusCode::CREATED, Json(lab.purchase(token(&headers)?, &id, draft).await?)).into_response())
}

async fn recheck_purchase(State(lab): State<Arc<Lab>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, LabError> {
    Ok((StatusCode::CREATED, Json(lab.recheck_purchase(token(&headers)?, &id).await?)).into_response())
}

async fn seize(State(lab): State<Arc<Lab>>, headers: HeaderMap, JsonBody(draft): JsonBody<SeizureDraft>) -> Result<Response, LabError> {
    let entry = lab.seize(token(&headers)?, draft).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

async fn seized(State(lab): State<Arc<Lab>>, headers: HeaderMap) -> Result<Response, LabError> {
    Ok(Json(lab.seized(token(&headers)?).await?).into_response())
}

async fn query_seized(
    State(lab): State<Arc<Lab>>,
    headers: HeaderMap,
    Path((id, table)): Path<(String, String)>,
    Query(params): Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, LabError> {
    Ok(Json(lab.query_seized(token(&headers)?, &EvidenceId(id), &table, &params).await?).into_response())
}
