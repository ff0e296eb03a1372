//! The cast's reactions to a tip-off ([`ReactionKind`]), carried out like everything else
//! it does: through the market's API and real signed transactions, never in a database.
//!
//! `GoDark` and `LeaveAbroad` change the actor's [`Standing`] (the world then skips its
//! later steps and stops watching, saying why in the chronicle); `WipeData` deletes its
//! private messages and takes its listings down; `MoveFunds` sends its whole wallet through
//! a mixer.

use serde_json::Value;
use sim_core::clock::SimTime;
use sim_core::scenario::{ReactionKind, SiteKind};

use super::cast::{ActorState, CastError, Stage, call, session, tumble};
use super::lookout::Standing;
use super::truth::Departure;

/// Carries out one reaction; returns a sentence for the chronicle.
pub async fn respond(state: &mut ActorState, stage: &Stage<'_>, response: &ReactionKind, now: SimTime) -> Result<String, CastError> {
    let name = state.actor.identity.name.clone();
    match response {
        ReactionKind::GoDark => {
            state.vigil.standing = Standing::Dark;
            Ok(format!("{name} went dark: no more activity"))
        }
        ReactionKind::WipeData => wipe(state, stage).await,
        ReactionKind::MoveFunds(via) => tumble(state, stage, via).await,
        ReactionKind::LeaveAbroad(country) => {
            state.vigil.standing = Standing::Abroad(country.clone());
            stage.truth.write().departures.insert(state.id().clone(), Departure { time: now, country: country.clone() });
            Ok(format!("{name} left for {country}"))
        }
    }
}

/// Deletes every private message of the actor's market personas and takes their listings
/// down (a listing with orders keeps them, with its stock emptied).
async fn wipe(state: &mut ActorState, stage: &Stage<'_>) -> Result<String, CastError> {
    let mut messages = 0;
    let mut listings = 0;
    let personas: Vec<_> = state.actor.personas.clone();
    for p in personas {
        let on_market = stage.scenario.sites.iter().any(|s| s.id == p.site && matches!(s.kind, SiteKind::Market(_)));
        let Ok(token) = session(state, &p.id).map(str::to_string) else { continue };
        if !on_market {
            continue;
        }
        let base = stage.site_url(&p.site)?.to_string();
        let mailbox = call(&state.party, reqwest::Method::GET, &format!("{base}/api/messages"), Some(&token), None).await?;
        let ids: Vec<i64> = ["inbox", "sent"]
            .iter()
            .flat_map(|k| mailbox.get(*k).and_then(Value::as_array).cloned().unwrap_or_default())
            .filter_map(|m| m.get("id").and_then(Value::as_i64))
            .collect();
        for id in ids {
            call(&state.party, reqwest::Method::DELETE, &format!("{base}/api/messages/{id}"), Some(&token), None).await?;
            messages += 1;
        }
        // The shop's listings, as anyone sees them on its profile (none without a shop).
        let Ok(profile) = call(&state.party, reqwest::Method::GET, &format!("{base}/api/vendors/{}", p.handle), None, None).await else {
            continue;
        };
        let ids: Vec<i64> = profile
            .get("listings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("id").and_then(Value::as_i64))
            .collect();
        for id in ids {
            call(&state.party, reqwest::Method::DELETE, &format!("{base}/api/listings/{id}"), Some(&token), None).await?;
            listings += 1;
        }
    }
    Ok(format!("{} wiped {messages} private message(s) and took {listings} listing(s) down", state.actor.identity.name))
}
