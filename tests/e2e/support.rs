//! Building an investigated world for the tests.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use game::autopilot::Autopilot;
use game::lab::{Lab, Member, RequestDraft, RequestStatus, Role};
use market_sim::world::World;
use sim_core::scenario::{RequestKind, Scenario, load_file};

pub const HEAD: &str = "test-head-of-unit";
pub const INVESTIGATOR: &str = "test-investigator";
pub const EXAMINER: &str = "test-forensic-examiner";

pub fn shipped() -> Arc<Scenario> {
    scenario("careless-vendor.ron")
}

/// The shipped world after the cast's activity, with a lab holding one team.
pub async fn lab_world(seed: u64, data: &Path) -> (Arc<Scenario>, World, Lab) {
    let scenario = shipped();
    let (world, lab) = team_lab(scenario.clone(), seed, data, false).await;
    (scenario, world, lab)
}

/// `scenario`'s world after the cast's activity, with a lab holding one team "team": a head of
/// unit ([`HEAD`]), an investigator ([`INVESTIGATOR`]) and, if asked, a forensic examiner
/// ([`EXAMINER`]).
pub async fn team_lab(scenario: Arc<Scenario>, seed: u64, data: &Path, examiner: bool) -> (World, Lab) {
    let mut world = World::build(scenario, seed, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    let mut members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "investigator".into(), role: Role::Investigator, token: INVESTIGATOR.into() },
    ];
    if examiner {
        members.push(Member { name: "examiner".into(), role: Role::ForensicExaminer, token: EXAMINER.into() });
    }
    lab.add_team("team", members, &Lab::team_dir(data, "team")).await.unwrap();
    (world, lab)
}

/// Runs every reference-solution step except filing the case.
pub async fn investigate_without_filing(scenario: &Scenario, lab: &Lab, world: &mut World) -> Autopilot {
    let mut team = Autopilot::new();
    let steps = &scenario.solution[..scenario.solution.len() - 1];
    for (i, step) in steps.iter().enumerate() {
        team.take(i + 1, step, scenario, lab, world, HEAD).await.unwrap();
    }
    team
}

/// Serves the lab's router on 127.0.0.1:0; returns its base URL.
pub async fn serve_lab(lab: Arc<Lab>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, game::lab::http::router(lab)).await.unwrap();
    });
    format!("http://{addr}")
}

/// A lab over `world` holding one team whose head of unit has the token [`HEAD`].
pub async fn lab_on(world: &World, dir: &Path) -> Lab {
    let lab = Lab::new(world).unwrap();
    lab.add_team("t", vec![Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() }], &Lab::team_dir(dir, "t"))
        .await
        .unwrap();
    lab
}

/// Lets simulated time pass until request `id` is ruled on and, if granted, answered.
pub async fn settle(lab: &Lab, world: &mut World, id: &str) -> RequestStatus {
    for _ in 0..20 {
        let status = lab.requests(HEAD).await.unwrap().into_iter().find(|r| r.id == id).unwrap().status;
        if !matches!(status, RequestStatus::Pending { .. } | RequestStatus::Granted { .. }) {
            return status;
        }
        let due = lab.next_due().await.unwrap();
        world.run_until(due.max(world.clock().now())).await.unwrap();
        lab.tick().await.unwrap();
    }
    panic!("request {id} never settled");
}

/// The team's market, as the lab's directory names it.
pub fn market(lab: &Lab) -> String {
    lab.directory().sites.get(&"silk-lane".into()).unwrap().clone()
}

/// Captures the vendor's profile and gets an undercover authorisation for the market on it.
pub async fn authorise(lab: &Lab, world: &mut World) -> String {
    let profile = lab.capture(HEAD, &format!("{}/api/vendors/GreenLeafUK", market(lab))).await.unwrap();
    let draft = RequestDraft {
        kind: RequestKind::UndercoverAuthorisation,
        provider: "silk-lane".into(),
        target: "GreenLeafUK".into(),
        grounds: vec![profile.id],
    };
    let id = lab.request(HEAD, draft).await.unwrap().id;
    let status = settle(lab, world, &id).await;
    assert!(matches!(status, RequestStatus::Authorised { .. }), "{status:?}");
    id
}

/// A shipped scenario by file name.
pub fn scenario(file: &str) -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(file);
    Arc::new(load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false))))
}
