//! Solvability: whether a full-marks case exists, and the shortest lawful way to it.
//!
//! [`solve`] searches the lawful investigative actions of a team over the abstract facts
//! graph of [`possible_facts`] (symbolic addresses such as `payout:<actor>`), without
//! looking at the scenario's reference `solution`. The actions are modelled on the real
//! extractors and judge (`game::extract`, `game::judge`):
//!
//! - **Capture a vendor profile** of a persona with a shop on a market (the public market
//!   lists every shop): reveals `Offers(persona → listing)` for its listings, and
//!   `ControlsAddress(persona → payout)` only when the persona has an `AddressInProfile`
//!   slip; that address is then the first in the capture (`FirstIn`).
//! - **Capture the explorer's page of a known address** (one a captured artifact names):
//!   reveals the transfers into and out of it.
//! - **Capture the transaction that spends from a known address** (modelled when exactly
//!   one transfer leaves it): reveals that transfer and makes its destination citable
//!   (`PaidIn`).
//! - **A legal request** for a provider's records about a known address: a production
//!   order to a domestic provider, a mutual legal assistance request to a foreign one,
//!   under the rule the judge would apply (same request type and provider kind, else a rule
//!   for any provider). `LinkToOffence(max_hops)` is granted when the revealed facts show a
//!   persona offering goods and a chain of at most `max_hops` facts from such a persona to
//!   the address. An exchange answers with the account a deposit address belongs to
//!   (`DepositAddressOf`, `AccountHolder`). It costs the rule's `ruling_delay` plus the
//!   provider's `response_delay` of simulated time; captures cost none. Other request
//!   types (warrants, undercover) produce no records in the model.
//! - **Capture a listing photo** of a persona with a `PhotoGps` slip: reveals
//!   `PhotographedAt(first listing → place)` and makes the place citable (`PlaceIn`).
//! - **A courier's records of a place** (one of its offices): reveal who handed parcels in
//!   there (`ParcelDroppedBy(place → identity)`).
//! - **Retention and preservation.** An exchange's records of a deposit and a courier's of
//!   a drop-off are dated (the scripted step's time); past the provider's `retention` they
//!   are gone when the answer is produced — unless a preservation for the same target
//!   (granted under its rule, served at once) reached the provider while they still
//!   existed. Time counts from the world's end, when the investigation starts.
//!
//! The goal is a case with full marks: every (offender, persona) pair named by a charge
//! proof attributed by a chain persona → identity in the revealed facts, every element's
//! proof in the revealed facts, and at least `rubric.max_steps` lawful steps (a capture is
//! one step, an answered request two: the grant and the records). The search is Dijkstra
//! over sets of revealed facts and citable addresses, shortest first by number of actions,
//! then by simulated time; extra captures pad a path that is short of `max_steps`. The path
//! is written in the scenario's own solution language, ending with the case it files, so
//! the autopilot can replay it.
//!
//! Every action only adds facts, and every precondition only needs facts, so what *all*
//! lawful actions together reveal (the closure) decides solvability; when the goal is
//! outside it, [`Solvability::Unsolvable`] names the first fact of a needed chain that no
//! lawful action reaches.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use super::check::Problem;
use super::model::*;
use super::possible::{deposit_time, last_drop_off, mailbox_provider, possible_facts};
use crate::clock::SimDuration;
use crate::facts::{Entity, EntityKind, Fact, FactKind, FactSet};
use crate::ids::{ActorId, EvidenceLabel, PersonaId, ProviderId, RequestLabel};

/// Most search states explored before the solver settles for the best path found so far.
const MAX_STATES: usize = 200_000;

/// A full-marks case found by the solver.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// The lawful path, in the scenario's solution language, ending with `File(...)`.
    pub steps: Vec<SolutionStep>,
    /// Simulated time the path takes (legal requests wait for the judge and the provider).
    pub duration: SimDuration,
    /// How hard the path is.
    pub difficulty: DifficultyEstimate,
    /// Whether the search proved it shortest (false only when the search was cut short).
    pub shortest: bool,
}

/// An estimate of how hard a scenario is, from its shortest lawful path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DifficultyEstimate {
    /// The level the path suggests.
    pub level: Difficulty,
    /// The points behind it: captures + 2 × requests + (longest attribution chain − 1)
    /// + 4 × (suspects − 1) + 3 × requests abroad.
    pub score: u32,
    /// Why, in words.
    pub reason: String,
}

/// What the solver found.
#[derive(Clone, Debug, PartialEq)]
pub enum Solvability {
    /// A full-marks case within the time budget (the shortest such path).
    Solved(Solution),
    /// Full marks are reachable, but even the fastest path takes longer than the budget.
    OverBudget {
        /// The fastest full-marks path.
        fastest: Solution,
        /// The scenario's `meta.time_budget`.
        budget: SimDuration,
    },
    /// No lawful path reaches full marks.
    Unsolvable {
        /// The first fact of a needed chain that no lawful action reveals. When not even the
        /// world's own facts hold a chain, it is the missing link itself (persona → identity
        /// as an `AccountHolder` fact, or the element's fact about the persona).
        missing: Fact,
        /// Why no lawful action reveals it, in words.
        why: String,
        /// What needs it, in words.
        needed_by: String,
        /// The charge element (charge index, element index) that needs it.
        element: (usize, usize),
    },
}

/// Searches for the shortest lawful full-marks case (see the module docs).
pub fn solve(s: &Scenario) -> Solvability {
    let m = Model::new(s);
    let closure = m.closure();
    let cfs = m.fact_set(&closure.0.facts);
    if let Some(req) = m.reqs.iter().find(|r| !m.met(r, &cfs)) {
        return m.retention_explained(m.unsolvable(req, &closure.0, &cfs), &closure.0, false);
    }
    let budget = s.meta.time_budget;
    let (path, shortest) = match m.search(false).or_else(|| m.search(true)) {
        Some(found) => found,
        None => match m.expired() {
            Some(diagnosis) => return diagnosis,
            // The search was cut short: the closure's own order is a lawful path.
            None => (closure.1.clone(), false),
        },
    };
    let first = m.render(&path, shortest);
    if first.duration <= budget {
        return Solvability::Solved(first);
    }
    let (path, shortest) = m.search(true).unwrap_or((path, false));
    let fastest = m.render(&path, shortest);
    if fastest.duration <= budget { Solvability::Solved(fastest) } else { Solvability::OverBudget { fastest, budget } }
}

/// One line per step of a solution, for the summary: `Capture profile-greenleaf: vendor profile GreenLeafUK on silk-lane`.
pub fn describe_step(step: &SolutionStep) -> String {
    let r = |a: &AddressRef| match a {
        AddressRef::FirstIn(l) => format!("first address in {l}"),
        AddressRef::PaidIn(l) => format!("address paid in {l}"),
        AddressRef::EmailIn(l) => format!("e-mail address in {l}"),
        AddressRef::IpIn(l) => format!("IP address in {l}"),
        AddressRef::PlaceIn(l) => format!("place the photo in {l} was taken"),
        AddressRef::SeizedPayout { image, handle } => format!("payout address of {handle} in the image {image}"),
    };
    match step {
        SolutionStep::Capture { label, target } => {
            let what = match target {
                CaptureTarget::VendorProfile { site, handle } => format!("vendor profile {handle} on {site}"),
                CaptureTarget::ExplorerAddress(a) => format!("explorer page of the {}", r(a)),
                CaptureTarget::ExplorerSpend(a) => format!("transaction spending from the {}", r(a)),
                CaptureTarget::ListingPhoto { site, handle } => format!("listing photo of {handle} on {site}"),
                CaptureTarget::ServerStatus { site } => format!("server status page of {site}"),
                CaptureTarget::MarketNews { site } => format!("news page of {site}"),
                CaptureTarget::FaviconSearch { site, engine } => format!("hosts on {engine} serving the favicon of {site}"),
            };
            format!("capture {label}: {what}")
        }
        SolutionStep::Request { kind, provider, target, grounds, response, .. } => {
            let cited: Vec<&str> = grounds.iter().map(EvidenceLabel::as_str).collect();
            format!(
                "{kind:?} to {provider} for the {}, citing {} → {response}",
                r(target),
                if cited.is_empty() { "nothing".into() } else { cited.join(", ") }
            )
        }
        SolutionStep::File(case) => {
            let names: Vec<&str> = case.suspects.iter().map(|x| x.name.as_str()).collect();
            format!("file the case against {}", names.join(", "))
        }
    }
}

