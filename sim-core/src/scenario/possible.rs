//! What the cast's scripts can make true: an abstract fact graph for solvability checks.
//!
//! [`possible_facts`] reads the scripts without running the world and builds the facts
//! they would produce, with symbolic names for things that only exist at run time:
//! `payout:<actor>` is a vendor's payout address, `escrow:<site>` a market's escrow,
//! `deposit:<actor>:<provider>` an exchange deposit address. A charge element whose
//! proof no chain of these facts can satisfy can never be proven by any team, so the
//! checker reports it.

use std::collections::BTreeMap;

use super::check::{Problem, account_before};
use super::model::*;
use crate::clock::SimDuration;
use crate::facts::{Entity, EntityKind, Fact, FactKind, FactSet};
use crate::ids::{ActorId, PersonaId, ProviderId};

fn payout(a: &ActorId) -> Entity {
    Entity::Address(format!("payout:{a}"))
}

fn deposit(a: &ActorId, p: &ProviderId) -> Entity {
    Entity::Address(format!("deposit:{a}:{p}"))
}

/// When each vendor is first paid from escrow, and from which market.
fn first_payouts(s: &Scenario) -> BTreeMap<&ActorId, (SimDuration, String)> {
    let mut persona_site: BTreeMap<&PersonaId, &str> = BTreeMap::new();
    for a in &s.cast {
        for p in &a.personas {
            persona_site.entry(&p.id).or_insert(p.site.as_str());
        }
    }
    let mut owner: BTreeMap<&str, (&ActorId, &PersonaId)> = BTreeMap::new();
    for a in &s.cast {
        for st in &a.script {
            if let Action::List { persona, listing } = &st.action {
                owner.entry(listing.id.as_str()).or_insert((&a.id, persona));
            }
        }
    }
    let mut paid: BTreeMap<&ActorId, (SimDuration, String)> = BTreeMap::new();
    for buyer in &s.cast {
        for order in &buyer.script {
            let Action::Order { persona, listing, .. } = &order.action else { continue };
            let Some((vendor, vendor_persona)) = owner.get(listing.as_str()) else { continue };
            let finalized = buyer.script.iter().filter(|st| st.at >= order.at).find_map(|st| match &st.action {
                Action::FinalizeOrders { persona: p, .. } if p == persona => Some(st.at),
                _ => None,
            });
            if let Some(t) = finalized {
                let site = persona_site.get(vendor_persona).copied().unwrap_or("?").to_string();
                let entry = paid.entry(vendor).or_insert((t, site.clone()));
                if t < entry.0 {
                    *entry = (t, site);
                }
            }
        }
    }
    paid
}

