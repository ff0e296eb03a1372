//! The bootstrap watchdog: a private network's bootstrap is flaky (FIELD-NOTES.md: one run
//! in four sat at 95 % with "Failed to find node for hop" for minutes), so each router's
//! log is read while it starts, a router stuck below 100 % is recovered — first new votes
//! (every router is HUPed: relays republish their descriptors, so the next consensus lists
//! them all), then a restart of the stuck router — and each recovery is reported.
//!
//! Stuck is judged in consensus rounds, not wall seconds: on a loaded machine (or a slow
//! board) every step of a bootstrap takes longer, but a network that is still assembling
//! makes new consensuses that list more relays, and its routers climb. A router is stuck
//! when it has not climbed while [`STALL_ROUNDS`] new consensuses were made and none of them
//! listed more relays than before (fewer rounds, [`FAILING_ROUNDS`], when its log keeps
//! saying "Failed to find node for hop" — the stuck signature of FIELD-NOTES.md); a router
//! whose process is stopped (SIGSTOP, or a zombie: the caller reads that from /proc) cannot
//! be helped by new votes, so it is restarted at once. A silent log alone does not say so —
//! a tor waiting at 95 % for its circuits writes nothing for minutes — so a quiet router
//! that runs climbs the ladder like any other. Before the
//! first consensus, or when none comes, only a generous wall-clock backstop applies, so
//! `net up` still recovers (and its deadline still ends) a network that never votes.
//!
//! The decisions are a pure function of the logs, the consensus rounds seen and the time
//! since the start (no clock is read here), so they are unit-tested on real tor log lines
//! and recorded sequences.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// New consensuses without progress after which a router is stuck.
pub const STALL_ROUNDS: u32 = 3;
/// The same, while its log keeps reporting path failures.
pub const FAILING_ROUNDS: u32 = 2;
/// Path failures since the router's last progress that make the stuck signature.
const FAILURES: u32 = 3;

/// What a router's log says about its bootstrap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogProgress {
    /// The last "Bootstrapped N%" (0 before the first).
    pub percent: u32,
    /// That line's text after "Bootstrapped ", or a placeholder.
    pub summary: String,
    /// Lines after it saying no path could be built ("Failed to find node for hop").
    pub path_failures: u32,
    /// The last warning after it, if any.
    pub last_warning: Option<String>,
    /// The log's length in bytes (a silent log is worth saying in the reason).
    pub bytes: usize,
    /// The router's process is stopped or a zombie, as its caller found (false when it
    /// cannot tell): only then is it restarted without trying new votes first.
    pub halted: bool,
}

/// Reads a router's notice log.
pub fn read_log(text: &str) -> LogProgress {
    let mut p = LogProgress {
        percent: 0,
        summary: "no bootstrap line yet".into(),
        path_failures: 0,
        last_warning: None,
        bytes: text.len(),
        halted: false,
    };
    for line in text.lines() {
        if let Some(at) = line.find("Bootstrapped ") {
            let rest = &line[at + "Bootstrapped ".len()..];
            if let Some(pct) = rest.split('%').next().and_then(|n| n.trim().parse().ok()) {
                p = LogProgress {
                    percent: pct,
                    summary: rest.to_string(),
                    path_failures: 0,
                    last_warning: None,
                    bytes: text.len(),
                    halted: false,
                };
            }
        } else if line.contains("Failed to find node for hop") {
            p.path_failures += 1;
        }
        if line.contains("[warn]") {
            p.last_warning = Some(line.to_string());
        }
    }
    p
}

/// What the network as a whole shows (read from the routers' cached consensuses): the
/// consensuses made so far, and the most relays and relay flags one of them listed — a
/// network still assembling lists more of both from round to round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetProgress {
    /// Distinct consensuses seen since the start (their `valid-after` times).
    pub rounds: u32,
    /// The most relays (`r` lines) a consensus seen so far listed.
    pub relays: usize,
    /// The most flags (words of `s` lines) a consensus seen so far gave its relays.
    pub flags: usize,
}

