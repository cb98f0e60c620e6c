//! The single writer: runs the pipeline over what the shard readers fetched, writes NDJSON,
//! flushes, and only then advances and saves the checkpoints (at-least-once). Also the live stats
//! and the idle timeout, since it sees every record.

use super::output::Pipeline;
use super::tip::TipTracker;
use super::{Event, Live, Summary};
use crate::checkpoint::{CheckpointSink, Checkpoints, ShardCheckpoint};
use crate::deadletter::DeadLetter;
use crate::metrics::Metrics;
use crate::session::{StreamOptions, Throughput};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// Flush when this much output is buffered even if more events are waiting.
const FLUSH_BYTES: usize = 256 << 10;
/// Output older than this is written out at once, inside a page or event too, so a record
/// reaches stdout as soon as it has been through the method (checkpoints still follow the
/// regular flush below).
const EAGER_FLUSH: Duration = Duration::from_millis(2);
/// Without a method a record takes well under a microsecond: the clock is read every this many
/// records (with a method, after each).
const CLOCK_EVERY: usize = 256;
/// Checkpoints are saved at most this often (and always at a shard's end and on exit).
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
    #[error(transparent)]
    DeadLetter(#[from] crate::deadletter::DeadLetterError),
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
}

pub(crate) struct Writer<'o> {
    pub events: mpsc::Receiver<Event>,
    pub pipeline: Pipeline,
    pub output: &'o mut dyn Write,
    pub dead_letter: DeadLetter,
    /// The checkpoint file, or the lease table.
    pub store: Box<dyn CheckpointSink + 'o>,
    pub checkpoints: Checkpoints,
    pub finished_tx: mpsc::UnboundedSender<String>,
    pub stop: CancellationToken,
    pub idle_timeout: Option<Duration>,
    pub live: watch::Receiver<Live>,
    /// Stats interval, methods directory and limits.
    pub options: &'o StreamOptions,
    /// Records, bytes and lag per shard (`--metrics-addr`).
    pub metrics: Option<Metrics>,
}

#[derive(Default)]
struct Pending {
    /// Positions handled since the last flush.
    positions: BTreeMap<Arc<str>, (String, Option<u64>)>,
    /// Shards whose end was reached since the last flush.
    ended: Vec<Arc<str>>,
}

#[derive(Default)]
struct Stats {
    throughput: Throughput,
    lag: BTreeMap<Arc<str>, i64>,
}

