//! game: the investigation side of DarkLab and the `darklab` command.
//!
//! - [`ledger`]: each team's append-only, hash-chained evidence ledger.
//! - [`extract`]: which facts an artifact reveals.
//! - [`judge`]: the simulated judge ruling on legal requests.
//! - [`case`]: the case file a team submits.
//! - [`prosecutor`]: the verdict, element by element, and the score.
//! - [`lab`]: teams, captures, legal process, submission — and its HTTP API.
//! - [`autopilot`]: a team that follows a scenario's reference solution.
//! - [`exercise`]: whole exercises (the headless demo).
//! - [`serve`]: the live world for a classroom; [`pace`]: its clock; [`instructor`]: the
//!   instructor's console API.
//! - [`challenge`]: teams competing in isolated worlds on one timer, the deadline, the
//!   live scoreboard and the announcement.
//! - [`bench`]: load tests of a live classroom (`darklab bench`); [`footprint`]: the
//!   settings that keep a classroom within a Raspberry Pi's memory.
//! - [`net`]: the onion network in tor mode (a private network of real tor daemons).
//! - [`workstation`]: the trainee workstation and instructor console as plain state and
//!   actions over the lab API (the Bevy window is the `workstation` feature's binary).

pub mod autopilot;
pub mod bench;
pub mod case;
pub mod challenge;
pub mod exercise;
pub mod extract;
pub mod footprint;
pub mod instructor;
pub mod judge;
pub mod lab;
pub mod ledger;
pub mod net;
pub mod pace;
pub mod prosecutor;
pub mod serve;
pub mod workstation;
