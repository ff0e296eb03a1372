//! Consensus end to end: P2WPKH and P2TR spends, every reject the issue names, blocks built
//! elsewhere, determinism, and wallet habits feeding the chain-analysis heuristics.

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::hashes::Hash as _;
use bitcoin::{Address, Amount, OutPoint, Transaction, TxOut, Witness};
use coin_sim::block::BlockReject;
use coin_sim::script::ScriptError;
use coin_sim::{AddressKind, Chain, ChainError, ChainParams, Reject, Utxo, Wallet, WalletHabits};

use super::{COIN, T0};

fn coins(chain: &Chain, w: &Wallet) -> Vec<Utxo> {
    w.addresses().iter().flat_map(|a| chain.address_utxos(a)).map(|u| u.utxo).collect()
}

struct F {
    chain: Chain,
    alice: Wallet,
    bob: Wallet,
    b1: Address,
    miner: Address,
}

fn fixture(params: ChainParams) -> F {
    let mut alice = Wallet::from_seed([1; 32]);
    let a1 = alice.new_address();
    let a2 = alice.new_address_of(AddressKind::P2tr);
    let mut bob = Wallet::from_seed([2; 32]).with_habits(WalletHabits { kind: AddressKind::P2tr, ..Default::default() });
    let b1 = bob.new_address();
    let miner = Wallet::from_seed([9; 32]).new_address();
    let chain = Chain::new(params, T0, &[(a1, 10 * COIN), (a2, 5 * COIN)]).unwrap();
    F { chain, alice, bob, b1, miner }
}

#[test]
fn p2wpkh_and_p2tr_key_path_spends_confirm() {
    let mut f = fixture(ChainParams::default());
    assert!(f.b1.to_string().starts_with("bcrt1p"), "{}", f.b1);
    // Alice spends both her P2WPKH and P2TR coins in one transaction (consolidation).
    let mut alice = f.alice.clone().with_habits(WalletHabits { consolidate: true, ..Default::default() });
    let pay = alice.pay(&coins(&f.chain, &f.alice), &[(f.b1.clone(), 12 * COIN)], 2).unwrap();
    assert_eq!(pay.tx.input.len(), 2);
    assert_eq!(pay.tx.input.iter().map(|i| i.witness.len()).collect::<Vec<_>>().iter().sum::<usize>(), 3);
    f.chain.submit_tx(&pay.tx).unwrap();
    f.chain.mine_block(T0 + 600, &f.miner).unwrap();
    // Bob spends his taproot coin onwards.
    let bob_coins = coins(&f.chain, &f.bob);
    assert_eq!(bob_coins.iter().map(|u| u.value_sat).sum::<u64>(), 12 * COIN);
    let to = Wallet::from_seed([3; 32]).new_address();
    let tx = f.bob.pay(&bob_coins, &[(to.clone(), COIN)], 3).unwrap().tx;
    assert_eq!(tx.input[0].witness.len(), 1);
    assert_eq!(tx.input[0].witness.nth(0).unwrap().len(), 64);
    f.chain.submit_tx(&tx).unwrap();
    let h = f.chain.mine_block(T0 + 1200, &f.miner).unwrap();
    assert_eq!(f.chain.block_height(&h), Some(2));
    assert_eq!(f.chain.address_stats(&to).confirmed_balance_sat(), COIN);

    // A corrupted Schnorr signature is refused.
    let bob_coins = coins(&f.chain, &f.bob);
    let mut bad = f.bob.pay(&bob_coins, &[(to, COIN)], 3).unwrap().tx;
    let mut sig = bad.input[0].witness.nth(0).unwrap().to_vec();
    sig[10] ^= 1;
    bad.input[0].witness = Witness::from_slice(&[sig]);
    assert!(matches!(f.chain.submit_tx(&bad), Err(Reject::ScriptVerify { error: ScriptError::SignatureInvalid, .. })));
}

