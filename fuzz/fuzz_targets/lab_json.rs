//! The lab's JSON documents outside any HTTP: case files, legal request drafts and ledger
//! lines decode without panicking, and what decodes encodes back to the same value
//! (round trip); a draft's target becomes a provider desk query for every kind of desk.
#![no_main]

use game::case::CaseFile;
use game::lab::RequestDraft;
use game::ledger::{LedgerEntry, canonical_json};
use libfuzzer_sys::fuzz_target;
use sim_core::scenario::ProviderKind;

fuzz_target!(|data: &[u8]| {
    if let Ok(case) = serde_json::from_slice::<CaseFile>(data) {
        let _ = case.cited();
        let json = serde_json::to_vec(&case).unwrap_or_else(|e| panic!("encode case: {e}"));
        let again: CaseFile = serde_json::from_slice(&json).unwrap_or_else(|e| panic!("decode encoded case: {e}"));
        assert_eq!(case, again);
    }
    if let Ok(draft) = serde_json::from_slice::<RequestDraft>(data) {
        for kind in [ProviderKind::Exchange, ProviderKind::Isp, ProviderKind::Email, ProviderKind::Hosting, ProviderKind::Courier] {
            // The target is percent-encoded: only the desk's own `=` and `&` separate fields.
            let q = game::lab::desk_query(kind, &draft.target);
            assert!(q.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~:@%=&".contains(&b)), "desk query not encoded: {q}");
            assert!(q.matches('&').count() <= 1 && q.matches('=').count() == q.matches('&').count() + 1, "desk query fields: {q}");
        }
    }
    if let Ok(entry) = serde_json::from_slice::<LedgerEntry>(data) {
        let _ = (entry.seq(), entry.entry_hash(), entry.prev_hash(), entry.evidence_id());
        let json = serde_json::to_vec(&entry).unwrap_or_else(|e| panic!("encode entry: {e}"));
        let again: LedgerEntry = serde_json::from_slice(&json).unwrap_or_else(|e| panic!("decode encoded entry: {e}"));
        assert_eq!(entry, again);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        // Canonical JSON is what entries are hashed over: it must itself be JSON of the same value.
        let canon = canonical_json(&value);
        let back: serde_json::Value = serde_json::from_str(&canon).unwrap_or_else(|e| panic!("canonical JSON does not parse: {e}"));
        assert_eq!(canonical_json(&back), canon);
    }
});
