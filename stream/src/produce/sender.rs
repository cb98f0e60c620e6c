//! The sending side: per-shard queues, write budgets, PutRecords batches, retries of the failed
//! entries only, and the dead-letter file (the single writer of it).
//!
//! Up to `max_in_flight` PutRecords requests are in flight at once, each on a task of its own
//! (a `LocalSet`: everything stays on the one thread). A shard is in at most one request in
//! flight, so a shard's records still leave in order: a batch takes records only from shards
//! with no request in flight, and under a backlog it takes them shard by shard (oldest first).
//! With several in flight another shard joins a batch only when all its waiting records fit, so
//! concurrent requests serve different shards; with one in flight (the default) a batch is
//! topped up from the next shard, so a backlog goes out in requests of 500. Taking shard by
//! shard rather than interleaving also pays against kinesis-mock, whose PutRecords cost grows
//! with the shards a request touches (interleaved batches measured about 15% slower).

use super::progress::Tracker;
use super::{
    Item, Prepared, ProduceError, ProduceOptions, ShardMap, Summary, MAX_REQUEST_BYTES,
    MAX_REQUEST_RECORDS,
};
use crate::backoff::Backoff;
use crate::deadletter::{DeadLetter, Entry, Payload, Stage};
use crate::kinesis::{ApiError, ProducerApi, PutOutcome, ShardRange, StreamError};
use crate::ratelimit::{TokioClock, WriteBudget};
use crate::session::paths::Side;
use crate::session::reach::{reach, Target};
use crate::session::Throughput;
use kinesis_connector::{Connector, Effects};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, info_span, warn, Instrument};

/// Shards are listed again at most this often when a response shows the map is out of date.
const REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// Key for dead letters that never reached a shard.
const NO_SHARD: &str = "-";

#[derive(Debug)]
struct Queued {
    record: Prepared,
    attempts: u32,
    not_before: Option<Instant>,
    last_error: String,
}

#[derive(Debug)]
struct ShardQueue {
    records: VecDeque<Queued>,
    budget: WriteBudget,
    backoff: Backoff,
}

pub(crate) struct Sender<'o, C> {
    options: &'o ProduceOptions,
    config: watch::Receiver<Arc<Connector>>,
    rx: mpsc::Receiver<Item>,
    /// Finished requests, from their tasks.
    done_rx: mpsc::UnboundedReceiver<Done>,
    done_tx: mpsc::UnboundedSender<Done>,
    /// Cancelled by shutdown (the reader then stops); the sender cancels it on a fatal error.
    stop_reading: CancellationToken,
    connect: C,
    progress: Option<Tracker>,
}

/// Everything the loop mutates.
struct State<'o, A> {
    options: &'o ProduceOptions,
    api: A,
    connector: Arc<Connector>,
    map: ShardMap,
    queues: BTreeMap<String, ShardQueue>,
    /// Records waiting for a shard map (after a reconnect).
    orphans: Vec<Queued>,
    /// Every record held: queued, in the batch being built, or in flight.
    queued: usize,
    queued_bytes: usize,
    /// Requests in flight, their records and bytes, and the shards they hold.
    in_flight: usize,
    flying: usize,
    flying_bytes: usize,
    busy: BTreeSet<String>,
    done_tx: mpsc::UnboundedSender<Done>,
    stale: bool,
    last_refresh: Option<Instant>,
    pause_until: Option<Instant>,
    request_backoff: Backoff,
    clock: TokioClock,
    summary: Summary,
    dead: DeadLetter,
    dead_pending: Vec<u8>,
    /// Lines in `dead_pending` that are done once it is on disk (for the progress record).
    dead_pending_lines: Vec<u64>,
    progress: Option<Tracker>,
    /// Set by an error no retry can fix (stream gone, access denied): from then on everything
    /// is dead-lettered with it.
    fatal: Option<StreamError>,
    input_open: bool,
    /// Sent since the last stats line.
    stats: Throughput,
}

/// A batch taken from the queues: (predicted shard, record).
#[derive(Debug, Default)]
struct Batch {
    entries: Vec<(String, Queued)>,
    bytes: usize,
    /// The shards it holds records of.
    shards: Vec<String>,
}

