//! The lease protocol on a fake table (the conditions of the real one, kept in a map) and a fake
//! ListShards, on tokio's paused clock.
#![allow(clippy::unwrap_used, reason = "tests")]

use super::manager::{Checkpointed, LeaseSettings, Leases, Owned};
use super::table::{CheckpointUpdate, Lease, LeaseError, LeaseTable, Position};
use crate::kinesis::{ApiError, KinesisApi, RecordsPage, ShardInfo, StartAt};
use crate::metrics::Metrics;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
struct FakeTable {
    rows: Arc<Mutex<BTreeMap<String, Lease>>>,
    down: Arc<Mutex<bool>>,
}

impl FakeTable {
    fn check(&self) -> Result<(), LeaseError> {
        if *self.down.lock().unwrap() {
            Err(LeaseError::Transient("connection refused".into()))
        } else {
            Ok(())
        }
    }

    fn rows(&self) -> BTreeMap<String, Lease> {
        self.rows.lock().unwrap().clone()
    }

    fn owners(&self) -> BTreeMap<String, Option<String>> {
        self.rows().into_iter().map(|(k, l)| (k, l.owner)).collect()
    }

    fn update(
        &self,
        key: &str,
        condition: impl FnOnce(&Lease) -> bool,
        change: impl FnOnce(&mut Lease),
    ) -> Result<(), LeaseError> {
        self.check()?;
        let mut rows = self.rows.lock().unwrap();
        match rows.get_mut(key) {
            Some(lease) if condition(lease) => {
                change(lease);
                Ok(())
            }
            _ => Err(LeaseError::Lost),
        }
    }
}

impl LeaseTable for FakeTable {
    async fn ensure_table(&self) -> Result<(), LeaseError> {
        self.check()
    }

    async fn scan(&self) -> Result<Vec<Lease>, LeaseError> {
        self.check()?;
        Ok(self.rows().into_values().collect())
    }

    async fn create(&self, lease: &Lease) -> Result<bool, LeaseError> {
        self.check()?;
        let mut rows = self.rows.lock().unwrap();
        if rows.contains_key(&lease.key) {
            return Ok(false);
        }
        rows.insert(lease.key.clone(), lease.clone());
        Ok(true)
    }

    async fn renew(&self, key: &str, owner: &str, counter: u64) -> Result<(), LeaseError> {
        self.update(
            key,
            |l| l.counter == counter && l.owner.as_deref() == Some(owner),
            |l| l.counter += 1,
        )
    }

    async fn take(
        &self,
        key: &str,
        counter: u64,
        old_owner: Option<&str>,
        new_owner: &str,
    ) -> Result<(), LeaseError> {
        self.update(
            key,
            |l| l.counter == counter,
            |l| {
                if old_owner.is_some_and(|o| o != new_owner) {
                    l.owner_switches += 1;
                }
                l.counter += 1;
                l.owner = Some(new_owner.to_owned());
            },
        )
    }

    async fn release(&self, key: &str, owner: &str, counter: u64) -> Result<(), LeaseError> {
        self.update(
            key,
            |l| l.counter == counter && l.owner.as_deref() == Some(owner),
            |l| {
                l.counter += 1;
                l.owner = None;
            },
        )
    }

    async fn checkpoint(
        &self,
        key: &str,
        owner: &str,
        counter: u64,
        update: &CheckpointUpdate,
    ) -> Result<(), LeaseError> {
        self.update(
            key,
            |l| l.counter == counter && l.owner.as_deref() == Some(owner),
            |l| {
                l.counter += 1;
                l.checkpoint = update.position.clone();
                l.sub_sequence = update.sub_sequence;
                l.owner_switches = 0;
            },
        )
    }

    async fn delete_finished(&self, key: &str) -> Result<(), LeaseError> {
        self.check()?;
        let mut rows = self.rows.lock().unwrap();
        match rows.get(key) {
            Some(l) if l.finished() => {
                rows.remove(key);
                Ok(())
            }
            _ => Err(LeaseError::Lost),
        }
    }
}

#[derive(Clone, Default)]
struct FakeShards(Arc<Mutex<Vec<ShardInfo>>>);

impl FakeShards {
    fn with(shards: &[(&str, Option<&str>, bool)]) -> Self {
        let list = shards
            .iter()
            .map(|(id, parent, closed)| ShardInfo {
                id: (*id).into(),
                parent: parent.map(Into::into),
                adjacent_parent: None,
                closed: *closed,
                hash_range: None,
            })
            .collect();
        Self(Arc::new(Mutex::new(list)))
    }

    fn open(count: usize) -> Self {
        let ids: Vec<String> = (0..count).map(|i| format!("shard-{i}")).collect();
        let list: Vec<(&str, Option<&str>, bool)> =
            ids.iter().map(|id| (id.as_str(), None, false)).collect();
        Self::with(&list)
    }
}

