//! What an artifact reveals: the facts a captured page, chain record or provider record
//! shows, read from its structured content and confirmed against ground truth.
//!
//! Extraction reads only what the artifact itself says (handles, listing numbers, bio text,
//! transaction inputs and outputs, KYC names, a photo's EXIF GPS position, the senders,
//! offices and tracking numbers in a courier's parcel records, the tracking number on an
//! order page); the world's registry maps those words to
//! scenario ids, and a fact counts only if it is true in the world. So a page cannot reveal
//! more than it shows, and a forged claim reveals nothing.

use serde_json::Value;
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::ids::{ProviderId, SiteId};

use market_sim::world::truth::GroundTruth;

mod server;

/// Where an artifact came from, as far as extraction cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A page of a site (market, forum, …).
    Site(SiteId),
    /// The photo of a market's listing (`/listing/<id>/photo.jpg`): a JPEG file whose EXIF
    /// block may carry the GPS position where it was taken.
    Photo {
        /// The market.
        site: SiteId,
        /// The market's own listing number.
        listing: i64,
    },
    /// The block explorer.
    Explorer,
    /// A provider's answer to legal process.
    Provider(ProviderId),
    /// The image of a site's seized server (a SQLite database file).
    Seized(SiteId),
    /// Anything else: reveals nothing.
    Other,
}

/// The facts `content` (from `origin`) reveals, in a stable order, true ones only.
pub fn revealed_facts(origin: &Origin, content: &[u8], truth: &GroundTruth) -> Vec<Fact> {
    let mut facts = match (origin, serde_json::from_slice::<Value>(content)) {
        (Origin::Photo { site, listing }, _) => photo_facts(site, *listing, content, truth),
        (Origin::Seized(site), _) => server::image_facts(site, content, truth),
        (Origin::Site(site), Ok(json)) => [
            site_facts(site, &json, truth),
            order_facts(site, &json, truth),
            server::server_page_facts(site, &json, truth),
            server::shared_favicon_facts(&json, truth),
        ]
        .concat(),
        (Origin::Explorer, Ok(json)) => chain_facts(&json),
        (Origin::Provider(p), Ok(json)) => [provider_facts(p, &json, truth), server::hosting_facts(p, &json)].concat(),
        _ => Vec::new(),
    };
    facts.retain(|f| truth.facts.contains(f));
    facts.sort();
    facts.dedup();
    facts
}

/// Every darkcoin address (`bcrt1…`) written in a text, in order of appearance.
pub fn addresses_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text.get(i..).and_then(|t| t.find("bcrt1")) {
        let start = i + pos;
        let len = bytes[start..].iter().take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit()).count();
        if len >= 14 && (start == 0 || !bytes[start - 1].is_ascii_alphanumeric()) {
            out.push(text[start..start + len].to_string());
        }
        i = start + len.max(1);
    }
    out
}

fn site_facts(site: &SiteId, json: &Value, truth: &GroundTruth) -> Vec<Fact> {
    let mut facts = Vec::new();
    let Some(handle) = json.get("handle").and_then(Value::as_str) else { return facts };
    let Some(persona) = truth.persona(site, handle) else { return facts };
    let who = Entity::Persona(persona.clone());
    for l in json.get("listings").and_then(Value::as_array).into_iter().flatten() {
        if let Some(listing) = l.get("id").and_then(Value::as_i64).and_then(|id| truth.listings.get(&(site.clone(), id))) {
            facts.push(Fact::new(FactKind::Offers, who.clone(), Entity::Listing(listing.clone())));
            facts.push(Fact::new(FactKind::ListedOn, Entity::Listing(listing.clone()), Entity::Site(site.clone())));
        }
    }
    for text in ["bio", "pgp_key"].iter().filter_map(|k| json.get(*k).and_then(Value::as_str)) {
        for a in addresses_in_text(text) {
            facts.push(Fact::new(FactKind::ControlsAddress, who.clone(), Entity::Address(a)));
        }
    }
    if let Some(key) = json.get("pgp_key").and_then(Value::as_str) {
        for e in key_emails(key) {
            facts.push(Fact::new(FactKind::UsesEmail, who.clone(), Entity::Email(e)));
        }
    }
    facts
}

