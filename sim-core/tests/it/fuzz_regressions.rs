//! Inputs cargo-fuzz found (fuzz/crashes/, copied into tests/fuzz-regressions/ so the crate
//! does not depend on the fuzz folder): each must give located diagnostics, quickly.

use std::time::{Duration, Instant};

use sim_core::scenario::load_str;

/// Loads `text` as the fuzz targets do and returns the first rendered line, checking that
/// the loader answered well inside the fuzzer's limits (it used to hang or run out of memory).
// A marked edge: the test measures the loader's real running time, not world time.
#[allow(clippy::disallowed_methods)]
fn load_fast(text: &str) -> String {
    let started = Instant::now();
    let err = match load_str("fuzz.ron", text) {
        Ok(_) => panic!("a mutated scenario loaded without errors"),
        Err(d) => d,
    };
    let rendered = err.render(false);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the loader took {took:?}");
    assert!(!err.is_empty());
    assert!(rendered.contains('│'), "no source snippet in\n{rendered}");
    rendered.lines().next().unwrap_or_default().to_string()
}

/// `r##  grounds:` inside a struct: the locator's field loop made no progress (libFuzzer
/// timeout in `scenario_load`).
#[test]
fn scenario_load_timeout_609df5b7_gives_a_located_error() {
    let text = std::str::from_utf8(include_bytes!("../fuzz-regressions/scenario-load-timeout-609df5b7.ron")).unwrap();
    let line = load_fast(text);
    assert_eq!(line, "fuzz.ron:200:8: error: solution[3].Request: expected an identifier (a field or variant name)");
}

/// `r#      id:` inside a list: the locator pushed empty items forever (4.8 GB in
/// `scenario_roundtrip`).
#[test]
fn scenario_roundtrip_oom_add650e1_gives_a_located_error() {
    let text = std::str::from_utf8(include_bytes!("../fuzz-regressions/scenario-roundtrip-oom-add650e1.ron")).unwrap();
    let line = load_fast(text);
    assert_eq!(line, "fuzz.ron:88:13: error: cast[0].script[3].action.List.listing: expected an identifier (a field or variant name)");
}