/// A request that came back.
struct Done {
    batch: Batch,
    result: Result<Vec<PutOutcome>, ApiError>,
}

enum Fill {
    /// The batch is full, or nothing else is waiting.
    Done,
    /// Some queued record is held back (budget or retry delay) for this long.
    Wait(Duration),
}

impl<'o, C, F, A> Sender<'o, C>
where
    A: ProducerApi,
    C: Fn(Arc<Connector>) -> F,
    F: Future<Output = A>,
{
    pub fn new(
        options: &'o ProduceOptions,
        config: watch::Receiver<Arc<Connector>>,
        rx: mpsc::Receiver<Item>,
        stop_reading: CancellationToken,
        connect: C,
        progress: Option<Tracker>,
    ) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Self {
            options,
            config,
            rx,
            done_rx,
            done_tx,
            stop_reading,
            connect,
            progress,
        }
    }

    pub async fn run(mut self) -> Result<Summary, ProduceError> {
        let connector = Arc::clone(&self.config.borrow_and_update());
        let span = info_span!("produce", connector_id = %connector.id, stream = %connector.stream);
        async move {
            let api = (self.connect)(Arc::clone(&connector)).await;
            let mut st = State {
                options: self.options,
                api,
                map: ShardMap::default(),
                queues: BTreeMap::new(),
                orphans: Vec::new(),
                queued: 0,
                queued_bytes: 0,
                in_flight: 0,
                flying: 0,
                flying_bytes: 0,
                busy: BTreeSet::new(),
                done_tx: self.done_tx.clone(),
                stale: true,
                last_refresh: None,
                pause_until: None,
                request_backoff: Backoff::for_kinesis(),
                clock: TokioClock::default(),
                summary: Summary::default(),
                dead: DeadLetter::new(
                    self.options
                        .common
                        .dead_letter_path(&connector, Side::Produce),
                ),
                connector,
                dead_pending: Vec::new(),
                dead_pending_lines: Vec::new(),
                progress: self.progress.clone(),
                fatal: None,
                input_open: true,
                stats: Throughput::default(),
            };
            if !st.connector.disabled {
                st.connect(&self.stop_reading).await;
            }
            // The requests' tasks run on this thread, beside the loop.
            let local = tokio::task::LocalSet::new();
            let result = local.run_until(self.main_loop(&mut st)).await;
            // Whatever happened, what is counted as dead-lettered is on disk.
            st.flush_dead()?;
            result?;
            if st.options.common.stats_interval.is_some() {
                st.print_stats();
            }
            st.summary.error = st.fatal.clone();
            st.summary.dead_letter_file =
                (st.summary.dead_lettered > 0).then(|| st.dead.path().to_path_buf());
            Ok(st.summary)
        }
        .instrument(span)
        .await
    }

    async fn main_loop(&mut self, st: &mut State<'o, A>) -> Result<(), ProduceError> {
        let watching = self.options.common.watch;
        let max_in_flight = self.options.max_in_flight.max(1);
        loop {
            self.intake(st)?;
            while let Ok(done) = self.done_rx.try_recv() {
                st.complete(done);
            }
            // A new config (and a new shard map) applies once nothing is in flight.
            let drained = st.in_flight == 0;
            let config_pending = self.config.has_changed().unwrap_or(false);
            if config_pending && drained {
                let new = Arc::clone(&self.config.borrow_and_update());
                self.reconfigure(st, new).await;
            }
            let config_pending = config_pending && !drained;
            st.flush_dead()?;
            if let Some(progress) = &st.progress {
                progress.save(false);
            }
            st.maybe_stats();
            if let Some(reason) = st.fatal.as_ref().map(ToString::to_string) {
                // Nothing can be sent: stop reading, and dead-letter what was already read
                // (and, as they come back, what was in flight).
                self.stop_reading.cancel();
                st.dead_letter_all(&reason);
                if !st.input_open && drained {
                    return Ok(());
                }
                tokio::select! {
                    item = self.rx.recv(), if st.input_open => match item {
                        Some(item) => st.take(item),
                        None => st.input_open = false,
                    },
                    Some(done) = self.done_rx.recv(), if !drained => st.complete(done),
                }
                continue;
            }
            if st.queued == st.flying {
                // Nothing waits to be sent.
                if !st.input_open && drained {
                    return Ok(());
                }
                tokio::select! {
                    item = self.rx.recv(), if st.input_open => match item {
                        Some(item) => st.take(item),
                        None => st.input_open = false,
                    },
                    Some(done) = self.done_rx.recv(), if !drained => st.complete(done),
                    _ = self.config.changed(), if watching && drained => {}
                }
                continue;
            }
            if st.connector.disabled {
                if self.stop_reading.is_cancelled() {
                    st.dead_letter_all("stopped while the connector was disabled");
                    continue;
                }
                tokio::select! {
                    _ = self.stop_reading.cancelled() => {}
                    _ = self.config.changed(), if drained => {}
                    Some(done) = self.done_rx.recv(), if !drained => st.complete(done),
                }
                continue;
            }
            if let Some(until) = st.pause_until {
                if Instant::now() < until {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => st.pause_until = None,
                        Some(done) = self.done_rx.recv(), if !drained => st.complete(done),
                    }
                    continue;
                }
                st.pause_until = None;
            }
            let refresh = st.map.is_empty()
                || (st.stale
                    && st
                        .last_refresh
                        .is_none_or(|t| t.elapsed() >= REFRESH_INTERVAL));
            if refresh || config_pending || st.in_flight >= max_in_flight {
                if refresh && drained {
                    st.refresh().await;
                    continue;
                }
                // Wait for a request to come back (before a new shard map or config applies,
                // all of them), taking input meanwhile.
                let room = st.input_open && st.has_room();
                tokio::select! {
                    Some(done) = self.done_rx.recv(), if !drained => st.complete(done),
                    item = self.rx.recv(), if room => match item {
                        Some(item) => st.take(item),
                        None => st.input_open = false,
                    },
                }
                continue;
            }
            let mut batch = Batch::default();
            let linger_until = Instant::now() + self.options.linger;
            // While more input may come (the reader shares this thread) and no shard free to send
            // has a full batch waiting, wait for it up to the linger: a backlog then goes out in
            // full batches (one shard each when several can be in flight together).
            while st.input_open && st.has_room() && !st.full_batch_waiting() {
                let flying = st.in_flight > 0;
                tokio::select! {
                    item = self.rx.recv() => match item {
                        Some(item) => st.take(item),
                        None => st.input_open = false,
                    },
                    Some(done) = self.done_rx.recv(), if flying => st.complete(done),
                    _ = tokio::time::sleep_until(linger_until) => break,
                }
                self.intake(st)?;
            }
            let wait = loop {
                let fill = st.fill(&mut batch);
                if batch.entries.len() >= MAX_REQUEST_RECORDS {
                    break None;
                }
                if self.intake(st)? > 0 {
                    continue;
                }
                let flying = st.in_flight > 0;
                match fill {
                    Fill::Done if !batch.entries.is_empty() && st.input_open && st.has_room() => {
                        // More input may be on its way (the reader shares this thread): wait for
                        // it up to the linger, so a backlog goes out in full batches.
                        tokio::select! {
                            item = self.rx.recv() => match item {
                                Some(item) => st.take(item),
                                None => st.input_open = false,
                            },
                            Some(done) = self.done_rx.recv(), if flying => st.complete(done),
                            _ = tokio::time::sleep_until(linger_until) => break None,
                        }
                    }
                    Fill::Done => break None,
                    Fill::Wait(wait) if batch.entries.is_empty() => break Some(wait),
                    Fill::Wait(wait) => {
                        if Instant::now() + wait > linger_until {
                            break None;
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            Some(done) = self.done_rx.recv(), if flying => st.complete(done),
                        }
                    }
                }
            };
            if batch.entries.is_empty() {
                // Everything is held back (budget, retry delay, or a request in flight on its
                // shard): wait for that, taking input meanwhile.
                let flying = st.in_flight > 0;
                let sleep = match wait {
                    Some(wait) => wait,
                    None if flying => Duration::MAX,
                    None => Duration::from_millis(1),
                };
                let room = st.input_open && st.has_room();
                tokio::select! {
                    _ = tokio::time::sleep(sleep), if sleep != Duration::MAX => {}
                    Some(done) = self.done_rx.recv(), if flying => st.complete(done),
                    item = self.rx.recv(), if room => match item {
                        Some(item) => st.take(item),
                        None => st.input_open = false,
                    },
                    _ = self.config.changed(), if watching && !flying => {}
                }
                continue;
            }
            st.launch(batch);
        }
    }

    /// Takes what the reader has ready, within the queue bounds; returns how many items.
    fn intake(&mut self, st: &mut State<'o, A>) -> Result<usize, ProduceError> {
        let mut taken = 0;
        while st.input_open && st.has_room() {
            match self.rx.try_recv() {
                Ok(item) => {
                    st.take(item);
                    taken += 1;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => st.input_open = false,
            }
        }
        Ok(taken)
    }

    /// A config change from `--watch`, as the core's `Effects` say: a new stream, region or
    /// credentials (or another connector) means a new client and a new shard map (queued records
    /// are predicted again); new rates apply to every shard budget; `disabled` is read by the
    /// loop.
    async fn reconfigure(&mut self, st: &mut State<'o, A>, new: Arc<Connector>) {
        let effects = Effects::between(&st.connector, &new);
        st.connector = Arc::clone(&new);
        if effects.reconnect || effects.recreate {
            info!(stream = %new.stream, "config changed the connection or stream: reconnecting");
            st.api = (self.connect)(Arc::clone(&new)).await;
            st.map = ShardMap::default();
            st.stale = true;
            st.fatal = None;
            st.pause_until = None;
            let mut all: Vec<Queued> = Vec::new();
            for (_, queue) in std::mem::take(&mut st.queues) {
                all.extend(queue.records);
            }
            st.orphans = all;
        } else if effects.throttle {
            info!(
                records_per_second = new.max_records_per_shard_per_second,
                bytes_per_second = new.max_bytes_per_shard_per_second,
                "config changed the rate limits: applied live"
            );
            let ids: Vec<String> = st.queues.keys().cloned().collect();
            for id in ids {
                let budget = st.new_budget();
                st.queue(&id).budget = budget;
            }
        }
        if effects.pause || effects.resume {
            info!(disabled = new.disabled, "config changed disabled");
        }
    }
}

