//! Undercover work: team-controlled accounts on the world's market and forum, private
//! messages, forum posts and controlled purchases paid from the team's evidence wallet —
//! only under a granted undercover authorisation naming the site.
//!
//! The lab does all of it itself, through the world's network and the sites' public APIs
//! (like a capture), and pays escrow with real signed transactions broadcast through the
//! explorer. What it obtains — each message received, the order page, the payment
//! transaction — enters the team's ledger at once under the authorisation. The accounts'
//! handles are how the lab knows which tip-offs a team caused ([`Lab::tip_offs_of`]).
//! Investigators act undercover; any member may look.

use bitcoin::Address;
use coin_sim::{EsploraClient, Wallet};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sim_core::clock::SimTime;
use sim_core::ids::SiteId;
use sim_core::rng;
use sim_core::scenario::{RequestKind, SiteKind};

use market_sim::world::truth::TipOff;

use super::{Lab, LabError, Member, RequestStatus, Role, Team, real_time_now};
use crate::ledger::{ArtifactKind, Authority, EvidenceEntry, EvidenceId, NewEvidence};

/// A team-controlled account on a site (its password and session stay in the lab).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UndercoverAccount {
    /// `U1`, `U2`, …
    pub id: String,
    /// The site (a market or a forum).
    pub site: SiteId,
    /// The handle, as shown on the site.
    pub handle: String,
    /// The undercover authorisation it was opened under (`R3`).
    pub authority: String,
    /// Who opened it.
    pub opened_by: String,
    /// When (simulated).
    pub opened_at: SimTime,
}

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Direction {
    /// The team sent it.
    Sent,
    /// The account received it (it is evidence).
    Received,
}

/// A private message of an undercover account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UndercoverMessage {
    /// The account (`U1`).
    pub account: String,
    /// Sent or received.
    pub direction: Direction,
    /// The market's id of the message.
    pub market_id: i64,
    /// Sender's handle.
    pub from: String,
    /// Recipient's handle.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// When the lab sent or read it (simulated).
    pub at: SimTime,
    /// The evidence it became (received messages).
    pub evidence: Option<EvidenceId>,
}

/// A controlled purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Purchase {
    /// `P1`, `P2`, …
    pub id: String,
    /// The buying account (`U1`).
    pub account: String,
    /// The market's listing number.
    pub listing_id: i64,
    /// Units bought.
    pub quantity: u32,
    /// The market's order number.
    pub order_id: i64,
    /// What escrow asked for, in units.
    pub amount_sat: u64,
    /// The order's escrow address.
    pub escrow_address: String,
    /// The payment transaction.
    pub txid: String,
    /// The order page as evidence.
    pub order_evidence: EvidenceId,
    /// The payment transaction as evidence.
    pub payment_evidence: EvidenceId,
    /// Who made it.
    pub by: String,
    /// When (simulated).
    pub at: SimTime,
}

/// The team's evidence wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceWallet {
    /// Its receive address (and change address).
    pub address: String,
    /// Whether the lab has filled it from its evidence fund yet (at the first purchase).
    pub funded: bool,
}

/// Everything a team does undercover, for the workstation's Undercover panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UndercoverView {
    /// The team's accounts.
    pub accounts: Vec<UndercoverAccount>,
    /// Messages sent and received, in order.
    pub messages: Vec<UndercoverMessage>,
    /// Controlled purchases.
    pub purchases: Vec<Purchase>,
    /// The evidence wallet.
    pub wallet: EvidenceWallet,
}

/// An account to open.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccountDraft {
    /// The site (a market or a forum the team holds an undercover authorisation for).
    pub site: SiteId,
    /// The handle: 3–32 letters, digits, `_` or `-`.
    pub handle: String,
}

/// A private message to send from an account (markets only).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MessageDraft {
    /// The recipient's handle.
    pub to: String,
    /// Subject.
    #[serde(default)]
    pub subject: String,
    /// Body.
    pub body: String,
}

/// A public forum thread to start from an account (forums only).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PostDraft {
    /// The board's slug.
    pub board: String,
    /// Thread title.
    pub title: String,
    /// First post.
    pub body: String,
}

