//! The checkpoint store: where each shard has been read to, so a restart resumes there.
//!
//! Why a plain file and not an embedded database (redb, sled): the state is tiny (one entry per
//! shard, a few hundred at most), written by one process, and always replaced whole. A JSON file
//! written as "temp file → fsync → rename over the old one → fsync the directory" is atomic on
//! POSIX file systems: after a crash (`kill -9`, power loss) the file is either the old or the new
//! version, never a torn mix. It is also readable by people and tests, and costs no dependency.
//! One file per (region, stream) under the connector's state directory.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where one shard has been read to (and flushed to the output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardCheckpoint {
    /// The sequence number of the last record handled (written out, filtered or dead-lettered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    /// For a KPL-aggregated record: the index of the last user record handled within it.
    /// Absent: the whole record was handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_sequence_number: Option<u64>,
    /// The shard is closed and every record of it has been handled: its children may be read.
    #[serde(default)]
    pub finished: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoints {
    pub version: u32,
    pub shards: BTreeMap<String, ShardCheckpoint>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read checkpoint file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint file {path} is corrupt")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write checkpoint file {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another consumer is using the checkpoints in {path} (its lock is held); run one consumer per state directory and stream")]
    Locked { path: PathBuf },
    #[error("cannot write checkpoints to lease table {table}")]
    Lease {
        table: String,
        source: crate::lease::LeaseError,
    },
}

/// Where the writer saves checkpoints after each flush: the local file (the embedded default)
/// or the lease table (`consume --lease-table`). `save` answers whether everything is saved;
/// `false` means "try again after the next flush" (a transient outage of the store).
pub trait CheckpointSink: Send {
    fn save<'a>(
        &'a mut self,
        checkpoints: &'a Checkpoints,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<bool, CheckpointError>> + Send + 'a>,
    >;
}

impl CheckpointSink for CheckpointStore {
    fn save<'a>(
        &'a mut self,
        checkpoints: &'a Checkpoints,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<bool, CheckpointError>> + Send + 'a>,
    > {
        let saved = CheckpointStore::save(self, checkpoints).map(|()| true);
        Box::pin(std::future::ready(saved))
    }
}

/// Held while a consumer uses a checkpoint file; dropping it (or the process dying, even by
/// `kill -9`) releases the lock. Two consumers writing one file would each overwrite the
/// other's progress, and records could then be skipped on a restart.
#[derive(Debug)]
pub struct StoreLock {
    _file: fs::File,
}

#[derive(Debug)]
pub struct CheckpointStore {
    path: PathBuf,
}

impl CheckpointStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Take the exclusive lock of this checkpoint file (an OS file lock on `<file>.lock`).
    pub fn lock(&self) -> Result<StoreLock, CheckpointError> {
        let path = self.path.with_extension("json.lock");
        let err = |source| CheckpointError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(err)?;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(err)?;
        match file.try_lock() {
            Ok(()) => Ok(StoreLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(CheckpointError::Locked {
                path: self.path.clone(),
            }),
            Err(fs::TryLockError::Error(source)) => Err(err(source)),
        }
    }

    /// The saved checkpoints; `None` when nothing was ever saved for this stream.
    pub fn load(&self) -> Result<Option<Checkpoints>, CheckpointError> {
        let text = match fs::read(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CheckpointError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|source| CheckpointError::Corrupt {
                path: self.path.clone(),
                source,
            })
    }

    /// Replaces the saved checkpoints atomically and durably.
    pub fn save(&self, checkpoints: &Checkpoints) -> Result<(), CheckpointError> {
        let err = |source| CheckpointError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(err)?;
        let tmp = self.path.with_extension("json.tmp");
        let mut bytes = serde_json::to_vec_pretty(checkpoints).map_err(|e| err(e.into()))?;
        bytes.push(b'\n');
        {
            let mut file = fs::File::create(&tmp).map_err(err)?;
            file.write_all(&bytes).map_err(err)?;
            file.sync_all().map_err(err)?;
        }
        fs::rename(&tmp, &self.path).map_err(err)?;
        // The rename itself is only durable once the directory entry is synced.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_consumer_cannot_take_the_lock_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = CheckpointStore::new(dir.path().join("checkpoints-us-west-2-s.json"));
        let first = store.lock().expect("first lock");
        assert!(matches!(store.lock(), Err(CheckpointError::Locked { .. })));
        drop(first);
        let again = store.lock().expect("free again");
        drop(again);
    }

    #[test]
    fn save_then_load() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = CheckpointStore::new(dir.path().join("a/checkpoints.json"));
        assert_eq!(store.load().expect("loads"), None);
        let mut checkpoints = Checkpoints {
            version: 1,
            ..Default::default()
        };
        checkpoints.shards.insert(
            "shardId-000000000000".into(),
            ShardCheckpoint {
                sequence_number: Some("4960".into()),
                sub_sequence_number: Some(2),
                finished: false,
            },
        );
        store.save(&checkpoints).expect("saves");
        store.save(&checkpoints).expect("saves over");
        assert_eq!(store.load().expect("loads"), Some(checkpoints));
    }
}
