//! A deployment file (RON: which board carries which routers): parsed or refused with a
//! message, a parsed one planned against the shipped scenario's network or refused with a
//! typed error, and written back as RON it parses to the same deployment (round trip).
#![no_main]

use std::path::Path;

use game::net::NetPlan;
use game::net::deploy::Deployment;
use libfuzzer_sys::fuzz_target;
use sim_core::scenario::model::Network;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(deployment) = Deployment::parse("fuzz.ron", text, &[]) else { return };
    let network = Network::default();
    if let Ok(plan) = NetPlan::new(&network, Vec::new(), 9, 2, Path::new("/fuzz"), Some(&deployment)) {
        for router in &plan.routers {
            let on_board = deployment.board_of(&router.nick).is_some();
            assert_eq!(router.board.is_some(), on_board, "{router:?}");
        }
    }
    let written = ron::to_string(&deployment).unwrap_or_else(|e| panic!("serialise: {e}"));
    let again = Deployment::parse("fuzz.ron", &written, &[]).unwrap_or_else(|e| panic!("reparse: {e}\n{written}"));
    assert_eq!(deployment, again, "a deployment changed on its way through RON");
});
