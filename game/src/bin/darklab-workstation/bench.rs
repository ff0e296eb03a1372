//! `--bench-frames N`: frame times over synthetic data — a 1,000-node money-flow graph
//! (half the frames on the explorer) and a 300-item evidence locker (the other half) —
//! with resident memory and the time from start to the first frame. Wall time is read
//! here, at the edge, for measurement only.

use std::io::Write;
use std::time::{Duration, Instant};

use bevy::app::AppExit;
use bevy::prelude::*;
use coin_sim::dto::{StatusDto, TxDto, VinDto, VoutDto};
use game::ledger::{ArtifactKind, Authority, EvidenceEntry, EvidenceId};
use game::workstation::Panel;
use sim_core::clock::SimTime;

use super::Trainee;

/// When the process started.
#[derive(Resource, Clone, Copy)]
pub struct Started(Instant);

impl Started {
    /// Now.
    #[allow(clippy::disallowed_methods)]
    pub fn now() -> Started {
        Started(Instant::now())
    }
}

/// Frame times collected so far.
#[derive(Resource)]
pub struct Bench {
    frames: u32,
    last: Option<Instant>,
    first_frame: Option<Duration>,
    explorer: Vec<f64>,
    locker: Vec<f64>,
}

impl Bench {
    /// A benchmark of `frames` frames.
    pub fn new(frames: u32) -> Bench {
        Bench { frames: frames.max(20), last: None, first_frame: None, explorer: Vec::new(), locker: Vec::new() }
    }
}

fn out(addr: String, value: u64) -> VoutDto {
    VoutDto {
        scriptpubkey: String::new(),
        scriptpubkey_asm: String::new(),
        scriptpubkey_type: "v0_p2wpkh".into(),
        scriptpubkey_address: Some(addr),
        value,
    }
}

/// Fills the graph (333 chained payments: 1,000 nodes) and the locker (300 items).
pub fn load_synthetic(trainee: Option<ResMut<Trainee>>) {
    let Some(mut t) = trainee else { return };
    let addr = |k: &str, i: u32| format!("bcrt1q{k}{i:0>36}");
    for i in 0..333u32 {
        let (Ok(txid), Ok(prev)) = (format!("{:064x}", i + 1).parse(), format!("{:064x}", i + 100_000).parse()) else { continue };
        let tx = TxDto {
            txid,
            version: 2,
            locktime: 0,
            vin: vec![VinDto {
                txid: prev,
                vout: 0,
                prevout: Some(out(addr("a", i), 90_000_000)),
                scriptsig: String::new(),
                scriptsig_asm: String::new(),
                witness: Vec::new(),
                is_coinbase: false,
                sequence: 0,
            }],
            vout: vec![out(addr("a", i + 1), 70_000_000 + u64::from(i)), out(addr("c", i), 10_000_000)],
            size: 0,
            weight: 0,
            fee: 0,
            status: StatusDto { confirmed: true, block_height: Some(i), block_hash: None, block_time: None },
        };
        t.ws.explorer.flow.add_tx(&tx);
    }
    t.ws.locker.entries = (0..300u64)
        .map(|i| EvidenceEntry {
            seq: i,
            id: EvidenceId(format!("E{}", i + 1)),
            kind: if i % 3 == 0 { ArtifactKind::ChainRecord } else { ArtifactKind::PageCapture },
            source: format!("http://silklane{i:0>40}.onion/listing/{i}"),
            method: "HTTP GET through the onion network".into(),
            obtained_by: "team-1 investigator 1".into(),
            authority: Authority::PublicSource,
            sim_time: SimTime(1_700_000_000 + i64::try_from(i).unwrap_or(0) * 60),
            real_time: String::new(),
            media_type: "application/json".into(),
            size: 1000 + i,
            content_hash: format!("{i:064x}"),
            prev_hash: String::new(),
            entry_hash: String::new(),
        })
        .collect();
    t.ws.panel = Panel::Explorer;
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn stats(name: &str, mut ms: Vec<f64>) -> String {
    if ms.is_empty() {
        return format!("{name}: no frames");
    }
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    let p99 = ms[((ms.len() as f64 * 0.99).ceil() as usize).saturating_sub(1).min(ms.len() - 1)];
    format!("{name}: frames {} mean {mean:.2} ms p99 {p99:.2} ms max {:.2} ms", ms.len(), ms[ms.len() - 1])
}

/// Runs last in every frame: records the frame's time, switches panels half-way, reports.
#[allow(clippy::disallowed_methods)]
pub fn measure(mut bench: ResMut<Bench>, started: Res<Started>, trainee: Option<ResMut<Trainee>>, mut exit: MessageWriter<AppExit>) {
    let now = Instant::now();
    let done = bench.explorer.len() + bench.locker.len();
    if let Some(last) = bench.last {
        // The first frames compile shaders and upload fonts: they are start-up, not steady state.
        if bench.first_frame.is_none() {
            bench.first_frame = Some(now.duration_since(started.0));
        }
        let ms = now.duration_since(last).as_secs_f64() * 1000.0;
        let half = bench.frames / 2;
        let panel = trainee.as_ref().map(|t| t.ws.panel);
        match panel {
            Some(Panel::Locker) => bench.locker.push(ms),
            _ => bench.explorer.push(ms),
        }
        if let Some(mut t) = trainee
            && u32::try_from(done).unwrap_or(u32::MAX) == half
        {
            t.ws.panel = Panel::Locker;
        }
    }
    bench.last = Some(now);
    if u32::try_from(done).unwrap_or(u32::MAX) >= bench.frames {
        let mut o = std::io::stdout().lock();
        let first = bench.first_frame.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        let explorer: Vec<f64> = bench.explorer.iter().skip(10).copied().collect();
        let _ = writeln!(o, "startup to first frame: {first:.0} ms");
        let _ = writeln!(o, "{}", stats("explorer (1,000-node money-flow graph)", explorer));
        let _ = writeln!(o, "{}", stats("locker (300 items)", bench.locker.clone()));
        let _ = writeln!(o, "rss: {} MB (peak {} MB)", rss_kb("VmRSS:") / 1024, rss_kb("VmHWM:") / 1024);
        super::exit(&mut exit);
    }
}
