//! What the web services share to serve pages: the template environment (every `.html`
//! template auto-escapes), content negotiation (JSON for `Accept: application/json`, HTML
//! otherwise), form bodies in JSON or URL-encoded form, and browser sessions by cookie.

use std::sync::OnceLock;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::WebError;
use crate::http_util::{ApiJson, bearer_token, error_response};

/// The templates, by name. `.html` names turn on HTML auto-escaping.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("forum_index.html", include_str!("templates/forum_index.html")),
    ("forum_board.html", include_str!("templates/forum_board.html")),
    ("forum_thread.html", include_str!("templates/forum_thread.html")),
    ("forum_user.html", include_str!("templates/forum_user.html")),
    ("mixer_index.html", include_str!("templates/mixer_index.html")),
    ("mixer_ticket.html", include_str!("templates/mixer_ticket.html")),
    ("social_index.html", include_str!("templates/social_index.html")),
    ("social_profile.html", include_str!("templates/social_profile.html")),
    ("paste_index.html", include_str!("templates/paste_index.html")),
    ("paste_view.html", include_str!("templates/paste_view.html")),
    ("search.html", include_str!("templates/search.html")),
    ("server_status.html", include_str!("templates/server_status.html")),
];

fn environment() -> Result<&'static Environment<'static>, WebError> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(|e| WebError::Template(e.clone()))
}

/// Renders template `name` over `view` (escaping every interpolated value).
pub(crate) fn render<T: Serialize>(name: &str, view: &T) -> Result<String, WebError> {
    let env = environment()?;
    let template = env.get_template(name).map_err(|e| WebError::Template(e.to_string()))?;
    template.render(minijinja::value::Serde(view)).map_err(|e| WebError::Template(e.to_string()))
}

/// Whether the client asked for JSON (`Accept: application/json`).
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|part| part.trim().starts_with("application/json")))
}

/// A page: `view` as JSON when the client asked for it, else rendered through `template`.
pub(crate) fn page<T: Serialize>(headers: &HeaderMap, template: &str, view: &T) -> Result<Response, WebError> {
    if wants_json(headers) { Ok(axum::Json(view).into_response()) } else { Ok(Html(render(template, view)?).into_response()) }
}

/// The answer to a form: JSON `body` for an API client; for a browser a `303 See Other`
/// to `location`, setting the `session` cookie when a token is given.
pub(crate) fn after_form<T: Serialize>(headers: &HeaderMap, body: &T, location: &str, session: Option<&str>) -> Response {
    if wants_json(headers) {
        return axum::Json(body).into_response();
    }
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(token) = session
        && let Ok(v) = HeaderValue::from_str(&format!("session={token}; Path=/; HttpOnly; SameSite=Lax"))
    {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The session token of a request: `Authorization: Bearer …`, else the `session` cookie.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = bearer_token(headers) {
        return Some(t.to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == "session" && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// A form body: JSON (`Content-Type: application/json`) or URL-encoded
/// (`application/x-www-form-urlencoded`, what a browser sends). Rejections are JSON errors.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FormInput<T>(pub T);

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

/// Checks a free-text field: trimmed, `min..=max` bytes, no control characters except
/// newlines and tabs when `multiline`. Returns the trimmed text.
pub(crate) fn text(field: &str, value: &str, min: usize, max: usize, multiline: bool) -> Result<String, WebError> {
    let v = value.trim();
    let bad_char = v.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')));
    if v.len() < min || v.len() > max || bad_char {
        let lines = if multiline { "" } else { " on one line" };
        return Err(WebError::BadInput(format!("{field} must be {min}-{max} bytes of text{lines}")));
    }
    Ok(v.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_and_escape() {
        environment().unwrap();
        let html = render("base.html", &serde_json::json!({"site": "<script>x</script>"})).unwrap();
        assert!(html.contains("&lt;script&gt;x"));
        assert!(!html.contains("<script>x"));
    }

    #[test]
    fn negotiation_and_cookies() {
        let mut h = HeaderMap::new();
        assert!(!wants_json(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html, application/json;q=0.9"));
        assert!(wants_json(&h));
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; session=tok123"));
        assert_eq!(session_token(&h).as_deref(), Some("tok123"));
    }

    #[test]
    fn text_fields() {
        assert_eq!(text("t", "  hi  ", 1, 10, false).unwrap(), "hi");
        assert!(text("t", "", 1, 10, false).is_err());
        assert!(text("t", "a\nb", 1, 10, false).is_err());
        assert_eq!(text("t", "a\r\nb", 1, 10, true).unwrap(), "a\nb");
        assert!(text("t", "a\u{0}b", 1, 10, true).is_err());
    }
}
