//! A busy market: the scenario's background crowd generated from the seed and trading
//! through the market's API, the operator's exit scam, and determinism of the whole world
//! in fast-forward (market databases, chain tip and ground truth).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use coin_sim::EsploraClient;
use market_sim::world::World;
use serde_json::Value;
use sim_core::clock::{SimDuration, SimTime};
use sim_core::facts::{Entity, FactKind};
use sim_core::ids::PersonaId;
use sim_core::scenario::{Action, Scenario, load_file};

fn busy() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/busy-market.ron");
    load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

/// The busy market cut down to `hours` and a small crowd, with the operator's exit scam
/// `exit_at` after the start (and the operator online at any hour, so it runs then).
fn small_busy(hours: i64, exit_at: SimDuration) -> Scenario {
    let mut s = busy();
    s.meta.world_duration = SimDuration::hours(hours);
    let pop = s.population.as_mut().unwrap();
    pop.vendors.count = 3;
    pop.buyers.count = 14;
    pop.buyers.order_every = SimDuration::hours(3);
    pop.buyers.dispute_percent = 20;
    pop.vendors.check_in_every = SimDuration::hours(2);
    let rex = s.cast.iter_mut().find(|a| a.id.as_str() == "rex").unwrap();
    rex.habits.active_hours = None;
    rex.script.retain(|st| matches!(st.action, Action::Announce { .. } | Action::ExitScam(_)));
    for st in &mut rex.script {
        if matches!(st.action, Action::ExitScam(_)) {
            st.at = exit_at;
        }
    }
    // Everyone else's steps within the shorter world.
    for a in &mut s.cast {
        a.script.retain(|st| st.at.0 + st.jitter.0 < hours * 3_600);
    }
    s
}

async fn fast_forward(s: &Arc<Scenario>, seed: u64) -> ([u8; 32], market_sim::world::WorldStats, World) {
    let mut world = World::build(s.clone(), seed, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    (world.digest().unwrap(), world.stats().unwrap(), world)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_world_fast_forwards_to_the_same_digest_twice() {
    let s = Arc::new(small_busy(20, SimDuration::hours(19)));
    let (first, stats, w1) = fast_forward(&s, 11).await;
    let market = w1.records_of("site:silk-lane").unwrap().unwrap();
    let tip = coin_sim::chain::lock(w1.chain()).height();
    w1.shutdown().await;
    let (second, again, w2) = fast_forward(&s, 11).await;
    assert_eq!(first, second, "same scenario and seed, same world digest");
    assert_eq!(stats, again);
    assert_eq!(w2.records_of("site:silk-lane").unwrap().unwrap(), market, "the market's database is the same row for row");
    assert_eq!(coin_sim::chain::lock(w2.chain()).height(), tip);
    w2.shutdown().await;
    // The crowd really traded: orders, payments, reviews, messages answered.
    assert!(stats.actors > 17, "{stats:?}");
    assert!(stats.orders >= 20, "{stats:?}");
    assert!(stats.reviews >= 5, "{stats:?}");
    assert!(stats.messages >= 1, "{stats:?}");
    assert!(stats.transactions >= stats.orders, "every order paid on chain: {stats:?}");
    // Another seed, another crowd.
    let (other, _, w3) = fast_forward(&s, 12).await;
    assert_ne!(other, first);
    w3.shutdown().await;
}

fn open_escrows(market: &Value) -> Vec<String> {
    market["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| matches!(o["status"].as_str(), Some("paid" | "shipped" | "disputed")))
        .map(|o| o["escrow_address"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exit_scam_sweeps_every_open_escrow_to_the_operator() {
    let exit_at = SimDuration::hours(16);
    let s = Arc::new(small_busy(18, exit_at));
    let mut world = World::build(s.clone(), 5, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    let start = s.meta.start;
    world.run_until(SimTime(start.secs() + exit_at.as_secs() - 1)).await.unwrap();

    let party = world.party(None).unwrap();
    let explorer = EsploraClient::new(party.clearnet().clone(), world.directory().explorer.clone());
    let before = open_escrows(&world.records_of("site:silk-lane").unwrap().unwrap());
    assert!(before.len() >= 3, "open orders before the exit: {before:?}");
    let mut held = 0;
    for a in &before {
        let a = coin_sim::params::parse_address(a).unwrap();
        held += explorer.address_utxos(&a).await.unwrap().iter().map(|u| u.value_sat).sum::<u64>();
    }
    assert!(held > 0);

    // The exit, and a block to confirm it.
    world.run_until(start.plus(exit_at).plus(SimDuration::minutes(30))).await.unwrap();
    for a in &before {
        let a = coin_sim::params::parse_address(a).unwrap();
        assert!(explorer.address_utxos(&a).await.unwrap().is_empty(), "escrow {a} emptied");
    }
    let operator: PersonaId = "silk-admin".into();
    let to = {
        let truth = world.truth().read();
        let line = truth.chronicle.iter().find(|c| c.text.contains("swept the escrow")).expect("the exit is in the chronicle");
        assert!(line.ok);
        assert_eq!(line.time, start.plus(exit_at), "at the scripted time");
        truth
            .facts
            .iter()
            .find_map(|f| match (&f.kind, &f.subject, &f.object) {
                (FactKind::ControlsAddress, Entity::Persona(p), Entity::Address(a)) if *p == operator => Some(a.clone()),
                _ => None,
            })
            .expect("ground truth knows where the operator took the money")
    };
    let got: u64 = explorer.address_utxos(&coin_sim::params::parse_address(&to).unwrap()).await.unwrap().iter().map(|u| u.value_sat).sum();
    assert!(got <= held && got + 20_000 > held, "the operator got the escrow less one fee: held {held}, got {got}");
    // The market's news says "maintenance", as scripted.
    let news = world.records_of("site:silk-lane").unwrap().unwrap();
    assert!(news.to_string().contains("Scheduled maintenance"));
    world.shutdown().await;
}
