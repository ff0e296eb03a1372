//! The deployment file (RON): which board of a classroom carries which roles — the lab
//! (with the world's services and the team worlds, whose state never leaves it), routers of
//! the private Tor network, or nothing yet (a spare that can take a failed board's routers)
//! — and how often boards report in. Checked like a scenario: every problem is a located
//! diagnostic (`file:line:col: error: path: message`).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sim_core::scenario::check::{Problem, did_you_mean};
use sim_core::scenario::{Diagnostics, RonDocument, load_ron_file, load_ron_str};

/// A classroom's boards and how they report in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The boards (the lab's machine is one of them, with the `Lab` role).
    pub boards: Vec<BoardDeployment>,
    /// Heartbeats: how often boards report in, when the lab calls one late or missing.
    #[serde(default)]
    pub heartbeat: Heartbeat,
    /// The file it was read from (what a reload reads again).
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

/// One board of a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardDeployment {
    /// Board id (what `darklab board --id` names): letters, digits, `-`, `_`.
    pub id: String,
    /// Its address on the classroom network.
    pub address: Ipv4Addr,
    /// What it carries; empty: a spare board.
    #[serde(default)]
    pub roles: Vec<BoardRole>,
}

/// What a board carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoardRole {
    /// The lab: the instructor's console, the evidence ledgers and the world's clock; it
    /// serves the boards their configuration. Exactly one board has it.
    Lab,
    /// The world's services (market, explorer, coin, providers, the cast): with the lab.
    Services,
    /// This many team worlds (challenge mode): with the lab.
    TeamWorlds(u32),
    /// Routers of the private Tor network, by nickname (`auth1`, a relay id, `onionhost`, `client`).
    Routers(Vec<String>),
}

/// Heartbeat timing, in wall seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// A board reports in every this many seconds.
    pub every: u64,
    /// Silent this long: late.
    pub late: u64,
    /// Silent this long: missing (the world's clock is held until it is back).
    pub missing: u64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat { every: 2, late: 6, missing: 15 }
    }
}

const DOCUMENT: RonDocument = RonDocument { form: "(boards: [...])", start_from: "start from the example in docs/boards.md" };

impl Deployment {
    /// Reads and checks a deployment file; `routers` are the network's router nicknames
    /// (every router a board names must be one of them; empty: not checked).
    pub fn load(path: &Path, routers: &[String]) -> Result<Deployment, Diagnostics> {
        let mut d = load_ron_file(path, &DOCUMENT, |d: &Deployment| d.problems(routers))?;
        d.file = Some(path.to_path_buf());
        Ok(d)
    }

    /// [`Deployment::load`] on text (`file` is only used in diagnostics).
    pub fn parse(file: &str, text: &str, routers: &[String]) -> Result<Deployment, Diagnostics> {
        load_ron_str(file, text, &DOCUMENT, |d: &Deployment| d.problems(routers))
    }

    /// The board with the `Lab` role (a checked deployment has exactly one).
    pub fn lab_board(&self) -> Option<&BoardDeployment> {
        self.boards.iter().find(|b| b.roles.contains(&BoardRole::Lab))
    }

    /// The lab's address on the classroom network (world services and routers not on
    /// another board listen there; boards fetch their configuration from it).
    pub fn lab(&self) -> Ipv4Addr {
        self.lab_board().map_or(Ipv4Addr::LOCALHOST, |b| b.address)
    }

    /// The board that carries router `nick`, unless it is the lab's (its routers run in
    /// the lab's own process).
    pub fn board_of(&self, nick: &str) -> Option<&BoardDeployment> {
        self.boards.iter().filter(|b| !b.roles.contains(&BoardRole::Lab)).find(|b| b.routers().any(|r| r == nick))
    }

    /// The team worlds the lab's board is declared to carry (`None`: not said).
    pub fn team_worlds(&self) -> Option<u32> {
        self.lab_board()?.roles.iter().find_map(|r| if let BoardRole::TeamWorlds(n) = r { Some(*n) } else { None })
    }

