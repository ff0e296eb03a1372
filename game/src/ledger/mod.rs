//! The evidence ledger of one team: append-only, hash-chained, with artifacts stored
//! content-addressed.
//!
//! A ledger is a directory:
//!
//! - `ledger.jsonl`: one JSON [`LedgerEntry`] per line (canonical JSON: sorted keys).
//!   Each entry carries `prev_hash`, the previous entry's `entry_hash`, and its own
//!   `entry_hash`, SHA-256 over its canonical JSON without that field; so changing,
//!   removing or reordering any entry breaks the chain from there on.
//! - `artifacts/<sha256-hex>`: the artifacts, named by the hash of their content.
//!
//! Writes are crash-safe: the artifact is written to a temporary file, synced and renamed
//! before its entry line is appended and synced, so evidence acknowledged to a caller
//! survives a crash. A crash in the middle of a line leaves a torn last line; [`Ledger::open`]
//! cuts it off with a warning. Anything else broken is an error naming the first broken
//! entry. Only one [`Ledger`] value may write to a directory at a time.
//!
//! The ledger never reads a clock: callers pass simulated and real time in.

mod entry;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_core::clock::SimTime;

pub use entry::{
    ArtifactKind, Authority, CustodyEntry, CustodyEvent, EvidenceEntry, EvidenceId, GENESIS_HASH, LedgerEntry, NewEvidence, canonical_json,
    hash_of_value, sha256_hex,
};

/// File name of the entry log inside a ledger directory.
pub const LEDGER_FILE: &str = "ledger.jsonl";
/// Folder of the artifacts inside a ledger directory.
pub const ARTIFACTS_DIR: &str = "artifacts";

/// What went wrong with a ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A file could not be read or written.
    #[error("ledger file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The directory holds no ledger.
    #[error("no evidence ledger at {0} (expected a {LEDGER_FILE} file there)")]
    NoLedger(PathBuf),
    /// An entry fails verification; later entries cannot be trusted either.
    #[error("ledger entry {seq} ({id}) is broken: {reason}")]
    Broken {
        /// The entry's position (line number from 0).
        seq: u64,
        /// The evidence the entry is about, or `-` if unreadable.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// No such evidence in this ledger.
    #[error("no evidence {0} in this ledger")]
    UnknownEvidence(EvidenceId),
    /// The stored artifact no longer matches its recorded hash.
    #[error("artifact of {id} does not match the ledger: expected sha256 {expected}, found {found}")]
    ArtifactMismatch {
        /// The evidence.
        id: EvidenceId,
        /// Hash recorded in the ledger.
        expected: String,
        /// Hash of the stored file.
        found: String,
    },
    /// An entry could not be encoded.
    #[error("cannot encode a ledger entry: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The state of a stored artifact compared with the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ArtifactStatus {
    /// The file is there and hashes to the recorded hash.
    Intact,
    /// The file is there but its content changed.
    HashMismatch {
        /// Hash recorded in the ledger.
        expected: String,
        /// Hash of the stored file.
        found: String,
    },
    /// The file is missing or unreadable (or the evidence is unknown).
    Missing,
}

/// What a full verification found (when it found nothing broken).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Evidence entries among them.
    pub evidence: usize,
    /// Custody entries among them.
    pub custody: usize,
    /// Artifacts re-hashed.
    pub artifacts_checked: usize,
    /// `entry_hash` of the last entry ([`GENESIS_HASH`] when empty).
    pub head_hash: String,
    /// Bytes of an unfinished last line that [`Ledger::open`] would cut off.
    pub torn_tail: Option<u64>,
}

/// An open ledger; holds every entry in memory and appends to the directory.
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    records: Vec<LedgerEntry>,
    evidence: Vec<EvidenceEntry>,
    index: BTreeMap<EvidenceId, usize>,
    /// Bytes of `ledger.jsonl` that hold complete entries.
    file_len: u64,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io { path: path.to_path_buf(), source }
}

