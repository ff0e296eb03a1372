//! Legal process across borders and time: a provider abroad answers only mutual legal
//! assistance, and records past a provider's retention are gone unless a preservation was
//! served in time (one served after they expired keeps nothing).

use std::net::IpAddr;
use std::sync::Arc;

use game::lab::{Channel, RequestDraft, RequestStatus};
use market_sim::world::World;
use sim_core::clock::SimDuration;
use sim_core::scenario::{Grounds, Jurisdiction, LegalRule, Provider, ProviderKind, RequestKind, Scenario, Slip, SlipKind};

use crate::support::{HEAD, lab_on, settle, shipped};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_abroad_answers_mutual_legal_assistance_only() {
    let mut s: Scenario = (*shipped()).clone();
    s.providers.iter_mut().find(|p| p.id.as_str() == "coinbay").unwrap().jurisdiction = Jurisdiction::Foreign("MT".into());
    s.legal.rules.push(LegalRule {
        request: RequestKind::MutualLegalAssistance,
        provider_kind: Some(ProviderKind::Exchange),
        grounds: Grounds::None,
        ruling_delay: SimDuration::days(10),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::build(Arc::new(s), 51, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(world.world_end()).await.unwrap();
    let lab = lab_on(&world, dir.path()).await;
    let draft = |kind| RequestDraft { kind, provider: "coinbay".into(), target: "mellis84".into(), grounds: vec![] };
    let po = lab.request(HEAD, draft(RequestKind::ProductionOrder)).await.unwrap();
    match settle(&lab, &mut world, &po.id).await {
        RequestStatus::Refused { reason } => {
            assert!(reason.contains("abroad (MT)") && reason.contains("mutual legal assistance"), "{reason}")
        }
        other => panic!("a domestic order to a foreign exchange: {other:?}"),
    }
    let before = world.clock().now();
    let mla = lab.request(HEAD, draft(RequestKind::MutualLegalAssistance)).await.unwrap();
    assert_eq!(mla.channel, Channel::MutualLegalAssistance { country: "MT".into() });
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &mla.id).await else { panic!("MLA not answered") };
    // The ruling (10 days), then the provider's own delay (coinbay: 2 days) before the answer.
    assert!(world.clock().now().since(before) >= SimDuration::days(12), "international requests take longer");
    let log = lab.requests(HEAD).await.unwrap().into_iter().find(|r| r.id == mla.id).unwrap().log;
    let at = |what: &str| log.iter().find(|(_, w)| w.starts_with(what)).map(|(t, _)| *t).unwrap_or_else(|| panic!("{what}: {log:?}"));
    assert!(log.iter().any(|(_, w)| w.contains("mutual legal assistance request to the authorities of MT")), "{log:?}");
    assert_eq!(at("granted").since(mla.filed_at), SimDuration::days(10), "{log:?}");
    assert!(at("answered").since(at("granted")) >= SimDuration::days(2), "{log:?}");
    let records = String::from_utf8(lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    assert!(records.contains("Mark Ellis"), "{records}");
    world.shutdown().await;
}

/// The shipped world with a mailbox provider keeping login records for one day.
fn short_retention() -> Scenario {
    let mut s: Scenario = (*shipped()).clone();
    s.providers.push(Provider {
        id: "mailbox".into(),
        name: "Mailbox".into(),
        kind: ProviderKind::Email,
        jurisdiction: Jurisdiction::Domestic,
        retention: SimDuration::days(1),
        response_delay: SimDuration::hours(2),
        offices: Vec::new(),
    });
    s.legal.rules.push(LegalRule {
        request: RequestKind::ProductionOrder,
        provider_kind: Some(ProviderKind::Email),
        grounds: Grounds::None,
        ruling_delay: SimDuration::hours(1),
    });
    // The vendor opens his mailbox from home (else over Tor, and no home IP is logged).
    if let Some(mark) = s.cast.iter_mut().find(|a| a.id.as_str() == "mark") {
        mark.slips.push(Slip { id: "mailbox-from-home".into(), kind: SlipKind::MailboxFromHome("mailbox".into()) });
    }
    s
}

/// The mailbox's records for the vendor, obtained two days after it was opened, with or
/// without a preservation served `preserve_at` hours in.
async fn records_after_two_days(preserve_at: Option<i64>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Arc::new(short_retention());
    let start = scenario.meta.start;
    let mut world = World::build(scenario, 52, IpAddr::from([127, 0, 0, 1])).await.unwrap();
    world.run_until(start.plus(SimDuration::hours(preserve_at.unwrap_or(12)))).await.unwrap();
    let lab = lab_on(&world, dir.path()).await;
    let target = "mark.ellis84@mailbox.example";
    if preserve_at.is_some() {
        let p = lab
            .request(
                HEAD,
                RequestDraft { kind: RequestKind::Preservation, provider: "mailbox".into(), target: target.into(), grounds: vec![] },
            )
            .await
            .unwrap();
        assert_eq!(p.channel, Channel::Domestic, "a provider at home is served directly, not through a 24/7 contact point");
        assert!(matches!(settle(&lab, &mut world, &p.id).await, RequestStatus::Authorised { .. }));
        let log = lab.requests(HEAD).await.unwrap().into_iter().find(|r| r.id == p.id).unwrap().log;
        assert!(log.iter().any(|(_, w)| w.starts_with("served: mailbox keeps its records")), "{log:?}");
        assert!(!log.iter().any(|(_, w)| w.contains("24/7")), "{log:?}");
    }
    world.run_until(start.plus(SimDuration::days(2))).await.unwrap();
    let o = lab
        .request(
            HEAD,
            RequestDraft { kind: RequestKind::ProductionOrder, provider: "mailbox".into(), target: target.into(), grounds: vec![] },
        )
        .await
        .unwrap();
    let RequestStatus::Answered { evidence, .. } = settle(&lab, &mut world, &o.id).await else { panic!("not answered") };
    let records = String::from_utf8(lab.evidence_content(HEAD, &evidence).await.unwrap()).unwrap();
    world.shutdown().await;
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_past_retention_are_gone_unless_preserved_in_time() {
    let lost = records_after_two_days(None).await;
    let kept = records_after_two_days(Some(12)).await;
    let late = records_after_two_days(Some(30)).await;
    for records in [&lost, &kept, &late] {
        assert!(records.contains("mark.ellis84@mailbox.example"), "the mailbox itself is kept: {records}");
    }
    assert!(!lost.contains("81.2.69.160"), "without preservation the day-old sign-up IP is gone: {lost}");
    assert!(kept.contains("81.2.69.160"), "preserved in time, the sign-up from home is still there: {kept}");
    assert!(!late.contains("81.2.69.160"), "preserved after the sign-up had passed retention, it is gone all the same: {late}");
}
