//! The block store: an append-only file of framed blocks, fsynced before a block counts.
//!
//! Each record is `magic "DLBK" | payload length (u32 LE) | first 8 bytes of SHA-256(payload)
//! | payload`, the payload being the consensus-serialized block. [`BlockStore::append`]
//! writes one record and calls `fsync` (`File::sync_data`) before returning: a block is
//! *acknowledged* only then. On [`BlockStore::open`] the file is replayed record by record:
//! - a last record that is incomplete or fails its checksum is a **torn write** (the process
//!   died mid-append): it is cut off and the file truncated to the last good record;
//! - a bad record *followed by more data* is not a torn write but corruption of acknowledged
//!   data: opening fails with [`StoreError::Corrupt`] rather than silently dropping blocks.
//!
//! A failed append truncates the file back to its previous length, so a later append never
//! lands after garbage.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bitcoin::Block;
use bitcoin::consensus::{deserialize, serialize};
use sha2::{Digest, Sha256};

/// Record magic.
const MAGIC: [u8; 4] = *b"DLBK";
/// Bytes before the payload: magic, length, checksum.
const HEADER_LEN: usize = 16;
/// Largest payload accepted (a block is at most 4 MB of weight, so at most 4 MB of bytes).
const MAX_PAYLOAD: usize = 8 * 1024 * 1024;
/// The file inside the store directory.
pub const BLOCKS_FILE: &str = "blocks.dat";

/// What went wrong with the block store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file-system operation failed.
    #[error("block store {path}: {op}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A record in the middle of the file is damaged (not a torn last write).
    #[error("block store {path}: record at byte {offset} is corrupt and followed by more data")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Offset of the bad record.
        offset: u64,
    },
    /// An earlier append failed and the file could not be restored; reopen the store.
    #[error("block store {path} is unusable after a failed write; reopen it")]
    Poisoned {
        /// The file.
        path: PathBuf,
    },
}

/// An open block store (one writer: the chain that owns it).
#[derive(Debug)]
pub struct BlockStore {
    file: File,
    path: PathBuf,
    len: u64,
    poisoned: bool,
}

/// What [`BlockStore::open`] found.
#[derive(Debug)]
pub struct Recovered {
    /// The blocks in the file, in order.
    pub blocks: Vec<Block>,
    /// Bytes cut off the end (a torn last write), 0 if the file was clean.
    pub truncated_bytes: u64,
}

fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + use<> {
    let path = path.to_path_buf();
    move |source| StoreError::Io { path, op, source }
}

/// Frames one block.
pub fn encode_record(block: &Block) -> Vec<u8> {
    let payload = serialize(block);
    let mut rec = Vec::with_capacity(HEADER_LEN + payload.len());
    rec.extend_from_slice(&MAGIC);
    rec.extend_from_slice(&u32::try_from(payload.len()).unwrap_or(u32::MAX).to_le_bytes());
    rec.extend_from_slice(Sha256::digest(&payload).get(..8).unwrap_or_default());
    rec.extend_from_slice(&payload);
    rec
}

/// Decodes the record at the start of `bytes`: the block and the record's length, or `None`
/// if it is incomplete or damaged.
fn decode_record(bytes: &[u8]) -> Option<(Block, usize)> {
    let header = bytes.get(..HEADER_LEN)?;
    if header.get(..4)? != MAGIC {
        return None;
    }
    let len = usize::try_from(u32::from_le_bytes(header.get(4..8)?.try_into().ok()?)).ok()?;
    if len > MAX_PAYLOAD {
        return None;
    }
    let payload = bytes.get(HEADER_LEN..HEADER_LEN.checked_add(len)?)?;
    if Sha256::digest(payload).get(..8)? != header.get(8..16)? {
        return None;
    }
    let block: Block = deserialize(payload).ok()?;
    Some((block, HEADER_LEN + len))
}

/// The extent a damaged record claims, if its header is readable: used to tell a torn tail
/// (the claimed record reaches the end of the file) from corruption in the middle.
fn claimed_len(bytes: &[u8]) -> Option<usize> {
    let header = bytes.get(..HEADER_LEN)?;
    if header.get(..4)? != MAGIC {
        return None;
    }
    let len = usize::try_from(u32::from_le_bytes(header.get(4..8)?.try_into().ok()?)).ok()?;
    (len <= MAX_PAYLOAD).then_some(HEADER_LEN + len)
}