/// Legal rules no lawful path can get granted, as `(rule index, why)`. `check` reports each
/// as a problem: such a rule is dead text (the judge refuses without a rule as it does with
/// one nobody can meet), most likely a wrong `provider_kind`, jurisdiction or `max_hops`.
pub fn unreachable_rules(s: &Scenario) -> Vec<(usize, String)> {
    let m = Model::new(s);
    let (closure, _) = m.closure();
    let cfs = m.fact_set(&closure.facts);
    let mut out = Vec::new();
    for (i, rule) in s.legal.rules.iter().enumerate() {
        // An undercover authorisation is addressed to a site, not a provider; no path of
        // the reference kind needs one.
        if rule.request == RequestKind::UndercoverAuthorisation {
            continue;
        }
        let governed: Vec<&Provider> = s
            .providers
            .iter()
            .filter(|p| rule.provider_kind.is_none_or(|k| k == p.kind))
            .filter(|p| matching_rule(&s.legal.rules, rule.request, p.kind).is_some_and(|r| std::ptr::eq(r, rule)))
            .collect();
        // The lab refuses a domestic order to a provider abroad and a request abroad to a
        // provider at home before any rule is weighed.
        let reached = governed.iter().filter(|p| reaches(rule.request, &p.jurisdiction)).count();
        if reached == 0 {
            let why = match (governed.is_empty(), rule.provider_kind) {
                (false, _) if matches!(rule.request, RequestKind::ProductionOrder | RequestKind::SearchWarrant) => format!(
                    "every provider it governs is abroad, and a {:?} reaches providers at home only (abroad: MutualLegalAssistance or SearchAbroad)",
                    rule.request
                ),
                (false, _) => format!(
                    "every provider it governs is domestic, and a {:?} reaches providers abroad only (at home: ProductionOrder or SearchWarrant)",
                    rule.request
                ),
                (true, Some(k)) => format!("no provider is {k:?}, or an earlier rule takes precedence"),
                (true, None) => "every provider falls under a more specific rule".into(),
            };
            out.push((i, why));
            continue;
        }
        if let Grounds::LinkToOffence { max_hops } = rule.grounds {
            let reachable = (0..m.addrs.len()).filter(|a| closure.addrs.has(*a)).any(|a| grounds(&cfs, &m.addrs[a], max_hops).is_some());
            if !reachable {
                out.push((i, format!("no address a team can cite is linked to an offering persona within {max_hops} hop(s)")));
            }
        }
    }
    out
}

/// The solver's problems for `check`: an unsolvable scenario (located at the slip that
/// would carry the missing fact, else at the element that needs it), a path over the time
/// budget, and slips whose facts no lawful path can use.
pub(crate) fn problems(s: &Scenario) -> Vec<Problem> {
    let m = Model::new(s);
    let mut out = Vec::new();
    match solve(s) {
        Solvability::Solved(_) => {}
        Solvability::OverBudget { fastest, budget } => out.push(
            Problem::new(
                "meta.time_budget",
                format!("the fastest lawful full-marks case takes {}, longer than the time budget of {budget}", fastest.duration),
            )
            .with_help("lengthen `meta.time_budget`, or shorten the legal rules' `ruling_delay` or the providers' `response_delay`"),
        ),
        Solvability::Unsolvable { missing, why, needed_by, element: (i, j) } => {
            let msg = format!(
                "the case cannot be solved lawfully: no lawful path reveals `{missing}` ({:?}), which {needed_by} needs",
                missing.kind
            );
            let path = match m.carrier(&missing) {
                Some((a, k)) => format!("cast[{a}].slips[{k}].kind"),
                None => format!("charges[{i}].elements[{j}].proven_by"),
            };
            out.push(Problem::new(path, msg).with_help(why));
            // What else cannot be reached follows from this first missing fact.
            return out;
        }
    }
    let (closure, _) = m.closure();
    let cfs = m.fact_set(&closure.facts);
    for (a, actor) in s.cast.iter().enumerate() {
        for (k, slip) in actor.slips.iter().enumerate() {
            if let Some(why) = m.unused_slip(actor, slip, &closure, &cfs) {
                out.push(
                    Problem::new(
                        format!("cast[{a}].slips[{k}].kind"),
                        format!("slip `{}` reveals no fact a lawful path can use: {why}", slip.id),
                    )
                    .with_help("remove the slip, or add what makes its trace matter (a shop, a cash-out, a legal rule)"),
                );
            }
        }
    }
    for (i, why) in unreachable_rules(s) {
        out.push(
            Problem::new(format!("legal.rules[{i}]"), format!("no lawful path can get this rule granted: {why}"))
                .with_help("remove the rule (without a rule the judge refuses too), or fix its `provider_kind`, `grounds` or the providers' `jurisdiction`"),
        );
    }
    out
}

/// The rule the judge applies (as `game::judge::matching_rule`): same request type and this
/// provider kind, else the same request type for any provider; the first wins.
fn matching_rule(rules: &[LegalRule], kind: RequestKind, provider_kind: ProviderKind) -> Option<&LegalRule> {
    let applies = |r: &&LegalRule| r.request == kind;
    rules
        .iter()
        .filter(applies)
        .find(|r| r.provider_kind == Some(provider_kind))
        .or_else(|| rules.iter().filter(applies).find(|r| r.provider_kind.is_none()))
}

/// Whether a request of this kind can reach a provider in this jurisdiction
/// (as `game::lab::legal`: domestic orders and warrants stay at home, requests through
/// mutual legal assistance go abroad, a preservation goes anywhere).
fn reaches(kind: RequestKind, j: &Jurisdiction) -> bool {
    match kind {
        RequestKind::ProductionOrder | RequestKind::SearchWarrant => matches!(j, Jurisdiction::Domestic),
        RequestKind::MutualLegalAssistance | RequestKind::SearchAbroad => matches!(j, Jurisdiction::Foreign(_)),
        RequestKind::Preservation | RequestKind::UndercoverAuthorisation => true,
    }
}

/// The judge's `LinkToOffence` test over `facts`: the persona offering goods with the
/// shortest chain to `target`, if that chain has at most `max_hops` facts.
fn grounds(facts: &FactSet, target: &Entity, max_hops: u32) -> Option<(PersonaId, Vec<Fact>)> {
    let offenders: BTreeSet<&PersonaId> = facts
        .iter()
        .filter(|f| f.kind == FactKind::Offers)
        .filter_map(|f| match &f.subject {
            Entity::Persona(p) => Some(p),
            _ => None,
        })
        .collect();
    let mut best: Option<(Vec<Fact>, &PersonaId)> = None;
    for p in offenders {
        if let Some(path) = facts.path(&Entity::Persona(p.clone()), |e| e == target)
            && best.as_ref().is_none_or(|(b, _)| path.len() < b.len())
        {
            best = Some((path, p));
        }
    }
    let max = usize::try_from(max_hops).unwrap_or(usize::MAX);
    best.filter(|(path, _)| path.len() <= max).map(|(path, p)| (p.clone(), path))
}

/// A small bit set over fact or address indices.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }
    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
}

/// What a team knows: revealed facts, citable addresses, lawful steps so far (capped).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct State {
    facts: Bits,
    addrs: Bits,
    lawful: u32,
    /// Records acts whose records a preservation keeps.
    preserved: Bits,
}

/// What an action is.
#[derive(Clone, Debug)]
enum Kind {
    Profile {
        persona: PersonaId,
        site: crate::ids::SiteId,
        handle: String,
    },
    Address,
    Spend,
    Request {
        kind: RequestKind,
        provider: ProviderId,
        max_hops: Option<u32>,
        foreign: bool,
    },
    Photo {
        site: crate::ids::SiteId,
        handle: String,
    },
    /// A preservation of the records act `of` (an index into the acts).
    Preserve {
        provider: ProviderId,
        max_hops: Option<u32>,
        of: usize,
    },
    /// A capture of a market page that is not a vendor's: `/server-status` or the news.
    Page(CaptureTarget),
}

/// One lawful action of a team.
#[derive(Clone, Debug)]
struct Act {
    kind: Kind,
    /// The citable address it is about.
    needs: Option<usize>,
    /// Facts it reveals.
    reveals: Vec<usize>,
    /// The address that is first in its content (citable as `FirstIn`).
    first_in: Option<usize>,
    /// The address its transaction pays (citable as `PaidIn`).
    paid_in: Option<usize>,
    /// The e-mail address that is first in its content (citable as `EmailIn`).
    email_in: Option<usize>,
    /// The IP address that is first in its content (citable as `IpIn`).
    ip_in: Option<usize>,
    /// The place its photo was taken at (citable as `PlaceIn`).
    place_in: Option<usize>,
    /// For dated records: the latest time (seconds after the investigation starts) at which
    /// they can still be produced without a preservation.
    expires: Option<i64>,
    /// Vendors' payout addresses a seized image holds, with the vendor's handle
    /// (citable as `SeizedPayout`).
    payouts: Vec<(usize, String)>,
    /// Lawful steps it counts for.
    lawful: u32,
    /// Simulated time it takes.
    delay: SimDuration,
}

/// What a full-marks case needs.
#[derive(Clone, Debug)]
enum Req {
    /// The persona attributed to the offender; `element` is the first element that needs it.
    Attribution { offender: ActorId, persona: PersonaId, element: (usize, usize) },
    /// The element's proof.
    Element { i: usize, j: usize },
}

