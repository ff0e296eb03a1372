//! Unit tests of the prosecutor over a scenario mirroring `scenarios/careless-vendor.ron`
//! (built in code: the game crate does not depend on `ron`) and hand-made facts that
//! mirror the real chain.

use super::*;
use crate::case::{ElementClaim, SuspectClaim};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::facts::{EntityKind, FactKind};
use sim_core::ids::Sats;
use sim_core::scenario::*;

const A: &str = "bcrt1qvendorpayout00000000000000000000aaaa";
const D: &str = "bcrt1qcoinbaydeposit0000000000000000dddd";
const ESCROW: &str = "bcrt1qsilklaneescrow00000000000000000eeee";

fn identity(name: &str) -> Identity {
    Identity {
        name: name.into(),
        date_of_birth: "1980-01-01".into(),
        address: "somewhere".into(),
        email: "x@mailbox.example".into(),
        phone: "+0".into(),
        home_ip: "81.2.69.160".into(),
        utc_offset_hours: 0,
        isp: None,
    }
}

fn actor(id: &str, role: Role, name: &str, persona: &str, handle: &str, script: Vec<Step>) -> Actor {
    Actor {
        id: id.into(),
        role,
        identity: identity(name),
        personas: vec![Persona { id: persona.into(), site: "silk-lane".into(), handle: handle.into() }],
        script,
        slips: Vec::new(),
        reactions: Vec::new(),
        habits: Default::default(),
    }
}

fn scenario() -> Scenario {
    let listing = ListingSpec {
        id: "haze-10g".into(),
        title: "Amnesia Haze 10g".into(),
        category: "Drugs/Cannabis/Buds".into(),
        description: String::new(),
        price: Sats(25_000_000),
        ships_from: "United Kingdom".into(),
        ships_to: "Europe".into(),
        stock: 40,
    };
    let list = Step {
        at: SimDuration::minutes(20),
        jitter: SimDuration::default(),
        action: Action::List { persona: "greenleaf".into(), listing },
    };
    Scenario {
        format: 1,
        meta: Meta {
            id: "careless-vendor".into(),
            title: "A careless vendor".into(),
            summary: String::new(),
            difficulty: Difficulty::Introductory,
            learning_goals: Vec::new(),
            debrief: String::new(),
            start: SimTime(1_772_438_400),
            world_duration: SimDuration::days(3),
            time_budget: SimDuration::days(14),
            recommended_duration: SimDuration::hours(3),
            compression: 120,
        },
        network: Network::default(),
        sites: vec![Site {
            id: "silk-lane".into(),
            name: "Silk Lane".into(),
            kind: SiteKind::Market(MarketSite { operator: None, commission_bps: 500, min_confirmations: 1, hosting: None }),
        }],
        coin: Coin {
            block_interval: SimDuration::minutes(10),
            pow_bits: 0x207f_ffff,
            block_reward: Sats(5_000_000_000),
            coinbase_maturity: 10,
            fee_rate: 2,
            initial_funds: Vec::new(),
            eur_cents_per_coin: 3_200_000,
        },
        providers: vec![Provider {
            id: "coinbay".into(),
            name: "CoinBay Exchange".into(),
            kind: ProviderKind::Exchange,
            jurisdiction: Jurisdiction::Domestic,
            retention: SimDuration::days(365),
            response_delay: SimDuration::days(2),
        }],
        cast: vec![
            actor("mark", Role::Vendor, "Mark Ellis", "greenleaf", "GreenLeafUK", vec![list]),
            actor("buyer-1", Role::Buyer, "Jana Novak", "nightowl", "nightowl", Vec::new()),
            actor("buyer-2", Role::Buyer, "Piet de Vries", "kestrel", "kestrel_22", Vec::new()),
        ],
        legal: Legal { rules: Vec::new() },
        charges: vec![
            Charge {
                id: "supply".into(),
                title: "Supplying controlled drugs".into(),
                offender: "mark".into(),
                elements: vec![Element {
                    id: "offered".into(),
                    description: "offered a controlled drug for sale".into(),
                    proven_by: Proof::Fact { kind: FactKind::Offers, persona: "greenleaf".into() },
                }],
            },
            Charge {
                id: "laundering".into(),
                title: "Money laundering".into(),
                offender: "mark".into(),
                elements: vec![Element {
                    id: "cashed-out".into(),
                    description: "moved the proceeds of the sales into an exchange account".into(),
                    proven_by: Proof::Link { persona: "greenleaf".into(), to: EntityKind::Account, provider: Some("coinbay".into()) },
                }],
            },
        ],
        rubric: Rubric {
            step: 2,
            max_steps: 5,
            attribution: 30,
            element: 20,
            circumstantial_percent: 50,
            wrong_accusation: -60,
            inadmissible: -5,
            refused_request: -3,
            lateness: Lateness::default(),
        },
        injects: Vec::new(),
        hints: Vec::new(),
        variants: None,
        solution: Vec::new(),
        population: None,
    }
}

