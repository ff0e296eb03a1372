//! The instructor console's state: teams and their progress (who is behind), the clock,
//! injects, hints, a team's timeline for the debrief, and typed views of the scoreboard,
//! the network map (relays and onion services) and what really happened (the world's
//! ground truth, `/instructor/truth`, for the debrief; a lab without one shows "not
//! available"). In a challenge every team has its own world: `world_team` picks whose truth
//! and network map the views show.

use super::client::{ClientError, ConsoleStatusDto, LabClient};
use super::{Fetched, Notice};
use crate::challenge::board::Standing;
use crate::lab::{ChronicleLine, TimelineEvent, Truth};
use crate::net::consensus::{NetworkMap, RelayEntry};

/// The console's views beyond the teams overview and the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConsoleView {
    /// Teams ranked.
    Scoreboard,
    /// Relays and onion services.
    Network,
    /// What really happened.
    Truth,
}

impl ConsoleView {
    /// Every view, in the side bar's order.
    pub const ALL: [ConsoleView; 3] = [ConsoleView::Scoreboard, ConsoleView::Network, ConsoleView::Truth];

    /// The view's title (a locale key).
    pub fn key(self) -> &'static str {
        match self {
            ConsoleView::Scoreboard => "console.scoreboard",
            ConsoleView::Network => "console.network",
            ConsoleView::Truth => "console.truth",
        }
    }
}

/// What the instructor can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleAction {
    /// Reload the overview.
    Refresh,
    /// Pause (`true`) or resume the clock.
    Pause(bool),
    /// Simulated seconds per real second.
    Compression(u32),
    /// A message to every team.
    Inject(String),
    /// A hint for a team.
    Hint {
        /// The team.
        team: String,
        /// The scenario's hint id.
        hint: String,
    },
    /// Load a team's timeline.
    Timeline(String),
    /// Load one of the views.
    View(ConsoleView),
}

/// The console.
#[derive(Debug)]
pub struct Console {
    client: LabClient,
    /// The overview, as last fetched.
    pub status: Option<ConsoleStatusDto>,
    /// The selected team's timeline.
    pub timeline: Option<(String, Vec<TimelineEvent>)>,
    /// The scoreboard, as last fetched.
    pub scoreboard: Option<Fetched<Vec<Standing>>>,
    /// The network map, as last fetched.
    pub network: Option<Fetched<NetworkMap>>,
    /// What really happened, as last fetched.
    pub truth: Option<Fetched<Truth>>,
    /// The debrief's chronicle shows this actor only (`None`: everyone).
    pub truth_actor: Option<String>,
    /// In a challenge, whose world the truth and network views show (`None`: the first
    /// team's; a classroom has one world and ignores it).
    pub world_team: Option<String>,
    /// Messages for the instructor.
    pub notices: Vec<Notice>,
    /// The inject being written.
    pub inject_text: String,
    /// The hint form: team and hint id.
    pub hint_form: (String, String),
}

impl Console {
    /// A console over the lab with the instructor's token.
    pub fn new(client: LabClient) -> Console {
        Console {
            client,
            status: None,
            timeline: None,
            scoreboard: None,
            network: None,
            truth: None,
            truth_actor: None,
            world_team: None,
            notices: Vec::new(),
            inject_text: String::new(),
            hint_form: (String::new(), String::new()),
        }
    }

    /// Teams whose uncovered facts are under half the best team's: they need attention.
    pub fn behind(&self) -> Vec<String> {
        let Some(s) = &self.status else { return Vec::new() };
        let best = s.teams.iter().map(|t| t.facts_uncovered).max().unwrap_or(0);
        s.teams.iter().filter(|t| best > 0 && t.facts_uncovered * 2 < best).map(|t| t.team.clone()).collect()
    }

