//! The consume side of the lease table: a coordinator that follows the "shards I own now" feed
//! (one reader per owned shard whose parents are done; a reader stops at once when its lease
//! goes), and the checkpoint sink the writer saves through.

use super::manager::{Checkpointed, Leases, Owned};
use super::table::{LeaseError, LeaseTable, Position};
use crate::checkpoint::{CheckpointError, CheckpointSink, Checkpoints, ShardCheckpoint};
use crate::consume::reader::{ReaderExit, ShardReader};
use crate::consume::{Event, Live, SessionFailure};
use crate::kinesis::{KinesisApi, StartAt};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, info_span, warn, Instrument};

pub(crate) struct Follower<A: KinesisApi> {
    pub api: A,
    pub stream: Arc<str>,
    pub owned: watch::Receiver<Owned>,
    pub events: mpsc::Sender<Event>,
    pub finished_rx: mpsc::UnboundedReceiver<String>,
    pub live: watch::Receiver<Live>,
    pub stop: CancellationToken,
    pub failure: SessionFailure,
    pub idle_poll: Duration,
    /// `--efo`: readers subscribe instead of polling.
    pub fan_out: Option<crate::efo::FanOut>,
    /// Called when a shard has been read to its end (its children may now get leases).
    pub on_finished: Box<dyn Fn() + Send>,
}

impl<A: KinesisApi> Follower<A> {
    pub async fn run(mut self) {
        let tracker = TaskTracker::new();
        let mut running: BTreeMap<String, CancellationToken> = BTreeMap::new();
        let mut done: BTreeSet<String> = BTreeSet::new();
        loop {
            let owned = self.owned.borrow_and_update().clone();
            let mut stopped = Vec::new();
            running.retain(|shard, token| {
                let keep = owned.contains_key(shard);
                if !keep {
                    token.cancel();
                    info!(shard_id = %shard, "stopped reading the shard (lease no longer held)");
                    stopped.push(Arc::<str>::from(shard.as_str()));
                }
                keep
            });
            let starting: Vec<Arc<str>> = owned
                .iter()
                .filter(|(shard, grant)| {
                    grant.ready && !running.contains_key(*shard) && !done.contains(*shard)
                })
                .map(|(shard, _)| Arc::from(shard.as_str()))
                .collect();
            // The writer's "caught up" (--idle-timeout) follows what is read here: shards that
            // went, then the ones about to start (before their readers send anything).
            for shard in stopped {
                let _ = self.events.send(Event::Stopped { shard }).await;
            }
            let _ = self
                .events
                .send(Event::Listed {
                    started: starting,
                    finished_seen: done.len() as u64,
                })
                .await;
            for (shard, grant) in &owned {
                if !grant.ready || running.contains_key(shard) || done.contains(shard) {
                    continue;
                }
                let (default_start, checkpoint) = match &grant.checkpoint {
                    Position::Sequence(sequence) => (
                        StartAt::Oldest,
                        Some(ShardCheckpoint {
                            sequence_number: Some(sequence.clone()),
                            sub_sequence_number: Some(grant.sub_sequence),
                            finished: false,
                        }),
                    ),
                    Position::Latest => (StartAt::Latest, None),
                    Position::AtTimestamp => {
                        warn!(shard_id = %shard, "AT_TIMESTAMP checkpoint without its timestamp: reading from the oldest record");
                        (StartAt::Oldest, None)
                    }
                    Position::TrimHorizon | Position::ShardEnd => (StartAt::Oldest, None),
                };
                let token = self.stop.child_token();
                let reader = ShardReader {
                    api: self.api.clone(),
                    stream: Arc::clone(&self.stream),
                    shard: Arc::from(shard.as_str()),
                    default_start,
                    checkpoint,
                    events: self.events.clone(),
                    live: self.live.clone(),
                    stop: token.clone(),
                    failure: self.failure.clone(),
                    idle_poll: self.idle_poll,
                    fan_out: self.fan_out.clone(),
                };
                let session = self.stop.clone();
                let span = info_span!("shard", shard_id = %shard);
                tracker.spawn(
                    async move {
                        // A reader's fatal error ends the session, as without leases.
                        if reader.run().await == ReaderExit::Failed {
                            session.cancel();
                        }
                    }
                    .instrument(span),
                );
                running.insert(shard.clone(), token);
            }
            tokio::select! {
                _ = self.stop.cancelled() => break,
                changed = self.owned.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                finished = self.finished_rx.recv() => {
                    if let Some(shard) = finished {
                        running.remove(&shard);
                        done.insert(shard);
                        (self.on_finished)();
                    }
                }
            }
        }
        tracker.close();
        tracker.wait().await;
    }
}

/// The writer's checkpoints, written to the lease table (conditional on owner and counter).
pub(crate) struct LeaseSink<T: LeaseTable> {
    pub leases: Leases<T>,
    pub table: String,
    /// What was last attempted per shard: a shard whose lease was lost is never written again
    /// with an old position, even if we take its lease back later.
    pub attempted: BTreeMap<String, ShardCheckpoint>,
}

impl<T: LeaseTable> LeaseSink<T> {
    async fn save_all(&mut self, checkpoints: &Checkpoints) -> Result<bool, CheckpointError> {
        let mut all = true;
        for (shard, checkpoint) in &checkpoints.shards {
            if self.attempted.get(shard) == Some(checkpoint) {
                continue;
            }
            let (position, sub) = if checkpoint.finished {
                (Position::ShardEnd, 0)
            } else if let Some(sequence) = &checkpoint.sequence_number {
                (
                    Position::Sequence(sequence.clone()),
                    checkpoint.sub_sequence_number.unwrap_or(0),
                )
            } else {
                continue;
            };
            match self.leases.checkpoint(shard, position, sub).await {
                Ok(Checkpointed::Written | Checkpointed::NotHeld | Checkpointed::Lost) => {
                    self.attempted.insert(shard.clone(), checkpoint.clone());
                }
                Err(error) if error.is_retryable() => {
                    warn!(shard_id = %shard, error = %error, "checkpoint not written; retrying after the next flush");
                    all = false;
                }
                Err(
                    source @ (LeaseError::Credentials(_)
                    | LeaseError::Fatal(_)
                    | LeaseError::NoTable(_)),
                ) => {
                    return Err(CheckpointError::Lease {
                        table: self.table.clone(),
                        source,
                    })
                }
                Err(other) => {
                    warn!(shard_id = %shard, error = %other, "checkpoint not written");
                    all = false;
                }
            }
        }
        Ok(all)
    }
}

impl<T: LeaseTable> CheckpointSink for LeaseSink<T> {
    fn save<'a>(
        &'a mut self,
        checkpoints: &'a Checkpoints,
    ) -> Pin<Box<dyn Future<Output = Result<bool, CheckpointError>> + Send + 'a>> {
        Box::pin(self.save_all(checkpoints))
    }
}
