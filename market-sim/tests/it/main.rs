//! market-sim integration tests: a real trade on loopback (explorer, market, exchange and
//! a courier served on `127.0.0.1:0`, driven over HTTP; the parcel's tracking number on the
//! buyer's order page), a hosting company paid in darkcoin on chain (`hosting_chain`), HTTP
//! error mapping through the router, and determinism of the services' databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hosting_chain;
mod market_site;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use coin_sim::chain::lock;
use coin_sim::{Chain, ChainParams, EsploraClient, SharedChain, Wallet};
use market_sim::exchange::{ExchangeConfig, ExchangeService};
use market_sim::market::{MarketConfig, MarketService};
use reqwest::Client;
use rusqlite::Connection;
use serde_json::{Value, json};
use sim_core::clock::{SimClock, SimDuration, SimTime};
use tower::ServiceExt as _;

const LEGAL_TOKEN: &str = "lab-legal-token-0123456789abcdef";
const START: i64 = 1_772_352_000; // 2026-03-01T08:00:00Z

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

fn market_config() -> MarketConfig {
    MarketConfig { name: "Silk Lane".into(), commission_bps: 500, feerate_sat_per_vb: 2, min_confirmations: 1, ..MarketConfig::default() }
}

fn exchange_config() -> ExchangeConfig {
    ExchangeConfig { name: "CoinHaven".into(), legal_token: LEGAL_TOKEN.into(), min_confirmations: 1, retention: None }
}

fn market(clock: &SimClock, chain_url: &str, seed: u64) -> MarketService {
    MarketService::new(
        market_config(),
        Connection::open_in_memory().unwrap(),
        clock.clone(),
        sim_core::rng::stream(seed, "market"),
        Wallet::from_seed(sim_core::rng::stream_seed(seed, "market-escrow")),
        EsploraClient::new(Client::new(), chain_url),
    )
    .unwrap()
}

fn exchange(clock: &SimClock, chain_url: &str, seed: u64) -> ExchangeService {
    ExchangeService::new(
        exchange_config(),
        Connection::open_in_memory().unwrap(),
        clock.clone(),
        sim_core::rng::stream(seed, "exchange"),
        Wallet::from_seed(sim_core::rng::stream_seed(seed, "exchange-wallet")),
        EsploraClient::new(Client::new(), chain_url),
    )
    .unwrap()
}

fn courier(clock: &SimClock) -> market_sim::providers::courier::CourierService {
    use market_sim::providers::courier::{CourierConfig, CourierOffice, CourierService};
    let config = CourierConfig {
        name: "ParcelNet".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(90),
        jurisdiction: "NL".into(),
        offices: vec![CourierOffice { name: "Delfshaven".into(), lat: 51.9075, lon: 4.4497 }],
    };
    CourierService::new(config, Connection::open_in_memory().unwrap(), clock.clone(), sim_core::rng::stream(5, "courier")).unwrap()
}

/// A small HTTP helper: JSON in, (status, JSON) out.
struct Http {
    client: Client,
    base: String,
}

impl Http {
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON answer {status}: {text:?}"));
        (status, v)
    }
    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call("GET", path, token, None).await
    }
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, token, Some(body)).await
    }
}

fn mine(chain: &SharedChain, clock: &SimClock, to: &bitcoin::Address) {
    clock.advance_to(clock.now().plus(SimDuration::minutes(10)));
    lock(chain).mine_block_at(clock.now(), to).unwrap();
}

fn tick(clock: &SimClock) {
    clock.advance_to(clock.now().plus(SimDuration::minutes(1)));
}

