//! Tor mode's client: arti-client configured for DarkLab's private Tor network (its
//! authorities' v3 identities, each authority as a fallback cache, local addresses
//! allowed), and a small bridge on loopback — SOCKS5 for curl and browsers, a plain-HTTP
//! forward proxy for the parties' reqwest clients — so every party reaches onion services
//! through arti ([`super::network::OnionTransport::Socks`]).

use std::net::SocketAddr;
use std::path::Path;

use arti_client::config::TorClientConfigBuilder;
use arti_client::{StreamPrefs, TorClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tor_rtcompat::PreferredRuntime;

/// A bootstrapped arti client (shared by every stream of the bridge).
pub type ArtiClient = std::sync::Arc<TorClient<PreferredRuntime>>;

/// Why the arti client could not start.
#[derive(Debug, thiserror::Error)]
pub enum TorClientError {
    /// The configuration for the private network was refused.
    #[error("arti configuration: {0}")]
    Config(String),
    /// arti could not bootstrap on the private network.
    #[error("arti bootstrap: {0}")]
    Bootstrap(String),
    /// The bridge's socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A directory cache arti may bootstrap from: an authority of the private network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fallback {
    /// RSA identity, 40 hex digits.
    pub rsa_identity: String,
    /// Ed25519 identity, base64 without padding.
    pub ed_identity: String,
    /// Its OR port.
    pub orport: SocketAddr,
}

/// What arti must know of a private network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateNetwork {
    /// The authorities' v3 identities (hex).
    pub authorities: Vec<String>,
    /// Fallback caches (the authorities themselves).
    pub fallbacks: Vec<Fallback>,
}

/// The arti configuration for `net`, keeping its state and cache under `dir`.
pub fn config(net: &PrivateNetwork, dir: &Path) -> Result<arti_client::TorClientConfig, TorClientError> {
    let fallbacks: Vec<serde_json::Value> = net
        .fallbacks
        .iter()
        .map(|f| serde_json::json!({"rsa_identity": f.rsa_identity, "ed_identity": f.ed_identity, "orports": [f.orport.to_string()]}))
        .collect();
    let value = serde_json::json!({
        "tor_network": {"authorities": {"v3idents": net.authorities}, "fallback_caches": fallbacks},
        "address_filter": {"allow_local_addrs": true, "allow_onion_addrs": true},
        // Every router of a private network shares 127.0.0.0/8: no subnet families.
        "path_rules": {"ipv4_subnet_family_prefix": 33, "ipv6_subnet_family_prefix": 129},
        "storage": {
            "state_dir": dir.join("state").to_string_lossy(),
            "cache_dir": dir.join("cache").to_string_lossy(),
            "permissions": {"dangerously_trust_everyone": true},
        },
    });
    let builder: TorClientConfigBuilder = serde_json::from_value(value).map_err(|e| TorClientError::Config(e.to_string()))?;
    builder.build().map_err(|e| TorClientError::Config(e.to_string()))
}

/// An arti client bootstrapped on `net`.
pub async fn bootstrap(net: &PrivateNetwork, dir: &Path) -> Result<ArtiClient, TorClientError> {
    let config = config(net, dir)?;
    // arti's TLS (rustls) asks the application for its crypto provider; a second call is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    TorClient::create_bootstrapped(config).await.map_err(|e| TorClientError::Bootstrap(format!("{e:#}")))
}

/// Serves SOCKS5 (CONNECT by host name, no authentication) and plain-HTTP forward proxying
/// (`GET http://host/… HTTP/1.1`) on `listen`, each stream opened through `client`; returns
/// the bound address and the serving task.
pub async fn socks_bridge(client: ArtiClient, listen: SocketAddr) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), TorClientError> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { continue };
            let client = client.clone();
            tokio::spawn(async move {
                if let Err(e) = socks_session(socket, &client).await {
                    tracing::debug!("arti bridge: {e}");
                }
            });
        }
    });
    Ok((addr, task))
}

/// The longest request line a forward-proxied HTTP request may have.
const MAX_REQUEST_LINE: usize = 8 * 1024;

/// One forward-proxied HTTP connection: the absolute URI of its first request line names
/// the onion service; the bytes go on unchanged (servers accept absolute-form targets, and
/// the client's pool keeps one connection per host).
async fn http_session(mut socket: TcpStream, first: u8, client: &ArtiClient) -> std::io::Result<()> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut head = vec![first];
    while !head.ends_with(b"\r\n") {
        if head.len() > MAX_REQUEST_LINE {
            return Err(bad("request line too long"));
        }
        head.push(socket.read_u8().await?);
    }
    let line = std::str::from_utf8(&head).map_err(|_| bad("request line is not UTF-8"))?;
    let target = line.split_whitespace().nth(1).ok_or_else(|| bad("no request target"))?;
    let authority = target.strip_prefix("http://").and_then(|t| t.split('/').next()).ok_or_else(|| bad("not an http:// URI"))?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
        None => (authority, 80),
    };
    let mut stream = connect(client, host, port).await?;
    stream.write_all(&head).await?;
    stream.flush().await?;
    tokio::io::copy_bidirectional(&mut socket, &mut stream).await?;
    Ok(())
}

/// A stream to `host:port` through arti (onion services allowed).
async fn connect(client: &ArtiClient, host: &str, port: u16) -> std::io::Result<arti_client::DataStream> {
    let mut prefs = StreamPrefs::new();
    prefs.connect_to_onion_services(arti_client::config::BoolOrAuto::Explicit(true));
    client
        .connect_with_prefs((host, port), &prefs)
        .await
        .map_err(|e| std::io::Error::other(format!("arti could not reach {host}:{port}: {e}")))
}

/// One session: SOCKS5 (greeting, a CONNECT request, then bytes both ways), or a
/// forward-proxied HTTP connection when the first byte is not SOCKS5's.
async fn socks_session(mut socket: TcpStream, client: &ArtiClient) -> std::io::Result<()> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let first = socket.read_u8().await?;
    if first != 5 {
        return http_session(socket, first, client).await;
    }
    let n_methods = socket.read_u8().await?;
    let mut methods = vec![0u8; usize::from(n_methods)];
    socket.read_exact(&mut methods).await?;
    if !methods.contains(&0) {
        socket.write_all(&[5, 0xff]).await?;
        return Err(bad("client offers no unauthenticated method"));
    }
    socket.write_all(&[5, 0]).await?;
    let mut req = [0u8; 4];
    socket.read_exact(&mut req).await?;
    if req[0] != 5 || req[1] != 1 {
        socket.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Err(bad("only CONNECT is supported"));
    }
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            socket.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let len = socket.read_u8().await?;
            let mut name = vec![0u8; usize::from(len)];
            socket.read_exact(&mut name).await?;
            String::from_utf8(name).map_err(|_| bad("host name is not UTF-8"))?
        }
        _ => {
            socket.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            return Err(bad("address type not supported"));
        }
    };
    let port = socket.read_u16().await?;
    match connect(client, &host, port).await {
        Ok(mut stream) => {
            socket.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            tokio::io::copy_bidirectional(&mut socket, &mut stream).await?;
            Ok(())
        }
        Err(e) => {
            socket.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            Err(e)
        }
    }
}
