//! The connector config of `test`, `consume` and `produce`: read and validated by one function
//! (`load`), used at start and by `--watch`.
//!
//! `--watch` re-reads the config file when it changes. A valid new config is published (each
//! command acts on the core's `Effects` of the change); an invalid one is logged with its issues
//! and ignored, so the old config keeps running. Polling (every 500 ms) rather than inotify: it
//! costs one `stat` per interval, needs no dependency, and also sees editors that replace the
//! file by renaming a new one over it.

use crate::input::{read_input, Input, ReadError};
use kinesis_connector::{validate_create_json, Connector, Context, Issue};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The issues are kept for the caller to report (at start) or log (when watching).
    #[error("{}: invalid config", input.name)]
    Invalid {
        input: Input,
        errors: Vec<Issue>,
        warnings: Vec<Issue>,
    },
}

/// Reads and validates a config file (a create payload); its warnings are logged.
pub fn load(path: &Path) -> Result<Connector, ConfigError> {
    parse(read_input(path)?)
}

/// Validates config text already read.
pub fn parse(input: Input) -> Result<Connector, ConfigError> {
    let result = validate_create_json(&input.text, &Context::default());
    match result.value {
        Some(connector) if result.valid => {
            for warning in &result.warnings {
                warn!(path = %warning.path, code = %warning.code, "{}", warning.message);
            }
            Ok(connector)
        }
        _ => Err(ConfigError::Invalid {
            input,
            errors: result.errors,
            warnings: result.warnings,
        }),
    }
}

/// Publishes every valid change of the file at `path` until `stop`.
pub async fn watch_config(
    path: PathBuf,
    config: watch::Sender<Arc<Connector>>,
    stop: CancellationToken,
) {
    let mut last_seen = fingerprint(&path);
    let mut last_text = std::fs::read_to_string(&path).ok();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        let now = fingerprint(&path);
        if now == last_seen {
            continue;
        }
        last_seen = now;
        let input = match read_input(&path) {
            Ok(input) => input,
            Err(_) => {
                warn!(path = %path.display(), "config file cannot be read; keeping the running config");
                continue;
            }
        };
        if last_text.as_deref() == Some(input.text.as_str()) {
            continue;
        }
        last_text = Some(input.text.clone());
        match parse(input) {
            Ok(connector) => {
                info!(path = %path.display(), "config changed");
                config.send_replace(Arc::new(connector));
            }
            Err(ConfigError::Invalid { errors, .. }) => {
                for issue in &errors {
                    warn!(path = %issue.path, code = %issue.code, message = %issue.message, "invalid config change ignored");
                }
            }
            Err(ConfigError::Read(e)) => {
                warn!(error = %e, "config file cannot be read; keeping the running config");
            }
        }
    }
}

fn fingerprint(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
