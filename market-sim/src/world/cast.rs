//! The cast at work: each scripted action performed through the same public interfaces a
//! trainee uses — the market's HTTP API, the explorer's API and real signed transactions.
//!
//! No action reaches into a service's database. What an action makes true is recorded as
//! ground truth; what it leaves behind (pages, transactions, provider records) is only
//! what the services themselves store.

use std::collections::BTreeMap;

use bitcoin::Address;
use coin_sim::coinjoin::{CoinJoinClient, Phase};
use coin_sim::tumbler::TumblerClient;
use coin_sim::wallet::{AddressKind, WalletHabits};
use coin_sim::{EsploraClient, Utxo, Wallet};
use serde_json::{Value, json};
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::ids::{ActorId, ListingId, PersonaId, ProviderId, SiteId};
use sim_core::rng::{self, SimRng};
use sim_core::scenario::{Action, Actor, ListingSpec, Scenario, SiteKind, SlipKind};

use super::network::Party;
use super::truth::SharedTruth;

/// Why an action could not be carried out (the world logs it and goes on).
#[derive(Debug, thiserror::Error)]
pub enum CastError {
    /// A service answered with an error status.
    #[error("{service} answered {status}: {body}")]
    Refused {
        /// Which service.
        service: String,
        /// HTTP status.
        status: u16,
        /// Its error text.
        body: String,
    },
    /// The request did not go through.
    #[error("request to {0} failed: {1}")]
    Http(String, reqwest::Error),
    /// The answer was not what the API promises.
    #[error("unexpected answer from {0}: {1}")]
    Protocol(String, String),
    /// The scenario refers to something this actor does not have.
    #[error("{0}")]
    Script(String),
    /// Coin trouble (funds, signing, broadcast).
    #[error("coin: {0}")]
    Coin(String),
}

/// Where the world's services are, as the cast reaches them (network names, not sockets).
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Base URL of each site, e.g. `http://<onion>`.
    pub sites: BTreeMap<SiteId, String>,
    /// Base URL of each provider's public side.
    pub providers: BTreeMap<ProviderId, String>,
    /// Base URL of the block explorer.
    pub explorer: String,
}

/// One actor's private state: keys, passwords, sessions, orders.
#[derive(Debug)]
pub struct ActorState {
    /// The scenario's description of this actor.
    pub actor: Actor,
    pub(super) party: Party,
    pub(super) wallet: Wallet,
    /// The address the actor receives funds at (and, carelessly, reuses).
    pub main_address: Address,
    pub(super) rng: SimRng,
    /// The world seed (the actor's own secrets, e.g. an operator's password, derive from it).
    pub(super) seed: u64,
    pub(super) sessions: BTreeMap<PersonaId, String>,
    pub(super) orders: BTreeMap<PersonaId, Vec<i64>>,
    accounts: BTreeMap<ProviderId, (String, String)>,
    joins: Vec<PendingJoin>,
    /// What the actor has noticed of an investigation, and whether it still acts.
    pub vigil: super::lookout::Vigil,
}

/// An actor's wallet as the scenario describes its habits, and its first receive address
/// (where the genesis block pays its initial funds).
pub fn actor_wallet(actor: &Actor, seed: u64) -> (Wallet, Address) {
    let h = &actor.habits;
    let habits = WalletHabits {
        reuse_addresses: h.reuse_addresses,
        round_amounts: h.round_amounts,
        consolidate: h.consolidate,
        kind: if h.taproot { AddressKind::P2tr } else { AddressKind::P2wpkh },
    };
    let mut wallet = Wallet::from_seed(rng::stream_seed(seed, &format!("wallet:{}", actor.id))).with_habits(habits);
    let first = wallet.new_address_of(habits.kind);
    (wallet, first)
}

/// A CoinJoin registration waiting for the round to reach signing.
#[derive(Debug, Clone)]
struct PendingJoin {
    coordinator: String,
    round: u64,
    participant: String,
    outputs: Vec<Address>,
}

impl ActorState {
    /// A fresh actor: wallet and randomness from the world seed and the actor's id.
    pub fn new(actor: Actor, seed: u64, party: Party) -> Self {
        let (wallet, main_address) = actor_wallet(&actor, seed);
        let rng = rng::stream(seed, &format!("actor:{}", actor.id));
        ActorState {
            actor,
            party,
            wallet,
            main_address,
            rng,
            seed,
            sessions: BTreeMap::new(),
            orders: BTreeMap::new(),
            accounts: BTreeMap::new(),
            joins: Vec::new(),
            vigil: super::lookout::Vigil::default(),
        }
    }

