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
    #[error("cannot read {kind} {path}")]
    Read {
        kind: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{kind} {path} is corrupt (nothing was done; to start again without it, move it away or pass --discard-corrupt-state)")]
    Corrupt {
        kind: &'static str,
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write {path}")]
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
        read_json("checkpoint file", &self.path)
    }

    /// Like `load`, but a corrupt file is moved aside (to `<file>.corrupt-<unix seconds>`) and
    /// taken as no checkpoints at all: only when the user asked for it.
    pub fn load_or_discard_corrupt(&self) -> Result<Option<Checkpoints>, CheckpointError> {
        discard_if_corrupt(&self.path, self.load())
    }

    /// Replaces the saved checkpoints atomically and durably.
    pub fn save(&self, checkpoints: &Checkpoints) -> Result<(), CheckpointError> {
        write_json(&self.path, checkpoints)
    }
}

/// A JSON state file; `None` when it does not exist.
fn read_json<T: serde::de::DeserializeOwned>(
    kind: &'static str,
    path: &Path,
) -> Result<Option<T>, CheckpointError> {
    let text = match fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CheckpointError::Read {
                kind,
                path: path.to_path_buf(),
                source,
            })
        }
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|source| CheckpointError::Corrupt {
            kind,
            path: path.to_path_buf(),
            source,
        })
}

fn discard_if_corrupt<T>(
    path: &Path,
    loaded: Result<Option<T>, CheckpointError>,
) -> Result<Option<T>, CheckpointError> {
    match loaded {
        Err(CheckpointError::Corrupt { source, .. }) => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let aside = PathBuf::from(format!("{}.corrupt-{secs}", path.display()));
            fs::rename(path, &aside).map_err(|source| CheckpointError::Write {
                path: aside.clone(),
                source,
            })?;
            tracing::warn!(file = %path.display(), moved_to = %aside.display(), error = %source,
                "state file is corrupt: moved aside as asked (--discard-corrupt-state); starting without it");
            Ok(None)
        }
        other => other,
    }
}

/// Replaces a JSON state file atomically and durably: temp file, fsync, rename, fsync the
/// directory. When any step fails (a full disk) the old file is left as it was and the temp
/// file is removed.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), CheckpointError> {
    let err = |source| CheckpointError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(err)?;
    let tmp = path.with_extension("json.tmp");
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| err(e.into()))?;
    bytes.push(b'\n');
    let written = fs::File::create(&tmp).and_then(|mut file| {
        file.write_all(&bytes)?;
        file.sync_all()
    });
    if let Err(source) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(err(source));
    }
    // The rename itself is only durable once the directory entry is synced.
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)?;
    Ok(())
}

/// How far `produce --input FILE` got: every line up to `line` (ending at byte `offset`) was
/// sent, filtered or dead-lettered, so a restart continues at `offset`. `fingerprint` is the
/// MD5 of the file's bytes before `offset`, so a different or rewritten file is not skipped into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProduceProgress {
    pub version: u32,
    pub input: PathBuf,
    pub line: u64,
    pub offset: u64,
    pub fingerprint: String,
}

/// The progress record of one input file, kept beside the checkpoints.
#[derive(Debug, Clone)]
pub struct ProgressStore {
    path: PathBuf,
}

impl ProgressStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self, discard_corrupt: bool) -> Result<Option<ProduceProgress>, CheckpointError> {
        let loaded = read_json("produce progress record", &self.path);
        if discard_corrupt {
            discard_if_corrupt(&self.path, loaded)
        } else {
            loaded
        }
    }

    pub fn save(&self, progress: &ProduceProgress) -> Result<(), CheckpointError> {
        write_json(&self.path, progress)
    }

    /// The input was sent to its end: nothing to resume.
    pub fn remove(&self) -> Result<(), CheckpointError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CheckpointError::Write {
                path: self.path.clone(),
                source,
            }),
        }
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
