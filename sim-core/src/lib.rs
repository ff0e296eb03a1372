//! sim-core: what coin-sim, market-sim and game share without depending on each other.
//!
//! - [`clock`]: the injected simulated clock and time types (no wall clock in world logic).
//! - [`rng`]: seeded, named random streams.

pub mod clock;
pub mod rng;
