//! Who runs where: the routers of a private network, made from the scenario's `network`
//! section, each on its own loopback address so several networks (and tests) can run side
//! by side with the same port numbers.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sim_core::scenario::model::{Network, RelayFlag};

use super::NetError;
use super::deploy::Deployment;

/// Router `n`'s OR port is `OR_PORT + n` (routers of one board share its address).
pub const OR_PORT: u16 = 5100;
/// Router `n`'s directory port is `DIR_PORT + n` (authorities and relays).
pub const DIR_PORT: u16 = 7100;
/// Router `n`'s SOCKS port is `SOCKS_PORT + n` (the client only).
pub const SOCKS_PORT: u16 = 9100;
/// Router `n`'s control port is `CONTROL_PORT + n` (cookie authentication).
pub const CONTROL_PORT: u16 = 6100;

/// What a router does in the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A v3 directory authority (votes, signs the consensus; also a relay).
    Authority,
    /// A relay; the flags the authorities are told to vote for it.
    Relay {
        /// Guard, Exit, HSDir as the scenario asks.
        flags: Vec<String>,
    },
    /// The tor process that hosts the onion services.
    OnionHost,
    /// A client offering a SOCKS port (curl, a browser, the workstation).
    Client,
}

/// One tor daemon of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Router {
    /// Tor nickname (1–19 letters and digits).
    pub nick: String,
    /// Its role.
    pub role: Role,
    /// The address it listens on.
    pub ip: Ipv4Addr,
    /// Its number in the plan (1…): its ports are the base ports plus this.
    pub n: u16,
    /// The board that runs it (`None`: the machine running `darklab net up`).
    pub board: Option<String>,
}

impl Router {
    /// Whether it is in the consensus (authorities and relays).
    pub fn is_relay(&self) -> bool {
        matches!(self.role, Role::Authority | Role::Relay { .. })
    }
    /// Its OR port address.
    pub fn or_addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, OR_PORT + self.n))
    }
    /// Its directory port address.
    pub fn dir_addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, DIR_PORT + self.n))
    }
    /// Its control port address.
    pub fn control_addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, CONTROL_PORT + self.n))
    }
    /// Its SOCKS port address (used by the client only).
    pub fn socks_addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, SOCKS_PORT + self.n))
    }
    /// Every address it listens on.
    pub fn listen_addrs(&self) -> Vec<SocketAddr> {
        let mut out = vec![self.control_addr()];
        if self.is_relay() {
            out.extend([self.or_addr(), self.dir_addr()]);
        }
        if self.role == Role::Client {
            out.push(self.socks_addr());
        }
        out
    }
}

/// An onion service: the site, its `.onion` name, the key behind it and the local socket
/// the world serves it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnionSite {
    /// The site id.
    pub site: String,
    /// Its `.onion` host name (the same as in direct mode).
    pub host: String,
    /// The seed of its ed25519 key.
    pub key_seed: [u8; 32],
    /// Where the world serves it.
    pub target: SocketAddr,
}

/// The whole network: routers, onion services and the folder it lives in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetPlan {
    /// Where every router's torrc, data directory and log go.
    pub dir: PathBuf,
    /// Routers: authorities first, then relays, the onion host and the client.
    pub routers: Vec<Router>,
    /// Onion services hosted by the onion host.
    pub onions: Vec<OnionSite>,
}

/// A tor nickname from a scenario id: its letters and digits, at most 19.
fn nickname(id: &str, fallback: &str) -> String {
    let nick: String = id.chars().filter(char::is_ascii_alphanumeric).take(19).collect();
    if nick.is_empty() { fallback.to_string() } else { nick }
}

impl NetPlan {
    /// The routers of the scenario's `network`, in plan order: its authorities and relays,
    /// `extra_relays` more (unflagged) relays, an onion host when it has onion services, and
    /// a client.
    fn roster(network: &Network, extra_relays: u32, onion_host: bool) -> Vec<(String, Role)> {
        let mut out = Vec::new();
        for a in 1..=network.authorities {
            out.push((format!("auth{a}"), Role::Authority));
        }
        for relay in &network.relays {
            let flags = relay
                .flags
                .iter()
                .map(|f| match f {
                    RelayFlag::Guard => "Guard",
                    RelayFlag::Exit => "Exit",
                    RelayFlag::HsDir => "HSDir",
                })
                .map(String::from)
                .collect();
            out.push((nickname(relay.id.as_str(), "relay"), Role::Relay { flags }));
        }
        for e in 1..=extra_relays {
            out.push((format!("extra{e}"), Role::Relay { flags: Vec::new() }));
        }
        if onion_host {
            out.push(("onionhost".into(), Role::OnionHost));
        }
        out.push(("client".into(), Role::Client));
        out
    }

    /// The nicknames of the routers a plan for `network` has (what a deployment may name).
    pub fn router_names(network: &Network, extra_relays: u32) -> Vec<String> {
        Self::roster(network, extra_relays, !network.onion_services.is_empty()).into_iter().map(|(nick, _)| nick).collect()
    }