/// The facts the cast's scripts can make true, with symbolic addresses.
pub fn possible_facts(s: &Scenario) -> FactSet {
    let mut facts = FactSet::new();
    let paid = first_payouts(s);
    let funded: Vec<&ActorId> = s.coin.initial_funds.iter().filter(|f| f.amount.0 > 0).map(|f| &f.actor).collect();
    for (vendor, (_, site)) in &paid {
        facts.insert(Fact::new(FactKind::Transfer, Entity::Address(format!("escrow:{site}")), payout(vendor)));
    }
    for a in &s.cast {
        for (k, st) in a.script.iter().enumerate() {
            match &st.action {
                Action::List { persona, listing } => {
                    facts.insert(Fact::new(FactKind::Offers, Entity::Persona(persona.clone()), Entity::Listing(listing.id.clone())));
                    if let Some(p) = a.personas.iter().find(|p| &p.id == persona) {
                        facts.insert(Fact::new(FactKind::ListedOn, Entity::Listing(listing.id.clone()), Entity::Site(p.site.clone())));
                    }
                }
                Action::OpenShop { persona, .. } => {
                    facts.insert(Fact::new(FactKind::ControlsAddress, Entity::Persona(persona.clone()), payout(&a.id)));
                }
                Action::OpenAccount { provider, username } => {
                    let account = Entity::Account(provider.clone(), username.clone());
                    facts.insert(Fact::new(FactKind::AccountHolder, account.clone(), Entity::Identity(a.id.clone())));
                    // A clearnet exchange logs the sign-up from the home line.
                    facts.insert(Fact::new(FactKind::LoggedInFrom, account, Entity::Ip(a.identity.home_ip.trim().to_string())));
                }
                Action::CashOut { provider } => {
                    let Some((_, username)) = account_before(a, k, provider) else { continue };
                    let dep = deposit(&a.id, provider);
                    let account = Entity::Account(provider.clone(), username.to_string());
                    facts.insert(Fact::new(FactKind::DepositAddressOf, dep.clone(), account));
                    // Coins sent through a mixer before the cash-out come back from the
                    // mixer's own pool: on chain nothing links the payout address to the
                    // deposit any more (only the mixer's records would).
                    let mixed = a.script.iter().take(k).any(|x| matches!(x.action, Action::Tumble { .. }) && x.at <= st.at);
                    if paid.get(&a.id).is_some_and(|(t, _)| *t < st.at) && !mixed {
                        facts.insert(Fact::new(FactKind::Transfer, payout(&a.id), dep.clone()));
                    }
                    if funded.contains(&&a.id) {
                        facts.insert(Fact::new(FactKind::Transfer, Entity::Address(format!("wallet:{}", a.id)), dep));
                    }
                }
                _ => {}
            }
        }
        identity_facts(s, a, &mut facts);
        trace_facts(s, a, &mut facts);
    }
    hosting_facts(s, &mut facts);
    facts
}

/// The place of a courier's office, by the courier's id and the office's name.
pub fn office_place(s: &Scenario, courier: &ProviderId, office: &str) -> Option<Entity> {
    let p = s.providers.iter().find(|p| &p.id == courier && p.kind == ProviderKind::Courier)?;
    p.offices.iter().find(|o| o.name == office).map(|o| Entity::place_at(o.lat, o.lon))
}

/// When the latest parcel can be handed in at `courier`'s office `office` (the latest
/// `ShipByCourier` step there, without its jitter): how its records are dated.
pub fn last_drop_off(s: &Scenario, courier: &ProviderId, office: &str) -> Option<SimDuration> {
    s.cast
        .iter()
        .flat_map(|a| a.script.iter())
        .filter(|st| matches!(&st.action, Action::ShipByCourier { courier: c, office: o, .. } if c == courier && o == office))
        .map(|st| st.at)
        .max()
}

/// When the deposit address `deposit:<actor>:<provider>` a trail can reach was issued: the
/// first cash-out the on-chain trail follows (not mixed, after a payout), else the last.
pub fn deposit_time(s: &Scenario, deposit: &Entity, provider: &ProviderId) -> Option<SimDuration> {
    let Entity::Address(name) = deposit else { return None };
    let actor = name.strip_prefix("deposit:")?.strip_suffix(&format!(":{provider}"))?;
    let a = s.cast.iter().find(|a| a.id.as_str() == actor)?;
    let paid = first_payouts(s).get(&a.id).map(|(t, _)| *t);
    let cash_outs: Vec<&Step> =
        a.script.iter().filter(|st| matches!(&st.action, Action::CashOut { provider: p } if p == provider)).collect();
    let followed = cash_outs
        .iter()
        .find(|st| paid.is_some_and(|t| t < st.at) && !a.script.iter().any(|x| matches!(x.action, Action::Tumble { .. }) && x.at <= st.at));
    followed.or(cash_outs.last()).map(|st| st.at)
}

