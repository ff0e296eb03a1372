//! The solver's own path, replayed by the autopilot through the real world and lab, scores
//! full marks — for the shipped scenario and every variant it declares — and takes the
//! simulated time the solver predicted.

use std::sync::Arc;

use sim_core::clock::SimTime;
use sim_core::scenario::solve::{Solvability, solve};
use sim_core::scenario::variant::variant;
use sim_core::scenario::{Scenario, SolutionStep};

use crate::support::shipped;

/// The scenario with its reference solution replaced by the solver's path.
fn with_solver_path(s: &Scenario) -> (Scenario, sim_core::clock::SimDuration) {
    let Solvability::Solved(sol) = solve(s) else { panic!("{} does not solve: {:?}", s.meta.title, solve(s)) };
    assert!(matches!(sol.steps.last(), Some(SolutionStep::File(_))));
    let mut out = s.clone();
    out.solution = sol.steps;
    (out, sol.duration)
}

fn time_of(line: &str) -> SimTime {
    line.split_whitespace().next().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("no time in {line}"))
}

async fn replay(s: &Scenario, seed: u64) -> [u8; 32] {
    let (s, predicted) = with_solver_path(s);
    let dir = tempfile::tempdir().unwrap();
    let report = game::exercise::demo(Arc::new(s.clone()), seed, dir.path()).await.unwrap();
    let v = &report.verdict;
    assert_eq!(v.score, v.max_score, "{}: the solver's path must score full marks:\n{}", s.meta.title, v.render_text());
    assert!(v.excluded.is_empty(), "{:?}", v.excluded);
    let first = report.investigation.first().map(|l| time_of(l)).unwrap();
    let last = report.investigation.last().map(|l| time_of(l)).unwrap();
    assert_eq!(last.since(first), predicted, "{}: simulated duration as predicted:\n{:#?}", s.meta.title, report.investigation);
    report.digest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_solvers_path_scores_full_marks_in_the_shipped_scenario_and_every_variant() {
    let s = shipped();
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    assert!(count >= 1, "the shipped scenario declares variants");
    let mut digests = Vec::new();
    for k in 0..=count {
        let v = variant(&s, k);
        digests.push(replay(&v, 1).await);
    }
    let distinct: std::collections::BTreeSet<_> = digests.iter().collect();
    assert_eq!(distinct.len(), digests.len(), "every variant is another world");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_solvers_path_scores_full_marks_in_the_starter_template_and_its_variants() {
    let text = include_str!("../../game/templates/starter.ron").replace("{{id}}", "starter").replace("{{title}}", "Starter");
    let s = sim_core::scenario::load_str("starter.ron", &text).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    for k in 0..=count {
        replay(&variant(&s, k), 3).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_solvers_path_scores_full_marks_in_the_market_takedown() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/market-takedown.ron");
    let s = sim_core::scenario::load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false)));
    replay(&s, 4).await;
}
