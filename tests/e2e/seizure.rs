//! The market takedown (scenarios/market-takedown.ron) over HTTP: the open status page
//! names the server's real IP, the hosting provider's records match what the operator did
//! (the rent paid in darkcoin: the recorded txid is the chain's transaction from his address),
//! a domestic search warrant for the server abroad is refused, a search abroad (mutual legal
//! assistance) is refused without grounds and granted with them after the foreign delay, only the forensic
//! examiner images and examines the server, the image enters the ledger and verifies, its
//! views return the seized data, and the facts it reveals attribute the vendors; the
//! reference solution scores full marks (the solver's own path: `solver.rs`). The operator's
//! clearnet host serves the market's favicon: a search by its hash names the server's IP
//! (`HostedAt`, exactly) and grounds the search abroad without the status page.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use game::lab::{Lab, Member, RequestDraft, RequestStatus, Role};
use game::workstation::client::LabClient;
use game::workstation::seized::{Access, Filter, Match};
use game::workstation::{Action, SeizedAction, Workstation};
use market_sim::world::World;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::scenario::{RequestKind, Scenario, load_file};

use crate::support::{HEAD, serve_lab, settle};
const EXAMINER: &str = "takedown-examiner";
const OTHER: &str = "other-team-examiner";

fn takedown() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/market-takedown.ron");
    load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_located_seized_examined_and_its_vendors_attributed() {
    let s = takedown();
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::build(Arc::new(s.clone()), 5, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let failed: Vec<String> = world.truth().read().chronicle.iter().filter(|c| !c.ok).map(|c| c.text.clone()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let lab = Lab::new(&world).unwrap();
    let team = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "examiner".into(), role: Role::ForensicExaminer, token: EXAMINER.into() },
    ];
    lab.add_team("t", team, &Lab::team_dir(dir.path(), "t")).await.unwrap();
    let other = vec![Member { name: "other".into(), role: Role::ForensicExaminer, token: OTHER.into() }];
    lab.add_team("other", other, &Lab::team_dir(dir.path(), "other")).await.unwrap();
    let lab = Arc::new(lab);
    let base = serve_lab(lab.clone()).await;
    let http = reqwest::Client::new();
    let market = lab.directory().sites.values().next().unwrap().clone();
    let capture = |url: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http.post(format!("{base}/api/captures")).bearer_auth(HEAD).json(&json!({"url": url})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
        }
    };

    // The open status page names the machine's real address, which the hosting provider
    // assigned when the operator rented it.
    let status_id = capture(format!("{market}/server-status")).await;
    let status: Value =
        serde_json::from_slice(&lab.evidence_content(HEAD, &game::ledger::EvidenceId(status_id.clone())).await.unwrap()).unwrap();
    let ip = status["server_address"].as_str().unwrap().to_string();
    let site = Entity::Site("black-harbour".into());
    assert!(world.truth().read().facts.contains(&Fact::new(FactKind::HostedAt, site.clone(), Entity::Ip(ip.clone()))));
    let hosting = world.records_of("provider:nordhost").unwrap().unwrap();
    let server = hosting["servers"].as_array().unwrap().iter().find(|r| r["ip"] == ip.as_str()).expect("the rented server");
    assert_eq!(server["plan"], "vps-4gb");
    let profile_id = capture(format!("{market}/api/vendors/FrostByte")).await;

    // The server is abroad (NordHost, Iceland): a domestic warrant is refused even with
    // grounds. A search abroad without grounds is refused; with the status page and a shop
    // page, granted, and executed by the foreign authorities after NordHost's delay.
    let warrant = |kind: RequestKind, grounds: Vec<String>| RequestDraft {
        kind,
        provider: "nordhost".into(),
        target: ip.clone(),
        grounds: grounds.into_iter().map(game::ledger::EvidenceId).collect(),
    };
    let domestic = lab.request(HEAD, warrant(RequestKind::SearchWarrant, vec![profile_id.clone(), status_id.clone()])).await.unwrap();
    match settle(&lab, &mut world, &domestic.id).await {
        RequestStatus::Refused { reason } => {
            assert!(reason.contains("abroad (IS") && reason.contains("mutual legal assistance"), "{reason}")
        }
        other => panic!("a domestic warrant for a server abroad: {other:?}"),
    }
    let refused = lab.request(HEAD, warrant(RequestKind::SearchAbroad, vec![status_id.clone()])).await.unwrap();
    assert!(matches!(settle(&lab, &mut world, &refused.id).await, RequestStatus::Refused { .. }));
    let asked = world.clock().now();
    let granted = lab.request(HEAD, warrant(RequestKind::SearchAbroad, vec![profile_id.clone(), status_id.clone()])).await.unwrap();
    assert!(matches!(settle(&lab, &mut world, &granted.id).await, RequestStatus::Authorised { .. }));
    let waited = world.clock().now().since(asked);
    assert!(waited >= sim_core::clock::SimDuration::hours(12 + 5 * 24), "the ruling (12h) and NordHost's 5 days: {waited:?}");

    // Only the examiner images the server, only under a granted warrant.
    let seize = |token: &'static str, request: String| {
        let http = http.clone();
        let base = base.clone();
        async move { http.post(format!("{base}/api/seizures")).bearer_auth(token).json(&json!({"request": request})).send().await.unwrap() }
    };
    assert_eq!(seize(HEAD, granted.id.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(seize(EXAMINER, refused.id.clone()).await.status(), StatusCode::CONFLICT);
    assert_eq!(seize(OTHER, granted.id.clone()).await.status(), StatusCode::NOT_FOUND, "another team has no such warrant");
    let r = seize(EXAMINER, granted.id.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let image: Value = r.json().await.unwrap();
    let image_id = image["id"].as_str().unwrap().to_string();
    assert_eq!(image["kind"], "ForensicImage");

    // The image is in the ledger, content-addressed, and the ledger verifies.
    let detail = lab.evidence_detail(HEAD, &game::ledger::EvidenceId(image_id.clone())).await.unwrap();
    assert_eq!(format!("{:?}", detail.integrity), "Intact");
    let bytes = lab.evidence_content(HEAD, &game::ledger::EvidenceId(image_id.clone())).await.unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    game::ledger::verify_dir(&Lab::team_dir(dir.path(), "t")).expect("the team's ledger verifies");

    // Views of the seized data, for the examiner only.
    let get = |token: &'static str, path: String| {
        let http = http.clone();
        let base = base.clone();
        async move { http.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap() }
    };
    let listed: Value = get(EXAMINER, "/api/seized".into()).await.json().await.unwrap();
    assert_eq!(listed[0]["evidence"], image_id.as_str());
    assert_eq!(get(HEAD, "/api/seized".into()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(HEAD, format!("/api/seized/{image_id}/vendors")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(OTHER, format!("/api/seized/{image_id}/vendors")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(EXAMINER, format!("/api/seized/{image_id}/sqlite_master")).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(get(EXAMINER, format!("/api/seized/{image_id}/users?password_hash=x")).await.status(), StatusCode::BAD_REQUEST);
    let vendors: Value = get(EXAMINER, format!("/api/seized/{image_id}/vendors?handle=FrostByte")).await.json().await.unwrap();
    assert_eq!(vendors["total"], 1, "{vendors}");
    let ops: Value = get(EXAMINER, format!("/api/seized/{image_id}/users?role=operator")).await.json().await.unwrap();
    assert_eq!(ops["rows"][0][1], "HarbourMaster", "{ops}");
    let orders: Value = get(EXAMINER, format!("/api/seized/{image_id}/orders?limit=500")).await.json().await.unwrap();
    assert_eq!(orders["total"], 3, "three orders, one still open when the exit scam swept it: {orders}");
    let logins: Value = get(EXAMINER, format!("/api/seized/{image_id}/operator_logins")).await.json().await.unwrap();
    assert!(logins["total"].as_u64().unwrap() >= 1, "the operator's side was used: {logins}");

    // The image reveals every vendor's payout address and the operator's account.
    let truth = world.truth().read().clone();
    let facts = game::extract::revealed_facts(&game::extract::Origin::Seized("black-harbour".into()), &bytes, &truth);
    for vendor in ["frostbyte", "nightshade"] {
        assert!(
            facts.iter().any(|f| f.kind == FactKind::ControlsAddress && f.subject == Entity::Persona(vendor.into())),
            "{vendor}: {facts:#?}"
        );
    }
    assert!(facts.contains(&Fact::new(FactKind::Operates, Entity::Persona("harbourmaster".into()), site)));
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rent_is_paid_on_chain_and_the_hosting_records_name_the_transaction() {
    let s = takedown();
    let dir = tempfile::tempdir().unwrap();
    let seed = 8;
    let mut world = World::build(Arc::new(s.clone()), seed, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let failed: Vec<String> = world.truth().read().chronicle.iter().filter(|c| !c.ok).map(|c| c.text.clone()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let lab = Lab::new(&world).unwrap();
    lab.add_team("t", vec![Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() }], &Lab::team_dir(dir.path(), "t"))
        .await
        .unwrap();
    let market = lab.directory().sites.get(&"black-harbour".into()).unwrap().clone();
    let status = lab.capture(HEAD, &format!("{market}/server-status")).await.unwrap();
    let page: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &status.id).await.unwrap()).unwrap();
    let ip = page["server_address"].as_str().unwrap().to_string();
    let profile = lab.capture(HEAD, &format!("{market}/api/vendors/FrostByte")).await.unwrap();

    // The hosting company's records, by mutual legal assistance: the rent was paid in
    // darkcoin, seen on the chain.
    let draft = RequestDraft {
        kind: RequestKind::MutualLegalAssistance,
        provider: "nordhost".into(),
        target: ip.clone(),
        grounds: vec![profile.id.clone(), status.id.clone()],
    };
    let req = lab.request(HEAD, draft).await.unwrap();
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &req.id).await else { panic!("NordHost did not answer") };
    let records: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    let customer = &records["customers"][0];
    assert_eq!(customer["servers"][0]["ip"], ip.as_str(), "{records}");
    let payment = &customer["payments"][0];
    assert_eq!(payment["method"], "darkcoin", "{records}");
    assert_eq!(payment["amount"], 2_500_000);
    let txid = payment["txid"].as_str().expect("the payment's txid").to_string();
    let invoice = payment["deposit_address"].as_str().expect("the invoice's address").to_string();
    assert_eq!(customer["invoices"][0]["address"], invoice.as_str());
    assert_eq!(customer["invoices"][0]["status"], "paid");

    // The chain agrees: that transaction spends the operator's coins and pays the invoice.
    let viktor = s.cast.iter().find(|a| a.id.as_str() == "viktor").unwrap();
    let operator = market_sim::world::cast::actor_wallet(viktor, seed).1.to_string();
    let explorer = world.services().iter().find(|x| x.name == "explorer").unwrap().url();
    let tx: Value = reqwest::get(format!("{explorer}/tx/{txid}")).await.unwrap().json().await.unwrap();
    let inputs: Vec<&str> = tx["vin"].as_array().unwrap().iter().filter_map(|i| i["prevout"]["scriptpubkey_address"].as_str()).collect();
    assert!(!inputs.is_empty() && inputs.iter().all(|a| *a == operator), "the operator's address pays: {tx}");
    assert_eq!(payment["paid_from"], json!([operator]), "{records}");
    assert!(tx["status"]["confirmed"].as_bool().unwrap(), "{tx}");
    assert!(
        tx["vout"].as_array().unwrap().iter().any(|o| o["scriptpubkey_address"] == invoice.as_str() && o["value"] == 2_500_000),
        "{tx}"
    );

    // The court reads the link: the invoice is the account's deposit address, paid by the
    // operator's address.
    let truth = world.truth().read().clone();
    let stored = lab.evidence_content(HEAD, &evidence).await.unwrap();
    let facts = game::extract::revealed_facts(&game::extract::Origin::Provider("nordhost".into()), &stored, &truth);
    let account = Entity::Account("nordhost".into(), "harbour-ops".into());
    assert!(facts.contains(&Fact::new(FactKind::DepositAddressOf, Entity::Address(invoice.clone()), account)), "{facts:#?}");
    assert!(facts.contains(&Fact::new(FactKind::Transfer, Entity::Address(operator), Entity::Address(invoice))), "{facts:#?}");
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_solution_scores_full_marks() {
    let dir = tempfile::tempdir().unwrap();
    let report = game::exercise::demo(Arc::new(takedown()), 2, dir.path()).await.unwrap();
    assert_eq!(report.verdict.score, report.verdict.max_score, "{}", report.verdict.render_text());
    let failed: Vec<&str> = report.chronicle.iter().filter(|c| !c.ok).map(|c| c.text.as_str()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_by_the_markets_favicon_names_its_server_and_nothing_else() {
    let s = takedown();
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::build(Arc::new(s), 7, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    lab.add_team("t", vec![Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() }], &Lab::team_dir(dir.path(), "t"))
        .await
        .unwrap();
    let market = lab.directory().sites.get(&"black-harbour".into()).unwrap().clone();
    let finder = lab.directory().sites.get(&"finder".into()).unwrap().clone();
    let prints: Value = serde_json::from_slice(&lab.browse(HEAD, &format!("{market}/.well-known/fingerprints")).await.unwrap()).unwrap();
    let hash = prints["favicon_sha256"].as_str().unwrap();

    // The search by the onion market's favicon names the operator's clearnet host and its IP.
    let entry = lab.capture(HEAD, &format!("{finder}/hosts?favicon={hash}")).await.unwrap();
    let page: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &entry.id).await.unwrap()).unwrap();
    assert_eq!(page["hosts"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["hosts"][0]["host"], "sorensen-it.example");
    assert_eq!(page["hosts"][0]["tls_certificate_sha256"], prints["tls_certificate_sha256"], "the same certificate too");
    let truth = world.truth().read().clone();
    let site = Entity::Site("black-harbour".into());
    let hosted = truth.facts.iter().find(|f| f.kind == FactKind::HostedAt && f.subject == site).cloned().expect("the server is rented");
    assert_eq!(
        page["hosts"][0]["ip"].as_str(),
        match &hosted.object {
            Entity::Ip(ip) => Some(ip.as_str()),
            _ => None,
        }
    );

    // The artifact, as stored, reveals exactly that fact …
    let stored = lab.evidence_content(HEAD, &entry.id).await.unwrap();
    let facts = game::extract::revealed_facts(&game::extract::Origin::Site("finder".into()), &stored, &truth);
    assert_eq!(facts, vec![hosted.clone()]);
    // … and grounds a search of the server without the status page.
    let profile = lab.capture(HEAD, &format!("{market}/api/vendors/FrostByte")).await.unwrap();
    let ip = page["hosts"][0]["ip"].as_str().unwrap().to_string();
    let draft =
        RequestDraft { kind: RequestKind::SearchAbroad, provider: "nordhost".into(), target: ip, grounds: vec![profile.id, entry.id] };
    let req = lab.request(HEAD, draft).await.unwrap();
    let status = settle(&lab, &mut world, &req.id).await;
    assert!(matches!(status, RequestStatus::Authorised { .. }), "{status:?}");

    // Another hash finds nothing; a malformed one is a clear 400.
    let other = lab.capture(HEAD, &format!("{finder}/hosts?favicon={}", "0".repeat(64))).await.unwrap();
    let none: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &other.id).await.unwrap()).unwrap();
    assert!(none["hosts"].as_array().unwrap().is_empty(), "{none}");
    match lab.browse(HEAD, &format!("{finder}/hosts?favicon=xyz")).await {
        Err(e) => assert!(e.to_string().contains("400"), "{e}"),
        Ok(body) => panic!("a malformed hash was answered: {}", String::from_utf8_lossy(&body)),
    }
    world.shutdown().await;
}

/// The Seized image panel against a real seizure (scenarios/market-takedown.ron): the
/// examiner's panel lists the image and opens its first view; a filter and a substring
/// narrow the rows; pages move; a cited row draws board links citing the image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seized_image_panel_examines_a_seized_server() {
    let scenario = Arc::new(takedown());
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::build(scenario, 5, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = Arc::new(Lab::new(&world).unwrap());
    let members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "examiner".into(), role: Role::ForensicExaminer, token: EXAMINER.into() },
    ];
    lab.add_team("team", members, &Lab::team_dir(dir.path(), "team")).await.unwrap();
    let base = serve_lab(lab.clone()).await;

    // Before any seizure the examiner's panel lists nothing.
    let mut ws = Workstation::new(LabClient::new(&base, EXAMINER));
    ws.perform(Action::Refresh).await;
    ws.perform(Action::Seized(SeizedAction::Reload)).await;
    no_workstation_errors(&ws);
    assert_eq!(ws.seized.access, Access::Listed);
    assert!(ws.seized.images.is_empty() && ws.seized.view.is_none());

    // The status page names the server; a search abroad on it and a shop page; the seizure.
    let market = lab.directory().sites.values().next().unwrap().clone();
    let status = lab.capture(HEAD, &format!("{market}/server-status")).await.unwrap();
    let page: serde_json::Value = serde_json::from_slice(&lab.evidence_content(HEAD, &status.id).await.unwrap()).unwrap();
    let ip = page["server_address"].as_str().unwrap().to_string();
    let profile = lab.capture(HEAD, &format!("{market}/api/vendors/FrostByte")).await.unwrap();
    let draft = game::lab::RequestDraft {
        kind: RequestKind::SearchAbroad,
        provider: "nordhost".into(),
        target: ip.clone(),
        grounds: vec![profile.id, status.id],
    };
    let warrant = lab.request(HEAD, draft).await.unwrap();
    assert!(matches!(settle(&lab, &mut world, &warrant.id).await, RequestStatus::Authorised { .. }));
    let image = lab.seize(EXAMINER, game::lab::SeizureDraft { request: warrant.id }).await.unwrap();

    // Reloading lists the image and opens its first view.
    ws.perform(Action::Seized(SeizedAction::Reload)).await;
    no_workstation_errors(&ws);
    assert_eq!(ws.seized.images.len(), 1);
    assert_eq!(ws.seized.image.as_ref(), Some(&image.id));
    assert_eq!(ws.seized.table, "users");
    let all = ws.seized.view.clone().expect("the first view is shown");
    assert!(all.total > 2 && all.columns.contains(&"role".to_string()), "{all:?}");

    // A filter narrows the rows; a substring too; an unknown column is the lab's refusal.
    ws.seized.filters.push(Filter { column: "role".into(), how: Match::Equals, value: "user".into() });
    ws.perform(Action::Seized(SeizedAction::Query)).await;
    no_workstation_errors(&ws);
    let vendors = ws.seized.view.clone().unwrap();
    assert!(vendors.total >= 1 && vendors.total < all.total, "{} of {}", vendors.total, all.total);
    let role = vendors.columns.iter().position(|c| c == "role").unwrap();
    assert!(vendors.rows.iter().all(|r| r[role] == "user"), "the operator is left out");
    ws.seized.filters = vec![Filter { column: "username".into(), how: Match::Contains, value: "fROST".into() }];
    ws.perform(Action::Seized(SeizedAction::Query)).await;
    no_workstation_errors(&ws);
    let frost = ws.seized.view.clone().unwrap();
    let name = frost.columns.iter().position(|c| c == "username").unwrap();
    assert!(frost.total >= 1 && frost.total < all.total, "{frost:?}");
    assert!(frost.rows.iter().all(|r| r[name].as_str().unwrap().to_lowercase().contains("frost")));
    ws.seized.filters = vec![Filter { column: "password_hash".into(), how: Match::Equals, value: "x".into() }];
    ws.perform(Action::Seized(SeizedAction::Query)).await;
    assert!(ws.notices.last().unwrap().error && ws.notices.last().unwrap().text.contains("no column"));
    ws.notices.clear();

    // Another view; paging through the server's log moves the offset the lab answers from.
    ws.perform(Action::Seized(SeizedAction::Table("server_log".into()))).await;
    no_workstation_errors(&ws);
    let log = ws.seized.view.clone().unwrap();
    if log.total > game::workstation::seized::PAGE {
        ws.perform(Action::Seized(SeizedAction::Page(1))).await;
        no_workstation_errors(&ws);
        assert_eq!(ws.seized.page(), 1);
        assert_ne!(ws.seized.view.as_ref().unwrap().rows.first(), log.rows.first());
    }

    // Citing a vendor's row draws links that cite the image.
    ws.perform(Action::Seized(SeizedAction::Table("vendors".into()))).await;
    let links = ws.board.links.len();
    ws.perform(Action::Seized(SeizedAction::Cite(0))).await;
    no_workstation_errors(&ws);
    assert!(ws.board.links.len() >= links + 2, "server → account → payout address");
    assert!(ws.board.links[links..].iter().all(|l| l.evidence == vec![image.id.clone()]));
    assert!(ws.board.links[links].a.label == ip, "{:?}", ws.board.links[links]);
    assert_eq!(ws.seized.cited.len(), 1);
    // Every query was a custody event on the image.
    let detail = lab.evidence_detail(HEAD, &image.id).await.unwrap();
    assert!(detail.custody.iter().filter(|c| c.event == game::ledger::CustodyEvent::Viewed).count() >= 4);
    world.shutdown().await;
}

fn no_workstation_errors(ws: &Workstation) {
    let errors: Vec<_> = ws.notices.iter().filter(|n| n.error).collect();
    assert!(errors.is_empty(), "{errors:?}");
}
