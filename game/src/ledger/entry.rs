//! What one line of a ledger says: evidence and custody entries, and how an entry's
//! hash is computed over its canonical JSON.
//!
//! Canonical JSON is the entry serialised with object keys sorted and no whitespace, so
//! the same entry always hashes the same whatever map order serde_json was built with.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sim_core::clock::SimTime;
use sim_core::scenario::RequestKind;

/// The `prev_hash` of the first entry of a ledger.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A piece of evidence in a team's ledger: `E1`, `E2`, … in the order it was recorded.
/// Ordered by number (`E2` before `E10`), then as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EvidenceId(pub String);

impl Ord for EvidenceId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.number().is_none(), self.number(), &self.0).cmp(&(other.number().is_none(), other.number(), &other.0))
    }
}

impl PartialOrd for EvidenceId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl EvidenceId {
    /// The number of an id of the form `E<n>`.
    pub fn number(&self) -> Option<u64> {
        self.0.strip_prefix('E').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())).and_then(|d| d.parse().ok())
    }
    /// The id of the `n`-th piece of evidence (1-based).
    pub fn nth(n: usize) -> Self {
        EvidenceId(format!("E{n}"))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EvidenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for EvidenceId {
    fn from(s: &str) -> Self {
        EvidenceId(s.to_string())
    }
}

/// What kind of artifact a piece of evidence is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ArtifactKind {
    /// A page of a site, as fetched.
    PageCapture,
    /// A record of the block chain (explorer page of an address or transaction).
    ChainRecord,
    /// Records a provider handed over under legal process.
    ProviderRecord,
    /// The image of a seized server (its database file, access log included), taken by
    /// the team's forensic examiner under a search warrant.
    ForensicImage,
}

/// The legal authority under which evidence was obtained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Authority {
    /// Publicly reachable; no order needed.
    PublicSource,
    /// Obtained under a legal order.
    Order {
        /// The request that was granted (`R1`, …).
        request: String,
        /// Its type.
        kind: RequestKind,
    },
}

/// Evidence as the lab obtained it, before it is recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvidence {
    /// What kind of artifact it is.
    pub kind: ArtifactKind,
    /// Where it came from: a URL or a description.
    pub source: String,
    /// How it was obtained, e.g. "HTTP GET through direct network".
    pub method: String,
    /// The team member who obtained it.
    pub obtained_by: String,
    /// Under which authority.
    pub authority: Authority,
    /// Simulated time it was obtained.
    pub sim_time: SimTime,
    /// Real time it was obtained, as the caller's clock wrote it.
    pub real_time: String,
    /// Media type of the content, e.g. `application/json`.
    pub media_type: String,
    /// The artifact itself; stored content-addressed, never in the ledger line.
    pub content: Vec<u8>,
}

/// A recorded piece of evidence: its provenance, its content hash and its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceEntry {
    /// Position in the ledger (0-based, over all entries).
    pub seq: u64,
    /// The evidence id.
    pub id: EvidenceId,
    /// What kind of artifact it is.
    pub kind: ArtifactKind,
    /// Where it came from.
    pub source: String,
    /// How it was obtained.
    pub method: String,
    /// Who obtained it.
    pub obtained_by: String,
    /// Under which authority.
    pub authority: Authority,
    /// Simulated time it was obtained.
    pub sim_time: SimTime,
    /// Real time it was obtained.
    pub real_time: String,
    /// Media type of the content.
    pub media_type: String,
    /// Size of the content in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex; the artifact's file name.
    pub content_hash: String,
    /// `entry_hash` of the previous entry ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 over the canonical JSON of this entry without this field.
    pub entry_hash: String,
}

/// Things that happen to evidence after it is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CustodyEvent {
    /// A member looked at its content.
    Viewed,
    /// It was exported out of the lab.
    Exported,
    /// It was attached to the team's case.
    AttachedToCase,
}

/// A chain-of-custody event, recorded in the same chain as the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CustodyEntry {
    /// Position in the ledger (0-based, over all entries).
    pub seq: u64,
    /// The evidence it concerns.
    pub evidence: EvidenceId,
    /// What happened.
    pub event: CustodyEvent,
    /// Who did it.
    pub by: String,
    /// Simulated time.
    pub sim_time: SimTime,
    /// Real time, as the caller's clock wrote it.
    pub real_time: String,
    /// `entry_hash` of the previous entry.
    pub prev_hash: String,
    /// SHA-256 over the canonical JSON of this entry without this field.
    pub entry_hash: String,
}

