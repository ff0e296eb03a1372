//! The solver's model of the market's server: the slips that locate it, the hosting
//! provider's records, and its seizure under a search warrant.
//!
//! - **Capture `/server-status`** of a market whose operator left it open (a
//!   `StatusPageLeak` slip): reveals `HostedAt(site → server IP)`; the IP is citable (`IpIn`).
//! - **Capture the news** of a market whose operator announces: each post names its author,
//!   revealing `Operates(operator persona → site)`.
//! - **A legal request to the hosting provider** for a server IP (a production order, or
//!   mutual legal assistance abroad): reveals `RentedBy(server IP → account)` and the
//!   account's panel logins (`LoggedInFrom`, true only from home: a `HostingPanelFromHome`
//!   slip); the first login IP is citable next, for an internet provider.
//! - **A search warrant** for a server IP at its hosting provider: once granted (after the
//!   rule's `ruling_delay`) the forensic examiner images the server at once. The image reveals
//!   every shop's payout address and listings and the operator's account, and makes each
//!   vendor's payout address citable (`SeizedPayout`). The grant and the image are two
//!   lawful steps.

use std::collections::BTreeMap;

use super::{Act, Kind, Model, State, matching_rule};
use crate::clock::SimDuration;
use crate::facts::{Entity, Fact, FactKind, FactSet};
use crate::scenario::model::*;
use crate::scenario::possible::server_ip;

/// The server's acts (see the module docs), appended to `acts`.
pub(super) fn server_acts(s: &Scenario, facts: &[Fact], addr_ix: &BTreeMap<Entity, usize>, acts: &mut Vec<Act>) {
    let ix = |pred: &dyn Fn(&Fact) -> bool| -> Vec<usize> { (0..facts.len()).filter(|i| facts.get(*i).is_some_and(pred)).collect() };
    let page = |target: CaptureTarget, reveals: Vec<usize>, ip_in: Option<usize>| Act {
        kind: Kind::Page(target),
        needs: None,
        reveals,
        first_in: None,
        paid_in: None,
        email_in: None,
        ip_in,
        payouts: Vec::new(),
        lawful: 1,
        delay: SimDuration(0),
    };
    for site in &s.sites {
        let SiteKind::Market(m) = &site.kind else { continue };
        let Some(op) = m.operator.as_ref().and_then(|op| s.cast.iter().find(|a| &a.id == op)) else { continue };
        let here = Entity::Site(site.id.clone());
        let leaks = op.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::StatusPageLeak(x) if x == &site.id));
        if leaks && m.hosting.is_some() {
            let reveals = ix(&|f: &Fact| f.kind == FactKind::HostedAt && f.subject == here);
            let ip_in = addr_ix.get(&server_ip(&site.id)).copied();
            acts.push(page(CaptureTarget::ServerStatus { site: site.id.clone() }, reveals, ip_in));
        }
        let announces = op.script.iter().any(|st| matches!(st.action, Action::Announce { .. }));
        if announces {
            let reveals = ix(&|f: &Fact| f.kind == FactKind::Operates && f.object == here);
            acts.push(page(CaptureTarget::MarketNews { site: site.id.clone() }, reveals, None));
        }
    }
    for p in s.providers.iter().filter(|p| p.kind == ProviderKind::Hosting) {
        let foreign = matches!(p.jurisdiction, Jurisdiction::Foreign(_));
        let kind = if foreign { RequestKind::MutualLegalAssistance } else { RequestKind::ProductionOrder };
        let hops = |rule: &LegalRule| match rule.grounds {
            Grounds::None => None,
            Grounds::LinkToOffence { max_hops } => Some(max_hops),
        };
        let hosted: Vec<(&Site, &MarketHosting)> = s
            .sites
            .iter()
            .filter_map(|x| match &x.kind {
                SiteKind::Market(MarketSite { hosting: Some(h), .. }) if h.provider == p.id => Some((x, h)),
                _ => None,
            })
            .collect();
        if let Some(rule) = matching_rule(&s.legal.rules, kind, p.kind) {
            for (site, h) in &hosted {
                let server = server_ip(&site.id);
                let Some(&target) = addr_ix.get(&server) else { continue };
                let account = Entity::Account(p.id.clone(), h.username.clone());
                let reveals = ix(&|f: &Fact| {
                    (f.kind == FactKind::RentedBy && f.subject == server) || (f.kind == FactKind::LoggedInFrom && f.subject == account)
                });
                let ip_in = facts
                    .iter()
                    .find(|f| f.kind == FactKind::LoggedInFrom && f.subject == account)
                    .and_then(|f| addr_ix.get(&f.object).copied());
                acts.push(Act {
                    kind: Kind::Request { kind, provider: p.id.clone(), max_hops: hops(rule), foreign },
                    needs: Some(target),
                    reveals,
                    first_in: None,
                    paid_in: None,
                    email_in: None,
                    ip_in,
                    payouts: Vec::new(),
                    lawful: 2,
                    delay: SimDuration(rule.ruling_delay.0.saturating_add(p.response_delay.0)),
                });
            }
        }
        let Some(rule) = matching_rule(&s.legal.rules, RequestKind::SearchWarrant, p.kind) else { continue };
        for (site, _) in &hosted {
            let Some(&target) = addr_ix.get(&server_ip(&site.id)) else { continue };
            let (reveals, payouts) = image(s, site, facts, addr_ix);
            acts.push(Act {
                kind: Kind::Request { kind: RequestKind::SearchWarrant, provider: p.id.clone(), max_hops: hops(rule), foreign },
                needs: Some(target),
                reveals,
                first_in: None,
                paid_in: None,
                email_in: None,
                ip_in: None,
                payouts,
                lawful: 2,
                delay: rule.ruling_delay,
            });
        }
    }
}

