//! The verdict report: a self-contained HTML page, escaped, print-ready, rendered by a real
//! headless Chromium with a screenshot written for review.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use game::autopilot::Autopilot;
use game::case::CaseFile;
use game::lab::{Lab, Member, Role};

use crate::support::*;

pub(crate) fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(PathBuf::from).find(|p| p.is_file())
}

pub(crate) fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verdict_report_explains_escapes_and_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = lab_world(23, dir.path()).await;
    lab.add_team(
        "rogue",
        vec![Member { name: "r".into(), role: Role::HeadOfUnit, token: "rogue-head".into() }],
        &Lab::team_dir(dir.path(), "rogue"),
    )
    .await
    .unwrap();
    let mut team = Autopilot::new();
    team.run(&scenario, &lab, &mut world, HEAD).await.unwrap();
    assert!(lab.report("rogue-head").await.unwrap().is_none(), "no report before a case is submitted");
    let page = lab.report(HEAD).await.unwrap().expect("a report after submission");
    for needle in [
        "80 / 80 points",
        "<svg",
        "offered",
        "cashed-out",
        "Mark Ellis",
        "E1 obtained",
        "case submitted",
        "@media print",
        "Nothing: this case is complete.",
    ] {
        assert!(page.contains(needle), "the report shows {needle:?}");
    }
    assert!(
        !page.contains("<link") && !page.contains("<script src") && !page.contains("<img"),
        "self-contained: nothing fetched from elsewhere"
    );

    // Whatever a team writes comes back escaped.
    let hostile: CaseFile = serde_json::from_value(serde_json::json!({
        "suspects": [{"name": "<script>alert(1)</script>", "personas": [], "attribution": [], "charges": []}]
    }))
    .unwrap();
    lab.submit_case("rogue-head", hostile).await.unwrap();
    let rogue = lab.report("rogue-head").await.unwrap().unwrap();
    assert!(
        rogue.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") || rogue.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
    assert!(!rogue.contains("<script>alert(1)</script>"));

    // A real browser renders it.
    let Some(chromium) = chromium() else {
        assert!(!running_as_root(), "as root the test command installs Debian's chromium; it is missing");
        eprintln!("note: chromium not installed and not root; the browser half of this test is skipped");
        world.shutdown().await;
        return;
    };
    let lab = Arc::new(lab);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = game::lab::http::router(lab.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let file = dir.path().join("report.html");
    std::fs::write(&file, &page).unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("verdict.png");
    let profile = tempfile::tempdir().unwrap();
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ];
    let url = format!("file://{}", file.display());
    let out = tokio::task::spawn_blocking({
        let (chromium, url, shot, profile) = (chromium.clone(), url.clone(), shot.clone(), profile.path().to_path_buf());
        move || {
            let dom = Command::new(&chromium)
                .args(common)
                .arg(format!("--user-data-dir={}", profile.display()))
                .arg("--dump-dom")
                .arg(&url)
                .output()
                .unwrap();
            let png = Command::new(&chromium)
                .args(common)
                .arg(format!("--user-data-dir={}", profile.display()))
                .args(["--window-size=1100,1400", &format!("--screenshot={}", shot.display())])
                .arg(&url)
                .output()
                .unwrap();
            (dom, png)
        }
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&out.0.stdout);
    assert!(dom.contains("Verdict for team team"), "chromium rendered the page: {}", String::from_utf8_lossy(&out.0.stderr));
    assert!(dom.contains("80 / 80 points"));
    let png = std::fs::read(&shot).unwrap_or_default();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a screenshot at {}", shot.display());
    // The lab serves the same page to the team over HTTP.
    let served = reqwest::Client::new().get(format!("http://{addr}/api/verdict.html")).bearer_auth(HEAD).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(served.text().await.unwrap(), page);
    world.shutdown().await;
}