struct Model<'a> {
    s: &'a Scenario,
    truth: FactSet,
    facts: Vec<Fact>,
    /// Things a request can be about (coin addresses, e-mail and IP addresses).
    addrs: Vec<Entity>,
    addr_ix: BTreeMap<Entity, usize>,
    acts: Vec<Act>,
    reqs: Vec<Req>,
    max_steps: u32,
}

/// Whether a legal request can name this entity as its target.
fn citable(e: &Entity) -> bool {
    matches!(e, Entity::Address(_) | Entity::Email(_) | Entity::Ip(_) | Entity::Place(_))
}

impl Act {
    /// The targets it makes citable.
    fn cites(&self) -> impl Iterator<Item = usize> + '_ {
        self.first_in
            .into_iter()
            .chain(self.paid_in)
            .chain(self.email_in)
            .chain(self.ip_in)
            .chain(self.place_in)
            .chain(self.payouts.iter().map(|(a, _)| *a))
    }
}

fn addr_name(e: &Entity) -> Option<&str> {
    match e {
        Entity::Address(a) => Some(a.as_str()),
        _ => None,
    }
}

impl<'a> Model<'a> {
    fn new(s: &'a Scenario) -> Self {
        let truth = possible_facts(s);
        let facts: Vec<Fact> = truth.iter().cloned().collect();
        let fact_ix: BTreeMap<&Fact, usize> = facts.iter().enumerate().map(|(i, f)| (f, i)).collect();
        let mut addr_set: BTreeSet<Entity> = BTreeSet::new();
        for f in &facts {
            for e in [&f.subject, &f.object] {
                if citable(e) {
                    addr_set.insert(e.clone());
                }
            }
        }
        let addrs: Vec<Entity> = addr_set.into_iter().collect();
        let addr_ix: BTreeMap<Entity, usize> = addrs.iter().enumerate().map(|(i, a)| (a.clone(), i)).collect();
        let ix = |pred: &dyn Fn(&Fact) -> bool| -> Vec<usize> {
            facts.iter().filter(|f| pred(f)).filter_map(|f| fact_ix.get(f).copied()).collect()
        };
        let mut acts = Vec::new();

        // Vendor profiles of personas with a shop on a market.
        let markets: BTreeSet<&str> = s.sites.iter().filter(|x| matches!(x.kind, SiteKind::Market(_))).map(|x| x.id.as_str()).collect();
        let mut shops: BTreeSet<&PersonaId> = BTreeSet::new();
        for a in &s.cast {
            for st in &a.script {
                let Action::OpenShop { persona, .. } = &st.action else { continue };
                let Some(p) = a.personas.iter().find(|p| &p.id == persona) else { continue };
                if !markets.contains(p.site.as_str()) || !shops.insert(&p.id) {
                    continue;
                }
                let who = Entity::Persona(p.id.clone());
                let leaks = a.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::AddressInProfile(x) if x == persona));
                let keyed = a.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::EmailInPgpKey(x) if x == persona));
                let reveals = ix(&|f: &Fact| {
                    (f.kind == FactKind::ListedOn && truth.contains(&Fact::new(FactKind::Offers, who.clone(), f.subject.clone())))
                        || f.subject == who
                            && (f.kind == FactKind::Offers
                                || (leaks && f.kind == FactKind::ControlsAddress)
                                || (keyed && f.kind == FactKind::UsesEmail))
                });
                let shown = |kind: FactKind| {
                    reveals.iter().filter_map(|i| facts.get(*i)).filter(|f| f.kind == kind).find_map(|f| addr_ix.get(&f.object).copied())
                };
                let (first_in, email_in) = (shown(FactKind::ControlsAddress), shown(FactKind::UsesEmail));
                acts.push(Act {
                    kind: Kind::Profile { persona: p.id.clone(), site: p.site.clone(), handle: p.handle.clone() },
                    needs: None,
                    reveals,
                    first_in,
                    paid_in: None,
                    email_in,
                    ip_in: None,
                    place_in: None,
                    expires: None,
                    payouts: Vec::new(),
                    lawful: 1,
                    delay: SimDuration(0),
                });
            }
        }

        // The explorer: an address's page, and the transaction spending from it.
        for (ai, at) in addrs.iter().enumerate() {
            if !matches!(at, Entity::Address(_)) {
                continue;
            }
            let touching = ix(&|f: &Fact| f.kind == FactKind::Transfer && (&f.subject == at || &f.object == at));
            if !touching.is_empty() {
                acts.push(Act {
                    kind: Kind::Address,
                    needs: Some(ai),
                    reveals: touching,
                    first_in: None,
                    paid_in: None,
                    email_in: None,
                    ip_in: None,
                    place_in: None,
                    expires: None,
                    payouts: Vec::new(),
                    lawful: 1,
                    delay: SimDuration(0),
                });
            }
            let out = ix(&|f: &Fact| f.kind == FactKind::Transfer && &f.subject == at);
            if let [one] = out.as_slice() {
                let paid_in = facts.get(*one).and_then(|f| addr_ix.get(&f.object).copied());
                acts.push(Act {
                    kind: Kind::Spend,
                    needs: Some(ai),
                    reveals: out,
                    first_in: None,
                    paid_in,
                    email_in: None,
                    ip_in: None,
                    place_in: None,
                    expires: None,
                    payouts: Vec::new(),
                    lawful: 1,
                    delay: SimDuration(0),
                });
            }
        }

        // Legal requests for an exchange's records of a deposit address.
        for p in s.providers.iter().filter(|p| p.kind == ProviderKind::Exchange) {
            let Some((kind, max_hops, delay, foreign)) = records_rule(s, p) else { continue };
            for f in truth.iter().filter(|f| f.kind == FactKind::DepositAddressOf) {
                let Entity::Account(prov, _) = &f.object else { continue };
                let Some(target) = addr_ix.get(&f.subject).copied() else { continue };
                if prov != &p.id {
                    continue;
                }
                let account = f.object.clone();
                let reveals = ix(&|g: &Fact| {
                    (g.kind == FactKind::DepositAddressOf && g.object == account)
                        || (matches!(g.kind, FactKind::AccountHolder | FactKind::LoggedInFrom) && g.subject == account)
                });
                // The account's logins show the IP it was used from: citable next.
                let ip_in = facts
                    .iter()
                    .find(|g| g.kind == FactKind::LoggedInFrom && g.subject == account)
                    .and_then(|g| addr_ix.get(&g.object).copied());
                acts.push(Act {
                    kind: Kind::Request { kind, provider: p.id.clone(), max_hops, foreign },
                    needs: Some(target),
                    reveals,
                    first_in: None,
                    paid_in: None,
                    email_in: None,
                    ip_in,
                    place_in: None,
                    expires: expiry(s, deposit_time(s, &f.subject, prov), p.retention),
                    payouts: Vec::new(),
                    lawful: 2,
                    delay,
                });
            }
        }
        identity_requests(s, &facts, &addr_ix, &mut acts);
        photo_captures(s, &facts, &addr_ix, &shops, &mut acts);
        courier_requests(s, &facts, &addr_ix, &mut acts);
        preservations(s, &mut acts);
        server::server_acts(s, &facts, &addr_ix, &mut acts);

        let mut reqs = Vec::new();
        let mut pairs: BTreeSet<(&ActorId, &PersonaId)> = BTreeSet::new();
        for (i, c) in s.charges.iter().enumerate() {
            for (j, e) in c.elements.iter().enumerate() {
                let persona = proof_persona(e);
                if pairs.insert((&c.offender, persona)) {
                    reqs.push(Req::Attribution { offender: c.offender.clone(), persona: persona.clone(), element: (i, j) });
                }
                reqs.push(Req::Element { i, j });
            }
        }
        Model { s, truth, facts, addrs, addr_ix, acts, reqs, max_steps: s.rubric.max_steps }
    }

    fn start(&self) -> State {
        State { facts: Bits::new(self.facts.len()), addrs: Bits::new(self.addrs.len()), lawful: 0, preserved: Bits::new(self.acts.len()) }
    }

    fn fact_set(&self, bits: &Bits) -> FactSet {
        self.facts.iter().enumerate().filter(|(i, _)| bits.has(*i)).map(|(_, f)| f.clone()).collect()
    }

    /// Whether act `k` can be taken in state `st`, `dur` after the investigation started.
    fn applicable(&self, st: &State, k: usize, fs: &FactSet, dur: i64) -> bool {
        let Some(act) = self.acts.get(k) else { return false };
        let Some(a) = act.needs else { return true };
        if !st.addrs.has(a) {
            return false;
        }
        let done = dur.saturating_add(act.delay.0);
        // Dated records: still there when produced, or kept by a preservation.
        if act.expires.is_some_and(|e| done > e) && !st.preserved.has(k) {
            return false;
        }
        match &act.kind {
            // A preservation is served while the records still exist.
            Kind::Preserve { of, .. } if self.acts.get(*of).and_then(|r| r.expires).is_some_and(|e| done > e) => false,
            Kind::Request { max_hops: Some(h), .. } | Kind::Preserve { max_hops: Some(h), .. } => grounds(fs, &self.addrs[a], *h).is_some(),
            _ => true,
        }
    }

    fn useful(&self, st: &State, act: &Act) -> bool {
        if let Kind::Preserve { of, .. } = act.kind {
            return !st.preserved.has(of);
        }
        act.reveals.iter().any(|i| !st.facts.has(*i)) || act.cites().any(|a| !st.addrs.has(a))
    }

    fn apply(&self, st: &State, act: &Act) -> State {
        let mut next = st.clone();
        if let Kind::Preserve { of, .. } = act.kind {
            next.preserved.set(of);
        }
        for i in &act.reveals {
            next.facts.set(*i);
        }
        for a in act.cites() {
            next.addrs.set(a);
        }
        next.lawful = st.lawful.saturating_add(act.lawful).min(self.max_steps);
        next
    }

    /// Everything all lawful actions together reveal, and the order they were taken in
    /// (each as early as it could be: time only ever closes doors).
    fn closure(&self) -> (State, Vec<usize>) {
        self.closure_with(|_| true)
    }

    /// The closure over the acts `allowed` admits.
    fn closure_with(&self, allowed: impl Fn(&Act) -> bool) -> (State, Vec<usize>) {
        let mut st = self.start();
        let mut order = Vec::new();
        loop {
            let fs = self.fact_set(&st.facts);
            let next = (0..self.acts.len())
                .position(|k| allowed(&self.acts[k]) && self.applicable(&st, k, &fs, 0) && self.useful(&st, &self.acts[k]));
            let Some(k) = next else { break };
            st = self.apply(&st, &self.acts[k]);
            order.push(k);
        }
        (st, order)
    }

    fn met(&self, req: &Req, fs: &FactSet) -> bool {
        match req {
            Req::Attribution { offender, persona, .. } => {
                let id = Entity::Identity(offender.clone());
                self.owner(persona).is_some_and(|a| &a.id == offender) && fs.path(&Entity::Persona(persona.clone()), |e| e == &id).is_some()
            }
            Req::Element { i, j } => self.element(*i, *j).is_some_and(|e| self.proof_chain(&e.proven_by, fs).is_some()),
        }
    }

    fn element(&self, i: usize, j: usize) -> Option<&'a Element> {
        self.s.charges.get(i).and_then(|c| c.elements.get(j))
    }

    fn owner(&self, p: &PersonaId) -> Option<&'a Actor> {
        self.s.cast.iter().find(|a| a.personas.iter().any(|x| &x.id == p))
    }

    /// The facts in `fs` that prove `proof` (one fact, or a chain).
    fn proof_chain(&self, proof: &Proof, fs: &FactSet) -> Option<Vec<Fact>> {
        match proof {
            Proof::Fact { kind, persona } => fs.about(*kind, &Entity::Persona(persona.clone())).next().map(|f| vec![f.clone()]),
            Proof::Link { persona, to, provider } => fs.path(&Entity::Persona(persona.clone()), |e| link_goal(e, *to, provider.as_ref())),
        }
    }

    fn goal(&self, fs: &FactSet) -> bool {
        self.reqs.iter().all(|r| self.met(r, fs))
    }

    fn pad(&self, lawful: u32) -> u32 {
        self.max_steps.saturating_sub(lawful)
    }

    /// Dijkstra over states: by (actions, time), or by (time, actions) when `by_time`.
    /// The path's actions (without padding), and whether the search ran to the end.
    fn search(&self, by_time: bool) -> Option<(Vec<usize>, bool)> {
        struct Node {
            state: State,
            parent: Option<(usize, usize)>,
            steps: u32,
            dur: i64,
        }
        let key = |steps: u32, dur: i64| if by_time { (dur, i64::from(steps)) } else { (i64::from(steps), dur) };
        let mut nodes = vec![Node { state: self.start(), parent: None, steps: 0, dur: 0 }];
        // Pareto fronts: a state reached later but in fewer steps may still open doors that
        // time closes on the other, so neither prunes the other.
        let mut best_cost: BTreeMap<State, Vec<(i64, i64)>> = BTreeMap::from([(self.start(), vec![(0, 0)])]);
        let dominated =
            |front: &[(i64, i64)], k: (i64, i64), strictly: bool| front.iter().any(|x| x.0 <= k.0 && x.1 <= k.1 && (!strictly || *x != k));
        let mut heap = BinaryHeap::from([Reverse((0i64, 0i64, 0usize))]);
        let mut best: Option<((i64, i64), usize)> = None;
        let mut complete = true;
        while let Some(Reverse((a, b, n))) = heap.pop() {
            if best.is_some_and(|(k, _)| a > k.0) {
                break;
            }
            if nodes.len() > MAX_STATES {
                complete = false;
                break;
            }
            let (state, steps, dur) = match nodes.get(n) {
                Some(node) => (node.state.clone(), node.steps, node.dur),
                None => continue,
            };
            if best_cost.get(&state).is_some_and(|c| dominated(c, (a, b), true)) {
                continue;
            }
            let fs = self.fact_set(&state.facts);
            if self.goal(&fs) {
                let k = key(steps.saturating_add(self.pad(state.lawful)), dur);
                if best.is_none_or(|(bk, _)| k < bk) {
                    best = Some((k, n));
                }
            }
            for (ai, act) in self.acts.iter().enumerate() {
                if !self.applicable(&state, ai, &fs, dur) || !self.useful(&state, act) {
                    continue;
                }
                let next = self.apply(&state, act);
                let (ns, nd) = (steps.saturating_add(1), dur.saturating_add(act.delay.0));
                let k = key(ns, nd);
                let front = best_cost.entry(next.clone()).or_default();
                if dominated(front, k, false) {
                    continue;
                }
                front.retain(|x| !(k.0 <= x.0 && k.1 <= x.1));
                front.push(k);
                nodes.push(Node { state: next, parent: Some((n, ai)), steps: ns, dur: nd });
                heap.push(Reverse((k.0, k.1, nodes.len() - 1)));
            }
        }
        let (_, mut n) = best?;
        let mut path = Vec::new();
        while let Some((p, ai)) = nodes.get(n).and_then(|x| x.parent) {
            path.push(ai);
            n = p;
        }
        path.reverse();
        Some((path, complete))
    }

    /// Captures that pad a path short of `max_steps`: ones not taken yet, then repeats.
    fn padding(&self, path: &[usize]) -> Vec<usize> {
        let mut st = self.start();
        let mut lawful = 0u32;
        let mut citable: Vec<usize> = Vec::new();
        for &k in path {
            let act = &self.acts[k];
            st = self.apply(&st, act);
            lawful = lawful.saturating_add(act.lawful);
            citable.extend(act.cites().filter(|a| !citable.contains(a)).collect::<Vec<_>>());
        }
        let mut need = self.max_steps.saturating_sub(lawful);
        let fs = self.fact_set(&st.facts);
        let is_capture = |a: &Act| !matches!(a.kind, Kind::Request { .. } | Kind::Preserve { .. });
        // Follow the money first: explorer pages in the order their addresses became known.
        let rank = |a: &Act| {
            let known = a.needs.and_then(|x| citable.iter().position(|c| *c == x)).unwrap_or(usize::MAX);
            match a.kind {
                Kind::Address => (0, known),
                Kind::Spend => (1, known),
                _ => (2, known),
            }
        };
        let mut fresh: Vec<usize> =
            (0..self.acts.len()).filter(|k| !path.contains(k) && is_capture(&self.acts[*k]) && self.applicable(&st, *k, &fs, 0)).collect();
        fresh.sort_by_key(|k| (rank(&self.acts[*k]), *k));
        let repeat = path.iter().copied().find(|k| is_capture(&self.acts[*k])).or_else(|| fresh.first().copied());
        let mut out = Vec::new();
        for k in fresh {
            if need == 0 {
                break;
            }
            out.push(k);
            need -= 1;
        }
        if let Some(r) = repeat {
            out.extend(std::iter::repeat_n(r, usize::try_from(need).unwrap_or(0)));
        }
        out
    }

    /// The path as solution steps with labels, ending with the case it files.
    fn render(&self, path: &[usize], shortest: bool) -> Solution {
        let pads = self.padding(path);
        let mut st = self.start();
        let mut labels: BTreeSet<String> = BTreeSet::new();
        let mut revealer: BTreeMap<usize, EvidenceLabel> = BTreeMap::new();
        let mut refs: BTreeMap<usize, AddressRef> = BTreeMap::new();
        let mut steps = Vec::new();
        let mut duration = SimDuration(0);
        let (mut captures, mut requests, mut foreign_requests) = (0u32, 0u32, 0u32);
        let fresh = |labels: &mut BTreeSet<String>, base: String| -> String {
            let mut l = base.clone();
            let mut n = 2;
            while labels.contains(&l) {
                l = format!("{base}-{n}");
                n += 1;
            }
            labels.insert(l.clone());
            l
        };
        for (n, &k) in path.iter().chain(pads.iter()).enumerate() {
            let act = &self.acts[k];
            let is_pad = n >= path.len();
            let target = act.needs.and_then(|a| refs.get(&a).cloned());
            let evidence: EvidenceLabel;
            match (&act.kind, target) {
                (Kind::Profile { persona, site, handle }, _) => {
                    evidence = EvidenceLabel(fresh(&mut labels, format!("profile-{persona}")));
                    steps.push(SolutionStep::Capture {
                        label: evidence.clone(),
                        target: CaptureTarget::VendorProfile { site: site.clone(), handle: handle.clone() },
                    });
                }
                (Kind::Photo { site, handle }, _) => {
                    evidence = EvidenceLabel(fresh(&mut labels, "photo".into()));
                    steps.push(SolutionStep::Capture {
                        label: evidence.clone(),
                        target: CaptureTarget::ListingPhoto { site: site.clone(), handle: handle.clone() },
                    });
                }
                (Kind::Preserve { provider, max_hops, .. }, Some(r)) => {
                    let cited = self.cited(&st, act, *max_hops, &revealer);
                    let label = RequestLabel(fresh(&mut labels, format!("preserve-{provider}")));
                    // A preservation produces no records; its label is never cited.
                    evidence = EvidenceLabel(fresh(&mut labels, format!("preserved-{provider}")));
                    steps.push(SolutionStep::Request {
                        label,
                        kind: RequestKind::Preservation,
                        provider: provider.clone(),
                        target: r,
                        grounds: cited,
                        response: evidence.clone(),
                    });
                    duration = SimDuration(duration.0.saturating_add(act.delay.0));
                    requests += 1;
                }
                (Kind::Address, Some(r)) => {
                    evidence = EvidenceLabel(fresh(&mut labels, "explorer".into()));
                    steps.push(SolutionStep::Capture { label: evidence.clone(), target: CaptureTarget::ExplorerAddress(r) });
                }
                (Kind::Spend, Some(r)) => {
                    evidence = EvidenceLabel(fresh(&mut labels, "spend".into()));
                    steps.push(SolutionStep::Capture { label: evidence.clone(), target: CaptureTarget::ExplorerSpend(r) });
                }
                (Kind::Page(target), _) => {
                    let base = match target {
                        CaptureTarget::ServerStatus { site } => format!("status-{site}"),
                        CaptureTarget::MarketNews { site } => format!("news-{site}"),
                        CaptureTarget::FaviconSearch { site, .. } => format!("favicon-{site}"),
                        _ => "page".into(),
                    };
                    evidence = EvidenceLabel(fresh(&mut labels, base));
                    steps.push(SolutionStep::Capture { label: evidence.clone(), target: target.clone() });
                }
                (Kind::Request { kind, provider, max_hops, foreign }, Some(r)) => {
                    let cited = self.cited(&st, act, *max_hops, &revealer);
                    let (order, answer) = match kind {
                        RequestKind::SearchWarrant | RequestKind::SearchAbroad => ("warrant", "image"),
                        _ => ("order", "records"),
                    };
                    let label = RequestLabel(fresh(&mut labels, format!("{order}-{provider}")));
                    evidence = EvidenceLabel(fresh(&mut labels, format!("{answer}-{provider}")));
                    steps.push(SolutionStep::Request {
                        label,
                        kind: *kind,
                        provider: provider.clone(),
                        target: r,
                        grounds: cited,
                        response: evidence.clone(),
                    });
                    duration = SimDuration(duration.0.saturating_add(act.delay.0));
                    requests += 1;
                    if *foreign {
                        foreign_requests += 1;
                    }
                }
                // Unreachable for a path the search built: every address it needs is citable.
                _ => continue,
            }
            if !is_pad && !matches!(act.kind, Kind::Request { .. } | Kind::Preserve { .. }) {
                captures += 1;
            }
            for &i in &act.reveals {
                revealer.entry(i).or_insert_with(|| evidence.clone());
            }
            if let Some(a) = act.first_in {
                refs.entry(a).or_insert_with(|| AddressRef::FirstIn(evidence.clone()));
            }
            if let Some(a) = act.paid_in {
                refs.entry(a).or_insert_with(|| AddressRef::PaidIn(evidence.clone()));
            }
            if let Some(a) = act.email_in {
                refs.entry(a).or_insert_with(|| AddressRef::EmailIn(evidence.clone()));
            }
            if let Some(a) = act.ip_in {
                refs.entry(a).or_insert_with(|| AddressRef::IpIn(evidence.clone()));
            }
            if let Some(a) = act.place_in {
                refs.entry(a).or_insert_with(|| AddressRef::PlaceIn(evidence.clone()));
            }
            for (a, handle) in &act.payouts {
                refs.entry(*a).or_insert_with(|| AddressRef::SeizedPayout { image: evidence.clone(), handle: handle.clone() });
            }
            st = self.apply(&st, act);
        }
        let fs = self.fact_set(&st.facts);
        let (case, longest) = self.case(&fs, &revealer);
        let suspects = u32::try_from(case.suspects.len()).unwrap_or(u32::MAX);
        steps.push(SolutionStep::File(case));
        let difficulty = estimate(captures, requests, foreign_requests, longest, suspects);
        Solution { steps, duration, difficulty, shortest }
    }

    /// The evidence a request cites as grounds: what reveals the offering persona's listing
    /// and the chain from it to the request's target (nothing when no grounds are needed).
    fn cited(&self, st: &State, act: &Act, max_hops: Option<u32>, revealer: &BTreeMap<usize, EvidenceLabel>) -> Vec<EvidenceLabel> {
        let Some(h) = max_hops else { return Vec::new() };
        let fs = self.fact_set(&st.facts);
        let target = act.needs.and_then(|a| self.addrs.get(a)).cloned().unwrap_or(Entity::Address(String::new()));
        let mut cited: Vec<EvidenceLabel> = Vec::new();
        if let Some((persona, chain)) = grounds(&fs, &target, h) {
            let offers = fs.about(FactKind::Offers, &Entity::Persona(persona)).next().cloned();
            for f in offers.iter().chain(chain.iter()) {
                if let Some(l) = self.fact_index(f).and_then(|i| revealer.get(&i))
                    && !cited.contains(l)
                {
                    cited.push(l.clone());
                }
            }
        }
        cited
    }

    fn fact_index(&self, f: &Fact) -> Option<usize> {
        self.facts.binary_search(f).ok()
    }

    /// The full-marks case over the revealed facts, and the longest attribution chain.
    fn case(&self, fs: &FactSet, revealer: &BTreeMap<usize, EvidenceLabel>) -> (CaseSpec, usize) {
        let labels_of = |chain: &[Fact], into: &mut Vec<EvidenceLabel>| {
            for f in chain {
                if let Some(l) = self.fact_index(f).and_then(|i| revealer.get(&i))
                    && !into.contains(l)
                {
                    into.push(l.clone());
                }
            }
        };
        let mut offenders: Vec<&ActorId> = Vec::new();
        for c in &self.s.charges {
            if !offenders.contains(&&c.offender) {
                offenders.push(&c.offender);
            }
        }
        let mut longest = 0;
        let mut suspects = Vec::new();
        for off in offenders {
            let Some(actor) = self.s.cast.iter().find(|a| &a.id == off) else { continue };
            let id = Entity::Identity(off.clone());
            let mut personas: Vec<PersonaId> = Vec::new();
            let mut attribution = Vec::new();
            for r in &self.reqs {
                if let Req::Attribution { offender, persona, .. } = r
                    && offender == off
                    && !personas.contains(persona)
                {
                    personas.push(persona.clone());
                    let chain = fs.path(&Entity::Persona(persona.clone()), |e| e == &id).unwrap_or_default();
                    longest = longest.max(chain.len());
                    labels_of(&chain, &mut attribution);
                }
            }
            let mut charges = Vec::new();
            for c in self.s.charges.iter().filter(|c| &c.offender == off) {
                let elements = c
                    .elements
                    .iter()
                    .map(|e| {
                        let mut evidence = Vec::new();
                        labels_of(&self.proof_chain(&e.proven_by, fs).unwrap_or_default(), &mut evidence);
                        ElementSpec { element: e.id.clone(), evidence }
                    })
                    .collect();
                charges.push(ChargeSpec { charge: c.id.clone(), elements });
            }
            suspects.push(SuspectSpec { name: actor.identity.name.clone(), personas, attribution, charges });
        }
        (CaseSpec { suspects }, longest)
    }

    /// The diagnosis when the closure misses `req`.
    fn unsolvable(&self, req: &Req, closure: &State, cfs: &FactSet) -> Solvability {
        let (chain, placeholder, needed_by, element) = match req {
            Req::Attribution { offender, persona, element } => {
                let id = Entity::Identity(offender.clone());
                let who = Entity::Persona(persona.clone());
                let needed_by = format!("the attribution of persona `{persona}` to `{offender}`");
                let chain = match self.owner(persona) {
                    Some(a) if &a.id == offender => self.truth.path(&who, |e| e == &id),
                    _ => None,
                };
                (chain, Fact::new(FactKind::AccountHolder, who, id), needed_by, *element)
            }
            Req::Element { i, j } => {
                let c = &self.s.charges[*i];
                let e = &c.elements[*j];
                let needed_by = format!("element `{}` of charge `{}`", e.id, c.id);
                let persona = proof_persona(e);
                let kind = match &e.proven_by {
                    Proof::Fact { kind, .. } => *kind,
                    Proof::Link { .. } => FactKind::ControlsAddress,
                };
                let placeholder = Fact::new(kind, Entity::Persona(persona.clone()), Entity::Address("?".into()));
                (self.proof_chain(&e.proven_by, &self.truth), placeholder, needed_by, (*i, *j))
            }
        };
        match chain.and_then(|c| c.into_iter().find(|f| !cfs.contains(f))) {
            Some(missing) => {
                let why = self.why(&missing, closure);
                Solvability::Unsolvable { missing, why, needed_by, element }
            }
            None => {
                let why = match req {
                    Req::Attribution { offender, persona, .. } => match self.owner(persona) {
                        Some(a) if &a.id != offender => {
                            format!("persona `{persona}` belongs to actor `{}`, not to the offender `{offender}`", a.id)
                        }
                        _ => format!("no chain of facts the scripts can produce leads from persona `{persona}` to `{offender}`"),
                    },
                    Req::Element { .. } => "no fact the scripts can produce proves it".into(),
                };
                Solvability::Unsolvable { missing: placeholder, why, needed_by, element }
            }
        }
    }

    /// The diagnosis when no path beats retention: the first fact a full-marks case needs
    /// that only dated records (gone by then) reveal. `None` when the case is solvable
    /// without dated records (the search was only cut short).
    fn expired(&self) -> Option<Solvability> {
        let (fresh, _) = self.closure_with(|a| a.expires.is_none());
        let ffs = self.fact_set(&fresh.facts);
        let req = self.reqs.iter().find(|r| !self.met(r, &ffs))?;
        Some(self.retention_explained(self.unsolvable(req, &fresh, &ffs), &fresh, true))
    }

    /// When the missing fact would come from dated records whose target a team can cite in
    /// `st` and which are gone before an answer — even one asked for at once, unless `later`
    /// (the search found no path in time) — the reason is retention: says so.
    fn retention_explained(&self, mut out: Solvability, st: &State, later: bool) -> Solvability {
        if let Solvability::Unsolvable { missing, why, .. } = &mut out
            && let Some(i) = self.fact_index(missing)
            && let Some(k) = (0..self.acts.len()).find(|k| {
                let a = &self.acts[*k];
                a.expires.is_some_and(|e| later || e < a.delay.0) && a.reveals.contains(&i) && a.needs.is_some_and(|n| st.addrs.has(n))
            })
        {
            *why = self.why_expired(k);
        }
        out
    }

    /// Why the dated records of act `k` cannot be had in time.
    fn why_expired(&self, k: usize) -> String {
        let act = &self.acts[k];
        let (Kind::Request { provider, .. }, Some(e)) = (&act.kind, act.expires) else { return "its records are gone".into() };
        let target = act.needs.and_then(|a| self.addrs.get(a)).map(ToString::to_string).unwrap_or_default();
        let retention = self.s.providers.iter().find(|p| &p.id == provider).map(|p| p.retention).unwrap_or_default();
        let head = format!("`{provider}` keeps records for {retention} only");
        if e < 0 {
            return format!("{head}: those of {target} are gone {} before the investigation starts", SimDuration(-e));
        }
        let preserve = self.acts.iter().find(|a| matches!(a.kind, Kind::Preserve { of, .. } if of == k));
        match preserve {
            None => format!(
                "{head}: those of {target} are gone {} into the investigation, before a request answered after {} can produce them, and no legal rule lets a team preserve them: add a `Preservation` rule",
                SimDuration(e),
                act.delay
            ),
            Some(p) => format!(
                "{head}: those of {target} are gone {} into the investigation, before a request answered after {} can produce them, and a preservation (granted after {}) cannot be served in time",
                SimDuration(e),
                act.delay,
                p.delay
            ),
        }
    }

    /// Why no lawful action reveals `f`.
    fn why(&self, f: &Fact, closure: &State) -> String {
        let citable = |a: &str| self.addr_ix.get(&Entity::Address(a.to_string())).is_some_and(|i| closure.addrs.has(*i));
        match (&f.kind, &f.subject, &f.object) {
            (FactKind::Offers, Entity::Persona(p), _) | (FactKind::ControlsAddress, Entity::Persona(p), _)
                if !self.acts.iter().any(|a| matches!(&a.kind, Kind::Profile { persona, .. } if persona == p)) =>
            {
                format!("persona `{p}` has no shop on a market, so no page a team can capture shows it")
            }
            (FactKind::ControlsAddress, Entity::Persona(p), _) => format!(
                "the profile of persona `{p}` shows no address (no `AddressInProfile(\"{p}\")` slip), and nothing else a team can capture reveals which address it controls"
            ),
            (FactKind::UsesEmail, Entity::Persona(p), _) => format!(
                "the OpenPGP key on persona `{p}`'s profile carries no e-mail address (no `EmailInPgpKey(\"{p}\")` slip), and nothing else a team can capture shows which e-mail it uses"
            ),
            (FactKind::LoggedInFrom, Entity::Email(e), _) => self.why_identity_records(&f.subject, ProviderKind::Email, closure, || {
                format!("the mailbox `{e}` is used over Tor, so its provider's login records show no home IP (no `MailboxFromHome` slip)")
            }),
            (FactKind::IpSubscriber, Entity::Ip(ip), _) => self.why_identity_records(&f.subject, ProviderKind::Isp, closure, || {
                format!("no internet provider of the scenario leases `{ip}` (set the identity's `isp`)")
            }),
            (FactKind::PhotographedAt, Entity::Listing(l), Entity::Place(pl)) => format!(
                "the photo of listing `{l}` carries no GPS position at {pl} (no `PhotoGps` slip of its vendor there, or the listing is not the vendor's first), and nothing else a team can capture shows where it was taken"
            ),
            (FactKind::ParcelDroppedBy, Entity::Place(pl), _) => {
                self.why_identity_records(&f.subject, ProviderKind::Courier, closure, || {
                    format!("no courier of the scenario has an office at {pl} where the parcels were handed in")
                })
            }
            (FactKind::Transfer, Entity::Address(a), Entity::Address(b)) => {
                format!("neither `{a}` nor `{b}` appears in evidence a team can obtain, so the explorer is never asked about them")
            }
            (FactKind::DepositAddressOf, Entity::Address(d), Entity::Account(p, _)) => self.why_records(d, p, citable(d)),
            (FactKind::AccountHolder, Entity::Account(p, _), _) => {
                let deposit = self
                    .truth
                    .iter()
                    .find(|g| g.kind == FactKind::DepositAddressOf && g.object == f.subject)
                    .and_then(|g| addr_name(&g.subject).map(str::to_string));
                match deposit {
                    Some(d) => self.why_records(&d, p, citable(&d)),
                    None => format!("the account is never paid into, so no address leads a legal request to `{p}`'s records of it"),
                }
            }
            _ => self.why_server(f, closure).unwrap_or_else(|| "no lawful action reveals it".into()),
        }
    }

    fn why_records(&self, deposit: &str, provider: &ProviderId, citable: bool) -> String {
        let Some(p) = self.s.providers.iter().find(|p| &p.id == provider) else {
            return format!("no provider `{provider}` is defined");
        };
        let foreign = matches!(p.jurisdiction, Jurisdiction::Foreign(_));
        let kind = if foreign { RequestKind::MutualLegalAssistance } else { RequestKind::ProductionOrder };
        let Some(rule) = matching_rule(&self.s.legal.rules, kind, p.kind) else {
            return format!("no legal rule lets a team ask for `{provider}`'s records: add a `{kind:?}` rule for {:?} providers", p.kind);
        };
        if !citable {
            return format!(
                "the deposit address `{deposit}` never appears where a team can cite it (no captured transaction pays it), so no request can name it"
            );
        }
        match rule.grounds {
            Grounds::LinkToOffence { max_hops } => format!(
                "the judge would refuse a `{kind:?}` for `{deposit}`: the facts a team can reveal link no persona offering goods to it within {max_hops} hop(s)"
            ),
            Grounds::None => format!("`{provider}` holds no records of `{deposit}`"),
        }
    }

    /// Why no request for `target` at a provider of `kind` reveals its records: no such
    /// provider or rule, the target never citable, the judge refusing, else `otherwise`.
    fn why_identity_records(&self, target: &Entity, kind: ProviderKind, closure: &State, otherwise: impl Fn() -> String) -> String {
        let asked: Vec<&Act> = self
            .acts
            .iter()
            .filter(|a| a.needs.is_some_and(|n| self.addrs.get(n) == Some(target)) && matches!(a.kind, Kind::Request { .. }))
            .collect();
        let Some(act) = asked.first() else {
            let provider = self.s.providers.iter().find(|p| p.kind == kind);
            return match provider {
                Some(p)
                    if matching_rule(&self.s.legal.rules, RequestKind::ProductionOrder, p.kind).is_none()
                        && matching_rule(&self.s.legal.rules, RequestKind::MutualLegalAssistance, p.kind).is_none() =>
                {
                    format!("no legal rule lets a team ask for `{}`'s records", p.id)
                }
                _ => otherwise(),
            };
        };
        if act.needs.is_some_and(|n| !closure.addrs.has(n)) {
            return format!("{target} never appears in evidence a team can obtain, so no request can name it");
        }
        match &act.kind {
            Kind::Request { kind, max_hops: Some(h), .. } => format!(
                "the judge would refuse a `{kind:?}` for {target}: the facts a team can reveal link no persona offering goods to it within {h} hop(s)"
            ),
            _ => otherwise(),
        }
    }

    /// The slip (actor index, slip index) that would carry `f`.
    fn carrier(&self, f: &Fact) -> Option<(usize, usize)> {
        let find = |want: &dyn Fn(&Actor, &SlipKind) -> bool| {
            self.s.cast.iter().enumerate().find_map(|(a, actor)| actor.slips.iter().position(|sl| want(actor, &sl.kind)).map(|k| (a, k)))
        };
        match (&f.kind, &f.subject, &f.object) {
            (FactKind::ControlsAddress, Entity::Persona(p), _) => find(&|_, k| matches!(k, SlipKind::AddressInProfile(x) if x == p)),
            (FactKind::DepositAddressOf, _, account @ Entity::Account(prov, _))
            | (FactKind::AccountHolder, account @ Entity::Account(prov, _), _) => {
                let holder = self.truth.about(FactKind::AccountHolder, account).find_map(|g| match &g.object {
                    Entity::Identity(a) => Some(a.clone()),
                    _ => None,
                })?;
                find(&|actor, k| actor.id == holder && matches!(k, SlipKind::CashOutToKycExchange(x) if x == prov))
            }
            (FactKind::UsesEmail, Entity::Persona(p), _) => find(&|_, k| matches!(k, SlipKind::EmailInPgpKey(x) if x == p)),
            (FactKind::PhotographedAt, Entity::Listing(l), _) => find(
                &|actor, k| matches!(k, SlipKind::PhotoGps { persona, .. } if actor.script.iter().any(|st| matches!(&st.action, Action::List { persona: x, listing } if x == persona && &listing.id == l))),
            ),
            (FactKind::LoggedInFrom, Entity::Email(e), _) => {
                find(&|actor, k| actor.identity.email.trim().eq_ignore_ascii_case(e) && matches!(k, SlipKind::MailboxFromHome(_)))
            }
            (FactKind::HostedAt, Entity::Site(site), _) => {
                find(&|_, k| matches!(k, SlipKind::StatusPageLeak(x) | SlipKind::SharedFavicon { site: x, .. } if x == site))
            }
            (FactKind::LoggedInFrom, Entity::Account(p, _), _) => find(&|_, k| matches!(k, SlipKind::HostingPanelFromHome(x) if x == p)),
            _ => None,
        }
    }

    /// Why a slip's facts are of no use to any lawful path, if they are not.
    fn unused_slip(&self, actor: &Actor, slip: &Slip, closure: &State, cfs: &FactSet) -> Option<String> {
        match &slip.kind {
            SlipKind::AddressInProfile(p) => {
                let who = Entity::Persona(p.clone());
                let carried: Vec<&Fact> = self.truth.about(FactKind::ControlsAddress, &who).collect();
                if carried.is_empty() || !self.acts.iter().any(|a| matches!(&a.kind, Kind::Profile { persona, .. } if persona == p)) {
                    return Some(format!("persona `{p}` never opens a shop on a market, so no profile shows an address"));
                }
                let followed = carried.iter().any(|f| {
                    cfs.contains(f) && cfs.iter().any(|g| g.kind == FactKind::Transfer && (g.subject == f.object || g.object == f.object))
                });
                (!followed).then(|| format!("the address persona `{p}`'s profile shows is never paid or spent, so nothing follows from it"))
            }
            SlipKind::CashOutToKycExchange(prov) => {
                let id = Entity::Identity(actor.id.clone());
                let accounts: Vec<&Entity> = self
                    .truth
                    .iter()
                    .filter(|f| {
                        f.kind == FactKind::AccountHolder && f.object == id && matches!(&f.subject, Entity::Account(p, _) if p == prov)
                    })
                    .map(|f| &f.subject)
                    .collect();
                let carried: Vec<&Fact> =
                    self.truth.iter().filter(|f| f.kind == FactKind::DepositAddressOf && accounts.contains(&&f.object)).collect();
                let Some(first) = carried.first() else {
                    return Some(format!("actor `{}` never cashes out to `{prov}` after opening an account there", actor.id));
                };
                if carried.iter().any(|f| cfs.contains(f)) {
                    return None;
                }
                Some(self.why(first, closure))
            }
            SlipKind::EmailInPgpKey(p) => {
                let who = Entity::Persona(p.clone());
                let Some(carried) = self.truth.about(FactKind::UsesEmail, &who).next() else {
                    return Some(format!("persona `{p}` never opens a shop on a market, so no profile shows its key"));
                };
                let email = &carried.object;
                if !cfs.contains(carried) {
                    return Some(self.why(carried, closure));
                }
                let followed = cfs.iter().any(|g| &g.subject == email);
                (!followed).then(|| {
                    format!(
                        "no lawful request follows {email} to its provider's records (no `MailboxFromHome` slip, provider or legal rule)"
                    )
                })
            }
            SlipKind::PhotoGps { persona, lat, lon } => {
                let place = Entity::place_at(*lat, *lon);
                let carried: Vec<&Fact> = self.truth.iter().filter(|f| f.kind == FactKind::PhotographedAt && f.object == place).collect();
                let shown = self
                    .acts
                    .iter()
                    .any(|a| matches!(&a.kind, Kind::Photo { .. }) && a.place_in.and_then(|i| self.addrs.get(i)) == Some(&place));
                if carried.is_empty() || !shown {
                    return Some(format!(
                        "persona `{persona}` never opens a shop and lists goods on a market, so no listing photo shows the position"
                    ));
                }
                let element = self
                    .s
                    .charges
                    .iter()
                    .flat_map(|c| c.elements.iter())
                    .any(|e| matches!(&e.proven_by, Proof::Link { persona: x, to: EntityKind::Place, .. } if x == persona));
                let followed = cfs.iter().any(|g| g.subject == place);
                (!followed && !element).then(|| {
                    format!("no lawful request follows the place {place} to a courier's records (no courier office there, or no legal rule), and no charge element needs it")
                })
            }
            SlipKind::MailboxFromHome(prov) => {
                let Some(m) = mailbox_provider(self.s, actor) else {
                    return Some(format!(
                        "actor `{}`'s e-mail address `{}` is not at an e-mail provider of the scenario",
                        actor.id, actor.identity.email
                    ));
                };
                if &m.id != prov {
                    return Some(format!("actor `{}`'s mailbox is at `{}`, not at `{prov}`", actor.id, m.id));
                }
                let email = Entity::Email(actor.identity.email.trim().to_ascii_lowercase());
                let carried: Vec<&Fact> = self.truth.about(FactKind::LoggedInFrom, &email).collect();
                if carried.iter().any(|f| cfs.contains(f)) {
                    return None;
                }
                carried.first().map(|f| self.why(f, closure))
            }
            SlipKind::StatusPageLeak(_) | SlipKind::HostingPanelFromHome(_) | SlipKind::SharedFavicon { .. } => {
                self.unused_server_slip(&slip.kind, closure, cfs)
            }
        }
    }
}