    /// Every coin the wallet holds, over all its addresses, as the explorer shows them.
    async fn coins(&self, explorer: &EsploraClient) -> Result<Vec<Utxo>, CastError> {
        explorer.wallet_utxos(&self.wallet).await.map_err(|e| CastError::Coin(e.to_string()))
    }

    /// The actor's client for clearnet services (it carries the actor's home IP).
    pub fn clearnet(&self) -> &reqwest::Client {
        self.party.clearnet()
    }

    /// The actor's client over Tor: no service learns its IP (a careful actor's way to a
    /// clearnet mailbox).
    pub fn onion(&self) -> &reqwest::Client {
        self.party.onion()
    }

    /// Whether the actor's wallet made this output script.
    pub fn owns(&self, script: &bitcoin::Script) -> bool {
        self.wallet.owns(script)
    }

    /// Whether the actor waits for a CoinJoin round to reach signing.
    pub fn has_pending_joins(&self) -> bool {
        !self.joins.is_empty()
    }

    /// Signs the CoinJoin rounds this actor joined once they reach signing; returns what
    /// happened, for the chronicle.
    pub async fn sign_pending_joins(&mut self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let mut still = Vec::new();
        for j in std::mem::take(&mut self.joins) {
            let client = CoinJoinClient::new(self.party.client_for(&j.coordinator).clone(), j.coordinator.clone());
            match client.status(j.round).await {
                Ok(st) if st.phase == Phase::Signing => {
                    match client.sign_and_submit(j.round, &j.participant, &self.wallet, &j.outputs).await {
                        Ok(_) => out.push((format!("signed CoinJoin round {}", j.round), true)),
                        Err(e) => out.push((format!("could not sign CoinJoin round {}: {e}", j.round), false)),
                    }
                }
                Ok(st) if st.phase == Phase::Registration => still.push(j),
                Ok(st) => out.push((format!("CoinJoin round {} ended before signing ({:?})", j.round, st.phase), false)),
                Err(e) => out.push((format!("lost track of CoinJoin round {}: {e}", j.round), false)),
            }
        }
        self.joins = still;
        out
    }

    /// The actor's id.
    pub fn id(&self) -> &ActorId {
        &self.actor.id
    }

    /// The site and handle of a persona: the actor's own (a crowd member's are generated,
    /// not in the scenario), else any in the scenario's cast.
    pub(super) fn persona_site(&self, scenario: &Scenario, persona: &PersonaId) -> Result<(SiteId, String), CastError> {
        let p = self
            .actor
            .personas
            .iter()
            .chain(scenario.cast.iter().flat_map(|a| a.personas.iter()))
            .find(|p| &p.id == persona)
            .ok_or_else(|| CastError::Script(format!("unknown persona {persona}")))?;
        Ok((p.site.clone(), p.handle.clone()))
    }

    fn has_slip(&self, wanted: impl Fn(&SlipKind) -> bool) -> bool {
        self.actor.slips.iter().any(|s| wanted(&s.kind))
    }

    fn password(&mut self) -> String {
        hex::encode(&rng::bytes32(&mut self.rng)[..12])
    }
}

/// What the cast needs of the world to act.
pub struct Stage<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Service locations.
    pub directory: &'a Directory,
    /// Ground truth to record into.
    pub truth: &'a SharedTruth,
    /// The simulated time the action happens (what the actor writes down, e.g. the time
    /// stamp of a photo it takes).
    pub now: sim_core::clock::SimTime,
}

impl Stage<'_> {
    pub(super) fn record(&self, fact: Fact) {
        self.truth.write().record(fact);
    }
    pub(super) fn site_url(&self, site: &SiteId) -> Result<&str, CastError> {
        self.directory.sites.get(site).map(String::as_str).ok_or_else(|| CastError::Script(format!("site {site} is not running")))
    }
    fn provider_url(&self, provider: &ProviderId) -> Result<&str, CastError> {
        self.directory
            .providers
            .get(provider)
            .map(String::as_str)
            .ok_or_else(|| CastError::Script(format!("provider {provider} is not running")))
    }
}

/// Sends a JSON request and returns the JSON answer, mapping error statuses to `Refused`.
pub(super) async fn call(
    party: &Party,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<Value, CastError> {
    let mut req = party.client_for(url).request(method, url).header("accept", "application/json");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.map_err(|e| CastError::Http(url.to_string(), e))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| CastError::Http(url.to_string(), e))?;
    if !status.is_success() {
        return Err(CastError::Refused { service: url.to_string(), status: status.as_u16(), body: text });
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| CastError::Protocol(url.to_string(), e.to_string()))
}