    /// The plan for the scenario's `network` (see [`NetPlan::router_names`]) serving
    /// `onions`. Router `n` listens on `127.<subnet>.0.<n>`; with a deployment, on its
    /// board's address (or the lab's).
    pub fn new(
        network: &Network,
        onions: Vec<OnionSite>,
        subnet: u8,
        extra_relays: u32,
        dir: &Path,
        deployment: Option<&Deployment>,
    ) -> Result<NetPlan, NetError> {
        if network.authorities < 3 {
            return Err(NetError::Plan(format!("{} authorities declared; a v3 network needs at least 3", network.authorities)));
        }
        let mut routers: Vec<Router> = Vec::new();
        for (nick, role) in Self::roster(network, extra_relays, !onions.is_empty()) {
            if routers.iter().any(|r| r.nick == nick) {
                return Err(NetError::Plan(format!("two routers are named {nick}")));
            }
            let n =
                u8::try_from(routers.len() + 1).ok().filter(|n| *n < 255).ok_or_else(|| NetError::Plan("more than 254 routers".into()))?;
            routers.push(Router { nick, role, ip: Ipv4Addr::new(127, subnet, 0, n), n: u16::from(n), board: None });
        }
        let mut plan = NetPlan { dir: dir.to_path_buf(), routers, onions };
        if let Some(d) = deployment {
            plan.place(d)?;
        }
        Ok(plan)
    }

    /// Puts every router on its board of `deployment` (at the board's address), the rest
    /// on the lab's machine (at the lab's address).
    pub fn place(&mut self, deployment: &Deployment) -> Result<(), NetError> {
        for board in &deployment.boards {
            if let Some(unknown) = board.routers().find(|nick| !self.routers.iter().any(|r| &r.nick == *nick)) {
                let known: Vec<&str> = self.routers.iter().map(|r| r.nick.as_str()).collect();
                return Err(NetError::Plan(format!(
                    "deployment: board {} carries {unknown}, which is not a router of this network ({})",
                    board.id,
                    known.join(", ")
                )));
            }
        }
        for router in &mut self.routers {
            router.ip = deployment.lab();
            router.board = None;
            if let Some(board) = deployment.board_of(&router.nick) {
                router.ip = board.address;
                router.board = Some(board.id.clone());
            }
        }
        Ok(())
    }

    /// Whether `router` runs here: on board `board`, or (`None`) on the lab's machine.
    pub fn runs_on(router: &Router, board: Option<&str>) -> bool {
        router.board.as_deref() == board
    }

    /// The router's data directory.
    pub fn data_dir(&self, router: &Router) -> PathBuf {
        self.dir.join(&router.nick)
    }

    /// The client's SOCKS address.
    pub fn socks_addr(&self) -> Option<SocketAddr> {
        self.routers.iter().find(|r| r.role == Role::Client).map(Router::socks_addr)
    }

    /// The authorities.
    pub fn authorities(&self) -> impl Iterator<Item = &Router> {
        self.routers.iter().filter(|r| r.role == Role::Authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_gives_each_router_its_own_address() {
        let network = Network { authorities: 3, ..Network::default() };
        let plan = NetPlan::new(&network, Vec::new(), 42, 4, Path::new("/tmp/x"), None).unwrap();
        assert_eq!(plan.routers.len(), 3 + 4 + 1);
        assert_eq!(plan.routers[0].ip, Ipv4Addr::new(127, 42, 0, 1));
        assert_eq!(plan.routers[0].or_addr(), SocketAddr::from(([127, 42, 0, 1], OR_PORT + 1)));
        assert_eq!(plan.authorities().count(), 3);
        assert_eq!(plan.socks_addr(), Some(SocketAddr::from(([127, 42, 0, 8], SOCKS_PORT + 8))));
        let two = Network { authorities: 2, ..Network::default() };
        assert!(matches!(NetPlan::new(&two, Vec::new(), 42, 0, Path::new("/tmp/x"), None), Err(NetError::Plan(_))));
    }

    #[test]
    fn a_deployment_puts_routers_on_boards() {
        let d = Deployment::parse(
            "d.ron",
            r#"(boards: [(id: "lab", address: "10.9.0.1", roles: [Lab]), (id: "b1", address: "10.9.0.2", roles: [Routers(["auth1", "client"])])])"#,
            &[],
        )
        .unwrap();
        let plan = NetPlan::new(&Network::default(), Vec::new(), 42, 1, Path::new("/tmp/x"), Some(&d)).unwrap();
        assert_eq!(plan.routers[0].ip, Ipv4Addr::new(10, 9, 0, 2));
        assert_eq!(plan.routers[0].board.as_deref(), Some("b1"));
        assert_eq!(plan.routers[1].ip, Ipv4Addr::new(10, 9, 0, 1));
        assert!(NetPlan::runs_on(&plan.routers[1], None));
        assert_eq!(plan.socks_addr().map(|a| a.ip()), Some(Ipv4Addr::new(10, 9, 0, 2).into()));
        let wrong = Deployment::parse(
            "d.ron",
            r#"(boards: [(id: "lab", address: "10.9.0.1", roles: [Lab]), (id: "b1", address: "10.9.0.2", roles: [Routers(["nobody"])])])"#,
            &[],
        )
        .unwrap();
        let err = NetPlan::new(&Network::default(), Vec::new(), 42, 0, Path::new("/tmp/x"), Some(&wrong)).unwrap_err();
        assert!(err.to_string().contains("nobody"), "{err}");
    }

    #[test]
    fn nicknames_keep_letters_and_digits() {
        assert_eq!(nickname("relay-1_x", "r"), "relay1x");
        assert_eq!(nickname("---", "r"), "r");
        assert_eq!(nickname(&"a".repeat(30), "r").len(), 19);
    }
}
