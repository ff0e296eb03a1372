//! Unit tests of the chain rules: acceptance, each reject reason, mining and determinism.

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Target, Transaction, TxIn, TxOut, Witness};

use super::*;
use crate::query::TxStatus;
use crate::wallet::{Utxo, Wallet};

const T0: u32 = 1_772_352_000;
const COIN: u64 = 100_000_000;

struct Fixture {
    chain: Chain,
    alice: Wallet,
    a1: Address,
    bob: Wallet,
    b1: Address,
}

fn fixture() -> Fixture {
    let mut alice = Wallet::from_seed([1; 32]);
    let a1 = alice.new_address();
    let mut bob = Wallet::from_seed([2; 32]);
    let b1 = bob.new_address();
    let chain = Chain::new(ChainParams::default(), T0, &[(a1.clone(), 10 * COIN), (b1.clone(), COIN)]).unwrap();
    Fixture { chain, alice, a1, bob, b1 }
}

fn coins(chain: &Chain, a: &Address) -> Vec<Utxo> {
    chain.address_utxos(a).into_iter().map(|u| u.utxo).collect()
}

fn pay(f: &Fixture, to: &Address, sat: u64) -> Transaction {
    f.alice.build_and_sign(&coins(&f.chain, &f.a1), &[(to.clone(), sat)], 2, &f.a1).unwrap()
}

#[test]
fn genesis_pays_allocations_spendable_at_once() {
    let f = fixture();
    assert_eq!(f.chain.height(), 0);
    assert_eq!(f.chain.address_stats(&f.a1).confirmed_balance_sat(), 10 * COIN);
    assert_eq!(f.chain.address_stats(&f.b1).confirmed_balance_sat(), COIN);
    let u = &f.chain.address_utxos(&f.a1)[0];
    assert!(!f.chain.utxo(&u.utxo.outpoint).unwrap().is_coinbase);
}

#[test]
fn payment_is_accepted_mined_and_moves_balances() {
    let mut f = fixture();
    let tx = pay(&f, &f.b1, 3 * COIN);
    let txid = f.chain.submit_tx(&tx).unwrap();
    let info = f.chain.tx(&txid).unwrap();
    assert_eq!(info.status, TxStatus::Mempool);
    assert!(info.fee_sat >= 2 * tx.vsize() as u64);
    assert_eq!(f.chain.address_stats(&f.b1).total_balance_sat(), 4 * COIN);
    assert_eq!(f.chain.address_txs(&f.b1)[0].txid, txid);

    let miner = Wallet::from_seed([9; 32]).new_address();
    let hash = f.chain.mine_block(T0 + 600, &miner).unwrap();
    assert_eq!(f.chain.height(), 1);
    assert_eq!(f.chain.tx(&txid).unwrap().status, TxStatus::Confirmed { block_hash: hash, height: 1, time: T0 + 600 });
    assert_eq!(f.chain.address_stats(&f.b1).confirmed_balance_sat(), 4 * COIN);
    assert_eq!(f.chain.address_stats(&f.a1).confirmed_balance_sat(), 7 * COIN - info.fee_sat);
    assert_eq!(f.chain.address_stats(&miner).confirmed_balance_sat(), 50 * COIN + info.fee_sat);
    assert!(f.chain.mempool_txids().is_empty());
    let stats = f.chain.address_stats(&f.a1).chain;
    assert_eq!((stats.funded_txo_count, stats.spent_txo_count, stats.tx_count), (2, 1, 2));
    // Newest first: the payment, then genesis.
    let hist: Vec<_> = f.chain.address_txs(&f.a1).iter().map(|i| i.status).collect();
    assert!(matches!(hist[0], TxStatus::Confirmed { height: 1, .. }));
    assert!(matches!(hist[1], TxStatus::Confirmed { height: 0, .. }));
}

