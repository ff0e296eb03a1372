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

/// For every shipped scenario, the cited item whose exclusion breaks claim `claim`'s
/// attribution chain (so every element of that claim fails with it). A new scenario must
/// add its row: the table test refuses a scenario it has none for.
const KEY_ITEMS: &[(&str, &str, usize)] = &[
    ("busy-market.ron", "coinbay-records", 0),
    ("careless-vendor.ron", "coinbay-records", 0),
    ("keyed-vendor.ron", "netline-records", 0),
    ("market-takedown.ron", "coinbay-anna", 1),
    ("tumbling-vendor.ron", "parcelnet-records", 0),
    ("twin-vendors.ron", "netline-records", 1),
];

const EXAMINER: &str = "test-forensic-examiner";

/// What claim `claim` of a complete case earns by the rubric: each persona a charge turns on
/// attributed, each element of its charges proven by direct evidence.
fn claim_points(sc: &Scenario, case: &CaseFile, claim: usize) -> i64 {
    let r = &sc.rubric;
    let s = &case.suspects[claim];
    let actor = sc.cast.iter().find(|a| a.identity.name == s.name).expect("a complete case names real people");
    let mut pairs = std::collections::BTreeSet::new();
    for c in sc.charges.iter().filter(|c| c.offender == actor.id) {
        for e in &c.elements {
            let (sim_core::scenario::Proof::Fact { persona, .. } | sim_core::scenario::Proof::Link { persona, .. }) = &e.proven_by;
            if s.personas.iter().any(|p| actor.personas.iter().any(|q| &q.id == persona && q.site == p.site && q.handle == p.handle)) {
                pairs.insert(persona.clone());
            }
        }
    }
    let elements: usize = s.charges.iter().map(|cc| sc.charges.iter().find(|c| c.id == cc.charge).map_or(0, |c| c.elements.len())).sum();
    r.attribution * i64::try_from(pairs.len()).unwrap() + r.element * i64::try_from(elements).unwrap()
}

/// What `lawful` steps earn, capped as the rubric says.
fn step_points(r: &Rubric, lawful: u32) -> i64 {
    i64::from(lawful.min(r.max_steps)) * r.step
}

