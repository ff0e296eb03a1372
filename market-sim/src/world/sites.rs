//! The rest of the simulated web and the record-keeping providers, started for a world:
//! the forum (an onion service), the clearnet (social site, paste site, a search engine
//! that crawls them), the ISP, e-mail, hosting and courier providers with their legal
//! desks, and the mixer's front page in front of the world's tumbler.

use std::collections::BTreeMap;
use std::sync::Arc;

use coin_sim::tumbler::TumblerService;
use sim_core::clock::SimClock;
use sim_core::ids::ProviderId;
use sim_core::rng;
use sim_core::scenario::{Jurisdiction, Provider, ProviderKind, Scenario, SiteKind};

use super::cast::Directory;
use super::{Launcher, ProviderDesk, Records, Storage, WorldError, onion, service_err};
use crate::providers::courier::{CourierConfig, CourierOffice, CourierService};
use crate::providers::email::{EmailConfig, EmailService};
use crate::providers::hosting::{HostingConfig, HostingService};
use crate::providers::isp::{IspConfig, IspService};
use crate::web::forum::{BoardConfig, ForumConfig, ForumService};
use crate::web::mixer_front::{BoxFuture, MixBackend, MixRequest, MixTicket};
use crate::web::paste::{PasteConfig, PasteService};
use crate::web::search::{SearchConfig, SearchService};
use crate::web::social::{SocialConfig, SocialService};

macro_rules! records_by_dump {
    ($($t:ty),*) => {$(
        impl Records for $t {
            fn records(&self) -> Result<serde_json::Value, String> {
                self.dump().map_err(|e| e.to_string())
            }
        }
    )*};
}
records_by_dump!(ForumService, SocialService, PasteService, SearchService, IspService, EmailService, HostingService, CourierService);

/// The clearnet's search engines and the sites they index.
#[derive(Default)]
pub(super) struct Clearnet {
    /// Search engines, to re-crawl after the cast changes a clearnet page.
    pub search: Vec<SearchService>,
    /// World URLs of the sites they crawl.
    pub crawled: Vec<String>,
}

/// The mixer's front page starts orders at the world's tumbler.
pub(super) struct TumblerBackend(pub TumblerService, pub SimClock);

impl MixBackend for TumblerBackend {
    fn start_mix(&self, request: MixRequest) -> BoxFuture<'_, Result<MixTicket, String>> {
        Box::pin(async move {
            let destination = coin_sim::params::parse_address(&request.destination).ok_or_else(|| "not a darkcoin address".to_string())?;
            let order = self.0.lock().request(&destination, self.1.now());
            Ok(MixTicket { mix_id: order.id, deposit_address: order.deposit_address })
        })
    }
}

fn jurisdiction(p: &Provider) -> String {
    match &p.jurisdiction {
        Jurisdiction::Domestic => "domestic".to_string(),
        Jurisdiction::Foreign(country) => country.clone(),
    }
}

/// What every service of a world is built from.
pub(super) struct Setting<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The world seed.
    pub seed: u64,
    /// The simulated clock.
    pub clock: &'a SimClock,
    /// Where databases live.
    pub storage: &'a Storage,
    /// The explorer, as services reach it (a hosting provider watches its invoices there).
    pub chain: &'a coin_sim::EsploraClient,
}

