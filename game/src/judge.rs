//! The simulated judge: grants or refuses a legal request by the scenario's rules,
//! reasoning only over the facts revealed by the admissible evidence a request cites.
//!
//! Pure: no I/O and no clock. A refusal is a normal outcome (a [`Ruling`] with
//! `granted: false`), never an error, and every ruling says why in words, with the chain
//! of facts it relied on.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sim_core::clock::SimDuration;
use sim_core::facts::{Entity, Fact, FactKind, FactSet};
use sim_core::ids::PersonaId;
use sim_core::scenario::{Grounds, LegalRule, ProviderKind, RequestKind};

/// A request as the judge sees it.
#[derive(Clone, Copy, Debug)]
pub struct RequestForRuling<'a> {
    /// The type of request.
    pub kind: RequestKind,
    /// The kind of provider it is addressed to.
    pub provider_kind: ProviderKind,
    /// What the request is about (e.g. an address).
    pub target: &'a Entity,
    /// The facts revealed by the cited evidence that is admissible.
    pub grounds: &'a FactSet,
    /// How many items of evidence the request cites (admissible or not).
    pub cited: usize,
}

/// The judge's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruling {
    /// Whether the request is granted.
    pub granted: bool,
    /// Why, in words.
    pub reason: String,
    /// The facts that show grounds (empty when none were needed or the request is refused).
    pub chain: Vec<Fact>,
    /// Simulated time the judge takes to rule (zero when no rule applies).
    pub rule_delay: SimDuration,
}

/// The rule that governs a request: same request type and a matching provider kind; a
/// rule for this provider kind beats a rule for any provider; among equals the first wins.
pub fn matching_rule(rules: &[LegalRule], kind: RequestKind, provider_kind: ProviderKind) -> Option<&LegalRule> {
    let applies = |r: &&LegalRule| r.request == kind;
    rules
        .iter()
        .filter(applies)
        .find(|r| r.provider_kind == Some(provider_kind))
        .or_else(|| rules.iter().filter(applies).find(|r| r.provider_kind.is_none()))
}

/// A request type in words ("a production order").
pub fn request_words(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Preservation => "a preservation request",
        RequestKind::ProductionOrder => "a production order",
        RequestKind::SearchWarrant => "a search warrant",
        RequestKind::UndercoverAuthorisation => "an undercover authorisation",
        RequestKind::MutualLegalAssistance => "a mutual legal assistance request",
        RequestKind::SearchAbroad => "a request for search and seizure abroad",
    }
}

/// A provider kind in words ("an exchange").
pub fn provider_words(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Exchange => "an exchange",
        ProviderKind::Isp => "an internet service provider",
        ProviderKind::Email => "an e-mail provider",
        ProviderKind::Hosting => "a hosting provider",
        ProviderKind::Courier => "a courier",
    }
}

/// Facts joined into one sentence: "a offers b; b controls c".
pub fn chain_words(chain: &[Fact]) -> String {
    chain.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Rules on a request.
pub fn rule(rules: &[LegalRule], req: &RequestForRuling) -> Ruling {
    let what = format!("{} to {}", request_words(req.kind), provider_words(req.provider_kind));
    decide(matching_rule(rules, req.kind, req.provider_kind), &what, &Cited { target: req.target, grounds: req.grounds, cited: req.cited })
}

/// What a request cites, as the grounds are weighed.
#[derive(Clone, Copy, Debug)]
pub struct Cited<'a> {
    /// What the request is about.
    pub target: &'a Entity,
    /// The facts revealed by the admissible cited evidence.
    pub grounds: &'a FactSet,
    /// How many items are cited (admissible or not).
    pub cited: usize,
}

/// The rule for an undercover authorisation: addressed to no provider (the team acts on a
/// site itself), so only a rule for any provider applies.
pub fn undercover_rule(rules: &[LegalRule]) -> Option<&LegalRule> {
    rules.iter().find(|r| r.request == RequestKind::UndercoverAuthorisation && r.provider_kind.is_none())
}

