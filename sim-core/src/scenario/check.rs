//! Semantic checks of a parsed scenario: everything serde cannot see.
//!
//! [`check`] reports *every* problem it finds (never just the first), each as a
//! [`Problem`] with the field path of the offending value in the loader's path style
//! (`cast[0].script[3].action.Order.listing`), so the loader can point at the text.
//! The checks cover the format version, unique ids, references to undefined things,
//! times against the world's duration and the team's budget, rubric signs, legal rules,
//! the reference solution's ordering of evidence labels, and whether every charge
//! element can be proven by some fact the cast's scripts can make true
//! ([`possible_facts`]); then, on an otherwise sound scenario, whether a full-marks case can
//! be reached lawfully within the time budget and whether every slip matters
//! ([`super::solve`]), for the scenario and each declared variant. [`summary`] is the
//! one-screen view `darklab check` prints.

use std::collections::{BTreeMap, BTreeSet};

use super::model::*;
use crate::clock::{SimDuration, SimTime};
use crate::ids::{PersonaId, ProviderId, SiteId};

pub use super::possible::possible_facts;
pub use super::summary::summary;
use super::variant::MAX_VARIANTS;

/// One semantic problem in a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Field path of the offending value, e.g. `coin.initial_funds[3].actor`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { path: path.into(), message: message.into(), help: None }
    }

    /// The same problem with a hint on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The known name closest to `found`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(found: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = found.to_lowercase();
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&lower, &k.to_lowercase()), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Earliest accepted `meta.start` (2000-01-01T00:00:00Z).
const EARLIEST_START: SimTime = SimTime(946_684_800);
/// First rejected `meta.start` (2100-01-01T00:00:00Z).
const LATEST_START: SimTime = SimTime(4_102_444_800);

/// Runs every check; an empty result means the scenario is sound.
///
/// A scenario that passes the structural checks is then solved ([`super::solve`]): an
/// unsolvable case, a path over the time budget and a slip no lawful path can use are
/// problems too. Then every declared variant is checked the same way; its problems carry
/// the same paths, their messages start with `variant K:`. A sound variant whose shortest
/// path the solver estimates at another difficulty level than the scenario's is a problem
/// too: variants are meant to be equally hard.
pub fn check(s: &Scenario) -> Vec<Problem> {
    let mut out = check_one(s);
    if !out.is_empty() {
        return out;
    }
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    if count > MAX_VARIANTS {
        out.push(
            Problem::new("variants.count", format!("at most {MAX_VARIANTS} variants may be declared, found {count}"))
                .with_help("each variant is solved by `darklab check`; declare fewer"),
        );
        return out;
    }
    // Variants must be equally hard: each is estimated at the scenario's own level.
    let base = match super::solve::solve(s) {
        super::solve::Solvability::Solved(sol) => Some(sol.difficulty),
        _ => None,
    };
    let moves_slips = s.variants.as_ref().is_some_and(|v| !v.slips.is_empty());
    for k in 1..=count {
        let v = super::variant::variant(s, k);
        let problems = check_one(&v);
        if problems.is_empty()
            && let (Some(base), super::solve::Solvability::Solved(sol)) = (&base, super::solve::solve(&v))
            && sol.difficulty.level != base.level
        {
            out.push(
                Problem::new(
                    if moves_slips { "variants.slips" } else { "variants" },
                    format!(
                        "variant {k} is estimated {:?} ({}) but the scenario itself {:?} ({}): variants must be equally hard",
                        sol.difficulty.level, sol.difficulty.reason, base.level, base.reason
                    ),
                )
                .with_help(
                    "give each actor's slip options routes of the same length, so teams that compete on variants face the same case",
                ),
            );
        }
        out.extend(problems.into_iter().map(|p| Problem { message: format!("variant {k}: {}", p.message), ..p }));
    }
    out
}

/// The checks of one scenario (no variants), the solver last when all else is sound.
fn check_one(s: &Scenario) -> Vec<Problem> {
    let mut c = Checker { s, ix: Index::new(s), out: Vec::new() };
    c.format_and_meta();
    c.network();
    c.sites();
    c.coin();
    c.providers();
    c.cast();
    c.tip_offs();
    c.slip_options();
    c.population();
    c.legal();
    c.charges();
    c.rubric();
    c.injects_and_hints();
    c.solution();
    if c.out.is_empty() {
        c.out.extend(super::solve::problems(s));
    }
    c.out
}

/// Lookup tables built once per check.
struct Index<'a> {
    actors: BTreeMap<&'a str, &'a Actor>,
    /// Persona id → (owning actor, persona).
    personas: BTreeMap<&'a str, (&'a Actor, &'a Persona)>,
    sites: BTreeMap<&'a str, &'a Site>,
    providers: BTreeMap<&'a str, &'a Provider>,
    /// Listing id → (vendor actor, persona) of its first `List` action.
    listings: BTreeMap<&'a str, (&'a Actor, &'a PersonaId)>,
    boards: BTreeSet<&'a str>,
    charges: BTreeMap<&'a str, &'a Charge>,
}

impl<'a> Index<'a> {
    fn new(s: &'a Scenario) -> Self {
        let mut ix = Index {
            actors: BTreeMap::new(),
            personas: BTreeMap::new(),
            sites: s.sites.iter().map(|x| (x.id.as_str(), x)).collect(),
            providers: s.providers.iter().map(|x| (x.id.as_str(), x)).collect(),
            listings: BTreeMap::new(),
            boards: s.network.boards.iter().map(|b| b.id.as_str()).collect(),
            charges: s.charges.iter().map(|c| (c.id.as_str(), c)).collect(),
        };
        for a in &s.cast {
            ix.actors.entry(a.id.as_str()).or_insert(a);
            for p in &a.personas {
                ix.personas.entry(p.id.as_str()).or_insert((a, p));
            }
            for step in &a.script {
                if let Action::List { persona, listing } = &step.action {
                    ix.listings.entry(listing.id.as_str()).or_insert((a, persona));
                }
            }
        }
        ix
    }
}

struct Checker<'a> {
    s: &'a Scenario,
    ix: Index<'a>,
    out: Vec<Problem>,
}

/// A sorted list of names for "did you mean" and "defined ... are" hints.
fn names<'a, V>(map: &BTreeMap<&'a str, V>) -> Vec<&'a str> {
    map.keys().copied().collect()
}

impl<'a> Checker<'a> {
    fn push(&mut self, p: Problem) {
        self.out.push(p);
    }

