//! Mixing in a world: buyers join a CoinJoin round through its coordinator (an onion
//! service), the vendor sends his takings through a tumbler; what the chain then shows,
//! and what ground truth records, are checked against what each service hides.

use std::net::IpAddr;
use std::sync::Arc;

use bitcoin::Address;
use market_sim::world::World;
use sim_core::clock::SimDuration;
use sim_core::facts::{Entity, FactKind};
use sim_core::ids::Sats;
use sim_core::scenario::{Action, CoinJoinSite, MixerSite, Scenario, Site, SiteKind, Step};

use crate::support::shipped;

/// The shipped scenario with a CoinJoin coordinator the three buyers use before ordering,
/// and a tumbler the vendor uses before cashing out.
fn mixing_scenario() -> Scenario {
    let mut s = (*shipped()).clone();
    s.sites.push(Site {
        id: "wasabi-ish".into(),
        name: "Equal Rounds".into(),
        kind: SiteKind::CoinJoin(CoinJoinSite { denomination: Sats(50_000_000), min_participants: 3 }),
    });
    s.sites.push(Site {
        id: "blender".into(),
        name: "Blender".into(),
        kind: SiteKind::Mixer(MixerSite {
            fee_bps: 300,
            min_delay: SimDuration::hours(1),
            max_delay: SimDuration::hours(3),
            float: Sats(1_000_000_000),
        }),
    });
    for buyer in ["buyer-1", "buyer-2", "buyer-3"] {
        let a = s.cast.iter_mut().find(|a| a.id.as_str() == buyer).unwrap();
        a.script.insert(
            0,
            Step { at: SimDuration::minutes(30), jitter: SimDuration::default(), action: Action::CoinJoin { via: "wasabi-ish".into() } },
        );
    }
    let mark = s.cast.iter_mut().find(|a| a.id.as_str() == "mark").unwrap();
    mark.script.push(Step { at: SimDuration::hours(52), jitter: SimDuration::default(), action: Action::Tumble { via: "blender".into() } });
    mark.script.sort_by_key(|st| st.at);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinjoin_and_tumbler_run_in_the_world_and_hide_what_they_should() {
    let scenario = Arc::new(mixing_scenario());
    let mut world = World::build(scenario.clone(), 31, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let chronicle = world.truth().read().chronicle.clone();
    let lines: Vec<String> = chronicle.iter().map(|c| format!("{} {:?} {} {}", c.time, c.actor, c.ok, c.text)).collect();
    let failed: Vec<&String> = lines.iter().filter(|l| l.contains(" false ")).collect();
    assert!(failed.is_empty(), "every scripted step worked: {failed:#?}");
    assert!(lines.iter().any(|l| l.contains("CoinJoin round 1 closed with 3 participants")), "{lines:#?}");
    assert_eq!(lines.iter().filter(|l| l.contains("signed CoinJoin round 1")).count(), 3);
    assert!(lines.iter().any(|l| l.contains("into the mixer blender")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("a mixer paid out 1 order(s)")), "{lines:#?}");
    assert_eq!(lines.iter().filter(|l| l.contains("finalized orders")).count(), 3, "buyers still trade after mixing");

    // On chain: one transaction with three (or more) outputs of exactly the denomination.
    let coinjoin = {
        let chain = coin_sim::chain::lock(world.chain());
        (1..=chain.height())
            .filter_map(|h| chain.block_at(h))
            .flat_map(|b| b.txdata.iter().skip(1))
            .find(|tx| tx.output.iter().filter(|o| o.value.to_sat() == 50_000_000).count() >= 3)
            .cloned()
            .expect("a CoinJoin transaction on chain")
    };
    assert!(coinjoin.input.len() >= 3);

    // Ground truth links no buyer's input to another buyer's mixed output.
    let transfers: Vec<(String, String)> = world
        .truth()
        .read()
        .facts
        .iter()
        .filter(|f| f.kind == FactKind::Transfer)
        .filter_map(|f| match (&f.subject, &f.object) {
            (Entity::Address(a), Entity::Address(b)) => Some((a.clone(), b.clone())),
            _ => None,
        })
        .collect();
    let outs: Vec<String> = coinjoin
        .output
        .iter()
        .filter_map(|o| Address::from_script(&o.script_pubkey, coin_sim::params::NETWORK).ok())
        .map(|a| a.to_string())
        .collect();
    let into_cj: Vec<&(String, String)> = transfers.iter().filter(|(_, to)| outs.contains(to)).collect();
    assert!(!into_cj.is_empty());
    // Each buyer's mixed outputs are reached from exactly that buyer's own input addresses.
    for (from, to) in &into_cj {
        let others = into_cj.iter().filter(|(f, t)| t == to && f != from).count();
        assert_eq!(others, 0, "{to} is paid by one owner only in ground truth");
    }

    // The vendor can still cash out, and the exchange deposit is not linked on chain to his
    // payout address: the mixer paid from its own pool.
    assert!(lines.iter().any(|l| l.contains("to deposit address")), "{lines:#?}");
    let a = world.digest().unwrap();
    world.shutdown().await;
    let mut again = World::build(scenario, 31, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    again.run_until(again.world_end()).await.unwrap();
    assert_eq!(again.digest().unwrap(), a, "mixing is deterministic too");
    again.shutdown().await;
}