/// An order page (as its buyer sees it): the vendor shipped it as the parcel with the
/// tracking number the vendor gave (`ShippedParcel(vendor persona → parcel)`).
fn order_facts(site: &SiteId, json: &Value, truth: &GroundTruth) -> Vec<Fact> {
    let (Some(vendor), Some(tracking)) = (json.get("vendor").and_then(Value::as_str), json.get("tracking").and_then(Value::as_str)) else {
        return Vec::new();
    };
    let Some(persona) = truth.persona(site, vendor) else { return Vec::new() };
    vec![Fact::new(FactKind::ShippedParcel, Entity::Persona(persona.clone()), Entity::Parcel(tracking.trim().to_ascii_uppercase()))]
}

/// The e-mail addresses in the user IDs of an armoured OpenPGP public key, read from the
/// key itself (its self-signatures checked), lower-cased; none when it is not a valid key.
pub fn key_emails(armored: &str) -> Vec<String> {
    let Ok(summary) = market_sim::market::pgp::summarize(armored) else { return Vec::new() };
    summary.user_ids.iter().flat_map(|uid| emails_in_text(uid)).collect()
}

/// Every e-mail address (`local@domain.tld`) written in a text, lower-cased, in order.
pub fn emails_in_text(text: &str) -> Vec<String> {
    let is_local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    let mut out = Vec::new();
    for (at, _) in text.match_indices('@') {
        let local: String = text[..at].chars().rev().take_while(|c| is_local(*c)).collect::<Vec<_>>().into_iter().rev().collect();
        let domain: String = text[at + 1..].chars().take_while(|c| is_domain(*c)).collect();
        let domain = domain.trim_end_matches('.');
        let local = local.trim_start_matches('.');
        if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') {
            out.push(format!("{local}@{domain}").to_ascii_lowercase());
        }
    }
    out
}

/// A listing photo's place: where its EXIF block says it was taken.
fn photo_facts(site: &SiteId, listing: i64, jpeg: &[u8], truth: &GroundTruth) -> Vec<Fact> {
    let (Some(place), Some(l)) = (photo_place(jpeg), truth.listings.get(&(site.clone(), listing))) else { return Vec::new() };
    vec![Fact::new(FactKind::PhotographedAt, Entity::Listing(l.clone()), Entity::Place(place))]
}

/// The GPS position in a JPEG's EXIF block as a place name (`"<lat>,<lon>"`, four
/// decimals); none without a readable position.
pub fn photo_place(jpeg: &[u8]) -> Option<String> {
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(jpeg)).ok()?;
    let degrees = |tag: exif::Tag, negative: u8| -> Option<f64> {
        let exif::Value::Rational(parts) = &exif.get_field(tag, exif::In::PRIMARY)?.value else { return None };
        let v = parts.iter().zip([1.0, 60.0, 3600.0]).map(|(r, d)| r.to_f64() / d).sum::<f64>();
        let reference = match tag {
            exif::Tag::GPSLatitude => exif::Tag::GPSLatitudeRef,
            _ => exif::Tag::GPSLongitudeRef,
        };
        let exif::Value::Ascii(text) = &exif.get_field(reference, exif::In::PRIMARY)?.value else { return None };
        let sign = if text.first().and_then(|t| t.first()) == Some(&negative) { -1.0 } else { 1.0 };
        Some(sign * v)
    };
    let (lat, lon) = (degrees(exif::Tag::GPSLatitude, b'S')?, degrees(exif::Tag::GPSLongitude, b'W')?);
    sim_core::facts::parse_place(&format!("{lat},{lon}"))
}

