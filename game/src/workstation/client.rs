//! The workstation's only way into an exercise: the lab's HTTP API with a member token
//! (and the instructor's API with the instructor's token). Pages of the world and the
//! block explorer are read through the lab's `POST /api/browse`, never directly.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sim_core::clock::SimTime;

use market_sim::market::image::TableView;

use crate::case::CaseFile;
use crate::challenge::board::Standing;
use crate::lab::{
    AccountDraft, Announcement, EvidenceDetail, HintGiven, LegalRequest, MessageDraft, Purchase, PurchaseDraft, RequestDraft,
    SeizedSummary, TeamProgress, TimelineEvent, Truth, UndercoverAccount, UndercoverMessage, UndercoverView,
};
use crate::ledger::{EvidenceEntry, EvidenceId};
use crate::net::consensus::NetworkMap;
use crate::prosecutor::Verdict;

/// Why a call to the lab failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The lab could not be reached or its answer not read.
    #[error("the lab at {url} cannot be reached: {message}")]
    Unreachable {
        /// What was called.
        url: String,
        /// Why.
        message: String,
    },
    /// The lab has no such endpoint (a lab without that feature) or no such record.
    #[error("not available on this lab: {0}")]
    NotAvailable(String),
    /// The lab refused the call; its message says why.
    #[error("{status}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The lab's `error` text.
        message: String,
    },
    /// The answer was not what the API documents.
    #[error("unexpected answer from {url}: {message}")]
    BadAnswer {
        /// What was called.
        url: String,
        /// Why it could not be read.
        message: String,
    },
}

/// The lab's status, as `GET /api/status` answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabStatus {
    /// The exercise's title.
    pub exercise: String,
    /// Current simulated time.
    pub sim_time: SimTime,
    /// Base URL of each site, by site id.
    pub sites: std::collections::BTreeMap<String, String>,
    /// Base URL of the block explorer.
    pub explorer: String,
}

/// The instructor's clock, as the console API answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaceDto {
    /// Whether the clock stands still.
    pub paused: bool,
    /// Simulated seconds per real second.
    pub compression: u32,
    /// Where the simulated clock is.
    pub sim_time: SimTime,
}

/// `GET /instructor/status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsoleStatusDto {
    /// The clock.
    pub pace: PaceDto,
    /// Whether the exercise has ended.
    pub ended: bool,
    /// Every team's progress.
    pub teams: Vec<TeamProgress>,
    /// In a challenge, where it stands (`running`, `locked`, `announced`); a classroom has
    /// none.
    #[serde(default)]
    pub phase: Option<String>,
}

/// A client of one lab with one token.
#[derive(Clone, Debug)]
pub struct LabClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl LabClient {
    /// A client of the lab at `base` (e.g. `http://127.0.0.1:8080`) using `token`.
    pub fn new(base: &str, token: &str) -> LabClient {
        LabClient { base: base.trim_end_matches('/').to_string(), token: token.to_string(), http: reqwest::Client::new() }
    }

