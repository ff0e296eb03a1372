//! What the cast's roles do beyond buying and selling: a vendor answers messages, restocks
//! and ships; a buyer browses, orders, pays, then finalizes or disputes and leaves a
//! review; a market's operator announces, bans, collects the commission and — at a
//! scripted time — runs off with every escrow. All through the market's own HTTP API (the
//! operator through the operator side of the site, logged in like any operator) and real
//! transactions; nothing here reaches into a database.
//!
//! Also here: how an actor writes ([`in_own_words`]: favourite phrases and writing quirks,
//! drawn from the actor's seeded stream) and when it is online ([`next_active`]).

use serde_json::{Value, json};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::ids::{PersonaId, Sats};
use sim_core::rng::{self, SimRng};
use sim_core::scenario::{ActiveHours, Habits, WritingQuirk};

use super::cast::{ActorState, CastError, Stage, call, darkcoin_address, int_field, pay, session, str_field};

/// The operator's password on its market: derived from the world seed and the actor, so
/// the world can create the operator's account and the actor alone can log in with it.
pub fn operator_password(seed: u64, actor: &sim_core::ids::ActorId) -> String {
    hex::encode(rng::stream_seed(seed, &format!("market-operator-password:{actor}")).get(..12).unwrap_or_default())
}

/// Rewrites `text` the way the actor writes: now and then one of its favourite phrases,
/// then its quirks. Draws from `rng` only when the actor has phrases, so actors without
/// habits of writing keep their random streams (and worlds) unchanged.
pub fn in_own_words(habits: &Habits, rng: &mut SimRng, text: &str) -> String {
    let mut out = text.trim_end().to_string();
    if !habits.phrases.is_empty() && rng::below(rng, 2) == 0 {
        let pick = usize::try_from(rng::below(rng, habits.phrases.len() as u64)).unwrap_or(0);
        if let Some(p) = habits.phrases.get(pick) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(p);
        }
    }
    for q in &habits.quirks {
        out = match q {
            WritingQuirk::Lowercase => out.to_lowercase(),
            WritingQuirk::NoApostrophes => out.replace(['\'', '’'], ""),
            WritingQuirk::Exclamations => {
                let mut s = out.replace(". ", "!! ");
                if s.ends_with('.') {
                    s.pop();
                    s.push_str("!!");
                } else if !s.ends_with('!') {
                    s.push_str("!!");
                }
                s
            }
            WritingQuirk::Ellipses => format!("{}...", out.trim_end_matches(['.', '!'])),
        };
    }
    out
}

/// Whether local hour `hour` lies in the window (a window may wrap past midnight).
fn within(hours: ActiveHours, hour: u32) -> bool {
    if hours.from < hours.to { (hours.from..hours.to).contains(&hour) } else { hour >= hours.from || hour < hours.to }
}

/// The first moment at or after `t` when someone in time zone `utc_offset_hours` with
/// these active hours is online (`t` itself when always online or already online).
pub fn next_active(t: SimTime, utc_offset_hours: i32, hours: Option<ActiveHours>) -> SimTime {
    let Some(h) = hours.filter(|h| h.from != h.to) else { return t };
    let day = 86_400;
    let local = t.secs() + i64::from(utc_offset_hours) * 3_600;
    let of_day = local.rem_euclid(day);
    let hour = u32::try_from(of_day / 3_600).unwrap_or(0);
    if within(h, hour) {
        return t;
    }
    let wait = (i64::from(h.from % 24) * 3_600 - of_day).rem_euclid(day);
    t.plus(SimDuration::secs(wait))
}

/// The base URL of the persona's market, with the persona's handle.
fn market_of(state: &ActorState, stage: &Stage<'_>, persona: &PersonaId) -> Result<(String, String), CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    Ok((stage.site_url(&site)?.to_string(), handle))
}

/// The operator's session on its market, logging in with its password when it has none.
async fn operator_session(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId) -> Result<(String, String), CastError> {
    let (base, handle) = market_of(state, stage, persona)?;
    if let Ok(token) = session(state, persona) {
        return Ok((base, token.to_string()));
    }
    let password = operator_password(state.seed, state.id());
    let login = call(
        &state.party,
        reqwest::Method::POST,
        &format!("{base}/api/login"),
        None,
        Some(json!({"username": handle, "password": password})),
    )
    .await?;
    let token = str_field(&login, "token", "operator login")?.to_string();
    state.sessions.insert(persona.clone(), token.clone());
    stage.truth.write().personas.insert((state.persona_site(stage.scenario, persona)?.0, handle), persona.clone());
    Ok((base, token))
}

