//! The onion network in tor mode: a private Tor network of Debian's own `tor` daemons
//! (directory authorities, relays, an onion-service host and a SOCKS client), the way
//! Tor's test-network tool builds one, in `TestingTorNetwork` mode.
//!
//! - [`plan`]: who runs where — routers and their addresses from the scenario's
//!   `network` section (each router on its own `127.<subnet>.0.<n>` address).
//! - [`torrc`]: the torrc of each router.
//! - [`keys`]: authority keys (`tor-gencert`), relay fingerprints (`tor --list-fingerprint`)
//!   and the onion services' keys (the world's own, so `.onion` names match direct mode).
//! - [`supervise`]: starting, watching and stopping the daemons; the bootstrap wait.
//! - [`watchdog`]: a router stuck below 100 % found in its log and recovered.
//! - [`control`]: tor's control port (cookie authentication, `SIGNAL`).
//! - [`live`]: a world on the network: its onion services, arti as the parties' transport.
//! - [`deploy`]: the deployment file — which board carries the lab, which routers, which is a spare.
//! - [`board`]: boards of a deployment fetch their routers' keys from the lab, run them and
//!   report in; [`fleet`] is the lab's view of them (late, missing, moved), and [`hold`]
//!   holds the world's clock while a board carrying routers is missing.
//! - [`bench`]: `darklab net bench`, the measurements.
//! - [`consensus`]: the live consensus read back as the instructors' network map.
//!
//! Real tor runs on wall-clock time, so this module reads it (bootstrap deadlines); the
//! world itself never waits on the network's timing.

pub mod bench;
pub mod board;
pub mod consensus;
pub mod control;
pub mod deploy;
pub mod fleet;
pub mod hold;
pub mod keys;
pub mod live;
pub mod plan;
pub mod supervise;
pub mod torrc;
pub mod watchdog;

use std::path::PathBuf;

pub use consensus::{NetworkMap, OnionEntry, RelayEntry};
pub use plan::{NetPlan, OnionSite, Role, Router};
pub use supervise::TorNetwork;

/// What can go wrong bringing the private network up or reading it.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A program the network needs is not installed.
    #[error(
        "`{program}` not found on PATH: tor mode runs Tor's own daemons; install Debian's tor package \
         (`apt-get install tor`, which also provides tor-gencert) or use direct mode"
    )]
    Missing {
        /// The program (`tor` or `tor-gencert`).
        program: String,
    },
    /// An address a router must listen on is already in use.
    #[error("router {router}: {addr} is already in use (another network or program holds it); choose another --subnet")]
    PortTaken {
        /// The router's nickname.
        router: String,
        /// The address.
        addr: String,
    },
    /// A router did not finish bootstrapping in time.
    #[error(
        "router {router} did not bootstrap within {seconds} s (last: {progress}; watchdog recoveries: {recoveries}); \
         its log ends:\n{log_tail}"
    )]
    BootstrapTimeout {
        /// The router's nickname.
        router: String,
        /// The time allowed.
        seconds: u64,
        /// Its last bootstrap line, if any.
        progress: String,
        /// What the watchdog tried.
        recoveries: String,
        /// The last lines of its log.
        log_tail: String,
    },
    /// A router exited on its own.
    #[error("router {router} exited ({status}); its log ends:\n{log_tail}")]
    Exited {
        /// The router's nickname.
        router: String,
        /// How it exited.
        status: String,
        /// The last lines of its log.
        log_tail: String,
    },
    /// A helper program failed.
    #[error("`{program}` failed: {message}")]
    Tool {
        /// The program.
        program: String,
        /// Its error output.
        message: String,
    },
    /// The scenario's network cannot be built.
    #[error("network plan: {0}")]
    Plan(String),
    /// An onion service was not reachable in time.
    #[error("onion service {host} not reachable through the network within {seconds} s: {message}")]
    Unreachable {
        /// The onion host.
        host: String,
        /// The time allowed.
        seconds: u64,
        /// The last error.
        message: String,
    },
    /// arti could not bootstrap on the private network or serve its SOCKS bridge.
    #[error("arti on the private network: {0}")]
    Arti(String),
    /// A deployment or state file is malformed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file, or starting a process, failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Finds `program` on `PATH` (tor mode's first check, so a missing tor is said plainly).
pub fn find_program(program: &str) -> Result<PathBuf, NetError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| NetError::Missing { program: program.to_string() })
}
