//! `darklab net bench`: what the private network costs on this machine — time from start
//! to the first market page over an onion address, memory of every tor daemon (resident and
//! proportional set size, tuned beside tor's defaults), a market page's latency over the
//! onion network beside direct mode, and a series of cold bootstraps (p50, p95, maximum,
//! the watchdog's recoveries, runs that never came up).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use market_sim::world::World;
use sim_core::clock::SimDuration;
use sim_core::ids::Sats;
use sim_core::scenario::{MixerSite, OnionService, Scenario, Site, SiteKind};

use super::NetError;
use super::live::{self, LiveNetwork, LiveOptions};
use super::torrc::Footprint;
use super::watchdog::{self, Recovery};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Relays in all (extra unflagged ones are added to the scenario's).
    pub relays: u32,
    /// Market page fetches per path for the latency comparison.
    pub fetches: u32,
    /// How long the network runs after the latency fetches before memory is read (a few
    /// consensus rounds, each of which grows an untuned tor).
    pub settle: Duration,
    /// Also start the same network with tor's defaults and measure its memory.
    pub untuned: bool,
}

/// Resident and proportional set size of each daemon, KiB, by nickname.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// (RSS, PSS) by nickname.
    pub by_router: BTreeMap<String, (u64, u64)>,
}

impl Memory {
    /// Reads `/proc/<pid>/smaps_rollup` of every daemon.
    fn of(pids: BTreeMap<String, u32>) -> Memory {
        Memory { by_router: pids.into_iter().filter_map(|(nick, pid)| rss_pss_kib(pid).map(|m| (nick, m))).collect() }
    }

    /// Totals (RSS, PSS), KiB, without the SOCKS client (the network the issue sizes:
    /// authorities, relays and the onion services' host).
    pub fn network_total(&self) -> (u64, u64) {
        self.by_router.iter().filter(|(n, _)| n.as_str() != "client").fold((0, 0), |(r, p), (_, (rss, pss))| (r + rss, p + pss))
    }
}

/// The measurements of one network.
#[derive(Clone, Debug)]
pub struct NetBenchReport {
    /// Routers started (authorities, relays, onion host, client).
    pub routers: usize,
    /// Onion services.
    pub onions: usize,
    /// From the start (world build included) until every router bootstrapped.
    pub bootstrap: Duration,
    /// From the start until the market's home page came back over its onion address.
    pub first_page: Duration,
    /// Memory of the tuned network.
    pub memory: Memory,
    /// Memory of the same network with tor's defaults, when asked.
    pub untuned: Option<Memory>,
    /// Market home page latency, ms (median, p95), by path: direct, tor SOCKS, arti.
    pub latency_ms: Vec<(String, f64, f64)>,
    /// What the watchdog did while the tuned network started.
    pub recoveries: Vec<Recovery>,
}

/// A daemon's resident and proportional set size from `/proc/<pid>/smaps_rollup`, KiB.
fn rss_pss_kib(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field =
        |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok());
    Some((field("Rss:")?, field("Pss:")?))
}

/// Adds a forum and a mixer as onion services when the scenario has none, so the
/// measured network hosts the market, the forum and the mixer.
fn with_three_onion_services(mut s: Scenario) -> Scenario {
    let has = |s: &Scenario, pred: &dyn Fn(&SiteKind) -> bool| s.sites.iter().any(|site| pred(&site.kind));
    if !has(&s, &|k| matches!(k, SiteKind::Forum)) {
        s.sites.push(Site { id: "bench-forum".into(), name: "Forum".into(), kind: SiteKind::Forum });
    }
    if !has(&s, &|k| matches!(k, SiteKind::Mixer(_))) {
        let kind = SiteKind::Mixer(MixerSite {
            fee_bps: 300,
            min_delay: SimDuration::hours(1),
            max_delay: SimDuration::hours(3),
            float: Sats(100_000_000),
        });
        s.sites.push(Site { id: "bench-mixer".into(), name: "Mixer".into(), kind });
    }
    let onion_kinds = |k: &SiteKind| matches!(k, SiteKind::Market(_) | SiteKind::Forum | SiteKind::Mixer(_));
    let wanted: Vec<_> = s.sites.iter().filter(|site| onion_kinds(&site.kind)).map(|site| site.id.clone()).collect();
    for id in wanted {
        if !s.network.onion_services.iter().any(|o| o.site == id) {
            s.network.onion_services.push(OnionService { site: id, board: None });
        }
    }
    s
}

