//! The workstation's logic, headless, against a real lab on loopback: every panel's
//! actions go through the lab's API exactly as the window's clicks do.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use game::lab::{Lab, Member, RequestStatus, Role};
use game::ledger::{ArtifactKind, CustodyEvent};
use game::workstation::board::{Entity, EntityKind};
use game::workstation::client::LabClient;
use game::workstation::console::ConsoleView;
use game::workstation::console::{Console, ConsoleAction};
use game::workstation::flow::Verdict;
use game::workstation::locker::HashCheck;
use game::workstation::seized::Access;
use game::workstation::{Action, Fetched, Panel, SeizedAction, UndercoverAction, Workstation};
use market_sim::world::World;
use sim_core::scenario::{RequestKind, Scenario, load_file};

const HEAD: &str = "ws-head";

/// The demo scenario, with one buyer who takes change at fresh taproot addresses (the demo's
/// cast pays change back to the paying address, which ties no two addresses): its escrow
/// payment gives its change away, so the chain has a heuristic to accept.
fn shipped() -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/careless-vendor.ron");
    let mut scenario = load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let buyer = scenario.cast.iter_mut().find(|a| a.id.as_str() == "buyer-3").expect("the demo has buyer-3");
    buyer.habits.taproot = true;
    buyer.habits.reuse_addresses = false;
    Arc::new(scenario)
}

/// The demo world after its cast's activity, a lab with one team, served on loopback.
async fn lab(data: &Path) -> (World, String) {
    let scenario = shipped();
    let mut world = World::build(scenario, 7, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    let members = vec![Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() }];
    lab.add_team("team", members, &Lab::team_dir(data, "team")).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, game::lab::http::router(Arc::new(lab))).await });
    (world, format!("http://{addr}"))
}

