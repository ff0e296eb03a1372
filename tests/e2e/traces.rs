//! Traces off the anonymity network (scenarios/tumbling-vendor.ron): a listing photo whose
//! EXIF block carries the GPS position of the post office the vendor ships from (read by
//! exiftool and by the lab's extractor), the courier's records of that office (made by the
//! vendor's own drop-offs), and a foreign exchange whose short retention erases the one
//! traceable cash-out unless a preservation is served in time.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::Command;

use game::case::{CaseFile, ChargeClaim, ElementClaim, PersonaRef, SuspectClaim};
use game::extract::{Origin, revealed_facts, tx_addresses};
use game::lab::{Lab, RequestDraft, RequestStatus};
use game::ledger::EvidenceId;
use market_sim::world::World;
use serde_json::Value;
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::scenario::RequestKind;

use crate::support::{HEAD, lab_on, scenario, settle};

const PLACE: &str = "51.9075,4.4497";

/// The tumbling vendor's world after the cast's activity, every scripted step done.
async fn world(seed: u64) -> World {
    let mut world = World::build(scenario("tumbling-vendor.ron"), seed, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let failed: Vec<String> = world.truth().read().chronicle.iter().filter(|c| !c.ok).map(|c| c.text.clone()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    world
}

fn market(lab: &Lab) -> String {
    lab.directory().sites.get(&"silk-lane".into()).cloned().unwrap()
}

/// Captures the vendor's profile and his first listing photo: (profile, photo, photo URL).
async fn capture_photo(lab: &Lab) -> (EvidenceId, EvidenceId, String) {
    let base = market(lab);
    let profile = lab.capture(HEAD, &format!("{base}/api/vendors/DutchDirectNL")).await.unwrap();
    let page: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &profile.id).await.unwrap()).unwrap();
    let url = page["listings"].as_array().unwrap().iter().find_map(|l| l["photo_url"].as_str()).expect("a listing photo").to_string();
    let photo = lab.capture(HEAD, &format!("{base}{url}")).await.unwrap();
    assert_eq!(photo.media_type, "image/jpeg");
    (profile.id, photo.id, url)
}

