//! HTTP plumbing shared by the market and the exchange: JSON error bodies, extractors
//! whose rejections are JSON too, bearer-token parsing and the client-IP rule.
//!
//! Invariant: every error a client sees is `{"error": "<message>"}` with a status that
//! says what kind of mistake it was; internal details (SQL, chain errors) are logged
//! with `tracing` and replaced by a generic message.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// A human-readable message safe to show to the client.
    pub error: String,
}

/// A response with `status` and body `{"error": message}`.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(ErrorBody { error: message.into() })).into_response()
}

/// The response for a service error (`service` is `"market"` or `"exchange"`, for logs):
/// a chain error is logged as a warning and answered "coin network unavailable", any
/// other server error is logged as an error and answered "internal error", and a client
/// error is answered with its own message.
pub fn service_error_response(service: &str, status: StatusCode, is_chain: bool, error: &dyn std::fmt::Display) -> Response {
    let message = if is_chain {
        tracing::warn!(error = %error, "{service}: chain error");
        "coin network unavailable".to_string()
    } else if status.is_server_error() {
        tracing::error!(error = %error, "{service}: internal error");
        "internal error".to_string()
    } else {
        error.to_string()
    };
    error_response(status, message)
}

/// Fallback for unknown routes: 404 with a JSON body.
pub async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such endpoint")
}

/// Fallback for a known route called with the wrong method: 405 with a JSON body.
pub async fn method_not_allowed() -> Response {
    error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}

/// A JSON request body whose rejection is a JSON error (400 for bad JSON or wrong
/// fields, 415 for a missing `Content-Type: application/json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(&rej)),
        }
    }
}

fn json_rejection(rej: &JsonRejection) -> Response {
    let (status, msg) = match rej {
        JsonRejection::MissingJsonContentType(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected Content-Type: application/json".to_string())
        }
        JsonRejection::JsonDataError(e) => (StatusCode::BAD_REQUEST, format!("invalid request body: {}", e.body_text())),
        JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed JSON body".to_string()),
        JsonRejection::BytesRejection(_) => (StatusCode::BAD_REQUEST, "could not read request body".to_string()),
        _ => (StatusCode::BAD_REQUEST, "invalid request body".to_string()),
    };
    error_response(status, msg)
}

/// Path parameters whose rejection is a JSON 400.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(rej) => Err(path_rejection(&rej)),
        }
    }
}

fn path_rejection(rej: &PathRejection) -> Response {
    match rej {
        PathRejection::FailedToDeserializePathParams(_) => error_response(StatusCode::BAD_REQUEST, "invalid path parameter"),
        _ => error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

/// A query string whose rejection is a JSON 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => Err(query_rejection(&rej)),
        }
    }
}

fn query_rejection(rej: &QueryRejection) -> Response {
    match rej {
        QueryRejection::FailedToDeserializeQueryString(e) => {
            error_response(StatusCode::BAD_REQUEST, format!("invalid query string: {}", e.body_text()))
        }
        _ => error_response(StatusCode::BAD_REQUEST, "invalid query string"),
    }
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    (!token.is_empty()).then_some(token)
}

/// The client's IP as the services record it: the first address of `X-Forwarded-For`
/// (set by the simulated network layer to the actor's simulated IP) if it parses, else
/// the socket peer, else `"unknown"`.
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .and_then(|v| v.parse::<IpAddr>().ok());
    match (forwarded, peer) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(addr)) => addr.ip().to_string(),
        (None, None) => "unknown".to_string(),
    }
}

/// The peer address from axum's `ConnectInfo`, when the server was started with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn peer_of(info: Option<axum::Extension<ConnectInfo<SocketAddr>>>) -> Option<SocketAddr> {
    info.map(|axum::Extension(ConnectInfo(addr))| addr)
}

/// Whether the client asked for JSON (`Accept: application/json`).
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|part| part.trim().starts_with("application/json")))
}

/// The session token of a request: `Authorization: Bearer …`, else the `session` cookie.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(t) = bearer_token(headers) {
        return Some(t);
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "session")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A form body: JSON (`Content-Type: application/json`) or URL-encoded
/// (`application/x-www-form-urlencoded`, what a browser sends). Rejections are JSON errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormInput<T>(pub T);

impl<T, S> FromRequest<S> for FormInput<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            let ApiJson(v) = ApiJson::<T>::from_request(req, state).await?;
            Ok(FormInput(v))
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            match axum::Form::<T>::from_request(req, state).await {
                Ok(axum::Form(v)) => Ok(FormInput(v)),
                Err(rej) => Err(error_response(StatusCode::BAD_REQUEST, format!("invalid form: {}", rej.body_text()))),
            }
        } else {
            Err(error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the form as application/json or application/x-www-form-urlencoded",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_is_parsed_strictly() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn client_ip_prefers_forwarded_header() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(client_ip(&h, None), "unknown");
        assert_eq!(client_ip(&h, Some(peer)), "127.0.0.1");
        h.insert("x-forwarded-for", HeaderValue::from_static("10.1.2.3, 127.0.0.1"));
        assert_eq!(client_ip(&h, Some(peer)), "10.1.2.3");
        h.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(client_ip(&h, Some(peer)), "127.0.0.1");
    }
}
