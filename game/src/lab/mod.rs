//! The lab: the trainees' side of the world — teams, captures into the evidence ledger,
//! legal requests ruled by the simulated judge and answered by providers, the case file
//! and the prosecutor's verdict.
//!
//! The lab obtains every artifact itself (through the world's network) and records it at
//! once, so a team cannot forge or back-date evidence. Routes in [`http`] are thin over
//! the methods here; the autopilot calls the same methods.

pub mod http;
pub mod openapi;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimTime};
use sim_core::facts::{Entity, FactSet};
use sim_core::ids::ProviderId;
use sim_core::scenario::{RequestKind, Scenario};
use tokio::sync::Mutex;

use market_sim::world::cast::Directory;
use market_sim::world::network::Party;
use market_sim::world::truth::SharedTruth;
use market_sim::world::{ProviderDesk, World};

use crate::case::CaseFile;
use crate::extract::{self, Origin};
use crate::judge::{self, RequestForRuling};
use crate::ledger::{
    ArtifactKind, ArtifactStatus, Authority, CustodyEntry, CustodyEvent, EvidenceEntry, EvidenceId, Ledger, LedgerError, NewEvidence,
};
use crate::prosecutor::{self, Admissibility, CaseInput, EvidenceAssessment, RevealedFact, Strength, Verdict};

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
    /// The case was already submitted.
    #[error("the case has been submitted and is locked")]
    CaseLocked,
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

/// A legal request and where it stands.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LegalRequest {
    /// `R1`, `R2`, …
    pub id: String,
    /// Type.
    pub kind: RequestKind,
    /// Addressed to.
    pub provider: ProviderId,
    /// What it is about (an address, as the team wrote it).
    pub target: String,
    /// Evidence cited as grounds.
    pub grounds: Vec<EvidenceId>,
    /// Who signed it.
    pub signed_by: String,
    /// When it was filed.
    pub filed_at: SimTime,
    /// Where it stands.
    pub status: RequestStatus,
}

/// States of a legal request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RequestStatus {
    /// Before the judge; rules at that time.
    Pending {
        /// When the ruling comes.
        ruling_at: SimTime,
    },
    /// Granted; the provider answers at that time.
    Granted {
        /// The judge's reasons.
        reason: String,
        /// When the provider's answer arrives.
        answer_at: SimTime,
    },
    /// Refused.
    Refused {
        /// The judge's reasons.
        reason: String,
    },
    /// Answered; the answer is evidence.
    Answered {
        /// The judge's reasons.
        reason: String,
        /// The provider's records, as evidence.
        evidence: EvidenceId,
    },
}

/// A request as a team drafts it.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestDraft {
    /// Type.
    pub kind: RequestKind,
    /// Addressed to.
    pub provider: ProviderId,
    /// An address.
    pub target: String,
    /// Evidence cited as grounds.
    pub grounds: Vec<EvidenceId>,
}

struct Team {
    members: Vec<Member>,
    ledger: Ledger,
    requests: Vec<LegalRequest>,
    /// The case as the team last saved it while working.
    draft: Option<CaseFile>,
    /// The case as submitted (locks it).
    case: Option<CaseFile>,
    verdict: Option<Verdict>,
}

/// One piece of evidence with its chain of custody and the state of its artifact.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceDetail {
    /// The ledger entry.
    pub entry: EvidenceEntry,
    /// Custody events, oldest first.
    pub custody: Vec<CustodyEntry>,
    /// Whether the stored artifact still matches the ledger.
    pub integrity: ArtifactStatus,
}