#[test]
fn every_named_reject() {
    let mut f = fixture(ChainParams::default());
    let mine = coins(&f.chain, &f.alice);
    let change = f.alice.new_change_address();
    // Overspend: outputs above inputs (hand-built, signed properly).
    let mut over = f.alice.build_and_sign(&mine, &[(f.b1.clone(), COIN)], 2, &change).unwrap();
    over.output[0].value = Amount::from_sat(100 * COIN);
    let prevouts: Vec<Utxo> = over.input.iter().map(|i| mine.iter().find(|u| u.outpoint == i.previous_output).unwrap().clone()).collect();
    f.alice.sign(&mut over, &prevouts).unwrap();
    let e = f.chain.submit_tx(&over).unwrap_err();
    assert!(matches!(e, Reject::InBelowOut { .. }));
    assert_eq!(e.to_string(), "bad-txns-in-belowout");
    // Dust.
    let mut dust = f.alice.build_and_sign(&mine, &[(f.b1.clone(), COIN)], 2, &change).unwrap();
    dust.output[0].value = Amount::from_sat(100);
    assert_eq!(f.chain.submit_tx(&dust).unwrap_err().to_string(), "dust");
    // Malformed hex and bytes.
    for s in ["", "zz", "0", "0200000001", &"ff".repeat(5000)] {
        assert_eq!(f.chain.submit_tx_hex(s), Err(Reject::DecodeFailed));
    }
    // Double spend in the mempool, then across blocks.
    let t1 = f.alice.build_and_sign(&mine, &[(f.b1.clone(), COIN)], 2, &change).unwrap();
    let t2 = f.alice.build_and_sign(&mine, &[(f.b1.clone(), 2 * COIN)], 2, &change).unwrap();
    f.chain.submit_tx(&t1).unwrap();
    assert_eq!(f.chain.submit_tx(&t2).unwrap_err().to_string(), "txn-mempool-conflict");
    f.chain.mine_block(T0 + 600, &f.miner).unwrap();
    assert_eq!(f.chain.submit_tx(&t2).unwrap_err().to_string(), "bad-txns-inputs-missingorspent");
    // A block built elsewhere that re-spends the same coin is refused with the tx's reason.
    let block = build_block(&f.chain, vec![t2.clone()], T0 + 1200);
    match f.chain.submit_block(block) {
        Err(ChainError::InvalidBlock { reason: BlockReject::Tx { reject: Reject::MissingOrSpent { .. }, .. }, .. }) => {}
        other => panic!("{other:?}"),
    }
    // Two conflicting transactions inside one block.
    let mut g = fixture(ChainParams::default());
    let mine = coins(&g.chain, &g.alice);
    let c = g.alice.new_change_address();
    let x1 = g.alice.build_and_sign(&mine, &[(g.b1.clone(), COIN)], 2, &c).unwrap();
    let x2 = g.alice.build_and_sign(&mine, &[(g.b1.clone(), 2 * COIN)], 2, &c).unwrap();
    let block = build_block(&g.chain, vec![x1.clone(), x2], T0 + 600);
    assert!(matches!(
        g.chain.submit_block(block),
        Err(ChainError::InvalidBlock { reason: BlockReject::Tx { index: 2, reject: Reject::MissingOrSpent { .. } }, .. })
    ));
    // The valid one alone is accepted, its fee collected.
    let block = build_block(&g.chain, vec![x1], T0 + 600);
    g.chain.submit_block(block).unwrap();
    assert_eq!(g.chain.height(), 1);
}

/// A block on the tip paying reward plus fees, mined at easy regtest difficulty.
fn build_block(chain: &Chain, txs: Vec<Transaction>, time: u32) -> bitcoin::Block {
    // Mine on a clone whose mempool holds exactly `txs` (accepted or not), then take the block.
    let mut scratch = chain.clone();
    let miner = Wallet::from_seed([9; 32]).new_address();
    let ok: Vec<Transaction> = txs.iter().filter(|t| scratch.submit_tx(t).is_ok()).cloned().collect();
    if ok.len() == txs.len() {
        let h = scratch.mine_block(time, &miner).unwrap();
        return scratch.block_by_hash(&h).unwrap().clone();
    }
    // Some transaction is invalid: take an empty block (the mempool is empty here) and add
    // them by hand, with the witness commitment and proof of work redone.
    let mut empty = chain.clone();
    let h = empty.mine_block(time, &miner).unwrap();
    let mut block = empty.block_by_hash(&h).unwrap().clone();
    block.txdata.truncate(1);
    block.txdata.extend(txs);
    let root = block.witness_root().unwrap();
    let commitment = bitcoin::Block::compute_witness_commitment(&root, &[0u8; 32]);
    let mut spk = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    spk.extend_from_slice(commitment.as_byte_array());
    let cb = &mut block.txdata[0];
    cb.input[0].witness = Witness::from_slice(&[[0u8; 32]]);
    cb.output.retain(|o| !o.script_pubkey.is_op_return());
    cb.output.push(TxOut { value: Amount::ZERO, script_pubkey: bitcoin::ScriptBuf::from_bytes(spk) });
    block.header.merkle_root = block.compute_merkle_root().unwrap();
    let target = block.header.target();
    while block.header.validate_pow(target).is_err() {
        block.header.nonce += 1;
    }
    block
}

