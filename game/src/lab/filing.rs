//! The case: drafts saved while a team works, submission (which locks it) and the verdict.

use std::collections::BTreeMap;

use super::{Lab, LabError, RequestStatus, Role, Team, real_time_now};
use crate::case::CaseFile;
use sim_core::clock::SimTime;
use sim_core::ids::HintId;

use crate::ledger::CustodyEvent;
use crate::ledger::EvidenceId;
use crate::prosecutor::{self, Admissibility, CaseInput, EvidenceAssessment, Verdict};
use sim_core::scenario::Scenario;

/// Who submits a case: the team itself (refused after the end), or the end of the
/// exercise submitting a saved draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Submitter {
    /// The team's head of unit.
    Team,
    /// The instructor's end of the exercise.
    Closing,
}

impl Lab {
    /// Saves the team's working draft of the case (any member; refused once submitted).
    pub async fn save_draft(&self, token: &str, case: CaseFile) -> Result<(), LabError> {
        let (team, _) = self.member(token).await?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        if t.case.is_some() {
            return Err(LabError::CaseLocked);
        }
        if *self.ended.lock().await {
            return Err(LabError::Ended);
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

    /// Submits the team's case: it is locked, and the prosecutor's verdict is returned.
    pub async fn submit_case(&self, token: &str, case: CaseFile) -> Result<Verdict, LabError> {
        let (team, member) = self.member(token).await?;
        if member.role != Role::HeadOfUnit {
            return Err(LabError::Forbidden { role: member.role, action: "submit the case" });
        }
        if cfg!(feature = "weakened-for-security-tests") {
            // Weakened for the security suite: the end is checked before the team's lock is
            // taken, so an end that runs in between misses this submission.
            if self.has_ended().await {
                return Err(LabError::Ended);
            }
            tokio::task::yield_now().await;
            return self.submit_for(&team, &member.name, case, Submitter::Closing).await;
        }
        self.submit_for(&team, &member.name, case, Submitter::Team).await
    }

    /// Submits `case` for `team`, attaching the cited evidence to it in the ledger. A
    /// team's own submission is refused once the exercise has ended, checked under the
    /// teams' lock: an [`Lab::end`] running at the same time either sees it or refuses it.
    pub(super) async fn submit_for(&self, team: &str, by: &str, case: CaseFile, submitter: Submitter) -> Result<Verdict, LabError> {
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))?;
        // Weakened for the security suite: a submitted case is not locked.
        if t.case.is_some() && !cfg!(feature = "weakened-for-security-tests") {
            return Err(LabError::CaseLocked);
        }
        if submitter == Submitter::Team && *self.ended.lock().await {
            return Err(LabError::Ended);
        }
        let now = self.clock.now();
        for id in case.cited() {
            if t.ledger.evidence(&id).is_some() {
                t.ledger.append_custody(&id, CustodyEvent::AttachedToCase, by.to_string(), now, real_time_now())?;
            }
        }
        let dossier = self.dossier_of(t, &case);
        let verdict = prosecutor::assess(&dossier.input(&self.scenario, team, &case, now));
        t.case = Some(case);
        t.submitted_at = Some(now);
        t.verdict = Some(verdict.clone());
        Ok(verdict)
    }