/// A controlled purchase to make from an account (markets only).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PurchaseDraft {
    /// The market's listing number.
    pub listing_id: i64,
    /// Units to buy.
    #[serde(default = "one")]
    pub quantity: u32,
    /// Where to ship (a controlled delivery address).
    #[serde(default = "drop_address")]
    pub shipping_info: String,
}

impl PurchaseDraft {
    /// A purchase of `quantity` units of a listing, shipped to the lab's controlled address.
    pub fn new(listing_id: i64, quantity: u32) -> PurchaseDraft {
        PurchaseDraft { listing_id, quantity, shipping_info: drop_address() }
    }
}

fn one() -> u32 {
    1
}
fn drop_address() -> String {
    "J. Smith\nPO Box 17, controlled delivery".into()
}

/// A team's undercover state in the lab.
#[derive(Debug)]
pub(super) struct Cover {
    accounts: Vec<(UndercoverAccount, String)>,
    messages: Vec<UndercoverMessage>,
    purchases: Vec<Purchase>,
    wallet: Wallet,
    funded: bool,
}

impl Cover {
    /// A team's empty cover, with its evidence wallet derived from the world seed and the team.
    pub(super) fn new(seed: u64, team: &str) -> Cover {
        let mut wallet = Wallet::from_seed(rng::stream_seed(seed, &format!("wallet:evidence:{team}")));
        wallet.new_address();
        Cover { accounts: Vec::new(), messages: Vec::new(), purchases: Vec::new(), wallet, funded: false }
    }

    /// The team's accounts.
    pub(super) fn accounts(&self) -> impl Iterator<Item = &UndercoverAccount> {
        self.accounts.iter().map(|(a, _)| a)
    }

    fn view(&self) -> UndercoverView {
        let address = self.wallet.addresses().first().map(ToString::to_string).unwrap_or_default();
        UndercoverView {
            accounts: self.accounts().cloned().collect(),
            messages: self.messages.clone(),
            purchases: self.purchases.clone(),
            wallet: EvidenceWallet { address, funded: self.funded },
        }
    }

    /// What the team did undercover, for the timeline: (when, who, what).
    pub(super) fn acts(&self) -> Vec<(SimTime, Option<String>, String)> {
        let mut out: Vec<(SimTime, Option<String>, String)> = self
            .accounts()
            .map(|a| {
                (
                    a.opened_at,
                    Some(a.opened_by.clone()),
                    format!("{} opened undercover account {} on {} under {}", a.id, a.handle, a.site, a.authority),
                )
            })
            .collect();
        for m in &self.messages {
            let what = match m.direction {
                Direction::Sent => format!("{} sent a private message to {}: \"{}\"", m.account, m.to, m.subject),
                Direction::Received => format!("{} received a private message from {}", m.account, m.from),
            };
            out.push((m.at, None, what));
        }
        for p in &self.purchases {
            out.push((
                p.at,
                Some(p.by.clone()),
                format!(
                    "{}: {} bought {} × listing {} (order {}), paid in {}",
                    p.id, p.account, p.quantity, p.listing_id, p.order_id, p.txid
                ),
            ));
        }
        out
    }
}