fn gl() -> Entity {
    Entity::Persona("greenleaf".into())
}
fn addr(s: &str) -> Entity {
    Entity::Address(s.into())
}
fn account() -> Entity {
    Entity::Account("coinbay".into(), "mellis84".into())
}
fn direct(facts: Vec<Fact>) -> EvidenceAssessment {
    EvidenceAssessment {
        admissibility: Admissibility::Admissible,
        facts: facts.into_iter().map(|fact| RevealedFact { fact, strength: Strength::Direct }).collect(),
    }
}

/// E1 profile, E2 payouts, E3 cash-out transaction, E4 exchange records.
fn evidence() -> BTreeMap<EvidenceId, EvidenceAssessment> {
    BTreeMap::from([
        (
            "E1".into(),
            direct(vec![
                Fact::new(FactKind::Offers, gl(), Entity::Listing("haze-10g".into())),
                Fact::new(FactKind::ControlsAddress, gl(), addr(A)),
            ]),
        ),
        ("E2".into(), direct(vec![Fact::new(FactKind::Transfer, addr(ESCROW), addr(A))])),
        ("E3".into(), direct(vec![Fact::new(FactKind::Transfer, addr(A), addr(D))])),
        (
            "E4".into(),
            direct(vec![
                Fact::new(FactKind::DepositAddressOf, addr(D), account()),
                Fact::new(FactKind::AccountHolder, account(), Entity::Identity("mark".into())),
            ]),
        ),
    ])
}

fn ids(list: &[&str]) -> Vec<EvidenceId> {
    list.iter().map(|s| EvidenceId::from(*s)).collect()
}

/// The reference solution's case.
fn reference_case(name: &str) -> CaseFile {
    CaseFile {
        suspects: vec![SuspectClaim {
            name: name.into(),
            personas: vec![PersonaRef { site: "silk-lane".into(), handle: "GreenLeafUK".into() }],
            attribution: ids(&["E1", "E3", "E4"]),
            charges: vec![
                ChargeClaim { charge: "supply".into(), elements: vec![ElementClaim { element: "offered".into(), evidence: ids(&["E1"]) }] },
                ChargeClaim {
                    charge: "laundering".into(),
                    elements: vec![ElementClaim { element: "cashed-out".into(), evidence: ids(&["E1", "E2", "E3", "E4"]) }],
                },
            ],
        }],
    }
}

fn run(case: &CaseFile, evidence: &BTreeMap<EvidenceId, EvidenceAssessment>) -> Verdict {
    let sc = scenario();
    assess(&CaseInput {
        scenario: &sc,
        team: "blue",
        case,
        evidence,
        lawful_steps: 5,
        refused_requests: 0,
        hints_taken: &[],
        filed_at: deadline(&sc),
    })
}

fn element<'v>(v: &'v Verdict, id: &str) -> &'v ElementVerdict {
    v.suspects.iter().flat_map(|s| s.elements.iter()).find(|e| e.element.as_str() == id).unwrap()
}

#[test]
fn the_reference_case_scores_full_marks() {
    let v = run(&reference_case("Mark Ellis"), &evidence());
    assert_eq!((v.score, v.max_score), (80, 80), "{}", v.render_text());
    assert_eq!(v.max_score, max_score(&scenario()));
    assert_eq!(v.categories["steps"], 10);
    assert_eq!(v.categories["attribution"], 30);
    assert_eq!(v.categories["elements"], 40);
    assert_eq!(v.categories["penalties"], 0);
    assert!(v.excluded.is_empty() && v.missed.is_empty(), "{v:?}");
    let a = &v.suspects[0].attributions[0];
    assert!(a.correct);
    assert!(a.explanation.contains("GreenLeafUK on Silk Lane controls address"), "{}", a.explanation);
    assert!(a.explanation.contains("is held by Mark Ellis (E4)"), "{}", a.explanation);
    let offered = element(&v, "offered");
    assert!(offered.proven);
    assert_eq!(offered.explanation, "proven: GreenLeafUK on Silk Lane offers listing \"Amnesia Haze 10g\" (E1)");
    assert!(element(&v, "cashed-out").explanation.contains("account mellis84 at CoinBay Exchange (E4)"));
}

