//! Tor mode against Debian's real tor daemons: a private network bootstraps and serves the
//! market over its onion address to arti-client and to curl through a tor SOCKS port;
//! `serve --network tor` gives the instructor the network map; a missing tor is a clear
//! error; a killed `darklab` leaves no tor behind; boards in network namespaces.
//!
//! Each test uses its own loopback subnet (routers on 127.<subnet>.0.<n>); the tests take
//! turns (one network at a time) so a 2-core machine does not starve their circuits. Without tor the tor tests are skipped with a printed
//! reason, but only when not root: as root (CI) tor must be there (`scripts/test` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
// Deadlines on real daemons are wall-clock time.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use game::net::live::{self, LiveOptions};
use market_sim::world::World;
use sim_core::scenario::load_file;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next().map(|u| u == "0"))
        .unwrap_or(false)
}

/// One private network at a time: several at once on a 2-core machine starve each other's
/// circuits (tor's build timeouts fire) and the tests would measure the machine, not us.
static ONE_NETWORK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn one_network() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_NETWORK.blocking_lock()
}

/// Whether tor tests can run; panics when root without tor (CI must have it).
fn tor_available(test: &str) -> bool {
    if game::net::find_program("tor").is_ok() && game::net::find_program("tor-gencert").is_ok() {
        return true;
    }
    assert!(!is_root(), "{test}: running as root but tor is not installed; scripts/test installs Debian's tor package");
    eprintln!("skipping {test}: tor is not installed and not root (apt-get install tor)");
    false
}

