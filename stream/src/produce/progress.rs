//! `produce --input FILE` across a crash: which lines are done, and the record that lets a
//! restart continue after the last of them.
//!
//! A line is done once it is sent (PutRecords acknowledged it), filtered, or dead-lettered for
//! good (its dead-letter entry is on disk). Lines finish out of order (per-shard queues,
//! retries), so the record holds the low-water mark: the last line such that it and every line
//! before it are done, and the byte offset where the next line starts. It is saved (atomically,
//! `checkpoint::ProgressStore`) at most every `SAVE_INTERVAL` while it moves, and at the end. A
//! `kill -9` therefore costs at most the lines read but not yet done (in the queues or in flight)
//! plus those done in the last `SAVE_INTERVAL`, sent again as duplicates; never a loss.
//! Records dead-lettered because the stream failed or the run was stopped are not done: a
//! restart sends them again. Reading pauses while `MAX_OPEN_LINES` lines are past the mark, so
//! a line stuck in retries bounds what a crash sends again.

use crate::checkpoint::{CheckpointError, ProduceProgress, ProgressStore};
use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tracing::warn;

/// The progress record is saved at most this often while it moves.
pub const SAVE_INTERVAL: Duration = Duration::from_millis(100);
/// At most this many lines are read past the mark: a line that keeps failing (retried with
/// backoff) holds the mark, and without a bound everything sent meanwhile would be sent again
/// after a crash. Above what the queues hold (64 + 2,000 + 500 per request in flight), so it only
/// pauses the input behind such a line.
pub const MAX_OPEN_LINES: usize = 5000;
/// How many bytes before the offset the fingerprint covers.
const FINGERPRINT_BYTES: u64 = 4096;
const VERSION: u32 = 1;

/// Where an input file's progress is kept, and where this run starts in it.
#[derive(Debug, Clone)]
pub struct InputProgress {
    pub store: ProgressStore,
    /// The input file (canonical path).
    pub input: PathBuf,
    /// The last line done in an earlier run and the offset after it: (0, 0) for a fresh start.
    pub start_line: u64,
    pub start_offset: u64,
}

impl InputProgress {
    /// Where to start in `input`: after the saved progress when it is for this file's content,
    /// else at the first line. `restart` ignores (and removes) a saved record.
    pub fn open(
        store: ProgressStore,
        input: PathBuf,
        restart: bool,
        discard_corrupt: bool,
    ) -> Result<Self, CheckpointError> {
        let mut progress = Self {
            store,
            input,
            start_line: 0,
            start_offset: 0,
        };
        if restart {
            progress.store.remove()?;
            return Ok(progress);
        }
        let Some(saved) = progress.store.load(discard_corrupt)? else {
            return Ok(progress);
        };
        let matches = saved.version == VERSION
            && saved.input == progress.input
            && fingerprint(&progress.input, saved.offset)
                .is_ok_and(|f| f.as_deref() == Some(saved.fingerprint.as_str()));
        if matches {
            progress.start_line = saved.line;
            progress.start_offset = saved.offset;
        } else {
            warn!(record = %progress.store.path().display(), input = %progress.input.display(),
                "the progress record does not match the input's content (rewritten or another file): starting at its first line");
        }
        Ok(progress)
    }
}