    /// Reports `id` as undefined unless `known` holds it.
    fn require(&mut self, path: String, what: &str, id: &str, known: &[&str], define_in: &str) -> bool {
        if known.contains(&id) {
            return true;
        }
        let help = match did_you_mean(id, known) {
            Some(k) => format!("did you mean `{k}`?"),
            None if known.is_empty() => format!("no {what} is defined: add one to `{define_in}`"),
            None => format!("defined {what}s: {}; or add it to `{define_in}`", quoted(known)),
        };
        self.push(Problem::new(path, format!("no {what} `{id}` is defined")).with_help(help));
        false
    }

    /// Reports every id that occurs a second time.
    fn unique<I>(&mut self, what: &str, items: I)
    where
        I: IntoIterator<Item = (String, &'a str)>,
    {
        let mut first: BTreeMap<&str, String> = BTreeMap::new();
        for (path, id) in items {
            // Ids name files, hosts and URLs (a service's database, `<id>.example`): keep them
            // to a shape that is safe everywhere.
            let safe = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !safe {
                self.push(
                    Problem::new(path.clone(), format!("{what} id `{id}` is not a plain name"))
                        .with_help("use 1 to 64 letters, digits, `-` or `_`"),
                );
            }
            match first.get(id) {
                Some(at) => {
                    let p = Problem::new(path, format!("duplicate {what} id `{id}`"))
                        .with_help(format!("first defined at {at}; {what} ids must be unique"));
                    self.push(p);
                }
                None => {
                    first.insert(id, path);
                }
            }
        }
    }

    fn format_and_meta(&mut self) {
        let s = self.s;
        if s.format != 1 {
            self.push(
                Problem::new("format", format!("expected format version 1, found {}", s.format))
                    .with_help("this build reads scenario format 1 only"),
            );
        }
        let m = &s.meta;
        if m.start < EARLIEST_START || m.start >= LATEST_START {
            self.push(
                Problem::new("meta.start", format!("start time {} is outside the supported range", m.start))
                    .with_help("use a time between 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z"),
            );
        }
        if m.world_duration <= SimDuration(0) {
            self.push(Problem::new("meta.world_duration", "the world's duration must be longer than 0s").with_help("e.g. \"3d\""));
        }
        if m.time_budget <= SimDuration(0) {
            self.push(Problem::new("meta.time_budget", "the team's time budget must be longer than 0s").with_help("e.g. \"14d\""));
        }
        if m.compression < 1 {
            self.push(
                Problem::new("meta.compression", "clock compression must be at least 1")
                    .with_help("1 runs the world in real time; 120 runs two simulated minutes per real second"),
            );
        }
    }

    fn network(&mut self) {
        let n = &self.s.network;
        self.unique("relay", n.relays.iter().enumerate().map(|(i, r)| (format!("network.relays[{i}].id"), r.id.as_str())));
        self.unique("board", n.boards.iter().enumerate().map(|(i, b)| (format!("network.boards[{i}].id"), b.id.as_str())));
        let boards: Vec<&str> = self.ix.boards.iter().copied().collect();
        let sites = names(&self.ix.sites);
        for (i, r) in n.relays.iter().enumerate() {
            if let Some(b) = &r.board {
                self.require(format!("network.relays[{i}].board"), "board", b.as_str(), &boards, "network.boards");
            }
        }
        for (i, o) in n.onion_services.iter().enumerate() {
            self.require(format!("network.onion_services[{i}].site"), "site", o.site.as_str(), &sites, "sites");
            if let Some(b) = &o.board {
                self.require(format!("network.onion_services[{i}].board"), "board", b.as_str(), &boards, "network.boards");
            }
        }
    }

    fn sites(&mut self) {
        let s = self.s;
        self.unique("site", s.sites.iter().enumerate().map(|(i, x)| (format!("sites[{i}].id"), x.id.as_str())));
        let actors = names(&self.ix.actors);
        for (i, site) in s.sites.iter().enumerate() {
            if let SiteKind::Market(m) = &site.kind
                && let Some(op) = &m.operator
            {
                self.require(format!("sites[{i}].kind.Market.operator"), "actor", op.as_str(), &actors, "cast");
            }
            if let SiteKind::Market(m) = &site.kind
                && let Some(h) = &m.hosting
            {
                self.hosting(i, m, h);
            }
        }
    }

    fn coin(&mut self) {
        let c = &self.s.coin;
        if c.block_interval <= SimDuration(0) {
            self.push(Problem::new("coin.block_interval", "the block interval must be longer than 0s").with_help("e.g. \"10m\""));
        }
        let actors = names(&self.ix.actors);
        for (i, f) in c.initial_funds.iter().enumerate() {
            self.require(format!("coin.initial_funds[{i}].actor"), "actor", f.actor.as_str(), &actors, "cast");
        }
    }

    fn providers(&mut self) {
        let s = self.s;
        self.unique("provider", s.providers.iter().enumerate().map(|(i, p)| (format!("providers[{i}].id"), p.id.as_str())));
        for (i, p) in s.providers.iter().enumerate() {
            for (j, o) in p.offices.iter().enumerate() {
                self.coordinates(&format!("providers[{i}].offices[{j}]"), o.lat, o.lon);
            }
            if !p.offices.is_empty() && p.kind != ProviderKind::Courier {
                self.push(
                    Problem::new(format!("providers[{i}].offices"), format!("provider `{}` is not a courier, so it has no offices", p.id))
                        .with_help("offices belong to `Courier` providers"),
                );
            }
            for (j, o) in p.offices.iter().enumerate() {
                if p.offices[..j].iter().any(|x| x.name.trim().eq_ignore_ascii_case(o.name.trim())) {
                    self.push(Problem::new(format!("providers[{i}].offices[{j}].name"), format!("office `{}` is listed twice", o.name)));
                }
            }
            if p.response_delay > s.meta.time_budget {
                self.push(
                    Problem::new(
                        format!("providers[{i}].response_delay"),
                        format!(
                            "provider `{}` answers after {}, longer than the team's time budget of {}",
                            p.id, p.response_delay, s.meta.time_budget
                        ),
                    )
                    .with_help("shorten the response delay or lengthen `meta.time_budget`"),
                );
            }
        }
    }

    fn cast(&mut self) {
        let s = self.s;
        self.unique("actor", s.cast.iter().enumerate().map(|(i, a)| (format!("cast[{i}].id"), a.id.as_str())));
        self.unique(
            "persona",
            s.cast
                .iter()
                .enumerate()
                .flat_map(|(i, a)| a.personas.iter().enumerate().map(move |(j, p)| (format!("cast[{i}].personas[{j}].id"), p.id.as_str()))),
        );
        self.unique(
            "listing",
            s.cast.iter().enumerate().flat_map(|(i, a)| {
                a.script.iter().enumerate().filter_map(move |(k, st)| match &st.action {
                    Action::List { listing, .. } => Some((format!("cast[{i}].script[{k}].action.List.listing.id"), listing.id.as_str())),
                    _ => None,
                })
            }),
        );
        self.unique(
            "slip",
            s.cast
                .iter()
                .enumerate()
                .flat_map(|(i, a)| a.slips.iter().enumerate().map(move |(j, sl)| (format!("cast[{i}].slips[{j}].id"), sl.id.as_str()))),
        );
        let sites = names(&self.ix.sites);
        for (i, a) in s.cast.iter().enumerate() {
            for (j, p) in a.personas.iter().enumerate() {
                self.require(format!("cast[{i}].personas[{j}].site"), "site", p.site.as_str(), &sites, "sites");
            }
            if let Some(isp) = &a.identity.isp {
                let path = format!("cast[{i}].identity.isp");
                if self.provider(path.clone(), isp.as_str()) && s.providers.iter().any(|p| &p.id == isp && p.kind != ProviderKind::Isp) {
                    self.push(Problem::new(path, format!("provider `{isp}` is not an internet provider (kind Isp)")));
                }
            }
            for (k, step) in a.script.iter().enumerate() {
                self.step(i, a, k, step);
            }
            for (j, slip) in a.slips.iter().enumerate() {
                match &slip.kind {
                    SlipKind::AddressInProfile(p) => {
                        self.own_persona(format!("cast[{i}].slips[{j}].kind.AddressInProfile"), a, p);
                    }
                    SlipKind::CashOutToKycExchange(p) => {
                        self.provider(format!("cast[{i}].slips[{j}].kind.CashOutToKycExchange"), p.as_str());
                    }
                    SlipKind::EmailInPgpKey(p) => {
                        self.own_persona(format!("cast[{i}].slips[{j}].kind.EmailInPgpKey"), a, p);
                    }
                    SlipKind::MailboxFromHome(p) => {
                        self.provider(format!("cast[{i}].slips[{j}].kind.MailboxFromHome"), p.as_str());
                    }
                    SlipKind::PhotoGps { persona, lat, lon } => {
                        let base = format!("cast[{i}].slips[{j}].kind.PhotoGps");
                        self.own_persona(format!("{base}.persona"), a, persona);
                        self.coordinates(&base, *lat, *lon);
                    }
                    SlipKind::StatusPageLeak(site) => self.operated_market(format!("cast[{i}].slips[{j}].kind.StatusPageLeak"), a, site),
                    SlipKind::HostingPanelFromHome(p) => {
                        self.provider(format!("cast[{i}].slips[{j}].kind.HostingPanelFromHome"), p.as_str());
                    }
                    SlipKind::SharedFavicon { site, host } => {
                        let path = format!("cast[{i}].slips[{j}].kind.SharedFavicon");
                        self.operated_market(format!("{path}.site"), a, site);
                        self.clearnet_host(format!("{path}.host"), host);
                        if !self.s.sites.iter().any(|x| matches!(x.kind, SiteKind::Search)) {
                            self.push(
                                Problem::new(
                                    path,
                                    "no search engine knows the clearnet host's fingerprints: the scenario has no `Search` site",
                                )
                                .with_help("add a site of kind `Search`"),
                            );
                        }
                    }
                }
            }
            for (j, r) in a.reactions.iter().enumerate() {
                self.reaction(&format!("cast[{i}].reactions[{j}]"), a, r);
            }
        }
    }

    /// A reaction: its trigger watches one of the actor's own personas, with sensible
    /// words, and its response names what it needs (a mixer, a country).
    fn reaction(&mut self, path: &str, a: &Actor, r: &Reaction) {
        let variant = match &r.trigger {
            Trigger::TippedOff(_) => "TippedOff",
            Trigger::Message(..) => "Message",
            Trigger::ForumWarning(_) => "ForumWarning",
            Trigger::OddAccount(_) => "OddAccount",
        };
        let persona = r.trigger.persona();
        // A one-field variant's value sits at the variant's path; `Message`'s persona is its field 0.
        let persona_path = match &r.trigger {
            Trigger::Message(..) => format!("{path}.trigger.{variant}[0]"),
            _ => format!("{path}.trigger.{variant}"),
        };
        self.own_persona(persona_path, a, persona);
        if let Trigger::Message(_, words) = &r.trigger {
            for (k, w) in words.iter().enumerate() {
                if w.trim().is_empty() {
                    self.push(
                        Problem::new(format!("{path}.trigger.Message[1][{k}]"), "a tip-off word must not be empty")
                            .with_help("leave the list empty to use `tip_offs.words`"),
                    );
                }
            }
        }
        let site_kind = |id: &SiteId| self.s.sites.iter().find(|x| &x.id == id).map(|x| &x.kind);
        let persona_site = a.personas.iter().find(|x| &x.id == persona).map(|x| x.site.clone());
        match (&r.trigger, persona_site.as_ref().and_then(site_kind)) {
            (Trigger::Message(..) | Trigger::OddAccount(_), Some(k)) if !matches!(k, SiteKind::Market(_)) => {
                self.push(
                    Problem::new(
                        format!("{path}.trigger.{variant}"),
                        format!("persona `{persona}` is not on a market: it gets no private messages"),
                    )
                    .with_help("watch a market persona, or use `ForumWarning`"),
                );
            }
            (Trigger::ForumWarning(_), _) if !self.s.sites.iter().any(|x| matches!(x.kind, SiteKind::Forum)) => {
                self.push(
                    Problem::new(format!("{path}.trigger.ForumWarning"), "the scenario has no forum where a warning could be posted")
                        .with_help("add a site of kind `Forum`, or use another trigger"),
                );
            }
            _ => {}
        }
        match &r.response {
            ReactionKind::MoveFunds(via) => {
                self.site_of_kind(format!("{path}.response.MoveFunds"), via.as_str(), "a Mixer", |k| matches!(k, SiteKind::Mixer(_)))
            }
            ReactionKind::LeaveAbroad(country) if country.trim().is_empty() => self.push(
                Problem::new(format!("{path}.response.LeaveAbroad"), "the country the actor leaves for must be named")
                    .with_help("e.g. `LeaveAbroad(\"Spain\")`"),
            ),
            _ => {}
        }
    }

    /// The tip-off rules: words to look for, and a positive interval between looks.
    fn tip_offs(&mut self) {
        let t = &self.s.tip_offs;
        for (name, words) in [("words", &t.words), ("warning_words", &t.warning_words)] {
            for (k, w) in words.iter().enumerate() {
                if w.trim().is_empty() {
                    self.push(Problem::new(format!("tip_offs.{name}[{k}]"), "a tip-off word must not be empty"));
                }
            }
        }
        if t.check_every.as_secs() <= 0 {
            self.push(
                Problem::new("tip_offs.check_every", format!("watchful actors must look now and then, found {}", t.check_every))
                    .with_help("e.g. `check_every: \"6h\"`"),
            );
        }
        if t.odd_account_messages == 0 {
            self.push(Problem::new("tip_offs.odd_account_messages", "at least 1 message is expected"));
        }
    }

    /// Variants that move slips name actors of the cast and give each at least two options
    /// (what each option holds is checked in the variants it makes).
    fn slip_options(&mut self) {
        let Some(v) = &self.s.variants else { return };
        let actors = names(&self.ix.actors);
        for (i, c) in v.slips.iter().enumerate() {
            self.require(format!("variants.slips[{i}].actor"), "actor", c.actor.as_str(), &actors, "cast");
            if c.options.len() < 2 {
                self.push(
                    Problem::new(
                        format!("variants.slips[{i}].options"),
                        format!("{} option(s) for actor `{}`: nothing to vary", c.options.len(), c.actor),
                    )
                    .with_help("give at least two slip sets, the first being the actor's own `slips`"),
                );
            }
        }
    }

    /// Requires a latitude within ±90 and a longitude within ±180.
    fn coordinates(&mut self, base: &str, lat: f64, lon: f64) {
        if !(-90.0..=90.0).contains(&lat) {
            self.push(Problem::new(format!("{base}.lat"), format!("latitude must be -90 to 90 degrees, found {lat}")));
        }
        if !(-180.0..=180.0).contains(&lon) {
            self.push(Problem::new(format!("{base}.lon"), format!("longitude must be -180 to 180 degrees, found {lon}")));
        }
    }

    fn provider(&mut self, path: String, id: &str) -> bool {
        let known = names(&self.ix.providers);
        self.require(path, "provider", id, &known, "providers")
    }

    /// Requires `p` to be one of `actor`'s own personas.
    fn own_persona(&mut self, path: String, actor: &Actor, p: &PersonaId) {
        if actor.personas.iter().any(|x| x.id == *p) {
            return;
        }
        match self.ix.personas.get(p.as_str()) {
            Some((owner, _)) => {
                let msg = format!("persona `{p}` belongs to actor `{}`, not to `{}`", owner.id, actor.id);
                self.push(Problem::new(path, msg).with_help("an actor can only act through its own personas"));
            }
            None => {
                let own: Vec<&str> = actor.personas.iter().map(|x| x.id.as_str()).collect();
                let help = match did_you_mean(p.as_str(), &own) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None if own.is_empty() => format!("actor `{}` has no personas: add one to its `personas`", actor.id),
                    None => format!("personas of actor `{}`: {}", actor.id, quoted(&own)),
                };
                self.push(Problem::new(path, format!("no persona `{p}` is defined")).with_help(help));
            }
        }
    }

