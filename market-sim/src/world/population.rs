//! Background crowds: the vendors and buyers a scenario's `population` asks for, generated
//! from the seed (names, handles, homes, time zones, hours, writing habits, listings) and
//! living on the scheduler's wake-ups. They are members of the cast like any other —
//! their own wallets, parties on the network and random streams — and act only through
//! the market's HTTP API and real transactions, so a class watches thousands of orders
//! being placed, paid, shipped, finalized, disputed and reviewed.
//!
//! Ordinary people use the post too: [`post_senders`] generates, from the seed, the parcels
//! strangers hand in at every courier office during the story (at counter hours, each with
//! its own sender and recipient), which the world hands in through the courier's public API
//! like the cast's own — so an office's records hold everyone's parcels, and a team narrows
//! them by time, recipient or tracking number.

use serde_json::{Value, json};
use sim_core::clock::{SimDuration, SimTime};
use sim_core::ids::{ActorId, PersonaId, ProviderId, Sats};
use sim_core::rng::{self, SimRng};
use sim_core::scenario::{
    Action, ActiveHours, Actor, Habits, Identity, ListingSpec, Persona, Population, ProviderKind, Role, Scenario, WritingQuirk,
};

use super::cast::{self, ActorState, Stage, call, session};
use super::roles;

const FIRST: [&str; 24] = [
    "Alex", "Sam", "Jordan", "Chris", "Robin", "Kim", "Dana", "Lee", "Nico", "Mia", "Jonas", "Lena", "Tom", "Eva", "Luca", "Nora", "Piet",
    "Sara", "Omar", "Ines", "Karl", "Anya", "Ravi", "Zoe",
];
const LAST: [&str; 24] = [
    "Meyer", "Novak", "Jansen", "Rossi", "Dubois", "Kowalski", "Smith", "Larsen", "Costa", "Horvat", "Weber", "Moreau", "Silva", "Nagy",
    "Berg", "Fischer", "Bakker", "Ricci", "Lopez", "Popescu", "Olsen", "Keller", "Marin", "Varga",
];
const WORDS: [&str; 16] = [
    "green", "frost", "night", "lucky", "silent", "blue", "dutch", "alpine", "rapid", "shadow", "golden", "north", "cosmic", "urban",
    "royal", "zen",
];
const NOUNS: [&str; 16] =
    ["fox", "leaf", "owl", "panda", "wolf", "tulip", "rider", "ghost", "tiger", "baron", "pilot", "monk", "bear", "crow", "shop", "lab"];
const GOODS: [&str; 12] = [
    "Amnesia Haze",
    "White Widow",
    "MDMA crystals",
    "Speed paste",
    "Ketamine",
    "Hash (Moroccan)",
    "LSD tabs",
    "Cocaine (fishscale)",
    "Xanax bars",
    "Psilocybin caps",
    "Oxycodone 30mg",
    "2C-B pills",
];
const PHRASES: [&str; 8] = ["stay safe", "cheers mate", "peace and love", "A+++", "will buy again", "respect", "no worries", "big up"];
const QUESTIONS: [&str; 5] = [
    "Hi, just paid. When will it ship?",
    "Can you do discreet packaging to a PO box?",
    "Is the weight exact? Last time it was a bit light.",
    "Paid twice by mistake, can you check?",
    "Do you ship to Ireland as well?",
];
const FEEDBACK: [&str; 6] = [
    "Arrived fast, well packed.",
    "Good quality, as described.",
    "Slow shipping but good product.",
    "Top vendor, recommended.",
    "OK. Not the best I've had.",
    "Perfect stealth, will order again.",
];

/// What a crowd member is and where it stands.
#[derive(Debug, Clone)]
pub enum Part {
    /// A background vendor.
    Vendor {
        /// Its persona on the market.
        persona: PersonaId,
        /// What it sells (listed on its first wake-up).
        listings: Vec<ListingSpec>,
        /// Whether its shop is open and listed.
        open: bool,
    },
    /// A background buyer.
    Buyer {
        /// Its persona on the market.
        persona: PersonaId,
        /// Whether it has an account yet.
        registered: bool,
        /// Orders not yet finalized or disputed.
        pending: Vec<i64>,
    },
}

