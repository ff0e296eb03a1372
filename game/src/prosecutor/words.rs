//! Facts and entities in the words of the verdict: handles instead of persona ids,
//! names instead of actor ids, listing titles, provider names.

use std::collections::BTreeMap;

use sim_core::facts::{Entity, EntityKind, Fact};
use sim_core::ids::{ProviderId, SiteId};
use sim_core::scenario::{Action, Scenario};

use crate::ledger::EvidenceId;

/// Describes entities and facts using a scenario's names.
pub(crate) struct Words<'a> {
    scenario: &'a Scenario,
}

impl<'a> Words<'a> {
    pub(crate) fn new(scenario: &'a Scenario) -> Self {
        Words { scenario }
    }

    fn provider_name(&self, p: &ProviderId) -> String {
        self.scenario.providers.iter().find(|x| &x.id == p).map_or_else(|| p.to_string(), |x| x.name.clone())
    }

    pub(crate) fn site_name(&self, s: &SiteId) -> String {
        self.scenario.sites.iter().find(|x| &x.id == s).map_or_else(|| s.to_string(), |x| x.name.clone())
    }

    /// An entity in words.
    pub(crate) fn entity(&self, e: &Entity) -> String {
        let cast = &self.scenario.cast;
        match e {
            Entity::Persona(p) => cast
                .iter()
                .flat_map(|a| a.personas.iter())
                .find(|x| &x.id == p)
                .map_or_else(|| format!("persona {p}"), |x| format!("{} on {}", x.handle, self.site_name(&x.site))),
            Entity::Identity(a) => cast.iter().find(|x| &x.id == a).map_or_else(|| format!("identity {a}"), |x| x.identity.name.clone()),
            Entity::Address(a) => format!("address {a}"),
            Entity::Account(p, u) => format!("account {u} at {}", self.provider_name(p)),
            Entity::Listing(l) => cast
                .iter()
                .flat_map(|a| a.script.iter())
                .find_map(|s| match &s.action {
                    Action::List { listing, .. } if &listing.id == l => Some(format!("listing \"{}\"", listing.title)),
                    _ => None,
                })
                .unwrap_or_else(|| format!("listing {l}")),
            Entity::Email(e) => format!("e-mail {e}"),
            Entity::Ip(ip) => format!("IP address {ip}"),
            Entity::Place(p) => p.clone(),
            Entity::Site(s) => format!("the server of {}", self.site_name(s)),
            Entity::Parcel(t) => format!("parcel {t}"),
        }
    }

    /// What a chain must reach, in words ("an account at CoinBay Exchange").
    pub(crate) fn goal(&self, to: EntityKind, provider: Option<&ProviderId>) -> String {
        match (to, provider) {
            (EntityKind::Account, Some(p)) => format!("an account at {}", self.provider_name(p)),
            (EntityKind::Account, None) => "an account".into(),
            (EntityKind::Persona, _) => "a persona".into(),
            (EntityKind::Identity, _) => "a real identity".into(),
            (EntityKind::Address, _) => "an address".into(),
            (EntityKind::Listing, _) => "a listing".into(),
            (EntityKind::Email, _) => "an e-mail address".into(),
            (EntityKind::Ip, _) => "an IP address".into(),
            (EntityKind::Place, _) => "a place".into(),
            (EntityKind::Site, _) => "a server".into(),
            (EntityKind::Parcel, _) => "a parcel".into(),
        }
    }

    /// A fact in words, with the evidence that shows it: "X controls address A (E1)".
    pub(crate) fn fact(&self, f: &Fact, sources: &BTreeMap<Fact, Vec<EvidenceId>>) -> String {
        let ids = sources.get(f).map(|ids| ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")).unwrap_or_default();
        let text = format!("{} {} {}", self.entity(&f.subject), f.kind.phrase(), self.entity(&f.object));
        if ids.is_empty() { text } else { format!("{text} ({ids})") }
    }

    /// A chain of facts in words, joined with "; ".
    pub(crate) fn chain(&self, facts: &[Fact], sources: &BTreeMap<Fact, Vec<EvidenceId>>) -> String {
        facts.iter().map(|f| self.fact(f, sources)).collect::<Vec<_>>().join("; ")
    }
}