/// What the image of a market's server shows (as `game::extract` reads its database): each
/// shop's payout address and listings, and which persona has the operator's account; and
/// each vendor's payout address with its handle.
fn image(s: &Scenario, site: &Site, facts: &[Fact], addr_ix: &BTreeMap<Entity, usize>) -> (Vec<usize>, Vec<(usize, String)>) {
    let here = Entity::Site(site.id.clone());
    let mut shops: BTreeMap<Entity, String> = BTreeMap::new();
    for a in &s.cast {
        for st in &a.script {
            let Action::OpenShop { persona, .. } = &st.action else { continue };
            if let Some(p) = a.personas.iter().find(|p| &p.id == persona && p.site == site.id) {
                shops.insert(Entity::Persona(p.id.clone()), p.handle.clone());
            }
        }
    }
    let listed: Vec<&Entity> = facts.iter().filter(|f| f.kind == FactKind::ListedOn && f.object == here).map(|f| &f.subject).collect();
    let mut reveals = Vec::new();
    let mut payouts = Vec::new();
    for (i, f) in facts.iter().enumerate() {
        let shown = match f.kind {
            FactKind::ControlsAddress | FactKind::Offers => shops.contains_key(&f.subject),
            FactKind::ListedOn => f.object == here,
            FactKind::Operates => f.object == here,
            _ => false,
        } && (f.kind != FactKind::Offers || listed.contains(&&f.object));
        if !shown {
            continue;
        }
        reveals.push(i);
        if f.kind == FactKind::ControlsAddress
            && let (Some(a), Some(handle)) = (addr_ix.get(&f.object), shops.get(&f.subject))
        {
            payouts.push((*a, handle.clone()));
        }
    }
    (reveals, payouts)
}

impl Model<'_> {
    /// Why no lawful action reveals a fact about the market's server, if it is one.
    pub(super) fn why_server(&self, f: &Fact, closure: &State) -> Option<String> {
        let asked = |kind: Option<RequestKind>, target: &Entity| {
            self.acts.iter().any(|a| {
                matches!(&a.kind, Kind::Request { kind: k, .. } if kind.is_none_or(|w| w == *k))
                    && a.needs.is_some_and(|n| self.addrs.get(n) == Some(target) && closure.addrs.has(n))
            })
        };
        Some(match (&f.kind, &f.subject, &f.object) {
            (FactKind::HostedAt, Entity::Site(site), _) => format!(
                "the market `{site}` shows nothing of its real address: its operator left no `StatusPageLeak(\"{site}\")` slip, and no other lawful action reveals where the server is"
            ),
            (FactKind::RentedBy, server, _) if !asked(None, server) => {
                format!("{server} never appears in evidence a team can obtain, or no legal rule lets a team ask its hosting provider")
            }
            (FactKind::RentedBy, server, _) => format!(
                "the judge would refuse every request for {server}: the facts a team can reveal link no persona offering goods to it"
            ),
            (FactKind::LoggedInFrom, Entity::Account(p, u), _) => format!(
                "the operator uses `{p}`'s control panel as `{u}` over Tor, so its login records show no home IP (no `HostingPanelFromHome(\"{p}\")` slip)"
            ),
            (FactKind::Operates, Entity::Persona(p), Entity::Site(site)) => format!(
                "nothing a team can capture shows that `{p}` runs `{site}`: the operator never announces on it, and its server is never seized (no search warrant can be granted for it)"
            ),
            (FactKind::ControlsAddress, Entity::Persona(p), _) => format!(
                "the profile of persona `{p}` shows no address (no `AddressInProfile(\"{p}\")` slip), and no seized image of its market's server shows it"
            ),
            _ => return None,
        })
    }

    /// Why a server slip's fact is of no use to any lawful path, if it is not.
    pub(super) fn unused_server_slip(&self, kind: &SlipKind, closure: &State, cfs: &FactSet) -> Option<String> {
        let carried: Vec<&Fact> = match kind {
            SlipKind::StatusPageLeak(site) => {
                self.truth.iter().filter(|f| f.kind == FactKind::HostedAt && f.subject == Entity::Site(site.clone())).collect()
            }
            SlipKind::HostingPanelFromHome(p) => self
                .truth
                .iter()
                .filter(|f| f.kind == FactKind::LoggedInFrom && matches!(&f.subject, Entity::Account(x, _) if x == p))
                .collect(),
            _ => return None,
        };
        let Some(first) = carried.first() else {
            return Some(match kind {
                SlipKind::StatusPageLeak(site) => format!("the market `{site}` runs on no rented server (set `hosting` on the market)"),
                _ => "the operator rents no server from this provider (set `hosting` on the market)".into(),
            });
        };
        if carried.iter().any(|f| cfs.contains(f)) { None } else { Some(self.why(first, closure)) }
    }
}
