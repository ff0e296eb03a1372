//! The world: every service of a scenario running on loopback, the chain, and the cast
//! acting on the simulated clock.
//!
//! [`World::build`] starts the explorer, each market and each exchange as real HTTP
//! services and names them on the [`network::DirectNetwork`]; [`World::run_until`]
//! moves the clock from event to event (a scripted step, a crowd member's wake-up from
//! the [`scheduler::Agenda`], or a block), performing each in order, so the same scenario
//! and seed give the same world. Fast-forward runs it to the world's end at once; a live
//! classroom runs it every tick up to where its pace (wall time × compression) allows.
//! Actors with active hours wait for their next window ([`roles::next_active`]); the
//! scenario's `population` adds generated crowds ([`population`]). Watchful members of the
//! cast (those with reactions) look for signs of an investigation every
//! `tip_offs.check_every` until the exercise's deadline ([`lookout`]) and react ([`react`]).

pub mod cast;
pub mod lookout;
pub mod network;
pub mod onion;
pub mod population;
pub mod react;
pub mod roles;
pub mod scheduler;
pub mod server;
mod sites;
pub mod tor_client;
pub mod truth;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bitcoin::Address;
use coin_sim::coinjoin::{Coordinator, CoordinatorService, RoundConfig};
use coin_sim::tumbler::{Tumbler, TumblerConfig, TumblerService};
use coin_sim::{Chain, ChainParams, EsploraClient, SharedChain, Wallet};
use sha2::{Digest, Sha256};
use sim_core::clock::{SimClock, SimDuration, SimTime};
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::ids::{ActorId, ProviderId};
use sim_core::rng;
use sim_core::scenario::{Action, ProviderKind, Scenario, SiteKind};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::exchange::{ExchangeConfig, ExchangeService};
use crate::market::{MarketConfig, MarketService};
use crate::web::mixer_front::{MixerConfig, MixerFront};
use cast::{ActorState, Directory, Stage};
use network::{DirectNetwork, Host, Party};
use truth::{ChronicleEntry, GroundTruth, SharedTruth};

/// Why a world could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The chain refused its set-up.
    #[error("chain: {0}")]
    Chain(String),
    /// A service could not start.
    #[error("{service}: {message}")]
    Service {
        /// Which service.
        service: String,
        /// Why.
        message: String,
    },
    /// The network could not be set up.
    #[error(transparent)]
    Network(#[from] network::NetworkError),
}

/// A running service: its name, its name on the simulated network and its real socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Service name (`market`, `explorer`, or the site/provider id).
    pub name: String,
    /// Its host name on the simulated network.
    pub host: String,
    /// Where it really listens.
    pub socket: SocketAddr,
}

impl ServiceInfo {
    /// The real URL (loopback socket), for tools and tests.
    pub fn url(&self) -> String {
        format!("http://{}", self.socket)
    }
    /// The URL parties of the world use (`http://<name>.onion`, `http://coinbay.example`).
    pub fn world_url(&self) -> String {
        format!("http://{}", self.host)
    }
}

/// How a provider's legal side is reached by the lab.
#[derive(Clone, Debug)]
pub struct ProviderDesk {
    /// Base URL on the simulated network.
    pub url: String,
    /// The credential with which the lab serves orders.
    pub legal_token: String,
    /// Kind of provider.
    pub kind: ProviderKind,
}

/// Counts describing a world.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WorldStats {
    /// Members of the cast.
    pub actors: usize,
    /// Blocks after genesis.
    pub blocks: u32,
    /// Transactions confirmed (coinbases excluded).
    pub transactions: usize,
    /// Listings on every market.
    pub listings: usize,
    /// Orders on every market.
    pub orders: usize,
    /// Facts of ground truth.
    pub facts: usize,
    /// Scripted actions carried out.
    pub actions_ok: usize,
    /// Scripted actions that failed.
    pub actions_failed: usize,
    /// Private messages on every market.
    pub messages: usize,
    /// Feedback left on every market.
    pub reviews: usize,
    /// Disputes opened on every market.
    pub disputes: usize,
}

/// A scenario's world, running.
pub struct World {
    scenario: Arc<Scenario>,
    seed: u64,
    clock: SimClock,
    chain: SharedChain,
    network: DirectNetwork,
    services: Vec<ServiceInfo>,
    directory: Directory,
    /// Every service that keeps records, by `site:<id>` / `provider:<id>`, for digests and stats.
    records: BTreeMap<String, Box<dyn Records>>,
    /// The world's tumblers: they pay out when their delays are due.
    tumblers: Vec<TumblerService>,
    posts: Vec<population::PostSender>,
    hosts: Vec<crate::providers::hosting::HostingService>,
    /// The world's CoinJoin coordinators: a round closes once enough have registered.
    coordinators: Vec<CoordinatorService>,
    /// Search engines and the clearnet sites they crawl.
    clearnet: sites::Clearnet,
    desks: BTreeMap<ProviderId, ProviderDesk>,
    /// The markets' machines (what a seizure images, and their status pages).
    servers: server::Servers,
    truth: SharedTruth,
    actors: Vec<ActorState>,
    /// Scripted steps and crowd wake-ups still to come.
    agenda: scheduler::Agenda,
    /// Each actor's part in a background crowd (`None` for the scenario's own cast).
    crowd: Vec<Option<population::Part>>,
    next_block: SimTime,
    miner: Address,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("scenario", &self.scenario.meta.id).field("seed", &self.seed).finish_non_exhaustive()
    }
}

