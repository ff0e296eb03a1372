//! Every service of the shipped world over loopback HTTP: the market's forms and API, the
//! exchange, the forum, paste site, social network, search engine, mixer front page,
//! status page and the providers' public and legal sides. The first input byte picks the
//! service; the rest is the request. A panic in any service aborts the process (a crash).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Some(req) = darklab_fuzz::decode_request(rest) else { return };
    darklab_fuzz::with_world(|w| {
        let Some(service) = w.services.get(usize::from(pick) % w.services.len().max(1)) else { return };
        let url = format!("{}{}", service.url(), req.path);
        let Ok(url) = reqwest::Url::parse(&url) else { return };
        let mut r = w.client.request(req.method.clone(), url).header("host", service.host.as_str()).body(req.body.clone());
        for (k, v) in &req.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        w.rt.block_on(async {
            if let Ok(resp) = r.timeout(std::time::Duration::from_secs(10)).send().await {
                let _ = resp.bytes().await;
            }
        });
    });
});
