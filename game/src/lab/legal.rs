//! Legal process: requests signed by the head of unit, ruled by the simulated judge after
//! the rule's delay over the facts the cited evidence reveals, answered by the provider's
//! legal desk after its own delay — the answer entering the ledger under the order. An
//! undercover authorisation is addressed to a site instead (its `provider` names the market
//! or forum, its target the persona's handle) and, granted, is held by the team.

use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;
use sim_core::facts::{Entity, FactSet};
use sim_core::ids::{ProviderId, SiteId};
use sim_core::scenario::{Jurisdiction, ProviderKind, RequestKind};

use super::{Lab, LabError, Role, Team, real_time_now};
use crate::judge::{self, RequestForRuling};
use crate::ledger::{ArtifactKind, Authority, EvidenceId, NewEvidence};
use crate::prosecutor::Admissibility;

/// A legal request and where it stands.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LegalRequest {
    /// `R1`, `R2`, …
    pub id: String,
    /// Type.
    pub kind: RequestKind,
    /// Addressed to.
    pub provider: ProviderId,
    /// What it is about (an address, as the team wrote it).
    pub target: String,
    /// Evidence cited as grounds.
    pub grounds: Vec<EvidenceId>,
    /// Who signed it.
    pub signed_by: String,
    /// How it travels to the provider: domestic, or abroad through the 24/7 contact point
    /// or mutual legal assistance.
    pub channel: Channel,
    /// When it was filed.
    pub filed_at: SimTime,
    /// Where it stands.
    pub status: RequestStatus,
    /// What happened to it, when (filed, ruled, answered).
    pub log: Vec<(SimTime, String)>,
}

/// How a request reaches its provider. A provider abroad is reached only through the
/// authorities of its country: a preservation through their 24/7 contact point (fast; the
/// provider keeps its records, hands none over), records or a search through mutual legal
/// assistance (answered after the provider's delay).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Channel {
    /// Served on the provider's legal desk at home (or, undercover, held by the team).
    Domestic,
    /// A preservation sent to the 24/7 contact point of the provider's country.
    ContactPoint {
        /// The provider's country.
        country: String,
    },
    /// A mutual legal assistance request to the provider's country.
    MutualLegalAssistance {
        /// The provider's country.
        country: String,
    },
}

impl Channel {
    /// The channel of a request of `kind` to a provider in `jurisdiction`. A domestic order
    /// to a provider abroad travels as asked (domestic) and is refused.
    pub fn of(kind: RequestKind, jurisdiction: Option<&Jurisdiction>) -> Channel {
        match (kind, jurisdiction) {
            (RequestKind::Preservation, Some(Jurisdiction::Foreign(country))) => Channel::ContactPoint { country: country.clone() },
            (RequestKind::MutualLegalAssistance | RequestKind::SearchAbroad, Some(Jurisdiction::Foreign(country))) => {
                Channel::MutualLegalAssistance { country: country.clone() }
            }
            _ => Channel::Domestic,
        }
    }
}

/// States of a legal request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RequestStatus {
    /// Before the judge; rules at that time.
    Pending {
        /// When the ruling comes.
        ruling_at: SimTime,
    },
    /// Granted; the provider answers at that time.
    Granted {
        /// The judge's reasons.
        reason: String,
        /// When the provider's answer arrives.
        answer_at: SimTime,
    },
    /// Refused.
    Refused {
        /// The judge's reasons.
        reason: String,
    },
    /// Answered; the answer is evidence.
    Answered {
        /// The judge's reasons.
        reason: String,
        /// The provider's records, as evidence.
        evidence: EvidenceId,
    },
    /// Granted and served: the provider keeps the records (a preservation), or the team
    /// holds the authority (a warrant, an undercover authorisation). Nothing is produced.
    Authorised {
        /// The judge's reasons.
        reason: String,
    },
}

