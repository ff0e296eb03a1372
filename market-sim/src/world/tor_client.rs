//! Tor mode's client: arti-client configured for DarkLab's private Tor network (its
//! authorities' v3 identities, each authority as a fallback cache, local addresses
//! allowed), and a small SOCKS5 bridge on loopback so every party's ordinary HTTP client
//! reaches onion services through arti ([`super::network::OnionTransport::Socks`]).

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

/// Serves SOCKS5 (CONNECT by host name, no authentication) on `listen`, each stream
/// opened through `client`; returns the bound address and the serving task.
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

/// One SOCKS5 session: greeting, a CONNECT request, then bytes both ways.
async fn socks_session(mut socket: TcpStream, client: &ArtiClient) -> std::io::Result<()> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut head = [0u8; 2];
    socket.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(bad("not SOCKS5"));
    }
    let mut methods = vec![0u8; usize::from(head[1])];
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
    let mut prefs = StreamPrefs::new();
    prefs.connect_to_onion_services(arti_client::config::BoolOrAuto::Explicit(true));
    match client.connect_with_prefs((host.as_str(), port), &prefs).await {
        Ok(mut stream) => {
            socket.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            tokio::io::copy_bidirectional(&mut socket, &mut stream).await?;
            Ok(())
        }
        Err(e) => {
            socket.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            Err(std::io::Error::other(format!("arti could not reach {host}:{port}: {e}")))
        }
    }
}