pub(super) fn str_field<'v>(v: &'v Value, key: &str, what: &str) -> Result<&'v str, CastError> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| CastError::Protocol(what.to_string(), format!("no `{key}` in {v}")))
}

pub(super) fn int_field(v: &Value, key: &str, what: &str) -> Result<i64, CastError> {
    v.get(key).and_then(Value::as_i64).ok_or_else(|| CastError::Protocol(what.to_string(), format!("no `{key}` in {v}")))
}

/// What an action is, as a verb phrase for the chronicle ("could not `phrase`: …").
pub fn phrase(action: &Action) -> String {
    match action {
        Action::Register(p) => format!("register {p}"),
        Action::OpenShop { persona, .. } => format!("open a shop for {persona}"),
        Action::List { persona, listing } => format!("list {} as {persona}", listing.id),
        Action::Order { persona, listing, .. } => format!("order {listing} as {persona}"),
        Action::ShipOrders(p) => format!("ship the orders of {p}"),
        Action::ShipByCourier { persona, courier, office } => format!("ship the orders of {persona} by {courier} from {office}"),
        Action::FinalizeOrders { persona, .. } => format!("finalize the orders of {persona}"),
        Action::OpenAccount { provider, username } => format!("open account {username} at {provider}"),
        Action::CashOut { provider } => format!("cash out to {provider}"),
        Action::Tumble { via } => format!("mix through {via}"),
        Action::Post { persona, board, .. } => format!("post on board {board} as {persona}"),
        Action::Profile { persona, .. } => format!("write the profile of {persona}"),
        Action::Paste { site, .. } => format!("paste on {site}"),
        Action::CoinJoin { via } => format!("join a CoinJoin round at {via}"),
        Action::AnswerMessages(p) => format!("answer the messages of {p}"),
        Action::Announce { persona, .. } => format!("announce news as {persona}"),
        Action::Ban { handle, .. } => format!("ban {handle}"),
        Action::CollectCommission(p) => format!("collect the commission as {p}"),
        Action::ExitScam(p) => format!("exit-scam as {p}"),
    }
}

/// Performs one scripted action; returns a sentence for the chronicle.
pub async fn perform(state: &mut ActorState, stage: &Stage<'_>, action: &Action) -> Result<String, CastError> {
    match action {
        Action::Register(persona) => register(state, stage, persona).await,
        Action::OpenShop { persona, bio } => open_shop(state, stage, persona, bio).await,
        Action::List { persona, listing } => list(state, stage, persona, listing).await,
        Action::Order { persona, listing, quantity } => order(state, stage, persona, listing, *quantity).await,
        Action::ShipOrders(persona) => ship(state, stage, persona, None).await,
        Action::ShipByCourier { persona, courier, office } => ship(state, stage, persona, Some((courier, office))).await,
        Action::FinalizeOrders { persona, rating, feedback } => finalize(state, stage, persona, *rating, feedback).await,
        Action::OpenAccount { provider, username } => open_account(state, stage, provider, username).await,
        Action::CashOut { provider } => cash_out(state, stage, provider).await,
        Action::Tumble { via } => tumble(state, stage, via).await,
        Action::Post { persona, board, title, body } => post(state, stage, persona, board, title, body).await,
        Action::Profile { persona, bio } => profile(state, stage, persona, bio).await,
        Action::Paste { site, author, title, body } => paste(state, stage, site, author.as_ref(), title, body).await,
        Action::CoinJoin { via } => coinjoin(state, stage, via).await,
        Action::AnswerMessages(p) => super::roles::answer_messages(state, stage, p).await,
        Action::Announce { persona, title, body } => super::roles::announce(state, stage, persona, title, body).await,
        Action::Ban { persona, handle } => super::roles::ban(state, stage, persona, handle).await,
        Action::CollectCommission(p) => super::roles::collect_commission(state, stage, p).await,
        Action::ExitScam(p) => super::roles::exit_scam(state, stage, p).await,
    }
}

pub(super) fn session<'s>(state: &'s ActorState, persona: &PersonaId) -> Result<&'s str, CastError> {
    state.sessions.get(persona).map(String::as_str).ok_or_else(|| CastError::Script(format!("{persona} has not registered")))
}