/// Captures of listing photos: the first listing of each persona with a shop and a
/// `PhotoGps` slip, whose EXIF block shows where it was taken.
fn photo_captures(s: &Scenario, facts: &[Fact], addr_ix: &BTreeMap<Entity, usize>, shops: &BTreeSet<&PersonaId>, acts: &mut Vec<Act>) {
    for a in &s.cast {
        for slip in &a.slips {
            let SlipKind::PhotoGps { persona, lat, lon } = &slip.kind else { continue };
            let Some(p) = a.personas.iter().find(|p| &p.id == persona).filter(|p| shops.contains(&p.id)) else { continue };
            let first = a.script.iter().filter_map(|st| match &st.action {
                Action::List { persona: x, listing } if x == persona => Some((st.at, &listing.id)),
                _ => None,
            });
            let Some((_, listing)) = first.min_by_key(|(at, _)| *at) else { continue };
            let shot = Fact::new(FactKind::PhotographedAt, Entity::Listing(listing.clone()), Entity::place_at(*lat, *lon));
            let Ok(i) = facts.binary_search(&shot) else { continue };
            acts.push(Act {
                kind: Kind::Photo { site: p.site.clone(), handle: p.handle.clone() },
                needs: None,
                reveals: vec![i],
                first_in: None,
                paid_in: None,
                email_in: None,
                ip_in: None,
                place_in: addr_ix.get(&shot.object).copied(),
                expires: None,
                payouts: Vec::new(),
                lawful: 1,
                delay: SimDuration(0),
            });
        }
    }
}

