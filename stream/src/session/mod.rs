//! What `consume` and `produce` share around their pipelines: the options both take, the config
//! (loaded at start and by `--watch`, one function), the bounded first contact with the stream,
//! the processing method (loaded at start, swapped live), the `disabled` messages, the live
//! stats line and the default paths.
//!
//! What a config change means is the core's answer (`kinesis_connector::Effects`); the commands
//! only act on it.

pub mod config;
pub mod paths;
pub mod reach;

use crate::method::{MethodError, MethodLimits, MethodRunner};
use kinesis_connector::Connector;
use paths::Side;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

/// How long a command tries to reach its stream at start before it gives up (exit 3).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The options `consume` and `produce` both take (embedded in `ConsumeOptions` and
/// `ProduceOptions` as `common`).
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// The config file (re-read with `watch`).
    pub config_path: Option<PathBuf>,
    pub watch: bool,
    pub endpoint_url: Option<String>,
    /// How long the stream may stay unreachable at start.
    pub connect_timeout: Duration,
    pub methods_dir: Option<PathBuf>,
    pub method_limits: MethodLimits,
    /// Local state (checkpoints, default dead-letter files) lives under
    /// `<state_dir>/<connector id>/`.
    pub state_dir: PathBuf,
    /// Default: `paths::dead_letter_file`.
    pub dead_letter: Option<PathBuf>,
    pub stats_interval: Option<Duration>,
    /// A corrupt checkpoint file (consume) or progress record (produce) is moved aside and the
    /// command starts without it, instead of stopping with exit 1.
    pub discard_corrupt_state: bool,
}

impl StreamOptions {
    pub fn new(state_dir: PathBuf) -> Self {
        Self {
            config_path: None,
            watch: false,
            endpoint_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            methods_dir: None,
            method_limits: MethodLimits::default(),
            state_dir,
            dead_letter: None,
            stats_interval: Some(Duration::from_secs(5)),
            discard_corrupt_state: false,
        }
    }

    pub fn dead_letter_path(&self, connector: &Connector, side: Side) -> PathBuf {
        self.dead_letter
            .clone()
            .unwrap_or_else(|| paths::dead_letter_file(&self.state_dir, connector, side))
    }

    pub fn checkpoint_path(&self, connector: &Connector) -> PathBuf {
        paths::checkpoint_file(&self.state_dir, connector)
    }

    /// Loads the method a connector names, if any.
    pub fn load_method(&self, connector: &Connector) -> Result<Option<MethodRunner>, MethodError> {
        let Some(id) = &connector.data_processing_method_id else {
            return Ok(None);
        };
        let dir = self
            .methods_dir
            .as_deref()
            .ok_or_else(|| MethodError::NoMethodsDir(id.clone()))?;
        Ok(Some(MethodRunner::load(dir, id, self.method_limits)?))
    }

    /// Makes `current` the method `wanted` names, after a config change; a method that does not
    /// load is logged and the old one kept.
    pub fn swap_method(&self, current: &mut Option<MethodRunner>, wanted: Option<&str>) {
        if current.as_ref().map(MethodRunner::id) == wanted {
            return;
        }
        let Some(id) = wanted else {
            info!("processing method removed");
            *current = None;
            return;
        };
        let dir = self.methods_dir.as_deref();
        match dir.map(|dir| MethodRunner::load(dir, id, self.method_limits)) {
            Some(Ok(method)) => {
                info!(method_id = %id, "processing method changed");
                *current = Some(method);
            }
            Some(Err(e)) => {
                error!(method_id = %id, error = %e, "new processing method does not load; keeping the old one");
            }
            None => {
                error!(method_id = %id, "config names a processing method but --methods was not given; keeping the old one");
            }
        }
    }
}

/// The running config: the one given at start, then every valid change with `--watch`.
pub struct ConfigFeed {
    pub rx: watch::Receiver<Arc<Connector>>,
    /// Without a watcher the sender is kept here, so `changed()` simply never fires.
    _keep_sender: Option<watch::Sender<Arc<Connector>>>,
}

impl ConfigFeed {
    pub fn start(
        connector: Connector,
        options: &StreamOptions,
        shutdown: &CancellationToken,
    ) -> Self {
        let (tx, rx) = watch::channel(Arc::new(connector));
        let keep = match (&options.config_path, options.watch) {
            (Some(path), true) => {
                tokio::spawn(config::watch_config(path.clone(), tx, shutdown.clone()));
                None
            }
            _ => Some(tx),
        };
        Self {
            rx,
            _keep_sender: keep,
        }
    }
}

/// Says that nothing streams for a disabled connector (and, with `--watch`, that it waits).
pub fn announce_disabled(connector: &Connector, watching: bool) {
    if watching {
        eprintln!(
            "connector {} is disabled: waiting for the config to enable it",
            connector.id
        );
    } else {
        eprintln!("connector {} is disabled: nothing streams", connector.id);
    }
}

/// Records and bytes since the last stats line.
#[derive(Debug)]
pub struct Throughput {
    since: Instant,
    pub records: u64,
    pub bytes: u64,
}

impl Default for Throughput {
    fn default() -> Self {
        Self {
            since: Instant::now(),
            records: 0,
            bytes: 0,
        }
    }
}

impl Throughput {
    pub fn add(&mut self, records: u64, bytes: u64) {
        self.records += records;
        self.bytes += bytes;
    }

    pub fn since(&self) -> Instant {
        self.since
    }

    /// `stats: 1520 records/s, 310.2 KiB/s` over the time since the last line; starts anew.
    pub fn take_line(&mut self) -> String {
        let secs = self.since.elapsed().as_secs_f64().max(0.001);
        let line = format!(
            "stats: {:.0} records/s, {:.1} KiB/s",
            self.records as f64 / secs,
            self.bytes as f64 / secs / 1024.0
        );
        *self = Self::default();
        line
    }
}