impl Ledger {
    /// Opens the ledger in `dir`, creating the directory and an empty ledger if needed,
    /// and verifies every entry and the chain (artifacts are checked per item with
    /// [`Ledger::check_artifact`] or all at once with [`Ledger::verify`]). A torn last line
    /// is cut off with a warning.
    pub fn open(dir: &Path) -> Result<Ledger, LedgerError> {
        let artifacts = dir.join(ARTIFACTS_DIR);
        fs::create_dir_all(&artifacts).map_err(io_err(&artifacts))?;
        let path = dir.join(LEDGER_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io_err(&path))?;
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let scan = scan(&bytes, &mut |_| None)?;
        let mut file_len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if let Some(torn) = scan.torn {
            tracing::warn!(path = %path.display(), offset = torn.offset, bytes = torn.len, "cutting off a torn last line of the evidence ledger (an unfinished write)");
            file.set_len(torn.offset).map_err(io_err(&path))?;
            file_len = torn.offset;
        }
        if scan.needs_newline {
            (&file).write_all(b"\n").map_err(io_err(&path))?;
            file_len += 1;
        }
        file.sync_all().map_err(io_err(&path))?;
        sync_dir(dir)?;
        let mut ledger = Ledger { dir: dir.to_path_buf(), records: Vec::new(), evidence: Vec::new(), index: BTreeMap::new(), file_len };
        for r in scan.entries {
            ledger.remember(r);
        }
        Ok(ledger)
    }

    fn remember(&mut self, r: LedgerEntry) {
        if let LedgerEntry::Evidence(e) = &r {
            self.index.insert(e.id.clone(), self.evidence.len());
            self.evidence.push(e.clone());
        }
        self.records.push(r);
    }

    /// The ledger's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every entry (evidence and custody) in order.
    pub fn records(&self) -> &[LedgerEntry] {
        &self.records
    }

    /// The evidence entries in order.
    pub fn entries(&self) -> &[EvidenceEntry] {
        &self.evidence
    }

    /// `entry_hash` of the last entry ([`GENESIS_HASH`] when empty).
    pub fn head_hash(&self) -> &str {
        self.records.last().map_or(GENESIS_HASH, LedgerEntry::entry_hash)
    }

    /// One piece of evidence.
    pub fn evidence(&self, id: &EvidenceId) -> Option<&EvidenceEntry> {
        self.index.get(id).and_then(|&i| self.evidence.get(i))
    }

    /// The custody events of a piece of evidence, in order.
    pub fn custody_of(&self, id: &EvidenceId) -> Vec<&CustodyEntry> {
        self.records
            .iter()
            .filter_map(|r| match r {
                LedgerEntry::Custody(c) if &c.evidence == id => Some(c),
                _ => None,
            })
            .collect()
    }

    /// Where the artifact of a piece of evidence is stored.
    pub fn artifact_path(&self, id: &EvidenceId) -> Option<PathBuf> {
        self.evidence(id).map(|e| self.dir.join(ARTIFACTS_DIR).join(&e.content_hash))
    }

    /// Records a piece of evidence: the artifact first, then its entry. When this returns
    /// `Ok`, both are on disk.
    pub fn append_evidence(&mut self, new: NewEvidence) -> Result<EvidenceEntry, LedgerError> {
        let content_hash = sha256_hex(&new.content);
        self.store_artifact(&content_hash, &new.content)?;
        let mut e = EvidenceEntry {
            seq: self.next_seq(),
            id: EvidenceId::nth(self.evidence.len() + 1),
            kind: new.kind,
            source: new.source,
            method: new.method,
            obtained_by: new.obtained_by,
            authority: new.authority,
            sim_time: new.sim_time,
            real_time: new.real_time,
            media_type: new.media_type,
            size: u64::try_from(new.content.len()).unwrap_or(u64::MAX),
            content_hash,
            prev_hash: self.head_hash().to_string(),
            entry_hash: String::new(),
        };
        let mut entry = LedgerEntry::Evidence(e.clone());
        self.append_line(&mut entry)?;
        e.entry_hash = entry.entry_hash().to_string();
        self.remember(entry);
        tracing::debug!(evidence = %e.id, hash = %e.content_hash, "evidence recorded");
        Ok(e)
    }

    /// Records a custody event for recorded evidence.
    pub fn append_custody(
        &mut self,
        evidence: &EvidenceId,
        event: CustodyEvent,
        by: impl Into<String>,
        sim_time: SimTime,
        real_time: impl Into<String>,
    ) -> Result<CustodyEntry, LedgerError> {
        if self.evidence(evidence).is_none() {
            return Err(LedgerError::UnknownEvidence(evidence.clone()));
        }
        let mut c = CustodyEntry {
            seq: self.next_seq(),
            evidence: evidence.clone(),
            event,
            by: by.into(),
            sim_time,
            real_time: real_time.into(),
            prev_hash: self.head_hash().to_string(),
            entry_hash: String::new(),
        };
        let mut entry = LedgerEntry::Custody(c.clone());
        self.append_line(&mut entry)?;
        c.entry_hash = entry.entry_hash().to_string();
        self.remember(entry);
        Ok(c)
    }

