//! A custodial tumbler: customers deposit coins and, after a delay, receive the same amount
//! less a fee from the tumbler's pool — other people's coins.
//!
//! A customer asks for a deposit address and names a destination ([`Tumbler::request`]).
//! Once a deposit at that address is confirmed, the payout is scheduled after a random
//! delay (from the tumbler's own seeded RNG) in simulated time; [`Tumbler::process_due`]
//! pays it from pool coins, preferring coins that did *not* come from that customer.
//!
//! What it hides: the on-chain link — the payout spends unrelated coins. What it does
//! **not** hide: the amounts (payout = deposit − fee, within a time window: amount and
//! timing correlation), and above all the tumbler's own records ([`Tumbler::records`]):
//! deposit address ↔ destination for every customer, which a seizure or legal order reveals.
//!
//! Domain logic is sans-IO: the caller passes the time and the coins. [`TumblerService`]
//! adds the clock ([`SimClock`]) and the chain, with [`TumblerService::tick`] for the world
//! driver, and [`router`] serves the customer API.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use bitcoin::{Address, OutPoint, ScriptBuf, Transaction, Txid};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimDuration, SimTime};
use sim_core::rng::{SimRng, below, bytes32};

use crate::chain::{Chain, SharedChain, lock};
use crate::query::TxStatus;
use crate::wallet::{Utxo, Wallet, WalletError};

/// The tumbler's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TumblerConfig {
    /// Fee in basis points of the deposit (100 = 1 %).
    pub fee_bps: u32,
    /// Shortest delay between a confirmed deposit and its payout.
    pub min_delay: SimDuration,
    /// Longest delay.
    pub max_delay: SimDuration,
    /// Deposits below this are kept and never paid out.
    pub min_deposit_sat: u64,
    /// Fee rate of payouts.
    pub feerate_sat_per_vb: u64,
}

impl Default for TumblerConfig {
    fn default() -> Self {
        TumblerConfig {
            fee_bps: 250,
            min_delay: SimDuration::hours(1),
            max_delay: SimDuration::hours(12),
            min_deposit_sat: 100_000,
            feerate_sat_per_vb: 2,
        }
    }
}

/// Where a mixing order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// No confirmed deposit yet.
    AwaitingDeposit,
    /// Deposit confirmed; payout due at `due`.
    Scheduled,
    /// Paid out.
    Paid,
}

/// One customer's order — and the tumbler's record of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixOrder {
    /// The order id (the customer's receipt).
    pub id: String,
    /// Where the customer deposits.
    pub deposit_address: String,
    /// Where the payout goes.
    pub destination: String,
    /// When the order was made.
    pub created: SimTime,
    /// Status.
    pub status: OrderStatus,
    /// Deposited amount (confirmed), in satoshis.
    pub deposit_sat: u64,
    /// The deposit coins.
    pub deposit_outpoints: Vec<OutPoint>,
    /// The payout amount (deposit less fee; the payout's network fee is the tumbler's).
    pub payout_sat: u64,
    /// When the payout is due.
    pub due: Option<SimTime>,
    /// The payout transaction.
    pub payout_txid: Option<Txid>,
}

/// Why the tumbler refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TumblerError {
    /// The destination is not a regtest address.
    #[error("invalid destination address: need a regtest (bcrt1…) address")]
    BadAddress,
    /// No such order.
    #[error("unknown order")]
    UnknownOrder,
    /// The wallet could not build a payout.
    #[error("payout failed: {0}")]
    Wallet(#[from] WalletError),
}

/// The tumbler's state: terms, wallet (deposit and change addresses), orders.
#[derive(Debug)]
pub struct Tumbler {
    config: TumblerConfig,
    wallet: Wallet,
    rng: SimRng,
    orders: BTreeMap<String, MixOrder>,
    by_deposit: BTreeMap<ScriptBuf, String>,
}

impl Tumbler {
    /// A tumbler with `wallet` for its coins and `rng` for order ids and delays.
    pub fn new(config: TumblerConfig, wallet: Wallet, rng: SimRng) -> Self {
        Tumbler { config, wallet, rng, orders: BTreeMap::new(), by_deposit: BTreeMap::new() }
    }

    /// The terms.
    pub fn config(&self) -> &TumblerConfig {
        &self.config
    }

    /// Opens an order: a fresh deposit address whose deposits go to `destination`.
    pub fn request(&mut self, destination: &Address, now: SimTime) -> MixOrder {
        let id = hex::encode(bytes32(&mut self.rng).get(..8).unwrap_or_default());
        let deposit = self.wallet.new_address();
        let order = MixOrder {
            id: id.clone(),
            deposit_address: deposit.to_string(),
            destination: destination.to_string(),
            created: now,
            status: OrderStatus::AwaitingDeposit,
            deposit_sat: 0,
            deposit_outpoints: Vec::new(),
            payout_sat: 0,
            due: None,
            payout_txid: None,
        };
        tracing::info!(order = %id, %now, "tumbler order opened");
        self.by_deposit.insert(deposit.script_pubkey(), id.clone());
        self.orders.insert(id, order.clone());
        order
    }

