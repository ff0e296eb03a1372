//! The trainee workstation and the instructor console, as plain Rust state and actions
//! with no window: each panel's state, the lab client, locale loading, the money-flow
//! graph with its heuristics, the case board and its case file. The Bevy + egui window
//! (`darklab-workstation`, feature `workstation`) is a thin layer that draws this state and
//! turns clicks into [`Action`]s; the headless tests drive the same actions.
//!
//! Everything goes through the lab's API with the member's token: pages and the explorer
//! through `POST /api/browse`, captures through `POST /api/captures`. Nothing here talks to
//! the world directly.

pub mod board;
pub mod browser;
pub mod client;
pub mod console;
pub mod flow;
pub mod legal;
pub mod locale;
pub mod locker;
pub mod seized;
pub mod undercover;

use std::collections::BTreeMap;

use coin_sim::dto::TxDto;
use sim_core::clock::SimTime;

use crate::lab::{Announcement, HintGiven, RequestStatus};
use crate::ledger::EvidenceId;
use crate::prosecutor::Verdict;
use board::{Board, CaseBuilder, Entity, EntityKind};
use browser::{Browser, ImageInfo, PageView};
use client::{ClientError, LabClient, LabStatus};
use flow::{FlowGraph, FlowKind, Heuristic};
use legal::LegalPanel;
use locker::Locker;
use seized::SeizedPanel;
use undercover::UndercoverPanel;

/// The trainee's panels, in the order of the side bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Panel {
    /// Onion browser.
    Browser,
    /// Chain explorer and money-flow graph.
    Explorer,
    /// Case board (link chart).
    Board,
    /// Evidence locker.
    Locker,
    /// Legal requests.
    Legal,
    /// Undercover accounts and purchases.
    Undercover,
    /// Seized server images.
    Seized,
    /// Case file builder and submission.
    Case,
}

impl Panel {
    /// Every panel, side-bar order.
    pub const ALL: [Panel; 8] =
        [Panel::Browser, Panel::Explorer, Panel::Board, Panel::Locker, Panel::Legal, Panel::Undercover, Panel::Seized, Panel::Case];

    /// The panel's title (a locale key).
    pub fn key(self) -> &'static str {
        match self {
            Panel::Browser => "panel.browser",
            Panel::Explorer => "panel.explorer",
            Panel::Board => "panel.board",
            Panel::Locker => "panel.locker",
            Panel::Legal => "panel.legal",
            Panel::Undercover => "panel.undercover",
            Panel::Seized => "panel.seized",
            Panel::Case => "panel.case",
        }
    }
}

/// Something the trainee or instructor should see: a locale key and a detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Locale key of the headline.
    pub key: String,
    /// Detail (an id, a message).
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
}

/// A view whose endpoint a lab may not offer, as last fetched.
#[derive(Clone, Debug, PartialEq)]
pub enum Fetched<T> {
    /// The lab answered.
    Loaded(T),
    /// The lab has no such endpoint (404): "not available on this lab".
    NotAvailable,
    /// Another failure.
    Failed(String),
}

impl<T> Fetched<T> {
    /// From a client call's result.
    pub fn from_result(r: Result<T, ClientError>) -> Fetched<T> {
        match r {
            Ok(v) => Fetched::Loaded(v),
            Err(ClientError::NotAvailable(_)) => Fetched::NotAvailable,
            Err(e) => Fetched::Failed(e.to_string()),
        }
    }

    /// The data, when loaded.
    pub fn loaded(&self) -> Option<&T> {
        match self {
            Fetched::Loaded(v) => Some(v),
            _ => None,
        }
    }
}

/// What the chain explorer shows besides the graph.
#[derive(Clone, Debug, Default)]
pub struct Explorer {
    /// The search box (txid, address or block height).
    pub query: String,
    /// The money-flow graph.
    pub flow: FlowGraph,
    /// The node selected in the graph.
    pub selected: Option<String>,
    /// The last block looked up: height, hash and its transactions.
    pub block: Option<(u32, String, Vec<String>)>,
    /// Transactions fetched, by txid (for the detail pane).
    pub txs: BTreeMap<String, TxDto>,
}

