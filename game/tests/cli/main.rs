//! The `darklab` command's contract: exit codes, located diagnostics, the demo's last line,
//! and `serve`'s service lines and clean stop.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn darklab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_darklab"));
    c.current_dir(repo());
    c
}

#[test]
fn check_accepts_every_shipped_scenario() {
    for entry in std::fs::read_dir(repo().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            let out = darklab().arg("check").arg(&path).output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
            assert!(stdout.contains("ok"), "{stdout}");
            assert!(stdout.lines().count() <= 40, "the summary fits one screen:\n{stdout}");
            // Each declared variant on its own, as an instructor checks the one a class gets.
            let text = std::fs::read_to_string(&path).unwrap();
            let s = sim_core::scenario::load_str(&path.display().to_string(), &text).unwrap();
            for k in 1..=s.variants.as_ref().map_or(0, |v| v.count) {
                let out = darklab().arg("check").arg(&path).args(["--variant", &k.to_string()]).output().unwrap();
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(out.status.success(), "{} --variant {k}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
                assert!(stdout.contains(&format!("(variant {k}): ok")), "{stdout}");
                assert!(stdout.contains("shortest lawful path"), "the variant is solved: {stdout}");
            }
        }
    }
}

#[test]
fn every_broken_scenario_gives_its_located_diagnostic_and_exit_1() {
    let dir = repo().join("tests/broken");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let expected = std::fs::read_to_string(path.with_extension("expected")).unwrap();
        let out = darklab().arg("check").arg(format!("tests/broken/{name}")).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        assert_eq!(stderr.lines().next().unwrap_or(""), expected.trim_end(), "{name}");
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} broken scenarios");
}