    /// A background population trades on a market, with sane ranges and hours.
    fn population(&mut self) {
        for (i, a) in self.s.cast.iter().enumerate() {
            if let Some(h) = a.habits.active_hours.filter(|h| h.from > 24 || h.to > 24 || h.from == h.to) {
                self.push(Problem::new(
                    format!("cast[{i}].habits.active_hours"),
                    format!("({}, {}) is not a window of hours 0–24", h.from, h.to),
                ));
            }
        }
        let Some(pop) = &self.s.population else { return };
        self.site_of_kind("population.market".into(), pop.market.as_str(), "a Market", |k| matches!(k, SiteKind::Market(_)));
        if pop.vendors.min_price > pop.vendors.max_price {
            self.push(Problem::new(
                "population.vendors.min_price",
                format!("min_price {} is above max_price {}", pop.vendors.min_price, pop.vendors.max_price),
            ));
        }
        if pop.buyers.count > 0 && pop.vendors.count == 0 && !self.s.cast.iter().any(|a| a.role == Role::Vendor) {
            self.push(
                Problem::new("population.buyers.count", "background buyers need vendors to buy from")
                    .with_help("add `vendors: (count: …)`"),
            );
        }
        if pop.buyers.ratings.len() != 5 || pop.buyers.ratings.iter().all(|w| *w == 0) {
            self.push(
                Problem::new(
                    "population.buyers.ratings",
                    format!("expected five weights (1 to 5 stars), not all 0; found {:?}", pop.buyers.ratings),
                )
                .with_help("e.g. `ratings: [2, 1, 3, 10, 30]`"),
            );
        }
        if pop.buyers.dispute_percent > 100 {
            self.push(Problem::new("population.buyers.dispute_percent", format!("{} is not a per cent", pop.buyers.dispute_percent)));
        }
        if pop.buyers.order_every.as_secs() <= 0 || pop.vendors.check_in_every.as_secs() <= 0 {
            self.push(Problem::new("population", "order_every and check_in_every must be positive durations"));
        }
        if let Some(h) = pop.active_hours.filter(|h| h.from > 24 || h.to > 24 || h.from == h.to) {
            self.push(Problem::new("population.active_hours", format!("({}, {}) is not a window of hours 0–24", h.from, h.to)));
        }
    }