async fn register(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let password = state.password();
    // Markets register under /api; forums and social sites on their own /register form.
    let path = match stage.scenario.sites.iter().find(|x| x.id == site).map(|x| &x.kind) {
        Some(SiteKind::Forum | SiteKind::Social) => "register",
        _ => "api/register",
    };
    let answer =
        call(&state.party, reqwest::Method::POST, &format!("{base}/{path}"), None, Some(json!({"username": handle, "password": password})))
            .await?;
    let token = str_field(&answer, "token", "register")?.to_string();
    state.sessions.insert(persona.clone(), token);
    stage.truth.write().personas.insert((site.clone(), handle.clone()), persona.clone());
    Ok(format!("registered as {handle} on {site}"))
}

async fn open_shop(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId, bio: &str) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    let payout = state.main_address.to_string();
    let leaks = state.has_slip(|k| matches!(k, SlipKind::AddressInProfile(p) if p == persona));
    let bio = if leaks { format!("{bio}\nDirect deals (skip escrow, 5% off): {payout}") } else { bio.to_string() };
    // A careless vendor makes its shop key with its everyday e-mail in the user ID.
    let keyed = state.has_slip(|k| matches!(k, SlipKind::EmailInPgpKey(p) if p == persona));
    let email = state.actor.identity.email.trim().to_ascii_lowercase();
    let pgp_key = if keyed {
        let (public, _secret) = crate::market::pgp::generate_key(rng::bytes32(&mut state.rng), &format!("{handle} <{email}>"))
            .map_err(|e| CastError::Script(format!("cannot make the shop key of {persona}: {e}")))?;
        Some(public)
    } else {
        None
    };
    call(
        &state.party,
        reqwest::Method::POST,
        &format!("{base}/api/vendor/shop"),
        Some(&token),
        Some(json!({"bio": bio, "pgp_key": pgp_key, "payout_address": payout})),
    )
    .await?;
    stage.record(Fact::new(FactKind::ControlsAddress, Entity::Persona(persona.clone()), Entity::Address(payout)));
    if keyed {
        stage.record(Fact::new(FactKind::UsesEmail, Entity::Persona(persona.clone()), Entity::Email(email)));
    }
    let shows = match (leaks, keyed) {
        (true, true) => " (profile shows the payout address; the key's user ID the e-mail)",
        (true, false) => " (profile shows the payout address)",
        (false, true) => " (the key's user ID shows the e-mail)",
        (false, false) => "",
    };
    Ok(format!("{handle} opened a shop on {site}{shows}"))
}

async fn list(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId, l: &ListingSpec) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    let mut body = json!({
        "title": l.title, "category": l.category, "description": l.description, "price_sat": l.price.0,
        "ships_from": l.ships_from, "ships_to": l.ships_to, "stock": l.stock,
    });
    // A careless vendor uploads the phone's own file: camera, serial and GPS position.
    let position = state.actor.slips.iter().find_map(|sl| match &sl.kind {
        SlipKind::PhotoGps { persona: p, lat, lon } if p == persona => Some((four_decimals(*lat), four_decimals(*lon))),
        _ => None,
    });
    let gps = position.map(|(lat, lon)| Entity::place_at(lat, lon));
    if let Some((lat, lon)) = position {
        let serial = hex::encode_upper(&rng::bytes32(&mut state.rng)[..6]);
        body["photo"] = json!({
            "seed": hex::encode(rng::bytes32(&mut state.rng)),
            "exif": {"make": "Apple", "model": "iPhone 12", "serial": serial, "gps": [lat, lon], "taken_at": stage.now},
        });
    }
    let answer = call(&state.party, reqwest::Method::POST, &format!("{base}/api/listings"), Some(&token), Some(body)).await?;
    let id = int_field(&answer, "id", "create listing")?;
    stage.truth.write().listings.insert((site.clone(), id), l.id.clone());
    stage.record(Fact::new(FactKind::Offers, Entity::Persona(persona.clone()), Entity::Listing(l.id.clone())));
    stage.record(Fact::new(FactKind::ListedOn, Entity::Listing(l.id.clone()), Entity::Site(site.clone())));
    let photo = match gps {
        Some(place) => {
            let shown = format!(" (its photo's EXIF shows {place})");
            stage.record(Fact::new(FactKind::PhotographedAt, Entity::Listing(l.id.clone()), place));
            shown
        }
        None => String::new(),
    };
    Ok(format!("{handle} listed \"{}\" at {}{photo}", l.title, l.price))
}

