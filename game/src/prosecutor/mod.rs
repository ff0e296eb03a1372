//! The simulated prosecutor: checks a team's case file against the facts its admissible
//! evidence reveals and the scenario's ground truth, and scores it element by element.
//!
//! [`assess`] is pure — no I/O, no clock. The lab decides each cited item's admissibility
//! (hash check, custody, authority) and the facts it reveals, and passes them in as
//! [`EvidenceAssessment`]s. The rules:
//!
//! - Cited evidence that is unknown or inadmissible is excluded, with the reason; each
//!   such item costs `rubric.inadmissible` once.
//! - A suspect is wrongly accused when the claimed name is nobody in the case, or is not
//!   the real person behind a claimed persona, or did not commit a claimed charge. That
//!   costs `rubric.wrong_accusation` once, and the court then considers nothing else of
//!   that claim.
//! - A persona is attributed when it is the named person's AND the admissible attribution
//!   evidence shows a chain of facts from the persona to the person's identity. Points
//!   go to each (offender, persona) pair some charge turns on, once.
//! - An element counts only against a charge's real offender, and only through a persona
//!   the case attributes (with a proving chain) to that suspect; it is proven by the
//!   admissible evidence cited for that element alone. All-direct facts earn
//!   `rubric.element`; otherwise `circumstantial_percent` of it.
//! - Lawful steps earn `rubric.step` each up to `max_steps`; refused requests cost
//!   `rubric.refused_request` each. Penalties are applied as negative whatever their sign
//!   in the rubric.
//! - A case filed after the time budget (`meta.start + world_duration + time_budget`)
//!   costs `rubric.lateness.per_hour` for each started simulated hour it is late, at most
//!   `rubric.lateness.max` in all (category `lateness`, explained in [`Verdict::lateness`]).
//! - Each tip-off the team caused (a member of the cast noticed the investigation through
//!   one of its undercover accounts) costs `rubric.tip_off` (category `tip-offs`, each
//!   explained in [`Verdict::tip_offs`], with what it led to — a suspect who left the
//!   country must now be arrested abroad).

mod render;
mod report;
mod words;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::facts::{Entity, Fact, FactSet};
use sim_core::ids::{ActorId, ChargeId, ElementId, HintId, PersonaId};
use sim_core::scenario::{Actor, Charge, Element, Persona, Proof, Rubric, Scenario};

use crate::case::{CaseFile, ChargeClaim, PersonaRef, SuspectClaim};
use crate::ledger::EvidenceId;
use words::Words;

/// Whether the court may consider a piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Admissibility {
    /// It may.
    Admissible,
    /// It may not, for this reason (e.g. "E4: artifact hash does not match the ledger").
    Inadmissible(String),
}

/// How directly a piece of evidence shows a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Strength {
    /// The artifact itself records the fact.
    Direct,
    /// The fact is inferred from the artifact.
    Circumstantial,
}

/// A fact a piece of evidence reveals, and how directly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RevealedFact {
    /// The fact.
    pub fact: Fact,
    /// How directly the evidence shows it.
    pub strength: Strength,
}

/// What the lab found about one cited piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceAssessment {
    /// Whether the court may consider it.
    pub admissibility: Admissibility,
    /// The facts it reveals.
    pub facts: Vec<RevealedFact>,
}

/// Everything the prosecutor needs to assess one team's case.
#[derive(Clone, Copy, Debug)]
pub struct CaseInput<'a> {
    /// The scenario: charges, rubric and the cast (ground truth).
    pub scenario: &'a Scenario,
    /// The team's name.
    pub team: &'a str,
    /// The case the team filed.
    pub case: &'a CaseFile,
    /// The lab's assessment of the evidence the case cites.
    pub evidence: &'a BTreeMap<EvidenceId, EvidenceAssessment>,
    /// Investigative steps completed lawfully.
    pub lawful_steps: u32,
    /// Legal requests the judge refused.
    pub refused_requests: u32,
    /// Hints the team took; each costs what the scenario says.
    pub hints_taken: &'a [HintId],
    /// When the case was filed (simulated), for the lateness penalty.
    pub filed_at: SimTime,
    /// The tip-offs the team caused, each explained; each costs `rubric.tip_off`.
    pub tip_offs: &'a [String],
    /// What the tip-offs led to that the court must know (costs nothing more).
    pub tip_off_consequences: &'a [String],
}