    /// The lab's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| ClientError::Unreachable { url: url.clone(), message: e.to_string() })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable { url: url.clone(), message: e.to_string() })?.to_vec();
        if status.is_success() {
            return Ok(bytes);
        }
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(ClientError::NotAvailable(format!("{path} ({message})")));
        }
        Err(ClientError::Refused { status: status.as_u16(), message })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let bytes = self.send(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::BadAnswer { url: format!("{}{path}", self.base), message: e.to_string() })
    }

    fn body<T: Serialize>(value: &T) -> Result<serde_json::Value, ClientError> {
        serde_json::to_value(value).map_err(|e| ClientError::BadAnswer { url: "request".into(), message: e.to_string() })
    }

    /// `GET /api/status`.
    pub async fn status(&self) -> Result<LabStatus, ClientError> {
        self.json(reqwest::Method::GET, "/api/status", None).await
    }

    /// A page of the world (or of the explorer) through the lab, not recorded.
    pub async fn browse(&self, url: &str) -> Result<Vec<u8>, ClientError> {
        self.send(reqwest::Method::POST, "/api/browse", Some(json!({"url": url}))).await
    }

    /// A page of the world read as JSON through the lab.
    pub async fn browse_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ClientError> {
        let bytes = self.browse(url).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::BadAnswer { url: url.to_string(), message: e.to_string() })
    }

    /// Captures a page into the team's ledger.
    pub async fn capture(&self, url: &str) -> Result<EvidenceEntry, ClientError> {
        self.json(reqwest::Method::POST, "/api/captures", Some(json!({"url": url}))).await
    }

    /// The team's evidence.
    pub async fn evidence(&self) -> Result<Vec<EvidenceEntry>, ClientError> {
        self.json(reqwest::Method::GET, "/api/evidence", None).await
    }

    /// One piece of evidence with its custody log and integrity.
    pub async fn evidence_detail(&self, id: &EvidenceId) -> Result<EvidenceDetail, ClientError> {
        self.json(reqwest::Method::GET, &format!("/api/evidence/{}", id.0), None).await
    }

    /// The artifact itself (the lab records a Viewed custody event).
    pub async fn evidence_content(&self, id: &EvidenceId) -> Result<Vec<u8>, ClientError> {
        self.send(reqwest::Method::GET, &format!("/api/evidence/{}/content", id.0), None).await
    }

    /// The team's legal requests.
    pub async fn requests(&self) -> Result<Vec<LegalRequest>, ClientError> {
        self.json(reqwest::Method::GET, "/api/requests", None).await
    }

    /// Files a legal request (head of unit only).
    pub async fn file_request(&self, draft: &RequestDraft) -> Result<LegalRequest, ClientError> {
        self.json(reqwest::Method::POST, "/api/requests", Some(Self::body(draft)?)).await
    }

    /// The team's case (submitted, else the saved draft).
    pub async fn case(&self) -> Result<Option<CaseFile>, ClientError> {
        self.json(reqwest::Method::GET, "/api/case", None).await
    }

    /// Saves a draft of the case.
    pub async fn save_case(&self, case: &CaseFile) -> Result<(), ClientError> {
        self.send(reqwest::Method::PUT, "/api/case", Some(Self::body(case)?)).await.map(|_| ())
    }

    /// Submits the case (head of unit only); the prosecutor's verdict comes back.
    pub async fn submit_case(&self, case: &CaseFile) -> Result<Verdict, ClientError> {
        self.json(reqwest::Method::POST, "/api/case", Some(Self::body(case)?)).await
    }

    /// Injects and instructor messages released so far.
    pub async fn announcements(&self) -> Result<Vec<Announcement>, ClientError> {
        self.json(reqwest::Method::GET, "/api/announcements", None).await
    }

    /// Hints the team holds.
    pub async fn hints(&self) -> Result<Vec<HintGiven>, ClientError> {
        self.json(reqwest::Method::GET, "/api/hints", None).await
    }

    /// The team's undercover accounts, messages and purchases.
    pub async fn undercover(&self) -> Result<UndercoverView, ClientError> {
        self.json(reqwest::Method::GET, "/api/undercover", None).await
    }

    /// Opens an undercover account (investigators, under an authorisation for the site).
    pub async fn open_account(&self, draft: &AccountDraft) -> Result<UndercoverAccount, ClientError> {
        self.json(reqwest::Method::POST, "/api/undercover/accounts", Some(Self::body(draft)?)).await
    }

    /// Sends a private message from an undercover account.
    pub async fn send_message(&self, account: &str, draft: &MessageDraft) -> Result<UndercoverMessage, ClientError> {
        self.json(reqwest::Method::POST, &format!("/api/undercover/accounts/{account}/messages"), Some(Self::body(draft)?)).await
    }

    /// Reads an undercover account's inbox; the new messages come back (and are evidence).
    pub async fn read_inbox(&self, account: &str) -> Result<Vec<UndercoverMessage>, ClientError> {
        self.json(reqwest::Method::POST, &format!("/api/undercover/accounts/{account}/inbox"), None).await
    }

    /// A controlled purchase from an undercover account.
    pub async fn purchase(&self, account: &str, draft: &PurchaseDraft) -> Result<Purchase, ClientError> {
        self.json(reqwest::Method::POST, &format!("/api/undercover/accounts/{account}/purchases"), Some(Self::body(draft)?)).await
    }

    /// The team's seized images (forensic examiners only).
    pub async fn seized(&self) -> Result<Vec<SeizedSummary>, ClientError> {
        self.json(reqwest::Method::GET, "/api/seized", None).await
    }

    /// One page of a seized image's view: `path` as [`super::seized::SeizedPanel::query_path`]
    /// builds it (a view, filters on its columns, a page; never SQL).
    pub async fn query_seized(&self, path: &str) -> Result<TableView, ClientError> {
        self.json(reqwest::Method::GET, path, None).await
    }

    /// The classroom's scoreboard (instructor token).
    pub async fn scoreboard(&self) -> Result<Vec<Standing>, ClientError> {
        self.json(reqwest::Method::GET, "/instructor/scoreboard", None).await
    }

    /// The network map (instructor token); in a challenge, of `team`'s world (`None`: the
    /// first team's).
    pub async fn network(&self, team: Option<&str>) -> Result<NetworkMap, ClientError> {
        self.json(reqwest::Method::GET, &world_query("/instructor/network", team), None).await
    }

    /// What really happened (instructor token; a team token is refused); in a challenge, in
    /// `team`'s world (`None`: the first team's).
    pub async fn truth(&self, team: Option<&str>) -> Result<Truth, ClientError> {
        self.json(reqwest::Method::GET, &world_query("/instructor/truth", team), None).await
    }

    /// Any other lab endpoint read as JSON (undercover, seized images…): a lab that does
    /// not offer it answers 404, which reads as [`ClientError::NotAvailable`].
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.json(reqwest::Method::GET, path, None).await
    }

    /// `GET /instructor/status` (instructor token).
    pub async fn console_status(&self) -> Result<ConsoleStatusDto, ClientError> {
        self.json(reqwest::Method::GET, "/instructor/status", None).await
    }

    /// Pauses (`true`) or resumes the classroom's clock.
    pub async fn set_paused(&self, paused: bool) -> Result<PaceDto, ClientError> {
        let path = if paused { "/instructor/pause" } else { "/instructor/resume" };
        self.json(reqwest::Method::POST, path, None).await
    }

    /// Sets simulated seconds per real second.
    pub async fn set_compression(&self, factor: u32) -> Result<PaceDto, ClientError> {
        self.json(reqwest::Method::POST, "/instructor/compression", Some(json!({"factor": factor}))).await
    }

    /// Sends a message to every team.
    pub async fn inject(&self, message: &str) -> Result<Announcement, ClientError> {
        self.json(reqwest::Method::POST, "/instructor/inject", Some(json!({"message": message}))).await
    }

    /// Gives a team one of the scenario's hints.
    pub async fn give_hint(&self, team: &str, hint: &str) -> Result<HintGiven, ClientError> {
        self.json(reqwest::Method::POST, "/instructor/hints", Some(json!({"team": team, "hint": hint}))).await
    }

    /// A team's timeline, for the debrief's replay.
    pub async fn timeline(&self, team: &str) -> Result<Vec<TimelineEvent>, ClientError> {
        self.json(reqwest::Method::GET, &format!("/instructor/teams/{team}/timeline"), None).await
    }
}

/// `path?team=<team>` with the name percent-encoded, or `path` alone.
fn world_query(path: &str, team: Option<&str>) -> String {
    let Some(team) = team else { return path.to_string() };
    let mut out = format!("{path}?team=");
    for b in team.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
