//! The legal request form: the request type, the provider, the target and the evidence
//! cited as grounds, checked before it is filed; the team's requests as they progress.

use std::collections::BTreeSet;

use sim_core::ids::ProviderId;
use sim_core::scenario::RequestKind;

use crate::lab::{LegalRequest, RequestDraft, RequestStatus};
use crate::ledger::EvidenceId;

/// Every request type, in the order the form offers them.
pub const KINDS: [RequestKind; 6] = [
    RequestKind::Preservation,
    RequestKind::ProductionOrder,
    RequestKind::SearchWarrant,
    RequestKind::UndercoverAuthorisation,
    RequestKind::MutualLegalAssistance,
    RequestKind::SearchAbroad,
];

/// Why the form cannot be filed yet (each a locale key the panel shows).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// No provider chosen.
    #[error("legal.error.provider")]
    NoProvider,
    /// No target written.
    #[error("legal.error.target")]
    NoTarget,
    /// No evidence cited.
    #[error("legal.error.grounds")]
    NoGrounds,
}

/// The form's state.
#[derive(Clone, Debug)]
pub struct RequestForm {
    /// The request type.
    pub kind: RequestKind,
    /// The provider's id.
    pub provider: String,
    /// The target (an address, an IP, an account…).
    pub target: String,
    /// Evidence cited as grounds.
    pub grounds: BTreeSet<EvidenceId>,
}

impl Default for RequestForm {
    fn default() -> RequestForm {
        RequestForm { kind: RequestKind::ProductionOrder, provider: String::new(), target: String::new(), grounds: BTreeSet::new() }
    }
}

impl RequestForm {
    /// The draft to file, or what is missing.
    pub fn draft(&self) -> Result<RequestDraft, FormError> {
        if self.provider.trim().is_empty() {
            return Err(FormError::NoProvider);
        }
        if self.target.trim().is_empty() {
            return Err(FormError::NoTarget);
        }
        if self.grounds.is_empty() {
            return Err(FormError::NoGrounds);
        }
        Ok(RequestDraft {
            kind: self.kind,
            provider: ProviderId::from(self.provider.trim()),
            target: self.target.trim().to_string(),
            grounds: self.grounds.iter().cloned().collect(),
        })
    }
}

/// A request's status as a locale key.
pub fn status_key(status: &RequestStatus) -> &'static str {
    match status {
        RequestStatus::Pending { .. } => "legal.status.pending",
        RequestStatus::Granted { .. } => "legal.status.granted",
        RequestStatus::Refused { .. } => "legal.status.refused",
        RequestStatus::Answered { .. } => "legal.status.answered",
        RequestStatus::Authorised { .. } => "legal.status.authorised",
    }
}

/// The panel's state.
#[derive(Clone, Debug, Default)]
pub struct LegalPanel {
    /// The form being filled.
    pub form: RequestForm,
    /// The team's requests, as last fetched.
    pub requests: Vec<LegalRequest>,
}
