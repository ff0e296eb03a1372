//! The lab: the trainees' side of the world — teams, captures into the evidence ledger,
//! legal requests ruled by the simulated judge and answered by providers, the case file
//! and the prosecutor's verdict; undercover work under an authorisation ([`undercover`]).
//!
//! The lab obtains every artifact itself (through the world's network) and records it at
//! once, so a team cannot forge or back-date evidence. Routes in [`http`] are thin over
//! the methods here; the autopilot calls the same methods.

mod classroom;
mod debrief;
mod evidence;
mod filing;
pub mod http;
mod legal;
pub mod openapi;
mod seizure;
mod undercover;

pub use classroom::{Announcement, HintGiven, TeamProgress, TimelineEvent};
pub use debrief::{ChronicleLine, PersonTruth, PersonaTruth, SlipTruth, TipOffLine, Truth};
pub use evidence::EvidenceDetail;
pub use filing::{Dossier, Submission};
pub use legal::{Channel, LegalRequest, RequestDraft, RequestStatus, desk_query, is_search};
pub use seizure::{SeizedSummary, SeizureDraft};
pub use undercover::{
    AccountDraft, Direction, EvidenceWallet, MessageDraft, PostDraft, Purchase, PurchaseDraft, UndercoverAccount, UndercoverMessage,
    UndercoverView,
};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimTime};
use sim_core::ids::{HintId, ProviderId};
use sim_core::scenario::Scenario;
use tokio::sync::Mutex;

use market_sim::world::cast::Directory;
use market_sim::world::network::{DirectNetwork, Party};
use market_sim::world::server::Servers;
use market_sim::world::truth::SharedTruth;
use market_sim::world::{ProviderDesk, World};

use crate::case::CaseFile;
use crate::ledger::{Ledger, LedgerError};
use crate::prosecutor::Verdict;

/// Why a lab action failed. Domain outcomes (a refused request) are not errors.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// No team has this member token.
    #[error("unknown member token")]
    UnknownToken,
    /// The member's role may not do this.
    #[error("a {role:?} may not {action}")]
    Forbidden {
        /// The member's role.
        role: Role,
        /// What they tried.
        action: &'static str,
    },
    /// The URL is not a host of the world.
    #[error("{0} is not a site of this exercise's network")]
    NotInWorld(String),
    /// The site did not answer usefully.
    #[error("fetching {url} failed: {message}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        message: String,
    },
    /// No such evidence in the team's ledger.
    #[error("no evidence {0}")]
    UnknownEvidence(String),
    /// No such provider.
    #[error("no provider {0}")]
    UnknownProvider(String),
    /// No such legal request in the team's records.
    #[error("no request {0}")]
    UnknownRequest(String),
    /// A seizure without a granted search warrant for a server of the exercise.
    #[error("no seizure: {0}")]
    NoWarrant(String),
    /// A query of a seized image the lab cannot run (unknown view or column, bad page).
    #[error("bad query: {0}")]
    BadQuery(String),
    /// The case was already submitted.
    #[error("the case has been submitted and is locked")]
    CaseLocked,
    /// The exercise is over.
    #[error("the exercise has ended: cases are locked")]
    Ended,
    /// No such hint in the scenario.
    #[error("no hint {0}")]
    UnknownHint(String),
    /// No such team.
    #[error("no team {0}")]
    UnknownTeam(String),
    /// A team cannot join the roster as given: its name or a member's token is taken or
    /// empty (a second team under a name would take over the first one's members).
    #[error("team roster: {0}")]
    Roster(String),
    /// Undercover work without a granted undercover authorisation for the site.
    #[error("{0}")]
    NoAuthorisation(String),
    /// No such undercover account in the team's records.
    #[error("no undercover account {0}")]
    UnknownAccount(String),
    /// No such controlled purchase in the team's records.
    #[error("no controlled purchase {0}")]
    UnknownPurchase(String),
    /// A site refused an undercover action, or the evidence wallet could not pay.
    #[error("{0}")]
    Undercover(String),
    /// A request the lab cannot act on as written.
    #[error("{0}")]
    BadInput(String),
    /// The verdict report could not be rendered.
    #[error("{0}")]
    Report(String),
    /// Ledger trouble.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Roles in a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Role {
    /// Signs legal requests and submits the case.
    HeadOfUnit,
    /// Captures evidence and drafts requests.
    Investigator,
    /// Images and examines seized servers.
    ForensicExaminer,
}

/// A team member as the instructor hands out.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Member {
    /// Name shown in provenance.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Bearer token.
    pub token: String,
}

struct Team {
    members: Vec<Member>,
    ledger: Ledger,
    requests: Vec<LegalRequest>,
    /// The case as the team last saved it while working.
    draft: Option<CaseFile>,
    /// The case as submitted (locks it).
    case: Option<CaseFile>,
    /// When it was submitted.
    submitted_at: Option<SimTime>,
    verdict: Option<Verdict>,
    /// Hints the team took or was given, with when.
    hints: Vec<(SimTime, HintId)>,
    /// Undercover accounts, messages, purchases and the evidence wallet.
    cover: undercover::Cover,
}