/// A trainee's action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Reload status, evidence, requests, announcements, hints and the case.
    Refresh,
    /// Open what the address bar holds.
    Open(String),
    /// Back in the browser's history.
    Back,
    /// Forward in the browser's history.
    Forward,
    /// Capture the page shown into the ledger.
    Capture,
    /// Show an image of the page with its metadata.
    ShowImage(String),
    /// Look up a txid, an address or a block height in the explorer.
    Search(String),
    /// Expand a node of the money-flow graph.
    Expand(String),
    /// Accept (`true`) or reject a heuristic suggestion.
    Decide(usize, bool),
    /// Show a piece of evidence in detail.
    Select(EvidenceId),
    /// Check the detailed evidence's hash.
    CheckHash,
    /// File the legal request form.
    FileRequest,
    /// Draw a link on the board.
    Link {
        /// One end.
        a: Entity,
        /// Other end.
        b: Entity,
        /// What links them.
        relation: String,
        /// Cited evidence.
        evidence: Vec<EvidenceId>,
    },
    /// Cite evidence for an element of a charge.
    Cite {
        /// The identity.
        suspect: String,
        /// The charge.
        charge: String,
        /// The element.
        element: String,
        /// The evidence.
        evidence: Vec<EvidenceId>,
    },
    /// Save the case built on the board as the team's draft.
    SaveCase,
    /// Submit the case built on the board.
    SubmitCase,
    /// Undercover work from the Undercover panel's forms.
    Undercover(UndercoverAction),
    /// Examination of a seized image from the Seized image panel.
    Seized(SeizedAction),
}

/// What the Seized image panel does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeizedAction {
    /// Reload the team's seized images.
    Reload,
    /// Open an image (its first view).
    Open(EvidenceId),
    /// Show another view of the open image.
    Table(String),
    /// Run the query form from its first page.
    Query,
    /// Show page `n` (from 0) of the result.
    Page(usize),
    /// Cite row `i` of the page on the case board.
    Cite(usize),
}

/// What the Undercover panel does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UndercoverAction {
    /// Reload the team's undercover work.
    Reload,
    /// Open the account the form describes.
    OpenAccount,
    /// Send the message form from the selected account.
    SendMessage,
    /// Read the selected account's inbox (new messages become evidence).
    ReadInbox,
    /// Make the purchase the form describes from the selected account.
    Purchase,
}

/// The whole trainee workstation.
#[derive(Debug)]
pub struct Workstation {
    client: LabClient,
    /// The panel shown.
    pub panel: Panel,
    /// The lab's status (exercise, clock, sites).
    pub status: Option<LabStatus>,
    /// Onion browser.
    pub browser: Browser,
    /// Chain explorer.
    pub explorer: Explorer,
    /// Case board.
    pub board: Board,
    /// Case builder.
    pub case: CaseBuilder,
    /// Evidence locker.
    pub locker: Locker,
    /// Legal requests.
    pub legal: LegalPanel,
    /// Undercover accounts, messages and purchases.
    pub undercover: UndercoverPanel,
    /// Seized images and their examination.
    pub seized: SeizedPanel,
    /// Announcements seen so far.
    pub announcements: Vec<Announcement>,
    /// Hints held.
    pub hints: Vec<HintGiven>,
    /// The verdict, once the case is submitted.
    pub verdict: Option<Verdict>,
    /// Notifications, newest last.
    pub notices: Vec<Notice>,
}

fn tx_url(explorer: &str, txid: &str) -> String {
    format!("{}/tx/{txid}", explorer.trim_end_matches('/'))
}

impl Workstation {
    /// A workstation on the lab that `client` reaches.
    pub fn new(client: LabClient) -> Workstation {
        Workstation {
            client,
            panel: Panel::Browser,
            status: None,
            browser: Browser::default(),
            explorer: Explorer::default(),
            board: Board::default(),
            case: CaseBuilder::default(),
            locker: Locker::default(),
            legal: LegalPanel::default(),
            undercover: UndercoverPanel::default(),
            seized: SeizedPanel::default(),
            announcements: Vec::new(),
            hints: Vec::new(),
            verdict: None,
            notices: Vec::new(),
        }
    }

    /// The simulated time, as last read.
    pub fn sim_time(&self) -> Option<SimTime> {
        self.status.as_ref().map(|s| s.sim_time)
    }

    fn notice(&mut self, key: &str, text: String, error: bool) {
        self.notices.push(Notice { key: key.to_string(), text, error });
    }

    fn explorer_base(&self) -> Result<String, ClientError> {
        self.status.as_ref().map(|s| s.explorer.clone()).ok_or_else(|| ClientError::NotAvailable("status".into()))
    }

