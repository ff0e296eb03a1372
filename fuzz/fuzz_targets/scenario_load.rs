//! Scenario text (RON) through the loader: parse, every check, the solver and the
//! variants. Whatever the text, the answer is a scenario or located diagnostics — never a
//! panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match sim_core::scenario::load_str("fuzz.ron", text) {
        Ok(s) => {
            let _ = sim_core::scenario::summary::summary(&s);
        }
        Err(d) => {
            // Rendering points into the source: spans must stay inside it.
            let _ = d.render(false);
        }
    }
});