/// Starts the forum and the clearnet sites of the scenario.
pub(super) async fn launch_web(
    up: &mut Launcher,
    set: &Setting<'_>,
    directory: &mut Directory,
    records: &mut BTreeMap<String, Box<dyn Records>>,
) -> Result<Clearnet, WorldError> {
    let Setting { scenario, seed, clock, storage, .. } = *set;
    let mut clearnet = Clearnet::default();
    for site in &scenario.sites {
        let name = site.id.to_string();
        let rng = rng::stream(seed, &format!("service:{}", site.id));
        let (host, router): (String, axum::Router) = match &site.kind {
            SiteKind::Forum => {
                let boards = [
                    ("markets", "Markets & vendors", "Reviews, scams, who is legit"),
                    ("opsec", "OPSEC", "Staying safe"),
                    ("offtopic", "Off topic", "Anything else"),
                ]
                .into_iter()
                .map(|(slug, title, description)| BoardConfig { slug: slug.into(), title: title.into(), description: description.into() })
                .collect();
                let forum = ForumService::new(ForumConfig { name: site.name.clone(), boards }, storage.open(&name)?, clock.clone(), rng)
                    .map_err(|e| service_err(&name, e))?;
                let router = forum.router();
                records.insert(format!("site:{}", site.id), Box::new(forum));
                (onion::onion_host(onion::site_key_seed(seed, site.id.as_str())), router)
            }
            SiteKind::Social => {
                let social = SocialService::new(SocialConfig { name: site.name.clone() }, storage.open(&name)?, clock.clone(), rng)
                    .map_err(|e| service_err(&name, e))?;
                let router = social.router();
                records.insert(format!("site:{}", site.id), Box::new(social));
                clearnet.crawled.push(format!("http://{}.example", site.id));
                (format!("{}.example", site.id), router)
            }
            SiteKind::Paste => {
                let paste = PasteService::new(PasteConfig { name: site.name.clone() }, storage.open(&name)?, clock.clone(), rng)
                    .map_err(|e| service_err(&name, e))?;
                let router = paste.router();
                records.insert(format!("site:{}", site.id), Box::new(paste));
                clearnet.crawled.push(format!("http://{}.example", site.id));
                (format!("{}.example", site.id), router)
            }
            SiteKind::Search => {
                let search = SearchService::new(SearchConfig { name: site.name.clone() }, storage.open(&name)?, clock.clone(), rng)
                    .map_err(|e| service_err(&name, e))?;
                let router = search.router();
                clearnet.search.push(search.clone());
                records.insert(format!("site:{}", site.id), Box::new(search));
                (format!("{}.example", site.id), router)
            }
            _ => continue,
        };
        up.launch(&name, &host, host.ends_with(".onion"), router).await?;
        directory.sites.insert(site.id.clone(), format!("http://{host}"));
    }
    Ok(clearnet)
}

/// Starts the ISP, e-mail, hosting and courier providers with their legal desks; the
/// hosting providers (which take darkcoin and watch the chain for their invoices).
pub(super) async fn launch_providers(
    up: &mut Launcher,
    set: &Setting<'_>,
    directory: &mut Directory,
    records: &mut BTreeMap<String, Box<dyn Records>>,
    desks: &mut BTreeMap<ProviderId, ProviderDesk>,
) -> Result<Vec<HostingService>, WorldError> {
    let Setting { scenario, seed, clock, storage, chain } = *set;
    let mut hosts = Vec::new();
    for p in &scenario.providers {
        let name = p.id.to_string();
        let legal_token = hex::encode(rng::stream_seed(seed, &format!("legal-token:{}", p.id)));
        let rng = rng::stream(seed, &format!("service:{}", p.id));
        let host = format!("{}.example", p.id);
        // Every provider is configured alike: its name, the lab's credential, retention and
        // jurisdiction, plus what its kind needs (an address pool, a mail domain).
        macro_rules! start {
            ($service:ident, $config:ident { $($extra:tt)* } $(, then |$s:ident| $then:expr)?) => {{
                let config = $config {
                    name: p.name.clone(),
                    legal_token: legal_token.clone(),
                    retention: p.retention,
                    jurisdiction: jurisdiction(p),
                    $($extra)*
                };
                let s = $service::new(config, storage.open(&name)?, clock.clone(), rng).map_err(|e| service_err(&name, e))?;
                $(let $s = s; let s = $then.map_err(|e| service_err(&name, e))?;)?
                let router = s.router();
                let record: Box<dyn Records> = Box::new(s);
                (router, record)
            }};
        }
        let (router, record) = match p.kind {
            ProviderKind::Exchange => continue,
            ProviderKind::Isp => start!(IspService, IspConfig { pool: "100.64.0.0/10".into() }),
            ProviderKind::Email => start!(EmailService, EmailConfig { domain: host.clone() }),
            ProviderKind::Hosting => start!(
                HostingService,
                HostingConfig { pool: "185.220.0.0/16".into() },
                then | h | {
                    let wallet = coin_sim::Wallet::from_seed(rng::stream_seed(seed, &format!("wallet:hosting:{}", p.id)));
                    h.with_darkcoin(wallet, chain.clone()).inspect(|h| hosts.push(h.clone()))
                }
            ),
            ProviderKind::Courier => start!(
                CourierService,
                CourierConfig {
                    offices: p.offices.iter().map(|o| CourierOffice { name: o.name.clone(), lat: o.lat, lon: o.lon }).collect(),
                }
            ),
        };
        up.launch(&name, &host, false, router).await?;
        directory.providers.insert(p.id.clone(), format!("http://{host}"));
        desks.insert(p.id.clone(), ProviderDesk { url: format!("http://{host}"), legal_token, kind: p.kind });
        records.insert(format!("provider:{}", p.id), record);
    }
    Ok(hosts)
}

/// Keeps a reference-counted backend alive for the mixer's front page.
pub(super) fn tumbler_backend(service: TumblerService, clock: SimClock) -> Arc<dyn MixBackend> {
    Arc::new(TumblerBackend(service, clock))
}
