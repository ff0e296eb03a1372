//! Challenge mode over HTTP: each team in its own world, the deadline that locks the cases,
//! verdicts and scores held back until the announcement (lab API, scoreboard JSON and its
//! event stream), and the scoreboard page live in a real headless Chromium.

use std::net::SocketAddr;
use std::time::Duration;

use game::challenge::{Challenge, ChallengeConfig};
use game::workstation::Fetched;
use game::workstation::client::LabClient;
use game::workstation::console::{Console, ConsoleAction, ConsoleView};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim_core::clock::SimDuration;

use crate::support::shipped;

async fn start(teams: u32, deadline: Option<SimDuration>, dir: &std::path::Path) -> Challenge {
    let config =
        ChallengeConfig { seed: 41, listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(), teams, deadline, footprint: Default::default() };
    Challenge::start(shipped(), &config, dir).await.unwrap()
}

fn head(c: &Challenge, team: usize) -> String {
    c.roster.teams[team].1[0].token.clone()
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_in_a_challenge_cannot_see_or_touch_each_others_world() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(2, None, dir.path()).await;
    let lab = format!("http://{}", c.addr);
    let (a, b) = (head(&c, 0), head(&c, 1));
    let http = reqwest::Client::new();

    // Two worlds: no service is shared, and team 2 plays another variant of equal difficulty.
    let sockets = |i: usize| c.teams[i].services.iter().map(|s| s.socket).collect::<std::collections::BTreeSet<_>>();
    assert!(sockets(0).is_disjoint(&sockets(1)), "every team world has its own services");
    assert_eq!((c.teams[0].variant, c.teams[1].variant), (0, 1));

    // Each token sees its own world's directory.
    let status_a = json_of(http.get(format!("{lab}/api/status")).bearer_auth(&a).send().await.unwrap()).await;
    let status_b = json_of(http.get(format!("{lab}/api/status")).bearer_auth(&b).send().await.unwrap()).await;
    let market_a = status_a["sites"]["silk-lane"].as_str().unwrap().to_string();
    assert_eq!(http.get(format!("{lab}/api/status")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(http.get(format!("{lab}/api/evidence")).bearer_auth("nobody").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Team A captures a page of its world: it lands in A's ledger only.
    let r = http.post(format!("{lab}/api/captures")).bearer_auth(&a).json(&json!({"url": market_a})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let listed_a = json_of(http.get(format!("{lab}/api/evidence")).bearer_auth(&a).send().await.unwrap()).await;
    let listed_b = json_of(http.get(format!("{lab}/api/evidence")).bearer_auth(&b).send().await.unwrap()).await;
    assert_eq!(listed_a.as_array().unwrap().len(), 1);
    assert_eq!(listed_b.as_array().unwrap().len(), 0, "team B's ledger does not see A's capture");
    let id = listed_a[0]["id"].as_str().unwrap();
    let r = http.get(format!("{lab}/api/evidence/{id}")).bearer_auth(&b).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "A's evidence id means nothing in B's lab");

    // Team A's token cannot reach team B's world, not even by its real sockets.
    let market_b = status_b["sites"]["silk-lane"].as_str().unwrap();
    let market_b_socket = c.teams[1].services.iter().find(|s| market_b.contains(&s.host)).unwrap().url();
    for url in [market_b_socket.clone(), format!("{market_b_socket}/")] {
        let r = http.post(format!("{lab}/api/captures")).bearer_auth(&a).json(&json!({"url": url})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a team's lab fetches its own world's sites only");
    }

    // A legal request of team A goes to A's providers only.
    let draft = json!({"kind": "Preservation", "provider": "coinbay", "target": "bcrt1qanything", "grounds": []});
    let r = http.post(format!("{lab}/api/requests")).bearer_auth(&a).json(&draft).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let req_b = json_of(http.get(format!("{lab}/api/requests")).bearer_auth(&b).send().await.unwrap()).await;
    assert_eq!(req_b.as_array().unwrap().len(), 0);

    // A draft saved by A is not B's draft.
    let draft_case = json!({"suspects": [{"name": "Someone", "personas": [], "attribution": [], "charges": []}]});
    assert_eq!(
        http.put(format!("{lab}/api/case")).bearer_auth(&a).json(&draft_case).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(json_of(http.get(format!("{lab}/api/case")).bearer_auth(&b).send().await.unwrap()).await, Value::Null);

    // The instructor's console sees both teams; team tokens do not open it.
    let status = json_of(http.get(format!("{lab}/instructor/status")).bearer_auth(&c.roster.instructor).send().await.unwrap()).await;
    let progress: Vec<(String, u64)> = status["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["team"].as_str().unwrap().to_string(), t["evidence"].as_u64().unwrap()))
        .collect();
    assert_eq!(progress, vec![("team-1".to_string(), 1), ("team-2".to_string(), 0)]);
    assert_eq!(http.get(format!("{lab}/instructor/status")).bearer_auth(&a).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // The workstation's console over the challenge: the overview, the standings (scores
    // included, for the instructor only) and what really happened in each team's world.
    let mut console = Console::new(LabClient::new(&lab, &c.roster.instructor));
    console.perform(ConsoleAction::Refresh).await;
    for v in ConsoleView::ALL {
        console.perform(ConsoleAction::View(v)).await;
    }
    assert!(console.notices.iter().all(|n| !n.error), "{:?}", console.notices);
    let overview = console.status.clone().unwrap();
    assert!(!overview.ended);
    assert_eq!(console.worlds(), ["team-1", "team-2"], "the console offers each team's world");
    assert_eq!(overview.teams.iter().map(|t| t.team.as_str()).collect::<Vec<_>>(), ["team-1", "team-2"]);
    let board = console.scoreboard.as_ref().and_then(Fetched::loaded).unwrap();
    assert_eq!(board.iter().map(|s| (s.rank, s.score)).collect::<Vec<_>>(), [(1, None), (2, None)], "no case filed yet");
    let truth_a = console.truth.as_ref().and_then(Fetched::loaded).unwrap().clone();
    assert_eq!(truth_a, c.teams[0].lab.truth_view(), "by default the first team's world");
    let map_a = console.network.as_ref().and_then(Fetched::loaded).unwrap().clone();
    assert!(map_a.onion_services.iter().any(|o| market_a.contains(&o.host)), "team 1's market: {map_a:?}");
    console.world_team = Some("team-2".into());
    console.perform(ConsoleAction::View(ConsoleView::Truth)).await;
    console.perform(ConsoleAction::View(ConsoleView::Network)).await;
    let truth_b = console.truth.as_ref().and_then(Fetched::loaded).unwrap();
    assert_eq!(*truth_b, c.teams[1].lab.truth_view());
    let names = |t: &game::lab::Truth| t.people.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_ne!(names(truth_b), names(&truth_a), "team 2 plays another variant: other people");
    let map_b = console.network.as_ref().and_then(Fetched::loaded).unwrap();
    assert!(map_b.onion_services.iter().any(|o| market_b.contains(&o.host)), "team 2's market: {map_b:?}");
    console.world_team = Some("team-9".into());
    console.perform(ConsoleAction::View(ConsoleView::Truth)).await;
    assert_eq!(console.truth, Some(Fetched::NotAvailable), "no such team");
    // Ground truth and scores are never a team's: a member's token is forbidden.
    for path in ["/instructor/truth", "/instructor/scoreboard", "/instructor/network", "/instructor/truth?team=team-1"] {
        let r = http.get(format!("{lab}{path}")).bearer_auth(&a).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(http.get(format!("{lab}{path}")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let mut wrong = Console::new(LabClient::new(&lab, &b));
    wrong.perform(ConsoleAction::View(ConsoleView::Truth)).await;
    assert!(matches!(&wrong.truth, Some(Fetched::Failed(m)) if m.starts_with("403")), "{:?}", wrong.truth);
    c.stop().await;
}

/// Reads the event stream until an event satisfies `done`; returns every `board` event's data.
async fn read_events(resp: &mut reqwest::Response, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut buf = String::new();
    let mut boards = Vec::new();
    // Each chunk must come within 20 s: a silent stream fails the test instead of hanging it.
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream stays open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if event.lines().any(|l| l == "event: board") {
                let data: String = event.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                let board: Value = serde_json::from_str(&data).unwrap();
                let finished = done(&board);
                boards.push(board);
                if finished {
                    return boards;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_locks_cases_and_nothing_scores_before_the_announcement() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(3, Some(SimDuration::hours(2)), dir.path()).await;
    let lab = format!("http://{}", c.addr);
    let instructor = c.roster.instructor.clone();
    let (h1, h2, h3) = (head(&c, 0), head(&c, 1), head(&c, 2));
    let investigator1 = c.roster.teams[0].1[1].token.clone();
    let http = reqwest::Client::new();
    let mut events = http.get(format!("{lab}/scoreboard/events")).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = read_events(&mut events, |_| true).await;
    assert_eq!(first[0]["phase"], "running");

    // Team 1 files an empty case; team 2 leaves a draft accusing the wrong person; team 3
    // does nothing.
    let empty = json!({"suspects": []});
    let wrong = json!({"suspects": [{"name": "Nobody Known", "personas": [], "attribution": [], "charges": []}]});
    assert_eq!(http.post(format!("{lab}/api/case")).bearer_auth(&investigator1).json(&empty).send().await.unwrap().status(), 403);
    let r = http.post(format!("{lab}/api/case")).bearer_auth(&h1).json(&empty).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body = r.text().await.unwrap();
    assert!(body.contains(r#""submitted":true"#) && !body.contains("score") && !body.contains("suspects"), "no verdict: {body}");
    assert_eq!(http.put(format!("{lab}/api/case")).bearer_auth(&h2).json(&wrong).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    for path in ["verdict", "verdict.html"] {
        let r = http.get(format!("{lab}/api/{path}")).bearer_auth(&h1).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} is held back");
        assert!(r.text().await.unwrap().contains("announces"));
    }
    // Nor by another spelling of the path.
    for path in
        ["verdict/", "verdict.html/", "/verdict", "%76erdict", "verdict%2Ehtml", "./verdict", "x/../verdict", "verdict?x=1", "VERDICT"]
    {
        let r = http.get(format!("{lab}/api/{path}")).bearer_auth(&h1).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(!status.is_success() && !text.contains("score"), "/api/{path}: {status} {text}");
    }
    let board = json_of(http.get(format!("{lab}/scoreboard.json")).send().await.unwrap()).await;
    assert_eq!(board["teams"][0], json!({"team": "team-1", "submitted": true, "submitted_at": board["teams"][0]["submitted_at"]}));
    assert_eq!(board["teams"][1]["submitted"], false);
    let page = http.get(format!("{lab}/scoreboard")).send().await.unwrap().text().await.unwrap();
    // The stream shows the submission; no board before the announcement carries a score.
    let seen = read_events(&mut events, |b| b["teams"][0]["submitted"] == true).await;
    let embedded = page.split("\nrender(").nth(1).and_then(|s| s.split(");\n").next()).unwrap().to_string();
    assert!(embedded.contains("team-1"), "the page embeds the board: {embedded}");
    for text in seen.iter().chain(first.iter()).map(|b| b.to_string()).chain([board.to_string(), embedded]) {
        assert!(!text.contains("score") && !text.contains("ranking") && !text.contains("\"rank\""), "no score leaks: {text}");
    }
    // Only the instructor announces, freezes or previews the standings.
    for path in ["announce", "freeze", "end"] {
        assert_eq!(http.post(format!("{lab}/instructor/{path}")).bearer_auth(&h1).send().await.unwrap().status(), 401);
    }
    assert_eq!(http.get(format!("{lab}/instructor/standings")).bearer_auth(&h1).send().await.unwrap().status(), 401);

    // Past the deadline: every case is locked, drafts were filed as they stood.
    http.post(format!("{lab}/instructor/compression")).bearer_auth(&instructor).json(&json!({"factor": 100000})).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    http.post(format!("{lab}/instructor/pause")).bearer_auth(&instructor).send().await.unwrap();
    let locked = read_events(&mut events, |b| b["phase"] == "locked").await;
    assert_eq!(locked.last().unwrap()["teams"][1]["submitted"], true, "team 2's draft was filed at the deadline");
    for (method, token) in [(reqwest::Method::POST, &h3), (reqwest::Method::PUT, &h3), (reqwest::Method::POST, &h2)] {
        let r = http.request(method, format!("{lab}/api/case")).bearer_auth(token).json(&empty).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let text = r.text().await.unwrap();
        assert!(text.contains("deadline") && text.contains("locked"), "{text}");
    }
    assert_eq!(http.get(format!("{lab}/api/verdict")).bearer_auth(&h2).send().await.unwrap().status(), 403);

    // The instructor previews, freezes and announces: the ranking is public, by the tie rule.
    let preview = json_of(http.get(format!("{lab}/instructor/standings")).bearer_auth(&instructor).send().await.unwrap()).await;
    assert_eq!(http.post(format!("{lab}/instructor/freeze")).bearer_auth(&instructor).send().await.unwrap().status(), 200);
    let announced = json_of(http.post(format!("{lab}/instructor/announce")).bearer_auth(&instructor).send().await.unwrap()).await;
    assert_eq!(announced, preview);
    let order: Vec<(&str, Value)> =
        announced.as_array().unwrap().iter().map(|s| (s["team"].as_str().unwrap(), s["score"].clone())).collect();
    let wrong_accusation = shipped().rubric.wrong_accusation;
    assert_eq!(order, vec![("team-1", json!(0)), ("team-2", json!(wrong_accusation)), ("team-3", Value::Null)]);
    let revealed = read_events(&mut events, |b| b["phase"] == "announced").await;
    let last = revealed.last().unwrap();
    assert_eq!(last["ranking"], announced, "the stream reveals the ranking without a reload");
    assert_eq!(last["frozen"], true);
    let verdict = json_of(http.get(format!("{lab}/api/verdict")).bearer_auth(&h2).send().await.unwrap()).await;
    assert_eq!(verdict["score"], json!(wrong_accusation), "after the announcement teams read their verdicts");
    let report = http.get(format!("{lab}/instructor/teams/team-2/report")).bearer_auth(&instructor).send().await.unwrap();
    assert!(report.text().await.unwrap().contains("wrong accusation"));
    c.stop().await;
}

/// The shipped challenge in challenge mode: each team's world is built from its own variant
/// — other names and handles, and Ana's and Bram's traces swapped for the second team — so
/// teams cannot share answers, while the solver finds both cases equally hard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_challenge_gives_each_team_its_own_variant_with_the_traces_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = crate::support::scenario("twin-vendors.ron");
    let config = ChallengeConfig {
        seed: 41,
        listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        teams: 2,
        deadline: None,
        footprint: Default::default(),
    };
    let c = Challenge::start(scenario.clone(), &config, dir.path()).await.unwrap();
    assert_eq!((c.teams[0].variant, c.teams[1].variant), (0, 1));
    let truth: Vec<_> = c.teams.iter().map(|t| t.lab.truth_view()).collect();
    let person = |i: usize, actor: &str| truth[i].people.iter().find(|p| p.actor == actor).unwrap().clone();
    for actor in ["ana", "bram"] {
        assert_ne!(person(0, actor).name, person(1, actor).name, "{actor}: another name in the other team's world");
        assert_ne!(person(0, actor).personas[0].handle, person(1, actor).personas[0].handle, "{actor}: another handle");
    }
    let photo_of =
        |i: usize| -> Vec<String> { truth[i].slips.iter().filter(|s| s.kind.starts_with("PhotoGps")).map(|s| s.actor.clone()).collect() };
    assert_eq!(photo_of(0), ["ana"], "{:?}", truth[0].slips);
    assert_eq!(photo_of(1), ["bram"], "the second team's world swaps the traces: {:?}", truth[1].slips);
    let level = |k: u32| match sim_core::scenario::solve::solve(&sim_core::scenario::variant::variant(&scenario, k)) {
        sim_core::scenario::solve::Solvability::Solved(sol) => sol.difficulty.level,
        other => panic!("variant {k}: {other:?}"),
    };
    assert_eq!(level(0), level(1), "equally hard");
    c.stop().await;
}
