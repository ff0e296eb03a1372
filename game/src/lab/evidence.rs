//! Evidence: captures and browsing through the world's network, the team's evidence and
//! its custody, and what each piece is worth in court (admissibility and revealed facts).

use serde::{Deserialize, Serialize};
use sim_core::scenario::RequestKind;

use market_sim::world::network::OnionTransport;

use super::{Lab, LabError, RequestStatus, Team, real_time_now};
use crate::extract::{self, Origin};
use crate::ledger::{ArtifactKind, ArtifactStatus, Authority, CustodyEntry, CustodyEvent, EvidenceEntry, EvidenceId, NewEvidence};
use crate::prosecutor::{Admissibility, EvidenceAssessment, RevealedFact, Strength};

/// One piece of evidence with its chain of custody and the state of its artifact.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceDetail {
    /// The ledger entry.
    pub entry: EvidenceEntry,
    /// Custody events, oldest first.
    pub custody: Vec<CustodyEntry>,
    /// Whether the stored artifact still matches the ledger.
    pub integrity: ArtifactStatus,
}

/// How the lab reaches `url` with the onion transport it has now, for the provenance of a
/// capture: an onion service through tor in tor mode, anything else on the direct network.
pub(super) fn route_of(url: &str, transport: OnionTransport) -> String {
    let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':', '?']).next().unwrap_or("");
    match transport {
        OnionTransport::Socks(proxy) if host.ends_with(".onion") => format!("the onion network (tor, via the lab's SOCKS proxy {proxy})"),
        _ if host.ends_with(".onion") => "the direct network (onion name resolved on the exercise's network)".to_string(),
        _ => "the direct network".to_string(),
    }
}

impl Lab {
    pub(super) fn origin_of(&self, url: &str) -> Option<Origin> {
        let base = |u: &str| url == u || url.starts_with(&format!("{u}/"));
        if base(&self.directory.explorer) {
            return Some(Origin::Explorer);
        }
        // A courier's public pages (parcel tracking, the office finder) anyone may read;
        // they name no one.
        let courier = self.scenario.providers.iter().filter(|p| p.kind == sim_core::scenario::ProviderKind::Courier);
        for u in courier.filter_map(|p| self.directory.providers.get(&p.id)) {
            let path = url.strip_prefix(u.as_str()).unwrap_or_default();
            if path.starts_with("/track/") || path == "/api/offices" {
                return Some(Origin::Other);
            }
        }
        let (site, u) = self.directory.sites.iter().find(|(_, u)| base(u))?;
        // A listing's photo is an image, not a page: its own origin.
        let photo = url.strip_prefix(u.as_str()).and_then(|p| p.strip_prefix("/listing/")).and_then(|p| p.strip_suffix("/photo.jpg"));
        match photo.and_then(|id| id.parse::<i64>().ok()) {
            Some(listing) => Some(Origin::Photo { site: site.clone(), listing }),
            None => Some(Origin::Site(site.clone())),
        }
    }

    /// Fetches a page of the world without recording it (browsing).
    pub async fn browse(&self, token: &str, url: &str) -> Result<Vec<u8>, LabError> {
        self.member(token).await?;
        if self.origin_of(url).is_none() {
            return Err(LabError::NotInWorld(url.to_string()));
        }
        Ok(self.fetch(url, None).await?.0)
    }

    pub(super) async fn fetch(&self, url: &str, bearer: Option<&str>) -> Result<(Vec<u8>, String), LabError> {
        let fail = |message: String| LabError::Fetch { url: url.to_string(), message };
        let mut req = self.party.client_for(url).get(url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.header("accept", "application/json").send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let media = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_string();
        let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?.to_vec();
        if !status.is_success() {
            return Err(fail(format!("status {status}")));
        }
        Ok((body, media))
    }

    /// Captures a page of the world into the team's ledger, as the lab obtains it now.
    pub async fn capture(&self, token: &str, url: &str) -> Result<EvidenceEntry, LabError> {
        let (team, member) = self.member(token).await?;
        let origin = self.origin_of(url).ok_or_else(|| LabError::NotInWorld(url.to_string()))?;
        let (content, media_type) = self.fetch(url, None).await?;
        let kind = if origin == Origin::Explorer { ArtifactKind::ChainRecord } else { ArtifactKind::PageCapture };
        let evidence = NewEvidence {
            kind,
            source: url.to_string(),
            method: format!("HTTP GET by the lab through {}", route_of(url, self.network.onion_transport())),
            obtained_by: member.name.clone(),
            authority: Authority::PublicSource,
            sim_time: self.clock.now(),
            real_time: real_time_now(),
            media_type,
            content,
        };
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let entry = t.ledger.append_evidence(evidence)?;
        tracing::info!(team, evidence = %entry.id, url, "captured");
        Ok(entry)
    }

    /// The stored content of a piece of the team's evidence; viewing is a custody event.
    pub async fn evidence_content(&self, token: &str, id: &EvidenceId) -> Result<Vec<u8>, LabError> {
        let (team, member) = self.member(token).await?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        if t.ledger.evidence(id).is_none() {
            return Err(LabError::UnknownEvidence(id.to_string()));
        }
        let content = t.ledger.artifact(id)?;
        t.ledger.append_custody(id, CustodyEvent::Viewed, member.name, self.clock.now(), real_time_now())?;
        Ok(content)
    }

    /// One piece of the team's evidence with its custody log and integrity.
    pub async fn evidence_detail(&self, token: &str, id: &EvidenceId) -> Result<EvidenceDetail, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
        let entry = t.ledger.evidence(id).cloned().ok_or_else(|| LabError::UnknownEvidence(id.to_string()))?;
        let custody = t.ledger.custody_of(id).into_iter().cloned().collect();
        Ok(EvidenceDetail { entry, custody, integrity: t.ledger.check_artifact(id) })
    }