/// Binds `ip:0` (or `ip:port`) and serves `router` until shutdown.
async fn serve(ip: IpAddr, router: axum::Router, mut stop: watch::Receiver<bool>) -> Result<(SocketAddr, JoinHandle<()>), WorldError> {
    let addr = SocketAddr::new(ip, 0);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| WorldError::Listen { addr, source })?;
    let socket = listener.local_addr().map_err(|source| WorldError::Listen { addr, source })?;
    // Answers go out at once: with Nagle's algorithm a response written in two pieces waits
    // for the client's delayed ACK (40 ms), which would dominate a world on loopback.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::trace!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let task = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let stopped = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(stopped).await {
            tracing::error!(%socket, error = %e, "service stopped with an error");
        }
    });
    Ok((socket, task))
}

/// What the cast has before the story starts: a home internet line leased by its ISP (the
/// ISP's own provisioning: its records say who had the home IP), and a mailbox at the
/// e-mail provider its address names — signed up from home, so the provider logs the home
/// IP, where the actor has a `MailboxFromHome` slip for it, else over Tor.
async fn provision(
    scenario: &Scenario,
    seed: u64,
    directory: &Directory,
    network: &DirectNetwork,
    actors: &[ActorState],
    truth: &SharedTruth,
) {
    let Ok(world_party) = network.party(None) else { return };
    for a in actors {
        let id = &a.actor.identity;
        if let Some(url) = id.isp.as_ref().and_then(|isp| directory.providers.get(isp)) {
            let client = world_party.clearnet();
            let sub = client
                .post(format!("{url}/api/subscribers"))
                .json(&serde_json::json!({"name": id.name, "address": id.address}))
                .send()
                .await;
            let account = match sub {
                Ok(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v.get("account").and_then(serde_json::Value::as_str).map(str::to_string)),
                Err(_) => None,
            };
            match account {
                Some(account) => {
                    let lease = client
                        .post(format!("{url}/api/connect"))
                        .json(&serde_json::json!({"account": account, "ip": id.home_ip}))
                        .send()
                        .await;
                    match lease {
                        Ok(r) if r.status().is_success() => truth.write().record(Fact::new(
                            FactKind::IpSubscriber,
                            Entity::Ip(id.home_ip.trim().to_string()),
                            Entity::Identity(a.actor.id.clone()),
                        )),
                        Ok(r) => tracing::warn!(actor = %a.actor.id, status = %r.status(), "home line not connected"),
                        Err(e) => tracing::warn!(actor = %a.actor.id, error = %e, "home line not connected"),
                    }
                }
                None => tracing::warn!(actor = %a.actor.id, "ISP subscription failed"),
            }
        }
        let Some((local, domain)) = id.email.split_once('@') else { continue };
        let mailbox = scenario.providers.iter().find(|p| p.kind == ProviderKind::Email && format!("{}.example", p.id) == domain);
        if let Some(url) = mailbox.and_then(|p| directory.providers.get(&p.id)) {
            // A password only the actor knows (from its own seeded stream), like any other.
            let password = hex::encode(rng::stream_seed(seed, &format!("mailbox-password:{}", a.actor.id)).get(..12).unwrap_or_default());
            let body = serde_json::json!({"username": local, "password": password, "display_name": id.name, "recovery_phone": id.phone});
            let from_home = mailbox.is_some_and(|m| {
                a.actor.slips.iter().any(|sl| matches!(&sl.kind, sim_core::scenario::SlipKind::MailboxFromHome(p) if p == &m.id))
            });
            let client = if from_home { a.clearnet() } else { a.onion() };
            match client.post(format!("{url}/api/signup")).json(&body).send().await {
                Ok(r) if r.status().is_success() && from_home => truth.write().record(Fact::new(
                    FactKind::LoggedInFrom,
                    Entity::Email(id.email.trim().to_ascii_lowercase()),
                    Entity::Ip(id.home_ip.trim().to_string()),
                )),
                Ok(r) if !r.status().is_success() => tracing::warn!(actor = %a.actor.id, status = %r.status(), "mailbox not opened"),
                Ok(_) => {}
                Err(e) => tracing::warn!(actor = %a.actor.id, error = %e, "mailbox not opened"),
            }
        }
    }
}

/// How many teams' evidence wallets the genesis block funds the lab's evidence fund for
/// (`coin.evidence_funds` each).
pub const EVIDENCE_TEAMS: u64 = 64;

/// The lab's evidence fund: a wallet derived from the world seed, which the genesis block
/// pays; only the lab uses it (it fills the teams' evidence wallets from it).
pub fn evidence_fund(seed: u64) -> Wallet {
    Wallet::from_seed(rng::stream_seed(seed, "wallet:lab-evidence-fund"))
}

/// Where the world's services keep their databases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    /// In memory: fast-forward runs and tests.
    Memory,
    /// One SQLite file per service in this folder, in WAL mode, made afresh when the world
    /// is built (the world is rebuilt from its scenario and seed, so old files are stale).
    Dir(std::path::PathBuf),
    /// As `Dir`, with each database's page cache held to `cache_kib` (SQLite's default is
    /// 2 MiB per connection): small boards run many worlds' databases at once.
    Lean {
        /// The folder.
        dir: std::path::PathBuf,
        /// Page cache per database, KiB.
        cache_kib: u32,
    },
}

impl Storage {
    /// Opens the database of service `name`.
    pub fn open(&self, name: &str) -> Result<rusqlite::Connection, WorldError> {
        match self {
            Storage::Memory => rusqlite::Connection::open_in_memory().map_err(|e| service_err(name, e)),
            Storage::Dir(dir) => Self::open_file(dir, name, None),
            Storage::Lean { dir, cache_kib } => Self::open_file(dir, name, Some(*cache_kib)),
        }
    }