/// The legal desk's query for a target, by the kind of provider and the shape of the
/// target: an address or account at an exchange, an IP (optionally `IP@TIME`) at an ISP, an
/// e-mail address, a server IP / e-mail / account at a host, a tracking number, a place
/// (`<lat>,<lon>`: the office there) or a sender's name at a courier.
pub fn desk_query(kind: ProviderKind, target: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) { char::from(b).to_string() } else { format!("%{b:02X}") })
            .collect()
    };
    let is_ip = target.parse::<std::net::IpAddr>().is_ok();
    match kind {
        ProviderKind::Exchange if target.starts_with("bcrt1") => format!("address={}", enc(target)),
        ProviderKind::Exchange => format!("account={}", enc(target)),
        ProviderKind::Isp => match target.split_once('@') {
            Some((ip, at)) => format!("ip={}&at={}", enc(ip), enc(at)),
            None if is_ip => format!("ip={}", enc(target)),
            None => format!("account={}", enc(target)),
        },
        ProviderKind::Email => format!("address={}", enc(target)),
        ProviderKind::Hosting if is_ip => format!("server_ip={}", enc(target)),
        ProviderKind::Hosting if target.contains('@') => format!("email={}", enc(target)),
        ProviderKind::Hosting => format!("account={}", enc(target)),
        ProviderKind::Courier if sim_core::facts::parse_place(target).is_some() => format!("place={}", enc(target)),
        ProviderKind::Courier if tracking_number(target).is_some() => format!("tracking={}", enc(target)),
        ProviderKind::Courier => format!("sender={}", enc(target)),
    }
}

/// A courier's tracking number, upper-cased, if `target` has its shape: two letters, nine
/// digits, two letters (`CP123456789NL`).
pub fn tracking_number(target: &str) -> Option<String> {
    let t = target.trim().to_ascii_uppercase();
    let b = t.as_bytes();
    let shaped = b.len() == 13
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..11].iter().all(u8::is_ascii_digit)
        && b[11..].iter().all(u8::is_ascii_uppercase);
    shaped.then_some(t)
}

/// What a request's target names, by its shape: an IP (also `IP@TIME`, as an ISP is asked),
/// a place (`<lat>,<lon>` in decimal degrees, e.g. a photo's GPS position), an e-mail
/// address, a courier's tracking number (a parcel), else a coin address (or an account
/// name, which no fact is about).
pub fn target_entity(target: &str) -> Entity {
    let t = target.trim();
    if let Some(place) = sim_core::facts::parse_place(t) {
        return Entity::Place(place);
    }
    let ip = t.split_once('@').map_or(t, |(ip, _)| ip);
    if let Ok(ip) = ip.parse::<std::net::IpAddr>() {
        return Entity::Ip(ip.to_string());
    }
    if t.contains('@') {
        return Entity::Email(t.to_ascii_lowercase());
    }
    if let Some(parcel) = tracking_number(t) {
        return Entity::Parcel(parcel);
    }
    Entity::Address(t.to_string())
}

/// Whether a granted request of this kind is answered after the provider's delay: records
/// handed over, or (abroad) a search the foreign authorities execute.
fn answered_later(kind: RequestKind) -> bool {
    matches!(kind, RequestKind::ProductionOrder | RequestKind::MutualLegalAssistance | RequestKind::SearchAbroad)
}

/// Whether a request of this kind lets the team's forensic examiner image a server.
pub fn is_search(kind: RequestKind) -> bool {
    matches!(kind, RequestKind::SearchWarrant | RequestKind::SearchAbroad)
}

/// A request as a team drafts it.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestDraft {
    /// Type.
    pub kind: RequestKind,
    /// Addressed to.
    pub provider: ProviderId,
    /// An address.
    pub target: String,
    /// Evidence cited as grounds.
    pub grounds: Vec<EvidenceId>,
}

