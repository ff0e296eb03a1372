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

use market_sim::world::World;
use sim_core::clock::SimDuration;
use sim_core::scenario::Scenario;

use crate::exercise::ExerciseError;
use crate::lab::{Lab, Member, Role};

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

/// The teams and their members: read from `run_dir/roster.json` when the exercise was
/// served before (so tokens handed out survive a restart), else made and saved.
fn roster(run_dir: &Path, teams: u32) -> Result<Vec<(String, Vec<Member>)>, ServeError> {
    let path = run_dir.join("roster.json");
    if let Ok(bytes) = std::fs::read(&path) {
        let saved: Vec<(String, Vec<Member>)> =
            serde_json::from_slice(&bytes).map_err(|e| ServeError::Roster(format!("{}: {e}", path.display())))?;
        if saved.len() >= usize::try_from(teams.max(1)).unwrap_or(usize::MAX) {
            return Ok(saved);
        }
    }
    let mut roster = Vec::new();
    for n in 1..=teams.max(1) {
        let team = format!("team-{n}");
        let members = vec![
            Member { name: format!("{team} head of unit"), role: Role::HeadOfUnit, token: fresh_token() },
            Member { name: format!("{team} investigator"), role: Role::Investigator, token: fresh_token() },
            Member { name: format!("{team} forensic examiner"), role: Role::ForensicExaminer, token: fresh_token() },
        ];
        roster.push((team, members));
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
}

/// Runs the world live until SIGINT or SIGTERM; prints `service <name> <url>` lines, the
/// team tokens, then `ready`.
#[allow(clippy::disallowed_methods)]
pub async fn serve(scenario: Arc<Scenario>, seed: u64, listen: SocketAddr, data: &Path, teams: u32) -> Result<(), ServeError> {
    let mut world = World::build(scenario.clone(), seed, listen.ip()).await.map_err(ExerciseError::from)?;
    let lab = Arc::new(Lab::new(&world).map_err(ExerciseError::from)?);
    let run_dir = data.join(format!("{}-seed{seed}", scenario.meta.id));
    let roster = roster(&run_dir, teams)?;
    let mut tokens = Vec::new();
    for (team, members) in &roster {
        tokens.extend(members.iter().map(|m| (team.clone(), m.role, m.token.clone())));
        lab.add_team(team, members.clone(), &Lab::team_dir(&run_dir, team)).await.map_err(ExerciseError::from)?;
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let lab_addr = listener.local_addr()?;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let lab_task = tokio::spawn({
        let router = crate::lab::http::router(lab.clone());
        let mut stop = stop_rx.clone();
        async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(stopped).await {
                tracing::error!(error = %e, "lab server failed");
            }
        }
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "service lab http://{lab_addr}")?;
        for s in world.services() {
            writeln!(out, "service {} {}", s.name, s.url())?;
        }
        for (team, role, token) in &tokens {
            writeln!(out, "token {team} {role:?} {token}")?;
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop_tx.send(true);
    });
    let compression = i64::from(scenario.meta.compression.max(1));
    let started = std::time::Instant::now();
    let start = world.clock().now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop_rx.wait_for(|s| *s) => break,
        }
        let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let target = start.plus(SimDuration::secs(elapsed.saturating_mul(compression) / 1000));
        if let Err(e) = world.run_until(target).await {
            tracing::error!(error = %e, "world stopped");
            break;
        }
        if let Err(e) = lab.tick().await {
            tracing::error!(error = %e, "lab tick failed");
        }
    }
    let _ = lab_task.await;
    world.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
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
