//! The instructors' network map, read from the live consensus an authority caches:
//! relays with their flags and bandwidth, the onion services the network hosts, and what
//! the bootstrap watchdog did.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::NetError;
use super::supervise::{self, NetState};
use super::watchdog::Recovery;

/// One relay as the consensus lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RelayEntry {
    /// Nickname.
    pub nick: String,
    /// Address and OR port.
    pub address: String,
    /// Flags the authorities voted (Authority, Guard, Exit, HSDir, Running, …).
    pub flags: Vec<String>,
    /// Consensus bandwidth weight.
    pub bandwidth: u64,
}

/// One onion service of the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OnionEntry {
    /// The site it serves.
    pub site: String,
    /// Its `.onion` name.
    pub host: String,
    /// The router hosting it.
    pub router: String,
}

/// What the console draws: the consensus's relays and the onion services.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NetworkMap {
    /// `tor` (a private Tor network) or `direct` (loopback sockets, no relays).
    #[serde(default)]
    pub mode: String,
    /// The consensus's `valid-after` time (empty when there is none yet).
    pub valid_after: String,
    /// Relays, in consensus order.
    pub relays: Vec<RelayEntry>,
    /// Onion services.
    pub onion_services: Vec<OnionEntry>,
    /// The bootstrap watchdog's recoveries (none when the network came up by itself).
    pub recoveries: Vec<Recovery>,
}

/// Parses the relays of a consensus document (`r`, `s` and `w` lines).
pub fn parse_consensus(text: &str) -> (String, Vec<RelayEntry>) {
    let mut valid_after = String::new();
    let mut relays: Vec<RelayEntry> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("valid-after") => valid_after = words.collect::<Vec<_>>().join(" "),
            Some("r") => {
                // r nickname identity digest date time IP ORPort DirPort
                let w: Vec<&str> = words.collect();
                if let (Some(nick), Some(ip), Some(port)) = (w.first(), w.get(5), w.get(6)) {
                    relays.push(RelayEntry { nick: nick.to_string(), address: format!("{ip}:{port}"), flags: Vec::new(), bandwidth: 0 });
                }
            }
            Some("s") => {
                if let Some(r) = relays.last_mut() {
                    r.flags = words.map(String::from).collect();
                }
            }
            Some("w") => {
                if let Some(r) = relays.last_mut() {
                    r.bandwidth = words.find_map(|kv| kv.strip_prefix("Bandwidth=")).and_then(|v| v.parse().ok()).unwrap_or(0);
                }
            }
            _ => {}
        }
    }
    (valid_after, relays)
}

/// The map of the network whose state is `state`, from the first authority's cached
/// consensus (no consensus yet: no relays).
pub fn network_map(state: &NetState) -> Result<NetworkMap, NetError> {
    let plan = &state.plan;
    let mut map = NetworkMap { mode: "tor".into(), ..NetworkMap::default() };
    for auth in plan.authorities() {
        let path = plan.data_dir(auth).join("cached-consensus");
        if let Ok(text) = std::fs::read_to_string(&path) {
            (map.valid_after, map.relays) = parse_consensus(&text);
            break;
        }
    }
    let host = plan.routers.iter().find(|r| r.role == super::Role::OnionHost).map(|r| r.nick.clone()).unwrap_or_default();
    map.onion_services =
        plan.onions.iter().map(|o| OnionEntry { site: o.site.clone(), host: o.host.clone(), router: host.clone() }).collect();
    map.recoveries = supervise::read_recoveries(&plan.dir);
    Ok(map)
}

/// The map in direct mode: no relays, and the onion services as the lab's directory names
/// them (sites whose address is a `.onion` name), each served straight on loopback.
pub fn direct_map(sites: &std::collections::BTreeMap<sim_core::ids::SiteId, String>) -> NetworkMap {
    let onion_services = sites
        .iter()
        .filter_map(|(site, url)| {
            let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or_default();
            host.ends_with(".onion").then(|| OnionEntry { site: site.to_string(), host: host.to_string(), router: "direct".into() })
        })
        .collect();
    NetworkMap { mode: "direct".into(), onion_services, ..NetworkMap::default() }
}

impl NetworkMap {
    /// The text view `darklab net status` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "consensus valid-after: {}", if self.valid_after.is_empty() { "(none yet)" } else { &self.valid_after });
        let _ = writeln!(out, "{:<20} {:<22} {:>10}  flags", "relay", "address", "bandwidth");
        for r in &self.relays {
            let _ = writeln!(out, "{:<20} {:<22} {:>10}  {}", r.nick, r.address, r.bandwidth, r.flags.join(" "));
        }
        let _ = writeln!(out, "onion services:");
        for o in &self.onion_services {
            let _ = writeln!(out, "  {:<16} {} (on {})", o.site, o.host, o.router);
        }
        let _ = writeln!(out, "bootstrap watchdog: {}", super::watchdog::summary(&self.recoveries));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consensus_lines_become_relays() {
        let text = "network-status-version 3 microdesc\nvalid-after 2026-11-25 08:00:00\n\
            r auth1 AAAA BBBB 2026-11-25 07:59:00 127.5.0.1 5100 7100\ns Authority Fast Running V2Dir Valid\nw Bandwidth=20\n\
            r relay1 CCCC DDDD 2026-11-25 07:59:00 127.5.0.4 5100 7100\ns Fast Guard HSDir Running Valid\nw Bandwidth=30 Unmeasured=1\n";
        let (va, relays) = parse_consensus(text);
        assert_eq!(va, "2026-11-25 08:00:00");
        assert_eq!(relays.len(), 2);
        assert_eq!(relays[1].nick, "relay1");
        assert_eq!(relays[1].address, "127.5.0.4:5100");
        assert_eq!(relays[1].bandwidth, 30);
        assert!(relays[1].flags.contains(&"HSDir".to_string()));
        assert!(relays[0].flags.contains(&"Authority".to_string()));
    }

    #[test]
    fn direct_mode_maps_the_onion_sites_only() {
        let sites = [("silk-lane", "http://abcdefghijklmnop.onion"), ("shop", "http://shop.example:8080/")]
            .into_iter()
            .map(|(a, b)| (sim_core::ids::SiteId::from(a), b.to_string()))
            .collect();
        let map = direct_map(&sites);
        assert_eq!(map.mode, "direct");
        assert!(map.relays.is_empty());
        assert_eq!(map.onion_services.len(), 1);
        assert_eq!(map.onion_services[0].host, "abcdefghijklmnop.onion");
        assert_eq!(map.onion_services[0].site, "silk-lane");
    }
}
