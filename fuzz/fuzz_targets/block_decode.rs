//! Block bytes: decode, round-trip, then every block rule against a small chain (proof of
//! work, merkle root, coinbase, witness commitment, each transaction). Never a panic.
#![no_main]

use std::cell::OnceCell;

use bitcoin::Block;
use bitcoin::consensus::encode::{deserialize, serialize};
use coin_sim::SharedChain;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static CHAIN: OnceCell<SharedChain> = const { OnceCell::new() };
}

fuzz_target!(|data: &[u8]| {
    let Ok(block) = deserialize::<Block>(data) else { return };
    let again: Block = deserialize(&serialize(&block)).unwrap_or_else(|e| panic!("re-decoding an encoded block: {e}"));
    assert_eq!(block, again, "a block changed on its way through its encoding");
    CHAIN.with(|c| {
        let chain = c.get_or_init(darklab_fuzz::small_chain);
        let chain = coin_sim::chain::lock(chain);
        let _ = chain.check_block(&block);
    });
});
