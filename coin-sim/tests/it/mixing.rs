//! Mixing: a CoinJoin round with N participants through the coordinator's HTTP API, and the
//! custodial tumbler — what each hides on chain and what it does not.

use std::collections::BTreeMap;

use bitcoin::Address;
use coin_sim::chain::lock;
use coin_sim::coinjoin::{CoinJoinClient, Coordinator, CoordinatorService, Phase, RoundConfig};
use coin_sim::tumbler::{OrderStatus, Tumbler, TumblerClient, TumblerConfig, TumblerService};
use coin_sim::{AddressKind, Chain, ChainParams, Utxo, Wallet, WalletHabits, shared};
use sim_core::clock::{SimClock, SimDuration, SimTime};

use super::{COIN, T0};

async fn serve_router(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn coinjoin_round_with_n_participants_hides_equal_outputs() {
    const N: usize = 5;
    let mut wallets: Vec<Wallet> = (0..N)
        .map(|i| {
            let kind = if i % 2 == 0 { AddressKind::P2wpkh } else { AddressKind::P2tr };
            Wallet::from_seed([10 + i as u8; 32]).with_habits(WalletHabits { kind, ..Default::default() })
        })
        .collect();
    // Different starting amounts: 1.3, 2.1, 2.9, … coins.
    let allocs: Vec<(Address, u64)> =
        wallets.iter_mut().enumerate().map(|(i, w)| (w.new_address(), 13 * COIN / 10 + i as u64 * 8 * COIN / 10)).collect();
    let chain = shared(Chain::new(ChainParams::default(), T0, &allocs).unwrap());
    let config = RoundConfig { denomination_sat: COIN, min_participants: 3, max_participants: N, ..Default::default() };
    let service = CoordinatorService::new(Coordinator::new(config, sim_core::rng::stream(1, "coordinator")), chain.clone());
    let base = serve_router(coin_sim::coinjoin::router(service.clone())).await;
    let client = CoinJoinClient::new(reqwest::Client::new(), base);

    let round = client.current().await.unwrap();
    assert_eq!((round.round_id, round.phase.clone()), (1, Phase::Registration));
    let mut regs = Vec::new();
    for w in wallets.iter_mut() {
        let coins: Vec<Utxo> = w.addresses().iter().flat_map(|a| lock(&chain).address_utxos(a)).map(|u| u.utxo).collect();
        let out = w.new_address();
        let change = w.new_change_address();
        let ops: Vec<_> = coins.iter().map(|u| u.outpoint).collect();
        let r = client.register(1, &ops, std::slice::from_ref(&out), Some(&change)).await.unwrap();
        regs.push((r.participant, out, change));
    }
    // A foreign or repeated registration is refused; the round filled up and is signing.
    assert_eq!(client.status(1).await.unwrap().phase, Phase::Signing);
    let err = client.register(1, &[], &[], None).await.unwrap_err().to_string();
    assert!(err.contains("409"), "{err}");
    // Each participant checks and signs its own inputs.
    let mut last = None;
    for (w, (token, out, _)) in wallets.iter().zip(&regs) {
        last = Some(client.sign_and_submit(1, token, w, std::slice::from_ref(out)).await.unwrap());
    }
    let Phase::Broadcast { txid } = last.unwrap().phase else { panic!("not broadcast") };
    let tx = lock(&chain).tx(&txid).unwrap().tx;
    assert_eq!(tx.input.len(), N);
    // N outputs of exactly the denomination: indistinguishable by amount.
    let mut by_value: BTreeMap<u64, usize> = BTreeMap::new();
    for o in &tx.output {
        *by_value.entry(o.value.to_sat()).or_default() += 1;
    }
    assert_eq!(by_value.get(&COIN), Some(&N));
    // What it does not hide: each change output is unique and sums back to one owner's input.
    for (i, (_, _, change)) in regs.iter().enumerate() {
        let c = tx.output.iter().find(|o| o.script_pubkey == change.script_pubkey()).unwrap();
        assert_eq!(by_value[&c.value.to_sat()], 1);
        assert!(c.value.to_sat() < allocs[i].1 - COIN);
    }
    lock(&chain).mine_block(T0 + 600, &Wallet::from_seed([99; 32]).new_address()).unwrap();
    assert!(lock(&chain).tx(&txid).unwrap().status.is_confirmed());
    // The coordinator's records do link inputs to outputs.
    assert_eq!(service.lock().records()[&1].len(), N);
    assert_eq!(client.current().await.unwrap().round_id, 2);
}

#[tokio::test]
async fn tumbler_pays_from_other_coins_after_a_delay_less_fee() {
    let mut tw = Wallet::from_seed([50; 32]);
    let pool = tw.new_address();
    let mut alice = Wallet::from_seed([51; 32]);
    let a1 = alice.new_address();
    let dest = Wallet::from_seed([52; 32]).new_address();
    let chain = shared(Chain::new(ChainParams::default(), T0, &[(pool, 20 * COIN), (a1.clone(), 5 * COIN)]).unwrap());
    let clock = SimClock::new(SimTime(i64::from(T0)));
    let config = TumblerConfig { fee_bps: 300, min_delay: SimDuration::hours(2), max_delay: SimDuration::hours(6), ..Default::default() };
    let tumbler = Tumbler::new(config, tw, sim_core::rng::stream(1, "tumbler"));
    let service = TumblerService::new(tumbler, clock.clone(), chain.clone());
    let client = TumblerClient::new(reqwest::Client::new(), serve_router(coin_sim::tumbler::router(service.clone())).await);

    let order = client.order(&dest).await.unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingDeposit);
    let deposit: Address = order.deposit_address.parse::<Address<_>>().unwrap().assume_checked();
    let coins: Vec<Utxo> = lock(&chain).address_utxos(&a1).into_iter().map(|u| u.utxo).collect();
    let dep_tx = alice.build_and_sign(&coins, &[(deposit, 2 * COIN)], 2, &a1).unwrap();
    lock(&chain).submit_tx(&dep_tx).unwrap();
    assert!(service.tick().is_empty(), "unconfirmed deposit is not yet credited");
    let miner = Wallet::from_seed([99; 32]).new_address();
    lock(&chain).mine_block(T0 + 600, &miner).unwrap();
    clock.advance_to(SimTime(i64::from(T0) + 600));
    assert!(service.tick().is_empty());
    let o = client.status(&order.id).await.unwrap();
    assert_eq!((o.status, o.deposit_sat, o.payout_sat), (OrderStatus::Scheduled, 2 * COIN, 2 * COIN - 2 * COIN * 3 / 100));
    let due = o.due.unwrap();
    assert!(due >= SimTime(i64::from(T0) + 600 + 7200) && due <= SimTime(i64::from(T0) + 600 + 6 * 3600));
    // Not before it is due.
    clock.advance_to(SimTime(due.0 - 1));
    assert!(service.tick().is_empty());
    clock.advance_to(due);
    let paid = service.tick();
    assert_eq!(paid.len(), 1);
    let payout = lock(&chain).tx(&paid[0]).unwrap().tx;
    // Hidden: the payout spends none of the deposit's coins.
    let dep_txid = dep_tx.compute_txid();
    assert!(payout.input.iter().all(|i| i.previous_output.txid != dep_txid));
    // Not hidden: the amount (deposit less the advertised fee) and the tumbler's records.
    assert_eq!(payout.output[0].value.to_sat(), o.payout_sat);
    assert_eq!(payout.output[0].script_pubkey, dest.script_pubkey());
    let records = service.lock().records();
    assert_eq!(records[0].destination, dest.to_string());
    assert_eq!(records[0].status, OrderStatus::Paid);
    assert!(client.status("nope").await.unwrap_err().to_string().contains("404"));
}
