//! The cast noticing an investigation, through the channels a real vendor has: its market
//! inbox (read through the market's API) and the forum's public boards.
//!
//! A watchful actor (one with reactions) looks every `tip_offs.check_every`. What tips it
//! off is the scenario's data ([`Trigger`]): a private message with a give-away word, an odd
//! account — one that has sent the persona at least `tip_offs.odd_account_messages`
//! messages and never ordered from it —, or a public forum post naming one of its handles
//! with a warning word. Each tip-off names the handle that caused it, so the lab can
//! charge the team whose undercover account that is. Reading only, through public APIs:
//! the reactions themselves are [`super::react`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sim_core::clock::SimTime;
use sim_core::ids::{PersonaId, SiteId};
use sim_core::scenario::{Reaction, SiteKind, TipOffs, Trigger};

use super::cast::{ActorState, CastError, Stage, call, session};
use super::truth::TipOff;

/// Whether an actor still acts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Standing {
    /// As scripted.
    #[default]
    Active,
    /// Gone dark after a tip-off: no more activity.
    Dark,
    /// Left for this country after a tip-off.
    Abroad(String),
}

/// What a watchful actor has seen and done so far.
#[derive(Clone, Debug, Default)]
pub struct Vigil {
    /// Whether it still acts.
    pub standing: Standing,
    /// Reactions (by index in the actor's list) already carried out: each happens once.
    reacted: BTreeSet<usize>,
    /// The newest inbox message read, per persona.
    last_message: BTreeMap<PersonaId, i64>,
    /// Replies seen per forum thread.
    threads: BTreeMap<(SiteId, i64), u64>,
    /// Newest forum post read, per forum.
    last_post: BTreeMap<SiteId, i64>,
    /// Accounts already found odd, per persona (each is noticed once).
    odd: BTreeSet<(PersonaId, String)>,
}

impl Vigil {
    /// Why the actor no longer acts, in words; `None` while it does.
    pub fn absence(&self) -> Option<String> {
        match &self.standing {
            Standing::Active => None,
            Standing::Dark => Some("gone dark after a tip-off".into()),
            Standing::Abroad(country) => Some(format!("left for {country} after a tip-off")),
        }
    }
}

/// One tip-off and the reactions (indices into the actor's list) it sets off.
#[derive(Clone, Debug)]
pub struct Notice {
    /// What the actor noticed.
    pub tip_off: TipOff,
    /// Reactions to carry out now (those not carried out before).
    pub reactions: Vec<usize>,
}

/// Whether `text` says `word` (case-insensitive, as a whole word or phrase).
pub fn says(text: &str, word: &str) -> bool {
    let (text, word) = (text.to_lowercase(), word.trim().to_lowercase());
    if word.is_empty() {
        return false;
    }
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    text.match_indices(&word).any(|(i, _)| boundary(text[..i].chars().next_back()) && boundary(text[i + word.len()..].chars().next()))
}

/// The first of `words` that `text` says.
fn first_said<'w>(text: &str, words: &'w [String]) -> Option<&'w str> {
    words.iter().map(String::as_str).find(|w| says(text, w))
}

/// Looks at the actor's inboxes and the forums once; returns what tipped it off.
pub async fn look(state: &mut ActorState, stage: &Stage<'_>, now: SimTime) -> Vec<Notice> {
    let reactions = state.actor.reactions.clone();
    let mut notices = Vec::new();
    let personas: Vec<PersonaId> = state.actor.personas.iter().map(|p| p.id.clone()).collect();
    for persona in &personas {
        match inbox(state, stage, &reactions, persona, now).await {
            Ok(found) => notices.extend(found),
            Err(e) => tracing::debug!(actor = %state.id(), %persona, error = %e, "could not read the inbox"),
        }
    }
    let forums: Vec<SiteId> = stage.scenario.sites.iter().filter(|s| matches!(s.kind, SiteKind::Forum)).map(|s| s.id.clone()).collect();
    let warned = |r: &Reaction| matches!(r.trigger, Trigger::ForumWarning(_) | Trigger::TippedOff(_));
    if reactions.iter().any(warned) {
        for forum in &forums {
            match forum_posts(state, stage, forum).await {
                Ok(posts) => notices.extend(warnings(state, stage, &reactions, forum, &posts, now)),
                Err(e) => tracing::debug!(actor = %state.id(), %forum, error = %e, "could not read the forum"),
            }
        }
    }
    // Each reaction happens once, for the first tip-off that triggers it.
    for n in &mut notices {
        n.reactions.retain(|j| state.vigil.reacted.insert(*j));
    }
    notices
}