/// What a vendor's shipping and photos could make true: a listing photographed where the
/// slip says (or, had the vendor been careless there, at the office it ships from), and
/// each office it ships orders from taking in parcels under its real name. Which photos a
/// team can see is decided by `PhotoGps` slips in the solver.
fn trace_facts(s: &Scenario, a: &Actor, facts: &mut FactSet) {
    let listings: Vec<(&PersonaId, &crate::ids::ListingId)> = a
        .script
        .iter()
        .filter_map(|st| match &st.action {
            Action::List { persona, listing } => Some((persona, &listing.id)),
            _ => None,
        })
        .collect();
    let ordered = |p: &PersonaId, before: SimDuration| {
        s.cast.iter().flat_map(|b| b.script.iter()).any(|st| {
            matches!(&st.action, Action::Order { listing, .. } if listings.iter().any(|(x, l)| *x == p && *l == listing)) && st.at < before
        })
    };
    for st in &a.script {
        let Action::ShipByCourier { persona, courier, office } = &st.action else { continue };
        let Some(place) = office_place(s, courier, office) else { continue };
        if ordered(persona, st.at) {
            facts.insert(Fact::new(FactKind::ParcelDroppedBy, place.clone(), Entity::Identity(a.id.clone())));
        }
        for (_, l) in listings.iter().filter(|(p, _)| *p == persona) {
            facts.insert(Fact::new(FactKind::PhotographedAt, Entity::Listing((*l).clone()), place.clone()));
        }
    }
    for slip in &a.slips {
        let SlipKind::PhotoGps { persona, lat, lon } = &slip.kind else { continue };
        for (_, l) in listings.iter().filter(|(p, _)| *p == persona) {
            facts.insert(Fact::new(FactKind::PhotographedAt, Entity::Listing((*l).clone()), Entity::place_at(*lat, *lon)));
        }
    }
}

/// The symbolic IP of the server a market's operator rents (`server:<site>`): the hosting
/// provider assigns the real one at run time.
pub fn server_ip(site: &crate::ids::SiteId) -> Entity {
    Entity::Ip(format!("server:{site}"))
}

/// What renting a market's server makes true: the site is hosted at the server's IP, the
/// hosting provider's records say which account rents it (and, with a
/// `HostingPanelFromHome` slip, that the account's panel logins came from the operator's
/// home line), and the operator's persona runs the site (what its database shows).
fn hosting_facts(s: &Scenario, facts: &mut FactSet) {
    for site in &s.sites {
        let SiteKind::Market(m) = &site.kind else { continue };
        let Some(op) = m.operator.as_ref().and_then(|op| s.cast.iter().find(|a| &a.id == op)) else { continue };
        if let Some(p) = op.personas.iter().find(|p| p.site == site.id) {
            facts.insert(Fact::new(FactKind::Operates, Entity::Persona(p.id.clone()), Entity::Site(site.id.clone())));
        }
        let Some(h) = &m.hosting else { continue };
        let server = server_ip(&site.id);
        let account = Entity::Account(h.provider.clone(), h.username.clone());
        facts.insert(Fact::new(FactKind::HostedAt, Entity::Site(site.id.clone()), server.clone()));
        facts.insert(Fact::new(FactKind::RentedBy, server, account.clone()));
        if op.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::HostingPanelFromHome(p) if p == &h.provider)) {
            facts.insert(Fact::new(FactKind::LoggedInFrom, account, Entity::Ip(op.identity.home_ip.trim().to_string())));
        }
    }
}

/// The mailbox of an actor's real e-mail address: the e-mail provider whose domain
/// (`<provider>.example`) the address names, as the world provisions it.
pub fn mailbox_provider<'s>(s: &'s Scenario, a: &Actor) -> Option<&'s Provider> {
    let (_, domain) = a.identity.email.split_once('@')?;
    s.providers.iter().find(|p| p.kind == ProviderKind::Email && format!("{}.example", p.id) == domain)
}

