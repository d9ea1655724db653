//! The state file beside a JSON-lines audit log (`LOG.head`): the chain head and
//! the rate and quota counters replayed from the log, bound to the log by its
//! length and last record. Reopening a long log then reads only its tail; a state
//! file that does not match the log is ignored, and the log is verified and
//! replayed whole.
//!
//! The state file is a cache, no stronger than the log's own permissions (same
//! owner, same folder, 0600). `audit verify` remains the check of the whole log.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::audit::consumed_use;
use super::audit_record::{AuditChain, AuditRecord};
use super::audit_verify::verify_each;
use super::ratelimit::{SavedCounters, TokenBucket};
use crate::resolve::AuditError;

const VERSION: u32 = 1;

/// A state file larger than this is ignored, and the log replayed instead.
const MAX_STATE_BYTES: u64 = 64 << 20;

/// Where the counters of a reopened log came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoredFrom {
    /// The log was empty: there was nothing to restore.
    Nothing,
    /// The state file beside the log matched it; only the log's tail was read.
    StateFile,
    /// The log was verified and replayed whole (no state file, or one that did
    /// not match the log), and the state file was written anew.
    FullReplay,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    /// The log's length in bytes.
    log_len: u64,
    /// The last record's sequence number, hash (hex) and unix time.
    seq: u64,
    hash: String,
    last_time: i64,
    counters: SavedCounters,
}

/// The state file of one open log, and the counters replayed from its records.
#[derive(Debug)]
pub(crate) struct Beside {
    path: PathBuf,
    log_len: u64,
    counters: TokenBucket,
    dirty: bool,
}

/// `LOG.head` for `LOG`.
pub(crate) fn state_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    PathBuf::from(name)
}

impl Beside {
    /// Restores `counters` for the log at `log`, `log_len` bytes long, whose
    /// chain continues as `chain`: from the state file when it matches the log,
    /// else by verifying and replaying the log whole (then saving the state file;
    /// a failure to save only means the next open replays again).
    ///
    /// # Errors
    /// [`AuditError`] when the log must be replayed and cannot be read or is broken.
    pub(crate) fn open(
        log: &Path,
        log_len: u64,
        chain: &AuditChain,
        counters: TokenBucket,
    ) -> Result<(Self, RestoredFrom), AuditError> {
        let mut beside = Self {
            path: state_path(log),
            log_len,
            counters,
            dirty: false,
        };
        if log_len == 0 {
            return Ok((beside, RestoredFrom::Nothing));
        }
        if beside.load(chain) {
            return Ok((beside, RestoredFrom::StateFile));
        }
        let file = File::open(log)?;
        let counters = &beside.counters;
        verify_each(
            BufReader::new(file.take(log_len)),
            &Default::default(),
            |r| {
                if let Some(u) = consumed_use(r) {
                    counters.replay(&u);
                }
            },
        )?;
        beside.dirty = true;
        let _ = beside.save(chain);
        Ok((beside, RestoredFrom::FullReplay))
    }

    /// The counters as replayed from the log so far.
    pub(crate) fn counters(&self) -> &TokenBucket {
        &self.counters
    }

    /// Whether the state file matches the log; if so its counters are taken.
    fn load(&self, chain: &AuditChain) -> bool {
        let Ok(file) = File::open(&self.path) else {
            return false;
        };
        let mut text = Vec::new();
        if file
            .take(MAX_STATE_BYTES + 1)
            .read_to_end(&mut text)
            .is_err()
            || text.len() as u64 > MAX_STATE_BYTES
        {
            return false;
        }
        let Ok(state) = serde_json::from_slice::<StateFile>(&text) else {
            return false;
        };
        state.version == VERSION
            && state.log_len == self.log_len
            && state.seq.checked_add(1) == Some(chain.next_seq())
            && state.hash == hex::encode(chain.head())
            && state.last_time == chain.last_time()
            && self.counters.restore_saved(&state.counters)
    }

    /// Counts a record just appended to the log as `len` bytes.
    pub(crate) fn appended(&mut self, record: &AuditRecord, len: usize) {
        if let Some(u) = consumed_use(record) {
            self.counters.replay(&u);
        }
        self.log_len = self.log_len.saturating_add(len as u64);
        self.dirty = true;
    }

    /// Writes the state file, if anything changed since it was last written:
    /// to a temporary file (0600), synced, then renamed over the old one. The
    /// folder is not synced: a rename lost in a crash leaves the older state
    /// file, which no longer matches the log's length and is ignored.
    ///
    /// # Errors
    /// [`AuditError::Io`].
    pub(crate) fn save(&mut self, chain: &AuditChain) -> Result<(), AuditError> {
        if !self.dirty {
            return Ok(());
        }
        let state = StateFile {
            version: VERSION,
            log_len: self.log_len,
            seq: chain.next_seq().saturating_sub(1),
            hash: hex::encode(chain.head()),
            last_time: chain.last_time(),
            counters: self.counters.to_saved(),
        };
        let json = serde_json::to_vec(&state).map_err(io::Error::other)?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        // A temporary file left by a crash is ours to replace.
        let _ = fs::remove_file(&tmp);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &self.path)?;
        self.dirty = false;
        Ok(())
    }
}
