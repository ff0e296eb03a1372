//! The case board: a link chart of personas, identities, addresses, accounts, servers and
//! evidence, where every link cites evidence from the team's ledger; and the case builder
//! that turns the board (plus the charges' elements) into the lab's [`CaseFile`].

use std::collections::{BTreeMap, BTreeSet};

use sim_core::ids::{ChargeId, ElementId, SiteId};

use crate::case::{CaseFile, ChargeClaim, ElementClaim, PersonaRef, SuspectClaim};
use crate::ledger::EvidenceId;

/// What an entity on the board is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    /// A handle on a site (`label` is `handle@site`).
    Persona,
    /// A real person's name.
    Identity,
    /// A darkcoin address.
    Address,
    /// An account at a provider (exchange, e-mail, hosting).
    Account,
    /// A server (an IP or a host name).
    Server,
    /// A piece of evidence itself.
    Evidence,
}

/// An entity: its kind and what the team calls it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entity {
    /// Kind.
    pub kind: EntityKind,
    /// Label (`handle@site` for a persona).
    pub label: String,
}

impl Entity {
    /// An entity of `kind` named `label`.
    pub fn new(kind: EntityKind, label: &str) -> Entity {
        Entity { kind, label: label.trim().to_string() }
    }

    /// A persona as the case file names it, when the label is `handle@site`.
    pub fn persona(&self) -> Option<PersonaRef> {
        if self.kind != EntityKind::Persona {
            return None;
        }
        let (handle, site) = self.label.rsplit_once('@')?;
        Some(PersonaRef { site: SiteId::from(site), handle: handle.to_string() })
    }
}

/// A link between two entities, with the evidence that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// One end.
    pub a: Entity,
    /// The other end.
    pub b: Entity,
    /// What the team says links them ("same owner", "paid", "logged in from"…).
    pub relation: String,
    /// The evidence cited (never empty).
    pub evidence: Vec<EvidenceId>,
}

/// Why a board edit was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    /// Every link must cite evidence.
    #[error("a link must cite at least one piece of evidence")]
    NoEvidence,
    /// An entity without a name.
    #[error("an entity needs a name")]
    EmptyLabel,
    /// A persona must be written `handle@site`.
    #[error("write a persona as handle@site, not {0:?}")]
    BadPersona(String),
    /// A link from an entity to itself.
    #[error("a link needs two different entities")]
    SelfLink,
    /// Submitting a case with no suspect.
    #[error("the board has no identity linked to a persona")]
    NoSuspect,
}

/// The board.
#[derive(Clone, Debug, Default)]
pub struct Board {
    /// Entities, in a stable order.
    pub entities: BTreeSet<Entity>,
    /// Links, in the order they were drawn.
    pub links: Vec<Link>,
}

impl Board {
    /// Puts an entity on the board (once).
    pub fn add(&mut self, e: Entity) -> Result<(), BoardError> {
        if e.label.is_empty() {
            return Err(BoardError::EmptyLabel);
        }
        if e.kind == EntityKind::Persona && e.persona().is_none_or(|p| p.handle.is_empty() || p.site.0.is_empty()) {
            return Err(BoardError::BadPersona(e.label));
        }
        self.entities.insert(e);
        Ok(())
    }

    /// Draws a link citing evidence; citing more evidence for an existing link adds it.
    pub fn link(&mut self, a: Entity, b: Entity, relation: &str, evidence: &[EvidenceId]) -> Result<(), BoardError> {
        if evidence.is_empty() {
            return Err(BoardError::NoEvidence);
        }
        if a == b {
            return Err(BoardError::SelfLink);
        }
        self.add(a.clone())?;
        self.add(b.clone())?;
        if let Some(l) = self.links.iter_mut().find(|l| ((l.a == a && l.b == b) || (l.a == b && l.b == a)) && l.relation == relation) {
            for e in evidence {
                if !l.evidence.contains(e) {
                    l.evidence.push(e.clone());
                }
            }
            return Ok(());
        }
        self.links.push(Link { a, b, relation: relation.to_string(), evidence: evidence.to_vec() });
        Ok(())
    }

