//! coin-sim: Darkcoin, a private UTXO chain with real Bitcoin formats and signatures.
//!
//! Darkcoin uses Bitcoin's transaction and block encodings, regtest addresses (`bcrt1…`)
//! and real secp256k1 signatures — ECDSA over BIP143 sighashes for P2WPKH, Schnorr over
//! BIP341 sighashes for P2TR key-path spends — but runs in-process: blocks are mined when
//! the world driver says so, at the simulated time it passes in. Nothing here reads the wall
//! clock or an unseeded RNG; the same inputs give the same chain byte for byte.
//!
//! Table of contents:
//! - [`params`]: [`ChainParams`] — block interval, PoW bits, reward, maturity, relay policy.
//! - [`wallet`]: [`Wallet`] — BIP32 HD keys (BIP84 P2WPKH, BIP86 P2TR), coin selection,
//!   signing, per-actor [`WalletHabits`] and [`Wallet::pay`]; [`Utxo`].
//! - [`reject`]: [`Reject`] — why a transaction was refused, as Bitcoin Core words it.
//! - [`script`]: output standardness and P2WPKH / P2TR key-path spend verification.
//! - [`validate`]: the transaction rules, context-free and against the coins spent.
//! - [`chain`]: [`Chain`] — blocks, UTXO set, mempool, submission, digest; [`SharedChain`];
//!   [`Chain::open`] for a chain persisted in a block store.
//! - [`block`]: block validation ([`Chain::check_block`], [`Chain::submit_block`]) with
//!   Core's reasons ([`block::BlockReject`]).
//! - [`store`]: the append-only, fsynced, torn-tail-tolerant block store.
//! - [`mine`]: building and mining blocks (coinbase, merkle root, proof of work).
//! - [`query`]: read-only views: transactions with status, address history, UTXOs, stats.
//! - [`dto`]: Esplora-shaped JSON types shared by the explorer and the client.
//! - [`explorer`]: the Esplora-compatible REST API as an axum `Router`.
//! - [`client`]: [`EsploraClient`], an HTTP client for that API (used by the cast).
//! - [`coinjoin`]: CoinJoin rounds, the coordinator service (router) and its client.
//! - [`tumbler`]: a custodial mixing service with delays and a fee, router and client.

pub mod block;
pub mod chain;
pub mod client;
pub mod coinjoin;
pub mod dto;
pub mod explorer;
pub mod mine;
pub mod params;
pub mod query;
pub mod reject;
pub mod script;
pub mod store;
pub mod tumbler;
pub mod validate;
pub mod wallet;

pub use chain::{Chain, ChainError, SharedChain, UtxoEntry, shared};
pub use client::{ClientError, EsploraClient};
pub use params::ChainParams;
pub use query::{AddressStats, AddressUtxo, TxInfo, TxStatus, TxoStats};
pub use reject::Reject;
pub use wallet::{AddressKind, Payment, Utxo, Wallet, WalletError, WalletHabits};

use std::sync::LazyLock;

use bitcoin::secp256k1::{All, Secp256k1};

static SECP: LazyLock<Secp256k1<All>> = LazyLock::new(Secp256k1::new);

/// The process-wide secp256k1 context (signing and verification).
pub(crate) fn secp() -> &'static Secp256k1<All> {
    &SECP
}
