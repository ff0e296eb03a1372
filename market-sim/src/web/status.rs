//! Server-side slips any service can mount: an Apache-style `/server-status` page, the
//! site's favicon and its TLS certificate, and (optionally) Apache-style error pages.
//!
//! The slips, each planted by configuration:
//! - **Open status page.** With [`StatusConfig::real_ip`] set, `/server-status` is left
//!   open and names the machine's real address ("Apache Server Status for 203.0.113.7");
//!   without it the page is `403 Forbidden`, as mod_status is by default.
//! - **Signed error pages.** With [`StatusConfig::error_signature`] and a real IP, every
//!   `404` page a browser gets ends with "Apache/… Server at 203.0.113.7 Port 80".
//! - **Shared favicon / certificate.** `/favicon.ico` and `/.well-known/tls-certificate`
//!   serve the configured bytes; mounting the same [`StatusConfig`] assets on an onion
//!   service and on a clearnet host makes the hashes (`/.well-known/fingerprints`) match.
//!
//! Routes (mounted with [`mount`] onto a service's router):
//! - `GET /server-status` → HTML, or with `Accept: application/json` [`ServerStatus`]
//! - `GET /favicon.ico` → `image/x-icon`
//! - `GET /.well-known/tls-certificate` → `application/pkix-cert`
//! - `GET /.well-known/fingerprints` → [`Fingerprints`] `{favicon_sha256, tls_certificate_sha256}`

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sim_core::clock::{SimClock, SimTime};
use sim_core::rng::{Rng, SimRng};

use super::WebError;
use super::pages::render;
use crate::http_util::wants_json;

/// What a server shows about itself, and which slips are planted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusConfig {
    /// The name the server answers to (an onion name or a clearnet host name).
    pub server_name: String,
    /// The server software banner, e.g. `Apache/2.4.58 (Debian)`.
    pub software: String,
    /// The machine's real address. `Some` plants the open-status-page slip.
    pub real_ip: Option<String>,
    /// With `real_ip`: also sign `404` pages with the real address.
    pub error_signature: bool,
    /// When the server started (for the uptime line).
    pub started: SimTime,
    /// The favicon's bytes (an ICO file).
    pub favicon: Vec<u8>,
    /// The TLS certificate as presented (DER bytes).
    pub tls_certificate: Vec<u8>,
}

impl StatusConfig {
    /// A server with no slip planted and a favicon and certificate drawn from `rng`
    /// (deterministic: the same stream gives the same bytes).
    pub fn new(server_name: &str, started: SimTime, rng: &mut SimRng) -> Self {
        StatusConfig {
            server_name: server_name.to_string(),
            software: "Apache/2.4.58 (Debian)".into(),
            real_ip: None,
            error_signature: false,
            started,
            favicon: favicon(rng),
            tls_certificate: certificate(rng),
        }
    }

    /// The same assets (favicon, certificate, banner, real IP) served under another name —
    /// the operator reusing a machine or a template for a clearnet site.
    pub fn also_serving_as(&self, server_name: &str) -> Self {
        StatusConfig { server_name: server_name.to_string(), ..self.clone() }
    }

    /// SHA-256 of the favicon and the certificate.
    pub fn fingerprints(&self) -> Fingerprints {
        Fingerprints {
            favicon_sha256: hex::encode(Sha256::digest(&self.favicon)),
            tls_certificate_sha256: hex::encode(Sha256::digest(&self.tls_certificate)),
        }
    }
}

/// `GET /.well-known/fingerprints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// SHA-256 of `/favicon.ico`, hex.
    pub favicon_sha256: String,
    /// SHA-256 of the certificate's DER bytes, hex.
    pub tls_certificate_sha256: String,
}

/// The JSON form of `/server-status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The address the status is "for" — the real IP.
    pub server_address: String,
    /// The name the server answers to.
    pub server_name: String,
    /// Software banner.
    pub software: String,
    /// Current (simulated) time.
    pub current_time: String,
    /// When the server started.
    pub restart_time: String,
    /// Seconds since then.
    pub uptime_secs: i64,
}

/// A 16×16 32-bit ICO with a symmetric two-colour pattern drawn from `rng`.
fn favicon(rng: &mut SimRng) -> Vec<u8> {
    let mut colours = [[0u8; 4]; 2];
    for c in &mut colours {
        rng.fill_bytes(&mut c[..3]);
        c[3] = 0xff;
    }
    let bits = rng.next_u32();
    let mut out = Vec::with_capacity(22 + 40 + 1024 + 64);
    // ICONDIR and one ICONDIRENTRY.
    out.extend_from_slice(&[0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&[16, 16, 0, 0, 1, 0, 32, 0]);
    out.extend_from_slice(&(40u32 + 1024 + 64).to_le_bytes());
    out.extend_from_slice(&22u32.to_le_bytes());
    // BITMAPINFOHEADER (height doubled for the AND mask).
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&16i32.to_le_bytes());
    out.extend_from_slice(&32i32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(1024u32 + 64).to_le_bytes());
    out.extend_from_slice(&[0; 16]);
    // Pixels, bottom-up BGRA: a 4×4 grid of blocks, mirrored left to right.
    for y in (0..16u32).rev() {
        for x in 0..16u32 {
            let bx = if x < 8 { x / 4 } else { (15 - x) / 4 };
            let on = bits >> ((y / 4) * 2 + bx) & 1 == 1;
            let [r, g, b, a] = colours[usize::from(on)];
            out.extend_from_slice(&[b, g, r, a]);
        }
    }
    out.extend_from_slice(&[0; 64]);
    out
}