/// One generated member of a crowd: its description as an actor and its part.
#[derive(Debug, Clone)]
pub struct Member {
    /// The generated actor (no script: it lives on wake-ups).
    pub actor: Actor,
    /// What it does.
    pub part: Part,
}

fn pick<'a>(r: &mut SimRng, from: &[&'a str]) -> &'a str {
    from.get(usize::try_from(rng::below(r, from.len() as u64)).unwrap_or(0)).copied().unwrap_or_default()
}

/// A uniform draw in [0, 1).
fn unit(r: &mut SimRng) -> f64 {
    rng::below(r, 1 << 53) as f64 / (1u64 << 53) as f64
}

/// An exponentially distributed wait with the given mean (at least a minute, at most ten
/// means), for arrivals that come at a steady rate.
pub fn exp_wait(r: &mut SimRng, mean: SimDuration) -> SimDuration {
    let mean = mean.as_secs().max(60) as f64;
    let wait = -(1.0 - unit(r)).ln() * mean;
    SimDuration::secs((wait.clamp(60.0, 10.0 * mean)) as i64)
}

fn identity(r: &mut SimRng, pop: &Population, n: u32) -> Identity {
    let name = format!("{} {}", pick(r, &FIRST), pick(r, &LAST));
    let offsets = &pop.utc_offsets;
    let utc_offset_hours = if offsets.is_empty() { 0 } else { offsets[usize::try_from(rng::below(r, offsets.len() as u64)).unwrap_or(0)] };
    Identity {
        email: format!("{}{n}@mail.example", name.to_lowercase().replace(' ', ".")),
        date_of_birth: format!("{}-{:02}-{:02}", 1960 + rng::below(r, 45), 1 + rng::below(r, 12), 1 + rng::below(r, 28)),
        address: format!("{} Main Street, Town {}", 1 + rng::below(r, 200), 1 + rng::below(r, 50)),
        phone: format!("+00 {:09}", rng::below(r, 1_000_000_000)),
        home_ip: format!("100.{}.{}.{}", 64 + n / 65_536 % 64, n / 256 % 256, n % 256),
        utc_offset_hours,
        isp: None,
        name,
    }
}

fn habits(r: &mut SimRng, pop: &Population) -> Habits {
    // Each member keeps the crowd's hours, shifted by up to an hour either way.
    let active_hours = pop.active_hours.map(|h| {
        let shift = u32::try_from(rng::below(r, 3)).unwrap_or(1);
        ActiveHours { from: (h.from + 23 + shift) % 24, to: (h.to + 23 + shift) % 24 }
    });
    let mut quirks = Vec::new();
    for q in [WritingQuirk::Lowercase, WritingQuirk::NoApostrophes, WritingQuirk::Exclamations, WritingQuirk::Ellipses] {
        if rng::below(r, 5) == 0 {
            quirks.push(q);
        }
    }
    Habits {
        reuse_addresses: rng::below(r, 3) > 0,
        round_amounts: rng::below(r, 4) == 0,
        active_hours,
        phrases: vec![pick(r, &PHRASES).to_string()],
        quirks,
        ..Habits::default()
    }
}