    /// Checks that `p` is the actor's own persona on a market the actor operates.
    /// A market's rented server: a hosting provider, an operator to rent it.
    fn hosting(&mut self, i: usize, m: &MarketSite, h: &MarketHosting) {
        let path = format!("sites[{i}].kind.Market.hosting.provider");
        if self.provider(path.clone(), h.provider.as_str())
            && self.s.providers.iter().any(|p| p.id == h.provider && p.kind != ProviderKind::Hosting)
        {
            self.push(Problem::new(path, format!("provider `{}` is not a hosting provider (kind Hosting)", h.provider)));
        }
        if m.operator.is_none() {
            self.push(
                Problem::new(
                    format!("sites[{i}].kind.Market.hosting"),
                    "a market's server is rented by its operator, and this market has none",
                )
                .with_help("set `operator: Some(\"<actor>\")` on the market"),
            );
        }
        // Rent in darkcoin is a real transaction from the operator's wallet, before the story.
        if let Some(op) = m.operator.as_ref().filter(|_| h.payment_method == "darkcoin") {
            let funds: u64 = self.s.coin.initial_funds.iter().filter(|f| &f.actor == op).map(|f| f.amount.0).sum();
            let needed = h.monthly_rent.saturating_add(self.s.coin.fee_rate.saturating_mul(500));
            if funds < needed {
                self.push(
                    Problem::new(
                        format!("sites[{i}].kind.Market.hosting.monthly_rent"),
                        format!(
                            "the operator `{op}` pays the rent ({}) in darkcoin from his own wallet before the story, but starts with {}",
                            crate::ids::Sats(h.monthly_rent),
                            crate::ids::Sats(funds)
                        ),
                    )
                    .with_help(format!("give `{op}` `initial_funds` of at least {} (the rent and its fee)", crate::ids::Sats(needed))),
                );
            }
        }
    }

