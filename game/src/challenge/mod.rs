//! Challenge mode (`darklab serve FILE --teams N --challenge`): teams compete, each in its
//! own isolated world built from the same scenario and seed — or, when the scenario declares
//! variants, team K (from 0) plays variant `K mod (count + 1)`, all solved by the checker at
//! equal difficulty — on one shared timer, until a submission deadline that locks every case.
//!
//! What keeps teams apart: each team's world has its own chain, databases, services, ports
//! and network, and its own lab; a member token is routed to its own team's lab only, and a
//! lab fetches only the names of its own world's directory. What keeps the result fair:
//! scores are computed on the server and held back — a submission answers "submitted", the
//! verdict routes answer 403, the public scoreboard ([`board`]) shows no score — until the
//! instructor announces the results; then the ranking is public and teams see their verdicts.
//!
//! This module reads the wall clock only through `elapsed` (the pacing edge, as
//! [`crate::serve`]); world logic never sees it.

pub mod bench;
pub mod board;
mod http;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use market_sim::world::{ServiceInfo, World};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::scenario::Scenario;
use sim_core::scenario::variant::variant;
use tokio::sync::{Mutex, watch};

use crate::exercise::ExerciseError;
use crate::lab::{Lab, LabError, Submission};
use crate::pace::Pace;
use crate::serve::{Roster, ServeError, drive, roster};
use board::{BoardTeam, Phase, Scoreboard, Standing};

/// How a challenge is set up.
#[derive(Clone, Debug)]
pub struct ChallengeConfig {
    /// World seed (the same for every team).
    pub seed: u64,
    /// Where the lab, scoreboard and instructor API listen; the worlds' services take free
    /// ports on the same IP.
    pub listen: SocketAddr,
    /// Number of teams (at least 1).
    pub teams: u32,
    /// When cases lock, after the scenario's start; default: the end of the time budget
    /// (`world_duration + time_budget`, the prosecutor's deadline for lateness).
    pub deadline: Option<SimDuration>,
    /// How much the team worlds may hold (their databases' caches).
    pub footprint: crate::footprint::Footprint,
}

/// One team's world as the instructor sees it.
#[derive(Clone, Debug)]
pub struct TeamWorld {
    /// The team.
    pub team: String,
    /// The scenario variant its world was built from (0: as written).
    pub variant: u32,
    /// Its world's services (name, host, socket).
    pub services: Vec<ServiceInfo>,
    /// Its lab (for tests and the instructor's tools; teams use the HTTP API).
    pub lab: Arc<Lab>,
}

/// One team's world behind the shared front door.
struct Arena {
    team: String,
    lab: Arc<Lab>,
    router: Router,
}

#[derive(Default)]
struct Phases {
    locked: bool,
    frozen: Option<Vec<BoardTeam>>,
    announced: Option<Vec<Standing>>,
}

/// What the challenge's routes and tasks share.
struct Shared {
    exercise: String,
    deadline: SimTime,
    max_score: i64,
    arenas: Vec<Arena>,
    /// Member token → index in `arenas`.
    tokens: BTreeMap<String, usize>,
    instructor: String,
    pace: Arc<Pace>,
    elapsed: Arc<dyn Fn() -> Duration + Send + Sync>,
    phases: Mutex<Phases>,
    board: watch::Sender<Scoreboard>,
    /// Set when the challenge stops: open event streams end so the server can stop.
    stopping: watch::Receiver<bool>,
}

impl Shared {
    /// The shared simulated clock.
    fn now(&self) -> SimTime {
        self.pace.target((self.elapsed)())
    }

    fn arena(&self, team: &str) -> Result<&Arena, LabError> {
        self.arenas.iter().find(|a| a.team == team).ok_or_else(|| LabError::UnknownTeam(team.to_string()))
    }

    /// Locks every case: drafts are submitted as they stand (as a classroom's end does).
    async fn lock(&self) -> Result<(), LabError> {
        let mut phases = self.phases.lock().await;
        if !phases.locked {
            phases.locked = true;
            for a in &self.arenas {
                a.lab.end().await?;
            }
            tracing::info!("challenge locked: cases are closed");
        }
        Ok(())
    }

