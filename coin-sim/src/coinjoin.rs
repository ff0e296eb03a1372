//! CoinJoin: rounds of equal-denomination outputs, a coordinator service and its client.
//!
//! A round gathers several participants. Each registers coins (outpoints the coordinator
//! looks up on the chain), one or more fresh output addresses that each receive exactly the
//! round's denomination, and optionally a change address for the rest minus its share of
//! the fee. When registration closes the coordinator builds one transaction: inputs sorted
//! by outpoint, equal outputs sorted by script, change outputs after them by (value,
//! script). Every participant fetches it, checks its own outputs, signs its own inputs with
//! [`crate::Wallet::sign`] and submits; the coordinator verifies each signature (BIP143 /
//! BIP341), and once every input is signed, broadcasts.
//!
//! What it hides: which input paid which equal output — every equal output is one of N
//! indistinguishable ones. What it does **not** hide: that the coins took part in a mix
//! (the pattern is obvious on chain), the amounts going in, and the **change**, which links
//! straight back to its owner's inputs (the change heuristic still works on it). Unlike
//! real coordinators with blinded credentials, this one also *knows* who registered what:
//! its records ([`Coordinator::records`]) map inputs to outputs — a lead for a legal order.
//!
//! The module is sans-IO domain logic ([`Round`], [`Coordinator`]) plus an axum router
//! over a [`CoordinatorService`] (JSON API, see [`router`]) and a [`CoinJoinClient`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use bitcoin::consensus::encode::{deserialize, serialize_hex};
use bitcoin::sighash::SighashCache;
use bitcoin::{Address, Amount, OutPoint, Script, ScriptBuf, Transaction, TxOut, Txid, Witness};
use serde::{Deserialize, Serialize};
use sim_core::rng::{SimRng, bytes32};

use crate::chain::{SharedChain, lock};
use crate::script::{ScriptError, verify_input};
use crate::wallet::{Utxo, Wallet, unsigned_tx};

/// Fixed parameters of a coordinator's rounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundConfig {
    /// The value of every mixed output, in satoshis.
    pub denomination_sat: u64,
    /// Registration cannot close with fewer participants.
    pub min_participants: usize,
    /// Registration closes by itself when this many have registered.
    pub max_participants: usize,
    /// Fee rate every participant pays for its own inputs and outputs.
    pub feerate_sat_per_vb: u64,
    /// Change below this is left to the fee.
    pub dust_limit_sat: u64,
}

impl Default for RoundConfig {
    fn default() -> Self {
        RoundConfig {
            denomination_sat: 10_000_000,
            min_participants: 3,
            max_participants: 10,
            feerate_sat_per_vb: 2,
            dust_limit_sat: crate::params::DEFAULT_DUST_LIMIT_SAT,
        }
    }
}

/// Where a round stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Taking registrations.
    Registration,
    /// The transaction is built; waiting for signatures.
    Signing,
    /// Broadcast and accepted by the network.
    Broadcast {
        /// The CoinJoin transaction.
        txid: Txid,
    },
    /// Abandoned.
    Failed {
        /// Why.
        reason: String,
    },
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::Registration => "registration",
            Phase::Signing => "signing",
            Phase::Broadcast { .. } => "broadcast",
            Phase::Failed { .. } => "failed",
        }
    }
}

