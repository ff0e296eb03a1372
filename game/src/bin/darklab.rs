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

/// Log filter when `DARKLAB_LOG` is unset. arti warns once a second while a fresh private
/// network has not yet voted its Guard and Exit flags (no usable relays, circuits refused);
/// that is the normal first half-minute of a bootstrap, and the watchdog reports a network
/// that really stays stuck, so arti's path-selection crates speak only of errors.
const DEFAULT_LOG: &str = "warn,tor_netdir=error,tor_circmgr=error,tor_guardmgr=error";

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
    /// Measure: `darklab bench lab` loads one live lab with scripted team members; `bench
    /// challenge` runs N team worlds live; `bench verdict` times the prosecutor.
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
        /// Number of teams (default: the deployment's `TeamWorlds(N)`, else 1).
        #[arg(long)]
        teams: Option<u32>,
        /// Serve this variant of the scenario (0: as written); with `--challenge`, each team
        /// gets its own variant instead.
        #[arg(long, default_value_t = 0)]
        variant: u32,
        /// Challenge mode: one isolated world per team, a submission deadline, verdicts held
        /// back until the instructor announces the results, a live scoreboard at `/scoreboard`.
        #[arg(long)]
        challenge: bool,
        /// With `--challenge`: when cases lock, after the scenario's start (e.g. `17d`;
        /// default: the end of the scenario's time budget).
        #[arg(long, requires = "challenge")]
        deadline: Option<sim_core::clock::SimDuration>,
        /// How onion services are reached: `direct` (names mapped to local sockets) or `tor`
        /// (a private network of real tor daemons; the cast and the lab use arti).
        #[arg(long, value_parser = ["direct", "tor"], default_value = "direct")]
        network: String,
        /// Tor mode: routers listen on 127.<subnet>.0.<n>.
        #[arg(long, default_value_t = 77)]
        subnet: u8,
        /// Tor mode on boards: the deployment file (which board carries the lab, which
        /// routers); `--listen` must be the lab board's address. Boards run `darklab board`.
        #[arg(long, requires = "network")]
        deploy: Option<PathBuf>,
        /// With --deploy: the port on the lab address where boards fetch their configuration.
        #[arg(long, default_value_t = 8099)]
        board_port: u16,
        /// How much the classroom may hold: `laptop`, `pi4` or `pi3` (database caches,
        /// threads, malloc arenas; see docs/boards.md).
        #[arg(long, default_value = "laptop")]
        footprint: game::footprint::Footprint,
    },
    /// The onion network in tor mode: a private network of real tor daemons.
    Net {
        #[command(subcommand)]
        command: NetCommand,
    },
    /// Run this board's routers of a deployed network: fetch their keys from the lab
    /// (`darklab serve|net up --deploy`), start them, report in, run until Ctrl-C; when the
    /// lab says so (the board was missing, its routers moved), fetch them again.
    Board {
        /// The lab's board configuration URL, e.g. http://10.0.0.1:8099.
        #[arg(long)]
        lab: String,
        /// This board's id in the deployment file.
        #[arg(long)]
        id: String,
        /// Print a systemd unit that runs this board (with these --lab and --id; its data in
        /// /var/lib/darklab-board) and exit.
        #[arg(long)]
        print_unit: bool,
        /// Where the board keeps its routers' data.
        #[arg(long, default_value = "darklab-board")]
        dir: PathBuf,
        /// Seconds allowed for fetching the configuration and for bootstrapping.
        #[arg(long, default_value_t = 240)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
enum NetCommand {
    /// Start the scenario's world and its private Tor network; runs until Ctrl-C or `net down`.
    Up {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Show the network map (relays with flags and bandwidth, onion services) from the live consensus.
    Status {
        /// The network's folder.
        #[arg(long, default_value = "darklab-data/net")]
        dir: PathBuf,
        /// Print the map as JSON (what the instructor's console draws).
        #[arg(long)]
        json: bool,
    },
    /// Stop the network started by `net up` in this folder.
    Down {
        /// The network's folder.
        #[arg(long, default_value = "darklab-data/net")]
        dir: PathBuf,
    },
    /// Measure: time from start to the first market page over the onion network, the
    /// network's resident memory, and onion vs direct latency. Adds a forum and a mixer
    /// as onion services and relays up to `--relays` when the scenario has fewer.
    Bench {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        #[command(flatten)]
        net: NetArgs,
        /// Relays in the measured network.
        #[arg(long, default_value_t = 6)]
        relays: u32,
        /// Market page fetches per mode for the latency comparison.
        #[arg(long, default_value_t = 20)]
        fetches: u32,
        /// Seconds the network runs after the fetches before its memory is read.
        #[arg(long, default_value_t = 40)]
        settle: u64,
        /// Also start the same network with tor's default settings (no GeoIP off, no arena
        /// limits, no small-board torrc lines) and show its memory beside the tuned one's.
        #[arg(long)]
        untuned: bool,
        /// Instead: this many consecutive cold bootstraps (fresh keys and world each), with
        /// p50, p95 and maximum time to the first market page and the watchdog's recoveries.
        #[arg(long)]
        cold: Option<u32>,
        /// With --cold: freeze this router (SIGSTOP) right after each launch, so the
        /// watchdog's recovery runs for real.
        #[arg(long, requires = "cold")]
        freeze: Option<String>,
    },
}

/// Where and how a private network runs.
#[derive(clap::Args)]
struct NetArgs {
    /// World seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The network's folder (torrcs, data directories, logs).
    #[arg(long, default_value = "darklab-data/net")]
    dir: PathBuf,
    /// Routers listen on 127.<subnet>.0.<n>.
    #[arg(long, default_value_t = 77)]
    subnet: u8,
    /// Relays to add to the scenario's.
    #[arg(long, default_value_t = 0)]
    extra_relays: u32,
    /// Seconds allowed for bootstrapping.
    #[arg(long, default_value_t = 240)]
    timeout: u64,
    /// Also bootstrap arti-client on the network and route the world's onion traffic through it.
    #[arg(long)]
    arti: bool,
    /// Deployment file (RON): which board carries which routers; boards run `darklab board`.
    #[arg(long)]
    deploy: Option<PathBuf>,
    /// With --deploy: the port on the lab address where boards fetch their configuration.
    #[arg(long, default_value_t = 8099)]
    board_port: u16,
}

impl NetArgs {
    /// The network's options; `None` after printing a deployment file's diagnostics.
    fn options(&self, s: &Scenario) -> Option<game::net::live::LiveOptions> {
        let deployment = match self.deploy.as_deref() {
            Some(path) => Some(load_deployment(path, s, self.extra_relays)?),
            None => None,
        };
        Some(game::net::live::LiveOptions {
            dir: self.dir.clone(),
            subnet: self.subnet,
            extra_relays: self.extra_relays,
            timeout: std::time::Duration::from_secs(self.timeout),
            arti: self.arti,
            deployment,
            board_port: self.board_port,
            footprint: game::net::torrc::Footprint::Tuned,
            freeze: None,
        })
    }
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
    /// A challenge: one world per team with its cast live, at a clock compression; resident
    /// memory, CPU, and whether every world keeps up with the shared clock.
    Challenge {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of teams (one world each).
        #[arg(long, default_value_t = 16)]
        teams: u32,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 1000)]
        compression: u32,
        /// How long to run at that compression.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Run as `darklab serve --footprint` would (`laptop`, `pi4`, `pi3`) and check the
        /// peak against its memory budget (exit 1 when over).
        #[arg(long, default_value = "laptop")]
        footprint: game::footprint::Footprint,
    },
    /// Exactly one simulated hour of a challenge, headless and unpaced: every team's world
    /// and lab built, then run one hour of the clock (`scripts/callgrind` counts its
    /// instructions).
    Hour {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of teams (one world each).
        #[arg(long, default_value_t = 16)]
        teams: u32,
    },
    /// The prosecutor's time on a case of many suspect claims over a real investigated world.
    Verdict {
        /// The scenario file (default: the shipped careless-vendor scenario).
        file: Option<PathBuf>,
        /// World seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Suspect claims in the case.
        #[arg(long, default_value_t = 50)]
        claims: usize,
        /// Verdicts to time.
        #[arg(long, default_value_t = 200)]
        iterations: u32,
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

/// Reads and checks a deployment file for `s`'s network; `None` after printing its
/// located diagnostics.
fn load_deployment(path: &Path, s: &Scenario, extra_relays: u32) -> Option<game::net::deploy::Deployment> {
    let routers = game::net::NetPlan::router_names(&s.network, extra_relays);
    match game::net::deploy::Deployment::load(path, &routers) {
        Ok(d) => Some(d),
        Err(diags) => {
            eprint!("{}", diags.render(std::io::IsTerminal::is_terminal(&std::io::stderr())));
            None
        }
    }
}

/// Loads a scenario and picks a variant of it; `None` after printing why not.
fn load_variant(file: Option<&Path>, k: u32) -> Option<Scenario> {
    load(file).and_then(|s| pick_variant(s, k))
}

/// Writes to standard output. A reader that stops reading (`darklab check FILE | head`)
/// ends the program quietly with the status a shell gives a tool killed by SIGPIPE, where
/// `print!` would panic: Rust ignores SIGPIPE so that the servers' socket writes fail with
/// an error instead of killing the process, and that must stay so.
macro_rules! out {
    ($($arg:tt)*) => { emit(format_args!($($arg)*)) };
}

/// [`out!`] with a newline.
macro_rules! outln {
    () => { emit(format_args!("\n")) };
    ($($arg:tt)*) => { emit(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Where [`out!`] writes.
fn emit(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DARKLAB_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(arenas) = cli.footprint().malloc_arena_max() {
        tune_malloc(arenas);
    }
    match run(cli) {
        Ok(code) => code,
        // The reader of a long report (`run --fast-forward | head`) went away: as `out!`.
        Err(e) if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)) => {
            ExitCode::from(141)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

impl Cli {
    /// The footprint the command runs under.
    fn footprint(&self) -> game::footprint::Footprint {
        match &self.command {
            Command::Serve { footprint, .. } | Command::Bench { command: BenchCommand::Challenge { footprint, .. } } => *footprint,
            _ => game::footprint::Footprint::Laptop,
        }
    }
}

/// glibc reads `MALLOC_ARENA_MAX` only when a process starts: when it is not set, run this
/// same command again with it (the process is replaced; on failure it carries on untuned).
fn tune_malloc(arenas: u32) {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("MALLOC_ARENA_MAX", arenas.to_string()).exec();
    tracing::warn!(error = %err, "could not restart with MALLOC_ARENA_MAX; running with glibc's default arenas");
}

// The binary is the edge that prints; libraries never do.
#[allow(clippy::print_stdout)]
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { file, variant } => Ok(match load(Some(&file)) {
            Some(s) => match variant {
                None => {
                    out!("{}", scenario::check::summary(&s));
                    outln!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Some(k) => match pick_variant(s, k) {
                    Some(v) => {
                        let mut summary = scenario::check::summary(&v);
                        // The variant's own summary would list the declared variants again.
                        if let Some(at) = summary.find("  variants ") {
                            summary.truncate(at);
                        }
                        out!("{summary}");
                        outln!("{} (variant {k}): ok", file.display());
                        ExitCode::SUCCESS
                    }
                    None => ExitCode::FAILURE,
                },
            },
            None => ExitCode::FAILURE,
        }),
        Command::Ledger { command: LedgerCommand::Verify { dir } } => Ok(match game::ledger::verify_dir(&dir) {
            Ok(r) => {
                outln!(
                    "{}: ok — {} entries ({} evidence, {} custody), {} artifacts re-hashed, head {}",
                    dir.display(),
                    r.entries,
                    r.evidence,
                    r.custody,
                    r.artifacts_checked,
                    r.head_hash
                );
                if let Some(bytes) = r.torn_tail {
                    outln!(
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
                outln!("live at {compression}x for {:.1} s: {} simulated s", r.seconds, r.simulated_seconds);
                outln!("cpu {cpu:.2} s = {:.1} % of one core", 100.0 * cpu / r.seconds.max(1e-9));
                outln!("{}", counts(&r.stats));
                outln!("peak RSS {}", rss(r.peak_rss_kib));
                return Ok(ExitCode::SUCCESS);
            }
            let r = rt.block_on(game::bench::world_fast_forward(Arc::new(s), seed)).context("the fast-forward failed")?;
            outln!(
                "built in {:.2} s; fast-forwarded {:.2} simulated days in {:.2} s wall ({:.0}x real time), cpu {:.2} s",
                r.build_seconds,
                r.simulated_seconds as f64 / 86_400.0,
                r.run_seconds,
                r.simulated_seconds as f64 / r.run_seconds.max(1e-9),
                r.cpu_seconds.unwrap_or(f64::NAN)
            );
            outln!("{}", counts(&r.stats));
            outln!("peak RSS {}", rss(r.peak_rss_kib));
            outln!("world-digest {}", r.digest);
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
            outln!("clients {} ({teams} teams × {members}), {:.1} s", r.clients, r.seconds);
            outln!("requests {} ({:.0}/s), errors {}", r.requests, r.throughput(), r.errors);
            outln!("latency ms: p50 {p50:.2}  p95 {p95:.2}  p99 {p99:.2}  max {max:.2}");
            match r.peak_rss_kib {
                Some(kib) => outln!("peak RSS {:.1} MB (world, lab and clients in one process)", kib as f64 / 1024.0),
                None => outln!("peak RSS unknown (no /proc)"),
            }
            Ok(if r.errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Bench { command: BenchCommand::Challenge { file, seed, teams, compression, seconds, footprint } } => {
            let Some(s) = load(file.as_deref()) else { return Ok(ExitCode::FAILURE) };
            let rt = footprint.runtime().context("starting the async runtime")?;
            let data = std::env::temp_dir().join(format!("darklab-bench-challenge-{}", std::process::id()));
            let report =
                rt.block_on(game::challenge::bench::challenge_load(Arc::new(s), seed, teams, compression, seconds, &data, footprint));
            let _ = std::fs::remove_dir_all(&data);
            let r = report.context("the challenge run failed")?;
            let mb = |k: Option<u64>| k.map_or_else(|| "unknown".to_string(), |k| format!("{:.1} MB", k as f64 / 1024.0));
            outln!("teams {} (one world each), built in {:.1} s", r.teams, r.build_seconds);
            outln!("RSS after build {}, at the end {}, peak {}", mb(r.rss_built_kib), mb(r.rss_end_kib), mb(r.peak_rss_kib));
            match r.cpu_seconds {
                Some(cpu) => outln!(
                    "CPU {cpu:.1} s over {:.1} s at {compression}x = {:.0}% of one core",
                    r.seconds,
                    100.0 * cpu / r.seconds.max(f64::EPSILON)
                ),
                None => outln!("CPU unknown (no /proc)"),
            }
            let lag = r.slowest.map(|t| r.target.since(t));
            outln!(
                "shared clock at {}; slowest world at {} (behind by {})",
                r.target,
                r.slowest.map_or_else(|| "unknown".into(), |t| t.to_string()),
                lag.map_or_else(|| "unknown".into(), |d| d.to_string())
            );
            match r.catch_up_seconds {
                Some(s) => outln!("clock then held: every world caught up with it in {s:.1} s (RSS and peak measured after)"),
                None => outln!("clock then held: some world still behind it after the bench's wait (RSS and peak measured anyway)"),
            }
            let arenas = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "default".into());
            match (footprint.budget_mib(), r.peak_rss_kib) {
                (Some(budget), Some(peak)) => {
                    let within = peak / 1024 <= budget;
                    outln!(
                        "footprint {footprint} (MALLOC_ARENA_MAX {arenas}): peak {:.1} MB of a {budget} MB budget: {}",
                        peak as f64 / 1024.0,
                        if within { "within" } else { "OVER" }
                    );
                    Ok(if within { ExitCode::SUCCESS } else { ExitCode::FAILURE })
                }
                _ => {
                    outln!("footprint {footprint} (MALLOC_ARENA_MAX {arenas}): no budget");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Bench { command: BenchCommand::Hour { file, seed, teams } } => {
            let Some(s) = load(file.as_deref()) else { return Ok(ExitCode::FAILURE) };
            // One thread, as `bench world`: the count is the work, not the scheduling.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
            let data = std::env::temp_dir().join(format!("darklab-bench-hour-{}", std::process::id()));
            let report = rt.block_on(game::challenge::bench::simulated_hour(Arc::new(s), seed, teams, &data));
            let _ = std::fs::remove_dir_all(&data);
            let r = report.context("the simulated hour failed")?;
            let mb = r.peak_rss_kib.map_or_else(|| "unknown".to_string(), |k| format!("{:.1} MB", k as f64 / 1024.0));
            outln!("teams {} (one world each): built in {:.2} s", r.teams, r.build_seconds);
            outln!("one simulated hour in {:.2} s wall: {} actions, {} blocks; peak RSS {mb}", r.run_seconds, r.actions, r.blocks);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { command: BenchCommand::Verdict { file, seed, claims, iterations } } => {
            let Some(s) = load(file.as_deref()) else { return Ok(ExitCode::FAILURE) };
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            let data = std::env::temp_dir().join(format!("darklab-bench-verdict-{}", std::process::id()));
            let timing = rt.block_on(game::challenge::bench::verdict_timing(Arc::new(s), seed, claims, iterations, &data));
            let _ = std::fs::remove_dir_all(&data);
            let t = timing.context("the verdict timing failed")?;
            outln!("case of {} claims citing {} evidence items, score {}", t.claims, t.cited, t.score);
            outln!("verdict: mean {:.3} ms, slowest {:.3} ms over {} runs", t.mean_ms, t.max_ms, t.iterations);
            outln!(
                "dossier (the lab's checks of every cited item before the verdict): mean {:.3} ms, slowest {:.3} ms",
                t.dossier_mean_ms,
                t.dossier_max_ms
            );
            Ok(ExitCode::SUCCESS)
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
            outln!("wrote {}; next: darklab check {}", path.display(), path.display());
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
                outln!("{}", serde_json::to_string_pretty(&scenario::reference::schema()).context("encoding the schema")?);
            } else {
                out!("{}", scenario::reference::markdown());
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
        Command::Serve {
            file,
            seed,
            listen,
            data,
            teams,
            variant,
            challenge,
            deadline,
            network,
            subnet,
            deploy,
            board_port,
            footprint,
        } => {
            if challenge && variant != 0 {
                eprintln!("error: --variant does not apply to --challenge: team K plays variant K of the scenario's declared variants");
                return Ok(ExitCode::FAILURE);
            }
            if challenge && network == "tor" {
                eprintln!("error: --network tor serves one world; a challenge's team worlds run in direct mode");
                return Ok(ExitCode::FAILURE);
            }
            let Some(s) = load_variant(file.as_deref(), variant) else { return Ok(ExitCode::FAILURE) };
            let deployment = match deploy.as_deref() {
                Some(path) => {
                    let Some(d) = load_deployment(path, &s, 0) else { return Ok(ExitCode::FAILURE) };
                    if network != "tor" {
                        eprintln!("error: --deploy spreads the onion network over boards: add --network tor");
                        return Ok(ExitCode::FAILURE);
                    }
                    if listen.ip() != std::net::IpAddr::from(d.lab()) {
                        eprintln!(
                            "error: --listen {}: the deployment puts the lab at {}; listen there (e.g. --listen {}:8080) so the boards reach the world",
                            listen.ip(),
                            d.lab(),
                            d.lab()
                        );
                        return Ok(ExitCode::FAILURE);
                    }
                    Some(d)
                }
                None => None,
            };
            let teams = teams.or_else(|| deployment.as_ref().and_then(|d| d.team_worlds())).unwrap_or(1);
            let net = (network == "tor").then(|| game::net::live::LiveOptions {
                arti: true,
                deployment,
                board_port,
                ..game::net::live::LiveOptions::local(
                    data.join(format!("{}-seed{seed}", s.meta.id)).join("net"),
                    subnet,
                    std::time::Duration::from_secs(240),
                )
            });
            let rt = footprint.runtime().context("starting the async runtime")?;
            if challenge {
                let config = game::challenge::ChallengeConfig { seed, listen, teams, deadline, footprint };
                rt.block_on(game::challenge::serve(Arc::new(s), &config, &data))?;
            } else {
                rt.block_on(game::serve::serve(Arc::new(s), seed, listen, &data, teams, net, footprint))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Net { command } => net_command(command),
        Command::Board { lab, id, dir, timeout, print_unit } => {
            if print_unit {
                let exe = std::env::current_exe().context("finding this program's path")?;
                out!("{}", game::net::deploy::board_unit(&exe, &lab, &id));
                return Ok(ExitCode::SUCCESS);
            }
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            rt.block_on(board(&lab, &id, &dir, std::time::Duration::from_secs(timeout)))?;
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

/// `darklab net …`.
#[allow(clippy::print_stdout)]
fn net_command(command: NetCommand) -> anyhow::Result<ExitCode> {
    match command {
        NetCommand::Up { file, net } => {
            let Some(s) = load(file.as_deref()) else { return Ok(ExitCode::FAILURE) };
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            let Some(options) = net.options(&s) else { return Ok(ExitCode::FAILURE) };
            rt.block_on(net_up(s, &net, options))?;
            Ok(ExitCode::SUCCESS)
        }
        NetCommand::Status { dir, json } => {
            let state = game::net::supervise::NetState::read(&dir)?;
            let map = game::net::consensus::network_map(&state)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&map).context("encoding the map")?);
            } else {
                let alive = Path::new(&format!("/proc/{}", state.supervisor_pid)).exists();
                outln!(
                    "network in {} (supervisor pid {}{})",
                    dir.display(),
                    state.supervisor_pid,
                    if alive { "" } else { ", not running" }
                );
                if let Some(socks) = state.plan.socks_addr() {
                    outln!("tor SOCKS port: {socks}");
                }
                out!("{}", map.render());
            }
            Ok(ExitCode::SUCCESS)
        }
        NetCommand::Down { dir } => {
            let state = game::net::supervise::NetState::read(&dir)?;
            let proc_dir = PathBuf::from(format!("/proc/{}", state.supervisor_pid));
            if !proc_dir.exists() {
                outln!("network in {} is not running", dir.display());
                return Ok(ExitCode::SUCCESS);
            }
            let status =
                std::process::Command::new("kill").arg("-TERM").arg(state.supervisor_pid.to_string()).status().context("running kill")?;
            anyhow::ensure!(status.success(), "kill -TERM {} failed", state.supervisor_pid);
            for _ in 0..100 {
                if !proc_dir.exists() {
                    outln!("network in {} stopped", dir.display());
                    return Ok(ExitCode::SUCCESS);
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            anyhow::bail!("the supervisor (pid {}) did not stop within 10 s", state.supervisor_pid)
        }
        NetCommand::Bench { file, net, relays, fetches, settle, untuned, cold, freeze } => {
            let Some(s) = load(file.as_deref()) else { return Ok(ExitCode::FAILURE) };
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            let Some(mut options) = net.options(&s) else { return Ok(ExitCode::FAILURE) };
            if let Some(runs) = cold {
                options.freeze = freeze;
                let mut each = |i: u32, run: &game::net::bench::ColdRun| {
                    outln!("{}", run.render(i));
                    let _ = std::io::stdout().flush();
                };
                let runs = rt.block_on(game::net::bench::cold(s, options, net.seed, relays, runs, &mut each))?;
                out!("{}", game::net::bench::render_cold(&runs));
                return Ok(ExitCode::SUCCESS);
            }
            let bench = game::net::bench::BenchOptions { relays, fetches, settle: std::time::Duration::from_secs(settle), untuned };
            let report = rt.block_on(game::net::bench::run(s, options, net.seed, &bench))?;
            out!("{}", report.render());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `darklab net up`: the world, its network, a `ready` line; then until a signal.
#[allow(clippy::print_stdout)]
async fn net_up(s: Scenario, net: &NetArgs, options: game::net::live::LiveOptions) -> anyhow::Result<()> {
    let s = Arc::new(s);
    // With boards, the world listens on the lab's classroom address so boards reach it.
    let ip = options.deployment.as_ref().map(|d| std::net::IpAddr::from(d.lab())).unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let world = market_sim::world::World::build(s.clone(), net.seed, ip).await.context("building the world")?;
    let live = match game::net::live::start_for_world(&world, &s, net.seed, &options).await {
        Ok(l) => l,
        Err(e) => {
            world.shutdown().await;
            return Err(e.into());
        }
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "network {} routers in {}", live.tor.state().plan.routers.len(), net.dir.display())?;
        if let Some(socks) = live.tor.state().plan.socks_addr() {
            writeln!(out, "tor-socks {socks}")?;
        }
        if let Some(socks) = live.arti_socks {
            writeln!(out, "arti-socks {socks}")?;
        }
        if let Some(addr) = live.board_server {
            writeln!(out, "boards http://{addr}")?;
        }
        for recovery in live.tor.recoveries() {
            writeln!(out, "recovery {recovery}")?;
        }
        for o in &live.tor.state().plan.onions {
            writeln!(out, "onion {} http://{}", o.site, o.host)?;
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    game::serve::wait_for_signal().await;
    drop(live);
    world.shutdown().await;
    Ok(())
}

/// `darklab board`: this board's routers of a deployed network, until a signal; prints
/// `router <nick> pid <pid>` lines and `ready` each time its routers run, and `rejoin
/// <reason>` when it stops them to fetch its part again.
#[allow(clippy::print_stdout)]
async fn board(lab: &str, id: &str, dir: &Path, timeout: std::time::Duration) -> anyhow::Result<()> {
    let report = |p: game::net::board::Progress| {
        let mut out = std::io::stdout().lock();
        let _ = match p {
            game::net::board::Progress::Running { generation, pids } => {
                for (nick, pid) in pids {
                    let _ = writeln!(out, "router {nick} pid {pid}");
                }
                writeln!(out, "generation {generation}").and_then(|()| writeln!(out, "ready"))
            }
            game::net::board::Progress::Rejoining { reason } => writeln!(out, "rejoin {reason}"),
        };
        let _ = out.flush();
    };
    game::net::board::run(lab, id, dir, timeout, game::serve::wait_for_signal(), report).await?;
    Ok(())
}
