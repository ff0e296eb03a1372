//! Building an investigated world for the tests.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use game::autopilot::Autopilot;
use game::lab::{Lab, Member, RequestStatus, Role};
use market_sim::world::World;
use sim_core::scenario::{Scenario, load_file};

pub const HEAD: &str = "test-head-of-unit";
pub const INVESTIGATOR: &str = "test-investigator";

pub fn shipped() -> Arc<Scenario> {
    scenario("careless-vendor.ron")
}

/// The shipped world after the cast's activity, with a lab holding one team.
pub async fn lab_world(seed: u64, data: &Path) -> (Arc<Scenario>, World, Lab) {
    let scenario = shipped();
    let mut world = World::build(scenario.clone(), seed, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    let members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "investigator".into(), role: Role::Investigator, token: INVESTIGATOR.into() },
    ];
    lab.add_team("team", members, &Lab::team_dir(data, "team")).await.unwrap();
    (scenario, world, lab)
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
    for _ in 0..10 {
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

/// A shipped scenario by file name.
pub fn scenario(file: &str) -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(file);
    Arc::new(load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false))))
}