/// The crowd a scenario asks for, the same for the same seed: vendors first, then buyers.
pub fn generate(scenario: &Scenario, seed: u64) -> Vec<Member> {
    let Some(pop) = &scenario.population else { return Vec::new() };
    let mut r = rng::stream(seed, "population");
    let mut out = Vec::new();
    let v = &pop.vendors;
    for i in 0..v.count {
        let id = ActorId::from(format!("crowd-vendor-{i:03}").as_str());
        let persona = PersonaId::from(format!("crowd-vendor-{i:03}-shop").as_str());
        let handle = format!("{}{}{}", pick(&mut r, &WORDS), pick(&mut r, &NOUNS), rng::below(&mut r, 100));
        let country = pick(&mut r, &["Netherlands", "Germany", "United Kingdom", "Spain", "Poland", "Belgium"]).to_string();
        let span = v.max_price.0.saturating_sub(v.min_price.0).saturating_add(1);
        let listings = (0..v.listings)
            .map(|k| {
                let goods = pick(&mut r, &GOODS);
                let category = if v.categories.is_empty() {
                    "Drugs".to_string()
                } else {
                    v.categories[usize::try_from(rng::below(&mut r, v.categories.len() as u64)).unwrap_or(0)].clone()
                };
                let grams = 1 + rng::below(&mut r, 28);
                ListingSpec {
                    id: format!("crowd-vendor-{i:03}-l{k}").as_str().into(),
                    title: format!("{goods} {grams}g — {handle}"),
                    category,
                    description: format!("{goods}, {grams}g. Vacuum sealed, ships in 48h."),
                    price: Sats(v.min_price.0 + rng::below(&mut r, span)),
                    ships_from: country.clone(),
                    ships_to: "Europe".into(),
                    stock: v.stock,
                }
            })
            .collect();
        let actor = Actor {
            id,
            role: Role::Vendor,
            identity: identity(&mut r, pop, i),
            personas: vec![Persona { id: persona.clone(), site: pop.market.clone(), handle }],
            script: Vec::new(),
            slips: Vec::new(),
            reactions: Vec::new(),
            habits: habits(&mut r, pop),
        };
        out.push(Member { actor, part: Part::Vendor { persona, listings, open: false } });
    }
    for i in 0..pop.buyers.count {
        let id = ActorId::from(format!("crowd-buyer-{i:04}").as_str());
        let persona = PersonaId::from(format!("crowd-buyer-{i:04}-acct").as_str());
        let handle = format!("{}_{}{}", pick(&mut r, &NOUNS), pick(&mut r, &WORDS), rng::below(&mut r, 1000));
        let actor = Actor {
            id,
            role: Role::Buyer,
            identity: identity(&mut r, pop, v.count + i),
            personas: vec![Persona { id: persona.clone(), site: pop.market.clone(), handle }],
            script: Vec::new(),
            slips: Vec::new(),
            reactions: Vec::new(),
            habits: habits(&mut r, pop),
        };
        out.push(Member { actor, part: Part::Buyer { persona, registered: false, pending: Vec::new() } });
    }
    out
}

/// A parcel a stranger hands in at a courier office: what goes on the drop-off form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostSender {
    /// When it is handed in.
    pub at: SimTime,
    /// The courier.
    pub courier: ProviderId,
    /// The office, as the courier names it.
    pub office: String,
    /// The sender's name, as written on the form.
    pub sender_name: String,
    /// The sender's address.
    pub sender_address: String,
    /// The recipient's name.
    pub recipient_name: String,
    /// The recipient's address.
    pub recipient_address: String,
    /// Weight in grams.
    pub weight_g: u32,
}

/// How often a stranger hands a parcel in at one office, on average (counter hours only).
const POST_EVERY: SimDuration = SimDuration::hours(3);

/// The counter hours of every courier office (UTC).
const COUNTER_HOURS: ActiveHours = ActiveHours { from: 8, to: 20 };