/// One exercise's lab.
pub struct Lab {
    scenario: Arc<Scenario>,
    clock: SimClock,
    party: Party,
    directory: Directory,
    desks: BTreeMap<ProviderId, ProviderDesk>,
    truth: SharedTruth,
    teams: Mutex<BTreeMap<String, Team>>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab").field("scenario", &self.scenario.meta.id).finish_non_exhaustive()
    }
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
        Ok(Lab {
            scenario: world.scenario().clone(),
            clock: world.clock().clone(),
            party,
            directory: world.directory().clone(),
            desks: world.desks().clone(),
            truth: world.truth().clone(),
            teams: Mutex::new(BTreeMap::new()),
        })
    }

    /// Adds a team with its members; its ledger lives in `dir`.
    pub async fn add_team(&self, name: &str, members: Vec<Member>, dir: &Path) -> Result<(), LabError> {
        let ledger = Ledger::open(dir)?;
        self.teams
            .lock()
            .await
            .insert(name.to_string(), Team { members, ledger, requests: Vec::new(), draft: None, case: None, verdict: None });
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
            .find_map(|(name, t)| t.members.iter().find(|m| m.token == token).map(|m| (name.clone(), m.clone())))
            .ok_or(LabError::UnknownToken)
    }

    fn origin_of(&self, url: &str) -> Option<Origin> {
        let base = |u: &str| url == u || url.starts_with(&format!("{u}/"));
        if base(&self.directory.explorer) {
            return Some(Origin::Explorer);
        }
        self.directory.sites.iter().find(|(_, u)| base(u)).map(|(s, _)| Origin::Site(s.clone()))
    }

    /// Fetches a page of the world without recording it (browsing).
    pub async fn browse(&self, token: &str, url: &str) -> Result<Vec<u8>, LabError> {
        self.member(token).await?;
        if self.origin_of(url).is_none() {
            return Err(LabError::NotInWorld(url.to_string()));
        }
        Ok(self.fetch(url, None).await?.0)
    }

    async fn fetch(&self, url: &str, bearer: Option<&str>) -> Result<(Vec<u8>, String), LabError> {
        let fail = |message: String| LabError::Fetch { url: url.to_string(), message };
        let mut req = self.party.client_for(url).get(url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.header("accept", "application/json").send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let media = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_string();
        let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?.to_vec();
        if !status.is_success() {
            return Err(fail(format!("status {status}")));
        }
        Ok((body, media))
    }

    /// Captures a page of the world into the team's ledger, as the lab obtains it now.
    pub async fn capture(&self, token: &str, url: &str) -> Result<EvidenceEntry, LabError> {
        let (team, member) = self.member(token).await?;
        let origin = self.origin_of(url).ok_or_else(|| LabError::NotInWorld(url.to_string()))?;
        let (content, media_type) = self.fetch(url, None).await?;
        let kind = if origin == Origin::Explorer { ArtifactKind::ChainRecord } else { ArtifactKind::PageCapture };
        let evidence = NewEvidence {
            kind,
            source: url.to_string(),
            method: "HTTP GET by the lab through the direct network".into(),
            obtained_by: member.name.clone(),
            authority: Authority::PublicSource,
            sim_time: self.clock.now(),
            real_time: real_time_now(),
            media_type,
            content,
        };
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let entry = t.ledger.append_evidence(evidence)?;
        tracing::info!(team, evidence = %entry.id, url, "captured");
        Ok(entry)
    }

    /// The stored content of a piece of the team's evidence; viewing is a custody event.
    pub async fn evidence_content(&self, token: &str, id: &EvidenceId) -> Result<Vec<u8>, LabError> {
        let (team, member) = self.member(token).await?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        if t.ledger.evidence(id).is_none() {
            return Err(LabError::UnknownEvidence(id.to_string()));
        }
        let content = t.ledger.artifact(id)?;
        t.ledger.append_custody(id, CustodyEvent::Viewed, member.name, self.clock.now(), real_time_now())?;
        Ok(content)
    }

    /// One piece of the team's evidence with its custody log and integrity.
    pub async fn evidence_detail(&self, token: &str, id: &EvidenceId) -> Result<EvidenceDetail, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
        let entry = t.ledger.evidence(id).cloned().ok_or_else(|| LabError::UnknownEvidence(id.to_string()))?;
        let custody = t.ledger.custody_of(id).into_iter().cloned().collect();
        Ok(EvidenceDetail { entry, custody, integrity: t.ledger.check_artifact(id) })
    }

    /// The artifact of a piece of evidence, handed out of the lab: an `Exported` custody event.
    pub async fn export_evidence(&self, token: &str, id: &EvidenceId) -> Result<(EvidenceEntry, Vec<u8>), LabError> {
        let (team, member) = self.member(token).await?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let entry = t.ledger.evidence(id).cloned().ok_or_else(|| LabError::UnknownEvidence(id.to_string()))?;
        let content = t.ledger.artifact(id)?;
        t.ledger.append_custody(id, CustodyEvent::Exported, member.name, self.clock.now(), real_time_now())?;
        Ok((entry, content))
    }

    /// Saves the team's working draft of the case (any member; refused once submitted).
    pub async fn save_draft(&self, token: &str, case: CaseFile) -> Result<(), LabError> {
        let (team, _) = self.member(token).await?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        if t.case.is_some() {
            return Err(LabError::CaseLocked);
        }
        t.draft = Some(case);
        Ok(())
    }

    /// The team's case: the submitted one if any, else the draft.
    pub async fn case(&self, token: &str) -> Result<Option<CaseFile>, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        Ok(teams.get(&team).and_then(|t| t.case.clone().or_else(|| t.draft.clone())))
    }

    /// The team's evidence entries.
    pub async fn evidence_list(&self, token: &str) -> Result<Vec<EvidenceEntry>, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
        Ok(t.ledger.entries().to_vec())
    }

    /// Files a legal request; the judge rules after the rule's delay (see [`Lab::tick`]).
    pub async fn request(&self, token: &str, draft: RequestDraft) -> Result<LegalRequest, LabError> {
        let (team, member) = self.member(token).await?;
        if member.role != Role::HeadOfUnit {
            return Err(LabError::Forbidden { role: member.role, action: "sign a legal request" });
        }
        let desk = self.desks.get(&draft.provider).ok_or_else(|| LabError::UnknownProvider(draft.provider.to_string()))?;
        let delay = judge::matching_rule(&self.scenario.legal.rules, draft.kind, desk.kind).map(|r| r.ruling_delay).unwrap_or_default();
        let now = self.clock.now();
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        for g in &draft.grounds {
            if t.ledger.evidence(g).is_none() {
                return Err(LabError::UnknownEvidence(g.to_string()));
            }
        }
        let req = LegalRequest {
            id: format!("R{}", t.requests.len() + 1),
            kind: draft.kind,
            provider: draft.provider,
            target: draft.target,
            grounds: draft.grounds,
            signed_by: member.name,
            filed_at: now,
            status: RequestStatus::Pending { ruling_at: now.plus(delay) },
        };
        t.requests.push(req.clone());
        Ok(req)
    }

    /// The team's requests.
    pub async fn requests(&self, token: &str) -> Result<Vec<LegalRequest>, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        Ok(teams.get(&team).map(|t| t.requests.clone()).unwrap_or_default())
    }

    /// The earliest time something in the lab is due (a ruling or an answer).
    pub async fn next_due(&self) -> Option<SimTime> {
        let teams = self.teams.lock().await;
        teams
            .values()
            .flat_map(|t| t.requests.iter())
            .filter_map(|r| match r.status {
                RequestStatus::Pending { ruling_at } => Some(ruling_at),
                RequestStatus::Granted { answer_at, .. } => Some(answer_at),
                _ => None,
            })
            .min()
    }

    /// Moves legal process forward to the current simulated time: rulings, then answers.
    pub async fn tick(&self) -> Result<(), LabError> {
        let now = self.clock.now();
        let mut teams = self.teams.lock().await;
        for (name, t) in teams.iter_mut() {
            for i in 0..t.requests.len() {
                let req = t.requests[i].clone();
                match &req.status {
                    RequestStatus::Pending { ruling_at } if *ruling_at <= now => {
                        let status = self.rule(t, &req, now);
                        tracing::info!(team = %name, request = %req.id, ?status, "ruling");
                        t.requests[i].status = status;
                    }
                    RequestStatus::Granted { reason, answer_at } if *answer_at <= now => {
                        let evidence = self.answer(t, &req).await?;
                        t.requests[i].status = RequestStatus::Answered { reason: reason.clone(), evidence };
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn rule(&self, t: &Team, req: &LegalRequest, now: SimTime) -> RequestStatus {
        let Some(desk) = self.desks.get(&req.provider) else {
            return RequestStatus::Refused { reason: format!("no provider {}", req.provider) };
        };
        let mut grounds = FactSet::new();
        for g in &req.grounds {
            let a = self.assess(t, g);
            if a.admissibility == Admissibility::Admissible {
                grounds.extend(a.facts.into_iter().map(|r| r.fact));
            }
        }
        let target = Entity::Address(req.target.trim().to_string());
        let ruling = judge::rule(
            &self.scenario.legal.rules,
            &RequestForRuling { kind: req.kind, provider_kind: desk.kind, target: &target, grounds: &grounds, cited: req.grounds.len() },
        );
        if ruling.granted {
            let delay = self.scenario.providers.iter().find(|p| p.id == req.provider).map(|p| p.response_delay).unwrap_or_default();
            RequestStatus::Granted { reason: ruling.reason, answer_at: now.plus(delay) }
        } else {
            RequestStatus::Refused { reason: ruling.reason }
        }
    }

    async fn answer(&self, t: &mut Team, req: &LegalRequest) -> Result<EvidenceId, LabError> {
        let desk = self.desks.get(&req.provider).ok_or_else(|| LabError::UnknownProvider(req.provider.to_string()))?;
        let url = format!("{}/legal/records?address={}", desk.url, req.target.trim());
        let (content, media_type) = self.fetch(&url, Some(&desk.legal_token)).await?;
        let entry = t.ledger.append_evidence(NewEvidence {
            kind: ArtifactKind::ProviderRecord,
            source: format!("{} records for {}", req.provider, req.target),
            method: format!("served {:?} {} on the provider's legal desk", req.kind, req.id),
            obtained_by: req.signed_by.clone(),
            authority: Authority::Order { request: req.id.clone(), kind: req.kind },
            sim_time: self.clock.now(),
            real_time: real_time_now(),
            media_type,
            content,
        })?;
        Ok(entry.id)
    }

    /// Admissibility and revealed facts of one piece of a team's evidence.
    fn assess(&self, t: &Team, id: &EvidenceId) -> EvidenceAssessment {
        let inadmissible = |why: String| EvidenceAssessment { admissibility: Admissibility::Inadmissible(why), facts: Vec::new() };
        let Some(entry) = t.ledger.evidence(id) else {
            return inadmissible(format!("{id} is not in the team's ledger"));
        };
        match t.ledger.check_artifact(id) {
            ArtifactStatus::Intact => {}
            ArtifactStatus::HashMismatch { .. } => return inadmissible(format!("{id}: artifact hash does not match the ledger")),
            ArtifactStatus::Missing => return inadmissible(format!("{id}: artifact is missing from the store")),
        }
        let origin = match (&entry.kind, &entry.authority) {
            (ArtifactKind::ProviderRecord, Authority::Order { request, .. }) => {
                let granted = t.requests.iter().any(|r| &r.id == request && matches!(r.status, RequestStatus::Answered { .. }));
                if !granted {
                    return inadmissible(format!("{id}: provider record without a granted order"));
                }
                let provider = t.requests.iter().find(|r| &r.id == request).map(|r| r.provider.clone());
                provider.map(Origin::Provider).unwrap_or(Origin::Other)
            }
            (ArtifactKind::ProviderRecord, _) => return inadmissible(format!("{id}: provider record obtained without legal authority")),
            _ => self.origin_of(&entry.source).unwrap_or(Origin::Other),
        };
        let Ok(content) = t.ledger.artifact(id) else {
            return inadmissible(format!("{id}: artifact cannot be read"));
        };
        let facts = extract::revealed_facts(&origin, &content, &self.truth.read());
        EvidenceAssessment {
            admissibility: Admissibility::Admissible,
            facts: facts.into_iter().map(|fact| RevealedFact { fact, strength: Strength::Direct }).collect(),
        }
    }

    /// Submits the team's case: it is locked, and the prosecutor's verdict is returned.
    pub async fn submit_case(&self, token: &str, case: CaseFile) -> Result<Verdict, LabError> {
        let (team, member) = self.member(token).await?;
        if member.role != Role::HeadOfUnit {
            return Err(LabError::Forbidden { role: member.role, action: "submit the case" });
        }
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        if t.case.is_some() {
            return Err(LabError::CaseLocked);
        }
        let mut cited: Vec<EvidenceId> = case
            .suspects
            .iter()
            .flat_map(|s| s.attribution.iter().chain(s.charges.iter().flat_map(|c| c.elements.iter().flat_map(|e| e.evidence.iter()))))
            .cloned()
            .collect();
        cited.sort();
        cited.dedup();
        let now = self.clock.now();
        let mut evidence = BTreeMap::new();
        for id in &cited {
            evidence.insert(id.clone(), self.assess(t, id));
            if t.ledger.evidence(id).is_some() {
                t.ledger.append_custody(id, CustodyEvent::AttachedToCase, member.name.clone(), now, real_time_now())?;
            }
        }
        let granted =
            t.requests.iter().filter(|r| matches!(r.status, RequestStatus::Granted { .. } | RequestStatus::Answered { .. })).count();
        let refused = t.requests.iter().filter(|r| matches!(r.status, RequestStatus::Refused { .. })).count();
        let lawful_evidence =
            t.ledger.entries().iter().filter(|e| self.assess(t, &e.id).admissibility == Admissibility::Admissible).count();
        let verdict = prosecutor::assess(&CaseInput {
            scenario: &self.scenario,
            team: &team,
            case: &case,
            evidence: &evidence,
            lawful_steps: u32::try_from(granted + lawful_evidence).unwrap_or(u32::MAX),
            refused_requests: u32::try_from(refused).unwrap_or(u32::MAX),
        });
        t.case = Some(case);
        t.verdict = Some(verdict.clone());
        Ok(verdict)
    }

    /// The team's verdict, once the case is submitted.
    pub async fn verdict(&self, token: &str) -> Result<Option<Verdict>, LabError> {
        let (team, _) = self.member(token).await?;
        Ok(self.teams.lock().await.get(&team).and_then(|t| t.verdict.clone()))
    }

    /// Where a team's ledger lives under a lab data directory.
    pub fn team_dir(data_dir: &Path, team: &str) -> PathBuf {
        data_dir.join("teams").join(team)
    }
}