    /// In a challenge, the teams whose worlds the truth and network views can show (each
    /// team plays its own); empty in a classroom, where every team shares one world.
    pub fn worlds(&self) -> Vec<String> {
        match &self.status {
            Some(s) if s.phase.is_some() => s.teams.iter().map(|t| t.team.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `view` has been fetched (loaded or not).
    pub fn fetched(&self, view: ConsoleView) -> bool {
        match view {
            ConsoleView::Scoreboard => self.scoreboard.is_some(),
            ConsoleView::Network => self.network.is_some(),
            ConsoleView::Truth => self.truth.is_some(),
        }
    }

    /// The chronicle lines the debrief shows: every line, or the chosen actor's.
    pub fn chronicle(&self) -> Vec<&ChronicleLine> {
        let Some(Fetched::Loaded(t)) = &self.truth else { return Vec::new() };
        t.chronicle.iter().filter(|c| self.truth_actor.as_ref().is_none_or(|a| c.actor.as_ref() == Some(a))).collect()
    }

    /// The relays of the map carrying `flag` (Guard, Exit, HSDir…).
    pub fn relays_flagged(&self, flag: &str) -> Vec<&RelayEntry> {
        let Some(Fetched::Loaded(m)) = &self.network else { return Vec::new() };
        m.relays.iter().filter(|r| r.flags.iter().any(|f| f == flag)).collect()
    }

    fn fail(&mut self, e: ClientError) {
        self.notices.push(Notice { key: "notice.error".into(), text: e.to_string(), error: true });
    }

    /// Carries out an action against the lab.
    pub async fn perform(&mut self, action: ConsoleAction) {
        let result: Result<(), ClientError> = async {
            match action {
                ConsoleAction::Refresh => self.status = Some(self.client.console_status().await?),
                ConsoleAction::Pause(p) => {
                    self.client.set_paused(p).await?;
                    self.status = Some(self.client.console_status().await?);
                }
                ConsoleAction::Compression(f) => {
                    self.client.set_compression(f).await?;
                    self.status = Some(self.client.console_status().await?);
                }
                ConsoleAction::Inject(m) => {
                    let a = self.client.inject(&m).await?;
                    self.inject_text.clear();
                    self.notices.push(Notice { key: "notice.injected".into(), text: a.message, error: false });
                }
                ConsoleAction::Hint { team, hint } => {
                    let h = self.client.give_hint(&team, &hint).await?;
                    self.notices.push(Notice { key: "notice.hint_given".into(), text: format!("{team}: {}", h.text), error: false });
                }
                ConsoleAction::Timeline(team) => {
                    let t = self.client.timeline(&team).await?;
                    self.timeline = Some((team, t));
                }
                ConsoleAction::View(ConsoleView::Scoreboard) => {
                    self.scoreboard = Some(Fetched::from_result(self.client.scoreboard().await))
                }
                ConsoleAction::View(ConsoleView::Network) => {
                    self.network = Some(Fetched::from_result(self.client.network(self.world_team.as_deref()).await))
                }
                ConsoleAction::View(ConsoleView::Truth) => {
                    self.truth = Some(Fetched::from_result(self.client.truth(self.world_team.as_deref()).await))
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            self.fail(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::consensus::OnionEntry;
    use sim_core::clock::SimTime;

    fn relay(nick: &str, flags: &[&str]) -> RelayEntry {
        RelayEntry {
            nick: nick.into(),
            address: "127.5.0.4:5100".into(),
            flags: flags.iter().map(|f| (*f).to_string()).collect(),
            bandwidth: 30,
        }
    }

    #[test]
    fn workstation_console_views_are_typed_and_filter() {
        let mut c = Console::new(LabClient::new("http://127.0.0.1:9", "x"));
        assert!(c.chronicle().is_empty() && c.relays_flagged("Guard").is_empty());
        assert!(!c.fetched(ConsoleView::Network));
        c.network = Some(Fetched::Loaded(NetworkMap {
            mode: "tor".into(),
            relays: vec![relay("auth1", &["Authority", "Running"]), relay("relay1", &["Guard", "HSDir", "Running"])],
            onion_services: vec![OnionEntry { site: "silk-lane".into(), host: "abc.onion".into(), router: "host1".into() }],
            ..NetworkMap::default()
        }));
        assert!(c.fetched(ConsoleView::Network));
        assert_eq!(c.relays_flagged("HSDir").iter().map(|r| r.nick.as_str()).collect::<Vec<_>>(), ["relay1"]);
        assert_eq!(c.relays_flagged("Running").len(), 2);
        let line = |actor: Option<&str>, text: &str| ChronicleLine {
            time: SimTime(0),
            actor: actor.map(str::to_string),
            text: text.into(),
            ok: true,
        };
        c.truth = Some(Fetched::Loaded(Truth {
            exercise: "x".into(),
            debrief: String::new(),
            sim_time: SimTime(0),
            people: Vec::new(),
            slips: Vec::new(),
            chronicle: vec![line(Some("vendor"), "lists"), line(None, "block 1"), line(Some("buyer-1"), "pays")],
            tip_offs: Vec::new(),
            departures: Vec::new(),
            facts: 0,
        }));
        assert_eq!(c.chronicle().len(), 3);
        c.truth_actor = Some("vendor".into());
        assert_eq!(c.chronicle().iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["lists"]);
        assert_eq!(ConsoleView::ALL.map(ConsoleView::key), ["console.scoreboard", "console.network", "console.truth"]);

        // A classroom has one world; a challenge one per team.
        let progress = |team: &str| serde_json::json!({"team": team, "evidence": 0, "requests": [0, 0, 0], "facts_uncovered": 0, "hints": 0, "draft": false, "score": null});
        let pace = serde_json::json!({"paused": false, "compression": 60, "sim_time": "2026-03-02T08:00:00Z"});
        let classroom = serde_json::json!({"pace": pace, "ended": false, "teams": [progress("a"), progress("b")]});
        c.status = Some(serde_json::from_value(classroom).unwrap());
        assert!(c.worlds().is_empty());
        let challenge = serde_json::json!({"pace": pace, "ended": false, "phase": "running", "teams": [progress("a"), progress("b")]});
        c.status = Some(serde_json::from_value(challenge).unwrap());
        assert_eq!(c.worlds(), ["a", "b"]);
    }
}