/// Transfers shown by an Esplora transaction, or a list of them.
/// The addresses an Esplora transaction spends from (its inputs' prevouts) and pays to.
pub fn tx_addresses(tx: &Value) -> (Vec<String>, Vec<String>) {
    let addr = |v: &Value| v.get("scriptpubkey_address").and_then(Value::as_str).map(str::to_string);
    let from = tx.get("vin").and_then(Value::as_array).into_iter().flatten().filter_map(|i| i.get("prevout").and_then(addr)).collect();
    let to = tx.get("vout").and_then(Value::as_array).into_iter().flatten().filter_map(addr).collect();
    (from, to)
}

fn chain_facts(json: &Value) -> Vec<Fact> {
    let txs: Vec<&Value> = match json {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut facts = Vec::new();
    for tx in txs {
        let (from, to) = tx_addresses(tx);
        for f in &from {
            for t in to.iter().filter(|t| *t != f) {
                facts.push(Fact::new(FactKind::Transfer, Entity::Address(f.clone()), Entity::Address(t.clone())));
            }
        }
    }
    facts
}

fn provider_facts(provider: &ProviderId, json: &Value, truth: &GroundTruth) -> Vec<Fact> {
    let mut facts = Vec::new();
    for acct in json.get("accounts").and_then(Value::as_array).into_iter().flatten() {
        let Some(username) = acct.get("username").and_then(Value::as_str) else { continue };
        let account = Entity::Account(provider.clone(), username.to_string());
        for d in acct.get("deposit_addresses").and_then(Value::as_array).into_iter().flatten() {
            if let Some(a) = d.get("address").and_then(Value::as_str) {
                facts.push(Fact::new(FactKind::DepositAddressOf, Entity::Address(a.to_string()), account.clone()));
            }
        }
        for ip in acct.get("logins").and_then(Value::as_array).into_iter().flatten().filter_map(|l| l.get("ip").and_then(Value::as_str)) {
            facts.push(Fact::new(FactKind::LoggedInFrom, account.clone(), Entity::Ip(ip.trim().to_string())));
        }
        let name = acct.get("kyc").and_then(|k| k.get("full_name")).and_then(Value::as_str);
        if let Some(actor) = name.and_then(|n| truth.identity(n)) {
            facts.push(Fact::new(FactKind::AccountHolder, account.clone(), Entity::Identity(actor.clone())));
        }
    }
    // A courier's parcels: who handed them in at the office at which place, and who
    // handed in each parcel (by its tracking number).
    for parcel in json.get("parcels").and_then(Value::as_array).into_iter().flatten() {
        let place = parcel.get("place").and_then(Value::as_str).and_then(sim_core::facts::parse_place);
        let sender = parcel.get("sender_name").and_then(Value::as_str).and_then(|n| truth.identity(n));
        if let (Some(place), Some(actor)) = (place, sender) {
            facts.push(Fact::new(FactKind::ParcelDroppedBy, Entity::Place(place), Entity::Identity(actor.clone())));
        }
        if let (Some(tracking), Some(actor)) = (parcel.get("tracking").and_then(Value::as_str), sender) {
            facts.push(Fact::new(
                FactKind::ParcelSentBy,
                Entity::Parcel(tracking.trim().to_ascii_uppercase()),
                Entity::Identity(actor.clone()),
            ));
        }
    }
    for sub in json.get("subscribers").and_then(Value::as_array).into_iter().flatten() {
        // An e-mail provider's mailbox: the IPs its sign-up and logins came from.
        if let Some(address) = sub.get("address").and_then(Value::as_str).filter(|a| a.contains('@')) {
            let mailbox = Entity::Email(address.trim().to_ascii_lowercase());
            for ip in sub.get("logins").and_then(Value::as_array).into_iter().flatten().filter_map(|l| l.get("ip").and_then(Value::as_str))
            {
                facts.push(Fact::new(FactKind::LoggedInFrom, mailbox.clone(), Entity::Ip(ip.trim().to_string())));
            }
        }
        // An internet provider's subscriber: the IPs leased to the name on the contract.
        if let Some(actor) = sub.get("leases").and(sub.get("name")).and_then(Value::as_str).and_then(|n| truth.identity(n)) {
            for ip in sub.get("leases").and_then(Value::as_array).into_iter().flatten().filter_map(|l| l.get("ip").and_then(Value::as_str))
            {
                facts.push(Fact::new(FactKind::IpSubscriber, Entity::Ip(ip.trim().to_string()), Entity::Identity(actor.clone())));
            }
        }
    }
    facts
}

/// Every IP address a provider's records or a server's status page show, in order of
/// appearance (the status page's real address; mailbox, exchange and hosting-panel logins;
/// ISP leases); what a team can cite next.
pub fn ips_in_records(json: &Value) -> Vec<String> {
    let mut out: Vec<String> = json
        .get("server_address")
        .and_then(Value::as_str)
        .filter(|ip| ip.trim().parse::<std::net::IpAddr>().is_ok())
        .map(|ip| ip.trim().to_string())
        .into_iter()
        .collect();
    let accounts = json.get("accounts").and_then(Value::as_array).into_iter().flatten();
    let customers = json.get("customers").and_then(Value::as_array).into_iter().flatten();
    for sub in json.get("subscribers").and_then(Value::as_array).into_iter().flatten().chain(accounts).chain(customers) {
        for key in ["logins", "leases"] {
            for ip in sub.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(|l| l.get("ip").and_then(Value::as_str)) {
                if ip.trim().parse::<std::net::IpAddr>().is_ok() && !out.iter().any(|x| x == ip.trim()) {
                    out.push(ip.trim().to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_addresses_in_free_text() {
        let a = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
        assert_eq!(addresses_in_text(&format!("Direct deals: {a}. PGP only")), vec![a.to_string()]);
        assert!(addresses_in_text("xbcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080").is_empty());
        assert!(addresses_in_text("no coins here, bcrt1").is_empty());
    }

    #[test]
    fn finds_emails_in_user_ids_and_text() {
        assert_eq!(emails_in_text("GreenLeafUK <Mark.Ellis84@mailbox.example>"), vec!["mark.ellis84@mailbox.example".to_string()]);
        assert_eq!(emails_in_text("mail me: a@b.example."), vec!["a@b.example".to_string()]);
        assert!(emails_in_text("no @ here, nor x@localhost").is_empty());
    }

    #[test]
    fn provider_records_reveal_logins_and_leases() {
        let mut truth = GroundTruth::default();
        truth.identities.insert("mark ellis".into(), "mark".into());
        let login = Fact::new(FactKind::LoggedInFrom, Entity::Email("m@mailbox.example".into()), Entity::Ip("81.2.69.160".into()));
        let lease = Fact::new(FactKind::IpSubscriber, Entity::Ip("81.2.69.160".into()), Entity::Identity("mark".into()));
        truth.record(login.clone());
        truth.record(lease.clone());
        let mail = json!({"subscribers": [{"address": "M@mailbox.example", "logins": [{"ip": "81.2.69.160"}, {"ip": "127.0.0.1"}]}]});
        let got = revealed_facts(&Origin::Provider("mailbox".into()), mail.to_string().as_bytes(), &truth);
        assert_eq!(got, vec![login], "the Tor exit's login is not the mailbox owner's line");
        assert_eq!(ips_in_records(&mail), vec!["81.2.69.160".to_string(), "127.0.0.1".to_string()]);
        let isp = json!({"subscribers": [{"name": "Mark Ellis", "address": "1 High St", "leases": [{"ip": "81.2.69.160"}]}]});
        assert_eq!(revealed_facts(&Origin::Provider("netline".into()), isp.to_string().as_bytes(), &truth), vec![lease]);
        let account = Entity::Account("coinbay".into(), "mellis84".into());
        let home_login = Fact::new(FactKind::LoggedInFrom, account.clone(), Entity::Ip("81.2.69.160".into()));
        truth.record(home_login.clone());
        let exchange = json!({"accounts": [{"username": "mellis84", "logins": [{"ip": "81.2.69.160", "kind": "signup"}]}]});
        assert_eq!(revealed_facts(&Origin::Provider("coinbay".into()), exchange.to_string().as_bytes(), &truth), vec![home_login]);
        assert_eq!(ips_in_records(&exchange), vec!["81.2.69.160".to_string()]);
    }

    #[test]
    fn an_order_page_and_a_couriers_records_tie_a_vendor_to_a_parcel_and_its_sender() {
        let mut truth = GroundTruth::default();
        truth.personas.insert(("m".into(), "DutchDirectNL".into()), "dd".into());
        truth.identities.insert("daan visser".into(), "daan".into());
        let parcel = Entity::Parcel("CP918167110DO".into());
        let shipped = Fact::new(FactKind::ShippedParcel, Entity::Persona("dd".into()), parcel.clone());
        let sent = Fact::new(FactKind::ParcelSentBy, parcel, Entity::Identity("daan".into()));
        truth.record(shipped.clone());
        truth.record(sent.clone());
        let order = json!({"id": 7, "vendor": "DutchDirectNL", "buyer": "quiet", "tracking": "cp918167110do"});
        assert_eq!(revealed_facts(&Origin::Site("m".into()), order.to_string().as_bytes(), &truth), vec![shipped]);
        let unshipped = json!({"id": 7, "vendor": "DutchDirectNL", "tracking": null});
        assert!(revealed_facts(&Origin::Site("m".into()), unshipped.to_string().as_bytes(), &truth).is_empty());
        let records = json!({"parcels": [
            {"tracking": "CP918167110DO", "sender_name": "Daan Visser", "place": null},
            {"tracking": "CP000000001DO", "sender_name": "Kim Novak", "place": null},
        ]});
        assert_eq!(revealed_facts(&Origin::Provider("parcelnet".into()), records.to_string().as_bytes(), &truth), vec![sent]);
    }

    #[test]
    fn hosting_records_tie_an_invoice_to_its_account_and_payer() {
        let mut truth = GroundTruth::default();
        let account = Entity::Account("nordhost".into(), "ops".into());
        let deposit = Fact::new(FactKind::DepositAddressOf, Entity::Address("bcrt1qinvoice".into()), account);
        let paid = Fact::new(FactKind::Transfer, Entity::Address("bcrt1qoperator".into()), Entity::Address("bcrt1qinvoice".into()));
        truth.record(deposit.clone());
        truth.record(paid.clone());
        let records = json!({"customers": [{"username": "ops", "servers": [], "logins": [],
            "invoices": [{"address": "bcrt1qinvoice"}],
            "payments": [{"deposit_address": "bcrt1qinvoice", "paid_from": ["bcrt1qoperator", "bcrt1qstranger"]}, {"method": "card"}]}]});
        let mut expected = vec![deposit, paid];
        expected.sort();
        assert_eq!(revealed_facts(&Origin::Provider("nordhost".into()), records.to_string().as_bytes(), &truth), expected);
    }

    #[test]
    fn only_true_facts_shown_by_the_artifact_count() {
        let mut truth = GroundTruth::default();
        truth.personas.insert(("m".into(), "Gl".into()), "gl".into());
        truth.listings.insert(("m".into(), 1), "haze".into());
        let offers = Fact::new(FactKind::Offers, Entity::Persona("gl".into()), Entity::Listing("haze".into()));
        let controls = Fact::new(FactKind::ControlsAddress, Entity::Persona("gl".into()), Entity::Address("bcrt1qqqqqqqqqqqqqqqq".into()));
        truth.record(offers.clone());
        let page = json!({"handle": "Gl", "bio": "deals: bcrt1qqqqqqqqqqqqqqqq", "listings": [{"id": 1}, {"id": 2}]});
        let got = revealed_facts(&Origin::Site("m".into()), page.to_string().as_bytes(), &truth);
        assert_eq!(got, vec![offers.clone()], "the address is not the persona's in truth, listing 2 is unknown");
        truth.record(controls.clone());
        let got = revealed_facts(&Origin::Site("m".into()), page.to_string().as_bytes(), &truth);
        assert_eq!(got.len(), 2);
        assert!(revealed_facts(&Origin::Other, page.to_string().as_bytes(), &truth).is_empty());
        assert!(revealed_facts(&Origin::Site("m".into()), b"not json", &truth).is_empty());
    }
}