/// New messages in one persona's market inbox, checked against the inbox triggers.
async fn inbox(
    state: &mut ActorState,
    stage: &Stage<'_>,
    reactions: &[Reaction],
    persona: &PersonaId,
    now: SimTime,
) -> Result<Vec<Notice>, CastError> {
    let watching: Vec<(usize, &Reaction)> = reactions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.trigger.persona() == persona)
        .filter(|(_, r)| matches!(r.trigger, Trigger::TippedOff(_) | Trigger::Message(..) | Trigger::OddAccount(_)))
        .collect();
    let (site, _) = state.persona_site(stage.scenario, persona)?;
    let on_market = stage.scenario.sites.iter().any(|s| s.id == site && matches!(s.kind, SiteKind::Market(_)));
    if watching.is_empty() || !on_market {
        return Ok(Vec::new());
    }
    let Ok(token) = session(state, persona).map(str::to_string) else { return Ok(Vec::new()) };
    let base = stage.site_url(&site)?.to_string();
    let mailbox = call(&state.party, reqwest::Method::GET, &format!("{base}/api/messages"), Some(&token), None).await?;
    let mut received: Vec<(i64, String, String)> = mailbox
        .get("inbox")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let text = format!("{} {}", m.get("subject")?.as_str()?, m.get("body")?.as_str()?);
            Some((m.get("id")?.as_i64()?, m.get("from")?.as_str()?.to_string(), text))
        })
        .collect();
    received.sort();
    let last = state.vigil.last_message.get(persona).copied().unwrap_or(0);
    let Some(newest) = received.last().map(|m| m.0).filter(|n| *n > last) else { return Ok(Vec::new()) };
    state.vigil.last_message.insert(persona.clone(), newest);
    // Who has ordered from the persona (an odd account never has); none when it has no shop.
    let buyers: BTreeSet<String> =
        match call(&state.party, reqwest::Method::GET, &format!("{base}/api/vendor/orders"), Some(&token), None).await {
            Ok(v) => v
                .as_array()
                .or_else(|| v.get("orders").and_then(Value::as_array))
                .into_iter()
                .flatten()
                .filter_map(|o| o.get("buyer").and_then(Value::as_str).map(str::to_string))
                .collect(),
            Err(_) => BTreeSet::new(),
        };
    let rules: &TipOffs = &stage.scenario.tip_offs;
    let mut notices = Vec::new();
    for (id, from, text) in received.iter().filter(|m| m.0 > last) {
        let sent = received.iter().filter(|m| &m.1 == from && m.0 <= *id).count();
        let odd = u32::try_from(sent).unwrap_or(u32::MAX) >= rules.odd_account_messages
            && !buyers.contains(from)
            && !state.vigil.odd.contains(&(persona.clone(), from.clone()));
        let odd_cause = || format!("{from} had sent {sent} private messages and never ordered");
        let word_cause = |words: &[String]| first_said(text, words).map(|w| format!("a private message from {from} said \"{w}\""));
        let mut cause: Option<String> = None;
        let mut fire = Vec::new();
        for (j, r) in &watching {
            let hit = match &r.trigger {
                Trigger::Message(_, words) => word_cause(if words.is_empty() { &rules.words } else { words }),
                Trigger::TippedOff(_) => word_cause(&rules.words).or_else(|| odd.then(odd_cause)),
                Trigger::OddAccount(_) => odd.then(odd_cause),
                Trigger::ForumWarning(_) => None,
            };
            if let Some(c) = hit {
                cause.get_or_insert(c);
                fire.push(*j);
            }
        }
        let Some(cause) = cause else { continue };
        if odd {
            state.vigil.odd.insert((persona.clone(), from.clone()));
        }
        let tip_off =
            TipOff { time: now, actor: state.id().clone(), persona: persona.clone(), site: site.clone(), by_handle: from.clone(), cause };
        notices.push(Notice { tip_off, reactions: fire });
    }
    Ok(notices)
}

