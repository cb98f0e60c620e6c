//! Shard discovery: lists the stream's shards, starts a reader for every shard whose parents have
//! been read to their end (so after a split or merge, records of one partition key come out in
//! order), and looks again when a shard ends or every `refresh` interval.

use super::reader::ShardReader;
use super::{Event, Live, SessionFailure, StartFrom};
use crate::backoff::Backoff;
use crate::checkpoint::ShardCheckpoint;
use crate::kinesis::{KinesisApi, ShardInfo, StartAt};
use crate::session::reach::{reach, Target};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, info_span, warn, Instrument};

pub(crate) struct Coordinator<A: KinesisApi> {
    pub api: A,
    pub target: Target,
    pub stream: Arc<str>,
    /// The first listing must succeed within this time (the session's first contact).
    pub connect_timeout: Option<Duration>,
    pub from: StartFrom,
    /// The saved checkpoints; `None` when this stream was never consumed here before.
    pub checkpoints: Option<BTreeMap<String, ShardCheckpoint>>,
    pub events: mpsc::Sender<Event>,
    /// Shards the writer has flushed to their end (and checkpointed as finished).
    pub finished_rx: mpsc::UnboundedReceiver<String>,
    pub live: watch::Receiver<Live>,
    pub stop: CancellationToken,
    pub failure: SessionFailure,
    pub refresh: Duration,
    pub idle_poll: Duration,
    /// `--efo`: readers subscribe instead of polling.
    pub fan_out: Option<crate::efo::FanOut>,
}

impl<A: KinesisApi> Coordinator<A> {
    pub async fn run(mut self) {
        let tracker = TaskTracker::new();
        let saved = self.checkpoints.take();
        let first_run = saved.is_none();
        let saved = saved.unwrap_or_default();
        let mut finished: BTreeSet<String> = saved
            .iter()
            .filter(|(_, c)| c.finished)
            .map(|(id, _)| id.clone())
            .collect();
        let mut started: BTreeSet<String> = BTreeSet::new();
        // Finished shards received from the writer (the idle timeout waits for a listing after
        // the last of them, as children may start).
        let mut finished_seen = 0u64;
        let mut initial_listing = true;
        loop {
            let shards = if initial_listing {
                self.first_list().await
            } else {
                self.list().await
            };
            let Some(shards) = shards else {
                break;
            };
            if initial_listing && first_run && self.from == StartFrom::Latest {
                // `--from latest` on a first run: what is already in closed shards is history.
                finished.extend(shards.iter().filter(|s| s.closed).map(|s| s.id.clone()));
            }
            let listed: BTreeSet<&str> = shards.iter().map(|s| s.id.as_str()).collect();
            let mut to_start = Vec::new();
            for shard in &shards {
                if started.contains(&shard.id) || finished.contains(&shard.id) {
                    continue;
                }
                // A parent that is no longer listed has aged out of the stream's retention.
                let ready = shard
                    .parents()
                    .all(|p| finished.contains(p) || !listed.contains(p));
                if !ready {
                    debug!(shard_id = %shard.id, "waiting for parent shards to be read to their end");
                    continue;
                }
                started.insert(shard.id.clone());
                let default_start =
                    if initial_listing && first_run && self.from == StartFrom::Latest {
                        StartAt::Latest
                    } else {
                        StartAt::Oldest
                    };
                to_start.push((shard, default_start));
            }
            // The writer learns which shards are owned before their readers send anything.
            let listed_event = Event::Listed {
                started: to_start
                    .iter()
                    .map(|(s, _)| Arc::from(s.id.as_str()))
                    .collect(),
                finished_seen,
            };
            tokio::select! {
                _ = self.stop.cancelled() => break,
                sent = self.events.send(listed_event) => if sent.is_err() { break },
            }
            for (shard, default_start) in to_start {
                self.spawn_reader(
                    &tracker,
                    shard,
                    default_start,
                    saved.get(&shard.id).cloned(),
                );
            }
            initial_listing = false;
            // Wait for a shard to finish (its children may now start) or for the next look.
            tokio::select! {
                _ = self.stop.cancelled() => break,
                done = self.finished_rx.recv() => {
                    if let Some(id) = done {
                        finished.insert(id);
                        finished_seen += 1;
                        while let Ok(id) = self.finished_rx.try_recv() {
                            finished.insert(id);
                            finished_seen += 1;
                        }
                    }
                }
                _ = tokio::time::sleep(self.refresh) => {}
            }
        }
        tracker.close();
        tracker.wait().await;
    }

    fn spawn_reader(
        &self,
        tracker: &TaskTracker,
        shard: &ShardInfo,
        start: StartAt,
        checkpoint: Option<ShardCheckpoint>,
    ) {
        let reader = ShardReader {
            api: self.api.clone(),
            stream: Arc::clone(&self.stream),
            shard: Arc::from(shard.id.as_str()),
            default_start: start,
            checkpoint,
            events: self.events.clone(),
            live: self.live.clone(),
            stop: self.stop.clone(),
            failure: self.failure.clone(),
            idle_poll: self.idle_poll,
            fan_out: self.fan_out.clone(),
        };
        let span = info_span!("shard", shard_id = %shard.id);
        tracker.spawn(reader.run().instrument(span));
    }

    /// The first ListShards, within the connect timeout when there is one; tells the writer the
    /// stream was reached.
    async fn first_list(&self) -> Option<Vec<ShardInfo>> {
        let shards = match self.connect_timeout {
            None => self.list().await?,
            Some(timeout) => {
                let stream = Arc::clone(&self.stream);
                let listed = reach(&self.target, timeout, &self.stop, || {
                    self.api.list_shards(&stream)
                })
                .await;
                match listed {
                    Ok(shards) => shards?,
                    Err(error) => {
                        info!(error = %error, "cannot list shards");
                        self.failure.set(error);
                        self.stop.cancel();
                        return None;
                    }
                }
            }
        };
        debug!(count = shards.len(), "listed shards");
        tokio::select! {
            _ = self.stop.cancelled() => return None,
            sent = self.events.send(Event::Reached) => sent.ok()?,
        }
        Some(shards)
    }

    /// ListShards with retries; `None` when stopped or on a fatal error (recorded as the failure).
    async fn list(&self) -> Option<Vec<ShardInfo>> {
        let mut backoff = Backoff::for_kinesis();
        loop {
            let result = tokio::select! {
                _ = self.stop.cancelled() => return None,
                result = self.api.list_shards(&self.stream) => result,
            };
            match result {
                Ok(shards) => {
                    debug!(count = shards.len(), "listed shards");
                    return Some(shards);
                }
                Err(error) if error.is_retryable() => {
                    let delay = backoff.next_delay();
                    warn!(error = %error, delay_ms = delay.as_millis() as u64, "ListShards failed; retrying");
                    tokio::select! {
                        _ = self.stop.cancelled() => return None,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                Err(error) => {
                    let error = self.target.error(error);
                    info!(error = %error, "cannot list shards");
                    self.failure.set(error);
                    self.stop.cancel();
                    return None;
                }
            }
        }
    }
}
