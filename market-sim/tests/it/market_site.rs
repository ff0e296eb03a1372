//! The market as a web site: a browser-style trade and a dispute over HTTP (forms, cookies,
//! the captcha, the operator side), hostile input, EXIF and OpenPGP slips read by
//! independent readers, the forensic image, and a headless Chromium rendering the pages.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use coin_sim::{Chain, ChainParams, EsploraClient, Wallet};
use market_sim::market::{MarketConfig, MarketService, pgp};
use reqwest::Client;
use rusqlite::Connection;
use serde_json::{Value, json};
use sim_core::clock::{SimClock, SimTime};
use tower::ServiceExt as _;

use crate::{START, mine, pay, serve, tick};

const OPERATOR: (&str, &str) = ("admin", "operator-password-1");

fn config(captcha: bool) -> MarketConfig {
    MarketConfig {
        name: "Silk Lane".into(),
        commission_bps: 500,
        captcha_required: captcha,
        operator_username: Some(OPERATOR.0.into()),
        operator_password: Some(OPERATOR.1.into()),
        ..MarketConfig::default()
    }
}

fn market(clock: &SimClock, chain_url: &str, captcha: bool) -> MarketService {
    MarketService::new(
        config(captcha),
        Connection::open_in_memory().unwrap(),
        clock.clone(),
        sim_core::rng::stream(5, "market"),
        Wallet::from_seed(sim_core::rng::stream_seed(5, "market-escrow")),
        EsploraClient::new(Client::new(), chain_url),
    )
    .unwrap()
}

/// Works out a captcha's answer from its question, as a program would.
fn solve(question: &str) -> String {
    let expr = question.trim_start_matches("What is ").trim_end_matches('?');
    let parts: Vec<&str> = expr.split(' ').collect();
    let (a, b): (i64, i64) = (parts[0].parse().unwrap(), parts[2].parse().unwrap());
    match parts[1] {
        "+" => a + b,
        "-" => a - b,
        _ => a * b,
    }
    .to_string()
}

/// A browser: follows no redirects, keeps the session cookie.
struct Browser {
    client: Client,
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Self {
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { client, base: base.to_string(), cookie: None }
    }

    fn with_cookie(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => req.header("cookie", c),
            None => req,
        }
    }

    /// GET as a browser: (status, HTML).
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.with_cookie(self.client.get(format!("{}{path}", self.base))).send().await.unwrap();
        let s = StatusCode::from_u16(r.status().as_u16()).unwrap();
        (s, r.text().await.unwrap())
    }

    /// GET the same URL as the workstation does: (status, JSON).
    async fn json(&self, path: &str) -> (StatusCode, Value) {
        let r =
            self.with_cookie(self.client.get(format!("{}{path}", self.base)).header("accept", "application/json")).send().await.unwrap();
        let s = StatusCode::from_u16(r.status().as_u16()).unwrap();
        (s, r.json().await.unwrap())
    }

    /// POST a form: (status, Location header, body).
    async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let r = self.with_cookie(self.client.post(format!("{}{path}", self.base)).form(fields)).send().await.unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            let c = c.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = if c == "session=" { None } else { Some(c) };
        }
        let s = StatusCode::from_u16(r.status().as_u16()).unwrap();
        let loc = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        (s, loc, r.text().await.unwrap())
    }

    /// POST JSON with the session cookie: (status, JSON).
    async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .with_cookie(self.client.post(format!("{}{path}", self.base)).header("accept", "application/json").json(&body))
            .send()
            .await
            .unwrap();
        let s = StatusCode::from_u16(r.status().as_u16()).unwrap();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// Registers through the form, answering the captcha shown on the page.
    async fn register(&mut self, user: &str, password: &str) {
        let (_, c) = self.json("/api/captcha").await;
        let (id, answer) = (c["id"].as_str().unwrap().to_string(), solve(c["question"].as_str().unwrap()));
        let (s, _, body) =
            self.form("/register", &[("username", user), ("password", password), ("captcha_id", &id), ("captcha_answer", &answer)]).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        assert!(self.cookie.is_some());
    }
}