/// Every shipped scenario (`scenarios/*.ron`) investigated for real by its reference
/// solution: the complete case gets full marks, and each kind of flaw — a wrong identity, a
/// missing element, an item excluded for want of authority, for broken custody or for a
/// broken hash (found by the lab itself on the tampered artifact), a late filing and, where
/// the rubric charges for it, a real tip-off — moves the score by exactly what the rubric
/// prescribes, and the verdict says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_scenario_scores_full_marks_and_each_flaw_exactly_what_its_rubric_says() {
    let dir_of_scenarios = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir_of_scenarios)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let Some(&(_, key, claim)) = KEY_ITEMS.iter().find(|(f, _, _)| f == file) else {
            failures.push(format!("{file}: no row in KEY_ITEMS (name the item that closes a claim's attribution)"));
            continue;
        };
        failures.extend(table_for(file, key, claim).await.into_iter().map(|f| format!("{file}: {f}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs one scenario's table; returns the rows that did not hold.
async fn table_for(file: &str, key: &str, claim: usize) -> Vec<String> {
    let scenario = scenario(file);
    let dir = tempfile::tempdir().unwrap();
    let mut world = market_sim::world::World::build(scenario.clone(), 5, std::net::IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = game::lab::Lab::new(&world).unwrap();
    let member = |name: &str, role, token: &str| game::lab::Member { name: name.into(), role, token: token.into() };
    let members = vec![
        member("head", game::lab::Role::HeadOfUnit, HEAD),
        member("investigator", game::lab::Role::Investigator, INVESTIGATOR),
        member("examiner", game::lab::Role::ForensicExaminer, EXAMINER),
    ];
    lab.add_team("team", members, &game::lab::Lab::team_dir(dir.path(), "team")).await.unwrap();
    let mut team = game::autopilot::Autopilot::with_examiner(EXAMINER);
    for (i, step) in scenario.solution[..scenario.solution.len() - 1].iter().enumerate() {
        team.take(i + 1, step, &scenario, &lab, &mut world, HEAD).await.unwrap();
    }
    let spec = filed_spec(&scenario);
    let perfect = team.case_file(&scenario, &spec).unwrap();
    let r = &scenario.rubric;
    let on_time = deadline(&scenario);
    assert!(world.clock().now() <= on_time, "{file}: the reference solution finishes within the time budget");
    let clean = lab.dossier("team", &perfect).await.unwrap();
    let mut failures = Vec::new();

    let base = judge(&scenario, &clean, &perfect, on_time);
    let total: i64 = (0..perfect.suspects.len()).map(|k| claim_points(&scenario, &perfect, k)).sum();
    if base.score != base.max_score || base.max_score != step_points(r, r.max_steps) + total || !base.missed.is_empty() {
        failures.push(format!(
            "the reference case: {} of {} (rubric: {})\n{}",
            base.score,
            base.max_score,
            step_points(r, r.max_steps) + total,
            base.render_text()
        ));
        world.shutdown().await;
        return failures;
    }
    let check = |name: &str, v: &Verdict, delta: i64, says: &str| -> Option<String> {
        let text = v.render_text() + &v.render_html("x", "t", &[]).unwrap();
        if v.score != base.score + delta {
            Some(format!("{name}: score {} but the rubric says {}\n{}", v.score, base.score + delta, v.render_text()))
        } else if !text.contains(says) {
            Some(format!("{name}: the verdict does not say {says:?}\n{}", v.render_text()))
        } else {
            None
        }
    };

    // A wrong identity for the first suspect: nothing of that claim counts, and it costs.
    let mut case = perfect.clone();
    case.suspects[0].name = "Nobody Atall".into();
    let v = judge(&scenario, &clean, &case, on_time);
    failures.extend(check("wrong identity", &v, -(claim_points(&scenario, &perfect, 0) + r.wrong_accusation.abs()), "wrong accusation"));

    // A missing element: that element's points, and the debrief lists it.
    let mut case = perfect.clone();
    let missing = case.suspects[0].charges[0].elements.remove(0).element;
    let v = judge(&scenario, &clean, &case, on_time);
    failures.extend(check("missing element", &v, -r.element, "no evidence was cited for this element"));
    if !v.missed.iter().any(|m| m.contains(&format!("element {missing} "))) {
        failures.push(format!("missing element: what a full case contains does not list {missing}: {:?}", v.missed));
    }

    // The key item excluded: its penalty, its lawful step, and the claim it closes.
    let id = team.evidence(key).unwrap_or_else(|| panic!("{file}: no evidence labelled {key}")).clone();
    let broken = -(r.inadmissible.abs() + claim_points(&scenario, &perfect, claim));
    let one_step_less = step_points(r, clean.lawful_steps - 1) - step_points(r, clean.lawful_steps);
    for why in ["provider record obtained without legal authority", "the chain of custody is broken"] {
        let mut dossier = clean.clone();
        dossier.evidence.insert(
            id.clone(),
            EvidenceAssessment { admissibility: Admissibility::Inadmissible(format!("{id}: {why}")), facts: Vec::new() },
        );
        dossier.lawful_steps -= 1;
        failures.extend(check(
            &format!("inadmissible {key}: {why}"),
            &judge(&scenario, &dossier, &perfect, on_time),
            broken + one_step_less,
            why,
        ));
    }
    // The key item's artifact changed on disk: the lab finds the broken hash itself.
    let entry = lab.evidence_list(HEAD).await.unwrap().into_iter().find(|e| e.id == id).unwrap();
    let path = game::lab::Lab::team_dir(dir.path(), "team").join(ARTIFACTS_DIR).join(&entry.content_hash);
    let original = std::fs::read(&path).unwrap();
    std::fs::write(&path, [original.as_slice(), b" "].concat()).unwrap();
    let tampered = lab.dossier("team", &perfect).await.unwrap();
    std::fs::write(&path, original).unwrap();
    if tampered.lawful_steps + 1 != clean.lawful_steps {
        failures.push(format!("broken hash: the lab still counts {} lawful steps of {}", tampered.lawful_steps, clean.lawful_steps));
    }
    failures.extend(check(
        "broken hash",
        &judge(&scenario, &tampered, &perfect, on_time),
        broken + one_step_less,
        "artifact hash does not match the ledger",
    ));

    // Late: per started hour, capped; a rubric without lateness charges nothing.
    let per_hour = r.lateness.per_hour.abs();
    let cap = |cost: i64| if r.lateness.max == 0 { cost } else { cost.min(r.lateness.max.abs()) };
    let says_late = if per_hour == 0 { "" } else { "3 started hour(s)" };
    let late = judge(&scenario, &clean, &perfect, on_time.plus(SimDuration::secs(2 * 3600 + 1800)));
    failures.extend(check("late by 2h30m", &late, -cap(3 * per_hour), says_late));
    let later = judge(&scenario, &clean, &perfect, on_time.plus(SimDuration::days(3)));
    failures.extend(check("late by 3 days", &later, -cap(72 * per_hour), if per_hour == 0 { "" } else { "started hour(s)" }));

    // A real tip-off, where the rubric charges for one: the team asks the first suspect's
    // persona whether it is the police, from an undercover account, and the suspect notices
    // at the next look.
    if r.tip_off != 0 {
        let p = &perfect.suspects[0].personas[0];
        let market = lab.directory().sites.get(&p.site).unwrap().clone();
        let profile = lab.capture(HEAD, &format!("{market}/api/vendors/{}", p.handle)).await.unwrap();
        let draft = game::lab::RequestDraft {
            kind: sim_core::scenario::RequestKind::UndercoverAuthorisation,
            provider: p.site.0.as_str().into(),
            target: p.handle.clone(),
            grounds: vec![profile.id],
        };
        let req = lab.request(HEAD, draft).await.unwrap().id;
        let status = settle(&lab, &mut world, &req).await;
        assert!(matches!(status, game::lab::RequestStatus::Authorised { .. }), "{file}: {status:?}");
        let account = lab.open_account(INVESTIGATOR, AccountDraft { site: p.site.clone(), handle: "uc_buyer".into() }).await.unwrap();
        let word = scenario.tip_offs.words.first().cloned().unwrap_or_else(|| "police".into());
        let body = format!("Straight question: {word}? I need to know before I buy.");
        lab.send_message(INVESTIGATOR, &account.id, MessageDraft { to: p.handle.clone(), subject: "question".into(), body }).await.unwrap();
        world.run_until(world.clock().now().plus(scenario.tip_offs.check_every)).await.unwrap();
        let tipped = lab.dossier("team", &perfect).await.unwrap();
        let extra = step_points(r, tipped.lawful_steps) - step_points(r, clean.lawful_steps);
        failures.extend(check(
            "tip-off",
            &judge(&scenario, &tipped, &perfect, on_time),
            extra - r.tip_off.abs(),
            "noticed the investigation",
        ));
    }
    eprintln!(
        "{file}: full marks {}; rows: wrong identity, missing element, {key} excluded (authority, custody, hash), late{}",
        base.max_score,
        if r.tip_off != 0 { ", tip-off" } else { "" }
    );
    world.shutdown().await;
    failures
}