impl Lab {
    /// Files a legal request; the judge rules after the rule's delay (see [`Lab::tick`]).
    pub async fn request(&self, token: &str, draft: RequestDraft) -> Result<LegalRequest, LabError> {
        let (team, member) = self.member(token).await?;
        if member.role != Role::HeadOfUnit {
            return Err(LabError::Forbidden { role: member.role, action: "sign a legal request" });
        }
        let delay = if draft.kind == RequestKind::UndercoverAuthorisation {
            // Addressed to no provider: `provider` names the site the team will act on.
            if !self.directory.sites.contains_key(&SiteId::from(draft.provider.as_str())) {
                return Err(LabError::UnknownProvider(format!("{} (an undercover authorisation names a site)", draft.provider)));
            }
            judge::undercover_rule(&self.scenario.legal.rules).map(|r| r.ruling_delay).unwrap_or_default()
        } else {
            let desk = self.desks.get(&draft.provider).ok_or_else(|| LabError::UnknownProvider(draft.provider.to_string()))?;
            judge::matching_rule(&self.scenario.legal.rules, draft.kind, desk.kind).map(|r| r.ruling_delay).unwrap_or_default()
        };
        let now = self.clock.now();
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        for g in &draft.grounds {
            if t.ledger.evidence(g).is_none() {
                return Err(LabError::UnknownEvidence(g.to_string()));
            }
        }
        let jurisdiction = self.scenario.providers.iter().find(|p| p.id == draft.provider).map(|p| &p.jurisdiction);
        let channel = Channel::of(draft.kind, jurisdiction);
        let req = LegalRequest {
            id: format!("R{}", t.requests.len() + 1),
            kind: draft.kind,
            provider: draft.provider,
            target: draft.target,
            grounds: draft.grounds,
            signed_by: member.name,
            channel,
            filed_at: now,
            status: RequestStatus::Pending { ruling_at: now.plus(delay) },
            log: Vec::new(),
        };
        let mut req = req;
        req.log.push((now, format!("filed: {:?} to {} for {}, citing {}", req.kind, req.provider, req.target, cited_words(&req.grounds))));
        match &req.channel {
            Channel::Domestic => {}
            Channel::ContactPoint { country } => req
                .log
                .push((now, format!("sent through the 24/7 contact point to the authorities of {country}, where {} is", req.provider))),
            Channel::MutualLegalAssistance { country } => req.log.push((
                now,
                format!("sent as a mutual legal assistance request to the authorities of {country}, where {} is", req.provider),
            )),
        }
        t.requests.push(req.clone());
        Ok(req)
    }

