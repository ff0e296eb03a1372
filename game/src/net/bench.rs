//! `darklab net bench`: what the private network costs on this machine — time from start
//! to the first market page over an onion address, resident memory of every tor daemon,
//! and a market page's latency over the onion network beside direct mode.

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
use super::live::{self, LiveOptions};

/// The measurements.
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
    /// Resident memory of each tor daemon, KiB, by nickname.
    pub rss_kib: BTreeMap<String, u64>,
    /// Market home page latency, ms (median, p95), by path: direct, tor SOCKS, arti.
    pub latency_ms: Vec<(String, f64, f64)>,
}

/// A daemon's resident memory from `/proc/<pid>/status`, KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok())
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

/// Median and 95th percentile of `samples`, ms.
fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples.get(((samples.len().saturating_sub(1)) as f64 * q).round() as usize).copied().unwrap_or(f64::NAN);
    (at(0.5), at(0.95))
}

/// Fetches `url` `n` times with `client`, returns each latency in ms.
#[allow(clippy::disallowed_methods)] // measuring wall-clock latency
async fn latencies(client: &reqwest::Client, url: &str, n: u32) -> Result<Vec<f64>, NetError> {
    let mut out = Vec::new();
    for _ in 0..n {
        let start = std::time::Instant::now();
        let r = client.get(url).send().await.and_then(|r| r.error_for_status());
        let body = match r {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        body.map_err(|e| NetError::Unreachable { host: url.to_string(), seconds: 30, message: format!("{e:#}") })?;
        out.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

fn socks_client(socks: SocketAddr) -> Result<reqwest::Client, NetError> {
    let err = |e: reqwest::Error| NetError::Plan(format!("HTTP client: {e}"));
    let proxy = reqwest::Proxy::all(format!("socks5h://{socks}")).map_err(err)?;
    reqwest::Client::builder().proxy(proxy).timeout(Duration::from_secs(30)).build().map_err(err)
}

/// Runs the measurement with `relays` relays in all.
#[allow(clippy::disallowed_methods)] // measuring wall-clock time
pub async fn run(s: Scenario, mut options: LiveOptions, seed: u64, relays: u32, fetches: u32) -> Result<NetBenchReport, NetError> {
    let s = Arc::new(with_three_onion_services(s));
    let declared = u32::try_from(s.network.relays.len()).unwrap_or(u32::MAX);
    options.extra_relays = options.extra_relays.max(relays.saturating_sub(declared));
    let start = std::time::Instant::now();
    let world = World::build(s.clone(), seed, std::net::IpAddr::from([127, 0, 0, 1]))
        .await
        .map_err(|e| NetError::Plan(format!("building the world: {e}")))?;
    let result = measure(&world, &s, seed, &options, fetches, start).await;
    world.shutdown().await;
    result
}

#[allow(clippy::disallowed_methods)] // measuring wall-clock time
async fn measure(
    world: &World,
    s: &Scenario,
    seed: u64,
    options: &LiveOptions,
    fetches: u32,
    start: std::time::Instant,
) -> Result<NetBenchReport, NetError> {
    let net = live::start_for_world(world, s, seed, options).await?;
    let bootstrap = start.elapsed();
    let plan = &net.tor.state().plan;
    let market_site = s.sites.iter().find(|site| matches!(site.kind, SiteKind::Market(_))).map(|site| site.id.to_string());
    let market = plan
        .onions
        .iter()
        .find(|o| Some(&o.site) == market_site.as_ref())
        .ok_or_else(|| NetError::Plan("the scenario has no market onion service".into()))?;
    let socks = plan.socks_addr().ok_or_else(|| NetError::Plan("no client router".into()))?;
    let onion_url = format!("http://{}/", market.host);
    live::fetch_when_ready(socks, &onion_url, options.timeout).await?;
    let first_page = start.elapsed();
    let rss_kib = net.tor.pids().into_iter().filter_map(|(nick, pid)| rss_kib(pid).map(|k| (nick, k))).collect();
    let direct = reqwest::Client::builder().no_proxy().build().map_err(|e| NetError::Plan(e.to_string()))?;
    let mut latency_ms = Vec::new();
    let (p50, p95) = percentiles(latencies(&direct, &format!("http://{}/", market.target), fetches).await?);
    latency_ms.push(("direct".to_string(), p50, p95));
    let (p50, p95) = percentiles(latencies(&socks_client(socks)?, &onion_url, fetches).await?);
    latency_ms.push(("onion via tor SOCKS".to_string(), p50, p95));
    if let Some(arti) = net.arti_socks {
        let client = socks_client(arti)?;
        live::fetch_when_ready(arti, &onion_url, options.timeout).await?;
        let (p50, p95) = percentiles(latencies(&client, &onion_url, fetches).await?);
        latency_ms.push(("onion via arti".to_string(), p50, p95));
    }
    Ok(NetBenchReport { routers: plan.routers.len(), onions: plan.onions.len(), bootstrap, first_page, rss_kib, latency_ms })
}

impl NetBenchReport {
    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "routers {} (onion services {})", self.routers, self.onions);
        let _ = writeln!(out, "start → all routers bootstrapped: {:.1} s", self.bootstrap.as_secs_f64());
        let _ = writeln!(out, "start → first market page over its onion address: {:.1} s", self.first_page.as_secs_f64());
        let total: u64 = self.rss_kib.values().sum();
        let client: u64 = self.rss_kib.get("client").copied().unwrap_or(0);
        for (nick, kib) in &self.rss_kib {
            let _ = writeln!(out, "  rss {nick:<12} {:>7.1} MB", *kib as f64 / 1024.0);
        }
        let _ = writeln!(
            out,
            "resident memory: {:.1} MB all daemons, {:.1} MB without the SOCKS client",
            total as f64 / 1024.0,
            (total - client) as f64 / 1024.0
        );
        let _ = writeln!(out, "{:<22} {:>10} {:>10}", "market page latency", "p50 ms", "p95 ms");
        for (path, p50, p95) in &self.latency_ms {
            let _ = writeln!(out, "{path:<22} {p50:>10.2} {p95:>10.2}");
        }
        out
    }
}
