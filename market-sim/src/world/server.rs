//! The market's machine: the operator rents it from the hosting provider through its public
//! API before the story starts, the market runs on it, and its status page says what the
//! operator left open.
//!
//! [`rent_servers`] is the operator's part: sign up at the hosting provider (from the home
//! line where the operator has a `HostingPanelFromHome` slip, else over Tor), log in to the
//! control panel, rent a server and pay for it. What the hosting company records is exactly
//! what those requests left; ground truth records the server's address (`HostedAt`), who
//! rents it (`RentedBy`), the home login where there was one (`LoggedInFrom`) and who runs
//! the market (`Operates`). A `StatusPageLeak` slip then opens the market's
//! `/server-status` on the rented machine's address.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::ids::SiteId;
use sim_core::rng;
use sim_core::scenario::{MarketHosting, Scenario, SiteKind, SlipKind};

use super::cast::{ActorState, Directory};
use super::truth::{ChronicleEntry, SharedTruth};
use crate::market::MarketService;
use crate::web::status::StatusHandle;

/// The markets' machines: each market's service (what a seizure images) and its status page.
#[derive(Clone, Default)]
pub struct Servers {
    /// Each market's service.
    pub markets: BTreeMap<SiteId, MarketService>,
    /// Each market's status configuration.
    pub status: BTreeMap<SiteId, StatusHandle>,
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
    actors: &[ActorState],
    truth: &SharedTruth,
    servers: &Servers,
) {
    for site in &scenario.sites {
        let SiteKind::Market(m) = &site.kind else { continue };
        let Some(op) = m.operator.as_ref().and_then(|op| actors.iter().find(|a| a.id() == op)) else { continue };
        let here = Entity::Site(site.id.clone());
        if let Some(p) = op.actor.personas.iter().find(|p| p.site == site.id) {
            let mut t = truth.write();
            t.personas.insert((site.id.clone(), p.handle.clone()), p.id.clone());
            t.record(Fact::new(FactKind::Operates, Entity::Persona(p.id.clone()), here.clone()));
        }
        let Some(h) = &m.hosting else { continue };
        let text = match rent(seed, &site.id, h, op, directory).await {
            Ok(ip) => {
                let from_home = op.actor.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::HostingPanelFromHome(p) if p == &h.provider));
                let account = Entity::Account(h.provider.clone(), h.username.clone());
                let mut t = truth.write();
                t.record(Fact::new(FactKind::HostedAt, here.clone(), Entity::Ip(ip.clone())));
                t.record(Fact::new(FactKind::RentedBy, Entity::Ip(ip.clone()), account.clone()));
                if from_home {
                    t.record(Fact::new(FactKind::LoggedInFrom, account, Entity::Ip(op.actor.identity.home_ip.trim().to_string())));
                }
                let leaks = op.actor.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::StatusPageLeak(x) if x == &site.id));
                if let (true, Some(status)) = (leaks, servers.status.get(&site.id)) {
                    status.leak_real_ip(&ip, true);
                }
                Ok(format!(
                    "rented the server of {} at {} from {} ({})",
                    site.id,
                    ip,
                    h.provider,
                    if from_home { "from home" } else { "over Tor" }
                ))
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

/// Signs up, logs in to the panel and rents a server; the server's IP.
async fn rent(seed: u64, site: &SiteId, h: &MarketHosting, op: &ActorState, directory: &Directory) -> Result<String, String> {
    let base = directory.providers.get(&h.provider).ok_or_else(|| format!("no hosting provider {}", h.provider))?;
    let from_home = op.actor.slips.iter().any(|sl| matches!(&sl.kind, SlipKind::HostingPanelFromHome(p) if p == &h.provider));
    let client = if from_home { op.clearnet() } else { op.onion() };
    let password = panel_password(seed, site);
    let signup = json!({"username": h.username, "password": password, "full_name": h.billing_name, "email": h.billing_email});
    post(client, &format!("{base}/api/signup"), None, signup).await?;
    let login = post(client, &format!("{base}/api/login"), None, json!({"username": h.username, "password": password})).await?;
    let token = login.get("token").and_then(Value::as_str).ok_or("the panel login gave no token")?.to_string();
    let darkcoin = h.payment_method == "darkcoin";
    let payment = json!({
        "method": h.payment_method,
        "amount": h.monthly_rent,
        "currency": if darkcoin { "DKC" } else { "EUR" },
        // Paid in darkcoin from the operator's own wallet: the address is the reference.
        "reference": if darkcoin { Some(op.main_address.to_string()) } else { None },
    });
    let server = post(client, &format!("{base}/api/servers"), Some(&token), json!({"plan": "vps-4gb", "payment": payment})).await?;
    server.get("ip").and_then(Value::as_str).map(str::to_string).ok_or_else(|| "the rental gave no server address".into())
}