/// Why the coordinator refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoinJoinError {
    /// No round with this id.
    #[error("unknown round {0}")]
    UnknownRound(u64),
    /// The request does not fit the round's phase.
    #[error("round is in phase {actual}, not {expected}")]
    WrongPhase {
        /// The phase the request needs.
        expected: &'static str,
        /// The round's phase.
        actual: &'static str,
    },
    /// The round has its maximum of participants.
    #[error("round is full")]
    RoundFull,
    /// A registration without inputs or without mixed outputs.
    #[error("a registration needs at least one input and one output")]
    EmptyRegistration,
    /// An input is already registered in this round.
    #[error("input {0} is already registered")]
    InputAlreadyRegistered(OutPoint),
    /// An output address is already registered in this round (or twice in one request).
    #[error("output address {0} is already registered")]
    OutputAlreadyRegistered(String),
    /// An input is not a confirmed unspent output.
    #[error("input {0} is not a confirmed unspent output")]
    InputNotFound(OutPoint),
    /// An input's script type cannot be signed for in a round (P2WPKH and P2TR only).
    #[error("input {0} is neither P2WPKH nor P2TR")]
    UnsupportedInput(OutPoint),
    /// The inputs do not cover the mixed outputs plus the fee share.
    #[error("inputs worth {available_sat} sat cannot pay {needed_sat} sat (outputs plus fee share)")]
    Insufficient {
        /// Outputs plus fee share.
        needed_sat: u64,
        /// Sum of the inputs.
        available_sat: u64,
    },
    /// An address is not a valid regtest address.
    #[error("invalid address {0:?}: need a regtest (bcrt1…) address")]
    BadAddress(String),
    /// The participant token is not known in this round.
    #[error("unknown participant")]
    UnknownParticipant,
    /// Too few participants to close registration.
    #[error("{have} participants registered, {need} needed")]
    TooFewParticipants {
        /// Registered so far.
        have: usize,
        /// The minimum.
        need: usize,
    },
    /// The submitted transaction is not the round's transaction.
    #[error("submitted transaction does not match the round's transaction")]
    TxMismatch,
    /// A participant's input signature does not verify.
    #[error("input {input}: {error}")]
    BadSignature {
        /// Input index.
        input: usize,
        /// What failed.
        error: ScriptError,
    },
    /// The hex or bytes are not a transaction.
    #[error("not a transaction")]
    Decode,
}

/// One participant's registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The coins it brings.
    pub inputs: Vec<Utxo>,
    /// Its mixed outputs (one denomination each).
    pub outputs: Vec<String>,
    /// Its change address and amount (none if the change would be dust).
    pub change: Option<(String, u64)>,
    /// The fee it pays, in satoshis.
    pub fee_sat: u64,
}

/// One CoinJoin round.
#[derive(Clone, Debug)]
pub struct Round {
    id: u64,
    config: RoundConfig,
    phase: Phase,
    /// Participant token → registration.
    registrations: BTreeMap<String, Registration>,
    unsigned: Option<Transaction>,
    prevouts: Vec<Utxo>,
    witnesses: BTreeMap<usize, Witness>,
}

/// Virtual bytes an input of this script type adds, signature included (upper bound).
fn input_vbytes(spk: &Script) -> u64 {
    if spk.is_p2tr() { 58 } else { 69 }
}

/// Virtual bytes an output paying `spk` adds.
fn output_vbytes(spk: &Script) -> u64 {
    8 + 1 + spk.len() as u64
}

/// A round's public status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundStatus {
    /// The round's id.
    pub round_id: u64,
    /// Its phase.
    #[serde(flatten)]
    pub phase: Phase,
    /// The mixed output value.
    pub denomination_sat: u64,
    /// Participants registered.
    pub participants: usize,
    /// Minimum participants.
    pub min_participants: usize,
    /// Maximum participants.
    pub max_participants: usize,
    /// The fee rate each participant pays.
    pub feerate_sat_per_vb: u64,
}

impl Round {
    /// A new round open for registration.
    pub fn new(id: u64, config: RoundConfig) -> Self {
        Round {
            id,
            config,
            phase: Phase::Registration,
            registrations: BTreeMap::new(),
            unsigned: None,
            prevouts: Vec::new(),
            witnesses: BTreeMap::new(),
        }
    }

    /// The round's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Its phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The public status.
    pub fn status(&self) -> RoundStatus {
        RoundStatus {
            round_id: self.id,
            phase: self.phase.clone(),
            denomination_sat: self.config.denomination_sat,
            participants: self.registrations.len(),
            min_participants: self.config.min_participants,
            max_participants: self.config.max_participants,
            feerate_sat_per_vb: self.config.feerate_sat_per_vb,
        }
    }

    fn expect(&self, expected: &'static str) -> Result<(), CoinJoinError> {
        if self.phase.name() == expected { Ok(()) } else { Err(CoinJoinError::WrongPhase { expected, actual: self.phase.name() }) }
    }

