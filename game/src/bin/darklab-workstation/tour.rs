//! `--screenshots DIR`: steps through every main panel, lets each load what it shows
//! (through the same actions a trainee's clicks queue), and writes one PNG per panel.

use std::path::PathBuf;

use bevy::app::AppExit;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};
use game::workstation::board::{Entity, EntityKind};
use game::workstation::console::{ConsoleAction, ConsoleView};
use game::workstation::seized::{Filter, Match};
use game::workstation::{Action, Panel, SeizedAction};

use super::{Instructor, Trainee};

/// Frames a panel gets to load and settle before its screenshot.
const SETTLE: u32 = 40;
/// Frames to wait for a screenshot to be written.
const WRITE: u32 = 30;

/// Where the tour is.
#[derive(Resource)]
pub struct Tour {
    dir: PathBuf,
    console: bool,
    step: usize,
    frame: u32,
    /// Heights of blocks the explorer step has looked at, to find transactions to graph.
    height: u32,
    /// The trainee's panels this tour visits, in order.
    panels: Vec<Panel>,
}

impl Tour {
    /// A tour writing into `dir`; `only` names the trainee panels to visit (all when empty).
    pub fn new(dir: PathBuf, console: bool, only: &[String]) -> Tour {
        let panels = TRAINEE.into_iter().filter(|p| only.is_empty() || only.iter().any(|o| o == name(*p))).collect();
        Tour { dir, console, step: 0, frame: 0, height: 1, panels }
    }
}

/// The trainee's panels in tour order.
const TRAINEE: [Panel; 8] =
    [Panel::Browser, Panel::Explorer, Panel::Board, Panel::Locker, Panel::Legal, Panel::Undercover, Panel::Seized, Panel::Case];

fn name(p: Panel) -> &'static str {
    match p {
        Panel::Browser => "browser",
        Panel::Explorer => "explorer",
        Panel::Board => "board",
        Panel::Locker => "locker",
        Panel::Legal => "legal",
        Panel::Undercover => "undercover",
        Panel::Seized => "seized",
        Panel::Case => "case",
    }
}

