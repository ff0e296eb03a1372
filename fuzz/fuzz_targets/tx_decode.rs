//! Transaction bytes as the explorer's `POST /tx` and a peer's block receive them: decode,
//! round-trip, then every consensus and policy rule against a small chain. Bad bytes are a
//! `Reject`, never a panic.
#![no_main]

use std::cell::OnceCell;

use bitcoin::Transaction;
use bitcoin::consensus::encode::{deserialize, serialize};
use coin_sim::{ChainParams, SharedChain};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static CHAIN: OnceCell<SharedChain> = const { OnceCell::new() };
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = deserialize::<Transaction>(data) {
        let again: Transaction = deserialize(&serialize(&tx)).unwrap_or_else(|e| panic!("re-decoding an encoded transaction: {e}"));
        assert_eq!(tx, again, "a transaction changed on its way through its encoding");
        let _ = coin_sim::validate::check_transaction(&tx);
        let _ = coin_sim::validate::check_standard(&tx, &ChainParams::default());
    }
    CHAIN.with(|c| {
        let chain = c.get_or_init(darklab_fuzz::small_chain);
        let mut chain = coin_sim::chain::lock(chain);
        let _ = chain.submit_tx_bytes(data);
        if let Ok(hex) = std::str::from_utf8(data) {
            let _ = chain.submit_tx_hex(hex);
        }
    });
});