    /// What the court would receive with `case` from `team` now, without submitting it: for
    /// the instructor's debrief ("what if") and the verdict tables.
    pub async fn dossier(&self, team: &str, case: &CaseFile) -> Result<Dossier, LabError> {
        let teams = self.teams.lock().await;
        let t = teams.get(team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))?;
        Ok(self.dossier_of(t, case))
    }

    fn dossier_of(&self, t: &Team, case: &CaseFile) -> Dossier {
        let evidence = case.cited().into_iter().map(|id| (id.clone(), self.assess(t, &id))).collect();
        let granted = t
            .requests
            .iter()
            .filter(|r| {
                matches!(r.status, RequestStatus::Granted { .. } | RequestStatus::Answered { .. } | RequestStatus::Authorised { .. })
            })
            .count();
        let refused = t.requests.iter().filter(|r| matches!(r.status, RequestStatus::Refused { .. })).count();
        let lawful_evidence =
            t.ledger.entries().iter().filter(|e| self.assess(t, &e.id).admissibility == Admissibility::Admissible).count();
        let (tip_offs, tip_off_consequences) = self.tip_off_lines(t);
        Dossier {
            evidence,
            lawful_steps: u32::try_from(granted + lawful_evidence).unwrap_or(u32::MAX),
            refused_requests: u32::try_from(refused).unwrap_or(u32::MAX),
            hints_taken: t.hints.iter().map(|(_, h)| h.clone()).collect(),
            tip_offs,
            tip_off_consequences,
        }
    }

    /// The team's verdict as a self-contained HTML page (with its timeline), once submitted.
    pub async fn report(&self, token: &str) -> Result<Option<String>, LabError> {
        let (team, _) = self.member(token).await?;
        self.report_for(&team).await
    }

    /// A team's verdict report, for the instructor's debrief.
    pub async fn report_for(&self, team: &str) -> Result<Option<String>, LabError> {
        let timeline = self.timeline(team).await?;
        let teams = self.teams.lock().await;
        let t = teams.get(team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))?;
        let (Some(verdict), Some(at)) = (&t.verdict, t.submitted_at) else { return Ok(None) };
        let page =
            verdict.render_html(&self.scenario.meta.title, &at.to_string(), &timeline).map_err(|e| LabError::Report(e.to_string()))?;
        Ok(Some(page))
    }

    /// The team's verdict, once the case is submitted.
    pub async fn verdict(&self, token: &str) -> Result<Option<Verdict>, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        let own = teams.get(&team).and_then(|t| t.verdict.clone());
        if cfg!(feature = "weakened-for-security-tests") {
            // Weakened for the security suite: a team without a verdict is shown another's.
            return Ok(own.or_else(|| teams.values().find_map(|t| t.verdict.clone())));
        }
        Ok(own)
    }
}

/// What the court receives with a case besides the case itself: the lab's assessment of
/// each cited item and the team's procedural record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dossier {
    /// Admissibility and revealed facts of each cited item.
    pub evidence: BTreeMap<EvidenceId, EvidenceAssessment>,
    /// Investigative steps completed lawfully (granted requests, admissible evidence).
    pub lawful_steps: u32,
    /// Legal requests the judge refused.
    pub refused_requests: u32,
    /// Hints the team took.
    pub hints_taken: Vec<HintId>,
    /// The tip-offs the team caused, each explained (each costs `rubric.tip_off`).
    pub tip_offs: Vec<String>,
    /// What those tip-offs led to (a suspect who left the country).
    pub tip_off_consequences: Vec<String>,
}

impl Dossier {
    /// The prosecutor's input for `case`, filed by `team` at `filed_at`.
    pub fn input<'a>(&'a self, scenario: &'a Scenario, team: &'a str, case: &'a CaseFile, filed_at: SimTime) -> CaseInput<'a> {
        CaseInput {
            scenario,
            team,
            case,
            evidence: &self.evidence,
            lawful_steps: self.lawful_steps,
            refused_requests: self.refused_requests,
            hints_taken: &self.hints_taken,
            filed_at,
            tip_offs: &self.tip_offs,
            tip_off_consequences: &self.tip_off_consequences,
        }
    }
}

/// Where a team's case stands, for a challenge's ranking (the score stays on the server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// When the case was submitted (simulated), if it was.
    pub at: Option<SimTime>,
    /// The court's score and the full-case score, once submitted.
    pub score: Option<(i64, i64)>,
    /// Hints the team took.
    pub hints: usize,
}

impl Lab {
    /// Where `team`'s case stands: submitted when, scored what, with how many hints.
    pub async fn submission(&self, team: &str) -> Result<Submission, LabError> {
        let teams = self.teams.lock().await;
        let t = teams.get(team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))?;
        Ok(Submission { at: t.submitted_at, score: t.verdict.as_ref().map(|v| (v.score, v.max_score)), hints: t.hints.len() })
    }
}