    fn open_file(dir: &std::path::Path, name: &str, cache_kib: Option<u32>) -> Result<rusqlite::Connection, WorldError> {
        // The name becomes a file name: never let it leave the folder.
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(service_err(name, "not a plain name for a database file"));
        }
        std::fs::create_dir_all(dir).map_err(|e| service_err(name, e))?;
        let path = dir.join(format!("{name}.sqlite"));
        for suffix in ["", "-wal", "-shm"] {
            let old = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if old.exists() {
                std::fs::remove_file(&old).map_err(|e| service_err(name, e))?;
            }
        }
        let conn = rusqlite::Connection::open(&path).map_err(|e| service_err(name, e))?;
        // WAL: readers never block the writer; NORMAL loses nothing on a killed
        // process (only on power loss), and a world is rebuilt from its seed anyway.
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;").map_err(|e| service_err(name, e))?;
        if let Some(kib) = cache_kib {
            conn.execute_batch(&format!("PRAGMA cache_size=-{kib};")).map_err(|e| service_err(name, e))?;
        }
        Ok(conn)
    }
}

/// A service whose records go into the world's digest and statistics.
pub trait Records: Send + Sync {
    /// Every table, ordered, as JSON.
    fn records(&self) -> Result<serde_json::Value, String>;
}

impl Records for MarketService {
    fn records(&self) -> Result<serde_json::Value, String> {
        self.dump().map_err(|e| e.to_string())
    }
}

impl Records for TumblerService {
    fn records(&self) -> Result<serde_json::Value, String> {
        serde_json::to_value(self.lock().records()).map_err(|e| e.to_string())
    }
}

impl Records for CoordinatorService {
    fn records(&self) -> Result<serde_json::Value, String> {
        serde_json::to_value(self.lock().records()).map_err(|e| e.to_string())
    }
}

impl Records for ExchangeService {
    fn records(&self) -> Result<serde_json::Value, String> {
        self.dump().map_err(|e| e.to_string())
    }
}

/// Starts services on the world's IP and names them on the direct network.
struct Launcher {
    ip: IpAddr,
    stop: watch::Receiver<bool>,
    tasks: Vec<JoinHandle<()>>,
    network: DirectNetwork,
    services: Vec<ServiceInfo>,
}

impl Launcher {
    /// Serves `router` on a free port and names it `host` on the network.
    async fn launch(&mut self, name: &str, host: &str, onion: bool, router: axum::Router) -> Result<SocketAddr, WorldError> {
        let (socket, task) = serve(self.ip, router, self.stop.clone()).await?;
        self.tasks.push(task);
        self.network.add(Host { name: host.to_string(), socket, onion });
        self.services.push(ServiceInfo { name: name.to_string(), host: host.to_string(), socket });
        Ok(socket)
    }
    /// Whether a service of that name runs already.
    fn has(&self, name: &str) -> bool {
        self.services.iter().any(|s| s.name == name)
    }
}

fn service_err(service: &str, e: impl std::fmt::Display) -> WorldError {
    WorldError::Service { service: service.to_string(), message: e.to_string() }
}

impl World {
    /// Builds the world of `scenario` under `seed` with its services on `ip` (free ports),
    /// every service's database in memory (fast-forward, tests).
    pub async fn build(scenario: Arc<Scenario>, seed: u64, ip: IpAddr) -> Result<World, WorldError> {
        Self::build_with(scenario, seed, ip, &Storage::Memory).await
    }

