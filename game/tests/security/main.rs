//! The lab's security suite: one test per class of attack reported against CTF platforms
//! (FIELD-NOTES, "Security lessons"), driven through the real lab and instructor routers
//! over the shipped world.
//!
//! Each test names the weakening it catches. `scripts/security-weakened` builds the game
//! crate with the `weakened-for-security-tests` feature — each weakening a `cfg!` around
//! one check in the lab — and shows every test here failing against it.
//!
//! What does not exist yet and so is not tested here: a scoreboard or a frozen/hidden
//! score (challenge mode), hints released on a schedule (every hint may be taken at any
//! time), and per-team request quotas (the lab caps body sizes only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use game::case::CaseFile;
use game::instructor::Console;
use game::lab::{Lab, LabError, Member, RequestDraft, RequestStatus, Role};
use game::pace::Pace;
use market_sim::world::World;
use serde_json::Value;
use sim_core::clock::SimDuration;
use sim_core::ids::{HintId, ProviderId};
use sim_core::scenario::{RequestKind, Scenario, load_file};
use tower::ServiceExt as _;

const A_HEAD: &str = "a-head-7f3c9e21d04b5a88c6e0f1d2";
const A_INVESTIGATOR: &str = "a-inv-19d2e8c4b7a6f0e3d5c1b9a8";
const B_HEAD: &str = "b-head-e4c8a1f7d2b9e6c3a0f5d8b1";
const INSTRUCTOR: &str = "instructor-0a9b8c7d6e5f4a3b2c1d";

fn shipped() -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/careless-vendor.ron");
    Arc::new(load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false))))
}

fn team_a() -> Vec<Member> {
    vec![
        Member { name: "alice".into(), role: Role::HeadOfUnit, token: A_HEAD.into() },
        Member { name: "arthur".into(), role: Role::Investigator, token: A_INVESTIGATOR.into() },
    ]
}

fn team_b() -> Vec<Member> {
    vec![Member { name: "bob".into(), role: Role::HeadOfUnit, token: B_HEAD.into() }]
}

