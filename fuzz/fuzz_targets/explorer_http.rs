//! The explorer's Esplora API in process: any method, path, query, header and body against
//! a small chain. Every answer is a status; no input panics a handler.
#![no_main]

use std::cell::OnceCell;

use axum::Router;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static FIXTURE: OnceCell<(tokio::runtime::Runtime, Router)> = const { OnceCell::new() };
}

fuzz_target!(|data: &[u8]| {
    let Some(req) = darklab_fuzz::decode_request(data) else { return };
    let Some(req) = req.to_axum() else { return };
    FIXTURE.with(|f| {
        let (rt, router) = f.get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("runtime: {e}"));
            (rt, coin_sim::explorer::router(darklab_fuzz::small_chain()))
        });
        rt.block_on(darklab_fuzz::oneshot(router, req));
    });
});