/// What a real identity's traces could make true, whether or not a slip exposes them (as
/// a shop's payout address is true whether or not the profile shows it): a shop's key
/// could carry the vendor's e-mail, its mailbox logs the IPs it is used from, and the home
/// line's internet provider knows who had the home IP. Which of these a team can see is
/// decided by the slips (`EmailInPgpKey`, `MailboxFromHome`) in the solver.
fn identity_facts(s: &Scenario, a: &Actor, facts: &mut FactSet) {
    let email = Entity::Email(a.identity.email.trim().to_ascii_lowercase());
    let home = Entity::Ip(a.identity.home_ip.trim().to_string());
    for st in &a.script {
        if let Action::OpenShop { persona, .. } = &st.action {
            facts.insert(Fact::new(FactKind::UsesEmail, Entity::Persona(persona.clone()), email.clone()));
        }
    }
    if mailbox_provider(s, a).is_some() {
        facts.insert(Fact::new(FactKind::LoggedInFrom, email, home.clone()));
    }
    let isp = a.identity.isp.as_ref().and_then(|i| s.providers.iter().find(|p| &p.id == i && p.kind == ProviderKind::Isp));
    if isp.is_some() {
        facts.insert(Fact::new(FactKind::IpSubscriber, home, Entity::Identity(a.id.clone())));
    }
}

/// Elements no possible fact can prove, keyed by (charge index, element index).
pub(crate) fn unprovable(s: &Scenario) -> BTreeMap<(usize, usize), Problem> {
    let facts = possible_facts(s);
    let paid = first_payouts(s);
    let owners: BTreeMap<&PersonaId, &Actor> = s.cast.iter().flat_map(|a| a.personas.iter().map(move |p| (&p.id, a))).collect();
    let mut out = BTreeMap::new();
    for (i, c) in s.charges.iter().enumerate() {
        for (j, e) in c.elements.iter().enumerate() {
            let path = format!("charges[{i}].elements[{j}].proven_by");
            let what = format!("element `{}` of charge `{}` cannot be proven", e.id, c.id);
            let (persona, missing) = match &e.proven_by {
                Proof::Fact { kind, persona } => {
                    let subject = Entity::Persona(persona.clone());
                    if facts.about(*kind, &subject).next().is_some() {
                        continue;
                    }
                    (persona, missing_fact(*kind, persona))
                }
                Proof::Link { persona, to, provider } => {
                    let from = Entity::Persona(persona.clone());
                    let goal = |x: &Entity| {
                        x.kind() == *to
                            && match (x, provider) {
                                (Entity::Account(p, _), Some(want)) => p == want,
                                _ => true,
                            }
                    };
                    if facts.path(&from, goal).is_some() {
                        continue;
                    }
                    let owner = owners.get(persona).copied();
                    (persona, missing_link(&facts, &paid, owner, persona, *to, provider.as_ref()))
                }
            };
            if !owners.contains_key(persona) {
                // An undefined persona is reported on its own.
                continue;
            }
            out.insert((i, j), Problem::new(path, missing).with_help(what));
        }
    }
    out
}

fn missing_fact(kind: FactKind, p: &PersonaId) -> String {
    match kind {
        FactKind::Offers => format!("no script step makes persona `{p}` offer anything: add a List action"),
        FactKind::ControlsAddress => format!("no script step gives persona `{p}` an address: add an OpenShop action"),
        other => format!("a `{other:?}` fact is never about a persona: prove it with `Link(persona: \"{p}\", to: ...)`"),
    }
}