/// Replies to every message in the persona's inbox that came after its last message to
/// the same correspondent.
pub async fn answer_messages(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId) -> Result<String, CastError> {
    let (base, handle) = market_of(state, stage, persona)?;
    let token = session(state, persona)?.to_string();
    let mailbox = call(&state.party, reqwest::Method::GET, &format!("{base}/api/messages"), Some(&token), None).await?;
    let list = |key: &str| mailbox.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let last_sent = |to: &str| {
        list("sent").iter().filter(|m| m.get("to").and_then(Value::as_str) == Some(to)).filter_map(|m| m.get("id")?.as_i64()).max()
    };
    let mut waiting: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for m in list("inbox") {
        let (Some(from), Some(id)) = (m.get("from").and_then(Value::as_str), m.get("id").and_then(Value::as_i64)) else { continue };
        if last_sent(from).is_none_or(|s| s < id) {
            waiting.insert(from.to_string(), m.get("subject").and_then(Value::as_str).unwrap_or_default().to_string());
        }
    }
    let mut answered = Vec::new();
    for (to, subject) in waiting {
        let text = in_own_words(
            &state.actor.habits,
            &mut state.rng,
            "Thanks for your message. Orders ship within 48 hours of payment, stealth packing as always.",
        );
        let subject = if subject.is_empty() { "Re: your message".to_string() } else { format!("Re: {subject}") };
        call(
            &state.party,
            reqwest::Method::POST,
            &format!("{base}/api/messages"),
            Some(&token),
            Some(json!({"to": to, "subject": subject, "body": text})),
        )
        .await?;
        answered.push(to);
    }
    Ok(if answered.is_empty() {
        format!("{handle} had no messages to answer")
    } else {
        format!("{handle} answered {}", answered.join(", "))
    })
}

/// The operator publishes news on its market.
pub async fn announce(
    state: &mut ActorState,
    stage: &Stage<'_>,
    persona: &PersonaId,
    title: &str,
    body: &str,
) -> Result<String, CastError> {
    let (base, token) = operator_session(state, stage, persona).await?;
    let body = in_own_words(&state.actor.habits, &mut state.rng, body);
    call(&state.party, reqwest::Method::POST, &format!("{base}/operator/news"), Some(&token), Some(json!({"title": title, "body": body})))
        .await?;
    Ok(format!("the operator announced \"{title}\""))
}

/// The operator bans an account.
pub async fn ban(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId, handle: &str) -> Result<String, CastError> {
    let (base, token) = operator_session(state, stage, persona).await?;
    call(&state.party, reqwest::Method::POST, &format!("{base}/operator/ban"), Some(&token), Some(json!({"username": handle}))).await?;
    Ok(format!("the operator banned {handle}"))
}

/// The operator withdraws what the commission address holds to its own wallet.
pub async fn collect_commission(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId) -> Result<String, CastError> {
    let (base, token) = operator_session(state, stage, persona).await?;
    let dash = call(&state.party, reqwest::Method::GET, &format!("{base}/operator"), Some(&token), None).await?;
    let dash = dash.get("dashboard").unwrap_or(&dash);
    let from = str_field(dash, "commission_address", "operator dashboard")?.to_string();
    let from = darkcoin_address(&from, "operator dashboard")?;
    let explorer =
        coin_sim::EsploraClient::new(state.party.client_for(&stage.directory.explorer).clone(), stage.directory.explorer.clone());
    let coins = explorer.address_utxos(&from).await.map_err(|e| CastError::Coin(e.to_string()))?;
    let held: u64 = coins.iter().map(|u| u.value_sat).sum();
    let to = state.main_address.to_string();
    // One withdrawal per batch of coins: the market's wallet cannot spend more in one
    // transaction than the network relays.
    let (mut txids, mut withdrawn) = (Vec::new(), 0u64);
    for batch in super::cast::batches(coins) {
        // Leave room for the withdrawal's own fee: every coin an input, two outputs, the
        // largest signatures.
        let fee = (11 + 69 * batch.len() as u64 + 2 * 43) * stage.scenario.coin.fee_rate.max(1);
        let amount = batch.iter().map(|u| u.value_sat).sum::<u64>().saturating_sub(fee);
        if amount < 10_000 {
            continue;
        }
        let answer = call(
            &state.party,
            reqwest::Method::POST,
            &format!("{base}/operator/withdraw"),
            Some(&token),
            Some(json!({"address": to, "amount_sat": amount})),
        )
        .await?;
        txids.push(str_field(&answer, "txid", "withdraw")?.to_string());
        withdrawn += amount;
    }
    if txids.is_empty() {
        return Err(CastError::Coin(format!("the commission address holds only {}", Sats(held))));
    }
    stage.record(Fact::new(FactKind::ControlsAddress, Entity::Persona(persona.clone()), Entity::Address(to.clone())));
    Ok(format!("the operator withdrew {} of commission to {to} in {}", Sats(withdrawn), txids.join(", ")))
}