impl KinesisApi for FakeShards {
    async fn list_shards(&self, _stream: &str) -> Result<Vec<ShardInfo>, ApiError> {
        Ok(self.0.lock().unwrap().clone())
    }

    async fn shard_iterator(&self, _: &str, _: &str, _: &StartAt) -> Result<String, ApiError> {
        Err(ApiError::Fatal("not used".into()))
    }

    async fn get_records(&self, _: &str, _: u64) -> Result<RecordsPage, ApiError> {
        Err(ApiError::Fatal("not used".into()))
    }
}

const FAILOVER: Duration = Duration::from_secs(10);

fn settings(id: &str) -> LeaseSettings {
    LeaseSettings {
        worker_id: id.into(),
        failover: FAILOVER,
        shard_sync: Duration::from_secs(10),
        start_latest: false,
        connect_timeout: None,
    }
}

struct Running {
    leases: Leases<FakeTable>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), LeaseError>>,
}

impl Running {
    fn owned(&self) -> Owned {
        self.leases.subscribe().borrow().clone()
    }

    /// Stops the loop without releasing (a process that died).
    async fn die(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

fn start(table: &FakeTable, shards: &FakeShards, id: &str) -> Running {
    let leases = Leases::new(table.clone(), settings(id), Metrics::new());
    let stop = CancellationToken::new();
    let runner = leases.clone();
    let (api, token) = (shards.clone(), stop.clone());
    let task = tokio::spawn(async move { runner.run(api, Arc::from("s"), token, || {}).await });
    Running { leases, stop, task }
}

async fn advance(duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(table: &FakeTable, id: &str) -> usize {
    table
        .owners()
        .values()
        .filter(|o| o.as_deref() == Some(id))
        .count()
}

#[tokio::test(start_paused = true)]
async fn workers_divide_the_leases_evenly_one_steal_a_pass() {
    let table = FakeTable::default();
    let shards = FakeShards::open(6);
    let a = start(&table, &shards, "a");
    advance(Duration::from_secs(3)).await;
    assert_eq!(count(&table, "a"), 6, "alone, a takes every lease");
    assert_eq!(a.owned().len(), 6);
    let b = start(&table, &shards, "b");
    let c = start(&table, &shards, "c");
    advance(Duration::from_secs(30)).await;
    for id in ["a", "b", "c"] {
        assert_eq!(count(&table, id), 2, "{id}: {:?}", table.owners());
    }
    // What each worker believes it owns is what the table says.
    for (id, w) in [("a", &a), ("b", &b), ("c", &c)] {
        let owned: Vec<String> = w.owned().into_keys().collect();
        let in_table: Vec<String> = table
            .owners()
            .into_iter()
            .filter(|(_, o)| o.as_deref() == Some(id))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(owned, in_table);
    }
    // A fourth worker: ceil(6/4) = 2, so it steals up to 2, 2, 1, 1.
    let d = start(&table, &shards, "d");
    advance(Duration::from_secs(30)).await;
    let mut loads: Vec<usize> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| count(&table, id))
        .collect();
    loads.sort_unstable();
    assert_eq!(loads, vec![1, 1, 2, 2]);
    for w in [a, b, c, d] {
        w.stop.cancel();
        let _ = w.task.await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_dead_workers_leases_are_taken_only_after_the_failover_time() {
    let table = FakeTable::default();
    let shards = FakeShards::open(2);
    let a = start(&table, &shards, "a");
    advance(Duration::from_secs(2)).await;
    assert_eq!(count(&table, "a"), 2);
    let b = start(&table, &shards, "b");
    advance(Duration::from_secs(12)).await;
    assert_eq!((count(&table, "a"), count(&table, "b")), (1, 1));
    let died = Instant::now();
    a.die().await;
    // Not before the failover time: the counter must stand still that long on b's clock.
    let mut taken_at = None;
    while taken_at.is_none() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if count(&table, "b") == 2 {
            taken_at = Some(died.elapsed());
        }
        assert!(died.elapsed() < Duration::from_secs(60), "never taken");
    }
    let taken = taken_at.unwrap();
    assert!(taken >= FAILOVER - FAILOVER / 3, "taken after {taken:?}");
    assert!(
        taken <= FAILOVER + FAILOVER / 3 + Duration::from_millis(500),
        "within failover + one renewal interval: {taken:?}"
    );
    assert_eq!(b.owned().len(), 2);
    b.stop.cancel();
    let _ = b.task.await;
}

#[tokio::test(start_paused = true)]
async fn a_lost_lease_leaves_the_feed_at_once_and_is_never_checkpointed_again() {
    let table = FakeTable::default();
    let shards = FakeShards::open(1);
    let a = start(&table, &shards, "a");
    advance(Duration::from_secs(2)).await;
    assert_eq!(a.owned().len(), 1);
    assert_eq!(
        a.leases
            .checkpoint("shard-0", Position::Sequence("100".into()), 0)
            .await,
        Ok(Checkpointed::Written)
    );
    // Another worker steals it (a conditional write of its own).
    let counter = table.rows()["shard-0"].counter;
    table
        .take("shard-0", counter, Some("a"), "thief")
        .await
        .unwrap();
    // The next checkpoint fails its condition: the lease leaves the feed, nothing is written.
    assert_eq!(
        a.leases
            .checkpoint("shard-0", Position::Sequence("200".into()), 0)
            .await,
        Ok(Checkpointed::Lost)
    );
    assert!(a.owned().is_empty());
    assert_eq!(
        a.leases
            .checkpoint("shard-0", Position::Sequence("300".into()), 0)
            .await,
        Ok(Checkpointed::NotHeld)
    );
    let row = &table.rows()["shard-0"];
    assert_eq!(row.checkpoint, Position::Sequence("100".into()));
    assert_eq!(row.owner.as_deref(), Some("thief"));
    assert_eq!(row.owner_switches, 1);
    a.stop.cancel();
    let _ = a.task.await;
}

#[tokio::test(start_paused = true)]
async fn without_the_table_a_worker_stops_before_anyone_could_take_its_leases() {
    let table = FakeTable::default();
    let shards = FakeShards::open(2);
    let a = start(&table, &shards, "a");
    advance(Duration::from_secs(2)).await;
    assert_eq!(a.owned().len(), 2);
    let last_counter_change = Instant::now();
    *table.down.lock().unwrap() = true;
    let mut dropped_at = None;
    while dropped_at.is_none() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if a.owned().is_empty() {
            dropped_at = Some(last_counter_change.elapsed());
        }
    }
    // Another worker needs the counter unchanged for the failover time; a stopped first.
    assert!(dropped_at.unwrap() < FAILOVER, "{dropped_at:?}");
    advance(Duration::from_secs(30)).await;
    *table.down.lock().unwrap() = false;
    // Back: its own leases expire on its clock and it takes them again.
    advance(FAILOVER + Duration::from_secs(4)).await;
    assert_eq!(a.owned().len(), 2);
    a.stop.cancel();
    let _ = a.task.await;
}

#[tokio::test(start_paused = true)]
async fn release_removes_the_owner_and_bumps_the_counter() {
    let table = FakeTable::default();
    let shards = FakeShards::open(2);
    let a = start(&table, &shards, "a");
    advance(Duration::from_secs(2)).await;
    let before = table.rows();
    a.stop.cancel();
    let _ = a.task.await;
    a.leases.release_all().await;
    for (key, row) in table.rows() {
        assert_eq!(row.owner, None);
        assert_eq!(row.counter, before[&key].counter + 1);
    }
    assert!(a.leases.subscribe().borrow().is_empty());
    // Unowned leases are taken at once, without waiting for the failover time.
    let b = start(&table, &shards, "b");
    advance(Duration::from_secs(2)).await;
    assert_eq!(count(&table, "b"), 2);
    b.stop.cancel();
    let _ = b.task.await;
}

#[tokio::test(start_paused = true)]
async fn a_child_is_ready_only_after_its_parent_ends_and_the_parent_goes_once_it_started() {
    let table = FakeTable::default();
    let shards = FakeShards::with(&[
        ("parent", None, true),
        ("child-1", Some("parent"), false),
        ("child-2", Some("parent"), false),
    ]);
    let a = start(&table, &shards, "a");
    advance(Duration::from_secs(2)).await;
    let owned = a.owned();
    assert!(owned["parent"].ready);
    assert!(!owned["child-1"].ready && !owned["child-2"].ready);
    assert_eq!(
        a.leases.checkpoint("parent", Position::ShardEnd, 0).await,
        Ok(Checkpointed::Written)
    );
    advance(Duration::from_secs(2)).await;
    let owned = a.owned();
    assert!(
        !owned.contains_key("parent"),
        "a finished lease is not held"
    );
    assert!(owned["child-1"].ready && owned["child-2"].ready);
    assert!(
        table.rows().contains_key("parent"),
        "kept until the children start"
    );
    for child in ["child-1", "child-2"] {
        a.leases
            .checkpoint(child, Position::Sequence("5".into()), 0)
            .await
            .unwrap();
    }
    advance(Duration::from_secs(12)).await;
    assert!(!table.rows().contains_key("parent"), "cleaned up");
    // ListShards still lists the parent: it is not created again.
    advance(Duration::from_secs(12)).await;
    assert!(!table.rows().contains_key("parent"));
    a.stop.cancel();
    let _ = a.task.await;
}
