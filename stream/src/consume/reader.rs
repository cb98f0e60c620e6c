//! One shard's read loop: GetRecords within the shard's budget, retries, iterator recovery.

use super::{Event, Live, SessionFailure};
use crate::backoff::Backoff;
use crate::checkpoint::ShardCheckpoint;
use crate::efo::FanOut;
use crate::kinesis::{ApiError, KinesisApi, StartAt, StreamError};
use crate::ratelimit::ShardBudget;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub(crate) struct ShardReader<A: KinesisApi> {
    pub api: A,
    pub stream: Arc<str>,
    pub shard: Arc<str>,
    /// Where to start when there is no checkpoint.
    pub default_start: StartAt,
    pub checkpoint: Option<ShardCheckpoint>,
    pub events: mpsc::Sender<Event>,
    pub live: watch::Receiver<Live>,
    pub stop: CancellationToken,
    pub failure: SessionFailure,
    /// How long to wait before polling again once the shard is caught up and quiet.
    pub idle_poll: Duration,
    /// `--efo`: read through SubscribeToShard instead of polling GetRecords.
    pub fan_out: Option<FanOut>,
}

/// Why `ShardReader::run` returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReaderExit {
    Stopped,
    ShardEnded,
    Failed,
}

impl<A: KinesisApi> ShardReader<A> {
    pub async fn run(mut self) -> ReaderExit {
        let exit = match self.fan_out.clone() {
            Some(fan_out) => self.subscribe(fan_out).await,
            None => self.read().await,
        };
        if let Err(error) = &exit {
            warn!(error = %error, "shard reader failed; stopping the consumer");
            self.failure.set(StreamError::Shard {
                stream: self.stream.to_string(),
                shard: self.shard.to_string(),
                source: error.clone(),
            });
            self.stop.cancel();
            return ReaderExit::Failed;
        }
        exit.unwrap_or(ReaderExit::Failed)
    }

