//! A consensus document as an authority caches it (`cached-consensus`): the network map
//! reads relays, flags and bandwidth from it without panicking, and its text view renders.
#![no_main]

use game::net::consensus::{NetworkMap, parse_consensus};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (valid_after, relays) = parse_consensus(&text);
    assert!(relays.len() <= text.lines().count(), "more relays than lines");
    for r in &relays {
        assert!(r.address.contains(':'), "relay address without a port: {r:?}");
    }
    let map = NetworkMap { valid_after, relays, ..NetworkMap::default() };
    let _ = map.render();
    let json = serde_json::to_vec(&map).unwrap_or_else(|e| panic!("encode map: {e}"));
    let again: NetworkMap = serde_json::from_slice(&json).unwrap_or_else(|e| panic!("decode encoded map: {e}"));
    assert_eq!(map, again);
});