/// One exercise's lab.
pub struct Lab {
    scenario: Arc<Scenario>,
    /// The world seed: the lab's own secrets (undercover passwords, evidence wallets) derive from it.
    seed: u64,
    /// The lab's evidence fund, from which each team's evidence wallet is filled; held
    /// for a whole payment so no two payments spend the same coins.
    fund: Mutex<coin_sim::Wallet>,
    clock: SimClock,
    party: Party,
    /// The world's network, asked at each capture how onion services are reached (direct or
    /// tor), so provenance says how a page really travelled.
    network: DirectNetwork,
    directory: Directory,
    desks: BTreeMap<ProviderId, ProviderDesk>,
    /// The markets' machines, for seizures.
    servers: Servers,
    truth: SharedTruth,
    teams: Mutex<BTreeMap<String, Team>>,
    /// The instructor's own announcements.
    announcements: Mutex<Vec<Announcement>>,
    /// Set when the instructor ends the exercise: cases are locked.
    ended: Mutex<bool>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab").field("scenario", &self.scenario.meta.id).finish_non_exhaustive()
    }
}

/// Whether a presented bearer token is a member's token: exactly equal, byte for byte.
fn token_matches(member: &str, given: &str) -> bool {
    if cfg!(feature = "weakened-for-security-tests") {
        // Weakened for the security suite: a prefix of the token, in any case, is accepted.
        return !member.is_empty() && member.to_ascii_lowercase().starts_with(&given.to_ascii_lowercase());
    }
    member == given
}

/// Real time at the lab's edge: provenance records when evidence was obtained in the
/// real world too. It never feeds world logic or digests.
#[allow(clippy::disallowed_methods)]
fn real_time_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    SimTime(i64::try_from(secs).unwrap_or(0)).to_string()
}

impl Lab {
    /// A lab over a world; ledgers live under `data_dir/<team>/`.
    pub fn new(world: &World) -> Result<Lab, LabError> {
        let party = world.party(None).map_err(|e| LabError::Fetch { url: "network".into(), message: e.to_string() })?;
        let mut fund = market_sim::world::evidence_fund(world.seed());
        fund.new_address();
        Ok(Lab {
            scenario: world.scenario().clone(),
            seed: world.seed(),
            fund: Mutex::new(fund),
            clock: world.clock().clone(),
            party,
            network: world.network().clone(),
            directory: world.directory().clone(),
            desks: world.desks().clone(),
            servers: world.servers().clone(),
            truth: world.truth().clone(),
            teams: Mutex::new(BTreeMap::new()),
            announcements: Mutex::new(Vec::new()),
            ended: Mutex::new(false),
        })
    }

    /// Adds a team with its members; its ledger lives in `dir`. A team name already taken,
    /// an empty token or a token another member holds is refused: identity is the token
    /// alone, so each must be unique, and a team is never replaced by name.
    pub async fn add_team(&self, name: &str, members: Vec<Member>, dir: &Path) -> Result<(), LabError> {
        let mut teams = self.teams.lock().await;
        // Weakened for the security suite: a team added under a taken name replaces it.
        if !cfg!(feature = "weakened-for-security-tests") {
            if teams.contains_key(name) {
                return Err(LabError::Roster(format!("a team named {name:?} is already in the exercise")));
            }
            let mut tokens: Vec<&str> = teams.values().flat_map(|t| t.members.iter().map(|m| m.token.as_str())).collect();
            for m in &members {
                if m.token.is_empty() || tokens.contains(&m.token.as_str()) {
                    return Err(LabError::Roster(format!("{} of {name} needs a token of its own", m.name)));
                }
                tokens.push(&m.token);
            }
        }
        let ledger = Ledger::open(dir)?;
        teams.insert(
            name.to_string(),
            Team {
                members,
                ledger,
                requests: Vec::new(),
                draft: None,
                case: None,
                submitted_at: None,
                verdict: None,
                hints: Vec::new(),
                cover: undercover::Cover::new(self.seed, name),
            },
        );
        Ok(())
    }

    /// The directory of the world's sites, as a team is told at the start.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The team and member a token belongs to.
    async fn member(&self, token: &str) -> Result<(String, Member), LabError> {
        let teams = self.teams.lock().await;
        teams
            .iter()
            .find_map(|(name, t)| t.members.iter().find(|m| token_matches(&m.token, token)).map(|m| (name.clone(), m.clone())))
            .ok_or(LabError::UnknownToken)
    }

    /// Where a team's ledger lives under a lab data directory.
    pub fn team_dir(data_dir: &Path, team: &str) -> PathBuf {
        data_dir.join("teams").join(team)
    }
}
