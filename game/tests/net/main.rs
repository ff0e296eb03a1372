//! Tor mode against Debian's real tor daemons: a private network bootstraps and serves the
//! market over its onion address to arti-client and to curl through a tor SOCKS port;
//! `serve --network tor` gives the instructor the network map; a missing tor is a clear
//! error; a killed `darklab` leaves no tor behind; boards in network namespaces.
//!
//! Each test uses its own loopback subnet (routers on 127.<subnet>.0.<n>); the tests take
//! turns (one network at a time) so a 2-core machine does not starve their circuits. Without tor the tor tests are skipped with a printed
//! reason, but only when not root: as root (CI) tor must be there (`scripts/test` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

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
    let lines = wait_ready(&mut child, "serve --network tor", &stderr);
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

/// Two network namespaces as boards on a bridge, the lab in the root namespace; removed on
/// drop (and before use, should an earlier run have been killed).
struct Boards {
    names: Vec<String>,
    bridge: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip (iproute2) is installed");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

impl Boards {
    fn new() -> Boards {
        let boards = Boards { names: vec!["dlnet-b1".into(), "dlnet-b2".into()], bridge: "dlnet-br".into() };
        boards.remove();
        ip(&["link", "add", &boards.bridge, "type", "bridge"]);
        ip(&["addr", "add", "10.231.0.1/24", "dev", &boards.bridge]);
        ip(&["link", "set", &boards.bridge, "up"]);
        for (i, ns) in boards.names.iter().enumerate() {
            let (host, peer) = (format!("dlnet-h{}", i + 1), format!("dlnet-p{}", i + 1));
            ip(&["netns", "add", ns]);
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer]);
            ip(&["link", "set", &host, "master", &boards.bridge]);
            ip(&["link", "set", &host, "up"]);
            ip(&["link", "set", &peer, "netns", ns]);
            ip(&["-n", ns, "addr", "add", &format!("10.231.0.{}/24", i + 2), "dev", &peer]);
            ip(&["-n", ns, "link", "set", &peer, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        boards
    }

    fn remove(&self) {
        for (i, ns) in self.names.iter().enumerate() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            let _ = Command::new("ip").args(["link", "del", &format!("dlnet-h{}", i + 1)]).output();
        }
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).output();
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

/// Waits for `ready` on the child's stdout; returns every line before it.
fn wait_ready(child: &mut std::process::Child, what: &str, log: &Path) -> Vec<String> {
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line == "ready" {
                return Some(seen);
            }
            seen.push(line);
        }
        None
    })
    .join()
    .unwrap();
    lines.unwrap_or_else(|| panic!("{what} did not get ready: {}", std::fs::read_to_string(log).unwrap_or_default()))
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
    let _boards = Boards::new();
    let dir = tempfile::tempdir().unwrap();
    let deploy = dir.path().join("deploy.ron");
    std::fs::write(
        &deploy,
        r#"(
    lab: "10.231.0.1",
    boards: [
        (id: "board1", address: "10.231.0.2", routers: ["auth1", "auth2", "relay1"]),
        (id: "board2", address: "10.231.0.3", routers: ["relay2", "onionhost"]),
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
    let mut boards = Vec::new();
    for (ns, id) in [("dlnet-b1", "board1"), ("dlnet-b2", "board2")] {
        let log = dir.path().join(format!("{id}.log"));
        let child = Command::new("ip")
            .args(["netns", "exec", ns, bin, "board", "--lab", "http://10.231.0.1:8199", "--timeout", "300", "--id", id, "--dir"])
            .arg(dir.path().join(id))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        boards.push((Running(child), log, id));
    }
    let lab_lines = wait_ready(&mut lab.0, "the lab", &lab_log);
    for (board, log, id) in &mut boards {
        let lines = wait_ready(&mut board.0, id, log);
        assert!(lines.iter().any(|l| l.starts_with("router ")), "{id}: {lines:?}");
    }
    let socks = lab_lines.iter().find_map(|l| l.strip_prefix("tor-socks ")).expect("the lab runs the client").to_string();
    let onion = lab_lines.iter().find_map(|l| l.strip_prefix("onion silk-lane ")).expect("the market's onion line").to_string();
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