/// The parcels strangers hand in at each courier office during the story, the same for the
/// same seed, by time. No sender carries the name of anyone in the cast.
pub fn post_senders(scenario: &Scenario, seed: u64) -> Vec<PostSender> {
    let start = scenario.meta.start;
    let end = start.plus(scenario.meta.world_duration);
    let cast: Vec<String> = scenario.cast.iter().map(|a| a.identity.name.trim().to_lowercase()).collect();
    let mut out = Vec::new();
    for p in scenario.providers.iter().filter(|p| p.kind == ProviderKind::Courier) {
        for o in &p.offices {
            let mut r = rng::stream(seed, &format!("post:{}:{}", p.id, o.name));
            let mut t = roles::next_active(start.plus(exp_wait(&mut r, POST_EVERY)), 0, Some(COUNTER_HOURS));
            while t < end {
                let person = |r: &mut SimRng| loop {
                    let name = format!("{} {}", pick(r, &FIRST), pick(r, &LAST));
                    if !cast.contains(&name.to_lowercase()) {
                        break name;
                    }
                };
                let sender_name = person(&mut r);
                let recipient_name = person(&mut r);
                let street =
                    |r: &mut SimRng| format!("{} {} Street, Town {}", 1 + rng::below(r, 200), pick(r, &LAST), 1 + rng::below(r, 50));
                out.push(PostSender {
                    at: t,
                    courier: p.id.clone(),
                    office: o.name.clone(),
                    sender_name,
                    sender_address: street(&mut r),
                    recipient_name,
                    recipient_address: street(&mut r),
                    weight_g: u32::try_from(100 + rng::below(&mut r, 4_900)).unwrap_or(500),
                });
                t = roles::next_active(t.plus(exp_wait(&mut r, POST_EVERY)), 0, Some(COUNTER_HOURS));
            }
        }
    }
    out.sort_by_key(|a| a.at);
    out
}

/// Hands a stranger's parcel in at the courier's office through its public API.
pub async fn hand_in(party: &super::network::Party, courier: &str, parcel: &PostSender) -> Result<String, cast::CastError> {
    let body = json!({
        "office": parcel.office, "sender_name": parcel.sender_name, "sender_address": parcel.sender_address,
        "recipient_name": parcel.recipient_name, "recipient_address": parcel.recipient_address, "weight_g": parcel.weight_g,
    });
    let receipt = call(party, reqwest::Method::POST, &format!("{courier}/api/parcels"), None, Some(body)).await?;
    Ok(cast::str_field(&receipt, "tracking", "drop-off receipt")?.to_string())
}

/// What one wake-up did, for the chronicle, and how long until the next.
pub struct Rounds {
    /// (sentence, success) per action.
    pub done: Vec<(String, bool)>,
    /// Wait until the next wake-up (before the member's active hours are applied).
    pub next: SimDuration,
}

async fn act(state: &mut ActorState, stage: &Stage<'_>, action: &Action, done: &mut Vec<(String, bool)>) -> bool {
    match cast::perform(state, stage, action).await {
        Ok(text) => {
            done.push((text, true));
            true
        }
        Err(e) => {
            done.push((format!("could not {}: {e}", cast::phrase(action)), false));
            false
        }
    }
}