/// The rule for asking `p` for records (a production order at home, mutual legal
/// assistance abroad), with its request type, grounds and total delay.
fn records_rule(s: &Scenario, p: &Provider) -> Option<(RequestKind, Option<u32>, SimDuration, bool)> {
    let foreign = matches!(p.jurisdiction, Jurisdiction::Foreign(_));
    let kind = if foreign { RequestKind::MutualLegalAssistance } else { RequestKind::ProductionOrder };
    let rule = matching_rule(&s.legal.rules, kind, p.kind)?;
    let max_hops = match rule.grounds {
        Grounds::None => None,
        Grounds::LinkToOffence { max_hops } => Some(max_hops),
    };
    Some((kind, max_hops, SimDuration(rule.ruling_delay.0.saturating_add(p.response_delay.0)), foreign))
}

/// Legal requests for a courier's records of the parcels handed in at one of its offices
/// (a place): the senders' names, dated by the latest drop-off there.
fn courier_requests(s: &Scenario, facts: &[Fact], addr_ix: &BTreeMap<Entity, usize>, acts: &mut Vec<Act>) {
    for p in s.providers.iter().filter(|p| p.kind == ProviderKind::Courier) {
        let Some((kind, max_hops, delay, foreign)) = records_rule(s, p) else { continue };
        for o in &p.offices {
            let place = Entity::place_at(o.lat, o.lon);
            let Some(&target) = addr_ix.get(&place) else { continue };
            let reveals: Vec<usize> = (0..facts.len())
                .filter(|i| facts.get(*i).is_some_and(|f| f.kind == FactKind::ParcelDroppedBy && f.subject == place))
                .collect();
            if reveals.is_empty() {
                continue;
            }
            acts.push(Act {
                kind: Kind::Request { kind, provider: p.id.clone(), max_hops, foreign },
                needs: Some(target),
                reveals,
                first_in: None,
                paid_in: None,
                email_in: None,
                ip_in: None,
                place_in: None,
                expires: expiry(s, last_drop_off(s, &p.id, &o.name), p.retention),
                payouts: Vec::new(),
                lawful: 2,
                delay,
            });
        }
    }
}

