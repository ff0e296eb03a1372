//! No leakage: over a whole scripted investigation, nothing a team's token can read tells it
//! a hidden identity or fact before the team has lawfully obtained the evidence that shows it.

use std::sync::Arc;

use game::autopilot::Autopilot;
use game::lab::openapi::{Access, ENDPOINTS};
use sim_core::scenario::SolutionStep;

use crate::support::*;

/// Every GET a member can make, after the given evidence ids exist.
fn readable_paths(evidence: &[String]) -> Vec<String> {
    let mut paths = Vec::new();
    for e in ENDPOINTS.iter().filter(|e| e.method == "GET" && (e.access != Access::Public || e.path == "/api/status")) {
        if e.path.contains("{id}") {
            paths.extend(evidence.iter().map(|id| e.path.replace("{id}", id)));
        } else {
            paths.push(e.path.to_string());
        }
    }
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_learns_identities_only_from_lawfully_obtained_records() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = lab_world(17, dir.path()).await;
    let lab = Arc::new(lab);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = game::lab::http::router(lab.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = reqwest::Client::new();

    // What the world hides: every real identity's name, e-mail, phone, address and home IP.
    let secrets: Vec<(String, String)> = scenario
        .cast
        .iter()
        .flat_map(|a| {
            let i = &a.identity;
            [&i.name, &i.email, &i.phone, &i.address, &i.home_ip].into_iter().map(move |v| (a.id.to_string(), v.clone()))
        })
        .collect();
    let mut team = Autopilot::new();
    let mut lawful: Vec<String> = Vec::new(); // actors whose identity the team lawfully holds
    let mut scans = 0;
    for (i, step) in scenario.solution.iter().enumerate() {
        team.take(i + 1, step, &scenario, &lab, &mut world, HEAD).await.unwrap();
        if let SolutionStep::Request { response, .. } = step {
            // The exchange's records name their account holder: from now on that is lawful.
            let id = team.evidence(response.as_str()).unwrap();
            let records = String::from_utf8(lab.evidence_content(HEAD, id).await.unwrap()).unwrap();
            lawful.extend(scenario.cast.iter().filter(|a| records.contains(&a.identity.name)).map(|a| a.id.to_string()));
        }
        let ids: Vec<String> = lab.evidence_list(HEAD).await.unwrap().iter().map(|e| e.id.to_string()).collect();
        for path in readable_paths(&ids) {
            let r = http.get(format!("{base}{path}")).bearer_auth(HEAD).send().await.unwrap();
            let body = r.text().await.unwrap();
            scans += 1;
            for (actor, secret) in &secrets {
                if lawful.contains(actor) {
                    continue;
                }
                assert!(
                    !body.contains(secret.as_str()),
                    "after step {} {path} shows {actor}'s hidden {secret:?} before any lawful record did",
                    i + 1
                );
            }
        }
    }
    assert!(!lawful.is_empty(), "the investigation did obtain an identity lawfully");
    assert!(scans > 30, "{scans} responses scanned");
    world.shutdown().await;
}
