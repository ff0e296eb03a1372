//! A router's notice log as the bootstrap watchdog reads it: progress, path failures and
//! warnings read without panicking, and the watchdog's decisions over a series of such
//! logs never climb past its ladder of recoveries.
#![no_main]

use std::time::Duration;

use game::net::watchdog::{Watchdog, read_log};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut watchdog = Watchdog::new(Duration::from_secs(40));
    let mut recoveries = 0;
    // The log as it grows, one line more each 10 s.
    let mut end = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        end += line.len();
        let progress = read_log(&text[..end]);
        let recovery = watchdog.observe("r", &progress, Duration::from_secs(10 * i as u64));
        assert!(progress.percent < 100 || recovery.is_none(), "a recovery for a bootstrapped router");
        recoveries += usize::from(recovery.is_some());
    }
    assert!(recoveries <= 2, "more recoveries than the ladder has: {recoveries}");
});