/// A preservation for every dated records request whose provider a `Preservation` rule
/// covers: granted after the rule's delay and served at once.
fn preservations(s: &Scenario, acts: &mut Vec<Act>) {
    let mut extra = Vec::new();
    for (k, act) in acts.iter().enumerate() {
        let (Kind::Request { provider, .. }, Some(_)) = (&act.kind, act.expires) else { continue };
        let Some(p) = s.providers.iter().find(|p| &p.id == provider) else { continue };
        let Some(rule) = matching_rule(&s.legal.rules, RequestKind::Preservation, p.kind) else { continue };
        let max_hops = match rule.grounds {
            Grounds::None => None,
            Grounds::LinkToOffence { max_hops } => Some(max_hops),
        };
        extra.push(Act {
            kind: Kind::Preserve { provider: provider.clone(), max_hops, of: k },
            needs: act.needs,
            reveals: Vec::new(),
            first_in: None,
            paid_in: None,
            email_in: None,
            ip_in: None,
            place_in: None,
            expires: None,
            payouts: Vec::new(),
            lawful: 1,
            delay: rule.ruling_delay,
        });
    }
    acts.extend(extra);
}

/// Seconds after the investigation starts (the world's end) until records dated `at`
/// (after the world's start) pass `retention`; `None` when undated.
fn expiry(s: &Scenario, at: Option<SimDuration>, retention: SimDuration) -> Option<i64> {
    at.map(|t| t.0.saturating_add(retention.0).saturating_sub(s.meta.world_duration.0))
}