/// Rules on an undercover authorisation to act on `site` against `req.target` (a persona).
pub fn rule_undercover(rules: &[LegalRule], site: &str, req: &Cited) -> Ruling {
    let what = format!("{} on {site}", request_words(RequestKind::UndercoverAuthorisation));
    decide(undercover_rule(rules), &what, req)
}

fn decide(rule: Option<&LegalRule>, what: &str, req: &Cited) -> Ruling {
    let Some(rule) = rule else {
        return refused(format!("no rule allows {what}"), SimDuration::default());
    };
    let delay = rule.ruling_delay;
    match rule.grounds {
        Grounds::None => {
            Ruling { granted: true, reason: format!("granted: {what} needs no grounds"), chain: Vec::new(), rule_delay: delay }
        }
        Grounds::LinkToOffence { max_hops } => link_to_offence(req, what, max_hops, delay),
    }
}

fn refused(reason: String, rule_delay: SimDuration) -> Ruling {
    Ruling { granted: false, reason: format!("refused: {reason}"), chain: Vec::new(), rule_delay }
}

fn link_to_offence(req: &Cited, what: &str, max_hops: u32, delay: SimDuration) -> Ruling {
    if req.cited == 0 {
        return refused(format!("no evidence cited; {what} needs evidence linking {} to an offence", req.target), delay);
    }
    let offenders: BTreeSet<&PersonaId> = req
        .grounds
        .iter()
        .filter(|f| f.kind == FactKind::Offers)
        .filter_map(|f| match &f.subject {
            Entity::Persona(p) => Some(p),
            _ => None,
        })
        .collect();
    if offenders.is_empty() {
        return refused("the cited evidence shows no persona offering goods".into(), delay);
    }
    // The target is itself a persona the evidence shows offering goods (an undercover
    // authorisation against a vendor): no chain is needed.
    if let Entity::Persona(t) = req.target
        && let Some(offer) = req.grounds.about(FactKind::Offers, req.target).next()
        && offenders.contains(t)
    {
        return Ruling {
            granted: true,
            reason: format!("granted: {offer} — the cited evidence shows {} offering goods itself", req.target),
            chain: vec![offer.clone()],
            rule_delay: delay,
        };
    }
    let max = usize::try_from(max_hops).unwrap_or(usize::MAX);
    let mut best: Option<(Vec<Fact>, &PersonaId)> = None;
    for p in &offenders {
        if let Some(path) = req.grounds.path(&Entity::Persona((*p).clone()), |e| e == req.target)
            && best.as_ref().is_none_or(|(b, _)| path.len() < b.len())
        {
            best = Some((path, p));
        }
    }
    let hops = |n: usize| if n == 1 { "1 hop".to_string() } else { format!("{n} hops") };
    match best {
        Some((path, p)) if path.len() <= max => {
            let who = Entity::Persona(p.clone());
            let mut chain: Vec<Fact> = req.grounds.about(FactKind::Offers, &who).take(1).cloned().collect();
            chain.extend(path.iter().cloned());
            Ruling {
                granted: true,
                reason: format!(
                    "granted: {} — the cited evidence links an offending persona to {} in {} (at most {} allowed)",
                    chain_words(&chain),
                    req.target,
                    hops(path.len()),
                    hops(max)
                ),
                chain,
                rule_delay: delay,
            }
        }
        Some((path, _)) => refused(
            format!(
                "no chain of facts from an offending persona to {} within {} (the shortest shown takes {})",
                req.target,
                hops(max),
                path.len()
            ),
            delay,
        ),
        None => refused(format!("no chain of facts from an offending persona to {} within {}", req.target, hops(max)), delay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persona() -> Entity {
        Entity::Persona("greenleaf".into())
    }
    fn addr(s: &str) -> Entity {
        Entity::Address(s.into())
    }
    fn rules() -> Vec<LegalRule> {
        vec![
            LegalRule {
                request: RequestKind::ProductionOrder,
                provider_kind: None,
                grounds: Grounds::None,
                ruling_delay: SimDuration::hours(1),
            },
            LegalRule {
                request: RequestKind::ProductionOrder,
                provider_kind: Some(ProviderKind::Exchange),
                grounds: Grounds::LinkToOffence { max_hops: 3 },
                ruling_delay: SimDuration::hours(4),
            },
        ]
    }
    fn offers() -> Fact {
        Fact::new(FactKind::Offers, persona(), Entity::Listing("haze-10g".into()))
    }
    fn chain_facts() -> FactSet {
        [offers(), Fact::new(FactKind::ControlsAddress, persona(), addr("A")), Fact::new(FactKind::Transfer, addr("A"), addr("D"))]
            .into_iter()
            .collect()
    }
    fn ask<'a>(target: &'a Entity, grounds: &'a FactSet, cited: usize) -> RequestForRuling<'a> {
        RequestForRuling { kind: RequestKind::ProductionOrder, provider_kind: ProviderKind::Exchange, target, grounds, cited }
    }

    #[test]
    fn a_chain_from_an_offending_persona_grants_and_is_explained() {
        let (target, grounds) = (addr("D"), chain_facts());
        let r = rule(&rules(), &ask(&target, &grounds, 2));
        assert!(r.granted, "{}", r.reason);
        assert_eq!(r.rule_delay, SimDuration::hours(4), "the exchange-specific rule beats the general one");
        assert_eq!(r.chain.len(), 3);
        assert_eq!(r.chain[0], offers());
        assert!(
            r.reason.contains("persona greenleaf offers listing haze-10g; persona greenleaf controls address A; address A paid address D"),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("2 hops"), "{}", r.reason);
    }

    #[test]
    fn no_evidence_cited_is_refused() {
        let (target, grounds) = (addr("D"), chain_facts());
        let r = rule(&rules(), &ask(&target, &grounds, 0));
        assert!(!r.granted);
        assert!(r.reason.contains("no evidence cited"), "{}", r.reason);
    }

    #[test]
    fn evidence_without_an_offer_is_refused() {
        let target = addr("D");
        let grounds: FactSet =
            [Fact::new(FactKind::ControlsAddress, persona(), addr("A")), Fact::new(FactKind::Transfer, addr("A"), addr("D"))]
                .into_iter()
                .collect();
        let r = rule(&rules(), &ask(&target, &grounds, 1));
        assert!(!r.granted);
        assert!(r.reason.contains("the cited evidence shows no persona offering goods"), "{}", r.reason);
    }

    #[test]
    fn a_chain_too_long_or_missing_is_refused() {
        let mut grounds = chain_facts();
        grounds.insert(Fact::new(FactKind::Transfer, addr("D"), addr("E")));
        grounds.insert(Fact::new(FactKind::Transfer, addr("E"), addr("F")));
        let far = addr("F");
        let r = rule(&rules(), &ask(&far, &grounds, 3));
        assert!(!r.granted);
        assert!(r.reason.contains("no chain of facts from an offending persona to address F within 3 hops"), "{}", r.reason);
        assert!(r.reason.contains("takes 4"), "{}", r.reason);
        let elsewhere = addr("Z");
        let r = rule(&rules(), &ask(&elsewhere, &grounds, 3));
        assert!(!r.granted);
        assert!(r.reason.contains("to address Z within 3 hops"), "{}", r.reason);
    }

    #[test]
    fn general_rules_apply_when_no_specific_one_does_and_missing_rules_refuse() {
        let (target, grounds) = (addr("D"), FactSet::new());
        let r = rule(
            &rules(),
            &RequestForRuling {
                kind: RequestKind::ProductionOrder,
                provider_kind: ProviderKind::Isp,
                target: &target,
                grounds: &grounds,
                cited: 0,
            },
        );
        assert!(r.granted, "Grounds::None grants: {}", r.reason);
        assert_eq!(r.rule_delay, SimDuration::hours(1));
        let r = rule(
            &rules(),
            &RequestForRuling {
                kind: RequestKind::SearchWarrant,
                provider_kind: ProviderKind::Hosting,
                target: &target,
                grounds: &grounds,
                cited: 1,
            },
        );
        assert!(!r.granted);
        assert!(r.reason.contains("no rule allows a search warrant to a hosting provider"), "{}", r.reason);
    }
}