    /// Registers a participant: `inputs` are confirmed unspent coins (looked up by the
    /// caller), `outputs` get one denomination each, the rest minus the fee share goes to
    /// `change`. Returns the participant's secret token. Closes registration when full.
    pub fn register(
        &mut self,
        token: String,
        inputs: Vec<Utxo>,
        outputs: Vec<Address>,
        change: Option<Address>,
    ) -> Result<String, CoinJoinError> {
        self.expect("registration")?;
        if self.registrations.len() >= self.config.max_participants {
            return Err(CoinJoinError::RoundFull);
        }
        if inputs.is_empty() || outputs.is_empty() {
            return Err(CoinJoinError::EmptyRegistration);
        }
        let registered_inputs: BTreeSet<OutPoint> = self.registrations.values().flat_map(|r| r.inputs.iter().map(|u| u.outpoint)).collect();
        let mut registered_outputs: BTreeSet<String> =
            self.registrations.values().flat_map(|r| r.outputs.iter().cloned().chain(r.change.iter().map(|c| c.0.clone()))).collect();
        let mut mine = BTreeSet::new();
        for u in &inputs {
            if registered_inputs.contains(&u.outpoint) || !mine.insert(u.outpoint) {
                return Err(CoinJoinError::InputAlreadyRegistered(u.outpoint));
            }
            if !u.script_pubkey.is_p2wpkh() && !u.script_pubkey.is_p2tr() {
                return Err(CoinJoinError::UnsupportedInput(u.outpoint));
            }
        }
        for a in outputs.iter().chain(change.iter()) {
            if !registered_outputs.insert(a.to_string()) {
                return Err(CoinJoinError::OutputAlreadyRegistered(a.to_string()));
            }
        }
        let available = inputs.iter().fold(0u64, |a, u| a.saturating_add(u.value_sat));
        let vbytes = 11
            + inputs.iter().map(|u| input_vbytes(&u.script_pubkey)).sum::<u64>()
            + outputs.iter().map(|a| output_vbytes(&a.script_pubkey())).sum::<u64>();
        let change_vb = change.as_ref().map_or(0, |a| output_vbytes(&a.script_pubkey()));
        let mixed = self.config.denomination_sat.saturating_mul(outputs.len() as u64);
        let fee_without = vbytes.saturating_mul(self.config.feerate_sat_per_vb);
        let needed = mixed.saturating_add(fee_without);
        if available < needed {
            return Err(CoinJoinError::Insufficient { needed_sat: needed, available_sat: available });
        }
        let fee_with = (vbytes + change_vb).saturating_mul(self.config.feerate_sat_per_vb);
        let rest = available.saturating_sub(mixed).saturating_sub(fee_with);
        let (change, fee_sat) = match change {
            Some(a) if available >= mixed.saturating_add(fee_with) && rest >= self.config.dust_limit_sat => {
                (Some((a.to_string(), rest)), fee_with)
            }
            _ => (None, available - mixed),
        };
        let reg = Registration { inputs, outputs: outputs.iter().map(|a| a.to_string()).collect(), change, fee_sat };
        self.registrations.insert(token.clone(), reg);
        if self.registrations.len() >= self.config.max_participants {
            self.close_registration()?;
        }
        Ok(token)
    }

    /// Ends registration and builds the transaction (needs the minimum of participants).
    pub fn close_registration(&mut self) -> Result<&Transaction, CoinJoinError> {
        self.expect("registration")?;
        if self.registrations.len() < self.config.min_participants {
            return Err(CoinJoinError::TooFewParticipants { have: self.registrations.len(), need: self.config.min_participants });
        }
        let mut prevouts: Vec<Utxo> = self.registrations.values().flat_map(|r| r.inputs.iter().cloned()).collect();
        prevouts.sort_by_key(|u| u.outpoint);
        let parse = |s: &str| -> Result<ScriptBuf, CoinJoinError> { Ok(parse_address(s)?.script_pubkey()) };
        let mut equal: Vec<ScriptBuf> = Vec::new();
        let mut change: Vec<(u64, ScriptBuf)> = Vec::new();
        for r in self.registrations.values() {
            for o in &r.outputs {
                equal.push(parse(o)?);
            }
            if let Some((a, v)) = &r.change {
                change.push((*v, parse(a)?));
            }
        }
        equal.sort();
        change.sort();
        let denom = Amount::from_sat(self.config.denomination_sat);
        let mut outputs: Vec<TxOut> = equal.into_iter().map(|script_pubkey| TxOut { value: denom, script_pubkey }).collect();
        outputs.extend(change.into_iter().map(|(v, script_pubkey)| TxOut { value: Amount::from_sat(v), script_pubkey }));
        let refs: Vec<&Utxo> = prevouts.iter().collect();
        let tx = unsigned_tx(&refs, outputs);
        tracing::info!(
            round = self.id,
            participants = self.registrations.len(),
            inputs = tx.input.len(),
            outputs = tx.output.len(),
            "coinjoin registration closed"
        );
        self.prevouts = prevouts;
        self.phase = Phase::Signing;
        Ok(self.unsigned.insert(tx))
    }

