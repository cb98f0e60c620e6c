//! `--watch`: re-reads the config file when it changes. A valid new config is published (the
//! consumer decides what applies live and what needs a reconnect); an invalid one is logged with
//! its issues and ignored, so the old config keeps running.
//!
//! Polling (every 500 ms) rather than inotify: it costs one `stat` per interval, needs no
//! dependency, and also sees editors that replace the file by renaming a new one over it.

use kinesis_connector::{validate_create_json, Connector, Context};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

const POLL: Duration = Duration::from_millis(500);

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
        let Ok(text) = std::fs::read_to_string(&path) else {
            warn!(path = %path.display(), "config file cannot be read; keeping the running config");
            continue;
        };
        if last_text.as_deref() == Some(text.as_str()) {
            continue;
        }
        last_text = Some(text.clone());
        let result = validate_create_json(&text, &Context::default());
        match result.value {
            Some(connector) if result.valid => {
                info!(path = %path.display(), "config changed");
                config.send_replace(Arc::new(connector));
            }
            _ => {
                for issue in &result.errors {
                    warn!(path = %issue.path, code = %issue.code, message = %issue.message, "invalid config change ignored");
                }
            }
        }
    }
}

fn fingerprint(path: &PathBuf) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
