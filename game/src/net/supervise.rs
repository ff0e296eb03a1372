//! Starting, watching and stopping the daemons of a private network.
//!
//! No orphans: each tor is told `__OwningControllerProcess <our pid>` (tor exits when we
//! die, even by SIGKILL), runs in its own process group (a terminal's Ctrl-C reaches us, and
//! we stop them), and [`TorNetwork`]'s `Drop` kills and reaps every one of them.
//!
//! Bootstrapping a test network is flaky (FIELD-NOTES.md): the [`Watchdog`] reads each
//! router's log while it starts and recovers a stuck one (new votes, then a restart); each
//! recovery is logged, kept in [`TorNetwork::recoveries`] and written to `watchdog.json`
//! for `net status`. A router still not done at the deadline fails the start with its name,
//! the recoveries tried and the tail of its log.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::plan::{NetPlan, Role, Router};
use super::torrc::{self, AuthorityInfo, Footprint};
use super::watchdog::{Action, NetProgress, Recovery, Watchdog, read_consensus};
use super::{NetError, control, find_program, keys};

/// How long a router may go without any progress — its own or a new consensus listing
/// more — before the watchdog steps in although no consensus rounds came to judge by (the
/// watchdog judges in rounds: see [`super::watchdog`]). A busy machine delays the first
/// consensus by a minute and more; this only catches a network that never votes.
const BACKSTOP: Duration = Duration::from_secs(150);

/// The consensus files a router caches (a directory cache's full one, a client's microdescriptor one).
const CONSENSUS_FILES: [&str; 2] = ["cached-consensus", "cached-microdesc-consensus"];

/// What `darklab net status` and `net down` read: the plan and who supervises it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetState {
    /// The supervising process (owner of every tor).
    pub supervisor_pid: u32,
    /// The network.
    pub plan: NetPlan,
    /// Each relay's RSA fingerprint and ed25519 identity, by nickname.
    pub identities: BTreeMap<String, (String, String)>,
    /// The authorities' v3 identities, by nickname.
    pub v3idents: BTreeMap<String, String>,
    /// Tuned for small boards (the default) or tor's defaults (for measuring only).
    #[serde(default)]
    pub footprint: Footprint,
}

impl NetState {
    /// The state file of a network folder.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("state.json")
    }
    /// Writes the state file into the plan's folder.
    pub fn write(&self) -> Result<(), NetError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| NetError::Plan(e.to_string()))?;
        std::fs::write(Self::path(&self.plan.dir), json)?;
        Ok(())
    }
    /// Reads the state of the network in `dir`.
    pub fn read(dir: &Path) -> Result<NetState, NetError> {
        let path = Self::path(dir);
        let bytes = std::fs::read(&path).map_err(|e| NetError::File { path: path.clone(), message: format!("no network here ({e})") })?;
        serde_json::from_slice(&bytes).map_err(|e| NetError::File { path, message: e.to_string() })
    }
}

