//! A live classroom over HTTP: the instructor's console controls the clock, sends injects
//! and hints, follows progress, ends the exercise and replays a team's timeline; team
//! tokens cannot use the console.

use std::net::SocketAddr;
use std::time::Duration;

use game::serve::Classroom;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::shipped;

async fn sim_time(http: &reqwest::Client, lab: &str) -> String {
    let s: Value = http.get(format!("{lab}/api/status")).send().await.unwrap().json().await.unwrap();
    s["sim_time"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instructor_runs_the_classroom_and_teams_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let classroom = Classroom::start(shipped(), 21, listen, dir.path(), 2).await.unwrap();
    let lab = format!("http://{}", classroom.lab_addr);
    let instructor = classroom.roster.instructor.clone();
    let (team1, members1) = classroom.roster.teams[0].clone();
    let head1 = members1[0].token.clone();
    let investigator1 = members1[1].token.clone();
    let head2 = classroom.roster.teams[1].1[0].token.clone();
    let http = reqwest::Client::new();

    // Team tokens never open the console.
    for token in [&head1, &head2, &investigator1] {
        let r = http.get(format!("{lab}/instructor/status")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = http.post(format!("{lab}/instructor/pause")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(http.post(format!("{lab}/instructor/end")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Pause: the simulated clock stands still; resume and speed up: it runs again.
    let paused: Value = http.post(format!("{lab}/instructor/pause")).bearer_auth(&instructor).send().await.unwrap().json().await.unwrap();
    assert_eq!(paused["paused"], true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t1 = sim_time(&http, &lab).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(sim_time(&http, &lab).await, t1, "a paused classroom's clock stands still");
    let fast: Value = http
        .post(format!("{lab}/instructor/compression"))
        .bearer_auth(&instructor)
        .json(&json!({"factor": 3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fast["compression"], 3600);
    http.post(format!("{lab}/instructor/resume")).bearer_auth(&instructor).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(sim_time(&http, &lab).await > t1, "the clock runs again, an hour per second");

    // An inject reaches every team; a hint reaches one team and costs it points.
    let r = http
        .post(format!("{lab}/instructor/inject"))
        .bearer_auth(&instructor)
        .json(&json!({"message": "Europol shares a lead."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    for token in [&head1, &head2] {
        let a: Vec<Value> = http.get(format!("{lab}/api/announcements")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        assert!(a.iter().any(|x| x["message"] == "Europol shares a lead." && x["ad_hoc"] == true), "{a:?}");
    }
    let r = http
        .post(format!("{lab}/instructor/hints"))
        .bearer_auth(&instructor)
        .json(&json!({"team": team1, "hint": "follow-money"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let h1: Vec<Value> = http.get(format!("{lab}/api/hints")).bearer_auth(&investigator1).send().await.unwrap().json().await.unwrap();
    assert_eq!(h1.len(), 1);
    let h2: Vec<Value> = http.get(format!("{lab}/api/hints")).bearer_auth(&head2).send().await.unwrap().json().await.unwrap();
    assert!(h2.is_empty(), "hints go to one team only");
    let unknown = http
        .post(format!("{lab}/instructor/hints"))
        .bearer_auth(&instructor)
        .json(&json!({"team": team1, "hint": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // Team 1 captures the vendor's profile and saves a draft; progress shows it.
    let status: Value = http.get(format!("{lab}/api/status")).send().await.unwrap().json().await.unwrap();
    let market = status["sites"]["silk-lane"].as_str().unwrap();
    let r = http
        .post(format!("{lab}/api/captures"))
        .bearer_auth(&investigator1)
        .json(&json!({"url": format!("{market}/api/vendors/GreenLeafUK")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = http.put(format!("{lab}/api/case")).bearer_auth(&investigator1).json(&json!({"suspects": []})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let console: Value = http.get(format!("{lab}/instructor/status")).bearer_auth(&instructor).send().await.unwrap().json().await.unwrap();
    let p1 = console["teams"].as_array().unwrap().iter().find(|t| t["team"] == team1.as_str()).unwrap();
    assert_eq!(p1["evidence"], 1);
    assert_eq!(p1["hints"], 1);
    assert_eq!(p1["draft"], true);
    // The vendor's profile reveals facts (his listings, the address in his bio): progress
    // counts them; team 2 has uncovered nothing.
    assert!(p1["facts_uncovered"].as_u64().unwrap() > 0, "{p1}");
    let p2 = console["teams"].as_array().unwrap().iter().find(|t| t["team"] != team1.as_str()).unwrap();
    assert_eq!((p2["evidence"].clone(), p2["facts_uncovered"].clone(), p2["draft"].clone()), (json!(0), json!(0), json!(false)), "{p2}");
    // A legal request counts among the team's requests (pending, granted or refused).
    let draft = json!({"kind": "Preservation", "provider": "coinbay", "target": "bcrt1qanything", "grounds": []});
    let r = http.post(format!("{lab}/api/requests")).bearer_auth(&head1).json(&draft).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let console: Value = http.get(format!("{lab}/instructor/status")).bearer_auth(&instructor).send().await.unwrap().json().await.unwrap();
    let p1 = console["teams"].as_array().unwrap().iter().find(|t| t["team"] == team1.as_str()).unwrap();
    let requests: u64 = p1["requests"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(requests, 1, "{p1}");

    // The end: drafts are submitted as they stand (the hint's cost counted), nothing more.
    let ended: Value = http.post(format!("{lab}/instructor/end")).bearer_auth(&instructor).send().await.unwrap().json().await.unwrap();
    let scores = ended["teams"].as_array().unwrap();
    let s1 = scores.iter().find(|t| t["team"] == team1.as_str()).unwrap();
    assert!(s1["score"].is_i64(), "team 1's draft was judged: {ended}");
    let v: Value = http.get(format!("{lab}/api/verdict")).bearer_auth(&head1).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["categories"]["hints"], -5, "{v}");
    let late = http.post(format!("{lab}/api/case")).bearer_auth(&head2).json(&json!({"suspects": []})).send().await.unwrap();
    assert_eq!(late.status(), StatusCode::CONFLICT, "no submission after the end");
    let late_draft = http.put(format!("{lab}/api/case")).bearer_auth(&head2).json(&json!({"suspects": []})).send().await.unwrap();
    assert_eq!(late_draft.status(), StatusCode::CONFLICT);

    // The debrief: team 1's timeline, in simulated time.
    let tl: Vec<Value> =
        http.get(format!("{lab}/instructor/teams/{team1}/timeline")).bearer_auth(&instructor).send().await.unwrap().json().await.unwrap();
    let what: Vec<&str> = tl.iter().map(|e| e["what"].as_str().unwrap()).collect();
    assert!(what.iter().any(|w| w.starts_with("E1 obtained")), "{what:?}");
    assert!(what.iter().any(|w| w.contains("hint follow-money")), "{what:?}");
    assert!(what.iter().any(|w| w.starts_with("case submitted")), "{what:?}");
    let times: Vec<&str> = tl.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    classroom.stop().await;
}