/// What the court would read in `evidence`, as the lab assesses it.
async fn court_facts(lab: &Lab, evidence: &EvidenceId) -> Vec<Fact> {
    let case = CaseFile {
        suspects: vec![SuspectClaim {
            name: "Daan Visser".into(),
            personas: vec![PersonaRef { site: "silk-lane".into(), handle: "DutchDirectNL".into() }],
            attribution: vec![evidence.clone()],
            charges: vec![ChargeClaim {
                charge: "supply".into(),
                elements: vec![ElementClaim { element: "offered".into(), evidence: vec![] }],
            }],
        }],
    };
    let dossier = lab.dossier("t", &case).await.unwrap();
    dossier.evidence.get(evidence).unwrap().facts.iter().map(|r| r.fact.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_photo_carries_the_gps_position_read_by_exiftool_and_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let world = world(3).await;
    let lab = lab_on(&world, dir.path()).await;
    let (_, photo, url) = capture_photo(&lab).await;
    let jpeg = lab.evidence_content(HEAD, &photo).await.unwrap();

    // An independent reader: exiftool, numeric GPS.
    let file = dir.path().join("photo.jpg");
    std::fs::write(&file, &jpeg).unwrap();
    let out = Command::new("exiftool").args(["-j", "-n", "-GPSLatitude", "-GPSLongitude", "-Model", "-SerialNumber"]).arg(&file).output();
    let out = out.expect("exiftool is installed (scripts/test installs libimage-exiftool-perl)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tags: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lat = tags[0]["GPSLatitude"].as_f64().unwrap();
    let lon = tags[0]["GPSLongitude"].as_f64().unwrap();
    assert!((lat - 51.9075).abs() < 1e-5 && (lon - 4.4497).abs() < 1e-5, "{tags}");
    assert_eq!(tags[0]["Model"], "iPhone 12", "{tags}");
    assert!(tags[0]["SerialNumber"].as_str().is_some_and(|s| s.len() == 12), "{tags}");

    // The lab's extractor: the same position, as a fact about the listing.
    let id: i64 = url.trim_start_matches("/listing/").trim_end_matches("/photo.jpg").parse().unwrap();
    let shot = Fact::new(FactKind::PhotographedAt, Entity::Listing("mdma-10".into()), Entity::Place(PLACE.into()));
    let truth = world.truth();
    assert_eq!(revealed_facts(&Origin::Photo { site: "silk-lane".into(), listing: id }, &jpeg, &truth.read()), vec![shot.clone()]);
    assert_eq!(court_facts(&lab, &photo).await, vec![shot], "the lab reads a captured photo as a photo of its listing");
    // A photo of another listing, or no photo at all, shows nothing about this one.
    assert!(revealed_facts(&Origin::Photo { site: "silk-lane".into(), listing: id + 99 }, &jpeg, &truth.read()).is_empty());
    assert!(revealed_facts(&Origin::Photo { site: "silk-lane".into(), listing: id }, b"not a jpeg", &truth.read()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_couriers_records_of_the_office_are_what_the_vendor_shipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = world(4).await;
    // What the cast did: the chronicle's tracking numbers of the vendor's shipments.
    let shipped: BTreeSet<String> = world
        .truth()
        .read()
        .chronicle
        .iter()
        .filter(|c| c.actor.as_ref().is_some_and(|a| a.as_str() == "daan") && c.text.contains("shipped orders"))
        .flat_map(|c| {
            c.text
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .filter(|w| w.starts_with("CP") && w.len() == 13)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(shipped.len(), 4, "one parcel per order of the four buyers: {shipped:?}");

    let lab = lab_on(&world, dir.path()).await;
    let (profile, photo, _) = capture_photo(&lab).await;
    let draft = RequestDraft {
        kind: RequestKind::ProductionOrder,
        provider: "parcelnet".into(),
        target: PLACE.into(),
        grounds: vec![profile, photo],
    };
    let req = lab.request(HEAD, draft).await.unwrap();
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &req.id).await else { panic!("the courier did not answer") };
    let records: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    let parcels = records["parcels"].as_array().unwrap();
    let tracked: BTreeSet<String> = parcels.iter().map(|p| p["tracking"].as_str().unwrap().to_string()).collect();
    assert_eq!(tracked, shipped, "the courier holds exactly the parcels the vendor handed in: {records}");
    let buyers = ["Jana Novak", "Piet de Vries", "Tom Becker", "Lena Wolff"];
    for p in parcels {
        assert_eq!(p["sender_name"], "Daan Visser");
        assert_eq!(p["sender_address"], "Schiedamseweg 88, Rotterdam");
        assert_eq!(p["office"], "Delfshaven");
        assert_eq!(p["place"], PLACE);
        assert!(buyers.contains(&p["recipient_name"].as_str().unwrap()), "{p}");
    }
    let dropped = Fact::new(FactKind::ParcelDroppedBy, Entity::Place(PLACE.into()), Entity::Identity("daan".into()));
    assert_eq!(court_facts(&lab, &evidence).await, vec![dropped]);

    world.shutdown().await;
}

/// The one cash-out the trail reaches, asked of the foreign exchange through mutual legal
/// assistance, with or without a preservation served first; the exchange's answer.
async fn exchange_answer(preserve: bool) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut world = world(5).await;
    let lab = lab_on(&world, dir.path()).await;
    let base = market(&lab);
    let profile = lab.capture(HEAD, &format!("{base}/api/vendors/DutchDirectNL")).await.unwrap();
    let page: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &profile.id).await.unwrap()).unwrap();
    let payout = game::extract::addresses_in_text(page["bio"].as_str().unwrap()).remove(0);
    // The payout address's first spend is the cash-out; its last goes into the tumbler.
    let explorer = lab.directory().explorer.clone();
    let txs: Value = serde_json::from_slice(&lab.browse(HEAD, &format!("{explorer}/address/{payout}/txs")).await.unwrap()).unwrap();
    let spends: Vec<&Value> = txs.as_array().unwrap().iter().filter(|t| tx_addresses(t).0.contains(&payout)).collect();
    assert_eq!(spends.len(), 2, "a cash-out, then the tumble");
    let first = spends.last().unwrap()["txid"].as_str().unwrap();
    let cashout = lab.capture(HEAD, &format!("{explorer}/tx/{first}")).await.unwrap();
    let tx: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &cashout.id).await.unwrap()).unwrap();
    let deposit = tx_addresses(&tx).1.into_iter().find(|a| *a != payout).unwrap();
    if preserve {
        let draft = RequestDraft { kind: RequestKind::Preservation, provider: "coinport".into(), target: deposit.clone(), grounds: vec![] };
        let p = lab.request(HEAD, draft).await.unwrap();
        assert!(matches!(settle(&lab, &mut world, &p.id).await, RequestStatus::Authorised { .. }));
    }
    let grounds = vec![profile.id, cashout.id];
    let refused = lab
        .request(
            HEAD,
            RequestDraft {
                kind: RequestKind::ProductionOrder,
                provider: "coinport".into(),
                target: deposit.clone(),
                grounds: grounds.clone(),
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(settle(&lab, &mut world, &refused.id).await, RequestStatus::Refused { .. }),
        "a domestic order does not reach Estonia"
    );
    let mla = lab
        .request(HEAD, RequestDraft { kind: RequestKind::MutualLegalAssistance, provider: "coinport".into(), target: deposit, grounds })
        .await
        .unwrap();
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &mla.id).await else { panic!("MLA not answered") };
    let answer = serde_json::from_slice(&lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    world.shutdown().await;
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_foreign_exchanges_records_are_gone_unless_preserved_in_time() {
    let lost = exchange_answer(false).await;
    assert_eq!(lost["accounts"], serde_json::json!([]), "seven-day retention, eight-day answer: {lost}");
    let kept = exchange_answer(true).await;
    let accounts = kept["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{kept}");
    assert_eq!(accounts[0]["kyc"]["full_name"], "Daan Visser");
    assert_eq!(accounts[0]["username"], "dvisser");
}
