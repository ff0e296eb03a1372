//! Slips that lead to an identity through an e-mail (scenarios/keyed-vendor.ron): the
//! vendor's shop key carries its e-mail in the user ID, its mailbox was opened from home,
//! and its internet provider leased it that home IP. Each artifact is read by an
//! independent reader (gpg for the key, the providers' JSON for the records), the lab's
//! extractor reveals exactly the planted fact, and the case solves to full marks.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use game::extract::{Origin, revealed_facts};
use game::lab::{Lab, Member, RequestDraft, RequestStatus, Role};
use market_sim::world::World;
use serde_json::Value;
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::scenario::solve::{Solvability, solve};
use sim_core::scenario::{RequestKind, Scenario, SlipKind, load_file};

use crate::support::HEAD;

const EMAIL: &str = "mark.ellis84@mailbox.example";
const HOME: &str = "81.2.69.160";

fn keyed() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/keyed-vendor.ron");
    load_file(&path).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

/// The world after the cast's activity, with a lab holding one team.
async fn lab_world(s: Scenario, seed: u64, data: &Path) -> (World, Lab) {
    let mut world = World::build(Arc::new(s), seed, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let failed: Vec<String> = world.truth().read().chronicle.iter().filter(|c| !c.ok).map(|c| c.text.clone()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let lab = Lab::new(&world).unwrap();
    lab.add_team("t", vec![Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() }], &Lab::team_dir(data, "t"))
        .await
        .unwrap();
    (world, lab)
}

/// Files a production order and lets time pass until it is answered; the records' JSON.
async fn records(lab: &Lab, world: &mut World, provider: &str, target: &str, grounds: Vec<game::ledger::EvidenceId>) -> (Value, Vec<u8>) {
    let draft = RequestDraft { kind: RequestKind::ProductionOrder, provider: provider.into(), target: target.into(), grounds };
    let req = lab.request(HEAD, draft).await.unwrap();
    for _ in 0..10 {
        let status = lab.requests(HEAD).await.unwrap().into_iter().find(|r| r.id == req.id).unwrap().status;
        match status {
            RequestStatus::Answered { evidence, .. } => {
                let content = lab.evidence_content(HEAD, &evidence).await.unwrap();
                return (serde_json::from_slice(&content).unwrap(), content);
            }
            RequestStatus::Refused { reason } => panic!("{provider}: {reason}"),
            _ => {}
        }
        let due = lab.next_due().await.unwrap();
        world.run_until(due.max(world.clock().now())).await.unwrap();
        lab.tick().await.unwrap();
    }
    panic!("{provider} never answered");
}

/// The user IDs of an armoured key as gpg reads them (`uid` records of `--with-colons`).
fn gpg_user_ids(armored: &str) -> Vec<String> {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("key.asc");
    std::fs::write(&file, armored).unwrap();
    let out = std::process::Command::new("gpg")
        .args(["--batch", "--homedir"])
        .arg(home.path())
        .args(["--with-colons", "--show-keys"])
        .arg(&file)
        .output()
        .expect("gpg is installed (scripts/test installs gnupg)");
    assert!(out.status.success(), "gpg: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("uid:"))
        .filter_map(|l| l.split(':').nth(9))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_in_the_key_the_home_login_and_the_lease_are_real_records_that_reveal_their_facts() {
    let dir = tempfile::tempdir().unwrap();
    let (mut world, lab) = lab_world(keyed(), 7, dir.path()).await;
    let truth = world.truth().clone();
    let persona = Entity::Persona("greenleaf".into());
    let email = Entity::Email(EMAIL.into());
    let home = Entity::Ip(HOME.into());

    // The vendor profile serves the armoured key; gpg reads the e-mail in its user ID.
    let site = lab.directory().sites.get(&"silk-lane".into()).unwrap().clone();
    let profile = lab.capture(HEAD, &format!("{site}/api/vendors/GreenLeafUK")).await.unwrap();
    let content = lab.evidence_content(HEAD, &profile.id).await.unwrap();
    let page: Value = serde_json::from_slice(&content).unwrap();
    let key = page["pgp_key"].as_str().expect("the shop has a key");
    assert!(key.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"), "{key}");
    assert_eq!(gpg_user_ids(key), vec![format!("GreenLeafUK <{EMAIL}>")]);
    let facts = revealed_facts(&Origin::Site("silk-lane".into()), &content, &truth.read());
    let about_email: Vec<&Fact> = facts.iter().filter(|f| f.kind == FactKind::UsesEmail).collect();
    assert_eq!(about_email, vec![&Fact::new(FactKind::UsesEmail, persona.clone(), email.clone())]);

    // The mailbox's records: opened from the home IP when the world began, as the cast did.
    let (mail, raw) = records(&lab, &mut world, "mailbox", EMAIL, vec![profile.id.clone()]).await;
    let mailbox = &mail["subscribers"][0];
    assert_eq!(mailbox["address"], EMAIL);
    assert_eq!(mailbox["display_name"], "Mark Ellis");
    let logins = mailbox["logins"].as_array().unwrap();
    assert_eq!(logins.len(), 1, "{mail}");
    assert_eq!(logins[0]["ip"], HOME);
    assert_eq!(logins[0]["kind"], "signup");
    assert_eq!(logins[0]["time"], "2026-03-02T08:00:00Z");
    let facts = revealed_facts(&Origin::Provider("mailbox".into()), &raw, &truth.read());
    assert_eq!(facts, vec![Fact::new(FactKind::LoggedInFrom, email.clone(), home.clone())]);

    // The ISP's records of that IP: leased to Mark Ellis's line since the world began. The
    // judge grants on the chain persona → e-mail → IP shown by the two cited records.
    let mail_records = lab.requests(HEAD).await.unwrap().into_iter().find_map(|r| match r.status {
        RequestStatus::Answered { evidence, .. } => Some(evidence),
        _ => None,
    });
    let (isp, raw) = records(&lab, &mut world, "netline", HOME, vec![profile.id.clone(), mail_records.unwrap()]).await;
    let line = &isp["subscribers"][0];
    assert_eq!(line["name"], "Mark Ellis");
    assert_eq!(line["address"], "14 Harbour Row, Bristol");
    assert_eq!(line["leases"][0]["ip"], HOME);
    assert_eq!(line["leases"][0]["start"], "2026-03-02T08:00:00Z");
    assert!(line["leases"][0]["end"].is_null(), "{isp}");
    let facts = revealed_facts(&Origin::Provider("netline".into()), &raw, &truth.read());
    assert_eq!(facts, vec![Fact::new(FactKind::IpSubscriber, home, Entity::Identity("mark".into()))]);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_slips_the_key_has_no_email_and_the_mailbox_shows_no_home_ip() {
    let mut s = keyed();
    s.cast[0].slips.retain(|sl| !matches!(sl.kind, SlipKind::MailboxFromHome(_)));
    let dir = tempfile::tempdir().unwrap();
    let (mut world, lab) = lab_world(s, 7, dir.path()).await;
    let truth = world.truth().clone();
    let site = lab.directory().sites.get(&"silk-lane".into()).unwrap().clone();
    let profile = lab.capture(HEAD, &format!("{site}/api/vendors/GreenLeafUK")).await.unwrap();
    let (mail, raw) = records(&lab, &mut world, "mailbox", EMAIL, vec![profile.id.clone()]).await;
    let ips: Vec<&str> = mail["subscribers"][0]["logins"].as_array().unwrap().iter().filter_map(|l| l["ip"].as_str()).collect();
    assert!(!ips.is_empty() && !ips.contains(&HOME), "opened over Tor, the mailbox never saw the home IP: {mail}");
    assert!(revealed_facts(&Origin::Provider("mailbox".into()), &raw, &truth.read()).is_empty());
    world.shutdown().await;

    // A vendor without the key slip publishes no key at all.
    let mut s = keyed();
    s.cast[0].slips.retain(|sl| !matches!(sl.kind, SlipKind::EmailInPgpKey(_)));
    let dir = tempfile::tempdir().unwrap();
    let (world, lab) = lab_world(s, 7, dir.path()).await;
    let site = lab.directory().sites.get(&"silk-lane".into()).unwrap().clone();
    let profile = lab.capture(HEAD, &format!("{site}/api/vendors/GreenLeafUK")).await.unwrap();
    let content = lab.evidence_content(HEAD, &profile.id).await.unwrap();
    let page: Value = serde_json::from_slice(&content).unwrap();
    assert!(page["pgp_key"].is_null(), "{page}");
    let facts = revealed_facts(&Origin::Site("silk-lane".into()), &content, &world.truth().read());
    assert!(facts.iter().all(|f| f.kind != FactKind::UsesEmail), "{facts:?}");
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyed_vendor_scores_full_marks_by_its_reference_solution_and_by_the_solvers_path() {
    let s = keyed();
    let Solvability::Solved(sol) = solve(&s) else { panic!("keyed-vendor does not solve: {:?}", solve(&s)) };
    let mut by_solver = s.clone();
    by_solver.solution = sol.steps;
    for (name, scenario) in [("reference", s), ("solver", by_solver)] {
        let dir = tempfile::tempdir().unwrap();
        let report = game::exercise::demo(Arc::new(scenario), 5, dir.path()).await.unwrap();
        let v = &report.verdict;
        assert_eq!(v.score, v.max_score, "{name}: full marks expected:\n{}", v.render_text());
        assert!(v.excluded.is_empty(), "{name}: {:?}", v.excluded);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_records_show_the_kyc_sign_up_from_the_home_line() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, mut world, lab) = crate::support::lab_world(11, dir.path()).await;
    let team = crate::support::investigate_without_filing(&scenario, &lab, &mut world).await;
    let records = team.evidence("coinbay-records").unwrap().clone();
    let content = lab.evidence_content(HEAD, &records).await.unwrap();
    let json: Value = serde_json::from_slice(&content).unwrap();
    let logins = json["accounts"][0]["logins"].as_array().unwrap();
    assert!(logins.iter().all(|l| l["ip"] == HOME), "the vendor signs up and logs in from home: {json}");
    let facts = revealed_facts(&Origin::Provider("coinbay".into()), &content, &world.truth().read());
    let account = Entity::Account("coinbay".into(), "mellis84".into());
    assert!(facts.contains(&Fact::new(FactKind::LoggedInFrom, account, Entity::Ip(HOME.into()))), "{facts:?}");
    world.shutdown().await;
}
