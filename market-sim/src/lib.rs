//! market-sim: the world around the coin — the dark market, the exchange and the other
//! providers, and the world driver that runs them with the scripted cast.
//!
//! - [`market`]: the dark market (accounts, shops, listings, orders, escrow, payouts).
//! - [`exchange`]: a custodial exchange with KYC, deposit addresses, login IPs and a legal desk.
//! - [`world`]: building a scenario's world, the direct network, onion names, the cast and
//!   ground truth; fast-forwarding it on the simulated clock.
//! - [`db`], [`http_util`]: SQLite and HTTP helpers the services share.

pub mod db;
pub mod exchange;
pub mod http_util;
pub mod market;
pub mod world;