#[test]
fn double_spend_after_mining_is_missingorspent() {
    let mut f = fixture();
    let inputs = coins(&f.chain, &f.a1);
    let first = f.alice.build_and_sign(&inputs, &[(f.b1.clone(), COIN)], 2, &f.a1).unwrap();
    let second = f.alice.build_and_sign(&inputs, &[(f.b1.clone(), 2 * COIN)], 2, &f.a1).unwrap();
    f.chain.submit_tx(&first).unwrap();
    f.chain.mine_block(T0 + 600, &f.b1).unwrap();
    let err = f.chain.submit_tx(&second).unwrap_err();
    assert!(matches!(err, Reject::MissingOrSpent { .. }), "{err:?}");
    assert_eq!(err.to_string(), "bad-txns-inputs-missingorspent");
    assert_eq!(f.chain.submit_tx(&first).unwrap_err().to_string(), "txn-already-known");
}

#[test]
fn conflicting_mempool_spend_is_refused() {
    let mut f = fixture();
    let inputs = coins(&f.chain, &f.a1);
    let first = f.alice.build_and_sign(&inputs, &[(f.b1.clone(), COIN)], 2, &f.a1).unwrap();
    let second = f.alice.build_and_sign(&inputs, &[(f.b1.clone(), 2 * COIN)], 2, &f.a1).unwrap();
    let t1 = f.chain.submit_tx(&first).unwrap();
    let err = f.chain.submit_tx(&second).unwrap_err();
    assert_eq!(err.to_string(), "txn-mempool-conflict");
    assert!(matches!(err, Reject::MempoolConflict { conflicting, .. } if conflicting == t1));
    assert_eq!(f.chain.submit_tx(&first).unwrap_err().to_string(), "txn-already-in-mempool");
}

#[test]
fn corrupted_or_foreign_signatures_fail_script_verification() {
    let mut f = fixture();
    let tx = pay(&f, &f.b1, COIN);

    // Flip a byte inside the DER signature (the r value).
    let mut bad = tx.clone();
    let mut items: Vec<Vec<u8>> = bad.input[0].witness.iter().map(<[u8]>::to_vec).collect();
    items[0][10] ^= 0x01;
    bad.input[0].witness = Witness::from_slice(&items);
    let err = f.chain.submit_tx(&bad).unwrap_err();
    assert_eq!(err.to_string(), "mandatory-script-verify-flag-failed");

    // Bob signs Alice's coin with his own key.
    let mut stolen = tx.clone();
    let prevouts: Vec<Utxo> = coins(&f.chain, &f.a1).into_iter().map(|u| Utxo { script_pubkey: f.b1.script_pubkey(), ..u }).collect();
    f.bob.sign(&mut stolen, &prevouts).unwrap();
    let err = f.chain.submit_tx(&stolen).unwrap_err();
    assert!(matches!(err, Reject::ScriptVerify { error: crate::script::ScriptError::PubkeyHashMismatch, .. }), "{err:?}");

    // Malformed witness: empty, or a bogus signature.
    let mut empty = tx.clone();
    empty.input[0].witness = Witness::new();
    assert_eq!(f.chain.submit_tx(&empty).unwrap_err().to_string(), "mandatory-script-verify-flag-failed");
    let mut junk = tx.clone();
    junk.input[0].witness = Witness::from_slice(&[vec![0x30, 0x01], items[1].clone()]);
    assert_eq!(f.chain.submit_tx(&junk).unwrap_err().to_string(), "mandatory-script-verify-flag-failed");

    // The untouched transaction is still fine.
    f.chain.submit_tx(&tx).unwrap();
}

#[test]
fn coinbase_matures_after_100_blocks() {
    let mut f = fixture();
    let mut m = Wallet::from_seed([5; 32]);
    let maddr = m.new_address();
    f.chain.mine_block(T0 + 600, &maddr).unwrap();
    let cb = coins(&f.chain, &maddr);
    assert_eq!(cb.len(), 1);
    let spend = m.build_and_sign(&cb, &[(f.b1.clone(), COIN)], 1, &maddr).unwrap();
    let err = f.chain.submit_tx(&spend).unwrap_err();
    assert_eq!(err.to_string(), "bad-txns-premature-spend-of-coinbase");
    assert!(matches!(err, Reject::PrematureCoinbaseSpend { depth: 1, .. }));
    f.chain.mine_blocks(98, T0 + 1200, &f.b1).unwrap();
    assert_eq!(f.chain.submit_tx(&spend).unwrap_err().to_string(), "bad-txns-premature-spend-of-coinbase");
    f.chain.mine_block(T0 + 1200, &f.b1).unwrap();
    f.chain.submit_tx(&spend).unwrap();
}