    /// The unsigned transaction and the coins it spends (one per input), while signing.
    pub fn unsigned(&self) -> Result<(&Transaction, &[Utxo]), CoinJoinError> {
        self.expect("signing")?;
        let tx = self.unsigned.as_ref().ok_or(CoinJoinError::WrongPhase { expected: "signing", actual: "registration" })?;
        Ok((tx, &self.prevouts))
    }

    /// Takes `participant`'s signatures from `signed` (the round's transaction with its
    /// inputs signed), verifying each. Returns the complete transaction once every input is
    /// signed.
    pub fn submit_signatures(&mut self, participant: &str, signed: &Transaction) -> Result<Option<Transaction>, CoinJoinError> {
        self.expect("signing")?;
        let reg = self.registrations.get(participant).ok_or(CoinJoinError::UnknownParticipant)?;
        let unsigned = self.unsigned.as_ref().ok_or(CoinJoinError::TxMismatch)?;
        if signed.compute_txid() != unsigned.compute_txid() {
            return Err(CoinJoinError::TxMismatch);
        }
        let prevouts: Vec<TxOut> =
            self.prevouts.iter().map(|u| TxOut { value: Amount::from_sat(u.value_sat), script_pubkey: u.script_pubkey.clone() }).collect();
        let mine: BTreeSet<OutPoint> = reg.inputs.iter().map(|u| u.outpoint).collect();
        let mut cache = SighashCache::new(signed);
        let mut accepted = Vec::new();
        for (index, input) in signed.input.iter().enumerate() {
            if !mine.contains(&input.previous_output) {
                continue;
            }
            verify_input(&mut cache, signed, index, &prevouts).map_err(|error| CoinJoinError::BadSignature { input: index, error })?;
            accepted.push((index, input.witness.clone()));
        }
        self.witnesses.extend(accepted);
        if self.witnesses.len() < unsigned.input.len() {
            return Ok(None);
        }
        let mut complete = unsigned.clone();
        for (i, input) in complete.input.iter_mut().enumerate() {
            if let Some(w) = self.witnesses.get(&i) {
                input.witness = w.clone();
            }
        }
        Ok(Some(complete))
    }

    /// Records the broadcast's outcome.
    pub fn set_outcome(&mut self, outcome: Result<Txid, String>) {
        self.phase = match outcome {
            Ok(txid) => Phase::Broadcast { txid },
            Err(reason) => Phase::Failed { reason },
        };
    }

    /// Who registered what — the coordinator's records, as a legal order would produce them.
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.registrations.values()
    }
}

fn parse_address(s: &str) -> Result<Address, CoinJoinError> {
    crate::params::parse_address(s).ok_or_else(|| CoinJoinError::BadAddress(s.chars().take(100).collect()))
}

/// A coordinator: the current round, past rounds, and the tokens it hands out.
#[derive(Debug)]
pub struct Coordinator {
    config: RoundConfig,
    rng: SimRng,
    rounds: BTreeMap<u64, Round>,
    current: u64,
}

impl Coordinator {
    /// A coordinator opening round 1; `rng` makes participant tokens.
    pub fn new(config: RoundConfig, rng: SimRng) -> Self {
        let mut rounds = BTreeMap::new();
        rounds.insert(1, Round::new(1, config.clone()));
        Coordinator { config, rng, rounds, current: 1 }
    }

