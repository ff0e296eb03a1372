use super::*;
use crate::scenario::check::check;
use crate::scenario::variant::variant;

fn shipped() -> Scenario {
    ron::from_str(include_str!("../../../../scenarios/careless-vendor.ron")).expect("parses")
}

fn starter() -> Scenario {
    let text = include_str!("../../../../game/templates/starter.ron").replace("{{id}}", "starter").replace("{{title}}", "Starter");
    ron::from_str(&text).expect("parses")
}

fn solved(s: &Scenario) -> Solution {
    match solve(s) {
        Solvability::Solved(sol) => sol,
        other => panic!("expected a solution, got {other:?}"),
    }
}

fn lawful_steps(steps: &[SolutionStep]) -> usize {
    steps
        .iter()
        .map(|st| match st {
            SolutionStep::Capture { .. } => 1,
            SolutionStep::Request { .. } => 2,
            SolutionStep::File(_) => 0,
        })
        .sum()
}

#[test]
fn careless_vendor_solves_in_four_actions_and_two_days_four_hours() {
    let s = shipped();
    let sol = solved(&s);
    let lines: Vec<String> = sol.steps.iter().map(describe_step).collect();
    assert_eq!(sol.steps.len(), 5, "{lines:#?}");
    assert!(sol.shortest);
    assert_eq!(sol.duration, SimDuration(2 * 86_400 + 4 * 3600), "production order: 4h ruling + 2d answer");
    assert_eq!(lawful_steps(&sol.steps), 5, "padded to rubric.max_steps: {lines:#?}");
    assert_eq!(sol.difficulty.level, Difficulty::Introductory, "{:?}", sol.difficulty);
    assert!(
        matches!(&sol.steps[0], SolutionStep::Capture { target: CaptureTarget::VendorProfile { handle, .. }, .. } if handle == "GreenLeafUK")
    );
    assert!(
        matches!(&sol.steps[2], SolutionStep::Request { kind: RequestKind::ProductionOrder, grounds, .. } if grounds.len() == 2),
        "{lines:#?}"
    );
    let Some(SolutionStep::File(case)) = sol.steps.last() else { panic!("{lines:#?}") };
    assert_eq!(case.suspects.len(), 1);
    assert_eq!(case.suspects[0].name, "Mark Ellis");
    assert_eq!(case.suspects[0].attribution.len(), 3, "profile, spend, records: {case:?}");
    // The solver's own path is a valid solution for the checker.
    let mut with_path = s.clone();
    with_path.solution = sol.steps.clone();
    assert_eq!(check(&with_path), Vec::new());
}

#[test]
fn the_starter_template_solves() {
    let sol = solved(&starter());
    assert_eq!(sol.duration, SimDuration(86_400 + 2 * 3600));
    assert_eq!(lawful_steps(&sol.steps), 5);
}

#[test]
fn without_the_address_in_profile_slip_no_lawful_path_attributes_greenleaf() {
    let mut s = shipped();
    s.cast[0].slips.retain(|sl| !matches!(sl.kind, SlipKind::AddressInProfile(_)));
    let Solvability::Unsolvable { missing, why, element, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(missing.kind, FactKind::ControlsAddress);
    assert_eq!(missing.subject, Entity::Persona("greenleaf".into()));
    assert!(why.contains("AddressInProfile"), "{why}");
    assert_eq!(element, (0, 0));
    let problems = check(&s);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "charges[0].elements[0].proven_by");
    assert!(problems[0].message.contains("ControlsAddress") && problems[0].message.contains("greenleaf"), "{problems:?}");
}

