//! Crash safety: a child process writes blocks to a block store and is killed with SIGKILL
//! at seeded-random moments; after each kill the store is reopened, the chain revalidated,
//! and every block the child acknowledged (printed after fsync) must be there.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use coin_sim::{Chain, ChainParams, Utxo, Wallet};

use super::{COIN, T0};

const DIR_VAR: &str = "DARKLAB_CRASH_CHILD_DIR";

fn setup() -> (Wallet, Vec<(bitcoin::Address, u64)>) {
    let mut w = Wallet::from_seed([42; 32]);
    let allocs: Vec<_> = (0..20).map(|_| (w.new_address(), 10 * COIN)).collect();
    (w, allocs)
}

fn open(dir: &Path) -> (Chain, Wallet) {
    let (w, allocs) = setup();
    (Chain::open(dir, ChainParams::default(), T0, &allocs).unwrap(), w)
}

/// The child: runs only when the parent sets the directory. It mines blocks with a few
/// transactions each forever, printing `ACK height hash` once `mine_block` has returned
/// (the block is fsynced by then).
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else { return };
    let (mut chain, mut w) = open(Path::new(&dir));
    let miner = Wallet::from_seed([43; 32]).new_address();
    let mut out = std::io::stdout().lock();
    loop {
        let coins: Vec<Utxo> = w.addresses().iter().flat_map(|a| chain.address_utxos(a)).map(|u| u.utxo).collect();
        for c in coins.iter().take(8) {
            let to = w.new_address();
            if let Ok(tx) = w.build_and_sign(std::slice::from_ref(c), &[(to, c.value_sat / 2)], 1, &w.addresses()[0]) {
                let _ = chain.submit_tx(&tx);
            }
        }
        let t = chain.tip_time() + 600;
        let hash = chain.mine_block(t, &miner).unwrap();
        writeln!(out, "ACK {} {hash}", chain.height()).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_at_random_points_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = sim_core::rng::stream(7, "crash-test");
    let mut acked: Vec<(u32, bitcoin::BlockHash)> = Vec::new();
    for round in 0..8 {
        let mut child = Command::new(&exe)
            .args(["crash::crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("ACK ") {
                    let mut it = rest.split(' ');
                    let h: u32 = it.next().unwrap().parse().unwrap();
                    let hash: bitcoin::BlockHash = it.next().unwrap().parse().unwrap();
                    let _ = tx.send((h, hash));
                }
            }
        });
        // Wait for the child to start writing, then a seeded-random extra time.
        let first = rx.recv_timeout(Duration::from_secs(60)).expect("child acknowledged no block");
        let wait_ms = 5 + sim_core::rng::below(&mut rng, 150);
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        let mut this_round = vec![first];
        this_round.extend(rx.try_iter());
        acked.extend(this_round.iter().copied());

        // Reopen: the chain revalidates every block; every acknowledged block is present.
        let (chain, _) = open(dir.path());
        for (h, hash) in &acked {
            assert_eq!(chain.block_hash_at(*h), Some(*hash), "round {round}: acknowledged block {h} lost");
        }
        let last = this_round.last().unwrap().0;
        assert!(chain.height() >= last, "round {round}");
        // Blocks mined after restart must be consistent with what was acknowledged before.
        acked.retain(|(h, _)| *h <= chain.height());
    }
    assert!(acked.len() >= 8);
}