    /// The round taking registrations (or signing) now.
    pub fn current(&self) -> Option<&Round> {
        self.rounds.get(&self.current)
    }

    /// A round by id.
    pub fn round(&self, id: u64) -> Result<&Round, CoinJoinError> {
        self.rounds.get(&id).ok_or(CoinJoinError::UnknownRound(id))
    }

    /// A round by id, mutably.
    pub fn round_mut(&mut self, id: u64) -> Result<&mut Round, CoinJoinError> {
        self.rounds.get_mut(&id).ok_or(CoinJoinError::UnknownRound(id))
    }

    /// Registers a participant in round `id`; returns its token.
    pub fn register(
        &mut self,
        id: u64,
        inputs: Vec<Utxo>,
        outputs: Vec<Address>,
        change: Option<Address>,
    ) -> Result<String, CoinJoinError> {
        let token = hex::encode(bytes32(&mut self.rng).get(..16).unwrap_or_default());
        self.round_mut(id)?.register(token, inputs, outputs, change)
    }

    /// Records the broadcast outcome of round `id` and opens the next round.
    pub fn finish(&mut self, id: u64, outcome: Result<Txid, String>) -> Result<(), CoinJoinError> {
        self.round_mut(id)?.set_outcome(outcome);
        if id == self.current {
            self.current += 1;
            self.rounds.insert(self.current, Round::new(self.current, self.config.clone()));
        }
        Ok(())
    }

    /// Every round's registrations (what the coordinator could be ordered to hand over).
    pub fn records(&self) -> BTreeMap<u64, Vec<Registration>> {
        self.rounds.iter().map(|(id, r)| (*id, r.registrations().cloned().collect())).collect()
    }
}

/// The coordinator as a service: domain state plus the node it looks coins up on and
/// broadcasts through.
#[derive(Clone, Debug)]
pub struct CoordinatorService {
    /// The coordinator (lock briefly, never across `.await`).
    pub coordinator: Arc<Mutex<Coordinator>>,
    /// The chain it reads and broadcasts to.
    pub chain: SharedChain,
}

impl CoordinatorService {
    /// A service over `coordinator` using `chain`.
    pub fn new(coordinator: Coordinator, chain: SharedChain) -> Self {
        CoordinatorService { coordinator: Arc::new(Mutex::new(coordinator)), chain }
    }

    /// Locks the coordinator.
    pub fn lock(&self) -> MutexGuard<'_, Coordinator> {
        self.coordinator.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers outpoints (looked up as confirmed, unspent, not spent in the mempool).
    pub fn register(
        &self,
        round: u64,
        inputs: &[OutPoint],
        outputs: Vec<Address>,
        change: Option<Address>,
    ) -> Result<String, CoinJoinError> {
        let coins = {
            let c = lock(&self.chain);
            let mut coins = Vec::with_capacity(inputs.len());
            for op in inputs {
                let e = c.utxo(op).filter(|_| c.outspend(op).is_none()).ok_or(CoinJoinError::InputNotFound(*op))?;
                let mature = !e.is_coinbase || c.height().saturating_add(1).saturating_sub(e.height) >= c.params().coinbase_maturity;
                if !mature {
                    return Err(CoinJoinError::InputNotFound(*op));
                }
                coins.push(Utxo { outpoint: *op, value_sat: e.txout.value.to_sat(), script_pubkey: e.txout.script_pubkey.clone() });
            }
            coins
        };
        self.lock().register(round, coins, outputs, change)
    }

    /// Closes registration of round `id` (the world's scheduler calls this when the round's
    /// time is up); fails while too few have registered.
    pub fn close_registration(&self, id: u64) -> Result<Txid, CoinJoinError> {
        let mut co = self.lock();
        Ok(co.round_mut(id)?.close_registration()?.compute_txid())
    }

