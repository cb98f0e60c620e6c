//! `consume`: reads every shard of the connector's stream and writes one JSON line per record.
//!
//! ```text
//!  Coordinator ──spawns──► ShardReader (one task per shard, span "shard")
//!       ▲                        │ Event::Records / Event::ShardEnd (bounded channel)
//!       │ finished shards        ▼
//!       └──────────────────── Writer: pipeline (KPL, method, NDJSON) → flush → checkpoint
//! ```
//! `run` wraps sessions: a config change that needs a new connection (region, stream, credentials)
//! or `disabled` ends the session cleanly (flush, checkpoint) and starts a new one; rate limits
//! and the method apply live through a `watch` channel.

mod coordinator;
mod reader;
#[cfg(test)]
mod tests;
mod writer;

pub use writer::WriteError;

use crate::checkpoint::{CheckpointError, CheckpointStore, Checkpoints};
use crate::deadletter::DeadLetter;
use crate::kinesis::{Connection, KinesisApi, KinesisRecord};
use crate::method::{MethodError, MethodLimits, MethodRunner};
use crate::output::{Counts, Pipeline};
use crate::watch::watch_config;
use kinesis_connector::Connector;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, info_span, Instrument};

/// Where to start in a shard that has no checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartFrom {
    #[default]
    Oldest,
    Latest,
}

#[derive(Debug, Clone)]
pub struct ConsumeOptions {
    /// The config file (re-read with `watch`).
    pub config_path: Option<PathBuf>,
    pub watch: bool,
    pub endpoint_url: Option<String>,
    pub from: StartFrom,
    pub methods_dir: Option<PathBuf>,
    pub method_limits: MethodLimits,
    /// Checkpoints live under `<state_dir>/<connector id>/`.
    pub state_dir: PathBuf,
    /// Default: `<state_dir>/<connector id>/dead-letter.ndjson`.
    pub dead_letter: Option<PathBuf>,
    pub idle_timeout: Option<Duration>,
    pub stats_interval: Option<Duration>,
    /// How often shards are listed again to discover new ones.
    pub shard_refresh: Duration,
    /// How long a caught-up shard waits before polling again.
    pub idle_poll: Duration,
}

impl ConsumeOptions {
    pub fn new(state_dir: PathBuf) -> Self {
        Self {
            config_path: None,
            watch: false,
            endpoint_url: None,
            from: StartFrom::Oldest,
            methods_dir: None,
            method_limits: MethodLimits::default(),
            state_dir,
            dead_letter: None,
            idle_timeout: None,
            stats_interval: Some(Duration::from_secs(5)),
            shard_refresh: Duration::from_secs(10),
            idle_poll: Duration::from_millis(500),
        }
    }

    pub fn checkpoint_path(&self, connector: &Connector) -> PathBuf {
        self.connector_dir(connector).join(format!(
            "checkpoints-{}-{}.json",
            connector.region.code(),
            connector.stream
        ))
    }

    pub fn dead_letter_path(&self, connector: &Connector) -> PathBuf {
        self.dead_letter
            .clone()
            .unwrap_or_else(|| self.connector_dir(connector).join("dead-letter.ndjson"))
    }

    fn connector_dir(&self, connector: &Connector) -> PathBuf {
        // Connector ids are letters, digits, '.', '-', '_' (validated), so they make safe names.
        self.state_dir.join(&connector.id)
    }
}

/// What a consume run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub written: u64,
    pub filtered: u64,
    pub dead_lettered: u64,
    pub dead_letter_file: Option<PathBuf>,
}

impl Summary {
    fn add(&mut self, counts: &Counts) {
        self.records += counts.records;
        self.written += counts.written;
        self.filtered += counts.filtered;
        self.dead_lettered += counts.dead_lettered;
    }

    fn merge(&mut self, other: Summary) {
        self.records += other.records;
        self.written += other.written;
        self.filtered += other.filtered;
        self.dead_lettered += other.dead_lettered;
        if other.dead_letter_file.is_some() {
            self.dead_letter_file = other.dead_letter_file;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error("kinesis: {0}")]
    Kinesis(String),
    #[error(transparent)]
    Method(#[from] MethodError),
    #[error("the config names processing method {0:?}; pass --methods DIR")]
    NoMethodsDir(String),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The settings a running session picks up without reconnecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub records_per_second: u64,
    pub bytes_per_second: u64,
    pub method_id: Option<String>,
}

impl From<&Connector> for Live {
    fn from(c: &Connector) -> Self {
        Self {
            records_per_second: c.max_records_per_shard_per_second,
            bytes_per_second: c.max_bytes_per_shard_per_second,
            method_id: c.data_processing_method_id.clone(),
        }
    }
}

/// What shard readers hand to the writer.
#[derive(Debug)]
pub(crate) enum Event {
    Records {
        shard: Arc<str>,
        records: Vec<KinesisRecord>,
        /// Resuming inside an aggregated record: skip its user records up to this sub-sequence.
        skip_through: Option<(String, u64)>,
        millis_behind_latest: Option<i64>,
    },
    /// The (closed) shard has been read to its end; sent after its last records.
    ShardEnd { shard: Arc<str> },
}

/// The first fatal error of a session (a reader or the coordinator sets it and stops the session).
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionFailure(Arc<Mutex<Option<String>>>);

impl SessionFailure {
    pub fn set(&self, message: String) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(message);
        }
    }

    fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Does going from `old` to `new` need a new session (connection, stream or pause/resume)?
fn needs_restart(old: &Connector, new: &Connector, endpoint: Option<&str>) -> bool {
    !Connection::from_connector(old, endpoint).same_as(&Connection::from_connector(new, endpoint))
        || old.stream != new.stream
        || old.disabled != new.disabled
}

/// Loads the method a connector names, if any.
pub fn load_method(
    connector: &Connector,
    options: &ConsumeOptions,
) -> Result<Option<MethodRunner>, ConsumeError> {
    let Some(id) = &connector.data_processing_method_id else {
        return Ok(None);
    };
    let dir = options
        .methods_dir
        .as_deref()
        .ok_or_else(|| ConsumeError::NoMethodsDir(id.clone()))?;
    Ok(Some(MethodRunner::load(dir, id, options.method_limits)?))
}

/// Consumes until `shutdown` is cancelled, the idle timeout passes, or a fatal error.
pub async fn run(
    connector: Connector,
    options: ConsumeOptions,
    output: &mut dyn Write,
    shutdown: CancellationToken,
) -> Result<Summary, ConsumeError> {
    let (config_tx, mut config_rx) = watch::channel(Arc::new(connector));
    // Without a watcher the sender is kept here, so `changed()` simply never fires.
    let _keep_sender_alive = match (&options.config_path, options.watch) {
        (Some(path), true) => {
            tokio::spawn(watch_config(path.clone(), config_tx, shutdown.clone()));
            None
        }
        _ => Some(config_tx),
    };
    let mut total = Summary::default();
    loop {
        let connector = Arc::clone(&config_rx.borrow_and_update());
        if connector.disabled {
            if !options.watch {
                eprintln!("connector {} is disabled: nothing streams", connector.id);
                return Ok(total);
            }
            eprintln!(
                "connector {} is disabled: waiting for the config to enable it",
                connector.id
            );
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(total),
                changed = config_rx.changed() => {
                    if changed.is_err() {
                        shutdown.cancelled().await;
                        return Ok(total);
                    }
                    continue;
                }
            }
        }
        let session_stop = shutdown.child_token();
        let (live_tx, live_rx) = watch::channel(Live::from(connector.as_ref()));
        let connection = Connection::from_connector(&connector, options.endpoint_url.as_deref());
        let api = connection.client().await;
        let session = run_session(
            api,
            &connector,
            &options,
            output,
            session_stop.clone(),
            live_rx,
        );
        let supervise = async {
            loop {
                tokio::select! {
                    _ = session_stop.cancelled() => return false,
                    changed = config_rx.changed() => {
                        if changed.is_err() {
                            session_stop.cancelled().await;
                            return false;
                        }
                        let new = Arc::clone(&config_rx.borrow());
                        if needs_restart(&connector, &new, options.endpoint_url.as_deref()) {
                            info!("config changed the connection, stream or disabled: restarting the session");
                            session_stop.cancel();
                            return true;
                        }
                        let live = Live::from(new.as_ref());
                        info!(records_per_second = live.records_per_second, bytes_per_second = live.bytes_per_second,
                              method_id = ?live.method_id, "config changed: applied live");
                        let _ = live_tx.send(live);
                    }
                }
            }
        };
        let (result, restart) = tokio::join!(session, supervise);
        total.merge(result?);
        if !restart || shutdown.is_cancelled() {
            return Ok(total);
        }
    }
}

/// One session against one stream with one connection.
pub async fn run_session<A: KinesisApi>(
    api: A,
    connector: &Connector,
    options: &ConsumeOptions,
    output: &mut dyn Write,
    stop: CancellationToken,
    live: watch::Receiver<Live>,
) -> Result<Summary, ConsumeError> {
    let span = info_span!("consume", connector_id = %connector.id, stream = %connector.stream);
    async {
        let store = CheckpointStore::new(options.checkpoint_path(connector));
        let _lock = store.lock()?;
        let saved = store.load()?;
        info!(checkpoints = %store.path().display(), resumed = saved.is_some(), "starting");
        let method = load_method(connector, options)?;
        let (events_tx, events_rx) = mpsc::channel(64);
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let failure = SessionFailure::default();
        let coordinator = coordinator::Coordinator {
            api,
            stream: Arc::from(connector.stream.as_str()),
            from: options.from,
            checkpoints: saved.as_ref().map(|c| c.shards.clone()),
            events: events_tx,
            finished_rx,
            live: live.clone(),
            stop: stop.clone(),
            failure: failure.clone(),
            refresh: options.shard_refresh,
            idle_poll: options.idle_poll,
        };
        let writer = writer::Writer {
            events: events_rx,
            pipeline: Pipeline::new(method),
            output,
            dead_letter: DeadLetter::new(options.dead_letter_path(connector)),
            store,
            checkpoints: saved.unwrap_or(Checkpoints {
                version: 1,
                ..Checkpoints::default()
            }),
            finished_tx,
            stop: stop.clone(),
            idle_timeout: options.idle_timeout,
            stats_interval: options.stats_interval,
            live,
            methods_dir: options.methods_dir.clone(),
            method_limits: options.method_limits,
        };
        let ((), written) = tokio::join!(coordinator.run(), writer.run());
        let summary = written?;
        if let Some(message) = failure.take() {
            return Err(ConsumeError::Kinesis(message));
        }
        Ok(summary)
    }
    .instrument(span)
    .await
}

/// The default state directory: `$XDG_STATE_HOME/kinesis-connector`, else
/// `~/.local/state/kinesis-connector`, else `./.kinesis-connector`.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Path::new(&dir).join("kinesis-connector");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return Path::new(&home).join(".local/state/kinesis-connector");
    }
    PathBuf::from(".kinesis-connector")
}
