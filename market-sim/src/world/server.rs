//! The market's machine: the operator rents it from the hosting provider through its public
//! API before the story starts, the market runs on it, and its status page says what the
//! operator left open.
//!
//! [`rent_servers`] is the operator's part: sign up at the hosting provider (from the home
//! line where the operator has a `HostingPanelFromHome` slip, else over Tor), log in to the
//! control panel, rent a server and pay for it. Paid in darkcoin, the rental is answered
//! with an invoice (a fresh deposit address of the provider and the amount) and the
//! operator pays it with a real transaction from his own wallet; the provider records the
//! payment, with its txid and the paying addresses, once a block confirms it. What the
//! hosting company records is exactly what those requests and that transaction left;
//! ground truth records the server's address (`HostedAt`), who rents it (`RentedBy`), the
//! invoice's address as a deposit address of the account (`DepositAddressOf`; the block
//! records the `Transfer` into it), the home login where there was one (`LoggedInFrom`) and
//! who runs the market (`Operates`). A `StatusPageLeak` slip then opens the market's
//! `/server-status` on the rented machine's address; with a `SharedFavicon` slip the
//! operator also runs a clearnet host on the machine from the same template
//! ([`shared_host`]), which the search engines crawl with its public IP
//! ([`index_shared_hosts`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::ids::SiteId;
use sim_core::rng;
use sim_core::scenario::{MarketHosting, Scenario, SiteKind, SlipKind};

use super::cast::{ActorState, Directory, Stage};
use super::network::Party;
use super::truth::{ChronicleEntry, SharedTruth};
use crate::market::MarketService;
use crate::web::search::SearchService;
use crate::web::status::StatusHandle;

/// The markets' machines: each market's service (what a seizure images) and its status page.
#[derive(Clone, Default)]
pub struct Servers {
    /// Each market's service.
    pub markets: BTreeMap<SiteId, MarketService>,
    /// Each market's status configuration.
    pub status: BTreeMap<SiteId, StatusHandle>,
    /// The clearnet host (`http://<host>`) its operator also runs on each market's machine
    /// (a `SharedFavicon` slip).
    pub clearnet_hosts: BTreeMap<SiteId, String>,
}

/// The clearnet host a market's operator also runs on the market's machine, if he left a
/// `SharedFavicon` slip.
pub(super) fn shared_host<'s>(scenario: &'s Scenario, site: &SiteId) -> Option<&'s str> {
    let m = scenario.sites.iter().find_map(|x| match &x.kind {
        SiteKind::Market(m) if &x.id == site => Some(m),
        _ => None,
    })?;
    let op = scenario.cast.iter().find(|a| Some(&a.id) == m.operator.as_ref())?;
    op.slips.iter().find_map(|sl| match &sl.kind {
        SlipKind::SharedFavicon { site: x, host } if x == site => Some(host.as_str()),
        _ => None,
    })
}

/// The search engines crawl each shared-favicon host once its machine is rented: its
/// name resolves to the rented server's public IP (`HostedAt`).
pub(super) async fn index_shared_hosts(truth: &SharedTruth, servers: &Servers, search: &[SearchService], party: &Party) {
    for (site, url) in &servers.clearnet_hosts {
        let here = Entity::Site(site.clone());
        let ip = truth.read().facts.iter().find(|f| f.kind == FactKind::HostedAt && f.subject == here).map(|f| f.object.clone());
        let Some(Entity::Ip(ip)) = ip else { continue };
        for engine in search {
            if let Err(e) = engine.crawl_host(party.client_for(url), url, &ip).await {
                tracing::warn!(host = %url, error = %e, "search engine could not crawl a host");
            }
        }
    }
}

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Servers").field("markets", &self.markets.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

/// The password the operator chose for the hosting panel (from its own seeded stream).
fn panel_password(seed: u64, site: &SiteId) -> String {
    hex::encode(rng::stream_seed(seed, &format!("hosting-password:{site}")).get(..12).unwrap_or_default())
}

async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Result<Value, String> {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let answer: Value = resp.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{url} answered {status}: {answer}"));
    }
    Ok(answer)
}