/// A forum post not seen before: (id, author, text including its thread's title).
type Post = (i64, String, String);

/// Posts of a forum the actor has not read yet (threads whose replies changed), oldest first.
async fn forum_posts(state: &mut ActorState, stage: &Stage<'_>, forum: &SiteId) -> Result<Vec<Post>, CastError> {
    let base = stage.site_url(forum)?.to_string();
    let index = call(&state.party, reqwest::Method::GET, &format!("{base}/"), None, None).await?;
    let slugs: Vec<String> = index
        .get("boards")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("slug").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut changed = Vec::new();
    for slug in slugs {
        let board = call(&state.party, reqwest::Method::GET, &format!("{base}/board/{slug}"), None, None).await?;
        for t in board.get("threads").and_then(Value::as_array).into_iter().flatten() {
            let (Some(id), Some(replies)) = (t.get("id").and_then(Value::as_i64), t.get("replies").and_then(Value::as_u64)) else {
                continue;
            };
            if state.vigil.threads.get(&(forum.clone(), id)) != Some(&replies) {
                changed.push((id, replies));
            }
        }
    }
    let last = state.vigil.last_post.get(forum).copied().unwrap_or(0);
    let mut posts = Vec::new();
    for (id, replies) in changed {
        let thread = call(&state.party, reqwest::Method::GET, &format!("{base}/thread/{id}"), None, None).await?;
        let title = thread.get("title").and_then(Value::as_str).unwrap_or_default().to_string();
        for p in thread.get("posts").and_then(Value::as_array).into_iter().flatten() {
            let (Some(pid), Some(author), Some(body)) =
                (p.get("id").and_then(Value::as_i64), p.get("author").and_then(Value::as_str), p.get("body").and_then(Value::as_str))
            else {
                continue;
            };
            if pid > last {
                posts.push((pid, author.to_string(), format!("{title}\n{body}")));
            }
        }
        state.vigil.threads.insert((forum.clone(), id), replies);
    }
    posts.sort();
    if let Some(newest) = posts.last().map(|p| p.0) {
        state.vigil.last_post.insert(forum.clone(), newest);
    }
    Ok(posts)
}

/// Forum posts that warn about one of the actor's watched personas by handle.
fn warnings(state: &ActorState, stage: &Stage<'_>, reactions: &[Reaction], forum: &SiteId, posts: &[Post], now: SimTime) -> Vec<Notice> {
    let own: BTreeSet<&str> = state.actor.personas.iter().map(|p| p.handle.as_str()).collect();
    let mut notices = Vec::new();
    for (_, author, text) in posts.iter().filter(|p| !own.contains(p.1.as_str())) {
        let Some(word) = first_said(text, &stage.scenario.tip_offs.warning_words) else { continue };
        for p in &state.actor.personas {
            let watching: Vec<usize> = reactions
                .iter()
                .enumerate()
                .filter(|(_, r)| r.trigger.persona() == &p.id && matches!(r.trigger, Trigger::ForumWarning(_) | Trigger::TippedOff(_)))
                .map(|(j, _)| j)
                .collect();
            if watching.is_empty() || !says(text, &p.handle) {
                continue;
            }
            let fire = watching;
            let cause = format!("a post by {author} on {forum} named {} and said \"{word}\"", p.handle);
            let tip_off = TipOff {
                time: now,
                actor: state.id().clone(),
                persona: p.id.clone(),
                site: forum.clone(),
                by_handle: author.clone(),
                cause,
            };
            notices.push(Notice { tip_off, reactions: fire });
        }
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_found_whole_and_in_any_case() {
        assert!(says("Are you POLICE?", "police"));
        assert!(says("hi, law enforcement here", "Law Enforcement"));
        assert!(!says("policeman", "police"), "a longer word is not the word");
        assert!(!says("impolice", "police"));
        assert!(says("police", "police"));
        assert!(!says("anything", " "), "an empty word says nothing");
        assert!(says("beware of GreenLeafUK, cops", "greenleafuk"));
    }
}