#[test]
fn without_a_production_order_rule_the_records_are_out_of_reach() {
    let mut s = shipped();
    s.legal.rules.retain(|r| r.request != RequestKind::ProductionOrder);
    let Solvability::Unsolvable { missing, why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(missing.kind, FactKind::DepositAddressOf, "{missing}");
    assert!(why.contains("no legal rule"), "{why}");
    let problems = check(&s);
    assert_eq!(problems[0].path, "cast[0].slips[1].kind", "located at the KYC cash-out slip: {problems:#?}");
}

#[test]
fn a_judge_asking_for_a_one_hop_link_refuses_the_order() {
    let mut s = shipped();
    s.legal.rules[0].grounds = Grounds::LinkToOffence { max_hops: 1 };
    let Solvability::Unsolvable { why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert!(why.contains("judge would refuse"), "{why}");
}

#[test]
fn a_too_small_time_budget_fails() {
    let mut s = shipped();
    s.meta.time_budget = SimDuration::days(2);
    s.providers[0].response_delay = SimDuration::days(1);
    assert!(matches!(solve(&s), Solvability::Solved(_)), "1d4h fits in 2d");
    s.providers[0].response_delay = SimDuration::days(2);
    let Solvability::OverBudget { fastest, budget } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(budget, SimDuration::days(2));
    assert_eq!(fastest.duration, SimDuration(2 * 86_400 + 4 * 3600));
    let problems = check(&s);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "meta.time_budget");
}

#[test]
fn a_slip_nothing_follows_from_is_reported() {
    let mut s = shipped();
    s.cast[0].slips.push(Slip { id: "stray".into(), kind: SlipKind::CashOutToKycExchange("coinbay".into()) });
    s.cast[1].slips.push(Slip { id: "buyer-kyc".into(), kind: SlipKind::CashOutToKycExchange("coinbay".into()) });
    let problems = check(&s);
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["cast[1].slips[0].kind"], "{problems:#?}");
    assert!(problems[0].message.contains("buyer-kyc") && problems[0].message.contains("never cashes out"), "{problems:?}");
}

#[test]
fn every_legal_rule_of_the_shipped_scenario_is_reachable_and_an_isp_rule_is_not() {
    let mut s = shipped();
    assert_eq!(unreachable_rules(&s), Vec::new());
    let isp_rule = s.legal.rules.len();
    s.legal.rules.push(LegalRule {
        request: RequestKind::ProductionOrder,
        provider_kind: Some(ProviderKind::Isp),
        grounds: Grounds::None,
        ruling_delay: SimDuration::hours(1),
    });
    let notes = unreachable_rules(&s);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].0, isp_rule);
    // `check` fails on it, at the rule.
    let problems = check(&s);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, format!("legal.rules[{isp_rule}]"));
    assert!(problems[0].message.contains("no provider is Isp"), "{problems:?}");
}

#[test]
fn a_rule_for_requests_that_never_reach_its_providers_jurisdiction_is_a_problem() {
    let mut s = shipped();
    // CoinBay is domestic: a mutual legal assistance request never reaches it.
    s.legal.rules.push(LegalRule {
        request: RequestKind::MutualLegalAssistance,
        provider_kind: Some(ProviderKind::Exchange),
        grounds: Grounds::None,
        ruling_delay: SimDuration::hours(1),
    });
    let notes = unreachable_rules(&s);
    assert_eq!(notes.iter().map(|n| n.0).collect::<Vec<_>>(), [s.legal.rules.len() - 1], "{notes:?}");
    assert!(notes[0].1.contains("domestic"), "{notes:?}");
    // Moved abroad, CoinBay is reached by it, and no longer by the production order rule.
    s.providers.iter_mut().for_each(|p| p.jurisdiction = Jurisdiction::Foreign("Estonia".into()));
    let notes = unreachable_rules(&s);
    assert_eq!(notes.iter().map(|n| n.0).collect::<Vec<_>>(), [0], "{notes:?}");
    assert!(notes[0].1.contains("abroad"), "{notes:?}");
}