impl<A: ProducerApi> State<'_, A> {
    /// Room for more input: the bounds hold for what is not in flight (in flight are at most
    /// `max_in_flight` requests more).
    fn has_room(&self) -> bool {
        self.queued - self.flying < self.options.queue_records
            && self.queued_bytes - self.flying_bytes < self.options.queue_bytes
    }

    fn new_budget(&self) -> WriteBudget {
        WriteBudget::new(
            self.connector.max_records_per_shard_per_second,
            self.connector.max_bytes_per_shard_per_second,
            self.clock,
        )
    }

    fn take(&mut self, item: Item) {
        match item {
            Item::Dead { line, entry } => {
                self.dead_pending.extend_from_slice(&entry);
                self.dead_pending_lines.push(line);
                self.count_dead(NO_SHARD);
            }
            Item::Record(record) => {
                self.queued += 1;
                self.queued_bytes += record.size();
                let queued = Queued {
                    record,
                    attempts: 0,
                    not_before: None,
                    last_error: String::new(),
                };
                self.enqueue(queued);
            }
        }
    }

    /// Puts a record at the back of its predicted shard's queue (records wait unassigned while
    /// there is no shard map).
    fn enqueue(&mut self, queued: Queued) {
        let Some(shard) = self.map.shard_for(&queued.record.key).map(str::to_owned) else {
            self.orphans.push(queued);
            return;
        };
        self.queue(&shard).records.push_back(queued);
    }

    fn queue(&mut self, shard: &str) -> &mut ShardQueue {
        if !self.queues.contains_key(shard) {
            let budget = self.new_budget();
            self.queues.insert(
                shard.to_owned(),
                ShardQueue {
                    records: VecDeque::new(),
                    budget,
                    backoff: Backoff::for_kinesis(),
                },
            );
        }
        self.queues
            .get_mut(shard)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    fn count_dead(&mut self, shard: &str) {
        self.summary.dead_lettered += 1;
        self.summary
            .shards
            .entry(shard.to_owned())
            .or_default()
            .dead_lettered += 1;
    }

    fn flush_dead(&mut self) -> Result<(), ProduceError> {
        if !self.dead_pending.is_empty() {
            self.dead.append(&self.dead_pending)?;
            self.dead_pending.clear();
        }
        for line in self.dead_pending_lines.drain(..) {
            if let Some(progress) = &self.progress {
                progress.done(line);
            }
        }
        Ok(())
    }

    /// Dead-letters one record that could not be sent. `for_good`: the record itself failed (its
    /// attempts ran out), so its line is done; not when the stream failed or the run stopped, so
    /// that a restart sends it again.
    fn dead_letter(&mut self, shard: &str, queued: Queued, error: &str, for_good: bool) {
        if for_good {
            self.dead_pending_lines.push(queued.record.line);
        }
        Entry {
            line: Some(queued.record.line),
            stage: Some(Stage::Put),
            shard_id: Some(shard),
            partition_key: Some(&queued.record.key),
            attempts: Some(queued.attempts),
            error,
            ..Entry::default()
        }
        // Payloads are JSON text (the input line or the method's result).
        .with_payload(Payload::Json(&queued.record.data))
        .write_to(&mut self.dead_pending);
        self.queued -= 1;
        self.queued_bytes -= queued.record.size();
        self.count_dead(shard);
    }

    fn dead_letter_all(&mut self, reason: &str) {
        for (shard, queue) in std::mem::take(&mut self.queues) {
            for queued in queue.records {
                self.dead_letter(&shard, queued, reason, false);
            }
        }
        for queued in std::mem::take(&mut self.orphans) {
            self.dead_letter(NO_SHARD, queued, reason, false);
        }
    }

    /// The first contact with the stream: its shard map, within the connect timeout. A stream
    /// that cannot be reached (or a stop before it was) is fatal: what is read is dead-lettered
    /// with the reason.
    async fn connect(&mut self, stop: &CancellationToken) {
        let target = Target::of(&self.connector);
        let (api, stream) = (&self.api, self.connector.stream.as_str());
        let listed = reach(
            &target,
            self.options.common.connect_timeout,
            stop,
            || async {
                match api.open_shards(stream).await {
                    Ok(shards) if shards.is_empty() => {
                        Err(ApiError::Transient("the stream lists no open shard".into()))
                    }
                    other => other,
                }
            },
        )
        .await;
        self.last_refresh = Some(Instant::now());
        match listed {
            Ok(Some(shards)) => self.install(shards),
            Ok(None) => {
                self.fatal = Some(StreamError::StoppedBeforeReached {
                    stream: target.stream,
                })
            }
            Err(error) => {
                warn!(error = %error, "cannot reach the stream");
                self.fatal = Some(error);
            }
        }
    }

    /// Lists the open shards and moves records whose shard has closed to the shard now taking
    /// their keys.
    async fn refresh(&mut self) {
        self.last_refresh = Some(Instant::now());
        match self.api.open_shards(&self.connector.stream).await {
            Ok(shards) if !shards.is_empty() => self.install(shards),
            Ok(_) => {
                let delay = self.request_backoff.next_delay();
                warn!(
                    delay_ms = delay.as_millis() as u64,
                    "the stream lists no open shard; retrying"
                );
                self.pause_until = Some(Instant::now() + delay);
            }
            Err(error) if error.is_retryable() => {
                let delay = self.request_backoff.next_delay();
                warn!(error = %error, delay_ms = delay.as_millis() as u64, "cannot list shards; retrying");
                self.pause_until = Some(Instant::now() + delay);
            }
            Err(error) => {
                warn!(error = %error, "cannot list shards");
                self.fatal = Some(Target::of(&self.connector).error(error));
            }
        }
    }

    /// A new shard map; queued records of shards that closed move to the shards now taking their
    /// keys.
    fn install(&mut self, shards: Vec<ShardRange>) {
        self.request_backoff.reset();
        let map = ShardMap::new(shards);
        let changed = map != self.map;
        self.map = map;
        self.stale = false;
        if changed {
            info!(shards = ?self.map.ids().collect::<Vec<_>>(), "shard map");
        }
        let open: Vec<String> = self.map.ids().map(str::to_owned).collect();
        let closed: Vec<String> = self
            .queues
            .keys()
            .filter(|id| !open.contains(id))
            .cloned()
            .collect();
        let mut moved = std::mem::take(&mut self.orphans);
        for id in closed {
            if let Some(queue) = self.queues.remove(&id) {
                moved.extend(queue.records);
            }
        }
        for queued in moved {
            self.enqueue(queued);
        }
    }

    /// Whether a shard with no request in flight has a full request's worth of records waiting.
    fn full_batch_waiting(&self) -> bool {
        self.queues
            .iter()
            .any(|(id, q)| q.records.len() >= MAX_REQUEST_RECORDS && !self.busy.contains(id))
    }

    /// Moves admitted records into `batch` from the shards with no request in flight, shard by
    /// shard, the shard with the oldest waiting record first (so no shard starves the others).
    /// When several requests may be in flight, another shard joins a batch only when all its
    /// waiting records fit: a shard is not split over two requests, so under a backlog each
    /// request serves one shard and several can be in flight together.
    fn fill(&mut self, batch: &mut Batch) -> Fill {
        let now = Instant::now();
        // With one request in flight nothing is gained by keeping shards apart: a batch is topped
        // up from the next shard, so a backlog goes out in requests of 500.
        let split_apart = self.options.max_in_flight > 1;
        let mut wait: Option<Duration> = None;
        let mut hold = |w: Duration| wait = Some(wait.map_or(w, |x: Duration| x.min(w)));
        let mut order: Vec<(u64, &String)> = self
            .queues
            .iter()
            .filter(|(id, _)| !self.busy.contains(*id))
            .filter_map(|(id, queue)| queue.records.front().map(|head| (head.record.line, id)))
            .collect();
        order.sort_unstable();
        let order: Vec<String> = order.into_iter().map(|(_, id)| id.clone()).collect();
        for id in order {
            let Some(queue) = self.queues.get_mut(&id) else {
                continue;
            };
            if split_apart
                && !batch.entries.is_empty()
                && !batch.shards.contains(&id)
                && queue.records.len() > MAX_REQUEST_RECORDS - batch.entries.len()
            {
                continue;
            }
            while batch.entries.len() < MAX_REQUEST_RECORDS {
                let Some(head) = queue.records.front() else {
                    break;
                };
                if let Some(at) = head.not_before.filter(|at| *at > now) {
                    hold(at - now);
                    break;
                }
                let size = head.record.size();
                if batch.bytes + size > MAX_REQUEST_BYTES {
                    break;
                }
                match queue.budget.admit(size as u64) {
                    Ok(()) => {
                        if let Some(queued) = queue.records.pop_front() {
                            if !batch.shards.contains(&id) {
                                batch.shards.push(id.clone());
                            }
                            batch.bytes += size;
                            batch.entries.push((id.clone(), queued));
                        }
                    }
                    Err(w) => {
                        hold(w);
                        break;
                    }
                }
            }
        }
        match wait {
            Some(w) if batch.entries.len() < MAX_REQUEST_RECORDS => Fill::Wait(w),
            _ => Fill::Done,
        }
    }

    /// Sends `batch` as one PutRecords request on a task of its own; `complete` takes the
    /// outcome.
    fn launch(&mut self, batch: Batch) {
        self.summary.requests += 1;
        self.in_flight += 1;
        self.flying += batch.entries.len();
        self.flying_bytes += batch.bytes;
        self.busy.extend(batch.shards.iter().cloned());
        debug!(
            records = batch.entries.len(),
            bytes = batch.bytes,
            in_flight = self.in_flight,
            "PutRecords"
        );
        let api = self.api.clone();
        let stream = self.connector.stream.clone();
        let done = self.done_tx.clone();
        tokio::task::spawn_local(async move {
            let result = {
                let entries: Vec<(&str, &[u8])> = batch
                    .entries
                    .iter()
                    .map(|(_, q)| (q.record.key.as_str(), q.record.data.as_slice()))
                    .collect();
                api.put_records(&stream, &entries).await
            };
            // The loop holds the receiver until every request has come back.
            let _ = done.send(Done { batch, result });
        });
    }

    /// A request came back. Entries that fail are retried (alone, after their shard's backoff)
    /// until `max_attempts`, then dead-lettered; a request that fails as a whole counts as an
    /// attempt for each of its entries.
    fn complete(&mut self, done: Done) {
        let Done { batch, result } = done;
        self.in_flight -= 1;
        self.flying -= batch.entries.len();
        self.flying_bytes -= batch.bytes;
        for shard in &batch.shards {
            self.busy.remove(shard);
        }
        let mut retry: Vec<(String, Queued)> = Vec::new();
        // After a whole-request failure every entry waits for the request's backoff (one delay,
        // so they go out together again) instead of their shards' own.
        let mut request_retry_at: Option<Instant> = None;
        match result {
            Ok(outcomes) => {
                self.request_backoff.reset();
                let mut failed_shards: Vec<String> = Vec::new();
                let mut ok_shards: Vec<String> = Vec::new();
                for ((predicted, mut queued), outcome) in batch.entries.into_iter().zip(outcomes) {
                    match outcome {
                        Ok(shard) => {
                            if shard != predicted && !self.stale {
                                info!(predicted = %predicted, actual = %shard, "record went to another shard: the stream was resharded; listing shards again");
                                self.stale = true;
                            }
                            self.queued -= 1;
                            self.queued_bytes -= queued.record.size();
                            self.summary.sent += 1;
                            if let Some(progress) = &self.progress {
                                progress.done(queued.record.line);
                            }
                            self.stats.add(1, queued.record.size() as u64);
                            self.summary.shards.entry(shard).or_default().sent += 1;
                            ok_shards.push(predicted);
                        }
                        Err((code, message)) => {
                            queued.attempts += 1;
                            queued.last_error = format!("{code}: {message}");
                            failed_shards.push(predicted.clone());
                            retry.push((predicted, queued));
                        }
                    }
                }
                for shard in ok_shards {
                    if !failed_shards.contains(&shard) {
                        if let Some(queue) = self.queues.get_mut(&shard) {
                            queue.backoff.reset();
                        }
                    }
                }
            }
            Err(error) if error.is_retryable() => {
                let delay = self.request_backoff.next_delay();
                warn!(error = %error, records = batch.entries.len(), delay_ms = delay.as_millis() as u64, "PutRecords failed; retrying");
                let at = Instant::now() + delay;
                self.pause_until = Some(self.pause_until.map_or(at, |p| p.max(at)));
                request_retry_at = Some(at);
                for (predicted, mut queued) in batch.entries {
                    queued.attempts += 1;
                    queued.last_error = error.to_string();
                    retry.push((predicted, queued));
                }
            }
            Err(error) => {
                warn!(error = %error, "PutRecords failed");
                let error = Target::of(&self.connector).error(error);
                let message = error.to_string();
                for (predicted, mut queued) in batch.entries {
                    queued.attempts += 1;
                    self.dead_letter(&predicted, queued, &message, false);
                }
                self.fatal = Some(error);
                return;
            }
        }
        // Back to the front of their queues, in their order, after the shard's (or the
        // request's) backoff.
        let now = Instant::now();
        let mut delays: BTreeMap<String, Instant> = BTreeMap::new();
        let mut orphans = Vec::new();
        for (shard, queued) in retry.into_iter().rev() {
            if queued.attempts >= self.options.max_attempts {
                let error = format!(
                    "not sent after {} attempts: {}",
                    queued.attempts, queued.last_error
                );
                self.dead_letter(&shard, queued, &error, true);
                continue;
            }
            let mut queued = queued;
            let at = match (request_retry_at, delays.get(&shard)) {
                (Some(at), _) | (None, Some(&at)) => at,
                (None, None) => {
                    let delay = self.queue(&shard).backoff.next_delay();
                    let at = now + delay;
                    delays.insert(shard.clone(), at);
                    at
                }
            };
            queued.not_before = Some(at);
            if self.map.ids().any(|id| id == shard) {
                self.queue(&shard).records.push_front(queued);
            } else {
                self.stale = true;
                orphans.push(queued);
            }
        }
        self.orphans.extend(orphans.into_iter().rev());
    }

    fn maybe_stats(&mut self) {
        if let Some(every) = self.options.common.stats_interval {
            if self.stats.since().elapsed() >= every {
                self.print_stats();
            }
        }
    }

    fn print_stats(&mut self) {
        let line = self.stats.take_line();
        eprintln!("{line} sent; {} queued", self.queued);
    }
}
