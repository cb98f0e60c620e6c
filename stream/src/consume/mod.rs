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
pub mod output;
pub(crate) mod reader;
mod subscribe;
#[cfg(test)]
mod tests;
mod tip;
pub(crate) mod writer;

pub use writer::WriteError;

use crate::checkpoint::{CheckpointError, CheckpointStore, Checkpoints};
use crate::deadletter::DeadLetter;
use crate::kinesis::{Connection, KinesisApi, KinesisRecord, StreamError};
use crate::method::MethodError;
use crate::session::paths::Side;
use crate::session::reach::Target;
use crate::session::{announce_disabled, ConfigFeed, StreamOptions};
use kinesis_connector::{Connector, Effects};
use output::{Counts, Pipeline};
use std::io::Write;
use std::path::PathBuf;
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
    pub common: StreamOptions,
    pub from: StartFrom,
    pub idle_timeout: Option<Duration>,
    /// How often shards are listed again to discover new ones.
    pub shard_refresh: Duration,
    /// How long a caught-up shard waits before polling again.
    pub idle_poll: Duration,
    /// `--lease-table`: shards and checkpoints come from a KCL lease table instead of the file.
    pub lease: Option<crate::lease::LeaseOptions>,
    /// `--efo NAME`: read through enhanced fan-out as this stream consumer.
    pub efo: Option<EfoOptions>,
    /// `--metrics-addr HOST:PORT`: serve Prometheus text metrics there.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// Serves `metrics` on `addr` until `stop` (none without an address); the server's task.
pub(crate) async fn serve_metrics(
    addr: Option<std::net::SocketAddr>,
    metrics: &crate::metrics::Metrics,
    stop: &CancellationToken,
) -> Result<Option<tokio::task::JoinHandle<()>>, ConsumeError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ConsumeError::MetricsAddr { addr, source })?;
    Ok(Some(tokio::spawn(
        metrics.clone().serve(listener, stop.clone()),
    )))
}

/// `consume --efo NAME [--efo-deregister]`.
#[derive(Debug, Clone)]
pub struct EfoOptions {
    pub name: String,
    /// Remove the stream consumer when the session ends.
    pub deregister: bool,
    /// A subscription silent for this long is subscribed again.
    pub silence_timeout: Duration,
}

impl EfoOptions {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            deregister: false,
            silence_timeout: crate::efo::DEFAULT_SILENCE_TIMEOUT,
        }
    }

    /// This session's fan-out, on the session's client.
    fn fan_out(&self, api: &crate::kinesis::SdkKinesis, stream: &str) -> crate::efo::FanOut {
        let sdk = crate::efo::SdkFanOut {
            client: api.sdk_client().clone(),
        };
        let mut fan_out = crate::efo::FanOut::new(Arc::new(sdk), stream, &self.name);
        fan_out.silence_timeout = self.silence_timeout;
        fan_out
    }
}

impl ConsumeOptions {
    pub fn new(state_dir: PathBuf) -> Self {
        Self::with(StreamOptions::new(state_dir))
    }

    /// The defaults around the shared options.
    pub fn with(common: StreamOptions) -> Self {
        Self {
            common,
            from: StartFrom::Oldest,
            idle_timeout: None,
            shard_refresh: Duration::from_secs(10),
            idle_poll: Duration::from_millis(500),
            lease: None,
            efo: None,
            metrics_addr: None,
        }
    }

    pub fn checkpoint_path(&self, connector: &Connector) -> PathBuf {
        self.common.checkpoint_path(connector)
    }