    /// Carries out an action; failures become error notices, never panics.
    pub async fn perform(&mut self, action: Action) {
        if let Err(e) = self.run(action).await {
            self.notice("notice.error", e.to_string(), true);
        }
    }

    async fn run(&mut self, action: Action) -> Result<(), ClientError> {
        match action {
            Action::Refresh => self.refresh().await,
            Action::Open(input) => {
                let sites = self.status.as_ref().map(|s| s.sites.clone()).unwrap_or_default();
                let url = Browser::resolve(&input, &sites).ok_or_else(|| ClientError::NotAvailable(input.clone()))?;
                self.load_page(&url).await?;
                self.browser.visit(&url);
                Ok(())
            }
            Action::Back => match self.browser.back() {
                Some(url) => self.load_page(&url).await,
                None => Ok(()),
            },
            Action::Forward => match self.browser.forward() {
                Some(url) => self.load_page(&url).await,
                None => Ok(()),
            },
            Action::Capture => {
                let Some(url) = self.browser.page.as_ref().map(|p| p.url.clone()) else { return Ok(()) };
                let entry = self.client.capture(&url).await?;
                self.notice("notice.captured", format!("{} {}", entry.id, entry.source), false);
                self.locker.entries.push(entry);
                Ok(())
            }
            Action::ShowImage(url) => {
                let bytes = self.client.browse(&url).await?;
                self.browser.image = Some(ImageInfo { url, size: bytes.len(), metadata: browser::image_metadata(&bytes) });
                Ok(())
            }
            Action::Search(q) => self.search(q.trim()).await,
            Action::Expand(id) => self.expand(&id).await,
            Action::Decide(i, accept) => self.decide(i, accept).await,
            Action::Select(id) => {
                self.locker.detail = Some(self.client.evidence_detail(&id).await?);
                self.locker.hash = None;
                Ok(())
            }
            Action::CheckHash => {
                let Some(entry) = self.locker.detail.as_ref().map(|d| d.entry.clone()) else { return Ok(()) };
                let content = self.client.evidence_content(&entry.id).await?;
                self.locker.hash = Some(locker::check_hash(&entry, &content));
                // Viewing the content is a custody event: show it.
                self.locker.detail = Some(self.client.evidence_detail(&entry.id).await?);
                Ok(())
            }
            Action::FileRequest => match self.legal.form.draft() {
                Err(e) => {
                    self.notice(&e.to_string(), String::new(), true);
                    Ok(())
                }
                Ok(draft) => {
                    let req = self.client.file_request(&draft).await?;
                    self.notice("notice.filed", format!("{} {:?} → {}", req.id, req.kind, req.provider), false);
                    self.legal.requests.push(req);
                    self.legal.form.grounds.clear();
                    Ok(())
                }
            },
            Action::Link { a, b, relation, evidence } => {
                if let Err(e) = self.board.link(a, b, &relation, &evidence) {
                    self.notice("notice.board", e.to_string(), true);
                }
                Ok(())
            }
            Action::Cite { suspect, charge, element, evidence } => {
                if let Err(e) = self.case.cite(&suspect, &charge, &element, &evidence) {
                    self.notice("notice.board", e.to_string(), true);
                }
                Ok(())
            }
            Action::SaveCase | Action::SubmitCase => {
                let case = match self.case.case_file(&self.board) {
                    Ok(c) => c,
                    Err(e) => {
                        self.notice("notice.board", e.to_string(), true);
                        return Ok(());
                    }
                };
                if action == Action::SaveCase {
                    self.client.save_case(&case).await?;
                    self.notice("notice.saved", String::new(), false);
                } else {
                    let v = self.client.submit_case(&case).await?;
                    self.notice("notice.submitted", format!("{} / {}", v.score, v.max_score), false);
                    self.verdict = Some(v);
                }
                Ok(())
            }
            Action::Undercover(a) => self.undercover(a).await,
            Action::Seized(a) => self.examine(a).await,
        }
    }