    /// Takes a participant's signatures; broadcasts when complete. Returns the round status.
    pub fn submit(&self, id: u64, participant: &str, signed: &Transaction) -> Result<RoundStatus, CoinJoinError> {
        let complete = self.lock().round_mut(id)?.submit_signatures(participant, signed)?;
        if let Some(tx) = complete {
            let outcome = lock(&self.chain).submit_tx(&tx).map_err(|r| r.to_string());
            tracing::info!(round = id, outcome = ?outcome, "coinjoin broadcast");
            self.lock().finish(id, outcome)?;
        }
        Ok(self.lock().round(id)?.status())
    }
}

/// A registration request (`POST /rounds/{id}/register`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Coins to mix.
    pub inputs: Vec<OutPoint>,
    /// Addresses for the mixed outputs.
    pub outputs: Vec<String>,
    /// Change address.
    #[serde(default)]
    pub change: Option<String>,
}

/// The answer to a registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    /// The round.
    pub round_id: u64,
    /// The participant's secret token (needed to submit signatures).
    pub participant: String,
}

/// The unsigned round transaction (`GET /rounds/{id}/tx`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsignedTxResponse {
    /// The transaction, hex.
    pub hex: String,
    /// The coin each input spends, in input order.
    pub prevouts: Vec<Utxo>,
}

/// Signatures (`POST /rounds/{id}/signatures`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignaturesRequest {
    /// The participant's token.
    pub participant: String,
    /// The round transaction with the participant's inputs signed, hex.
    pub hex: String,
}

/// The coordinator's JSON API: `GET /rounds/current`, `GET /rounds/{id}`,
/// `POST /rounds/{id}/register`, `GET /rounds/{id}/tx`, `POST /rounds/{id}/signatures`.
/// Errors answer `{"error": "…"}` with 400, 403 (unknown participant), 404 (unknown round)
/// or 409 (wrong phase, full round).
pub fn router(service: CoordinatorService) -> Router {
    Router::new()
        .route("/rounds/current", get(current_round))
        .route("/rounds/{id}", get(round_status))
        .route("/rounds/{id}/register", post(register))
        .route("/rounds/{id}/tx", get(unsigned))
        .route("/rounds/{id}/signatures", post(signatures))
        .with_state(service)
}

