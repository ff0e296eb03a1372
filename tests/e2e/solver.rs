//! The solver's own path, replayed by the autopilot through the real world and lab, scores
//! full marks — for every scenario in `scenarios/` and every variant it declares, and for
//! `darklab new`'s starter — and takes the simulated time the solver predicted.

use std::sync::Arc;

use sim_core::clock::SimTime;
use sim_core::scenario::solve::{Solvability, solve};
use sim_core::scenario::variant::variant;
use sim_core::scenario::{Scenario, SolutionStep};

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

/// Every `.ron` file in `scenarios/`, sorted, loaded with its checks.
fn shipped_scenarios() -> Vec<(String, Scenario)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "ron")).collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let s = sim_core::scenario::load_file(&f).unwrap_or_else(|d| panic!("{}", d.render(false)));
            (name, s)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_solvers_path_scores_full_marks_in_every_shipped_scenario_and_every_variant() {
    let all = shipped_scenarios();
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in ["careless-vendor.ron", "tumbling-vendor.ron", "market-takedown.ron", "twin-vendors.ron"] {
        assert!(names.contains(&wanted), "{wanted} is shipped: {names:?}");
    }
    let mut replayed = 0;
    for (seed, (name, s)) in (1u64..).zip(&all) {
        let count = s.variants.as_ref().map_or(0, |v| v.count);
        let mut digests = std::collections::BTreeSet::new();
        for k in 0..=count {
            digests.insert(replay(&variant(s, k), seed).await);
            replayed += 1;
        }
        assert_eq!(digests.len(), usize::try_from(count).unwrap() + 1, "{name}: every variant is another world");
    }
    let declared: u32 = all.iter().map(|(_, s)| s.variants.as_ref().map_or(0, |v| v.count) + 1).sum();
    assert_eq!(replayed, declared, "every scenario and every variant replayed");
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
async fn the_challenge_variants_own_reference_solutions_score_full_marks() {
    let s = crate::support::scenario("twin-vendors.ron");
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    assert!(count >= 4, "a challenge for several teams");
    for k in 0..=count {
        // A variant whose slips moved takes the solver's path as its reference solution.
        let v = variant(&s, k);
        let dir = tempfile::tempdir().unwrap();
        let report = game::exercise::demo(Arc::new(v.clone()), 1, dir.path()).await.unwrap();
        assert_eq!(report.verdict.score, report.verdict.max_score, "variant {k}:\n{}", report.verdict.render_text());
    }
}
