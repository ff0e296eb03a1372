//! The lab's HTTP API over a real socket: every documented endpoint refuses callers without
//! a token and never shows one team another team's work; hostile input is a clear 4xx.

use std::sync::Arc;

use game::lab::openapi::{Access, CONSOLE_ENDPOINTS, ENDPOINTS};
use game::lab::{Lab, Member, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const B_HEAD: &str = "team-b-head";
const B_INVESTIGATOR: &str = "team-b-investigator";
const B_EXAMINER: &str = "team-b-examiner";
const INSTRUCTOR: &str = "the-instructors-token";

fn body_for(path: &str, market: &str) -> Option<Value> {
    match path {
        "/api/captures" | "/api/browse" => Some(json!({"url": format!("{market}/api/listings")})),
        "/api/requests" => Some(json!({"kind": "ProductionOrder", "provider": "coinbay", "target": "bcrt1qexample", "grounds": ["E4"]})),
        "/api/case" => Some(json!({"suspects": []})),
        "/api/undercover/accounts" => Some(json!({"site": "silk-lane", "handle": "b_probe"})),
        "/api/undercover/accounts/{id}/messages" => Some(json!({"to": "GreenLeafUK", "body": "hello"})),
        "/api/undercover/accounts/{id}/posts" => Some(json!({"board": "markets", "title": "t", "body": "b"})),
        "/api/undercover/accounts/{id}/purchases" => Some(json!({"listing_id": 1})),
        "/api/seizures" => Some(json!({"request": "R1"})),
        _ => None,
    }
}

/// Tokens that are not a member's: none, forged, empty, and the head of unit's own token
/// replayed altered (another case, a prefix, an extension) or under another scheme.
fn not_tokens() -> Vec<Option<String>> {
    let mut v = vec![None, Some("Bearer forged-token".to_string()), Some("Bearer ".to_string())];
    for t in [HEAD.to_ascii_uppercase(), HEAD[..HEAD.len() - 3].to_string(), format!("{HEAD}x")] {
        v.push(Some(format!("Bearer {t}")));
    }
    v.push(Some(format!("Basic {HEAD}")));
    v.push(Some(format!("bearer{HEAD}")));
    v.push(Some(HEAD.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_keeps_teams_apart_and_refuses_anonymous_callers() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = lab_world(11, dir.path()).await;
    let b = vec![
        Member { name: "b head".into(), role: Role::HeadOfUnit, token: B_HEAD.into() },
        Member { name: "b investigator".into(), role: Role::Investigator, token: B_INVESTIGATOR.into() },
        Member { name: "b examiner".into(), role: Role::ForensicExaminer, token: B_EXAMINER.into() },
    ];
    lab.add_team("team-b", b, &Lab::team_dir(dir.path(), "team-b")).await.unwrap();
    // Team A (HEAD) investigates and saves a draft; team B has done nothing.
    let team = investigate_without_filing(&scenario, &lab, &mut world).await;
    let draft = match scenario.solution.last() {
        Some(sim_core::scenario::SolutionStep::File(spec)) => team.case_file(&scenario, spec).unwrap(),
        _ => panic!("the solution files a case"),
    };
    lab.save_draft(HEAD, draft.clone()).await.unwrap();
    // Team A also works undercover: an authorisation (citing a fifth capture) and account U1.
    authorise(&lab, &mut world).await;
    let account = game::lab::AccountDraft { site: "silk-lane".into(), handle: "a_undercover".into() };
    lab.open_account(INVESTIGATOR, account).await.unwrap();
    let a_undercover = lab.undercover(HEAD).await.unwrap();
    let a_evidence = lab.evidence_list(HEAD).await.unwrap();
    assert_eq!(a_evidence.len(), 5);
    let captures: Vec<_> = a_evidence.iter().filter(|e| e.kind != game::ledger::ArtifactKind::ProviderRecord).collect();
    assert!(
        !captures.is_empty() && captures.iter().all(|e| e.method.starts_with("HTTP GET by the lab through the direct network")),
        "{captures:?}"
    );
    let a_requests = lab.requests(HEAD).await.unwrap();
    let a_ledger = std::fs::read(Lab::team_dir(dir.path(), "team").join(game::ledger::LEDGER_FILE)).unwrap();
    let secrets: Vec<String> = a_evidence
        .iter()
        .map(|e| e.content_hash.clone())
        .chain(a_evidence.iter().map(|e| e.source.clone()))
        .chain(["a_undercover".to_string()])
        .collect();

    let market = lab.directory().sites.values().next().unwrap().clone();
    let lab = Arc::new(lab);
    // The lab's routes and the instructor's, as `darklab serve` serves them.
    let console = game::instructor::Console {
        lab: lab.clone(),
        pace: Arc::new(game::pace::Pace::new(world.clock().now(), 60)),
        token: INSTRUCTOR.into(),
        elapsed: Arc::new(|| std::time::Duration::ZERO),
        network: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = game::lab::http::router(lab.clone()).merge(game::instructor::router(console));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = reqwest::Client::new();

    // Every operation of the document the lab serves, not a list kept beside it.
    let doc: Value = http.get(format!("{base}/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    assert_eq!(operations.len(), ENDPOINTS.len() + CONSOLE_ENDPOINTS.len(), "the document has every endpoint once");
    let mut checked = 0;
    for (method_name, doc_path) in &operations {
        let e = ENDPOINTS
            .iter()
            .chain(CONSOLE_ENDPOINTS)
            .find(|e| e.method == method_name && e.path == doc_path)
            .unwrap_or_else(|| panic!("{method_name} {doc_path} is in the document but not in the endpoint table"));
        // E4 and U1 exist only in team A's records (team B captures at most one page here).
        let id = if e.path.starts_with("/api/undercover/accounts") {
            "U1"
        } else if e.path.starts_with("/api/undercover/purchases") {
            "P1"
        } else {
            "E4"
        };
        let path = e.path.replace("{id}", id).replace("{table}", "users").replace("{team}", "team");
        let method = Method::from_bytes(e.method.as_bytes()).unwrap();
        let send = |authorization: Option<String>| {
            let mut req = http.request(method.clone(), format!("{base}{path}"));
            if let Some(a) = authorization {
                req = req.header("authorization", a);
            }
            if let Some(body) = body_for(e.path, &market) {
                req = req.json(&body);
            }
            req.send()
        };
        let bearer = |t: &str| Some(format!("Bearer {t}"));
        if e.access == Access::Public {
            assert!(send(None).await.unwrap().status().is_success(), "{} {path} is public", e.method);
            continue;
        }
        for auth in not_tokens() {
            let status = send(auth.clone()).await.unwrap().status();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path} with authorization {auth:?}", e.method);
        }
        if e.access == Access::Instructor {
            // A team's tokens never open the instructor's views; the instructor's own does.
            for t in [HEAD, INVESTIGATOR, B_HEAD, B_EXAMINER] {
                let resp = send(bearer(t)).await.unwrap();
                let status = resp.status();
                assert!(matches!(status.as_u16(), 401 | 403), "{} {path} with team token {t}: {status}", e.method);
                let text = resp.text().await.unwrap();
                assert!(!text.contains("Mark Ellis"), "{} {path} showed a team ground truth: {text}", e.method);
            }
            let resp = send(bearer(INSTRUCTOR)).await.unwrap();
            assert!(resp.status().is_success(), "{} {path} answers the instructor: {}", e.method, resp.status());
            checked += 1;
            continue;
        }
        // Team A's members whose role may not call it are refused (403) — or told the item is
        // not theirs (404) where team A has no such item (no purchase, no seized image).
        let wrong: &[&str] = match e.access {
            Access::Head => &[INVESTIGATOR],
            Access::Investigator => &[HEAD],
            Access::Examiner => &[HEAD, INVESTIGATOR],
            _ => &[],
        };
        for t in wrong {
            let status = send(bearer(t)).await.unwrap().status();
            let absent = path.contains("/P1/") || path.starts_with("/api/seized/");
            let expected = if absent { StatusCode::NOT_FOUND } else { StatusCode::FORBIDDEN };
            assert_eq!(status, expected, "{} {path} by team A's {t}", e.method);
        }
        // Each endpoint is tried by a team-B member whose role may call it.
        let b_token = match e.access {
            Access::Investigator => B_INVESTIGATOR,
            Access::Examiner => B_EXAMINER,
            _ => B_HEAD,
        };
        let resp = send(bearer(b_token)).await.unwrap();
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
        if e.method == "POST" && e.path == "/api/undercover/accounts" {
            assert_eq!(status, StatusCode::FORBIDDEN, "team B holds no undercover authorisation: {text}");
        }
        if e.method == "GET" && e.path == "/api/undercover" {
            let own: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(own["accounts"], json!([]), "team B sees none of team A's accounts: {text}");
        }
        if e.method == "GET" && (e.path == "/api/requests" || e.path == "/api/seized") {
            assert_eq!(text.trim(), "[]", "{} {path} as team B", e.method);
        }
        checked += 1;
    }
    assert_eq!(checked, operations.len() - ENDPOINTS.iter().filter(|e| e.access == Access::Public).count());
    // Nothing team B did, and nothing team A's wrong roles tried, changed team A's records.
    assert_eq!(lab.evidence_list(HEAD).await.unwrap(), a_evidence);
    assert_eq!(lab.requests(HEAD).await.unwrap().len(), a_requests.len());
    assert_eq!(lab.case(HEAD).await.unwrap(), Some(draft));
    assert_eq!(lab.undercover(HEAD).await.unwrap(), a_undercover, "team B reached none of team A's undercover work");
    assert!(lab.verdict(HEAD).await.unwrap().is_none());
    let after = std::fs::read(Lab::team_dir(dir.path(), "team").join(game::ledger::LEDGER_FILE)).unwrap();
    assert_eq!(after, a_ledger, "no entry, not even a custody event, was added to team A's ledger");
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_clear_4xx_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_scenario, world, lab) = lab_world(12, dir.path()).await;
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();
    // A clear 4xx: the expected status (or any 4xx) and a JSON error that says something.
    let refused = |r: reqwest::Response, expected: Option<StatusCode>, what: String| async move {
        let status = r.status();
        match expected {
            Some(s) => assert_eq!(status, s, "{what}"),
            None => assert!(status.is_client_error(), "{what}: {status}"),
        }
        let body: Value = r.json().await.unwrap_or_else(|e| panic!("{what}: the error is not JSON: {e}"));
        assert!(body["error"].as_str().is_some_and(|e| e.len() > 3), "{what}: {body}");
    };

    // Every endpoint that takes a JSON body, as both members would call it.
    let huge = "x".repeat(game::lab::http::MAX_BODY + 1);
    for e in ENDPOINTS.iter().filter(|e| matches!(e.request, game::lab::openapi::Body::Json(_))) {
        let path = e.path.replace("{id}", "U1");
        let method = Method::from_bytes(e.method.as_bytes()).unwrap();
        let token = if e.access == Access::Investigator { INVESTIGATOR } else { HEAD };
        let send = |body: String, content_type: &str| {
            http.request(method.clone(), format!("{base}{path}")).bearer_auth(token).header("content-type", content_type).body(body).send()
        };
        let what = |w: &str| format!("{} {path} with {w}", e.method);
        refused(
            send(format!("{{\"url\":\"{huge}\"}}"), "application/json").await.unwrap(),
            Some(StatusCode::PAYLOAD_TOO_LARGE),
            what("an oversized body"),
        )
        .await;
        for bad in ["{", "not json", "\u{0}", "{\"", "{,}"] {
            refused(send(bad.into(), "application/json").await.unwrap(), Some(StatusCode::BAD_REQUEST), what(&format!("{bad:?}"))).await;
        }
        for wrong in [
            "[]",
            "5",
            "{\"url\": \"x\"}}",
            "{\"url\": \"x\",}",
            "{\"url\": 5}",
            "{\"suspects\": [{\"name\": 1}]}",
            "{\"kind\": \"Subpoena\"}",
        ] {
            refused(send(wrong.into(), "application/json").await.unwrap(), None, what(wrong)).await;
        }
        refused(send("{}".into(), "text/plain").await.unwrap(), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE), what("no JSON content type"))
            .await;
    }
    // Unknown ids and path tricks in the names of artifacts, for every route that takes an id.
    for id in ["E999", "E0", "..%2F..%2Fledger.jsonl", "..%2Fartifacts", "E1%2F..%2FE2", "%00", "artifacts", "E1%00", "%2Fetc%2Fpasswd"] {
        for (method, suffix) in [(Method::GET, ""), (Method::GET, "/content"), (Method::POST, "/export")] {
            let r = http.request(method.clone(), format!("{base}/api/evidence/{id}{suffix}")).bearer_auth(HEAD).send().await.unwrap();
            assert!(r.status().is_client_error(), "{method} {id}{suffix}: {}", r.status());
            assert!(!r.text().await.unwrap().contains("root:"), "{id}{suffix}");
        }
    }
    for id in ["U9", "..%2FU1"] {
        let r = http.post(format!("{base}/api/undercover/accounts/{id}/inbox")).bearer_auth(INVESTIGATOR).send().await.unwrap();
        refused(r, Some(StatusCode::NOT_FOUND), format!("inbox of {id}")).await;
    }
    let r = http.post(format!("{base}/api/hints/no-such-hint")).bearer_auth(HEAD).send().await.unwrap();
    refused(r, Some(StatusCode::NOT_FOUND), "an unknown hint".into()).await;
    let r = http.post(format!("{base}/api/seizures")).bearer_auth(HEAD).json(&json!({"request": "R9"})).send().await.unwrap();
    refused(r, Some(StatusCode::FORBIDDEN), "a seizure by the head of unit".into()).await;
    for url in ["http://example.com/", "file:///etc/passwd", "http://127.0.0.1:1/", "not a url"] {
        let r = http.post(format!("{base}/api/captures")).bearer_auth(HEAD).json(&json!({"url": url})).send().await.unwrap();
        refused(r, Some(StatusCode::BAD_REQUEST), format!("capture of {url}")).await;
    }
    for (provider, grounds) in [("nobody", json!([])), ("coinbay", json!(["E1"])), ("..%2Fcoinbay", json!([]))] {
        let draft = json!({"kind": "ProductionOrder", "provider": provider, "target": "x", "grounds": grounds});
        let r = http.post(format!("{base}/api/requests")).bearer_auth(HEAD).json(&draft).send().await.unwrap();
        refused(r, Some(StatusCode::NOT_FOUND), format!("a request to {provider} citing {grounds}")).await;
    }
    assert!(lab.evidence_list(HEAD).await.unwrap().is_empty(), "nothing was stored");
    assert!(lab.requests(HEAD).await.unwrap().is_empty(), "nothing was filed");
    assert!(lab.undercover(HEAD).await.unwrap().accounts.is_empty(), "no account was opened");
    assert_eq!(lab.case(HEAD).await.unwrap(), None, "no case was saved or submitted");
    let team_dir = Lab::team_dir(dir.path(), "team");
    assert_eq!(std::fs::read(team_dir.join(game::ledger::LEDGER_FILE)).unwrap(), b"", "the ledger is still empty");
    assert_eq!(std::fs::read_dir(team_dir.join(game::ledger::ARTIFACTS_DIR)).unwrap().count(), 0, "no artifact was written");
    world.shutdown().await;
}

/// Custody over HTTP: reading an artifact is a `Viewed` event by whoever read it, exporting
/// it an `Exported` one, submitting a case an `AttachedToCase` for each cited item of the
/// team's own ledger — each in the same hash chain, surviving a reopen; reading an entry's
/// provenance is not a custody event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewing_exporting_and_attaching_to_the_case_are_custody_events() {
    let dir = tempfile::tempdir().unwrap();
    let (_scenario, world, lab) = lab_world(13, dir.path()).await;
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/vendors/GreenLeafUK", market(&lab));
    let r = http.post(format!("{base}/api/captures")).bearer_auth(HEAD).json(&json!({"url": url})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let entry: Value = r.json().await.unwrap();
    let id = entry["id"].as_str().unwrap().to_string();
    let custody = |lab: Arc<Lab>, id: String| async move {
        let d = lab.evidence_detail(HEAD, &game::ledger::EvidenceId(id)).await.unwrap();
        d.custody.iter().map(|c| (format!("{:?}", c.event), c.by.clone())).collect::<Vec<_>>()
    };
    let detail = http.get(format!("{base}/api/evidence/{id}")).bearer_auth(INVESTIGATOR).send().await.unwrap();
    assert_eq!(detail.status(), StatusCode::OK);
    assert!(custody(lab.clone(), id.clone()).await.is_empty(), "reading provenance is not viewing the artifact");

    let viewed = http.get(format!("{base}/api/evidence/{id}/content")).bearer_auth(INVESTIGATOR).send().await.unwrap();
    assert_eq!(viewed.status(), StatusCode::OK);
    let content = viewed.bytes().await.unwrap();
    assert!(String::from_utf8_lossy(&content).contains("GreenLeafUK"));
    let exported = http.post(format!("{base}/api/evidence/{id}/export")).bearer_auth(HEAD).send().await.unwrap();
    assert_eq!(exported.status(), StatusCode::OK);
    let disposition = exported.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with(&format!("attachment; filename=\"{id}-")), "{disposition}");
    assert_eq!(exported.bytes().await.unwrap(), content, "the export is the recorded artifact");
    assert_eq!(custody(lab.clone(), id.clone()).await, [("Viewed".into(), "investigator".into()), ("Exported".into(), "head".into())]);

    let case = json!({"suspects": [{"name": "Somebody", "personas": [{"site": "silk-lane", "handle": "GreenLeafUK"}], "attribution": [id, "E77"]}]});
    let r = http.post(format!("{base}/api/case")).bearer_auth(HEAD).json(&case).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let events = custody(lab.clone(), id.clone()).await;
    assert_eq!(events.last(), Some(&("AttachedToCase".to_string(), "head".to_string())), "{events:?}");
    assert_eq!(events.len(), 3);

    // One chain: evidence, then its three custody events, each linked to the one before.
    let team_dir = Lab::team_dir(dir.path(), "team");
    let report = game::ledger::verify_dir(&team_dir).unwrap();
    assert_eq!((report.entries, report.evidence, report.custody), (4, 1, 3));
    drop(lab);
    world.shutdown().await;
    let reopened = game::ledger::Ledger::open(&team_dir).unwrap();
    let records = reopened.records();
    for pair in records.windows(2) {
        assert_eq!(pair[1].prev_hash(), pair[0].entry_hash());
    }
    let events: Vec<_> = reopened.custody_of(&game::ledger::EvidenceId(id)).iter().map(|c| c.event).collect();
    use game::ledger::CustodyEvent::*;
    assert_eq!(events, [Viewed, Exported, AttachedToCase]);
}