    /// Builds the world with its services' databases where `storage` says.
    pub async fn build_with(scenario: Arc<Scenario>, seed: u64, ip: IpAddr, storage: &Storage) -> Result<World, WorldError> {
        let start = scenario.meta.start;
        let clock = SimClock::new(start);
        let (shutdown, stop) = watch::channel(false);

        // The cast's wallets exist before the chain: the genesis block pays their funds.
        let members = population::generate(&scenario, seed);
        let mut actors_spec: Vec<(sim_core::scenario::Actor, Option<population::Part>)> =
            scenario.cast.iter().map(|a| (a.clone(), None)).collect();
        actors_spec.extend(members.into_iter().map(|m| (m.actor, Some(m.part))));
        let wallets: BTreeMap<ActorId, Address> = actors_spec.iter().map(|(a, _)| (a.id.clone(), cast::actor_wallet(a, seed).1)).collect();
        let mut allocations = Vec::new();
        for f in &scenario.coin.initial_funds {
            if let Some(addr) = wallets.get(&f.actor) {
                allocations.push((addr.clone(), f.amount.0));
            }
        }
        // The crowd's buyers start with the money the scenario gives them.
        for (a, part) in &actors_spec {
            if let (Some(population::Part::Buyer { .. }), Some(pop), Some(addr)) = (part, &scenario.population, wallets.get(&a.id)) {
                allocations.push((addr.clone(), pop.buyers.funds.0));
            }
        }
        // The lab's evidence fund, from which it fills each team's evidence wallet.
        let mut fund = evidence_fund(seed);
        allocations.push((fund.new_address(), scenario.coin.evidence_funds.0.saturating_mul(EVIDENCE_TEAMS)));
        // Mixers start with a float of their own, so payouts need not be the deposit itself.
        let mut mixer_wallets = BTreeMap::new();
        for site in &scenario.sites {
            if let SiteKind::Mixer(m) = &site.kind {
                let mut w = Wallet::from_seed(rng::stream_seed(seed, &format!("wallet:mixer:{}", site.id)));
                allocations.push((w.new_address(), m.float.0));
                mixer_wallets.insert(site.id.clone(), w);
            }
        }
        let params = ChainParams {
            block_interval: scenario.coin.block_interval,
            pow_bits: scenario.coin.pow_bits,
            block_reward_sat: scenario.coin.block_reward.0,
            coinbase_maturity: scenario.coin.coinbase_maturity,
            ..ChainParams::default()
        };
        let interval = scenario.coin.block_interval.as_secs().max(1);
        // Genesis lies far enough back that its outputs are mature when the world starts.
        let premine = i64::from(scenario.coin.coinbase_maturity) + 1;
        let genesis_time = SimTime(start.secs() - premine * interval);
        let mut chain = Chain::new(params, genesis_time.as_block_time(), &allocations).map_err(|e| WorldError::Chain(e.to_string()))?;
        let mut miner_wallet = Wallet::from_seed(rng::stream_seed(seed, "wallet:miner"));
        let miner = miner_wallet.new_address();
        for k in 1..premine {
            chain.mine_block_at(SimTime(genesis_time.secs() + k * interval), &miner).map_err(|e| WorldError::Chain(e.to_string()))?;
        }
        let chain = coin_sim::shared(chain);

        let mut up = Launcher { ip, stop: stop.clone(), tasks: Vec::new(), network: DirectNetwork::new(), services: Vec::new() };

        // The explorer: a clearnet service everyone may query.
        let explorer_host = "explorer.darkcoin.example".to_string();
        up.launch("explorer", &explorer_host, false, coin_sim::explorer::router(chain.clone())).await?;
        let explorer_url = format!("http://{explorer_host}");
        // Services reach the explorer through their own client; it is on the network by now.
        let service_party = up.network.party(None)?;
        let explorer = || EsploraClient::new(service_party.clearnet().clone(), explorer_url.clone());

        let mut records: BTreeMap<String, Box<dyn Records>> = BTreeMap::new();
        let mut desks = BTreeMap::new();
        let mut directory = Directory { explorer: explorer_url.clone(), ..Directory::default() };
        let mut servers = server::Servers::default();
        for site in &scenario.sites {
            let SiteKind::Market(m) = &site.kind else { continue };
            let name = site.id.to_string();
            let db = storage.open(&name)?;
            // The operator's account: its persona's handle on this market, with a password
            // only the operator actor derives.
            let operator = m.operator.as_ref().and_then(|op| {
                let actor = scenario.cast.iter().find(|a| &a.id == op)?;
                let persona = actor.personas.iter().find(|p| p.site == site.id)?;
                Some((persona.handle.clone(), roles::operator_password(seed, op)))
            });
            let config = MarketConfig {
                name: site.name.clone(),
                commission_bps: m.commission_bps,
                feerate_sat_per_vb: scenario.coin.fee_rate,
                min_confirmations: m.min_confirmations,
                operator_username: operator.as_ref().map(|o| o.0.clone()),
                operator_password: operator.map(|o| o.1),
                ..MarketConfig::default()
            };
            let escrow = Wallet::from_seed(rng::stream_seed(seed, &format!("wallet:escrow:{}", site.id)));
            let market =
                MarketService::new(config, db, clock.clone(), rng::stream(seed, &format!("service:{}", site.id)), escrow, explorer())
                    .map_err(|e| service_err(&name, e))?;
            let host = onion::onion_host(onion::site_key_seed(seed, site.id.as_str()));
            let label = if up.has("market") { name.clone() } else { "market".to_string() };
            // The machine's status page, favicon and certificate; slips are planted on it
            // once the operator has rented the machine.
            let status = crate::web::status::StatusHandle::new(crate::web::status::StatusConfig::new(
                &host,
                start,
                &mut rng::stream(seed, &format!("status:{}", site.id)),
            ));
            let router = crate::web::status::mount_shared(market.router(), status.clone(), clock.clone());
            up.launch(&label, &host, true, router).await?;
            if let Some(clear) = server::shared_host(&scenario, &site.id) {
                let same = status.config().also_serving_as(clear);
                up.launch(clear, clear, false, crate::web::status::default_site(same, clock.clone())).await?;
                servers.clearnet_hosts.insert(site.id.clone(), format!("http://{clear}"));
            }
            servers.status.insert(site.id.clone(), status);
            servers.markets.insert(site.id.clone(), market.clone());
            directory.sites.insert(site.id.clone(), format!("http://{host}"));
            records.insert(format!("site:{}", site.id), Box::new(market));
        }
        for p in &scenario.providers {
            if p.kind != ProviderKind::Exchange {
                continue;
            }
            let name = p.id.to_string();
            let db = storage.open(&name)?;
            let legal_token = hex::encode(rng::stream_seed(seed, &format!("legal-token:{}", p.id)));
            let config = ExchangeConfig {
                name: p.name.clone(),
                legal_token: legal_token.clone(),
                min_confirmations: 1,
                retention: Some(p.retention),
            };
            let wallet = Wallet::from_seed(rng::stream_seed(seed, &format!("wallet:exchange:{}", p.id)));
            let exchange =
                ExchangeService::new(config, db, clock.clone(), rng::stream(seed, &format!("service:{}", p.id)), wallet, explorer())
                    .map_err(|e| service_err(&name, e))?;
            let host = format!("{}.example", p.id);
            let label = if up.has("exchange") { name.clone() } else { "exchange".to_string() };
            up.launch(&label, &host, false, exchange.router()).await?;
            directory.providers.insert(p.id.clone(), format!("http://{host}"));
            desks.insert(p.id.clone(), ProviderDesk { url: format!("http://{host}"), legal_token, kind: p.kind });
            records.insert(format!("provider:{}", p.id), Box::new(exchange));
        }
        let mut tumblers = Vec::new();
        let mut coordinators = Vec::new();
        for site in &scenario.sites {
            let host = onion::onion_host(onion::site_key_seed(seed, site.id.as_str()));
            let router = match &site.kind {
                SiteKind::Mixer(m) => {
                    let config = TumblerConfig {
                        fee_bps: m.fee_bps,
                        min_delay: m.min_delay,
                        max_delay: m.max_delay,
                        feerate_sat_per_vb: scenario.coin.fee_rate,
                        ..TumblerConfig::default()
                    };
                    let wallet = mixer_wallets
                        .remove(&site.id)
                        .unwrap_or_else(|| Wallet::from_seed(rng::stream_seed(seed, &format!("wallet:mixer:{}", site.id))));
                    let tumbler = Tumbler::new(config, wallet, rng::stream(seed, &format!("service:{}", site.id)));
                    let service = TumblerService::new(tumbler, clock.clone(), chain.clone());
                    tumblers.push(service.clone());
                    records.insert(format!("site:{}", site.id), Box::new(service.clone()));
                    // The front page a customer sees, in front of the tumbler's own API.
                    let front_config = MixerConfig {
                        name: site.name.clone(),
                        fee_bps: m.fee_bps,
                        min_delay: m.min_delay,
                        max_delay: m.max_delay,
                        letter_of_guarantee: format!(
                            "{} guarantees that coins sent to the deposit address of this order are paid to its destination, less {} bps.",
                            site.name, m.fee_bps
                        ),
                    };
                    let front = MixerFront::new(front_config, sites::tumbler_backend(service.clone(), clock.clone()), clock.clone())
                        .map_err(|e| service_err(site.id.as_str(), e))?;
                    coin_sim::tumbler::router(service).merge(front.router())
                }
                SiteKind::CoinJoin(c) => {
                    let config = RoundConfig {
                        denomination_sat: c.denomination.0,
                        min_participants: usize::try_from(c.min_participants.max(2)).unwrap_or(2),
                        max_participants: usize::try_from(c.min_participants.max(2)).unwrap_or(2).saturating_mul(4),
                        feerate_sat_per_vb: scenario.coin.fee_rate,
                        ..RoundConfig::default()
                    };
                    let coordinator = Coordinator::new(config, rng::stream(seed, &format!("service:{}", site.id)));
                    let service = CoordinatorService::new(coordinator, chain.clone());
                    coordinators.push(service.clone());
                    records.insert(format!("site:{}", site.id), Box::new(service.clone()));
                    coin_sim::coinjoin::router(service)
                }
                _ => continue,
            };
            up.launch(site.id.as_str(), &host, true, router).await?;
            directory.sites.insert(site.id.clone(), format!("http://{host}"));
        }
        let chain_client = explorer();
        let setting = sites::Setting { scenario: &scenario, seed, clock: &clock, storage, chain: &chain_client };
        let clearnet = sites::launch_web(&mut up, &setting, &mut directory, &mut records).await?;
        let hosts = sites::launch_providers(&mut up, &setting, &mut directory, &mut records, &mut desks).await?;
        let Launcher { tasks, network, services, .. } = up;

        let mut truth = GroundTruth::default();
        for a in &scenario.cast {
            truth.identities.insert(a.identity.name.trim().to_lowercase(), a.id.clone());
        }
        for (site, status) in &servers.status {
            let prints = status.config().fingerprints();
            truth.fingerprints.insert(prints.favicon_sha256, site.clone());
            truth.fingerprints.insert(prints.tls_certificate_sha256, site.clone());
        }
        let truth = SharedTruth::new(truth);

        // The cast, each with its own party on the network and its own random stream.
        let mut actors = Vec::new();
        let mut crowd = Vec::new();
        let mut agenda = scheduler::Agenda::new();
        for (i, (a, part)) in actors_spec.into_iter().enumerate() {
            let party = network.party(Some(&a.identity.home_ip))?;
            let mut jitter_rng = rng::stream(seed, &format!("schedule:{}", a.id));
            for (j, s) in a.script.iter().enumerate() {
                let jitter = rng::below(&mut jitter_rng, u64::try_from(s.jitter.as_secs()).unwrap_or(0).saturating_add(1));
                let at = start.plus(s.at).plus(SimDuration::secs(i64::try_from(jitter).unwrap_or(0)));
                agenda.push(at, scheduler::Event::Step { actor: i, step: j });
            }
            if part.is_none() && !a.reactions.is_empty() {
                let first = start.plus(scenario.tip_offs.check_every);
                agenda.push(
                    roles::next_active(first, a.identity.utc_offset_hours, a.habits.active_hours),
                    scheduler::Event::Watch { actor: i },
                );
            }
            if let (Some(_), Some(pop)) = (&part, &scenario.population) {
                // Crowd members turn up over the first hours, each in its own active hours.
                let first = start.plus(population::exp_wait(&mut jitter_rng, pop.vendors.check_in_every.min(pop.buyers.order_every)));
                agenda.push(
                    roles::next_active(first, a.identity.utc_offset_hours, a.habits.active_hours),
                    scheduler::Event::Wake { actor: i },
                );
            }
            actors.push(ActorState::new(a, seed, party));
            crowd.push(part);
        }
        // Strangers hand parcels in at every courier office during the story.
        let posts = population::post_senders(&scenario, seed);
        for (n, p) in posts.iter().enumerate() {
            agenda.push(p.at, scheduler::Event::Post { n });
        }
        provision(&scenario, seed, &directory, &network, &actors, &truth).await;
        server::rent_servers(&scenario, seed, &directory, &mut actors, &truth, &servers).await;
        server::index_shared_hosts(&truth, &servers, &clearnet.search, &network.party(None)?).await;

        Ok(World {
            next_block: start.plus(SimDuration::secs(interval)),
            scenario,
            seed,
            clock,
            chain,
            network,
            services,
            directory,
            records,
            tumblers,
            posts,
            hosts,
            coordinators,
            clearnet,
            desks,
            servers,
            truth,
            actors,
            agenda,
            crowd,
            miner,
            shutdown,
            tasks,
        })
    }