/// The actor whose real e-mail address is `email`.
fn mailbox_owner<'s>(s: &'s Scenario, email: &str) -> Option<&'s Actor> {
    s.cast.iter().find(|a| a.identity.email.trim().eq_ignore_ascii_case(email))
}

/// Legal requests for an e-mail provider's records of a mailbox (its sign-up and logins,
/// showing IPs only where the owner used it from home: a `MailboxFromHome` slip) and an
/// internet provider's records of an IP (whom it was leased to).
fn identity_requests(s: &Scenario, facts: &[Fact], addr_ix: &BTreeMap<Entity, usize>, acts: &mut Vec<Act>) {
    let ix = |pred: &dyn Fn(&Fact) -> bool| -> Vec<usize> { (0..facts.len()).filter(|i| facts.get(*i).is_some_and(pred)).collect() };
    for p in s.providers.iter().filter(|p| matches!(p.kind, ProviderKind::Email | ProviderKind::Isp)) {
        let Some((kind, max_hops, delay, foreign)) = records_rule(s, p) else { continue };
        for (target, &ti) in addr_ix {
            let reveals = match (p.kind, target) {
                (ProviderKind::Email, Entity::Email(e)) => {
                    let Some(owner) = mailbox_owner(s, e) else { continue };
                    let from_home = owner.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::MailboxFromHome(x) if x == &p.id));
                    if mailbox_provider(s, owner).is_none_or(|m| m.id != p.id) || !from_home {
                        continue;
                    }
                    ix(&|f: &Fact| f.kind == FactKind::LoggedInFrom && &f.subject == target)
                }
                (ProviderKind::Isp, Entity::Ip(_)) => ix(&|f: &Fact| {
                    f.kind == FactKind::IpSubscriber
                        && &f.subject == target
                        && matches!(&f.object, Entity::Identity(a)
                            if s.cast.iter().any(|x| &x.id == a && x.identity.isp.as_ref() == Some(&p.id)))
                }),
                _ => continue,
            };
            if reveals.is_empty() {
                continue;
            }
            let ip_in = reveals.iter().filter_map(|i| facts.get(*i)).find_map(|f| match f.kind {
                FactKind::LoggedInFrom => addr_ix.get(&f.object).copied(),
                _ => None,
            });
            acts.push(Act {
                kind: Kind::Request { kind, provider: p.id.clone(), max_hops, foreign },
                needs: Some(ti),
                reveals,
                first_in: None,
                paid_in: None,
                email_in: None,
                ip_in,
                place_in: None,
                expires: None,
                payouts: Vec::new(),
                lawful: 2,
                delay,
            });
        }
    }
}

