//! What the market's server gives away: its status page, its news, the hosting provider's
//! records of its rental, and the image of the seized machine.
//!
//! - A market's `/server-status` (JSON) names the machine's real address:
//!   `HostedAt(site → IP)`.
//! - A market's news names each post's author, the operator's account: `Operates(persona → site)`.
//! - A search engine's hosts by fingerprint name a clearnet host serving the favicon (or
//!   certificate) an onion market serves, with its public IP: `HostedAt(market → IP)` (the
//!   `SharedFavicon` slip; which market serves which favicon is public, in
//!   `GroundTruth::fingerprints`).
//! - A hosting provider's records name, for each customer, the servers it rents
//!   (`RentedBy(server IP → account)`), the IPs of its panel logins (`LoggedInFrom`), its
//!   darkcoin invoices' addresses (`DepositAddressOf(address → account)`) and the addresses
//!   that paid them (`Transfer(payer → invoice address)`).
//! - A seized image (a SQLite file) shows every shop's payout address, the e-mails in its
//!   key's user IDs and its listings (`ControlsAddress`, `UsesEmail`, `Offers`, `ListedOn`),
//!   and the operator's account (`Operates`).
//!
//! As everywhere in extraction, only facts true in the world count (the caller filters).

use serde_json::Value;
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::ids::{ProviderId, SiteId};

use market_sim::market::accounts::ROLE_OPERATOR;
use market_sim::market::image::SeizedImage;
use market_sim::world::truth::GroundTruth;

/// Facts of a market's own pages about its server: the status page and the news.
pub(super) fn server_page_facts(site: &SiteId, json: &Value, truth: &GroundTruth) -> Vec<Fact> {
    let here = Entity::Site(site.clone());
    let mut facts = Vec::new();
    if json.get("server_name").is_some()
        && let Some(ip) = json.get("server_address").and_then(Value::as_str).and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok())
    {
        facts.push(Fact::new(FactKind::HostedAt, here.clone(), Entity::Ip(ip.to_string())));
    }
    for post in json.as_array().into_iter().flatten() {
        let author = post.get("author").and_then(Value::as_str);
        if let (Some(_), Some(p)) = (post.get("title"), author.and_then(|a| truth.persona(site, a))) {
            facts.push(Fact::new(FactKind::Operates, Entity::Persona(p.clone()), here.clone()));
        }
    }
    facts
}

/// A search engine's hosts by fingerprint (`/hosts?favicon=…`): a host serving the favicon
/// or certificate an onion market serves is the market's machine, at the host's public IP:
/// `HostedAt(market → IP)`.
pub(super) fn shared_favicon_facts(json: &Value, truth: &GroundTruth) -> Vec<Fact> {
    let mut facts = Vec::new();
    for h in json.get("hosts").and_then(Value::as_array).into_iter().flatten() {
        let Some(ip) = h.get("ip").and_then(Value::as_str).and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok()) else { continue };
        for hash in ["favicon_sha256", "tls_certificate_sha256"].iter().filter_map(|k| h.get(*k).and_then(Value::as_str)) {
            if let Some(site) = truth.fingerprints.get(&hash.trim().to_ascii_lowercase()) {
                facts.push(Fact::new(FactKind::HostedAt, Entity::Site(site.clone()), Entity::Ip(ip.to_string())));
            }
        }
    }
    facts
}

/// A hosting provider's records: the servers each customer rents and its panel logins.
pub(super) fn hosting_facts(provider: &ProviderId, json: &Value) -> Vec<Fact> {
    let mut facts = Vec::new();
    for c in json.get("customers").and_then(Value::as_array).into_iter().flatten() {
        let Some(username) = c.get("username").and_then(Value::as_str) else { continue };
        let account = Entity::Account(provider.clone(), username.to_string());
        for ip in c.get("servers").and_then(Value::as_array).into_iter().flatten().filter_map(|s| s.get("ip").and_then(Value::as_str)) {
            facts.push(Fact::new(FactKind::RentedBy, Entity::Ip(ip.trim().to_string()), account.clone()));
        }
        for ip in c.get("logins").and_then(Value::as_array).into_iter().flatten().filter_map(|l| l.get("ip").and_then(Value::as_str)) {
            facts.push(Fact::new(FactKind::LoggedInFrom, account.clone(), Entity::Ip(ip.trim().to_string())));
        }
        // A darkcoin invoice's address is the account's deposit address; a payment seen on
        // the chain names the addresses that paid it.
        for a in c.get("invoices").and_then(Value::as_array).into_iter().flatten().filter_map(|i| i.get("address").and_then(Value::as_str))
        {
            facts.push(Fact::new(FactKind::DepositAddressOf, Entity::Address(a.trim().to_string()), account.clone()));
        }
        for p in c.get("payments").and_then(Value::as_array).into_iter().flatten() {
            let Some(to) = p.get("deposit_address").and_then(Value::as_str) else { continue };
            for from in p.get("paid_from").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                facts.push(Fact::new(FactKind::Transfer, Entity::Address(from.trim().to_string()), Entity::Address(to.trim().to_string())));
            }
        }
    }
    facts
}

/// What the image of `site`'s seized server shows (nothing when it is not a market's image).
pub(super) fn image_facts(site: &SiteId, content: &[u8], truth: &GroundTruth) -> Vec<Fact> {
    let Ok(image) = SeizedImage::open(content) else { return Vec::new() };
    let here = Entity::Site(site.clone());
    let text = |row: &std::collections::BTreeMap<String, Value>, k: &str| row.get(k).and_then(Value::as_str).map(str::to_string);
    let mut facts = Vec::new();
    for u in image.all("users").unwrap_or_default() {
        if text(&u, "role").as_deref() == Some(ROLE_OPERATOR)
            && let Some(p) = text(&u, "username").and_then(|h| truth.persona(site, &h).cloned())
        {
            facts.push(Fact::new(FactKind::Operates, Entity::Persona(p), here.clone()));
        }
    }
    for v in image.all("vendors").unwrap_or_default() {
        let Some(p) = text(&v, "handle").and_then(|h| truth.persona(site, &h).cloned()) else { continue };
        let who = Entity::Persona(p);
        if let Some(a) = text(&v, "payout_address") {
            facts.push(Fact::new(FactKind::ControlsAddress, who.clone(), Entity::Address(a.trim().to_string())));
        }
        for e in text(&v, "pgp_user_ids").map(|ids| super::emails_in_text(&ids)).unwrap_or_default() {
            facts.push(Fact::new(FactKind::UsesEmail, who.clone(), Entity::Email(e)));
        }
    }
    for l in image.all("listings").unwrap_or_default() {
        let vendor = text(&l, "vendor").and_then(|h| truth.persona(site, &h).cloned());
        let listing = l.get("id").and_then(Value::as_i64).and_then(|id| truth.listings.get(&(site.clone(), id)).cloned());
        if let (Some(p), Some(listing)) = (vendor, listing) {
            facts.push(Fact::new(FactKind::Offers, Entity::Persona(p), Entity::Listing(listing.clone())));
            facts.push(Fact::new(FactKind::ListedOn, Entity::Listing(listing), here.clone()));
        }
    }
    facts
}