/// The shipped world at its start (nothing released yet) and a lab with teams A and B.
async fn classroom(seed: u64, data: &Path) -> (World, Arc<Lab>) {
    let world = World::build(shipped(), seed, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    let lab = fresh_lab(&world, data).await;
    (world, lab)
}

async fn fresh_lab(world: &World, data: &Path) -> Arc<Lab> {
    let lab = Lab::new(world).unwrap();
    lab.add_team("team-a", team_a(), &Lab::team_dir(data, "team-a")).await.unwrap();
    lab.add_team("team-b", team_b(), &Lab::team_dir(data, "team-b")).await.unwrap();
    Arc::new(lab)
}

/// The lab's API and the instructor's console, as `darklab serve` merges them.
fn routes(lab: &Arc<Lab>, world: &World) -> Router {
    let console = Console {
        lab: lab.clone(),
        pace: Arc::new(Pace::new(world.clock().now(), 60)),
        token: INSTRUCTOR.into(),
        elapsed: Arc::new(|| Duration::ZERO),
        network: None,
    };
    game::lab::http::router(lab.clone()).merge(game::instructor::router(console))
}

/// Sends one request through the routers; returns the status and the body as text.
async fn call(router: &Router, method: &str, path: &str, auth: Option<&str>, body: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Joining a team without its credential: no token, an empty one, a forged one, a
/// truncated one, one in another case, one with trailing bytes or another scheme — every
/// team endpoint answers 401; another team's valid token shows that team's own work only.
///
/// Catches the weakening in `Lab::member` (`token_matches`): a prefix of a token, in any
/// case, accepted as the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_team_needs_its_exact_token() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(31, dir.path()).await;
    let router = routes(&lab, &world);
    let hint = "/api/hints/follow-money";
    assert_eq!(call(&router, "POST", hint, Some(&bearer(A_HEAD)), None).await.0, StatusCode::CREATED);
    let (status, own) = call(&router, "GET", "/api/hints", Some(&bearer(A_HEAD)), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(own.contains("follow-money"), "{own}");

    let forged = [
        None,
        Some(String::new()),
        Some("Bearer".to_string()),
        Some(bearer("")),
        Some(bearer(&A_HEAD[..A_HEAD.len() / 2])),
        Some(bearer(&A_HEAD[..1])),
        Some(bearer(&A_HEAD.to_uppercase())),
        Some(bearer(&format!("{A_HEAD} "))),
        Some(bearer(&format!("{A_HEAD}x"))),
        Some(format!("Basic {A_HEAD}")),
        Some(format!("bearer {A_HEAD}")),
        Some(bearer("a-head-00000000000000000000000")),
        Some(bearer(INSTRUCTOR)),
        Some(bearer("alice")),
    ];
    for auth in &forged {
        for (method, path) in [("GET", "/api/hints"), ("GET", "/api/evidence"), ("GET", "/api/case"), ("POST", hint)] {
            let (status, body) = call(&router, method, path, auth.as_deref(), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {auth:?} let someone in: {body}");
        }
    }
    // Team B's own token shows team B's hints, not team A's.
    let (status, theirs) = call(&router, "GET", "/api/hints", Some(&bearer(B_HEAD)), None).await;
    assert_eq!((status, theirs.as_str()), (StatusCode::OK, "[]"));
    world.shutdown().await;
}

/// Taking over a member account by name: names are not credentials (a member's or a
/// team's name as the token is refused), and no second team can join under a taken team
/// name or with a token another member holds — which would replace team A's roster and
/// hand its ledger to whoever registered the name.
///
/// Catches the weakening in `Lab::add_team`: names and tokens not checked for reuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_one_takes_over_a_member_or_team_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(32, dir.path()).await;
    let router = routes(&lab, &world);
    assert_eq!(call(&router, "POST", "/api/hints/follow-money", Some(&bearer(A_HEAD)), None).await.0, StatusCode::CREATED);
    for name in ["alice", "arthur", "team-a", "HeadOfUnit", "alice HeadOfUnit"] {
        assert_eq!(call(&router, "GET", "/api/hints", Some(&bearer(name)), None).await.0, StatusCode::UNAUTHORIZED, "{name}");
    }

    // Someone registers "team-a" again, naming themselves alice with a token of their own.
    let intruder = vec![Member { name: "alice".into(), role: Role::HeadOfUnit, token: "intruder-token-0000000000000".into() }];
    let replaced = lab.add_team("team-a", intruder, &dir.path().join("elsewhere")).await;
    assert!(matches!(replaced, Err(LabError::Roster(_))), "a second team-a was accepted: {replaced:?}");
    assert_eq!(call(&router, "GET", "/api/hints", Some(&bearer("intruder-token-0000000000000")), None).await.0, StatusCode::UNAUTHORIZED);
    // A new team whose member reuses team A's head's token, or has no token at all.
    let reuse = vec![Member { name: "carol".into(), role: Role::HeadOfUnit, token: A_HEAD.into() }];
    assert!(matches!(lab.add_team("team-c", reuse, &dir.path().join("c")).await, Err(LabError::Roster(_))));
    let empty = vec![Member { name: "dave".into(), role: Role::HeadOfUnit, token: String::new() }];
    assert!(matches!(lab.add_team("team-d", empty, &dir.path().join("d")).await, Err(LabError::Roster(_))));
    assert_eq!(call(&router, "GET", "/api/hints", Some("Bearer "), None).await.0, StatusCode::UNAUTHORIZED);

    // Team A is still alice's, with its hint.
    let (status, hints) = call(&router, "GET", "/api/hints", Some(&bearer(A_HEAD)), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(hints.contains("follow-money"), "team A lost its work: {hints}");
    world.shutdown().await;
}

/// Reading scores that should be hidden: a verdict not yet given is not shown (404), and
/// a team never sees another team's verdict, case or report.
///
/// Catches the weakening in `Lab::verdict`: a team that has no verdict is shown another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_never_reads_another_teams_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(33, dir.path()).await;
    let router = routes(&lab, &world);
    let a = bearer(A_HEAD);
    let b = bearer(B_HEAD);
    assert_eq!(call(&router, "GET", "/api/verdict", Some(&a), None).await.0, StatusCode::NOT_FOUND, "no verdict before a case");
    let (status, verdict) = call(&router, "POST", "/api/case", Some(&a), Some(r#"{"suspects": []}"#)).await;
    assert_eq!(status, StatusCode::OK, "{verdict}");

    for path in ["/api/verdict", "/api/verdict.html"] {
        let (status, body) = call(&router, "GET", path, Some(&b), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "team B read {path} before filing: {body}");
        assert!(!body.contains("team-a"), "{body}");
    }
    let (status, case) = call(&router, "GET", "/api/case", Some(&b), None).await;
    assert_eq!((status, case.as_str()), (StatusCode::OK, "null"), "team B sees no case but its own");
    world.shutdown().await;
}

/// Reading every team's progress and scores through the instructor's console: team
/// tokens (any role), no token and an empty one are refused on every console route.
///
/// Catches the weakening in the console's `authorised`: any bearer token accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_refuses_team_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(38, dir.path()).await;
    let router = routes(&lab, &world);
    let (status, verdict) = call(&router, "POST", "/api/case", Some(&bearer(A_HEAD)), Some(r#"{"suspects": []}"#)).await;
    assert_eq!(status, StatusCode::OK, "{verdict}");
    for auth in [Some(bearer(A_HEAD)), Some(bearer(B_HEAD)), Some(bearer(A_INVESTIGATOR)), None, Some(bearer(""))] {
        for (method, path) in [
            ("GET", "/instructor/status"),
            ("GET", "/instructor/teams/team-a/report"),
            ("GET", "/instructor/teams/team-a/timeline"),
            ("POST", "/instructor/end"),
        ] {
            let (status, body) = call(&router, method, path, auth.as_deref(), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {auth:?}: {body}");
        }
    }
    let (status, console) = call(&router, "GET", "/instructor/status", Some(&bearer(INSTRUCTOR)), None).await;
    assert_eq!(status, StatusCode::OK);
    let console: Value = serde_json::from_str(&console).unwrap();
    assert!(!console["ended"].as_bool().unwrap(), "a team's request must not have ended the exercise");
    world.shutdown().await;
}

/// Acting on a scenario event not yet released: the scenario's inject (at +3 d) is not in
/// the announcements before its time, and is once the simulated clock reaches it.
///
/// Catches the weakening of the announcements' time filter (injects shown before time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inject_waits_for_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(34, dir.path()).await;
    let router = routes(&lab, &world);
    let a = bearer(A_HEAD);
    let start = world.clock().now();
    let inject = shipped().injects.first().expect("the shipped scenario has an inject").clone();
    assert!(inject.at > SimDuration(0));
    let (status, body) = call(&router, "GET", "/api/announcements", Some(&a), None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"), "an inject was released before its time");
    world.clock().advance_to(start.plus(inject.at));
    let (_, body) = call(&router, "GET", "/api/announcements", Some(&a), None).await;
    assert!(body.contains(&inject.message), "the inject is released at its time: {body}");
    world.shutdown().await;
}

/// Acting on a legal ruling not yet released: a request is not ruled before its ruling
/// is due, however often the lab ticks, so a team cannot learn the judge's answer (or act
/// on a grant) early; it is ruled once the simulated clock reaches `ruling_at`.
///
/// Catches the weakening in `Lab::tick`: a pending request ruled before its `ruling_at`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ruling_waits_for_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(39, dir.path()).await;
    let router = routes(&lab, &world);
    let a = bearer(A_HEAD);
    let start = world.clock().now();
    let draft = RequestDraft {
        kind: RequestKind::Preservation,
        provider: ProviderId("coinbay".into()),
        target: "mellis84".into(),
        grounds: vec![],
    };
    let filed = lab.request(A_HEAD, draft).await.unwrap();
    let RequestStatus::Pending { ruling_at } = filed.status else { panic!("a new request is pending: {:?}", filed.status) };
    assert!(ruling_at > start);
    for _ in 0..3 {
        lab.tick().await.unwrap();
    }
    let (_, requests) = call(&router, "GET", "/api/requests", Some(&a), None).await;
    let requests: Value = serde_json::from_str(&requests).unwrap();
    assert!(requests[0]["status"]["Pending"].is_object(), "ruled before its time: {requests}");
    world.clock().advance_to(ruling_at);
    lab.tick().await.unwrap();
    let (_, requests) = call(&router, "GET", "/api/requests", Some(&a), None).await;
    let requests: Value = serde_json::from_str(&requests).unwrap();
    assert!(requests[0]["status"]["Pending"].is_null(), "ruled at its time: {requests}");
    world.shutdown().await;
}

/// Beating the limit on a paid hint with concurrent requests: eight simultaneous
/// requests for the same hint, through the API, charge the team once.
///
/// Catches the weakening in `Lab::give_hint`: "already taken?" checked under one lock and
/// the hint recorded under another (check-then-act), so each racing request pays.
#[tokio::test]
async fn a_hint_taken_concurrently_is_charged_once() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(35, dir.path()).await;
    let router = routes(&lab, &world);
    assert!(shipped().hints.iter().any(|h| h.id == HintId("follow-money".into()) && h.cost > 0), "the raced hint is a paid one");
    let racing: Vec<_> = (0..8)
        .map(|i| {
            let router = router.clone();
            let token = if i % 2 == 0 { A_HEAD } else { A_INVESTIGATOR };
            tokio::spawn(async move { call(&router, "POST", "/api/hints/follow-money", Some(&bearer(token)), None).await.0 })
        })
        .collect();
    for r in racing {
        assert_eq!(r.await.unwrap(), StatusCode::CREATED);
    }
    let taken = lab.hints(A_HEAD).await.unwrap();
    assert_eq!(taken.len(), 1, "the hint was charged {} times: {taken:?}", taken.len());
    let progress = lab.progress().await;
    assert_eq!(progress.iter().find(|p| p.team == "team-a").map(|p| p.hints), Some(1));
    world.shutdown().await;
}

/// Beating the one-submission limit with concurrent requests: eight simultaneous
/// submissions of the case produce exactly one verdict; the rest are 409.
///
/// Catches the weakening in `Lab::submit_for`: a submitted case not locked.
#[tokio::test]
async fn a_case_submitted_concurrently_is_submitted_once() {
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = classroom(36, dir.path()).await;
    let router = routes(&lab, &world);
    let racing: Vec<_> = (0..8)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move { call(&router, "POST", "/api/case", Some(&bearer(A_HEAD)), Some(r#"{"suspects": []}"#)).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for r in racing {
        statuses.push(r.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 7, "{statuses:?}");
    let submitted = lab.timeline("team-a").await.unwrap().into_iter().filter(|e| e.what.starts_with("case submitted")).count();
    assert_eq!(submitted, 1);
    world.shutdown().await;
}

/// Submitting after the end of the exercise by racing the instructor's end: a submission
/// either is refused (`Ended`) or is counted in the scores the end reports — never
/// accepted behind the end's back. Both orders of the race are run, on fresh labs.
///
/// Catches the weakening in `Lab::submit_case`: the end checked before the teams' lock is
/// taken (as the lab did before this suite), so an end running in between misses a
/// submission that then goes through.
#[tokio::test]
async fn no_submission_slips_past_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::build(shipped(), 37, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    for (round, submit_first) in [(0, true), (1, false), (2, true), (3, false)] {
        let lab = fresh_lab(&world, &dir.path().join(format!("round-{round}"))).await;
        let submit = {
            let lab = lab.clone();
            async move { lab.submit_case(A_HEAD, CaseFile::default()).await }
        };
        let end = {
            let lab = lab.clone();
            async move { lab.end().await.unwrap() }
        };
        let (submitted, scores) = if submit_first {
            let s = tokio::spawn(submit);
            let e = tokio::spawn(end);
            (s.await.unwrap(), e.await.unwrap())
        } else {
            let e = tokio::spawn(end);
            let s = tokio::spawn(submit);
            (s.await.unwrap(), e.await.unwrap())
        };
        let reported = scores.iter().find(|(t, _)| t == "team-a").and_then(|(_, s)| *s);
        match submitted {
            Ok(verdict) => assert_eq!(reported, Some(verdict.score), "round {round}: accepted, but the end did not count it"),
            Err(LabError::Ended) => assert_eq!(reported, None, "round {round}"),
            Err(e) => panic!("round {round}: {e}"),
        }
        assert!(matches!(lab.submit_case(A_HEAD, CaseFile::default()).await, Err(LabError::Ended | LabError::CaseLocked)));
    }
    assert!(matches!(lab_after_end(&world, dir.path()).await, Err(LabError::Ended)));
    world.shutdown().await;
}

/// A lab whose exercise has ended refuses a submission outright.
async fn lab_after_end(world: &World, dir: &Path) -> Result<(), LabError> {
    let lab = fresh_lab(world, &dir.join("after")).await;
    lab.end().await?;
    lab.submit_case(A_HEAD, CaseFile::default()).await.map(|_| ())
}