    /// Every problem of the deployment (empty: valid).
    pub fn problems(&self, known_routers: &[String]) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.boards.is_empty() {
            out.push(
                Problem::new("boards", "no boards").with_help("list the lab's machine with `roles: [Lab, Services]`, then the boards"),
            );
        }
        let labs: Vec<usize> = self.boards.iter().enumerate().filter(|(_, b)| b.roles.contains(&BoardRole::Lab)).map(|(i, _)| i).collect();
        if labs.is_empty() && !self.boards.is_empty() {
            out.push(Problem::new("boards", "no board has the `Lab` role").with_help("give the lab's machine `roles: [Lab, Services]`"));
        }
        for &i in labs.iter().skip(1) {
            out.push(
                Problem::new(format!("boards[{i}].roles"), "a second board with the `Lab` role; one lab runs a classroom")
                    .with_help("keep `Lab` on one board; list this one's routers, or leave it a spare"),
            );
        }
        let lab_id = labs.first().and_then(|&i| self.boards.get(i)).map(|b| b.id.clone()).unwrap_or_default();
        let mut ids = BTreeSet::new();
        let mut addresses = BTreeSet::new();
        let mut placed: Vec<(String, String)> = Vec::new();
        let known: Vec<&str> = known_routers.iter().map(String::as_str).collect();
        for (i, board) in self.boards.iter().enumerate() {
            let at = format!("boards[{i}]");
            if board.id.is_empty() || !board.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                out.push(Problem::new(format!("{at}.id"), format!("`{}` is not a board id: use letters, digits, `-` and `_`", board.id)));
            } else if !ids.insert(board.id.clone()) {
                out.push(Problem::new(format!("{at}.id"), format!("two boards are named `{}`", board.id)));
            }
            if !addresses.insert(board.address) {
                out.push(Problem::new(format!("{at}.address"), format!("two boards have the address {}", board.address)));
            }
            let is_lab = board.roles.contains(&BoardRole::Lab);
            for (j, role) in board.roles.iter().enumerate() {
                let at = format!("{at}.roles[{j}]");
                match role {
                    BoardRole::Services | BoardRole::TeamWorlds(_) if !is_lab => out.push(
                        Problem::new(
                            at.clone(),
                            "the world's services and team worlds run with the lab, whose state never depends on a board",
                        )
                        .with_help(if lab_id.is_empty() {
                            "add it to the lab's board".to_string()
                        } else {
                            format!("add it to board `{lab_id}`")
                        }),
                    ),
                    BoardRole::TeamWorlds(0) => {
                        out.push(Problem::new(format!("{at}.TeamWorlds"), "zero team worlds").with_help("at least 1"))
                    }
                    BoardRole::Routers(routers) => {
                        for (k, nick) in routers.iter().enumerate() {
                            let at = format!("{at}.Routers[{k}]");
                            if let Some((_, other)) = placed.iter().find(|(n, _)| n == nick) {
                                out.push(Problem::new(at.clone(), format!("router `{nick}` is already on board `{other}`")));
                            }
                            placed.push((nick.clone(), board.id.clone()));
                            if !known.is_empty() && !known.contains(&nick.as_str()) {
                                let mut p = Problem::new(at, format!("`{nick}` is not a router of this network ({})", known.join(", ")));
                                if let Some(close) = did_you_mean(nick, &known) {
                                    p = p.with_help(format!("did you mean `{close}`?"));
                                }
                                out.push(p);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let h = self.heartbeat;
        if h.every == 0 {
            out.push(Problem::new("heartbeat.every", "boards must report in at least every few seconds; 0 is not an interval"));
        }
        if h.late <= h.every {
            out.push(
                Problem::new("heartbeat.late", format!("late after {} s, but boards report every {} s", h.late, h.every))
                    .with_help("make `late` at least twice `every`"),
            );
        }
        if h.missing <= h.late {
            out.push(Problem::new("heartbeat.missing", format!("missing after {} s, before late ({} s)", h.missing, h.late)));
        }
        out
    }
}

impl BoardDeployment {
    /// The routers this board carries.
    pub fn routers(&self) -> impl Iterator<Item = &String> {
        self.roles.iter().filter_map(|r| if let BoardRole::Routers(list) = r { Some(list.iter()) } else { None }).flatten()
    }

    /// Whether it carries nothing (a spare).
    pub fn is_spare(&self) -> bool {
        self.roles.is_empty() || self.roles.iter().all(|r| matches!(r, BoardRole::Routers(list) if list.is_empty()))
    }
}

/// The systemd unit shipped for boards (`assets/systemd/darklab-board.service`).
const BOARD_UNIT: &str = include_str!("../../../assets/systemd/darklab-board.service");

/// The board's systemd unit, running `exe` as board `id` of the lab at `lab`.
pub fn board_unit(exe: &Path, lab: &str, id: &str) -> String {
    BOARD_UNIT.replace("{{exe}}", &exe.display().to_string()).replace("{{lab}}", lab).replace("{{id}}", id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routers() -> Vec<String> {
        ["auth1", "auth2", "auth3", "relay1", "onionhost", "client"].map(String::from).to_vec()
    }

    #[test]
    fn a_classroom_of_boards_parses() {
        let text = r#"(
    boards: [
        (id: "lab", address: "10.0.0.1", roles: [Lab, Services, TeamWorlds(8), Routers(["client"])]),
        (id: "pi-1", address: "10.0.0.2", roles: [Routers(["auth1", "auth2", "auth3"])]),
        (id: "pi-2", address: "10.0.0.3", roles: [Routers(["relay1", "onionhost"])]),
        (id: "pi-3", address: "10.0.0.4"),
    ],
    heartbeat: (every: 1, late: 3, missing: 6),
)"#;
        let d = Deployment::parse("d.ron", text, &routers()).unwrap();
        assert_eq!(d.lab(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(d.team_worlds(), Some(8));
        assert_eq!(d.board_of("relay1").map(|b| b.id.as_str()), Some("pi-2"));
        assert!(d.board_of("client").is_none(), "the lab's routers run in the lab's process");
        assert!(d.boards[3].is_spare());
    }

    #[test]
    fn problems_are_located() {
        let text = r#"(
    boards: [
        (id: "lab", address: "10.0.0.1", roles: [Lab]),
        (id: "pi-1", address: "10.0.0.2", roles: [Services, Routers(["auth1", "relay2"])]),
        (id: "pi-2", address: "10.0.0.2", roles: [Routers(["auth1"])]),
    ],
)"#;
        let err = Deployment::parse("d.ron", text, &routers()).unwrap_err();
        let lines: Vec<String> = err.iter().map(|d| d.headline()).collect();
        assert_eq!(
            lines,
            [
                "d.ron:4:51: error: boards[1].roles[0]: the world's services and team worlds run with the lab, whose state never depends on a board",
                "d.ron:4:79: error: boards[1].roles[1].Routers[1]: `relay2` is not a router of this network (auth1, auth2, auth3, relay1, onionhost, client)",
                "d.ron:5:31: error: boards[2].address: two boards have the address 10.0.0.2",
                "d.ron:5:60: error: boards[2].roles[0].Routers[0]: router `auth1` is already on board `pi-1`",
            ],
            "{err}"
        );
        let typo = Deployment::parse(
            "d.ron",
            "(boards: [(id: \"lab\", address: \"10.0.0.1\", roles: [Lab]), (id: \"b\", adress: \"10.0.0.2\")])",
            &[],
        );
        let first = typo.unwrap_err().iter().next().map(|d| d.headline()).unwrap();
        assert_eq!(first, "d.ron:1:69: error: boards[1].adress: unknown field `adress`");
        let no_lab = Deployment::parse("d.ron", "(boards: [(id: \"b\", address: \"10.0.0.2\")])", &[]).unwrap_err();
        assert!(no_lab.to_string().contains("no board has the `Lab` role"), "{no_lab}");
    }

    /// cargo-fuzz `deployment_load` crash `oom-b785f5ce78f3ede7f21b06903bfd78237e642be1`: a
    /// raw-identifier prefix `r#` followed by whitespace sent the scenario loader's source
    /// locator into an endless loop that allocated ~4.8 GB. The same calls as the fuzz
    /// target (parse; if it parses, plan and round-trip); it must be refused, located,
    /// within seconds (a loop that stops allocating would otherwise hang the test).
    #[test]
    fn a_raw_identifier_prefix_before_whitespace_is_refused_quickly() {
        let data: &[u8] = b"(\n r#       (id: \"board2\"rel.y2\", \"onionhost\"]),\n    ],\n)\n";
        assert_eq!(data.len(), 58);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let text = std::str::from_utf8(data).unwrap();
            let result = Deployment::parse("fuzz.ron", text, &[]);
            if let Ok(d) = &result {
                let network = sim_core::scenario::model::Network::default();
                let _ = crate::net::NetPlan::new(&network, Vec::new(), 9, 2, Path::new("/fuzz"), Some(d));
                let again = Deployment::parse("fuzz.ron", &ron::to_string(d).unwrap(), &[]).unwrap();
                assert_eq!(*d, again);
            }
            let _ = tx.send(result.map_err(|e| e.render(false)));
        });
        let result = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the loader returns within seconds");
        let err = result.unwrap_err();
        assert!(err.starts_with("fuzz.ron:2:2: error: <root>: expected an identifier"), "{err}");
        assert!(err.contains("`r#` starts a raw identifier"), "{err}");
    }

    #[test]
    fn the_board_unit_runs_this_board() {
        let unit = board_unit(Path::new("/usr/local/bin/darklab"), "http://10.0.0.1:8099", "pi-2");
        assert!(
            unit.contains("\nExecStart=/usr/local/bin/darklab board --lab http://10.0.0.1:8099 --id pi-2 --dir /var/lib/darklab-board\n"),
            "{unit}"
        );
        assert!(unit.contains("Restart=always") && !unit.contains("{{"), "{unit}");
    }
}
