//! Ledger tests: round trips, tampering with entries and artifacts, torn writes.

use std::fs;

use super::*;

fn new_evidence(n: u8) -> NewEvidence {
    NewEvidence {
        kind: ArtifactKind::PageCapture,
        source: format!("http://silklane.onion/api/vendors/GreenLeafUK?{n}"),
        method: "HTTP GET through direct network".into(),
        obtained_by: "alice".into(),
        authority: Authority::PublicSource,
        sim_time: SimTime(1_000 + i64::from(n)),
        real_time: "2026-11-20T10:00:00Z".into(),
        media_type: "application/json".into(),
        content: format!("{{\"handle\":\"GreenLeafUK\",\"n\":{n}}}").into_bytes(),
    }
}

/// A ledger with E1, a custody event, E2 (a provider record) and E3.
fn filled(dir: &Path) -> Ledger {
    let mut l = Ledger::open(dir).unwrap();
    l.append_evidence(new_evidence(1)).unwrap();
    l.append_custody(&"E1".into(), CustodyEvent::Viewed, "bob", SimTime(2_000), "2026-11-20T10:01:00Z").unwrap();
    let mut record = new_evidence(2);
    record.kind = ArtifactKind::ProviderRecord;
    record.authority = Authority::Order { request: "R1".into(), kind: sim_core::scenario::RequestKind::ProductionOrder };
    l.append_evidence(record).unwrap();
    l.append_evidence(new_evidence(3)).unwrap();
    l
}

fn lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join(LEDGER_FILE)).unwrap().lines().map(str::to_string).collect()
}

#[test]
fn append_and_reopen_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team-blue");
    let l = filled(&dir);
    assert_eq!(l.entries().iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["E1", "E2", "E3"]);
    assert_eq!(l.records().len(), 4);
    assert_eq!(l.entries()[1].seq, 2);
    assert_eq!(l.entries()[0].prev_hash, GENESIS_HASH);
    assert_eq!(l.custody_of(&"E1".into()).len(), 1);
    assert_eq!(l.artifact(&"E3".into()).unwrap(), new_evidence(3).content);
    assert_eq!(l.check_artifact(&"E2".into()), ArtifactStatus::Intact);
    assert_eq!(l.check_artifact(&"E9".into()), ArtifactStatus::Missing);
    assert!(l.evidence(&"E9".into()).is_none());
    let head = l.head_hash().to_string();
    drop(l);

    let mut again = Ledger::open(&dir).unwrap();
    assert_eq!(again.records().len(), 4);
    assert_eq!(again.head_hash(), head);
    assert_eq!(
        again.evidence(&"E2".into()).unwrap().authority,
        Authority::Order { request: "R1".into(), kind: sim_core::scenario::RequestKind::ProductionOrder }
    );
    let e4 = again.append_evidence(new_evidence(4)).unwrap();
    assert_eq!((e4.id.as_str(), e4.seq, e4.prev_hash.as_str()), ("E4", 4, head.as_str()));
    let report = again.verify().unwrap();
    assert_eq!((report.entries, report.evidence, report.custody, report.artifacts_checked), (5, 4, 1, 4));
    assert_eq!(report.head_hash, e4.entry_hash);
    assert_eq!(report.torn_tail, None);
    assert!(matches!(
        again.append_custody(&"E7".into(), CustodyEvent::Exported, "bob", SimTime(0), ""),
        Err(LedgerError::UnknownEvidence(_))
    ));
}

#[test]
fn identical_content_is_stored_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut l = Ledger::open(tmp.path()).unwrap();
    let a = l.append_evidence(new_evidence(1)).unwrap();
    let b = l.append_evidence(new_evidence(1)).unwrap();
    assert_eq!(a.content_hash, b.content_hash);
    assert_ne!(a.entry_hash, b.entry_hash);
    assert_eq!(fs::read_dir(tmp.path().join(ARTIFACTS_DIR)).unwrap().count(), 1);
}

#[test]
fn a_tampered_entry_is_named_by_verify_and_refused_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let l = filled(tmp.path());
    let mut ls = lines(tmp.path());
    assert!(ls[2].contains("\"obtained_by\":\"alice\""));
    ls[2] = ls[2].replace("\"obtained_by\":\"alice\"", "\"obtained_by\":\"alicf\"");
    fs::write(tmp.path().join(LEDGER_FILE), ls.join("\n") + "\n").unwrap();
    match l.verify() {
        Err(LedgerError::Broken { seq, id, reason }) => {
            assert_eq!((seq, id.as_str()), (2, "E2"));
            assert!(reason.contains("entry_hash"), "{reason}");
        }
        other => panic!("expected a broken entry, got {other:?}"),
    }
    assert!(matches!(Ledger::open(tmp.path()), Err(LedgerError::Broken { seq: 2, .. })));
}