    /// Seized images: a refusal of the member's role is the panel's state, not an error; a
    /// query runs only when the form is complete; a cited row draws board links citing the
    /// image.
    async fn examine(&mut self, action: SeizedAction) -> Result<(), ClientError> {
        match action {
            SeizedAction::Reload => {
                self.seized.access = match self.client.seized().await {
                    Ok(images) => {
                        self.seized.images = images;
                        seized::Access::Listed
                    }
                    Err(ClientError::Refused { status: 403, message }) => seized::Access::Refused(message),
                    Err(ClientError::NotAvailable(_)) => seized::Access::NotAvailable,
                    Err(e) => return Err(e),
                };
                let open = self.seized.image.clone().filter(|id| self.seized.images.iter().any(|i| &i.evidence == id));
                match (open, self.seized.images.first().map(|i| i.evidence.clone())) {
                    (Some(_), _) => {}
                    (None, Some(first)) => {
                        self.seized.open(&first);
                    }
                    (None, None) => return Ok(()),
                }
            }
            SeizedAction::Open(id) => {
                if !self.seized.open(&id) {
                    self.notice("seized.error.image", id.0, true);
                    return Ok(());
                }
            }
            SeizedAction::Table(t) => self.seized.choose_table(&t),
            SeizedAction::Query => self.seized.offset = 0,
            SeizedAction::Page(n) => {
                self.seized.go_to(n);
            }
            SeizedAction::Cite(i) => {
                match self.seized.cite(i) {
                    None => self.notice("seized.error.cite", String::new(), true),
                    Some((c, links)) => {
                        for l in links {
                            if let Err(e) = self.board.link(l.a, l.b, &l.relation, std::slice::from_ref(&c.evidence)) {
                                self.notice("notice.board", e.to_string(), true);
                            }
                        }
                        self.notice("notice.seized_cited", format!("{} {} #{}", c.evidence, c.table, c.position + 1), false);
                    }
                }
                return Ok(());
            }
        }
        match self.seized.query_path() {
            Err(e) => self.notice(&e.to_string(), String::new(), true),
            Ok(path) => {
                self.seized.view = Some(self.client.query_seized(&path).await?);
                self.seized.selected = None;
            }
        }
        Ok(())
    }

    /// Undercover work: a form that is not complete is a notice (nothing is sent); after
    /// any action the panel reloads the team's undercover work from the lab.
    async fn undercover(&mut self, action: UndercoverAction) -> Result<(), ClientError> {
        let form = |e: undercover::FormError| e.to_string();
        match action {
            UndercoverAction::Reload => {}
            UndercoverAction::OpenAccount => match self.undercover.account_draft() {
                Err(e) => self.notice(&form(e), String::new(), true),
                Ok(d) => {
                    let a = self.client.open_account(&d).await?;
                    self.notice("notice.undercover_opened", format!("{} {} ({})", a.id, a.handle, a.site), false);
                    self.undercover.selected = Some(a.id);
                }
            },
            UndercoverAction::SendMessage => match self.undercover.message_draft() {
                Err(e) => self.notice(&form(e), String::new(), true),
                Ok((account, d)) => {
                    let m = self.client.send_message(&account, &d).await?;
                    self.notice("notice.message_sent", format!("{} → {}", m.from, m.to), false);
                    self.undercover.forms.body.clear();
                }
            },
            UndercoverAction::ReadInbox => match self.undercover.selected.clone() {
                None => self.notice(&form(undercover::FormError::NoSelection), String::new(), true),
                Some(account) => {
                    let new = self.client.read_inbox(&account).await?;
                    self.notice("notice.inbox", new.len().to_string(), false);
                }
            },
            UndercoverAction::Purchase => match self.undercover.purchase_draft() {
                Err(e) => self.notice(&form(e), String::new(), true),
                Ok((account, d)) => {
                    let p = self.client.purchase(&account, &d).await?;
                    self.notice("notice.purchased", format!("{}: order {} paid in {}", p.id, p.order_id, p.txid), false);
                }
            },
        }
        self.undercover.view = Some(self.client.undercover().await?);
        self.locker.entries = self.client.evidence().await?;
        Ok(())
    }

