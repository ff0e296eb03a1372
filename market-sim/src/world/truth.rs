//! Ground truth: what the world really is, kept in the lab and never sent to a team.
//!
//! The world records here every fact its activity makes true, and the registry that maps
//! what a page shows (a handle, a listing number, a name) to scenario ids. The lab reads it
//! to decide which facts a captured artifact reveals; nothing in it is served to teams.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::Serialize;
use sim_core::clock::SimTime;
use sim_core::facts::{Fact, FactSet};
use sim_core::ids::{ActorId, ListingId, PersonaId, SiteId};

/// One line of the world's chronicle: who did what, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChronicleEntry {
    /// When it happened.
    pub time: SimTime,
    /// Who did it (`None` for the world itself, e.g. a block).
    pub actor: Option<ActorId>,
    /// What happened, in words.
    pub text: String,
    /// Whether it went as the script intended.
    pub ok: bool,
}

/// The world's ground truth.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroundTruth {
    /// Every fact the world's activity has made true.
    pub facts: FactSet,
    /// Persona by (site, handle as shown on the site).
    pub personas: BTreeMap<(SiteId, String), PersonaId>,
    /// Scenario listing by (site, the market's own listing number).
    pub listings: BTreeMap<(SiteId, i64), ListingId>,
    /// Actor by real name (lower case).
    pub identities: BTreeMap<String, ActorId>,
    /// Onion market by the SHA-256 (hex) of the favicon or the TLS certificate it serves —
    /// public: anyone can fetch them from the site.
    pub fingerprints: BTreeMap<String, SiteId>,
    /// What happened, in order.
    pub chronicle: Vec<ChronicleEntry>,
    /// Every time an actor noticed an investigation (the lab charges the team whose account
    /// or warning caused it).
    pub tip_offs: Vec<TipOff>,
    /// Real people who left the country after a tip-off (`LeaveAbroad`): an arrest now
    /// needs the other country's help.
    pub departures: BTreeMap<ActorId, Departure>,
}

/// A real person leaving for abroad.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Departure {
    /// When they left.
    pub time: SimTime,
    /// Where to.
    pub country: String,
}

/// An actor noticing that someone is investigating: what the cast saw, and the account that
/// showed it (a team's undercover handle, or the author of a public warning).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TipOff {
    /// When the actor noticed.
    pub time: SimTime,
    /// Who noticed.
    pub actor: ActorId,
    /// The persona that was approached or warned.
    pub persona: PersonaId,
    /// The site where the actor saw it.
    pub site: SiteId,
    /// The handle that caused it, as shown on that site.
    pub by_handle: String,
    /// What gave it away, in words (for the verdict and the debrief).
    pub cause: String,
}

impl GroundTruth {
    /// Records a fact the world's activity made true.
    pub fn record(&mut self, fact: Fact) {
        self.facts.insert(fact);
    }
    /// The persona behind a handle on a site.
    pub fn persona(&self, site: &SiteId, handle: &str) -> Option<&PersonaId> {
        self.personas.get(&(site.clone(), handle.to_string()))
    }
    /// The actor with this real name (case-insensitive).
    pub fn identity(&self, name: &str) -> Option<&ActorId> {
        self.identities.get(&name.trim().to_lowercase())
    }
}

/// Ground truth shared between the world (writer) and the lab (reader).
#[derive(Clone, Debug, Default)]
pub struct SharedTruth(Arc<RwLock<GroundTruth>>);

impl SharedTruth {
    /// Shares `truth`.
    pub fn new(truth: GroundTruth) -> Self {
        SharedTruth(Arc::new(RwLock::new(truth)))
    }
    /// Reads it; a poisoned lock still yields the data (the world only appends).
    pub fn read(&self) -> RwLockReadGuard<'_, GroundTruth> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
    /// Writes it.
    pub fn write(&self) -> RwLockWriteGuard<'_, GroundTruth> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}
