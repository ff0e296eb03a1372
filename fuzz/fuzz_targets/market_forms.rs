//! The market's HTML forms and JSON API over loopback HTTP, in the shipped world after the
//! cast's activity: login, registration, orders, feedback, disputes, messages, the vendor's
//! shop and listings and the operator's side, as a visitor, a signed-in buyer (session
//! cookie, as a browser sends it) or the same buyer with a bearer token. The first input
//! byte picks who asks; the rest is the request. A POST without a content type is sent as
//! a URL-encoded form. A 500 (the market failing inside) or a panic is a crash.
#![no_main]

use std::cell::OnceCell;

use libfuzzer_sys::fuzz_target;

thread_local! {
    /// The market's URL and a buyer's session token.
    static MARKET: OnceCell<(String, String, String)> = const { OnceCell::new() };
}

/// Registers a buyer through the API (answering the captcha as a person would) and returns
/// the market's URL, its host name and the buyer's token.
fn market(w: &darklab_fuzz::WorldFixture) -> (String, String, String) {
    let service = w.services.iter().find(|s| s.name == "market").unwrap_or_else(|| panic!("no market in {:?}", w.services));
    let url = service.url();
    let token = w.rt.block_on(async {
        let c = &w.client;
        let challenge: serde_json::Value = c.get(format!("{url}/api/captcha")).send().await.ok()?.json().await.ok()?;
        let answer = darklab_fuzz::answer_captcha(challenge["question"].as_str()?)?;
        let body = serde_json::json!({
            "username": "fuzzbuyer", "password": "fuzz-password-1",
            "captcha_id": challenge["id"], "captcha_answer": answer.to_string(),
        });
        let resp: serde_json::Value = c.post(format!("{url}/api/register")).json(&body).send().await.ok()?.json().await.ok()?;
        resp["token"].as_str().map(String::from)
    });
    (url, service.host.clone(), token.unwrap_or_else(|| panic!("could not register the fuzz buyer")))
}

fuzz_target!(|data: &[u8]| {
    let Some((&who, rest)) = data.split_first() else { return };
    let Some(req) = darklab_fuzz::decode_request(rest) else { return };
    darklab_fuzz::with_world(|w| {
        MARKET.with(|m| {
            let (url, host, token) = m.get_or_init(|| market(w));
            let Ok(url) = reqwest::Url::parse(&format!("{url}{}", req.path)) else { return };
            let mut r = w.client.request(req.method.clone(), url).header("host", host.as_str()).body(req.body.clone());
            match who % 3 {
                1 => r = r.header("cookie", format!("session={token}")),
                2 => r = r.header("authorization", format!("Bearer {token}")),
                _ => {}
            }
            if !req.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                r = r.header("content-type", "application/x-www-form-urlencoded");
            }
            for (k, v) in &req.headers {
                r = r.header(k.as_str(), v.as_str());
            }
            let status = w.rt.block_on(async {
                let resp = r.timeout(std::time::Duration::from_secs(10)).send().await.ok()?;
                let status = resp.status().as_u16();
                let _ = resp.bytes().await;
                Some(status)
            });
            assert_ne!(status, Some(500), "the market failed inside on a request");
        });
    });
});