impl IntoResponse for CoinJoinError {
    fn into_response(self) -> Response {
        let status = match &self {
            CoinJoinError::UnknownRound(_) => StatusCode::NOT_FOUND,
            CoinJoinError::UnknownParticipant => StatusCode::FORBIDDEN,
            CoinJoinError::WrongPhase { .. } | CoinJoinError::RoundFull => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

fn round_id(s: &str) -> Result<u64, CoinJoinError> {
    s.parse().map_err(|_| CoinJoinError::UnknownRound(0))
}

async fn current_round(State(s): State<CoordinatorService>) -> Result<Json<RoundStatus>, CoinJoinError> {
    let co = s.lock();
    co.current().map(|r| Json(r.status())).ok_or(CoinJoinError::UnknownRound(co.current))
}

async fn round_status(State(s): State<CoordinatorService>, Path(id): Path<String>) -> Result<Json<RoundStatus>, CoinJoinError> {
    Ok(Json(s.lock().round(round_id(&id)?)?.status()))
}

async fn register(
    State(s): State<CoordinatorService>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RegisterResponse>, CoinJoinError> {
    let id = round_id(&id)?;
    let req: RegisterRequest = serde_json::from_slice(&body).map_err(|_| CoinJoinError::EmptyRegistration)?;
    let outputs = req.outputs.iter().map(|a| parse_address(a)).collect::<Result<Vec<_>, _>>()?;
    let change = req.change.as_deref().map(parse_address).transpose()?;
    let participant = s.register(id, &req.inputs, outputs, change)?;
    Ok(Json(RegisterResponse { round_id: id, participant }))
}

async fn unsigned(State(s): State<CoordinatorService>, Path(id): Path<String>) -> Result<Json<UnsignedTxResponse>, CoinJoinError> {
    let co = s.lock();
    let (tx, prevouts) = co.round(round_id(&id)?)?.unsigned()?;
    Ok(Json(UnsignedTxResponse { hex: serialize_hex(tx), prevouts: prevouts.to_vec() }))
}

async fn signatures(
    State(s): State<CoordinatorService>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RoundStatus>, CoinJoinError> {
    let id = round_id(&id)?;
    let req: SignaturesRequest = serde_json::from_slice(&body).map_err(|_| CoinJoinError::Decode)?;
    let tx = decode_tx(&req.hex)?;
    Ok(Json(s.submit(id, &req.participant, &tx)?))
}

fn decode_tx(hex_tx: &str) -> Result<Transaction, CoinJoinError> {
    let bytes = hex::decode(hex_tx.trim()).map_err(|_| CoinJoinError::Decode)?;
    deserialize(&bytes).map_err(|_| CoinJoinError::Decode)
}

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum CoinJoinClientError {
    /// The request failed.
    #[error("coordinator request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The coordinator refused; its message.
    #[error("coordinator answered {status}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The error message.
        message: String,
    },
    /// The answer could not be understood.
    #[error("cannot decode coordinator answer: {0}")]
    Decode(String),
    /// The round transaction does not pay what we registered.
    #[error("the round transaction does not contain our outputs")]
    OutputsMissing,
    /// Our wallet could not sign.
    #[error("signing failed: {0}")]
    Sign(#[from] crate::wallet::WalletError),
}

/// A participant's client for a coordinator at `base` (through Tor in the world).
#[derive(Clone, Debug)]
pub struct CoinJoinClient {
    http: reqwest::Client,
    base: String,
}

impl CoinJoinClient {
    /// A client for the coordinator at `base_url`.
    pub fn new(http: reqwest::Client, base_url: impl Into<String>) -> Self {
        let mut base = base_url.into();
        while base.ends_with('/') {
            base.pop();
        }
        CoinJoinClient { http, base }
    }

    async fn answer<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T, CoinJoinClientError> {
        let status = resp.status().as_u16();
        let body = resp.text().await?;
        if status != 200 {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or(body);
            return Err(CoinJoinClientError::Refused { status, message });
        }
        serde_json::from_str(&body).map_err(|e| CoinJoinClientError::Decode(e.to_string()))
    }

    /// The current round.
    pub async fn current(&self) -> Result<RoundStatus, CoinJoinClientError> {
        Self::answer(self.http.get(format!("{}/rounds/current", self.base)).send().await?).await
    }

    /// A round's status.
    pub async fn status(&self, round: u64) -> Result<RoundStatus, CoinJoinClientError> {
        Self::answer(self.http.get(format!("{}/rounds/{round}", self.base)).send().await?).await
    }

    /// Registers coins, mixed outputs and change; returns the participant token.
    pub async fn register(
        &self,
        round: u64,
        inputs: &[OutPoint],
        outputs: &[Address],
        change: Option<&Address>,
    ) -> Result<RegisterResponse, CoinJoinClientError> {
        let req = RegisterRequest {
            inputs: inputs.to_vec(),
            outputs: outputs.iter().map(ToString::to_string).collect(),
            change: change.map(ToString::to_string),
        };
        Self::answer(self.http.post(format!("{}/rounds/{round}/register", self.base)).json(&req).send().await?).await
    }

    /// Fetches the round transaction, checks it pays `outputs` one denomination each, signs
    /// our inputs with `wallet` and submits. Returns the round's status afterwards.
    pub async fn sign_and_submit(
        &self,
        round: u64,
        participant: &str,
        wallet: &Wallet,
        outputs: &[Address],
    ) -> Result<RoundStatus, CoinJoinClientError> {
        let status = self.status(round).await?;
        let u: UnsignedTxResponse = Self::answer(self.http.get(format!("{}/rounds/{round}/tx", self.base)).send().await?).await?;
        let mut tx = decode_tx(&u.hex).map_err(|e| CoinJoinClientError::Decode(e.to_string()))?;
        for a in outputs {
            let spk = a.script_pubkey();
            if !tx.output.iter().any(|o| o.script_pubkey == spk && o.value.to_sat() == status.denomination_sat) {
                return Err(CoinJoinClientError::OutputsMissing);
            }
        }
        wallet.sign(&mut tx, &u.prevouts)?;
        let req = SignaturesRequest { participant: participant.to_string(), hex: serialize_hex(&tx) };
        Self::answer(self.http.post(format!("{}/rounds/{round}/signatures", self.base)).json(&req).send().await?).await
    }
}