fn raw(inputs: &[OutPoint], outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: inputs
            .iter()
            .map(|op| TxIn { previous_output: *op, script_sig: ScriptBuf::new(), sequence: Sequence::MAX, witness: Witness::new() })
            .collect(),
        output: outputs,
    }
}

#[test]
fn amount_and_policy_rules() {
    let mut f = fixture();
    let u = coins(&f.chain, &f.a1).remove(0);
    let to_bob = |sat: u64| TxOut { value: Amount::from_sat(sat), script_pubkey: f.b1.script_pubkey() };
    let signed = |outs: Vec<TxOut>| {
        let mut tx = raw(&[u.outpoint], outs);
        f.alice.sign(&mut tx, std::slice::from_ref(&u)).unwrap();
        tx
    };
    let mut c = f.chain.clone();
    assert_eq!(c.submit_tx(&signed(vec![to_bob(10 * COIN + 1)])).unwrap_err().to_string(), "bad-txns-in-belowout");
    assert_eq!(c.submit_tx(&signed(vec![to_bob(10 * COIN)])).unwrap_err().to_string(), "min relay fee not met");
    assert_eq!(c.submit_tx(&signed(vec![to_bob(100), to_bob(COIN)])).unwrap_err().to_string(), "dust");
    let bare = TxOut { value: Amount::from_sat(COIN), script_pubkey: ScriptBuf::from_bytes(vec![0x51]) };
    assert_eq!(c.submit_tx(&signed(vec![bare])).unwrap_err().to_string(), "scriptpubkey");
    assert_eq!(c.submit_tx(&raw(&[], vec![to_bob(COIN)])).unwrap_err().to_string(), "bad-txns-vin-empty");
    assert_eq!(c.submit_tx(&raw(&[u.outpoint], vec![])).unwrap_err().to_string(), "bad-txns-vout-empty");
    assert_eq!(c.submit_tx(&raw(&[u.outpoint, u.outpoint], vec![to_bob(COIN)])).unwrap_err().to_string(), "bad-txns-inputs-duplicate");
    let coinbase = f.chain.block_at(0).unwrap().txdata[0].clone();
    assert_eq!(c.submit_tx(&coinbase).unwrap_err().to_string(), "coinbase");
    let unknown = OutPoint { txid: bitcoin::Txid::from_byte_array([7; 32]), vout: 0 };
    assert_eq!(c.submit_tx(&raw(&[unknown], vec![to_bob(COIN)])).unwrap_err().to_string(), "bad-txns-inputs-missingorspent");
    // An OP_RETURN output of value 0 is not dust.
    let data = TxOut { value: Amount::ZERO, script_pubkey: ScriptBuf::new_op_return([1u8; 8]) };
    c.submit_tx(&signed(vec![to_bob(9 * COIN), data])).unwrap();
    assert_ne!(c.digest(), f.chain.digest());
    f.chain = c;
}

#[test]
fn garbage_never_panics() {
    let mut f = fixture();
    for s in ["", "zz", "0", "00", "deadbeef", "0200000001", &"ff".repeat(200), "02000000000100"] {
        assert_eq!(f.chain.submit_tx_hex(s), Err(Reject::DecodeFailed), "{s}");
    }
    let good = bitcoin::consensus::encode::serialize(&pay(&f, &f.b1, COIN));
    for cut in 0..good.len() {
        assert_eq!(f.chain.submit_tx_bytes(&good[..cut]), Err(Reject::DecodeFailed));
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(f.chain.submit_tx_bytes(&trailing), Err(Reject::DecodeFailed));
    // Deterministic pseudo-random byte soup.
    let mut rng = sim_core::rng::stream(1, "garbage");
    for _ in 0..500 {
        let len = sim_core::rng::below(&mut rng, 300) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| sim_core::rng::below(&mut rng, 256) as u8).collect();
        let _ = f.chain.submit_tx_bytes(&bytes);
    }
    assert_eq!(f.chain.submit_tx_hex(&format!(" {} \n", hex::encode(&good))).map(|_| ()), Ok(()));
}