fn proof_persona(e: &Element) -> &PersonaId {
    match &e.proven_by {
        Proof::Fact { persona, .. } | Proof::Link { persona, .. } => persona,
    }
}

fn link_goal(e: &Entity, to: EntityKind, provider: Option<&ProviderId>) -> bool {
    e.kind() == to
        && match (e, provider) {
            (Entity::Account(p, _), Some(want)) => p == want,
            _ => true,
        }
}

fn estimate(captures: u32, requests: u32, foreign: u32, longest: usize, suspects: u32) -> DifficultyEstimate {
    let chain = u32::try_from(longest).unwrap_or(u32::MAX);
    let score = captures
        .saturating_add(requests.saturating_mul(2))
        .saturating_add(chain.saturating_sub(1))
        .saturating_add(suspects.saturating_sub(1).saturating_mul(4))
        .saturating_add(foreign.saturating_mul(3));
    let level = match score {
        0..=8 => Difficulty::Introductory,
        9..=14 => Difficulty::Intermediate,
        15..=20 => Difficulty::Advanced,
        _ => Difficulty::Expert,
    };
    let plural = |n: u32, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let mut reason = format!(
        "{}, {}, a {chain}-fact attribution chain, {}",
        plural(captures, "capture", "captures"),
        plural(requests, "legal request", "legal requests"),
        plural(suspects, "suspect", "suspects")
    );
    if foreign > 0 {
        reason.push_str(&format!(", {} abroad", plural(foreign, "request", "requests")));
    }
    DifficultyEstimate { level, score, reason }
}

mod server;
#[cfg(test)]
mod tests;
