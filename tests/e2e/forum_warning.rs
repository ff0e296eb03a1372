//! The forum-warning tip-off, over the lab's HTTP API with the real world: a trainee's
//! undercover account posts a public warning naming the vendor on the forum; the vendor,
//! reading the forum's boards through its API at its next look, notices it and reacts as
//! scripted (wipes its data, goes dark, never cashes out). A harmless post — the handle
//! without a warning word, or a warning word without the handle — causes nothing: the
//! market, the exchange and the chronicle are exactly those of the same world without it.

use std::net::IpAddr;
use std::sync::Arc;

use game::case::CaseFile;
use game::lab::{Lab, Member, RequestStatus, Role};
use market_sim::world::World;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::ids::SiteId;
use sim_core::scenario::{Grounds, Reaction, ReactionKind, RequestKind, Scenario, Site, SiteKind, Trigger};

use crate::support::*;

const FORUM: &str = "dread";
const SEED: u64 = 23;

/// The shipped case with a forum, and a vendor who watches it: a public warning naming
/// GreenLeafUK makes him wipe his messages and listings and go dark.
fn forum_scenario() -> Scenario {
    let mut s: Scenario = (*shipped()).clone();
    s.sites.push(Site { id: FORUM.into(), name: "Dread-ish".into(), kind: SiteKind::Forum });
    // The judge is not under test here: an undercover account on the forum needs no grounds.
    for r in s.legal.rules.iter_mut().filter(|r| r.request == RequestKind::UndercoverAuthorisation) {
        r.grounds = Grounds::None;
    }
    let mark = s.cast.iter_mut().find(|a| a.id.as_str() == "mark").unwrap();
    mark.reactions = vec![
        Reaction { trigger: Trigger::ForumWarning("greenleaf".into()), response: ReactionKind::WipeData },
        Reaction { trigger: Trigger::ForumWarning("greenleaf".into()), response: ReactionKind::GoDark },
    ];
    s.rubric.tip_off = -15;
    s
}