#[test]
fn mempool_chains_and_blocks_are_valid() {
    let mut f = fixture();
    let parent = pay(&f, &f.b1, 2 * COIN);
    let ptxid = f.chain.submit_tx(&parent).unwrap();
    // Bob spends the unconfirmed output at once.
    let bob_coins: Vec<Utxo> = f.chain.address_utxos(&f.b1).into_iter().filter(|u| u.utxo.outpoint.txid == ptxid).map(|u| u.utxo).collect();
    let child = f.bob.build_and_sign(&bob_coins, &[(f.a1.clone(), COIN)], 1, &f.b1).unwrap();
    f.chain.submit_tx(&child).unwrap();
    let hash = f.chain.mine_block(T0 + 600, &f.b1).unwrap();
    assert_eq!(f.chain.block_height(&hash), Some(1));
    assert_eq!(f.chain.block_hash_at(1), Some(hash));
    for h in 0..=f.chain.height() {
        let b = f.chain.block_at(h).unwrap();
        let target = Target::from_compact(b.header.bits);
        assert_eq!(b.header.validate_pow(target).unwrap(), b.block_hash());
        assert!(b.check_merkle_root());
        assert!(b.check_witness_commitment());
        // Core writes heights 1..=16 as OP_1..OP_16 (which rust-bitcoin's parser skips).
        let first = b.txdata[0].input[0].script_sig.as_bytes()[0];
        match h {
            0 => assert_eq!(first, 0x00),
            1..=16 => assert_eq!(u32::from(first), 0x50 + h),
            _ => assert_eq!(b.bip34_block_height().unwrap(), u64::from(h)),
        }
        if h > 0 {
            assert_eq!(b.header.prev_blockhash, f.chain.block_hash_at(h - 1).unwrap());
        }
    }
    assert_eq!(f.chain.block_at(1).unwrap().txdata.len(), 3);
    f.chain.mine_blocks(17, T0 + 600, &f.b1).unwrap();
    assert_eq!(f.chain.block_at(18).unwrap().bip34_block_height().unwrap(), 18);
    assert_eq!(f.chain.mine_block(T0, &f.b1), Err(ChainError::TimeBeforeTip { time: T0, tip_time: T0 + 600 }));
}

#[test]
fn same_inputs_same_digest() {
    let run = || {
        let mut f = fixture();
        let tx = pay(&f, &f.b1, COIN);
        f.chain.submit_tx(&tx).unwrap();
        f.chain.mine_block(T0 + 600, &f.b1).unwrap();
        let tx2 = pay(&f, &f.b1, COIN);
        f.chain.submit_tx(&tx2).unwrap();
        (f.chain.digest(), f.chain.tip_hash())
    };
    let (d1, h1) = run();
    let (d2, h2) = run();
    assert_eq!(d1, d2);
    assert_eq!(h1, h2);
    assert_ne!(d1, fixture().chain.digest());
}

#[test]
fn coins_are_conserved() {
    let mut f = fixture();
    for round in 0..5u32 {
        let tx = pay(&f, &f.b1, COIN / 2);
        f.chain.submit_tx(&tx).unwrap();
        f.chain.mine_block(T0 + 600 * (round + 1), &f.b1).unwrap();
    }
    let supply: u64 = f.chain.utxos.values().map(|e| e.txout.value.to_sat()).sum();
    let minted = 11 * COIN + u64::from(f.chain.height()) * f.chain.params().block_reward_sat;
    assert_eq!(supply, minted);
    let balances = f.chain.address_stats(&f.a1).confirmed_balance_sat() + f.chain.address_stats(&f.b1).confirmed_balance_sat();
    assert_eq!(balances, minted);
}
