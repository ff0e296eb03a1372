//! The instructor console's state: teams and their progress (who is behind), the clock,
//! injects, hints, a team's timeline for the debrief, and the views other labs may offer
//! (scoreboard, network map, what really happened) read as JSON when the lab has them.

use std::collections::BTreeMap;

use super::client::{ClientError, ConsoleStatusDto, LabClient};
use super::{Notice, Remote};
use crate::lab::TimelineEvent;

/// Optional instructor views: (locale key, lab path).
pub const REMOTE_VIEWS: [(&str, &str); 3] =
    [("console.scoreboard", "/instructor/scoreboard"), ("console.network", "/instructor/network"), ("console.truth", "/instructor/truth")];

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
    /// Load one of [`REMOTE_VIEWS`].
    View(usize),
}

/// The console.
#[derive(Debug)]
pub struct Console {
    client: LabClient,
    /// The overview, as last fetched.
    pub status: Option<ConsoleStatusDto>,
    /// The selected team's timeline.
    pub timeline: Option<(String, Vec<TimelineEvent>)>,
    /// The optional views, by index in [`REMOTE_VIEWS`].
    pub views: BTreeMap<usize, Remote>,
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
            views: BTreeMap::new(),
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
                ConsoleAction::View(i) => {
                    if let Some((_, path)) = REMOTE_VIEWS.get(i) {
                        let r = Remote::from_result(self.client.get_json(path).await);
                        self.views.insert(i, r);
                    }
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