    /// An order by id.
    pub fn order(&self, id: &str) -> Option<&MixOrder> {
        self.orders.get(id)
    }

    /// All orders: the records a seizure or legal order yields.
    pub fn records(&self) -> Vec<MixOrder> {
        self.orders.values().cloned().collect()
    }

    /// Every address the tumbler holds coins on (deposit and change addresses).
    pub fn addresses(&self) -> Vec<Address> {
        self.wallet.addresses()
    }

    /// Advances every order to `now` given the tumbler's confirmed unspent `coins`: confirms
    /// deposits (scheduling payouts after a random delay), and builds the payouts that are
    /// due. Returns the payout transactions to broadcast, in order id order; an order whose
    /// payout the pool cannot cover yet stays scheduled.
    pub fn process_due(&mut self, now: SimTime, coins: &[Utxo]) -> Vec<Transaction> {
        let spread = self.config.max_delay.as_secs().saturating_sub(self.config.min_delay.as_secs()).max(0);
        let ids: Vec<String> = self.orders.keys().cloned().collect();
        // Deposits.
        for id in &ids {
            let Some(order) = self.orders.get(id) else { continue };
            if order.status != OrderStatus::AwaitingDeposit {
                continue;
            }
            let mine: Vec<&Utxo> = coins.iter().filter(|u| self.by_deposit.get(&u.script_pubkey).is_some_and(|o| o == id)).collect();
            let sum = mine.iter().fold(0u64, |a, u| a.saturating_add(u.value_sat));
            if sum == 0 || sum < self.config.min_deposit_sat {
                continue;
            }
            let delay = SimDuration::secs(self.config.min_delay.as_secs().saturating_add(below(&mut self.rng, spread as u64 + 1) as i64));
            let fee = sum.saturating_mul(u64::from(self.config.fee_bps)) / 10_000;
            if let Some(order) = self.orders.get_mut(id) {
                order.status = OrderStatus::Scheduled;
                order.deposit_sat = sum;
                order.deposit_outpoints = mine.iter().map(|u| u.outpoint).collect();
                order.payout_sat = sum.saturating_sub(fee);
                order.due = Some(now.plus(delay));
                tracing::info!(order = %id, deposit_sat = sum, due = %now.plus(delay), "tumbler deposit confirmed");
            }
        }
        // Payouts.
        let mut used: BTreeSet<OutPoint> = BTreeSet::new();
        let mut out = Vec::new();
        for id in &ids {
            let Some(order) = self.orders.get(id).cloned() else { continue };
            if order.status != OrderStatus::Scheduled || order.due.is_none_or(|d| d > now) {
                continue;
            }
            let Ok(dest) = parse_address(&order.destination) else { continue };
            let own: BTreeSet<OutPoint> = order.deposit_outpoints.iter().copied().collect();
            let free: Vec<Utxo> =
                coins.iter().filter(|u| !used.contains(&u.outpoint) && self.wallet.owns(&u.script_pubkey)).cloned().collect();
            let others: Vec<Utxo> = free.iter().filter(|u| !own.contains(&u.outpoint)).cloned().collect();
            let change = self.wallet.new_change_address();
            let built =
                self.wallet.build_and_sign(&others, &[(dest.clone(), order.payout_sat)], self.config.feerate_sat_per_vb, &change).or_else(
                    |_| self.wallet.build_and_sign(&free, &[(dest.clone(), order.payout_sat)], self.config.feerate_sat_per_vb, &change),
                );
            match built {
                Ok(tx) => {
                    used.extend(tx.input.iter().map(|i| i.previous_output));
                    let txid = tx.compute_txid();
                    if let Some(o) = self.orders.get_mut(id) {
                        o.status = OrderStatus::Paid;
                        o.payout_txid = Some(txid);
                    }
                    tracing::info!(order = %id, %txid, payout_sat = order.payout_sat, "tumbler payout");
                    out.push(tx);
                }
                Err(e) => tracing::info!(order = %id, error = %e, "tumbler payout postponed"),
            }
        }
        out
    }

    /// The tumbler's confirmed unspent coins on `chain`.
    pub fn coins_on(&self, chain: &Chain) -> Vec<Utxo> {
        self.wallet
            .addresses()
            .iter()
            .flat_map(|a| chain.address_utxos(a))
            .filter(|u| matches!(u.status, TxStatus::Confirmed { .. }))
            .map(|u| u.utxo)
            .collect()
    }

