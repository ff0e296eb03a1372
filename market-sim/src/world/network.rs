//! The simulated network in direct mode: host names (onion and clearnet) mapped to
//! loopback sockets, and HTTP clients that act as one party of the world.
//!
//! Every party — cast member, lab, service — reaches every other through a client built
//! here, so the onion network issue can swap in real tor without touching callers.
//! Clearnet services see the actor's simulated home IP in `X-Forwarded-For` (as if
//! reached through a proxy); onion services see nothing of the client, as over Tor.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// reqwest refused the configuration.
    #[error("cannot build HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The simulated IP is not a valid header value.
    #[error("invalid simulated client address {0:?}")]
    BadClientIp(String),
}

/// A host of the simulated network: its name and where it really listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// The name parties use, e.g. `abc…xyz.onion` or `coinbay.example`.
    pub name: String,
    /// The loopback socket that serves it.
    pub socket: SocketAddr,
    /// Whether it is an onion service (hides the client's IP).
    pub onion: bool,
}

/// How `.onion` hosts are reached: the transport behind every party's onion client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnionTransport {
    /// Direct mode: onion names resolve to the services' loopback sockets.
    #[default]
    Direct,
    /// Tor mode: through a SOCKS5 proxy that resolves onion names itself — a tor client's
    /// SOCKS port, or the arti-client bridge of [`super::tor_client`].
    Socks(SocketAddr),
}

/// The direct-mode network: a name table shared by every party, and the onion transport
/// (shared by every clone, so parties built before tor mode starts follow the switch).
#[derive(Clone, Debug, Default)]
pub struct DirectNetwork {
    hosts: BTreeMap<String, Host>,
    onion_transport: Arc<RwLock<OnionTransport>>,
}

impl DirectNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a host; a second host with the same name replaces the first.
    pub fn add(&mut self, host: Host) {
        self.hosts.insert(host.name.clone(), host);
    }

    /// The host with this name.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    /// All hosts, by name.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts.values()
    }

    /// Switches how every party (built before or after) reaches onion services.
    pub fn set_onion_transport(&self, transport: OnionTransport) {
        if let Ok(mut t) = self.onion_transport.write() {
            *t = transport;
        }
    }

    /// How onion services are reached now.
    pub fn onion_transport(&self) -> OnionTransport {
        self.onion_transport.read().map(|t| *t).unwrap_or_default()
    }

    /// The clients of a party whose simulated public IP is `client_ip` (`None` for
    /// parties whose IP does not matter, such as the lab).
    pub fn party(&self, client_ip: Option<&str>) -> Result<Party, NetworkError> {
        Ok(Party { onion: self.client(None)?, clearnet: self.client(client_ip)? })
    }

    /// A client that resolves every host of this network; `client_ip`, when given, reaches
    /// services as `X-Forwarded-For` (direct mode's stand-in for a connection's source).
    fn client(&self, client_ip: Option<&str>) -> Result<reqwest::Client, NetworkError> {
        let mut builder = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).pool_max_idle_per_host(2);
        // Consulted per request: `.onion` URLs go through the bridge in tor mode only, as an
        // HTTP forward proxy — reqwest 0.13 built without TLS cannot reach a SOCKS proxy
        // (its plain connector refuses the proxy's socks5h:// scheme).
        let transport = self.onion_transport.clone();
        builder = builder.proxy(reqwest::Proxy::custom(move |url| {
            let onion = url.host_str().is_some_and(|h| h.ends_with(".onion"));
            match transport.read().map(|t| *t) {
                Ok(OnionTransport::Socks(addr)) if onion => format!("http://{addr}").parse::<reqwest::Url>().ok(),
                _ => None,
            }
        }));
        if let Some(ip) = client_ip {
            let mut headers = HeaderMap::new();
            let value = HeaderValue::from_str(ip).map_err(|_| NetworkError::BadClientIp(ip.to_string()))?;
            headers.insert("x-forwarded-for", value);
            builder = builder.default_headers(headers);
        }
        for host in self.hosts.values() {
            builder = builder.resolve(&host.name, host.socket);
        }
        Ok(builder.build()?)
    }
}

/// One party's way onto the network: onion services never see its IP, clearnet ones do.
#[derive(Clone, Debug)]
pub struct Party {
    onion: reqwest::Client,
    clearnet: reqwest::Client,
}

impl Party {
    /// The client to use for `url`: the anonymous one for `.onion` hosts.
    pub fn client_for(&self, url: &str) -> &reqwest::Client {
        let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':', '?']).next().unwrap_or("");
        if host.ends_with(".onion") { &self.onion } else { &self.clearnet }
    }
    /// The client for onion services.
    pub fn onion(&self) -> &reqwest::Client {
        &self.onion
    }
    /// The client for clearnet services (carries the party's IP).
    pub fn clearnet(&self) -> &reqwest::Client {
        &self.clearnet
    }
}
