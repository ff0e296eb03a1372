//! Running whole exercises: the headless demo (fast-forward world, the autopilot as one
//! team, the verdict) and the live world behind `darklab serve`.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use market_sim::world::truth::ChronicleEntry;
use market_sim::world::{World, WorldError};
use sim_core::scenario::Scenario;

use crate::autopilot::{Autopilot, AutopilotError};
use crate::lab::{Lab, LabError, Member, Role};
use crate::prosecutor::Verdict;

/// Why an exercise failed to run.
#[derive(Debug, thiserror::Error)]
pub enum ExerciseError {
    /// The world failed.
    #[error(transparent)]
    World(#[from] WorldError),
    /// The lab failed.
    #[error(transparent)]
    Lab(#[from] LabError),
    /// The reference solution could not be followed.
    #[error(transparent)]
    Autopilot(#[from] AutopilotError),
    /// The solution filed no case.
    #[error("the reference solution files no case")]
    NoCase,
}

/// What a demo run produced.
#[derive(Debug)]
pub struct DemoReport {
    /// What the world's cast did.
    pub chronicle: Vec<ChronicleEntry>,
    /// What the autopilot team did.
    pub investigation: Vec<String>,
    /// The prosecutor's verdict.
    pub verdict: Verdict,
    /// Digest of the world after the exercise.
    pub digest: [u8; 32],
    /// Blocks in the chain at the end.
    pub blocks: u32,
    /// Facts the world produced.
    pub facts: usize,
}

/// The member token of the demo's autopilot team.
const AUTOPILOT_TOKEN: &str = "autopilot-head-of-unit";
const EXAMINER_TOKEN: &str = "autopilot-forensic-examiner";

/// Fast-forwards the world, lets the autopilot investigate as one team, and scores it.
/// Ledgers are written under `data_dir`.
pub async fn demo(scenario: Arc<Scenario>, seed: u64, data_dir: &Path) -> Result<DemoReport, ExerciseError> {
    let mut world = World::build(scenario.clone(), seed, IpAddr::from([127, 0, 0, 1])).await?;
    let outcome = investigate(&scenario, &mut world, data_dir).await;
    let report = match outcome {
        Ok((investigation, verdict)) => {
            let truth = world.truth().read();
            let chronicle = truth.chronicle.clone();
            let facts = truth.facts.len();
            drop(truth);
            let blocks = coin_sim::chain::lock(world.chain()).height();
            Ok(DemoReport { chronicle, investigation, verdict, digest: world.digest()?, blocks, facts })
        }
        Err(e) => Err(e),
    };
    world.shutdown().await;
    report
}

async fn investigate(scenario: &Scenario, world: &mut World, data_dir: &Path) -> Result<(Vec<String>, Verdict), ExerciseError> {
    world.run_until(world.world_end()).await?;
    let lab = Lab::new(world)?;
    let head = Member { name: "Autopilot (head of unit)".into(), role: Role::HeadOfUnit, token: AUTOPILOT_TOKEN.into() };
    let examiner = Member { name: "Autopilot (forensic examiner)".into(), role: Role::ForensicExaminer, token: EXAMINER_TOKEN.into() };
    lab.add_team("autopilot", vec![head, examiner], &Lab::team_dir(data_dir, "autopilot")).await?;
    let mut team = Autopilot::with_examiner(EXAMINER_TOKEN);
    team.run(scenario, &lab, world, AUTOPILOT_TOKEN).await?;
    let verdict = team.verdict.ok_or(ExerciseError::NoCase)?;
    Ok((team.log, verdict))
}