/// The exit scam: every open escrow swept to the operator's wallet, then a "maintenance"
/// notice so buyers wait instead of raising the alarm.
pub async fn exit_scam(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId) -> Result<String, CastError> {
    let (base, token) = operator_session(state, stage, persona).await?;
    let to = state.main_address.to_string();
    let sweep =
        call(&state.party, reqwest::Method::POST, &format!("{base}/operator/exit"), Some(&token), Some(json!({"address": to}))).await?;
    let txid = str_field(&sweep, "txid", "exit")?.to_string();
    let amount = u64::try_from(int_field(&sweep, "amount_sat", "exit")?).unwrap_or(0);
    let orders = sweep.get("orders").and_then(Value::as_array).map_or(0, Vec::len);
    stage.record(Fact::new(FactKind::ControlsAddress, Entity::Persona(persona.clone()), Entity::Address(to.clone())));
    let notice = json!({"title": "Scheduled maintenance", "body": "Withdrawals are paused for a wallet upgrade. Do not finalize or dispute until we are back."});
    if let Err(e) = call(&state.party, reqwest::Method::POST, &format!("{base}/operator/news"), Some(&token), Some(notice)).await {
        tracing::warn!(error = %e, "the exit notice was not posted");
    }
    Ok(format!("the operator swept the escrow of {orders} open order(s), {} in all, to {to} in {txid}", Sats(amount)))
}

/// Orders and pays for `listing` (a market id) as a crowd buyer; returns the order id.
pub(super) async fn order_listing(
    state: &mut ActorState,
    stage: &Stage<'_>,
    persona: &PersonaId,
    listing: i64,
    quantity: u32,
) -> Result<(i64, u64), CastError> {
    let (base, _) = market_of(state, stage, persona)?;
    let token = session(state, persona)?.to_string();
    let shipping = format!("{}\n{}", state.actor.identity.name, state.actor.identity.address);
    let body = json!({"listing_id": listing, "quantity": quantity, "shipping_info": shipping});
    let answer = call(&state.party, reqwest::Method::POST, &format!("{base}/api/orders"), Some(&token), Some(body)).await?;
    let order_id = int_field(&answer, "order_id", "order")?;
    let amount = u64::try_from(int_field(&answer, "amount_sat", "order")?)
        .map_err(|_| CastError::Protocol("order".into(), "negative amount".into()))?;
    let escrow = darkcoin_address(str_field(&answer, "escrow_address", "order")?, "order")?;
    state.orders.entry(persona.clone()).or_default().push(order_id);
    pay(state, stage, &escrow, amount).await?;
    Ok((order_id, amount))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_outside_active_hours_waits_for_the_window() {
        // 2026-03-02T08:00:00Z is a Monday, 08:00 UTC.
        let t = SimTime(1_772_438_400);
        let evening = Some(ActiveHours { from: 18, to: 23 });
        assert_eq!(next_active(t, 0, evening), t.plus(SimDuration::hours(10)));
        // In UTC+12 it is 20:00 already: online.
        assert_eq!(next_active(t, 12, evening), t);
        // A night owl (22–3) in UTC-5 (03:00 local): waits until 22:00 local.
        assert_eq!(next_active(t, -5, Some(ActiveHours { from: 22, to: 3 })), t.plus(SimDuration::hours(19)));
        assert_eq!(next_active(t, 0, None), t);
    }

    #[test]
    fn writing_habits_mark_the_text_and_are_deterministic() {
        let habits = Habits {
            phrases: vec!["stay safe out there".into()],
            quirks: vec![WritingQuirk::Lowercase, WritingQuirk::NoApostrophes, WritingQuirk::Exclamations],
            ..Habits::default()
        };
        let texts: Vec<String> = {
            let mut r = rng::stream(7, "t");
            (0..8).map(|_| in_own_words(&habits, &mut r, "Great product. Don't hesitate.")).collect()
        };
        let again: Vec<String> = {
            let mut r = rng::stream(7, "t");
            (0..8).map(|_| in_own_words(&habits, &mut r, "Great product. Don't hesitate.")).collect()
        };
        assert_eq!(texts, again);
        assert!(texts.iter().all(|t| t.starts_with("great product!! dont hesitate")), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("stay safe out there")), "{texts:?}");
        assert!(texts.iter().any(|t| !t.contains("stay safe")), "{texts:?}");
        let mut r = rng::stream(7, "t");
        assert_eq!(in_own_words(&Habits::default(), &mut r, "As written."), "As written.");
    }
}
