//! No leakage: over a whole scripted investigation, nothing any member's token can read tells
//! the team a hidden identity or fact before the team has lawfully obtained the evidence that
//! shows it. "Lawfully obtained" is read from the team's own ledger: a hidden value is the
//! team's once an artifact the lab recorded for it (a capture, a provider's answer under an
//! order, a seized image under a warrant) holds it.

use std::path::Path;
use std::sync::Arc;

use game::autopilot::Autopilot;
use game::lab::Lab;
use game::lab::openapi::{Access, ENDPOINTS};
use game::ledger::{ARTIFACTS_DIR, ArtifactKind};
use sim_core::facts::{Entity, FactKind};
use sim_core::scenario::Scenario;

use crate::support::*;

/// Every GET a member can make, given the team's evidence ids and, per seized image, its views.
fn readable_paths(evidence: &[String], seized: &[(String, Vec<String>)]) -> Vec<String> {
    let mut paths = Vec::new();
    for e in ENDPOINTS.iter().filter(|e| e.method == "GET" && (e.access != Access::Public || e.path == "/api/status")) {
        if e.path.contains("{table}") {
            for (id, tables) in seized {
                paths.extend(tables.iter().map(|t| e.path.replace("{id}", id).replace("{table}", t)));
            }
        } else if e.path.contains("{id}") {
            paths.extend(evidence.iter().map(|id| e.path.replace("{id}", id)));
        } else {
            paths.push(e.path.to_string());
        }
    }
    paths
}

/// Everything the team's ledger holds: its artifacts, read from disk, as text.
fn held(team_dir: &Path) -> String {
    let mut text = String::new();
    for f in std::fs::read_dir(team_dir.join(ARTIFACTS_DIR)).unwrap() {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()));
    }
    text
}

/// Runs `scenario`'s reference solution as a team of a head of unit, an investigator and a
/// forensic examiner; after every step, reads every GET each of them may make and checks that
/// no hidden value the team does not yet hold appears. Returns (responses scanned, hidden
/// values the team came to hold lawfully).
async fn scan_investigation(scenario: Arc<Scenario>, seed: u64) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let (mut world, lab) = team_lab(scenario.clone(), seed, dir.path(), true).await;
    let team_dir = Lab::team_dir(dir.path(), "team");
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();

    // What the world hides: every real identity's name, e-mail, phone, address and home IP,
    // and the real address of every machine a market runs on.
    let mut secrets: Vec<(String, String)> = scenario
        .cast
        .iter()
        .flat_map(|a| {
            let i = &a.identity;
            [&i.name, &i.email, &i.phone, &i.address, &i.home_ip].into_iter().map(move |v| (format!("{}'s identity", a.id), v.clone()))
        })
        .collect();
    for f in world.truth().read().facts.iter().filter(|f| f.kind == FactKind::HostedAt) {
        if let (Entity::Site(site), Entity::Ip(ip)) = (&f.subject, &f.object) {
            secrets.push((format!("the server of {site}"), ip.clone()));
        }
    }
    assert!(held(&team_dir).is_empty(), "the team starts with nothing");

    let mut team = Autopilot::with_examiner(EXAMINER);
    let mut scans = 0;
    for (i, step) in scenario.solution.iter().enumerate() {
        team.take(i + 1, step, &scenario, &lab, &mut world, HEAD).await.unwrap();
        let holds = held(&team_dir);
        let entries = lab.evidence_list(HEAD).await.unwrap();
        let ids: Vec<String> = entries.iter().map(|e| e.id.to_string()).collect();
        let seized: Vec<(String, Vec<String>)> =
            lab.seized(EXAMINER).await.unwrap().into_iter().map(|s| (s.evidence.to_string(), s.tables)).collect();
        assert_eq!(seized.len(), entries.iter().filter(|e| e.kind == ArtifactKind::ForensicImage).count());
        for token in [HEAD, INVESTIGATOR, EXAMINER] {
            for path in readable_paths(&ids, &seized) {
                let body = http.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap().text().await.unwrap();
                scans += 1;
                for (what, secret) in secrets.iter().filter(|(_, s)| !holds.contains(s.as_str())) {
                    assert!(
                        !body.contains(secret.as_str()),
                        "after step {} {path} shows {token} {what}: {secret:?}, which no evidence held",
                        i + 1
                    );
                }
            }
        }
    }
    let holds = held(&team_dir);
    let lawful = secrets.iter().filter(|(_, s)| holds.contains(s.as_str())).count();
    world.shutdown().await;
    (scans, lawful)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_learns_identities_only_from_lawfully_obtained_records() {
    let (scans, lawful) = scan_investigation(shipped(), 17).await;
    assert!(lawful > 0, "the investigation did obtain an identity lawfully");
    assert!(scans > 90, "{scans} responses scanned");
}

/// The takedown: the server's address is hidden until the status page is captured, the
/// operator's and vendors' identities until the records and the seized image show them; the
/// examiner's views of the image are scanned too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_learns_the_server_and_who_runs_it_only_from_lawfully_obtained_evidence() {
    let (scans, lawful) = scan_investigation(scenario("market-takedown.ron"), 5).await;
    assert!(lawful >= 2, "the server's address and an identity were obtained lawfully ({lawful})");
    assert!(scans > 150, "{scans} responses scanned");
}
