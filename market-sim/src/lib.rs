//! market-sim: the world around the coin — the dark market, the exchange and the other
//! providers, and the world driver that runs them with the scripted cast.
//!
//! - [`market`]: the dark market (accounts, shops, listings, orders, escrow, payouts).
//! - [`exchange`]: a custodial exchange with KYC, deposit addresses, login IPs and a legal desk.
//! - [`web`]: the wider web — a market discussion forum, the mixer's front page, and a small
//!   clearnet (social profiles, a paste site, a search engine), plus server-side slips.
//! - [`providers`]: record-keeping providers (ISP, e-mail, hosting, courier) with legal
//!   desks, retention and preservation.
//! - [`world`]: building a scenario's world, the direct network, onion names, the cast and
//!   ground truth; fast-forwarding it on the simulated clock.
//! - [`credentials`]: username rules, salted password hashes, session tokens and the
//!   account/session tables, shared by the market and the exchange.
//! - [`chain`]: the few chain look-ups the services need, over coin-sim's Esplora client.
//! - [`db`], [`http_util`]: SQLite and HTTP helpers the services share.
//! - `service` (crate-private): the skeleton both services share — configuration, clock,
//!   chain client, and database/RNG/wallet behind one lock — and wallet restoration.

pub mod chain;
pub mod credentials;
pub mod db;
pub mod exchange;
pub mod http_util;
pub mod market;
pub mod providers;
mod service;
pub mod web;
pub mod world;