async fn send(http: &reqwest::Client, url: String, token: &str, body: Value) -> (StatusCode, Value) {
    let r = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// One run: the world to 30h (the vendor has sold, not yet cashed out at 60h); the team,
/// over the lab's HTTP API, gets an undercover authorisation for the forum, opens an
/// account there and starts the given threads (board, title, body); the world runs to its
/// end. Returns the world, the lab and when the threads were posted.
async fn forum_run(dir: &std::path::Path, threads: &[(&str, &str, &str)]) -> (World, Arc<Lab>, SimTime) {
    let scenario = Arc::new(forum_scenario());
    assert!(sim_core::scenario::check::check(&scenario).is_empty(), "{:?}", sim_core::scenario::check::check(&scenario));
    let mut world = World::build(scenario.clone(), SEED, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(scenario.meta.start.plus(SimDuration::hours(30))).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    let members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "investigator".into(), role: Role::Investigator, token: INVESTIGATOR.into() },
    ];
    lab.add_team("team", members, &Lab::team_dir(dir, "team")).await.unwrap();
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();

    let (status, profile) =
        send(&http, format!("{base}/api/captures"), HEAD, json!({"url": format!("{}/api/vendors/GreenLeafUK", market(&lab))})).await;
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    let draft = json!({"kind": "UndercoverAuthorisation", "provider": FORUM, "target": "GreenLeafUK", "grounds": [profile["id"]]});
    let (status, request) = send(&http, format!("{base}/api/requests"), HEAD, draft).await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let status = settle(&lab, &mut world, request["id"].as_str().unwrap()).await;
    assert!(matches!(status, RequestStatus::Authorised { .. }), "{status:?}");

    let (status, account) =
        send(&http, format!("{base}/api/undercover/accounts"), INVESTIGATOR, json!({"site": FORUM, "handle": "worried_buyer"})).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let posted_at = world.clock().now();
    for (board, title, body) in threads {
        let (status, posted) = send(
            &http,
            format!("{base}/api/undercover/accounts/U1/posts"),
            INVESTIGATOR,
            json!({"board": board, "title": title, "body": body}),
        )
        .await;
        assert!(status.is_success(), "{status}: {posted}");
    }
    // The posts are public: anyone browsing the board sees them.
    let board = lab.browse(HEAD, &format!("{}/board/markets", lab.directory().sites[&SiteId::from(FORUM)])).await.unwrap();
    for (_, title, _) in threads.iter().filter(|t| t.0 == "markets") {
        assert!(String::from_utf8_lossy(&board).contains(title), "{title} is on the board");
    }
    world.run_until(world.world_end()).await.unwrap();
    (world, lab, posted_at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_warning_on_the_forum_tips_the_vendor_off_who_reacts_as_scripted() {
    let dir = tempfile::tempdir().unwrap();
    let warning = ("markets", "Heads up about GreenLeafUK", "GreenLeafUK on Silk Lane is compromised, stay away.");
    let (world, lab, posted_at) = forum_run(dir.path(), &[warning]).await;
    let start = world.scenario().meta.start;
    let every = world.scenario().tip_offs.check_every;

    // Noticed once, on the forum, at the vendor's first look after the post, naming the
    // team's handle and the word that gave it away.
    let tips = world.truth().read().tip_offs.clone();
    assert_eq!(tips.len(), 1, "{tips:?}");
    let tip = &tips[0];
    assert_eq!(tip.by_handle, "worried_buyer");
    assert_eq!(tip.site.as_str(), FORUM);
    assert_eq!(tip.persona.as_str(), "greenleaf");
    assert!(tip.cause.contains("named GreenLeafUK") && tip.cause.contains("\"compromised\""), "{}", tip.cause);
    let looks = (posted_at.secs() - start.secs()) / every.as_secs() + 1;
    assert_eq!(tip.time, start.plus(SimDuration::secs(looks * every.as_secs())), "posted at {posted_at}: the next look");

    // WipeData: no private message left, no listing for sale. GoDark: the cash-out at 60h
    // never happens, and the exchange holds no deposit.
    let records = world.records_of("site:silk-lane").unwrap().unwrap();
    assert!(records["messages"].as_array().unwrap().is_empty(), "{}", records["messages"]);
    let listings = records["listings"].as_array().unwrap();
    assert!(!listings.is_empty() && listings.iter().all(|l| l["stock"] == 0), "{listings:?}");
    let chronicle = world.truth().read().chronicle.clone();
    let line = |needle: &str| chronicle.iter().find(|c| c.actor.as_ref().is_some_and(|a| a.as_str() == "mark") && c.text.contains(needle));
    let noticed = line("noticed an investigation").unwrap_or_else(|| panic!("{chronicle:#?}"));
    assert!(noticed.ok && noticed.time == tip.time && noticed.text.contains("worried_buyer"), "{noticed:?}");
    let wiped = line("wiped").unwrap_or_else(|| panic!("{chronicle:#?}"));
    assert!(wiped.ok && wiped.time == tip.time, "{wiped:?}");
    assert!(line("went dark").is_some_and(|c| c.ok), "{chronicle:#?}");
    assert!(line("did not cash out to coinbay: gone dark after a tip-off").is_some(), "{chronicle:#?}");
    assert!(line("to deposit address").is_none(), "no cash-out after going dark: {chronicle:#?}");

    // The lab matches the tip-off to the team's forum account, and the verdict charges it.
    let dossier = lab.dossier("team", &CaseFile { suspects: Vec::new() }).await.unwrap();
    assert_eq!(dossier.tip_offs.len(), 1, "{:?}", dossier.tip_offs);
    let verdict = lab.submit_case(HEAD, CaseFile { suspects: Vec::new() }).await.unwrap();
    assert_eq!(verdict.categories["tip-offs"], -world.scenario().rubric.tip_off.abs());
    assert!(verdict.tip_offs[0].contains("worried_buyer"), "{:?}", verdict.tip_offs);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harmless_post_on_the_forum_causes_nothing() {
    let harmless = [
        // The vendor's handle, but no warning word.
        ("markets", "GreenLeafUK on Silk Lane", "Anyone tried the Amnesia Haze from GreenLeafUK? Looks good."),
        // A warning word, but no watched handle.
        ("opsec", "Warning: phishing links", "Check the onion address twice before you log in."),
    ];
    let (dir, quiet) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (world, lab, _) = forum_run(dir.path(), &harmless).await;
    let (baseline, _, _) = forum_run(quiet.path(), &[]).await;

    let truth = world.truth().read().clone();
    assert!(truth.tip_offs.is_empty(), "{:?}", truth.tip_offs);
    assert!(!truth.chronicle.iter().any(|c| c.text.contains("noticed an investigation")), "{:#?}", truth.chronicle);
    // The vendor carried on: he cashed out as scripted.
    let cashed = truth.chronicle.iter().find(|c| c.text.contains("to deposit address") && c.text.contains("mellis84@coinbay"));
    assert!(cashed.is_some_and(|c| c.ok), "{:#?}", truth.chronicle);
    // Nothing changed anywhere but on the forum: the same market, exchange, chain and story
    // as the world where nobody posted.
    for service in ["site:silk-lane", "provider:coinbay"] {
        assert_eq!(world.records_of(service).unwrap(), baseline.records_of(service).unwrap(), "{service}");
    }
    let quiet_truth = baseline.truth().read().clone();
    assert_eq!(truth.chronicle, quiet_truth.chronicle);
    assert_eq!(truth.facts, quiet_truth.facts);
    assert_eq!(world.stats().unwrap(), baseline.stats().unwrap());
    let forum = world.records_of(&format!("site:{FORUM}")).unwrap().unwrap();
    assert!(forum.to_string().contains("Anyone tried the Amnesia Haze"), "the posts are on the forum: {forum}");
    let dossier = lab.dossier("team", &CaseFile { suspects: Vec::new() }).await.unwrap();
    assert!(dossier.tip_offs.is_empty(), "{:?}", dossier.tip_offs);
    world.shutdown().await;
    baseline.shutdown().await;
}