    /// The stored content of a piece of evidence, checked against its recorded hash.
    pub fn artifact(&self, id: &EvidenceId) -> Result<Vec<u8>, LedgerError> {
        let e = self.evidence(id).ok_or_else(|| LedgerError::UnknownEvidence(id.clone()))?;
        let path = self.dir.join(ARTIFACTS_DIR).join(&e.content_hash);
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let found = sha256_hex(&bytes);
        if found != e.content_hash {
            return Err(LedgerError::ArtifactMismatch { id: id.clone(), expected: e.content_hash.clone(), found });
        }
        Ok(bytes)
    }

    /// Re-hashes the stored artifact of a piece of evidence.
    pub fn check_artifact(&self, id: &EvidenceId) -> ArtifactStatus {
        match self.evidence(id) {
            Some(e) => artifact_status(&self.dir, e),
            None => ArtifactStatus::Missing,
        }
    }

    /// Verifies what is on disk now: every entry, the chain and every artifact.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        verify_dir(&self.dir)
    }

    fn next_seq(&self) -> u64 {
        u64::try_from(self.records.len()).unwrap_or(u64::MAX)
    }

    fn store_artifact(&self, hash: &str, content: &[u8]) -> Result<(), LedgerError> {
        let dir = self.dir.join(ARTIFACTS_DIR);
        let path = dir.join(hash);
        if path.exists() && fs::read(&path).map(|b| sha256_hex(&b) == hash).unwrap_or(false) {
            return Ok(());
        }
        let tmp = dir.join(format!(".{hash}.tmp"));
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(content)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(io_err(&path))?;
        sync_dir(&dir)
    }

    fn append_line(&mut self, entry: &mut LedgerEntry) -> Result<(), LedgerError> {
        let mut line = entry.seal()?;
        line.push('\n');
        let path = self.dir.join(LEDGER_FILE);
        let file = OpenOptions::new().append(true).open(&path).map_err(io_err(&path))?;
        let written = (&file).write_all(line.as_bytes()).and_then(|()| file.sync_data());
        if let Err(source) = written {
            // Leave no partial line behind for the next append to continue.
            let _ = file.set_len(self.file_len);
            return Err(LedgerError::Io { path, source });
        }
        self.file_len += u64::try_from(line.len()).unwrap_or(u64::MAX);
        Ok(())
    }
}

