//! The autopilot: an investigating team that follows the scenario's reference solution
//! through the lab, exactly as a team at a workstation would (capture, browse, request,
//! wait for the judge and the provider, file the case).
//!
//! It proves a scenario can be solved end to end and drives the demo. It learns only
//! from what its own evidence shows; it never reads ground truth.

use std::collections::BTreeMap;

use serde_json::Value;
use sim_core::ids::EvidenceLabel;
use sim_core::scenario::{AddressRef, CaptureTarget, CaseSpec, Scenario, SolutionStep};

use market_sim::world::{World, WorldError};

use crate::case::{CaseFile, ChargeClaim, ElementClaim, PersonaRef, SuspectClaim};
use crate::extract::{addresses_in_text, emails_in_text, ips_in_records, key_emails, tx_addresses};
use crate::lab::{Lab, LabError, RequestDraft, RequestStatus, SeizureDraft};
use crate::ledger::EvidenceId;
use crate::prosecutor::Verdict;

/// Why the autopilot could not finish.
#[derive(Debug, thiserror::Error)]
pub enum AutopilotError {
    /// The lab refused an action.
    #[error(transparent)]
    Lab(#[from] LabError),
    /// The world failed while time advanced.
    #[error(transparent)]
    World(#[from] WorldError),
    /// A step refers to evidence the autopilot does not hold or that lacks what it needs.
    #[error("solution step {step}: {message}")]
    Step {
        /// Step number (1-based).
        step: usize,
        /// What went wrong.
        message: String,
    },
    /// A legal request was refused.
    #[error("solution step {step}: request refused: {reason}")]
    Refused {
        /// Step number (1-based).
        step: usize,
        /// The judge's reasons.
        reason: String,
    },
}

/// A team following the reference solution, step by step.
#[derive(Debug, Default)]
pub struct Autopilot {
    labels: BTreeMap<EvidenceLabel, EvidenceId>,
    /// The team's forensic examiner, who executes search warrants and examines images.
    examiner: Option<String>,
    /// One line per action, for the demo's printout.
    pub log: Vec<String>,
    /// The verdict, once a case is filed.
    pub verdict: Option<Verdict>,
}

impl Autopilot {
    /// A team that has done nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A team whose forensic examiner (holding `token`) images and examines seized servers.
    pub fn with_examiner(token: &str) -> Self {
        Autopilot { examiner: Some(token.to_string()), ..Self::default() }
    }

    /// The ledger id of the evidence the solution labels `label`.
    pub fn evidence(&self, label: &str) -> Option<&EvidenceId> {
        self.labels.get(&EvidenceLabel(label.to_string()))
    }

    /// Follows every step of `scenario.solution` as the member holding `token`.
    pub async fn run(&mut self, scenario: &Scenario, lab: &Lab, world: &mut World, token: &str) -> Result<(), AutopilotError> {
        for (i, step) in scenario.solution.iter().enumerate() {
            self.take(i + 1, step, scenario, lab, world, token).await?;
        }
        Ok(())
    }

    /// Takes one solution step (`n` is its 1-based number, for errors).
    pub async fn take(
        &mut self,
        n: usize,
        step: &SolutionStep,
        scenario: &Scenario,
        lab: &Lab,
        world: &mut World,
        token: &str,
    ) -> Result<(), AutopilotError> {
        let err = |message: String| AutopilotError::Step { step: n, message };
        let labels = &self.labels;
        let examiner = self.examiner.as_deref().unwrap_or(token);
        match step {
            SolutionStep::Capture { label, target } => {
                let url = match target {
                    CaptureTarget::VendorProfile { site, handle } => {
                        let base = lab.directory().sites.get(site).ok_or_else(|| err(format!("no site {site}")))?;
                        format!("{base}/api/vendors/{handle}")
                    }
                    CaptureTarget::ServerStatus { site } | CaptureTarget::MarketNews { site } => {
                        let base = lab.directory().sites.get(site).ok_or_else(|| err(format!("no site {site}")))?;
                        let page = if matches!(target, CaptureTarget::ServerStatus { .. }) { "server-status" } else { "api/news" };
                        format!("{base}/{page}")
                    }
                    CaptureTarget::ExplorerAddress(a) => {
                        let addr = address(lab, examiner, labels, a).await.map_err(err)?;
                        format!("{}/address/{addr}/txs", lab.directory().explorer)
                    }
                    CaptureTarget::ExplorerSpend(a) => {
                        let addr = address(lab, examiner, labels, a).await.map_err(err)?;
                        let txid = spending_tx(lab, token, &addr).await?.ok_or_else(|| err(format!("nothing spends from {addr}")))?;
                        format!("{}/tx/{txid}", lab.directory().explorer)
                    }
                };
                let entry = lab.capture(token, &url).await?;
                self.log.push(format!("{} captured {url} as {} ({label})", world.clock().now(), entry.id));
                self.labels.insert(label.clone(), entry.id);
            }
            SolutionStep::Request { label, kind, provider, target, grounds, response } => {
                let target = address(lab, examiner, labels, target).await.map_err(err)?;
                let grounds = grounds
                    .iter()
                    .map(|g| labels.get(g).cloned().ok_or_else(|| err(format!("no evidence labelled {g}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                let req =
                    lab.request(token, RequestDraft { kind: *kind, provider: provider.clone(), target: target.clone(), grounds }).await?;
                self.log.push(format!("{} filed {} ({label}): {kind:?} to {provider} for {target}", world.clock().now(), req.id));
                let evidence = wait_for_answer(lab, world, token, &req.id, n, &mut self.log).await?;
                let evidence = match evidence {
                    Some(e) => e,
                    None => {
                        let entry = lab.seize(examiner, SeizureDraft { request: req.id.clone() }).await?;
                        self.log.push(format!("{} executed {} and imaged the server as {}", world.clock().now(), req.id, entry.id));
                        entry.id
                    }
                };
                self.labels.insert(response.clone(), evidence);
            }
            SolutionStep::File(case) => {
                let file = self.case_file(scenario, case).map_err(err)?;
                let verdict = lab.submit_case(token, file).await?;
                self.log.push(format!("{} filed the case: {} / {} points", world.clock().now(), verdict.score, verdict.max_score));
                self.verdict = Some(verdict);
            }
        }
        Ok(())
    }

    /// Turns a solution's case into the lab's case file (labels → evidence ids, personas →
    /// handles as the team saw them).
    pub fn case_file(&self, scenario: &Scenario, case: &CaseSpec) -> Result<CaseFile, String> {
        let ids = |ls: &[EvidenceLabel]| {
            ls.iter().map(|l| self.labels.get(l).cloned().ok_or_else(|| format!("no evidence labelled {l}"))).collect::<Result<Vec<_>, _>>()
        };
        let mut suspects = Vec::new();
        for s in &case.suspects {
            let mut personas = Vec::new();
            for p in &s.personas {
                let persona =
                    scenario.cast.iter().flat_map(|a| a.personas.iter()).find(|x| &x.id == p).ok_or_else(|| format!("no persona {p}"))?;
                personas.push(PersonaRef { site: persona.site.clone(), handle: persona.handle.clone() });
            }
            let mut charges = Vec::new();
            for c in &s.charges {
                let mut elements = Vec::new();
                for e in &c.elements {
                    elements.push(ElementClaim { element: e.element.clone(), evidence: ids(&e.evidence)? });
                }
                charges.push(ChargeClaim { charge: c.charge.clone(), elements });
            }
            suspects.push(SuspectClaim { name: s.name.clone(), personas, attribution: ids(&s.attribution)?, charges });
        }
        Ok(CaseFile { suspects })
    }
}

/// Lets simulated time pass (the world keeps living) until the request is answered: the
/// provider's records, or none for a granted search warrant (the team executes it).
async fn wait_for_answer(
    lab: &Lab,
    world: &mut World,
    token: &str,
    id: &str,
    step: usize,
    log: &mut Vec<String>,
) -> Result<Option<EvidenceId>, AutopilotError> {
    loop {
        let req = lab.requests(token).await?.into_iter().find(|r| r.id == id);
        let warrant = req.as_ref().is_some_and(|r| r.kind == sim_core::scenario::RequestKind::SearchWarrant);
        match req.map(|r| r.status) {
            Some(RequestStatus::Answered { evidence, reason }) => {
                log.push(format!("{} {id} granted ({reason}); the provider's records arrived as {evidence}", world.clock().now()));
                return Ok(Some(evidence));
            }
            Some(RequestStatus::Authorised { reason }) if warrant => {
                log.push(format!("{} {id} granted ({reason})", world.clock().now()));
                return Ok(None);
            }
            Some(RequestStatus::Refused { reason }) => return Err(AutopilotError::Refused { step, reason }),
            Some(RequestStatus::Authorised { .. }) => {
                return Err(AutopilotError::Step { step, message: format!("{id} was granted but produces no records to label") });
            }
            None => return Err(AutopilotError::Step { step, message: format!("request {id} vanished") }),
            Some(_) => {}
        }
        let Some(due) = lab.next_due().await else {
            return Err(AutopilotError::Step { step, message: format!("request {id} is stuck") });
        };
        world.run_until(due.max(world.clock().now())).await?;
        lab.tick().await?;
    }
}

/// Resolves an address reference (coin, e-mail or IP) from the autopilot's own evidence.
async fn address(lab: &Lab, token: &str, labels: &BTreeMap<EvidenceLabel, EvidenceId>, a: &AddressRef) -> Result<String, String> {
    let (label, paid) = match a {
        AddressRef::SeizedPayout { image, handle } => {
            let id = labels.get(image).ok_or_else(|| format!("no evidence labelled {image}"))?;
            let filter = BTreeMap::from([("handle".to_string(), handle.clone())]);
            let view = lab.query_seized(token, id, "vendors", &filter).await.map_err(|e| e.to_string())?;
            let col = view.columns.iter().position(|c| c == "payout_address");
            let found = view.rows.first().and_then(|r| col.and_then(|c| r.get(c))).and_then(Value::as_str);
            return found.map(str::to_string).ok_or_else(|| format!("{image} holds no vendor {handle}"));
        }
        AddressRef::FirstIn(l) => (l, false),
        AddressRef::PaidIn(l) => (l, true),
        AddressRef::EmailIn(l) | AddressRef::IpIn(l) => {
            let id = labels.get(l).ok_or_else(|| format!("no evidence labelled {l}"))?;
            let content = lab.evidence_content(token, id).await.map_err(|e| e.to_string())?;
            let json: Value = serde_json::from_slice(&content).unwrap_or(Value::Null);
            let found = if matches!(a, AddressRef::EmailIn(_)) {
                // The key's user IDs first (read from the key itself), then the page's text.
                let key = json.get("pgp_key").and_then(Value::as_str).map(key_emails).unwrap_or_default();
                key.into_iter().chain(emails_in_text(&String::from_utf8_lossy(&content))).next()
            } else {
                ips_in_records(&json).into_iter().next()
            };
            let what = if matches!(a, AddressRef::EmailIn(_)) { "e-mail address" } else { "IP address" };
            return found.ok_or_else(|| format!("{l} shows no {what}"));
        }
    };
    let id = labels.get(label).ok_or_else(|| format!("no evidence labelled {label}"))?;
    let content = lab.evidence_content(token, id).await.map_err(|e| e.to_string())?;
    if !paid {
        let text = String::from_utf8_lossy(&content);
        return addresses_in_text(&text).into_iter().next().ok_or_else(|| format!("{label} shows no address"));
    }
    let tx: Value = serde_json::from_slice(&content).map_err(|e| format!("{label} is not a transaction: {e}"))?;
    let (inputs, outputs) = tx_addresses(&tx);
    outputs.into_iter().find(|o| !inputs.contains(o)).ok_or_else(|| format!("{label} pays no outside address"))
}

/// Browses the explorer for the first transaction spending from `addr`.
async fn spending_tx(lab: &Lab, token: &str, addr: &str) -> Result<Option<String>, AutopilotError> {
    let url = format!("{}/address/{addr}/txs", lab.directory().explorer);
    let body = lab.browse(token, &url).await?;
    let txs: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(txs.as_array().into_iter().flatten().find_map(|tx| {
        let spends = tx_addresses(tx).0.iter().any(|a| a == addr);
        if spends { tx.get("txid").and_then(Value::as_str).map(str::to_string) } else { None }
    }))
}
