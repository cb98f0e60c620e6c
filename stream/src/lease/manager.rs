//! KCL's lease protocol for one worker: shard sync (ListShards → leases), the renewer
//! (`DynamoDBLeaseRenewer`), the taker (`DynamoDBLeaseTaker`: expired or unowned leases first,
//! then one steal a pass toward an even share) and the cleanup of finished parents.
//!
//! Time is only ever this worker's monotonic clock (`tokio::time::Instant`): a lease is expired
//! when its `leaseCounter` has not changed for the failover time since *we* first saw that
//! value, so clock skew between machines cannot matter. We stop reading a shard before another
//! worker could take it: our last successful renewal was sent at `renewed_at`; the others first
//! saw its counter after that, so they cannot take it before `renewed_at + failover`, and we
//! drop it one pass before that.

use super::table::{CheckpointUpdate, Lease, LeaseError, LeaseTable, Position};
use crate::kinesis::{KinesisApi, ShardInfo};
use crate::metrics::Metrics as LeaseMetrics;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// KCL's default failover time.
pub const DEFAULT_FAILOVER: Duration = Duration::from_secs(10);

/// A shard this worker holds the lease of, as the consume coordinator needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Where the lease's checkpoint was when we took it.
    pub checkpoint: Position,
    pub sub_sequence: u64,
    /// Every parent has been read to its end (`SHARD_END`) or is gone: reading may start.
    pub ready: bool,
}

/// The shards this worker owns now (the feed the consume coordinator follows).
pub type Owned = BTreeMap<String, Grant>;

/// What a checkpoint write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpointed {
    Written,
    /// We do not hold this lease (never did, lost it, or it finished): nothing written.
    NotHeld,
    /// The condition failed: the lease moved to another worker; we stop reading it.
    Lost,
}

#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub worker_id: String,
    pub failover: Duration,
    /// How often shards are listed again (besides when a shard ends).
    pub shard_sync: Duration,
    /// Where a lease created on an empty table starts.
    pub start_latest: bool,
    /// The table must answer within this time at start (`--connect-timeout`), else the
    /// consumer stops (exit 3); `None`: wait for it (a session after a config change).
    pub connect_timeout: Option<Duration>,
}

impl LeaseSettings {
    /// Renewals: every failover/3, as KCL.
    pub fn renew_interval(&self) -> Duration {
        self.failover / 3
    }

    /// Scans (and takes) run twice per renewal interval so that a dead worker's leases are seen
    /// to expire within the failover time plus one renewal interval.
    pub fn pass_interval(&self) -> Duration {
        self.failover / 6
    }
}

struct Held {
    counter: u64,
    /// When our last successful write of this lease was sent.
    renewed_at: Instant,
    grant: Grant,
    parents: Vec<String>,
}

struct Shared<T> {
    table: T,
    settings: LeaseSettings,
    held: Mutex<BTreeMap<String, Held>>,
    owned: watch::Sender<Owned>,
    sync_now: Notify,
    /// Children of each shard, from the last listing (written with `SHARD_END`).
    children: std::sync::Mutex<HashMap<String, Vec<String>>>,
    metrics: LeaseMetrics,
}

