//! A router's notice log as the bootstrap watchdog reads it: progress, path failures and
//! warnings read without panicking, and the watchdog's decisions over a series of such
//! logs — the network's consensus rounds advancing, sometimes listing more relays — never
//! climb past its ladder of recoveries nor recover a bootstrapped router.
#![no_main]

use std::time::Duration;

use game::net::watchdog::{NetProgress, Watchdog, read_consensus, read_log};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The same bytes as a consensus document: read without panicking.
    if let Some(c) = read_consensus(&text) {
        assert!(c.relays <= text.lines().count(), "{c:?}");
    }
    let mut watchdog = Watchdog::new(Duration::from_secs(150));
    let mut recoveries = 0;
    // The log as it grows, one line more each 10 s; a consensus round every other line,
    // and a line's length deciding whether that round listed another relay.
    let mut end = 0;
    let mut net = NetProgress::default();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        end += line.len();
        if i % 2 == 1 {
            net.rounds += 1;
            net.relays += line.len() % 2;
        }
        let progress = read_log(&text[..end]);
        assert_eq!(progress.bytes, end);
        let recovery = watchdog.observe("r", &progress, net, Duration::from_secs(10 * i as u64));
        assert!(progress.percent < 100 || recovery.is_none(), "a recovery for a bootstrapped router");
        recoveries += usize::from(recovery.is_some());
    }
    assert!(recoveries <= 2, "more recoveries than the ladder has: {recoveries}");
});
