//! `darklab bench lab`: a load test of one lab with the cast running live — scripted
//! clients, one per team member, each repeating what a busy team does (status, browse,
//! capture, list and read evidence, requests, save a draft). Reports errors, throughput,
//! latency percentiles and the process's peak resident memory.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sim_core::scenario::Scenario;

use crate::serve::{Classroom, ServeError};

/// What a load run measured.
#[derive(Debug)]
pub struct LoadReport {
    /// Teams × members.
    pub clients: usize,
    /// Requests sent.
    pub requests: usize,
    /// Requests that failed (transport error or unexpected status).
    pub errors: usize,
    /// Wall seconds the clients ran.
    pub seconds: f64,
    /// Latency percentiles in milliseconds: p50, p95, p99, max.
    pub latency_ms: [f64; 4],
    /// Peak resident set of this process (world, lab and clients), in KiB.
    pub peak_rss_kib: Option<u64>,
}

impl LoadReport {
    /// Requests per second.
    pub fn throughput(&self) -> f64 {
        if self.seconds > 0.0 { self.requests as f64 / self.seconds } else { 0.0 }
    }
}

/// Peak resident memory of this process (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// One client's loop: a team member's day, compressed.
#[allow(clippy::disallowed_methods)]
async fn member_loop(
    http: reqwest::Client,
    lab: String,
    token: String,
    market: String,
    until: std::time::Instant,
    think: Duration,
) -> (Vec<f64>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut last: Option<String> = None;
    let mut step = 0usize;
    while std::time::Instant::now() < until {
        let req = match step % 7 {
            0 => http.get(format!("{lab}/api/status")),
            1 => http.post(format!("{lab}/api/browse")).bearer_auth(&token).json(&json!({"url": format!("{market}/api/listings")})),
            2 => http.post(format!("{lab}/api/captures")).bearer_auth(&token).json(&json!({"url": format!("{market}/api/listings")})),
            3 => http.get(format!("{lab}/api/evidence")).bearer_auth(&token),
            4 => http.get(format!("{lab}/api/evidence/{}", last.clone().unwrap_or_else(|| "E1".into()))).bearer_auth(&token),
            5 => http.get(format!("{lab}/api/requests")).bearer_auth(&token),
            _ => http.put(format!("{lab}/api/case")).bearer_auth(&token).json(&json!({"suspects": []})),
        };
        let sent = std::time::Instant::now();
        match req.send().await {
            Ok(r) if r.status().is_success() => {
                let is_capture = step % 7 == 2;
                let body = r.bytes().await;
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                let id =
                    body.ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()).and_then(|v| v["id"].as_str().map(str::to_string));
                if is_capture && id.is_some() {
                    last = id;
                }
            }
            _ => errors += 1,
        }
        step += 1;
        tokio::time::sleep(think).await;
    }
    (latencies, errors)
}

/// Runs `teams` × `members` scripted clients for `seconds` against one live classroom.
#[allow(clippy::disallowed_methods)]
pub async fn lab_load(
    scenario: Arc<Scenario>,
    seed: u64,
    teams: u32,
    members: usize,
    seconds: u64,
    think: Duration,
    data: &Path,
) -> Result<LoadReport, ServeError> {
    let listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let classroom = Classroom::start(scenario, seed, listen, data, teams).await?;
    let lab = format!("http://{}", classroom.lab_addr);
    let market = classroom.lab.directory().sites.values().next().cloned().unwrap_or_default();
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().map_err(|e| ServeError::Roster(e.to_string()))?;
    let started = std::time::Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (_, roster) in &classroom.roster.teams {
        for m in roster.iter().cycle().take(members) {
            tasks.push(tokio::spawn(member_loop(http.clone(), lab.clone(), m.token.clone(), market.clone(), until, think)));
        }
    }
    let clients = tasks.len();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((lat, err)) = t.await {
            all.extend(lat);
            errors += err;
        } else {
            errors += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    classroom.stop().await;
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i.min(all.len() - 1)]
    };
    Ok(LoadReport {
        clients,
        requests: all.len() + errors,
        errors,
        seconds,
        latency_ms: [pct(0.50), pct(0.95), pct(0.99), all.last().copied().unwrap_or(0.0)],
        peak_rss_kib: peak_rss_kib(),
    })
}

