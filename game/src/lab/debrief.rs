//! The debrief's views for the instructor: the classroom's scoreboard and "what really
//! happened" — the world's ground truth (who is who, the slips the scenario planted and
//! what carries them, the chronicle, tip-offs and departures, the scenario's debrief text).
//!
//! Built from the scenario and `market_sim::world::truth` here; served only on the
//! instructor's routes (`/instructor/truth`, `/instructor/scoreboard`), which refuse every
//! team token: ground truth never reaches a trainee.

use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;
use sim_core::scenario::SlipKind;

use super::Lab;
use crate::challenge::board::{self, Standing};

/// One persona of a real person, with where it lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PersonaTruth {
    /// Scenario persona id.
    pub persona: String,
    /// The site it lives on.
    pub site: String,
    /// The handle shown there.
    pub handle: String,
    /// The site's address on the exercise's network (its `.onion` name for an onion site).
    pub url: Option<String>,
}

/// Who is who: a member of the cast, their real identity and their personas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PersonTruth {
    /// Scenario actor id.
    pub actor: String,
    /// Vendor, buyer, operator…
    pub role: String,
    /// Full legal name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Home connection's IP.
    pub home_ip: String,
    /// Pseudonymous personas.
    pub personas: Vec<PersonaTruth>,
}

/// An OPSEC slip the scenario planted, what it reveals and what artifact carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SlipTruth {
    /// Slip id.
    pub id: String,
    /// The actor who made it.
    pub actor: String,
    /// The slip, as the scenario writes it.
    pub kind: String,
    /// What it reveals.
    pub reveals: String,
    /// The artifact a team must capture or obtain to see it.
    pub carrier: String,
}

/// One line of the world's chronicle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChronicleLine {
    /// When.
    pub time: SimTime,
    /// Who (none for the world itself).
    pub actor: Option<String>,
    /// What happened.
    pub text: String,
    /// Whether it went as scripted.
    pub ok: bool,
}

/// A tip-off the cast noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TipOffLine {
    /// When.
    pub time: SimTime,
    /// Who noticed.
    pub actor: String,
    /// Where.
    pub site: String,
    /// The handle that gave it away.
    pub by_handle: String,
    /// Why.
    pub cause: String,
}

/// `GET /instructor/truth`: what really happened, for the debrief.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Truth {
    /// The exercise's title.
    pub exercise: String,
    /// The scenario's debrief text (the lawful path, the mistakes to discuss).
    pub debrief: String,
    /// Simulated time now.
    pub sim_time: SimTime,
    /// Who is who.
    pub people: Vec<PersonTruth>,
    /// The slips planted.
    pub slips: Vec<SlipTruth>,
    /// The world's chronicle, in order.
    pub chronicle: Vec<ChronicleLine>,
    /// Tip-offs teams caused.
    pub tip_offs: Vec<TipOffLine>,
    /// Real people who left the country: (actor, country, when).
    pub departures: Vec<(String, String, SimTime)>,
    /// How many facts the world's activity made true.
    pub facts: usize,
}

/// What a slip reveals and what carries it (the scenario reference's wording, short).
fn explain(kind: &SlipKind) -> (&'static str, &'static str) {
    match kind {
        SlipKind::AddressInProfile(_) => ("the persona controls its payout address", "the vendor profile page"),
        SlipKind::CashOutToKycExchange(_) => {
            ("the deposit address's account holder, by real name", "the exchange's records (production order)")
        }
        SlipKind::EmailInPgpKey(_) => ("the persona uses its owner's real e-mail", "the shop's OpenPGP key on the vendor profile"),
        SlipKind::MailboxFromHome(_) => {
            ("the mailbox was opened from the home IP", "the e-mail provider's login records, then the ISP's lease")
        }
        SlipKind::PhotoGps { .. } => {
            ("where the listing photos were taken", "the listing photos' EXIF block, then the courier office there")
        }
        SlipKind::StatusPageLeak(_) => ("the market's server's real IP", "a capture of the market's /server-status page"),
        SlipKind::HostingPanelFromHome(_) => ("the hosting account was used from the home IP", "the hosting provider's login records"),
        SlipKind::SharedFavicon { .. } => ("the market's server's real IP", "the search engine's hosts-by-favicon page"),
    }
}

impl Lab {
    /// The world's ground truth for the debrief. Instructor only: the routes that serve it
    /// check the instructor's token; no team route calls this.
    pub fn truth_view(&self) -> Truth {
        let s = &self.scenario;
        let url = |site: &sim_core::ids::SiteId| self.directory.sites.get(site).cloned();
        let people = s
            .cast
            .iter()
            .map(|a| PersonTruth {
                actor: a.id.to_string(),
                role: format!("{:?}", a.role),
                name: a.identity.name.clone(),
                email: a.identity.email.clone(),
                home_ip: a.identity.home_ip.clone(),
                personas: a
                    .personas
                    .iter()
                    .map(|p| PersonaTruth {
                        persona: p.id.to_string(),
                        site: p.site.to_string(),
                        handle: p.handle.clone(),
                        url: url(&p.site),
                    })
                    .collect(),
            })
            .collect();
        let slips = s
            .cast
            .iter()
            .flat_map(|a| {
                a.slips.iter().map(move |sl| {
                    let (reveals, carrier) = explain(&sl.kind);
                    SlipTruth {
                        id: sl.id.to_string(),
                        actor: a.id.to_string(),
                        kind: format!("{:?}", sl.kind),
                        reveals: reveals.to_string(),
                        carrier: carrier.to_string(),
                    }
                })
            })
            .collect();
        let truth = self.truth.read();
        Truth {
            exercise: s.meta.title.clone(),
            debrief: s.meta.debrief.trim().to_string(),
            sim_time: self.clock.now(),
            people,
            slips,
            chronicle: truth
                .chronicle
                .iter()
                .map(|c| ChronicleLine { time: c.time, actor: c.actor.as_ref().map(ToString::to_string), text: c.text.clone(), ok: c.ok })
                .collect(),
            tip_offs: truth
                .tip_offs
                .iter()
                .map(|t| TipOffLine {
                    time: t.time,
                    actor: t.actor.to_string(),
                    site: t.site.to_string(),
                    by_handle: t.by_handle.clone(),
                    cause: t.cause.clone(),
                })
                .collect(),
            departures: truth.departures.iter().map(|(a, d)| (a.to_string(), d.country.clone(), d.time)).collect(),
            facts: truth.facts.len(),
        }
    }

    /// The classroom's ranking by the challenge's tie rule (score, earlier submission,
    /// fewer hints, name); the instructor's view, with scores.
    pub async fn scoreboard(&self) -> Vec<Standing> {
        let names: Vec<String> = self.teams.lock().await.keys().cloned().collect();
        let mut subs = Vec::new();
        for n in names {
            if let Ok(s) = self.submission(&n).await {
                subs.push((n, s));
            }
        }
        board::rank(&subs, crate::prosecutor::max_score(&self.scenario))
    }

    /// Whether a token is some team member's (to tell a trainee "forbidden" apart from a
    /// stranger's "unauthorised" on the instructor's routes).
    pub async fn is_member(&self, token: &str) -> bool {
        self.member(token).await.is_ok()
    }
}
