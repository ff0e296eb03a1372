//! Boards: with a deployment file, the lab's machine makes every key and serves each board
//! its part — the network's state and the key files of the routers it carries — at
//! `GET /net/board/{id}`; boards report in at `POST /net/board/{id}/heartbeat`
//! ([`super::fleet`] keeps the lab's view). `darklab board --lab URL --id ID` ([`run`])
//! fetches its part, writes the files, starts its routers (their torrcs are written on the
//! board, owned by its own process) and heartbeats; when the lab says so — the board was
//! missing, or its routers moved — it stops its routers, fetches its part again and
//! restarts them. The instructor's `/instructor/boards` routes show and move them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Component, Path};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::deploy::Heartbeat;
use super::fleet::{Beat, BeatReply, Fleet};
use super::supervise::NetState;
use super::{NetError, NetPlan, TorNetwork};

/// What a board receives: the network's state, the configuration generation, the
/// heartbeat timing and, per router it carries, its key files (path relative to the
/// router's data directory → hex of the contents).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoardConfig {
    /// The whole network's state (plan, identities).
    pub state: NetState,
    /// The configuration generation (changes when routers move).
    pub generation: u64,
    /// How often to report in.
    pub heartbeat: Heartbeat,
    /// Key files by router nickname.
    pub files: BTreeMap<String, BTreeMap<String, String>>,
}

/// Whether a data-directory file is a key a board needs (not logs, locks or caches).
fn is_key_file(rel: &Path) -> bool {
    let first = rel.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or("");
    matches!(first, "keys" | "hs" | "fingerprint" | "fingerprint-ed25519") && rel.file_name().is_some_and(|n| n != "hostname")
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), NetError> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Ok(rel) = path.strip_prefix(root) else { continue };
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if is_key_file(rel) {
            out.insert(rel.to_string_lossy().into_owned(), hex::encode(std::fs::read(&path)?));
        }
    }
    Ok(())
}

/// The key files of the routers that run on `board`, by nickname.
fn key_files(state: &NetState, board: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, NetError> {
    let mut files = BTreeMap::new();
    for router in state.plan.routers.iter().filter(|r| NetPlan::runs_on(r, Some(board))) {
        let data = state.plan.data_dir(router);
        let mut own = BTreeMap::new();
        collect(&data, &data, &mut own)?;
        files.insert(router.nick.clone(), own);
    }
    Ok(files)
}

type HttpError = (StatusCode, String);

fn unknown_board(id: &str) -> HttpError {
    (StatusCode::NOT_FOUND, format!("no board {id:?} in this classroom's deployment"))
}

async fn get_board(State(fleet): State<Arc<Fleet>>, UrlPath(id): UrlPath<String>) -> Result<axum::Json<BoardConfig>, HttpError> {
    let (state, generation, heartbeat) = fleet.config_for(&id).ok_or_else(|| unknown_board(&id))?;
    let files = key_files(&state, &id).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    tracing::info!(board = %id, generation, routers = files.len(), "board fetched its configuration");
    Ok(axum::Json(BoardConfig { state, generation, heartbeat, files }))
}

async fn heartbeat(
    State(fleet): State<Arc<Fleet>>,
    UrlPath(id): UrlPath<String>,
    axum::Json(beat): axum::Json<Beat>,
) -> Result<axum::Json<BeatReply>, HttpError> {
    fleet.beat(&id, &beat).map(axum::Json).ok_or_else(|| unknown_board(&id))
}

/// Serves the boards' configurations and heartbeats on `listen`, and marks silent boards
/// late or missing every second; returns the bound address and the task.
pub async fn serve_boards(fleet: Arc<Fleet>, listen: SocketAddr) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), NetError> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            NetError::PortTaken { router: "board configuration server".into(), addr: listen.to_string() }
        } else {
            NetError::Io(e)
        }
    })?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/net/board/{id}", axum::routing::get(get_board))
        .route("/net/board/{id}/heartbeat", axum::routing::post(heartbeat))
        .with_state(fleet.clone());
    let task = tokio::spawn(async move {
        let sweep = async {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                fleet.sweep();
            }
        };
        tokio::select! {
            served = axum::serve(listener, app) => if let Err(e) = served {
                tracing::error!(error = %e, "board configuration server failed");
            },
            () = sweep => {}
        }
    });
    Ok((addr, task))
}

