//! The scoreboard as the projector shows it, and the ranking the announcement reveals.
//!
//! Pure: built from each team's [`Submission`] and the challenge's phase. Before the
//! announcement the board carries no score, rank or order that depends on one — teams are
//! listed by name with whether they have submitted — so nothing leaks through the page,
//! its event stream or its JSON.
//!
//! The ranking rule, for ties: higher score first; then the earlier submission (simulated
//! time); then fewer hints taken; then the team's name in alphabetical order. A team that
//! filed no case ranks below every team that did. Every team gets its own position, so the
//! order is total and the same on every run.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use crate::lab::Submission;

/// Where the challenge stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Teams are investigating; cases may be saved and submitted.
    Running,
    /// The deadline passed (or the instructor ended the challenge): cases are locked.
    Locked,
    /// The instructor announced the results: the ranking is public.
    Announced,
}

/// One team on the board before the announcement: no score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BoardTeam {
    /// The team.
    pub team: String,
    /// Whether its case is submitted (and locked).
    pub submitted: bool,
    /// When it was submitted (simulated time).
    pub submitted_at: Option<SimTime>,
}

/// One team's place in the announced ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Standing {
    /// Position, from 1; no two teams share one (see the module's tie rule).
    pub rank: u32,
    /// The team.
    pub team: String,
    /// The court's score; `None` when the team filed no case.
    pub score: Option<i64>,
    /// Points a full case scores.
    pub max_score: i64,
    /// When the case was submitted (simulated time).
    pub submitted_at: Option<SimTime>,
    /// Hints the team took.
    pub hints: usize,
}

/// The public scoreboard (page, event stream and `GET /scoreboard.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Scoreboard {
    /// The exercise's title.
    pub exercise: String,
    /// The challenge's shared simulated clock.
    pub sim_time: SimTime,
    /// When cases lock (simulated time).
    pub deadline: SimTime,
    /// Running, locked or announced.
    pub phase: Phase,
    /// Whether the instructor froze the board (it shows the teams as they stood then).
    pub frozen: bool,
    /// Every team, by name, without scores.
    pub teams: Vec<BoardTeam>,
    /// The ranking, only once announced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Vec<Standing>>,
}

/// The board's row for a team, before any score is public.
pub fn board_team(team: &str, s: &Submission) -> BoardTeam {
    BoardTeam { team: team.to_string(), submitted: s.at.is_some(), submitted_at: s.at }
}

/// Ranks teams by the module's rule: score (filed cases first), earlier submission, fewer
/// hints, name.
pub fn rank(teams: &[(String, Submission)], max_score: i64) -> Vec<Standing> {
    let mut order: Vec<&(String, Submission)> = teams.iter().collect();
    order.sort_by(|(an, a), (bn, b)| {
        let score = match (a.score, b.score) {
            (Some((x, _)), Some((y, _))) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let time = match (a.at, b.at) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        score.then(time).then(a.hints.cmp(&b.hints)).then(an.cmp(bn))
    });
    order
        .into_iter()
        .enumerate()
        .map(|(i, (team, s))| Standing {
            rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
            team: team.clone(),
            score: s.score.map(|(x, _)| x),
            max_score: s.score.map_or(max_score, |(_, m)| m),
            submitted_at: s.at,
            hints: s.hints,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(score: Option<i64>, at: Option<i64>, hints: usize) -> Submission {
        Submission { at: at.map(SimTime), score: score.map(|s| (s, 80)), hints }
    }

    fn names(s: &[Standing]) -> Vec<&str> {
        s.iter().map(|x| x.team.as_str()).collect()
    }

    #[test]
    fn ties_break_by_time_then_hints_then_name() {
        let teams = vec![
            ("delta".to_string(), sub(Some(70), Some(500), 0)),
            ("alpha".to_string(), sub(Some(70), Some(500), 1)),
            ("echo".to_string(), sub(None, None, 0)),
            ("bravo".to_string(), sub(Some(70), Some(400), 3)),
            ("charlie".to_string(), sub(Some(70), Some(500), 0)),
            ("foxtrot".to_string(), sub(Some(80), Some(900), 2)),
            ("golf".to_string(), sub(Some(-50), Some(100), 0)),
            ("able".to_string(), sub(None, None, 0)),
        ];
        let ranked = rank(&teams, 80);
        assert_eq!(names(&ranked), ["foxtrot", "bravo", "charlie", "delta", "alpha", "golf", "able", "echo"]);
        assert_eq!(ranked.iter().map(|s| s.rank).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(ranked[6].score, None);
        assert_eq!(ranked[6].max_score, 80);
        // The input's order does not matter.
        let mut reversed = teams.clone();
        reversed.reverse();
        assert_eq!(rank(&reversed, 80), ranked);
    }

    #[test]
    fn the_board_before_the_announcement_has_no_score() {
        let board = Scoreboard {
            exercise: "x".into(),
            sim_time: SimTime(0),
            deadline: SimTime(10),
            phase: Phase::Locked,
            frozen: false,
            teams: vec![board_team("team-1", &sub(Some(70), Some(5), 1))],
            ranking: None,
        };
        let json = serde_json::to_string(&board).unwrap();
        // Timestamps contain "1970": look for the score as a JSON value, not as digits anywhere.
        assert!(!json.contains("score") && !json.contains(":70") && !json.contains("rank"), "{json}");
        assert!(json.contains(r#""submitted":true"#), "{json}");
    }
}
