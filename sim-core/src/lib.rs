//! sim-core: what coin-sim, market-sim and game share without depending on each other.
//!
//! - [`clock`]: the injected simulated clock and time types (no wall clock in world logic).
//! - [`rng`]: seeded, named random streams.
//! - [`ids`]: typed identifiers and the money newtype.
//! - [`facts`]: the graph of facts the world produces and evidence reveals.
//! - [`scenario`]: the scenario format, its loader and its checks.

pub mod clock;
pub mod facts;
pub mod ids;
pub mod rng;
pub mod scenario;
