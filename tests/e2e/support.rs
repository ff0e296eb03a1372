//! Building an investigated world for the tests.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use game::autopilot::Autopilot;
use game::lab::{Lab, Member, Role};
use market_sim::world::World;
use sim_core::scenario::{Scenario, load_file};

pub const HEAD: &str = "test-head-of-unit";
pub const INVESTIGATOR: &str = "test-investigator";

pub fn shipped() -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/careless-vendor.ron");
    Arc::new(load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false))))
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
