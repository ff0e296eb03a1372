//! `darklab`: the command-line edge of DarkLab. Thin over the libraries: it parses
//! arguments, loads scenarios, runs exercises and prints; `anyhow` lives only here.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sim_core::scenario::{self, Scenario};

/// The commented starter scenario `darklab new` writes.
const STARTER: &str = include_str!("../../templates/starter.ron");

/// The shipped introductory scenario, used when no file is given.
const DEFAULT_SCENARIO: (&str, &str) = ("scenarios/careless-vendor.ron", include_str!("../../../scenarios/careless-vendor.ron"));

#[derive(Parser)]
#[command(name = "darklab", version, about = "Dark-market investigation training simulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a scenario: exit 0 with a summary when valid, 1 with diagnostics when not.
    Check {
        /// The scenario file (RON).
        file: PathBuf,
        /// Check only this variant (0: the scenario as written); by default the scenario and
        /// every declared variant are checked.
        #[arg(long)]
        variant: Option<u32>,
    },
    /// Fast-forward a whole exercise with the autopilot as one team and print the verdict.
    Demo {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Play this variant of the scenario (0: as written).
        #[arg(long, default_value_t = 0)]
        variant: u32,
    },
    /// Measure: `darklab bench lab` loads one live lab with scripted team members.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Write a commented starter scenario `NAME.ron` that passes `darklab check`.
    New {
        /// The scenario's id and file name (letters, digits, `-`, `_`).
        name: String,
        /// Its title.
        #[arg(long)]
        title: Option<String>,
        /// Folder to write it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Run a scenario's world and print its chronicle (who did what, when) and statistics.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Simulate as fast as the machine allows (the only mode of `run`; `serve` runs live).
        #[arg(long)]
        fast_forward: bool,
        /// Run this variant of the scenario (0: as written).
        #[arg(long, default_value_t = 0)]
        variant: u32,
    },
    /// Print generated documentation: `scenario` (the format reference, Markdown) or
    /// `schema` (the format's JSON Schema).
    Docs {
        /// `scenario` or `schema`.
        #[arg(value_parser = ["scenario", "schema"])]
        what: String,
    },
    /// Work with a team's evidence ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Run the world live for a classroom.
    Serve {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Address of the lab (port 0: any free port); other services use free ports on the same IP.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where team ledgers are kept.
        #[arg(long, default_value = "darklab-data")]
        data: PathBuf,
        /// Number of teams.
        #[arg(long, default_value_t = 1)]
        teams: u32,
        /// Serve this variant of the scenario (0: as written).
        #[arg(long, default_value_t = 0)]
        variant: u32,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Fast-forward a whole world on one core (or run it live with --live) and report its
    /// counts, wall and CPU time and peak memory.
    World {
        /// The scenario file (default: the shipped careless-vendor scenario; the busy one is
        /// scenarios/busy-market.ron).
        file: Option<PathBuf>,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Run live for this many wall seconds instead of fast-forwarding.
        #[arg(long)]
        live: Option<u64>,
        /// Compression of the live run (simulated seconds per real second).
        #[arg(long, default_value_t = 1000)]
        compression: u32,
    },
    /// Teams × members of scripted clients against one lab with the cast running live.
    Lab {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of teams.
        #[arg(long, default_value_t = 8)]
        teams: u32,
        /// Members (clients) per team.
        #[arg(long, default_value_t = 4)]
        members: usize,
        /// How long to run.
        #[arg(long, default_value_t = 300)]
        seconds: u64,
        /// Pause between one client's requests, in milliseconds.
        #[arg(long, default_value_t = 50)]
        think_ms: u64,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check every entry's hash, the chain and every artifact; name the first broken entry.
    Verify {
        /// The ledger's directory (holding ledger.jsonl and artifacts/).
        dir: PathBuf,
    },
}

/// Loads a scenario; on failure prints the diagnostics to stderr and returns `None`.
fn load(file: Option<&Path>) -> Option<Scenario> {
    let result = match file {
        Some(path) => scenario::load_file(path),
        None => scenario::load_str(DEFAULT_SCENARIO.0, DEFAULT_SCENARIO.1),
    };
    match result {
        Ok(s) => Some(s),
        Err(diags) => {
            let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
            eprint!("{}", diags.render(color));
            None
        }
    }
}

/// Variant `k` of a loaded scenario; `None` (after printing why) when it declares fewer.
fn pick_variant(s: Scenario, k: u32) -> Option<Scenario> {
    if k == 0 {
        return Some(s);
    }
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    if k > count {
        eprintln!("error: --variant {k}: the scenario declares {count} variant(s) (add or raise `variants: Some((count: N))`)");
        return None;
    }
    Some(scenario::variant::variant(&s, k))
}

/// Loads a scenario and picks a variant of it; `None` after printing why not.
fn load_variant(file: Option<&Path>, k: u32) -> Option<Scenario> {
    load(file).and_then(|s| pick_variant(s, k))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DARKLAB_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// The binary is the edge that prints; libraries never do.
#[allow(clippy::print_stdout)]
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { file, variant } => Ok(match load(Some(&file)) {
            Some(s) => match variant {
                None => {
                    print!("{}", scenario::check::summary(&s));
                    println!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Some(k) => match pick_variant(s, k) {
                    Some(v) => {
                        let mut summary = scenario::check::summary(&v);
                        // The variant's own summary would list the declared variants again.
                        if let Some(at) = summary.find("  variants ") {
                            summary.truncate(at);
                        }
                        print!("{summary}");
                        println!("{} (variant {k}): ok", file.display());
                        ExitCode::SUCCESS
                    }
                    None => ExitCode::FAILURE,
                },
            },
            None => ExitCode::FAILURE,
        }),
        Command::Ledger { command: LedgerCommand::Verify { dir } } => Ok(match game::ledger::verify_dir(&dir) {
            Ok(r) => {
                println!(
                    "{}: ok — {} entries ({} evidence, {} custody), {} artifacts re-hashed, head {}",
                    dir.display(),
                    r.entries,
                    r.evidence,
                    r.custody,
                    r.artifacts_checked,
                    r.head_hash
                );
                if let Some(bytes) = r.torn_tail {
                    println!(
                        "note: an unfinished last line ({bytes} bytes) from an interrupted write will be cut off when the lab reopens it"
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                ExitCode::FAILURE
            }
        }),
        Command::Bench { command: BenchCommand::World { file, seed, live, compression } } => {
            let Some(s) = load(file.as_deref()) else { return Ok(ExitCode::FAILURE) };
            // One thread: the world, its services and the cast share one core.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
            let counts = |st: &market_sim::world::WorldStats| {
                format!(
                    "actors {}, orders {}, transactions {}, blocks {}, messages {}, reviews {}, disputes {}, listings {}, actions {} ok / {} failed, facts {}",
                    st.actors,
                    st.orders,
                    st.transactions,
                    st.blocks,
                    st.messages,
                    st.reviews,
                    st.disputes,
                    st.listings,
                    st.actions_ok,
                    st.actions_failed,
                    st.facts
                )
            };
            let rss = |kib: Option<u64>| kib.map_or_else(|| "unknown".to_string(), |k| format!("{:.1} MB", k as f64 / 1024.0));
            if let Some(seconds) = live {
                let r = rt.block_on(game::bench::world_live(Arc::new(s), seed, compression, seconds)).context("the live run failed")?;
                let cpu = r.cpu_seconds.unwrap_or(f64::NAN);
                println!("live at {compression}x for {:.1} s: {} simulated s", r.seconds, r.simulated_seconds);
                println!("cpu {cpu:.2} s = {:.1} % of one core", 100.0 * cpu / r.seconds.max(1e-9));
                println!("{}", counts(&r.stats));
                println!("peak RSS {}", rss(r.peak_rss_kib));
                return Ok(ExitCode::SUCCESS);
            }
            let r = rt.block_on(game::bench::world_fast_forward(Arc::new(s), seed)).context("the fast-forward failed")?;
            println!(
                "built in {:.2} s; fast-forwarded {:.2} simulated days in {:.2} s wall ({:.0}x real time), cpu {:.2} s",
                r.build_seconds,
                r.simulated_seconds as f64 / 86_400.0,
                r.run_seconds,
                r.simulated_seconds as f64 / r.run_seconds.max(1e-9),
                r.cpu_seconds.unwrap_or(f64::NAN)
            );
            println!("{}", counts(&r.stats));
            println!("peak RSS {}", rss(r.peak_rss_kib));
            println!("world-digest {}", r.digest);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { command: BenchCommand::Lab { file, seed, teams, members, seconds, think_ms } } => {
            let Some(s) = load(file.as_deref()) else { return Ok(ExitCode::FAILURE) };
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            let data = std::env::temp_dir().join(format!("darklab-bench-{}", std::process::id()));
            let think = std::time::Duration::from_millis(think_ms);
            let report = rt.block_on(game::bench::lab_load(Arc::new(s), seed, teams, members, seconds, think, &data));
            let _ = std::fs::remove_dir_all(&data);
            let r = report.context("the load test failed")?;
            let [p50, p95, p99, max] = r.latency_ms;
            println!("clients {} ({teams} teams × {members}), {:.1} s", r.clients, r.seconds);
            println!("requests {} ({:.0}/s), errors {}", r.requests, r.throughput(), r.errors);
            println!("latency ms: p50 {p50:.2}  p95 {p95:.2}  p99 {p99:.2}  max {max:.2}");
            match r.peak_rss_kib {
                Some(kib) => println!("peak RSS {:.1} MB (world, lab and clients in one process)", kib as f64 / 1024.0),
                None => println!("peak RSS unknown (no /proc)"),
            }
            Ok(if r.errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::New { name, title, dir } => {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                eprintln!("error: `{name}` is not a scenario name: use letters, digits, `-` and `_`");
                return Ok(ExitCode::FAILURE);
            }
            let path = dir.join(format!("{name}.ron"));
            if path.exists() {
                eprintln!("error: {} already exists; choose another name or remove it", path.display());
                return Ok(ExitCode::FAILURE);
            }
            let title = title.unwrap_or_else(|| name.replace(['-', '_'], " "));
            let text = STARTER.replace("{{id}}", &name).replace("{{title}}", &title.replace('"', "'"));
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}; next: darklab check {}", path.display(), path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { file, seed, fast_forward, variant } => {
            if !fast_forward {
                eprintln!("error: `darklab run` needs --fast-forward; to run a world live for a class, use `darklab serve`");
                return Ok(ExitCode::FAILURE);
            }
            let Some(s) = load_variant(Some(&file), variant) else { return Ok(ExitCode::FAILURE) };
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            rt.block_on(run_world(s, seed))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Docs { what } => {
            if what == "schema" {
                println!("{}", serde_json::to_string_pretty(&scenario::reference::schema()).context("encoding the schema")?);
            } else {
                print!("{}", scenario::reference::markdown());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { file, seed, variant } => {
            let Some(s) = load_variant(file.as_deref(), variant) else { return Ok(ExitCode::FAILURE) };
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            rt.block_on(demo(s, seed))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { file, seed, listen, data, teams, variant } => {
            let Some(s) = load_variant(file.as_deref(), variant) else { return Ok(ExitCode::FAILURE) };
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            rt.block_on(game::serve::serve(Arc::new(s), seed, listen, &data, teams))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints a world's chronicle: one line per event.
fn print_chronicle(out: &mut impl Write, chronicle: &[market_sim::world::truth::ChronicleEntry]) -> std::io::Result<()> {
    for c in chronicle {
        let who = c.actor.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "world".into());
        writeln!(out, "{} {who:>8}: {}{}", c.time, c.text, if c.ok { "" } else { "  [FAILED]" })?;
    }
    Ok(())
}

async fn run_world(s: Scenario, seed: u64) -> anyhow::Result<()> {
    let title = s.meta.title.clone();
    let mut world =
        market_sim::world::World::build(Arc::new(s), seed, std::net::IpAddr::from([127, 0, 0, 1])).await.context("building the world")?;
    let end = world.world_end();
    let ran = world.run_until(end).await;
    let stats = world.stats();
    let digest = world.digest();
    let chronicle = world.truth().read().chronicle.clone();
    world.shutdown().await;
    ran.context("running the world")?;
    let stats = stats.context("counting the world")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "== {title} (seed {seed}), until {end} ==")?;
    print_chronicle(&mut out, &chronicle)?;
    writeln!(out, "\n-- Statistics --")?;
    writeln!(out, "actors {}  listings {}  orders {}", stats.actors, stats.listings, stats.orders)?;
    writeln!(out, "blocks {}  transactions {}  facts {}", stats.blocks, stats.transactions, stats.facts)?;
    writeln!(out, "actions {} ok, {} failed", stats.actions_ok, stats.actions_failed)?;
    writeln!(out, "world-digest: {}", hex::encode(digest.context("digesting the world")?))?;
    Ok(())
}

async fn demo(s: Scenario, seed: u64) -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("darklab-demo-{}-{seed}", std::process::id()));
    let title = s.meta.title.clone();
    let result = game::exercise::demo(Arc::new(s), seed, &data).await;
    let _ = std::fs::remove_dir_all(&data);
    let report = result.context("the demo exercise failed")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "== {title} (seed {seed}) ==")?;
    writeln!(out, "\n-- The world --")?;
    print_chronicle(&mut out, &report.chronicle)?;
    writeln!(out, "\n-- The investigation --")?;
    for line in &report.investigation {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "\n-- The verdict --")?;
    write!(out, "{}", report.verdict.render_text())?;
    writeln!(out, "\nworld: {} blocks, {} facts", report.blocks, report.facts)?;
    writeln!(out, "world-digest: {}", hex::encode(report.digest))?;
    Ok(())
}
