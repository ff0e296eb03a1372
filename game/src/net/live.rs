//! A world on the onion network: the scenario's onion services found among the world's
//! running services, the private network started for them, arti bootstrapped on it and
//! switched in as every party's onion transport, and pages fetched over it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use market_sim::world::network::OnionTransport;
use market_sim::world::tor_client::{self, Fallback, PrivateNetwork};
use market_sim::world::{ServiceInfo, World, onion};
use sim_core::scenario::Scenario;

use super::deploy::Deployment;
use super::fleet::Fleet;
use super::supervise::NetState;
use super::{NetError, NetPlan, OnionSite, TorNetwork};

/// The scenario's onion services with their keys and the sockets the world serves them on.
pub fn onion_sites(scenario: &Scenario, seed: u64, services: &[ServiceInfo]) -> Result<Vec<OnionSite>, NetError> {
    scenario
        .network
        .onion_services
        .iter()
        .map(|o| {
            let site = o.site.as_str();
            let key_seed = onion::site_key_seed(seed, site);
            let host = onion::onion_host(key_seed);
            let service = services
                .iter()
                .find(|s| s.host == host)
                .ok_or_else(|| NetError::Plan(format!("onion service {site}: the world serves no site {site} as an onion service")))?;
            Ok(OnionSite { site: site.to_string(), host, key_seed, target: service.socket })
        })
        .collect()
}

/// What arti needs to know of a running network: its authorities as v3 identities and as
/// fallback caches.
pub fn private_network(state: &NetState) -> PrivateNetwork {
    let mut net = PrivateNetwork { authorities: Vec::new(), fallbacks: Vec::new() };
    for auth in state.plan.authorities() {
        if let (Some(v3), Some((rsa, ed))) = (state.v3idents.get(&auth.nick), state.identities.get(&auth.nick)) {
            net.authorities.push(v3.clone());
            net.fallbacks.push(Fallback { rsa_identity: rsa.clone(), ed_identity: ed.clone(), orport: auth.or_addr() });
        }
    }
    net
}

/// Options of a network started for a world.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Folder of the network (torrcs, data directories, logs, state).
    pub dir: std::path::PathBuf,
    /// Routers listen on `127.<subnet>.0.<n>`.
    pub subnet: u8,
    /// Relays to add to the scenario's (unflagged).
    pub extra_relays: u32,
    /// Bootstrap deadline.
    pub timeout: Duration,
    /// Bootstrap arti and make it every party's onion transport.
    pub arti: bool,
    /// Boards carrying some routers (the world must then listen on the deployment's lab
    /// address, so boards reach its services); `None`: every router on this machine.
    pub deployment: Option<Deployment>,
    /// With a deployment: the port (on the lab address) serving the boards' configuration.
    pub board_port: u16,
}

/// A world's network: the tor daemons and, when asked, arti's SOCKS bridge.
pub struct LiveNetwork {
    /// The daemons.
    pub tor: TorNetwork,
    /// arti's SOCKS bridge, when arti is the parties' transport.
    pub arti_socks: Option<SocketAddr>,
    /// Where boards fetch their configuration, with a deployment.
    pub board_server: Option<SocketAddr>,
    /// The boards as the lab sees them, with a deployment.
    pub fleet: Option<Arc<Fleet>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for LiveNetwork {
    fn drop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl std::fmt::Debug for LiveNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveNetwork").field("tor", &self.tor).field("arti_socks", &self.arti_socks).finish()
    }
}

/// Starts the private network for `world` (built from `scenario` and `seed`); with
/// `options.arti`, bootstraps arti on it and routes every party's onion traffic through it.
pub async fn start_for_world(world: &World, scenario: &Scenario, seed: u64, options: &LiveOptions) -> Result<LiveNetwork, NetError> {
    let onions = onion_sites(scenario, seed, world.services())?;
    let deployment = options.deployment.as_ref();
    let plan = NetPlan::new(&scenario.network, onions, options.subnet, options.extra_relays, &options.dir, deployment)?;
    let timeout = options.timeout;
    let joined = |e: tokio::task::JoinError| NetError::Io(std::io::Error::other(e.to_string()));
    let state = tokio::task::spawn_blocking(move || TorNetwork::prepare(plan)).await.map_err(joined)??;
    let mut tasks = Vec::new();
    let mut board_server = None;
    let mut fleet = None;
    if let Some(d) = deployment {
        let boards = Arc::new(Fleet::new(d.clone(), state.clone()));
        let (addr, task) = super::board::serve_boards(boards.clone(), SocketAddr::from((d.lab(), options.board_port))).await?;
        board_server = Some(addr);
        fleet = Some(boards);
        tasks.push(task);
    }
    let tor = tokio::task::spawn_blocking(move || -> Result<TorNetwork, NetError> {
        let mut tor = TorNetwork::launch(state, None)?;
        tor.wait_bootstrapped(timeout)?;
        Ok(tor)
    })
    .await
    .map_err(joined)??;
    let mut live = LiveNetwork { tor, arti_socks: None, board_server, fleet, tasks };
    if options.arti {
        let net = private_network(live.tor.state());
        let client = tokio::time::timeout(timeout, tor_client::bootstrap(&net, &options.dir.join("arti")))
            .await
            .map_err(|_| NetError::Arti(format!("no bootstrap within {} s", timeout.as_secs())))?
            .map_err(|e| NetError::Arti(e.to_string()))?;
        let (addr, task) =
            tor_client::socks_bridge(client, SocketAddr::from(([127, 0, 0, 1], 0))).await.map_err(|e| NetError::Arti(e.to_string()))?;
        world.network().set_onion_transport(OnionTransport::Socks(addr));
        live.arti_socks = Some(addr);
        live.tasks.push(task);
    }
    Ok(live)
}

/// Fetches `url` through the SOCKS proxy at `socks` until it answers 200 or `timeout`
/// passes (an onion service's descriptor takes a while to publish); returns the body.
#[allow(clippy::disallowed_methods)] // real tor runs on wall-clock time
pub async fn fetch_when_ready(socks: SocketAddr, url: &str, timeout: Duration) -> Result<String, NetError> {
    let host = url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or(url).to_string();
    let unreachable = |message: String| NetError::Unreachable { host: host.clone(), seconds: timeout.as_secs(), message };
    let proxy = reqwest::Proxy::all(format!("socks5h://{socks}")).map_err(|e| unreachable(e.to_string()))?;
    let client =
        reqwest::Client::builder().proxy(proxy).timeout(Duration::from_secs(30)).build().map_err(|e| unreachable(e.to_string()))?;
    let start = std::time::Instant::now();
    loop {
        let last = match client.get(url).send().await {
            Ok(r) if r.status().is_success() => return r.text().await.map_err(|e| unreachable(e.to_string())),
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => format!("{e:#}"),
        };
        if start.elapsed() > timeout {
            return Err(unreachable(last));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