    /// The team's requests.
    pub async fn requests(&self, token: &str) -> Result<Vec<LegalRequest>, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        Ok(teams.get(&team).map(|t| t.requests.clone()).unwrap_or_default())
    }

    /// The earliest time something in the lab is due (a ruling or an answer).
    pub async fn next_due(&self) -> Option<SimTime> {
        let teams = self.teams.lock().await;
        teams
            .values()
            .flat_map(|t| t.requests.iter())
            .filter_map(|r| match r.status {
                RequestStatus::Pending { ruling_at } => Some(ruling_at),
                RequestStatus::Granted { answer_at, .. } => Some(answer_at),
                _ => None,
            })
            .min()
    }

    /// Moves legal process forward to the current simulated time: rulings, then answers.
    pub async fn tick(&self) -> Result<(), LabError> {
        let now = self.clock.now();
        let mut teams = self.teams.lock().await;
        for (name, t) in teams.iter_mut() {
            for i in 0..t.requests.len() {
                let req = t.requests[i].clone();
                match &req.status {
                    // Weakened for the security suite: the judge rules before the ruling is due.
                    RequestStatus::Pending { ruling_at } if *ruling_at <= now || cfg!(feature = "weakened-for-security-tests") => {
                        let status = self.rule(t, &req, now);
                        tracing::info!(team = %name, request = %req.id, ?status, "ruling");
                        let what = match &status {
                            RequestStatus::Granted { reason, .. } => format!("granted — {reason}"),
                            RequestStatus::Refused { reason } => format!("refused — {reason}"),
                            RequestStatus::Authorised { reason } => format!("granted and served — {reason}"),
                            other => format!("{other:?}"),
                        };
                        t.requests[i].log.push((now, what));
                        if matches!(status, RequestStatus::Authorised { .. }) && req.kind == RequestKind::Preservation {
                            let served = self.preserve(&req).await;
                            t.requests[i].log.push((now, served));
                        }
                        t.requests[i].status = status;
                    }
                    RequestStatus::Granted { reason, answer_at } if *answer_at <= now && req.kind == RequestKind::SearchAbroad => {
                        t.requests[i].log.push((
                            now,
                            format!("executed abroad: the server at {} is imaged and ready for the examiner", req.target.trim()),
                        ));
                        t.requests[i].status = RequestStatus::Authorised { reason: reason.clone() };
                    }
                    RequestStatus::Granted { reason, answer_at } if *answer_at <= now => {
                        let evidence = self.answer(t, &req).await?;
                        t.requests[i].log.push((now, format!("answered: the provider's records are {evidence}")));
                        t.requests[i].status = RequestStatus::Answered { reason: reason.clone(), evidence };
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Serves a granted preservation on the provider's legal desk: it must keep the records
    /// it holds for the target from now on, past its usual retention. Returns what happened.
    async fn preserve(&self, req: &LegalRequest) -> String {
        let Some(desk) = self.desks.get(&req.provider) else { return format!("no provider {}", req.provider) };
        let url = format!("{}/legal/preserve?{}", desk.url, desk_query(desk.kind, req.target.trim()));
        let sent = self.party.client_for(&url).post(&url).bearer_auth(&desk.legal_token).send().await;
        let by = match &req.channel {
            Channel::ContactPoint { country } => format!(" by the authorities of {country} (24/7 contact point)"),
            _ => String::new(),
        };
        match sent {
            Ok(r) if r.status().is_success() => format!("served{by}: {} keeps its records for {}", req.provider, req.target),
            Ok(r) if r.status().as_u16() == 404 => format!("served{by}: {} keeps every record anyway (no retention limit)", req.provider),
            Ok(r) => format!("the provider's desk answered {}", r.status()),
            Err(e) => format!("the provider's desk could not be reached: {e}"),
        }
    }

    /// The admissible facts the request's cited evidence reveals.
    fn grounds_of(&self, t: &Team, req: &LegalRequest) -> FactSet {
        let mut grounds = FactSet::new();
        for g in &req.grounds {
            let a = self.assess(t, g);
            if a.admissibility == Admissibility::Admissible {
                grounds.extend(a.facts.into_iter().map(|r| r.fact));
            }
        }
        grounds
    }

    /// An undercover authorisation to act on a site (the request's `provider`) against the
    /// persona whose handle is the target: granted, it is served at once (the team holds it).
    fn rule_undercover(&self, t: &Team, req: &LegalRequest) -> RequestStatus {
        let site = SiteId::from(req.provider.as_str());
        let persona = self.truth.read().persona(&site, req.target.trim()).cloned();
        let target = persona.map_or_else(|| target_entity(&req.target), Entity::Persona);
        let grounds = self.grounds_of(t, req);
        let ruling = judge::rule_undercover(
            &self.scenario.legal.rules,
            site.as_str(),
            &judge::Cited { target: &target, grounds: &grounds, cited: req.grounds.len() },
        );
        if ruling.granted { RequestStatus::Authorised { reason: ruling.reason } } else { RequestStatus::Refused { reason: ruling.reason } }
    }

    fn rule(&self, t: &Team, req: &LegalRequest, now: SimTime) -> RequestStatus {
        if req.kind == RequestKind::UndercoverAuthorisation {
            return self.rule_undercover(t, req);
        }
        let Some(desk) = self.desks.get(&req.provider) else {
            return RequestStatus::Refused { reason: format!("no provider {}", req.provider) };
        };
        // Records abroad are obtained through mutual legal assistance, not a domestic order
        // (a preservation can go through the 24/7 network either way).
        let abroad = self.scenario.providers.iter().find(|p| p.id == req.provider).and_then(|p| match &p.jurisdiction {
            Jurisdiction::Foreign(country) => Some(country.clone()),
            Jurisdiction::Domestic => None,
        });
        match (req.kind, &abroad) {
            (RequestKind::ProductionOrder, Some(country)) => {
                return RequestStatus::Refused {
                    reason: format!(
                        "{} is abroad ({country}): a domestic production order does not reach it; send a mutual legal assistance request",
                        req.provider
                    ),
                };
            }
            (RequestKind::SearchWarrant, Some(country)) => {
                return RequestStatus::Refused {
                    reason: format!(
                        "the server at {} is abroad ({country}, at {}): a domestic search warrant does not reach it; ask for its search and seizure abroad through mutual legal assistance",
                        req.target.trim(),
                        req.provider
                    ),
                };
            }
            (RequestKind::MutualLegalAssistance, None) => {
                return RequestStatus::Refused {
                    reason: format!("{} is in our own jurisdiction: ask with a production order", req.provider),
                };
            }
            (RequestKind::SearchAbroad, None) => {
                return RequestStatus::Refused { reason: format!("{} is in our own jurisdiction: ask for a search warrant", req.provider) };
            }
            _ => {}
        }
        let grounds = self.grounds_of(t, req);
        let target = target_entity(&req.target);
        let ruling = judge::rule(
            &self.scenario.legal.rules,
            &RequestForRuling { kind: req.kind, provider_kind: desk.kind, target: &target, grounds: &grounds, cited: req.grounds.len() },
        );
        if ruling.granted && answered_later(req.kind) {
            let delay = self.scenario.providers.iter().find(|p| p.id == req.provider).map(|p| p.response_delay).unwrap_or_default();
            RequestStatus::Granted { reason: ruling.reason, answer_at: now.plus(delay) }
        } else if ruling.granted {
            // A preservation is served at once: the provider must keep what it holds now.
            RequestStatus::Authorised { reason: ruling.reason }
        } else {
            RequestStatus::Refused { reason: ruling.reason }
        }
    }

    async fn answer(&self, t: &mut Team, req: &LegalRequest) -> Result<EvidenceId, LabError> {
        let desk = self.desks.get(&req.provider).ok_or_else(|| LabError::UnknownProvider(req.provider.to_string()))?;
        let url = format!("{}/legal/records?{}", desk.url, desk_query(desk.kind, req.target.trim()));
        let (content, media_type) = self.fetch(&url, Some(&desk.legal_token)).await?;
        let entry = t.ledger.append_evidence(NewEvidence {
            kind: ArtifactKind::ProviderRecord,
            source: format!("{} records for {}", req.provider, req.target),
            method: format!("served {:?} {} on the provider's legal desk", req.kind, req.id),
            obtained_by: req.signed_by.clone(),
            authority: Authority::Order { request: req.id.clone(), kind: req.kind },
            sim_time: self.clock.now(),
            real_time: real_time_now(),
            media_type,
            content,
        })?;
        Ok(entry.id)
    }
}

/// "E1, E3" or "no evidence".
fn cited_words(ids: &[EvidenceId]) -> String {
    if ids.is_empty() { "no evidence".to_string() } else { ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_desk_is_asked_in_its_own_terms() {
        assert_eq!(desk_query(ProviderKind::Exchange, "bcrt1qxyz"), "address=bcrt1qxyz");
        assert_eq!(desk_query(ProviderKind::Exchange, "mellis84"), "account=mellis84");
        assert_eq!(desk_query(ProviderKind::Isp, "81.2.69.160@2026-03-02T10:00:00Z"), "ip=81.2.69.160&at=2026-03-02T10:00:00Z");
        assert_eq!(desk_query(ProviderKind::Email, "a b@x.example"), "address=a%20b@x.example");
        assert_eq!(desk_query(ProviderKind::Hosting, "185.220.1.2"), "server_ip=185.220.1.2");
        assert_eq!(desk_query(ProviderKind::Courier, "CP123456789NL"), "tracking=CP123456789NL");
        assert_eq!(desk_query(ProviderKind::Courier, "51.9075,4.4497"), "place=51.9075%2C4.4497");
        assert_eq!(desk_query(ProviderKind::Courier, "Mark Ellis&x=1"), "sender=Mark%20Ellis%26x%3D1");
    }

    #[test]
    fn a_target_is_read_by_its_shape() {
        assert_eq!(target_entity(" 81.2.69.160 "), Entity::Ip("81.2.69.160".into()));
        assert_eq!(target_entity("81.2.69.160@2026-03-02T10:00:00Z"), Entity::Ip("81.2.69.160".into()));
        assert_eq!(target_entity("Mark.Ellis84@mailbox.example"), Entity::Email("mark.ellis84@mailbox.example".into()));
        assert_eq!(target_entity("bcrt1qxyz"), Entity::Address("bcrt1qxyz".into()));
        assert_eq!(target_entity(" 51.90750, 4.4497"), Entity::Place("51.9075,4.4497".into()));
        assert_eq!(target_entity("cp918167110do"), Entity::Parcel("CP918167110DO".into()));
        assert_eq!(tracking_number("CP12345678NL"), None, "eight digits");
        assert_eq!(tracking_number("C1123456789NL"), None);
        assert_eq!(desk_query(ProviderKind::Courier, "cp123456789nl"), "tracking=cp123456789nl");
    }
}