/// A coordinate as the scenario's place names keep it (four decimals, about 11 m), so the
/// position written into a photo reads back as the same place.
fn four_decimals(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// Finds a listing the way a buyer would: browsing the market's listings for its title.
async fn find_listing(party: &Party, base: &str, spec: &ListingSpec) -> Result<i64, CastError> {
    let all = call(party, reqwest::Method::GET, &format!("{base}/api/listings"), None, None).await?;
    let items = all
        .as_array()
        .or_else(|| all.get("listings").and_then(Value::as_array))
        .ok_or_else(|| CastError::Protocol("listings".into(), all.to_string()))?;
    items
        .iter()
        .find(|i| i.get("title").and_then(Value::as_str) == Some(spec.title.as_str()))
        .and_then(|i| i.get("id").and_then(Value::as_i64))
        .ok_or_else(|| CastError::Script(format!("listing \"{}\" is not on the market", spec.title)))
}

fn listing_spec<'a>(scenario: &'a Scenario, id: &ListingId) -> Result<&'a ListingSpec, CastError> {
    scenario
        .cast
        .iter()
        .flat_map(|a| a.script.iter())
        .find_map(|s| match &s.action {
            Action::List { listing, .. } if &listing.id == id => Some(listing),
            _ => None,
        })
        .ok_or_else(|| CastError::Script(format!("unknown listing {id}")))
}

async fn order(
    state: &mut ActorState,
    stage: &Stage<'_>,
    persona: &PersonaId,
    listing: &ListingId,
    quantity: u32,
) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    let spec = listing_spec(stage.scenario, listing)?;
    let market_id = find_listing(&state.party, &base, spec).await?;
    let body = json!({"listing_id": market_id, "quantity": quantity, "shipping_info": format!("{}\n{}", state.actor.identity.name, state.actor.identity.address)});
    let answer = call(&state.party, reqwest::Method::POST, &format!("{base}/api/orders"), Some(&token), Some(body)).await?;
    let order_id = int_field(&answer, "order_id", "order")?;
    let amount = u64::try_from(int_field(&answer, "amount_sat", "order")?)
        .map_err(|_| CastError::Protocol("order".into(), "negative amount".into()))?;
    let escrow = str_field(&answer, "escrow_address", "order")?;
    let escrow = darkcoin_address(escrow, "order")?;
    state.orders.entry(persona.clone()).or_default().push(order_id);
    let txid = pay(state, stage, &escrow, amount).await?;
    Ok(format!(
        "{handle} ordered {quantity} × \"{}\" (order {order_id}) and paid {} to escrow in {txid}",
        spec.title,
        sim_core::ids::Sats(amount)
    ))
}

/// Pays `amount` to `to` from the actor's wallet (as its habits say), broadcasting through
/// the explorer.
pub(super) async fn pay(state: &mut ActorState, stage: &Stage<'_>, to: &Address, amount: u64) -> Result<bitcoin::Txid, CastError> {
    let explorer = EsploraClient::new(state.party.client_for(&stage.directory.explorer).clone(), stage.directory.explorer.clone());
    let coins = state.coins(&explorer).await?;
    let payment =
        state.wallet.pay(&coins, &[(to.clone(), amount)], stage.scenario.coin.fee_rate).map_err(|e| CastError::Coin(e.to_string()))?;
    explorer.broadcast(&payment.tx).await.map_err(|e| CastError::Coin(e.to_string()))
}

/// The most coins the cast spends in one transaction. The network relays transactions of
/// at most 400,000 weight units and a P2WPKH input weighs about 273, so about 1,450 fit; a
/// wallet holding more (a busy vendor's or an operator's takings) pays in several
/// transactions, as a real one must.
pub(super) const MAX_COINS_PER_TX: usize = 1_000;

/// `coins` largest first (ties by outpoint, so the order never depends on the explorer's),
/// in groups that each fit in one transaction.
pub(super) fn batches(mut coins: Vec<Utxo>) -> Vec<Vec<Utxo>> {
    coins.sort_by(|a, b| b.value_sat.cmp(&a.value_sat).then(a.outpoint.cmp(&b.outpoint)));
    coins.chunks(MAX_COINS_PER_TX).map(<[Utxo]>::to_vec).collect()
}

