//! `darklab serve`: the world live for a classroom. The simulated clock follows wall time
//! times the scenario's compression; every service and the lab listen on the given IP.
//!
//! This is one of the two places that read the wall clock (the other is provenance's real
//! time): it only decides how far to move the simulated clock, never what happens.

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use market_sim::world::{ServiceInfo, World};
use sim_core::scenario::Scenario;

use crate::exercise::ExerciseError;
use crate::footprint::Footprint;
use crate::instructor::Console;
use crate::lab::{Lab, Member, Role};
use crate::net::live::{LiveNetwork, LiveOptions};
use crate::pace::Pace;

/// A token no one can guess: OS-seeded hashing (tokens are not world state).
fn fresh_token() -> String {
    let mut out = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Who may use a classroom: the instructor's token and each team's members.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Roster {
    /// The instructor's token (the console API).
    pub instructor: String,
    /// Teams and their members (tokens included).
    pub teams: Vec<(String, Vec<Member>)>,
}

/// The roster: read from `run_dir/roster.json` when the exercise was served before (so
/// tokens handed out survive a restart), else made and saved.
pub(crate) fn roster(run_dir: &Path, teams: u32) -> Result<Roster, ServeError> {
    let path = run_dir.join("roster.json");
    if let Ok(bytes) = std::fs::read(&path) {
        let saved: Roster = serde_json::from_slice(&bytes).map_err(|e| ServeError::Roster(format!("{}: {e}", path.display())))?;
        if saved.teams.len() >= usize::try_from(teams.max(1)).unwrap_or(usize::MAX) {
            return Ok(saved);
        }
    }
    let mut roster = Roster { instructor: fresh_token(), teams: Vec::new() };
    for n in 1..=teams.max(1) {
        let team = format!("team-{n}");
        let members = vec![
            Member { name: format!("{team} head of unit"), role: Role::HeadOfUnit, token: fresh_token() },
            Member { name: format!("{team} investigator 1"), role: Role::Investigator, token: fresh_token() },
            Member { name: format!("{team} investigator 2"), role: Role::Investigator, token: fresh_token() },
            Member { name: format!("{team} forensic examiner"), role: Role::ForensicExaminer, token: fresh_token() },
        ];
        roster.teams.push((team, members));
    }
    std::fs::create_dir_all(run_dir)?;
    let tmp = run_dir.join("roster.json.tmp");
    let json = serde_json::to_vec_pretty(&roster).map_err(|e| ServeError::Roster(e.to_string()))?;
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(roster)
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The exercise failed.
    #[error(transparent)]
    Exercise(#[from] ExerciseError),
    /// A socket or a write failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The saved roster of teams cannot be read.
    #[error("team roster: {0}")]
    Roster(String),
    /// The onion network (tor mode) could not start.
    #[error("onion network: {0}")]
    Net(#[from] crate::net::NetError),
}

/// A live classroom: the world running on the paced clock, the lab serving its API.
pub struct Classroom {
    /// The lab.
    pub lab: Arc<Lab>,
    /// Where the lab's API listens.
    pub lab_addr: SocketAddr,
    /// The world's services (name, host, socket).
    pub services: Vec<ServiceInfo>,
    /// The instructor's and the teams' tokens.
    pub roster: Roster,
    /// The classroom's clock.
    pub pace: Arc<Pace>,
    /// The private Tor network, in tor mode (stopped with the classroom).
    pub network: Option<LiveNetwork>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Classroom {
    /// Builds the world and the lab, starts the lab's API on `listen` and the world's clock.
    pub async fn start(scenario: Arc<Scenario>, seed: u64, listen: SocketAddr, data: &Path, teams: u32) -> Result<Classroom, ServeError> {
        Self::start_with(scenario, seed, listen, data, teams, None, Footprint::Laptop).await
    }

    /// [`Classroom::start`], in tor mode when `network` is given: the private network is
    /// started for the world's onion services and arti becomes every party's transport; with
    /// a deployment, the console shows the boards and the clock is held while one is
    /// missing. `footprint` sets how much the world's databases hold.
    #[allow(clippy::disallowed_methods)]
    pub async fn start_with(
        scenario: Arc<Scenario>,
        seed: u64,
        listen: SocketAddr,
        data: &Path,
        teams: u32,
        network: Option<LiveOptions>,
        footprint: Footprint,
    ) -> Result<Classroom, ServeError> {
        let run_dir = data.join(format!("{}-seed{seed}", scenario.meta.id));
        let storage = footprint.storage(run_dir.join("world"));
        let world = World::build_with(scenario.clone(), seed, listen.ip(), &storage).await.map_err(ExerciseError::from)?;
        let network = match network {
            Some(options) => match crate::net::live::start_for_world(&world, &scenario, seed, &options).await {
                Ok(n) => Some(n),
                Err(e) => {
                    world.shutdown().await;
                    return Err(e.into());
                }
            },
            None => None,
        };
        let lab = Arc::new(Lab::new(&world).map_err(ExerciseError::from)?);
        let roster = roster(&run_dir, teams)?;
        for (team, members) in &roster.teams {
            lab.add_team(team, members.clone(), &Lab::team_dir(&run_dir, team)).await.map_err(ExerciseError::from)?;
        }
        let pace = Arc::new(Pace::new(world.clock().now(), scenario.meta.compression));
        let origin = std::time::Instant::now();
        let elapsed: Arc<dyn Fn() -> Duration + Send + Sync> = Arc::new(move || origin.elapsed());
        let console = Console {
            lab: lab.clone(),
            pace: pace.clone(),
            token: roster.instructor.clone(),
            elapsed: elapsed.clone(),
            network: network.as_ref().map(|n| Arc::new(n.tor.state().clone())),
        };
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let lab_addr = listener.local_addr()?;
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        let mut router = crate::lab::http::router(lab.clone()).merge(crate::instructor::router(console));
        if let Some(fleet) = network.as_ref().and_then(|n| n.fleet.clone()) {
            // Boards: the console shows them; the clock is held while one is missing.
            router = router.merge(crate::net::board::instructor_router(fleet.clone(), roster.instructor.clone()));
            let probe = network
                .as_ref()
                .and_then(|n| n.arti_socks)
                .map(|socks| crate::net::hold::Probe { socks, urls: onion_urls(network.as_ref()) });
            tasks.push(tokio::spawn(crate::net::hold::hold_clock(fleet, pace.clone(), elapsed.clone(), probe, stop_rx.clone())));
        }
        let mut stop_api = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let stopped = async move {
                let _ = stop_api.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(stopped).await {
                tracing::error!(error = %e, "lab server failed");
            }
        }));
        let services = world.services().to_vec();
        tasks.push(tokio::spawn(drive(world, lab.clone(), pace.clone(), elapsed, stop_rx)));
        Ok(Classroom { lab, lab_addr, services, roster, pace, network, stop, tasks })
    }

    /// Stops the clock, the lab's API and every service of the world.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        drop(self.network);
    }
}

/// The home page of every onion service of a tor-mode network.
fn onion_urls(network: Option<&LiveNetwork>) -> Vec<String> {
    network.map(|n| n.tor.state().plan.onions.iter().map(|o| format!("http://{}/", o.host)).collect()).unwrap_or_default()
}

/// Moves the simulated clock as the pace says (wall time × compression, unless paused) and
/// lets the world and the lab catch up, every 200 ms, until told to stop.
pub(crate) async fn drive(
    mut world: World,
    lab: Arc<Lab>,
    pace: Arc<Pace>,
    elapsed: Arc<dyn Fn() -> Duration + Send + Sync>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let target = pace.target(elapsed());
        if let Err(e) = world.run_until(target).await {
            tracing::error!(error = %e, "world stopped");
            break;
        }
        if let Err(e) = lab.tick().await {
            tracing::error!(error = %e, "lab tick failed");
        }
    }
    world.shutdown().await;
}