/// What a trainee would do on a panel before looking at it.
fn act(t: &mut Trainee, panel: Panel, frame: u32, height: &mut u32) {
    let ws = &mut t.ws;
    match (panel, frame) {
        (Panel::Browser, 0) => {
            if let Some(url) = ws.status.as_ref().and_then(|s| s.sites.values().next().cloned()) {
                t.queue.push(Action::Open(url));
            }
        }
        (Panel::Browser, 5) => t.queue.push(Action::Capture),
        (Panel::Browser, 8) => {
            if let Some(link) = ws.browser.page.as_ref().and_then(|p| p.links.first().cloned()) {
                t.queue.push(Action::Open(link.url));
            }
        }
        (Panel::Browser, 12) => t.queue.push(Action::Capture),
        // Look block by block for transactions until a heuristic has something to suggest.
        (Panel::Explorer, f) if f < SETTLE - 10 && f % 2 == 0 && ws.explorer.flow.suggestions.is_empty() => {
            if let Some((h, _, txids)) = ws.explorer.block.clone()
                && h == *height
            {
                for txid in txids {
                    t.queue.push(Action::Search(txid));
                }
                *height += 1;
            } else {
                t.queue.push(Action::Search(height.to_string()));
            }
        }
        (Panel::Explorer, f) if f == SETTLE - 8 => {
            let unexpanded: Vec<String> = ws.explorer.flow.nodes.values().filter(|n| !n.expanded).take(3).map(|n| n.id.clone()).collect();
            for id in unexpanded {
                t.queue.push(Action::Expand(id));
            }
        }
        (Panel::Board, 0) if !ws.explorer.flow.suggestions.is_empty() => t.queue.push(Action::Decide(0, true)),
        (Panel::Board, 3) => {
            if let Some(e) = ws.locker.entries.first().map(|e| e.id.clone()) {
                let persona = Entity::new(EntityKind::Persona, "GreenLeafUK@silk-lane");
                let who = Entity::new(EntityKind::Identity, "Suspect A");
                t.queue.push(Action::Link { a: persona.clone(), b: who, relation: "same person?".into(), evidence: vec![e.clone()] });
                if let Some(a) = ws.board.entities.iter().find(|x| x.kind == EntityKind::Address).cloned() {
                    t.queue.push(Action::Link { a: persona, b: a, relation: "payout".into(), evidence: vec![e] });
                }
            }
        }
        (Panel::Locker, 0) => {
            if let Some(e) = ws.locker.entries.first().map(|e| e.id.clone()) {
                t.queue.push(Action::Select(e));
            }
        }
        (Panel::Locker, 3) => t.queue.push(Action::CheckHash),
        (Panel::Legal, 0) => {
            ws.legal.form.target =
                ws.board.entities.iter().find(|x| x.kind == EntityKind::Address).map(|x| x.label.clone()).unwrap_or_default();
            ws.legal.form.grounds = ws.locker.entries.iter().take(2).map(|e| e.id.clone()).collect();
        }
        (Panel::Seized, 0) => t.queue.push(Action::Seized(SeizedAction::Reload)),
        // With an image open: cite the first row, then narrow the view by a substring of a
        // value it shows.
        (Panel::Seized, 10) if ws.seized.view.as_ref().is_some_and(|v| !v.rows.is_empty()) => {
            t.queue.push(Action::Seized(SeizedAction::Cite(0)));
        }
        (Panel::Seized, 14) => {
            let probe = ws.seized.view.as_ref().and_then(|v| {
                let col = v.columns.get(1)?.clone();
                let text = game::workstation::seized::cell(v.rows.first()?.get(1)?);
                Some((col, text.chars().take(3).collect::<String>()))
            });
            if let Some((column, value)) = probe {
                ws.seized.filters.push(Filter { column, how: Match::Contains, value });
                t.queue.push(Action::Seized(SeizedAction::Query));
            }
        }
        (Panel::Case, 0) => {
            if let Some(e) = ws.locker.entries.first().map(|e| e.id.clone()) {
                t.queue.push(Action::Cite {
                    suspect: "Suspect A".into(),
                    charge: "supply".into(),
                    element: "offered".into(),
                    evidence: vec![e],
                });
            }
        }
        _ => {}
    }
}

/// One frame of the tour.
pub fn step(
    mut commands: Commands,
    mut tour: ResMut<Tour>,
    trainee: Option<ResMut<Trainee>>,
    instructor: Option<ResMut<Instructor>>,
    mut exit: MessageWriter<AppExit>,
) {
    let steps = if tour.console { 5 } else { tour.panels.len() };
    if tour.step >= steps {
        super::exit(&mut exit);
        return;
    }
    let frame = tour.frame;
    let file = if tour.console {
        let i = tour.step;
        if let Some(mut c) = instructor {
            c.ui.section = i;
            match (i, frame) {
                (0, 0) => c.queue.push(ConsoleAction::Refresh),
                (1, 0) => {
                    let team = c.console.status.as_ref().and_then(|s| s.teams.first().map(|t| t.team.clone())).unwrap_or_default();
                    c.queue.push(ConsoleAction::Timeline(team));
                }
                (n, 0) => {
                    if let Some(v) = n.checked_sub(2).and_then(|k| ConsoleView::ALL.get(k)) {
                        c.queue.push(ConsoleAction::View(*v));
                    }
                }
                _ => {}
            }
        }
        format!("console-{}.png", ["teams", "timeline", "scoreboard", "network", "truth"][i])
    } else {
        let Some(panel) = tour.panels.get(tour.step).copied() else { return };
        if let Some(mut t) = trainee {
            t.ws.panel = panel;
            let mut height = tour.height;
            act(&mut t, panel, frame, &mut height);
            tour.height = height;
        }
        let number = TRAINEE.iter().position(|p| *p == panel).unwrap_or(tour.step) + 1;
        format!("{number:02}-{}.png", name(panel))
    };
    if frame == SETTLE {
        let path = tour.dir.join(file);
        commands.spawn(Screenshot::primary_window()).observe(save_to_disk(path));
    }
    tour.frame += 1;
    if tour.frame > SETTLE + WRITE {
        tour.frame = 0;
        tour.step += 1;
    }
}
