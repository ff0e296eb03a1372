//! Seizure: once a search warrant for a located server is granted, the team's forensic
//! examiner images the machine through the lab, and examines the image through fixed views.
//!
//! The image enters the ledger at the moment it is taken, under the warrant, as the
//! server's SQLite database file (its access log included), content-addressed like every
//! artifact. Examination never runs a trainee's SQL: a query names one of the image's views
//! (`market_sim::market::image::TABLES`) with exact matches (`column=value`) or substrings
//! (`column.contains=text`, ignoring case) on that view's own columns. Only the
//! team's forensic examiners image and examine; other roles are refused. A server abroad is
//! searched by the foreign authorities (a granted `SearchAbroad`, ready after the hosting
//! provider's response delay); a domestic `SearchWarrant` is refused for it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::facts::{Entity, FactKind};
use sim_core::ids::SiteId;

use super::{Lab, LabError, RequestStatus, Role, real_time_now};
use crate::ledger::{ArtifactKind, Authority, CustodyEvent, EvidenceEntry, EvidenceId, NewEvidence};
use market_sim::market::image::{MAX_ROWS, Query, SeizedImage, TableView};

/// Body of `POST /api/seizures`: the granted search warrant to execute.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SeizureDraft {
    /// The warrant (`R3`).
    pub request: String,
}

/// A seized image the team holds.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SeizedSummary {
    /// The image's evidence id.
    pub evidence: EvidenceId,
    /// Where it came from.
    pub source: String,
    /// The warrant it was taken under.
    pub authority: Authority,
    /// Its content hash.
    pub content_hash: String,
    /// The views it can be examined through.
    pub tables: Vec<String>,
}

impl Lab {
    /// Executes a granted search warrant: the server at its target IP is imaged into the
    /// team's ledger. Forensic examiners only.
    pub async fn seize(&self, token: &str, draft: SeizureDraft) -> Result<EvidenceEntry, LabError> {
        let (team, member) = self.member(token).await?;
        if member.role != Role::ForensicExaminer {
            return Err(LabError::Forbidden { role: member.role, action: "image a seized server" });
        }
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let req =
            t.requests.iter().find(|r| r.id == draft.request).cloned().ok_or_else(|| LabError::UnknownRequest(draft.request.clone()))?;
        if !super::legal::is_search(req.kind) {
            return Err(LabError::NoWarrant(format!("{} is not a search warrant", req.id)));
        }
        if !matches!(req.status, RequestStatus::Authorised { .. }) {
            return Err(LabError::NoWarrant(format!("search warrant {} has not been granted", req.id)));
        }
        let target = super::legal::target_entity(&req.target);
        let site = self.server_at(&target).ok_or_else(|| LabError::NoWarrant(format!("no server of the exercise is at {}", req.target)))?;
        let market = self
            .servers
            .markets
            .get(&site)
            .ok_or_else(|| LabError::NoWarrant(format!("no server of the exercise is at {}", req.target)))?;
        let image = market.forensic_image().map_err(|e| LabError::Fetch { url: req.target.clone(), message: e.to_string() })?;
        let entry = t.ledger.append_evidence(NewEvidence {
            kind: ArtifactKind::ForensicImage,
            source: format!("server at {} (seized)", req.target.trim()),
            method: format!(
                "forensic image of the server's database (SQLite file, access log of {} lines included) taken under {}",
                image.logs.len(),
                req.id
            ),
            obtained_by: member.name,
            authority: Authority::Order { request: req.id.clone(), kind: req.kind },
            sim_time: self.clock.now(),
            real_time: real_time_now(),
            media_type: "application/vnd.sqlite3".into(),
            content: image.db_snapshot,
        })?;
        tracing::info!(team, evidence = %entry.id, request = %req.id, "server seized");
        Ok(entry)
    }

    /// The site served from the machine at `ip` (the physical place a seizure images).
    fn server_at(&self, ip: &Entity) -> Option<SiteId> {
        let truth = self.truth.read();
        truth.facts.iter().filter(|f| f.kind == FactKind::HostedAt && &f.object == ip).find_map(|f| match &f.subject {
            Entity::Site(s) => Some(s.clone()),
            _ => None,
        })
    }

    /// The site whose seized server an image came from (by the warrant's target).
    pub(super) fn seized_site(&self, t: &super::Team, request: &str) -> Option<SiteId> {
        let req = t.requests.iter().find(|r| r.id == request && super::legal::is_search(r.kind))?;
        self.server_at(&super::legal::target_entity(&req.target))
    }

    /// The team's seized images. Forensic examiners only.
    pub async fn seized(&self, token: &str) -> Result<Vec<SeizedSummary>, LabError> {
        let (team, member) = self.member(token).await?;
        if member.role != Role::ForensicExaminer {
            return Err(LabError::Forbidden { role: member.role, action: "examine seized images" });
        }
        let teams = self.teams.lock().await;
        let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
        Ok(t.ledger
            .entries()
            .iter()
            .filter(|e| e.kind == ArtifactKind::ForensicImage)
            .map(|e| SeizedSummary {
                evidence: e.id.clone(),
                source: e.source.clone(),
                authority: e.authority.clone(),
                content_hash: e.content_hash.clone(),
                tables: market_sim::market::image::TABLES.iter().map(|s| (*s).to_string()).collect(),
            })
            .collect())
    }

    /// One view of a seized image, filtered (`column=value`, exact; `column.contains=text`,
    /// a substring ignoring case) and paged (`limit`, `offset`); a `Viewed` custody event.
    /// Forensic examiners only.
    pub async fn query_seized(
        &self,
        token: &str,
        image: &EvidenceId,
        table: &str,
        params: &BTreeMap<String, String>,
    ) -> Result<TableView, LabError> {
        let (team, member) = self.member(token).await?;
        let mut q = Query { limit: 100, ..Query::default() };
        for (k, v) in params {
            let number = || v.parse::<usize>().map_err(|_| LabError::BadQuery(format!("{k} must be a number")));
            match k.as_str() {
                "limit" => q.limit = number()?,
                "offset" => q.offset = number()?,
                _ => match k.strip_suffix(".contains") {
                    Some(column) => {
                        q.contains.insert(column.to_string(), v.clone());
                    }
                    None => {
                        q.filters.insert(k.clone(), v.clone());
                    }
                },
            }
        }
        if q.limit == 0 || q.limit > MAX_ROWS {
            return Err(LabError::BadQuery(format!("limit must be 1-{MAX_ROWS}")));
        }
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let entry = t.ledger.evidence(image).cloned().ok_or_else(|| LabError::UnknownEvidence(image.to_string()))?;
        if entry.kind != ArtifactKind::ForensicImage {
            return Err(LabError::UnknownEvidence(format!("{image} (not a seized image)")));
        }
        // Checked once the image is known to be the team's own: another team learns nothing.
        if member.role != Role::ForensicExaminer {
            return Err(LabError::Forbidden { role: member.role, action: "examine seized images" });
        }
        let content = t.ledger.artifact(image)?;
        let seized = SeizedImage::open(&content).map_err(|e| LabError::BadQuery(e.to_string()))?;
        let view = seized.view(table, &q).map_err(|e| LabError::BadQuery(e.to_string()))?;
        t.ledger.append_custody(image, CustodyEvent::Viewed, member.name, self.clock.now(), real_time_now())?;
        Ok(view)
    }
}
