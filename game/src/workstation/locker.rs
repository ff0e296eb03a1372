//! The evidence locker: the team's evidence as a list (filtered), one piece in detail with
//! its custody log, and a hash check of the artifact against the ledger's content hash.

use sha2::{Digest, Sha256};

use crate::lab::EvidenceDetail;
use crate::ledger::{ArtifactKind, EvidenceEntry};

/// The result of checking an artifact's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashCheck {
    /// The content's SHA-256 is the one the ledger recorded.
    Match(String),
    /// It is not.
    Mismatch {
        /// What the ledger recorded.
        expected: String,
        /// What the content hashes to.
        actual: String,
    },
}

/// Checks content against the ledger entry's hash.
pub fn check_hash(entry: &EvidenceEntry, content: &[u8]) -> HashCheck {
    let actual = hex::encode(Sha256::digest(content));
    if actual == entry.content_hash {
        HashCheck::Match(actual)
    } else {
        HashCheck::Mismatch { expected: entry.content_hash.clone(), actual }
    }
}

/// The locker's state.
#[derive(Clone, Debug, Default)]
pub struct Locker {
    /// Every entry, oldest first.
    pub entries: Vec<EvidenceEntry>,
    /// Text the list is filtered by (id, source, kind, who).
    pub filter: String,
    /// The entry shown in detail.
    pub detail: Option<EvidenceDetail>,
    /// The last hash check of the detailed entry.
    pub hash: Option<HashCheck>,
}

/// A short name for a kind of artifact (a locale key).
pub fn kind_key(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::PageCapture => "kind.page",
        ArtifactKind::ChainRecord => "kind.chain",
        ArtifactKind::ProviderRecord => "kind.provider",
        ArtifactKind::ForensicImage => "kind.image",
    }
}

impl Locker {
    /// Entries matching the filter (case-insensitive, on id, source, kind and who).
    pub fn filtered(&self) -> Vec<&EvidenceEntry> {
        let f = self.filter.trim().to_lowercase();
        self.entries
            .iter()
            .filter(|e| {
                f.is_empty()
                    || e.id.0.to_lowercase().contains(&f)
                    || e.source.to_lowercase().contains(&f)
                    || e.obtained_by.to_lowercase().contains(&f)
                    || format!("{:?}", e.kind).to_lowercase().contains(&f)
            })
            .collect()
    }

    /// The evidence that captured `source`, if any (the newest).
    pub fn by_source(&self, source: &str) -> Option<&EvidenceEntry> {
        self.entries.iter().rev().find(|e| e.source == source)
    }
}
