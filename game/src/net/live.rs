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
use super::torrc::Footprint;
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
    /// Deadline for the whole start (routers, then arti): `net up` never waits longer.
    pub timeout: Duration,
    /// Bootstrap arti and make it every party's onion transport.
    pub arti: bool,
    /// Boards carrying some routers (the world must then listen on the deployment's lab
    /// address, so boards reach its services); `None`: every router on this machine.
    pub deployment: Option<Deployment>,
    /// With a deployment: the port (on the lab address) serving the boards' configuration.
    pub board_port: u16,
    /// Tuned for small boards, or tor's defaults (measuring only).
    pub footprint: Footprint,
    /// A router to freeze (SIGSTOP) right after launch: a fault the bootstrap benchmark
    /// injects so the watchdog's recovery runs for real.
    pub freeze: Option<String>,
}

impl LiveOptions {
    /// Options for a network of this machine in `dir` on `127.<subnet>.0.n`, tuned,
    /// without arti or boards.
    pub fn local(dir: std::path::PathBuf, subnet: u8, timeout: Duration) -> LiveOptions {
        LiveOptions {
            dir,
            subnet,
            extra_relays: 0,
            timeout,
            arti: false,
            deployment: None,
            board_port: 0,
            footprint: Footprint::Tuned,
            freeze: None,
        }
    }
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
    #[allow(clippy::disallowed_methods)] // real tor runs on wall-clock time
    let start = std::time::Instant::now();
    let timeout = options.timeout;
    let joined = |e: tokio::task::JoinError| NetError::Io(std::io::Error::other(e.to_string()));
    let footprint = options.footprint;
    let state = tokio::task::spawn_blocking(move || TorNetwork::prepare(plan, footprint)).await.map_err(joined)??;
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
    let freeze = options.freeze.clone();
    let tor = tokio::task::spawn_blocking(move || -> Result<TorNetwork, NetError> {
        let mut tor = TorNetwork::launch(state, None)?;
        if let Some(nick) = freeze {
            std::thread::sleep(Duration::from_secs(1));
            tor.freeze(&nick)?;
        }
        tor.wait_bootstrapped(timeout)?;
        Ok(tor)
    })
    .await
    .map_err(joined)??;
    let mut live = LiveNetwork { tor, arti_socks: None, board_server, fleet, tasks };
    if options.arti {
        let net = private_network(live.tor.state());
        let left = timeout.saturating_sub(start.elapsed()).max(Duration::from_secs(30));
        let client = tokio::time::timeout(left, tor_client::bootstrap(&net, &options.dir.join("arti")))
            .await
            .map_err(|_| NetError::Arti(format!("no bootstrap within {} s of the routers being ready", left.as_secs())))?
            .map_err(|e| NetError::Arti(e.to_string()))?;
        let (addr, task) =
            tor_client::socks_bridge(client, SocketAddr::from(([127, 0, 0, 1], 0))).await.map_err(|e| NetError::Arti(e.to_string()))?;
        world.network().set_onion_transport(OnionTransport::Socks(addr));
        live.arti_socks = Some(addr);
        live.tasks.push(task);
    }
    Ok(live)
}

/// The largest page [`get_over_socks`] reads.
const MAX_PAGE: u64 = 16 * 1024 * 1024;

/// One `GET` of a plain-`http://` `url` through the SOCKS5 proxy at `socks` (the host name
/// resolved by the proxy, as `curl --socks5-hostname` does), within `timeout`; the body of
/// a 200 answer. Written out here because reqwest 0.13 built without TLS refuses SOCKS
/// proxies (its plain connector rejects the `socks5h://` scheme).
pub async fn get_over_socks(socks: SocketAddr, url: &str, timeout: Duration) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("bad port in {url}"))?),
        None => (authority, 80),
    };
    let len = u8::try_from(host.len()).map_err(|_| format!("host name too long: {host}"))?;
    let exchange = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(socks).await.map_err(|e| format!("SOCKS proxy {socks}: {e}"))?;
        let io = |e: std::io::Error| format!("SOCKS proxy {socks}: {e}");
        s.write_all(&[5, 1, 0]).await.map_err(io)?;
        let mut reply = [0u8; 2];
        s.read_exact(&mut reply).await.map_err(io)?;
        if reply != [5, 0] {
            return Err(format!("SOCKS proxy {socks} refused the greeting: {reply:?}"));
        }
        let mut request = vec![5, 1, 0, 3, len];
        request.extend_from_slice(host.as_bytes());
        request.extend_from_slice(&port.to_be_bytes());
        s.write_all(&request).await.map_err(io)?;
        let mut answer = [0u8; 10];
        s.read_exact(&mut answer).await.map_err(io)?;
        if answer[1] != 0 {
            return Err(format!("SOCKS proxy {socks} could not connect to {host}:{port} (reply {})", answer[1]));
        }
        let head = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: */*\r\n\r\n");
        s.write_all(head.as_bytes()).await.map_err(io)?;
        let mut response = Vec::new();
        s.take(MAX_PAGE).read_to_end(&mut response).await.map_err(io)?;
        let text = String::from_utf8_lossy(&response);
        let (status, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let code = status.split_whitespace().nth(1).unwrap_or("");
        if code != "200" {
            return Err(format!("HTTP {}", status.lines().next().unwrap_or("(no answer)")));
        }
        Ok(body.to_string())
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

/// Fetches `url` through the SOCKS proxy at `socks` until it answers 200 or `timeout`
/// passes (an onion service's descriptor takes a while to publish); returns the body.
/// `after_failure` runs after each failed attempt (see [`TorNetwork::forget_onion_failures`]).
#[allow(clippy::disallowed_methods)] // real tor runs on wall-clock time
pub async fn fetch_when_ready(
    socks: SocketAddr,
    url: &str,
    timeout: Duration,
    after_failure: &(dyn Fn() + Send + Sync),
) -> Result<String, NetError> {
    let host = url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or(url).to_string();
    let start = std::time::Instant::now();
    loop {
        let last = match get_over_socks(socks, url, Duration::from_secs(30)).await {
            Ok(body) => return Ok(body),
            Err(e) => e,
        };
        if start.elapsed() > timeout {
            return Err(NetError::Unreachable { host, seconds: timeout.as_secs(), message: last });
        }
        after_failure();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Fetches `url` through the network's own tor client until it answers or `timeout`
/// passes, making the client forget each failed onion lookup before it tries again.
pub async fn fetch_over_tor(tor: &TorNetwork, url: &str, timeout: Duration) -> Result<String, NetError> {
    let socks = tor.state().plan.socks_addr().ok_or_else(|| NetError::Plan("the network has no client router".into()))?;
    let forget = || {
        if let Err(e) = tor.forget_onion_failures() {
            tracing::debug!(error = %e, "NEWNYM through the client's control port failed");
        }
    };
    fetch_when_ready(socks, url, timeout, &forget).await
}
