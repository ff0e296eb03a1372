//! The graph of facts: what is true in the world, and what evidence can show.
//!
//! The world records a [`Fact`] whenever the cast's activity makes something true (a
//! persona lists goods, an address pays another, an exchange account is opened in a
//! name). Artifacts *reveal* facts; the judge and the prosecutor reason only over the
//! facts revealed by the evidence a team cites, so every ruling can be explained as a
//! path through this graph.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{ActorId, ListingId, PersonaId, ProviderId, SiteId};

/// A thing facts are about. Scenario-level things use scenario ids; things the world
/// creates at run time (addresses, accounts) use their real names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Entity {
    /// A pseudonymous persona (a handle on a site).
    Persona(PersonaId),
    /// A real person (the actor behind personas).
    Identity(ActorId),
    /// A darkcoin address, as its bech32 string.
    Address(String),
    /// An account at a provider, by provider and user name.
    Account(ProviderId, String),
    /// A listing on a market.
    Listing(ListingId),
    /// An e-mail address, as written.
    Email(String),
    /// An IP address, as written.
    Ip(String),
    /// A place on the map, as the scenario names it (a town, a street, a drop-off office).
    /// A place found by its coordinates (a photo's GPS position, a courier office) is named
    /// by [`Entity::place_at`]: `"<lat>,<lon>"` in decimal degrees with four decimals.
    Place(String),
    /// A site of the world (market, forum, mixer, clearnet host), as its server.
    Site(SiteId),
    /// A parcel, by the courier's tracking number (upper case, e.g. `CP123456789NL`).
    Parcel(String),
}

impl Entity {
    /// The place at these coordinates, rounded to four decimals (about 11 m): the name a
    /// photo's GPS position and a courier office at the same spot share.
    pub fn place_at(lat: f64, lon: f64) -> Entity {
        Entity::Place(place_key(lat, lon))
    }

    /// The kind of this entity, for patterns that match any entity of a kind.
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::Persona(_) => EntityKind::Persona,
            Entity::Identity(_) => EntityKind::Identity,
            Entity::Address(_) => EntityKind::Address,
            Entity::Account(..) => EntityKind::Account,
            Entity::Listing(_) => EntityKind::Listing,
            Entity::Email(_) => EntityKind::Email,
            Entity::Ip(_) => EntityKind::Ip,
            Entity::Place(_) => EntityKind::Place,
            Entity::Site(_) => EntityKind::Site,
            Entity::Parcel(_) => EntityKind::Parcel,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entity::Persona(p) => write!(f, "persona {p}"),
            Entity::Identity(a) => write!(f, "identity {a}"),
            Entity::Address(a) => write!(f, "address {a}"),
            Entity::Account(p, u) => write!(f, "account {u}@{p}"),
            Entity::Listing(l) => write!(f, "listing {l}"),
            Entity::Email(e) => write!(f, "e-mail {e}"),
            Entity::Ip(ip) => write!(f, "IP {ip}"),
            Entity::Place(p) => write!(f, "place {p}"),
            Entity::Site(s) => write!(f, "site {s}"),
            Entity::Parcel(t) => write!(f, "parcel {t}"),
        }
    }
}

/// `"<lat>,<lon>"` with four decimals (`-0.0` written as `0.0000`), for [`Entity::place_at`].
pub fn place_key(lat: f64, lon: f64) -> String {
    let four = |v: f64| {
        let r = (v * 10_000.0).round() / 10_000.0;
        if r == 0.0 { 0.0 } else { r }
    };
    format!("{:.4},{:.4}", four(lat), four(lon))
}

/// Reads `"<lat>,<lon>"` (decimal degrees, optional spaces) as a place name, if it is one:
/// latitude within ±90 and longitude within ±180.
pub fn parse_place(text: &str) -> Option<String> {
    let (a, b) = text.trim().split_once(',')?;
    let (lat, lon) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then(|| place_key(lat, lon))
}