#[derive(Deserialize)]
struct MoveBody {
    from: String,
    to: String,
}

fn instructor_only(token: &str, headers: &HeaderMap) -> Result<(), HttpError> {
    if crate::instructor::carries_token(headers, token) {
        Ok(())
    } else {
        Err((StatusCode::UNAUTHORIZED, "instructor token required".into()))
    }
}

fn refused(e: NetError) -> HttpError {
    (StatusCode::CONFLICT, e.to_string())
}

/// The instructor's boards routes: `GET /instructor/boards` (each board's health and since
/// when, its routers, the events), `POST /instructor/boards/move` (`{"from", "to"}`: a
/// board's routers to another board) and `POST /instructor/boards/reload` (the deployment
/// file read again).
pub fn instructor_router(fleet: Arc<Fleet>, token: String) -> axum::Router {
    let (t1, t2, t3) = (token.clone(), token.clone(), token);
    let (f1, f2, f3) = (fleet.clone(), fleet.clone(), fleet);
    axum::Router::new()
        .route(
            "/instructor/boards",
            axum::routing::get(move |headers: HeaderMap| async move {
                instructor_only(&t1, &headers)?;
                Ok::<_, HttpError>(axum::Json(f1.view()))
            }),
        )
        .route(
            "/instructor/boards/move",
            axum::routing::post(move |headers: HeaderMap, axum::Json(body): axum::Json<MoveBody>| async move {
                instructor_only(&t2, &headers)?;
                f2.move_routers(&body.from, &body.to).map(axum::Json).map_err(refused)
            }),
        )
        .route(
            "/instructor/boards/reload",
            axum::routing::post(move |headers: HeaderMap| async move {
                instructor_only(&t3, &headers)?;
                f3.reload().map(axum::Json).map_err(refused)
            }),
        )
}