/// The court's assessment of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    /// The team.
    pub team: String,
    /// Points scored.
    pub score: i64,
    /// Points a full case scores.
    pub max_score: i64,
    /// Points by category: `steps`, `attribution`, `elements`, `penalties`.
    pub categories: BTreeMap<String, i64>,
    /// One verdict per suspect claim, in the case's order.
    pub suspects: Vec<SuspectVerdict>,
    /// Cited evidence the court did not consider, and why.
    pub excluded: Vec<(EvidenceId, String)>,
    /// What a full case would have contained that this one lacks.
    pub missed: Vec<String>,
    /// How late the case was filed and what it cost; `None` when on time.
    #[serde(default)]
    pub lateness: Option<String>,
    /// The tip-offs the team caused and what each cost, then what they led to.
    #[serde(default)]
    pub tip_offs: Vec<String>,
}

/// The verdict on one suspect claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SuspectVerdict {
    /// The name the team claimed.
    pub name: String,
    /// Why the accusation is wrong, if it is.
    pub wrong_accusation: Option<String>,
    /// One verdict per claimed persona.
    pub attributions: Vec<AttributionVerdict>,
    /// One verdict per element of each claimed charge.
    pub elements: Vec<ElementVerdict>,
    /// Other remarks (unknown charges, repeated claims, …).
    pub notes: Vec<String>,
    /// Points this claim earned (negative for a wrong accusation).
    pub points: i64,
}

/// The verdict on one claimed persona.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttributionVerdict {
    /// The persona as the team named it.
    pub persona: PersonaRef,
    /// Whether the attribution is right and proven.
    pub correct: bool,
    /// Points earned.
    pub points: i64,
    /// Why, citing evidence and the chain of facts.
    pub explanation: String,
}

/// The verdict on one element of a charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ElementVerdict {
    /// The charge.
    pub charge: ChargeId,
    /// The charge's title.
    pub charge_title: String,
    /// The element.
    pub element: ElementId,
    /// What the element means.
    pub description: String,
    /// Whether it is proven.
    pub proven: bool,
    /// Points earned.
    pub points: i64,
    /// Why, citing evidence and the chain of facts.
    pub explanation: String,
}

/// Assesses a case: resolves each claim, checks it against the facts its admissible
/// evidence reveals, and scores it.
pub fn assess(input: &CaseInput) -> Verdict {
    let sc = input.scenario;
    let r = &sc.rubric;
    let words = Words::new(sc);

    let mut excluded: BTreeMap<EvidenceId, String> = BTreeMap::new();
    for id in input.case.cited() {
        match input.evidence.get(&id) {
            None => {
                excluded.insert(id, "not in the team's ledger".into());
            }
            Some(EvidenceAssessment { admissibility: Admissibility::Inadmissible(why), .. }) => {
                let prefix = format!("{id}: ");
                let why = why.strip_prefix(&prefix).unwrap_or(why).to_string();
                excluded.insert(id, why);
            }
            Some(_) => {}
        }
    }

    let needed = needed_pairs(sc);
    let mut ctx = Ctx { input, words, excluded: &excluded, needed: &needed, tally: Tally::default() };
    let suspects: Vec<SuspectVerdict> = input.case.suspects.iter().map(|s| ctx.suspect(s)).collect();
    let missed = ctx.missed();
    let Ctx { tally, .. } = ctx;

    let steps = i64::from(input.lawful_steps.min(r.max_steps)) * r.step;
    let excluded_count = i64::try_from(excluded.len()).unwrap_or(i64::MAX);
    let penalties = i64::from(tally.wrong) * -r.wrong_accusation.abs()
        + excluded_count * -r.inadmissible.abs()
        + i64::from(input.refused_requests) * -r.refused_request.abs();
    let lateness = lateness(sc, input.filed_at);
    let tip_off_cost = i64::try_from(input.tip_offs.len()).unwrap_or(i64::MAX).saturating_mul(r.tip_off.abs());
    let mut tip_offs: Vec<String> = input.tip_offs.iter().map(|t| format!("{t}: -{}", r.tip_off.abs())).collect();
    tip_offs.extend(input.tip_off_consequences.iter().cloned());
    let categories: BTreeMap<String, i64> = [
        ("steps".to_string(), steps),
        ("attribution".to_string(), tally.attribution),
        ("elements".to_string(), tally.elements),
        ("penalties".to_string(), penalties),
        ("hints".to_string(), -hint_cost(sc, input.hints_taken)),
        ("lateness".to_string(), -lateness.as_ref().map_or(0, |(cost, _)| *cost)),
        ("tip-offs".to_string(), -tip_off_cost),
    ]
    .into_iter()
    .collect();
    Verdict {
        team: input.team.to_string(),
        score: categories.values().sum(),
        max_score: max_score(sc),
        categories,
        suspects,
        excluded: excluded.into_iter().collect(),
        missed,
        lateness: lateness.map(|(_, why)| why),
        tip_offs,
    }
}

