//! Server-side slips: the open status page, signed error pages, and the same favicon and
//! certificate on an onion service and a clearnet host.

use market_sim::web::status::{self, StatusConfig};

use super::forum::forum;
use super::*;

#[tokio::test]
async fn status_page_is_closed_unless_the_slip_is_planted() {
    let (svc, clock) = forum();
    let config = StatusConfig::new("forumxyz.onion", SimTime(START - 86_400), &mut rng("status"));
    let r = status::mount(svc.router(), config.clone(), clock.clone());
    let resp = html(&r, "/server-status").await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(!resp.body.contains("203.0.113"));
    // The service's own pages still work, and its 404 stays plain.
    assert_eq!(html(&r, "/").await.status, StatusCode::OK);
    let nf = html(&r, "/nowhere").await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert!(!nf.body.contains("Server at"));

    let leaky = StatusConfig { real_ip: Some("203.0.113.7".into()), error_signature: true, ..config };
    let r = status::mount(svc.router(), leaky, clock);
    let resp = html(&r, "/server-status").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.body.contains("Apache Server Status for 203.0.113.7"), "{}", resp.body);
    assert!(resp.body.contains("forumxyz.onion"));
    let j = api(&r, "GET", "/server-status", None, None, None).await.json();
    assert_eq!(j["server_address"], "203.0.113.7");
    assert_eq!(j["uptime_secs"], 86_400);
    let nf = html(&r, "/nowhere").await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert!(nf.body.contains("Server at 203.0.113.7 Port 80"), "{}", nf.body);
    // API clients keep the JSON error.
    let nf = api(&r, "GET", "/nowhere", None, None, None).await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert!(nf.json()["error"].is_string());
}

#[tokio::test]
async fn favicon_and_certificate_match_across_hosts() {
    let (svc, clock) = forum();
    let onion_cfg = StatusConfig::new("market.onion", SimTime(START), &mut rng("market-status"));
    let clear_cfg = onion_cfg.also_serving_as("frost-supplies.example");
    let onion = status::mount(svc.router(), onion_cfg.clone(), clock.clone());
    let clear = status::mount(axum::Router::new(), clear_cfg, clock.clone());
    let a = send(&onion, "GET", "/favicon.ico", &[], None).await;
    let b = send(&clear, "GET", "/favicon.ico", &[], None).await;
    assert_eq!(a.headers["content-type"], "image/x-icon");
    assert_eq!(a.body, b.body);
    let ca = send(&onion, "GET", "/.well-known/tls-certificate", &[], None).await;
    let cb = send(&clear, "GET", "/.well-known/tls-certificate", &[], None).await;
    assert_eq!(ca.body, cb.body);
    let fa = api(&onion, "GET", "/.well-known/fingerprints", None, None, None).await.json();
    let fb = api(&clear, "GET", "/.well-known/fingerprints", None, None, None).await.json();
    assert_eq!(fa, fb);
    assert_eq!(fa["favicon_sha256"], onion_cfg.fingerprints().favicon_sha256);
    let other = StatusConfig::new("elsewhere.example", SimTime(START), &mut rng("other-status"));
    assert_ne!(other.fingerprints(), onion_cfg.fingerprints());
}