/// Runs a classroom until SIGINT or SIGTERM; prints `service <name> <url>` lines, the
/// team tokens, then `ready`.
/// With `network` (tor mode) it also prints `tor-socks <addr>` (a tor client's SOCKS
/// port for curl or a browser) and `arti-socks <addr>`.
pub async fn serve(
    scenario: Arc<Scenario>,
    seed: u64,
    listen: SocketAddr,
    data: &Path,
    teams: u32,
    network: Option<LiveOptions>,
    footprint: Footprint,
) -> Result<(), ServeError> {
    let classroom = Classroom::start_with(scenario, seed, listen, data, teams, network, footprint).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "service lab http://{}", classroom.lab_addr)?;
        if let Some(net) = &classroom.network {
            if let Some(socks) = net.tor.state().plan.socks_addr() {
                writeln!(out, "tor-socks {socks}")?;
            }
            if let Some(socks) = net.arti_socks {
                writeln!(out, "arti-socks {socks}")?;
            }
        }
        for s in &classroom.services {
            writeln!(out, "service {} {}", s.name, s.url())?;
        }
        writeln!(out, "token instructor Instructor {}", classroom.roster.instructor)?;
        for (team, members) in &classroom.roster.teams {
            for m in members {
                writeln!(out, "token {team} {:?} {}", m.role, m.token)?;
            }
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    wait_for_signal().await;
    classroom.stop().await;
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
