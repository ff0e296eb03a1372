//! What the fuzz targets share: a compact request format that libFuzzer mutates, and the
//! fixtures (a small chain, the shipped world with its lab) built once per process.
//!
//! A fuzz input for an HTTP target reads like a tiny HTTP request:
//!
//! ```text
//! POST /api/hints/h1
//! authorization: Bearer fuzz-head
//! content-type: application/json
//!
//! {"body": "bytes"}
//! ```
//!
//! The first line is the method and the path with its query; header lines follow until an
//! empty line; the rest is the body. Anything that is not a valid method, URI or header
//! is skipped, so the fuzzer spends its time on what the services really parse.

use std::cell::OnceCell;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use coin_sim::{Chain, ChainParams, SharedChain, Wallet};
use game::lab::{Lab, Member, Role};
use market_sim::world::{ServiceInfo, World};
use sim_core::clock::SimTime;
use tower::ServiceExt as _;

/// The head of unit of the fuzzed lab's team.
pub const HEAD: &str = "fuzz-head";
/// An investigator of the same team.
pub const INVESTIGATOR: &str = "fuzz-investigator";
/// The head of unit of a second team.
pub const OTHER_HEAD: &str = "fuzz-other-head";

/// Biggest response body read back (the lab and services cap their own bodies lower).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// A request decoded from fuzz bytes.
#[derive(Debug)]
pub struct FuzzRequest {
    /// GET, POST, …
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Decodes fuzz bytes as a request, or `None` when they do not form one.
pub fn decode_request(data: &[u8]) -> Option<FuzzRequest> {
    let (head, body) = match find(data, b"\n\n") {
        Some(i) => (&data[..i], data[i + 2..].to_vec()),
        None => (data, Vec::new()),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split('\n');
    let first = lines.next()?;
    let (method, path) = first.split_once(' ')?;
    let method = Method::from_bytes(method.as_bytes()).ok()?;
    if !path.starts_with('/') {
        return None;
    }
    let headers = lines.filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_string(), v.to_string()))).collect();
    Some(FuzzRequest { method, path: path.to_string(), headers, body })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl FuzzRequest {
    /// As an axum request for an in-process router (`None` if the URI or a header is invalid).
    pub fn to_axum(&self) -> Option<Request<Body>> {
        let mut b = Request::builder().method(self.method.clone()).uri(&self.path);
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let req = b.body(Body::from(self.body.clone())).ok()?;
        // The builder only checks lazily: a request whose parts are invalid has none.
        Some(req)
    }
}

/// Sends `req` through `router` in process and reads the whole answer. A panic anywhere
/// aborts the process (libFuzzer's panic hook), which is the crash the fuzzer looks for.
pub async fn oneshot(router: &Router, req: Request<Body>) -> u16 {
    let Ok(resp) = router.clone().oneshot(req).await;
    let status = resp.status().as_u16();
    let _ = axum::body::to_bytes(resp.into_body(), MAX_RESPONSE).await;
    status
}

/// A tokio runtime with two workers, as the services use.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap_or_else(|e| panic!("tokio runtime: {e}"))
}

/// A chain with a few mined blocks paying two wallets, for the explorer.
pub fn small_chain() -> SharedChain {
    let mut a = Wallet::from_seed([1; 32]);
    let mut b = Wallet::from_seed([2; 32]);
    let (a1, b1) = (a.new_address(), b.new_address());
    let t0 = 1_772_352_000;
    let chain = Chain::new(ChainParams::default(), t0, &[(a1.clone(), 50_000_000), (b1.clone(), 10_000_000)])
        .unwrap_or_else(|e| panic!("chain: {e}"));
    let shared = coin_sim::shared(chain);
    for n in 1..=3i64 {
        let _ = coin_sim::chain::lock(&shared).mine_block_at(SimTime(i64::from(t0) + n * 600), if n % 2 == 0 { &a1 } else { &b1 });
    }
    shared
}

/// The shipped world after the cast's activity, its services and a lab with two teams.
pub struct WorldFixture {
    /// The runtime the services run on (kept alive with them).
    pub rt: tokio::runtime::Runtime,
    /// The world (kept alive: dropping it would stop nothing, but it owns the clock).
    pub world: World,
    /// The lab's router (team tokens [`HEAD`], [`INVESTIGATOR`], [`OTHER_HEAD`]).
    pub lab: Router,
    /// The world's services.
    pub services: Vec<ServiceInfo>,
    /// An HTTP client for them.
    pub client: reqwest::Client,
    /// Where the teams' ledgers live.
    pub dir: tempfile::TempDir,
}

thread_local! {
    static WORLD: OnceCell<WorldFixture> = const { OnceCell::new() };
}

fn build_world() -> WorldFixture {
    let rt = runtime();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/careless-vendor.ron");
    let scenario = Arc::new(sim_core::scenario::load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false))));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (world, lab) = rt.block_on(async {
        let mut world = World::build(scenario, 7, IpAddr::from([127, 0, 0, 1])).await.unwrap_or_else(|e| panic!("world: {e}"));
        world.run_until(world.world_end()).await.unwrap_or_else(|e| panic!("world run: {e}"));
        let lab = Lab::new(&world).unwrap_or_else(|e| panic!("lab: {e}"));
        let a = vec![
            Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
            Member { name: "investigator".into(), role: Role::Investigator, token: INVESTIGATOR.into() },
        ];
        let b = vec![Member { name: "other head".into(), role: Role::HeadOfUnit, token: OTHER_HEAD.into() }];
        lab.add_team("team-a", a, &Lab::team_dir(dir.path(), "team-a")).await.unwrap_or_else(|e| panic!("team: {e}"));
        lab.add_team("team-b", b, &Lab::team_dir(dir.path(), "team-b")).await.unwrap_or_else(|e| panic!("team: {e}"));
        (world, lab)
    });
    let services = world.services().to_vec();
    let lab = game::lab::http::router(Arc::new(lab));
    WorldFixture { rt, world, lab, services, client: reqwest::Client::new(), dir }
}

/// Runs `f` with the world fixture, building it on first use.
pub fn with_world<R>(f: impl FnOnce(&WorldFixture) -> R) -> R {
    WORLD.with(|cell| f(cell.get_or_init(build_world)))
}

/// The answer to a registration captcha's question ("What is 7 + 12?"), as a person reads it.
pub fn answer_captcha(question: &str) -> Option<u32> {
    let expr = question.strip_prefix("What is ")?.strip_suffix('?')?;
    let mut words = expr.split_whitespace();
    let (a, op, b) = (words.next()?.parse::<u32>().ok()?, words.next()?, words.next()?.parse::<u32>().ok()?);
    match op {
        "+" => Some(a + b),
        "-" => a.checked_sub(b),
        "×" => Some(a * b),
        _ => None,
    }
}
