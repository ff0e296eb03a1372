//! The forum: registration and posting over HTTP (JSON and browser forms), profiles,
//! hostile markup escaped, validation errors.

use market_sim::web::forum::{BoardConfig, ForumConfig, ForumService};
use serde_json::json;

use super::*;

pub(crate) fn forum() -> (ForumService, SimClock) {
    let clock = clock();
    let config = ForumConfig {
        name: "Dread-ish".into(),
        boards: vec![
            BoardConfig { slug: "markets".into(), title: "Markets".into(), description: "Talk about markets".into() },
            BoardConfig { slug: "reviews".into(), title: "Vendor reviews".into(), description: "Who delivers".into() },
        ],
    };
    (ForumService::new(config, db(), clock.clone(), rng("forum")).unwrap(), clock)
}

async fn register(r: &Router, name: &str) -> String {
    let resp = api(r, "POST", "/register", None, Some("10.0.0.1"), Some(json!({"username": name, "password": "pw"}))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.json()["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn threads_posts_and_profiles() {
    let (svc, clock) = forum();
    let r = svc.router();
    let frost = register(&r, "dr_frost").await;
    let buyer = register(&r, "buyer7").await;
    let p = api(&r, "POST", "/profile", Some(&frost), None, Some(json!({"signature": "PGP key on my shop"}))).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    clock.advance_to(SimTime(START + 3600));
    let t =
        api(&r, "POST", "/board/reviews", Some(&frost), None, Some(json!({"title": "Frost shop open", "body": "Best ice.\nShipping NL."})))
            .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    let thread_id = t.json()["thread_id"].as_i64().unwrap();
    clock.advance_to(SimTime(START + 7200));
    let rep = api(&r, "POST", &format!("/thread/{thread_id}"), Some(&buyer), None, Some(json!({"body": "Arrived in 2 days"}))).await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.body);

    let index = api(&r, "GET", "/", None, None, None).await.json();
    assert_eq!(index["boards"][1]["slug"], "reviews");
    assert_eq!(index["boards"][1]["threads"], 1);
    assert_eq!(index["boards"][1]["posts"], 2);
    assert_eq!(index["boards"][0]["threads"], 0);

    let board = api(&r, "GET", "/board/reviews", None, None, None).await.json();
    assert_eq!(board["threads"][0]["author"], "dr_frost");
    assert_eq!(board["threads"][0]["replies"], 1);
    assert_eq!(board["threads"][0]["last_post"], "2026-03-01T10:00:00Z");

    let thread = api(&r, "GET", &format!("/thread/{thread_id}"), None, None, None).await.json();
    assert_eq!(thread["title"], "Frost shop open");
    assert_eq!(thread["posts"][0]["body"], "Best ice.\nShipping NL.");
    assert_eq!(thread["posts"][0]["author_signature"], "PGP key on my shop");
    assert_eq!(thread["posts"][0]["author_joined"], "2026-03-01T08:00:00Z");
    assert_eq!(thread["posts"][1]["author"], "buyer7");

    let user = api(&r, "GET", "/user/dr_frost", None, None, None).await.json();
    assert_eq!(user["post_count"], 1);
    assert_eq!(user["joined"], "2026-03-01T08:00:00Z");
    assert_eq!(user["recent_posts"][0]["thread_title"], "Frost shop open");

    // The same URLs in HTML.
    let page = html(&r, &format!("/thread/{thread_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.body.contains("Frost shop open") && page.body.contains("/user/dr_frost"));

    // Login IPs are kept (the forum's own records, for a seized database).
    let login = api(&r, "POST", "/login", None, Some("192.0.2.55"), Some(json!({"username": "dr_frost", "password": "pw"}))).await;
    assert_eq!(login.status, StatusCode::OK);
    let dump = svc.dump().unwrap();
    let ips: Vec<&str> = dump["logins"].as_array().unwrap().iter().map(|l| l["ip"].as_str().unwrap()).collect();
    assert_eq!(ips, ["10.0.0.1", "10.0.0.1", "192.0.2.55"]);
}

#[tokio::test]
async fn hostile_markup_is_escaped() {
    let (svc, _) = forum();
    let r = svc.router();
    let tok = register(&r, "mallory").await;
    let sig = format!("sig {SCRIPT}");
    api(&r, "POST", "/profile", Some(&tok), None, Some(json!({ "signature": sig }))).await;
    let t = api(
        &r,
        "POST",
        "/board/markets",
        Some(&tok),
        None,
        Some(json!({"title": format!("{SCRIPT}{IMG}"), "body": format!("hi {SCRIPT} {IMG}")})),
    )
    .await;
    assert_eq!(t.status, StatusCode::OK);
    for uri in ["/", "/board/markets", "/thread/1", "/user/mallory"] {
        let page = html(&r, uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        if uri != "/" {
            assert_escaped(&page.body);
        }
    }
    // JSON carries the text as written.
    let thread = api(&r, "GET", "/thread/1", None, None, None).await.json();
    assert_eq!(thread["title"], format!("{SCRIPT}{IMG}"));
    // SQL-looking input is just text.
    let t = api(&r, "POST", "/board/markets", Some(&tok), None, Some(json!({"title": "x'); DROP TABLE posts;--", "body": "b"}))).await;
    assert_eq!(t.status, StatusCode::OK);
    assert_eq!(api(&r, "GET", "/thread/2", None, None, None).await.json()["title"], "x'); DROP TABLE posts;--");
}

#[tokio::test]
async fn browser_forms_use_a_cookie() {
    let (svc, _) = forum();
    let r = svc.router();
    let resp = send(
        &r,
        "POST",
        "/register",
        &[("accept", "text/html")],
        Some(("application/x-www-form-urlencoded", "username=webuser&password=pw".into())),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.headers["location"], "/user/webuser");
    let cookie = resp.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("session="));
    let resp = send(
        &r,
        "POST",
        "/board/markets",
        &[("accept", "text/html"), ("cookie", &cookie)],
        Some(("application/x-www-form-urlencoded", "title=Hello+there&body=line1%0D%0Aline2".into())),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
    assert_eq!(resp.headers["location"], "/thread/1");
    let thread = api(&r, "GET", "/thread/1", None, None, None).await.json();
    assert_eq!(thread["posts"][0]["body"], "line1\nline2");
}

#[tokio::test]
async fn validation_errors() {
    let (svc, _) = forum();
    let r = svc.router();
    let tok = register(&r, "someone").await;
    let cases = [
        ("POST", "/register", None, json!({"username": "<b>x</b>", "password": "pw"}), StatusCode::BAD_REQUEST, "username must be"),
        ("POST", "/register", None, json!({"username": "someone", "password": "pw"}), StatusCode::CONFLICT, "taken"),
        ("POST", "/login", None, json!({"username": "someone", "password": "nope"}), StatusCode::UNAUTHORIZED, "invalid username"),
        ("POST", "/board/markets", None, json!({"title": "t", "body": "b"}), StatusCode::UNAUTHORIZED, "log in"),
        ("POST", "/board/markets", Some("bogus"), json!({"title": "t", "body": "b"}), StatusCode::UNAUTHORIZED, "log in"),
        ("POST", "/board/markets", Some(tok.as_str()), json!({"title": "  ", "body": "b"}), StatusCode::BAD_REQUEST, "title must be 1-150"),
        ("POST", "/board/markets", Some(tok.as_str()), json!({"title": "a\u{0}b", "body": "b"}), StatusCode::BAD_REQUEST, "title must be"),
        ("POST", "/board/nope", Some(tok.as_str()), json!({"title": "t", "body": "b"}), StatusCode::NOT_FOUND, "board not found"),
        ("POST", "/thread/99", Some(tok.as_str()), json!({"body": "b"}), StatusCode::NOT_FOUND, "thread not found"),
        ("POST", "/board/markets", Some(tok.as_str()), json!({"title": "t"}), StatusCode::BAD_REQUEST, "body"),
        ("GET", "/user/ghost", None, json!(null), StatusCode::NOT_FOUND, "user not found"),
        ("GET", "/thread/abc", None, json!(null), StatusCode::BAD_REQUEST, "invalid path"),
    ];
    for (method, uri, token, body, status, msg) in cases {
        let body = if body.is_null() { None } else { Some(body) };
        let resp = api(&r, method, uri, token, None, body).await;
        assert_eq!(resp.status, status, "{method} {uri}: {}", resp.body);
        let err = resp.json()["error"].as_str().unwrap().to_string();
        assert!(err.contains(msg), "{method} {uri}: {err:?} lacks {msg:?}");
    }
    let long = "x".repeat(20_001);
    let resp = api(&r, "POST", "/board/markets", Some(&tok), None, Some(json!({"title": "t", "body": long}))).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let resp = send(&r, "POST", "/login", &[], Some(("text/plain", "username=a".into()))).await;
    assert_eq!(resp.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let resp = send(&r, "POST", "/login", &[], Some(("application/json", "{not json".into()))).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert!(resp.json()["error"].is_string());
    assert_eq!(api(&r, "DELETE", "/", None, None, None).await.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(api(&r, "GET", "/nowhere", None, None, None).await.status, StatusCode::NOT_FOUND);
}

#[test]
fn config_is_checked() {
    let bad = ForumConfig {
        name: "F".into(),
        boards: vec![BoardConfig { slug: "Bad Slug".into(), title: "t".into(), description: String::new() }],
    };
    assert!(ForumService::new(bad, db(), clock(), rng("f")).is_err());
    let empty = ForumConfig { name: "F".into(), boards: vec![] };
    assert!(ForumService::new(empty, db(), clock(), rng("f")).is_err());
}