/// What `darklab bench world` measured of one fast-forwarded world.
#[derive(Debug)]
pub struct WorldReport {
    /// Wall seconds to build the world (services, chain, crowd).
    pub build_seconds: f64,
    /// Wall seconds to fast-forward it to its end.
    pub run_seconds: f64,
    /// Simulated seconds fast-forwarded.
    pub simulated_seconds: i64,
    /// The world's counts at its end.
    pub stats: market_sim::world::WorldStats,
    /// The world digest at its end (hex).
    pub digest: String,
    /// CPU seconds (user + system) of this process while running.
    pub cpu_seconds: Option<f64>,
    /// Peak resident set of this process, in KiB.
    pub peak_rss_kib: Option<u64>,
}

/// CPU time (user + system, every thread) this process has used so far, from
/// `/proc/self/stat` (clock ticks of 1/100 s, Linux's `USER_HZ`).
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Builds the scenario's world and fast-forwards it to its end, timing both.
#[allow(clippy::disallowed_methods)]
pub async fn world_fast_forward(scenario: Arc<Scenario>, seed: u64) -> Result<WorldReport, market_sim::world::WorldError> {
    let t0 = std::time::Instant::now();
    let mut world = market_sim::world::World::build(scenario, seed, std::net::IpAddr::from([127, 0, 0, 1])).await?;
    let build_seconds = t0.elapsed().as_secs_f64();
    let cpu0 = cpu_seconds();
    let t1 = std::time::Instant::now();
    let end = world.world_end();
    let simulated_seconds = end.secs() - world.clock().now().secs();
    world.run_until(end).await?;
    let run_seconds = t1.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let stats = world.stats()?;
    let digest = hex::encode(world.digest()?);
    world.shutdown().await;
    Ok(WorldReport { build_seconds, run_seconds, simulated_seconds, stats, digest, cpu_seconds, peak_rss_kib: peak_rss_kib() })
}

/// What `darklab bench world --live` measured: a world following the wall clock.
#[derive(Debug)]
pub struct LiveReport {
    /// Wall seconds it ran.
    pub seconds: f64,
    /// Simulated seconds that passed.
    pub simulated_seconds: i64,
    /// CPU seconds (user + system) the process used meanwhile.
    pub cpu_seconds: Option<f64>,
    /// The world's counts at the end.
    pub stats: market_sim::world::WorldStats,
    /// Peak resident set of this process, in KiB.
    pub peak_rss_kib: Option<u64>,
}

/// Runs the world live for `seconds` of wall time at `compression` — the classroom's own
/// loop: every 200 ms the clock moves to where the pace says and the world catches up.
#[allow(clippy::disallowed_methods)]
pub async fn world_live(
    scenario: Arc<Scenario>,
    seed: u64,
    compression: u32,
    seconds: u64,
) -> Result<LiveReport, market_sim::world::WorldError> {
    let mut world = market_sim::world::World::build(scenario, seed, std::net::IpAddr::from([127, 0, 0, 1])).await?;
    let start_sim = world.clock().now();
    let pace = crate::pace::Pace::new(start_sim, compression);
    let cpu0 = cpu_seconds();
    let t0 = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    while t0.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        let target = pace.target(t0.elapsed()).min(world.world_end());
        world.run_until(target).await?;
    }
    let cpu_seconds = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let simulated_seconds = world.clock().now().secs() - start_sim.secs();
    let stats = world.stats()?;
    let elapsed = t0.elapsed().as_secs_f64();
    world.shutdown().await;
    Ok(LiveReport { seconds: elapsed, simulated_seconds, cpu_seconds, stats, peak_rss_kib: peak_rss_kib() })
}
