//! `market-bench`: how fast one market instance serves its listing and vendor pages.
//!
//! Builds a market with 50 vendors and 500 listings (in memory, no chain needed for
//! reading), serves it on 127.0.0.1 from a single-threaded runtime (one core), and drives
//! it from another thread with keep-alive HTTP/1.1 connections asking HTML listing and
//! vendor pages in turn. Prints requests per second, latency percentiles and the
//! process's resident memory.
//!
//! ```text
//! cargo run --release -p market-sim --bin market-bench -- [--seconds 10] [--connections 32] [--serve]
//! ```
//! With `--serve` it only serves (printing the URL) for `--seconds`, for an external load
//! generator such as `wrk -t1 -c32 -d10s http://127.0.0.1:PORT/listing/1`.
//!
//! This binary is an edge: it reads the wall clock to measure latency.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use coin_sim::{EsploraClient, Wallet};
use market_sim::market::{MarketConfig, MarketService};
use serde_json::json;
use sim_core::clock::{SimClock, SimTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt as _;

const VENDORS: usize = 50;
const PER_VENDOR: usize = 10;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    seconds: u64,
    connections: usize,
    serve_only: bool,
}

fn args() -> Result<Args, Error> {
    let mut a = Args { seconds: 10, connections: 32, serve_only: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => a.seconds = it.next().ok_or("--seconds needs a value")?.parse()?,
            "--connections" => a.connections = it.next().ok_or("--connections needs a value")?.parse()?,
            "--serve" => a.serve_only = true,
            other => return Err(format!("unknown argument {other:?} (try --seconds N, --connections N, --serve)").into()),
        }
    }
    Ok(a)
}

async fn call(r: &axum::Router, path: &str, token: Option<&str>, body: serde_json::Value) -> Result<serde_json::Value, Error> {
    let mut req = Request::builder().method("POST").uri(path).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = r.clone().oneshot(req.body(Body::from(body.to_string()))?).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {}", String::from_utf8_lossy(&bytes)).into());
    }
    Ok(serde_json::from_slice(&bytes)?)
}

/// A market with 50 vendors (each with a real PGP key and feedback-free profile) and 500
/// listings, one photo per vendor.
async fn populated() -> Result<MarketService, Error> {
    let clock = SimClock::new(SimTime(1_772_352_000));
    let svc = MarketService::new(
        MarketConfig { name: "Bench Market".into(), ..MarketConfig::default() },
        rusqlite::Connection::open_in_memory()?,
        clock,
        sim_core::rng::stream(1, "bench"),
        Wallet::from_seed([1; 32]),
        EsploraClient::new(reqwest::Client::new(), "http://127.0.0.1:9"),
    )?;
    let r = svc.router();
    let payout = Wallet::from_seed([2; 32]).new_address().to_string();
    for v in 0..VENDORS {
        let name = format!("vendor_{v:02}");
        let tok = call(&r, "/api/register", None, json!({"username": name, "password": "pw"})).await?;
        let tok = tok["token"].as_str().ok_or("no token")?.to_string();
        let seed = [u8::try_from(v).unwrap_or(0); 32];
        let (key, _) = market_sim::market::pgp::generate_key(seed, &format!("{name} <{name}@mail.example>"))?;
        call(
            &r,
            "/api/vendor/shop",
            Some(&tok),
            json!({"bio": format!("Vendor {v}: <b>quality</b> & speed."), "pgp_key": key, "payout_address": payout}),
        )
        .await?;
        for l in 0..PER_VENDOR {
            let mut listing = json!({"title": format!("Item {l} of vendor {v}"), "category": format!("Category {}", l % 5),
                "description": "A fine product. ".repeat(20), "price_sat": 100_000 + l * 1000, "ships_from": "NL", "ships_to": "EU", "stock": 100});
            if l == 0 {
                listing["photo"] = json!({"width": 320, "height": 240});
            }
            call(&r, "/api/listings", Some(&tok), listing).await?;
        }
    }
    Ok(svc)
}

/// One keep-alive connection asking pages in turn until `until`; returns latencies.
async fn client(addr: std::net::SocketAddr, offset: usize, until: Instant) -> Result<Vec<Duration>, Error> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut lat = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut i = offset;
    while Instant::now() < until {
        let path = if i.is_multiple_of(2) {
            format!("/listing/{}", 1 + i % (VENDORS * PER_VENDOR))
        } else {
            format!("/vendor/vendor_{:02}", i % VENDORS)
        };
        i += 7;
        let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/html\r\n\r\n");
        let start = Instant::now();
        stream.write_all(req.as_bytes()).await?;
        // Read the head, then the body by Content-Length.
        let mut have = Vec::new();
        let (head_end, len) = loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err("connection closed".into());
            }
            have.extend_from_slice(&buf[..n]);
            if let Some(p) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&have[..p]).to_ascii_lowercase();
                if !head.starts_with("http/1.1 200") {
                    return Err(format!("{path}: {}", head.lines().next().unwrap_or_default()).into());
                }
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
                    .ok_or("no content-length")??;
                break (p + 4, len);
            }
        };
        while have.len() < head_end + len {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err("connection closed".into());
            }
            have.extend_from_slice(&buf[..n]);
        }
        lat.push(start.elapsed());
    }
    Ok(lat)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Error> {
    let a = args()?;
    // The server: one thread, one core.
    let server_rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (svc, listener) = server_rt.block_on(async {
        let svc = populated().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Ok::<_, Error>((svc, listener))
    })?;
    let addr = listener.local_addr()?;
    let router = svc.router();
    let server = std::thread::spawn(move || {
        server_rt.block_on(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
    });
    println!("market with {VENDORS} vendors and {} listings at http://{addr}/ (RSS {} KiB)", VENDORS * PER_VENDOR, rss_kib());
    if a.serve_only {
        std::thread::sleep(Duration::from_secs(a.seconds));
        println!("RSS after serving: {} KiB", rss_kib());
        return Ok(());
    }
    let load_rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let until = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let mut all: Vec<Duration> = load_rt.block_on(async {
        let tasks: Vec<_> = (0..a.connections).map(|c| tokio::spawn(client(addr, c, until))).collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        Ok::<_, Error>(all)
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default();
    println!(
        "{} requests in {elapsed:.1} s over {} connections: {:.0} requests/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        a.connections,
        all.len() as f64 / elapsed,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!("resident memory (server and load generator in one process): {} KiB", rss_kib());
    drop(server);
    Ok(())
}