/// Names the first missing piece of the chain persona → payout → deposit → account → identity.
fn missing_link(
    facts: &FactSet,
    paid: &BTreeMap<&ActorId, (SimDuration, String)>,
    owner: Option<&Actor>,
    p: &PersonaId,
    to: EntityKind,
    provider: Option<&ProviderId>,
) -> String {
    let target = match (to, provider) {
        (EntityKind::Account, Some(pr)) => format!("an account at `{pr}`"),
        (EntityKind::Account, None) => "an account".into(),
        (EntityKind::Identity, _) => "an identity".into(),
        (EntityKind::Address, _) => "an address".into(),
        (EntityKind::Listing, _) => "a listing".into(),
        (EntityKind::Persona, _) => "another persona".into(),
        (EntityKind::Email, _) => "an e-mail address".into(),
        (EntityKind::Ip, _) => "an IP address".into(),
        (EntityKind::Place, _) => "a place".into(),
        (EntityKind::Site, _) => "a server".into(),
        (EntityKind::Parcel, _) => "a parcel".into(),
    };
    let head = format!("no chain of facts the scripts can produce leads from persona `{p}` to {target}");
    let subject = Entity::Persona(p.clone());
    if to == EntityKind::Listing {
        return format!("{head}: add a List action");
    }
    if to == EntityKind::Persona {
        return head;
    }
    if facts.about(FactKind::ControlsAddress, &subject).next().is_none() {
        return format!("{head}: no OpenShop action gives it a payout address");
    }
    if to == EntityKind::Address {
        return head;
    }
    let Some(a) = owner else { return head };
    let Some((first_paid, _)) = paid.get(&a.id) else {
        return format!("{head}: no buyer orders and finalizes any of actor `{}`'s listings, so it is never paid", a.id);
    };
    let cashouts: Vec<(usize, &Step, &ProviderId)> = a
        .script
        .iter()
        .enumerate()
        .filter_map(|(k, st)| match &st.action {
            Action::CashOut { provider: pr } if provider.is_none_or(|want| want == pr) => Some((k, st, pr)),
            _ => None,
        })
        .collect();
    let at = provider.map(|pr| format!(" to `{pr}`")).unwrap_or_default();
    if cashouts.is_empty() {
        return format!("{head}: actor `{}` never cashes out{at}: add OpenAccount and CashOut actions", a.id);
    }
    if cashouts.iter().all(|(k, _, pr)| account_before(a, *k, pr).is_none()) {
        return format!("{head}: actor `{}` cashes out{at} before opening an account there", a.id);
    }
    if cashouts.iter().all(|(_, st, _)| st.at <= *first_paid) {
        return format!("{head}: actor `{}` cashes out{at} before any sale is finalized ({first_paid} after the start)", a.id);
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_scenario_chain_reaches_the_vendor() {
        let text = include_str!("../../../scenarios/careless-vendor.ron");
        let s: Scenario = ron::from_str(text).expect("parses");
        let facts = possible_facts(&s);
        let from = Entity::Persona("greenleaf".into());
        let chain = facts.path(&from, |e| matches!(e, Entity::Identity(_))).expect("a chain");
        assert_eq!(chain.last().map(|f| f.object.clone()), Some(Entity::Identity("mark".into())));
        assert_eq!(chain.len(), 4);
        assert!(unprovable(&s).is_empty());
    }

    #[test]
    fn a_tumble_before_the_cash_out_breaks_the_on_chain_link() {
        let text = include_str!("../../../scenarios/careless-vendor.ron");
        let mut s: Scenario = ron::from_str(text).expect("parses");
        s.sites.push(Site {
            id: "blender".into(),
            name: "Blender".into(),
            kind: SiteKind::Mixer(MixerSite {
                fee_bps: 300,
                min_delay: crate::clock::SimDuration::hours(1),
                max_delay: crate::clock::SimDuration::hours(2),
                float: crate::ids::Sats(100_000_000),
            }),
        });
        let mark = s.cast.iter_mut().find(|a| a.id.as_str() == "mark").expect("mark");
        mark.script.push(Step {
            at: crate::clock::SimDuration::hours(55),
            jitter: Default::default(),
            action: Action::Tumble { via: "blender".into() },
        });
        mark.script.sort_by_key(|st| st.at);
        let facts = possible_facts(&s);
        let from = Entity::Persona("greenleaf".into());
        assert!(facts.path(&from, |e| matches!(e, Entity::Identity(_))).is_none(), "the mixer hides the way to the exchange");
        assert!(!unprovable(&s).is_empty(), "the laundering element cannot be proven from the chain alone");
    }
}
