//! Holding the world's clock while a board is missing: the cast reaches the market through
//! the onion network, so when a board carrying routers drops out the classroom's clock is
//! paused (the world does not run ahead with its actions failing), and resumed once every
//! board runs its routers again and each onion service answers through the network. A
//! pause the instructor made is left alone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::fleet::Fleet;
use crate::pace::Pace;

/// What is checked through the network before the clock resumes.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The SOCKS proxy the world's parties use (arti's bridge).
    pub socks: SocketAddr,
    /// Every onion service's home page.
    pub urls: Vec<String>,
}

/// Runs until `stop`: every second, holds the clock when a board carrying routers is
/// missing and lets it go when all are back and `probe` answers.
pub async fn hold_clock(
    fleet: Arc<Fleet>,
    pace: Arc<Pace>,
    elapsed: Arc<dyn Fn() -> Duration + Send + Sync>,
    probe: Option<Probe>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut holding = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if !holding {
            if fleet.any_missing() && !pace.view(elapsed()).paused {
                pace.pause(elapsed());
                holding = true;
                fleet.note("lab", &format!("world clock held: {} not running", fleet.down().join(", ")));
            }
            continue;
        }
        if !fleet.down().is_empty() {
            continue;
        }
        if let Some(p) = &probe {
            let mut all = true;
            for url in &p.urls {
                if let Err(e) = super::live::fetch_when_ready(p.socks, url, Duration::from_secs(5), &|| {}).await {
                    tracing::debug!(error = %e, "onion service not back yet");
                    all = false;
                    break;
                }
            }
            if !all {
                continue;
            }
        }
        pace.resume(elapsed());
        holding = false;
        fleet.note("lab", "world clock resumed: every board runs its routers");
    }
}