#[test]
fn variants_differ_in_names_handles_and_amounts_but_solve_alike() {
    let s = shipped();
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    assert!(count >= 3, "the shipped scenario declares variants");
    let base = solved(&s);
    let mut names = std::collections::BTreeSet::from([s.cast[0].identity.name.clone()]);
    for k in 1..=count {
        let v = variant(&s, k);
        assert_eq!(v.cast.len(), s.cast.len());
        assert_eq!(v.charges, s.charges, "charges keep their structure");
        assert_eq!(v.legal, s.legal);
        assert!(names.insert(v.cast[0].identity.name.clone()), "variant {k} reuses a name");
        assert_ne!(v.cast[0].personas[0].handle, s.cast[0].personas[0].handle);
        let price = |sc: &Scenario| match &sc.cast[0].script[2].action {
            Action::List { listing, .. } => listing.price.0,
            other => panic!("{other:?}"),
        };
        assert_ne!(price(&v), price(&s), "variant {k}");
        assert!(price(&v) * 10 >= price(&s) * 8 && price(&v) * 10 <= price(&s) * 12);
        assert!(v.injects[0].message.contains(&v.cast[0].personas[0].handle), "the inject names the new handle");
        assert_eq!(check(&v), Vec::new(), "variant {k}");
        let sol = solved(&v);
        assert_eq!(sol.steps.len(), base.steps.len());
        assert_eq!(sol.duration, base.duration);
        assert_eq!(sol.difficulty.level, base.difficulty.level);
        let Some(SolutionStep::File(case)) = sol.steps.last() else { panic!() };
        assert_eq!(case.suspects[0].name, v.cast[0].identity.name);
        // The variant's own reference solution names the new suspect and handle.
        let Some(SolutionStep::File(reference)) = v.solution.last() else { panic!() };
        assert_eq!(reference.suspects[0].name, v.cast[0].identity.name);
    }
}

#[test]
fn check_reports_a_variant_problem_with_its_number() {
    let mut s = shipped();
    // Jitter of the cash-out reaching past the world's end in no variant, but a
    // budget the fastest path cannot meet fails the base scenario first.
    s.meta.time_budget = SimDuration::days(1);
    let problems = check(&s);
    assert!(problems.iter().all(|p| !p.message.starts_with("variant")), "{problems:#?}");
    assert_eq!(problems.len(), 1);
}

#[test]
fn the_summary_prints_the_path_and_one_line_per_variant() {
    let text = crate::scenario::summary::summary(&shipped());
    eprintln!("{text}");
    assert!(text.contains("shortest lawful path 4 action(s), 2d4h of a 14d budget, estimated Introductory"), "{text}");
    assert!(text.contains("1. capture profile-greenleaf: vendor profile GreenLeafUK on silk-lane"), "{text}");
    assert_eq!(text.lines().filter(|l| l.trim_start().starts_with("variant ")).count(), 3, "{text}");
    assert!(text.lines().count() <= 38, "{text}");
}

fn keyed() -> Scenario {
    ron::from_str(include_str!("../../../../scenarios/keyed-vendor.ron")).expect("parses")
}

#[test]
fn the_keyed_vendor_solves_through_the_email_in_the_key_the_mailbox_and_the_isp() {
    let s = keyed();
    let sol = solved(&s);
    let lines: Vec<String> = sol.steps.iter().map(describe_step).collect();
    assert_eq!(sol.steps.len(), 4, "{lines:#?}");
    assert!(
        matches!(&sol.steps[1], SolutionStep::Request { provider, target: AddressRef::EmailIn(l), .. }
            if provider.as_str() == "mailbox" && l.as_str() == "profile-greenleaf"),
        "{lines:#?}"
    );
    assert!(
        matches!(&sol.steps[2], SolutionStep::Request { provider, target: AddressRef::IpIn(l), grounds, .. }
            if provider.as_str() == "netline" && l.as_str() == "records-mailbox" && grounds.len() == 2),
        "{lines:#?}"
    );
    assert_eq!(sol.duration, SimDuration(2 * 4 * 3600 + 3 * 86_400), "two 4h rulings, answers in 1d and 2d");
    let Some(SolutionStep::File(case)) = sol.steps.last() else { panic!("{lines:#?}") };
    assert_eq!(case.suspects[0].attribution.len(), 3, "profile, mailbox and ISP records: {case:?}");
    let mut with_path = s.clone();
    with_path.solution = sol.steps.clone();
    assert_eq!(check(&with_path), Vec::new());
}