/// Transaction ids as a chronicle line names them.
pub(super) fn txid_list(txids: &[bitcoin::Txid]) -> String {
    txids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Sends every coin the wallet holds to `to`, less the fees: one transaction, or several
/// when the wallet holds more coins than one can spend.
async fn sweep_to(state: &mut ActorState, stage: &Stage<'_>, to: &Address) -> Result<(Vec<bitcoin::Txid>, u64), CastError> {
    let explorer = EsploraClient::new(state.party.client_for(&stage.directory.explorer).clone(), stage.directory.explorer.clone());
    let coins = state.coins(&explorer).await?;
    let held: u64 = coins.iter().map(|u| u.value_sat).sum();
    let change = state.main_address.clone();
    let (mut txids, mut sent) = (Vec::new(), 0u64);
    for batch in batches(coins) {
        let total: u64 = batch.iter().map(|u| u.value_sat).sum();
        // The fee for n inputs and one output at the scenario's rate, with room for the
        // largest signatures; what is left over is below dust and goes to the fee too.
        let vbytes = 11 + 69 * batch.len() as u64 + 43 + 8;
        let fee = vbytes * stage.scenario.coin.fee_rate;
        if total <= fee + 546 {
            continue;
        }
        let tx = state
            .wallet
            .build_sweep(&batch, &[(to.clone(), total - fee)], stage.scenario.coin.fee_rate, &change)
            .map_err(|e| CastError::Coin(e.to_string()))?;
        txids.push(explorer.broadcast(&tx).await.map_err(|e| CastError::Coin(e.to_string()))?);
        sent += total - fee;
    }
    if txids.is_empty() {
        return Err(CastError::Coin(format!("nothing to send ({})", sim_core::ids::Sats(held))));
    }
    Ok((txids, sent))
}

/// Parses an address a service gave, on darkcoin's network.
pub(super) fn darkcoin_address(s: &str, what: &str) -> Result<Address, CastError> {
    coin_sim::params::parse_address(s).ok_or_else(|| CastError::Protocol(what.to_string(), format!("bad address {s}")))
}

pub(super) async fn tumble(state: &mut ActorState, stage: &Stage<'_>, via: &SiteId) -> Result<String, CastError> {
    let base = stage.site_url(via)?.to_string();
    let client = TumblerClient::new(state.party.client_for(&base).clone(), base.clone());
    let destination = state.wallet.new_address();
    let order = client.order(&destination).await.map_err(|e| CastError::Coin(e.to_string()))?;
    let deposit = darkcoin_address(&order.deposit_address, "tumbler order")?;
    let (txids, sent) = sweep_to(state, stage, &deposit).await?;
    Ok(format!(
        "{} sent {} into the mixer {via} (order {}, deposit {deposit}) in {}, to come back to {destination}",
        state.actor.identity.name,
        sim_core::ids::Sats(sent),
        order.id,
        txid_list(&txids)
    ))
}

async fn coinjoin(state: &mut ActorState, stage: &Stage<'_>, via: &SiteId) -> Result<String, CastError> {
    let base = stage.site_url(via)?.to_string();
    let client = CoinJoinClient::new(state.party.client_for(&base).clone(), base.clone());
    let round = client.current().await.map_err(|e| CastError::Coin(e.to_string()))?;
    let explorer = EsploraClient::new(state.party.client_for(&stage.directory.explorer).clone(), stage.directory.explorer.clone());
    let coins = state.coins(&explorer).await?;
    let total: u64 = coins.iter().map(|u| u.value_sat).sum();
    // Keep room for this participant's share of the fee.
    let margin = (11 + 69 * coins.len() as u64 + 43 * 8) * round.feerate_sat_per_vb;
    let n = total.saturating_sub(margin) / round.denomination_sat.max(1);
    if n == 0 {
        return Err(CastError::Coin(format!("{} is less than one denomination", sim_core::ids::Sats(total))));
    }
    let outputs: Vec<Address> = (0..n).map(|_| state.wallet.new_address()).collect();
    let change = state.wallet.new_change_address();
    let inputs: Vec<bitcoin::OutPoint> = coins.iter().map(|c| c.outpoint).collect();
    let reg = client.register(round.round_id, &inputs, &outputs, Some(&change)).await.map_err(|e| CastError::Coin(e.to_string()))?;
    state.joins.push(PendingJoin { coordinator: base, round: reg.round_id, participant: reg.participant, outputs });
    Ok(format!(
        "{} registered {} coin(s) for {n} output(s) in CoinJoin round {} at {via}",
        state.actor.identity.name,
        inputs.len(),
        reg.round_id
    ))
}

async fn post(
    state: &mut ActorState,
    stage: &Stage<'_>,
    persona: &PersonaId,
    board: &str,
    title: &str,
    body: &str,
) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    let body = super::roles::in_own_words(&state.actor.habits, &mut state.rng, body);
    let answer = call(
        &state.party,
        reqwest::Method::POST,
        &format!("{base}/board/{board}"),
        Some(&token),
        Some(json!({"title": title, "body": body})),
    )
    .await?;
    let thread = answer.get("thread_id").and_then(Value::as_i64).unwrap_or_default();
    Ok(format!("{handle} posted \"{title}\" on {site}/{board} (thread {thread})"))
}