/// Fetches board `id`'s configuration from the lab at `lab_url`, retrying until `timeout`
/// (boards may start before the lab, or come back before it answers); a 404 (unknown board)
/// fails at once.
#[allow(clippy::disallowed_methods)] // boards wait on wall-clock time
pub async fn fetch_config(lab_url: &str, id: &str, timeout: Duration) -> Result<BoardConfig, NetError> {
    let url = format!("{}/net/board/{id}", lab_url.trim_end_matches('/'));
    let fail = |message: String| NetError::File { path: url.clone().into(), message };
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().map_err(|e| fail(e.to_string()))?;
    let start = std::time::Instant::now();
    loop {
        let last = match client.get(&url).send().await {
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => return Err(fail(r.text().await.unwrap_or_default())),
            Ok(r) if r.status().is_success() => return r.json().await.map_err(|e| fail(format!("bad configuration: {e}"))),
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.to_string(),
        };
        if start.elapsed() > timeout {
            return Err(fail(format!("no configuration within {} s: {last}", timeout.as_secs())));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Writes a board's key files under `dir` (one folder per router) and returns the state
/// with `dir` as the network's folder and this process as its supervisor.
pub fn install(config: BoardConfig, dir: &Path) -> Result<NetState, NetError> {
    let mut state = config.state;
    state.plan.dir = dir.to_path_buf();
    state.supervisor_pid = std::process::id();
    super::keys::private_dir(dir)?;
    for (nick, files) in &config.files {
        if !state.plan.routers.iter().any(|r| &r.nick == nick) {
            return Err(NetError::Plan(format!("board configuration names an unknown router {nick}")));
        }
        let data = dir.join(nick);
        super::keys::private_dir(&data)?;
        for (rel, contents) in files {
            let rel_path = Path::new(rel);
            if !rel_path.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(NetError::Plan(format!("board configuration: unsafe file path {rel:?}")));
            }
            let path = data.join(rel_path);
            if let Some(parent) = path.parent() {
                super::keys::private_dir(parent)?;
            }
            let bytes = hex::decode(contents).map_err(|e| NetError::Plan(format!("board configuration: {rel}: {e}")))?;
            std::fs::write(&path, bytes)?;
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        }
    }
    state.write()?;
    Ok(state)
}

/// What [`run`] tells its caller as it goes.
#[derive(Debug)]
pub enum Progress {
    /// The routers of configuration `generation` bootstrapped (nickname → pid).
    Running {
        /// The configuration generation.
        generation: u64,
        /// Its routers' process ids.
        pids: BTreeMap<String, u32>,
    },
    /// The routers were stopped to fetch the configuration again.
    Rejoining {
        /// Why.
        reason: String,
    },
}

/// Why the heartbeat loop ended.
enum Ended {
    Stopped,
    Rejoin(String),
}

/// Runs board `id` of the lab at `lab_url` until `stop`: fetch the configuration, start its
/// routers, report in every few seconds; when the lab says rejoin (or the board lost the
/// lab for longer than `missing`), stop the routers and start over. `timeout` bounds the
/// first fetch and each bootstrap; after a rejoin the board waits for the lab as long as it
/// takes.
#[allow(clippy::disallowed_methods)] // boards wait on wall-clock time
pub async fn run(
    lab_url: &str,
    id: &str,
    dir: &Path,
    timeout: Duration,
    stop: impl std::future::Future<Output = ()>,
    mut progress: impl FnMut(Progress),
) -> Result<(), NetError> {
    tokio::pin!(stop);
    let beat_url = format!("{}/net/board/{id}/heartbeat", lab_url.trim_end_matches('/'));
    let fail = |e: reqwest::Error| NetError::Io(std::io::Error::other(e.to_string()));
    let mut fetch_timeout = timeout;
    loop {
        let config = tokio::select! {
            () = &mut stop => return Ok(()),
            c = fetch_config(lab_url, id, fetch_timeout) => c?,
        };
        fetch_timeout = Duration::from_secs(u64::from(u32::MAX));
        let (generation, hb) = (config.generation, config.heartbeat);
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(hb.every.clamp(1, 5))).build().map_err(fail)?;
        let state = install(config, dir)?;
        let board = id.to_string();
        let mut launching = Some(tokio::task::spawn_blocking(move || -> Result<TorNetwork, NetError> {
            let mut net = TorNetwork::launch(state, Some(&board))?;
            net.wait_bootstrapped(timeout)?;
            Ok(net)
        }));
        let mut net: Option<TorNetwork> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(hb.every.max(1)));
        let mut last_ok = std::time::Instant::now();
        let ended = loop {
            tokio::select! {
                () = &mut stop => break Ended::Stopped,
                joined = async { match launching.as_mut() { Some(j) => j.await, None => std::future::pending().await } }, if launching.is_some() => {
                    launching = None;
                    let started = joined.map_err(|e| NetError::Io(std::io::Error::other(e.to_string())))??;
                    progress(Progress::Running { generation, pids: started.pids() });
                    net = Some(started);
                }
                _ = tick.tick() => {
                    let beat = Beat { generation, ready: net.is_some() };
                    match http.post(&beat_url).json(&beat).send().await.and_then(reqwest::Response::error_for_status) {
                        Ok(r) => {
                            let reply: Option<BeatReply> = r.json().await.ok();
                            let lost = last_ok.elapsed() > Duration::from_secs(hb.missing);
                            last_ok = std::time::Instant::now();
                            match reply {
                                _ if lost => break Ended::Rejoin("the lab was out of reach".into()),
                                Some(r) if r.generation != generation => break Ended::Rejoin(format!("configuration generation {}", r.generation)),
                                Some(r) if r.rejoin => break Ended::Rejoin("the lab asked this board to rejoin".into()),
                                _ => {}
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "heartbeat failed"),
                    }
                }
            }
        };
        if let Some(pending) = launching.take()
            && let Ok(Ok(started)) = pending.await
        {
            net = Some(started);
        }
        drop(net);
        match ended {
            Ended::Stopped => return Ok(()),
            Ended::Rejoin(reason) => {
                tracing::warn!(board = id, %reason, "rejoining: routers stopped, fetching the configuration again");
                progress(Progress::Rejoining { reason });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_key_files_travel() {
        assert!(is_key_file(Path::new("keys/secret_id_key")));
        assert!(is_key_file(Path::new("hs/market/hs_ed25519_secret_key")));
        assert!(is_key_file(Path::new("fingerprint")));
        assert!(!is_key_file(Path::new("notice.log")));
        assert!(!is_key_file(Path::new("cached-consensus")));
        assert!(!is_key_file(Path::new("hs/market/hostname")));
    }
}