    /// Locks the cases if the deadline has passed; whether they are locked.
    async fn enforce_deadline(&self) -> Result<bool, LabError> {
        if self.now() >= self.deadline {
            self.lock().await?;
        }
        Ok(self.phases.lock().await.locked)
    }

    async fn submissions(&self) -> Result<Vec<(String, Submission)>, LabError> {
        let mut out = Vec::new();
        for a in &self.arenas {
            out.push((a.team.clone(), a.lab.submission(&a.team).await?));
        }
        Ok(out)
    }

    /// The ranking as it stands (for the instructor; public only once announced).
    async fn standings(&self) -> Result<Vec<Standing>, LabError> {
        Ok(board::rank(&self.submissions().await?, self.max_score))
    }

    /// Locks the cases if needed and makes the ranking public.
    async fn announce(&self) -> Result<Vec<Standing>, LabError> {
        self.lock().await?;
        let ranking = self.standings().await?;
        self.phases.lock().await.announced = Some(ranking.clone());
        self.publish().await?;
        Ok(ranking)
    }

    /// Freezes the public board as it stands now.
    async fn freeze(&self) -> Result<(), LabError> {
        let teams = self.board_teams().await?;
        self.phases.lock().await.frozen.get_or_insert(teams);
        self.publish().await
    }

    async fn board_teams(&self) -> Result<Vec<BoardTeam>, LabError> {
        let mut teams: Vec<BoardTeam> = self.submissions().await?.iter().map(|(t, s)| board::board_team(t, s)).collect();
        teams.sort_by(|a, b| a.team.cmp(&b.team));
        Ok(teams)
    }

    async fn announced(&self) -> bool {
        self.phases.lock().await.announced.is_some()
    }

    /// The public board now.
    async fn scoreboard(&self) -> Result<Scoreboard, LabError> {
        let current = self.board_teams().await?;
        let phases = self.phases.lock().await;
        let phase = match (&phases.announced, phases.locked) {
            (Some(_), _) => Phase::Announced,
            (None, true) => Phase::Locked,
            (None, false) => Phase::Running,
        };
        Ok(Scoreboard {
            exercise: self.exercise.clone(),
            sim_time: self.now(),
            deadline: self.deadline,
            phase,
            frozen: phases.frozen.is_some(),
            teams: phases.frozen.clone().unwrap_or(current),
            ranking: phases.announced.clone(),
        })
    }

    /// Sends the board to the event stream's listeners when it changed.
    async fn publish(&self) -> Result<(), LabError> {
        let board = self.scoreboard().await?;
        self.board.send_if_modified(|old| {
            if *old == board {
                false
            } else {
                *old = board;
                true
            }
        });
        Ok(())
    }
}

/// The variant team number `i` (from 0) plays — `i mod (declared variants + 1)`, 0 being
/// the scenario as written — and its scenario.
pub fn team_scenario(scenario: &Arc<Scenario>, i: usize) -> (u32, Arc<Scenario>) {
    let variants = scenario.variants.as_ref().map_or(0, |v| v.count);
    let k = u32::try_from(i).unwrap_or(0) % (variants + 1);
    (k, if k == 0 { scenario.clone() } else { Arc::new(variant(scenario, k)) })
}