async fn profile(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId, bio: &str) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    call(
        &state.party,
        reqwest::Method::POST,
        &format!("{base}/profile"),
        Some(&token),
        Some(json!({"display_name": handle, "bio": bio, "links": ""})),
    )
    .await?;
    Ok(format!("{handle} wrote a profile on {site}"))
}

async fn paste(
    state: &mut ActorState,
    stage: &Stage<'_>,
    site: &SiteId,
    author: Option<&PersonaId>,
    title: &str,
    body: &str,
) -> Result<String, CastError> {
    let base = stage.site_url(site)?.to_string();
    let handle = match author {
        Some(p) => Some(state.persona_site(stage.scenario, p)?.1),
        None => None,
    };
    let answer =
        call(&state.party, reqwest::Method::POST, &format!("{base}/"), None, Some(json!({"title": title, "author": handle, "body": body})))
            .await?;
    let key = answer.get("key").and_then(Value::as_str).unwrap_or("?");
    Ok(format!("{} pasted \"{title}\" on {site} ({key})", handle.unwrap_or_else(|| "someone".into())))
}

/// Ships every paid order of the persona; by a courier, one parcel per order is handed in at
/// its office first, under the actor's real name and address (the counter checks ID).
async fn ship(
    state: &mut ActorState,
    stage: &Stage<'_>,
    persona: &PersonaId,
    courier: Option<(&ProviderId, &String)>,
) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    // Only the orders waiting to be shipped: the market answers them from an index, however
    // long the vendor's history.
    let orders = call(&state.party, reqwest::Method::GET, &format!("{base}/api/vendor/orders?status=paid"), Some(&token), None).await?;
    let items = orders.as_array().or_else(|| orders.get("orders").and_then(Value::as_array)).cloned().unwrap_or_default();
    let mut shipped = Vec::new();
    for o in &items {
        if o.get("status").and_then(Value::as_str) == Some("paid") {
            let id = int_field(o, "id", "vendor orders")?;
            let tracking = match courier {
                Some((c, office)) => Some(drop_off(state, stage, c, office, o).await?),
                None => None,
            };
            // The tracking number goes on the order, where the buyer sees it.
            let body = tracking.as_ref().map(|t| json!({"tracking": t}));
            call(&state.party, reqwest::Method::POST, &format!("{base}/api/orders/{id}/ship"), Some(&token), body).await?;
            if let Some(t) = &tracking {
                let parcel = Entity::Parcel(t.trim().to_ascii_uppercase());
                stage.record(Fact::new(FactKind::ShippedParcel, Entity::Persona(persona.clone()), parcel.clone()));
                stage.record(Fact::new(FactKind::ParcelSentBy, parcel, Entity::Identity(state.actor.id.clone())));
            }
            shipped.push(format!("{id}{}", tracking.map(|t| format!(" ({t})")).unwrap_or_default()));
        }
    }
    if let Some((c, office)) = courier
        && !shipped.is_empty()
        && let Some(place) = sim_core::scenario::possible::office_place(stage.scenario, c, office)
    {
        stage.record(Fact::new(FactKind::ParcelDroppedBy, place, Entity::Identity(state.actor.id.clone())));
    }
    let by = courier.map(|(c, office)| format!(" by {c} from {office}")).unwrap_or_default();
    Ok(if shipped.is_empty() {
        format!("{handle} found no paid orders to ship")
    } else {
        format!("{handle} shipped orders {}{by}", shipped.join(", "))
    })
}

/// Hands one order's parcel in at a courier's office; the tracking number.
async fn drop_off(state: &ActorState, stage: &Stage<'_>, courier: &ProviderId, office: &str, order: &Value) -> Result<String, CastError> {
    let url = format!("{}/api/parcels", stage.provider_url(courier)?);
    let to = order.get("shipping_info").and_then(Value::as_str).unwrap_or("Customer");
    let (recipient, address) = to.split_once('\n').unwrap_or((to, "poste restante"));
    let quantity = order.get("quantity").and_then(Value::as_u64).unwrap_or(1);
    let id = &state.actor.identity;
    let body = json!({
        "office": office, "sender_name": id.name, "sender_address": id.address,
        "recipient_name": recipient, "recipient_address": address, "weight_g": 40 + 20 * quantity.min(100),
    });
    let receipt = call(&state.party, reqwest::Method::POST, &url, None, Some(body)).await?;
    Ok(str_field(&receipt, "tracking", "drop-off receipt")?.to_string())
}

