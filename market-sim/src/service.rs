//! The skeleton the market and the exchange share: a configuration, the simulated clock,
//! the chain client and the mutable state (database, RNG, wallet) behind one lock, plus
//! restoring a wallet from the addresses on record.
//!
//! Each service wraps an `Arc<ServiceCore<Config>>` and keeps its own configuration,
//! error type and domain rules; this module only holds what is the same for both.
//!
//! Services that hold records but no coins (the wider web, the record-keeping providers)
//! use [`RecordCore`]: the same skeleton without chain client or wallet.
//!
//! Invariant: the database, the RNG and the wallet are only reached through
//! [`ServiceCore::lock`] (or [`RecordCore::lock`]), so each request sees and changes them
//! atomically.

use std::sync::{Mutex, MutexGuard};

use coin_sim::{EsploraClient, Wallet};
use rusqlite::Connection;
use sim_core::clock::SimClock;
use sim_core::rng::SimRng;

/// What the shared core needs from a service's configuration type.
pub(crate) trait ServiceConfig {
    /// The service's error type; database errors convert into it.
    type Error: From<rusqlite::Error>;

    /// The error for a state lock poisoned by a thread that panicked while holding it.
    fn poisoned() -> Self::Error;

    /// The service's name, as configured (shown in `Debug` output).
    fn name(&self) -> &str;
}

/// The mutable state of a service: its database, its RNG and its wallet, kept together
/// behind one lock.
pub(crate) struct ServiceState {
    pub(crate) conn: Connection,
    pub(crate) rng: SimRng,
    pub(crate) wallet: Wallet,
}

/// Everything a running service shares between its clones.
pub(crate) struct ServiceCore<C> {
    pub(crate) config: C,
    pub(crate) clock: SimClock,
    pub(crate) chain: EsploraClient,
    state: Mutex<ServiceState>,
}

impl<C: ServiceConfig> ServiceCore<C> {
    /// A core over an already prepared database.
    pub(crate) fn new(config: C, clock: SimClock, chain: EsploraClient, conn: Connection, rng: SimRng, wallet: Wallet) -> Self {
        ServiceCore { config, clock, chain, state: Mutex::new(ServiceState { conn, rng, wallet }) }
    }

    /// The state, or the service's poisoned-lock error.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, ServiceState>, C::Error> {
        self.state.lock().map_err(|_| C::poisoned())
    }

    /// Every table of the service's database, tables by name and rows by id.
    pub(crate) fn dump(&self) -> Result<serde_json::Value, C::Error> {
        let st = self.lock()?;
        Ok(crate::db::dump_tables(&st.conn)?)
    }

    /// `Debug` output for the service wrapping this core: its type name and configured name.
    pub(crate) fn fmt_debug(&self, f: &mut std::fmt::Formatter<'_>, service: &str) -> std::fmt::Result {
        f.debug_struct(service).field("name", &self.config.name()).finish_non_exhaustive()
    }
}

/// The mutable state of a service without a wallet (the web services and the record-keeping
/// providers): its database and its RNG, kept together behind one lock.
pub(crate) struct RecordState {
    pub(crate) conn: Connection,
    pub(crate) rng: SimRng,
}

/// The skeleton of a service that holds records but no coins: configuration, clock, and
/// database/RNG behind one lock. The same rules as [`ServiceCore`], without chain or wallet.
pub(crate) struct RecordCore<C> {
    pub(crate) config: C,
    pub(crate) clock: SimClock,
    state: Mutex<RecordState>,
}

impl<C: ServiceConfig> RecordCore<C> {
    /// A core over an already prepared database.
    pub(crate) fn new(config: C, clock: SimClock, conn: Connection, rng: SimRng) -> Self {
        RecordCore { config, clock, state: Mutex::new(RecordState { conn, rng }) }
    }

    /// The state, or the service's poisoned-lock error.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, RecordState>, C::Error> {
        self.state.lock().map_err(|_| C::poisoned())
    }

    /// Every table of the service's database, tables by name and rows by id.
    pub(crate) fn dump(&self) -> Result<serde_json::Value, C::Error> {
        let st = self.lock()?;
        Ok(crate::db::dump_tables(&st.conn)?)
    }

    /// `Debug` output for the service wrapping this core: its type name and configured name.
    pub(crate) fn fmt_debug(&self, f: &mut std::fmt::Formatter<'_>, service: &str) -> std::fmt::Result {
        f.debug_struct(service).field("name", &self.config.name()).finish_non_exhaustive()
    }
}

/// Declares a service that wraps an `Arc<RecordCore<Config>>`: the cheap-to-clone struct,
/// its `Debug` output, `config()`, `dump()` and the private `lock()`. The service keeps its
/// own constructor, router and domain methods.
macro_rules! record_service {
    ($(#[$meta:meta])* $svc:ident, $config:ty, $err:ty) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $svc {
            inner: std::sync::Arc<$crate::service::RecordCore<$config>>,
        }

        impl std::fmt::Debug for $svc {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.inner.fmt_debug(f, stringify!($svc))
            }
        }

        impl $svc {
            /// The configuration.
            pub fn config(&self) -> &$config {
                &self.inner.config
            }

            /// Every table, tables by name and rows by id (for world digests).
            pub fn dump(&self) -> Result<serde_json::Value, $err> {
                self.inner.dump()
            }

            fn lock(&self) -> Result<std::sync::MutexGuard<'_, $crate::service::RecordState>, $err> {
                self.inner.lock()
            }
        }
    };
}
pub(crate) use record_service;

/// The addresses on record do not match the wallet's seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WalletMismatch;

/// Re-derives in `wallet` every address of `recorded` (in derivation order), checking each
/// matches; stops deriving at the first mismatch.
pub(crate) fn restore_wallet(wallet: &mut Wallet, recorded: &[String]) -> Result<(), WalletMismatch> {
    let already = wallet.addresses();
    for (i, address) in recorded.iter().enumerate() {
        let derived = match already.get(i) {
            Some(a) => a.clone(),
            None => wallet.new_address(),
        };
        if derived.to_string() != *address {
            return Err(WalletMismatch);
        }
    }
    Ok(())
}
