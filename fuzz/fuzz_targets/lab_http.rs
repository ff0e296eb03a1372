//! The lab's API in process over the shipped world: request bodies (captures, browsing,
//! legal requests, case files), path parameters and tokens, as any team member (or no
//! one) could send them. A 500 (the lab failing inside) or a
//! panic, is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(req) = darklab_fuzz::decode_request(data) else { return };
    let Some(req) = req.to_axum() else { return };
    darklab_fuzz::with_world(|w| {
        let status = w.rt.block_on(darklab_fuzz::oneshot(&w.lab, req));
        assert_ne!(status, 500, "the lab failed inside on a request");
    });
});