fn artifact_status(dir: &Path, e: &EvidenceEntry) -> ArtifactStatus {
    match fs::read(dir.join(ARTIFACTS_DIR).join(&e.content_hash)) {
        Ok(bytes) => {
            let found = sha256_hex(&bytes);
            if found == e.content_hash {
                ArtifactStatus::Intact
            } else {
                ArtifactStatus::HashMismatch { expected: e.content_hash.clone(), found }
            }
        }
        Err(_) => ArtifactStatus::Missing,
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), LedgerError> {
    Ok(())
}

/// Verifies the ledger in `dir` without changing it: every entry's hash, the chain, the
/// order of sequence numbers and evidence ids, and every artifact's hash. Names the first
/// broken entry. A torn last line is reported, not an error.
pub fn verify_dir(dir: &Path) -> Result<VerifyReport, LedgerError> {
    let path = dir.join(LEDGER_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(LedgerError::NoLedger(dir.to_path_buf())),
        Err(source) => return Err(LedgerError::Io { path, source }),
    };
    let mut artifacts_checked = 0;
    let scan = scan(&bytes, &mut |e| {
        artifacts_checked += 1;
        match artifact_status(dir, e) {
            ArtifactStatus::Intact => None,
            ArtifactStatus::HashMismatch { expected, found } => {
                Some(format!("its artifact does not match: recorded sha256 {expected}, stored file hashes to {found}"))
            }
            ArtifactStatus::Missing => Some(format!("its artifact {ARTIFACTS_DIR}/{} is missing", e.content_hash)),
        }
    })?;
    let evidence = scan.entries.iter().filter(|r| matches!(r, LedgerEntry::Evidence(_))).count();
    Ok(VerifyReport {
        entries: u64::try_from(scan.entries.len()).unwrap_or(u64::MAX),
        evidence,
        custody: scan.entries.len() - evidence,
        artifacts_checked,
        head_hash: scan.entries.last().map_or(GENESIS_HASH, LedgerEntry::entry_hash).to_string(),
        torn_tail: scan.torn.map(|t| t.len),
    })
}

/// An unfinished last line.
struct Torn {
    offset: u64,
    len: u64,
}

/// What reading `ledger.jsonl` found.
struct Scan {
    entries: Vec<LedgerEntry>,
    torn: Option<Torn>,
    /// The last entry is complete but its newline is missing.
    needs_newline: bool,
}

/// Reads and checks every line; `check_evidence` may add a check per evidence entry
/// (returning why it is broken).
fn scan(bytes: &[u8], check_evidence: &mut dyn FnMut(&EvidenceEntry) -> Option<String>) -> Result<Scan, LedgerError> {
    let mut entries: Vec<LedgerEntry> = Vec::new();
    let mut known: BTreeSet<EvidenceId> = BTreeSet::new();
    let mut pos = 0usize;
    let mut needs_newline = false;
    while pos < bytes.len() {
        let rest = bytes.get(pos..).unwrap_or_default();
        let (line, terminated) = match rest.iter().position(|&b| b == b'\n') {
            Some(n) => (rest.get(..n).unwrap_or_default(), true),
            None => (rest, false),
        };
        let seq = u64::try_from(entries.len()).unwrap_or(u64::MAX);
        let value = std::str::from_utf8(line).ok().and_then(|s| serde_json::from_str::<Value>(s).ok());
        let Some(value) = value else {
            if !terminated {
                let offset = u64::try_from(pos).unwrap_or(u64::MAX);
                return Ok(Scan {
                    entries,
                    torn: Some(Torn { offset, len: u64::try_from(line.len()).unwrap_or(u64::MAX) }),
                    needs_newline: false,
                });
            }
            return Err(LedgerError::Broken { seq, id: "-".into(), reason: "the line is not JSON".into() });
        };
        let prev = entries.last().map_or(GENESIS_HASH, LedgerEntry::entry_hash);
        let entry = check_entry(&value, seq, prev, &known).map_err(|reason| LedgerError::Broken { seq, id: id_in(&value), reason })?;
        if let LedgerEntry::Evidence(e) = &entry {
            if let Some(reason) = check_evidence(e) {
                return Err(LedgerError::Broken { seq, id: e.id.to_string(), reason });
            }
            known.insert(e.id.clone());
        }
        entries.push(entry);
        needs_newline = !terminated;
        pos += line.len() + 1;
    }
    Ok(Scan { entries, torn: None, needs_newline })
}

fn id_in(value: &Value) -> String {
    ["id", "evidence"].iter().find_map(|k| value.get(*k).and_then(Value::as_str)).unwrap_or("-").to_string()
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_entry(value: &Value, seq: u64, prev: &str, known: &BTreeSet<EvidenceId>) -> Result<LedgerEntry, String> {
    let recorded = value.get("entry_hash").and_then(Value::as_str).ok_or("the entry has no entry_hash")?;
    if hash_of_value(value) != recorded {
        return Err("its content does not match its entry_hash (the entry was changed)".into());
    }
    let entry: LedgerEntry = serde_json::from_value(value.clone()).map_err(|e| format!("not a ledger entry: {e}"))?;
    if entry.seq() != seq {
        return Err(format!("sequence number {} where {seq} was expected (entries removed or reordered)", entry.seq()));
    }
    if entry.prev_hash() != prev {
        return Err("its prev_hash does not match the previous entry (the chain is broken)".into());
    }
    match &entry {
        LedgerEntry::Evidence(e) => {
            let expected = EvidenceId::nth(known.len() + 1);
            if e.id != expected {
                return Err(format!("evidence id {} where {expected} was expected", e.id));
            }
            if !is_sha256_hex(&e.content_hash) {
                return Err(format!("content_hash {:?} is not a SHA-256 hex digest", e.content_hash));
            }
        }
        LedgerEntry::Custody(c) => {
            if !known.contains(&c.evidence) {
                return Err(format!("custody event for evidence {} that is not recorded before it", c.evidence));
            }
        }
    }
    Ok(entry)
}
