//! The dead-letter output: NDJSON entries for records a method rejected (threw or timed out), and
//! later for records `produce` finally failed to send. Opened on first use, appended to, and
//! synced before the checkpoint that moves past those records is written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error("cannot write dead-letter file {path}")]
pub struct DeadLetterError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    file: Option<File>,
    entries: u64,
}

impl DeadLetter {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: None,
            entries: 0,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Entries written by this process.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Appends complete NDJSON lines and makes them durable.
    pub fn append(&mut self, lines: &[u8]) -> Result<(), DeadLetterError> {
        if lines.is_empty() {
            return Ok(());
        }
        let err = |source| DeadLetterError {
            path: self.path.clone(),
            source,
        };
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            self.file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
                    .map_err(err)?,
            );
        }
        if let Some(file) = self.file.as_mut() {
            file.write_all(lines).map_err(err)?;
            file.sync_data().map_err(err)?;
        }
        self.entries += lines.iter().filter(|b| **b == b'\n').count() as u64;
        Ok(())
    }
}