/// The handle the writer checkpoints through and the coordinator follows; cheap to clone.
pub struct Leases<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Leases<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: LeaseTable> Leases<T> {
    /// A table call, counted, and bounded by `limit` (a hung request must not outlive the lease
    /// it protects).
    async fn bounded<F, R>(&self, limit: Duration, call: F) -> Result<R, LeaseError>
    where
        F: Future<Output = Result<R, LeaseError>>,
    {
        self.shared.metrics.table_request();
        match tokio::time::timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => Err(LeaseError::Transient(format!(
                "no answer within {:.1} s",
                limit.as_secs_f64()
            ))),
        }
    }

    pub fn new(table: T, settings: LeaseSettings, metrics: LeaseMetrics) -> Self {
        let (owned, _) = watch::channel(Owned::new());
        Self {
            shared: Arc::new(Shared {
                table,
                settings,
                held: Mutex::new(BTreeMap::new()),
                owned,
                sync_now: Notify::new(),
                children: std::sync::Mutex::new(HashMap::new()),
                metrics,
            }),
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.shared.settings.worker_id
    }

    pub fn settings(&self) -> &LeaseSettings {
        &self.shared.settings
    }

    pub fn metrics(&self) -> &LeaseMetrics {
        &self.shared.metrics
    }

    /// The shards owned now, and every change to them.
    pub fn subscribe(&self) -> watch::Receiver<Owned> {
        self.shared.owned.subscribe()
    }

    /// Ask for a shard sync at the next pass (a shard ended: its children may need leases).
    pub fn request_sync(&self) {
        self.shared.sync_now.notify_one();
    }

    fn publish(&self, held: &BTreeMap<String, Held>) {
        let owned: Owned = held
            .iter()
            .map(|(key, h)| (key.clone(), h.grant.clone()))
            .collect();
        self.shared.metrics.set_held(owned.len());
        self.shared.owned.send_if_modified(|current| {
            if *current == owned {
                false
            } else {
                *current = owned;
                true
            }
        });
    }

    /// Writes a checkpoint of a lease we hold, conditional on owner and counter.
    pub async fn checkpoint(
        &self,
        key: &str,
        position: Position,
        sub_sequence: u64,
    ) -> Result<Checkpointed, LeaseError> {
        let limit = self.shared.settings.pass_interval();
        let mut held = self.shared.held.lock().await;
        let Some(lease) = held.get(key) else {
            return Ok(Checkpointed::NotHeld);
        };
        let children = if position == Position::ShardEnd {
            self.shared
                .children
                .lock()
                .ok()
                .and_then(|c| c.get(key).cloned())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let update = CheckpointUpdate {
            position: position.clone(),
            sub_sequence,
            children,
        };
        let sent = Instant::now();
        let worker = &self.shared.settings.worker_id;
        let result = self
            .bounded(
                limit,
                self.shared
                    .table
                    .checkpoint(key, worker, lease.counter, &update),
            )
            .await;
        match result {
            Ok(()) => {
                self.shared.metrics.checkpoint_written();
                let finished = position == Position::ShardEnd;
                if finished {
                    info!(shard_id = %key, "shard finished: checkpoint SHARD_END");
                    held.remove(key);
                    self.publish(&held);
                } else if let Some(lease) = held.get_mut(key) {
                    lease.counter += 1;
                    lease.renewed_at = sent;
                }
                Ok(Checkpointed::Written)
            }
            Err(LeaseError::Lost) => {
                self.shared.metrics.conditional_failure();
                warn!(shard_id = %key, "lease lost: checkpoint refused (another worker took the lease); stopped reading the shard");
                held.remove(key);
                self.publish(&held);
                Ok(Checkpointed::Lost)
            }
            Err(error) => {
                self.count_error(&error);
                Err(error)
            }
        }
    }

    fn count_error(&self, error: &LeaseError) {
        if matches!(error, LeaseError::Throttled(_)) {
            self.shared.metrics.throttled();
        }
    }

    /// Renews every lease we hold; drops those we can no longer prove we own.
    async fn renew_all(&self, lost: &mut Vec<String>) {
        let settings = &self.shared.settings;
        let mut held = self.shared.held.lock().await;
        let keys: Vec<String> = held.keys().cloned().collect();
        for key in keys {
            // Slow answers must not delay giving up what can no longer be proven ours.
            self.drop_unprovable(&mut held);
            let Some(lease) = held.get(&key) else {
                continue;
            };
            let sent = Instant::now();
            let result = self
                .bounded(
                    settings.pass_interval(),
                    self.shared
                        .table
                        .renew(&key, &settings.worker_id, lease.counter),
                )
                .await;
            match result {
                Ok(()) => {
                    if let Some(lease) = held.get_mut(&key) {
                        lease.counter += 1;
                        lease.renewed_at = sent;
                    }
                }
                Err(LeaseError::Lost) => {
                    self.shared.metrics.conditional_failure();
                    held.remove(&key);
                    lost.push(key);
                }
                Err(error) => {
                    self.count_error(&error);
                    debug!(shard_id = %key, error = %error, "lease renewal failed; retrying next pass");
                }
            }
        }
        self.drop_unprovable(&mut held);
        self.publish(&held);
    }

    /// Leases whose last renewal is too old to be sure nobody else has taken them.
    fn drop_unprovable(&self, held: &mut BTreeMap<String, Held>) {
        let settings = &self.shared.settings;
        let horizon = settings
            .failover
            .saturating_sub(settings.pass_interval() + settings.pass_interval() / 2);
        let stale: Vec<String> = held
            .iter()
            .filter(|(_, h)| h.renewed_at.elapsed() >= horizon)
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            warn!(shard_id = %key, failover_seconds = settings.failover.as_secs_f64(),
                  "lease not renewed in time (lease table unreachable): stopped reading the shard");
            held.remove(&key);
        }
    }

    /// Gives every lease up (after the final checkpoint): the others take them on their next
    /// pass instead of after the failover time.
    pub async fn release_all(&self) {
        let settings = &self.shared.settings;
        let mut held = self.shared.held.lock().await;
        for (key, lease) in std::mem::take(&mut *held) {
            let result = self
                .bounded(
                    settings.pass_interval(),
                    self.shared
                        .table
                        .release(&key, &settings.worker_id, lease.counter),
                )
                .await;
            match result {
                Ok(()) => info!(shard_id = %key, "lease released"),
                Err(error) => {
                    warn!(shard_id = %key, error = %error, "cannot release the lease; it expires after the failover time")
                }
            }
        }
        self.publish(&held);
    }

    /// The worker's loop until `stop`: table, then a pass every `pass_interval`. Returns only a
    /// fatal error (credentials, a missing stream is reported by the consumer's own listing).
    pub async fn run<A: KinesisApi>(
        &self,
        api: A,
        stream: Arc<str>,
        stop: CancellationToken,
        reached: impl FnOnce(),
    ) -> Result<(), LeaseError> {
        let settings = self.shared.settings.clone();
        let mut backoff = crate::backoff::Backoff::for_kinesis();
        let deadline = settings.connect_timeout.map(|t| Instant::now() + t);
        loop {
            match self.shared.table.ensure_table().await {
                Ok(()) => break,
                Err(error) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    return Err(LeaseError::Transient(format!(
                        "lease table not reachable within {:.0} s: {error}",
                        settings.connect_timeout.unwrap_or_default().as_secs_f64()
                    )))
                }
                Err(error) if error.is_retryable() => {
                    let delay = backoff.next_delay();
                    warn!(error = %error, "lease table not ready; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                Err(error) => return Err(error),
            }
        }
        let mut reached = Some(reached);
        let mut state = PassState::default();
        let mut next_sync = Instant::now();
        let mut next_renew = Instant::now() + settings.renew_interval();
        let mut listing: Option<Vec<ShardInfo>> = None;
        loop {
            if Instant::now() >= next_sync || listing.is_none() {
                match api.list_shards(&stream).await {
                    Ok(shards) => {
                        listing = Some(shards);
                        next_sync = Instant::now() + settings.shard_sync;
                        if let Some(reached) = reached.take() {
                            reached();
                        }
                    }
                    Err(error) => {
                        debug!(error = %error, "ListShards for the lease sync failed; retrying next pass")
                    }
                }
            }
            let mut lost = Vec::new();
            if Instant::now() >= next_renew {
                self.renew_all(&mut lost).await;
                next_renew = Instant::now() + settings.renew_interval();
            }
            match self
                .bounded(settings.pass_interval(), self.shared.table.scan())
                .await
            {
                Ok(leases) => {
                    for key in &lost {
                        let owner = leases
                            .iter()
                            .find(|l| &l.key == key)
                            .and_then(|l| l.owner.clone());
                        warn!(shard_id = %key, new_owner = owner.as_deref().unwrap_or("-"),
                              "lease lost: renewal refused (another worker took it); stopped reading the shard");
                    }
                    let mut leases = leases;
                    if let Some(shards) = &listing {
                        if self.sync_shards(shards, &leases, &mut state).await {
                            // New leases: take them in this pass, not the next one.
                            if let Ok(fresh) = self
                                .bounded(settings.pass_interval(), self.shared.table.scan())
                                .await
                            {
                                leases = fresh;
                            }
                        }
                    }
                    self.pass(&leases, listing.as_deref(), &mut state).await;
                }
                Err(error) => {
                    self.count_error(&error);
                    for key in &lost {
                        warn!(shard_id = %key, "lease lost: renewal refused; stopped reading the shard");
                    }
                    debug!(error = %error, "lease table scan failed; retrying next pass");
                    let mut held = self.shared.held.lock().await;
                    self.drop_unprovable(&mut held);
                    self.publish(&held);
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = tokio::time::sleep(settings.pass_interval()) => {}
                _ = self.shared.sync_now.notified() => { next_sync = Instant::now(); }
            }
        }
    }

    /// Shards found by ListShards become leases (conditional creates: any number of workers may
    /// race).
    /// True when it created a lease.
    async fn sync_shards(
        &self,
        shards: &[ShardInfo],
        leases: &[Lease],
        state: &mut PassState,
    ) -> bool {
        let by_key: HashMap<&str, &Lease> = leases.iter().map(|l| (l.key.as_str(), l)).collect();
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for shard in shards {
            for parent in shard.parents() {
                children
                    .entry(parent.to_owned())
                    .or_default()
                    .push(shard.id.clone());
            }
        }
        let fresh_table = leases.is_empty() && !state.synced_once;
        let mut created = false;
        for shard in shards {
            if by_key.contains_key(shard.id.as_str()) {
                continue;
            }
            // A finished parent whose children have started was cleaned up: never again.
            let kids = children.get(&shard.id).cloned().unwrap_or_default();
            if shard.closed
                && kids.iter().any(|k| {
                    by_key
                        .get(k.as_str())
                        .is_some_and(|l| l.checkpoint.started())
                })
            {
                continue;
            }
            let start = if fresh_table && self.shared.settings.start_latest {
                if shard.closed {
                    Position::ShardEnd
                } else {
                    Position::Latest
                }
            } else {
                Position::TrimHorizon
            };
            let mut lease = Lease::new(
                &shard.id,
                shard.parents().map(str::to_owned).collect(),
                start,
            );
            lease.hash_range = shard.hash_range.clone();
            match self
                .bounded(
                    self.shared.settings.pass_interval(),
                    self.shared.table.create(&lease),
                )
                .await
            {
                Ok(true) => {
                    created = true;
                    info!(shard_id = %shard.id, "lease created for a new shard");
                }
                Ok(false) => {}
                Err(error) => {
                    self.count_error(&error);
                    debug!(shard_id = %shard.id, error = %error, "cannot create the lease; retrying next sync");
                    return created;
                }
            }
        }
        state.synced_once = true;
        if let Ok(mut slot) = self.shared.children.lock() {
            *slot = children;
        }
        created
    }

    /// One taker pass over a fresh scan: readiness of what we hold, take, steal, clean up.
    async fn pass(&self, leases: &[Lease], listing: Option<&[ShardInfo]>, state: &mut PassState) {
        let settings = &self.shared.settings;
        let me = settings.worker_id.as_str();
        let now = Instant::now();
        // Local expiry clocks: restart whenever the counter moves.
        state
            .seen
            .retain(|key, _| leases.iter().any(|l| &l.key == key));
        for lease in leases {
            let entry = state
                .seen
                .entry(lease.key.clone())
                .or_insert((lease.counter, now));
            if entry.0 != lease.counter {
                *entry = (lease.counter, now);
            }
        }
        let by_key: HashMap<&str, &Lease> = leases.iter().map(|l| (l.key.as_str(), l)).collect();
        let listed: Option<BTreeSet<&str>> =
            listing.map(|shards| shards.iter().map(|s| s.id.as_str()).collect());
        let ready = |parents: &[String]| {
            parents.iter().all(|p| match by_key.get(p.as_str()) {
                Some(parent) => parent.finished(),
                None => listed.as_ref().is_some_and(|l| !l.contains(p.as_str())),
            })
        };
        let mut held = self.shared.held.lock().await;
        self.drop_unprovable(&mut held);
        // A lease we hold that the table no longer shows as ours (deleted, or taken while a
        // renewal was in flight) is dropped; readiness is refreshed.
        let mut gone = Vec::new();
        for (key, h) in held.iter_mut() {
            match by_key.get(key.as_str()) {
                Some(lease) if lease.owner.as_deref() == Some(me) && !lease.finished() => {
                    h.grant.ready = ready(&h.parents);
                }
                Some(lease) if lease.counter > h.counter => gone.push(key.clone()),
                None => gone.push(key.clone()),
                Some(_) => {}
            }
        }
        for key in gone {
            warn!(shard_id = %key, "lease lost: the table shows another owner; stopped reading the shard");
            held.remove(&key);
        }

        let active: Vec<&Lease> = leases.iter().filter(|l| !l.finished()).collect();
        let expired = |lease: &Lease| {
            lease.owner.is_none()
                || state
                    .seen
                    .get(&lease.key)
                    .is_some_and(|(_, since)| now.duration_since(*since) >= settings.failover)
        };
        let mut loads: BTreeMap<&str, Vec<&Lease>> = BTreeMap::new();
        let mut available: Vec<&Lease> = Vec::new();
        for lease in &active {
            if held.contains_key(&lease.key) {
                continue;
            }
            if expired(lease) {
                available.push(lease);
            } else if let Some(owner) = lease.owner.as_deref() {
                if owner != me {
                    loads.entry(owner).or_default().push(lease);
                }
            }
        }
        let workers = loads.len() + 1;
        let target = active.len().div_ceil(workers);
        let mine = held.len();
        let needed = target.saturating_sub(mine);
        let mut to_take: Vec<&Lease> = Vec::new();
        if needed > 0 && !available.is_empty() {
            // Ready shards first, so a new worker starts reading at once.
            available.sort_by_key(|l| (!ready(&l.parents), l.key.clone()));
            to_take.extend(available.iter().take(needed));
        } else if needed > 0 {
            let most_loaded = loads
                .iter()
                .max_by_key(|(owner, leases)| (leases.len(), std::cmp::Reverse(*owner)));
            if let Some((_, theirs)) = most_loaded {
                let count = theirs.len();
                if count > target || (count == target && needed > 1) {
                    let mut theirs = theirs.clone();
                    theirs.sort_by_key(|l| (!ready(&l.parents), l.key.clone()));
                    to_take.extend(theirs.first().copied());
                }
            }
        }
        for lease in to_take {
            let sent = Instant::now();
            let result = self
                .bounded(
                    settings.pass_interval(),
                    self.shared
                        .table
                        .take(&lease.key, lease.counter, lease.owner.as_deref(), me),
                )
                .await;
            match result {
                Ok(()) => {
                    let previous = lease.owner.as_deref().unwrap_or("-");
                    let how = if expired(lease) { "taken" } else { "stolen" };
                    info!(shard_id = %lease.key, previous_owner = previous, how, "lease gained");
                    self.shared.metrics.lease_gained();
                    held.insert(
                        lease.key.clone(),
                        Held {
                            counter: lease.counter + 1,
                            renewed_at: sent,
                            grant: Grant {
                                checkpoint: lease.checkpoint.clone(),
                                sub_sequence: lease.sub_sequence,
                                ready: ready(&lease.parents),
                            },
                            parents: lease.parents.clone(),
                        },
                    );
                }
                Err(LeaseError::Lost) => {
                    self.shared.metrics.conditional_failure();
                    debug!(shard_id = %lease.key, "lease changed before we could take it");
                }
                Err(error) => {
                    self.count_error(&error);
                    debug!(shard_id = %lease.key, error = %error, "cannot take the lease; next pass");
                    break;
                }
            }
        }
        self.publish(&held);
        drop(held);

        // Finished parents go once every child has started (and so no longer needs them).
        for lease in leases.iter().filter(|l| l.finished()) {
            let children: Vec<&Lease> = leases
                .iter()
                .filter(|c| c.parents.contains(&lease.key))
                .collect();
            if !children.is_empty() && children.iter().all(|c| c.checkpoint.started()) {
                match self
                    .bounded(
                        settings.pass_interval(),
                        self.shared.table.delete_finished(&lease.key),
                    )
                    .await
                {
                    Ok(()) => info!(shard_id = %lease.key, "finished parent lease cleaned up"),
                    Err(error) => {
                        debug!(shard_id = %lease.key, error = %error, "parent lease not cleaned up")
                    }
                }
            }
        }
    }
}

#[derive(Default)]
struct PassState {
    /// Per lease: the counter last seen and when (on our clock) we first saw it.
    seen: HashMap<String, (u64, Instant)>,
    synced_once: bool,
}
