//! The challenge's scoreboard page in a real headless Chromium, driven over the DevTools
//! protocol: it shows the teams without scores, updates without a reload when a team
//! submits and when the instructor announces, and reveals the ranking. Screenshots of each
//! state are written under `target/tmp/scoreboard-screenshots/` for review.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::report::{chromium, running_as_root};
use crate::support::shipped;

/// A minimal DevTools-protocol client: one WebSocket (RFC 6455, client frames masked) to a
/// page target, request/response by id; events are skipped.
struct Cdp {
    stream: TcpStream,
    next: u64,
}

impl Cdp {
    async fn connect(ws_url: &str) -> Cdp {
        let rest = ws_url.strip_prefix("ws://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut stream = TcpStream::connect(host).await.unwrap();
        let request = format!(
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: ZGFya2xhYi1zY29yZWJvYXJk\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(stream.read_u8().await.unwrap());
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        Cdp { stream, next: 1 }
    }

    async fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | u8::try_from(n).unwrap()),
            n if n < 65_536 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&u64::try_from(n).unwrap().to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.unwrap();
    }

    /// One whole message (continuation frames joined; control frames skipped).
    async fn receive(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let b0 = self.stream.read_u8().await.unwrap();
            let b1 = self.stream.read_u8().await.unwrap();
            let len = match b1 & 0x7f {
                126 => u64::from(self.stream.read_u16().await.unwrap()),
                127 => self.stream.read_u64().await.unwrap(),
                n => u64::from(n),
            };
            let mut payload = vec![0u8; usize::try_from(len).unwrap()];
            self.stream.read_exact(&mut payload).await.unwrap();
            let opcode = b0 & 0x0f;
            if opcode >= 0x8 {
                continue;
            }
            message.extend_from_slice(&payload);
            if b0 & 0x80 != 0 {
                return String::from_utf8(message).unwrap();
            }
        }
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(&json!({"id": id, "method": method, "params": params}).to_string()).await;
        loop {
            let msg: Value = serde_json::from_str(&self.receive().await).unwrap();
            if msg["id"] == json!(id) {
                assert!(msg.get("error").is_none(), "{method}: {msg}");
                return msg["result"].clone();
            }
        }
    }

    async fn eval(&mut self, expression: &str) -> Value {
        let r = self.call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true})).await;
        r["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is true (every 100 ms, at most 20 s).
    async fn wait_for(&mut self, what: &str, expression: &str) {
        for _ in 0..200 {
            if self.eval(expression).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = self.eval("document.body.innerText").await;
        panic!("the page never showed {what}; it shows: {text}");
    }

    async fn screenshot(&mut self, file: &PathBuf) {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"})).await;
        let png = base64_decode(r["data"].as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "a screenshot for {}", file.display());
        std::fs::write(file, png).unwrap();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// The browser, killed when the test ends however it ends.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scoreboard_updates_live_in_chromium_and_reveals_the_ranking() {
    let Some(chromium) = chromium() else {
        assert!(!running_as_root(), "as root the test command installs Debian's chromium; it is missing");
        eprintln!("note: chromium not installed and not root; this test is skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = game::challenge::ChallengeConfig {
        seed: 43,
        listen: "127.0.0.1:0".parse().unwrap(),
        teams: 3,
        deadline: None,
        footprint: Default::default(),
    };
    let c = game::challenge::Challenge::start(shipped(), &config, dir.path()).await.unwrap();
    let base = format!("http://{}", c.addr);
    let http = reqwest::Client::new();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scoreboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,720",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("{base}/scoreboard"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let browser = Browser(child);
    let devtools = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let found = lines.by_ref().map_while(Result::ok).find_map(|l| l.split("DevTools listening on ").nth(1).map(str::to_string));
        // Keep draining so the browser never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        found
    });
    let devtools = tokio::time::timeout(Duration::from_secs(30), devtools).await.unwrap().unwrap().expect("chromium's DevTools address");
    let port = devtools.strip_prefix("ws://").unwrap().split('/').next().unwrap().to_string();
    let mut page_ws = None;
    for _ in 0..100 {
        let targets: Value = http.get(format!("http://{port}/json/list")).send().await.unwrap().json().await.unwrap();
        page_ws = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page" && t["url"].as_str().unwrap_or("").ends_with("/scoreboard"))
            .map(|t| t["webSocketDebuggerUrl"].as_str().unwrap().to_string());
        if page_ws.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut cdp = Cdp::connect(&page_ws.expect("the scoreboard's page target")).await;

    // The board as loaded: every team, no case yet, no score anywhere.
    cdp.wait_for("the running board", "document.body.dataset.phase === 'running' && document.querySelectorAll('#teams tr').length === 3")
        .await;
    cdp.eval("window.loadedOnce = 'still the same page'").await;
    let text = cdp.eval("document.body.innerText").await.to_string();
    assert!(text.contains("team-1") && text.contains("not yet submitted") && !text.contains("/ 80"), "{text}");
    cdp.screenshot(&shots.join("1-running.png")).await;

    // A team submits: the page shows it without a reload (Server-Sent Events), still no score.
    let head2 = c.roster.teams[1].1[0].token.clone();
    let case = json!({"suspects": [{"name": "Nobody Known", "personas": [], "attribution": [], "charges": []}]});
    assert_eq!(http.post(format!("{base}/api/case")).bearer_auth(&head2).json(&case).send().await.unwrap().status(), 202);
    let head1 = c.roster.teams[0].1[0].token.clone();
    let empty = json!({"suspects": []});
    assert_eq!(http.post(format!("{base}/api/case")).bearer_auth(&head1).json(&empty).send().await.unwrap().status(), 202);
    cdp.wait_for(
        "the submissions",
        "[...document.querySelectorAll('#teams tr')].filter(r => r.innerText.includes('submitted 20')).length === 2",
    )
    .await;
    let text = cdp.eval("document.body.innerText").await.to_string();
    assert!(!text.contains("/ 80") && !text.contains("Results"), "no score before the announcement: {text}");
    cdp.screenshot(&shots.join("2-submitted.png")).await;

    // The instructor announces: the ranking appears on the same page.
    let r = http.post(format!("{base}/instructor/announce")).bearer_auth(&c.roster.instructor).send().await.unwrap();
    assert_eq!(r.status(), 200);
    cdp.wait_for("the ranking", "document.body.dataset.phase === 'announced' && document.querySelectorAll('#ranking tr').length === 3")
        .await;
    let rows = cdp.eval("[...document.querySelectorAll('#ranking tr')].map(r => r.innerText.replace(/\\s+/g, ' ').trim())").await;
    let rows: Vec<String> = rows.as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
    assert!(rows[0].starts_with("1 team-1 0 / 80"), "{rows:?}");
    assert!(rows[1].starts_with("2 team-2 -60 / 80"), "{rows:?}");
    assert!(rows[2].starts_with("3 team-3 no case"), "{rows:?}");
    assert_eq!(cdp.eval("window.loadedOnce").await, json!("still the same page"), "updated without a reload");
    // Let the reveal animation finish before the picture.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    cdp.screenshot(&shots.join("3-announced.png")).await;
    drop(cdp);
    drop(browser);
    c.stop().await;
}