/// When the investigation's time budget ends: cases filed later are late.
pub fn deadline(sc: &Scenario) -> SimTime {
    sc.meta.start.plus(sc.meta.world_duration).plus(sc.meta.time_budget)
}

/// What filing at `filed_at` costs (positive points) and why, or `None` when on time or
/// when the rubric charges nothing for lateness.
pub fn lateness(sc: &Scenario, filed_at: SimTime) -> Option<(i64, String)> {
    let due = deadline(sc);
    let late = filed_at.since(due).as_secs();
    let rule = &sc.rubric.lateness;
    if late <= 0 || rule.per_hour == 0 {
        return None;
    }
    let hours = (late + 3599) / 3600;
    let uncapped = hours.saturating_mul(rule.per_hour.abs());
    let cost = if rule.max == 0 { uncapped } else { uncapped.min(rule.max.abs()) };
    let mut why = format!(
        "filed at {filed_at}, {} after the deadline of {due}: {hours} started hour(s) × {} points",
        SimDuration(late),
        rule.per_hour.abs()
    );
    if cost < uncapped {
        why.push_str(&format!(", capped at {cost}"));
    }
    why.push_str(&format!(" = -{cost}"));
    Some((cost, why))
}

/// What the hints a team took cost, in points (positive).
pub fn hint_cost(sc: &Scenario, taken: &[HintId]) -> i64 {
    taken.iter().filter_map(|id| sc.hints.iter().find(|h| &h.id == id)).map(|h| h.cost.abs()).sum()
}

/// The score of a full case: all steps, every (offender, persona) pair a charge turns on
/// attributed, every element proven by direct evidence.
pub fn max_score(scenario: &Scenario) -> i64 {
    let r: &Rubric = &scenario.rubric;
    let pairs = i64::try_from(needed_pairs(scenario).len()).unwrap_or(i64::MAX);
    let elements = i64::try_from(scenario.charges.iter().map(|c| c.elements.len()).sum::<usize>()).unwrap_or(i64::MAX);
    r.step * i64::from(r.max_steps) + r.attribution * pairs + r.element * elements
}

fn proof_persona(e: &Element) -> &PersonaId {
    match &e.proven_by {
        Proof::Fact { persona, .. } | Proof::Link { persona, .. } => persona,
    }
}

/// The (offender, persona) pairs the charges' proofs turn on.
fn needed_pairs(sc: &Scenario) -> BTreeSet<(ActorId, PersonaId)> {
    sc.charges.iter().flat_map(|c| c.elements.iter().map(|e| (c.offender.clone(), proof_persona(e).clone()))).collect()
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Points and what was established, across the whole case.
#[derive(Default)]
struct Tally {
    attribution: i64,
    elements: i64,
    wrong: u32,
    /// Pairs whose attribution points were given.
    awarded: BTreeSet<(ActorId, PersonaId)>,
    /// Pairs correctly attributed with a proving chain.
    attributed: BTreeSet<(ActorId, PersonaId)>,
    /// Charges brought against their offender.
    brought: BTreeSet<ChargeId>,
    /// Elements proven.
    proven: BTreeSet<(ChargeId, ElementId)>,
}

struct Ctx<'a> {
    input: &'a CaseInput<'a>,
    words: Words<'a>,
    excluded: &'a BTreeMap<EvidenceId, String>,
    needed: &'a BTreeSet<(ActorId, PersonaId)>,
    tally: Tally,
}

/// The facts revealed by some cited evidence, admissible items only.
struct Pool {
    all: FactSet,
    direct: FactSet,
    sources: BTreeMap<Fact, Vec<EvidenceId>>,
    /// Remarks on cited items left out.
    left_out: Vec<String>,
}

