//! Boards: with a deployment file, the lab's machine makes every key and serves each board
//! its part — the network's state and the key files of the routers it carries — at
//! `GET /net/board/{id}`; `darklab board --lab URL --id ID` fetches it, writes the files and
//! starts its routers (their torrcs are written on the board, owned by its own process).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Component, Path};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::supervise::NetState;
use super::{NetError, NetPlan};

/// What a board receives: the network's state and, per router it carries, its key files
/// (path relative to the router's data directory → hex of the contents).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoardConfig {
    /// The whole network's state (plan, identities).
    pub state: NetState,
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

/// The configuration of board `board`, or `None` when no router runs on it.
pub fn board_config(state: &NetState, board: &str) -> Result<Option<BoardConfig>, NetError> {
    let mut files = BTreeMap::new();
    for router in state.plan.routers.iter().filter(|r| NetPlan::runs_on(r, Some(board))) {
        let data = state.plan.data_dir(router);
        let mut own = BTreeMap::new();
        collect(&data, &data, &mut own)?;
        files.insert(router.nick.clone(), own);
    }
    Ok((!files.is_empty()).then(|| BoardConfig { state: state.clone(), files }))
}

async fn get_board(
    State(state): State<Arc<NetState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<axum::Json<BoardConfig>, (StatusCode, String)> {
    match board_config(&state, &id) {
        Ok(Some(config)) => Ok(axum::Json(config)),
        Ok(None) => Err((StatusCode::NOT_FOUND, format!("no router of this network runs on board {id:?}"))),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// Serves the boards' configurations on `listen`; returns the bound address and the task.
pub async fn serve_boards(state: NetState, listen: SocketAddr) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), NetError> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            NetError::PortTaken { router: "board configuration server".into(), addr: listen.to_string() }
        } else {
            NetError::Io(e)
        }
    })?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route("/net/board/{id}", axum::routing::get(get_board)).with_state(Arc::new(state));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "board configuration server failed");
        }
    });
    Ok((addr, task))
}

/// Fetches board `id`'s configuration from the lab at `lab_url`, retrying until `timeout`
/// (boards may start before the lab); a 404 (unknown board) fails at once.
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