fn pid_alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped by its new parent) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.split(") ").nth(1).unwrap_or("").starts_with('Z'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_network_serves_the_market_over_its_onion_address_to_arti_and_curl() {
    if !tor_available("bootstrap") {
        return;
    }
    let _one = ONE_NETWORK.lock().await;
    let scenario = Arc::new(load_file(&repo().join("scenarios/careless-vendor.ron")).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let world = World::build(scenario.clone(), 3, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    let relays = scenario.network.relays.len() as u32;
    let options = LiveOptions {
        extra_relays: 4u32.saturating_sub(relays),
        arti: true,
        ..LiveOptions::local(dir.path().join("net"), 62, Duration::from_secs(240))
    };
    let net = match live::start_for_world(&world, &scenario, 3, &options).await {
        Ok(n) => n,
        Err(e) => panic!("network did not start: {e}"),
    };
    let plan = &net.tor.state().plan;
    assert_eq!(plan.authorities().count(), 3);
    assert!(plan.routers.iter().filter(|r| matches!(r.role, game::net::Role::Relay { .. })).count() >= 4);
    let market = &plan.onions[0];
    let direct_host = world.services().iter().find(|s| s.socket == market.target).unwrap().host.clone();
    assert_eq!(market.host, direct_host, "tor serves the same .onion name as direct mode");
    let url = format!("http://{}/", market.host);

    // arti-client, through the world's own parties (the cast's and the lab's transport).
    let arti = net.arti_socks.expect("arti bridge");
    let page = live::fetch_when_ready(arti, &url, Duration::from_secs(180), &|| {}).await.unwrap();
    assert!(page.contains("Silk Lane"), "market home page over arti: {page}");
    let party = world.party(None).unwrap();
    let via_party = party.onion().get(&url).send().await.unwrap().text().await.unwrap();
    assert!(via_party.contains("Silk Lane"), "the world's parties reach the market through arti");

    // curl through the tor client's SOCKS port.
    let socks = plan.socks_addr().unwrap();
    live::fetch_over_tor(&net.tor, &url, Duration::from_secs(180)).await.unwrap();
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "60", "--socks5-hostname", &socks.to_string(), &url])
        .output()
        .expect("curl is installed (scripts/test installs it)");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(body.contains("Silk Lane"), "market home page over curl: {body}");

    // The network map from the live consensus.
    let map = game::net::consensus::network_map(net.tor.state()).unwrap();
    // A relay whose descriptor reached the authorities after a vote appears a round later.
    assert!(map.relays.len() + 1 >= plan.routers.iter().filter(|r| r.is_relay()).count(), "{}", map.render());
    assert!(map.relays.iter().filter(|r| r.flags.iter().any(|f| f == "Authority")).count() >= 3, "{}", map.render());
    assert!(map.relays.iter().any(|r| r.nick == "relay1" && r.flags.iter().any(|f| f == "HSDir")), "{}", map.render());
    assert_eq!(map.onion_services[0].host, market.host);

    let pids: Vec<u32> = net.tor.pids().values().copied().collect();
    drop(net);
    assert!(pids.iter().all(|p| !pid_alive(*p)), "dropping the network stops every tor");
    world.shutdown().await;
}

#[test]
fn tor_missing_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_darklab"))
        .current_dir(repo())
        .env("PATH", &empty)
        .args(["net", "up", "--subnet", "64", "--dir"])
        .arg(dir.path().join("net"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`tor` not found on PATH"), "{stderr}");
    assert!(stderr.contains("apt-get install tor"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `darklab serve --network tor`: the classroom with its world on the private network; the
/// instructor's console gets the network map from the live consensus, `net status` prints
/// it; then SIGKILL, and no tor may outlive it.
#[test]
fn serve_in_tor_mode_maps_the_network_and_a_killed_darklab_leaves_no_tor_behind() {
    if !tor_available("cleanup") {
        return;
    }
    let _one = one_network();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stderr = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_darklab"))
        .current_dir(repo())
        .args(["serve", "--network", "tor", "--subnet", "63", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut out = Lines::new(&mut child, "serve --network tor", &stderr);
    out.ready(Duration::from_secs(400));
    let lines = out.seen.clone();
    let lab = lines.iter().find_map(|l| l.strip_prefix("service lab ")).expect("the lab's address").to_string();
    let token = lines.iter().find_map(|l| l.strip_prefix("token instructor Instructor ")).expect("the instructor's token").to_string();
    assert!(lines.iter().any(|l| l.starts_with("tor-socks ")), "{lines:?}");
    let map: serde_json::Value = serde_json::from_str(&curl_json(&format!("{lab}/instructor/network"), &token)).unwrap();
    let relays = map["relays"].as_array().expect("relays in the map");
    assert!(relays.iter().filter(|r| r["flags"].to_string().contains("Authority")).count() >= 3, "{map}");
    assert!(relays.iter().all(|r| r["bandwidth"].as_u64().is_some() && r["address"].as_str().is_some()), "{map}");
    assert!(map["onion_services"][0]["host"].as_str().is_some_and(|h| h.ends_with(".onion")), "{map}");
    assert!(curl_json(&format!("{lab}/instructor/network"), "not-the-token").contains("instructor token required"));
    let net_dir = std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path().join("net")).find(|p| p.exists()).unwrap();
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(net_dir.join("state.json")).unwrap()).unwrap();
    let routers: Vec<String> =
        state["plan"]["routers"].as_array().unwrap().iter().map(|r| r["nick"].as_str().unwrap().to_string()).collect();
    let pids: Vec<u32> =
        routers.iter().map(|nick| std::fs::read_to_string(net_dir.join(nick).join("pid")).unwrap().trim().parse().unwrap()).collect();
    let status = Command::new(env!("CARGO_BIN_EXE_darklab")).args(["net", "status", "--dir"]).arg(&net_dir).output().unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    assert!(text.contains("auth1") && text.contains("Authority") && text.contains("HSDir"), "{text}");
    assert!(text.contains(".onion") && text.contains("bootstrap watchdog:"), "{text}");
    assert!(pids.iter().all(|p| pid_alive(*p)), "every router runs");

    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let mut left: Vec<u32> = pids.clone();
    for _ in 0..120 {
        left.retain(|p| pid_alive(*p));
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(left.is_empty(), "tor processes outlived their killed owner: {left:?}");
}

/// A GET with a bearer token through curl; the body.
fn curl_json(url: &str, token: &str) -> String {
    let out = Command::new("curl")
        .args(["--silent", "--max-time", "20", "-H", &format!("authorization: Bearer {token}"), url])
        .output()
        .expect("curl is installed (scripts/test installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Network namespaces as boards on a bridge, the lab in the root namespace at
/// `10.<net>.0.1`, board `i` (from 1) at `10.<net>.0.<i+1>`; removed on drop — even when a
/// test fails — and before use, should an earlier run have been killed.
struct Boards {
    prefix: String,
    count: usize,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip (iproute2) is installed");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

impl Boards {
    fn new(prefix: &str, net: u8, count: usize) -> Boards {
        let boards = Boards { prefix: prefix.into(), count };
        boards.remove();
        let bridge = boards.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&["addr", "add", &format!("10.{net}.0.1/24"), "dev", &bridge]);
        ip(&["link", "set", &bridge, "up"]);
        for i in 1..=count {
            let (ns, host, peer) = (boards.ns(i), boards.host_link(i), format!("{prefix}-p{i}"));
            ip(&["netns", "add", &ns]);
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer]);
            ip(&["link", "set", &host, "master", &bridge]);
            ip(&["link", "set", &host, "up"]);
            ip(&["link", "set", &peer, "netns", &ns]);
            ip(&["-n", &ns, "addr", "add", &format!("10.{net}.0.{}/24", i + 1), "dev", &peer]);
            ip(&["-n", &ns, "link", "set", &peer, "up"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        boards
    }

    fn bridge(&self) -> String {
        format!("{}-br", self.prefix)
    }

    /// Board `i`'s namespace.
    fn ns(&self, i: usize) -> String {
        format!("{}-b{i}", self.prefix)
    }

    /// Board `i`'s cable on the lab's side (down: the board is cut off).
    fn host_link(&self, i: usize) -> String {
        format!("{}-h{i}", self.prefix)
    }

    fn remove(&self) {
        for i in 1..=self.count {
            let _ = Command::new("ip").args(["netns", "del", &self.ns(i)]).output();
            let _ = Command::new("ip").args(["link", "del", &self.host_link(i)]).output();
        }
        let _ = Command::new("ip").args(["link", "del", &self.bridge()]).output();
    }
}

impl Drop for Boards {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A child process killed on drop (a failed assertion leaves nothing running).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child's stdout, line by line, with deadlines (a silent child never hangs the test).
struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    what: String,
    log: PathBuf,
}

impl Lines {
    fn new(child: &mut std::process::Child, what: &str, log: &Path) -> Lines {
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { rx, seen: Vec::new(), what: what.into(), log: log.to_path_buf() }
    }

    /// Waits at most `timeout` for a line `pred` accepts; panics with the child's log if none.
    fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "{}: no expected line within {} s; stdout {:?}; log:\n{}",
                    self.what,
                    timeout.as_secs(),
                    self.seen,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ),
            }
        }
    }

    /// Waits for `ready`.
    fn ready(&mut self, timeout: Duration) {
        self.wait_for(timeout, |l| l == "ready");
    }

    /// The first line seen starting with `prefix`, without it.
    fn value(&self, prefix: &str) -> Option<String> {
        self.seen.iter().find_map(|l| l.strip_prefix(prefix)).map(str::to_string)
    }
}

/// Starts `darklab board` for board `id` in namespace `ns`.
fn start_board(ns: &str, id: &str, lab: &str, dir: &Path) -> (Running, Lines) {
    let log = dir.join(format!("{id}.log"));
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_darklab"), "board", "--lab", lab, "--timeout", "300", "--id", id, "--dir"])
        .arg(dir.join(id))
        .env("DARKLAB_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let lines = Lines::new(&mut child, id, &log);
    (Running(child), lines)
}

#[test]
fn boards_in_network_namespaces_carry_part_of_the_network() {
    if !tor_available("boards") {
        return;
    }
    if !is_root() {
        eprintln!("skipping boards: network namespaces need root");
        return;
    }
    let _one = one_network();
    let ns = Boards::new("dlnet", 231, 2);
    let dir = tempfile::tempdir().unwrap();
    let deploy = dir.path().join("deploy.ron");
    std::fs::write(
        &deploy,
        r#"(
    boards: [
        (id: "lab", address: "10.231.0.1", roles: [Lab, Services]),
        (id: "board1", address: "10.231.0.2", roles: [Routers(["auth1", "auth2", "relay1"])]),
        (id: "board2", address: "10.231.0.3", roles: [Routers(["relay2", "onionhost"])]),
    ],
)"#,
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_darklab");
    let lab_log = dir.path().join("lab.log");
    let mut lab = Running(
        Command::new(bin)
            .current_dir(repo())
            .args(["net", "up", "--timeout", "300", "--board-port", "8199", "--deploy"])
            .arg(&deploy)
            .arg("--dir")
            .arg(dir.path().join("lab"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&lab_log).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut lab_lines = Lines::new(&mut lab.0, "the lab", &lab_log);
    let mut boards: Vec<(Running, Lines)> =
        [(1, "board1"), (2, "board2")].iter().map(|(i, id)| start_board(&ns.ns(*i), id, "http://10.231.0.1:8199", dir.path())).collect();
    lab_lines.ready(Duration::from_secs(400));
    for (_, lines) in &mut boards {
        lines.ready(Duration::from_secs(400));
        assert!(lines.seen.iter().any(|l| l.starts_with("router ")), "{:?}", lines.seen);
    }
    let socks = lab_lines.value("tor-socks ").expect("the lab runs the client");
    let onion = lab_lines.value("onion silk-lane ").expect("the market's onion line");
    assert!(socks.starts_with("10.231.0.1:"), "{socks}");
    // The market's onion service runs on board2, the world on the lab: fetch it from the lab.
    let mut body = String::new();
    for _ in 0..90 {
        let out = Command::new("curl")
            .args(["--silent", "--max-time", "30", "--socks5-hostname", &socks, &format!("{onion}/")])
            .output()
            .unwrap();
        body = String::from_utf8_lossy(&out.stdout).into_owned();
        if body.contains("Silk Lane") {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(body.contains("Silk Lane"), "market over an onion service hosted on a board: {body}");
    // The consensus the lab's authority holds lists the boards' relays at their addresses.
    let status = Command::new(bin).args(["net", "status", "--dir"]).arg(dir.path().join("lab")).output().unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("10.231.0.2:") && text.contains("10.231.0.3:"), "{text}");
}

/// A blocking HTTP call with a deadline (curl: the test must never hang on a socket).
fn http(method: &str, url: &str, token: &str, body: Option<&serde_json::Value>) -> (u16, serde_json::Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--max-time", "60", "--noproxy", "*", "-X", method, "-H", &format!("Authorization: Bearer {token}")]);
    cmd.args(["-w", "\n%{http_code}"]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data", &b.to_string()]);
    }
    let out = cmd.arg(url).output().expect("curl is installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (json, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), serde_json::from_str(json).unwrap_or(serde_json::Value::String(json.to_string())))
}

/// Polls `check` every second until it gives `Some`, at most `timeout`; panics with `what`.
fn until<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: not within {} s; lab log:\n{}", timeout.as_secs(), lab_log_tail());
        std::thread::sleep(Duration::from_secs(1));
    }
}

thread_local! {
    /// The running lab's log, for failure messages.
    static LAB_LOG: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

fn lab_log_tail() -> String {
    let dir = LAB_LOG.with(|l| l.borrow().as_ref().and_then(|p| p.parent().map(Path::to_path_buf))).unwrap_or_default();
    let mut text = LAB_LOG.with(|l| l.borrow().as_ref().and_then(|p| std::fs::read_to_string(p).ok())).unwrap_or_default();
    for log in ["data/careless-vendor-seed1/net/client/notice.log", "board2/onionhost/notice.log"] {
        text.push_str(&format!("\n== {log}\n{}", std::fs::read_to_string(dir.join(log)).unwrap_or_default()));
    }
    let lines: Vec<&str> = text.lines().collect();
    let wanted: Vec<&str> = lines.into_iter().filter(|l| !l.contains("mined block")).collect();
    wanted[wanted.len().saturating_sub(60)..].join("\n")
}

/// A board of `GET /instructor/boards` by id.
fn board_view(boards: &serde_json::Value, id: &str) -> serde_json::Value {
    boards["boards"].as_array().and_then(|a| a.iter().find(|b| b["id"] == id)).cloned().unwrap_or_default()
}

/// The fault test: a classroom in tor mode on three machines — the lab (world, ledgers,
/// console, an authority and the client) and two boards in network namespaces, board2
/// hosting the market's onion service. A team captures pages; board2's cable is pulled
/// mid-exercise; the lab notices, the console names board2 missing since a time, the world's
/// clock is held; the cable goes back, board2 rejoins (fetches its part again, restarts its
/// routers), the clock resumes, new captures work, and every acknowledged capture is still in
/// the team's ledger, which verifies.
#[test]
fn a_board_cut_off_mid_exercise_rejoins_and_nothing_acknowledged_is_lost() {
    if !tor_available("board fault") {
        return;
    }
    if !is_root() {
        eprintln!("skipping board fault: network namespaces need root");
        return;
    }
    let _one = one_network();
    let ns = Boards::new("dlfault", 232, 2);
    let dir = tempfile::tempdir().unwrap();
    let deploy = dir.path().join("deploy.ron");
    std::fs::write(
        &deploy,
        r#"(
    boards: [
        (id: "lab", address: "10.232.0.1", roles: [Lab, Services, TeamWorlds(1)]),
        (id: "board1", address: "10.232.0.2", roles: [Routers(["auth1", "auth2", "relay1"])]),
        (id: "board2", address: "10.232.0.3", roles: [Routers(["relay2", "onionhost"])]),
    ],
    heartbeat: (every: 1, late: 3, missing: 6),
)"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let lab_log = dir.path().join("lab.log");
    LAB_LOG.with(|l| *l.borrow_mut() = Some(lab_log.clone()));
    let mut lab = Running(
        Command::new(env!("CARGO_BIN_EXE_darklab"))
            .current_dir(repo())
            .args(["serve", "--network", "tor", "--listen", "10.232.0.1:0", "--board-port", "8299", "--deploy"])
            .arg(&deploy)
            .arg("--data")
            .arg(&data)
            .env("DARKLAB_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&lab_log).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut lab_lines = Lines::new(&mut lab.0, "the lab", &lab_log);
    let lab_url = "http://10.232.0.1:8299";
    let (_b1, mut b1) = start_board(&ns.ns(1), "board1", lab_url, dir.path());
    let (_b2, mut b2) = start_board(&ns.ns(2), "board2", lab_url, dir.path());
    lab_lines.ready(Duration::from_secs(400));
    b1.ready(Duration::from_secs(120));
    b2.ready(Duration::from_secs(120));
    let api = lab_lines.value("service lab ").expect("the lab's line");
    let instructor = lab_lines.value("token instructor Instructor ").expect("the instructor's token");
    let team = lab_lines.value("token team-1 HeadOfUnit ").expect("a team token");
    let (code, status) = http("GET", &format!("{api}/api/status"), &team, None);
    assert_eq!(code, 200, "{status}");
    let market = status["sites"]["silk-lane"].as_str().expect("the market's URL").to_string();
    assert!(market.ends_with(".onion"), "{market}");

    // The exercise: captures over the onion service on board2, acknowledged by the lab.
    let capture =
        |path: &str| http("POST", &format!("{api}/api/captures"), &team, Some(&serde_json::json!({"url": format!("{market}{path}")})));
    let mut acknowledged: Vec<String> = Vec::new();
    let captured = |what: &str| {
        let mut last;
        let deadline = std::time::Instant::now() + Duration::from_secs(240);
        loop {
            last = capture("/");
            if let Some(id) = last.1["id"].as_str().filter(|_| last.0 == 201) {
                return id.to_string();
            }
            assert!(std::time::Instant::now() < deadline, "{what}: not within 240 s: {last:?}\nlab log:\n{}", lab_log_tail());
            std::thread::sleep(Duration::from_secs(2));
        }
    };
    for _ in 0..2 {
        acknowledged.push(captured("a capture over the onion network"));
    }
    let boards_url = format!("{api}/instructor/boards");
    let (code, view) = http("GET", &boards_url, &instructor, None);
    assert_eq!(code, 200, "{view}");
    assert_eq!(board_view(&view, "board2")["health"], "ok", "{view}");
    assert_eq!(http("GET", &boards_url, &team, None).0, 401, "a team cannot read the boards");

    // Cut board2 off: its cable on the lab's side goes down.
    ip(&["link", "set", &ns.host_link(2), "down"]);
    let missing = until(Duration::from_secs(60), "the console names board2 missing", || {
        let (_, view) = http("GET", &boards_url, &instructor, None);
        let b = board_view(&view, "board2");
        (b["health"] == "missing").then_some(b)
    });
    assert!(missing["since"].as_str().is_some_and(|s| s.ends_with('Z')), "since when: {missing}");
    assert_eq!(board_view(&http("GET", &boards_url, &instructor, None).1, "board1")["health"], "ok");
    until(Duration::from_secs(30), "the world's clock held", || {
        http("GET", &format!("{api}/instructor/status"), &instructor, None).1["pace"]["paused"].as_bool().filter(|p| *p)
    });
    // A capture now is either refused (the market is out of reach) or acknowledged — and then kept.
    let (code, body) = capture("/api/listings");
    if code == 201 {
        acknowledged.push(body["id"].as_str().unwrap().to_string());
    }

    // The cable goes back: board2 rejoins.
    ip(&["link", "set", &ns.host_link(2), "up"]);
    b2.wait_for(Duration::from_secs(120), |l| l.starts_with("rejoin "));
    b2.ready(Duration::from_secs(300));
    until(Duration::from_secs(300), "the clock resumes with board2 back", || {
        let b = board_view(&http("GET", &boards_url, &instructor, None).1, "board2");
        let paused = http("GET", &format!("{api}/instructor/status"), &instructor, None).1["pace"]["paused"].as_bool();
        (b["health"] == "ok" && paused == Some(false)).then_some(())
    });
    let events = http("GET", &boards_url, &instructor, None).1["events"].to_string();
    assert!(events.contains("missing") && events.contains("returned") && events.contains("held"), "{events}");
    acknowledged.push(captured("a new capture after board2 returned"));

    // Nothing acknowledged is lost: every capture is in the team's evidence and ledger.
    let (code, evidence) = http("GET", &format!("{api}/api/evidence"), &team, None);
    assert_eq!(code, 200, "{evidence}");
    let listed = evidence.to_string();
    for id in &acknowledged {
        assert!(listed.contains(&format!("\"{id}\"")), "acknowledged capture {id} missing from {listed}");
    }
    drop(lab);
    let ledger = data.join("careless-vendor-seed1").join("teams").join("team-1");
    let out = Command::new(env!("CARGO_BIN_EXE_darklab")).arg("ledger").arg("verify").arg(&ledger).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let ok_entries = acknowledged.len();
    assert!(text.contains(": ok —"), "{text}");
    let entries: usize = text.split(" entries").next().and_then(|t| t.rsplit(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(entries >= ok_entries, "{text}");
}