impl BlockStore {
    /// Opens (creating if needed) the store in `dir`, replays it and cuts a torn tail.
    pub fn open(dir: &Path) -> Result<(BlockStore, Recovered), StoreError> {
        std::fs::create_dir_all(dir).map_err(io(dir, "create directory"))?;
        let path = dir.join(BLOCKS_FILE);
        let existed = path.exists();
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io(&path, "open"))?;
        if !existed {
            // Make the new file's directory entry durable too.
            File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir, "sync directory"))?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(&path, "read"))?;
        let mut blocks = Vec::new();
        let mut offset = 0usize;
        while offset < bytes.len() {
            let rest = bytes.get(offset..).unwrap_or_default();
            match decode_record(rest) {
                Some((block, n)) => {
                    blocks.push(block);
                    offset += n;
                }
                None => {
                    let reaches_end = match claimed_len(rest) {
                        Some(n) => n >= rest.len(),
                        // An unreadable header: torn only if it is shorter than a header.
                        None => {
                            rest.len() < HEADER_LEN
                                || rest.iter().all(|b| *b == 0)
                                || rest.get(..4).is_some_and(|m| MAGIC.starts_with(m) && m != MAGIC)
                        }
                    };
                    if !reaches_end {
                        return Err(StoreError::Corrupt { path, offset: offset as u64 });
                    }
                    break;
                }
            }
        }
        let good = offset as u64;
        let total = bytes.len() as u64;
        if good < total {
            tracing::warn!(path = %path.display(), cut_bytes = total - good, blocks = blocks.len(), "block store: torn last write cut off");
            file.set_len(good).map_err(io(&path, "truncate"))?;
            file.sync_all().map_err(io(&path, "sync"))?;
        }
        file.seek(SeekFrom::Start(good)).map_err(io(&path, "seek"))?;
        Ok((BlockStore { file, path, len: good, poisoned: false }, Recovered { blocks, truncated_bytes: total - good }))
    }

    /// Appends `block` and fsyncs; when this returns `Ok` the block survives a crash.
    pub fn append(&mut self, block: &Block) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned { path: self.path.clone() });
        }
        let rec = encode_record(block);
        let result = self.file.write_all(&rec).and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.len += rec.len() as u64;
                Ok(())
            }
            Err(source) => {
                // Undo a partial record so the next append does not follow garbage.
                let restored = self.file.set_len(self.len).and_then(|()| self.file.seek(SeekFrom::Start(self.len)).map(|_| ()));
                if restored.is_err() {
                    self.poisoned = true;
                }
                Err(StoreError::Io { path: self.path.clone(), op: "append", source })
            }
        }
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of acknowledged records.
    pub fn len_bytes(&self) -> u64 {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u32) -> Block {
        let mut w = crate::Wallet::from_seed([5; 32]);
        let a = w.new_address();
        let c = crate::Chain::new(crate::ChainParams::default(), 1_000 + n, &[(a, 1_000 + u64::from(n))]).unwrap();
        c.block_at(0).unwrap().clone()
    }

    #[test]
    fn torn_tails_are_cut_and_middle_corruption_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut s, r) = BlockStore::open(dir.path()).unwrap();
            assert!(r.blocks.is_empty());
            for n in 0..3 {
                s.append(&block(n)).unwrap();
            }
        }
        let path = dir.path().join(BLOCKS_FILE);
        let full = std::fs::read(&path).unwrap();
        let rec = encode_record(&block(0)).len();
        // Every possible torn length of a fourth record.
        let fourth = encode_record(&block(3));
        for cut in 1..fourth.len() {
            let mut bytes = full.clone();
            bytes.extend_from_slice(&fourth[..cut]);
            std::fs::write(&path, &bytes).unwrap();
            let (_, r) = BlockStore::open(dir.path()).unwrap();
            assert_eq!((r.blocks.len(), r.truncated_bytes), (3, cut as u64), "cut {cut}");
            assert_eq!(std::fs::read(&path).unwrap(), full);
        }
        // A flipped byte in the last record: torn, cut.
        let mut bytes = full.clone();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(BlockStore::open(dir.path()).unwrap().1.blocks.len(), 2);
        // A flipped byte in the first record: corruption, refused.
        let mut bytes = full.clone();
        bytes[rec / 2] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(BlockStore::open(dir.path()), Err(StoreError::Corrupt { offset: 0, .. })));
        // Garbage that is not even a header at the end: cut.
        let mut bytes = full.clone();
        bytes.extend_from_slice(b"DL");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(BlockStore::open(dir.path()).unwrap().1.truncated_bytes, 2);
    }
}