#[test]
fn check_of_a_missing_file_is_a_clear_error() {
    let out = darklab().args(["check", "scenarios/no-such-file.ron"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.ron"));
}

#[test]
fn demo_prints_the_verdict_and_ends_with_the_world_digest() {
    let out = darklab().args(["demo", "--seed", "3"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Score: 80 / 80"), "{stdout}");
    let last = stdout.lines().last().unwrap();
    let hex = last.strip_prefix("world-digest: ").unwrap_or_else(|| panic!("last line: {last}"));
    assert_eq!(hex.len(), 64);
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
}

/// A running `darklab serve`: its child process, service URLs and the first head-of-unit token.
struct Served {
    child: std::process::Child,
    services: std::collections::BTreeMap<String, String>,
    head_token: String,
}

fn start_serve(data: &Path, seed: &str) -> Served {
    let mut child = darklab()
        .args(["serve", "--seed", seed, "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut services = std::collections::BTreeMap::new();
    let mut head_token = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["service", name, url] => {
                services.insert(name.to_string(), url.to_string());
            }
            ["token", _team, "HeadOfUnit", t] if head_token.is_none() => head_token = Some(t.to_string()),
            _ => {}
        }
    }
    Served { child, services, head_token: head_token.expect("serve printed a head-of-unit token") }
}

/// A distinct regtest address for each `k`: the P2WSH of a script made of k's bytes.
fn address(k: u64) -> String {
    let script = bitcoin::ScriptBuf::from_bytes(k.to_le_bytes().to_vec());
    bitcoin::Address::p2wsh(&script, bitcoin::KnownHrp::Regtest).to_string()
}

/// `darklab ledger verify` on the first team's ledger of a serve data directory.
fn verify_first_team(data: &Path) -> std::process::Output {
    let team_dir = std::fs::read_dir(data).unwrap().next().unwrap().unwrap().path().join("teams/team-1");
    darklab().args(["ledger", "verify"]).arg(&team_dir).output().unwrap()
}

/// The lab is killed (SIGKILL) at random points while four clients capture distinct pages as
/// fast as it answers — each capture a new artifact (written, synced, renamed) and a new
/// entry line (appended, synced), so the kill lands anywhere in that path. After every kill
/// the ledger on disk verifies, and once restarted the lab still holds every capture it had
/// acknowledged with 201, with the same content hash.
#[test]
fn acknowledged_evidence_survives_sigkill_of_the_lab() {
    let data = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // (id, content hash) of every capture the lab acknowledged with 201.
    let mut acked: Vec<(String, String)> = Vec::new();
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut token = None;
    let mut page = 0u64;
    for round in 0..6 {
        let mut served = start_serve(data.path(), "9");
        let lab = served.services["lab"].clone();
        if let Some(t) = &token {
            assert_eq!(t, &served.head_token, "tokens survive a restart");
        }
        token = Some(served.head_token.clone());
        let head = served.head_token.clone();
        // Kill once this many captures are acknowledged, then after up to 40 ms more.
        let kill_after = 1 + usize::try_from(next() % 16).unwrap();
        let extra = Duration::from_millis(next() % 40);
        let first_page = page;
        let new_acks = rt.block_on(async {
            let http = reqwest::Client::new();
            let listing: Vec<serde_json::Value> =
                http.get(format!("{lab}/api/evidence")).bearer_auth(&head).send().await.unwrap().json().await.unwrap();
            let present: std::collections::BTreeMap<String, String> =
                listing.iter().map(|e| (e["id"].as_str().unwrap().to_string(), e["content_hash"].as_str().unwrap().to_string())).collect();
            for (id, hash) in &acked {
                assert_eq!(present.get(id), Some(hash), "round {round}: acknowledged {id} is missing or changed after SIGKILL");
            }
            let status: serde_json::Value = http.get(format!("{lab}/api/status")).send().await.unwrap().json().await.unwrap();
            let market = status["sites"]["silk-lane"].as_str().unwrap().to_string();
            let explorer = status["explorer"].as_str().unwrap().to_string();
            // The explorer's socket, for this test; the lab fetches by the network's name.
            let explorer_socket = &served.services["explorer"];
            let tip: u64 =
                http.get(format!("{explorer_socket}/blocks/tip/height")).send().await.unwrap().text().await.unwrap().parse().unwrap();
            let mut tasks = Vec::new();
            let acks_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            for client in 0..4u64 {
                let (http, lab, head, market, explorer) = (http.clone(), lab.clone(), head.clone(), market.clone(), explorer.clone());
                let acks_so_far = acks_so_far.clone();
                tasks.push(tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for n in 0u64.. {
                        // Distinct pages (an address's explorer page names it), so most captures
                        // store a new artifact; now and then a block or the market's listings.
                        let k = first_page + n * 4 + client;
                        let url = match k % 8 {
                            0 => format!("{market}/api/listings"),
                            1 => format!("{explorer}/block-height/{}", k % (tip + 1)),
                            _ => format!("{explorer}/address/{}", address(k)),
                        };
                        let sent =
                            http.post(format!("{lab}/api/captures")).bearer_auth(&head).json(&serde_json::json!({"url": url})).send().await;
                        // A transport error is the kill; any answer the lab gives must be a 201.
                        let Ok(r) = sent else { break };
                        assert_eq!(r.status().as_u16(), 201, "capture of {url} before the kill");
                        let Ok(e) = r.json::<serde_json::Value>().await else { break };
                        mine.push((e["id"].as_str().unwrap().to_string(), e["content_hash"].as_str().unwrap().to_string()));
                        acks_so_far.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    mine
                }));
            }
            let enough = async {
                while acks_so_far.load(std::sync::atomic::Ordering::SeqCst) < kill_after {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(120), enough).await;
            tokio::time::sleep(extra).await;
            // SIGKILL while the clients are still capturing.
            served.child.kill().unwrap();
            let mut acks = Vec::new();
            for t in tasks {
                acks.extend(t.await.unwrap());
            }
            acks
        });
        served.child.wait().unwrap();
        assert!(new_acks.len() >= kill_after, "round {round}: {} captures acknowledged, the kill waited for {kill_after}", new_acks.len());
        page += 1_000;
        acked.extend(new_acks);
        // Right after the kill, before any restart could repair it, the chain on disk verifies
        // (a torn last line is reported, not an error).
        let out = verify_first_team(data.path());
        assert!(out.status.success(), "round {round}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    let distinct: std::collections::BTreeSet<&String> = acked.iter().map(|(_, h)| h).collect();
    assert!(distinct.len() * 2 > acked.len(), "most captures were new artifacts: {} of {}", distinct.len(), acked.len());
    let mut served = start_serve(data.path(), "9");
    let lab = served.services["lab"].clone();
    let present: Vec<serde_json::Value> = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{lab}/api/evidence"))
            .bearer_auth(&served.head_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    for (id, hash) in &acked {
        assert!(present.iter().any(|e| e["id"] == id.as_str() && e["content_hash"] == hash.as_str()), "{id} lost");
    }
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    let out = verify_first_team(data.path());
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn serve_prints_real_urls_then_ready_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let Served { child, services, head_token } = start_serve(data.path(), "2");
    let token = Some(head_token);
    for name in ["lab", "market", "explorer"] {
        assert!(services.contains_key(name), "no service {name}: {services:?}");
    }
    // Each service of the live world keeps its own SQLite database, in WAL mode.
    let world_dir = data.path().join("careless-vendor-seed2/world");
    for db in ["silk-lane.sqlite", "coinbay.sqlite"] {
        assert!(world_dir.join(db).is_file(), "{db} in {}", world_dir.display());
        let header = std::fs::read(world_dir.join(db)).unwrap();
        assert_eq!(header.get(18..20), Some(&[2u8, 2u8][..]), "{db} is in WAL mode (file format bytes 18-19 = 2)");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let height: u32 =
            http.get(format!("{}/blocks/tip/height", services["explorer"])).send().await.unwrap().text().await.unwrap().parse().unwrap();
        assert!(height > 0);
        let listings = http.get(format!("{}/api/listings", services["market"])).send().await.unwrap();
        assert!(listings.status().is_success());
        let status: serde_json::Value = http.get(format!("{}/api/status", services["lab"])).send().await.unwrap().json().await.unwrap();
        assert_eq!(status["exercise"], "A careless vendor");
        let token = token.clone().unwrap();
        let market = status["sites"]["silk-lane"].as_str().unwrap().to_string();
        assert!(market.ends_with(".onion"), "teams are told the market's onion address: {market}");
        let capture = http
            .post(format!("{}/api/captures", services["lab"]))
            .bearer_auth(&token)
            .json(&serde_json::json!({"url": format!("{market}/api/listings")}))
            .send()
            .await
            .unwrap();
        assert_eq!(capture.status().as_u16(), 201, "{:?}", capture.text().await);
        let outside = http
            .post(format!("{}/api/captures", services["lab"]))
            .bearer_auth(&token)
            .json(&serde_json::json!({"url": "http://example.com/"}))
            .send()
            .await
            .unwrap();
        assert_eq!(outside.status().as_u16(), 400, "the lab only fetches from the exercise's network");
        let evidence: serde_json::Value =
            http.get(format!("{}/api/evidence", services["lab"])).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let entries = evidence.as_array().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["id"], "E1");
        assert_eq!(entries[0]["content_hash"].as_str().unwrap().len(), 64);
        let anonymous = http.get(format!("{}/api/evidence", services["lab"])).send().await.unwrap();
        assert_eq!(anonymous.status().as_u16(), 401);
    });
    stops_cleanly_on_sigterm(child);
}

/// Sends SIGTERM to a running `darklab serve` and asserts it exits with success within 10 s.
fn stops_cleanly_on_sigterm(mut child: std::process::Child) {
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("serve did not stop within 10 s of SIGTERM");
}

/// `darklab serve FILE --teams 2 --challenge`: one world per team (team 2 on variant 1), one
/// front door with the scoreboard, no score on it before the announcement, a clean stop.
#[test]
fn serve_challenge_gives_each_team_its_own_world_and_a_scoreboard() {
    let data = tempfile::tempdir().unwrap();
    let mut child = darklab()
        .args(["serve", "scenarios/careless-vendor.ron", "--teams", "2", "--challenge", "--seed", "3", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        lines.push(line);
    }
    let field = |prefix: &str| lines.iter().find_map(|l| l.strip_prefix(prefix)).map(str::to_string);
    let lab = field("service lab ").unwrap_or_else(|| panic!("no lab line: {lines:?}"));
    let scoreboard = field("scoreboard ").expect("a scoreboard line");
    assert_eq!(scoreboard, format!("{lab}/scoreboard"));
    assert_eq!(field("variant team-1 ").as_deref(), Some("0"), "{lines:?}");
    assert_eq!(field("variant team-2 ").as_deref(), Some("1"), "{lines:?}");
    let market = |team: &str| field(&format!("service {team}/market ")).unwrap_or_else(|| panic!("{team}'s market: {lines:?}"));
    assert_ne!(market("team-1"), market("team-2"), "every team has its own world");
    let token = |team: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("token {team} HeadOfUnit ")))
            .unwrap_or_else(|| panic!("{team}'s token: {lines:?}"))
            .to_string()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        // Each token opens its own team's lab; a capture lands in that team's ledger only.
        let status: serde_json::Value =
            http.get(format!("{lab}/api/status")).bearer_auth(token("team-1")).send().await.unwrap().json().await.unwrap();
        let onion = status["sites"]["silk-lane"].as_str().unwrap().to_string();
        let r = http
            .post(format!("{lab}/api/captures"))
            .bearer_auth(token("team-1"))
            .json(&serde_json::json!({"url": format!("{onion}/api/listings")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "{:?}", r.text().await);
        for (team, count) in [("team-1", 1), ("team-2", 0)] {
            let e: serde_json::Value =
                http.get(format!("{lab}/api/evidence")).bearer_auth(token(team)).send().await.unwrap().json().await.unwrap();
            assert_eq!(e.as_array().unwrap().len(), count, "{team}'s ledger");
        }
        let page = http.get(&scoreboard).send().await.unwrap();
        assert!(page.status().is_success());
        let page = page.text().await.unwrap();
        assert!(page.contains("team-1") && page.contains("EventSource"), "the live page");
        let board = http.get(format!("{lab}/scoreboard.json")).send().await.unwrap().text().await.unwrap();
        assert!(board.contains(r#""phase":"running""#) && !board.contains("score"), "{board}");
    });
    stops_cleanly_on_sigterm(child);
}

#[test]
fn ledger_verify_accepts_an_intact_ledger_and_names_the_first_broken_entry() {
    use game::ledger::{ArtifactKind, Authority, LEDGER_FILE, Ledger, NewEvidence};
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    for n in 0..3 {
        ledger
            .append_evidence(NewEvidence {
                kind: ArtifactKind::PageCapture,
                source: format!("http://market.onion/page/{n}"),
                method: "test".into(),
                obtained_by: "tester".into(),
                authority: Authority::PublicSource,
                sim_time: sim_core::clock::SimTime(1_000 + n),
                real_time: "2026-01-01T00:00:00Z".into(),
                media_type: "text/plain".into(),
                content: format!("page {n}").into_bytes(),
            })
            .unwrap();
    }
    drop(ledger);
    let ok = darklab().args(["ledger", "verify"]).arg(dir.path()).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("3 entries"));

    let path = dir.path().join(LEDGER_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let tampered = text.replacen("http://market.onion/page/1", "http://market.onion/page/9", 1);
    assert_ne!(text, tampered);
    std::fs::write(&path, tampered).unwrap();
    let broken = darklab().args(["ledger", "verify"]).arg(dir.path()).output().unwrap();
    assert_eq!(broken.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("entry 1 (E2)"), "names the first broken entry: {stderr}");
}

#[test]
fn bench_lab_runs_scripted_teams_without_errors() {
    let out = darklab().args(["bench", "lab", "--teams", "2", "--members", "2", "--seconds", "2", "--think-ms", "20"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("errors 0"), "{stdout}");
    assert!(stdout.contains("p99"), "{stdout}");
}

/// The classroom memory bench holds the clock until every world has caught up, so its peak
/// is that of worlds that ran the whole window, and checks it against the Pi 3's budget.
#[test]
fn bench_challenge_measures_caught_up_worlds_against_the_pi3_budget() {
    let out = darklab()
        .args(["bench", "challenge", "--teams", "2", "--footprint", "pi3", "--compression", "20000", "--seconds", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every world caught up with it in"), "{stdout}");
    assert!(stdout.contains("footprint pi3 (MALLOC_ARENA_MAX 2): peak ") && stdout.contains("of a 700 MB budget: within"), "{stdout}");
}

/// `darklab bench verdict`: a case of many claims over a real investigated world, judged in
/// full, with the prosecutor's time and the lab's dossier time.
#[test]
fn bench_verdict_times_the_prosecutor_and_the_dossier_on_a_case_of_many_claims() {
    let out = darklab().args(["bench", "verdict", "--claims", "7", "--iterations", "3"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("case of 7 claims citing 4 evidence items, score "), "{stdout}");
    assert!(stdout.contains("verdict: mean ") && stdout.contains(" over 3 runs"), "{stdout}");
    assert!(stdout.contains("dossier (the lab's checks of every cited item before the verdict): mean "), "{stdout}");
}

#[test]
fn new_writes_a_starter_that_checks_and_solves_to_full_marks() {
    let dir = tempfile::tempdir().unwrap();
    let out = darklab().args(["new", "harbour-case", "--title", "Harbour case", "--dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = dir.path().join("harbour-case.ron");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("id: \"harbour-case\"") && text.contains("title: \"Harbour case\""));
    assert!(text.lines().filter(|l| l.trim_start().starts_with("//")).count() >= 10, "the starter explains itself");
    assert!(darklab().arg("check").arg(&file).output().unwrap().status.success());
    let demo = darklab().arg("demo").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&demo.stdout);
    assert!(stdout.contains("Score: 80 / 80"), "{stdout}");
    // It never overwrites, and refuses names that are not ids.
    let again = darklab().args(["new", "harbour-case", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    let bad = darklab().args(["new", "../escape", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn run_fast_forward_prints_the_chronicle_and_statistics() {
    let out = darklab().args(["run", "scenarios/careless-vendor.ron", "--fast-forward", "--seed", "4"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("GreenLeafUK listed \"Amnesia Haze 10g\""), "{stdout}");
    assert!(stdout.contains("orders 3"), "{stdout}");
    assert!(stdout.contains("actions 17 ok, 0 failed"), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("world-digest: "));
    let live = darklab().args(["run", "scenarios/careless-vendor.ron"]).output().unwrap();
    assert_eq!(live.status.code(), Some(1), "without --fast-forward it says to use serve");
}

#[test]
fn check_prints_the_solvers_path_and_one_line_per_variant() {
    let out = darklab().args(["check", "scenarios/careless-vendor.ron"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("shortest lawful path 4 action(s), 2d4h of a 14d budget, estimated Introductory"), "{stdout}");
    assert!(stdout.contains("1. capture profile-greenleaf: vendor profile GreenLeafUK on silk-lane"), "{stdout}");
    assert!(stdout.contains("ProductionOrder to coinbay"), "{stdout}");
    assert!(stdout.contains("file the case against Mark Ellis"), "{stdout}");
    for k in 1..=3 {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(&format!("variant {k} "))).unwrap_or_else(|| panic!("{stdout}"));
        assert!(line.contains("solved: 4 action(s), 2d4h, Introductory"), "{line}");
    }

    let out = darklab().args(["check", "scenarios/careless-vendor.ron", "--variant", "2"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("(variant 2)") && !stdout.contains("GreenLeafUK"), "{stdout}");

    let out = darklab().args(["check", "scenarios/careless-vendor.ron", "--variant", "4"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("declares 3 variant(s)"));
}

#[test]
fn check_names_the_fact_no_lawful_path_reaches() {
    let out = darklab().args(["check", "tests/broken/unsolvable-no-address-slip.ron"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("persona greenleaf controls address payout:mark` (ControlsAddress)"), "{stderr}");
    assert!(stderr.contains("AddressInProfile"), "the help says which slip is missing: {stderr}");
}

#[test]
fn demo_of_a_variant_scores_full_marks_in_another_world() {
    let digest = |args: &[&str]| {
        let out = darklab().args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(stdout.contains("Score: 80 / 80"), "{stdout}");
        stdout.lines().last().unwrap().to_string()
    };
    let plain = digest(&["demo", "--seed", "2"]);
    let first = digest(&["demo", "--seed", "2", "--variant", "1"]);
    assert!(first.starts_with("world-digest: "));
    assert_ne!(plain, first, "variant 1 is another world than variant 0");
    assert_eq!(digest(&["demo", "--seed", "2", "--variant", "0"]), plain, "variant 0 is the scenario itself");
}

/// A reader that stops reading (`darklab check FILE | head`) ends the command quietly with
/// SIGPIPE's status, never with a panic message, both for lines printed directly and for a
/// report written through an error path.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    for args in [&["check", "scenarios/market-takedown.ron"][..], &["docs", "schema"], &["docs", "scenario"]] {
        let mut child = darklab().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Close the reading end before the command has written anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}
