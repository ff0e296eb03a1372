//! What the web services share to serve pages: the template environment (every `.html`
//! template auto-escapes), content negotiation (JSON for `Accept: application/json`, HTML
//! otherwise), form bodies in JSON or URL-encoded form, and browser sessions by cookie.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

use super::WebError;
use crate::http_util::wants_json;

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
    ("search_hosts.html", include_str!("templates/search_hosts.html")),
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
        use crate::http_util::session_token;
        let mut h = HeaderMap::new();
        assert!(!wants_json(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html, application/json;q=0.9"));
        assert!(wants_json(&h));
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; session=tok123"));
        assert_eq!(session_token(&h), Some("tok123"));
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