/// Median, 95th percentile and maximum of `samples`.
fn percentiles(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples.get(((samples.len().saturating_sub(1)) as f64 * q).round() as usize).copied().unwrap_or(f64::NAN);
    (at(0.5), at(0.95), at(1.0))
}

/// Fetches `url` `n` times, directly (`socks` `None`) or through a SOCKS proxy; returns
/// each latency in ms.
#[allow(clippy::disallowed_methods)] // measuring wall-clock latency
async fn latencies(socks: Option<SocketAddr>, url: &str, n: u32) -> Result<Vec<f64>, NetError> {
    let direct = reqwest::Client::builder().no_proxy().build().map_err(|e| NetError::Plan(e.to_string()))?;
    let mut out = Vec::new();
    for _ in 0..n {
        let start = std::time::Instant::now();
        let fetched = match socks {
            Some(socks) => live::get_over_socks(socks, url, Duration::from_secs(30)).await.map(|_| ()),
            None => match direct.get(url).send().await.and_then(|r| r.error_for_status()) {
                Ok(r) => r.bytes().await.map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        };
        fetched.map_err(|message| NetError::Unreachable { host: url.to_string(), seconds: 30, message })?;
        out.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// The scenario as measured: the market, forum and mixer as onion services and `relays`
/// relays in all.
fn measured(s: Scenario, options: &mut LiveOptions, relays: u32) -> Arc<Scenario> {
    let s = with_three_onion_services(s);
    let declared = u32::try_from(s.network.relays.len()).unwrap_or(u32::MAX);
    options.extra_relays = options.extra_relays.max(relays.saturating_sub(declared));
    Arc::new(s)
}

/// A world and its network, started in `options.dir`; the time from `start` until the
/// market's home page came back over its onion address through the tor client.
struct Started {
    world: World,
    net: LiveNetwork,
    bootstrap: Duration,
    first_page: Duration,
    onion_url: String,
    direct_url: String,
}

#[allow(clippy::disallowed_methods)] // measuring wall-clock time
async fn start(s: &Arc<Scenario>, seed: u64, options: &LiveOptions) -> Result<Started, NetError> {
    let start = std::time::Instant::now();
    let world = World::build(s.clone(), seed, std::net::IpAddr::from([127, 0, 0, 1]))
        .await
        .map_err(|e| NetError::Plan(format!("building the world: {e}")))?;
    let net = match live::start_for_world(&world, s, seed, options).await {
        Ok(net) => net,
        Err(e) => {
            world.shutdown().await;
            return Err(e);
        }
    };
    let bootstrap = start.elapsed();
    let plan = &net.tor.state().plan;
    let market_site = s.sites.iter().find(|site| matches!(site.kind, SiteKind::Market(_))).map(|site| site.id.to_string());
    let Some(market) = plan.onions.iter().find(|o| Some(&o.site) == market_site.as_ref()) else {
        world.shutdown().await;
        return Err(NetError::Plan("the scenario has no market onion service".into()));
    };
    let (onion_url, direct_url) = (format!("http://{}/", market.host), format!("http://{}/", market.target));
    if let Err(e) = live::fetch_over_tor(&net.tor, &onion_url, options.timeout).await {
        drop(net);
        world.shutdown().await;
        return Err(e);
    }
    Ok(Started { world, net, bootstrap, first_page: start.elapsed(), onion_url, direct_url })
}

/// Runs the measurement: the tuned network (times, memory, latency), then, when asked,
/// the same network with tor's defaults (memory).
pub async fn run(s: Scenario, mut options: LiveOptions, seed: u64, bench: &BenchOptions) -> Result<NetBenchReport, NetError> {
    let s = measured(s, &mut options, bench.relays);
    options.footprint = Footprint::Tuned;
    let up = start(&s, seed, &options).await?;
    let result = measure(&up, bench).await;
    let Started { world, net, .. } = up;
    drop(net);
    world.shutdown().await;
    let mut report = result?;
    if bench.untuned {
        let mut defaults = options.clone();
        defaults.footprint = Footprint::Untuned;
        defaults.arti = false;
        defaults.dir = options.dir.join("untuned");
        let up = start(&s, seed, &defaults).await?;
        // The same traffic over tor as the tuned network had, and the same settling time.
        let traffic = latencies(up.net.tor.state().plan.socks_addr(), &up.onion_url, bench.fetches).await;
        tokio::time::sleep(bench.settle).await;
        report.untuned = Some(Memory::of(up.net.tor.pids()));
        let Started { world, net, .. } = up;
        drop(net);
        world.shutdown().await;
        traffic?;
    }
    Ok(report)
}

async fn measure(up: &Started, bench: &BenchOptions) -> Result<NetBenchReport, NetError> {
    let plan = &up.net.tor.state().plan;
    let socks = plan.socks_addr().ok_or_else(|| NetError::Plan("no client router".into()))?;
    let mut latency_ms = Vec::new();
    let (p50, p95, _) = percentiles(latencies(None, &up.direct_url, bench.fetches).await?);
    latency_ms.push(("direct".to_string(), p50, p95));
    let (p50, p95, _) = percentiles(latencies(Some(socks), &up.onion_url, bench.fetches).await?);
    latency_ms.push(("onion via tor SOCKS".to_string(), p50, p95));
    if let Some(arti) = up.net.arti_socks {
        live::fetch_when_ready(arti, &up.onion_url, Duration::from_secs(120), &|| {}).await?;
        let (p50, p95, _) = percentiles(latencies(Some(arti), &up.onion_url, bench.fetches).await?);
        latency_ms.push(("onion via arti".to_string(), p50, p95));
    }
    tokio::time::sleep(bench.settle).await;
    Ok(NetBenchReport {
        routers: plan.routers.len(),
        onions: plan.onions.len(),
        bootstrap: up.bootstrap,
        first_page: up.first_page,
        memory: Memory::of(up.net.tor.pids()),
        untuned: None,
        latency_ms,
        recoveries: up.net.tor.recoveries().to_vec(),
    })
}

/// One cold bootstrap: the time to the first market page, or why it never came up, and
/// the watchdog's recoveries.
#[derive(Clone, Debug)]
pub struct ColdRun {
    /// Time from the start to the first market page over its onion address.
    pub first_page: Result<Duration, String>,
    /// What the watchdog did.
    pub recoveries: Vec<Recovery>,
}

/// Runs `runs` cold bootstraps one after the other, each in a fresh folder (new keys, new
/// world, nothing cached), without arti; `progress` hears of each run as it ends.
pub async fn cold(
    s: Scenario,
    mut options: LiveOptions,
    seed: u64,
    relays: u32,
    runs: u32,
    progress: &mut dyn FnMut(u32, &ColdRun),
) -> Result<Vec<ColdRun>, NetError> {
    let s = measured(s, &mut options, relays);
    options.arti = false;
    let root = options.dir.clone();
    let mut out = Vec::new();
    for i in 1..=runs {
        let mut run_options = options.clone();
        run_options.dir = root.join(format!("cold{i}"));
        let _ = std::fs::remove_dir_all(&run_options.dir);
        let run = match start(&s, seed, &run_options).await {
            Ok(up) => {
                let run = ColdRun { first_page: Ok(up.first_page), recoveries: up.net.tor.recoveries().to_vec() };
                let Started { world, net, .. } = up;
                drop(net);
                world.shutdown().await;
                run
            }
            Err(e) => ColdRun { first_page: Err(e.to_string()), recoveries: super::supervise::read_recoveries(&run_options.dir) },
        };
        progress(i, &run);
        // Keep the folder of a run that never came up, for its logs.
        if run.first_page.is_ok() {
            std::fs::remove_dir_all(&run_options.dir)?;
        }
        out.push(run);
    }
    Ok(out)
}

impl ColdRun {
    /// One line per run.
    pub fn render(&self, i: u32) -> String {
        let time = match &self.first_page {
            Ok(d) => format!("{:.1} s", d.as_secs_f64()),
            Err(e) => format!("never came up: {}", e.lines().next().unwrap_or("")),
        };
        format!("run {i:>2}: {time}; recoveries: {}", watchdog::summary(&self.recoveries))
    }
}

/// The summary of a series of cold bootstraps.
pub fn render_cold(runs: &[ColdRun]) -> String {
    let times: Vec<f64> = runs.iter().filter_map(|r| r.first_page.as_ref().ok().map(Duration::as_secs_f64)).collect();
    let came_up = times.len();
    let recoveries: usize = runs.iter().map(|r| r.recoveries.len()).sum();
    let recovered_runs = runs.iter().filter(|r| !r.recoveries.is_empty()).count();
    let (p50, p95, max) = percentiles(times);
    let mut out = String::new();
    let _ = writeln!(out, "cold bootstraps: {} runs, {came_up} came up, {} never came up", runs.len(), runs.len() - came_up);
    let _ = writeln!(out, "start → first market page over its onion address: p50 {p50:.1} s, p95 {p95:.1} s, max {max:.1} s");
    let _ = writeln!(out, "watchdog recoveries: {recoveries} (in {recovered_runs} runs)");
    out
}

impl NetBenchReport {
    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "routers {} (onion services {})", self.routers, self.onions);
        let _ = writeln!(out, "start → all routers bootstrapped: {:.1} s", self.bootstrap.as_secs_f64());
        let _ = writeln!(out, "start → first market page over its onion address: {:.1} s", self.first_page.as_secs_f64());
        let _ = writeln!(out, "watchdog recoveries: {}", watchdog::summary(&self.recoveries));
        let mb = |kib: u64| kib as f64 / 1024.0;
        let untuned = self.untuned.as_ref();
        let _ = writeln!(out, "{:<14} {:>10} {:>10} {:>12} {:>12}", "memory (MB)", "tuned RSS", "tuned PSS", "default RSS", "default PSS");
        for (nick, (rss, pss)) in &self.memory.by_router {
            let (d_rss, d_pss) = untuned
                .and_then(|m| m.by_router.get(nick))
                .map_or(("-".into(), "-".into()), |(r, p)| (format!("{:.1}", mb(*r)), format!("{:.1}", mb(*p))));
            let _ = writeln!(out, "{nick:<14} {:>10.1} {:>10.1} {d_rss:>12} {d_pss:>12}", mb(*rss), mb(*pss));
        }
        let (rss, pss) = self.memory.network_total();
        let (d_rss, d_pss) = untuned
            .map(Memory::network_total)
            .map_or(("-".into(), "-".into()), |(r, p)| (format!("{:.1}", mb(r)), format!("{:.1}", mb(p))));
        let _ = writeln!(out, "{:<14} {:>10.1} {:>10.1} {d_rss:>12} {d_pss:>12}", "network total", mb(rss), mb(pss));
        let _ = writeln!(out, "(network total: authorities, relays and the onion services' host, without the SOCKS client)");
        let _ = writeln!(out, "{:<22} {:>10} {:>10}", "market page latency", "p50 ms", "p95 ms");
        for (path, p50, p95) in &self.latency_ms {
            let _ = writeln!(out, "{path:<22} {p50:>10.2} {p95:>10.2}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_series() {
        let (p50, p95, max) = percentiles((1..=20).map(f64::from).collect());
        assert_eq!((p50, p95, max), (11.0, 19.0, 20.0));
        assert!(percentiles(Vec::new()).0.is_nan());
    }

    #[test]
    fn a_cold_series_counts_failures_and_recoveries() {
        let rec = Recovery { at_seconds: 50, router: "client".into(), reason: "no progress".into(), action: watchdog::Action::Restart };
        let runs = vec![
            ColdRun { first_page: Ok(Duration::from_secs(40)), recoveries: Vec::new() },
            ColdRun { first_page: Ok(Duration::from_secs(90)), recoveries: vec![rec] },
            ColdRun { first_page: Err("router relay2 did not bootstrap".into()), recoveries: Vec::new() },
        ];
        let text = render_cold(&runs);
        assert!(text.contains("3 runs, 2 came up, 1 never came up"), "{text}");
        assert!(text.contains("max 90.0 s") && text.contains("watchdog recoveries: 1 (in 1 runs)"), "{text}");
        assert!(runs[2].render(3).contains("never came up: router relay2"));
    }
}