#[test]
fn names_match_case_insensitively_and_trimmed() {
    let v = run(&reference_case("  mark   ELLIS "), &evidence());
    assert_eq!(v.score, 80, "{}", v.render_text());
}

#[test]
fn inadmissible_evidence_is_excluded_its_element_fails_and_it_costs() {
    let mut case = reference_case("Mark Ellis");
    case.suspects[0].charges[0].elements[0].evidence = ids(&["E5"]);
    let mut ev = evidence();
    ev.insert(
        "E5".into(),
        EvidenceAssessment {
            admissibility: Admissibility::Inadmissible("E5: artifact hash does not match the ledger".into()),
            facts: Vec::new(),
        },
    );
    let v = run(&case, &ev);
    assert_eq!(v.excluded, vec![(EvidenceId::from("E5"), "artifact hash does not match the ledger".to_string())]);
    let offered = element(&v, "offered");
    assert!(!offered.proven);
    assert!(offered.explanation.contains("E5 (artifact hash does not match the ledger)"), "{}", offered.explanation);
    assert_eq!(v.score, 80 - 20 - 5, "{}", v.render_text());
    assert_eq!(v.categories["penalties"], -5);
    assert!(v.missed.iter().any(|m| m.contains("offered")), "{:?}", v.missed);
}

#[test]
fn unknown_evidence_is_excluded_too() {
    let mut case = reference_case("Mark Ellis");
    case.suspects[0].attribution.push("E99".into());
    let v = run(&case, &evidence());
    assert_eq!(v.excluded, vec![(EvidenceId::from("E99"), "not in the team's ledger".to_string())]);
    assert_eq!(v.score, 75);
}

#[test]
fn a_broken_attribution_chain_earns_nothing_and_says_what_is_missing() {
    let mut ev = evidence();
    ev.insert(
        "E4".into(),
        EvidenceAssessment {
            admissibility: Admissibility::Inadmissible("E4: provider record obtained without a granted order".into()),
            facts: Vec::new(),
        },
    );
    let v = run(&reference_case("Mark Ellis"), &ev);
    let a = &v.suspects[0].attributions[0];
    assert!(!a.correct);
    assert!(a.explanation.contains("only as far as address bcrt1qcoinbaydeposit"), "{}", a.explanation);
    assert!(a.explanation.contains("E4 (provider record obtained without a granted order)"), "{}", a.explanation);
    assert!(element(&v, "offered").explanation.contains("does not prove that GreenLeafUK on Silk Lane is Mark Ellis"));
    assert_eq!(v.score, 10 - 5, "{}", v.render_text());
    assert!(v.missed.iter().any(|m| m == "GreenLeafUK on Silk Lane was not attributed to Mark Ellis"), "{:?}", v.missed);
}

#[test]
fn accusing_the_wrong_person_costs_and_earns_nothing() {
    let v = run(&reference_case("Piet de Vries"), &evidence());
    let s = &v.suspects[0];
    let why = s.wrong_accusation.as_deref().unwrap();
    assert!(why.contains("GreenLeafUK on Silk Lane is not Piet de Vries"), "{why}");
    assert!(why.contains("Piet de Vries did not commit \"Supplying controlled drugs\""), "{why}");
    assert_eq!(v.categories["attribution"], 0);
    assert_eq!(v.categories["elements"], 0);
    assert_eq!(v.categories["penalties"], -60);
    assert_eq!(v.score, 10 - 60);
    assert_eq!(s.elements.len(), 2);
    assert!(s.elements.iter().all(|e| !e.proven));
    assert!(v.missed.iter().any(|m| m.starts_with("Mark Ellis was not charged")), "{:?}", v.missed);
}

#[test]
fn accusing_nobody_or_charging_the_wrong_person_is_a_wrong_accusation_once() {
    let v = run(&reference_case("John Doe"), &evidence());
    assert!(v.suspects[0].wrong_accusation.as_deref().unwrap().contains("no one named John Doe"));
    assert_eq!(v.categories["penalties"], -60);
    let mut case = reference_case("Piet de Vries");
    case.suspects[0].personas = vec![PersonaRef { site: "silk-lane".into(), handle: "kestrel_22".into() }];
    let v = run(&case, &evidence());
    let why = v.suspects[0].wrong_accusation.as_deref().unwrap();
    assert!(why.contains("did not commit \"Money laundering\"") && !why.contains("is not Piet"), "{why}");
    assert_eq!(v.categories["penalties"], -60);
}

