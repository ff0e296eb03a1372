//! The wider world: a forum, a small clearnet with a search engine, and providers whose
//! records come from what the cast did — reached by the lab through captures, browsing and
//! production orders.

use std::net::IpAddr;
use std::sync::Arc;

use game::lab::{Lab, Member, RequestDraft, RequestStatus, Role};
use market_sim::world::World;
use sim_core::clock::SimDuration;
use sim_core::ids::ProviderId;
use sim_core::scenario::{
    Action, Grounds, Jurisdiction, LegalRule, Persona, Provider, ProviderKind, RequestKind, Scenario, Site, SiteKind, Slip, SlipKind, Step,
};

use crate::support::{HEAD, settle, shipped};

fn wider_scenario() -> Scenario {
    let mut s = (*shipped()).clone();
    for (id, name, kind) in [
        ("dread", "Dread-ish", SiteKind::Forum),
        ("chirp", "Chirp", SiteKind::Social),
        ("pastebox", "Pastebox", SiteKind::Paste),
        ("finder", "Finder", SiteKind::Search),
    ] {
        s.sites.push(Site { id: id.into(), name: name.into(), kind });
    }
    for (id, name, kind) in [
        ("netline", "NetLine Broadband", ProviderKind::Isp),
        ("mailbox", "Mailbox", ProviderKind::Email),
        ("hostco", "HostCo", ProviderKind::Hosting),
        ("parcelpost", "ParcelPost", ProviderKind::Courier),
    ] {
        s.providers.push(Provider {
            id: id.into(),
            name: name.into(),
            kind,
            jurisdiction: Jurisdiction::Domestic,
            retention: SimDuration::days(180),
            response_delay: SimDuration::hours(6),
            offices: Vec::new(),
        });
        s.legal.rules.push(LegalRule {
            request: RequestKind::ProductionOrder,
            provider_kind: Some(kind),
            grounds: Grounds::None,
            ruling_delay: SimDuration::hours(1),
        });
    }
    let mark = s.cast.iter_mut().find(|a| a.id.as_str() == "mark").unwrap();
    mark.identity.isp = Some(ProviderId::from("netline"));
    // He opens his mailbox from home (without this slip he would use it over Tor).
    mark.slips.push(Slip { id: "mailbox-from-home".into(), kind: SlipKind::MailboxFromHome("mailbox".into()) });
    mark.personas.push(Persona { id: "gl-forum".into(), site: "dread".into(), handle: "GreenLeafUK".into() });
    mark.personas.push(Persona { id: "gl-social".into(), site: "chirp".into(), handle: "GreenLeafUK".into() });
    let at = |h: i64| SimDuration::hours(h);
    mark.script.extend([
        Step { at: at(1), jitter: SimDuration::default(), action: Action::Register("gl-forum".into()) },
        Step {
            at: at(2),
            jitter: SimDuration::default(),
            action: Action::Post {
                persona: "gl-forum".into(),
                board: "markets".into(),
                title: "GreenLeafUK now on Silk Lane".into(),
                body: "Same quality, new home. <script>alert(1)</script>".into(),
            },
        },
        Step { at: at(3), jitter: SimDuration::default(), action: Action::Register("gl-social".into()) },
        Step {
            at: at(4),
            jitter: SimDuration::default(),
            action: Action::Profile { persona: "gl-social".into(), bio: "Bristol lad, growing things. DM for deals.".into() },
        },
        Step {
            at: at(5),
            jitter: SimDuration::default(),
            action: Action::Paste {
                site: "pastebox".into(),
                author: Some("gl-social".into()),
                title: "price list".into(),
                body: "GreenLeafUK price list: 10g 0.25 DKC".into(),
            },
        },
    ]);
    mark.script.sort_by_key(|st| st.at);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forum_clearnet_and_providers_hold_what_the_cast_did() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Arc::new(wider_scenario());
    let mut world = World::build(scenario.clone(), 41, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let chronicle = world.truth().read().chronicle.clone();
    let failed: Vec<String> = chronicle.iter().filter(|c| !c.ok).map(|c| c.text.clone()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let lab = Lab::new(&world).unwrap();
    lab.add_team("t", vec![Member { name: "head".into(), role: Role::HeadOfUnit, token: HEAD.into() }], &Lab::team_dir(dir.path(), "t"))
        .await
        .unwrap();
    let sites: std::collections::BTreeMap<String, String> = lab.directory().sites.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();

    // The search engine finds the reused handle on the social site and the paste site.
    let found = lab.browse(HEAD, &format!("{}/search?q=GreenLeafUK", sites["finder"])).await.unwrap();
    let found: serde_json::Value = serde_json::from_slice(&found).unwrap();
    let urls: Vec<&str> = found["results"].as_array().unwrap().iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert!(urls.iter().any(|u| u.contains("chirp.example/u/GreenLeafUK")), "{found}");
    assert!(urls.iter().any(|u| u.contains("pastebox.example/p/")), "{found}");

    // The forum (an onion service) shows the post, escaped, and can be captured.
    assert!(sites["dread"].ends_with(".onion"));
    let profile = lab.capture(HEAD, &format!("{}/user/GreenLeafUK", sites["dread"])).await.unwrap();
    let text = String::from_utf8(lab.evidence_content(HEAD, &profile.id).await.unwrap()).unwrap();
    assert!(text.contains("GreenLeafUK"), "{text}");
    let board = lab.browse(HEAD, &format!("{}/board/markets", sites["dread"])).await.unwrap();
    assert!(String::from_utf8_lossy(&board).contains("GreenLeafUK now on Silk Lane"));

    // Providers answer production orders with records of what the cast did.
    let isp = lab
        .request(
            HEAD,
            RequestDraft {
                kind: RequestKind::ProductionOrder,
                provider: "netline".into(),
                target: "81.2.69.160@2026-03-03T12:00:00Z".into(),
                grounds: vec![profile.id.clone()],
            },
        )
        .await
        .unwrap();
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &isp.id).await else { panic!("ISP order not answered") };
    let records = String::from_utf8(lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    assert!(records.contains("Mark Ellis") && records.contains("81.2.69.160"), "the ISP leased the home IP to Mark Ellis: {records}");
    let mail = lab
        .request(
            HEAD,
            RequestDraft {
                kind: RequestKind::ProductionOrder,
                provider: "mailbox".into(),
                target: "mark.ellis84@mailbox.example".into(),
                grounds: vec![profile.id.clone()],
            },
        )
        .await
        .unwrap();
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &mail.id).await else { panic!("mail order not answered") };
    let records = String::from_utf8(lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    assert!(records.contains("81.2.69.160"), "the mailbox was opened from home: {records}");
    assert!(records.contains("+44 7700 900123"), "with the recovery phone: {records}");
    world.shutdown().await;
}