/// The last `n` lines of a router's log.
pub fn log_tail(data_dir: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(data_dir.join("notice.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines.get(lines.len().saturating_sub(n)..).unwrap_or_default();
    if tail.is_empty() { "  (empty log)".into() } else { tail.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n") }
}

/// The watchdog's report file of a network folder.
pub fn recoveries_path(dir: &Path) -> PathBuf {
    dir.join("watchdog.json")
}

/// The recoveries the watchdog of the network in `dir` made (none when it made none).
pub fn read_recoveries(dir: &Path) -> Vec<Recovery> {
    std::fs::read(recoveries_path(dir)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// A running private network. Dropping it stops every daemon.
pub struct TorNetwork {
    state: NetState,
    tor: PathBuf,
    local: Vec<Router>,
    children: BTreeMap<String, Child>,
    recoveries: Vec<Recovery>,
}

impl std::fmt::Debug for TorNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorNetwork").field("dir", &self.state.plan.dir).field("routers", &self.children.len()).finish()
    }
}

impl TorNetwork {
    /// Prepares keys and torrcs for `plan`, checks every address is free, starts all
    /// routers and waits until each has bootstrapped (at most `timeout`).
    pub fn start(plan: NetPlan, timeout: Duration) -> Result<TorNetwork, NetError> {
        let state = Self::prepare(plan, Footprint::Tuned)?;
        let mut net = Self::launch(state, None)?;
        net.wait_bootstrapped(timeout)?;
        Ok(net)
    }

    /// Makes every router's keys (authorities' with `tor-gencert`, relays' identities) and
    /// the onion services' keys, and writes the state file; starts nothing.
    pub fn prepare(plan: NetPlan, footprint: Footprint) -> Result<NetState, NetError> {
        find_program("tor")?;
        find_program("tor-gencert")?;
        keys::private_dir(&plan.dir)?;
        // Key generation takes a second or more per router: all routers at once.
        type Keys = (String, Option<String>, Option<(String, String)>);
        let made: Vec<Result<Keys, NetError>> = std::thread::scope(|scope| {
            let jobs: Vec<_> = plan
                .routers
                .iter()
                .map(|router| {
                    let data = plan.data_dir(router);
                    scope.spawn(move || -> Result<Keys, NetError> {
                        keys::private_dir(&data)?;
                        let v3 = match router.role {
                            Role::Authority => Some(keys::authority_keys(&data, &router.dir_addr().to_string())?),
                            _ => None,
                        };
                        let identity = if router.is_relay() { Some(keys::router_identity(&data, &router.nick)?) } else { None };
                        Ok((router.nick.clone(), v3, identity))
                    })
                })
                .collect();
            jobs.into_iter().map(|j| j.join().unwrap_or_else(|_| Err(NetError::Plan("key generation panicked".into())))).collect()
        });
        let mut identities = BTreeMap::new();
        let mut v3idents = BTreeMap::new();
        for keys in made {
            let (nick, v3, identity) = keys?;
            if let Some(v3) = v3 {
                v3idents.insert(nick.clone(), v3);
            }
            if let Some(identity) = identity {
                identities.insert(nick, identity);
            }
        }
        for router in plan.routers.iter().filter(|r| r.role == Role::OnionHost) {
            for onion in &plan.onions {
                keys::onion_service_dir(&plan.data_dir(router).join("hs").join(&onion.site), onion.key_seed)?;
            }
        }
        let state = NetState { supervisor_pid: std::process::id(), plan, identities, v3idents, footprint };
        state.write()?;
        Ok(state)
    }

    /// Starts the routers of `state` that run on `board` (`None`: the lab's machine), after
    /// checking their addresses are free; does not wait for them to bootstrap.
    pub fn launch(state: NetState, board: Option<&str>) -> Result<TorNetwork, NetError> {
        let tor = find_program("tor")?;
        let plan = &state.plan;
        let local: Vec<Router> = plan.routers.iter().filter(|r| NetPlan::runs_on(r, board)).cloned().collect();
        for router in &local {
            for addr in router.listen_addrs() {
                if let Err(e) = TcpListener::bind(addr) {
                    let router = router.nick.clone();
                    return Err(if e.kind() == std::io::ErrorKind::AddrInUse {
                        NetError::PortTaken { router, addr: addr.to_string() }
                    } else {
                        NetError::Io(std::io::Error::new(e.kind(), format!("router {router}: cannot listen on {addr}: {e}")))
                    });
                }
            }
        }
        std::fs::write(plan.dir.join("empty"), "")?;
        let authorities: Vec<AuthorityInfo> = plan
            .authorities()
            .filter_map(|r| {
                let v3ident = state.v3idents.get(&r.nick)?.clone();
                let fingerprint = state.identities.get(&r.nick)?.0.clone();
                Some(AuthorityInfo { nick: r.nick.clone(), or_addr: r.or_addr(), dir_addr: r.dir_addr(), v3ident, fingerprint })
            })
            .collect();
        let fingerprints: BTreeMap<String, String> = state.identities.iter().map(|(n, (fp, _))| (n.clone(), fp.clone())).collect();
        let owner = std::process::id();
        for router in &local {
            let text = torrc::torrc(plan, router, &authorities, &fingerprints, owner, state.footprint);
            std::fs::write(plan.data_dir(router).join("torrc"), text)?;
        }
        let _ = std::fs::remove_file(recoveries_path(&plan.dir));
        let mut net = TorNetwork { state, tor, local: local.clone(), children: BTreeMap::new(), recoveries: Vec::new() };
        for router in &local {
            net.spawn(router)?;
        }
        Ok(net)
    }

    /// Starts one router (its old log is kept as `notice.log.1`).
    fn spawn(&mut self, router: &Router) -> Result<(), NetError> {
        let data = self.state.plan.data_dir(router);
        let log = data.join("notice.log");
        if log.exists() {
            std::fs::rename(&log, data.join("notice.log.1"))?;
        }
        let mut command = Command::new(&self.tor);
        command.arg("-f").arg(data.join("torrc")).arg("--defaults-torrc").arg(self.state.plan.dir.join("empty"));
        for (key, value) in self.state.footprint.environment() {
            command.env(key, value);
        }
        let child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0).spawn()?;
        tracing::debug!(router = %router.nick, pid = child.id(), "tor started");
        self.children.insert(router.nick.clone(), child);
        Ok(())
    }

    /// Waits until every router started here logs "Bootstrapped 100%" (the watchdog
    /// recovering stuck ones), then checks tor serves each onion service under its world name.
    pub fn wait_bootstrapped(&mut self, timeout: Duration) -> Result<(), NetError> {
        self.wait_all(timeout)?;
        for router in self.local.iter().filter(|r| r.role == Role::OnionHost) {
            for onion in &self.state.plan.onions {
                keys::check_onion_name(&self.state.plan.data_dir(router).join("hs").join(&onion.site), &onion.site, &onion.host)?;
            }
        }
        Ok(())
    }

    #[allow(clippy::disallowed_methods)] // real tor runs on wall-clock time
    fn wait_all(&mut self, timeout: Duration) -> Result<(), NetError> {
        let start = std::time::Instant::now();
        let mut watchdog = Watchdog::new(BACKSTOP);
        let mut net = NetProgress::default();
        let mut seen = BTreeSet::new();
        loop {
            let mut pending = None;
            let routers = self.local.clone();
            for router in &routers {
                for file in CONSENSUS_FILES {
                    if let Some(c) =
                        std::fs::read_to_string(self.state.plan.data_dir(router).join(file)).ok().as_deref().and_then(read_consensus)
                    {
                        net.add(&mut seen, c);
                    }
                }
            }
            for router in &routers {
                let data = self.state.plan.data_dir(router);
                if let Some(child) = self.children.get_mut(&router.nick)
                    && let Ok(Some(status)) = child.try_wait()
                {
                    return Err(NetError::Exited {
                        router: router.nick.clone(),
                        status: status.to_string(),
                        log_tail: log_tail(&data, 15),
                    });
                }
                let mut log = super::watchdog::read_log(&std::fs::read_to_string(data.join("notice.log")).unwrap_or_default());
                log.halted = self.children.get(&router.nick).is_some_and(|c| process_halted(c.id()));
                if log.percent >= 100 {
                    continue;
                }
                if let Some(recovery) = watchdog.observe(&router.nick, &log, net, start.elapsed()) {
                    self.recover(router, &recovery)?;
                }
                pending.get_or_insert((router.nick.clone(), log.summary, data));
            }
            let Some((router, progress, data)) = pending else { return Ok(()) };
            if start.elapsed() > timeout {
                return Err(NetError::BootstrapTimeout {
                    router,
                    seconds: timeout.as_secs(),
                    progress,
                    recoveries: super::watchdog::summary(&self.recoveries),
                    log_tail: log_tail(&data, 15),
                });
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Carries out one recovery and records it: new votes HUP every router here (a frozen
    /// one cannot hold us: each control exchange has a deadline), a restart kills and
    /// starts the stuck router.
    fn recover(&mut self, stuck: &Router, recovery: &Recovery) -> Result<(), NetError> {
        tracing::warn!(router = %stuck.nick, action = %recovery.action, reason = %recovery.reason, "bootstrap stuck; recovering");
        match recovery.action {
            Action::NewVotes => {
                for router in &self.local {
                    if let Err(e) = control::signal(router.control_addr(), &self.state.plan.data_dir(router), "HUP") {
                        tracing::warn!(router = %router.nick, error = %e, "HUP through the control port failed");
                    }
                }
            }
            Action::Restart => {
                if let Some(mut child) = self.children.remove(&stuck.nick) {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                self.spawn(stuck)?;
            }
        }
        self.recoveries.push(recovery.clone());
        let json = serde_json::to_vec_pretty(&self.recoveries).map_err(|e| NetError::Plan(e.to_string()))?;
        std::fs::write(recoveries_path(&self.state.plan.dir), json)?;
        Ok(())
    }

    /// Makes this machine's SOCKS client forget the onion services it failed to reach:
    /// `SIGNAL NEWNYM` purges tor's descriptor cache and its record of the directories it
    /// already asked, which otherwise keeps it from asking again for 15 minutes — so a
    /// lookup made before the service had published its descriptor is not final.
    pub fn forget_onion_failures(&self) -> Result<(), NetError> {
        let client =
            self.local.iter().find(|r| r.role == Role::Client).ok_or_else(|| NetError::Plan("no client router runs here".into()))?;
        control::signal(client.control_addr(), &self.state.plan.data_dir(client), "NEWNYM")
    }

    /// What the watchdog did while the network started.
    pub fn recoveries(&self) -> &[Recovery] {
        &self.recoveries
    }

    /// Stops router `nick` (SIGSTOP) without killing it: a fault injected by the bootstrap
    /// benchmark so the watchdog's recovery runs for real.
    pub fn freeze(&self, nick: &str) -> Result<(), NetError> {
        let child = self.children.get(nick).ok_or_else(|| NetError::Plan(format!("no router {nick} runs here")))?;
        let status = Command::new("kill").arg("-STOP").arg(child.id().to_string()).status()?;
        if !status.success() {
            return Err(NetError::Tool { program: "kill".into(), message: format!("kill -STOP {} failed", child.id()) });
        }
        Ok(())
    }

    /// The network's state (plan, identities).
    pub fn state(&self) -> &NetState {
        &self.state
    }

    /// The process ids of the running daemons, by nickname.
    pub fn pids(&self) -> BTreeMap<String, u32> {
        self.children.iter().map(|(n, c)| (n.clone(), c.id())).collect()
    }

    /// Stops every daemon and waits for each to exit.
    pub fn stop(&mut self) {
        for (nick, child) in self.children.iter_mut() {
            if let Err(e) = child.kill() {
                tracing::debug!(router = %nick, "kill: {e}");
            }
            let _ = child.wait();
        }
        self.children.clear();
    }
}

impl Drop for TorNetwork {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether process `pid` is stopped (SIGSTOP, traced) or a zombie, from the state field of
/// `/proc/<pid>/stat`; false when that cannot be read (not Linux, or the process is gone:
/// the caller's `try_wait` sees an exit).
pub(crate) fn process_halted(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // "pid (comm) S ...": the command name may hold spaces and parentheses, the state
    // follows the last ')'.
    let state = stat.rfind(')').and_then(|at| stat.get(at + 1..)).and_then(|rest| rest.trim_start().chars().next());
    matches!(state, Some('T' | 't' | 'Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watchdog restarts at once only a router whose process is really stopped: a
    /// running process, then the same one under SIGSTOP, then after SIGCONT.
    #[test]
    fn a_stopped_process_is_told_from_a_running_one() {
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep runs");
        let pid = child.id();
        let signal = |sig: &str| assert!(Command::new("kill").arg(sig).arg(pid.to_string()).status().expect("kill").success());
        assert!(!process_halted(pid), "a sleeping process runs");
        signal("-STOP");
        // The state changes once the kernel has delivered the signal.
        let stopped = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            process_halted(pid)
        });
        assert!(stopped, "SIGSTOP stops it");
        signal("-CONT");
        let running = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !process_halted(pid)
        });
        assert!(running, "SIGCONT lets it run again");
        let _ = child.kill();
        let _ = child.wait();
        assert!(!process_halted(u32::MAX), "no such process");
    }
}
