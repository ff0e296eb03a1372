//! The lab's HTTP API over a real socket: every documented endpoint refuses callers without
//! a token and never shows one team another team's work; hostile input is a clear 4xx.

use std::sync::Arc;

use game::lab::openapi::{Access, ENDPOINTS};
use game::lab::{Lab, Member, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const B_HEAD: &str = "team-b-head";

/// Serves the lab's router on 127.0.0.1:0; returns its base URL.
async fn serve_lab(lab: Arc<Lab>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, game::lab::http::router(lab)).await.unwrap();
    });
    format!("http://{addr}")
}

fn body_for(path: &str, market: &str) -> Option<Value> {
    match path {
        "/api/captures" | "/api/browse" => Some(json!({"url": format!("{market}/api/listings")})),
        "/api/requests" => Some(json!({"kind": "ProductionOrder", "provider": "coinbay", "target": "bcrt1qexample", "grounds": ["E4"]})),
        "/api/case" => Some(json!({"suspects": []})),
        "/api/seizures" => Some(json!({"request": "R1"})),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_keeps_teams_apart_and_refuses_anonymous_callers() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = lab_world(11, dir.path()).await;
    let b = vec![Member { name: "b head".into(), role: Role::HeadOfUnit, token: B_HEAD.into() }];
    lab.add_team("team-b", b, &Lab::team_dir(dir.path(), "team-b")).await.unwrap();
    // Team A (HEAD) investigates and saves a draft; team B has done nothing.
    let team = investigate_without_filing(&scenario, &lab, &mut world).await;
    let draft = match scenario.solution.last() {
        Some(sim_core::scenario::SolutionStep::File(spec)) => team.case_file(&scenario, spec).unwrap(),
        _ => panic!("the solution files a case"),
    };
    lab.save_draft(HEAD, draft.clone()).await.unwrap();
    let a_evidence = lab.evidence_list(HEAD).await.unwrap();
    assert_eq!(a_evidence.len(), 4);
    let a_requests = lab.requests(HEAD).await.unwrap();
    let secrets: Vec<String> =
        a_evidence.iter().map(|e| e.content_hash.clone()).chain(a_evidence.iter().map(|e| e.source.clone())).collect();

    let market = lab.directory().sites.values().next().unwrap().clone();
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();
    let mut checked = 0;
    for e in ENDPOINTS {
        // E4 exists only in team A's ledger (team B captures at most one page here).
        let path = e.path.replace("{id}", "E4");
        let method = Method::from_bytes(e.method.as_bytes()).unwrap();
        let send = |token: Option<&str>| {
            let mut req = http.request(method.clone(), format!("{base}{path}"));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(body) = body_for(e.path, &market) {
                req = req.json(&body);
            }
            req.send()
        };
        if e.access == Access::Public {
            assert!(send(None).await.unwrap().status().is_success(), "{} {path} is public", e.method);
            continue;
        }
        for token in [None, Some("forged-token"), Some("")] {
            let status = send(token).await.unwrap().status();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path} with {token:?}", e.method);
        }
        let resp = send(Some(B_HEAD)).await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{} {path} showed team B a trace of team A's evidence ({s}): {text}", e.method);
        }
        if e.path == "/api/verdict" {
            // Team B filed its own (empty) case above: it sees its own verdict, never A's.
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["team"], "team-b", "{text}");
        }
        if e.path.contains("{id}") || (e.path == "/api/requests" && e.method == "POST") {
            assert_eq!(status, StatusCode::NOT_FOUND, "{} {path} as team B: {text}", e.method);
        }
        if e.method == "GET" && e.path == "/api/evidence" {
            let own: Vec<Value> = serde_json::from_str(&text).unwrap();
            assert!(own.iter().all(|x| x["obtained_by"] == "b head"), "team B sees only its own evidence: {text}");
        }
        if e.method == "GET" && e.path == "/api/requests" {
            assert_eq!(text.trim(), "[]", "{} {path} as team B", e.method);
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} endpoints checked");
    // Nothing team B did reached team A.
    assert_eq!(lab.evidence_list(HEAD).await.unwrap(), a_evidence);
    assert_eq!(lab.requests(HEAD).await.unwrap().len(), a_requests.len());
    assert_eq!(lab.case(HEAD).await.unwrap(), Some(draft));
    assert!(lab.verdict(HEAD).await.unwrap().is_none());
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_clear_4xx_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_scenario, world, lab) = lab_world(12, dir.path()).await;
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();

    let huge = "x".repeat(game::lab::http::MAX_BODY + 1);
    let r = http
        .post(format!("{base}/api/captures"))
        .bearer_auth(HEAD)
        .header("content-type", "application/json")
        .body(format!("{{\"url\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    for bad in ["{", "[]", "{\"url\": 5}", "not json", "{\"suspects\": [{\"name\": 1}]}"] {
        for path in ["/api/captures", "/api/case", "/api/requests"] {
            let r = http
                .post(format!("{base}{path}"))
                .bearer_auth(HEAD)
                .header("content-type", "application/json")
                .body(bad)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_client_error(), "{path} with {bad:?}: {}", r.status());
        }
    }
    for id in ["E999", "..%2F..%2Fledger.jsonl", "E1%2F..%2FE2", "%00", "artifacts"] {
        for suffix in ["", "/content"] {
            let r = http.get(format!("{base}/api/evidence/{id}{suffix}")).bearer_auth(HEAD).send().await.unwrap();
            assert!(r.status().is_client_error(), "{id}{suffix}: {}", r.status());
        }
    }
    for url in ["http://example.com/", "file:///etc/passwd", "http://127.0.0.1:1/", "not a url"] {
        let r = http.post(format!("{base}/api/captures")).bearer_auth(HEAD).json(&json!({"url": url})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let r = http
        .post(format!("{base}/api/requests"))
        .bearer_auth(HEAD)
        .json(&json!({"kind": "ProductionOrder", "provider": "nobody", "target": "x", "grounds": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(lab.evidence_list(HEAD).await.unwrap().is_empty(), "nothing was stored");
    assert!(lab.requests(HEAD).await.unwrap().is_empty(), "nothing was filed");
    world.shutdown().await;
}