/// A stand-in for a DER certificate: a SEQUENCE header over 512 bytes from `rng`. Only
/// its hash matters to the game.
fn certificate(rng: &mut SimRng) -> Vec<u8> {
    let mut body = vec![0u8; 512];
    rng.fill_bytes(&mut body);
    let mut out = vec![0x30, 0x82, 0x02, 0x00];
    out.extend_from_slice(&body);
    out
}

/// A server's status configuration shared with its routes, so a slip can be planted after
/// the server is up — the market's real IP is only known once its machine is rented.
#[derive(Clone, Debug)]
pub struct StatusHandle(Arc<RwLock<StatusConfig>>);

impl StatusHandle {
    /// A handle over `config`.
    pub fn new(config: StatusConfig) -> Self {
        StatusHandle(Arc::new(RwLock::new(config)))
    }
    /// The configuration as it is now.
    pub fn config(&self) -> StatusConfig {
        self.0.read().map(|c| c.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }
    /// Plants the open-status-page slip (and, with `sign_errors`, signed error pages) for
    /// the machine at `ip`.
    pub fn leak_real_ip(&self, ip: &str, sign_errors: bool) {
        let mut c = self.0.write().unwrap_or_else(|e| e.into_inner());
        c.real_ip = Some(ip.to_string());
        c.error_signature = sign_errors;
    }
}

#[derive(Clone)]
struct StatusState {
    handle: StatusHandle,
    clock: SimClock,
}

/// `router` with the status routes added and, when planted, the error-page signature.
/// (The routes have no fallback, so `router` keeps its own.)
pub fn mount(router: Router, config: StatusConfig, clock: SimClock) -> Router {
    mount_shared(router, StatusHandle::new(config), clock)
}

/// [`mount`] over a shared configuration: slips planted through `handle` later take effect
/// at once.
pub fn mount_shared(router: Router, handle: StatusHandle, clock: SimClock) -> Router {
    let state = StatusState { handle, clock };
    let routes = Router::new()
        .route("/server-status", get(server_status))
        .route("/favicon.ico", get(favicon_ico))
        .route("/.well-known/tls-certificate", get(tls_certificate))
        .route("/.well-known/fingerprints", get(fingerprints))
        .with_state(state.clone());
    router.merge(routes).layer(axum::middleware::from_fn_with_state(state, sign_errors))
}

async fn server_status(State(st): State<StatusState>, headers: HeaderMap) -> Result<Response, WebError> {
    let config = st.handle.config();
    let Some(ip) = config.real_ip.clone() else {
        return Ok(forbidden(&headers));
    };
    let now = st.clock.now();
    let view = ServerStatus {
        server_address: ip,
        server_name: config.server_name.clone(),
        software: config.software.clone(),
        current_time: now.to_string(),
        restart_time: config.started.to_string(),
        uptime_secs: now.since(config.started).as_secs().max(0),
    };
    super::pages::page(&headers, "server_status.html", &view)
}

fn forbidden(headers: &HeaderMap) -> Response {
    if wants_json(headers) {
        return crate::http_util::error_response(StatusCode::FORBIDDEN, "forbidden");
    }
    let body = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head><title>403 Forbidden</title></head><body>\n<h1>Forbidden</h1>\n<p>You don't have permission to access this resource.</p>\n</body></html>\n";
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

async fn favicon_ico(State(st): State<StatusState>) -> Response {
    ([(header::CONTENT_TYPE, "image/x-icon")], st.handle.config().favicon).into_response()
}

async fn tls_certificate(State(st): State<StatusState>) -> Response {
    ([(header::CONTENT_TYPE, "application/pkix-cert")], st.handle.config().tls_certificate).into_response()
}

async fn fingerprints(State(st): State<StatusState>) -> axum::Json<Fingerprints> {
    axum::Json(st.handle.config().fingerprints())
}

/// Replaces a `404` a browser would see with Apache's page, signed with the real IP, when
/// that slip is planted.
async fn sign_errors(State(st): State<StatusState>, req: Request, next: Next) -> Response {
    let json = wants_json(req.headers());
    let resp = next.run(req).await;
    let config = st.handle.config();
    if json || resp.status() != StatusCode::NOT_FOUND || !config.error_signature {
        return resp;
    }
    let Some(ip) = config.real_ip.clone() else { return resp };
    let view = serde_json::json!({ "software": config.software, "ip": ip });
    match render_error(&view) {
        Ok(html) => {
            let mut r = (StatusCode::NOT_FOUND, Html(html)).into_response();
            r.headers_mut().insert(header::SERVER, HeaderValue::from_str(&config.software).unwrap_or(HeaderValue::from_static("Apache")));
            r
        }
        Err(_) => resp,
    }
}

fn render_error(view: &serde_json::Value) -> Result<String, WebError> {
    // A small inline page; values are escaped by rendering through an .html template.
    render("server_status.html", &serde_json::json!({ "not_found": true, "software": view["software"], "server_address": view["ip"] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_deterministic_and_shared() {
        let a = StatusConfig::new("abc.onion", SimTime(0), &mut sim_core::rng::stream(1, "status"));
        let b = StatusConfig::new("abc.onion", SimTime(0), &mut sim_core::rng::stream(1, "status"));
        assert_eq!(a, b);
        assert_eq!(a.favicon.len(), 22 + 40 + 1024 + 64);
        let clear = a.also_serving_as("shop.example");
        assert_eq!(clear.fingerprints(), a.fingerprints());
        let c = StatusConfig::new("abc.onion", SimTime(0), &mut sim_core::rng::stream(2, "status"));
        assert_ne!(c.fingerprints(), a.fingerprints());
    }
}
