//! The classroom side of the lab: announcements (the scenario's injects as their time
//! comes, and the instructor's own), hints and their cost, the end of the exercise, each
//! team's progress, and a team's timeline for the debrief.

use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;
use sim_core::facts::FactSet;
use sim_core::ids::HintId;

use super::filing::Submitter;
use super::{Lab, LabError, RequestStatus};
use crate::ledger::LedgerEntry;
use crate::prosecutor::Admissibility;

/// A message to every team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Announcement {
    /// When it was released.
    pub at: SimTime,
    /// The message.
    pub message: String,
    /// Whether the instructor sent it during the exercise (not scripted in the scenario).
    pub ad_hoc: bool,
}

/// A hint as a team sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HintGiven {
    /// Which hint.
    pub id: HintId,
    /// The hint.
    pub text: String,
    /// Points it costs the team.
    pub cost: i64,
    /// When the team got it.
    pub at: SimTime,
}

/// How far a team has come, for the instructor's console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TeamProgress {
    /// The team.
    pub team: String,
    /// Pieces of evidence in its ledger.
    pub evidence: usize,
    /// Legal requests pending, granted (incl. answered) and refused.
    pub requests: [usize; 3],
    /// Distinct facts its admissible evidence reveals.
    pub facts_uncovered: usize,
    /// Hints taken.
    pub hints: usize,
    /// Whether a draft case is saved.
    pub draft: bool,
    /// The score, once the case is submitted.
    pub score: Option<i64>,
    /// Tip-offs the team caused (the cast noticed one of its undercover accounts).
    #[serde(default)]
    pub tip_offs: usize,
}

/// One step of a team's investigation, for the debrief's replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimelineEvent {
    /// Simulated time.
    pub at: SimTime,
    /// Who (member name), when known.
    pub by: Option<String>,
    /// What happened.
    pub what: String,
}

impl Lab {
    /// Announcements released by now: the scenario's injects whose time has come, and the
    /// instructor's own messages, oldest first.
    pub async fn announcements(&self, token: &str) -> Result<Vec<Announcement>, LabError> {
        self.member(token).await?;
        Ok(self.released_announcements().await)
    }

    pub(super) async fn released_announcements(&self) -> Vec<Announcement> {
        let now = self.clock.now();
        let start = self.scenario.meta.start;
        let mut all: Vec<Announcement> = self
            .scenario
            .injects
            .iter()
            .map(|i| Announcement { at: start.plus(i.at), message: i.message.clone(), ad_hoc: false })
            // Weakened for the security suite: injects are shown before their time.
            .filter(|a| a.at <= now || cfg!(feature = "weakened-for-security-tests"))
            .collect();
        all.extend(self.announcements.lock().await.iter().cloned());
        all.sort_by_key(|a| a.at);
        all
    }

    /// The instructor sends a message to every team now.
    pub async fn inject(&self, message: &str) -> Announcement {
        let a = Announcement { at: self.clock.now(), message: message.to_string(), ad_hoc: true };
        self.announcements.lock().await.push(a.clone());
        a
    }

