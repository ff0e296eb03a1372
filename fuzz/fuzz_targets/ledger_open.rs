//! A ledger file as found on disk (tampered, torn, truncated): opening it verifies the
//! chain and cuts a torn tail, and answers an error for anything else — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    if std::fs::write(dir.path().join(game::ledger::LEDGER_FILE), data).is_err() {
        return;
    }
    if let Ok(ledger) = game::ledger::Ledger::open(dir.path()) {
        let _ = ledger.verify();
        let _ = ledger.entries().len();
    }
});
