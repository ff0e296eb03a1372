//! The mixer's front page: policy shown and escaped, mix form through a backend,
//! validation, backend failure.

use std::sync::{Arc, Mutex};

use coin_sim::Wallet;
use market_sim::web::mixer_front::{BoxFuture, MixBackend, MixRequest, MixTicket, MixerConfig, MixerFront};
use serde_json::json;
use sim_core::clock::SimDuration;

use super::*;

/// A mixer backend held in memory: hands out fresh addresses and remembers requests.
struct MemoryMixer {
    wallet: Mutex<Wallet>,
    requests: Mutex<Vec<MixRequest>>,
    fail: bool,
}

impl MixBackend for MemoryMixer {
    fn start_mix(&self, request: MixRequest) -> BoxFuture<'_, Result<MixTicket, String>> {
        Box::pin(async move {
            if self.fail {
                return Err("tumbler offline".into());
            }
            let mut reqs = self.requests.lock().unwrap();
            reqs.push(request);
            let deposit_address = self.wallet.lock().unwrap().new_address().to_string();
            Ok(MixTicket { mix_id: format!("mix-{}", reqs.len()), deposit_address })
        })
    }
}

fn mixer(fail: bool) -> (MixerFront, Arc<MemoryMixer>) {
    let backend = Arc::new(MemoryMixer { wallet: Mutex::new(Wallet::from_seed([3; 32])), requests: Mutex::new(Vec::new()), fail });
    let config = MixerConfig {
        name: "Blender".into(),
        fee_bps: 150,
        min_delay: SimDuration::hours(1),
        max_delay: SimDuration::hours(48),
        letter_of_guarantee: format!("We keep no logs. {SCRIPT}"),
    };
    (MixerFront::new(config, backend.clone(), clock()).unwrap(), backend)
}

fn destination() -> String {
    Wallet::from_seed([9; 32]).new_address().to_string()
}

#[tokio::test]
async fn front_page_and_mix() {
    let (front, backend) = mixer(false);
    let r = front.router();
    let page = html(&r, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("1.50 %") && page.body.contains("1 to 48 hours"));
    assert_escaped(&page.body);
    let j = api(&r, "GET", "/", None, None, None).await.json();
    assert_eq!(j["fee_bps"], 150);
    assert_eq!(j["max_delay_hours"], 48);

    let dest = destination();
    let t = api(&r, "POST", "/mix", None, None, Some(json!({"destination": dest, "delay_hours": 6}))).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    let t = t.json();
    assert_eq!(t["mix_id"], "mix-1");
    assert!(t["deposit_address"].as_str().unwrap().starts_with("bcrt1"));
    assert!(t["letter"].as_str().unwrap().contains(t["deposit_address"].as_str().unwrap()));
    assert_eq!(t["letter_sha256"].as_str().unwrap().len(), 64);
    let reqs = backend.requests.lock().unwrap().clone();
    assert_eq!(reqs, [MixRequest { destination: dest.clone(), delay: SimDuration::hours(6), fee_bps: 150 }]);

    // The browser form gets the ticket page.
    let form = format!("destination={dest}&delay_hours=2");
    let resp = send(&r, "POST", "/mix", &[("accept", "text/html")], Some(("application/x-www-form-urlencoded", form))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert!(resp.body.contains("mix-2"));
    assert_escaped(&resp.body);
}

#[tokio::test]
async fn mix_form_is_validated() {
    let (front, backend) = mixer(false);
    let r = front.router();
    let dest = destination();
    for (body, msg) in [
        (json!({"destination": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "delay_hours": 6}), "destination"),
        (json!({"destination": "<script>", "delay_hours": 6}), "destination"),
        (json!({"destination": dest, "delay_hours": 0}), "delay_hours must be 1-48"),
        (json!({"destination": dest, "delay_hours": 49}), "delay_hours must be 1-48"),
        (json!({"destination": dest, "delay_hours": -5}), "delay_hours"),
        (json!({"destination": dest}), "delay_hours"),
    ] {
        let resp = api(&r, "POST", "/mix", None, None, Some(body.clone())).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{body}: {}", resp.body);
        assert!(resp.json()["error"].as_str().unwrap().contains(msg), "{body}: {}", resp.body);
    }
    assert!(backend.requests.lock().unwrap().is_empty());

    let (front, _) = mixer(true);
    let resp = api(&front.router(), "POST", "/mix", None, None, Some(json!({"destination": dest, "delay_hours": 6}))).await;
    assert_eq!(resp.status, StatusCode::BAD_GATEWAY);
    assert!(!resp.body.contains("tumbler offline"), "backend detail leaked: {}", resp.body);
}