/// One consensus document as the watchdog reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusSeen {
    /// Its `valid-after` time.
    pub valid_after: String,
    /// Relays it lists.
    pub relays: usize,
    /// Flags it gives them, all relays together.
    pub flags: usize,
}

/// Reads a consensus document; `None` when it has no `valid-after` (no consensus yet, or a
/// torn file).
pub fn read_consensus(text: &str) -> Option<ConsensusSeen> {
    let valid_after = text.lines().find_map(|l| l.strip_prefix("valid-after "))?.trim().to_string();
    let relays = text.lines().filter(|l| l.starts_with("r ")).count();
    let flags = text.lines().filter_map(|l| l.strip_prefix("s ")).map(|l| l.split_whitespace().count()).sum();
    Some(ConsensusSeen { valid_after, relays, flags })
}

impl NetProgress {
    /// Adds a consensus read now to the progress of the network: a new round when its
    /// `valid-after` was not seen before (`seen` keeps those).
    pub fn add(&mut self, seen: &mut std::collections::BTreeSet<String>, c: ConsensusSeen) {
        self.relays = self.relays.max(c.relays);
        self.flags = self.flags.max(c.flags);
        if seen.insert(c.valid_after) {
            self.rounds = u32::try_from(seen.len()).unwrap_or(u32::MAX);
        }
    }
}

/// What the watchdog did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Action {
    /// Every router was HUPed so the next vote counts every relay.
    NewVotes,
    /// The stuck router was killed and started again.
    Restart,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::NewVotes => "new votes",
            Action::Restart => "restart",
        })
    }
}

/// One recovery: when, which router was stuck, why, and what was done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Recovery {
    /// Seconds since the network started.
    pub at_seconds: u64,
    /// The stuck router.
    pub router: String,
    /// Why it counted as stuck.
    pub reason: String,
    /// What was done.
    pub action: Action,
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {} s: {} ({})", self.router, self.at_seconds, self.action, self.reason)
    }
}

/// Per router: where its window without progress began (time, consensus round, relays and
/// flags listed, log length, path failures) and the recoveries already tried.
#[derive(Clone, Debug)]
struct Track {
    percent: u32,
    since: Duration,
    round: u32,
    relays: usize,
    flags: usize,
    bytes: usize,
    failures: u32,
    tried: usize,
}

impl Track {
    fn at(log: &LogProgress, net: NetProgress, elapsed: Duration, tried: usize) -> Track {
        Track {
            percent: log.percent,
            since: elapsed,
            round: net.rounds,
            relays: net.relays,
            flags: net.flags,
            bytes: log.bytes,
            failures: log.path_failures,
            tried,
        }
    }
}

/// Watches every router's progress.
#[derive(Clone, Debug)]
pub struct Watchdog {
    /// No progress at all (not even a consensus) for this long means stuck.
    backstop: Duration,
    routers: BTreeMap<String, Track>,
}

/// The recovery ladder, in order; a router stuck after both is left to the deadline.
const LADDER: [Action; 2] = [Action::NewVotes, Action::Restart];

impl Watchdog {
    /// A watchdog that judges in consensus rounds, and calls a router stuck after
    /// `backstop` without any progress when the rounds do not come.
    pub fn new(backstop: Duration) -> Watchdog {
        Watchdog { backstop, routers: BTreeMap::new() }
    }