impl Pool {
    /// Describes how far the facts follow `from`: the farthest entity reachable, or nothing.
    fn reach(&self, from: &Entity, words: &Words) -> String {
        let mut depth: BTreeMap<&Entity, usize> = BTreeMap::from([(from, 0)]);
        let mut queue = VecDeque::from([from]);
        let mut farthest: Option<(&Entity, usize)> = None;
        while let Some(at) = queue.pop_front() {
            let d = depth.get(at).copied().unwrap_or(0);
            for f in self.all.iter().filter(|f| &f.subject == at) {
                if !depth.contains_key(&f.object) {
                    depth.insert(&f.object, d + 1);
                    queue.push_back(&f.object);
                    if farthest.is_none_or(|(_, fd)| d + 1 > fd) {
                        farthest = Some((&f.object, d + 1));
                    }
                }
            }
        }
        match farthest {
            None => format!("it shows nothing about {}", words.entity(from)),
            Some((to, _)) => {
                let chain = self.all.path(from, |e| e == to).unwrap_or_default();
                format!("it follows {} only as far as {}: {}", words.entity(from), words.entity(to), words.chain(&chain, &self.sources))
            }
        }
    }

    fn left_out_note(&self) -> String {
        if self.left_out.is_empty() { String::new() } else { format!(" Not considered: {}.", self.left_out.join("; ")) }
    }
}