/// Kinds of [`Entity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum EntityKind {
    /// See [`Entity::Persona`].
    Persona,
    /// See [`Entity::Identity`].
    Identity,
    /// See [`Entity::Address`].
    Address,
    /// See [`Entity::Account`].
    Account,
    /// See [`Entity::Listing`].
    Listing,
    /// See [`Entity::Email`].
    Email,
    /// See [`Entity::Ip`].
    Ip,
    /// See [`Entity::Place`].
    Place,
    /// See [`Entity::Site`].
    Site,
    /// See [`Entity::Parcel`].
    Parcel,
}

/// What a fact says about its subject and object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum FactKind {
    /// Persona offers a listing for sale.
    Offers,
    /// Persona controls (publishes or is paid at) an address.
    ControlsAddress,
    /// Address paid address (an on-chain transfer).
    Transfer,
    /// Address is a deposit address of an account at a provider.
    DepositAddressOf,
    /// Account is held, by the provider's KYC records, by an identity.
    AccountHolder,
    /// Persona or account uses an e-mail address (a key's user ID, a sign-up form).
    UsesEmail,
    /// Persona or account logged in from an IP address.
    LoggedInFrom,
    /// IP address was leased, by the internet provider's records, to an identity.
    IpSubscriber,
    /// Site is served from a machine at an IP address.
    HostedAt,
    /// Listing's photo was taken at a place (the GPS position in the photo's EXIF block).
    PhotographedAt,
    /// Place (a courier's drop-off office) took in a parcel from an identity, by the
    /// courier's records of the parcels handed in there.
    ParcelDroppedBy,
    /// Listing is offered on a site (a market): what ties a vendor's goods to the server.
    ListedOn,
    /// Server IP address is rented, by the hosting provider's records, by an account.
    RentedBy,
    /// Persona runs a site (the market's operator account).
    Operates,
    /// Persona (a vendor) shipped an order as a parcel: the tracking number on the buyer's
    /// order page.
    ShippedParcel,
    /// Parcel was handed in by an identity, by the courier's records of it.
    ParcelSentBy,
}

impl FactKind {
    /// A phrase for explanations: "`subject` `phrase` `object`".
    pub fn phrase(self) -> &'static str {
        match self {
            FactKind::Offers => "offers",
            FactKind::ControlsAddress => "controls",
            FactKind::Transfer => "paid",
            FactKind::DepositAddressOf => "is a deposit address of",
            FactKind::AccountHolder => "is held by",
            FactKind::UsesEmail => "uses",
            FactKind::LoggedInFrom => "logged in from",
            FactKind::IpSubscriber => "was leased to",
            FactKind::HostedAt => "is hosted at",
            FactKind::PhotographedAt => "was photographed at",
            FactKind::ParcelDroppedBy => "took in a parcel from",
            FactKind::ListedOn => "is listed on",
            FactKind::RentedBy => "is rented by",
            FactKind::Operates => "operates",
            FactKind::ShippedParcel => "shipped",
            FactKind::ParcelSentBy => "was handed in by",
        }
    }
}

/// One fact: `subject --kind--> object`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fact {
    /// What the fact says.
    pub kind: FactKind,
    /// What it is about.
    pub subject: Entity,
    /// What it relates the subject to.
    pub object: Entity,
}

impl Fact {
    /// A fact `subject --kind--> object`.
    pub fn new(kind: FactKind, subject: Entity, object: Entity) -> Self {
        Fact { kind, subject, object }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.subject, self.kind.phrase(), self.object)
    }
}

/// A set of facts with graph queries; ordered so that explanations are deterministic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FactSet {
    facts: BTreeSet<Fact>,
}

