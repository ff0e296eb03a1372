//! Chain parameters: block timing, proof-of-work target, reward, maturity and relay policy.
//!
//! Darkcoin runs on [`bitcoin::Network::Regtest`] rules and encodings: addresses are bech32
//! with the `bcrt1…` prefix (P2WPKH `bcrt1q…`, P2TR `bcrt1p…`), and the default proof of
//! work is regtest's trivially easy `0x207fffff` compact target.

use bitcoin::Network;
use sim_core::clock::SimDuration;

/// The network whose address encodings and magic Darkcoin uses (always regtest).
pub const NETWORK: Network = Network::Regtest;

/// Parses a darkcoin address (`bcrt1…`), refusing anything that is not valid on its network.
pub fn parse_address(s: &str) -> Option<bitcoin::Address> {
    s.trim().parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>().ok().and_then(|a| a.require_network(NETWORK).ok())
}

/// Default dust limit in satoshis (Core's threshold for a P2PKH output at 3 sat/vB relay).
pub const DEFAULT_DUST_LIMIT_SAT: u64 = 546;

/// Default minimum relay fee rate in satoshis per virtual byte (Core's 1 sat/vB).
pub const DEFAULT_MIN_RELAY_FEERATE_SAT_PER_VB: u64 = 1;

/// Parameters of a Darkcoin chain; one value per scenario, fixed for the chain's life.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainParams {
    /// Intended simulated time between blocks (the world driver mines on this cadence).
    pub block_interval: SimDuration,
    /// Compact proof-of-work target (`nBits`) every block header must meet.
    pub pow_bits: u32,
    /// Block subsidy paid to the miner, in satoshis (fees come on top).
    pub block_reward_sat: u64,
    /// Confirmations a coinbase output needs before it may be spent (Core: 100).
    pub coinbase_maturity: u32,
    /// Minimum fee rate the mempool accepts, in satoshis per virtual byte.
    pub min_relay_feerate_sat_per_vb: u64,
    /// Outputs below this value (other than `OP_RETURN`) are rejected as `dust`.
    pub dust_limit_sat: u64,
}

impl Default for ChainParams {
    fn default() -> Self {
        ChainParams {
            block_interval: SimDuration::minutes(10),
            pow_bits: 0x207f_ffff,
            block_reward_sat: 50 * 100_000_000,
            coinbase_maturity: 100,
            min_relay_feerate_sat_per_vb: DEFAULT_MIN_RELAY_FEERATE_SAT_PER_VB,
            dust_limit_sat: DEFAULT_DUST_LIMIT_SAT,
        }
    }
}
