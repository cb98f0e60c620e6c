//! `consume --lease-table NAME`: several workers share one stream through a DynamoDB lease
//! table in the format and with the protocol of AWS's Kinesis Client Library.
//!
//! ```text
//!  Leases::run (manager.rs: sync, renew, take/steal, clean up) ──► table.rs (trait)
//!       │ watch: the shards I own now                               └─ dynamo.rs (SDK)
//!       ▼
//!  Follower (follow.rs): one ShardReader per owned, ready shard ──► Writer ──► LeaseSink
//!                                                  (flush, then a conditional checkpoint)
//! ```
//! The consume pipeline is the same as without leases (readers, writer, output); only who
//! decides which shards to read (the feed instead of ListShards) and where checkpoints go (the
//! table instead of the file) change.

pub mod dynamo;
mod follow;
pub mod manager;
pub mod table;
#[cfg(test)]
mod tests;

pub use manager::{Grant, LeaseSettings, Leases, Owned, DEFAULT_FAILOVER};
pub use table::{Lease, LeaseError, LeaseTable, Position};

use crate::checkpoint::Checkpoints;
use crate::consume::output::Pipeline;
use crate::consume::writer::Writer;
use crate::consume::{
    ConsumeError, ConsumeOptions, Event, Live, SessionFailure, StartFrom, Summary,
};
use crate::deadletter::DeadLetter;
use crate::kinesis::{Connection, KinesisApi};
use crate::metrics::Metrics;
use crate::session::reach::{reach, Target};
use kinesis_connector::Connector;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, info_span, Instrument};

/// The lease options of `consume`.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    pub table: String,
    pub worker_id: String,
    pub failover: Duration,
    /// `--dynamodb-endpoint-url`; else `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
}

impl LeaseOptions {
    pub fn new(table: &str) -> Self {
        Self {
            table: table.to_owned(),
            worker_id: default_worker_id(),
            failover: DEFAULT_FAILOVER,
            endpoint_url: None,
        }
    }

    /// The DynamoDB endpoint, following the SDK's conventions.
    pub fn dynamodb_endpoint(&self) -> Option<String> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        self.endpoint_url
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_DYNAMODB"))
            .or_else(|| env("AWS_ENDPOINT_URL"))
    }

    /// The table through the SDK, with the connector's credentials and region.
    pub async fn connect(&self, connection: &Connection) -> dynamo::DynamoLeaseTable {
        let config = connection.sdk_config(self.dynamodb_endpoint(), None).await;
        dynamo::DynamoLeaseTable::new(aws_sdk_dynamodb::Client::new(&config), &self.table)
    }
}

/// Host name, process id and a random suffix (KCL's default is a random UUID; the host and pid
/// make the table readable).
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

/// One consume session whose shards and checkpoints come from the lease table.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_session<A: KinesisApi, T: LeaseTable>(
    api: A,
    fan_out: Option<crate::efo::FanOut>,
    table: T,
    lease: &LeaseOptions,
    connector: &Connector,
    options: &ConsumeOptions,
    output: &mut dyn Write,
    stop: CancellationToken,
    live: watch::Receiver<Live>,
    connect_timeout: Option<Duration>,
) -> Result<Summary, ConsumeError> {
    let span = info_span!("consume", connector_id = %connector.id, stream = %connector.stream,
                          lease_table = %lease.table, worker_id = %lease.worker_id);
    async {
        let stream: Arc<str> = Arc::from(connector.stream.as_str());
        let target = Target::of(connector);
        if let Some(timeout) = connect_timeout {
            // The stream must answer within the connect timeout, as without leases.
            if reach(&target, timeout, &stop, || api.list_shards(&stream))
                .await?
                .is_none()
            {
                return Ok(Summary::default());
            }
        }
        let metrics = Metrics::new();
        let metrics_server =
            crate::consume::serve_metrics(options.metrics_addr, &metrics, &stop).await?;
        let settings = LeaseSettings {
            worker_id: lease.worker_id.clone(),
            failover: lease.failover,
            shard_sync: options.shard_refresh,
            start_latest: options.from == StartFrom::Latest,
            connect_timeout,
        };
        info!(
            failover_seconds = lease.failover.as_secs_f64(),
            "starting with the lease table"
        );
        let leases = Leases::new(table, settings, metrics.clone());
        let method = options.common.load_method(connector)?;
        let (events_tx, events_rx) = mpsc::channel(64);
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let failure = SessionFailure::default();
        let sync = leases.clone();
        let follower = follow::Follower {
            api: api.clone(),
            stream: Arc::clone(&stream),
            owned: leases.subscribe(),
            events: events_tx.clone(),
            finished_rx,
            live: live.clone(),
            stop: stop.clone(),
            failure: failure.clone(),
            idle_poll: options.idle_poll,
            fan_out,
            on_finished: Box::new(move || sync.request_sync()),
        };
        let writer = Writer {
            events: events_rx,
            pipeline: Pipeline::new(method),
            output,
            dead_letter: DeadLetter::new(options.dead_letter_path(connector)),
            store: Box::new(follow::LeaseSink {
                leases: leases.clone(),
                table: lease.table.clone(),
                attempted: BTreeMap::new(),
            }),
            checkpoints: Checkpoints {
                version: 1,
                ..Checkpoints::default()
            },
            finished_tx,
            stop: stop.clone(),
            idle_timeout: options.idle_timeout,
            live,
            options: &options.common,
            metrics: Some(metrics),
        };
        let reached = events_tx.clone();
        let manager = async {
            let result = leases
                .run(api.clone(), Arc::clone(&stream), stop.clone(), move || {
                    let _ = reached.try_send(Event::Reached);
                })
                .await;
            if result.is_err() {
                stop.cancel();
            }
            drop(events_tx);
            result
        };
        let (managed, (), written) = tokio::join!(manager, follower.run(), writer.run());
        // Flushed and checkpointed: now the leases go, so the others need not wait out the
        // failover time.
        leases.release_all().await;
        if let Some(server) = metrics_server {
            server.abort();
        }
        let summary = written?;
        managed?;
        if let Some(error) = failure.take() {
            return Err(ConsumeError::Stream(error));
        }
        Ok(summary)
    }
    .instrument(span)
    .await
}
