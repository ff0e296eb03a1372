//! `coin-bench`: the coin simulator's three performance numbers, in one run.
//!
//! 1. Validation of a 2-input, 2-output P2WPKH transaction ([`Chain::test_accept`]: every
//!    mempool rule) beside two raw secp256k1 ECDSA verifications, per core.
//! 2. `GET /address/:address/txs` for an address with 1,000 transactions: p50/p99 latency
//!    on loopback from a Rust client (one connection, sequential requests).
//! 3. Applying a 2,000-transaction block ([`Chain::submit_block`]: full validation, block
//!    store append with fsync, UTXO update) on one core.
//!
//! Run with `cargo run --release -p coin-sim --bin coin-bench`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]
// The benchmark measures real elapsed time; that is its job (Instant::now is allowed here).

use std::time::{Duration, Instant};

use bitcoin::hashes::Hash as _;
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{Address, Amount, Transaction};
use coin_sim::{Chain, ChainParams, Utxo, Wallet, shared};

const T0: u32 = 1_772_352_000;
const COIN: u64 = 100_000_000;

fn coins(chain: &Chain, a: &Address) -> Vec<Utxo> {
    chain.address_utxos(a).into_iter().map(|u| u.utxo).collect()
}

fn bench_validation() {
    let mut w = Wallet::from_seed([1; 32]);
    let (a1, a2) = (w.new_address(), w.new_address());
    let dest = Wallet::from_seed([2; 32]).new_address();
    let chain = Chain::new(ChainParams::default(), T0, &[(a1.clone(), COIN), (a2.clone(), COIN)]).unwrap();
    let mut all = coins(&chain, &a1);
    all.extend(coins(&chain, &a2));
    let tx: Transaction = w.build_and_sign(&all, &[(dest, 3 * COIN / 2)], 2, &a1).unwrap();
    assert_eq!((tx.input.len(), tx.output.len()), (2, 2));
    chain.test_accept(&tx).unwrap();

    // The two raw checks: parsed keys and signatures, precomputed sighashes.
    let secp = Secp256k1::verification_only();
    let mut cache = SighashCache::new(&tx);
    let checks: Vec<_> = (0..2)
        .map(|i| {
            let u = &all.iter().find(|u| u.outpoint == tx.input[i].previous_output).unwrap();
            let wit = &tx.input[i].witness;
            let sig = bitcoin::ecdsa::Signature::from_slice(wit.nth(0).unwrap()).unwrap();
            let pk = bitcoin::PublicKey::from_slice(wit.nth(1).unwrap()).unwrap();
            let h = cache.p2wpkh_signature_hash(i, &u.script_pubkey, Amount::from_sat(u.value_sat), EcdsaSighashType::All).unwrap();
            (Message::from_digest(h.to_byte_array()), sig.signature, pk.inner)
        })
        .collect();
    let n = 20_000u32;
    let mut t_raw = Duration::ZERO;
    let mut t_val = Duration::ZERO;
    // Interleave in rounds so both see the same machine conditions.
    for _ in 0..10 {
        let s = Instant::now();
        for _ in 0..n / 10 {
            for (m, sig, pk) in &checks {
                secp.verify_ecdsa(m, sig, pk).unwrap();
            }
        }
        t_raw += s.elapsed();
        let s = Instant::now();
        for _ in 0..n / 10 {
            std::hint::black_box(chain.test_accept(std::hint::black_box(&tx)).unwrap());
        }
        t_val += s.elapsed();
    }
    let raw_us = t_raw.as_secs_f64() * 1e6 / f64::from(n);
    let val_us = t_val.as_secs_f64() * 1e6 / f64::from(n);
    println!("validation, 2-in/2-out P2WPKH (Chain::test_accept): {val_us:.1} µs/tx = {:.0} tx/s per core", 1e6 / val_us);
    println!("raw secp256k1 ECDSA verify x2:                      {raw_us:.1} µs    = {:.0} pairs/s per core", 1e6 / raw_us);
    println!("ratio whole validation / two signature checks:     {:.2}x (target <= 1.3x)", val_us / raw_us);
}

fn bench_explorer() {
    let mut alice = Wallet::from_seed([3; 32]);
    let a1 = alice.new_address();
    let target = Wallet::from_seed([4; 32]).new_address();
    let miner = Wallet::from_seed([5; 32]).new_address();
    let mut chain = Chain::new(ChainParams::default(), T0, &[(a1.clone(), 1000 * COIN)]).unwrap();
    // 1,000 transactions paying `target`: 100 blocks of 10 chained payments.
    for b in 0..100u32 {
        for _ in 0..10 {
            let c = coins(&chain, &a1);
            let tx = alice.build_and_sign(&c, &[(target.clone(), 10_000)], 2, &a1).unwrap();
            chain.submit_tx(&tx).unwrap();
        }
        chain.mine_block(T0 + 600 * (b + 1), &miner).unwrap();
    }
    assert_eq!(chain.address_stats(&target).chain.tx_count, 1000);
    let shared = shared(chain);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, coin_sim::explorer::router(shared)).await.unwrap() });
        let http = reqwest::Client::new();
        let url = format!("http://{addr}/address/{target}/txs");
        for _ in 0..100 {
            http.get(&url).send().await.unwrap().bytes().await.unwrap();
        }
        let mut lat = Vec::with_capacity(2000);
        for _ in 0..2000 {
            let s = Instant::now();
            let body = http.get(&url).send().await.unwrap().bytes().await.unwrap();
            lat.push(s.elapsed());
            assert!(body.len() > 1000);
        }
        lat.sort();
        let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e3;
        println!(
            "GET /address/:a/txs (1,000 txs, first page): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 < 5 ms)",
            p(0.5),
            p(0.99),
            p(1.0)
        );
    });
}

fn bench_block_apply() {
    let mut w = Wallet::from_seed([6; 32]);
    let funded: Vec<Address> = (0..2000).map(|_| w.new_address()).collect();
    let allocs: Vec<(Address, u64)> = funded.iter().map(|a| (a.clone(), 2 * COIN)).collect();
    let dir = std::env::temp_dir().join(format!("coin-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut chain = Chain::open(&dir, ChainParams::default(), T0, &allocs).unwrap();
    let dest = Wallet::from_seed([7; 32]).new_address();
    // 2,000 transactions, each spending one coin into a payment and change.
    let mut scratch = chain.clone();
    for a in &funded {
        let c = coins(&scratch, a);
        let tx = w.build_and_sign(&c, &[(dest.clone(), COIN / 2)], 2, a).unwrap();
        scratch.submit_tx(&tx).unwrap();
    }
    let miner = Wallet::from_seed([8; 32]).new_address();
    let hash = scratch.mine_block(T0 + 600, &miner).unwrap();
    let block = scratch.block_by_hash(&hash).unwrap().clone();
    assert_eq!(block.txdata.len(), 2001);
    let s = Instant::now();
    chain.submit_block(block).unwrap();
    let el = s.elapsed();
    println!("apply a 2,000-transaction block (validate all, append+fsync, connect): {:.1} ms (target < 500 ms)", el.as_secs_f64() * 1e3);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    bench_validation();
    bench_explorer();
    bench_block_apply();
}
