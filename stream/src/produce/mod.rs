//! `produce`: Data Values in (one JSON per line), PutRecords out.
//!
//! ```text
//!  input lines ──► Reader: parse, method, partition key ──(bounded channel)──► Sender
//!                   (non-JSON, method errors → dead letter)        per-shard queues (predicted from
//!                                                                  the hash key ranges), WriteBudget
//!                                                                  per shard, PutRecords ≤ 500 records
//!                                                                  and ≤ 5 MiB, failed entries retried,
//!                                                                  final failures → dead letter
//! ```
//! Both stages run on one thread (`tokio::join!`; the method engine is not `Send`), and so do
//! the up to `max_in_flight` PutRecords requests in flight (a shard in at most one of them).
//! Memory is bounded: the channel holds at most `CHANNEL` records and the sender takes more only
//! while its queues (not counting the requests in flight) are under `queue_records` and
//! `queue_bytes`, so a slow stream stops the reading of the input (backpressure) instead of
//! growing a queue.
//!
//! Every line read ends in exactly one of: sent, filtered (the method returned null), or
//! dead-lettered; `Summary` counts them and `read == sent + filtered + dead_lettered` holds at
//! the end of every run, interrupted or not.

pub mod progress;
mod reader;
mod sender;
mod shards;
#[cfg(test)]
mod tests;

use crate::deadletter::DeadLetterError;
use crate::kinesis::{Connection, ProducerApi, StreamError};
use crate::method::MethodError;
use crate::session::{announce_disabled, ConfigFeed, StreamOptions};
use kinesis_connector::Connector;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufRead;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use shards::ShardMap;

/// Records waiting between the reader and the sender.
const CHANNEL: usize = 64;
/// Kinesis limits: a record's data plus its partition key, and one PutRecords request.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
pub const MAX_REQUEST_BYTES: usize = 5 << 20;
pub const MAX_REQUEST_RECORDS: usize = 500;
/// Partition keys are 1 to 256 Unicode characters.
pub const MAX_PARTITION_KEY_CHARS: usize = 256;
/// The default partition key, and the one tried when it is missing.
pub const DEFAULT_PARTITION_KEY: &str = "/destination/object/id";
pub const FALLBACK_PARTITION_KEY: &str = "/feedId";

#[derive(Debug, Clone)]
pub struct ProduceOptions {
    pub common: StreamOptions,
    /// JSON pointer into the input value; `/feedId` is tried when it finds nothing.
    pub partition_key: String,
    /// PutRecords attempts per record before it is dead-lettered.
    pub max_attempts: u32,
    /// The sender's queues take input only while under both bounds.
    pub queue_records: usize,
    pub queue_bytes: usize,
    /// How long a partly filled batch may wait for the rate budget to admit more records.
    pub linger: Duration,
    /// PutRecords requests in flight at once (a shard is in at most one of them). 1 by
    /// default: against kinesis-mock (CPU-bound, one thread) 2 or 4 measured slower than 1;
    /// more can pay against the real service when its round trip, not the shards, is the limit.
    pub max_in_flight: usize,
    /// `--input FILE`: where its progress record is and where this run starts in the file.
    pub input_progress: Option<progress::InputProgress>,
}

impl ProduceOptions {
    pub fn new(state_dir: PathBuf) -> Self {
        Self::with(StreamOptions::new(state_dir))
    }

    /// The defaults around the shared options.
    pub fn with(common: StreamOptions) -> Self {
        Self {
            common,
            partition_key: DEFAULT_PARTITION_KEY.to_owned(),
            max_attempts: 10,
            queue_records: 4 * MAX_REQUEST_RECORDS,
            queue_bytes: 4 * MAX_REQUEST_BYTES,
            linger: Duration::from_millis(100),
            max_in_flight: 1,
            input_progress: None,
        }
    }
}

/// Per predicted shard: what was sent (to the shard that took it) and what was dead-lettered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardCounts {
    pub sent: u64,
    pub dead_lettered: u64,
}