/// Pays `amount` from `wallet`'s coins at `from` to `to`, broadcasting through the explorer.
async fn pay(esplora: &EsploraClient, wallet: &Wallet, from: &bitcoin::Address, to: &str, amount: u64) -> bitcoin::Txid {
    let to: bitcoin::Address =
        to.parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>().unwrap().require_network(bitcoin::Network::Regtest).unwrap();
    let utxos = esplora.address_utxos(from).await.unwrap();
    let tx = wallet.build_and_sign(&utxos, &[(to, amount)], 2, from).unwrap();
    esplora.broadcast(&tx).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_trade_on_loopback() {
    let clock = SimClock::new(SimTime(START));
    // The coin network: a funded buyer (genesis allocation), a miner.
    let mut buyer_wallet = Wallet::from_seed([11; 32]);
    let buyer_coins = buyer_wallet.new_address();
    let miner = Wallet::from_seed([13; 32]).new_address();
    let chain = coin_sim::shared(
        Chain::new(ChainParams::default(), clock.now().as_block_time(), &[(buyer_coins.clone(), 10 * 100_000_000)]).unwrap(),
    );
    // Mine past coinbase maturity so the chain looks lived-in (genesis coins are spendable at once).
    for _ in 0..101 {
        mine(&chain, &clock, &miner);
    }
    let explorer_url = serve(coin_sim::explorer::router(chain.clone())).await;
    let esplora = EsploraClient::new(Client::new(), explorer_url.clone());

    let market_svc = market(&clock, &explorer_url, 42);
    let exchange_svc = exchange(&clock, &explorer_url, 42);
    let m = Http { client: Client::new(), base: serve(market_svc.router()).await };
    let x = Http { client: Client::new(), base: serve(exchange_svc.router()).await };

    // Vendor: register, open shop (payout to its own wallet), list.
    let mut vendor_wallet = Wallet::from_seed([12; 32]);
    let payout = vendor_wallet.new_address();
    let (s, v) = m.post("/api/register", None, json!({"username": "dr_white", "password": "s3cret"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let vendor = v["token"].as_str().unwrap().to_string();
    tick(&clock);
    let bio = "Quality since 2019. Direct deals: bcrt1qdirectdealaddress";
    let (s, v) = m
        .post(
            "/api/vendor/shop",
            Some(&vendor),
            json!({"bio": bio, "pgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----", "payout_address": payout.to_string()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = m.post("/api/vendor/shop", Some(&vendor), json!({"bio": "x", "payout_address": "not-an-address"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let listing = json!({"title": "Blue pills", "category": "Drugs/Pills", "description": "Strong.", "price_sat": 1_000_000,
                         "ships_from": "NL", "ships_to": "EU", "stock": 10});
    let (s, v) = m.post("/api/listings", Some(&vendor), listing.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let listing_id = v["id"].as_i64().unwrap();
    let (s, v) = m.get("/api/listings", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v[0]["vendor"], "dr_white");
    assert_eq!(v[0]["price_sat"], 1_000_000);
    let (s, v) = m.get(&format!("/api/listings/{listing_id}"), None).await;
    assert_eq!((s, v["ships_from"].as_str()), (StatusCode::OK, Some("NL")));

    // Buyers register; a non-vendor cannot list.
    let (_, v) = m.post("/api/register", None, json!({"username": "buyer_one", "password": "pw"})).await;
    let buyer = v["token"].as_str().unwrap().to_string();
    let (_, v) = m.post("/api/register", None, json!({"username": "nosy_two", "password": "pw"})).await;
    let nosy = v["token"].as_str().unwrap().to_string();
    let (s, _) = m.post("/api/listings", Some(&buyer), listing).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = m.post("/api/login", None, json!({"username": "buyer_one", "password": "wrong"})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = m.post("/api/login", None, json!({"username": "buyer_one", "password": "pw"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Order.
    tick(&clock);
    let (s, order) = m
        .post("/api/orders", Some(&buyer), json!({"listing_id": listing_id, "quantity": 2, "shipping_info": "J. Doe, Dam 1, Amsterdam"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(order["amount_sat"], 2_000_000);
    let order_id = order["order_id"].as_i64().unwrap();
    let escrow = order["escrow_address"].as_str().unwrap().to_string();
    assert!(escrow.starts_with("bcrt1q"), "{escrow}");
    let opath = format!("/api/orders/{order_id}");

    // Access rules before payment.
    let (s, _) = m.get(&opath, Some(&nosy)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = m.get(&opath, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = m.get("/api/orders/999", Some(&buyer)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = m.post(&format!("{opath}/ship"), Some(&vendor), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // Pay the escrow with a real signed transaction; unconfirmed it does not count.
    let funding = pay(&esplora, &buyer_wallet, &buyer_coins, &escrow, 2_000_000).await;
    let (_, v) = m.get(&opath, Some(&buyer)).await;
    assert_eq!(v["status"], "awaiting_payment");
    mine(&chain, &clock, &miner);
    let (s, v) = m.get(&opath, Some(&buyer)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "paid", "{v}");
    assert_eq!(v["funding_txid"], funding.to_string());
    assert_eq!(v["paid_at"], clock.now().to_string());

    // Vendor sees it, ships; buyer finalizes; payout on chain.
    let (s, v) = m.get("/api/vendor/orders", Some(&vendor)).await;
    assert_eq!((s, v[0]["shipping_info"].as_str()), (StatusCode::OK, Some("J. Doe, Dam 1, Amsterdam")));
    let (s, _) = m.get("/api/vendor/orders", Some(&buyer)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    tick(&clock);
    let (s, _) = m.post(&format!("{opath}/finalize"), Some(&buyer), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The vendor hands the parcel in at the courier's counter and gives the market its
    // tracking number, which the buyer then sees on the order page (JSON and HTML) and the
    // courier's public tracking page answers.
    let courier = Http { client: Client::new(), base: serve(courier(&clock).router()).await };
    let parcel = json!({"office": "Delfshaven", "sender_name": "Dirk White", "recipient_name": "J. Doe",
                        "recipient_address": "Dam 1, Amsterdam", "weight_g": 80});
    let (s, receipt) = courier.post("/api/parcels", None, parcel).await;
    assert_eq!(s, StatusCode::OK, "{receipt}");
    let tracking = receipt["tracking"].as_str().unwrap().to_string();
    let (s, v) = m.post(&format!("{opath}/ship"), Some(&vendor), json!({"tracking": "<script>x</script>"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("tracking"), "{v}");
    let (s, v) = m.post(&format!("{opath}/ship"), Some(&vendor), json!({"tracking": tracking.to_lowercase()})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("shipped")), "{v}");
    assert_eq!(v["tracking"], tracking.as_str());
    let (_, v) = m.get(&opath, Some(&buyer)).await;
    assert_eq!(v["tracking"], tracking.as_str(), "the buyer's order page (JSON) names the parcel");
    let html = Client::new()
        .get(format!("{}/orders/{order_id}", m.base))
        .bearer_auth(&buyer)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Tracking number") && html.contains(&format!("<code class=\"tracking\">{tracking}</code>")), "{html}");
    let (s, tracked) = courier.get(&format!("/track/{tracking}"), None).await;
    assert_eq!(s, StatusCode::OK, "{tracked}");
    assert_eq!((tracked["tracking"].as_str(), tracked["office"].as_str()), (Some(tracking.as_str()), Some("Delfshaven")));
    assert_eq!(tracked["status"], "dropped off");
    let (s, _) = m.post(&format!("{opath}/finalize"), Some(&vendor), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    tick(&clock);
    let (s, v) = m.post(&format!("{opath}/finalize"), Some(&buyer), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "finalized");
    let payout_txid: bitcoin::Txid = v["payout_txid"].as_str().unwrap().parse().unwrap();
    let commission = v["commission_sat"].as_u64().unwrap();
    let fee = v["fee_sat"].as_u64().unwrap();
    assert_eq!(commission, 100_000);
    let (s, _) = m.post(&format!("{opath}/finalize"), Some(&buyer), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    mine(&chain, &clock, &miner);
    let payout_tx = esplora.tx(&payout_txid).await.unwrap();
    assert!(payout_tx.status.confirmed);
    let to_vendor: u64 =
        payout_tx.vout.iter().filter(|o| o.scriptpubkey_address.as_deref() == Some(payout.to_string().as_str())).map(|o| o.value).sum();
    assert_eq!(to_vendor, 2_000_000 - commission - fee);
    let operator = market_svc.operator_address().unwrap();
    assert!(payout_tx.vout.iter().any(|o| o.scriptpubkey_address.as_deref() == Some(operator.as_str()) && o.value == commission));

    // Feedback appears on the vendor profile, with its sim time; the bio is verbatim.
    tick(&clock);
    let (s, v) = m.post(&format!("{opath}/feedback"), Some(&buyer), json!({"rating": 5, "text": "stealthy, fast"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, p) = m.get("/api/vendors/dr_white", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["bio"], bio);
    assert_eq!(p["sales"], 1);
    assert_eq!(p["joined"], "2026-03-01T08:00:00Z".parse::<SimTime>().unwrap().plus(SimDuration::minutes(1010)).to_string());
    assert_eq!(p["feedback"][0]["rating"], 5);
    assert_eq!(p["feedback"][0]["created"], clock.now().to_string());
    assert_eq!(p["listings"][0]["stock"], 8);

    // The vendor cashes out at a KYC exchange.
    let (s, v) = x
        .client
        .post(format!("{}/api/signup", x.base))
        .header("X-Forwarded-For", "198.51.100.23")
        .json(&json!({"username": "walter", "password": "pw", "kyc": {"full_name": "Walter White", "date_of_birth": "1958-09-07",
                      "email": "ww@example.org", "phone": "+1 505 555 0100", "address": "308 Negra Arroyo Lane"}}))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(s.as_u16(), 200);
    let xtok = v.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    tick(&clock);
    let (s, _) = x.post("/api/login", None, json!({"username": "walter", "password": "pw"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, d) = x.get("/api/deposit-address", Some(&xtok)).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let deposit = d["address"].as_str().unwrap().to_string();
    let (s, _) = x.get("/api/deposit-address", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let sent = to_vendor - 10_000;
    let cashout = pay(&esplora, &vendor_wallet, &payout, &deposit, sent).await;
    mine(&chain, &clock, &miner);
    let (s, a) = x.get("/api/account", Some(&xtok)).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["balance_sat"], sent);
    assert_eq!(a["deposits"][0]["txid"], cashout.to_string());
    let (_, a) = x.get("/api/account", Some(&xtok)).await;
    assert_eq!(a["deposits"].as_array().unwrap().len(), 1, "credited once");

    // Legal process.
    let records = |token: &'static str, q: String| {
        let client = x.client.clone();
        let url = format!("{}/legal/records?{q}", x.base);
        async move {
            let r = client.get(url).bearer_auth(token).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, r) = records(LEGAL_TOKEN, format!("address={deposit}")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["provider"], "CoinHaven");
    assert_eq!(r["query"]["address"], deposit.as_str());
    assert_eq!(r["produced_at"], clock.now().to_string());
    let acct = &r["accounts"][0];
    assert_eq!(acct["username"], "walter");
    assert_eq!(acct["kyc"]["full_name"], "Walter White");
    assert_eq!(acct["deposit_addresses"][0]["address"], deposit.as_str());
    assert_eq!(acct["deposits"][0]["amount_sat"], sent);
    assert_eq!(acct["deposits"][0]["txid"], cashout.to_string());
    assert_eq!(acct["logins"][0]["ip"], "198.51.100.23");
    assert_eq!(acct["logins"][1]["ip"], "127.0.0.1", "no X-Forwarded-For: the socket peer");
    let (s, r) = records(LEGAL_TOKEN, "account=walter".into()).await;
    assert_eq!((s, r["accounts"][0]["kyc"]["email"].as_str()), (200, Some("ww@example.org")));
    let (s, r) = records("wrong-token", format!("address={deposit}")).await;
    assert_eq!(s, 401);
    assert!(r["error"].is_string());
    let (s, r) = records(LEGAL_TOKEN, format!("address={}", buyer_coins)).await;
    assert_eq!(s, 200);
    assert_eq!(r["accounts"], json!([]));
    let (s, _) = records(LEGAL_TOKEN, String::new()).await;
    assert_eq!(s, 400);

    // A second, unpaid order cannot be shipped.
    let (_, o2) = m.post("/api/orders", Some(&nosy), json!({"listing_id": listing_id, "quantity": 1, "shipping_info": "x"})).await;
    let (s, _) = m.post(&format!("/api/orders/{}/ship", o2["order_id"]), Some(&vendor), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Malformed bodies are 4xx with a JSON error, never a panic.
    for (path, body) in [("/api/register", "{not json"), ("/api/orders", "[1,2"), ("/api/listings", "{\"title\": 5}")] {
        let r = m
            .client
            .post(format!("{}{path}", m.base))
            .bearer_auth(&vendor)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    let r = x.client.post(format!("{}/api/signup", x.base)).body("{}").send().await.unwrap();
    assert!(r.status().is_client_error());

    // The dumps carry the story, ordered.
    let md = market_svc.dump().unwrap();
    assert_eq!(md["orders"][0]["payout_txid"], payout_txid.to_string());
    let xd = exchange_svc.dump().unwrap();
    assert_eq!(xd["accounts"][0]["full_name"], "Walter White");
    assert_eq!(xd["legal_requests"].as_array().unwrap().len(), 3, "refused requests are not productions");
}

async fn oneshot(router: &Router, method: &str, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = router.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Drives a market through its router (no sockets, no chain calls) and returns its dump.
async fn scripted_market(seed: u64) -> Value {
    let clock = SimClock::new(SimTime(START));
    let svc = market(&clock, "http://127.0.0.1:9", seed);
    let r = svc.router();
    let payout = Wallet::from_seed([1; 32]).new_address().to_string();
    let (_, v) = oneshot(&r, "POST", "/api/register", None, r#"{"username":"vend","password":"pw"}"#).await;
    let vt = v["token"].as_str().unwrap().to_string();
    clock.advance_to(SimTime(START + 60));
    let body = json!({"bio": "hi", "payout_address": payout}).to_string();
    assert_eq!(oneshot(&r, "POST", "/api/vendor/shop", Some(&vt), &body).await.0, StatusCode::CREATED);
    let body = json!({"title": "T", "category": "C", "price_sat": 5000, "ships_from": "NL", "ships_to": "WW", "stock": 3}).to_string();
    assert_eq!(oneshot(&r, "POST", "/api/listings", Some(&vt), &body).await.0, StatusCode::CREATED);
    let (_, v) = oneshot(&r, "POST", "/api/register", None, r#"{"username":"buy","password":"pw"}"#).await;
    let bt = v["token"].as_str().unwrap().to_string();
    clock.advance_to(SimTime(START + 120));
    let body = json!({"listing_id": 1, "quantity": 1, "shipping_info": "addr"}).to_string();
    assert_eq!(oneshot(&r, "POST", "/api/orders", Some(&bt), &body).await.0, StatusCode::CREATED);
    svc.dump().unwrap()
}

#[tokio::test]
async fn same_requests_same_database() {
    let a = scripted_market(7).await;
    let b = scripted_market(7).await;
    let c = scripted_market(8).await;
    assert_eq!(a, b);
    assert_ne!(a, c, "a different seed gives different salts and escrow keys");
    assert_eq!(a["orders"][0]["created"], "2026-03-01T08:02:00Z");
}

#[tokio::test]
async fn router_errors_are_json() {
    let clock = SimClock::new(SimTime(START));
    let r = market(&clock, "http://127.0.0.1:9", 1).router();
    let (s, v) = oneshot(&r, "GET", "/nope", None, "").await;
    assert_eq!((s, v["error"].is_string()), (StatusCode::NOT_FOUND, true));
    let (s, v) = oneshot(&r, "GET", "/api/listings/abc", None, "").await;
    assert_eq!((s, v["error"].is_string()), (StatusCode::BAD_REQUEST, true));
    let (s, v) = oneshot(&r, "DELETE", "/api/listings", None, "").await;
    assert_eq!((s, v["error"].is_string()), (StatusCode::METHOD_NOT_ALLOWED, true));
    let (s, _) = oneshot(&r, "POST", "/api/register", None, r#"{"username":"ab","password":"pw"}"#).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = oneshot(&r, "POST", "/api/register", None, r#"{"username":"abc"}"#).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = oneshot(&r, "POST", "/api/orders", Some("bogus"), r#"{"listing_id":1,"quantity":1,"shipping_info":"x"}"#).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = oneshot(&r, "GET", "/api/vendors/ghost", None, "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let x = exchange(&clock, "http://127.0.0.1:9", 1).router();
    let (s, _) = oneshot(&x, "GET", "/legal/records?address=x", None, "").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = oneshot(&x, "GET", "/legal/records?address=x&account=y", Some(LEGAL_TOKEN), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = oneshot(&x, "GET", "/legal/records?account=nobody", Some(LEGAL_TOKEN), "").await;
    assert_eq!((s, v["accounts"].clone()), (StatusCode::OK, json!([])));
    let bad_kyc =
        r#"{"username":"abc","password":"pw","kyc":{"full_name":"","date_of_birth":"1990-01-01","email":"a@b","phone":"1","address":"x"}}"#;
    let (s, _) = oneshot(&x, "POST", "/api/signup", None, bad_kyc).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Without ConnectInfo (oneshot) and without X-Forwarded-For the IP is "unknown".
    let good = bad_kyc.replace(r#""full_name":"""#, r#""full_name":"A B""#);
    assert_eq!(oneshot(&x, "POST", "/api/signup", None, &good).await.0, StatusCode::OK);
    let (_, rec) = oneshot(&x, "GET", "/legal/records?account=abc", Some(LEGAL_TOKEN), "").await;
    assert_eq!(rec["accounts"][0]["logins"][0]["ip"], "unknown");
}
