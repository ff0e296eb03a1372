//! The record-keeping providers: the cast's actions over HTTP, then the legal desk —
//! right and wrong token, lookups, retention and preservation.

use market_sim::providers::courier::{CourierConfig, CourierOffice, CourierService};
use market_sim::providers::email::{EmailConfig, EmailService};
use market_sim::providers::hosting::{HostingConfig, HostingService};
use market_sim::providers::isp::{IspConfig, IspService};
use serde_json::json;
use sim_core::clock::SimDuration;

use super::*;

const DAY: i64 = 86_400;

fn at(secs: i64) -> String {
    SimTime(START + secs).to_string()
}

async fn legal(r: &Router, method: &str, uri: &str) -> Resp {
    api(r, method, uri, Some(LEGAL_TOKEN), None, None).await
}

async fn check_legal_auth(r: &Router, uri: &str) {
    assert_eq!(api(r, "GET", uri, None, None, None).await.status, StatusCode::UNAUTHORIZED);
    let wrong = api(r, "GET", uri, Some("not-the-lab-token-000000"), None, None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["error"], "missing or invalid token");
    assert_eq!(api(r, "POST", "/legal/preserve", Some("not-the-lab-token-000000"), None, None).await.status, StatusCode::UNAUTHORIZED);
}

fn isp(clock: &SimClock) -> IspService {
    let config = IspConfig {
        name: "KPN-ish".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(30),
        jurisdiction: "NL".into(),
        pool: "81.204.0.0/16".into(),
    };
    IspService::new(config, db(), clock.clone(), rng("isp")).unwrap()
}