impl Writer<'_> {
    pub async fn run(mut self) -> Result<Summary, WriteError> {
        let result = self.main_loop().await;
        if result.is_err() {
            // Readers must not keep fetching what cannot be written.
            self.stop.cancel();
        }
        result
    }

    async fn main_loop(&mut self) -> Result<Summary, WriteError> {
        let mut summary = Summary::default();
        let mut pending = Pending::default();
        let mut last_save = Instant::now();
        let mut dirty = false;
        let mut last_activity = Instant::now();
        // The idle timeout counts once the stream has answered: a stream that cannot be reached
        // is not a drained one.
        let mut reached = false;
        let mut idle_fired = false;
        let mut tip = TipTracker::default();
        let mut stats = Stats::default();
        let stats_interval = self.options.stats_interval;
        let stats_every = stats_interval.unwrap_or(Duration::from_secs(3600));
        let mut stats_tick = tokio::time::interval_at(Instant::now() + stats_every, stats_every);
        // When output was last written out (the eager flush inside a page).
        let mut last_write = Instant::now();
        loop {
            // The idle timeout runs only while every owned shard is at the tip; every change of
            // that comes as an event, after which this is computed again.
            let idle_deadline = match (self.idle_timeout, tip.caught_up_since()) {
                (Some(idle), Some(since)) if reached && !idle_fired => {
                    since.max(last_activity) + idle
                }
                _ => Instant::now() + Duration::from_secs(3600),
            };
            let event = tokio::select! {
                biased;
                event = self.events.recv() => event,
                _ = tokio::time::sleep_until(idle_deadline) => {
                    if self.idle_timeout.is_some() && !idle_fired {
                        info!(idle_seconds = self.idle_timeout.unwrap_or_default().as_secs_f64(), "every shard at the tip and no new record for the idle timeout; stopping");
                        idle_fired = true;
                        self.stop.cancel();
                    }
                    continue;
                }
                _ = stats_tick.tick(), if stats_interval.is_some() => {
                    print_stats(&mut stats);
                    continue;
                }
            };
            let Some(event) = event else { break };
            self.reload_method_if_changed();
            let mut batch_events = 0usize;
            let mut next = Some(event);
            while let Some(event) = next.take() {
                batch_events += 1;
                match event {
                    Event::Reached => {
                        reached = true;
                        last_activity = Instant::now();
                    }
                    Event::Records {
                        shard,
                        records,
                        skip_through,
                        millis_behind_latest,
                        at_tip,
                    } => {
                        tip.page(&shard, at_tip, Instant::now());
                        if let Some(lag) = millis_behind_latest {
                            stats.lag.insert(Arc::clone(&shard), lag);
                            if let Some(metrics) = &self.metrics {
                                metrics.lag(&shard, lag);
                            }
                        }
                        if let Some(metrics) = &self.metrics {
                            let bytes = records.iter().map(|r| r.data.len() as u64).sum();
                            metrics.read(&shard, records.len() as u64, bytes);
                        }
                        if !records.is_empty() {
                            last_activity = Instant::now();
                        }
                        for (i, record) in records.iter().enumerate() {
                            if i % CLOCK_EVERY == CLOCK_EVERY - 1 {
                                self.flush_if_stale(&mut last_write)?;
                            }
                            let skip = skip_through
                                .as_ref()
                                .filter(|(seq, _)| *seq == record.sequence_number)
                                .map(|(_, sub)| *sub);
                            // With a method, after each (user) record.
                            let output = &mut *self.output;
                            let counts = self.pipeline.process_each(
                                &shard,
                                record,
                                skip,
                                &mut |out: &mut Vec<u8>| {
                                    write_if_stale(output, out, &mut last_write)
                                },
                            )?;
                            stats
                                .throughput
                                .add(counts.records, record.data.len() as u64);
                            summary.add(&counts);
                            pending.positions.insert(
                                Arc::clone(&shard),
                                (record.sequence_number.clone(), counts.last_sub_sequence),
                            );
                        }
                    }
                    Event::ShardEnd { shard } => pending.ended.push(shard),
                    Event::Behind { shard } => tip.behind(&shard),
                    Event::Stopped { shard } => tip.stopped(&shard),
                    Event::Listed {
                        started,
                        finished_seen,
                    } => tip.listed(&started, finished_seen, Instant::now()),
                }
                self.flush_if_stale(&mut last_write)?;
                if self.pipeline.out.len() < FLUSH_BYTES && batch_events < 64 {
                    next = self.events.try_recv().ok();
                }
            }
            // Nothing more is waiting (or enough is buffered): flush, then checkpoint.
            let force = !pending.ended.is_empty();
            self.flush(&mut pending, &mut dirty)?;
            if dirty && (force || last_save.elapsed() >= CHECKPOINT_INTERVAL) {
                dirty = !self.store.save(&self.checkpoints).await?;
                last_save = Instant::now();
            }
            for shard in std::mem::take(&mut pending.ended) {
                tip.finished(&shard);
                let _ = self.finished_tx.send(shard.to_string());
            }
        }
        self.flush(&mut pending, &mut dirty)?;
        if dirty {
            self.store.save(&self.checkpoints).await?;
        }
        for shard in std::mem::take(&mut pending.ended) {
            let _ = self.finished_tx.send(shard.to_string());
        }
        if stats_interval.is_some() {
            print_stats(&mut stats);
        }
        summary.dead_letter_file =
            (self.dead_letter.entries() > 0).then(|| self.dead_letter.path().to_path_buf());
        Ok(summary)
    }

    /// Writes the buffered output out (not the checkpoints) if the last write is stale.
    fn flush_if_stale(&mut self, last_write: &mut Instant) -> Result<(), WriteError> {
        write_if_stale(&mut *self.output, &mut self.pipeline.out, last_write)
    }

    /// Writes out what is buffered and moves the in-memory checkpoints past it.
    fn flush(&mut self, pending: &mut Pending, dirty: &mut bool) -> Result<(), WriteError> {
        if !self.pipeline.out.is_empty() {
            self.output
                .write_all(&self.pipeline.out)
                .map_err(WriteError::Output)?;
            self.pipeline.out.clear();
        }
        self.output.flush().map_err(WriteError::Output)?;
        if !self.pipeline.dead.is_empty() {
            self.dead_letter.append(&self.pipeline.dead)?;
            self.pipeline.dead.clear();
        }
        for (shard, (seq, sub)) in std::mem::take(&mut pending.positions) {
            let entry =
                self.checkpoints
                    .shards
                    .entry(shard.to_string())
                    .or_insert(ShardCheckpoint {
                        sequence_number: None,
                        sub_sequence_number: None,
                        finished: false,
                    });
            entry.sequence_number = Some(seq);
            entry.sub_sequence_number = sub;
            *dirty = true;
        }
        for shard in &pending.ended {
            let entry =
                self.checkpoints
                    .shards
                    .entry(shard.to_string())
                    .or_insert(ShardCheckpoint {
                        sequence_number: None,
                        sub_sequence_number: None,
                        finished: true,
                    });
            entry.finished = true;
            *dirty = true;
        }
        Ok(())
    }

    fn reload_method_if_changed(&mut self) {
        if !self.live.has_changed().unwrap_or(false) {
            return;
        }
        let wanted = self.live.borrow_and_update().method_id.clone();
        self.options
            .swap_method(&mut self.pipeline.method, wanted.as_deref());
    }
}

/// Writes `out` to `output` (and flushes) when the last write is `EAGER_FLUSH` old: at most one
/// write per interval, and none while nothing is buffered.
fn write_if_stale(
    output: &mut dyn Write,
    out: &mut Vec<u8>,
    last_write: &mut Instant,
) -> Result<(), WriteError> {
    if out.is_empty() {
        return Ok(());
    }
    let now = Instant::now();
    if now.duration_since(*last_write) >= EAGER_FLUSH {
        output.write_all(out).map_err(WriteError::Output)?;
        out.clear();
        output.flush().map_err(WriteError::Output)?;
        *last_write = now;
    }
    Ok(())
}

fn print_stats(stats: &mut Stats) {
    let mut line = stats.throughput.take_line();
    if !stats.lag.is_empty() {
        line.push_str("; millisBehindLatest");
        for (shard, lag) in &stats.lag {
            line.push_str(&format!(" {shard}={lag}"));
        }
    }
    eprintln!("{line}");
}