#[test]
fn circumstantial_facts_earn_the_reduced_points() {
    let mut ev = evidence();
    let e4 = ev.get_mut(&EvidenceId::from("E4")).unwrap();
    e4.facts[0].strength = Strength::Circumstantial;
    let v = run(&reference_case("Mark Ellis"), &ev);
    let cashed = element(&v, "cashed-out");
    assert!(cashed.proven);
    assert_eq!(cashed.points, 10);
    assert!(cashed.explanation.contains("circumstantial evidence only, so 50%"), "{}", cashed.explanation);
    assert_eq!(v.score, 70);
}

#[test]
fn an_element_without_a_chain_fails_and_missing_charges_are_listed() {
    let mut case = reference_case("Mark Ellis");
    case.suspects[0].charges[1].elements[0].evidence = ids(&["E1", "E2"]);
    case.suspects[0].charges.remove(0);
    let v = run(&case, &evidence());
    let cashed = element(&v, "cashed-out");
    assert!(!cashed.proven);
    assert!(
        cashed.explanation.contains("no chain of facts from GreenLeafUK on Silk Lane to an account at CoinBay Exchange"),
        "{}",
        cashed.explanation
    );
    assert!(v.missed.contains(&"\"Supplying controlled drugs\" was not brought against Mark Ellis".to_string()), "{:?}", v.missed);
    assert_eq!(v.score, 10 + 30);
}

#[test]
fn steps_are_capped_and_refusals_cost() {
    let sc = scenario();
    let case = reference_case("Mark Ellis");
    let ev = evidence();
    let v = assess(&CaseInput {
        scenario: &sc,
        team: "blue",
        case: &case,
        evidence: &ev,
        lawful_steps: 12,
        refused_requests: 2,
        hints_taken: &[],
        filed_at: sc.meta.start,
    });
    assert_eq!(v.categories["steps"], 10);
    assert_eq!(v.categories["penalties"], -6);
    assert_eq!(v.score, 74);
}

#[test]
fn lateness_costs_per_started_hour_up_to_the_cap_and_is_explained() {
    let mut sc = scenario();
    sc.rubric.lateness = Lateness { per_hour: -2, max: -20 };
    let case = reference_case("Mark Ellis");
    let ev = evidence();
    let at = |sc: &Scenario, late: i64| {
        assess(&CaseInput {
            scenario: sc,
            team: "blue",
            case: &case,
            evidence: &ev,
            lawful_steps: 5,
            refused_requests: 0,
            hints_taken: &[],
            filed_at: deadline(sc).plus(SimDuration::secs(late)),
        })
    };
    let on_time = at(&sc, 0);
    assert_eq!(on_time.score, on_time.max_score);
    assert_eq!(on_time.lateness, None);
    assert_eq!(on_time.categories["lateness"], 0);
    let one = at(&sc, 1);
    assert_eq!(one.categories["lateness"], -2, "a second late is a started hour");
    let two_and_a_half = at(&sc, 2 * 3600 + 1800);
    assert_eq!(two_and_a_half.categories["lateness"], -6);
    assert_eq!(two_and_a_half.score, on_time.score - 6);
    let why = two_and_a_half.lateness.clone().unwrap();
    assert!(why.contains("2h30m after the deadline") && why.contains("3 started hour(s) × 2 points = -6"), "{why}");
    assert!(two_and_a_half.render_text().contains("Late filing: filed at"));
    let days = at(&sc, 3 * 86_400);
    assert_eq!(days.categories["lateness"], -20, "capped at the rubric's maximum");
    assert!(days.lateness.unwrap().contains("capped at 20"));
    sc.rubric.lateness = Lateness::default();
    assert_eq!(at(&sc, 3 * 86_400).categories["lateness"], 0, "no lateness rule: lateness is free");
}

#[test]
fn rendering_mentions_every_element_and_the_score() {
    let v = run(&reference_case("Mark Ellis"), &evidence());
    let text = v.render_text();
    for needle in ["offered", "offered a controlled drug for sale", "cashed-out", "Money laundering", "GreenLeafUK", "Score: 80 / 80"] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let mut case = reference_case("Mark Ellis");
    case.suspects[0].charges.clear();
    let text = run(&case, &evidence()).render_text();
    assert!(text.contains("offered") && text.contains("cashed-out"), "{text}");
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), v);
}
