//! The clearnet: social profiles and posts, pastes, and the search engine crawling both
//! over HTTP — a reused handle leads from one to the other.

use market_sim::web::paste::{PasteConfig, PasteService};
use market_sim::web::search::{SearchConfig, SearchService};
use market_sim::web::social::{SocialConfig, SocialService};
use serde_json::json;

use super::*;

fn social() -> SocialService {
    SocialService::new(SocialConfig { name: "Chirper".into() }, db(), clock(), rng("social")).unwrap()
}

fn paste() -> PasteService {
    PasteService::new(PasteConfig { name: "PasteHole".into() }, db(), clock(), rng("paste")).unwrap()
}

#[tokio::test]
async fn social_profiles_posts_and_escaping() {
    let svc = social();
    let r = svc.router();
    let tok = api(&r, "POST", "/register", None, Some("198.51.100.4"), Some(json!({"username": "dr_frost", "password": "pw"}))).await;
    assert_eq!(tok.status, StatusCode::OK);
    let tok = tok.json()["token"].as_str().unwrap().to_string();
    let edit = json!({"display_name": format!("Frost {SCRIPT}"), "bio": format!("Chemist. {IMG}"), "links": "https://frost.example\nhttp://frostshop.onion/"});
    let p = api(&r, "POST", "/profile", Some(&tok), None, Some(edit)).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let post = api(&r, "POST", "/posts", Some(&tok), None, Some(json!({"body": format!("New batch in {SCRIPT}")}))).await;
    assert_eq!(post.status, StatusCode::OK);
    let view = api(&r, "GET", "/u/dr_frost", None, None, None).await.json();
    assert_eq!(view["links"], json!(["https://frost.example", "http://frostshop.onion/"]));
    assert_eq!(view["posts"][0]["handle"], "dr_frost");
    for uri in ["/u/dr_frost", "/"] {
        let page = html(&r, uri).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_escaped(&page.body);
    }
    assert_eq!(api(&r, "GET", "/sitemap", None, None, None).await.json()["pages"], json!(["/u/dr_frost"]));
    // A javascript: link is refused; so is a post without a session.
    let bad = api(&r, "POST", "/profile", Some(&tok), None, Some(json!({"links": "javascript:alert(1)"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("http://"));
    assert_eq!(api(&r, "POST", "/posts", None, None, Some(json!({"body": "x"}))).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api(&r, "POST", "/posts", Some(&tok), None, Some(json!({"body": ""}))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(api(&r, "GET", "/u/nobody", None, None, None).await.status, StatusCode::NOT_FOUND);
    let dump = svc.dump().unwrap();
    assert_eq!(dump["logins"][0]["ip"], "198.51.100.4");
}

#[tokio::test]
async fn pastes_anonymous_and_signed() {
    let svc = paste();
    let r = svc.router();
    let a = api(
        &r,
        "POST",
        "/",
        None,
        Some("198.51.100.9"),
        Some(json!({"title": format!("list {SCRIPT}"), "author": "", "body": format!("prices\n{IMG}")})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let key = a.json()["key"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 8);
    let v = api(&r, "GET", &format!("/p/{key}"), None, None, None).await.json();
    assert_eq!(v["author"], json!(null));
    assert_eq!(v["created"], "2026-03-01T08:00:00Z");
    let page = html(&r, &format!("/p/{key}")).await;
    assert!(page.body.contains("Anonymous"));
    assert_escaped(&page.body);
    assert_escaped(&html(&r, "/").await.body);
    let raw = send(&r, "GET", &format!("/p/{key}/raw"), &[], None).await;
    assert!(raw.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(raw.body, format!("prices\n{IMG}"));
    // A browser form redirects to the paste.
    let resp = send(&r, "POST", "/", &[], Some(("application/x-www-form-urlencoded", "author=dr_frost&body=hello".into()))).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert!(resp.headers["location"].to_str().unwrap().starts_with("/p/"));
    assert_eq!(api(&r, "POST", "/", None, None, Some(json!({"body": "  "}))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        api(&r, "POST", "/", None, None, Some(json!({"author": "x".repeat(33), "body": "b"}))).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(api(&r, "GET", "/p/nothere", None, None, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(svc.dump().unwrap()["pastes"][0]["ip"], "198.51.100.9");
}

#[tokio::test]
async fn search_finds_a_reused_handle_across_social_and_paste() {
    let social = social();
    let paste = paste();
    let sr = social.router();
    let pr = paste.router();
    // The careless persona: the market handle reused on the clearnet.
    let tok = api(&sr, "POST", "/register", None, None, Some(json!({"username": "dr_frost", "password": "pw"}))).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    api(
        &sr,
        "POST",
        "/profile",
        Some(&tok),
        None,
        Some(json!({"display_name": "Jan", "bio": "Amateur chemist from Utrecht", "links": ""})),
    )
    .await;
    api(&sr, "POST", "/posts", Some(&tok), None, Some(json!({"body": "Anyone know a good lab glass supplier?"}))).await;
    let other = api(&sr, "POST", "/register", None, None, Some(json!({"username": "gardener", "password": "pw"}))).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    api(&sr, "POST", "/posts", Some(&other), None, Some(json!({"body": "Tomatoes are in"}))).await;
    let p = api(
        &pr,
        "POST",
        "/",
        None,
        None,
        Some(json!({"title": "Frost price list", "author": "dr_frost", "body": "contact dr_frost on the market"})),
    )
    .await;
    let key = p.json()["key"].as_str().unwrap().to_string();
    api(&pr, "POST", "/", None, None, Some(json!({"title": "recipe", "body": "soup"}))).await;

    let social_url = serve(sr).await;
    let paste_url = serve(pr).await;
    let search = SearchService::new(SearchConfig { name: "Findr".into() }, db(), clock(), rng("search")).unwrap();
    let client = reqwest::Client::new();
    let rep = search.crawl(&client, &social_url).await.unwrap();
    assert_eq!(rep.indexed, 2);
    let rep = search.crawl(&client, &format!("{paste_url}/")).await.unwrap();
    assert_eq!(rep.indexed, 2);

    let r = search.router();
    let res = api(&r, "GET", "/search?q=dr_frost", None, None, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = res.json();
    let urls: Vec<&str> = res["results"].as_array().unwrap().iter().map(|x| x["url"].as_str().unwrap()).collect();
    let profile = format!("{social_url}/u/dr_frost");
    let paste_page = format!("{paste_url}/p/{key}");
    assert_eq!(urls.len(), 2, "{res}");
    assert!(urls.contains(&profile.as_str()) && urls.contains(&paste_page.as_str()), "{urls:?}");
    assert_eq!(res["indexed"], 4);
    // Words from the profile find it too; unrelated pages are not returned.
    let res = api(&r, "GET", "/search?q=chemist+Utrecht", None, None, None).await.json();
    assert_eq!(res["results"][0]["url"], profile.as_str());
    assert_eq!(res["results"].as_array().unwrap().len(), 1);
    let page = html(&r, "/search?q=dr_frost").await;
    assert!(page.body.contains(&format!("p&#x2f;{key}")) || page.body.contains(&paste_page), "{}", page.body);
    // Bad queries.
    assert_eq!(api(&r, "GET", "/search?q=", None, None, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(api(&r, "GET", "/search", None, None, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(api(&r, "GET", &format!("/search?q={}", "a".repeat(201)), None, None, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(html(&r, "/").await.status, StatusCode::OK);
    // Hostile queries come back escaped.
    let page = html(&r, "/search?q=%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E").await;
    assert_escaped(&page.body);

    // A site that cannot be reached leaves the index alone.
    assert!(search.crawl(&client, "http://127.0.0.1:9").await.is_err());
    assert_eq!(api(&r, "GET", "/search?q=dr_frost", None, None, None).await.json()["results"].as_array().unwrap().len(), 2);
}