/// The operator of each market with `hosting` rents its server (see the module docs).
pub(super) async fn rent_servers(
    scenario: &Scenario,
    seed: u64,
    directory: &Directory,
    actors: &mut [ActorState],
    truth: &SharedTruth,
    servers: &Servers,
) {
    for site in &scenario.sites {
        let SiteKind::Market(m) = &site.kind else { continue };
        let Some(op) = m.operator.as_ref().and_then(|op| actors.iter_mut().find(|a| a.id() == op)) else { continue };
        let here = Entity::Site(site.id.clone());
        if let Some(p) = op.actor.personas.iter().find(|p| p.site == site.id) {
            let mut t = truth.write();
            t.personas.insert((site.id.clone(), p.handle.clone()), p.id.clone());
            t.record(Fact::new(FactKind::Operates, Entity::Persona(p.id.clone()), here.clone()));
        }
        let Some(h) = &m.hosting else { continue };
        let stage = Stage { scenario, directory, truth, now: scenario.meta.start };
        let text = match rent(seed, &site.id, h, op, &stage).await {
            Ok(Rented { ip, invoice }) => {
                let from_home = op.actor.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::HostingPanelFromHome(p) if p == &h.provider));
                let account = Entity::Account(h.provider.clone(), h.username.clone());
                let mut t = truth.write();
                t.record(Fact::new(FactKind::HostedAt, here.clone(), Entity::Ip(ip.clone())));
                t.record(Fact::new(FactKind::RentedBy, Entity::Ip(ip.clone()), account.clone()));
                if from_home {
                    t.record(Fact::new(FactKind::LoggedInFrom, account.clone(), Entity::Ip(op.actor.identity.home_ip.trim().to_string())));
                }
                if let Some((address, _)) = &invoice {
                    t.record(Fact::new(FactKind::DepositAddressOf, Entity::Address(address.clone()), account));
                }
                drop(t);
                let leaks = op.actor.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::StatusPageLeak(x) if x == &site.id));
                if let (true, Some(status)) = (leaks, servers.status.get(&site.id)) {
                    status.leak_real_ip(&ip, true);
                }
                let (paid, ok) = match invoice {
                    Some((address, Ok(txid))) => (format!(", paid the invoice to {address} in {txid}"), true),
                    Some((address, Err(e))) => (format!(", but could not pay the invoice to {address}: {e}"), false),
                    None => (String::new(), true),
                };
                let text = format!(
                    "rented the server of {} at {} from {} ({}){paid}",
                    site.id,
                    ip,
                    h.provider,
                    if from_home { "from home" } else { "over Tor" }
                );
                if ok { Ok(text) } else { Err(text) }
            }
            Err(e) => Err(format!("could not rent the server of {}: {e}", site.id)),
        };
        let (text, ok) = match text {
            Ok(t) => (t, true),
            Err(t) => {
                tracing::warn!(site = %site.id, "{t}");
                (t, false)
            }
        };
        let time = scenario.meta.start;
        truth.write().chronicle.push(ChronicleEntry { time, actor: Some(op.id().clone()), text, ok });
    }
}

/// What a rental left: the server's IP, and for a darkcoin payment the invoice's address
/// and the paying transaction (or why it could not be paid).
struct Rented {
    ip: String,
    invoice: Option<(String, Result<String, String>)>,
}

/// Signs up, logs in to the panel, rents a server and pays a darkcoin invoice from the
/// operator's wallet.
async fn rent(seed: u64, site: &SiteId, h: &MarketHosting, op: &mut ActorState, stage: &Stage<'_>) -> Result<Rented, String> {
    let base = stage.directory.providers.get(&h.provider).ok_or_else(|| format!("no hosting provider {}", h.provider))?.clone();
    let from_home = op.actor.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::HostingPanelFromHome(p) if p == &h.provider));
    let client = if from_home { op.clearnet() } else { op.onion() };
    let password = panel_password(seed, site);
    let signup = json!({"username": h.username, "password": password, "full_name": h.billing_name, "email": h.billing_email});
    post(client, &format!("{base}/api/signup"), None, signup).await?;
    let login = post(client, &format!("{base}/api/login"), None, json!({"username": h.username, "password": password})).await?;
    let token = login.get("token").and_then(Value::as_str).ok_or("the panel login gave no token")?.to_string();
    let darkcoin = h.payment_method == crate::providers::hosting::DARKCOIN;
    let payment = json!({
        "method": h.payment_method,
        "amount": h.monthly_rent,
        "currency": if darkcoin { "DKC" } else { "EUR" },
    });
    let server = post(client, &format!("{base}/api/servers"), Some(&token), json!({"plan": "vps-4gb", "payment": payment})).await?;
    let ip = server.get("ip").and_then(Value::as_str).map(str::to_string).ok_or("the rental gave no server address")?;
    let Some(invoice) = server.get("invoice").filter(|_| darkcoin) else { return Ok(Rented { ip, invoice: None }) };
    let address = invoice.get("address").and_then(Value::as_str).ok_or("the invoice gave no address")?.to_string();
    let amount = invoice.get("amount_sat").and_then(Value::as_u64).ok_or("the invoice gave no amount")?;
    let to = super::cast::darkcoin_address(&address, "hosting invoice").map_err(|e| e.to_string())?;
    let paid = super::cast::pay(op, stage, &to, amount).await.map(|t| t.to_string()).map_err(|e| e.to_string());
    Ok(Rented { ip, invoice: Some((address, paid)) })
}