/// A running challenge.
pub struct Challenge {
    /// Where the lab API, the scoreboard and the instructor's console listen.
    pub addr: SocketAddr,
    /// The instructor's and the teams' tokens.
    pub roster: Roster,
    /// Every team's world.
    pub teams: Vec<TeamWorld>,
    /// The shared clock.
    pub pace: Arc<Pace>,
    /// When cases lock.
    pub deadline: SimTime,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Challenge {
    /// Builds one world and lab per team, starts the front door on `config.listen`, the
    /// shared clock and the scoreboard's publisher.
    #[allow(clippy::disallowed_methods)]
    pub async fn start(scenario: Arc<Scenario>, config: &ChallengeConfig, data: &Path) -> Result<Challenge, ServeError> {
        let run_dir = data.join(format!("{}-seed{}-challenge", scenario.meta.id, config.seed));
        let roster = roster(&run_dir, config.teams)?;
        let mut arenas = Vec::new();
        let mut worlds = Vec::new();
        let mut teams = Vec::new();
        let mut tokens = BTreeMap::new();
        for (i, (team, members)) in roster.teams.iter().enumerate() {
            let (k, sc) = team_scenario(&scenario, i);
            let storage = config.footprint.storage(run_dir.join(team).join("world"));
            let world = World::build_with(sc, config.seed, config.listen.ip(), &storage).await.map_err(ExerciseError::from)?;
            let lab = Arc::new(Lab::new(&world).map_err(ExerciseError::from)?);
            lab.add_team(team, members.clone(), &Lab::team_dir(&run_dir, team)).await.map_err(ExerciseError::from)?;
            for m in members {
                tokens.insert(m.token.clone(), i);
            }
            teams.push(TeamWorld { team: team.clone(), variant: k, services: world.services().to_vec(), lab: lab.clone() });
            arenas.push(Arena { team: team.clone(), lab: lab.clone(), router: crate::lab::http::router(lab) });
            worlds.push(world);
            tracing::info!(team, variant = k, "team world built");
        }
        let start = scenario.meta.start;
        let deadline = config.deadline.map_or_else(|| crate::prosecutor::deadline(&scenario), |d| start.plus(d));
        let pace = Arc::new(Pace::new(start, scenario.meta.compression));
        let origin = std::time::Instant::now();
        let elapsed: Arc<dyn Fn() -> Duration + Send + Sync> = Arc::new(move || origin.elapsed());
        let (board_tx, _) = watch::channel(Scoreboard {
            exercise: scenario.meta.title.clone(),
            sim_time: start,
            deadline,
            phase: Phase::Running,
            frozen: false,
            teams: Vec::new(),
            ranking: None,
        });
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            exercise: scenario.meta.title.clone(),
            deadline,
            max_score: crate::prosecutor::max_score(&scenario),
            arenas,
            tokens,
            instructor: roster.instructor.clone(),
            pace: pace.clone(),
            elapsed: elapsed.clone(),
            phases: Mutex::new(Phases::default()),
            board: board_tx,
            stopping: stop_rx.clone(),
        });
        shared.publish().await.map_err(ExerciseError::from)?;

        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let mut tasks = Vec::new();
        let router = http::router(shared.clone());
        let mut stop_api = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let stopped = async move {
                let _ = stop_api.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(stopped).await {
                tracing::error!(error = %e, "challenge server failed");
            }
        }));
        for (world, t) in worlds.into_iter().zip(&teams) {
            tasks.push(tokio::spawn(drive(world, t.lab.clone(), pace.clone(), elapsed.clone(), stop_rx.clone())));
        }
        tasks.push(tokio::spawn(referee(shared, stop_rx)));
        Ok(Challenge { addr, roster, teams, pace, deadline, stop, tasks })
    }

    /// Stops the clock, the front door and every team's world.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Every 250 ms: locks the cases when the deadline passes and publishes the board.
async fn referee(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        if let Err(e) = shared.enforce_deadline().await {
            tracing::error!(error = %e, "locking the cases failed");
        }
        if let Err(e) = shared.publish().await {
            tracing::error!(error = %e, "publishing the scoreboard failed");
        }
    }
}

/// Runs a challenge until SIGINT or SIGTERM; prints `service <team>/<name> <url>` lines for
/// every team's world, the front door (`service lab …`, `scoreboard …`), the tokens, then
/// `ready`.
pub async fn serve(scenario: Arc<Scenario>, config: &ChallengeConfig, data: &Path) -> Result<(), ServeError> {
    use std::io::Write;
    let challenge = Challenge::start(scenario, config, data).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "service lab http://{}", challenge.addr)?;
        writeln!(out, "scoreboard http://{}/scoreboard", challenge.addr)?;
        writeln!(out, "deadline {}", challenge.deadline)?;
        for t in &challenge.teams {
            writeln!(out, "variant {} {}", t.team, t.variant)?;
            for s in &t.services {
                writeln!(out, "service {}/{} {}", t.team, s.name, s.url())?;
            }
        }
        writeln!(out, "token instructor Instructor {}", challenge.roster.instructor)?;
        for (team, members) in &challenge.roster.teams {
            for m in members {
                writeln!(out, "token {team} {:?} {}", m.role, m.token)?;
            }
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    crate::serve::wait_for_signal().await;
    challenge.stop().await;
    Ok(())
}
