//! The case file a team files: for each suspect the personas, the claimed real name,
//! the evidence that links them, and the charges with the evidence for each element.
//!
//! This is a lab DTO (sent as JSON over the lab's API); it names things as a team sees
//! them — handles on sites, names, evidence ids from its own ledger — never the
//! scenario's hidden ids. The [`crate::prosecutor`] resolves and judges it.

use serde::{Deserialize, Serialize};
use sim_core::ids::{ChargeId, ElementId, SiteId};

use crate::ledger::EvidenceId;

/// A whole case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// One claim per suspect.
    pub suspects: Vec<SuspectClaim>,
}

/// What the team claims about one suspect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspectClaim {
    /// The real name the team says is behind the personas.
    pub name: String,
    /// The personas attributed to this person.
    pub personas: Vec<PersonaRef>,
    /// Evidence that links the personas to the name.
    pub attribution: Vec<EvidenceId>,
    /// Charges brought against this person.
    #[serde(default)]
    pub charges: Vec<ChargeClaim>,
}

/// A persona as a team sees it: a handle on a site.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonaRef {
    /// The site.
    pub site: SiteId,
    /// The handle shown there.
    pub handle: String,
}

impl std::fmt::Display for PersonaRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.handle, self.site)
    }
}

/// One charge against a suspect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeClaim {
    /// The charge (from the scenario's list the team is given).
    pub charge: ChargeId,
    /// The evidence for each element.
    pub elements: Vec<ElementClaim>,
}

/// The evidence cited for one element of a charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ElementClaim {
    /// The element.
    pub element: ElementId,
    /// The evidence that proves it.
    pub evidence: Vec<EvidenceId>,
}

impl CaseFile {
    /// Every evidence id the case cites, once each, in order.
    pub fn cited(&self) -> Vec<EvidenceId> {
        let mut ids: Vec<EvidenceId> = self
            .suspects
            .iter()
            .flat_map(|s| s.attribution.iter().chain(s.charges.iter().flat_map(|c| c.elements.iter().flat_map(|e| e.evidence.iter()))))
            .cloned()
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_files_round_trip_as_json_and_list_citations_once() {
        let case = CaseFile {
            suspects: vec![SuspectClaim {
                name: "Mark Ellis".into(),
                personas: vec![PersonaRef { site: "silk-lane".into(), handle: "GreenLeafUK".into() }],
                attribution: vec!["E1".into(), "E3".into()],
                charges: vec![ChargeClaim {
                    charge: "supply".into(),
                    elements: vec![ElementClaim { element: "offered".into(), evidence: vec!["E1".into()] }],
                }],
            }],
        };
        let json = serde_json::to_string(&case).unwrap();
        assert_eq!(serde_json::from_str::<CaseFile>(&json).unwrap(), case);
        assert_eq!(case.cited(), vec![EvidenceId::from("E1"), EvidenceId::from("E3")]);
        assert!(serde_json::from_str::<CaseFile>(r#"{"suspects":[],"extra":1}"#).is_err());
    }
}
