//! Verdict tables: the shipped scenario investigated for real, then the reference case and
//! one flaw at a time put to the prosecutor; each flaw must move the score exactly as the
//! rubric says. The tip-off row is real: the team messages the vendor carelessly from an
//! undercover account and the vendor notices at its next look.

use game::case::CaseFile;
use game::lab::{AccountDraft, Dossier, MessageDraft};
use game::ledger::{ARTIFACTS_DIR, EvidenceId};
use game::prosecutor::{Admissibility, EvidenceAssessment, Verdict, assess, deadline};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::scenario::{Rubric, Scenario, SolutionStep};

use crate::support::*;

fn filed_spec(scenario: &Scenario) -> sim_core::scenario::CaseSpec {
    match scenario.solution.last() {
        Some(SolutionStep::File(case)) => case.clone(),
        other => panic!("the shipped solution should end by filing a case, not {other:?}"),
    }
}

/// How a flaw changes the case, the dossier or the filing time.
enum Flaw {
    None,
    WrongIdentity(&'static str),
    MissingElement(&'static str),
    /// The lab reports this item inadmissible for this reason (as it does for a provider
    /// record without an order, or a broken custody log).
    Inadmissible(&'static str, &'static str),
    /// The item's stored artifact is changed on disk: the lab itself finds the broken hash.
    BrokenHash(&'static str),
    LateBy(SimDuration),
    /// Under an undercover authorisation, the team sends the vendor this message from an
    /// undercover account, and the world runs until the vendor's next look (last row: the
    /// tip-off stays on the team's record).
    TipOff(&'static str),
}

struct Row {
    name: &'static str,
    flaw: Flaw,
    /// The score change the rubric prescribes.
    delta: fn(&Rubric) -> i64,
    /// What the verdict must say about it.
    says: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_changes_the_score_exactly_as_the_rubric_says() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = lab_world(31, dir.path()).await;
    let team = investigate_without_filing(&scenario, &lab, &mut world).await;
    let spec = filed_spec(&scenario);
    let perfect: CaseFile = team.case_file(&scenario, &spec).unwrap();
    let r = &scenario.rubric;
    let on_time = deadline(&scenario);
    assert!(world.clock().now() <= on_time, "the autopilot finishes within the time budget");
    let clean = lab.dossier("team", &perfect).await.unwrap();
    assert_eq!(clean.lawful_steps, r.max_steps, "the reference investigation takes exactly the capped steps");

    let rows = [
        Row { name: "perfect case", flaw: Flaw::None, delta: |_| 0, says: "Nothing: this case is complete." },
        Row {
            name: "wrong identity",
            flaw: Flaw::WrongIdentity("Piet de Vries"),
            // The accusation is wrong: the attribution and both elements are not considered,
            // and the wrong accusation costs its penalty.
            delta: |r| -(r.attribution + 2 * r.element + r.wrong_accusation.abs()),
            says: "wrong accusation",
        },
        Row {
            name: "missing element",
            flaw: Flaw::MissingElement("cashed-out"),
            delta: |r| -r.element,
            says: "no evidence was cited for this element",
        },
        Row {
            name: "inadmissible: no legal authority",
            flaw: Flaw::Inadmissible("coinbay-records", "provider record obtained without legal authority"),
            // The KYC record closes the attribution chain: without it the persona is not
            // shown to be the suspect, so neither element can be proven against him; the
            // item costs the inadmissible penalty and is no lawful step.
            delta: |r| -(r.inadmissible.abs() + r.attribution + 2 * r.element + r.step),
            says: "provider record obtained without legal authority",
        },
        Row {
            name: "inadmissible: broken custody",
            flaw: Flaw::Inadmissible("cashout", "the chain of custody is broken"),
            delta: |r| -(r.inadmissible.abs() + r.attribution + 2 * r.element + r.step),
            says: "the chain of custody is broken",
        },
        Row {
            name: "broken hash on a corroborating item",
            flaw: Flaw::BrokenHash("payouts"),
            // The payouts page only corroborates the cash-out chain: the element still
            // stands; the item costs the inadmissible penalty and is no lawful step.
            delta: |r| -(r.inadmissible.abs() + r.step),
            says: "artifact hash does not match the ledger",
        },
        Row {
            name: "late by 2h30m",
            flaw: Flaw::LateBy(SimDuration::secs(2 * 3600 + 1800)),
            delta: |r| -3 * r.lateness.per_hour.abs(),
            says: "3 started hour(s)",
        },
        Row {
            name: "late by 3 days (capped)",
            flaw: Flaw::LateBy(SimDuration::days(3)),
            delta: |r| -r.lateness.max.abs(),
            says: "capped at",
        },
        Row {
            name: "tip-off",
            flaw: Flaw::TipOff("Straight question: are you police? I need to know before I buy."),
            delta: |r| -r.tip_off.abs(),
            says: "noticed the investigation",
        },
    ];
    assert!(r.tip_off != 0, "the shipped rubric charges for tip-offs");
    assert!(r.lateness.per_hour != 0 && r.lateness.max != 0, "the shipped rubric charges for lateness");

    let base = judge(&scenario, &clean, &perfect, on_time);
    assert_eq!(base.score, base.max_score, "the reference case gets full marks:\n{}", base.render_text());
    let mut failures = Vec::new();
    for row in &rows {
        let mut case = perfect.clone();
        let mut at = on_time;
        let mut tampered: Option<(std::path::PathBuf, Vec<u8>)> = None;
        let mut dossier: Dossier = clean.clone();
        match &row.flaw {
            Flaw::None => {}
            Flaw::WrongIdentity(name) => case.suspects[0].name = (*name).into(),
            Flaw::MissingElement(element) => {
                for c in &mut case.suspects[0].charges {
                    c.elements.retain(|e| e.element.as_str() != *element);
                }
            }
            Flaw::Inadmissible(label, why) => {
                let id = team.evidence(label).unwrap().clone();
                dossier.evidence.insert(
                    id.clone(),
                    EvidenceAssessment { admissibility: Admissibility::Inadmissible(format!("{id}: {why}")), facts: Vec::new() },
                );
                dossier.lawful_steps -= 1;
            }
            Flaw::BrokenHash(label) => {
                let id: EvidenceId = team.evidence(label).unwrap().clone();
                let entry = lab.evidence_list(HEAD).await.unwrap().into_iter().find(|e| e.id == id).unwrap();
                let path = game::lab::Lab::team_dir(dir.path(), "team").join(ARTIFACTS_DIR).join(&entry.content_hash);
                let original = std::fs::read(&path).unwrap();
                std::fs::write(&path, [original.as_slice(), b" "].concat()).unwrap();
                tampered = Some((path, original));
                // The lab itself now finds the item inadmissible.
                dossier = lab.dossier("team", &case).await.unwrap();
            }
            Flaw::LateBy(d) => at = on_time.plus(*d),
            Flaw::TipOff(body) => {
                authorise(&lab, &mut world).await;
                let account = AccountDraft { site: "silk-lane".into(), handle: "uc_buyer".into() };
                lab.open_account(INVESTIGATOR, account).await.unwrap();
                let message = MessageDraft { to: "GreenLeafUK".into(), subject: "question".into(), body: (*body).into() };
                lab.send_message(INVESTIGATOR, "U1", message).await.unwrap();
                world.run_until(world.clock().now().plus(scenario.tip_offs.check_every)).await.unwrap();
                dossier = lab.dossier("team", &case).await.unwrap();
                assert_eq!(dossier.lawful_steps, r.max_steps + 2, "the authorisation and its grounds are lawful steps too (past the cap)");
            }
        }
        let v = judge(&scenario, &dossier, &case, at);
        if let Some((path, original)) = tampered {
            std::fs::write(path, original).unwrap();
        }
        let expected = base.score + (row.delta)(r);
        let text = v.render_text() + &v.render_html("x", "t", &[]).unwrap();
        if v.score != expected {
            failures.push(format!("{}: score {} but the rubric says {expected}\n{}", row.name, v.score, v.render_text()));
        } else if !text.contains(row.says) {
            failures.push(format!("{}: the verdict does not say {:?}\n{}", row.name, row.says, v.render_text()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The table left the ledger as it was but for the tip-off, which the real submission pays.
    let submitted = lab.submit_case(HEAD, perfect).await.unwrap();
    assert_eq!(submitted.score, submitted.max_score - r.tip_off.abs(), "{}", submitted.render_text());
    world.shutdown().await;
}

fn judge(scenario: &Scenario, dossier: &Dossier, case: &CaseFile, at: SimTime) -> Verdict {
    assess(&dossier.input(scenario, "team", case, at))
}