    /// Looks at `router`'s log progress `elapsed` after the start, the network being at
    /// `net`; returns the recovery to carry out now, if any.
    pub fn observe(&mut self, router: &str, log: &LogProgress, net: NetProgress, elapsed: Duration) -> Option<Recovery> {
        let track = self.routers.entry(router.to_string()).or_insert_with(|| Track::at(log, net, elapsed, 0));
        if log.percent >= 100 {
            return None;
        }
        // Progress: the router climbed (or began again), or the network's consensus lists
        // more relays or flags than when the window began (it is still assembling).
        if log.percent != track.percent || net.relays > track.relays || net.flags > track.flags {
            *track = Track::at(log, net, elapsed, track.tried);
            return None;
        }
        let rounds = net.rounds.saturating_sub(track.round);
        let still = elapsed.saturating_sub(track.since);
        let failures = log.path_failures.saturating_sub(track.failures.min(log.path_failures));
        // The stuck signature: path failures piling up since the window began (a restart's
        // fresh log counts from zero).
        let failing = log.path_failures >= FAILURES && failures > 0;
        let silent = log.bytes == track.bytes;
        let by_rounds = rounds >= if failing { FAILING_ROUNDS } else { STALL_ROUNDS };
        if !by_rounds && still < self.backstop {
            return None;
        }
        // A stopped router is not running: restart it.
        let step = if log.halted { LADDER.len().saturating_sub(1).max(track.tried) } else { track.tried };
        let action = *LADDER.get(step)?;
        let mut reason = if by_rounds {
            format!("no progress over {rounds} new consensuses ({} s) at {}", still.as_secs(), log.summary)
        } else {
            format!("no progress and no consensus for {} s at {}", still.as_secs(), log.summary)
        };
        if failing {
            reason.push_str(&format!("; {} \"Failed to find node for hop\" lines", log.path_failures));
        }
        if log.halted {
            reason.push_str("; its process is stopped");
        }
        if silent {
            reason.push_str("; its log did not grow");
        }
        // The action gets a whole window to work; a restart begins again from 0 % and an
        // empty log.
        *track = Track::at(log, net, elapsed, step + 1);
        if action == Action::Restart {
            track.percent = 0;
            track.bytes = 0;
            track.failures = 0;
        }
        Some(Recovery { at_seconds: elapsed.as_secs(), router: router.to_string(), reason, action })
    }
}

