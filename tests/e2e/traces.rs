//! Traces off the anonymity network (scenarios/tumbling-vendor.ron): a listing photo whose
//! EXIF block carries the GPS position of the post office the vendor ships from (read by
//! exiftool and by the lab's extractor), the courier's records of that office (everyone's
//! parcels: strangers' and the vendor's own drop-offs), a controlled purchase whose order
//! page shows the parcel's tracking number a courier order can cite, and a foreign exchange whose short retention erases the one
//! traceable cash-out unless a preservation is served in time.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::process::Command;
use std::sync::Arc;

use game::case::{CaseFile, ChargeClaim, ElementClaim, PersonaRef, SuspectClaim};
use game::extract::{Origin, revealed_facts, tx_addresses};
use game::lab::{AccountDraft, Channel, Lab, Member, PurchaseDraft, RequestDraft, RequestStatus, Role};
use game::ledger::EvidenceId;
use market_sim::world::World;
use serde_json::Value;
use sim_core::clock::SimDuration;
use sim_core::facts::{Entity, Fact, FactKind};
use sim_core::scenario::{Grounds, LegalRule, RequestKind};

use crate::support::{HEAD, INVESTIGATOR, lab_on, scenario, settle};

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
async fn the_couriers_records_of_the_office_hold_every_sender_and_the_vendors_drop_offs() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = world(4).await;
    // What the cast did: the tracking number of each of the vendor's shipments, with the
    // time he handed it in (the chronicle's time of the shipping step).
    let shipped: BTreeMap<String, String> = world
        .truth()
        .read()
        .chronicle
        .iter()
        .filter(|c| c.actor.as_ref().is_some_and(|a| a.as_str() == "daan") && c.text.contains("shipped orders"))
        .flat_map(|c| {
            c.text
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .filter(|w| w.starts_with("CP") && w.len() == 13)
                .map(|w| (w.to_string(), c.time.to_string()))
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
    // The office's records hold everyone's parcels, handed in at the counter through the
    // courier's API: strangers' as well as the vendor's.
    let senders: BTreeSet<&str> = parcels.iter().map(|p| p["sender_name"].as_str().unwrap()).collect();
    assert!(senders.len() > 2, "several senders at the office: {senders:?}");
    assert!(parcels.iter().all(|p| p["office"] == "Delfshaven" && p["place"] == PLACE), "{records}");
    let cast: BTreeSet<String> = world.scenario().cast.iter().map(|a| a.identity.name.clone()).collect();
    let theirs: Vec<&Value> = parcels.iter().filter(|p| p["sender_name"] == "Daan Visser").collect();
    for p in parcels.iter().filter(|p| p["sender_name"] != "Daan Visser") {
        assert!(!cast.contains(p["sender_name"].as_str().unwrap()), "a stranger is no one of the story: {p}");
    }
    // Narrowed to the vendor: exactly his four parcels, each handed in when he shipped, to
    // one of his buyers.
    let tracked: BTreeMap<String, String> =
        theirs.iter().map(|p| (p["tracking"].as_str().unwrap().to_string(), p["dropped_at"].as_str().unwrap().to_string())).collect();
    assert_eq!(tracked, shipped, "the vendor's parcels are what he handed in, when he did: {records}");
    let buyers = ["Jana Novak", "Piet de Vries", "Tom Becker", "Lena Wolff"];
    for p in &theirs {
        assert_eq!(p["sender_address"], "Schiedamseweg 88, Rotterdam");
        assert!(buyers.contains(&p["recipient_name"].as_str().unwrap()), "{p}");
    }
    // The court reads the vendor's drop-offs there and who handed in each of his parcels;
    // strangers are no one the investigation knows.
    let mut expected = vec![Fact::new(FactKind::ParcelDroppedBy, Entity::Place(PLACE.into()), Entity::Identity("daan".into()))];
    expected.extend(shipped.keys().map(|t| Fact::new(FactKind::ParcelSentBy, Entity::Parcel(t.clone()), Entity::Identity("daan".into()))));
    expected.sort();
    assert_eq!(court_facts(&lab, &evidence).await, expected);

    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controlled_purchase_gets_the_tracking_number_a_courier_order_can_cite() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = (*scenario("tumbling-vendor.ron")).clone();
    s.legal.rules.push(LegalRule {
        request: RequestKind::UndercoverAuthorisation,
        provider_kind: None,
        grounds: Grounds::LinkToOffence { max_hops: 1 },
        ruling_delay: SimDuration::hours(1),
    });
    let mut world = World::build(Arc::new(s), 6, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    let start = world.scenario().meta.start;
    world.run_until(start.plus(SimDuration::hours(2))).await.unwrap();
    let lab = Lab::new(&world).unwrap();
    let members = vec![
        Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() },
        Member { name: "investigator".into(), role: Role::Investigator, token: INVESTIGATOR.into() },
    ];
    lab.add_team("t", members, &Lab::team_dir(dir.path(), "t")).await.unwrap();
    let base = market(&lab);
    let profile = lab.capture(HEAD, &format!("{base}/api/vendors/DutchDirectNL")).await.unwrap().id;
    let draft = RequestDraft {
        kind: RequestKind::UndercoverAuthorisation,
        provider: "silk-lane".into(),
        target: "DutchDirectNL".into(),
        grounds: vec![profile.clone()],
    };
    let authority = lab.request(HEAD, draft).await.unwrap().id;
    assert!(matches!(settle(&lab, &mut world, &authority).await, RequestStatus::Authorised { .. }));
    lab.open_account(INVESTIGATOR, AccountDraft { site: "silk-lane".into(), handle: "quiet_buyer".into() }).await.unwrap();
    let listings: Value = serde_json::from_slice(&lab.browse(HEAD, &format!("{base}/api/listings")).await.unwrap()).unwrap();
    let mdma = listings.as_array().unwrap().iter().find(|l| l["title"] == "MDMA crystal 10g").unwrap()["id"].as_i64().unwrap();
    let drop = "R. Agent\nPostbus 1, Rotterdam";
    let bought =
        lab.purchase(INVESTIGATOR, "U1", PurchaseDraft { listing_id: mdma, quantity: 1, shipping_info: drop.into() }).await.unwrap();
    let first: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &bought.order_evidence).await.unwrap()).unwrap();
    assert_eq!(first["tracking"], Value::Null, "not shipped yet");

    // The vendor ships the paid orders by courier at his next round; the order page, looked
    // at again under the authorisation, names the parcel.
    world.run_until(start.plus(SimDuration::hours(40))).await.unwrap();
    let again = lab.recheck_purchase(INVESTIGATOR, &bought.id).await.unwrap();
    let page: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &again.id).await.unwrap()).unwrap();
    assert_eq!(page["status"], "shipped", "{page}");
    let tracking = page["tracking"].as_str().expect("the vendor gave the tracking number").to_string();
    let parcel = Entity::Parcel(tracking.clone());
    let shipped = Fact::new(FactKind::ShippedParcel, Entity::Persona("dutchdirect".into()), parcel.clone());
    assert!(court_facts(&lab, &again.id).await.contains(&shipped), "the order page ties the vendor to the parcel");
    assert!(lab.recheck_purchase(INVESTIGATOR, "P9").await.is_err(), "no such purchase");

    // The courier's public tracking page answers the number.
    let courier = lab.directory().providers.get(&"parcelnet".into()).cloned().unwrap();
    let track: Value = serde_json::from_slice(&lab.browse(HEAD, &format!("{courier}/track/{tracking}")).await.unwrap()).unwrap();
    assert_eq!((track["tracking"].as_str(), track["office"].as_str()), (Some(tracking.as_str()), Some("Delfshaven")), "{track}");

    // A production order for that tracking number, grounded on the shop and the order page:
    // granted, and the courier names who handed the parcel in, to our drop address.
    let draft = RequestDraft {
        kind: RequestKind::ProductionOrder,
        provider: "parcelnet".into(),
        target: tracking.clone(),
        grounds: vec![profile, again.id],
    };
    let req = lab.request(HEAD, draft).await.unwrap();
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &req.id).await else { panic!("the courier did not answer") };
    let records: Value = serde_json::from_slice(&lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    let parcels = records["parcels"].as_array().unwrap();
    assert_eq!(parcels.len(), 1, "{records}");
    assert_eq!((parcels[0]["sender_name"].as_str(), parcels[0]["recipient_name"].as_str()), (Some("Daan Visser"), Some("R. Agent")));
    let sent = Fact::new(FactKind::ParcelSentBy, parcel, Entity::Identity("daan".into()));
    assert!(court_facts(&lab, &evidence).await.contains(&sent), "the courier's records name the sender of the parcel");

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
        // CoinPort is in Estonia: the preservation goes through Estonia's 24/7 contact point.
        assert_eq!(p.channel, Channel::ContactPoint { country: "Estonia".into() });
        assert!(matches!(settle(&lab, &mut world, &p.id).await, RequestStatus::Authorised { .. }));
        let log = lab.requests(HEAD).await.unwrap().into_iter().find(|r| r.id == p.id).unwrap().log;
        assert!(log.iter().any(|(_, w)| w.contains("24/7 contact point to the authorities of Estonia")), "{log:?}");
        assert!(log.iter().any(|(_, w)| w.starts_with("served by the authorities of Estonia (24/7 contact point)")), "{log:?}");
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
    assert_eq!(mla.channel, Channel::MutualLegalAssistance { country: "Estonia".into() });
    assert_eq!(refused.channel, Channel::Domestic, "a production order travels as asked, and is refused");
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
