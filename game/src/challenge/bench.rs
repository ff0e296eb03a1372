//! Measurements for challenge mode: `darklab bench challenge` (N team worlds with their
//! casts live on the shared clock at a given compression: resident memory, CPU, whether
//! every world keeps up) and `darklab bench verdict` (the prosecutor's time on a case of
//! many claims, over a real investigated world). This is a measuring edge: it reads the
//! wall clock and `/proc`, never world logic.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sim_core::clock::SimTime;
use sim_core::scenario::Scenario;

use super::{Challenge, ChallengeConfig};
use crate::autopilot::Autopilot;
use crate::case::CaseFile;
use crate::exercise::ExerciseError;
use crate::lab::{Lab, Member, Role};
use crate::serve::ServeError;

/// What a challenge load run measured.
#[derive(Debug)]
pub struct ChallengeReport {
    /// Team worlds.
    pub teams: u32,
    /// Wall seconds to build every world.
    pub build_seconds: f64,
    /// Resident memory right after the worlds were built, KiB.
    pub rss_built_kib: Option<u64>,
    /// Resident memory at the end of the run, KiB.
    pub rss_end_kib: Option<u64>,
    /// Peak resident memory of the process, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Wall seconds the worlds ran at the compression.
    pub seconds: f64,
    /// Wall seconds the worlds then took to catch up with the held clock (`None`: some
    /// world was still behind when the bench gave up waiting).
    pub catch_up_seconds: Option<f64>,
    /// CPU seconds (user + system) the process used during the run window.
    pub cpu_seconds: Option<f64>,
    /// Where the shared clock stood at the end.
    pub target: SimTime,
    /// The slowest team world's clock when the run window ended (from its lab's `/api/status`).
    pub slowest: Option<SimTime>,
}

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds of this process (`/proc/self/stat`, 100 ticks a second as on
/// every Linux this runs on).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// How long [`challenge_load`] waits for the worlds to catch up with the held clock.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(1800);

/// Starts a challenge of `teams` worlds (their databases as `footprint` says), sets the
/// clock to `compression` through the instructor's API, lets it run `seconds`, holds the
/// clock until every world has caught up with it, and measures.
#[allow(clippy::disallowed_methods)]
pub async fn challenge_load(
    scenario: Arc<Scenario>,
    seed: u64,
    teams: u32,
    compression: u32,
    seconds: u64,
    data: &Path,
    footprint: crate::footprint::Footprint,
) -> Result<ChallengeReport, ServeError> {
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let started = std::time::Instant::now();
    let config = ChallengeConfig { seed, listen, teams, deadline: None, footprint };
    let challenge = Challenge::start(scenario, &config, data).await?;
    let build_seconds = started.elapsed().as_secs_f64();
    let rss_built_kib = proc_status_kib("VmRSS:");
    let base = format!("http://{}", challenge.addr);
    let http = reqwest::Client::new();
    let fail = |e: reqwest::Error| ServeError::Roster(format!("instructor API: {e}"));
    http.post(format!("{base}/instructor/compression"))
        .bearer_auth(&challenge.roster.instructor)
        .json(&json!({"factor": compression}))
        .send()
        .await
        .map_err(fail)?;
    let cpu_before = cpu_seconds();
    let run_start = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let cpu_after = cpu_seconds();
    let run_seconds = run_start.elapsed().as_secs_f64();
    let token = &challenge.roster.instructor;
    let instructor = |request: reqwest::RequestBuilder| async move {
        request.bearer_auth(token).send().await.map_err(fail)?.json::<Value>().await.map_err(fail)
    };
    let status = instructor(http.get(format!("{base}/instructor/status"))).await?;
    let target = serde_json::from_value(status["pace"]["sim_time"].clone()).unwrap_or(SimTime(0));
    let slowest_world = || async {
        let mut slowest: Option<SimTime> = None;
        for (_, members) in &challenge.roster.teams {
            let Some(m) = members.first() else { continue };
            let s: Value =
                http.get(format!("{base}/api/status")).bearer_auth(&m.token).send().await.map_err(fail)?.json().await.map_err(fail)?;
            if let Ok(t) = serde_json::from_value::<SimTime>(s["sim_time"].clone()) {
                slowest = Some(slowest.map_or(t, |x| x.min(t)));
            }
        }
        Ok::<_, ServeError>(slowest)
    };
    let slowest = slowest_world().await?;
    // A world behind the clock has not grown to its size yet: hold the clock and let every
    // world catch up, so the peak is that of worlds that ran the whole window (a machine too
    // slow for the compression otherwise measures half-empty worlds).
    let held = instructor(http.post(format!("{base}/instructor/pause"))).await?;
    let held_at: SimTime = serde_json::from_value(held["sim_time"].clone()).unwrap_or(target);
    let catch_up = std::time::Instant::now();
    let catch_up_seconds = loop {
        if slowest_world().await?.is_none_or(|t| t >= held_at) {
            break Some(catch_up.elapsed().as_secs_f64());
        }
        if catch_up.elapsed() > CATCH_UP_LIMIT {
            break None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let rss_end_kib = proc_status_kib("VmRSS:");
    let peak_rss_kib = proc_status_kib("VmHWM:");
    challenge.stop().await;
    Ok(ChallengeReport {
        teams,
        build_seconds,
        rss_built_kib,
        rss_end_kib,
        peak_rss_kib,
        seconds: run_seconds,
        catch_up_seconds,
        cpu_seconds: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        target,
        slowest,
    })
}

/// What one simulated hour of a challenge took.
#[derive(Debug)]
pub struct HourReport {
    /// Team worlds.
    pub teams: u32,
    /// Wall seconds to build every world and lab.
    pub build_seconds: f64,
    /// Wall seconds to run every world one simulated hour.
    pub run_seconds: f64,
    /// Scripted steps and crowd wake-ups carried out, over all worlds.
    pub actions: u64,
    /// Blocks mined, over all worlds.
    pub blocks: u64,
    /// Peak resident memory of the process, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// Exactly one simulated hour of a `teams`-team challenge, headless and as fast as the
/// machine goes: each team's world (its variant, databases in memory) with its lab is built,
/// then every world runs from its start to one hour later and every lab ticks — the work a
/// live challenge does for an hour of its clock, without the wall-clock pacing (what
/// `scripts/callgrind` counts instructions of).
#[allow(clippy::disallowed_methods)]
pub async fn simulated_hour(scenario: Arc<Scenario>, seed: u64, teams: u32, data: &Path) -> Result<HourReport, ExerciseError> {
    let started = std::time::Instant::now();
    let mut arenas = Vec::new();
    for i in 0..teams.max(1) {
        let (_, sc) = super::team_scenario(&scenario, usize::try_from(i).unwrap_or(0));
        let world = market_sim::world::World::build(sc, seed, std::net::IpAddr::from([127, 0, 0, 1])).await?;
        let lab = Lab::new(&world)?;
        let team = format!("team-{}", i + 1);
        let head = Member { name: team.clone(), role: Role::HeadOfUnit, token: format!("bench-{team}") };
        lab.add_team(&team, vec![head], &Lab::team_dir(data, &team)).await?;
        arenas.push((world, lab));
    }
    let build_seconds = started.elapsed().as_secs_f64();
    let run_start = std::time::Instant::now();
    let mut result = Ok(());
    for (world, lab) in &mut arenas {
        let hour = SimTime(world.clock().now().0 + 3600);
        if let Err(e) = world.run_until(hour).await {
            result = Err(e.into());
            break;
        }
        if let Err(e) = lab.tick().await {
            result = Err(e.into());
            break;
        }
    }
    let run_seconds = run_start.elapsed().as_secs_f64();
    let (mut actions, mut blocks) = (0, 0);
    for (world, _) in &arenas {
        if let Ok(st) = world.stats() {
            actions += u64::try_from(st.actions_ok + st.actions_failed).unwrap_or(0);
            blocks += u64::from(st.blocks);
        }
    }
    let peak_rss_kib = proc_status_kib("VmHWM:");
    for (world, _) in arenas {
        world.shutdown().await;
    }
    result.map(|()| HourReport { teams: teams.max(1), build_seconds, run_seconds, actions, blocks, peak_rss_kib })
}

/// What timing the prosecutor measured.
#[derive(Debug)]
pub struct VerdictTiming {
    /// Suspect claims in the case.
    pub claims: usize,
    /// Distinct evidence items cited.
    pub cited: usize,
    /// Verdicts computed.
    pub iterations: u32,
    /// Mean and slowest time of one verdict, in milliseconds.
    pub mean_ms: f64,
    /// The slowest verdict, in milliseconds.
    pub max_ms: f64,
    /// The verdict's score (to show the case was judged in full).
    pub score: i64,
    /// Mean time of the lab's part of a submission — the dossier: each cited item's hash,
    /// custody and authority checked and its facts read — in milliseconds.
    pub dossier_mean_ms: f64,
    /// The slowest dossier, in milliseconds.
    pub dossier_max_ms: f64,
}

/// Investigates the scenario's world with the autopilot, then times the prosecutor on a
/// case of `claims` suspect claims built from the reference case: in turn the real claim,
/// the same with a wrong name, and the same charged again (duplicates the court must
/// notice), all citing the real evidence.
#[allow(clippy::disallowed_methods)]
pub async fn verdict_timing(
    scenario: Arc<Scenario>,
    seed: u64,
    claims: usize,
    iterations: u32,
    data: &Path,
) -> Result<VerdictTiming, ExerciseError> {
    let mut world = market_sim::world::World::build(scenario.clone(), seed, std::net::IpAddr::from([127, 0, 0, 1])).await?;
    let result = async {
        world.run_until(world.world_end()).await?;
        let lab = Lab::new(&world)?;
        let token = "bench-head-of-unit";
        let head = Member { name: "bench".into(), role: Role::HeadOfUnit, token: token.into() };
        lab.add_team("bench", vec![head], &Lab::team_dir(data, "bench")).await?;
        let mut team = Autopilot::new();
        team.run(&scenario, &lab, &mut world, token).await?;
        let reference = lab.case(token).await?.ok_or(ExerciseError::NoCase)?;
        let mut case = CaseFile::default();
        for i in 0..claims {
            for s in &reference.suspects {
                let mut claim = s.clone();
                if i % 3 == 1 {
                    claim.name = format!("Not {} {i}", claim.name);
                }
                case.suspects.push(claim);
            }
        }
        case.suspects.truncate(claims);
        let at = world.clock().now();
        let mut times = Vec::new();
        let mut dossier_times = Vec::new();
        let mut score = 0;
        for _ in 0..iterations.max(1) {
            let t = std::time::Instant::now();
            let dossier = lab.dossier("bench", &case).await?;
            dossier_times.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = std::time::Instant::now();
            let v = crate::prosecutor::assess(&dossier.input(&scenario, "bench", &case, at));
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            score = v.score;
        }
        let mean = |t: &[f64]| t.iter().sum::<f64>() / t.len() as f64;
        let max = |t: &[f64]| t.iter().copied().fold(0.0, f64::max);
        Ok(VerdictTiming {
            claims: case.suspects.len(),
            cited: case.cited().len(),
            iterations: iterations.max(1),
            mean_ms: mean(&times),
            max_ms: max(&times),
            score,
            dossier_mean_ms: mean(&dossier_times),
            dossier_max_ms: max(&dossier_times),
        })
    }
    .await;
    world.shutdown().await;
    result
}
