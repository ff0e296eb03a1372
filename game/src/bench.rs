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
