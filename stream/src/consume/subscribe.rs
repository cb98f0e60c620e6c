//! One shard's enhanced fan-out loop: SubscribeToShard from the checkpoint (AT_SEQUENCE_NUMBER)
//! or the starting position, then from each event's continuation (AFTER_SEQUENCE_NUMBER) on every
//! re-subscription, as KCL does; the same events to the writer as polling.
//!
//! A subscription ends by itself (after at most 5 minutes on AWS), breaks (a cut connection, an
//! error event), or goes silent past the silence timeout while the lease is still held (a
//! half-open connection): each way, the shard is subscribed again at once, at most once a second
//! (the service's limit per consumer and shard). `ResourceInUseException` (the previous
//! subscription is still winding down on the service's side) and throttling are retried with
//! backoff. The read budget is applied by pausing between events, which holds the connection's
//! flow control back.

use super::reader::{ReaderExit, ShardReader};
use super::Event;
use crate::backoff::Backoff;
use crate::efo::{FanOut, FanOutEvent, MIN_SUBSCRIBE_INTERVAL};
use crate::kinesis::{ApiError, KinesisApi, StartAt};
use crate::ratelimit::ShardBudget;
use std::sync::Arc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// What one subscription ended with.
enum Ended {
    /// It ended, broke or went silent: subscribe again.
    Again,
    /// The shard is read to its end.
    ShardEnd,
    Stopped,
}

impl<A: KinesisApi> ShardReader<A> {
    pub(super) async fn subscribe(&mut self, fan_out: FanOut) -> Result<ReaderExit, ApiError> {
        let Some(mut consumer) = fan_out.consumer_arn(&self.stop).await? else {
            return Ok(ReaderExit::Stopped);
        };
        // Registrations again after the service said it did not know the consumer, since the
        // last subscription that worked (a bound: the shard itself may be what is gone).
        let mut gone: u32 = 0;
        // As in polling: resume at the checkpointed record, skip what was already handled.
        let (mut position, mut skip) = match self
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
        info!(start = ?position, consumer = %fan_out.name, "subscribing to the shard (enhanced fan-out)");
        let (rec_rate, byte_rate) = self.rates();
        let mut budget = ShardBudget::new(rec_rate, byte_rate);
        let mut backoff = Backoff::for_kinesis();
        let mut last_subscribe: Option<Instant> = None;
        let mut subscriptions: u64 = 0;
        let mut last_probe: Option<Instant> = None;
        loop {
            if let Some(last) = last_subscribe {
                let wait =
                    (last + MIN_SUBSCRIBE_INTERVAL).saturating_duration_since(Instant::now());
                if !wait.is_zero() && !self.sleep(wait).await {
                    return Ok(ReaderExit::Stopped);
                }
            }
            last_subscribe = Some(Instant::now());
            let result = tokio::select! {
                _ = self.stop.cancelled() => return Ok(ReaderExit::Stopped),
                result = fan_out.api.subscribe(&consumer, &self.shard, &position) => result,
            };
            let mut subscription = match result {
                Ok(subscription) => subscription,
                Err(error) if error.is_retryable() => {
                    if !self.behind().await {
                        return Ok(ReaderExit::Stopped);
                    }
                    let delay = backoff.next_delay();
                    debug!(error = %error, attempt = backoff.attempts(), delay_ms = delay.as_millis() as u64, "retrying SubscribeToShard");
                    if !self.sleep(delay).await {
                        return Ok(ReaderExit::Stopped);
                    }
                    continue;
                }
                // The consumer was deregistered meanwhile (by another worker's
                // --efo-deregister, or by hand): register it again, a few times at most.
                Err(ApiError::NotFound(message)) if gone < MAX_REREGISTRATIONS => {
                    gone += 1;
                    info!(error = %message, "SubscribeToShard: not found");
                    fan_out.forget(&consumer).await;
                    match fan_out.consumer_arn(&self.stop).await? {
                        Some(arn) => consumer = arn,
                        None => return Ok(ReaderExit::Stopped),
                    }
                    continue;
                }
                Err(error) => return Err(error),
            };
            subscriptions += 1;
            debug!(subscriptions, from = ?position, "subscribed");
            let ended = loop {
                let next = tokio::select! {
                    _ = self.stop.cancelled() => break Ended::Stopped,
                    next = tokio::time::timeout(fan_out.silence_timeout, subscription.next_event()) => next,
                };
                let event = match next {
                    Err(_) => {
                        warn!(
                            silent_seconds = fan_out.silence_timeout.as_secs_f64(),
                            "subscription silent past the timeout; subscribing again"
                        );
                        break Ended::Again;
                    }
                    Ok(Ok(Some(event))) => event,
                    Ok(Ok(None)) => {
                        debug!("subscription ended; subscribing again");
                        break Ended::Again;
                    }
                    Ok(Err(error)) if error.is_retryable() => {
                        info!(error = %error, "subscription broke; subscribing again");
                        break Ended::Again;
                    }
                    // The consumer went away mid-subscription: the next SubscribeToShard says
                    // so and it is registered again (above).
                    Ok(Err(ApiError::NotFound(message))) if gone < MAX_REREGISTRATIONS => {
                        info!(error = %message, "subscription ended: not found");
                        break Ended::Again;
                    }
                    Ok(Err(error)) => return Err(error),
                };
                backoff.reset();
                gone = 0;
                match self.hand_over(event, &mut skip, &mut budget).await {
                    Handed::Continue { next, at_tip } => {
                        if let Some(next) = next {
                            position = next;
                        }
                        if at_tip && last_probe.is_none_or(|t| t.elapsed() >= END_PROBE_INTERVAL) {
                            last_probe = Some(Instant::now());
                            if self.ended_at(&position).await {
                                break Ended::ShardEnd;
                            }
                        }
                    }
                    Handed::ShardEnd => break Ended::ShardEnd,
                    Handed::Stopped => break Ended::Stopped,
                }
            };
            drop(subscription);
            match ended {
                Ended::Again => {
                    // Records the writer already has are not known to be the tip any more.
                    if !self.behind().await {
                        return Ok(ReaderExit::Stopped);
                    }
                }
                Ended::ShardEnd => {
                    info!("shard closed and read to its end");
                    self.send(Event::ShardEnd {
                        shard: Arc::clone(&self.shard),
                    })
                    .await;
                    return Ok(ReaderExit::ShardEnded);
                }
                Ended::Stopped => return Ok(ReaderExit::Stopped),
            }
        }
    }