/// One wake-up of a crowd member: a vendor opens shop (first time), ships paid orders,
/// answers messages and restocks what runs low; a buyer registers (first time), follows up
/// its orders (finalize and review, or dispute) and, half the time, browses and orders.
pub async fn wake(part: &mut Part, state: &mut ActorState, stage: &Stage<'_>, pop: &Population) -> Rounds {
    let mut done = Vec::new();
    match part {
        Part::Vendor { persona, listings, open } => {
            if !*open {
                let bio = roles::in_own_words(&state.actor.habits, &mut state.rng, "Quality products, fast shipping, stealth guaranteed.");
                let mut ok = act(state, stage, &Action::Register(persona.clone()), &mut done).await
                    && act(state, stage, &Action::OpenShop { persona: persona.clone(), bio }, &mut done).await;
                for l in listings.iter() {
                    ok = ok && act(state, stage, &Action::List { persona: persona.clone(), listing: l.clone() }, &mut done).await;
                }
                *open = ok;
            } else {
                act(state, stage, &Action::ShipOrders(persona.clone()), &mut done).await;
                act(state, stage, &Action::AnswerMessages(persona.clone()), &mut done).await;
                match restock(state, stage, persona, pop.vendors.stock).await {
                    Ok(Some(text)) => done.push((text, true)),
                    Ok(None) => {}
                    Err(e) => done.push((format!("could not restock: {e}"), false)),
                }
            }
            let next = exp_wait(&mut state.rng, pop.vendors.check_in_every);
            Rounds { done, next }
        }
        Part::Buyer { persona, registered, pending } => {
            if !*registered {
                *registered = act(state, stage, &Action::Register(persona.clone()), &mut done).await;
            } else {
                match follow_up(state, stage, persona, pending, pop).await {
                    Ok(mut lines) => done.append(&mut lines),
                    Err(e) => done.push((format!("could not follow up orders: {e}"), false)),
                }
                if rng::below(&mut state.rng, 2) == 0 {
                    match browse_and_order(state, stage, persona, pop.buyers.max_quantity).await {
                        Ok((text, id)) => {
                            pending.push(id);
                            done.push((text, true));
                        }
                        Err(e) => done.push((format!("could not order: {e}"), false)),
                    }
                }
            }
            let half = SimDuration::secs(pop.buyers.order_every.as_secs() / 2);
            let next = exp_wait(&mut state.rng, half);
            Rounds { done, next }
        }
    }
}

/// Tops up the vendor's listings that ran below a fifth of `stock`.
async fn restock(state: &mut ActorState, stage: &Stage<'_>, persona: &PersonaId, stock: u32) -> Result<Option<String>, cast::CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    let all = call(&state.party, reqwest::Method::GET, &format!("{base}/api/listings"), None, None).await?;
    let low: Vec<i64> = all
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|l| l.get("vendor").and_then(Value::as_str) == Some(handle.as_str()))
                .filter(|l| l.get("stock").and_then(Value::as_u64).is_some_and(|s| s < u64::from(stock / 5)))
                .filter_map(|l| l.get("id").and_then(Value::as_i64))
                .collect()
        })
        .unwrap_or_default();
    for id in &low {
        call(&state.party, reqwest::Method::POST, &format!("{base}/api/listings/{id}/stock"), Some(&token), Some(json!({"stock": stock})))
            .await?;
    }
    Ok((!low.is_empty()).then(|| format!("{handle} restocked {} listing(s)", low.len())))
}

/// Browses the market like a customer: picks a listing in stock at random and orders it.
async fn browse_and_order(
    state: &mut ActorState,
    stage: &Stage<'_>,
    persona: &PersonaId,
    max_quantity: u32,
) -> Result<(String, i64), cast::CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let all = call(&state.party, reqwest::Method::GET, &format!("{base}/api/listings"), None, None).await?;
    let offers: Vec<(i64, u64, String, String)> = all
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|l| {
                    let stock = l.get("stock")?.as_u64()?;
                    let vendor = l.get("vendor")?.as_str()?.to_string();
                    (stock > 0).then_some((l.get("id")?.as_i64()?, stock, l.get("title")?.as_str()?.to_string(), vendor))
                })
                .collect()
        })
        .unwrap_or_default();
    let Some((id, stock, title, vendor)) =
        offers.get(usize::try_from(rng::below(&mut state.rng, offers.len() as u64)).unwrap_or(0)).cloned()
    else {
        return Err(cast::CastError::Script("nothing in stock".into()));
    };
    let quantity = u32::try_from((1 + rng::below(&mut state.rng, u64::from(max_quantity.max(1)))).min(stock)).unwrap_or(1);
    let (order, amount) = roles::order_listing(state, stage, persona, id, quantity).await?;
    // Now and then a buyer writes to the vendor about the order (and the vendor answers on
    // its next rounds): private messages a seizure of the market would read.
    if rng::below(&mut state.rng, 8) == 0 {
        let token = session(state, persona)?.to_string();
        let question = pick(&mut state.rng, &QUESTIONS);
        let body = roles::in_own_words(&state.actor.habits, &mut state.rng, question);
        let msg = json!({"to": vendor, "subject": format!("order {order}"), "body": body});
        call(&state.party, reqwest::Method::POST, &format!("{base}/api/messages"), Some(&token), Some(msg)).await?;
    }
    Ok((format!("{handle} ordered {quantity} × \"{title}\" (order {order}) and paid {}", Sats(amount)), order))
}