#[tokio::test]
async fn isp_answers_who_had_an_ip_when() {
    let clock = clock();
    let svc = isp(&clock);
    let r = svc.router();
    let jan =
        api(&r, "POST", "/api/subscribers", None, None, Some(json!({"name": "Jan Jansen", "address": "Kerkstraat 1, Utrecht"}))).await;
    assert_eq!(jan.status, StatusCode::OK, "{}", jan.body);
    let jan = jan.json()["account"].as_str().unwrap().to_string();
    let piet =
        api(&r, "POST", "/api/subscribers", None, None, Some(json!({"name": "Piet", "address": "Dorpsweg 2"}))).await.json()["account"]
            .as_str()
            .unwrap()
            .to_string();

    // Jan has 81.204.7.7 from day 0 to day 2; Piet gets it on day 3.
    let lease = api(&r, "POST", "/api/connect", None, None, Some(json!({"account": jan, "ip": "81.204.7.7"}))).await;
    assert_eq!(lease.status, StatusCode::OK, "{}", lease.body);
    assert_eq!(lease.json()["start"], at(0));
    let taken = api(&r, "POST", "/api/connect", None, None, Some(json!({"account": piet, "ip": "81.204.7.7"}))).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    clock.advance_to(SimTime(START + 2 * DAY));
    let ended = api(&r, "POST", "/api/disconnect", None, None, Some(json!({"account": jan}))).await.json();
    assert_eq!(ended["end"], at(2 * DAY));
    clock.advance_to(SimTime(START + 3 * DAY));
    assert_eq!(
        api(&r, "POST", "/api/connect", None, None, Some(json!({"account": piet, "ip": "81.204.7.7"}))).await.status,
        StatusCode::OK
    );
    // Jan reconnects on a pool address.
    let pooled = api(&r, "POST", "/api/connect", None, None, Some(json!({"account": jan}))).await.json();
    assert!(pooled["ip"].as_str().unwrap().starts_with("81.204."), "{pooled}");
    assert_ne!(pooled["ip"], "81.204.7.7");

    check_legal_auth(&r, "/legal/records?ip=81.204.7.7").await;
    let day1 = legal(&r, "GET", &format!("/legal/records?ip=81.204.7.7&at={}", at(DAY))).await;
    assert_eq!(day1.status, StatusCode::OK, "{}", day1.body);
    let day1 = day1.json();
    assert_eq!(day1["provider"], "KPN-ish");
    assert_eq!(day1["jurisdiction"], "NL");
    assert_eq!(day1["retention"], "30d");
    assert_eq!(day1["query"], json!({"ip": "81.204.7.7", "at": at(DAY)}));
    assert_eq!(day1["subscribers"].as_array().unwrap().len(), 1);
    assert_eq!(day1["subscribers"][0]["name"], "Jan Jansen");
    assert_eq!(day1["subscribers"][0]["address"], "Kerkstraat 1, Utrecht");
    assert_eq!(day1["subscribers"][0]["leases"], json!([{"ip": "81.204.7.7", "start": at(0), "end": at(2 * DAY)}]));
    // The end instant belongs to the next holder; between leases nobody had it.
    let gap = legal(&r, "GET", &format!("/legal/records?ip=81.204.7.7&at={}", at(2 * DAY + 3600))).await.json();
    assert_eq!(gap["subscribers"], json!([]));
    let day4 = legal(&r, "GET", &format!("/legal/records?ip=81.204.7.7&at={}", at(4 * DAY))).await.json();
    assert_eq!(day4["subscribers"][0]["name"], "Piet");
    assert_eq!(day4["subscribers"][0]["leases"][0]["end"], json!(null));
    let all = legal(&r, "GET", "/legal/records?ip=81.204.7.7").await.json();
    assert_eq!(all["subscribers"].as_array().unwrap().len(), 2);
    let by_account = legal(&r, "GET", &format!("/legal/records?account={jan}")).await.json();
    assert_eq!(by_account["subscribers"][0]["leases"].as_array().unwrap().len(), 2);

    for bad in [
        "/legal/records",
        "/legal/records?ip=not-an-ip",
        "/legal/records?ip=1.2.3.4&account=x",
        "/legal/records?account=x&at=2026-03-01T08:00:00Z",
        "/legal/records?ip=1.2.3.4&at=yesterday",
    ] {
        let resp = legal(&r, "GET", bad).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{bad}: {}", resp.body);
        assert!(resp.json()["error"].is_string());
    }
    for (body, status) in
        [(json!({"account": "nope"}), StatusCode::NOT_FOUND), (json!({"account": jan, "ip": "999.1.1.1"}), StatusCode::BAD_REQUEST)]
    {
        assert_eq!(api(&r, "POST", "/api/connect", None, None, Some(body)).await.status, status);
    }
    assert_eq!(
        api(&r, "POST", "/api/subscribers", None, None, Some(json!({"name": "", "address": "x"}))).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn isp_retention_and_preservation() {
    let clock = clock();
    let svc = isp(&clock);
    let r = svc.router();
    let mut accounts = Vec::new();
    for (name, ip) in [("Kept Person", "81.204.1.1"), ("Lost Person", "81.204.2.2")] {
        let a =
            api(&r, "POST", "/api/subscribers", None, None, Some(json!({"name": name, "address": "Somewhere 1"}))).await.json()["account"]
                .as_str()
                .unwrap()
                .to_string();
        api(&r, "POST", "/api/connect", None, None, Some(json!({"account": a, "ip": ip}))).await;
        accounts.push(a);
    }
    clock.advance_to(SimTime(START + DAY));
    for a in &accounts {
        api(&r, "POST", "/api/disconnect", None, None, Some(json!({"account": a}))).await;
    }
    // Day 20: a preservation order for the first IP only (the lease ended on day 1).
    clock.advance_to(SimTime(START + 20 * DAY));
    let p = legal(&r, "POST", "/legal/preserve?ip=81.204.1.1").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.json()["preserved_at"], at(20 * DAY));
    assert_eq!(legal(&r, "POST", "/legal/preserve?ip=bogus").await.status, StatusCode::BAD_REQUEST);
    // Day 40: past 30 days of retention.
    clock.advance_to(SimTime(START + 40 * DAY));
    let kept = legal(&r, "GET", &format!("/legal/records?ip=81.204.1.1&at={}", at(3600))).await.json();
    assert_eq!(kept["subscribers"][0]["name"], "Kept Person");
    let lost = legal(&r, "GET", &format!("/legal/records?ip=81.204.2.2&at={}", at(3600))).await.json();
    assert_eq!(lost["subscribers"], json!([]));
    // The subscriber still exists; only the old lease is gone.
    let acct = legal(&r, "GET", &format!("/legal/records?account={}", accounts[1])).await.json();
    assert_eq!(acct["subscribers"][0]["name"], "Lost Person");
    assert_eq!(acct["subscribers"][0]["leases"], json!([]));
    // A preservation made after expiry does not bring records back.
    legal(&r, "POST", "/legal/preserve?ip=81.204.2.2").await;
    let still = legal(&r, "GET", "/legal/records?ip=81.204.2.2").await.json();
    assert_eq!(still["subscribers"], json!([]));
    let dump = svc.dump().unwrap();
    assert_eq!(dump["legal_requests"].as_array().unwrap().len(), 4);
    assert_eq!(dump["preservations"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn email_provider_records_logins() {
    let clock = clock();
    let config = EmailConfig {
        name: "SafeMail".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(90),
        jurisdiction: "CH".into(),
        domain: "safemail.example".into(),
    };
    let svc = EmailService::new(config, db(), clock.clone(), rng("email")).unwrap();
    let r = svc.router();
    let s = api(
        &r,
        "POST",
        "/api/signup",
        None,
        Some("81.204.7.7"),
        Some(json!({"username": "frost..ice", "password": "pw", "display_name": "Frost", "recovery_phone": "+31 6 1234 5678"})),
    )
    .await;
    assert_eq!(s.status, StatusCode::BAD_REQUEST, "two dots in a row are not an address");
    let s = api(
        &r,
        "POST",
        "/api/signup",
        None,
        Some("81.204.7.7"),
        Some(json!({"username": "frost_ice", "password": "pw", "display_name": "Frost", "recovery_phone": "+31 6 1234 5678"})),
    )
    .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    let address = s.json()["address"].as_str().unwrap().to_string();
    assert_eq!(address, "frost_ice@safemail.example");
    clock.advance_to(SimTime(START + 100 * DAY));
    let l = api(&r, "POST", "/api/login", None, Some("10.8.0.1, 127.0.0.1"), Some(json!({"username": address, "password": "pw"}))).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.body);
    let me = api(&r, "GET", "/api/mailbox", Some(l.json()["token"].as_str().unwrap()), None, None).await.json();
    assert_eq!(me["address"], address);
    assert_eq!(
        api(&r, "POST", "/api/login", None, None, Some(json!({"username": "frost_ice", "password": "no"}))).await.status,
        StatusCode::UNAUTHORIZED
    );
    let phone =
        api(&r, "POST", "/api/signup", None, None, Some(json!({"username": "other", "password": "pw", "recovery_phone": "<b>call</b>"})))
            .await;
    assert_eq!(phone.status, StatusCode::BAD_REQUEST);
    assert!(phone.json()["error"].as_str().unwrap().contains("recovery_phone"));

    check_legal_auth(&r, &format!("/legal/records?address={address}")).await;
    // Day 100, retention 90 days: the sign-up on day 0 is gone, the login kept.
    let rec = legal(&r, "GET", "/legal/records?address=Frost_Ice@safemail.example").await;
    assert_eq!(rec.status, StatusCode::OK, "{}", rec.body);
    let rec = rec.json();
    assert_eq!(rec["jurisdiction"], "CH");
    let sub = &rec["subscribers"][0];
    assert_eq!(sub["recovery_phone"], "+31 6 1234 5678");
    assert_eq!(sub["display_name"], "Frost");
    assert_eq!(sub["created"], at(0));
    assert_eq!(sub["logins"], json!([{"time": at(100 * DAY), "ip": "10.8.0.1", "kind": "login"}]));
    assert_eq!(legal(&r, "GET", "/legal/records?address=nobody@safemail.example").await.json()["subscribers"], json!([]));
    assert_eq!(legal(&r, "GET", "/legal/records?address=no-at-sign").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn email_preservation_keeps_old_logins() {
    let clock = clock();
    let config = EmailConfig {
        name: "SafeMail".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(90),
        jurisdiction: "CH".into(),
        domain: "safemail.example".into(),
    };
    let svc = EmailService::new(config, db(), clock.clone(), rng("email")).unwrap();
    let r = svc.router();
    api(&r, "POST", "/api/signup", None, Some("81.204.7.7"), Some(json!({"username": "frost", "password": "pw"}))).await;
    clock.advance_to(SimTime(START + 60 * DAY));
    assert_eq!(legal(&r, "POST", "/legal/preserve?address=frost@safemail.example").await.status, StatusCode::OK);
    clock.advance_to(SimTime(START + 200 * DAY));
    let rec = legal(&r, "GET", "/legal/records?address=frost@safemail.example").await.json();
    assert_eq!(rec["subscribers"][0]["logins"], json!([{"time": at(0), "ip": "81.204.7.7", "kind": "signup"}]));
    assert_eq!(rec["subscribers"][0]["recovery_phone"], json!(null));
}

#[tokio::test]
async fn hosting_ties_a_server_to_its_payer_and_panel_logins() {
    let clock = clock();
    let config = HostingConfig {
        name: "BulletHost".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(180),
        jurisdiction: "RO".into(),
        pool: "185.220.100.0/24".into(),
    };
    let svc = HostingService::new(config, db(), clock.clone(), rng("hosting")).unwrap();
    let r = svc.router();
    let tok = api(
        &r,
        "POST",
        "/api/signup",
        None,
        Some("10.8.0.1"),
        Some(json!({"username": "ops", "password": "pw", "full_name": "J. Doe", "email": "frost_ice@safemail.example"})),
    )
    .await;
    assert_eq!(tok.status, StatusCode::OK, "{}", tok.body);
    let tok = tok.json()["token"].as_str().unwrap().to_string();
    let rent =
        json!({"plan": "vps-small", "payment": {"method": "darkcoin", "amount": 250000, "currency": "DRK", "reference": "txid-abc"}});
    let server = api(&r, "POST", "/api/servers", Some(&tok), None, Some(rent)).await;
    assert_eq!(server.status, StatusCode::OK, "{}", server.body);
    let server = server.json();
    let ip = server["ip"].as_str().unwrap().to_string();
    assert!(ip.starts_with("185.220.100."));
    clock.advance_to(SimTime(START + 30 * DAY));
    // The slip: a panel login straight from home.
    let login = api(&r, "POST", "/api/login", None, Some("81.204.7.7"), Some(json!({"username": "ops", "password": "pw"}))).await;
    assert_eq!(login.status, StatusCode::OK);
    let renew = api(
        &r,
        "POST",
        &format!("/api/servers/{}/renew", server["id"]),
        Some(&tok),
        None,
        Some(json!({"method": "card", "amount": 1500, "currency": "EUR", "reference": "**** 4242"})),
    )
    .await;
    assert_eq!(renew.status, StatusCode::OK, "{}", renew.body);
    let listed = api(&r, "GET", "/api/servers", Some(&tok), None, None).await.json();
    assert_eq!(listed[0]["ip"], ip.as_str());

    for (body, msg) in [
        (json!({"plan": "x", "payment": {"method": "Card!", "amount": 1, "currency": "EUR"}}), "payment.method"),
        (json!({"plan": "x", "payment": {"method": "card", "amount": 0, "currency": "EUR"}}), "payment.amount"),
        (json!({"plan": "x", "payment": {"method": "card", "amount": 1, "currency": "euro"}}), "payment.currency"),
        (json!({"plan": "", "payment": {"method": "card", "amount": 1, "currency": "EUR"}}), "plan"),
    ] {
        let resp = api(&r, "POST", "/api/servers", Some(&tok), None, Some(body)).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST);
        assert!(resp.json()["error"].as_str().unwrap().contains(msg), "{}", resp.body);
    }
    let valid = json!({"plan": "x", "payment": {"method": "card", "amount": 1, "currency": "EUR"}});
    assert_eq!(api(&r, "POST", "/api/servers", None, None, Some(valid)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api(&r, "POST", "/api/servers/999/renew", Some(&tok), None, Some(json!({"method": "card", "amount": 1, "currency": "EUR"})))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    check_legal_auth(&r, &format!("/legal/records?server_ip={ip}")).await;
    let rec = legal(&r, "GET", &format!("/legal/records?server_ip={ip}")).await;
    assert_eq!(rec.status, StatusCode::OK, "{}", rec.body);
    let rec = rec.json();
    let c = &rec["customers"][0];
    assert_eq!(c["full_name"], "J. Doe");
    assert_eq!(c["email"], "frost_ice@safemail.example");
    assert_eq!(c["servers"][0]["ip"], ip.as_str());
    assert_eq!(c["servers"][0]["plan"], "vps-small");
    assert_eq!(
        c["payments"],
        json!([
            {"time": at(0), "server_ip": ip, "method": "darkcoin", "amount": 250000, "currency": "DRK", "reference": "txid-abc",
             "txid": null, "deposit_address": null, "paid_from": []},
            {"time": at(30 * DAY), "server_ip": ip, "method": "card", "amount": 1500, "currency": "EUR", "reference": "**** 4242",
             "txid": null, "deposit_address": null, "paid_from": []}
        ])
    );
    assert_eq!(c["invoices"], json!([]), "a provider without a wallet takes payments as given");
    assert_eq!(
        c["logins"],
        json!([{"time": at(0), "ip": "10.8.0.1", "kind": "signup"}, {"time": at(30 * DAY), "ip": "81.204.7.7", "kind": "login"}])
    );
    let by_email = legal(&r, "GET", "/legal/records?email=FROST_ICE@safemail.example").await.json();
    assert_eq!(by_email["customers"], rec["customers"]);
    let by_account = legal(&r, "GET", "/legal/records?account=ops").await.json();
    assert_eq!(by_account["customers"], rec["customers"]);
    assert_eq!(legal(&r, "GET", "/legal/records?server_ip=1.1.1.1").await.json()["customers"], json!([]));
    assert_eq!(legal(&r, "GET", "/legal/records?account=ops&email=x@y").await.status, StatusCode::BAD_REQUEST);

    // Day 200 with 180 days of retention: the first payment and the sign-up are gone.
    clock.advance_to(SimTime(START + 200 * DAY));
    let late = legal(&r, "GET", "/legal/records?account=ops").await.json();
    assert_eq!(late["customers"][0]["payments"].as_array().unwrap().len(), 1);
    assert_eq!(late["customers"][0]["logins"][0]["ip"], "81.204.7.7");
    assert_eq!(late["customers"][0]["servers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn courier_parcels_by_tracking_and_sender() {
    let clock = clock();
    let config = CourierConfig {
        name: "PostNL-ish".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(60),
        jurisdiction: "NL".into(),
        offices: Vec::new(),
    };
    let svc = CourierService::new(config, db(), clock.clone(), rng("courier")).unwrap();
    let r = svc.router();
    let drop = json!({
        "office": "Utrecht Centraal", "sender_name": "J. Jansen", "sender_address": "Kerkstraat 1",
        "recipient_name": "B. Buyer", "recipient_address": "Lange Gracht 5, Leiden", "weight_g": 120
    });
    let receipt = api(&r, "POST", "/api/parcels", None, None, Some(drop.clone())).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    let tracking = receipt.json()["tracking"].as_str().unwrap().to_string();
    assert!(tracking.starts_with("CP") && tracking.ends_with("NL") && tracking.len() == 13, "{tracking}");
    clock.advance_to(SimTime(START + 10 * DAY));
    let mut second = drop.clone();
    second["sender_name"] = json!("  j. jansen ");
    second["office"] = json!("Amersfoort");
    let t2 = api(&r, "POST", "/api/parcels", None, None, Some(second)).await.json()["tracking"].as_str().unwrap().to_string();
    let public = api(&r, "GET", &format!("/track/{}", tracking.to_lowercase()), None, None, None).await.json();
    assert_eq!(public["office"], "Utrecht Centraal");
    assert!(public.get("sender_name").is_none());
    assert_eq!(api(&r, "GET", "/track/CP000000000NL", None, None, None).await.status, StatusCode::NOT_FOUND);

    for (field, value) in [("weight_g", json!(0)), ("office", json!("")), ("sender_name", json!("a\u{7}b")), ("weight_g", json!("heavy"))] {
        let mut bad = drop.clone();
        bad[field] = value;
        let resp = api(&r, "POST", "/api/parcels", None, None, Some(bad)).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{field}: {}", resp.body);
        assert!(resp.json()["error"].as_str().unwrap().contains(field), "{}", resp.body);
    }

    check_legal_auth(&r, &format!("/legal/records?tracking={tracking}")).await;
    let rec = legal(&r, "GET", &format!("/legal/records?tracking={tracking}")).await.json();
    assert_eq!(
        rec["parcels"],
        json!([{
            "tracking": tracking, "office": "Utrecht Centraal", "place": null, "dropped_at": at(0), "sender_name": "J. Jansen",
            "sender_address": "Kerkstraat 1", "recipient_name": "B. Buyer", "recipient_address": "Lange Gracht 5, Leiden", "weight_g": 120
        }])
    );
    let by_sender = legal(&r, "GET", "/legal/records?sender=J.%20JANSEN").await.json();
    let found: Vec<&str> = by_sender["parcels"].as_array().unwrap().iter().map(|p| p["tracking"].as_str().unwrap()).collect();
    assert_eq!(found, [tracking.as_str(), t2.as_str()]);
    // Day 65 with 60 days of retention: the first parcel is gone, the second kept.
    clock.advance_to(SimTime(START + 65 * DAY));
    let late = legal(&r, "GET", "/legal/records?sender=j.%20jansen").await.json();
    assert_eq!(late["parcels"].as_array().unwrap().len(), 1);
    assert_eq!(late["parcels"][0]["office"], "Amersfoort");
    assert_eq!(legal(&r, "GET", "/legal/records?tracking=a&sender=b").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn courier_offices_have_places_and_records_by_place() {
    let clock = clock();
    let office = |name: &str, lat: f64, lon: f64| CourierOffice { name: name.into(), lat, lon };
    let config = CourierConfig {
        name: "ParcelNet".into(),
        legal_token: LEGAL_TOKEN.into(),
        retention: SimDuration::days(30),
        jurisdiction: "NL".into(),
        offices: vec![office("Delfshaven", 51.9075, 4.4497), office("Leiden Centrum", 52.1601, 4.497)],
    };
    let svc = CourierService::new(config.clone(), db(), clock.clone(), rng("courier")).unwrap();
    let r = svc.router();
    let offices = api(&r, "GET", "/api/offices", None, None, None).await.json();
    assert_eq!(offices[1]["name"], "Leiden Centrum");
    let drop = |office: &str, sender: &str| json!({"office": office, "sender_name": sender, "recipient_name": "B", "recipient_address": "Leiden", "weight_g": 60});
    let a = api(&r, "POST", "/api/parcels", None, None, Some(drop(" delfshaven ", "Daan Visser"))).await.json();
    assert_eq!(a["office"], "Delfshaven", "the office's own name is recorded");
    api(&r, "POST", "/api/parcels", None, None, Some(drop("Leiden Centrum", "Bram Jansen"))).await;
    let unknown = api(&r, "POST", "/api/parcels", None, None, Some(drop("Gouda", "X"))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    let here = legal(&r, "GET", "/legal/records?place=51.90750,%204.4497").await.json();
    let parcels = here["parcels"].as_array().unwrap();
    assert_eq!(parcels.len(), 1, "{here}");
    assert_eq!(parcels[0]["sender_name"], "Daan Visser");
    assert_eq!(parcels[0]["place"], "51.9075,4.4497");
    assert_eq!(here["query"]["place"], "51.90750, 4.4497");
    assert!(legal(&r, "GET", "/legal/records?place=52.0,4.0").await.json()["parcels"].as_array().unwrap().is_empty());
    assert_eq!(legal(&r, "GET", "/legal/records?place=north").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(legal(&r, "GET", "/legal/records?place=1,2&sender=x").await.status, StatusCode::BAD_REQUEST);
    // Preserved by place on day 20, the day-0 parcel outlives its 30 days.
    clock.advance_to(SimTime(START + 20 * DAY));
    assert_eq!(legal(&r, "POST", "/legal/preserve?place=51.9075,4.4497").await.status, StatusCode::OK);
    clock.advance_to(SimTime(START + 40 * DAY));
    assert_eq!(legal(&r, "GET", "/legal/records?place=51.9075,4.4497").await.json()["parcels"].as_array().unwrap().len(), 1);
    assert!(legal(&r, "GET", "/legal/records?place=52.1601,4.4970").await.json()["parcels"].as_array().unwrap().is_empty());
    let bad = CourierConfig { offices: vec![office("Nowhere", 91.0, 0.0)], ..config };
    assert!(CourierService::new(bad, db(), clock.clone(), rng("courier")).is_err());
}

#[tokio::test]
async fn providers_are_deterministic_and_check_config() {
    async fn run() -> Value {
        let clock = clock();
        let svc = isp(&clock);
        let r = svc.router();
        let a = api(&r, "POST", "/api/subscribers", None, None, Some(json!({"name": "A", "address": "B"}))).await.json()["account"].clone();
        api(&r, "POST", "/api/connect", None, None, Some(json!({"account": a}))).await;
        svc.dump().unwrap()
    }
    assert_eq!(run().await, run().await);
    let bad = IspConfig {
        name: "X".into(),
        legal_token: "short".into(),
        retention: SimDuration::days(1),
        jurisdiction: "NL".into(),
        pool: "10.0.0.0/8".into(),
    };
    assert!(IspService::new(bad.clone(), db(), clock(), rng("x")).is_err());
    let bad_pool = IspConfig { legal_token: LEGAL_TOKEN.into(), pool: "nonsense".into(), ..bad.clone() };
    assert!(IspService::new(bad_pool, db(), clock(), rng("x")).is_err());
    let no_retention = IspConfig { legal_token: LEGAL_TOKEN.into(), retention: SimDuration(0), ..bad };
    assert!(IspService::new(no_retention, db(), clock(), rng("x")).is_err());
}