/// One line of `ledger.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "entry")]
pub enum LedgerEntry {
    /// A piece of evidence was recorded.
    Evidence(EvidenceEntry),
    /// Something happened to recorded evidence.
    Custody(CustodyEntry),
}

impl LedgerEntry {
    /// Position in the ledger.
    pub fn seq(&self) -> u64 {
        match self {
            LedgerEntry::Evidence(e) => e.seq,
            LedgerEntry::Custody(c) => c.seq,
        }
    }
    /// The entry's own hash.
    pub fn entry_hash(&self) -> &str {
        match self {
            LedgerEntry::Evidence(e) => &e.entry_hash,
            LedgerEntry::Custody(c) => &c.entry_hash,
        }
    }
    /// The previous entry's hash as recorded in this one.
    pub fn prev_hash(&self) -> &str {
        match self {
            LedgerEntry::Evidence(e) => &e.prev_hash,
            LedgerEntry::Custody(c) => &c.prev_hash,
        }
    }
    /// The evidence the entry is about.
    pub fn evidence_id(&self) -> &EvidenceId {
        match self {
            LedgerEntry::Evidence(e) => &e.id,
            LedgerEntry::Custody(c) => &c.evidence,
        }
    }
    fn set_entry_hash(&mut self, hash: String) {
        match self {
            LedgerEntry::Evidence(e) => e.entry_hash = hash,
            LedgerEntry::Custody(c) => c.entry_hash = hash,
        }
    }

    /// Fills in `entry_hash` and returns the canonical line (without the newline).
    pub(crate) fn seal(&mut self) -> Result<String, serde_json::Error> {
        self.set_entry_hash(String::new());
        let value = serde_json::to_value(&*self)?;
        self.set_entry_hash(hash_of_value(&value));
        Ok(canonical_json(&serde_json::to_value(&*self)?))
    }
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash an entry given as JSON should carry: SHA-256 over its canonical JSON with
/// the `entry_hash` field removed.
pub fn hash_of_value(entry: &Value) -> String {
    let mut v = entry.clone();
    if let Value::Object(m) = &mut v {
        m.remove("entry_hash");
    }
    sha256_hex(canonical_json(&v).as_bytes())
}

/// JSON with object keys sorted and no whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(item) = m.get(k) {
                    write_canonical(item, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_ids_sort_by_number() {
        let mut ids: Vec<EvidenceId> = ["E10", "x", "E2", "E1"].into_iter().map(EvidenceId::from).collect();
        ids.sort();
        assert_eq!(ids.iter().map(EvidenceId::as_str).collect::<Vec<_>>(), ["E1", "E2", "E10", "x"]);
    }

    /// Fuzz regression (lab_json, crash-b0f7ce8f…): an integer beyond u64 is read as a float;
    /// without serde_json's correctly rounded float parsing its shortest form re-read one ULP
    /// away, so a ledger line's hash did not survive a read and re-write.
    #[test]
    fn canonical_json_of_a_float_is_stable_when_read_again() {
        for text in ["999999990005000700032735", "[0.1,2.5e-310,1.7976931348623157e308]", "{\"a\":123456789012345678901234567890}"] {
            let value: Value = serde_json::from_str(text).expect("JSON");
            let canon = canonical_json(&value);
            let again: Value = serde_json::from_str(&canon).expect("canonical JSON parses");
            assert_eq!(canonical_json(&again), canon, "{text}");
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v: Value = serde_json::from_str(r#"{"b": [ {"z":1, "a":2} ], "a": "x\"y"}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":"x\"y","b":[{"a":2,"z":1}]}"#);
    }

    #[test]
    fn sealing_makes_the_hash_checkable() {
        let mut e = LedgerEntry::Custody(CustodyEntry {
            seq: 0,
            evidence: "E1".into(),
            event: CustodyEvent::Viewed,
            by: "ann".into(),
            sim_time: SimTime(0),
            real_time: "now".into(),
            prev_hash: GENESIS_HASH.into(),
            entry_hash: String::new(),
        });
        let line = e.seal().unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(hash_of_value(&v), e.entry_hash());
        assert_eq!(serde_json::from_value::<LedgerEntry>(v).unwrap(), e);
    }
}