/// What a produce run did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Non-blank input lines.
    pub read: u64,
    pub filtered: u64,
    pub sent: u64,
    pub dead_lettered: u64,
    /// By shard id; dead letters that never reached a shard (bad input) are under `"-"`.
    pub shards: BTreeMap<String, ShardCounts>,
    pub requests: u64,
    pub seconds: f64,
    /// `--input FILE` continued after this line, done in an earlier run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_after_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_file: Option<PathBuf>,
    /// An error no retry could fix (stream missing, access denied); what it hit is dead-lettered.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_error"
    )]
    pub error: Option<StreamError>,
}

fn serialize_error<S: serde::Serializer>(
    error: &Option<StreamError>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match error {
        Some(error) => serializer.collect_str(error),
        None => serializer.serialize_none(),
    }
}

impl Summary {
    pub fn reconciles(&self) -> bool {
        self.read == self.sent + self.filtered + self.dead_lettered
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error(transparent)]
    Method(#[from] MethodError),
    #[error("cannot read the input")]
    Input(#[source] std::io::Error),
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
    #[error(transparent)]
    Progress(#[from] crate::checkpoint::CheckpointError),
}

/// What the reader hands to the sender.
#[derive(Debug)]
pub(crate) enum Item {
    Record(Prepared),
    /// A complete dead-letter NDJSON line (`deadletter::Entry`) for input line `line` that
    /// never became a record.
    Dead {
        line: u64,
        entry: Vec<u8>,
    },
}

/// A record ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub line: u64,
    pub key: String,
    pub data: Vec<u8>,
}

impl Prepared {
    /// What Kinesis counts against the byte limits: data plus partition key.
    pub fn size(&self) -> usize {
        self.data.len() + self.key.len()
    }
}

/// Produces from `input` until it ends or `shutdown` is cancelled, through the real service.
pub async fn run<R: AsyncBufRead + Unpin>(
    connector: Connector,
    options: ProduceOptions,
    input: R,
    shutdown: CancellationToken,
) -> Result<Summary, ProduceError> {
    let endpoint = options.common.endpoint_url.clone();
    let connect = move |c: Arc<Connector>| {
        let connection = Connection::from_connector(&c, endpoint.as_deref());
        async move { connection.client_without_retries().await }
    };
    run_with(connector, options, input, shutdown, connect).await
}

/// `run` with the way to reach Kinesis given (a fake in the unit tests).
pub async fn run_with<R, A, C, F>(
    connector: Connector,
    options: ProduceOptions,
    input: R,
    shutdown: CancellationToken,
    connect: C,
) -> Result<Summary, ProduceError>
where
    R: AsyncBufRead + Unpin,
    A: ProducerApi,
    C: Fn(Arc<Connector>) -> F,
    F: std::future::Future<Output = A>,
{
    let started = tokio::time::Instant::now();
    let feed = ConfigFeed::start(connector, &options.common, &shutdown);
    let config_rx = feed.rx.clone();
    let first = Arc::clone(&config_rx.borrow());
    if first.disabled {
        announce_disabled(&first, options.common.watch);
        if !options.common.watch {
            return Ok(Summary::default());
        }
    }
    let method = if first.disabled {
        None
    } else {
        options.common.load_method(&first)?
    };
    let tracker = options.input_progress.clone().map(progress::Tracker::new);
    let (tx, rx) = mpsc::channel(CHANNEL);
    // The reader stops at shutdown, or when the sender hits a fatal error.
    let stop_reading = shutdown.child_token();
    let reader = reader::Reader {
        input,
        method,
        options: &options,
        config: config_rx.clone(),
        tx,
        stop: stop_reading.clone(),
        progress: tracker.clone(),
    };
    let sender = sender::Sender::new(
        &options,
        config_rx,
        rx,
        stop_reading,
        connect,
        tracker.clone(),
    );
    let (read, sent) = tokio::join!(reader.run(), sender.run());
    let mut summary = sent?;
    let read = read?;
    if let Some(tracker) = &tracker {
        let (_, all_done) = tracker.mark();
        if read.end_of_input && all_done && summary.error.is_none() {
            tracker.finish()?;
        } else {
            tracker.save(true);
        }
    }
    summary.resumed_after_line = options
        .input_progress
        .as_ref()
        .map(|p| p.start_line)
        .filter(|line| *line > 0);
    summary.read = read.read;
    summary.filtered = read.filtered;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
