//! The lab's view of its boards: heartbeats (a board is `ok`, `late` or `missing`, and since
//! when), the configuration generation (bumped when routers move, so boards re-fetch), and
//! moving a failed board's routers to another board, by the instructor or by reloading the
//! deployment file. Nothing acknowledged lives on a board: the world's state and the
//! ledgers stay on the lab; a board only carries routers, which it can be given again.
//!
//! This is an edge: board health is wall-clock time (`Instant`, `SystemTime`), never world logic.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::NetError;
use super::deploy::{BoardRole, Deployment, Heartbeat};
use super::plan::Role;
use super::supervise::NetState;

/// How a board stands, from its heartbeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Not heard from yet.
    Waiting,
    /// Reporting in, its routers still bootstrapping.
    Starting,
    /// Reporting in, its routers running.
    Ok,
    /// Silent longer than the deployment's `late`.
    Late,
    /// Silent longer than `missing`.
    Missing,
}

/// What a board says in a heartbeat.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Beat {
    /// The configuration generation it runs.
    pub generation: u64,
    /// Whether its routers have bootstrapped.
    pub ready: bool,
}

/// The lab's answer to a heartbeat.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BeatReply {
    /// The current configuration generation.
    pub generation: u64,
    /// Re-fetch the configuration and restart the routers (the board was missing, or its
    /// routers changed).
    pub rejoin: bool,
}

/// One board in the instructor's console.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BoardView {
    /// Board id.
    pub id: String,
    /// Its address.
    pub address: String,
    /// The routers it carries now.
    pub routers: Vec<String>,
    /// Its health.
    pub health: Health,
    /// When it entered that health (UTC), once heard from.
    pub since: Option<String>,
    /// Seconds since its last heartbeat.
    pub silent_s: Option<u64>,
    /// The configuration generation it last reported.
    pub generation: u64,
}

/// Something that happened to a board.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BoardEvent {
    /// When (UTC).
    pub at: String,
    /// The board.
    pub board: String,
    /// What: `late`, `missing`, `returned`, `ready`, `routers moved here`, …
    pub what: String,
}

/// The console's boards page.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetView {
    /// The configuration generation.
    pub generation: u64,
    /// Every board of the deployment.
    pub boards: Vec<BoardView>,
    /// What happened, oldest first.
    pub events: Vec<BoardEvent>,
}

#[derive(Default)]
struct Seen {
    last: Option<Instant>,
    generation: u64,
    health: Option<Health>,
    since: Option<SystemTime>,
    rejoin: bool,
}

struct Inner {
    deployment: Deployment,
    state: NetState,
    generation: u64,
    seen: BTreeMap<String, Seen>,
    events: Vec<BoardEvent>,
}

/// The boards of a deployed classroom, as the lab sees them.
pub struct Fleet {
    inner: Mutex<Inner>,
    file: Option<PathBuf>,
}

fn utc(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    SimTime(i64::try_from(secs).unwrap_or(i64::MAX)).to_string()
}

impl Fleet {
    /// The fleet of `deployment` running the network `state` (a reload reads the
    /// deployment's file again).
    pub fn new(deployment: Deployment, state: NetState) -> Fleet {
        let seen = deployment.boards.iter().map(|b| (b.id.clone(), Seen::default())).collect();
        let file = deployment.file.clone();
        Fleet { inner: Mutex::new(Inner { deployment, state, generation: 1, seen, events: Vec::new() }), file }
    }