#[test]
fn premature_coinbase_and_block_rules() {
    let params = ChainParams { coinbase_maturity: 3, ..Default::default() };
    let mut f = fixture(params);
    let mut miner_w = Wallet::from_seed([7; 32]);
    let m = miner_w.new_address();
    f.chain.mine_block(T0 + 600, &m).unwrap();
    let cb = coins(&f.chain, &miner_w);
    let to = f.b1.clone();
    let spend = miner_w.build_and_sign(&cb, &[(to, COIN)], 2, &m).unwrap();
    let e = f.chain.submit_tx(&spend).unwrap_err();
    assert_eq!(e.to_string(), "bad-txns-premature-spend-of-coinbase");
    f.chain.mine_blocks(2, T0 + 1200, &f.miner).unwrap();
    f.chain.submit_tx(&spend).unwrap();

    // Header rules.
    let good = build_block(&f.chain, vec![], T0 + 1800);
    let mut stale = good.clone();
    stale.header.time = T0;
    assert!(matches!(f.chain.check_block(&stale), Err(BlockReject::HighHash | BlockReject::TimeTooOld)));
    let mut bad_root = good.clone();
    bad_root.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
    assert!(f.chain.check_block(&bad_root).is_err());
    let mut greedy = good.clone();
    greedy.txdata[0].output[0].value = Amount::from_sat(100 * COIN);
    greedy.header.merkle_root = greedy.compute_merkle_root().unwrap();
    while greedy.header.validate_pow(greedy.header.target()).is_err() {
        greedy.header.nonce += 1;
    }
    assert_eq!(f.chain.check_block(&greedy).unwrap_err().to_string(), "bad-cb-amount");
    let h = f.chain.submit_block(good.clone()).unwrap();
    assert_eq!(f.chain.submit_block(good), Err(ChainError::InvalidBlock { height: 5, reason: BlockReject::Duplicate }));
    assert_eq!(f.chain.tip_hash(), h);
    // The block confirmed the waiting spend; the mempool is empty again.
    assert!(f.chain.tx(&spend.compute_txid()).unwrap().status.is_confirmed());
    assert!(f.chain.mempool_txids().is_empty());
}

#[test]
fn unknown_txids_and_outspends() {
    let mut f = fixture(ChainParams::default());
    let zero = bitcoin::Txid::all_zeros();
    assert!(f.chain.tx(&zero).is_none());
    assert!(f.chain.outspends(&zero).is_none());
    let mine = coins(&f.chain, &f.alice);
    let c = f.alice.new_change_address();
    let t = f.alice.build_and_sign(&mine, &[(f.b1.clone(), COIN)], 2, &c).unwrap();
    f.chain.submit_tx(&t).unwrap();
    let spent = t.input[0].previous_output;
    assert_eq!(f.chain.outspend(&spent).unwrap().txid, t.compute_txid());
    f.chain.mine_block(T0 + 600, &f.miner).unwrap();
    let o = f.chain.outspend(&spent).unwrap();
    assert_eq!((o.txid, o.vin, o.status.is_confirmed()), (t.compute_txid(), 0, true));
    assert!(f.chain.outspend(&OutPoint { txid: t.compute_txid(), vout: 0 }).is_none());
}

#[test]
fn fast_forward_is_deterministic() {
    let run = || {
        let mut f = fixture(ChainParams { pow_bits: 0x1f0f_ffff, ..Default::default() });
        let mut hashes = Vec::new();
        for i in 1..=5u32 {
            let mine = coins(&f.chain, &f.alice);
            let pay = f.alice.pay(&mine, &[(f.b1.clone(), COIN / 10 * u64::from(i))], 2).unwrap();
            f.chain.submit_tx(&pay.tx).unwrap();
            hashes.push(f.chain.mine_block(T0 + 600 * i, &f.miner).unwrap());
        }
        (hashes, f.chain.digest(), serialize_hex(f.chain.block_at(5).unwrap()))
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    // The harder target really was met.
    let target = bitcoin::CompactTarget::from_consensus(0x1f0f_ffff);
    assert!(a.0.iter().all(|h| bitcoin::Target::from_compact(target).is_met_by(*h)));
}

#[test]
fn habits_shape_change_and_amounts() {
    let mut f = fixture(ChainParams::default());
    let shop = Wallet::from_seed([4; 32]).new_address();
    // Careful actor: exact amount, fresh change address of its kind.
    let mut careful = f.alice.clone();
    let p = careful.pay(&coins(&f.chain, &f.alice), &[(shop.clone(), 1_234_567)], 2).unwrap();
    let (vout, change) = p.change.clone().unwrap();
    assert_eq!(p.paid_sat, vec![1_234_567]);
    assert!(!f.alice.owns(&change.script_pubkey()) && careful.owns(&change.script_pubkey()));
    assert_eq!(vout, 1);
    // Sloppy actor: round amount, change back to its first (reused) address.
    let mut sloppy = f.alice.clone().with_habits(WalletHabits { reuse_addresses: true, round_amounts: true, ..Default::default() });
    let p = sloppy.pay(&coins(&f.chain, &f.alice), &[(shop, 1_234_567)], 2).unwrap();
    assert_eq!(p.paid_sat, vec![1_300_000]);
    assert_eq!(p.tx.output[0].value.to_sat(), 1_300_000);
    let first = f.alice.addresses()[0].clone();
    assert_eq!(p.change.unwrap().1, first);
    assert_eq!(sloppy.receive_address(), first);
    assert_eq!(sloppy.receive_address(), first);
    f.chain.submit_tx(&p.tx).unwrap();
    // BIP84 path: the first address is m/84'/1'/0'/0/0 of the seed's BIP32 master.
    let d = f.alice.descriptor(AddressKind::P2wpkh);
    assert!(d.starts_with("wpkh([") && d.contains("/84h/1h/0h]tpub") && d.ends_with("/0/*)"), "{d}");
    let _ = f.bob.descriptor(AddressKind::P2tr);
}