/// Whether a handle is acceptable on the world's sites.
fn valid_handle(h: &str) -> bool {
    (3..=32).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The team's granted undercover authorisation for `site`, by request id.
fn authority(t: &Team, site: &SiteId) -> Result<String, LabError> {
    t.requests
        .iter()
        .find(|r| {
            r.kind == RequestKind::UndercoverAuthorisation
                && r.provider.as_str() == site.as_str()
                && matches!(r.status, RequestStatus::Authorised { .. })
        })
        .map(|r| r.id.clone())
        .ok_or_else(|| {
            LabError::NoAuthorisation(format!(
                "no granted undercover authorisation for {site}: the head of unit files an UndercoverAuthorisation request naming the site and the persona under investigation"
            ))
        })
}

impl Lab {
    /// A team member who may act undercover (an investigator).
    async fn undercover_agent(&self, token: &str) -> Result<(String, Member), LabError> {
        let (team, member) = self.member(token).await?;
        if member.role != Role::Investigator {
            return Err(LabError::Forbidden { role: member.role, action: "act undercover" });
        }
        Ok((team, member))
    }

    /// One of the team's accounts (404 for another team's or none), with its session and
    /// the authorisation it still stands under; then the member's role (403).
    async fn account(&self, token: &str, id: &str) -> Result<(String, Member, UndercoverAccount, String), LabError> {
        let (team, member) = self.member(token).await?;
        let teams = self.teams.lock().await;
        let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
        let (account, session) =
            t.cover.accounts.iter().find(|(a, _)| a.id == id).cloned().ok_or_else(|| LabError::UnknownAccount(id.to_string()))?;
        if member.role != Role::Investigator {
            return Err(LabError::Forbidden { role: member.role, action: "act undercover" });
        }
        authority(t, &account.site)?;
        Ok((team, member, account, session))
    }

    /// Sends a JSON request to a site of the world through the lab's own client.
    async fn site_call(&self, method: reqwest::Method, url: &str, session: Option<&str>, body: Option<Value>) -> Result<Value, LabError> {
        let fail = |message: String| LabError::Fetch { url: url.to_string(), message };
        let mut req = self.party.client_for(url).request(method, url).header("accept", "application/json");
        if let Some(s) = session {
            req = req.bearer_auth(s);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| fail(e.to_string()))?;
        if status.is_client_error() {
            let why = serde_json::from_str::<Value>(&text).ok().and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
            return Err(LabError::Undercover(format!("the site refused ({status}): {}", why.unwrap_or(text))));
        }
        if !status.is_success() {
            return Err(fail(format!("status {status}")));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
    }

    fn site_base(&self, site: &SiteId) -> Result<(&str, &SiteKind), LabError> {
        let kind = self.scenario.sites.iter().find(|s| &s.id == site).map(|s| &s.kind);
        match (self.directory.sites.get(site), kind) {
            (Some(url), Some(kind)) => Ok((url.as_str(), kind)),
            _ => Err(LabError::NotInWorld(site.to_string())),
        }
    }

    /// Opens a team-controlled account on a market or forum, under the team's undercover
    /// authorisation for that site.
    pub async fn open_account(&self, token: &str, draft: AccountDraft) -> Result<UndercoverAccount, LabError> {
        let (team, member) = self.undercover_agent(token).await?;
        let (base, kind) = self.site_base(&draft.site)?;
        let path = match kind {
            SiteKind::Market(_) => "api/register",
            SiteKind::Forum => "register",
            _ => return Err(LabError::BadInput(format!("{} is neither a market nor a forum", draft.site))),
        };
        if !valid_handle(&draft.handle) {
            return Err(LabError::BadInput("a handle is 3-32 letters, digits, `_` or `-`".into()));
        }
        let authority = {
            let teams = self.teams.lock().await;
            authority(teams.get(&team).ok_or(LabError::UnknownToken)?, &draft.site)?
        };
        // A password only the lab knows, derived like every other secret of the world.
        let password = hex::encode(rng::stream_seed(self.seed, &format!("undercover-password:{team}:{}:{}", draft.site, draft.handle)));
        let answer = self
            .site_call(
                reqwest::Method::POST,
                &format!("{base}/{path}"),
                None,
                Some(json!({"username": draft.handle, "password": password})),
            )
            .await?;
        let session = answer
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| LabError::Fetch { url: format!("{base}/{path}"), message: "no session token in the answer".into() })?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let account = UndercoverAccount {
            id: format!("U{}", t.cover.accounts.len() + 1),
            site: draft.site,
            handle: draft.handle,
            authority,
            opened_by: member.name,
            opened_at: self.clock.now(),
        };
        t.cover.accounts.push((account.clone(), session.to_string()));
        tracing::info!(team, account = %account.id, handle = %account.handle, site = %account.site, "undercover account opened");
        Ok(account)
    }

    /// Sends a private message from one of the team's market accounts.
    pub async fn send_message(&self, token: &str, account: &str, draft: MessageDraft) -> Result<UndercoverMessage, LabError> {
        let (team, _, acc, session) = self.account(token, account).await?;
        let (base, kind) = self.site_base(&acc.site)?;
        if !matches!(kind, SiteKind::Market(_)) {
            return Err(LabError::BadInput(format!("{} has no private messages: post on the forum instead", acc.site)));
        }
        let body = json!({"to": draft.to, "subject": draft.subject, "body": draft.body});
        let answer = self.site_call(reqwest::Method::POST, &format!("{base}/api/messages"), Some(&session), Some(body)).await?;
        let message = UndercoverMessage {
            account: acc.id.clone(),
            direction: Direction::Sent,
            market_id: answer.get("id").and_then(Value::as_i64).unwrap_or_default(),
            from: acc.handle,
            to: draft.to,
            subject: draft.subject,
            body: draft.body,
            at: self.clock.now(),
            evidence: None,
        };
        let mut teams = self.teams.lock().await;
        teams.get_mut(&team).ok_or(LabError::UnknownToken)?.cover.messages.push(message.clone());
        Ok(message)
    }

    /// Reads one of the team's market accounts' inbox: every message not read before enters
    /// the ledger at once, under the account's authorisation. Returns those new messages.
    pub async fn read_inbox(&self, token: &str, account: &str) -> Result<Vec<UndercoverMessage>, LabError> {
        let (team, member, acc, session) = self.account(token, account).await?;
        let (base, kind) = self.site_base(&acc.site)?;
        if !matches!(kind, SiteKind::Market(_)) {
            return Err(LabError::BadInput(format!("{} has no private messages", acc.site)));
        }
        let mailbox = self.site_call(reqwest::Method::GET, &format!("{base}/api/messages"), Some(&session), None).await?;
        let mut inbox: Vec<Value> = mailbox.get("inbox").and_then(Value::as_array).cloned().unwrap_or_default();
        inbox.sort_by_key(|m| m.get("id").and_then(Value::as_i64));
        let now = self.clock.now();
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let mut new = Vec::new();
        for m in inbox {
            let Some(id) = m.get("id").and_then(Value::as_i64) else { continue };
            let read = t.cover.messages.iter().any(|x| x.account == acc.id && x.direction == Direction::Received && x.market_id == id);
            if read {
                continue;
            }
            let field = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let entry = t.ledger.append_evidence(NewEvidence {
                kind: ArtifactKind::PageCapture,
                source: format!("{base}/api/messages#{id}"),
                method: format!("read from the inbox of undercover account {} ({}) by the lab through the network", acc.id, acc.handle),
                obtained_by: member.name.clone(),
                authority: Authority::Order { request: acc.authority.clone(), kind: RequestKind::UndercoverAuthorisation },
                sim_time: now,
                real_time: real_time_now(),
                media_type: "application/json".into(),
                content: serde_json::to_vec(&m).unwrap_or_default(),
            })?;
            let message = UndercoverMessage {
                account: acc.id.clone(),
                direction: Direction::Received,
                market_id: id,
                from: field("from"),
                to: field("to"),
                subject: field("subject"),
                body: field("body"),
                at: now,
                evidence: Some(entry.id),
            };
            t.cover.messages.push(message.clone());
            new.push(message);
        }
        Ok(new)
    }

    /// Starts a public thread on a forum from one of the team's forum accounts.
    pub async fn post_thread(&self, token: &str, account: &str, draft: PostDraft) -> Result<Value, LabError> {
        let (_, _, acc, session) = self.account(token, account).await?;
        let (base, kind) = self.site_base(&acc.site)?;
        if !matches!(kind, SiteKind::Forum) {
            return Err(LabError::BadInput(format!("{} is not a forum", acc.site)));
        }
        if draft.board.is_empty() || !draft.board.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(LabError::BadInput("a board is named by its slug (a-z, 0-9, -)".into()));
        }
        let body = json!({"title": draft.title, "body": draft.body});
        self.site_call(reqwest::Method::POST, &format!("{base}/board/{}", draft.board), Some(&session), Some(body)).await
    }

    /// A controlled purchase: orders the listing from one of the team's market accounts and
    /// pays escrow from the team's evidence wallet with a signed transaction through the
    /// explorer; the order page and the payment enter the ledger at once.
    pub async fn purchase(&self, token: &str, account: &str, draft: PurchaseDraft) -> Result<Purchase, LabError> {
        let (team, member, acc, session) = self.account(token, account).await?;
        let (base, kind) = self.site_base(&acc.site)?;
        if !matches!(kind, SiteKind::Market(_)) {
            return Err(LabError::BadInput(format!("{} is not a market", acc.site)));
        }
        if draft.quantity == 0 {
            return Err(LabError::BadInput("buy at least one unit".into()));
        }
        let order = json!({"listing_id": draft.listing_id, "quantity": draft.quantity, "shipping_info": draft.shipping_info});
        let placed = self.site_call(reqwest::Method::POST, &format!("{base}/api/orders"), Some(&session), Some(order)).await?;
        let bad = |what: &str| LabError::Fetch { url: format!("{base}/api/orders"), message: format!("no {what} in the market's answer") };
        let order_id = placed.get("order_id").and_then(Value::as_i64).ok_or_else(|| bad("order_id"))?;
        let amount = placed.get("amount_sat").and_then(Value::as_u64).ok_or_else(|| bad("amount_sat"))?;
        let escrow = placed.get("escrow_address").and_then(Value::as_str).ok_or_else(|| bad("escrow_address"))?.to_string();
        let to = coin_sim::params::parse_address(&escrow).ok_or_else(|| bad("darkcoin escrow address"))?;
        let txid = self.pay_escrow(&team, &to, amount).await?;
        let order_url = format!("{base}/api/orders/{order_id}");
        let (order_page, order_media) = self.fetch(&order_url, Some(&session)).await?;
        let tx_url = format!("{}/tx/{txid}", self.directory.explorer);
        let (tx_record, tx_media) = self.fetch(&tx_url, None).await?;
        let now = self.clock.now();
        let under = Authority::Order { request: acc.authority.clone(), kind: RequestKind::UndercoverAuthorisation };
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        let order_entry = t.ledger.append_evidence(NewEvidence {
            kind: ArtifactKind::PageCapture,
            source: order_url,
            method: format!("controlled purchase by undercover account {} ({}): the order page, fetched by the lab", acc.id, acc.handle),
            obtained_by: member.name.clone(),
            authority: under.clone(),
            sim_time: now,
            real_time: real_time_now(),
            media_type: order_media,
            content: order_page,
        })?;
        let payment_entry = t.ledger.append_evidence(NewEvidence {
            kind: ArtifactKind::ChainRecord,
            source: tx_url,
            method: format!("controlled purchase by undercover account {}: the escrow payment from the team's evidence wallet", acc.id),
            obtained_by: member.name.clone(),
            authority: under,
            sim_time: now,
            real_time: real_time_now(),
            media_type: tx_media,
            content: tx_record,
        })?;
        let purchase = Purchase {
            id: format!("P{}", t.cover.purchases.len() + 1),
            account: acc.id,
            listing_id: draft.listing_id,
            quantity: draft.quantity,
            order_id,
            amount_sat: amount,
            escrow_address: escrow,
            txid: txid.to_string(),
            order_evidence: order_entry.id,
            payment_evidence: payment_entry.id,
            by: member.name,
            at: now,
        };
        t.cover.purchases.push(purchase.clone());
        tracing::info!(team, purchase = %purchase.id, order = order_id, txid = %purchase.txid, "controlled purchase");
        Ok(purchase)
    }

    /// Looks at a controlled purchase's order page again — shipped, it shows the courier's
    /// tracking number the vendor gave — through the purchasing account's session; the page
    /// enters the ledger under the authorisation.
    pub async fn recheck_purchase(&self, token: &str, purchase: &str) -> Result<EvidenceEntry, LabError> {
        let account = {
            let (team, _) = self.member(token).await?;
            let teams = self.teams.lock().await;
            let t = teams.get(&team).ok_or(LabError::UnknownToken)?;
            let p = t.cover.purchases.iter().find(|p| p.id == purchase).ok_or_else(|| LabError::UnknownPurchase(purchase.to_string()))?;
            (p.account.clone(), p.order_id)
        };
        let (team, member, acc, session) = self.account(token, &account.0).await?;
        let (base, _) = self.site_base(&acc.site)?;
        let order_url = format!("{base}/api/orders/{}", account.1);
        let (order_page, order_media) = self.fetch(&order_url, Some(&session)).await?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(&team).ok_or(LabError::UnknownToken)?;
        Ok(t.ledger.append_evidence(NewEvidence {
            kind: ArtifactKind::PageCapture,
            source: order_url,
            method: format!(
                "controlled purchase {purchase} by undercover account {} ({}): the order page again, fetched by the lab",
                acc.id, acc.handle
            ),
            obtained_by: member.name.clone(),
            authority: Authority::Order { request: acc.authority.clone(), kind: RequestKind::UndercoverAuthorisation },
            sim_time: self.clock.now(),
            real_time: real_time_now(),
            media_type: order_media,
            content: order_page,
        })?)
    }

    /// Pays `amount` to `to` from the team's evidence wallet, filling it first from the lab's
    /// evidence fund (`coin.evidence_funds`) if this is its first payment. Payments are made
    /// one at a time, so no two spend the same coins.
    async fn pay_escrow(&self, team: &str, to: &Address, amount: u64) -> Result<bitcoin::Txid, LabError> {
        let explorer = EsploraClient::new(self.party.client_for(&self.directory.explorer).clone(), self.directory.explorer.clone());
        let coin = |e: String| LabError::Undercover(format!("evidence wallet: {e}"));
        let fee_rate = self.scenario.coin.fee_rate;
        let mut fund = self.fund.lock().await;
        let (mut wallet, funded) = {
            let teams = self.teams.lock().await;
            let t = teams.get(team).ok_or(LabError::UnknownToken)?;
            (t.cover.wallet.clone(), t.cover.funded)
        };
        if !funded {
            let address = wallet.addresses().first().cloned().ok_or_else(|| coin("no address".into()))?;
            let coins = explorer.wallet_utxos(&fund).await.map_err(|e| coin(e.to_string()))?;
            let fill = fund.pay(&coins, &[(address, self.scenario.coin.evidence_funds.0)], fee_rate).map_err(|e| coin(e.to_string()))?;
            explorer.broadcast(&fill.tx).await.map_err(|e| coin(e.to_string()))?;
        }
        let coins = explorer.wallet_utxos(&wallet).await.map_err(|e| coin(e.to_string()))?;
        let payment = wallet.pay(&coins, &[(to.clone(), amount)], fee_rate).map_err(|e| coin(e.to_string()))?;
        let txid = explorer.broadcast(&payment.tx).await.map_err(|e| coin(e.to_string()))?;
        let mut teams = self.teams.lock().await;
        let t = teams.get_mut(team).ok_or(LabError::UnknownToken)?;
        t.cover.wallet = wallet;
        t.cover.funded = true;
        drop(fund);
        Ok(txid)
    }

    /// The team's undercover accounts, messages and purchases.
    pub async fn undercover(&self, token: &str) -> Result<UndercoverView, LabError> {
        let (team, _) = self.member(token).await?;
        let teams = self.teams.lock().await;
        Ok(teams.get(&team).ok_or(LabError::UnknownToken)?.cover.view())
    }

    /// The tip-offs a team caused: those the cast noticed through one of its undercover
    /// accounts (a message it sent, a warning it posted, an account that behaved oddly).
    pub(super) fn tip_offs_of(&self, t: &Team) -> Vec<TipOff> {
        let truth = self.truth.read();
        truth.tip_offs.iter().filter(|tip| t.cover.accounts().any(|a| a.site == tip.site && a.handle == tip.by_handle)).cloned().collect()
    }

    /// The tip-offs a team caused, each explained for the verdict, followed by what they led
    /// to that the court must know (a suspect who left the country).
    pub(super) fn tip_off_lines(&self, t: &Team) -> (Vec<String>, Vec<String>) {
        let tips = self.tip_offs_of(t);
        let account = |tip: &TipOff| t.cover.accounts().find(|a| a.site == tip.site && a.handle == tip.by_handle).map(|a| a.id.clone());
        let lines = tips
            .iter()
            .map(|tip| {
                format!(
                    "{}: persona {} noticed the investigation on {} — {} (the team's undercover account {})",
                    tip.time,
                    tip.persona,
                    tip.site,
                    tip.cause,
                    account(tip).unwrap_or_default()
                )
            })
            .collect();
        let truth = self.truth.read();
        let mut after = Vec::new();
        for (actor, d) in &truth.departures {
            if tips.iter().any(|tip| &tip.actor == actor && tip.time <= d.time) {
                let name = self.scenario.cast.iter().find(|a| &a.id == actor).map_or(actor.to_string(), |a| a.identity.name.clone());
                after.push(format!(
                    "{name} left for {} at {} after the tip-off: an arrest now needs {}'s cooperation (extradition or a European arrest warrant)",
                    d.country, d.time, d.country
                ));
            }
        }
        (lines, after)
    }
}