#[test]
fn a_mailbox_used_over_tor_or_a_key_without_email_leaves_the_keyed_vendor_unattributed() {
    let mut s = keyed();
    s.cast[0].slips.retain(|sl| !matches!(sl.kind, SlipKind::MailboxFromHome(_)));
    let Solvability::Unsolvable { missing, why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(missing.kind, FactKind::LoggedInFrom);
    assert!(why.contains("over Tor") && why.contains("MailboxFromHome"), "{why}");

    let mut s = keyed();
    s.cast[0].slips.retain(|sl| !matches!(sl.kind, SlipKind::EmailInPgpKey(_)));
    let Solvability::Unsolvable { missing, why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(
        missing,
        Fact::new(FactKind::UsesEmail, Entity::Persona("greenleaf".into()), Entity::Email("mark.ellis84@mailbox.example".into()))
    );
    assert!(why.contains("EmailInPgpKey(\"greenleaf\")"), "{why}");
}

#[test]
fn without_an_isp_rule_the_home_line_is_out_of_reach_and_the_judge_wants_the_chain() {
    let mut s = keyed();
    s.legal.rules.retain(|r| r.provider_kind != Some(ProviderKind::Isp));
    let Solvability::Unsolvable { missing, why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(missing.kind, FactKind::IpSubscriber);
    assert!(why.contains("no legal rule"), "{why}");

    let mut s = keyed();
    for r in s.legal.rules.iter_mut().filter(|r| r.provider_kind == Some(ProviderKind::Isp)) {
        r.grounds = Grounds::LinkToOffence { max_hops: 1 };
    }
    let Solvability::Unsolvable { missing, why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(missing.kind, FactKind::IpSubscriber);
    assert!(why.contains("would refuse") && why.contains("1 hop"), "{why}");
}

#[test]
fn a_key_slip_of_a_vendor_whose_mailbox_no_provider_holds_is_reported_unused() {
    let mut s = shipped();
    s.cast[0].slips.push(Slip { id: "key".into(), kind: SlipKind::EmailInPgpKey("greenleaf".into()) });
    let problems = check(&s);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "cast[0].slips[2].kind");
    assert!(problems[0].message.contains("slip `key` reveals no fact a lawful path can use"), "{problems:?}");
}

fn tumbling() -> Scenario {
    ron::from_str(include_str!("../../../../scenarios/tumbling-vendor.ron")).expect("parses")
}

fn twins() -> Scenario {
    ron::from_str(include_str!("../../../../scenarios/twin-vendors.ron")).expect("parses")
}

#[test]
fn the_tumbling_vendor_is_found_by_his_photo_and_his_foreign_records_are_preserved_first() {
    let s = tumbling();
    let sol = solved(&s);
    let lines: Vec<String> = sol.steps.iter().map(describe_step).collect();
    let kinds: Vec<(RequestKind, &str)> = sol
        .steps
        .iter()
        .filter_map(|st| match st {
            SolutionStep::Request { kind, provider, .. } => Some((*kind, provider.as_str())),
            _ => None,
        })
        .collect();
    let preserve = kinds.iter().position(|k| *k == (RequestKind::Preservation, "coinport"));
    let mla = kinds.iter().position(|k| *k == (RequestKind::MutualLegalAssistance, "coinport"));
    assert!(preserve.is_some() && preserve < mla, "preservation served before the request abroad: {lines:#?}");
    assert!(kinds.contains(&(RequestKind::ProductionOrder, "parcelnet")), "{lines:#?}");
    assert!(
        sol.steps.iter().any(
            |st| matches!(st, SolutionStep::Request { target: AddressRef::PlaceIn(_), provider, .. } if provider.as_str() == "parcelnet")
        ),
        "the courier is asked about the photo's place: {lines:#?}"
    );
    // 2h preservation + 4h ruling and 1d answer at the courier + 1d ruling and 7d answer abroad.
    assert_eq!(sol.duration, SimDuration(9 * 86_400 + 6 * 3600), "{lines:#?}");
    assert_eq!(sol.difficulty.level, Difficulty::Intermediate, "{:?}", sol.difficulty);
    assert_eq!(lawful_steps(&sol.steps) - 1, 8, "a preservation is one lawful step (the grant): {lines:#?}");
    let mut with_path = s.clone();
    with_path.solution = sol.steps.clone();
    assert_eq!(check(&with_path), Vec::new());
}

#[test]
fn without_a_preservation_the_foreign_records_are_gone_before_the_answer() {
    let mut s = tumbling();
    s.legal.rules.retain(|r| r.request != RequestKind::Preservation);
    let Solvability::Unsolvable { missing, why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert_eq!(missing.kind, FactKind::DepositAddressOf, "{missing}");
    assert!(why.contains("keeps records for 7d only") && why.contains("Preservation"), "{why}");
    // Long enough a retention and no preservation is needed.
    s.providers[0].retention = SimDuration::days(30);
    let sol = solved(&s);
    assert!(!sol.steps.iter().any(|st| matches!(st, SolutionStep::Request { kind: RequestKind::Preservation, .. })));
    // Records gone before the investigation starts cannot be preserved at all.
    let mut s = tumbling();
    s.providers[0].retention = SimDuration::days(2);
    let Solvability::Unsolvable { why, .. } = solve(&s) else { panic!("{:?}", solve(&s)) };
    assert!(why.contains("before the investigation starts"), "{why}");
}

#[test]
fn a_tumble_before_the_second_cash_out_leaves_only_the_first_on_chain() {
    let facts = crate::scenario::possible::possible_facts(&tumbling());
    let from_payout: Vec<&Fact> =
        facts.iter().filter(|f| f.kind == FactKind::Transfer && f.subject == Entity::Address("payout:daan".into())).collect();
    assert_eq!(from_payout.len(), 1, "{from_payout:?}");
    assert_eq!(
        crate::scenario::possible::deposit_time(&tumbling(), &from_payout[0].object, &"coinport".into()),
        Some(SimDuration::hours(40))
    );
}

#[test]
fn twin_variants_swap_the_traces_and_keep_the_difficulty() {
    let s = twins();
    let base = solved(&s);
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    assert!(count >= 2);
    for k in 1..=count {
        let v = variant(&s, k);
        let sol = solved(&v);
        assert_eq!(sol.difficulty, DifficultyEstimate { reason: sol.difficulty.reason.clone(), ..base.difficulty.clone() }, "variant {k}");
        assert_eq!(sol.steps.len(), base.steps.len(), "variant {k}");
        assert_eq!(sol.duration, base.duration, "variant {k}");
        let bram = v.cast.iter().find(|a| a.id.as_str() == "bram").expect("bram");
        let photographed = bram.slips.iter().any(|sl| matches!(sl.kind, SlipKind::PhotoGps { .. }));
        assert_eq!(photographed, k % 2 == 1, "variant {k}: odd variants give Bram the photo");
        let kingpin = bram.personas[0].handle.clone();
        let photo_of = v.solution.iter().find_map(|st| match st {
            SolutionStep::Capture { target: CaptureTarget::ListingPhoto { handle, .. }, .. } => Some(handle.clone()),
            _ => None,
        });
        assert_eq!(photo_of.as_deref() == Some(kingpin.as_str()), photographed, "variant {k}: its reference solution follows its traces");
        assert_eq!(check(&v), Vec::new(), "variant {k}");
    }
}

#[test]
fn a_variant_that_is_not_as_hard_as_the_scenario_is_a_problem() {
    let mut s = twins();
    assert_eq!(check(&s), Vec::new());
    // Odd variants give Ana the photo too: two photo routes, no mailbox and no home line,
    // a shorter case than variant 0's.
    let spec = s.variants.as_mut().expect("variants");
    let ana = spec.slips.iter_mut().find(|c| c.actor.as_str() == "ana").expect("ana's options");
    ana.options[1] = ana.options[0].clone();
    let base = solved(&s);
    let easier = solved(&variant(&s, 1));
    assert_ne!(easier.difficulty.level, base.difficulty.level, "{:?} vs {:?}", easier.difficulty, base.difficulty);
    let problems = check(&s);
    let p = problems.iter().find(|p| p.path == "variants.slips").unwrap_or_else(|| panic!("{problems:#?}"));
    assert!(p.message.starts_with("variant 1 is estimated") && p.message.contains("equally hard"), "{p:?}");
    // Even variants keep variant 0's traces and its difficulty.
    assert!(!problems.iter().any(|p| p.message.starts_with("variant 2 is estimated")), "{problems:#?}");
}