    /// Gives `team` the scenario's hint `hint` (the team asked, or the instructor sent it);
    /// its cost counts against the team's score. A hint is charged once.
    pub async fn give_hint(&self, team: &str, hint: &HintId) -> Result<HintGiven, LabError> {
        let h = self.scenario.hints.iter().find(|h| &h.id == hint).ok_or_else(|| LabError::UnknownHint(hint.to_string()))?;
        let now = self.clock.now();
        let mut teams = self.teams.lock().await;
        if cfg!(feature = "weakened-for-security-tests") {
            // Weakened for the security suite: "already taken?" is asked under one lock and
            // the hint recorded under another, so concurrent requests each pay for it.
            let taken = teams.get(team).is_some_and(|t| t.hints.iter().any(|(_, id)| id == hint));
            drop(teams);
            tokio::task::yield_now().await;
            teams = self.teams.lock().await;
            if !taken {
                teams.get_mut(team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))?.hints.push((now, hint.clone()));
            }
        }
        let t = teams.get_mut(team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))?;
        let at = match t.hints.iter().find(|(_, id)| id == hint) {
            Some((at, _)) => *at,
            None => {
                t.hints.push((now, hint.clone()));
                now
            }
        };
        Ok(HintGiven { id: h.id.clone(), text: h.text.clone(), cost: h.cost.abs(), at })
    }

    /// A team asks for a hint itself (self-study, or when the scenario allows it).
    pub async fn take_hint(&self, token: &str, hint: &HintId) -> Result<HintGiven, LabError> {
        let (team, _) = self.member(token).await?;
        self.give_hint(&team, hint).await
    }

    /// The hints a team holds.
    pub async fn hints(&self, token: &str) -> Result<Vec<HintGiven>, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
        Ok(t.hints
            .iter()
            .filter_map(|(at, id)| {
                self.scenario.hints.iter().find(|h| &h.id == id).map(|h| HintGiven {
                    id: id.clone(),
                    text: h.text.clone(),
                    cost: h.cost.abs(),
                    at: *at,
                })
            })
            .collect())
    }

    /// Ends the exercise: every team's saved draft is submitted as it stands, and no case
    /// can be submitted or changed afterwards.
    pub async fn end(&self) -> Result<Vec<(String, Option<i64>)>, LabError> {
        *self.ended.lock().await = true;
        let drafts: Vec<(String, crate::case::CaseFile)> = {
            let teams = self.teams.lock().await;
            teams.iter().filter(|(_, t)| t.case.is_none()).filter_map(|(n, t)| t.draft.clone().map(|d| (n.clone(), d))).collect()
        };
        for (team, draft) in drafts {
            self.submit_for(&team, "the instructor (end of exercise)", draft, Submitter::Closing).await?;
        }
        let teams = self.teams.lock().await;
        Ok(teams.iter().map(|(n, t)| (n.clone(), t.verdict.as_ref().map(|v| v.score))).collect())
    }

    /// Whether the exercise has ended.
    pub async fn has_ended(&self) -> bool {
        *self.ended.lock().await
    }

    /// Every team's progress.
    pub async fn progress(&self) -> Vec<TeamProgress> {
        let teams = self.teams.lock().await;
        teams
            .iter()
            .map(|(name, t)| {
                let mut facts = FactSet::new();
                for e in t.ledger.entries() {
                    let a = self.assess(t, &e.id);
                    if a.admissibility == Admissibility::Admissible {
                        facts.extend(a.facts.into_iter().map(|r| r.fact));
                    }
                }
                let count = |f: fn(&RequestStatus) -> bool| t.requests.iter().filter(|r| f(&r.status)).count();
                TeamProgress {
                    team: name.clone(),
                    evidence: t.ledger.entries().len(),
                    requests: [
                        count(|s| matches!(s, RequestStatus::Pending { .. })),
                        count(|s| {
                            matches!(s, RequestStatus::Granted { .. } | RequestStatus::Answered { .. } | RequestStatus::Authorised { .. })
                        }),
                        count(|s| matches!(s, RequestStatus::Refused { .. })),
                    ],
                    facts_uncovered: facts.len(),
                    hints: t.hints.len(),
                    draft: t.draft.is_some(),
                    score: t.verdict.as_ref().map(|v| v.score),
                    tip_offs: self.tip_offs_of(t).len(),
                }
            })
            .collect()
    }

    /// A team's investigation step by step, in simulated time, for the debrief.
    pub async fn timeline(&self, team: &str) -> Result<Vec<TimelineEvent>, LabError> {
        let teams = self.teams.lock().await;
        let t = teams.get(team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))?;
        let mut events = Vec::new();
        for r in t.ledger.records() {
            match r {
                LedgerEntry::Evidence(e) => events.push(TimelineEvent {
                    at: e.sim_time,
                    by: Some(e.obtained_by.clone()),
                    what: format!("{} obtained {:?} from {} ({})", e.id, e.kind, e.source, e.method),
                }),
                LedgerEntry::Custody(c) => {
                    events.push(TimelineEvent { at: c.sim_time, by: Some(c.by.clone()), what: format!("{} {:?}", c.evidence, c.event) })
                }
            }
        }
        for r in &t.requests {
            for (at, what) in &r.log {
                events.push(TimelineEvent { at: *at, by: Some(r.signed_by.clone()), what: format!("{}: {what}", r.id) });
            }
        }
        for (at, by, what) in t.cover.acts() {
            events.push(TimelineEvent { at, by, what });
        }
        for tip in self.tip_offs_of(t) {
            events.push(TimelineEvent {
                at: tip.time,
                by: None,
                what: format!("tip-off: persona {} noticed the investigation — {}", tip.persona, tip.cause),
            });
        }
        for (at, hint) in &t.hints {
            events.push(TimelineEvent { at: *at, by: None, what: format!("hint {hint} taken") });
        }
        if let (Some(at), Some(v)) = (t.submitted_at, &t.verdict) {
            events.push(TimelineEvent { at, by: None, what: format!("case submitted: {} / {} points", v.score, v.max_score) });
        }
        events.sort_by_key(|e| e.at);
        Ok(events)
    }
}