    pub fn dead_letter_path(&self, connector: &Connector) -> PathBuf {
        self.common.dead_letter_path(connector, Side::Consume)
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
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Method(#[from] MethodError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Lease(#[from] crate::lease::LeaseError),
    #[error("cannot serve metrics on {addr}")]
    MetricsAddr {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
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

/// What shard readers (and the coordinator) hand to the writer.
#[derive(Debug)]
pub(crate) enum Event {
    /// The stream answered its first ListShards: the idle timeout counts from here.
    Reached,
    Records {
        shard: Arc<str>,
        records: Vec<KinesisRecord>,
        /// Resuming inside an aggregated record: skip its user records up to this sub-sequence.
        skip_through: Option<(String, u64)>,
        millis_behind_latest: Option<i64>,
        /// The page was empty with `MillisBehindLatest` 0: the shard is at the tip.
        at_tip: bool,
    },
    /// A call for the shard failed and is being retried: it is not known to be at the tip.
    Behind { shard: Arc<str> },
    /// The coordinator listed the shards and starts these readers next (sent before they
    /// start), having seen `finished_seen` finished shards.
    Listed {
        started: Vec<Arc<str>>,
        finished_seen: u64,
    },
    /// The (closed) shard has been read to its end; sent after its last records.
    ShardEnd { shard: Arc<str> },
    /// The shard is no longer read here (its lease went to another worker): it no longer
    /// counts for "caught up".
    Stopped { shard: Arc<str> },
}

/// The first fatal error of a session (a reader or the coordinator sets it and stops the session).
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionFailure(Arc<Mutex<Option<StreamError>>>);

impl SessionFailure {
    pub fn set(&self, error: StreamError) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(error);
        }
    }

    pub(crate) fn take(&self) -> Option<StreamError> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Consumes until `shutdown` is cancelled, the idle timeout passes, or a fatal error.
pub async fn run(
    connector: Connector,
    options: ConsumeOptions,
    output: &mut dyn Write,
    shutdown: CancellationToken,
) -> Result<Summary, ConsumeError> {
    let watching = options.common.watch;
    let mut feed = ConfigFeed::start(connector, &options.common, &shutdown);
    let config_rx = &mut feed.rx;
    let mut total = Summary::default();
    // Only the first session's stream must answer within the connect timeout; after a config
    // change a stream that is down is waited for, as an outage is.
    let mut connect_timeout = Some(options.common.connect_timeout);
    loop {
        let connector = Arc::clone(&config_rx.borrow_and_update());
        if connector.disabled {
            announce_disabled(&connector, watching);
            if !watching {
                return Ok(total);
            }
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
        let connection =
            Connection::from_connector(&connector, options.common.endpoint_url.as_deref());
        let api = connection.client().await;
        let fan_out = options
            .efo
            .as_ref()
            .map(|efo| efo.fan_out(&api, &connector.stream));
        let session = async {
            let result = match &options.lease {
                Some(lease) => {
                    let table = lease.connect(&connection).await;
                    crate::lease::run_session(
                        api,
                        fan_out.clone(),
                        table,
                        lease,
                        &connector,
                        &options,
                        output,
                        session_stop.clone(),
                        live_rx,
                        connect_timeout.take(),
                    )
                    .await
                }
                None => {
                    run_session(
                        api,
                        fan_out.clone(),
                        &connector,
                        &options,
                        output,
                        session_stop.clone(),
                        live_rx,
                        connect_timeout.take(),
                    )
                    .await
                }
            };
            // A session that ended by itself (an unreadable checkpoint file at its start, too)
            // ends the supervision of its config as well, or the command would wait for a signal.
            session_stop.cancel();
            if let (Some(fan_out), Some(efo)) = (&fan_out, &options.efo) {
                if efo.deregister {
                    fan_out.deregister().await;
                }
            }
            result
        };
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
                        let effects = Effects::between(&connector, &new);
                        if effects.needs_new_session() {
                            info!(?effects, "config change needs a new session: restarting");
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
#[allow(clippy::too_many_arguments)]
pub async fn run_session<A: KinesisApi>(
    api: A,
    fan_out: Option<crate::efo::FanOut>,
    connector: &Connector,
    options: &ConsumeOptions,
    output: &mut dyn Write,
    stop: CancellationToken,
    live: watch::Receiver<Live>,
    connect_timeout: Option<Duration>,
) -> Result<Summary, ConsumeError> {
    let span = info_span!("consume", connector_id = %connector.id, stream = %connector.stream);
    async {
        let store = CheckpointStore::new(options.checkpoint_path(connector));
        let _lock = store.lock()?;
        let saved = if options.common.discard_corrupt_state {
            store.load_or_discard_corrupt()?
        } else {
            store.load()?
        };
        info!(checkpoints = %store.path().display(), resumed = saved.is_some(), "starting");
        let method = options.common.load_method(connector)?;
        let metrics = crate::metrics::Metrics::new();
        let metrics_server = serve_metrics(options.metrics_addr, &metrics, &stop).await?;
        let (events_tx, events_rx) = mpsc::channel(64);
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let failure = SessionFailure::default();
        let coordinator = coordinator::Coordinator {
            api,
            target: Target::of(connector),
            stream: Arc::from(connector.stream.as_str()),
            connect_timeout,
            from: options.from,
            checkpoints: saved.as_ref().map(|c| c.shards.clone()),
            events: events_tx,
            finished_rx,
            live: live.clone(),
            stop: stop.clone(),
            failure: failure.clone(),
            refresh: options.shard_refresh,
            idle_poll: options.idle_poll,
            fan_out,
        };
        let writer = writer::Writer {
            events: events_rx,
            pipeline: Pipeline::new(method),
            output,
            dead_letter: DeadLetter::new(options.dead_letter_path(connector)),
            store: Box::new(store),
            checkpoints: saved.unwrap_or(Checkpoints {
                version: 1,
                ..Checkpoints::default()
            }),
            finished_tx,
            stop: stop.clone(),
            idle_timeout: options.idle_timeout,
            live,
            options: &options.common,
            metrics: metrics_server.is_some().then(|| metrics.clone()),
        };
        let ((), written) = tokio::join!(coordinator.run(), writer.run());
        if let Some(server) = metrics_server {
            server.abort();
        }
        let summary = written?;
        if let Some(error) = failure.take() {
            return Err(ConsumeError::Stream(error));
        }
        Ok(summary)
    }
    .instrument(span)
    .await
}