    async fn refresh(&mut self) -> Result<(), ClientError> {
        self.status = Some(self.client.status().await?);
        self.locker.entries = self.client.evidence().await?;
        let before: BTreeMap<String, RequestStatus> = self.legal.requests.iter().map(|r| (r.id.clone(), r.status.clone())).collect();
        self.legal.requests = self.client.requests().await?;
        let changed: Vec<(String, &'static str)> = self
            .legal
            .requests
            .iter()
            .filter(|r| before.get(&r.id).is_some_and(|s| *s != r.status))
            .map(|r| (r.id.clone(), legal::status_key(&r.status)))
            .collect();
        for (id, key) in changed {
            self.notice("notice.request_changed", format!("{id}: {key}"), false);
        }
        let announcements = self.client.announcements().await?;
        for a in announcements.iter().skip(self.announcements.len()) {
            self.notices.push(Notice { key: "notice.announcement".into(), text: a.message.clone(), error: false });
        }
        self.announcements = announcements;
        self.hints = self.client.hints().await?;
        Ok(())
    }

    async fn load_page(&mut self, url: &str) -> Result<(), ClientError> {
        let bytes = self.client.browse(url).await?;
        let value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        self.browser.page = Some(PageView::from_json(url, &value));
        self.browser.image = None;
        Ok(())
    }

    async fn fetch_tx(&mut self, txid: &str) -> Result<TxDto, ClientError> {
        let base = self.explorer_base()?;
        let tx: TxDto = self.client.browse_json(&tx_url(&base, txid)).await?;
        self.explorer.txs.insert(txid.to_string(), tx.clone());
        Ok(tx)
    }

    async fn search(&mut self, q: &str) -> Result<(), ClientError> {
        let base = self.explorer_base()?;
        if let Ok(height) = q.parse::<u32>() {
            self.explorer.block = None;
            let hash = String::from_utf8_lossy(&self.client.browse(&format!("{base}/block-height/{height}")).await?).trim().to_string();
            let txids: Vec<String> = self.client.browse_json(&format!("{base}/block/{hash}/txids")).await?;
            self.explorer.block = Some((height, hash, txids));
            return Ok(());
        }
        if q.len() == 64 && q.bytes().all(|b| b.is_ascii_hexdigit()) {
            let tx = self.fetch_tx(q).await?;
            self.explorer.flow.add_tx(&tx);
        } else {
            let txs: Vec<TxDto> = self.client.browse_json(&format!("{base}/address/{q}/txs")).await?;
            for t in &txs {
                self.explorer.txs.insert(t.txid.to_string(), t.clone());
            }
            self.explorer.flow.add_address(q, &txs);
        }
        self.explorer.selected = Some(q.to_string());
        Ok(())
    }

    async fn expand(&mut self, id: &str) -> Result<(), ClientError> {
        let kind = self.explorer.flow.nodes.get(id).map(|n| n.kind);
        match kind {
            Some(FlowKind::Tx) => {
                let tx = self.fetch_tx(id).await?;
                self.explorer.flow.add_tx(&tx);
            }
            Some(FlowKind::Address) => {
                let base = self.explorer_base()?;
                let txs: Vec<TxDto> = self.client.browse_json(&format!("{base}/address/{id}/txs")).await?;
                for t in &txs {
                    self.explorer.txs.insert(t.txid.to_string(), t.clone());
                }
                self.explorer.flow.add_address(id, &txs);
            }
            None => {}
        }
        self.explorer.selected = Some(id.to_string());
        Ok(())
    }

    /// Accepting a suggestion captures its transaction (unless the ledger has it) and draws
    /// "same owner" links between its addresses on the board, citing that capture.
    async fn decide(&mut self, index: usize, accept: bool) -> Result<(), ClientError> {
        let Some(s) = self.explorer.flow.suggestions.get(index).cloned() else { return Ok(()) };
        if !accept {
            self.explorer.flow.decide(index, false);
            return Ok(());
        }
        let url = tx_url(&self.explorer_base()?, &s.txid);
        let evidence = match self.locker.by_source(&url) {
            Some(e) => e.id.clone(),
            None => {
                let entry = self.client.capture(&url).await?;
                let id = entry.id.clone();
                self.notice("notice.captured", format!("{} {}", entry.id, entry.source), false);
                self.locker.entries.push(entry);
                id
            }
        };
        let relation = match s.heuristic {
            Heuristic::CommonInput => "same owner (common input)",
            Heuristic::Change => "same owner (change)",
        };
        let Some(first_address) = s.addresses.first() else { return Ok(()) };
        let first = Entity::new(EntityKind::Address, first_address);
        for other in s.addresses.iter().skip(1).filter(|a| *a != first_address) {
            if let Err(e) =
                self.board.link(first.clone(), Entity::new(EntityKind::Address, other), relation, std::slice::from_ref(&evidence))
            {
                self.notice("notice.board", e.to_string(), true);
            }
        }
        self.explorer.flow.decide(index, true);
        Ok(())
    }
}