impl<'a> Ctx<'a> {
    fn pool(&self, ids: &[EvidenceId]) -> Pool {
        let mut pool = Pool { all: FactSet::new(), direct: FactSet::new(), sources: BTreeMap::new(), left_out: Vec::new() };
        let mut seen = BTreeSet::new();
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            if let Some(why) = self.excluded.get(id) {
                pool.left_out.push(format!("{id} ({why})"));
                continue;
            }
            let Some(a) = self.input.evidence.get(id) else { continue };
            for rf in &a.facts {
                pool.all.insert(rf.fact.clone());
                if rf.strength == Strength::Direct {
                    pool.direct.insert(rf.fact.clone());
                }
                let src = pool.sources.entry(rf.fact.clone()).or_default();
                if !src.contains(id) {
                    src.push(id.clone());
                }
            }
        }
        pool
    }

    fn resolve_persona(&self, r: &PersonaRef) -> Option<(&'a Persona, &'a Actor)> {
        let handle = normalise(&r.handle);
        self.input
            .scenario
            .cast
            .iter()
            .find_map(|a| a.personas.iter().find(|p| p.site == r.site && normalise(&p.handle) == handle).map(|p| (p, a)))
    }

    fn charge(&self, id: &ChargeId) -> Option<&'a Charge> {
        self.input.scenario.charges.iter().find(|c| &c.id == id)
    }

    fn suspect(&mut self, claim: &SuspectClaim) -> SuspectVerdict {
        let sc = self.input.scenario;
        let name = claim.name.trim().to_string();
        let wanted = normalise(&name);
        let actor = sc.cast.iter().find(|a| normalise(&a.identity.name) == wanted);
        let mut personas: Vec<&PersonaRef> = Vec::new();
        for p in &claim.personas {
            if !personas.contains(&p) {
                personas.push(p);
            }
        }

        let mut wrong: Vec<String> = Vec::new();
        match actor {
            None => wrong.push(format!("no one named {name} is behind any persona in this case")),
            Some(a) => {
                for p in &personas {
                    if let Some((persona, owner)) = self.resolve_persona(p)
                        && owner.id != a.id
                    {
                        wrong.push(format!("{} is not {name}", self.words.entity(&Entity::Persona(persona.id.clone()))));
                    }
                }
                for cc in &claim.charges {
                    if let Some(c) = self.charge(&cc.charge)
                        && c.offender != a.id
                    {
                        wrong.push(format!("{name} did not commit \"{}\"", c.title));
                    }
                }
            }
        }
        match actor {
            Some(a) if wrong.is_empty() => self.rightly_accused(claim, &name, a, &personas),
            _ => self.wrongly_accused(claim, name, &personas, wrong),
        }
    }

    fn wrongly_accused(&mut self, claim: &SuspectClaim, name: String, personas: &[&PersonaRef], wrong: Vec<String>) -> SuspectVerdict {
        let penalty = -self.input.scenario.rubric.wrong_accusation.abs();
        self.tally.wrong += 1;
        let why = format!("wrong accusation: {}; the court considers nothing else in this claim", wrong.join("; "));
        let attributions = personas
            .iter()
            .map(|p| AttributionVerdict {
                persona: (*p).clone(),
                correct: false,
                points: 0,
                explanation: format!("not considered: {p} is not shown to be {name}"),
            })
            .collect();
        let mut elements = Vec::new();
        let mut notes = Vec::new();
        for cc in &claim.charges {
            let Some(c) = self.charge(&cc.charge) else {
                notes.push(format!("there is no charge {}", cc.charge));
                continue;
            };
            for e in &c.elements {
                elements.push(ElementVerdict {
                    charge: c.id.clone(),
                    charge_title: c.title.clone(),
                    element: e.id.clone(),
                    description: e.description.clone(),
                    proven: false,
                    points: 0,
                    explanation: format!("not considered: the accusation against {name} is wrong"),
                });
            }
        }
        SuspectVerdict { name, wrong_accusation: Some(why), attributions, elements, notes, points: penalty }
    }

    fn rightly_accused(&mut self, claim: &SuspectClaim, name: &str, actor: &Actor, personas: &[&PersonaRef]) -> SuspectVerdict {
        let r = &self.input.scenario.rubric;
        let mut notes = Vec::new();
        let mut points = 0;
        let pool = self.pool(&claim.attribution);
        if claim.attribution.is_empty() && !personas.is_empty() {
            notes.push("no attribution evidence was cited".to_string());
        }
        let identity = Entity::Identity(actor.id.clone());
        let mut claimed: BTreeSet<PersonaId> = BTreeSet::new();
        let mut proven: BTreeSet<PersonaId> = BTreeSet::new();
        let mut attributions = Vec::new();
        for p in personas {
            let Some((persona, _)) = self.resolve_persona(p) else {
                attributions.push(AttributionVerdict {
                    persona: (*p).clone(),
                    correct: false,
                    points: 0,
                    explanation: format!("there is no persona {} on {}", p.handle, self.words.site_name(&p.site)),
                });
                continue;
            };
            claimed.insert(persona.id.clone());
            let who = Entity::Persona(persona.id.clone());
            let shown = self.words.entity(&who);
            let (correct, pts, explanation) = match pool.all.path(&who, |e| e == &identity) {
                Some(chain) => {
                    proven.insert(persona.id.clone());
                    let pair = (actor.id.clone(), persona.id.clone());
                    self.tally.attributed.insert(pair.clone());
                    let mut text = format!("{shown} is {name}: {}", self.words.chain(&chain, &pool.sources));
                    let pts = if !self.needed.contains(&pair) {
                        text.push_str(" (no points: no charge turns on this persona)");
                        0
                    } else if !self.tally.awarded.insert(pair) {
                        text.push_str(" (already counted)");
                        0
                    } else {
                        r.attribution
                    };
                    (true, pts, text)
                }
                None => (
                    false,
                    0,
                    format!(
                        "{shown} is {name}, but the admissible attribution evidence does not show it: no chain of facts leads from {shown} to {name}; {}.{}",
                        pool.reach(&who, &self.words),
                        pool.left_out_note()
                    ),
                ),
            };
            self.tally.attribution += pts;
            points += pts;
            attributions.push(AttributionVerdict { persona: (*p).clone(), correct, points: pts, explanation });
        }

        let mut elements = Vec::new();
        for cc in &claim.charges {
            let Some(charge) = self.charge(&cc.charge) else {
                notes.push(format!("there is no charge {}", cc.charge));
                continue;
            };
            if !self.tally.brought.insert(charge.id.clone()) {
                notes.push(format!("\"{}\" is charged more than once; only the first counts", charge.title));
                continue;
            }
            for e in &cc.elements {
                if !charge.elements.iter().any(|x| x.id == e.element) {
                    notes.push(format!("\"{}\" has no element {}", charge.title, e.element));
                }
            }
            for element in &charge.elements {
                let v = self.element(charge, element, cc, name, &claimed, &proven);
                if v.proven {
                    self.tally.proven.insert((charge.id.clone(), element.id.clone()));
                }
                self.tally.elements += v.points;
                points += v.points;
                elements.push(v);
            }
        }
        SuspectVerdict { name: name.to_string(), wrong_accusation: None, attributions, elements, notes, points }
    }

    fn element(
        &self,
        charge: &Charge,
        element: &Element,
        cc: &ChargeClaim,
        name: &str,
        claimed: &BTreeSet<PersonaId>,
        proven: &BTreeSet<PersonaId>,
    ) -> ElementVerdict {
        let r = &self.input.scenario.rubric;
        let verdict = |proven: bool, points: i64, explanation: String| ElementVerdict {
            charge: charge.id.clone(),
            charge_title: charge.title.clone(),
            element: element.id.clone(),
            description: element.description.clone(),
            proven,
            points,
            explanation,
        };
        let cited: Vec<EvidenceId> =
            cc.elements.iter().filter(|e| e.element == element.id).flat_map(|e| e.evidence.iter().cloned()).collect();
        if cited.is_empty() {
            return verdict(false, 0, "no evidence was cited for this element".into());
        }
        let persona = proof_persona(element);
        let who = Entity::Persona(persona.clone());
        let shown = self.words.entity(&who);
        if !proven.contains(persona) {
            let why = if claimed.contains(persona) {
                format!("the element turns on {shown}, but the case does not prove that {shown} is {name}")
            } else {
                format!("the element turns on {shown}, which the case does not attribute to {name}")
            };
            return verdict(false, 0, why);
        }
        let pool = self.pool(&cited);
        let found: Option<(Vec<Fact>, Strength)> = match &element.proven_by {
            Proof::Fact { kind, .. } => pool
                .direct
                .about(*kind, &who)
                .next()
                .map(|f| (vec![f.clone()], Strength::Direct))
                .or_else(|| pool.all.about(*kind, &who).next().map(|f| (vec![f.clone()], Strength::Circumstantial))),
            Proof::Link { to, provider, .. } => {
                let goal = |e: &Entity| {
                    e.kind() == *to
                        && match (e, provider) {
                            (Entity::Account(q, _), Some(p)) => q == p,
                            _ => true,
                        }
                };
                pool.direct
                    .path(&who, goal)
                    .map(|c| (c, Strength::Direct))
                    .or_else(|| pool.all.path(&who, goal).map(|c| (c, Strength::Circumstantial)))
            }
        };
        match found {
            Some((facts, strength)) => {
                let mut text = format!("proven: {}", self.words.chain(&facts, &pool.sources));
                let points = match strength {
                    Strength::Direct => r.element,
                    Strength::Circumstantial => {
                        text.push_str(&format!(" — circumstantial evidence only, so {}% of the points", r.circumstantial_percent));
                        r.element * i64::from(r.circumstantial_percent) / 100
                    }
                };
                text.push_str(&pool.left_out_note());
                verdict(true, points, text)
            }
            None => {
                let why = match &element.proven_by {
                    Proof::Fact { kind, .. } => {
                        format!("the admissible evidence cited shows no fact that {shown} {} anything", kind.phrase())
                    }
                    Proof::Link { to, provider, .. } => format!(
                        "the admissible evidence cited shows no chain of facts from {shown} to {}; {}",
                        self.words.goal(*to, provider.as_ref()),
                        pool.reach(&who, &self.words)
                    ),
                };
                verdict(false, 0, format!("{why}.{}", pool.left_out_note()))
            }
        }
    }

    /// What a full case would have contained that this one lacks.
    fn missed(&self) -> Vec<String> {
        let sc = self.input.scenario;
        let t = &self.tally;
        let mut missed = Vec::new();
        let mut offenders: Vec<&ActorId> = Vec::new();
        for c in &sc.charges {
            if !offenders.contains(&&c.offender) {
                offenders.push(&c.offender);
            }
        }
        for off in offenders {
            let name = self.words.entity(&Entity::Identity(off.clone()));
            let theirs: Vec<&Charge> = sc.charges.iter().filter(|c| &c.offender == off).collect();
            if theirs.iter().all(|c| !t.brought.contains(&c.id)) {
                let titles: Vec<String> = theirs.iter().map(|c| format!("\"{}\"", c.title)).collect();
                missed.push(format!("{name} was not charged ({})", titles.join(", ")));
            } else {
                for c in theirs.iter().filter(|c| !t.brought.contains(&c.id)) {
                    missed.push(format!("\"{}\" was not brought against {name}", c.title));
                }
            }
        }
        for c in &sc.charges {
            for e in &c.elements {
                if !t.proven.contains(&(c.id.clone(), e.id.clone())) {
                    missed.push(format!("\"{}\": element {} ({}) was not proven", c.title, e.id, e.description));
                }
            }
        }
        for (actor, persona) in self.needed {
            if !t.attributed.contains(&(actor.clone(), persona.clone())) {
                missed.push(format!(
                    "{} was not attributed to {}",
                    self.words.entity(&Entity::Persona(persona.clone())),
                    self.words.entity(&Entity::Identity(actor.clone()))
                ));
            }
        }
        missed
    }
}