    /// A slip about a market's server: the market must exist and be run by this actor.
    fn operated_market(&mut self, path: String, actor: &Actor, site: &SiteId) {
        let sites = names(&self.ix.sites);
        if !self.require(path.clone(), "site", site.as_str(), &sites, "sites") {
            return;
        }
        let runs =
            self.s.sites.iter().any(|x| &x.id == site && matches!(&x.kind, SiteKind::Market(m) if m.operator.as_ref() == Some(&actor.id)));
        if !runs {
            self.push(
                Problem::new(path, format!("actor `{}` does not operate the market `{site}`", actor.id))
                    .with_help(format!("set `operator: Some(\"{}\")` on the market `{site}`", actor.id)),
            );
        }
    }

    /// Requires `host` to be a clearnet name `<label>.example` no service of the world has.
    fn clearnet_host(&mut self, path: String, host: &str) {
        let label = host.strip_suffix(".example").unwrap_or("");
        let valid = !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            self.push(
                Problem::new(path, format!("`{host}` is not a clearnet host name"))
                    .with_help("write `<label>.example`: lower-case letters, digits and `-`"),
            );
            return;
        }
        let taken = self.s.sites.iter().map(|x| x.id.as_str()).chain(self.s.providers.iter().map(|p| p.id.as_str())).any(|id| id == label)
            || host == "explorer.darkcoin.example";
        if taken {
            self.push(Problem::new(path, format!("`{host}` is already the name of a service of the world")));
        }
    }

    fn operator_persona(&mut self, path: String, actor: &Actor, p: &PersonaId) {
        self.own_persona(path.clone(), actor, p);
        let Some(persona) = actor.personas.iter().find(|x| x.id == *p) else { return };
        let runs = self
            .s
            .sites
            .iter()
            .any(|x| x.id == persona.site && matches!(&x.kind, SiteKind::Market(m) if m.operator.as_ref() == Some(&actor.id)));
        if !runs {
            self.push(
                Problem::new(path, format!("actor `{}` does not operate `{}`, where persona `{p}` lives", actor.id, persona.site))
                    .with_help(format!("set `operator: Some(\"{}\")` on the market `{}`", actor.id, persona.site)),
            );
        }
    }

    fn step(&mut self, i: usize, a: &Actor, k: usize, step: &Step) {
        let s = self.s;
        let base = format!("cast[{i}].script[{k}]");
        let latest = SimDuration(step.at.0.saturating_add(step.jitter.0));
        if latest > s.meta.world_duration {
            let (path, what) = if step.at > s.meta.world_duration {
                (format!("{base}.at"), format!("step runs at {} after the start", step.at))
            } else {
                (format!("{base}.jitter"), format!("with jitter, step may run at {latest} after the start"))
            };
            self.push(
                Problem::new(path, format!("{what}, after the world ends ({})", s.meta.world_duration))
                    .with_help("move the step earlier or lengthen `meta.world_duration`"),
            );
        }
        let act = format!("{base}.action");
        match &step.action {
            Action::Register(p) => self.own_persona(format!("{act}.Register"), a, p),
            Action::OpenShop { persona, .. } => self.own_persona(format!("{act}.OpenShop.persona"), a, persona),
            Action::List { persona, .. } => self.own_persona(format!("{act}.List.persona"), a, persona),
            Action::Order { persona, listing, .. } => {
                self.own_persona(format!("{act}.Order.persona"), a, persona);
                let known = names(&self.ix.listings);
                if !known.contains(&listing.as_str()) {
                    let help = match did_you_mean(listing.as_str(), &known) {
                        Some(x) => format!("did you mean `{x}`?"),
                        None => "a listing exists only once some vendor's script has a `List` action for it".into(),
                    };
                    self.push(
                        Problem::new(format!("{act}.Order.listing"), format!("no `List` action defines listing `{listing}`"))
                            .with_help(help),
                    );
                }
            }
            Action::ShipOrders(p) => self.own_persona(format!("{act}.ShipOrders"), a, p),
            Action::ShipByCourier { persona, courier, office } => {
                self.own_persona(format!("{act}.ShipByCourier.persona"), a, persona);
                let path = format!("{act}.ShipByCourier.courier");
                if self.provider(path.clone(), courier.as_str()) {
                    match s.providers.iter().find(|p| &p.id == courier) {
                        Some(p) if p.kind != ProviderKind::Courier => {
                            self.push(Problem::new(path, format!("provider `{courier}` is not a courier (kind Courier)")));
                        }
                        Some(p) if !p.offices.iter().any(|o| &o.name == office) => {
                            let known: Vec<&str> = p.offices.iter().map(|o| o.name.as_str()).collect();
                            let help = match did_you_mean(office, &known) {
                                Some(x) => format!("did you mean `{x}`?"),
                                None => format!("offices of `{courier}`: {}", quoted(&known)),
                            };
                            self.push(
                                Problem::new(
                                    format!("{act}.ShipByCourier.office"),
                                    format!("courier `{courier}` has no office `{office}`"),
                                )
                                .with_help(help),
                            );
                        }
                        _ => {}
                    }
                }
            }
            Action::FinalizeOrders { persona, rating, .. } => {
                self.own_persona(format!("{act}.FinalizeOrders.persona"), a, persona);
                if !(1..=5).contains(rating) {
                    self.push(Problem::new(format!("{act}.FinalizeOrders.rating"), format!("rating must be 1 to 5, found {rating}")));
                }
            }
            Action::OpenAccount { provider, .. } => {
                self.provider(format!("{act}.OpenAccount.provider"), provider.as_str());
            }
            Action::Post { persona, .. } => self.own_persona(format!("{act}.Post.persona"), a, persona),
            Action::Profile { persona, .. } => self.own_persona(format!("{act}.Profile.persona"), a, persona),
            Action::Paste { site, author, .. } => {
                self.site_of_kind(format!("{act}.Paste.site"), site.as_str(), "a Paste site", |k| matches!(k, SiteKind::Paste));
                if let Some(p) = author {
                    self.own_persona(format!("{act}.Paste.author"), a, p);
                }
            }
            Action::Tumble { via } => {
                self.site_of_kind(format!("{act}.Tumble.via"), via.as_str(), "a Mixer", |k| matches!(k, SiteKind::Mixer(_)))
            }
            Action::CoinJoin { via } => self.site_of_kind(format!("{act}.CoinJoin.via"), via.as_str(), "a CoinJoin coordinator", |k| {
                matches!(k, SiteKind::CoinJoin(_))
            }),
            Action::AnswerMessages(p) => self.own_persona(format!("{act}.AnswerMessages"), a, p),
            Action::Announce { persona, .. } => self.operator_persona(format!("{act}.Announce.persona"), a, persona),
            Action::Ban { persona, .. } => self.operator_persona(format!("{act}.Ban.persona"), a, persona),
            Action::CollectCommission(p) => self.operator_persona(format!("{act}.CollectCommission"), a, p),
            Action::ExitScam(p) => self.operator_persona(format!("{act}.ExitScam"), a, p),
            Action::CashOut { provider } => {
                let path = format!("{act}.CashOut.provider");
                if self.provider(path.clone(), provider.as_str()) && account_before(a, k, provider).is_none() {
                    self.push(
                        Problem::new(path, format!("actor `{}` cashes out to `{provider}` without an account there", a.id))
                            .with_help(format!("add an earlier step `OpenAccount(provider: \"{provider}\", username: ...)` to its script")),
                    );
                }
            }
        }
    }

    /// Checks that `id` names a site of the wanted kind.
    fn site_of_kind(&mut self, path: String, id: &str, what: &str, wanted: impl Fn(&SiteKind) -> bool) {
        match self.s.sites.iter().find(|x| x.id.as_str() == id) {
            Some(site) if wanted(&site.kind) => {}
            Some(_) => self.push(Problem::new(path, format!("site `{id}` is not {what}"))),
            None => {
                let known: Vec<&str> = self.s.sites.iter().map(|x| x.id.as_str()).collect();
                let mut p = Problem::new(path, format!("no site `{id}`"));
                if let Some(x) = did_you_mean(id, &known) {
                    p = p.with_help(format!("did you mean `{x}`?"));
                }
                self.push(p);
            }
        }
    }

    fn legal(&mut self) {
        let s = self.s;
        let mut seen: BTreeMap<(RequestKind, Option<ProviderKind>), usize> = BTreeMap::new();
        for (i, r) in s.legal.rules.iter().enumerate() {
            if let Some(first) = seen.get(&(r.request, r.provider_kind)) {
                let kind = match r.provider_kind {
                    Some(k) => format!("{k:?} providers"),
                    None => "any provider".into(),
                };
                self.push(
                    Problem::new(format!("legal.rules[{i}]"), format!("a second rule for {:?} requests to {kind}", r.request))
                        .with_help(format!("the first is legal.rules[{first}]; merge them")),
                );
            } else {
                seen.insert((r.request, r.provider_kind), i);
            }
            if r.request == RequestKind::UndercoverAuthorisation && r.provider_kind.is_some() {
                self.push(
                    Problem::new(format!("legal.rules[{i}].provider_kind"), "an undercover authorisation is addressed to no provider")
                        .with_help("the team acts on a site itself: remove `provider_kind`"),
                );
            }
            if let Grounds::LinkToOffence { max_hops } = r.grounds
                && max_hops < 1
            {
                self.push(
                    Problem::new(format!("legal.rules[{i}].grounds.LinkToOffence.max_hops"), "max_hops must be at least 1")
                        .with_help("or use `grounds: None` when no link is required"),
                );
            }
        }
    }

    fn charges(&mut self) {
        let s = self.s;
        self.unique("charge", s.charges.iter().enumerate().map(|(i, c)| (format!("charges[{i}].id"), c.id.as_str())));
        let actors = names(&self.ix.actors);
        let personas = names(&self.ix.personas);
        let unprovable = super::possible::unprovable(s);
        for (i, c) in s.charges.iter().enumerate() {
            self.require(format!("charges[{i}].offender"), "actor", c.offender.as_str(), &actors, "cast");
            self.unique("element", c.elements.iter().enumerate().map(|(j, e)| (format!("charges[{i}].elements[{j}].id"), e.id.as_str())));
            for (j, e) in c.elements.iter().enumerate() {
                let base = format!("charges[{i}].elements[{j}].proven_by");
                match &e.proven_by {
                    Proof::Fact { persona, .. } => {
                        self.require(format!("{base}.Fact.persona"), "persona", persona.as_str(), &personas, "cast[..].personas");
                    }
                    Proof::Link { persona, provider, .. } => {
                        self.require(format!("{base}.Link.persona"), "persona", persona.as_str(), &personas, "cast[..].personas");
                        if let Some(p) = provider {
                            self.provider(format!("{base}.Link.provider"), p.as_str());
                        }
                    }
                }
                if let Some(p) = unprovable.get(&(i, j)) {
                    self.push(p.clone());
                }
            }
        }
    }

    fn rubric(&mut self) {
        let r = &self.s.rubric;
        let penalties = [
            ("wrong_accusation", r.wrong_accusation),
            ("inadmissible", r.inadmissible),
            ("refused_request", r.refused_request),
            ("tip_off", r.tip_off),
            ("lateness.per_hour", r.lateness.per_hour),
            ("lateness.max", r.lateness.max),
        ];
        let rewards = [("step", r.step), ("attribution", r.attribution), ("element", r.element)];
        for (name, v) in rewards {
            if v < 0 {
                self.push(Problem::new(format!("rubric.{name}"), format!("`{name}` is a reward and must be 0 or more, found {v}")));
            }
        }
        if r.circumstantial_percent > 100 {
            self.push(Problem::new(
                "rubric.circumstantial_percent",
                format!("a share of at most 100 percent is expected, found {}", r.circumstantial_percent),
            ));
        }
        for (name, v) in penalties {
            if v > 0 {
                self.push(
                    Problem::new(format!("rubric.{name}"), format!("`{name}` is a penalty and must be 0 or less, found {v}"))
                        .with_help(format!("write `{name}: -{v}`")),
                );
            }
        }
    }

    fn injects_and_hints(&mut self) {
        let s = self.s;
        let end = SimDuration(s.meta.world_duration.0.saturating_add(s.meta.time_budget.0));
        for (i, inj) in s.injects.iter().enumerate() {
            if inj.at > end {
                self.push(
                    Problem::new(format!("injects[{i}].at"), format!("inject at {} comes after the exercise ends ({end})", inj.at))
                        .with_help("injects must fall within `meta.world_duration` + `meta.time_budget`"),
                );
            }
        }
        self.unique("hint", s.hints.iter().enumerate().map(|(i, h)| (format!("hints[{i}].id"), h.id.as_str())));
    }

    fn solution(&mut self) {
        let s = self.s;
        let all_labels: BTreeSet<&str> = s
            .solution
            .iter()
            .filter_map(|st| match st {
                SolutionStep::Capture { label, .. } => Some(label.as_str()),
                SolutionStep::Request { response, .. } => Some(response.as_str()),
                SolutionStep::File(_) => None,
            })
            .collect();
        self.unique(
            "evidence label",
            s.solution.iter().enumerate().filter_map(|(i, st)| match st {
                SolutionStep::Capture { label, .. } => Some((format!("solution[{i}].Capture.label"), label.as_str())),
                SolutionStep::Request { response, .. } => Some((format!("solution[{i}].Request.response"), response.as_str())),
                SolutionStep::File(_) => None,
            }),
        );
        self.unique(
            "request label",
            s.solution.iter().enumerate().filter_map(|(i, st)| match st {
                SolutionStep::Request { label, .. } => Some((format!("solution[{i}].Request.label"), label.as_str())),
                _ => None,
            }),
        );
        let mut defined: BTreeSet<&str> = BTreeSet::new();
        for (i, st) in s.solution.iter().enumerate() {
            match st {
                SolutionStep::Capture { label, target } => {
                    let base = format!("solution[{i}].Capture.target");
                    match target {
                        CaptureTarget::VendorProfile { site, handle } => {
                            self.vendor_profile(&format!("{base}.VendorProfile"), site, handle)
                        }
                        CaptureTarget::ExplorerAddress(r) => self.address_ref(&format!("{base}.ExplorerAddress"), r, &defined, &all_labels),
                        CaptureTarget::ExplorerSpend(r) => self.address_ref(&format!("{base}.ExplorerSpend"), r, &defined, &all_labels),
                        CaptureTarget::ListingPhoto { site, handle } => self.vendor_profile(&format!("{base}.ListingPhoto"), site, handle),
                        CaptureTarget::ServerStatus { site } | CaptureTarget::MarketNews { site } => {
                            let sites = names(&self.ix.sites);
                            self.require(format!("{base}.ServerStatus.site"), "site", site.as_str(), &sites, "sites");
                        }
                        CaptureTarget::FaviconSearch { site, engine } => {
                            let sites = names(&self.ix.sites);
                            self.require(format!("{base}.FaviconSearch.site"), "site", site.as_str(), &sites, "sites");
                            if self.require(format!("{base}.FaviconSearch.engine"), "site", engine.as_str(), &sites, "sites")
                                && !self.s.sites.iter().any(|x| &x.id == engine && matches!(x.kind, SiteKind::Search))
                            {
                                self.push(Problem::new(
                                    format!("{base}.FaviconSearch.engine"),
                                    format!("site `{engine}` is not a search engine (kind Search)"),
                                ));
                            }
                        }
                    }
                    defined.insert(label.as_str());
                }
                SolutionStep::Request { provider, target, grounds, response, .. } => {
                    let base = format!("solution[{i}].Request");
                    self.provider(format!("{base}.provider"), provider.as_str());
                    self.address_ref(&format!("{base}.target"), target, &defined, &all_labels);
                    for (j, g) in grounds.iter().enumerate() {
                        self.label_ref(format!("{base}.grounds[{j}]"), g.as_str(), &defined, &all_labels);
                    }
                    defined.insert(response.as_str());
                }
                SolutionStep::File(case) => self.file_case(i, case, &defined, &all_labels),
            }
        }
    }

    fn vendor_profile(&mut self, base: &str, site: &SiteId, handle: &str) {
        let sites = names(&self.ix.sites);
        let path = format!("{base}.site");
        if !self.require(path.clone(), "site", site.as_str(), &sites, "sites") {
            return;
        }
        if let Some(found) = self.ix.sites.get(site.as_str())
            && !matches!(found.kind, SiteKind::Market(_))
        {
            self.push(
                Problem::new(path, format!("site `{site}` is not a market")).with_help("vendor profiles exist only on `Market` sites"),
            );
            return;
        }
        let handles: Vec<&str> = self.ix.personas.values().filter(|(_, p)| p.site == *site).map(|(_, p)| p.handle.as_str()).collect();
        if !handles.contains(&handle) {
            let help = match did_you_mean(handle, &handles) {
                Some(h) => format!("did you mean `{h}`?"),
                None => format!("handles on `{site}`: {}", quoted(&handles)),
            };
            self.push(Problem::new(format!("{base}.handle"), format!("no persona on `{site}` has the handle `{handle}`")).with_help(help));
        }
    }

    fn address_ref(&mut self, base: &str, r: &AddressRef, defined: &BTreeSet<&str>, all: &BTreeSet<&str>) {
        let (variant, label) = match r {
            AddressRef::FirstIn(l) => ("FirstIn", l),
            AddressRef::PaidIn(l) => ("PaidIn", l),
            AddressRef::EmailIn(l) => ("EmailIn", l),
            AddressRef::IpIn(l) => ("IpIn", l),
            AddressRef::PlaceIn(l) => ("PlaceIn", l),
            AddressRef::SeizedPayout { image, .. } => ("SeizedPayout.image", image),
        };
        self.label_ref(format!("{base}.{variant}"), label.as_str(), defined, all);
    }

    /// Requires an evidence label defined by an earlier solution step.
    fn label_ref(&mut self, path: String, label: &str, defined: &BTreeSet<&str>, all: &BTreeSet<&str>) {
        if defined.contains(label) {
            return;
        }
        if all.contains(label) {
            self.push(
                Problem::new(path, format!("evidence `{label}` is used before the step that obtains it"))
                    .with_help(format!("move the step labelled `{label}` before this one")),
            );
        } else {
            let known: Vec<&str> = defined.iter().copied().collect();
            let help = match did_you_mean(label, &known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => "labels come from `Capture(label: ...)` and `Request(response: ...)` steps".into(),
            };
            self.push(Problem::new(path, format!("no evidence labelled `{label}`")).with_help(help));
        }
    }

    fn file_case(&mut self, i: usize, case: &CaseSpec, defined: &BTreeSet<&str>, all: &BTreeSet<&str>) {
        let personas = names(&self.ix.personas);
        let charges = names(&self.ix.charges);
        for (j, sus) in case.suspects.iter().enumerate() {
            let base = format!("solution[{i}].File.suspects[{j}]");
            for (k, p) in sus.personas.iter().enumerate() {
                self.require(format!("{base}.personas[{k}]"), "persona", p.as_str(), &personas, "cast[..].personas");
            }
            for (k, l) in sus.attribution.iter().enumerate() {
                self.label_ref(format!("{base}.attribution[{k}]"), l.as_str(), defined, all);
            }
            for (k, cs) in sus.charges.iter().enumerate() {
                let cbase = format!("{base}.charges[{k}]");
                if !self.require(format!("{cbase}.charge"), "charge", cs.charge.as_str(), &charges, "charges") {
                    continue;
                }
                let elements: Vec<&str> =
                    self.ix.charges.get(cs.charge.as_str()).map(|c| c.elements.iter().map(|e| e.id.as_str()).collect()).unwrap_or_default();
                for (m, es) in cs.elements.iter().enumerate() {
                    let what = format!("element of charge `{}`", cs.charge);
                    self.require(format!("{cbase}.elements[{m}].element"), &what, es.element.as_str(), &elements, "charges[..].elements");
                    for (n, l) in es.evidence.iter().enumerate() {
                        self.label_ref(format!("{cbase}.elements[{m}].evidence[{n}]"), l.as_str(), defined, all);
                    }
                }
            }
        }
    }
}