    /// One event to the writer, in slices within the read budget (an event may hold a whole
    /// backlog); where a new subscription continues.
    async fn hand_over(
        &mut self,
        event: FanOutEvent,
        skip: &mut Option<(String, Option<u64>)>,
        budget: &mut ShardBudget,
    ) -> Handed {
        if self.live.has_changed().unwrap_or(false) {
            let (r, b) = self.rates();
            budget.set_rates(r, b);
        }
        let shard_end = event.is_shard_end();
        if shard_end && !event.child_shards.is_empty() {
            debug!(children = ?event.child_shards, "the shard ended");
        }
        let mut records = event.records;
        let mut skip_through = None;
        if !records.is_empty() {
            if let Some((seq, sub)) = skip.take() {
                match sub {
                    Some(sub) => skip_through = Some((seq, sub)),
                    None => records.retain(|r| r.sequence_number != seq),
                }
            }
        }
        let at_tip =
            records.is_empty() && event.millis_behind_latest.unwrap_or(0) == 0 && !shard_end;
        // The next subscription starts after the continuation the service gave (past filtered
        // or trimmed records), else after the last record handed over.
        let next = event.continuation.map(StartAt::AfterSequence).or_else(|| {
            records
                .last()
                .map(|r| StartAt::AfterSequence(r.sequence_number.clone()))
        });
        let mut rest = records.into_iter().peekable();
        loop {
            let delay = budget.delay_before_next();
            if !delay.is_zero() && !self.sleep(delay).await {
                return Handed::Stopped;
            }
            let take = budget.records.available().max(1);
            let slice: Vec<_> = rest.by_ref().take(take as usize).collect();
            let last = rest.peek().is_none();
            let bytes: u64 = slice.iter().map(|r| r.data.len() as u64).sum();
            budget.record(slice.len() as u64, bytes);
            let sent = self
                .send(Event::Records {
                    shard: Arc::clone(&self.shard),
                    records: slice,
                    skip_through: skip_through.clone(),
                    millis_behind_latest: event.millis_behind_latest,
                    at_tip: last && at_tip,
                })
                .await;
            if !sent {
                return Handed::Stopped;
            }
            if last {
                break;
            }
        }
        if shard_end {
            Handed::ShardEnd
        } else {
            Handed::Continue { next, at_tip }
        }
    }

    /// Whether the shard is closed and read to its end at `position`: one GetShardIterator and
    /// one GetRecords (limit 1), asked only while the subscription is at the tip, at most every
    /// `END_PROBE_INTERVAL`. AWS ends a finished shard's subscription with its child shards;
    /// an emulator (or a service) that keeps sending empty events for a closed shard would
    /// otherwise leave its children unread. An error says nothing (the subscription goes on).
    async fn ended_at(&self, position: &StartAt) -> bool {
        let iterator = tokio::select! {
            _ = self.stop.cancelled() => return false,
            result = self.api.shard_iterator(&self.stream, &self.shard, position) => result,
        };
        let page = match iterator {
            Ok(iterator) => tokio::select! {
                _ = self.stop.cancelled() => return false,
                page = self.api.get_records(&iterator, 1) => page,
            },
            Err(error) => Err(error),
        };
        match page {
            Ok(page) => page.records.is_empty() && page.next_iterator.is_none(),
            Err(error) => {
                debug!(error = %error, "shard end probe failed");
                false
            }
        }
    }
}

/// How many times in a row a consumer the service does not know is registered again.
const MAX_REREGISTRATIONS: u32 = 3;

/// How often a subscription at the tip checks whether its shard has ended (see `ended_at`).
const END_PROBE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

enum Handed {
    Continue { next: Option<StartAt>, at_tip: bool },
    ShardEnd,
    Stopped,
}