    async fn read(&mut self) -> Result<ReaderExit, ApiError> {
        // Resume at the checkpointed record: it is re-read, and the part already handled is skipped
        // (the whole record, or the user records up to the saved sub-sequence number).
        let (start, mut skip) = match self
            .checkpoint
            .as_ref()
            .and_then(|c| c.sequence_number.clone())
        {
            Some(seq) => {
                let sub = self.checkpoint.as_ref().and_then(|c| c.sub_sequence_number);
                (StartAt::AtSequence(seq.clone()), Some((seq, sub)))
            }
            None => (self.default_start.clone(), None),
        };
        info!(start = ?start, "reading shard");
        let Some(mut iterator) = self.iterator(&start).await? else {
            return Ok(ReaderExit::Stopped);
        };
        let (rec_rate, byte_rate) = self.rates();
        let mut budget = ShardBudget::new(rec_rate, byte_rate);
        let mut backoff = Backoff::for_kinesis();
        // The last sequence number handed to the writer: where to recover an expired iterator.
        let mut last_sequence: Option<String> = None;
        // Whether the writer was last told this shard is at the tip.
        let mut told_at_tip = false;
        loop {
            if self.live.has_changed().unwrap_or(false) {
                let (r, b) = self.rates();
                budget.set_rates(r, b);
                debug!(
                    records_per_second = r,
                    bytes_per_second = b,
                    "read budget changed"
                );
            }
            let delay = budget.delay_before_call();
            if !delay.is_zero() {
                // A live rate change (config --watch) cuts a long wait short.
                let live_open = self.live.has_changed().is_ok();
                tokio::select! {
                    _ = self.stop.cancelled() => return Ok(ReaderExit::Stopped),
                    _ = tokio::time::sleep(delay) => {}
                    changed = self.live.changed(), if live_open => {
                        if changed.is_ok() {
                            let (r, b) = self.rates();
                            budget.set_rates(r, b);
                        }
                        continue;
                    }
                }
            }
            let limit = budget.call_limit();
            let result = tokio::select! {
                _ = self.stop.cancelled() => return Ok(ReaderExit::Stopped),
                result = self.api.get_records(&iterator, limit) => result,
            };
            let page = match result {
                Ok(page) => page,
                Err(ApiError::ExpiredIterator) => {
                    if std::mem::take(&mut told_at_tip) && !self.behind().await {
                        return Ok(ReaderExit::Stopped);
                    }
                    let recover = match &last_sequence {
                        Some(seq) => StartAt::AfterSequence(seq.clone()),
                        None => start.clone(),
                    };
                    info!(from = ?recover, "shard iterator expired; getting a new one");
                    match self.iterator(&recover).await? {
                        Some(fresh) => iterator = fresh,
                        None => return Ok(ReaderExit::Stopped),
                    }
                    continue;
                }
                Err(error) if error.is_retryable() => {
                    if std::mem::take(&mut told_at_tip) && !self.behind().await {
                        return Ok(ReaderExit::Stopped);
                    }
                    budget.record_call(0, 0);
                    let delay = backoff.next_delay();
                    debug!(error = %error, attempt = backoff.attempts(), delay_ms = delay.as_millis() as u64, "retrying GetRecords");
                    if !self.sleep(delay).await {
                        return Ok(ReaderExit::Stopped);
                    }
                    continue;
                }
                Err(error) => return Err(error),
            };
            backoff.reset();
            let bytes: u64 = page.records.iter().map(|r| r.data.len() as u64).sum();
            budget.record_call(page.records.len() as u64, bytes);
            let mut records = page.records;
            let mut skip_through = None;
            if let Some((seq, sub)) = skip.take() {
                match sub {
                    Some(sub) => skip_through = Some((seq, sub)),
                    None => records.retain(|r| r.sequence_number != seq),
                }
            }
            let quiet = records.is_empty() && page.millis_behind_latest.unwrap_or(0) == 0;
            told_at_tip = quiet;
            if let Some(last) = records.last() {
                last_sequence = Some(last.sequence_number.clone());
            }
            let event = Event::Records {
                shard: Arc::clone(&self.shard),
                records,
                skip_through,
                millis_behind_latest: page.millis_behind_latest,
                at_tip: quiet,
            };
            if !self.send(event).await {
                return Ok(ReaderExit::Stopped);
            }
            match page.next_iterator {
                Some(next) => iterator = next,
                None => {
                    info!("shard closed and read to its end");
                    self.send(Event::ShardEnd {
                        shard: Arc::clone(&self.shard),
                    })
                    .await;
                    return Ok(ReaderExit::ShardEnded);
                }
            }
            if quiet && !self.sleep(self.idle_poll).await {
                return Ok(ReaderExit::Stopped);
            }
        }
    }

    pub(super) fn rates(&mut self) -> (u64, u64) {
        let live = self.live.borrow_and_update();
        (live.records_per_second, live.bytes_per_second)
    }

    /// A shard iterator, retrying throttling and transient errors; `None` when stopped.
    async fn iterator(&self, start: &StartAt) -> Result<Option<String>, ApiError> {
        let mut backoff = Backoff::for_kinesis();
        loop {
            let result = tokio::select! {
                _ = self.stop.cancelled() => return Ok(None),
                result = self.api.shard_iterator(&self.stream, &self.shard, start) => result,
            };
            match result {
                Ok(iterator) => return Ok(Some(iterator)),
                Err(error) if error.is_retryable() => {
                    let delay = backoff.next_delay();
                    debug!(error = %error, delay_ms = delay.as_millis() as u64, "retrying GetShardIterator");
                    if !self.sleep(delay).await {
                        return Ok(None);
                    }
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Sleeps unless stopped first; false when stopped.
    pub(super) async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            _ = self.stop.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    /// Tells the writer this shard is no longer known to be at the tip; false when stopped.
    pub(super) async fn behind(&self) -> bool {
        self.send(Event::Behind {
            shard: Arc::clone(&self.shard),
        })
        .await
    }

    /// Hands an event to the writer unless stopped first; false when stopped.
    pub(super) async fn send(&self, event: Event) -> bool {
        tokio::select! {
            _ = self.stop.cancelled() => false,
            sent = self.events.send(event) => sent.is_ok(),
        }
    }
}