    /// The artifact of a piece of evidence, handed out of the lab: an `Exported` custody event.
    pub async fn export_evidence(&self, token: &str, id: &EvidenceId) -> Result<(EvidenceEntry, Vec<u8>), LabError> {
        let (team, member) = self.member(token).await?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let entry = t.ledger.evidence(id).cloned().ok_or_else(|| LabError::UnknownEvidence(id.to_string()))?;
        let content = t.ledger.artifact(id)?;
        t.ledger.append_custody(id, CustodyEvent::Exported, member.name, self.clock.now(), real_time_now())?;
        Ok((entry, content))
    }

    /// The team's evidence entries.
    pub async fn evidence_list(&self, token: &str) -> Result<Vec<EvidenceEntry>, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
        Ok(t.ledger.entries().to_vec())
    }

    /// Admissibility and revealed facts of one piece of a team's evidence.
    pub(super) fn assess(&self, t: &Team, id: &EvidenceId) -> EvidenceAssessment {
        let inadmissible = |why: String| EvidenceAssessment { admissibility: Admissibility::Inadmissible(why), facts: Vec::new() };
        let Some(entry) = t.ledger.evidence(id) else {
            return inadmissible(format!("{id} is not in the team's ledger"));
        };
        match t.ledger.check_artifact(id) {
            ArtifactStatus::Intact => {}
            ArtifactStatus::HashMismatch { .. } => return inadmissible(format!("{id}: artifact hash does not match the ledger")),
            ArtifactStatus::Missing => return inadmissible(format!("{id}: artifact is missing from the store")),
        }
        let origin = match (&entry.kind, &entry.authority) {
            (ArtifactKind::ProviderRecord, Authority::Order { request, .. }) => {
                let granted = t.requests.iter().any(|r| &r.id == request && matches!(r.status, RequestStatus::Answered { .. }));
                if !granted {
                    return inadmissible(format!("{id}: provider record without a granted order"));
                }
                let provider = t.requests.iter().find(|r| &r.id == request).map(|r| r.provider.clone());
                provider.map(Origin::Provider).unwrap_or(Origin::Other)
            }
            (ArtifactKind::ProviderRecord, _) => return inadmissible(format!("{id}: provider record obtained without legal authority")),
            (ArtifactKind::ForensicImage, Authority::Order { request, kind }) if super::legal::is_search(*kind) => {
                let granted = t.requests.iter().any(|r| &r.id == request && matches!(r.status, RequestStatus::Authorised { .. }));
                match self.seized_site(t, request).filter(|_| granted) {
                    Some(site) => Origin::Seized(site),
                    None => return inadmissible(format!("{id}: server image without a granted search warrant")),
                }
            }
            (ArtifactKind::ForensicImage, _) => return inadmissible(format!("{id}: server image taken without a search warrant")),
            (_, Authority::Order { request, kind: RequestKind::UndercoverAuthorisation }) => {
                let held = t.requests.iter().any(|r| {
                    &r.id == request
                        && r.kind == RequestKind::UndercoverAuthorisation
                        && matches!(r.status, RequestStatus::Authorised { .. })
                });
                if !held {
                    return inadmissible(format!("{id}: obtained undercover without a granted authorisation"));
                }
                self.origin_of(&entry.source).unwrap_or(Origin::Other)
            }
            _ => self.origin_of(&entry.source).unwrap_or(Origin::Other),
        };
        let Ok(content) = t.ledger.artifact(id) else {
            return inadmissible(format!("{id}: artifact cannot be read"));
        };
        let facts = extract::revealed_facts(&origin, &content, &self.truth.read());
        EvidenceAssessment {
            admissibility: Admissibility::Admissible,
            facts: facts.into_iter().map(|fact| RevealedFact { fact, strength: Strength::Direct }).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_says_which_network_carried_it() {
        let tor = OnionTransport::Socks(std::net::SocketAddr::from(([127, 0, 0, 1], 9050)));
        let onion = "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion/api/listings";
        assert_eq!(route_of(onion, tor), "the onion network (tor, via the lab's SOCKS proxy 127.0.0.1:9050)");
        assert!(route_of(onion, OnionTransport::Direct).starts_with("the direct network"));
        assert_eq!(route_of("http://127.0.0.1:4000/block-height/3", tor), "the direct network", "the explorer is not an onion service");
        assert_eq!(route_of("http://search.example/hosts", tor), "the direct network");
    }
}