fn no_errors(ws: &Workstation) {
    let errors: Vec<_> = ws.notices.iter().filter(|n| n.error).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// Looks through the chain block by block until a heuristic suggests something.
async fn find_suggestion(ws: &mut Workstation) {
    for height in 1..200u32 {
        ws.perform(Action::Search(height.to_string())).await;
        let Some((_, _, txids)) = ws.explorer.block.clone() else { break };
        for t in txids {
            ws.perform(Action::Search(t)).await;
        }
        if !ws.explorer.flow.suggestions.is_empty() {
            return;
        }
    }
    panic!("no heuristic suggestion anywhere on the demo chain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainee_browses_captures_graphs_money_files_and_builds_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, base) = lab(dir.path()).await;
    let client = LabClient::new(&base, HEAD);
    let mut ws = Workstation::new(client.clone());
    ws.perform(Action::Refresh).await;
    no_errors(&ws);
    let status = ws.status.clone().unwrap();
    assert!(ws.locker.entries.is_empty());

    // Browser: a site id resolves through the directory; links lead on; back and forward.
    ws.perform(Action::Open("silk-lane".into())).await;
    no_errors(&ws);
    let home = ws.browser.page.clone().unwrap();
    assert_eq!(home.url, status.sites["silk-lane"]);
    assert!(!home.fields.is_empty() || !home.tables.is_empty(), "{home:?}");
    let next = home.links.first().cloned().expect("the market's home page links somewhere");
    ws.perform(Action::Open(next.url.clone())).await;
    no_errors(&ws);
    ws.perform(Action::Back).await;
    assert_eq!(ws.browser.page.as_ref().unwrap().url, home.url);
    ws.perform(Action::Forward).await;
    assert_eq!(ws.browser.page.as_ref().unwrap().url, next.url);

    // Capturing the page adds a ledger entry, in the locker and at the lab.
    ws.perform(Action::Capture).await;
    no_errors(&ws);
    assert_eq!(ws.locker.entries.len(), 1);
    let captured = ws.locker.entries[0].clone();
    assert_eq!(captured.source, next.url);
    assert_eq!(captured.kind, ArtifactKind::PageCapture);
    assert_eq!(client.evidence().await.unwrap(), vec![captured.clone()]);

    // A name outside the exercise's network is refused with a notice, not a panic.
    ws.perform(Action::Open("http://outside.example/".into())).await;
    assert!(ws.notices.last().unwrap().error);
    ws.notices.clear();

    // Explorer: accepting a heuristic captures the transaction and draws a link citing it.
    ws.panel = Panel::Explorer;
    find_suggestion(&mut ws).await;
    no_errors(&ws);
    let s = ws.explorer.flow.suggestions[0].clone();
    let links_before = ws.board.links.len();
    ws.perform(Action::Decide(0, true)).await;
    no_errors(&ws);
    assert_eq!(ws.explorer.flow.suggestions[0].verdict, Verdict::Accepted);
    let tx_evidence = ws.locker.entries.last().unwrap().clone();
    assert_eq!(tx_evidence.kind, ArtifactKind::ChainRecord);
    assert!(tx_evidence.source.ends_with(&format!("/tx/{}", s.txid)));
    assert!(ws.board.links.len() > links_before);
    let link = ws.board.links.last().unwrap();
    assert_eq!(link.evidence, vec![tx_evidence.id.clone()]);
    assert!(link.a.kind == EntityKind::Address && s.addresses.contains(&link.a.label) && s.addresses.contains(&link.b.label));
    // Expanding an address node grows the graph.
    let nodes = ws.explorer.flow.nodes.len();
    let addr = s.addresses.last().unwrap().clone();
    ws.perform(Action::Expand(addr.clone())).await;
    no_errors(&ws);
    assert!(ws.explorer.flow.nodes[&addr].expanded);
    assert!(ws.explorer.flow.nodes.len() >= nodes);

    // Locker: detail, a hash check that matches, and the view recorded in custody.
    ws.perform(Action::Select(captured.id.clone())).await;
    ws.perform(Action::CheckHash).await;
    no_errors(&ws);
    assert!(matches!(ws.locker.hash, Some(HashCheck::Match(ref h)) if *h == captured.content_hash));
    assert!(ws.locker.detail.as_ref().unwrap().custody.iter().any(|c| c.event == CustodyEvent::Viewed));
    ws.locker.filter = "chain".into();
    assert_eq!(ws.locker.filtered().len(), 1);

    // Legal: an incomplete form is refused on the spot; a complete one is filed.
    ws.perform(Action::FileRequest).await;
    assert_eq!(ws.notices.last().unwrap().key, "legal.error.provider");
    ws.notices.clear();
    ws.legal.form.kind = RequestKind::ProductionOrder;
    ws.legal.form.provider = "coinbay".into();
    ws.legal.form.target = addr.clone();
    ws.legal.form.grounds.insert(tx_evidence.id.clone());
    ws.perform(Action::FileRequest).await;
    no_errors(&ws);
    assert_eq!(ws.legal.requests.len(), 1);
    assert!(matches!(ws.legal.requests[0].status, RequestStatus::Pending { .. }));
    assert_eq!(client.requests().await.unwrap().len(), 1);

    // The Seized image panel: the head of unit is no forensic examiner, and the lab says so.
    ws.perform(Action::Seized(SeizedAction::Reload)).await;
    no_errors(&ws);
    assert!(matches!(&ws.seized.access, Access::Refused(m) if m.contains("examine seized images")), "{:?}", ws.seized.access);

    // Case: the board and the cited elements serialise into the lab's case file.
    let persona = Entity::new(EntityKind::Persona, "GreenLeafUK@silk-lane");
    let who = Entity::new(EntityKind::Identity, "Mark Ellis");
    ws.perform(Action::Link {
        a: persona.clone(),
        b: Entity::new(EntityKind::Address, &addr),
        relation: "payout".into(),
        evidence: vec![captured.id.clone()],
    })
    .await;
    ws.perform(Action::Link {
        a: Entity::new(EntityKind::Address, &addr),
        b: who,
        relation: "KYC".into(),
        evidence: vec![tx_evidence.id.clone()],
    })
    .await;
    ws.perform(Action::Cite {
        suspect: "Mark Ellis".into(),
        charge: "supply".into(),
        element: "offered".into(),
        evidence: vec![captured.id.clone()],
    })
    .await;
    no_errors(&ws);
    ws.perform(Action::SaveCase).await;
    no_errors(&ws);
    let expected = ws.case.case_file(&ws.board).unwrap();
    let saved = client.case().await.unwrap().unwrap();
    assert_eq!(saved, expected);
    assert_eq!(saved.suspects[0].name, "Mark Ellis");
    assert!(saved.suspects[0].attribution.contains(&tx_evidence.id) && saved.suspects[0].attribution.contains(&captured.id));
    ws.perform(Action::SubmitCase).await;
    no_errors(&ws);
    assert!(ws.verdict.is_some());
    assert!(client.case().await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instructor_console_controls_the_classroom() {
    let dir = tempfile::tempdir().unwrap();
    let classroom = game::serve::Classroom::start(shipped(), 3, "127.0.0.1:0".parse().unwrap(), dir.path(), 2).await.unwrap();
    let base = format!("http://{}", classroom.lab_addr);
    let mut console = Console::new(LabClient::new(&base, &classroom.roster.instructor));
    console.perform(ConsoleAction::Refresh).await;
    let status = console.status.clone().unwrap();
    assert_eq!(status.teams.len(), 2);
    assert!(console.behind().is_empty());
    console.perform(ConsoleAction::Pause(true)).await;
    assert!(console.status.as_ref().unwrap().pace.paused);
    console.perform(ConsoleAction::Compression(600)).await;
    assert_eq!(console.status.as_ref().unwrap().pace.compression, 600);
    console.perform(ConsoleAction::Inject("Europol shares a lead.".into())).await;
    let team = status.teams[0].team.clone();
    console.perform(ConsoleAction::Hint { team: team.clone(), hint: "follow-money".into() }).await;
    console.perform(ConsoleAction::Timeline(team.clone())).await;
    assert!(console.notices.iter().all(|n| !n.error), "{:?}", console.notices);
    assert_eq!(console.timeline.as_ref().unwrap().0, team);
    // Typed views: the scoreboard ranks both teams; in direct mode the network map has no
    // relays but every onion site with its .onion name; the truth names who is who.
    for v in ConsoleView::ALL {
        console.perform(ConsoleAction::View(v)).await;
    }
    assert!(console.notices.iter().all(|n| !n.error), "{:?}", console.notices);
    let board = console.scoreboard.as_ref().and_then(Fetched::loaded).unwrap();
    assert_eq!(board.iter().map(|s| s.rank).collect::<Vec<_>>(), [1, 2]);
    assert!(board.iter().all(|s| s.score.is_none()), "no case filed yet");
    let map = console.network.as_ref().and_then(Fetched::loaded).unwrap();
    assert_eq!(map.mode, "direct");
    assert!(map.relays.is_empty());
    let silk = map.onion_services.iter().find(|o| o.site == "silk-lane").expect("the market is an onion service");
    assert!(silk.host.ends_with(".onion") && silk.host.len() == 62, "{silk:?}");
    let truth = console.truth.as_ref().and_then(Fetched::loaded).unwrap();
    let vendor = truth.people.iter().find(|p| p.personas.iter().any(|x| x.handle == "GreenLeafUK")).expect("the vendor");
    assert!(!vendor.name.is_empty() && vendor.personas.iter().any(|p| p.url.as_deref().is_some_and(|u| u.contains(&silk.host))));
    assert!(!truth.slips.is_empty() && truth.slips.iter().all(|s| !s.carrier.is_empty()));
    assert!(!truth.debrief.is_empty(), "careless-vendor has a debrief");
    assert!(!console.chronicle().is_empty());

    // The trainee sees the inject as a notification on the next refresh.
    let head = classroom.roster.teams[0].1[0].token.clone();
    let mut ws = Workstation::new(LabClient::new(&base, &head));
    ws.perform(Action::Refresh).await;
    assert!(ws.notices.iter().any(|n| n.key == "notice.announcement" && n.text == "Europol shares a lead."));
    assert_eq!(ws.hints.len(), 1);

    // A team token does not open the console.
    let mut wrong = Console::new(LabClient::new(&base, &head));
    wrong.perform(ConsoleAction::Refresh).await;
    assert!(wrong.status.is_none() && wrong.notices[0].error);
    classroom.stop().await;
}

/// The Undercover panel against a real lab: refused without an authorisation; with one, an
/// account, a message and a controlled purchase whose records land in the locker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_undercover_panel_opens_an_account_messages_and_buys_under_an_authorisation() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = shipped();
    let mut world = World::build(scenario, 8, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = Arc::new(Lab::new(&world).unwrap());
    let members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "agent".into(), role: Role::Investigator, token: "ws-agent".into() },
    ];
    lab.add_team("team", members, &Lab::team_dir(dir.path(), "team")).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let served = lab.clone();
    tokio::spawn(async move { axum::serve(listener, game::lab::http::router(served)).await });
    let mut ws = Workstation::new(LabClient::new(&format!("http://{addr}"), "ws-agent"));
    ws.perform(Action::Refresh).await;

    // An incomplete form is refused on the spot; without an authorisation the lab refuses.
    ws.perform(Action::Undercover(UndercoverAction::OpenAccount)).await;
    assert_eq!(ws.notices.last().unwrap().key, "undercover.error.account");
    ws.undercover.forms.site = "silk-lane".into();
    ws.undercover.forms.handle = "panel_buyer".into();
    ws.perform(Action::Undercover(UndercoverAction::OpenAccount)).await;
    let last = ws.notices.last().unwrap();
    assert!(last.error && last.text.contains("403") && last.text.contains("undercover authorisation"), "{last:?}");
    ws.notices.clear();

    // The head of unit gets the authorisation on the vendor's profile.
    let market = lab.directory().sites.values().next().unwrap().clone();
    let profile = lab.capture(HEAD, &format!("{market}/api/vendors/GreenLeafUK")).await.unwrap();
    let draft = game::lab::RequestDraft {
        kind: RequestKind::UndercoverAuthorisation,
        provider: "silk-lane".into(),
        target: "GreenLeafUK".into(),
        grounds: vec![profile.id],
    };
    lab.request(HEAD, draft).await.unwrap();
    world.run_until(world.clock().now().plus(sim_core::clock::SimDuration::hours(2))).await.unwrap();
    lab.tick().await.unwrap();
    assert!(matches!(lab.requests(HEAD).await.unwrap()[0].status, RequestStatus::Authorised { .. }));

    ws.perform(Action::Undercover(UndercoverAction::OpenAccount)).await;
    no_errors(&ws);
    assert_eq!(ws.undercover.selected.as_deref(), Some("U1"));
    ws.undercover.forms.to = "GreenLeafUK".into();
    ws.undercover.forms.body = "Do you ship to Belgium?".into();
    ws.perform(Action::Undercover(UndercoverAction::SendMessage)).await;
    no_errors(&ws);
    assert_eq!(ws.undercover.messages_of("U1").len(), 1);
    let client = LabClient::new(&format!("http://{addr}"), "ws-agent");
    let listings: serde_json::Value = client.browse_json(&format!("{market}/api/listings")).await.unwrap();
    let haze = listings.as_array().unwrap().iter().find(|l| l["title"] == "Amnesia Haze 10g").unwrap()["id"].as_i64().unwrap();
    ws.undercover.forms.listing = haze.to_string();
    ws.perform(Action::Undercover(UndercoverAction::Purchase)).await;
    no_errors(&ws);
    let view = ws.undercover.view.clone().unwrap();
    assert_eq!(view.purchases.len(), 1);
    assert!(view.wallet.funded);
    let recorded: Vec<_> = ws.locker.entries.iter().map(|e| e.id.clone()).collect();
    assert!(recorded.contains(&view.purchases[0].order_evidence) && recorded.contains(&view.purchases[0].payment_evidence), "{recorded:?}");
    world.shutdown().await;
}

/// Ground truth is the instructor's alone: a team member's token is forbidden (403) on
/// `/instructor/truth` (and the scoreboard and network map), a stranger's unauthorised (401),
/// and the instructor's answers with who is who.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ground_truth_never_reaches_a_trainee() {
    let dir = tempfile::tempdir().unwrap();
    let classroom = game::serve::Classroom::start(shipped(), 4, "127.0.0.1:0".parse().unwrap(), dir.path(), 1).await.unwrap();
    let base = format!("http://{}", classroom.lab_addr);
    let http = reqwest::Client::new();
    let get = |path: &'static str, token: String| {
        let (http, base) = (http.clone(), base.clone());
        async move { http.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap() }
    };
    for (_, members) in &classroom.roster.teams {
        for m in members {
            for path in ["/instructor/truth", "/instructor/scoreboard", "/instructor/network"] {
                let r = get(path, m.token.clone()).await;
                assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN, "{:?} on {path}", m.role);
                let text = r.text().await.unwrap();
                assert!(!text.contains("GreenLeafUK") && !text.contains("chronicle"), "{text}");
            }
        }
    }
    assert_eq!(get("/instructor/truth", "nobody".into()).await.status(), reqwest::StatusCode::UNAUTHORIZED);
    let r = get("/instructor/truth", classroom.roster.instructor.clone()).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let truth: game::lab::Truth = r.json().await.unwrap();
    assert!(truth.people.iter().any(|p| p.personas.iter().any(|x| x.handle == "GreenLeafUK")));
    // The trainee's own API carries none of it either: the workstation's console refuses.
    let head = classroom.roster.teams[0].1[0].token.clone();
    let mut wrong = Console::new(LabClient::new(&base, &head));
    wrong.perform(ConsoleAction::View(ConsoleView::Truth)).await;
    assert!(matches!(&wrong.truth, Some(Fetched::Failed(m)) if m.starts_with("403")), "{:?}", wrong.truth);
    classroom.stop().await;
}
