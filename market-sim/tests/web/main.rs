//! market-sim integration tests of the wider web and the record-keeping providers: each
//! service driven over HTTP the way the cast will (through the router, or on
//! `127.0.0.1:0` where a crawler needs real sockets), hostile input coming back escaped,
//! validation errors, and legal desks whose answers match what was done — with retention
//! and preservation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod clearnet;
mod forum;
mod mixer;
mod providers;
mod status;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use sim_core::clock::{SimClock, SimTime};
use tower::ServiceExt as _;

pub(crate) const LEGAL_TOKEN: &str = "lab-legal-token-0123456789abcdef";
pub(crate) const START: i64 = 1_772_352_000; // 2026-03-01T08:00:00Z

/// A clock at the start of the exercise.
pub(crate) fn clock() -> SimClock {
    SimClock::new(SimTime(START))
}

/// An in-memory database.
pub(crate) fn db() -> rusqlite::Connection {
    rusqlite::Connection::open_in_memory().unwrap()
}

/// A seeded RNG stream.
pub(crate) fn rng(name: &str) -> sim_core::rng::SimRng {
    sim_core::rng::stream(7, name)
}

/// A response: status, headers, body text.
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One request through the router.
pub(crate) async fn send(router: &Router, method: &str, uri: &str, headers: &[(&str, &str)], body: Option<(&str, String)>) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some((ct, b)) => req.header("content-type", ct).body(Body::from(b)).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24).await.unwrap();
    Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// A JSON API call (`Accept: application/json`), with an optional bearer token and client IP.
pub(crate) async fn api(router: &Router, method: &str, uri: &str, token: Option<&str>, ip: Option<&str>, body: Option<Value>) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("accept", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    if let Some(ip) = ip {
        headers.push(("x-forwarded-for", ip));
    }
    send(router, method, uri, &headers, body.map(|b| ("application/json", b.to_string()))).await
}

/// A page as a browser gets it (HTML).
pub(crate) async fn html(router: &Router, uri: &str) -> Resp {
    send(router, "GET", uri, &[("accept", "text/html")], None).await
}

/// Serves `router` on `127.0.0.1:0`; returns its base URL.
pub(crate) async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

/// Markup a hostile user types into every field.
pub(crate) const SCRIPT: &str = "<script>alert('x')</script>";
pub(crate) const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// Checks that `html` shows the hostile strings escaped and never raw.
pub(crate) fn assert_escaped(html: &str) {
    assert!(!html.contains("<script>alert"), "raw script in page:\n{html}");
    assert!(!html.contains("<img src=x"), "raw img in page:\n{html}");
    assert!(html.contains("&lt;script&gt;"), "escaped script missing:\n{html}");
}