#[test]
fn a_rehashed_entry_breaks_the_chain_at_the_next_one() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path());
    let mut ls = lines(tmp.path());
    let mut v: serde_json::Value = serde_json::from_str(&ls[0]).unwrap();
    v["source"] = "forged".into();
    v["entry_hash"] = hash_of_value(&v).into();
    ls[0] = canonical_json(&v);
    fs::write(tmp.path().join(LEDGER_FILE), ls.join("\n") + "\n").unwrap();
    match verify_dir(tmp.path()) {
        Err(LedgerError::Broken { seq: 1, reason, .. }) => assert!(reason.contains("prev_hash"), "{reason}"),
        other => panic!("expected entry 1 broken, got {other:?}"),
    }
    // Removing an entry is caught too.
    ls.remove(1);
    fs::write(tmp.path().join(LEDGER_FILE), ls.join("\n") + "\n").unwrap();
    assert!(matches!(verify_dir(tmp.path()), Err(LedgerError::Broken { seq: 1, .. })));
}

#[test]
fn a_tampered_artifact_is_reported_and_fails_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let l = filled(tmp.path());
    let path = l.artifact_path(&"E2".into()).unwrap();
    fs::write(&path, b"{\"handle\":\"SomeoneElse\"}").unwrap();
    match l.check_artifact(&"E2".into()) {
        ArtifactStatus::HashMismatch { expected, found } => {
            assert_eq!(expected, l.evidence(&"E2".into()).unwrap().content_hash);
            assert_ne!(found, expected);
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert_eq!(l.check_artifact(&"E1".into()), ArtifactStatus::Intact);
    assert!(matches!(l.artifact(&"E2".into()), Err(LedgerError::ArtifactMismatch { .. })));
    match l.verify() {
        Err(LedgerError::Broken { seq, id, reason }) => {
            assert_eq!((seq, id.as_str()), (2, "E2"));
            assert!(reason.contains("artifact"), "{reason}");
        }
        other => panic!("expected E2 broken, got {other:?}"),
    }
    fs::remove_file(&path).unwrap();
    assert_eq!(l.check_artifact(&"E2".into()), ArtifactStatus::Missing);
    // The chain itself is sound, so the ledger still opens; the item is what is bad.
    assert!(Ledger::open(tmp.path()).is_ok());
}

#[test]
fn a_torn_last_line_is_cut_off_on_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let head = filled(tmp.path()).head_hash().to_string();
    let path = tmp.path().join(LEDGER_FILE);
    let mut bytes = fs::read(&path).unwrap();
    let whole = bytes.len();
    let torn: &[u8] = b"{\"entry\":\"Evidence\",\"seq\":4,\"id\":\"E4\",\"sou";
    bytes.extend_from_slice(torn);
    fs::write(&path, &bytes).unwrap();
    assert_eq!(verify_dir(tmp.path()).unwrap().torn_tail, Some(torn.len() as u64));

    let mut l = Ledger::open(tmp.path()).unwrap();
    assert_eq!(fs::read(&path).unwrap().len(), whole);
    assert_eq!(l.records().len(), 4);
    assert_eq!(l.head_hash(), head);
    let e4 = l.append_evidence(new_evidence(4)).unwrap();
    assert_eq!(e4.id.as_str(), "E4");
    assert_eq!(l.verify().unwrap().entries, 5);
    assert_eq!(Ledger::open(tmp.path()).unwrap().records().len(), 5);
}

#[test]
fn a_complete_last_line_without_its_newline_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path());
    let path = tmp.path().join(LEDGER_FILE);
    let mut bytes = fs::read(&path).unwrap();
    bytes.pop();
    fs::write(&path, &bytes).unwrap();
    let mut l = Ledger::open(tmp.path()).unwrap();
    assert_eq!(l.records().len(), 4);
    l.append_evidence(new_evidence(4)).unwrap();
    assert_eq!(verify_dir(tmp.path()).unwrap().entries, 5);
}

#[test]
fn garbage_before_the_last_line_is_an_error_not_a_cut() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path());
    let mut ls = lines(tmp.path());
    ls[1] = "{\"entry\":\"Cust".into();
    fs::write(tmp.path().join(LEDGER_FILE), ls.join("\n") + "\n").unwrap();
    assert!(matches!(Ledger::open(tmp.path()), Err(LedgerError::Broken { seq: 1, .. })));
    assert!(matches!(verify_dir(&tmp.path().join("nowhere")), Err(LedgerError::NoLedger(_))));
}

#[test]
fn a_forged_content_hash_cannot_point_outside_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path());
    let mut ls = lines(tmp.path());
    let mut v: serde_json::Value = serde_json::from_str(&ls[0]).unwrap();
    v["content_hash"] = "../../../etc/passwd".into();
    v["entry_hash"] = hash_of_value(&v).into();
    ls.truncate(1);
    ls[0] = canonical_json(&v);
    fs::write(tmp.path().join(LEDGER_FILE), ls.join("\n") + "\n").unwrap();
    match Ledger::open(tmp.path()) {
        Err(LedgerError::Broken { seq: 0, reason, .. }) => assert!(reason.contains("content_hash"), "{reason}"),
        other => panic!("expected entry 0 broken, got {other:?}"),
    }
}