    /// The scenario.
    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.scenario
    }
    /// The world seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The simulated clock (shared with every service).
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }
    /// The chain.
    pub fn chain(&self) -> &SharedChain {
        &self.chain
    }
    /// The network's name table.
    pub fn network(&self) -> &DirectNetwork {
        &self.network
    }
    /// The running services.
    pub fn services(&self) -> &[ServiceInfo] {
        &self.services
    }
    /// Where sites, providers and the explorer are on the simulated network.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }
    /// The providers' legal desks (lab only).
    pub fn desks(&self) -> &BTreeMap<ProviderId, ProviderDesk> {
        &self.desks
    }
    /// The markets' machines: what a seizure images (lab only).
    pub fn servers(&self) -> &server::Servers {
        &self.servers
    }
    /// Ground truth (lab only).
    pub fn truth(&self) -> &SharedTruth {
        &self.truth
    }
    /// A party on this world's network (e.g. the lab's capture client).
    pub fn party(&self, client_ip: Option<&str>) -> Result<Party, WorldError> {
        Ok(self.network.party(client_ip)?)
    }
    /// When the cast's scripted activity ends.
    pub fn world_end(&self) -> SimTime {
        self.scenario.meta.start.plus(self.scenario.meta.world_duration)
    }

    fn chronicle(&self, actor: Option<ActorId>, text: String, ok: bool) {
        let time = self.clock.now();
        tracing::debug!(%time, actor = ?actor, ok, "{text}");
        self.truth.write().chronicle.push(ChronicleEntry { time, actor, text, ok });
    }

    /// Runs the world, event by event, until simulated time `end`; the clock ends at `end`.
    /// Cast events due before the next block come first; a block comes at its time.
    pub async fn run_until(&mut self, end: SimTime) -> Result<(), WorldError> {
        loop {
            let bound = if self.next_block <= end { self.next_block } else { end.plus(SimDuration::secs(1)) };
            if let Some((t, event)) = self.agenda.pop_before(bound) {
                self.clock.advance_to(t);
                match event {
                    scheduler::Event::Step { actor, step } => self.step(actor, step, t).await,
                    scheduler::Event::Wake { actor } => self.wake(actor).await,
                    scheduler::Event::Watch { actor } => self.watch(actor).await,
                    scheduler::Event::Post { n } => self.post(n).await,
                }
                continue;
            }
            if self.next_block > end {
                break;
            }
            self.clock.advance_to(self.next_block);
            self.mine_block()?;
            self.next_block = self.next_block.plus(self.scenario.coin.block_interval);
            self.services_after_block().await;
        }
        self.clock.advance_to(end);
        Ok(())
    }

    /// A scripted step: performed now, or put off to the actor's next active hours.
    async fn step(&mut self, actor: usize, step: usize, due: SimTime) {
        let Some(a) = self.actors.get(actor) else { return };
        let online = roles::next_active(due, a.actor.identity.utc_offset_hours, a.actor.habits.active_hours);
        if online > due {
            self.agenda.push(online, scheduler::Event::Step { actor, step });
            return;
        }
        self.perform(actor, step).await;
    }

    /// A crowd member's rounds, and its next wake-up (in its active hours).
    async fn wake(&mut self, actor: usize) {
        let Some(pop) = self.scenario.population.clone() else { return };
        let scenario = self.scenario.clone();
        let (Some(state), Some(Some(part))) = (self.actors.get_mut(actor), self.crowd.get_mut(actor)) else { return };
        let stage = Stage { scenario: &scenario, directory: &self.directory, truth: &self.truth, now: self.clock.now() };
        let rounds = population::wake(part, state, &stage, &pop).await;
        let id = state.id().clone();
        let next = self.clock.now().plus(rounds.next);
        let next = roles::next_active(next, state.actor.identity.utc_offset_hours, state.actor.habits.active_hours);
        for (text, ok) in rounds.done {
            self.chronicle(Some(id.clone()), text, ok);
        }
        if next < self.world_end() {
            self.agenda.push(next, scheduler::Event::Wake { actor });
        }
    }

    /// A stranger hands a parcel in at a courier office, through the courier's public API
    /// like anyone else; only a failure is chronicled.
    async fn post(&mut self, n: usize) {
        let Some(parcel) = self.posts.get(n) else { return };
        let Some(courier) = self.directory.providers.get(&parcel.courier) else { return };
        let done = match self.network.party(None) {
            Ok(party) => population::hand_in(&party, courier, parcel).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = done {
            let text = format!("{} could not hand in a parcel at {}: {e}", parcel.sender_name, parcel.office);
            self.chronicle(None, text, false);
        }
    }

    /// A watchful actor looks for signs of an investigation; each tip-off is recorded as
    /// ground truth and sets off the reactions it triggers. It looks again later, while it
    /// still acts, until the exercise's deadline.
    async fn watch(&mut self, actor: usize) {
        let scenario = self.scenario.clone();
        let now = self.clock.now();
        let Some(state) = self.actors.get_mut(actor) else { return };
        if state.vigil.absence().is_some() {
            return;
        }
        let stage = Stage { scenario: &scenario, directory: &self.directory, truth: &self.truth, now };
        let mut lines = Vec::new();
        for notice in lookout::look(state, &stage, now).await {
            let t = &notice.tip_off;
            lines.push((format!("{} noticed an investigation: {} (tip-off by {} on {})", t.persona, t.cause, t.by_handle, t.site), true));
            self.truth.write().tip_offs.push(notice.tip_off.clone());
            for j in notice.reactions {
                let Some(r) = state.actor.reactions.get(j).cloned() else { continue };
                match react::respond(state, &stage, &r.response, now).await {
                    Ok(text) => lines.push((text, true)),
                    Err(e) => lines.push((format!("could not react ({:?}): {e}", r.response), false)),
                }
            }
        }
        let id = state.id().clone();
        let still = state.vigil.absence().is_none();
        let next = roles::next_active(
            now.plus(scenario.tip_offs.check_every),
            state.actor.identity.utc_offset_hours,
            state.actor.habits.active_hours,
        );
        for (text, ok) in lines {
            self.chronicle(Some(id.clone()), text, ok);
        }
        let deadline = scenario.meta.start.plus(scenario.meta.world_duration).plus(scenario.meta.time_budget);
        if still && next < deadline {
            self.agenda.push(next, scheduler::Event::Watch { actor });
        }
    }

    /// What the world's own services do on each block: tumblers pay what is due, hosting
    /// providers record the invoices the chain shows paid, and CoinJoin rounds with enough
    /// participants close and are signed by their clients.
    async fn services_after_block(&mut self) {
        for h in &self.hosts {
            match h.watch_invoices().await {
                Ok(0) => {}
                Ok(n) => self.chronicle(None, format!("{} received payment for {n} invoice(s)", h.config().name), true),
                Err(e) => self.chronicle(None, format!("{} could not check its invoices: {e}", h.config().name), false),
            }
        }
        for t in &self.tumblers {
            let paid = t.tick();
            if !paid.is_empty() {
                self.chronicle(None, format!("a mixer paid out {} order(s)", paid.len()), true);
            }
        }
        for c in &self.coordinators {
            let ready = c.lock().current().map(|r| (r.id(), r.status())).filter(|(_, st)| st.participants >= st.min_participants);
            if let Some((id, st)) = ready.filter(|(_, st)| matches!(st.phase, coin_sim::coinjoin::Phase::Registration)) {
                match c.close_registration(id) {
                    Ok(txid) => {
                        self.chronicle(None, format!("CoinJoin round {id} closed with {} participants ({txid})", st.participants), true)
                    }
                    Err(e) => self.chronicle(None, format!("CoinJoin round {id} could not close: {e}"), false),
                }
            }
        }
        for i in 0..self.actors.len() {
            if !self.actors[i].has_pending_joins() {
                continue;
            }
            let id = self.actors[i].id().clone();
            for (text, ok) in self.actors[i].sign_pending_joins().await {
                self.chronicle(Some(id.clone()), text, ok);
            }
        }
    }

    async fn perform(&mut self, actor: usize, step: usize) {
        let scenario = self.scenario.clone();
        let Some(state) = self.actors.get_mut(actor) else { return };
        let Some(action) = state.actor.script.get(step).map(|s| s.action.clone()) else { return };
        let id = state.id().clone();
        if let Some(why) = state.vigil.absence() {
            // The script stops here: the chronicle says so.
            self.chronicle(Some(id), format!("did not {}: {why}", cast::phrase(&action)), false);
            return;
        }
        let stage = Stage { scenario: &scenario, directory: &self.directory, truth: &self.truth, now: self.clock.now() };
        let outcome = cast::perform(state, &stage, &action).await;
        if outcome.is_ok() && matches!(action, Action::Profile { .. } | Action::Paste { .. }) {
            self.recrawl().await;
        }
        match outcome {
            Ok(text) => self.chronicle(Some(id), text, true),
            Err(e) => self.chronicle(Some(id), format!("could not {}: {e}", cast::phrase(&action)), false),
        }
    }

    /// The search engines index the clearnet again after the cast changed a page there.
    async fn recrawl(&self) {
        let Ok(party) = self.network.party(None) else { return };
        for search in &self.clearnet.search {
            for site in &self.clearnet.crawled {
                if let Err(e) = search.crawl(party.client_for(site), site).await {
                    tracing::warn!(site, error = %e, "search engine could not crawl");
                }
            }
        }
    }

    /// Mines the next block and records the transfers it confirms as ground truth.
    fn mine_block(&mut self) -> Result<(), WorldError> {
        let now = self.clock.now();
        let mut chain = coin_sim::chain::lock(&self.chain);
        let hash = chain.mine_block_at(now, &self.miner).map_err(|e| WorldError::Chain(e.to_string()))?;
        let mut transfers = Vec::new();
        if let Some(block) = chain.block_by_hash(&hash) {
            for tx in block.txdata.iter().skip(1) {
                let prevouts: Vec<bitcoin::TxOut> = tx.input.iter().filter_map(|i| chain.prevout(&i.previous_output)).collect();
                // In a CoinJoin several owners pay into one transaction: only each owner's
                // own inputs really paid its own outputs.
                let owners: BTreeSet<usize> = prevouts.iter().filter_map(|o| self.owner_of(&o.script_pubkey)).collect();
                if owners.len() > 1 {
                    for o in &prevouts {
                        let Some(owner) = self.owner_of(&o.script_pubkey) else { continue };
                        let Ok(from) = Address::from_script(&o.script_pubkey, coin_sim::params::NETWORK) else { continue };
                        let own_outputs = tx
                            .output
                            .iter()
                            .filter(|out| self.owner_of(&out.script_pubkey) == Some(owner))
                            .filter_map(|out| Address::from_script(&out.script_pubkey, coin_sim::params::NETWORK).ok())
                            .filter(|to| *to != from);
                        for to in own_outputs {
                            transfers.push(Fact::new(
                                FactKind::Transfer,
                                Entity::Address(from.to_string()),
                                Entity::Address(to.to_string()),
                            ));
                        }
                    }
                    continue;
                }
                let from: Vec<String> = prevouts
                    .iter()
                    .filter_map(|o| Address::from_script(&o.script_pubkey, coin_sim::params::NETWORK).ok())
                    .map(|a| a.to_string())
                    .collect();
                for out in &tx.output {
                    if let Ok(to) = Address::from_script(&out.script_pubkey, coin_sim::params::NETWORK) {
                        for f in &from {
                            if *f != to.to_string() {
                                transfers.push(Fact::new(FactKind::Transfer, Entity::Address(f.clone()), Entity::Address(to.to_string())));
                            }
                        }
                    }
                }
            }
        }
        let txs = chain.block_by_hash(&hash).map(|b| b.txdata.len().saturating_sub(1)).unwrap_or(0);
        let height = chain.height();
        drop(chain);
        let mut truth = self.truth.write();
        for f in transfers {
            truth.record(f);
        }
        if txs > 0 {
            truth.chronicle.push(ChronicleEntry {
                time: now,
                actor: None,
                text: format!("block {height} confirmed {txs} transaction(s)"),
                ok: true,
            });
        }
        Ok(())
    }

    /// Counts that describe the world so far, for authors and benchmarks.
    pub fn stats(&self) -> Result<WorldStats, WorldError> {
        let chain = coin_sim::chain::lock(&self.chain);
        let blocks = chain.height();
        let transactions = (1..=blocks).filter_map(|h| chain.block_at(h)).map(|b| b.txdata.len().saturating_sub(1)).sum();
        drop(chain);
        let mut counts = BTreeMap::<&str, usize>::new();
        for (id, r) in self.records.iter().filter(|(id, _)| id.starts_with("site:")) {
            let dump = r.records().map_err(|e| service_err(id, e))?;
            for table in ["orders", "listings", "messages", "feedback", "disputes"] {
                *counts.entry(table).or_default() += dump.get(table).and_then(serde_json::Value::as_array).map_or(0, Vec::len);
            }
        }
        let count = |t: &str| counts.get(t).copied().unwrap_or(0);
        let truth = self.truth.read();
        let actions_ok = truth.chronicle.iter().filter(|c| c.actor.is_some() && c.ok).count();
        let actions_failed = truth.chronicle.iter().filter(|c| c.actor.is_some() && !c.ok).count();
        Ok(WorldStats {
            actors: self.actors.len(),
            blocks,
            transactions,
            listings: count("listings"),
            orders: count("orders"),
            facts: truth.facts.len(),
            actions_ok,
            actions_failed,
            messages: count("messages"),
            reviews: count("feedback"),
            disputes: count("disputes"),
        })
    }

    /// Every record a service keeps (`site:<id>` or `provider:<id>`), tables by name — what
    /// the world digest covers; for tests and benchmarks, never served to a team.
    pub fn records_of(&self, service: &str) -> Result<Option<serde_json::Value>, WorldError> {
        self.records.get(service).map(|r| r.records().map_err(|e| service_err(service, e))).transpose()
    }

    /// Which member of the cast owns an output script (by the addresses its wallet made).
    fn owner_of(&self, script: &bitcoin::Script) -> Option<usize> {
        self.actors.iter().position(|a| a.owns(script))
    }

    /// A digest of the whole world's state: chain, every service's records, ground truth.
    pub fn digest(&self) -> Result<[u8; 32], WorldError> {
        let mut h = Sha256::new();
        h.update(coin_sim::chain::lock(&self.chain).digest());
        for (id, r) in &self.records {
            h.update(id.as_bytes());
            h.update(serde_json::to_vec(&r.records().map_err(|e| service_err(id, e))?).map_err(|e| service_err(id, e))?);
        }
        let truth = self.truth.read();
        h.update(serde_json::to_vec(&truth.facts).map_err(|e| service_err("truth", e))?);
        h.update(serde_json::to_vec(&truth.chronicle).map_err(|e| service_err("truth", e))?);
        h.update(serde_json::to_vec(&truth.tip_offs).map_err(|e| service_err("truth", e))?);
        h.update(serde_json::to_vec(&truth.departures).map_err(|e| service_err("truth", e))?);
        Ok(h.finalize().into())
    }

    /// Stops every service and waits for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keeps_databases_inside_its_folder_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::Dir(dir.path().join("world"));
        for bad in ["../escape", "a/b", "", "x.sqlite"] {
            assert!(storage.open(bad).is_err(), "{bad:?} is refused");
        }
        let conn = storage.open("silk-lane").unwrap();
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert!(dir.path().join("world/silk-lane.sqlite").is_file());
        assert!(!dir.path().join("escape.sqlite").exists());
    }
}