/// Recoveries as one line (for errors and `net up`'s report).
pub fn summary(recoveries: &[Recovery]) -> String {
    if recoveries.is_empty() {
        return "none".into();
    }
    recoveries.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client stuck at 95 %, in tor 0.4.9's log format: its bootstrap lines as a live
    /// network's client logs them, then the path failure FIELD-NOTES.md reports.
    const STUCK: &str = "\
Dec 03 18:02:11.000 [notice] Bootstrapped 0% (starting): Starting
Dec 03 18:02:11.000 [notice] Starting with guard context \"default\"
Dec 03 18:02:12.000 [notice] Bootstrapped 5% (conn): Connecting to a relay
Dec 03 18:02:12.000 [notice] Bootstrapped 10% (conn_done): Connected to a relay
Dec 03 18:02:12.000 [notice] Bootstrapped 14% (handshake): Handshaking with a relay
Dec 03 18:02:12.000 [notice] Bootstrapped 15% (handshake_done): Handshake with a relay done
Dec 03 18:02:12.000 [notice] Bootstrapped 75% (enough_dirinfo): Loaded enough directory info to build circuits
Dec 03 18:02:12.000 [notice] Bootstrapped 90% (ap_handshake_done): Handshake finished with a relay to build circuits
Dec 03 18:02:12.000 [notice] Bootstrapped 95% (circuit_create): Establishing a Tor circuit
Dec 03 18:02:13.000 [warn] Failed to find node for hop #2 of our path. Discarding this circuit.
Dec 03 18:02:14.000 [warn] Failed to find node for hop #2 of our path. Discarding this circuit.
Dec 03 18:02:15.000 [warn] Failed to find node for hop #2 of our path. Discarding this circuit.
";

    #[test]
    fn the_log_says_where_a_router_is() {
        let p = read_log(STUCK);
        assert_eq!(p.percent, 95);
        assert!(p.summary.starts_with("95% (circuit_create)"), "{}", p.summary);
        assert_eq!(p.path_failures, 3);
        assert!(p.last_warning.as_deref().is_some_and(|w| w.contains("hop #2")));
        let done = format!("{STUCK}Dec 03 18:03:01.000 [notice] Bootstrapped 100% (done): Done\n");
        let p = read_log(&done);
        assert_eq!((p.percent, p.path_failures, p.last_warning), (100, 0, None));
        assert_eq!(read_log("").percent, 0);
        assert_eq!(read_log("[notice] Bootstrapped x% garbage").percent, 0);
    }

    /// The network after `rounds` consensuses listing `relays` relays with `flags` flags.
    fn net(rounds: u32, relays: usize, flags: usize) -> NetProgress {
        NetProgress { rounds, relays, flags }
    }

    /// The first `n` lines of `log` as the router's log reads at that moment.
    fn first_lines(log: &str, n: usize) -> LogProgress {
        read_log(&log.split_inclusive('\n').take(n).collect::<String>())
    }

    #[test]
    fn real_logs_of_a_live_network_read_as_bootstrapped() {
        // Captured from a running private network (also the tor_log fuzz target's seeds).
        for log in [
            include_str!("../../../fuzz/seeds/tor_log/client-notice.log"),
            include_str!("../../../fuzz/seeds/tor_log/onionhost-notice.log"),
            include_str!("../../../fuzz/seeds/tor_log/auth1-notice.log"),
        ] {
            let p = read_log(log);
            assert_eq!(p.percent, 100, "{}", p.summary);
            assert!(p.summary.starts_with("100% (done)"), "{}", p.summary);
            assert_eq!(p.bytes, log.len());
            assert_eq!(Watchdog::new(Duration::from_secs(1)).observe("r", &p, net(9, 9, 50), Duration::from_secs(999)), None);
        }
        // The same log cut before its last bootstrap step is progress, not completion.
        let client = include_str!("../../../fuzz/seeds/tor_log/client-notice.log");
        let cut = &client[..client.find("Bootstrapped 100%").unwrap_or(0)];
        assert!(read_log(cut).percent < 100);
    }

    #[test]
    fn a_consensus_is_read_for_its_round_relays_and_flags() {
        let text = "network-status-version 3 microdesc\nvalid-after 2026-11-25 08:00:00\n\
            r auth1 AAAA BBBB 2026-11-25 07:59:00 127.5.0.1 5100 7100\ns Authority Fast Running V2Dir Valid\nw Bandwidth=20\n\
            r relay1 CCCC DDDD 2026-11-25 07:59:00 127.5.0.4 5100 7100\ns Fast Guard HSDir Running Valid\n";
        let c = read_consensus(text).expect("a consensus");
        assert_eq!(c, ConsensusSeen { valid_after: "2026-11-25 08:00:00".into(), relays: 2, flags: 10 });
        assert_eq!(read_consensus(""), None);
        assert_eq!(read_consensus("r x y z\n"), None, "no valid-after: a torn file, not a consensus");
        // The same consensus read from two routers is one round; a new valid-after is the next.
        let (mut p, mut seen) = (NetProgress::default(), std::collections::BTreeSet::new());
        p.add(&mut seen, c.clone());
        p.add(&mut seen, c.clone());
        assert_eq!(p, net(1, 2, 10));
        p.add(&mut seen, ConsensusSeen { valid_after: "2026-11-25 08:00:20".into(), relays: 1, flags: 3 });
        assert_eq!(p, net(2, 2, 10), "a smaller consensus does not lower what was listed");
    }

    /// A bootstrap on a machine running several builds, as the old watchdog (60 s at one
    /// step, 30 s with path failures) saw it and recovered for nothing: the first consensus
    /// comes after two minutes (the client's requests get 404s meanwhile), relays join the
    /// consensus one or two a round, and the client sits at 95 % with path failures while
    /// the consensus still grows, then finishes. Nothing here is stuck.
    #[test]
    fn a_slow_but_progressing_bootstrap_is_left_alone() {
        let log = include_str!("../../../fuzz/seeds/tor_log/client-notice.log");
        let hop = "Dec 03 18:24:05.000 [warn] Failed to find node for hop #2 of our path. Discarding this circuit.\n";
        // The log up to the end of the line saying `step`, with `extra` lines after it.
        let upto = |step: &str, extra: &str| {
            let end = log.find(step).and_then(|i| log[i..].find('\n').map(|j| i + j + 1)).unwrap_or(0);
            read_log(&format!("{}{extra}", &log[..end]))
        };
        let not_found = "Dec 03 18:23:46.000 [warn] Received http status code 404 (\"Not found\") from server 127.81.0.3:5103 while fetching consensus directory.\n";
        let failing = |n: usize| upto("Bootstrapped 95%", &hop.repeat(n));
        let s = Duration::from_secs;
        let mut w = Watchdog::new(s(150));
        // (seconds, log, network): one observation every ten seconds or so.
        let mut seq: Vec<(u64, LogProgress, NetProgress)> = Vec::new();
        // Waiting for the first consensus at 30 % (404s), two minutes and more.
        seq.push((0, upto("Bootstrapped 0%", ""), net(0, 0, 0)));
        for t in (10..=140).step_by(10) {
            seq.push((t, upto("Bootstrapped 30%", &not_found.repeat(t as usize / 20)), net(0, 0, 0)));
        }
        // The first consensus lists the three authorities; the client climbs to 95 %.
        seq.push((145, upto("Bootstrapped 50%", ""), net(1, 3, 12)));
        seq.push((170, upto("Bootstrapped 90%", ""), net(2, 3, 12)));
        seq.push((190, failing(0), net(3, 3, 12)));
        // Relays join, one or two a round, slowly; the client keeps failing its paths at 95 %.
        for (i, t) in (200..=320).step_by(10).enumerate() {
            let round = 3 + (t - 190) as u32 / 25;
            let relays = 3 + (t as usize - 190) / 40;
            seq.push((t, failing(i + 1), net(round, relays, 12 + 5 * (relays - 3))));
        }
        seq.push((330, read_log(log), net(9, 6, 27)));
        for (t, log, n) in &seq {
            assert_eq!(w.observe("client", log, *n, s(*t)), None, "a recovery at {t} s for a slow bootstrap ({})", log.summary);
        }
    }

    /// The FIELD-NOTES.md failure: the consensus stopped growing (a relay missing from it),
    /// and the client sits at 95 % failing its paths round after round. New votes after two
    /// such rounds, a restart after two more, then the deadline decides.
    #[test]
    fn a_stuck_router_gets_new_votes_then_a_restart_then_nothing() {
        let s = Duration::from_secs;
        let mut w = Watchdog::new(s(150));
        let lines = STUCK.lines().count();
        let before = first_lines(STUCK, lines - 3);
        let stuck = read_log(STUCK);
        let more = read_log(&format!("{STUCK}{}", STUCK.lines().last().map(|l| format!("{l}\n")).unwrap_or_default().repeat(3)));
        let mut done = Vec::new();
        assert_eq!(w.observe("client", &before, net(4, 9, 40), s(80)), None);
        assert_eq!(w.observe("client", &stuck, net(5, 9, 40), s(100)), None, "one round of failures is not stuck");
        let first = w.observe("client", &stuck, net(6, 9, 40), s(120)).expect("two rounds of path failures without progress");
        assert_eq!(first.action, Action::NewVotes);
        assert!(first.reason.contains("2 new consensuses") && first.reason.contains("95% (circuit_create)"), "{}", first.reason);
        assert!(first.reason.contains("3 \"Failed"), "{}", first.reason);
        done.push(first.clone());
        // New votes get their rounds; more path failures follow and the network still lists nine.
        assert_eq!(w.observe("client", &more, net(7, 9, 40), s(140)), None, "new votes get their time");
        let second = w.observe("client", &more, net(8, 9, 40), s(160)).expect("still stuck");
        assert_eq!(second.action, Action::Restart);
        done.push(second);
        // After the restart the log begins again.
        let restarted = read_log("[notice] Bootstrapped 0% (starting): Starting\n");
        assert_eq!(w.observe("client", &restarted, net(8, 9, 40), s(165)), None);
        assert_eq!(w.observe("client", &restarted, net(30, 9, 40), s(900)), None, "the ladder is used up: the deadline decides");
        let line = summary(&done);
        assert!(line.contains("client at 120 s: new votes") && line.contains("client at 160 s: restart"), "{line}");
    }

    /// A router that stopped (SIGSTOP) writes nothing: after three rounds in which the rest
    /// of the network made no progress either it is restarted, not HUPed.
    #[test]
    fn a_stopped_router_is_restarted_at_once() {
        let s = Duration::from_secs;
        let mut w = Watchdog::new(s(150));
        let frozen = LogProgress { halted: true, ..read_log("Dec 03 18:02:11.000 [notice] Bootstrapped 0% (starting): Starting\n") };
        assert_eq!(w.observe("relay2", &frozen, net(0, 0, 0), s(2)), None);
        // The others assemble the network without it: each larger consensus is progress.
        for (t, r) in [(40, 3), (60, 6), (80, 8)] {
            assert_eq!(w.observe("relay2", &frozen, net(r as u32 / 3 + 1, r, r * 5), s(t)), None);
        }
        assert_eq!(w.observe("relay2", &frozen, net(4, 8, 40), s(100)), None);
        assert_eq!(w.observe("relay2", &frozen, net(5, 8, 40), s(120)), None);
        let r = w.observe("relay2", &frozen, net(6, 8, 40), s(140)).expect("three rounds without a byte of log");
        assert_eq!(r.action, Action::Restart);
        assert!(r.reason.contains("3 new consensuses") && r.reason.contains("process is stopped"), "{}", r.reason);
        // Started again, it climbs: no more recoveries.
        let up = read_log("[notice] Bootstrapped 0% (starting): Starting\n[notice] Bootstrapped 50% (x): y\n");
        assert_eq!(w.observe("relay2", &up, net(7, 8, 40), s(150)), None);
        assert_eq!(w.observe("relay2", &up, net(8, 8, 40), s(170)), None);
    }

    /// A tor waiting at 95 % for its circuits can write nothing for minutes (a cold run's
    /// client did): a silent log of a process that runs gets new votes first, not a restart.
    #[test]
    fn a_quiet_router_that_runs_gets_new_votes_before_a_restart() {
        let s = Duration::from_secs;
        let mut w = Watchdog::new(s(150));
        let quiet = read_log("[notice] Bootstrapped 95% (circuit_create): Establishing a Tor circuit\n");
        assert_eq!(w.observe("relay1", &quiet, net(5, 9, 40), s(60)), None);
        assert_eq!(w.observe("relay1", &quiet, net(6, 9, 40), s(80)), None);
        assert_eq!(w.observe("relay1", &quiet, net(7, 9, 40), s(100)), None);
        let first = w.observe("relay1", &quiet, net(8, 9, 40), s(120)).expect("three rounds without progress");
        assert_eq!(first.action, Action::NewVotes, "{first}");
        assert!(first.reason.contains("did not grow") && !first.reason.contains("stopped"), "{}", first.reason);
        // Still silent three rounds after the new votes: now it is restarted.
        assert_eq!(w.observe("relay1", &quiet, net(10, 9, 40), s(160)), None);
        let second = w.observe("relay1", &quiet, net(11, 9, 40), s(180)).expect("still stuck");
        assert_eq!(second.action, Action::Restart, "{second}");
    }

    /// Replays a recorded bootstrap (`watchdog/*.txt`, made by `scripts/net-record`, slowed with `scripts/net-throttle`) through
    /// a watchdog: each sample's consensuses, then each router below 100 %.
    fn replay(recording: &str) -> Vec<Recovery> {
        let mut w = Watchdog::new(Duration::from_secs(150));
        let (mut net, mut seen, mut done) = (NetProgress::default(), std::collections::BTreeSet::new(), Vec::new());
        for line in recording.lines().filter(|l| !l.starts_with('#')) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let secs = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok()).map(Duration::from_secs);
            match words.first() {
                Some(&"consensus") => {
                    let rest = words[2..].join(" ");
                    let mut parts = rest.split('|');
                    let (va, relays, flags) = (parts.next(), parts.next(), parts.next());
                    let num = |p: Option<&str>| p.and_then(|n| n.parse().ok()).expect("a number");
                    net.add(
                        &mut seen,
                        ConsensusSeen { valid_after: va.expect("valid-after").into(), relays: num(relays), flags: num(flags) },
                    );
                }
                Some(&"router") => {
                    let num = |i: usize| words.get(i).and_then(|n| n.parse::<usize>().ok()).expect("a number");
                    let percent = u32::try_from(num(3)).expect("a percent");
                    if percent >= 100 {
                        continue;
                    }
                    let log = LogProgress {
                        percent,
                        summary: format!("{percent}% (recorded)"),
                        path_failures: u32::try_from(num(5)).expect("a count"),
                        last_warning: None,
                        bytes: num(4),
                        halted: words.get(6) == Some(&"stopped"),
                    };
                    done.extend(w.observe(words[2], &log, net, secs(1).expect("seconds")));
                }
                _ => panic!("not a recording line: {line}"),
            }
        }
        done
    }

    /// The longest time a router of `recording` sat at one percentage below 100.
    fn longest_wait(recording: &str) -> u64 {
        let mut since: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
        let mut longest = 0;
        for w in recording.lines().map(|l| l.split_whitespace().collect::<Vec<_>>()).filter(|w| w.first() == Some(&"router")) {
            let t: u64 = w[1].parse().expect("seconds");
            let at = since.entry(w[2]).or_insert((w[3], t));
            if at.0 != w[3] {
                *at = (w[3], t);
            } else if w[3] != "100" {
                longest = longest.max(t - at.1);
            }
        }
        longest
    }

    #[test]
    fn a_recorded_slow_bootstrap_gets_no_recovery() {
        let recording = include_str!("watchdog/slow-bootstrap.txt");
        // A router waited longer at one step than the old rule (60 s at one step) allowed.
        assert!(longest_wait(recording) > 60, "{}", longest_wait(recording));
        assert_eq!(replay(recording), Vec::new());
    }

    #[test]
    fn a_recorded_frozen_relay_is_restarted_and_no_other_router_is_touched() {
        // The recording ends with the run's own restart of relay2 (its log moves on at 105 s,
        // sampled just before the consensus that completed the watchdog's window); replayed,
        // relay2 stays as a stopped process stays: at 0 % with the same log.
        let recording: String = include_str!("watchdog/frozen-relay2.txt")
            .lines()
            .map(|l| match l.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["router", t, "relay2", ..] => format!("router {t} relay2 0 2590 0 stopped\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        let done = replay(&recording);
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!((done[0].router.as_str(), done[0].action), ("relay2", Action::Restart), "{done:?}");
        assert!(done[0].reason.contains("process is stopped") && done[0].reason.contains("3 new consensuses"), "{}", done[0].reason);
        assert!((100..=110).contains(&done[0].at_seconds), "{done:?}");
    }

    #[test]
    fn a_network_that_never_votes_meets_the_backstop() {
        let s = Duration::from_secs;
        let mut w = Watchdog::new(s(150));
        let at = |pct: u32, extra: &str| read_log(&format!("[notice] Bootstrapped {pct}% (x): y\n{extra}"));
        assert_eq!(w.observe("relay1", &at(5, ""), net(0, 0, 0), s(0)), None);
        assert_eq!(w.observe("relay1", &at(10, ""), net(0, 0, 0), s(100)), None, "progress resets the window");
        assert_eq!(w.observe("relay1", &at(10, "[warn] 404\n"), net(0, 0, 0), s(249)), None);
        let r = w.observe("relay1", &at(10, "[warn] 404\n[warn] 404\n"), net(0, 0, 0), s(250)).expect("150 s without any progress");
        assert_eq!(r.action, Action::NewVotes, "its log still grows: it runs");
        assert!(r.reason.contains("no consensus for 150 s"), "{}", r.reason);
        assert_eq!(w.observe("relay1", &at(100, ""), net(0, 0, 0), s(500)), None);
        assert_eq!(summary(std::slice::from_ref(&r)), r.to_string());
        assert_eq!(summary(&[]), "none");
    }
}