fn order_id_of(location: &str) -> i64 {
    location.trim_start_matches("/orders/").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_trade_dispute_and_seizure_over_http() {
    let clock = SimClock::new(SimTime(START));
    let mut buyer_wallet = Wallet::from_seed([21; 32]);
    let buyer_coins = buyer_wallet.new_address();
    let refund = buyer_wallet.new_address();
    let miner = Wallet::from_seed([23; 32]).new_address();
    let chain = coin_sim::shared(
        Chain::new(ChainParams::default(), clock.now().as_block_time(), &[(buyer_coins.clone(), 10 * 100_000_000)]).unwrap(),
    );
    mine(&chain, &clock, &miner);
    let explorer_url = serve(coin_sim::explorer::router(chain.clone())).await;
    let esplora = EsploraClient::new(Client::new(), explorer_url.clone());
    let svc = market(&clock, &explorer_url, true);
    let base = serve(svc.router()).await;

    // Registration needs the captcha.
    let mut vendor = Browser::new(&base);
    let (s, _, body) = vendor.form("/register", &[("username", "dr_white"), ("password", "pw")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("captcha"), "{body}");
    let (s, html) = vendor.page("/register").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("alt=\"captcha\"") && html.contains("captcha_answer"), "{html}");
    vendor.register("dr_white", "pw").await;

    // The vendor opens a shop with a real key and lists (through the JSON API, same session).
    let payout = Wallet::from_seed([22; 32]).new_address();
    let (public, _) = pgp::generate_key([4; 32], "dr_white <walter.white@mail.example>").unwrap();
    let (s, v) = vendor
        .post_json("/api/vendor/shop", json!({"bio": "Quality since 2019.", "pgp_key": public, "payout_address": payout.to_string()}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let listing = json!({"title": "Blue crystal", "category": "Drugs/Stimulants", "description": "99.1 % pure.", "price_sat": 1_000_000,
        "ships_from": "US", "ships_to": "Worldwide", "stock": 5, "finalize_early": false});
    let (s, v) = vendor.post_json("/api/listings", listing).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let listing_id = v["id"].as_i64().unwrap();

    // A buyer browses and orders through the forms.
    let mut buyer = Browser::new(&base);
    buyer.register("jesse_p", "pw2").await;
    let (s, html) = buyer.page(&format!("/listing/{listing_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Blue crystal") && html.contains("0.01000000 DRK") && html.contains("Place order"), "{html}");
    let lid = listing_id.to_string();
    let (s, loc, _) =
        buyer.form("/orders", &[("listing_id", &lid), ("quantity", "2"), ("shipping_info", "J. Pinkman, 9809 Margo St")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let order = order_id_of(&loc);
    let (s, o) = buyer.json(&loc).await;
    assert_eq!((s, o["status"].as_str()), (StatusCode::OK, Some("awaiting_payment")));
    assert_eq!(o["amount_sat"], 2_000_000);

    // Pays escrow on the coin; a block confirms it; the vendor ships; the buyer finalizes.
    pay(&esplora, &buyer_wallet, &buyer_coins, o["escrow_address"].as_str().unwrap(), 2_000_000).await;
    mine(&chain, &clock, &miner);
    let (s, html) = vendor.page(&format!("/orders/{order}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Mark shipped"), "{html}");
    tick(&clock);
    let (s, _, _) = vendor.form(&format!("/orders/{order}/ship"), &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    tick(&clock);
    let (s, _, body) = buyer.form(&format!("/orders/{order}/finalize"), &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    let (_, o) = buyer.json(&format!("/orders/{order}")).await;
    assert_eq!(o["status"], "finalized");
    assert!(o["payout_txid"].is_string());
    tick(&clock);
    let (s, _, _) = buyer.form(&format!("/orders/{order}/feedback"), &[("rating", "5"), ("text", "Stealthy, fast. A+")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    // Feedback appears, with its time, on the vendor page — HTML and JSON alike.
    let (s, html) = buyer.page("/vendor/dr_white").await;
    assert_eq!(s, StatusCode::OK);
    let stamp = clock.now().to_string();
    assert!(html.contains("Stealthy, fast. A+") && html.contains(&stamp) && html.contains("j***p"), "{html}");
    assert!(html.contains("walter.white@mail.example"), "the key's user ID shows on the profile");
    let (_, p) = buyer.json("/vendor/dr_white").await;
    assert_eq!(p["feedback"][0]["text"], "Stealthy, fast. A+");
    assert_eq!(p["feedback"][0]["created"], stamp.as_str());
    assert_eq!(p["sales"], 1);
    let (_, p2) = buyer.json("/api/vendors/dr_white").await;
    assert_eq!(p2["handle"], "dr_white");

    // The dispute path: a second order, paid, disputed; the operator refunds.
    let (_, loc, _) = buyer.form("/orders", &[("listing_id", &lid), ("quantity", "1"), ("shipping_info", "same")]).await;
    let order2 = order_id_of(&loc);
    let (_, o) = buyer.json(&loc).await;
    pay(&esplora, &buyer_wallet, &buyer_coins, o["escrow_address"].as_str().unwrap(), 1_000_000).await;
    mine(&chain, &clock, &miner);
    let refund_s = refund.to_string();
    let (s, _, body) =
        buyer.form(&format!("/orders/{order2}/dispute"), &[("reason", "Never arrived."), ("refund_address", &refund_s)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    let (_, d) = buyer.json("/disputes").await;
    assert_eq!(d["disputes"][0]["status"], "open");
    let dispute_id = d["disputes"][0]["id"].as_i64().unwrap();
    // Only the operator reaches the operator side.
    assert_eq!(buyer.page("/operator").await.0, StatusCode::FORBIDDEN);
    assert_eq!(Browser::new(&base).page("/operator").await.0, StatusCode::UNAUTHORIZED);
    let (s, _, _) = buyer.form(&format!("/operator/disputes/{dispute_id}/resolve"), &[("ruling", "vendor")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let mut op = Browser::new(&base);
    let (s, _, _) = op.form("/login", &[("username", OPERATOR.0), ("password", OPERATOR.1)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, html) = op.page("/operator").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Never arrived.") && html.contains("Refund"), "{html}");
    let (s, v) = op.post_json(&format!("/operator/disputes/{dispute_id}/resolve"), json!({"ruling": "buyer"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "refunded");
    mine(&chain, &clock, &miner);
    let refunded: u64 = esplora.address_utxos(&refund).await.unwrap().iter().map(|u| u.value_sat).sum();
    assert!(refunded > 990_000 && refunded < 1_000_000, "refund less the fee, no commission: {refunded}");
    let (s, _) = op.post_json(&format!("/operator/disputes/{dispute_id}/resolve"), json!({"ruling": "vendor"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, dash) = op.json("/operator").await;
    assert_eq!(dash["commission_earned_sat"], 100_000);
    assert_eq!(dash["orders_by_status"]["refunded"], 1);

    // News and canary from the operator.
    let (s, _, _) = op.form("/operator/news", &[("title", "Scheduled maintenance"), ("body", "Back soon.")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(buyer.page("/").await.1.contains("Scheduled maintenance"));
    let (_, c) = buyer.json("/canary").await;
    assert!(c["text"].as_str().unwrap().contains("have not received any warrant"));
    // It is signed by the staff key it publishes: rpgp itself and gpg both check the signature.
    let (sig, key) = (c["signature"].as_str().unwrap(), c["signing_key"].as_str().unwrap());
    let text = c["text"].as_str().unwrap();
    {
        use ::pgp::composed::{Deserializable as _, DetachedSignature, SignedPublicKey};
        let (public, _) = SignedPublicKey::from_string(key).unwrap();
        let (signature, _) = DetachedSignature::from_string(sig).unwrap();
        signature.verify(&public.primary_key, text.as_bytes()).unwrap();
        assert!(signature.verify(&public.primary_key, b"As of today we have been served a warrant.").is_err());
    }
    let home = tempfile::tempdir().unwrap();
    for (name, body) in [("staff.asc", key), ("canary.sig", sig), ("canary.txt", text)] {
        std::fs::write(home.path().join(name), body).unwrap();
    }
    let gpg = |args: &[&str]| {
        Command::new("gpg").arg("--batch").arg("--homedir").arg(home.path()).args(args).current_dir(home.path()).output().unwrap()
    };
    assert!(gpg(&["--import", "staff.asc"]).status.success());
    let verified = gpg(&["--verify", "canary.sig", "canary.txt"]);
    assert!(verified.status.success(), "gpg: {}", String::from_utf8_lossy(&verified.stderr));
    assert!(String::from_utf8_lossy(&verified.stderr).contains("Good signature from \"Silk Lane staff\""), "{verified:?}");
    assert!(buyer.page("/canary").await.1.contains("BEGIN PGP SIGNATURE"), "the page shows the signature");

    // Seizure: a consistent database file and the access log.
    let image = svc.forensic_image().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silk-lane.db");
    std::fs::write(&path, &image.db_snapshot).unwrap();
    let seized = Connection::open(&path).unwrap();
    let statuses: Vec<String> =
        seized.prepare("SELECT status FROM orders ORDER BY id").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(statuses, ["finalized", "refunded"]);
    let shipping: String = seized.query_row("SELECT shipping_info FROM orders WHERE id = ?1", [order], |r| r.get(0)).unwrap();
    assert_eq!(shipping, "J. Pinkman, 9809 Margo St", "unencrypted addresses are there for the taking");
    assert!(image.logs.iter().any(|l| l.method == "POST" && l.path == format!("/orders/{order}/finalize") && l.status == 303));
    assert!(image.logs.iter().all(|l| l.client == "127.0.0.1"), "over loopback the client is the proxy's address");
    assert!(svc.dump().unwrap().get("server_log").is_none(), "the access log stays out of world digests");
}

async fn call(
    r: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    accept_json: bool,
    body: Option<(&str, String)>,
) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if accept_json {
        req = req.header("accept", "application/json");
    }
    let body = match body {
        Some((ct, b)) => {
            req = req.header("content-type", ct);
            Body::from(b)
        }
        None => Body::empty(),
    };
    let resp = r.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let s = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    (s, String::from_utf8_lossy(&bytes).into_owned())
}

async fn api(r: &Router, method: &str, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let (s, text) = call(r, method, path, token, true, Some(("application/json", body.to_string()))).await;
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn register(r: &Router, user: &str) -> String {
    let (s, v) = api(r, "POST", "/api/register", None, json!({"username": user, "password": "pw"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["token"].as_str().unwrap().to_string()
}

const SCRIPT: &str = "<script>alert('xss')</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";

#[tokio::test]
async fn hostile_input_is_escaped_and_bad_input_refused() {
    let clock = SimClock::new(SimTime(START));
    let svc = market(&clock, "http://127.0.0.1:9", false);
    let r = svc.router();
    let vt = register(&r, "evil_vendor").await;
    let payout = Wallet::from_seed([1; 32]).new_address().to_string();
    let bio = format!("Hi {SCRIPT} \"quoted\" & 'single' {IMG}");
    let (s, v) = api(&r, "POST", "/api/vendor/shop", Some(&vt), json!({"bio": bio, "payout_address": payout, "pgp_key": SCRIPT})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let title = format!("{IMG} '; DROP TABLE listings; --");
    let (s, v) = api(
        &r,
        "POST",
        "/api/listings",
        Some(&vt),
        json!({"title": title, "category": SCRIPT, "description": SCRIPT,
        "price_sat": 5000, "ships_from": IMG, "ships_to": "WW", "stock": 3}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let bt = register(&r, "buyer").await;
    let (s, _) = api(&r, "POST", "/api/messages", Some(&bt), json!({"to": "evil_vendor", "subject": IMG, "body": SCRIPT})).await;
    assert_eq!(s, StatusCode::CREATED);
    let ot = {
        let (s, v) = api(&r, "POST", "/api/login", None, json!({"username": OPERATOR.0, "password": OPERATOR.1})).await;
        assert_eq!(s, StatusCode::OK);
        v["token"].as_str().unwrap().to_string()
    };
    let (s, _) = api(&r, "POST", "/operator/news", Some(&ot), json!({"title": SCRIPT, "body": IMG})).await;
    assert_eq!(s, StatusCode::OK);

    // Every page shows the text, escaped; no markup gets through.
    for (path, token) in [
        ("/", None),
        ("/listing/1", None),
        ("/vendor/evil_vendor", None),
        ("/news", None),
        ("/messages", Some(&vt)),
        ("/messages", Some(&bt)),
        ("/operator", Some(&ot)),
    ] {
        let (s, html) = call(&r, "GET", path, token.map(String::as_str), false, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {html}");
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{path} lets markup through:\n{html}");
    }
    let (_, html) = call(&r, "GET", "/vendor/evil_vendor", None, false, None).await;
    assert!(html.contains("&lt;script&gt;alert(") && html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{html}");
    // The SQL-looking title is stored and shown as text; the table is still there.
    let (_, l) = api(&r, "GET", "/api/listings/1", None, Value::Null).await;
    assert_eq!(l["title"], title.as_str());
    // Search strings are data too, LIKE wildcards included.
    for q in ["%25", "'%20OR%201=1%20--", "_", "%5C"] {
        let (s, v) = api(&r, "GET", &format!("/?q={q}"), None, Value::Null).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["listings"].as_array().unwrap().len(), 0, "q={q}");
    }
    let (_, v) = api(&r, "GET", "/?q=DROP", None, Value::Null).await;
    assert_eq!(v["listings"].as_array().unwrap().len(), 1);

    // Bad input gets a clear message: as JSON for programs, as a page for browsers.
    let (s, _) = api(&r, "POST", "/api/orders", Some(&bt), json!({"listing_id": 1, "quantity": 1, "shipping_info": SCRIPT})).await;
    assert_eq!(s, StatusCode::CREATED);
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Value, StatusCode, &'a str);
    let cases: Vec<Case<'_>> = vec![
        ("POST", "/api/register", None, json!({"username": "<b>", "password": "pw"}), StatusCode::BAD_REQUEST, "username must be"),
        (
            "POST",
            "/api/listings",
            Some(&vt),
            json!({"title": "x".repeat(201), "category": "c", "price_sat": 1, "ships_from": "a", "ships_to": "b", "stock": 1}),
            StatusCode::BAD_REQUEST,
            "title must be",
        ),
        (
            "POST",
            "/api/listings",
            Some(&vt),
            json!({"title": "t", "category": "c", "price_sat": -1, "ships_from": "a", "ships_to": "b", "stock": 1}),
            StatusCode::BAD_REQUEST,
            "invalid request body",
        ),
        (
            "POST",
            "/api/listings",
            Some(&vt),
            json!({"title": "t", "category": "c", "price_sat": 1, "ships_from": "a", "ships_to": "b", "stock": 1, "photo": {"seed": "zz"}}),
            StatusCode::BAD_REQUEST,
            "photo.seed",
        ),
        (
            "POST",
            "/api/listings",
            Some(&vt),
            json!({"title": "t", "category": "c", "price_sat": 1, "ships_from": "a", "ships_to": "b", "stock": 1, "photo": {"exif": {"make": "A", "model": "B", "gps": [123.0, 0.0], "taken_at": "2026-02-28T08:00:00Z"}}}),
            StatusCode::BAD_REQUEST,
            "GPS",
        ),
        (
            "POST",
            "/api/messages",
            Some(&bt),
            json!({"to": "evil_vendor", "body": "hi", "encrypt": true}),
            StatusCode::BAD_REQUEST,
            "cannot encrypt",
        ),
        ("POST", "/api/messages", Some(&bt), json!({"to": "nobody_here", "body": "hi"}), StatusCode::NOT_FOUND, "recipient not found"),
        (
            "POST",
            "/api/orders",
            Some(&bt),
            json!({"listing_id": 1, "quantity": 0, "shipping_info": "x"}),
            StatusCode::BAD_REQUEST,
            "quantity must be",
        ),
        ("POST", "/operator/ban", Some(&bt), json!({"username": "evil_vendor"}), StatusCode::FORBIDDEN, "operator only"),
        ("POST", "/operator/news", None, json!({"title": "t", "body": "b"}), StatusCode::UNAUTHORIZED, "missing or invalid token"),
        ("POST", "/operator/ban", Some(&ot), json!({"username": "ghost"}), StatusCode::NOT_FOUND, "user not found"),
        (
            "POST",
            "/api/orders/1/dispute",
            Some(&bt),
            json!({"reason": "r", "refund_address": "nope"}),
            StatusCode::BAD_REQUEST,
            "refund_address",
        ),
    ];
    for (method, path, token, body, status, needle) in cases {
        let (s, v) = api(&r, method, path, token, body).await;
        assert_eq!(s, status, "{path}: {v}");
        assert!(v["error"].as_str().unwrap_or_default().contains(needle), "{path}: {v}");
    }
    let (s, html) = call(
        &r,
        "POST",
        "/orders",
        Some(&bt),
        false,
        Some(("application/x-www-form-urlencoded", "listing_id=1&quantity=abc&shipping_info=x".into())),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("invalid form"), "{html}");
    let (s, html) = call(&r, "GET", "/listing/999", None, false, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("listing not found") && html.contains("<!doctype html>"), "{html}");
    let (s, _) = call(&r, "POST", "/api/listings/1/photo", Some(&vt), true, Some(("image/jpeg", "<svg onload=alert(1)>".into()))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(&r, "POST", "/api/listings/1/photo", Some(&bt), true, Some(("image/jpeg", "x".into()))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A ban: the vendor's session stops working and its listings leave the index.
    let (s, _) = api(&r, "POST", "/operator/ban", Some(&ot), json!({"username": "evil_vendor"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api(&r, "GET", "/api/messages", Some(&vt), Value::Null).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, home) = api(&r, "GET", "/", None, Value::Null).await;
    assert_eq!(home["listings"].as_array().unwrap().len(), 0);
    let (_, p) = api(&r, "GET", "/vendor/evil_vendor", None, Value::Null).await;
    assert_eq!(p["banned"], true);
}

/// The path of `tool`, or `None` (with the reason printed) when it is absent and the tests
/// do not run as root; as root (where scripts/test installs it) its absence is a failure.
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_some() {
        return found;
    }
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    assert_ne!(uid, "0", "{name} is missing while running as root: scripts/test installs Debian's {package}");
    eprintln!("SKIPPED: {name} not installed and not root (install Debian's {package})");
    None
}

/// A market with a vendor whose key leaks an e-mail and whose photo leaks a camera and a place.
async fn slip_market() -> (MarketService, Router) {
    let clock = SimClock::new(SimTime(START));
    let svc = market(&clock, "http://127.0.0.1:9", false);
    let r = svc.router();
    let vt = register(&r, "GreenLeafUK").await;
    let (public, _) = pgp::generate_key([9; 32], "GreenLeafUK <j.smith1984@mailbox.example>").unwrap();
    let payout = Wallet::from_seed([1; 32]).new_address().to_string();
    let (s, v) = api(
        &r,
        "POST",
        "/api/vendor/shop",
        Some(&vt),
        json!({"bio": "UK's finest, 10 years in the game.", "pgp_key": public, "payout_address": payout}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let photo = json!({"seed": "07".repeat(32), "width": 480, "height": 360,
        "exif": {"make": "Apple", "model": "iPhone 12", "serial": "F17DL3XJ0F0N", "gps": [51.501476, -0.140634], "taken_at": "2026-02-28T08:00:00Z"}});
    let (s, v) = api(&r, "POST", "/api/listings", Some(&vt), json!({"title": "Purple Haze 10g", "category": "Drugs/Cannabis",
        "description": "Grown with love.", "price_sat": 250_000, "ships_from": "United Kingdom", "ships_to": "Europe", "stock": 40, "photo": photo})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    for i in 0..3 {
        let (s, _) = api(
            &r,
            "POST",
            "/api/listings",
            Some(&vt),
            json!({"title": format!("Lemon Kush {}g", 5 * (i + 1)), "category": "Drugs/Cannabis",
            "price_sat": 120_000 * (i + 1), "ships_from": "United Kingdom", "ships_to": "Worldwide", "stock": 10,
            "photo": {"seed": format!("{:02x}", i + 1).repeat(32), "width": 320, "height": 240}}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    (svc, r)
}

#[tokio::test]
async fn exif_and_key_slips_are_readable_by_independent_readers() {
    let (_svc, r) = slip_market().await;
    let (_, l) = api(&r, "GET", "/api/listings/1", None, Value::Null).await;
    assert_eq!(l["photo_url"], "/listing/1/photo.jpg");
    let resp = r.clone().oneshot(Request::builder().uri("/listing/1/photo.jpg").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let jpeg = axum::body::to_bytes(resp.into_body(), 1 << 22).await.unwrap().to_vec();

    // kamadak-exif.
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&jpeg)).unwrap();
    let text = |tag| exif.get_field(tag, exif::In::PRIMARY).map(|f| f.display_value().to_string()).unwrap_or_default();
    assert_eq!(text(exif::Tag::Make), "\"Apple\"");
    assert_eq!(text(exif::Tag::Model), "\"iPhone 12\"");
    assert_eq!(text(exif::Tag::BodySerialNumber), "\"F17DL3XJ0F0N\"");
    assert_eq!(text(exif::Tag::DateTimeOriginal), "2026-02-28 08:00:00");
    assert_eq!(text(exif::Tag::GPSLatitudeRef), "N");
    assert_eq!(text(exif::Tag::GPSLongitudeRef), "W");
    let lat = match &exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).unwrap().value {
        exif::Value::Rational(v) => v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0,
        other => panic!("{other:?}"),
    };
    assert!((lat - 51.501476).abs() < 1e-5, "{lat}");

    // exiftool.
    if let Some(exiftool) = tool("exiftool", "libimage-exiftool-perl") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("listing.jpg");
        std::fs::write(&file, &jpeg).unwrap();
        let out = Command::new(exiftool)
            .args(["-j", "-n", "-Make", "-Model", "-SerialNumber", "-GPSLatitude", "-GPSLongitude"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v[0]["Make"], "Apple");
        assert_eq!(v[0]["Model"], "iPhone 12");
        assert_eq!(v[0]["SerialNumber"], "F17DL3XJ0F0N");
        assert!((v[0]["GPSLatitude"].as_f64().unwrap() - 51.501476).abs() < 1e-5, "{v}");
        assert!((v[0]["GPSLongitude"].as_f64().unwrap() + 0.140634).abs() < 1e-5, "{v}");
    }

    // The key's user ID: read by rpgp directly and by GnuPG where installed.
    let (_, p) = api(&r, "GET", "/api/vendors/GreenLeafUK", None, Value::Null).await;
    let armored = p["pgp_key"].as_str().unwrap();
    assert_eq!(p["pgp"]["user_ids"][0], "GreenLeafUK <j.smith1984@mailbox.example>");
    {
        use ::pgp::composed::{Deserializable as _, SignedPublicKey};
        let (key, _) = SignedPublicKey::from_string(armored).unwrap();
        key.verify_bindings().unwrap();
        assert_eq!(key.details.users[0].id.id(), b"GreenLeafUK <j.smith1984@mailbox.example>");
    }
    let gpg = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("gpg")).find(|p| p.is_file()));
    match gpg {
        Some(gpg) => {
            let home = tempfile::tempdir().unwrap();
            let mut child = Command::new(gpg)
                .args(["--batch", "--with-colons", "--show-keys"])
                .env("GNUPGHOME", home.path())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), armored.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.lines().any(|l| l.starts_with("uid:") && l.contains("j.smith1984@mailbox.example")), "{text}");
        }
        None => eprintln!("note: gpg not installed; the key was read with rpgp only"),
    }
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("market-screenshots")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_renders_home_listing_and_vendor() {
    let Some(chromium) = tool("chromium", "chromium") else { return };
    let (_svc, r) = slip_market().await;
    let base = serve(r).await;
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, path, expect) in [
        ("home", "/", "Purple Haze 10g"),
        ("listing", "/listing/1", "United Kingdom"),
        ("vendor", "/vendor/GreenLeafUK", "j.smith1984@mailbox.example"),
    ] {
        let url = format!("{base}{path}");
        let shot = dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let (chromium2, shot2, url2) = (chromium.clone(), shot.clone(), url.clone());
        let profile = tempfile::tempdir().unwrap();
        let profile_arg = format!("--user-data-dir={}", profile.path().display());
        let (dom, shot_status) = tokio::task::spawn_blocking(move || {
            let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run"];
            let dom = Command::new(&chromium2).args(common).arg(&profile_arg).args(["--dump-dom"]).arg(&url2).output().unwrap();
            let shot = Command::new(&chromium2)
                .args(common)
                .arg(&profile_arg)
                .args(["--window-size=1280,1000", &format!("--screenshot={}", shot2.display())])
                .arg(&url2)
                .output()
                .unwrap();
            (dom, shot)
        })
        .await
        .unwrap();
        let html = String::from_utf8_lossy(&dom.stdout);
        assert!(html.contains(expect), "{name}: chromium's DOM lacks {expect:?}:\n{html}\n{}", String::from_utf8_lossy(&dom.stderr));
        assert!(shot_status.status.success(), "{}", String::from_utf8_lossy(&shot_status.stderr));
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}: screenshot {} looks empty", shot.display());
        eprintln!("screenshot: {}", shot.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_opens_a_shop_with_a_key_and_lists_from_an_ordinary_browser() {
    let clock = SimClock::new(SimTime(START));
    // No bond: the forms never need the chain.
    let svc = market(&clock, "http://127.0.0.1:9", false);
    let base = serve(svc.router()).await;
    let mut vendor = Browser::new(&base);
    let (s, _, body) = vendor.form("/register", &[("username", "heisen"), ("password", "pw")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    let (s, html) = vendor.page("/sell").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("action=\"/sell/shop\"") && html.contains("name=\"pgp_key\"") && html.contains("href=\"/sell\""), "{html}");

    // The shop form: profile text, an armoured key pasted in, the payout address.
    let payout = Wallet::from_seed([31; 32]).new_address().to_string();
    let (public, _) = pgp::generate_key([32; 32], "heisen <w.white@mail.example>").unwrap();
    let (s, loc, body) = vendor
        .form("/sell/shop", &[("bio", "Blue <b>glass</b>."), ("pgp_key", public.as_str()), ("payout_address", payout.as_str())])
        .await;
    assert_eq!((s, loc.as_str()), (StatusCode::SEE_OTHER, "/sell"), "{body}");
    let (_, profile) = vendor.json("/vendor/heisen").await;
    assert_eq!(profile["pgp"]["user_ids"][0], "heisen <w.white@mail.example>", "{profile}");
    assert_eq!(profile["pgp_key"], public.as_str());
    let (_, html) = vendor.page("/vendor/heisen").await;
    assert!(html.contains("Blue &lt;b&gt;glass&lt;&#x2f;b&gt;.") && html.contains("w.white@mail.example"), "{html}");
    let (s, _, _) = vendor.form("/sell/shop", &[("bio", "again"), ("pgp_key", ""), ("payout_address", payout.as_str())]).await;
    assert_eq!(s, StatusCode::CONFLICT, "a shop opens once");

    // The listing form, numbers and the finalize-early box as a browser sends them.
    let (_, html) = vendor.page("/sell").await;
    assert!(html.contains("action=\"/sell/listings\""), "{html}");
    let fields = [
        ("title", "Blue glass 1g"),
        ("category", "Drugs/Stimulants"),
        ("description", "Pure."),
        ("price_sat", "1500000"),
        ("ships_from", "US"),
        ("ships_to", "Worldwide"),
        ("stock", "7"),
        ("finalize_early", "on"),
    ];
    let (s, loc, body) = vendor.form("/sell/listings", &fields).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    assert!(loc.starts_with("/listing/"), "{loc}");
    let (_, listing) = vendor.json(&loc).await;
    assert_eq!((listing["title"].as_str(), listing["stock"].as_u64()), (Some("Blue glass 1g"), Some(7)), "{listing}");
    assert_eq!((listing["finalize_early"].as_bool(), listing["price_sat"].as_u64()), (Some(true), Some(1_500_000)));
    let mut bad = fields;
    bad[3] = ("price_sat", "lots");
    let (s, _, body) = vendor.form("/sell/listings", &bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // Logged out, the vendor side is closed.
    let (s, _) = Browser::new(&base).page("/sell").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