impl FactSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a fact; returns whether it was new.
    pub fn insert(&mut self, fact: Fact) -> bool {
        self.facts.insert(fact)
    }
    /// Whether the set holds this fact.
    pub fn contains(&self, fact: &Fact) -> bool {
        self.facts.contains(fact)
    }
    /// All facts in order.
    pub fn iter(&self) -> impl Iterator<Item = &Fact> {
        self.facts.iter()
    }
    /// Number of facts.
    pub fn len(&self) -> usize {
        self.facts.len()
    }
    /// Whether there are no facts.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }
    /// Facts of `kind` whose subject is `subject`.
    pub fn about<'a>(&'a self, kind: FactKind, subject: &'a Entity) -> impl Iterator<Item = &'a Fact> + 'a {
        self.facts.iter().filter(move |f| f.kind == kind && &f.subject == subject)
    }

    /// The shortest chain of facts leading from `from` to an entity accepted by `goal`,
    /// following facts in their direction (subject → object). `None` when no chain exists.
    pub fn path(&self, from: &Entity, goal: impl Fn(&Entity) -> bool) -> Option<Vec<Fact>> {
        let mut out: BTreeMap<&Entity, Vec<&Fact>> = BTreeMap::new();
        for f in &self.facts {
            out.entry(&f.subject).or_default().push(f);
        }
        let mut came_by: BTreeMap<&Entity, &Fact> = BTreeMap::new();
        let mut seen: BTreeSet<&Entity> = BTreeSet::from([from]);
        let mut queue: VecDeque<&Entity> = VecDeque::from([from]);
        while let Some(at) = queue.pop_front() {
            if at != from && goal(at) {
                let mut chain = Vec::new();
                let mut cur = at;
                while let Some(f) = came_by.get(cur) {
                    chain.push((*f).clone());
                    cur = &f.subject;
                }
                chain.reverse();
                return Some(chain);
            }
            for f in out.get(at).into_iter().flatten() {
                if seen.insert(&f.object) {
                    came_by.insert(&f.object, f);
                    queue.push_back(&f.object);
                }
            }
        }
        None
    }
}

impl FromIterator<Fact> for FactSet {
    fn from_iter<I: IntoIterator<Item = Fact>>(iter: I) -> Self {
        FactSet { facts: iter.into_iter().collect() }
    }
}

impl Extend<Fact> for FactSet {
    fn extend<I: IntoIterator<Item = Fact>>(&mut self, iter: I) {
        self.facts.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Entity {
        Entity::Address(s.into())
    }

    #[test]
    fn path_follows_facts_to_an_identity() {
        let persona = Entity::Persona("gl".into());
        let account = Entity::Account("exchange".into(), "mark".into());
        let set: FactSet = [
            Fact::new(FactKind::ControlsAddress, persona.clone(), addr("a")),
            Fact::new(FactKind::Transfer, addr("a"), addr("d")),
            Fact::new(FactKind::Transfer, addr("x"), addr("d")),
            Fact::new(FactKind::DepositAddressOf, addr("d"), account.clone()),
            Fact::new(FactKind::AccountHolder, account, Entity::Identity("vendor".into())),
        ]
        .into_iter()
        .collect();
        let path = set.path(&persona, |e| matches!(e, Entity::Identity(_))).unwrap();
        assert_eq!(path.len(), 4);
        assert_eq!(path[0].subject, persona);
        assert_eq!(path[3].object, Entity::Identity("vendor".into()));
        assert!(set.path(&addr("d"), |e| *e == addr("a")).is_none());
    }

    #[test]
    fn places_are_named_by_rounded_coordinates() {
        assert_eq!(Entity::place_at(51.90751, 4.44969), Entity::Place("51.9075,4.4497".into()));
        assert_eq!(place_key(-0.00001, 0.0), "0.0000,0.0000");
        assert_eq!(parse_place(" 51.90750, 4.4497 "), Some("51.9075,4.4497".into()));
        assert_eq!(parse_place("91,0"), None);
        assert_eq!(parse_place("Mark Ellis"), None);
        assert_eq!(parse_place("81.2.69.160"), None);
    }
}