    /// [`Tumbler::process_due`] against `chain`, submitting the payouts to its mempool.
    pub fn tick_on(&mut self, now: SimTime, chain: &mut Chain) -> Vec<Txid> {
        let coins = self.coins_on(chain);
        let txs = self.process_due(now, &coins);
        txs.iter().filter_map(|tx| chain.submit_tx(tx).ok()).collect()
    }
}

fn parse_address(s: &str) -> Result<Address, TumblerError> {
    crate::params::parse_address(s).ok_or(TumblerError::BadAddress)
}

/// The tumbler as a service: its state, the simulated clock and the chain it uses.
#[derive(Clone, Debug)]
pub struct TumblerService {
    /// The tumbler (lock briefly, never across `.await`).
    pub tumbler: Arc<Mutex<Tumbler>>,
    /// Simulated time.
    pub clock: SimClock,
    /// The chain it watches and broadcasts to.
    pub chain: SharedChain,
}

impl TumblerService {
    /// A service over `tumbler`.
    pub fn new(tumbler: Tumbler, clock: SimClock, chain: SharedChain) -> Self {
        TumblerService { tumbler: Arc::new(Mutex::new(tumbler)), clock, chain }
    }

    /// Locks the tumbler.
    pub fn lock(&self) -> MutexGuard<'_, Tumbler> {
        self.tumbler.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Processes deposits and due payouts at the clock's time; the world driver calls it
    /// (e.g. after each block). Returns the payout txids accepted by the mempool.
    pub fn tick(&self) -> Vec<Txid> {
        self.process_due(self.clock.now())
    }

    /// Processes at `now`.
    pub fn process_due(&self, now: SimTime) -> Vec<Txid> {
        let mut t = self.lock();
        let mut chain = lock(&self.chain);
        t.tick_on(now, &mut chain)
    }
}

/// A mixing request (`POST /orders`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Where the clean coins should go.
    pub destination: String,
}

/// The customer API: `GET /terms`, `POST /orders` `{"destination": "bcrt1…"}` → the order
/// with its deposit address, `GET /orders/{id}` → its status. Errors answer
/// `{"error": "…"}` (400 or 404).
pub fn router(service: TumblerService) -> Router {
    Router::new().route("/terms", get(terms)).route("/orders", post(create_order)).route("/orders/{id}", get(get_order)).with_state(service)
}

impl IntoResponse for TumblerError {
    fn into_response(self) -> Response {
        let status = match self {
            TumblerError::UnknownOrder => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

async fn terms(State(s): State<TumblerService>) -> Json<TumblerConfig> {
    Json(s.lock().config().clone())
}

async fn create_order(State(s): State<TumblerService>, body: axum::body::Bytes) -> Result<Json<MixOrder>, TumblerError> {
    let req: OrderRequest = serde_json::from_slice(&body).map_err(|_| TumblerError::BadAddress)?;
    let dest = parse_address(&req.destination)?;
    let now = s.clock.now();
    Ok(Json(s.lock().request(&dest, now)))
}

async fn get_order(State(s): State<TumblerService>, Path(id): Path<String>) -> Result<Json<MixOrder>, TumblerError> {
    s.lock().order(&id).cloned().map(Json).ok_or(TumblerError::UnknownOrder)
}

/// A customer's client for a tumbler at `base` (through Tor in the world).
#[derive(Clone, Debug)]
pub struct TumblerClient {
    http: reqwest::Client,
    base: String,
}

/// Why a tumbler client call failed.
#[derive(Debug, thiserror::Error)]
pub enum TumblerClientError {
    /// The request failed.
    #[error("tumbler request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The tumbler refused.
    #[error("tumbler answered {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The answer could not be understood.
    #[error("cannot decode tumbler answer: {0}")]
    Decode(String),
}

impl TumblerClient {
    /// A client for the tumbler at `base_url`.
    pub fn new(http: reqwest::Client, base_url: impl Into<String>) -> Self {
        let mut base = base_url.into();
        while base.ends_with('/') {
            base.pop();
        }
        TumblerClient { http, base }
    }

    async fn answer<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T, TumblerClientError> {
        let status = resp.status().as_u16();
        let body = resp.text().await?;
        if status != 200 {
            return Err(TumblerClientError::Refused { status, body });
        }
        serde_json::from_str(&body).map_err(|e| TumblerClientError::Decode(e.to_string()))
    }

    /// Opens an order paying out to `destination`.
    pub async fn order(&self, destination: &Address) -> Result<MixOrder, TumblerClientError> {
        let req = OrderRequest { destination: destination.to_string() };
        Self::answer(self.http.post(format!("{}/orders", self.base)).json(&req).send().await?).await
    }

    /// An order's status.
    pub async fn status(&self, id: &str) -> Result<MixOrder, TumblerClientError> {
        Self::answer(self.http.get(format!("{}/orders/{id}", self.base)).send().await?).await
    }
}