    /// Records something that happened (shown in the console's events).
    #[allow(clippy::disallowed_methods)] // board health is wall-clock time
    pub fn note(&self, board: &str, what: &str) {
        tracing::info!(board, "{what}");
        self.lock().events.push(BoardEvent { at: utc(SystemTime::now()), board: board.to_string(), what: what.to_string() });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The heartbeat timing.
    pub fn heartbeat(&self) -> Heartbeat {
        self.lock().deployment.heartbeat
    }

    /// The network's state and generation, for serving board `id` its configuration
    /// (`None`: not a board of the deployment). A board told to rejoin has now done so.
    pub fn config_for(&self, id: &str) -> Option<(NetState, u64, Heartbeat)> {
        let mut inner = self.lock();
        let seen = inner.seen.get_mut(id)?;
        seen.rejoin = false;
        Some((inner.state.clone(), inner.generation, inner.deployment.heartbeat))
    }

    /// Records a heartbeat of board `id` (`None`: not a board of the deployment).
    #[allow(clippy::disallowed_methods)] // board health is wall-clock time
    pub fn beat(&self, id: &str, beat: &Beat) -> Option<BeatReply> {
        let mut inner = self.lock();
        let generation = inner.generation;
        let mut events = Vec::new();
        let seen = inner.seen.get_mut(id)?;
        let returned = matches!(seen.health, Some(Health::Missing));
        if returned {
            // Back after being missing: it must fetch its routers again and restart them.
            seen.rejoin = true;
            events.push("returned".to_string());
        }
        if beat.generation != generation {
            seen.rejoin = true;
        }
        let health = if beat.ready && !seen.rejoin { Health::Ok } else { Health::Starting };
        if seen.health != Some(health) {
            if health == Health::Ok {
                events.push("ready".to_string());
            }
            seen.health = Some(health);
            seen.since = Some(SystemTime::now());
        }
        seen.last = Some(Instant::now());
        seen.generation = beat.generation;
        let reply = BeatReply { generation, rejoin: seen.rejoin };
        for what in events {
            tracing::info!(board = id, "{what}");
            inner.events.push(BoardEvent { at: utc(SystemTime::now()), board: id.to_string(), what });
        }
        Some(reply)
    }

    /// Marks boards silent too long as late or missing (run every second).
    #[allow(clippy::disallowed_methods)] // board health is wall-clock time
    pub fn sweep(&self) {
        let mut inner = self.lock();
        let h = inner.deployment.heartbeat;
        let mut events = Vec::new();
        for (id, seen) in inner.seen.iter_mut() {
            let Some(last) = seen.last else { continue };
            let silent = last.elapsed();
            let health = if silent > Duration::from_secs(h.missing) {
                Health::Missing
            } else if silent > Duration::from_secs(h.late) {
                Health::Late
            } else {
                continue;
            };
            if seen.health != Some(health) {
                seen.health = Some(health);
                seen.since = SystemTime::now().checked_sub(silent);
                tracing::warn!(board = %id, silent_s = silent.as_secs(), "board {}", if health == Health::Late { "late" } else { "missing" });
                events.push((id.clone(), if health == Health::Late { "late" } else { "missing" }.to_string()));
            }
        }
        for (board, what) in events {
            inner.events.push(BoardEvent { at: utc(SystemTime::now()), board, what });
        }
    }

    /// Boards that carry routers and are not running them now (missing, late, restarting
    /// or never heard from): while any is, the world's clock is held.
    pub fn down(&self) -> Vec<String> {
        let inner = self.lock();
        inner
            .deployment
            .boards
            .iter()
            .filter(|b| inner.state.plan.routers.iter().any(|r| r.board.as_deref() == Some(b.id.as_str())))
            .filter(|b| inner.seen.get(&b.id).and_then(|s| s.health) != Some(Health::Ok))
            .map(|b| b.id.clone())
            .collect()
    }

    /// Whether some board carrying routers is missing.
    pub fn any_missing(&self) -> bool {
        let inner = self.lock();
        inner.seen.iter().any(|(id, s)| {
            s.health == Some(Health::Missing) && inner.state.plan.routers.iter().any(|r| r.board.as_deref() == Some(id.as_str()))
        })
    }

    /// The console's view.
    #[allow(clippy::disallowed_methods)] // board health is wall-clock time
    pub fn view(&self) -> FleetView {
        let inner = self.lock();
        let boards = inner
            .deployment
            .boards
            .iter()
            .map(|b| {
                let seen = inner.seen.get(&b.id);
                let routers =
                    inner.state.plan.routers.iter().filter(|r| r.board.as_deref() == Some(b.id.as_str())).map(|r| r.nick.clone()).collect();
                BoardView {
                    id: b.id.clone(),
                    address: b.address.to_string(),
                    routers,
                    health: seen.and_then(|s| s.health).unwrap_or(Health::Waiting),
                    since: seen.and_then(|s| s.since).map(utc),
                    silent_s: seen.and_then(|s| s.last).map(|l| l.elapsed().as_secs()),
                    generation: seen.map_or(0, |s| s.generation),
                }
            })
            .collect();
        FleetView { generation: inner.generation, boards, events: inner.events.clone() }
    }

    /// Moves every router of board `from` to board `to` (a spare, or any other board that
    /// is not the lab's); both then re-fetch their configuration. Authorities cannot move
    /// while the network runs: every router's torrc names their addresses.
    pub fn move_routers(&self, from: &str, to: &str) -> Result<FleetView, NetError> {
        let mut d = self.lock().deployment.clone();
        let plan_err = |m: String| NetError::Plan(m);
        let lab = d.lab_board().map(|b| b.id.clone()).unwrap_or_default();
        if from == to {
            return Err(plan_err(format!("board {from} already carries its routers")));
        }
        if to == lab || from == lab {
            return Err(plan_err(format!("routers move between boards; {lab} is the lab's machine")));
        }
        let from_i = d.boards.iter().position(|b| b.id == from).ok_or_else(|| plan_err(format!("no board {from} in the deployment")))?;
        let to_i = d.boards.iter().position(|b| b.id == to).ok_or_else(|| plan_err(format!("no board {to} in the deployment")))?;
        let moving: Vec<String> = d.boards[from_i].routers().cloned().collect();
        if moving.is_empty() {
            return Err(plan_err(format!("board {from} carries no routers")));
        }
        d.boards[from_i].roles.retain(|r| !matches!(r, BoardRole::Routers(_)));
        let target = &mut d.boards[to_i].roles;
        match target.iter_mut().find_map(|r| if let BoardRole::Routers(list) = r { Some(list) } else { None }) {
            Some(list) => list.extend(moving),
            None => target.push(BoardRole::Routers(moving)),
        }
        self.apply(d, &format!("routers of {from} moved here"), to)
    }

    /// Reads the deployment file again and applies it (routers moved between boards, new
    /// spare boards, heartbeat timing).
    pub fn reload(&self) -> Result<FleetView, NetError> {
        let path = self.file.clone().ok_or_else(|| NetError::Plan("this network was started without a deployment file".into()))?;
        let names: Vec<String> = self.lock().state.plan.routers.iter().map(|r| r.nick.clone()).collect();
        let d = Deployment::load(&path, &names).map_err(|diags| NetError::File { path: path.clone(), message: diags.to_string() })?;
        self.apply(d, "deployment reloaded", "")
    }

    #[allow(clippy::disallowed_methods)] // board health is wall-clock time
    fn apply(&self, d: Deployment, what: &str, board: &str) -> Result<FleetView, NetError> {
        {
            let mut inner = self.lock();
            if d.lab() != inner.deployment.lab() {
                return Err(NetError::Plan(format!(
                    "the lab's address changed ({} → {}); restart the class to move the lab",
                    inner.deployment.lab(),
                    d.lab()
                )));
            }
            let mut plan = inner.state.plan.clone();
            plan.place(&d)?;
            for (old, new) in inner.state.plan.routers.iter().zip(&plan.routers) {
                if old.role == Role::Authority && old.ip != new.ip {
                    return Err(NetError::Plan(format!(
                        "authority {} cannot move while the network runs (every router's torrc names its address); \
                         edit the deployment and restart the class",
                        old.nick
                    )));
                }
                if old.board.is_none() != new.board.is_none() {
                    return Err(NetError::Plan(format!(
                        "router {} would move between the lab's machine and a board; only moves between boards apply live",
                        old.nick
                    )));
                }
            }
            let changed = plan != inner.state.plan || d.heartbeat != inner.deployment.heartbeat;
            for b in &d.boards {
                inner.seen.entry(b.id.clone()).or_default();
            }
            inner.state.plan = plan;
            inner.deployment = d;
            if changed {
                inner.generation += 1;
            }
            let generation = inner.generation;
            inner.events.push(BoardEvent {
                at: utc(SystemTime::now()),
                board: board.to_string(),
                what: format!("{what} (generation {generation})"),
            });
        }
        Ok(self.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::plan::NetPlan;
    use sim_core::scenario::model::Network;

    fn fleet() -> Fleet {
        let d = Deployment::parse(
            "d.ron",
            r#"(boards: [
                (id: "lab", address: "10.1.0.1", roles: [Lab, Services]),
                (id: "b1", address: "10.1.0.2", roles: [Routers(["auth1", "auth2"])]),
                (id: "b2", address: "10.1.0.3", roles: [Routers(["extra1", "client"])]),
                (id: "spare", address: "10.1.0.4"),
            ])"#,
            &[],
        )
        .unwrap();
        let plan = NetPlan::new(&Network::default(), Vec::new(), 9, 1, std::path::Path::new("/n"), Some(&d)).unwrap();
        let state =
            NetState { supervisor_pid: 1, plan, identities: BTreeMap::new(), v3idents: BTreeMap::new(), footprint: Default::default() };
        Fleet::new(d, state)
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // pretends a heartbeat was long ago
    fn boards_report_in_and_rejoin_after_being_missing() {
        let f = fleet();
        assert_eq!(f.down(), ["b1", "b2"], "not heard from yet");
        assert!(f.beat("nobody", &Beat { generation: 1, ready: true }).is_none());
        let r = f.beat("b2", &Beat { generation: 1, ready: false }).unwrap();
        assert!(!r.rejoin);
        assert_eq!(f.view().boards[2].health, Health::Starting);
        f.beat("b2", &Beat { generation: 1, ready: true });
        f.beat("b1", &Beat { generation: 1, ready: true });
        assert!(f.down().is_empty());
        // Silent past `missing` (15 s by default): pretend its last beat was long ago.
        f.lock().seen.get_mut("b2").unwrap().last = Instant::now().checked_sub(Duration::from_secs(20));
        f.sweep();
        let v = f.view();
        assert_eq!(v.boards[2].health, Health::Missing);
        assert!(v.boards[2].since.is_some() && v.boards[2].silent_s >= Some(20));
        assert!(f.any_missing());
        assert_eq!(f.down(), ["b2"]);
        let r = f.beat("b2", &Beat { generation: 1, ready: true }).unwrap();
        assert!(r.rejoin, "a returning board re-fetches and restarts");
        assert_eq!(f.down(), ["b2"], "held until it has restarted its routers");
        assert!(f.beat("b2", &Beat { generation: 1, ready: true }).unwrap().rejoin, "told again until it re-fetches");
        f.config_for("b2").unwrap();
        assert!(!f.beat("b2", &Beat { generation: 1, ready: false }).unwrap().rejoin);
        assert_eq!(f.down(), ["b2"], "bootstrapping again");
        let r = f.beat("b2", &Beat { generation: 1, ready: true }).unwrap();
        assert!(!r.rejoin);
        assert!(f.down().is_empty());
        let whats: Vec<&str> = v.events.iter().map(|e| e.what.as_str()).collect();
        assert!(whats.contains(&"missing"), "{whats:?}");
    }

    #[test]
    fn routers_move_to_a_spare_but_authorities_stay() {
        let f = fleet();
        let v = f.move_routers("b2", "spare").unwrap();
        assert_eq!(v.generation, 2);
        assert_eq!(v.boards[3].routers, ["extra1", "client"]);
        assert!(v.boards[2].routers.is_empty());
        let (state, generation, _) = f.config_for("spare").unwrap();
        assert_eq!(generation, 2);
        let client = state.plan.routers.iter().find(|r| r.nick == "client").unwrap();
        assert_eq!(client.ip.to_string(), "10.1.0.4");
        let r = f.beat("b2", &Beat { generation: 1, ready: true }).unwrap();
        assert!(r.rejoin && r.generation == 2, "a board on an old generation re-fetches");
        let err = f.move_routers("b1", "spare").unwrap_err();
        assert!(err.to_string().contains("authority auth1 cannot move"), "{err}");
        assert!(f.move_routers("b2", "lab").is_err());
        assert!(f.move_routers("nobody", "spare").is_err());
    }
}
