//! Scenario model round trip: a scenario the loader accepts, written back as RON, must
//! load again to the same scenario.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(first) = sim_core::scenario::load_str("fuzz.ron", text) else { return };
    let written = ron::ser::to_string_pretty(&first, ron::ser::PrettyConfig::default()).unwrap_or_else(|e| panic!("serialise: {e}"));
    let second = sim_core::scenario::load_str("again.ron", &written).unwrap_or_else(|d| panic!("reload: {}\n{written}", d.render(false)));
    assert_eq!(first, second, "a scenario changed on its way through RON");
});