/// Finalizes (and reviews) or disputes each pending order that has shipped.
async fn follow_up(
    state: &mut ActorState,
    stage: &Stage<'_>,
    persona: &PersonaId,
    pending: &mut Vec<i64>,
    pop: &Population,
) -> Result<Vec<(String, bool)>, cast::CastError> {
    let (site, handle) = state.persona_site(stage.scenario, persona)?;
    let base = stage.site_url(&site)?.to_string();
    let token = session(state, persona)?.to_string();
    let mut lines = Vec::new();
    let mut still = Vec::new();
    for id in std::mem::take(pending) {
        let o = call(&state.party, reqwest::Method::GET, &format!("{base}/api/orders/{id}"), Some(&token), None).await?;
        match o.get("status").and_then(Value::as_str) {
            Some("shipped") => {}
            Some("awaiting_payment" | "paid" | "finalizing") => {
                still.push(id);
                continue;
            }
            _ => continue,
        }
        if rng::below(&mut state.rng, 100) < u64::from(pop.buyers.dispute_percent) {
            let reason = roles::in_own_words(&state.actor.habits, &mut state.rng, "Package never arrived. Tracking shows nothing.");
            let body = json!({"reason": reason, "refund_address": state.main_address.to_string()});
            match call(&state.party, reqwest::Method::POST, &format!("{base}/api/orders/{id}/dispute"), Some(&token), Some(body)).await {
                Ok(_) => lines.push((format!("{handle} disputed order {id}"), true)),
                Err(e) => lines.push((format!("{handle} could not dispute order {id}: {e}"), false)),
            }
            continue;
        }
        let total: u32 = pop.buyers.ratings.iter().sum();
        let mut roll = u32::try_from(rng::below(&mut state.rng, u64::from(total.max(1)))).unwrap_or(0);
        let mut rating = 5u8;
        for (k, w) in pop.buyers.ratings.iter().enumerate() {
            if roll < *w {
                rating = u8::try_from(k + 1).unwrap_or(5);
                break;
            }
            roll -= w;
        }
        let stock_lines: Vec<&str> = pop.buyers.feedback.iter().map(String::as_str).collect();
        let line = if stock_lines.is_empty() { pick(&mut state.rng, &FEEDBACK) } else { pick(&mut state.rng, &stock_lines) }.to_string();
        let text = roles::in_own_words(&state.actor.habits, &mut state.rng, &line);
        let fin = call(&state.party, reqwest::Method::POST, &format!("{base}/api/orders/{id}/finalize"), Some(&token), None).await;
        if let Err(e) = fin {
            lines.push((format!("{handle} could not finalize order {id}: {e}"), false));
            continue;
        }
        let fb = json!({"rating": rating, "text": text});
        match call(&state.party, reqwest::Method::POST, &format!("{base}/api/orders/{id}/feedback"), Some(&token), Some(fb)).await {
            Ok(_) => lines.push((format!("{handle} finalized order {id} and rated it {rating}/5"), true)),
            Err(e) => lines.push((format!("{handle} finalized order {id} but could not review it: {e}"), false)),
        }
    }
    *pending = still;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_average_their_mean() {
        let mut r = rng::stream(3, "w");
        let mean = SimDuration::hours(4);
        let n = 4_000;
        let total: i64 = (0..n).map(|_| exp_wait(&mut r, mean).as_secs()).sum();
        let avg = total / n;
        assert!((12_000..16_800).contains(&avg), "mean wait {avg} s for a 14 400 s mean");
    }
}
