//! Undercover work and the cast's reactions, over the lab's HTTP API with the real world:
//! nothing happens without a granted authorisation; a controlled purchase places a real
//! order, pays escrow on chain and enters the ledger; a careless message tips the vendor
//! off, who wipes its messages, moves its money through the mixer and goes dark — the same
//! way every time — and the verdict charges the tip-off.

use std::net::IpAddr;
use std::sync::Arc;

use game::case::CaseFile;
use game::lab::{Lab, Member, Role};
use game::ledger::{Authority, EvidenceId, verify_dir};
use market_sim::world::World;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::ids::Sats;
use sim_core::scenario::{Action, ListingSpec, MixerSite, Reaction, ReactionKind, RequestKind, Scenario, Site, SiteKind, Step, Trigger};

use crate::support::*;

async fn post(http: &reqwest::Client, url: String, token: &str, body: Value) -> (StatusCode, Value) {
    let r = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controlled_purchase_needs_an_authorisation_then_pays_escrow_on_chain_into_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (_scenario, mut world, lab) = lab_world(41, dir.path()).await;
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();
    let account = json!({"site": "silk-lane", "handle": "quiet_buyer"});

    // Without a granted authorisation: refused, and nothing happens on the market.
    let (status, body) = post(&http, format!("{base}/api/undercover/accounts"), INVESTIGATOR, account.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].as_str().unwrap().contains("undercover authorisation"), "{body}");
    let users = |w: &World| w.records_of("site:silk-lane").unwrap().unwrap()["users"].as_array().unwrap().len();
    let before = users(&world);
    let (status, _) = post(&http, format!("{base}/api/undercover/accounts/U1/purchases"), INVESTIGATOR, json!({"listing_id": 1})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no account, no purchase");
    assert!(lab.evidence_list(HEAD).await.unwrap().is_empty());

    let authority = authorise(&lab, &mut world).await;
    // The head of unit signs requests; investigators act undercover.
    let (status, _) = post(&http, format!("{base}/api/undercover/accounts"), HEAD, account.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(users(&world), before, "no account was opened");

    let (status, opened) = post(&http, format!("{base}/api/undercover/accounts"), INVESTIGATOR, account).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["id"], "U1");
    assert_eq!(opened["authority"], authority.as_str());
    assert_eq!(users(&world), before + 1, "the account exists on the market itself");

    let listings: Value = serde_json::from_slice(&lab.browse(HEAD, &format!("{}/api/listings", market(&lab))).await.unwrap()).unwrap();
    let haze = listings.as_array().unwrap().iter().find(|l| l["title"] == "Amnesia Haze 10g").unwrap()["id"].as_i64().unwrap();
    let (status, bought) =
        post(&http, format!("{base}/api/undercover/accounts/U1/purchases"), INVESTIGATOR, json!({"listing_id": haze, "quantity": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{bought}");

    // The payment is a real transaction paying the order's escrow address.
    let txid = bought["txid"].as_str().unwrap();
    let escrow = bought["escrow_address"].as_str().unwrap();
    let explorer = reqwest::Client::new();
    let tx_url = format!("{}/tx/{txid}", world.services().iter().find(|s| s.name == "explorer").unwrap().url());
    let tx: Value = explorer.get(tx_url).send().await.unwrap().json().await.unwrap();
    let pays = tx["vout"].as_array().unwrap().iter().any(|o| o["scriptpubkey_address"] == escrow && o["value"] == bought["amount_sat"]);
    assert!(pays, "the transaction pays escrow: {tx}");
    world.run_until(world.clock().now().plus(SimDuration::hours(1))).await.unwrap();
    let order: Value =
        serde_json::from_slice(&lab.evidence_content(HEAD, &EvidenceId(bought["order_evidence"].as_str().unwrap().into())).await.unwrap())
            .unwrap();
    assert_eq!(order["id"], bought["order_id"]);
    assert_eq!(order["buyer"], "quiet_buyer");
    assert_eq!(order["vendor"], "GreenLeafUK");

    // Both the order page and the payment are in the ledger at once, under the authorisation,
    // admissible, and the ledger verifies.
    let entries = lab.evidence_list(HEAD).await.unwrap();
    for key in ["order_evidence", "payment_evidence"] {
        let e = entries.iter().find(|e| Some(e.id.0.as_str()) == bought[key].as_str()).unwrap();
        assert_eq!(e.authority, Authority::Order { request: authority.clone(), kind: RequestKind::UndercoverAuthorisation }, "{key}");
        assert_eq!(e.obtained_by, "investigator");
    }
    let case = CaseFile { suspects: Vec::new() };
    let dossier = lab.dossier("team", &case).await.unwrap();
    assert_eq!(dossier.lawful_steps, 1 + 1 + 2, "the authorisation, the profile and both purchase records are lawful steps");
    let report = verify_dir(&Lab::team_dir(dir.path(), "team")).unwrap();
    assert_eq!(report.evidence, entries.len(), "{report:?}");

    // The panel's view over HTTP: the account, the purchase, the wallet, no secrets.
    let view: Value = http.get(format!("{base}/api/undercover")).bearer_auth(HEAD).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["accounts"][0]["handle"], "quiet_buyer");
    assert_eq!(view["purchases"][0]["txid"], txid);
    assert_eq!(view["wallet"]["funded"], true);
    assert!(!view.to_string().contains("password") && !view.to_string().contains("token"), "{view}");
    world.shutdown().await;
}

/// The shipped case with a mixer, a late listing the vendor means to add, and a vendor who
/// reacts to a careless message: wipes its data, moves its money, goes dark.
fn wary_scenario() -> Scenario {
    let mut s: Scenario = (*shipped()).clone();
    s.sites.push(Site {
        id: "tumbler".into(),
        name: "Tumbler".into(),
        kind: SiteKind::Mixer(MixerSite {
            fee_bps: 200,
            min_delay: SimDuration::hours(1),
            max_delay: SimDuration::hours(2),
            float: Sats(1_000_000_000),
        }),
    });
    let mark = s.cast.iter_mut().find(|a| a.id.as_str() == "mark").unwrap();
    mark.script.push(Step {
        at: SimDuration::hours(62),
        jitter: SimDuration::default(),
        action: Action::List {
            persona: "greenleaf".into(),
            listing: ListingSpec {
                id: "late-batch".into(),
                title: "Late batch 5g".into(),
                category: "Drugs/Cannabis/Buds".into(),
                description: String::new(),
                price: Sats(10_000_000),
                ships_from: "United Kingdom".into(),
                ships_to: "Europe".into(),
                stock: 5,
            },
        },
    });
    mark.reactions = vec![
        Reaction { trigger: Trigger::Message("greenleaf".into(), Vec::new()), response: ReactionKind::WipeData },
        Reaction { trigger: Trigger::TippedOff("greenleaf".into()), response: ReactionKind::MoveFunds("tumbler".into()) },
        Reaction { trigger: Trigger::TippedOff("greenleaf".into()), response: ReactionKind::GoDark },
    ];
    s.rubric.tip_off = -15;
    s
}

/// What one run of the tipped-off world shows.
struct Tipped {
    digest: [u8; 32],
    world: World,
    lab: Arc<Lab>,
}

/// The wary world to 47h; the team, authorised at 49h,, opens an account and sends a careless
/// message over HTTP; the world runs to its end.
async fn tip_off_run(dir: &std::path::Path) -> Tipped {
    let scenario = Arc::new(wary_scenario());
    assert!(sim_core::scenario::check::check(&scenario).is_empty(), "{:?}", sim_core::scenario::check::check(&scenario));
    let mut world = World::build(scenario.clone(), 5, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    // After two buyers finalized (the vendor has money), before it cashes out (60h).
    world.run_until(scenario.meta.start.plus(SimDuration::hours(47))).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    let members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "investigator".into(), role: Role::Investigator, token: INVESTIGATOR.into() },
    ];
    lab.add_team("team", members, &Lab::team_dir(dir, "team")).await.unwrap();
    authorise(&lab, &mut world).await;
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();
    let (status, _) =
        post(&http, format!("{base}/api/undercover/accounts"), INVESTIGATOR, json!({"site": "silk-lane", "handle": "eager_buyer"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let careless = json!({"to": "GreenLeafUK", "subject": "bulk?", "body": "Hi, this is not the police, honest. Can you do 100g?"});
    let (status, sent) = post(&http, format!("{base}/api/undercover/accounts/U1/messages"), INVESTIGATOR, careless).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(world.records_of("site:silk-lane").unwrap().unwrap()["messages"].as_array().unwrap().len(), 1);
    world.run_until(world.world_end()).await.unwrap();
    Tipped { digest: world.digest().unwrap(), world, lab }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_careless_message_tips_the_vendor_off_who_reacts_as_scripted_and_the_verdict_charges_it() {
    let dir = tempfile::tempdir().unwrap();
    let Tipped { digest, world, lab } = tip_off_run(dir.path()).await;
    let start = world.scenario().meta.start;

    // The vendor noticed, once, and the tip-off names the team's handle.
    let tips = world.truth().read().tip_offs.clone();
    assert_eq!(tips.len(), 1, "{tips:?}");
    assert_eq!(tips[0].by_handle, "eager_buyer");
    assert_eq!(tips[0].persona.as_str(), "greenleaf");
    assert!(tips[0].cause.contains("\"police\""), "{}", tips[0].cause);
    assert_eq!(tips[0].time, start.plus(SimDuration::hours(54)), "at the vendor's next look (every 6h)");

    // WipeData: the conversation is gone from the market; the listings sell no more.
    let records = world.records_of("site:silk-lane").unwrap().unwrap();
    assert!(records["messages"].as_array().unwrap().is_empty(), "{}", records["messages"]);
    let listings = records["listings"].as_array().unwrap();
    assert!(listings.iter().all(|l| l["stock"] == 0), "{listings:?}");
    // GoDark: the late listing never appears, the cash-out never happens.
    assert!(!records.to_string().contains("Late batch 5g"), "the scripted listing after going dark never appears");
    let chronicle = world.truth().read().chronicle.clone();
    let said = |needle: &str| chronicle.iter().any(|c| c.text.contains(needle));
    assert!(said("did not list late-batch as greenleaf: gone dark after a tip-off"), "{chronicle:#?}");
    assert!(said("did not cash out to coinbay: gone dark"), "{chronicle:#?}");
    // MoveFunds: the vendor's money went into the mixer in a real transaction.
    let mixed = chronicle.iter().find(|c| c.text.contains("into the mixer tumbler")).unwrap_or_else(|| panic!("{chronicle:#?}"));
    assert!(mixed.ok && mixed.time == tips[0].time, "{mixed:?}");
    let tumbler = world.records_of("site:tumbler").unwrap().unwrap();
    let deposited = tumbler.as_array().unwrap().iter().any(|o| o["deposit_sat"].as_u64().unwrap_or(0) > 0);
    assert!(deposited, "the mixer received the vendor's deposit: {tumbler}");

    // The verdict charges the tip-off exactly as the rubric says and says why.
    let rubric = world.scenario().rubric.clone();
    let case = CaseFile { suspects: Vec::new() };
    let dossier = lab.dossier("team", &case).await.unwrap();
    assert_eq!(dossier.tip_offs.len(), 1, "{:?}", dossier.tip_offs);
    let verdict = lab.submit_case(HEAD, case).await.unwrap();
    assert_eq!(verdict.categories["tip-offs"], -rubric.tip_off.abs());
    assert!(verdict.tip_offs[0].contains("eager_buyer") && verdict.tip_offs[0].contains("U1"), "{:?}", verdict.tip_offs);
    assert_eq!(lab.progress().await[0].tip_offs, 1);
    let timeline = lab.timeline("team").await.unwrap();
    assert!(timeline.iter().any(|e| e.what.starts_with("tip-off: persona greenleaf")), "{timeline:#?}");

    // Same scenario, seed and team actions: the same world, tip-off and all.
    let again = tempfile::tempdir().unwrap();
    let second = tip_off_run(again.path()).await;
    assert_eq!(second.digest, digest, "same seed, same world digest with a tip-off");
    assert_eq!(second.world.truth().read().tip_offs, tips);
    second.world.shutdown().await;
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_odd_account_makes_the_vendor_leave_and_the_verdict_says_an_arrest_needs_help_abroad() {
    let dir = tempfile::tempdir().unwrap();
    let mut s: Scenario = (*shipped()).clone();
    let mark = s.cast.iter_mut().find(|a| a.id.as_str() == "mark").unwrap();
    mark.reactions =
        vec![Reaction { trigger: Trigger::OddAccount("greenleaf".into()), response: ReactionKind::LeaveAbroad("Spain".into()) }];
    let scenario = Arc::new(s);
    let mut world = World::build(scenario.clone(), 9, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(scenario.meta.start.plus(SimDuration::hours(30))).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    let members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "investigator".into(), role: Role::Investigator, token: INVESTIGATOR.into() },
    ];
    lab.add_team("team", members, &Lab::team_dir(dir.path(), "team")).await.unwrap();
    authorise(&lab, &mut world).await;
    lab.open_account(INVESTIGATOR, game::lab::AccountDraft { site: "silk-lane".into(), handle: "chatty".into() }).await.unwrap();
    // Innocent words, but three messages and never an order: an odd account (the default rule).
    for n in 0..3 {
        let m = game::lab::MessageDraft { to: "GreenLeafUK".into(), subject: format!("q{n}"), body: "do you ship to Belgium?".into() };
        lab.send_message(INVESTIGATOR, "U1", m).await.unwrap();
    }
    world.run_until(world.world_end()).await.unwrap();
    let truth = world.truth().read().clone();
    assert_eq!(truth.tip_offs.len(), 1, "{:?}", truth.tip_offs);
    assert!(truth.tip_offs[0].cause.contains("chatty had sent 3 private messages and never ordered"), "{}", truth.tip_offs[0].cause);
    let left = truth.departures.get(&"mark".into()).unwrap();
    assert_eq!(left.country, "Spain");
    assert!(truth.chronicle.iter().any(|c| c.text == "did not cash out to coinbay: left for Spain after a tip-off"));
    let verdict = lab.submit_case(HEAD, CaseFile { suspects: Vec::new() }).await.unwrap();
    assert!(verdict.tip_offs.iter().any(|t| t.contains("Mark Ellis left for Spain") && t.contains("arrest")), "{:?}", verdict.tip_offs);
    assert!(verdict.render_html("x", &SimTime(0).to_string(), &[]).unwrap().contains("Tip-offs"));
    world.shutdown().await;
}