    /// Removes a link.
    pub fn unlink(&mut self, index: usize) {
        if index < self.links.len() {
            self.links.remove(index);
        }
    }

    /// Entities connected to `start` through links, and the evidence of those links.
    fn component(&self, start: &Entity) -> (BTreeSet<Entity>, Vec<EvidenceId>) {
        let mut seen = BTreeSet::from([start.clone()]);
        let mut evidence = Vec::new();
        let mut frontier = vec![start.clone()];
        while let Some(e) = frontier.pop() {
            for l in &self.links {
                let other = if l.a == e {
                    &l.b
                } else if l.b == e {
                    &l.a
                } else {
                    continue;
                };
                // An identity is a suspect of its own: the chart never joins two people.
                for id in &l.evidence {
                    if !evidence.contains(id) {
                        evidence.push(id.clone());
                    }
                }
                if other.kind != EntityKind::Identity && seen.insert(other.clone()) {
                    frontier.push(other.clone());
                }
            }
        }
        (seen, evidence)
    }

    /// A position for every entity on a circle per kind (the renderer draws the chart).
    pub fn layout(&self) -> BTreeMap<Entity, (f32, f32)> {
        let mut by_kind: BTreeMap<EntityKind, Vec<&Entity>> = BTreeMap::new();
        for e in &self.entities {
            by_kind.entry(e.kind).or_default().push(e);
        }
        let mut out = BTreeMap::new();
        for (k, list) in by_kind {
            let x = match k {
                EntityKind::Identity => 0.0,
                EntityKind::Persona => 220.0,
                EntityKind::Account => 440.0,
                EntityKind::Address => 660.0,
                EntityKind::Server => 880.0,
                EntityKind::Evidence => 1100.0,
            };
            for (i, e) in list.into_iter().enumerate() {
                out.insert(e.clone(), (x, 40.0 + i as f32 * 60.0));
            }
        }
        out
    }
}

/// Evidence cited for one element of one charge against one suspect (an identity's name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementEntry {
    /// The identity on the board.
    pub suspect: String,
    /// The charge.
    pub charge: ChargeId,
    /// The element.
    pub element: ElementId,
    /// The evidence for it.
    pub evidence: Vec<EvidenceId>,
}

/// The case builder: charges and elements next to the board.
#[derive(Clone, Debug, Default)]
pub struct CaseBuilder {
    /// Elements with their evidence.
    pub elements: Vec<ElementEntry>,
}

impl CaseBuilder {
    /// Cites evidence for an element (merging with what is cited already).
    pub fn cite(&mut self, suspect: &str, charge: &str, element: &str, evidence: &[EvidenceId]) -> Result<(), BoardError> {
        if evidence.is_empty() {
            return Err(BoardError::NoEvidence);
        }
        let (charge, element) = (ChargeId::from(charge.trim()), ElementId::from(element.trim()));
        match self.elements.iter_mut().find(|e| e.suspect == suspect && e.charge == charge && e.element == element) {
            Some(e) => e.evidence.extend(evidence.iter().filter(|x| !e.evidence.contains(x)).cloned().collect::<Vec<_>>()),
            None => self.elements.push(ElementEntry { suspect: suspect.to_string(), charge, element, evidence: evidence.to_vec() }),
        }
        Ok(())
    }