/// MD5 (hex) of the up to 4 KiB before `offset`, which must end a line (or be 0, or the end of
/// the file); `None` when the file is shorter or `offset` is not at a line start.
fn fingerprint(path: &Path, offset: u64) -> std::io::Result<Option<String>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len < offset {
        return Ok(None);
    }
    let from = offset.saturating_sub(FINGERPRINT_BYTES);
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = vec![0; (offset - from) as usize];
    file.read_exact(&mut bytes)?;
    // A last line without a newline ends at the end of the file.
    if offset < len && bytes.last().is_some_and(|b| *b != b'\n') {
        return Ok(None);
    }
    let digest = Md5::digest(&bytes);
    Ok(Some(digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// The lines of this run between read and done; shared by the reader and the sender (one
/// thread, so the lock is never contended).
#[derive(Debug, Clone)]
pub(crate) struct Tracker(Arc<Mutex<State>>, Arc<tokio::sync::Notify>);

#[derive(Debug)]
struct State {
    setup: InputProgress,
    /// Lines read and not yet passed by the mark: line → (end offset, done).
    open: BTreeMap<u64, (u64, bool)>,
    /// The mark: every line up to `line` is done; the next starts at `offset`.
    line: u64,
    offset: u64,
    saved: (u64, u64),
    last_save: Option<Instant>,
    /// The last save failed (a full disk): warn once per run of failures.
    failing: bool,
}

impl Tracker {
    pub fn new(setup: InputProgress) -> Self {
        let (line, offset) = (setup.start_line, setup.start_offset);
        Self(
            Arc::new(Mutex::new(State {
                setup,
                open: BTreeMap::new(),
                line,
                offset,
                saved: (line, offset),
                last_save: None,
                failing: false,
            })),
            Arc::default(),
        )
    }

    /// Waits until fewer than `MAX_OPEN_LINES` lines are read past the mark.
    pub async fn room(&self) {
        while self.with(|s| s.open.len()) >= MAX_OPEN_LINES {
            self.1.notified().await;
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    /// A line was read; it ends at `end_offset` (after its newline). `done` for a blank or
    /// filtered line.
    pub fn read(&self, line: u64, end_offset: u64, done: bool) {
        self.with(|s| {
            s.open.insert(line, (end_offset, done));
            s.advance();
        });
    }

    /// `line` was sent or dead-lettered for good.
    pub fn done(&self, line: u64) {
        self.with(|s| {
            if let Some(entry) = s.open.get_mut(&line) {
                entry.1 = true;
            }
            s.advance();
        });
        self.1.notify_one();
    }

    /// Saves the mark if it moved and the last save is `SAVE_INTERVAL` old (`force`: now). A
    /// failed save is logged and sending goes on (the record only saves work on a restart).
    pub fn save(&self, force: bool) {
        self.with(|s| {
            if (s.line, s.offset) == s.saved
                || (!force && s.last_save.is_some_and(|t| t.elapsed() < SAVE_INTERVAL))
            {
                return;
            }
            s.last_save = Some(Instant::now());
            match s.write() {
                Ok(()) => {
                    s.saved = (s.line, s.offset);
                    s.failing = false;
                }
                Err(error) => {
                    if !std::mem::replace(&mut s.failing, true) {
                        warn!(error = %format!("{error:#}"), "cannot save the progress record; going on (a restart would send more again)");
                    }
                }
            }
        });
    }

    /// The whole input was done: nothing to resume, the record goes.
    pub fn finish(&self) -> Result<(), CheckpointError> {
        self.with(|s| s.setup.store.remove())
    }

    /// The last line done in order, and whether every line read is done.
    pub fn mark(&self) -> (u64, bool) {
        self.with(|s| (s.line, s.open.is_empty()))
    }
}

impl State {
    fn advance(&mut self) {
        while let Some(entry) = self.open.first_entry() {
            let (end, done) = *entry.get();
            if !done {
                break;
            }
            self.line = *entry.key();
            self.offset = end;
            entry.remove();
        }
    }

    fn write(&self) -> Result<(), CheckpointError> {
        let fingerprint = fingerprint(&self.setup.input, self.offset)
            .ok()
            .flatten()
            .unwrap_or_default();
        self.setup.store.save(&ProduceProgress {
            version: VERSION,
            input: self.setup.input.clone(),
            line: self.line,
            offset: self.offset,
            fingerprint,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_mark_stops_at_the_first_line_not_done_and_a_restart_continues_there() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.ndjson");
        std::fs::write(&input, "a\nb\n\nc\nd\n").unwrap();
        let store = ProgressStore::new(dir.path().join("progress.json"));
        let setup = InputProgress::open(store.clone(), input.clone(), false, false).unwrap();
        assert_eq!((setup.start_line, setup.start_offset), (0, 0));
        let tracker = Tracker::new(setup);
        tracker.read(1, 2, false);
        tracker.read(2, 4, false);
        tracker.read(3, 5, true);
        tracker.read(4, 7, false);
        tracker.done(2);
        tracker.done(4);
        assert_eq!(tracker.mark(), (0, false), "line 1 is not done");
        tracker.done(1);
        assert_eq!(tracker.mark(), (4, true));
        tracker.save(true);
        let again = InputProgress::open(store.clone(), input.clone(), false, false).unwrap();
        assert_eq!((again.start_line, again.start_offset), (4, 7));
        // A rewritten file does not resume in the middle of other content.
        std::fs::write(&input, "x\ny\nz\nw\nv\n").unwrap();
        let other = InputProgress::open(store.clone(), input.clone(), false, false).unwrap();
        assert_eq!((other.start_line, other.start_offset), (0, 0));
        // --restart-input removes the record.
        std::fs::write(&input, "a\nb\n\nc\nd\n").unwrap();
        let restart = InputProgress::open(store.clone(), input, true, false).unwrap();
        assert_eq!(restart.start_line, 0);
        assert!(store.load(false).unwrap().is_none());
    }

    #[tokio::test]
    async fn reading_pauses_while_too_many_lines_are_past_a_line_not_done() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.ndjson");
        std::fs::write(&input, "").unwrap();
        let store = ProgressStore::new(dir.path().join("progress.json"));
        let tracker = Tracker::new(InputProgress::open(store, input, false, false).unwrap());
        for line in 1..=MAX_OPEN_LINES as u64 {
            tracker.read(line, line * 2, line != 1);
        }
        let room = tracker.room();
        tokio::pin!(room);
        assert!(
            futures_poll_once(room.as_mut()).await.is_none(),
            "line 1 holds the mark: no room"
        );
        tracker.done(1);
        room.await;
        assert_eq!(tracker.mark(), (MAX_OPEN_LINES as u64, true));
    }

    /// Polls a future once.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            out = f => Some(out),
            () = std::future::ready(()) => None,
        }
    }

    #[test]
    fn a_corrupt_record_is_an_error_unless_discarding_was_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.ndjson");
        std::fs::write(&input, "a\n").unwrap();
        let path = dir.path().join("progress.json");
        std::fs::write(&path, "{\"version\":1,\"li").unwrap();
        let store = ProgressStore::new(path.clone());
        let err = InputProgress::open(store.clone(), input.clone(), false, false).unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()));
        let discarded = InputProgress::open(store, input, false, true).unwrap();
        assert_eq!(discarded.start_line, 0);
        assert!(!path.exists(), "moved aside");
    }
}
