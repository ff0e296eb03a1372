//! The demo exercise and what the prosecutor makes of honest, tampered and wrong cases.

use game::lab::{RequestDraft, RequestStatus};
use game::ledger::{ARTIFACTS_DIR, EvidenceId};
use sim_core::scenario::{RequestKind, SolutionStep};

use crate::support::*;

fn filed_case(scenario: &sim_core::scenario::Scenario) -> sim_core::scenario::CaseSpec {
    match scenario.solution.last() {
        Some(SolutionStep::File(case)) => case.clone(),
        other => panic!("the shipped solution should end by filing a case, not {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_scores_the_reference_solution_full_marks() {
    let dir = tempfile::tempdir().unwrap();
    let report = game::exercise::demo(shipped(), 1, dir.path()).await.unwrap();
    assert_eq!(report.verdict.max_score, 80);
    assert_eq!(report.verdict.score, report.verdict.max_score, "{}", report.verdict.render_text());
    assert!(report.verdict.excluded.is_empty());
    let text = report.verdict.render_text();
    for element in ["offered", "cashed-out"] {
        assert!(text.contains(element), "the verdict explains element {element}:\n{text}");
    }
    // The world really traded: three orders paid, shipped and finalized, then a cash-out.
    let done: Vec<&str> = report.chronicle.iter().filter(|c| c.ok).map(|c| c.text.as_str()).collect();
    assert_eq!(done.iter().filter(|t| t.contains("finalized orders")).count(), 3, "{done:#?}");
    assert!(done.iter().any(|t| t.contains("to deposit address")), "{done:#?}");
    assert!(report.chronicle.iter().all(|c| c.ok), "no scripted step failed: {:#?}", report.chronicle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_world_digest_other_seed_other_digest() {
    let dir = tempfile::tempdir().unwrap();
    let a = game::exercise::demo(shipped(), 7, &dir.path().join("a")).await.unwrap();
    let b = game::exercise::demo(shipped(), 7, &dir.path().join("b")).await.unwrap();
    let c = game::exercise::demo(shipped(), 8, &dir.path().join("c")).await.unwrap();
    assert_eq!(a.digest, b.digest);
    assert_ne!(a.digest, c.digest);
    assert_eq!(c.verdict.score, c.verdict.max_score, "another seed is just as solvable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_evidence_is_excluded_from_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = lab_world(3, dir.path()).await;
    let team = investigate_without_filing(&scenario, &lab, &mut world).await;
    let profile = team.evidence("profile").unwrap().clone();
    let entry = lab.evidence_list(HEAD).await.unwrap().into_iter().find(|e| e.id == profile).unwrap();
    let artifact = game::lab::Lab::team_dir(dir.path(), "team").join(ARTIFACTS_DIR).join(&entry.content_hash);
    let mut bytes = std::fs::read(&artifact).unwrap();
    bytes.extend_from_slice(b" ");
    std::fs::write(&artifact, bytes).unwrap();

    let case = team.case_file(&scenario, &filed_case(&scenario)).unwrap();
    let verdict = lab.submit_case(HEAD, case).await.unwrap();
    let excluded: Vec<&EvidenceId> = verdict.excluded.iter().map(|(id, _)| id).collect();
    assert_eq!(excluded, vec![&profile], "{}", verdict.render_text());
    assert!(verdict.excluded[0].1.contains("hash"), "the reason names the broken hash: {}", verdict.excluded[0].1);
    assert!(verdict.score < verdict.max_score);
    let offered = verdict.suspects[0].elements.iter().find(|e| e.element.as_str() == "offered").unwrap();
    assert!(!offered.proven, "the only evidence for `offered` was tampered with");
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accusing_the_wrong_identity_costs_points() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = lab_world(4, dir.path()).await;
    let team = investigate_without_filing(&scenario, &lab, &mut world).await;
    let mut spec = filed_case(&scenario);
    spec.suspects[0].name = "Piet de Vries".into();
    let verdict = lab.submit_case(HEAD, team.case_file(&scenario, &spec).unwrap()).await.unwrap();
    assert!(verdict.suspects[0].wrong_accusation.is_some(), "{}", verdict.render_text());
    assert_eq!(verdict.categories.get("attribution").copied().unwrap_or(0), 0);
    assert_eq!(verdict.categories.get("elements").copied().unwrap_or(0), 0);
    assert!(verdict.categories.get("penalties").copied().unwrap_or(0) <= scenario.rubric.wrong_accusation);
    assert!(verdict.score < 0, "a wrong accusation outweighs the steps: {}", verdict.score);
    // The case is locked once submitted.
    assert!(lab.submit_case(HEAD, team.case_file(&scenario, &filed_case(&scenario)).unwrap()).await.is_err());
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_order_citing_no_grounds_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_scenario, mut world, lab) = lab_world(5, dir.path()).await;
    let draft = RequestDraft {
        kind: RequestKind::ProductionOrder,
        provider: "coinbay".into(),
        target: "bcrt1qljlf9dtdlgtx2xyl4q6us2m7jlvwwkg5hr2t7s".into(),
        grounds: vec![],
    };
    // Only the head of unit signs requests.
    assert!(lab.request(INVESTIGATOR, draft.clone()).await.is_err());
    let req = lab.request(HEAD, draft).await.unwrap();
    let due = lab.next_due().await.unwrap();
    world.run_until(due).await.unwrap();
    lab.tick().await.unwrap();
    let status = lab.requests(HEAD).await.unwrap().into_iter().find(|r| r.id == req.id).unwrap().status;
    match status {
        RequestStatus::Refused { reason } => assert!(reason.contains("no evidence"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(lab.evidence_list(HEAD).await.unwrap().is_empty(), "a refused order yields no records");
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_preservation_keeps_records_but_hands_over_none() {
    let dir = tempfile::tempdir().unwrap();
    let (_scenario, mut world, lab) = lab_world(6, dir.path()).await;
    // The shipped scenario grants preservations without grounds; they must not be a way
    // around the production order's grounds.
    let draft =
        RequestDraft { kind: RequestKind::Preservation, provider: "coinbay".into(), target: "bcrt1qanything".into(), grounds: vec![] };
    let req = lab.request(HEAD, draft).await.unwrap();
    let due = lab.next_due().await.unwrap();
    world.run_until(due).await.unwrap();
    lab.tick().await.unwrap();
    let status = lab.requests(HEAD).await.unwrap().into_iter().find(|r| r.id == req.id).unwrap().status;
    assert!(matches!(status, RequestStatus::Authorised { .. }), "{status:?}");
    assert!(lab.next_due().await.is_none(), "nothing more is coming");
    assert!(lab.evidence_list(HEAD).await.unwrap().is_empty(), "a preservation produces no records");
    world.shutdown().await;
}