/// The latest `OpenAccount` at `provider` that comes before step `k` of the actor's
/// script (ordered by `at`, then by position), with its user name.
pub(crate) fn account_before<'a>(a: &'a Actor, k: usize, provider: &ProviderId) -> Option<(&'a Step, &'a str)> {
    let at = a.script.get(k)?.at;
    a.script
        .iter()
        .enumerate()
        .filter(|(j, st)| st.at < at || (st.at == at && *j < k))
        .filter_map(|(_, st)| match &st.action {
            Action::OpenAccount { provider: p, username } if p == provider => Some((st, username.as_str())),
            _ => None,
        })
        .max_by_key(|(st, _)| st.at)
}

fn quoted(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Scenario {
        ron::from_str(include_str!("../../../scenarios/careless-vendor.ron")).expect("parses")
    }

    fn paths(s: &Scenario) -> Vec<String> {
        check(s).into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn shipped_scenario_is_clean() {
        assert_eq!(check(&shipped()), Vec::new());
    }

    #[test]
    fn couriers_photos_and_slip_options_are_checked() {
        let mut s: Scenario = ron::from_str(include_str!("../../../scenarios/tumbling-vendor.ron")).expect("parses");
        let daan = &mut s.cast[0];
        for st in &mut daan.script {
            if let Action::ShipByCourier { office, .. } = &mut st.action {
                *office = "Delfshavn".into();
            }
        }
        if let Some(SlipKind::PhotoGps { lat, .. }) =
            daan.slips.iter_mut().map(|sl| &mut sl.kind).find(|k| matches!(k, SlipKind::PhotoGps { .. }))
        {
            *lat = 95.0;
        }
        let twice = s.providers[1].offices[0].clone();
        s.providers[1].offices.push(twice);
        s.variants = Some(Variants {
            count: 1,
            names: false,
            handles: false,
            amounts: false,
            timings: false,
            slips: vec![SlipOptions { actor: "nobody".into(), options: vec![] }],
        });
        let problems = check(&s);
        let found = |path: &str| problems.iter().find(|p| p.path == path).unwrap_or_else(|| panic!("no problem at {path}: {problems:#?}"));
        assert!(found("cast[0].script[5].action.ShipByCourier.office").help.as_deref().is_some_and(|h| h.contains("`Delfshaven`")));
        assert!(found("cast[0].slips[1].kind.PhotoGps.lat").message.contains("latitude"));
        assert!(found("providers[1].offices[2].name").message.contains("twice"));
        found("variants.slips[0].actor");
        found("variants.slips[0].options");
    }

    #[test]
    fn every_problem_is_reported() {
        let mut s = shipped();
        s.network.relays[1].id = s.network.relays[0].id.clone();
        let repeated = format!("legal.rules[{}]", s.legal.rules.len());
        s.legal.rules.push(s.legal.rules[1].clone());
        s.rubric.circumstantial_percent = 150;
        s.coin.block_interval = SimDuration(0);
        s.meta.compression = 0;
        s.providers[0].response_delay = SimDuration::days(30);
        s.injects[0].at = SimDuration::days(40);
        s.cast[0].script[1].action = Action::Register("nightowl".into());
        let got = paths(&s);
        for want in [
            "network.relays[1].id",
            repeated.as_str(),
            "rubric.circumstantial_percent",
            "coin.block_interval",
            "meta.compression",
            "providers[0].response_delay",
            "injects[0].at",
            "cast[0].script[1].action.Register",
            // Without OpenShop the laundering chain has no payout address.
            "charges[1].elements[0].proven_by",
        ] {
            assert!(got.iter().any(|p| p == want), "{want} missing from {got:?}");
        }
    }

    #[test]
    fn cash_out_before_any_sale_makes_laundering_unprovable() {
        let mut s = shipped();
        s.cast[0].script[7].at = SimDuration::hours(30);
        let problems = check(&s);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("before any sale is finalized"), "{problems:?}");
    }
}