    /// The case file: one suspect per identity linked (directly or through accounts and
    /// addresses) to personas, the attribution citing every link on the way, and the charges.
    pub fn case_file(&self, board: &Board) -> Result<CaseFile, BoardError> {
        let mut suspects = Vec::new();
        for id in board.entities.iter().filter(|e| e.kind == EntityKind::Identity) {
            let (component, attribution) = board.component(id);
            let personas: Vec<PersonaRef> = component.iter().filter_map(Entity::persona).collect();
            if personas.is_empty() {
                continue;
            }
            let mut charges: Vec<ChargeClaim> = Vec::new();
            for e in self.elements.iter().filter(|e| e.suspect == id.label) {
                let element = ElementClaim { element: e.element.clone(), evidence: e.evidence.clone() };
                match charges.iter_mut().find(|c| c.charge == e.charge) {
                    Some(c) => c.elements.push(element),
                    None => charges.push(ChargeClaim { charge: e.charge.clone(), elements: vec![element] }),
                }
            }
            suspects.push(SuspectClaim { name: id.label.clone(), personas, attribution, charges });
        }
        if suspects.is_empty() {
            return Err(BoardError::NoSuspect);
        }
        Ok(CaseFile { suspects })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> Vec<EvidenceId> {
        vec![EvidenceId::from(s)]
    }

    #[test]
    fn links_must_cite_evidence_and_personas_name_their_site() {
        let mut b = Board::default();
        let p = Entity::new(EntityKind::Persona, "GreenLeafUK@silk-lane");
        let n = Entity::new(EntityKind::Identity, "Mark Ellis");
        assert_eq!(b.link(p.clone(), n.clone(), "is", &[]), Err(BoardError::NoEvidence));
        assert_eq!(b.link(p.clone(), p.clone(), "is", &ev("E1")), Err(BoardError::SelfLink));
        assert_eq!(b.add(Entity::new(EntityKind::Persona, "nosite")), Err(BoardError::BadPersona("nosite".into())));
        b.link(p.clone(), n.clone(), "is", &ev("E1")).unwrap();
        b.link(n, p, "is", &ev("E2")).unwrap();
        assert_eq!(b.links.len(), 1);
        assert_eq!(b.links[0].evidence, vec![EvidenceId::from("E1"), EvidenceId::from("E2")]);
    }

    #[test]
    fn the_board_becomes_a_case_file_through_accounts_and_addresses() {
        let mut b = Board::default();
        let p = Entity::new(EntityKind::Persona, "GreenLeafUK@silk-lane");
        let a = Entity::new(EntityKind::Address, "bcrt1qxyz");
        let acct = Entity::new(EntityKind::Account, "acct-7@exchange");
        let n = Entity::new(EntityKind::Identity, "Mark Ellis");
        let other = Entity::new(EntityKind::Identity, "Nobody Linked");
        b.add(other).unwrap();
        b.link(p, a.clone(), "payout to", &ev("E1")).unwrap();
        b.link(a, acct.clone(), "deposited to", &ev("E2")).unwrap();
        b.link(acct, n, "KYC", &ev("E3")).unwrap();
        let mut builder = CaseBuilder::default();
        assert_eq!(builder.cite("Mark Ellis", "supply", "offered", &[]), Err(BoardError::NoEvidence));
        builder.cite("Mark Ellis", "supply", "offered", &ev("E1")).unwrap();
        builder.cite("Mark Ellis", "supply", "offered", &ev("E4")).unwrap();
        let case = builder.case_file(&b).unwrap();
        assert_eq!(case.suspects.len(), 1);
        let s = &case.suspects[0];
        assert_eq!(s.name, "Mark Ellis");
        assert_eq!(s.personas, vec![PersonaRef { site: "silk-lane".into(), handle: "GreenLeafUK".into() }]);
        let mut att = s.attribution.clone();
        att.sort();
        assert_eq!(att, vec![EvidenceId::from("E1"), EvidenceId::from("E2"), EvidenceId::from("E3")]);
        assert_eq!(s.charges[0].elements[0].evidence, vec![EvidenceId::from("E1"), EvidenceId::from("E4")]);
        assert_eq!(CaseBuilder::default().case_file(&Board::default()), Err(BoardError::NoSuspect));
    }
}