async fn finalize(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId, rating: u8, feedback: &str) -> Result<String, CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    let mut done = Vec::new();
    for id in state.orders.get(persona).cloned().unwrap_or_default() {
        let o = call(&state.party, reqwest::Method::GET, &format!("{base}/api/orders/{id}"), Some(&token), None).await?;
        if o.get("status").and_then(Value::as_str) != Some("shipped") {
            continue;
        }
        let fin = call(&state.party, reqwest::Method::POST, &format!("{base}/api/orders/{id}/finalize"), Some(&token), None).await?;
        let feedback = super::roles::in_own_words(&state.actor.habits, &mut state.rng, feedback);
        call(
            &state.party,
            reqwest::Method::POST,
            &format!("{base}/api/orders/{id}/feedback"),
            Some(&token),
            Some(json!({"rating": rating, "text": feedback})),
        )
        .await?;
        let payout = fin.get("payout_txid").and_then(Value::as_str).unwrap_or("?");
        done.push(format!("{id} (payout {payout})"));
    }
    Ok(if done.is_empty() {
        format!("{handle} had no shipped orders to finalize")
    } else {
        format!("{handle} finalized orders {}", done.join(", "))
    })
}

async fn open_account(state: &mut ActorState, stage: &Stage<'_>, provider: &ProviderId, username: &str) -> Result<String, CastError> {
    let base = stage.provider_url(provider)?.to_string();
    let password = state.password();
    let id = &state.actor.identity;
    let body = json!({
        "username": username, "password": password,
        "kyc": {"full_name": id.name, "date_of_birth": id.date_of_birth, "email": id.email, "phone": id.phone, "address": id.address},
    });
    call(&state.party, reqwest::Method::POST, &format!("{base}/api/signup"), None, Some(body)).await?;
    state.accounts.insert(provider.clone(), (username.to_string(), password));
    let account = Entity::Account(provider.clone(), username.to_string());
    stage.record(Fact::new(FactKind::AccountHolder, account.clone(), Entity::Identity(state.actor.id.clone())));
    // The exchange is a clearnet site: it logs the sign-up from the actor's home line.
    stage.record(Fact::new(FactKind::LoggedInFrom, account, Entity::Ip(id.home_ip.trim().to_string())));
    Ok(format!("{} opened account {username} at {provider} with KYC documents", id.name))
}

async fn cash_out(state: &mut ActorState, stage: &Stage<'_>, provider: &ProviderId) -> Result<String, CastError> {
    let base = stage.provider_url(provider)?.to_string();
    let (username, password) =
        state.accounts.get(provider).cloned().ok_or_else(|| CastError::Script(format!("no account at {provider}")))?;
    let login = call(
        &state.party,
        reqwest::Method::POST,
        &format!("{base}/api/login"),
        None,
        Some(json!({"username": username, "password": password})),
    )
    .await?;
    let token = str_field(&login, "token", "login")?.to_string();
    let dep = call(&state.party, reqwest::Method::GET, &format!("{base}/api/deposit-address"), Some(&token), None).await?;
    let deposit = str_field(&dep, "address", "deposit address")?.to_string();
    let to = darkcoin_address(&deposit, "deposit address")?;
    stage.record(Fact::new(
        FactKind::DepositAddressOf,
        Entity::Address(deposit.clone()),
        Entity::Account(provider.clone(), username.clone()),
    ));
    let (txids, sent) = sweep_to(state, stage, &to).await?;
    Ok(format!(
        "{} sent {} to deposit address {deposit} of {username}@{provider} in {}",
        state.actor.identity.name,
        sim_core::ids::Sats(sent),
        txid_list(&txids)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash as _;

    fn coin(i: u32, value_sat: u64) -> Utxo {
        Utxo {
            outpoint: bitcoin::OutPoint { txid: bitcoin::Txid::from_byte_array([(i % 251) as u8; 32]), vout: i },
            value_sat,
            script_pubkey: bitcoin::ScriptBuf::new(),
        }
    }

    /// A wallet with more coins than one transaction can spend pays in batches, largest
    /// coins first, whatever order the explorer listed them in.
    #[test]
    fn coins_are_batched_largest_first_and_in_a_fixed_order() {
        let coins: Vec<Utxo> = (0..2_500u32).map(|i| coin(i, 1_000 + u64::from(i % 7) * 100)).collect();
        let mut reversed = coins.clone();
        reversed.reverse();
        let batches = batches(coins);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [1_000, 1_000, 500]);
        assert_eq!(batches, super::batches(reversed));
        let values: Vec<u64> = batches.iter().flatten().map(|u| u.value_sat).collect();
        assert!(values.windows(2).all(|w| w[0] >= w[1]), "largest first");
        assert!(batches.iter().flatten().count() == 2_500);
        assert!(super::batches(Vec::new()).is_empty());
    }
}
