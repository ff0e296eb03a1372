//! A hosting company that takes darkcoin, on loopback: renting and renewing a server are
//! answered with invoices (fresh addresses from the provider's wallet), the customer pays
//! them with real transactions through the explorer, and the provider records each payment
//! — txid, invoice address, paying addresses — once a block confirms it, and only then.

use market_sim::providers::hosting::{HostingConfig, HostingService};
use sim_core::clock::SimDuration;

use super::*;

fn hosting(clock: &SimClock, chain_url: &str) -> HostingService {
    let config = HostingConfig {
        name: "NordHost".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(180),
        jurisdiction: "IS".into(),
        pool: "185.220.100.0/24".into(),
    };
    HostingService::new(config, Connection::open_in_memory().unwrap(), clock.clone(), sim_core::rng::stream(7, "hosting"))
        .unwrap()
        .with_darkcoin(Wallet::from_seed([21; 32]), EsploraClient::new(Client::new(), chain_url))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn darkcoin_rent_and_renewal_are_invoiced_and_recorded_from_the_chain() {
    let clock = SimClock::new(SimTime(START));
    let mut customer = Wallet::from_seed([19; 32]);
    let coins = customer.new_address();
    let miner = Wallet::from_seed([13; 32]).new_address();
    let chain = coin_sim::shared(Chain::new(ChainParams::default(), clock.now().as_block_time(), &[(coins.clone(), 100_000_000)]).unwrap());
    mine(&chain, &clock, &miner);
    let explorer_url = serve(coin_sim::explorer::router(chain.clone())).await;
    let esplora = EsploraClient::new(Client::new(), explorer_url.clone());
    let svc = hosting(&clock, &explorer_url);
    let h = Http { client: Client::new(), base: serve(svc.router()).await };

    let signup = json!({"username": "harbour-ops", "password": "pw", "full_name": "K. Sorensen", "email": "billing@ops.example"});
    let (s, tok) = h.post("/api/signup", None, signup).await;
    assert_eq!(s, StatusCode::OK, "{tok}");
    let tok = tok["token"].as_str().unwrap().to_string();
    let rent = json!({"plan": "vps-4gb", "payment": {"method": "darkcoin", "amount": 2_500_000, "currency": "DKC"}});
    let (s, server) = h.post("/api/servers", Some(&tok), rent).await;
    assert_eq!(s, StatusCode::OK, "{server}");
    let ip = server["ip"].as_str().unwrap().to_string();
    let invoice = &server["invoice"];
    assert_eq!(invoice["amount_sat"], 2_500_000);
    assert_eq!(invoice["status"], "open");
    let address = invoice["address"].as_str().unwrap().to_string();
    assert!(address.starts_with("bcrt1"), "{address}");

    // Paid, but not yet confirmed: nothing is recorded.
    let txid = pay(&esplora, &customer, &coins, &address, 2_500_000).await;
    assert_eq!(svc.watch_invoices().await.unwrap(), 0, "a payment in the mempool is not yet received");
    let records = |q: String| {
        let h = &h;
        async move {
            let (s, v) = h.get(&format!("/legal/records?{q}"), Some(LEGAL_TOKEN)).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v
        }
    };
    assert_eq!(records(format!("server_ip={ip}")).await["customers"][0]["payments"], json!([]));

    // Confirmed: the panel shows it paid and the legal desk produces the chain's own record.
    mine(&chain, &clock, &miner);
    let paid_at = clock.now().to_string();
    let (s, invoices) = h.get("/api/invoices", Some(&tok)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(invoices[0]["status"], "paid");
    assert_eq!(invoices[0]["txid"], txid.to_string());
    assert_eq!(svc.watch_invoices().await.unwrap(), 0, "an invoice is paid once");
    let rec = records(format!("server_ip={ip}")).await;
    let c = &rec["customers"][0];
    assert_eq!(
        c["payments"],
        json!([{"time": paid_at, "server_ip": ip, "method": "darkcoin", "amount": 2_500_000, "currency": "DKC", "reference": null,
                "txid": txid.to_string(), "deposit_address": address, "paid_from": [coins.to_string()]}])
    );
    assert_eq!(c["invoices"][0]["address"], address.as_str());
    let tx = esplora.tx(&txid).await.unwrap();
    assert!(tx.vin.iter().all(|i| i.prevout.as_ref().and_then(|p| p.scriptpubkey_address.clone()) == Some(coins.to_string())));
    assert!(tx.vout.iter().any(|o| o.scriptpubkey_address.as_deref() == Some(address.as_str()) && o.value == 2_500_000));

    // The renewal: another invoice at another address; underpaid, it stays open.
    let (s, renewal) = h
        .post(
            &format!("/api/servers/{}/renew", server["id"]),
            Some(&tok),
            json!({"method": "darkcoin", "amount": 2_500_000, "currency": "DKC"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{renewal}");
    let second = renewal["address"].as_str().unwrap().to_string();
    assert_ne!(second, address, "every invoice gets a fresh address");
    let change = esplora.address_utxos(&coins).await.unwrap();
    assert!(!change.is_empty(), "the customer's change came back to its reused address");
    pay(&esplora, &customer, &coins, &second, 1_000_000).await;
    mine(&chain, &clock, &miner);
    assert_eq!(svc.watch_invoices().await.unwrap(), 0, "1,000,000 of 2,500,000 does not pay the renewal");
    let topup = pay(&esplora, &customer, &coins, &second, 1_500_000).await;
    mine(&chain, &clock, &miner);
    assert_eq!(svc.watch_invoices().await.unwrap(), 1);
    let rec = records("account=harbour-ops".into()).await;
    let payments = rec["customers"][0]["payments"].as_array().unwrap().clone();
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[1]["amount"], 2_500_000);
    assert_eq!(payments[1]["deposit_address"], second.as_str());
    assert!(payments[1]["txid"].as_str().unwrap().split(',').any(|t| t == topup.to_string()), "{}", payments[1]);
}
