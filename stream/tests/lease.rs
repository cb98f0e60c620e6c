//! `consume --lease-table` with several worker processes against the real emulators: kinesis-mock
//! (npm `kinesis-local`) for the stream and dynalite (npm `dynalite`, a DynamoDB implementation
//! on LevelDB) for the lease table, both started per test. Records are written by
//! `@aws-sdk/client-kinesis`; the table is read (and seeded in KCL's format) with the official
//! Rust DynamoDB SDK.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// What the tests read from the lease table, with the official DynamoDB SDK.
trait TableView {
    fn client(&self) -> aws_sdk_dynamodb::Client;
    fn items(&self, table: &str) -> Vec<HashMap<String, AttributeValue>>;
    fn owners(&self, table: &str) -> BTreeMap<String, Option<String>>;
}

impl TableView for Dynalite {
    fn client(&self) -> aws_sdk_dynamodb::Client {
        let connection = kinesis_stream::kinesis::Connection {
            region: "us-east-1".into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Some(SECRET.into()),
            endpoint_url: None,
        };
        let config = block_on(connection.sdk_config(Some(self.endpoint()), None));
        aws_sdk_dynamodb::Client::new(&config)
    }

    /// Every item of the table, raw.
    fn items(&self, table: &str) -> Vec<HashMap<String, AttributeValue>> {
        let client = self.client();
        block_on(async {
            client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .send()
                .await
                .map(|out| out.items.unwrap_or_default())
                .unwrap_or_default()
        })
    }

    /// leaseKey → leaseOwner for every lease whose checkpoint is not SHARD_END.
    fn owners(&self, table: &str) -> BTreeMap<String, Option<String>> {
        self.items(table)
            .iter()
            .filter(|i| text(i, "checkpoint").as_deref() != Some("SHARD_END"))
            .map(|i| (text(i, "leaseKey").unwrap(), text(i, "leaseOwner")))
            .collect()
    }
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_n().ok()).cloned()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// One `consume --lease-table` worker process, its stdout and stderr in files.
struct Worker {
    id: String,
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Worker {
    fn start(
        emulator: &Emulator,
        dynamo: &Dynalite,
        dir: &Path,
        config: &Path,
        id: &str,
        failover: &str,
    ) -> Self {
        Self::start_with(emulator, dynamo, dir, config, id, failover, &[])
    }

    fn start_with(
        emulator: &Emulator,
        dynamo: &Dynalite,
        dir: &Path,
        config: &Path,
        id: &str,
        failover: &str,
        extra: &[&str],
    ) -> Self {
        let out = dir.join(format!("{id}.out"));
        let err = dir.join(format!("{id}.err"));
        let mut cmd = consume(
            emulator,
            &dir.join(id),
            config,
            &[
                "--lease-table",
                "leases",
                "--worker-id",
                id,
                "--failover-time",
                failover,
                "--dynamodb-endpoint-url",
                &dynamo.endpoint(),
            ],
        );
        cmd.args(extra)
            .env("KINESIS_CONNECTOR_LOG", "warn,kinesis_stream=info")
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        Worker {
            id: id.to_owned(),
            child: cmd.spawn().unwrap(),
            out,
            err,
        }
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        lines(&std::fs::read(&self.out).unwrap_or_default())
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.err).unwrap_or_default()).into_owned()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM and the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        self.child.wait().unwrap()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (polling) until `done` holds; panics with `what` and the workers' logs after `limit`.
fn wait_for(what: &str, limit: Duration, workers: &[&Worker], mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            for w in workers {
                eprintln!("--- {} ---\n{}", w.id, w.log());
            }
            panic!("timed out waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// How many log lines each worker has written so far (a mark to look at later lines only).
fn marks(workers: &[&Worker]) -> Vec<usize> {
    workers.iter().map(|w| w.log().lines().count()).collect()
}

/// Shards whose lease moved in the workers' logs since `marks`: lost, dropped, or gained more
/// than `expected_gains` times.
fn moved_since(workers: &[&Worker], marks: &[usize], expected_gains: usize) -> BTreeSet<String> {
    let mut gains: BTreeMap<String, usize> = BTreeMap::new();
    let mut moved = BTreeSet::new();
    for (w, mark) in workers.iter().zip(marks) {
        for line in w.log().lines().skip(*mark) {
            let Some(shard) = line
                .split("shard_id=")
                .nth(1)
                .and_then(|rest| rest.split([' ', '}', ':']).next())
            else {
                continue;
            };
            if line.contains("lease gained") {
                *gains.entry(shard.to_owned()).or_insert(0) += 1;
            } else if line.contains("lease lost") || line.contains("lease not renewed") {
                moved.insert(shard.to_owned());
            }
        }
    }
    moved.extend(
        gains
            .into_iter()
            .filter(|(_, n)| *n > expected_gains)
            .map(|(s, _)| s),
    );
    moved
}

/// How long the old owner of a lease another worker took may go on reading its shard before it
/// logs the loss: until its next renewal is refused, and at the latest until it drops the lease
/// it could not renew, before the failover time (6 s in these tests) has passed. A lease taken
/// just before a mark shows in the table at once but in its old owner's log only then.
const NOTICE: Duration = Duration::from_secs(8);

/// Every record `n` in `wanted` was read, and read more than once only from a shard whose lease
/// moved since `marks` (duplicates come only from records after the last checkpoint of a lease
/// that moved). A repeat on a shard not yet seen to move is looked at again for up to
/// [`NOTICE`], for its old owner to log the loss.
fn once_unless_moved(
    workers: &[&Worker],
    marks: &[usize],
    expected_gains: usize,
    wanted: impl Fn(u64, &str) -> bool,
    what: &str,
) {
    let deadline = Instant::now() + NOTICE;
    loop {
        let moved = moved_since(workers, marks, expected_gains);
        let mut seen: BTreeMap<u64, (usize, String)> = BTreeMap::new();
        for w in workers {
            for line in w.lines() {
                let n = line["data"]["n"].as_u64().unwrap();
                if wanted(n, line["shardId"].as_str().unwrap()) {
                    let entry = seen
                        .entry(n)
                        .or_insert((0, line["shardId"].as_str().unwrap().to_owned()));
                    entry.0 += 1;
                }
            }
        }
        assert!(!seen.is_empty(), "{what}: no records");
        let repeated = seen
            .into_iter()
            .find(|(_, (times, shard))| *times != 1 && !moved.contains(shard));
        match repeated {
            None => {
                if !moved.is_empty() {
                    eprintln!("{what}: leases moved under load: {moved:?}");
                }
                return;
            }
            Some(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(250)),
            Some((n, (times, shard))) => {
                for w in workers {
                    eprintln!("--- {} ---\n{}", w.id, w.log());
                }
                panic!(
                    "{what}: record {n} of {shard} read {times} times, and its lease did not move"
                );
            }
        }
    }
}

fn ns_of(lines: &[serde_json::Value]) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| l["data"]["n"].as_u64())
        .collect()
}

/// Every `n` any worker wrote, with how many times.
fn union(workers: &[&Worker]) -> BTreeMap<u64, usize> {
    let mut all = BTreeMap::new();
    for w in workers {
        for n in ns_of(&w.lines()) {
            *all.entry(n).or_insert(0) += 1;
        }
    }
    all
}

fn holds_all(workers: &[&Worker], range: std::ops::Range<u64>) -> bool {
    let all = union(workers);
    range.into_iter().all(|n| all.contains_key(&n))
}

/// Lease count per owner.
fn loads(dynamo: &Dynalite) -> BTreeMap<String, usize> {
    let mut loads = BTreeMap::new();
    for owner in dynamo.owners("leases").into_values().flatten() {
        *loads.entry(owner).or_insert(0) += 1;
    }
    loads
}

fn settled(dynamo: &Dynalite, ids: &[&str], each: usize) -> bool {
    let loads = loads(dynamo);
    loads.len() == ids.len() && ids.iter().all(|id| loads.get(*id) == Some(&each))
}

const LONG: Duration = Duration::from_secs(180);

#[test]
fn three_workers_settle_at_two_leases_and_kill_9_moves_leases_without_loss() {
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("lease-three-db");
    let dir = scratch("lease-three");
    emulator.create_stream("three", 6);
    emulator.put(&dir, "three", &numbered(600, 23, 0));
    let config = config(&dir, "three", 6, json!({}));
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let a = Worker::start_with(
        &emulator,
        &dynamo,
        &dir,
        &config,
        "worker-a",
        "6",
        &["--metrics-addr", &metrics_addr],
    );
    let b = Worker::start(&emulator, &dynamo, &dir, &config, "worker-b", "6");
    let c = Worker::start(&emulator, &dynamo, &dir, &config, "worker-c", "6");
    let all = [&a, &b, &c];
    wait_for("2 leases each", LONG, &all, || {
        settled(&dynamo, &["worker-a", "worker-b", "worker-c"], 2)
    });
    // Prometheus text from worker-a: what it holds, what it read per shard.
    wait_for("worker-a's metrics", LONG, &all, || {
        let text = scrape(metrics_port);
        text.contains("kinesis_connector_leases_held 2")
            && text.contains("kinesis_connector_records_read_total{shard_id=\"shardId-")
            && text.contains("kinesis_connector_millis_behind_latest{shard_id=\"shardId-")
            && text.contains("kinesis_connector_checkpoints_written_total")
            && text.contains("kinesis_connector_conditional_check_failures_total")
            && text.contains("kinesis_connector_throttles_total")
    });
    wait_for("the first 600 records", LONG, &all, || {
        holds_all(&all, 0..600)
    });
    // Settled: what is written now is read exactly once, by the lease holder (unless a lease
    // moved meanwhile, as it may on a loaded machine: then only its shard may repeat).
    let settled_at = marks(&all);
    emulator.put(&dir, "three", &numbered(300, 23, 600));
    wait_for("the next 300 records", LONG, &all, || {
        holds_all(&all, 600..900)
    });
    once_unless_moved(
        &all,
        &settled_at,
        0,
        |n, _| (600..900).contains(&n),
        "after the settle",
    );

    // kill -9 worker-c mid-stream: its leases move to the other two; nothing is lost.
    let mut c = c;
    emulator.put(&dir, "three", &numbered(300, 23, 900));
    let (a_before, b_before) = (a.log().lines().count(), b.log().lines().count());
    c.signal("-KILL");
    let _ = c.child.wait();
    let survivors = [&a, &b];
    emulator.put(&dir, "three", &numbered(300, 23, 1200));
    wait_for("3 leases each on the survivors", LONG, &survivors, || {
        settled(&dynamo, &["worker-a", "worker-b"], 3)
    });
    wait_for("every record after the kill", LONG, &survivors, || {
        let all = union(&[&a, &b, &c]);
        (0..1500).all(|n| all.contains_key(&n))
    });
    let (a_log, b_log) = (a.log(), b.log());
    let gained: Vec<&str> = a_log
        .lines()
        .skip(a_before)
        .chain(b_log.lines().skip(b_before))
        .filter(|l| l.contains("lease gained"))
        .collect();
    assert_eq!(
        gained.len(),
        2,
        "worker-c's two leases moved:\n{a_log}\n{b_log}"
    );
    assert!(
        gained
            .iter()
            .all(|l| l.contains("previous_owner=\"worker-c\"") && l.contains("how=\"taken\"")),
        "taken from worker-c once expired: {gained:?}"
    );
    let mut a = a;
    let mut b = b;
    assert!(a.terminate().success(), "{}", a.log());
    assert!(b.terminate().success(), "{}", b.log());
}

#[test]
fn sigterm_hands_leases_over_without_waiting_for_the_failover_time() {
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("lease-term-db");
    let dir = scratch("lease-term");
    emulator.create_stream("term", 4);
    emulator.put(&dir, "term", &numbered(200, 13, 0));
    let config = config(&dir, "term", 4, json!({}));
    // A long failover time: a lease that moves before it has passed was handed over.
    let mut a = Worker::start(&emulator, &dynamo, &dir, &config, "worker-a", "30");
    // worker-a takes all 4 before worker-b starts: had both raced for the unowned leases,
    // worker-a could have stolen a shard worker-b had begun reading, and the records read
    // before that move would rightly be read twice.
    wait_for("worker-a holds all 4", LONG, &[&a], || {
        settled(&dynamo, &["worker-a"], 4)
    });
    let b = Worker::start(&emulator, &dynamo, &dir, &config, "worker-b", "30");
    wait_for("2 leases each", LONG, &[&a, &b], || {
        settled(&dynamo, &["worker-a", "worker-b"], 2)
    });
    wait_for("the first 200 records", LONG, &[&a, &b], || {
        holds_all(&[&a, &b], 0..200)
    });
    let before = b.log().lines().count();
    // The shards worker-a holds now never moved (it took all 4, then worker-b stole 2).
    let a_shards: BTreeSet<String> = dynamo
        .owners("leases")
        .into_iter()
        .filter(|(_, owner)| owner.as_deref() == Some("worker-a"))
        .map(|(shard, _)| shard)
        .collect();
    assert_eq!(a_shards.len(), 2);
    let status = a.terminate();
    assert!(status.success(), "{}", a.log());
    assert_eq!(a.log().matches("lease released").count(), 2, "{}", a.log());
    // Released leases have no owner: the other worker takes them as unowned on its next pass.
    emulator.put(&dir, "term", &numbered(200, 13, 200));
    wait_for("worker-b holds all 4", LONG, &[&a, &b], || {
        settled(&dynamo, &["worker-b"], 4)
    });
    wait_for("every record", LONG, &[&a, &b], || {
        holds_all(&[&a, &b], 0..400)
    });
    let log = b.log();
    let after: Vec<&str> = log
        .lines()
        .skip(before)
        .filter(|l| l.contains("lease gained"))
        .collect();
    assert_eq!(
        after.len(),
        2,
        "worker-b gained worker-a's two leases:\n{log}"
    );
    assert!(
        after
            .iter()
            .all(|l| l.contains("previous_owner=\"-\"") && l.contains("how=\"taken\"")),
        "taken as released (no owner), not after an expiry:\n{log}"
    );
    // Every record was read.
    let counts = union(&[&a, &b]);
    assert!((0..400).all(|n| counts.contains_key(&(n as u64))));
    let mut b = b;
    assert!(b.terminate().success());
    // Released after its final checkpoint: nothing of worker-a's shards is read again (one
    // gain per shard is the handoff itself).
    once_unless_moved(
        &[&a, &b],
        &[usize::MAX, before],
        1,
        |_, shard| a_shards.contains(shard),
        "the released shards",
    );
}

#[test]
fn a_fourth_worker_joins_and_steals_toward_an_even_share() {
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("lease-join-db");
    let dir = scratch("lease-join");
    emulator.create_stream("join", 6);
    emulator.put(&dir, "join", &numbered(300, 17, 0));
    let config = config(&dir, "join", 6, json!({}));
    let a = Worker::start(&emulator, &dynamo, &dir, &config, "worker-a", "6");
    let b = Worker::start(&emulator, &dynamo, &dir, &config, "worker-b", "6");
    let c = Worker::start(&emulator, &dynamo, &dir, &config, "worker-c", "6");
    wait_for("2 leases each", LONG, &[&a, &b, &c], || {
        settled(&dynamo, &["worker-a", "worker-b", "worker-c"], 2)
    });
    let d = Worker::start(&emulator, &dynamo, &dir, &config, "worker-d", "6");
    let all = [&a, &b, &c, &d];
    // 6 leases over 4 workers: 2, 2, 1, 1 (ceil(6/4) = 2, one steal a pass).
    wait_for(
        "worker-d holds leases, nobody more than 2",
        LONG,
        &all,
        || {
            let loads = loads(&dynamo);
            loads.len() == 4
                && loads.values().all(|n| *n <= 2)
                && loads.values().sum::<usize>() == 6
        },
    );
    let log = d.log();
    assert!(log.contains("how=\"stolen\""), "{log}");
    // Stable again: every new record is read exactly once, by its shard's one reader.
    // Two renewal intervals: a worker that was stolen from has noticed by then.
    std::thread::sleep(Duration::from_secs(4));
    let stable_at = marks(&all);
    emulator.put(&dir, "join", &numbered(300, 17, 300));
    wait_for("every record", LONG, &all, || holds_all(&all, 0..600));
    once_unless_moved(
        &all,
        &stable_at,
        0,
        |n, _| (300..600).contains(&n),
        "after the steals",
    );
    let owners = dynamo.owners("leases");
    assert_eq!(owners.len(), 6);
    assert!(owners.values().all(Option::is_some));
    for mut w in [a, b, c, d] {
        assert!(w.terminate().success(), "{}", w.log());
    }
}

#[test]
fn a_table_seeded_in_kcl_format_is_picked_up() {
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("lease-kcl-db");
    let dir = scratch("lease-kcl");
    emulator.create_stream("kcl", 3);
    // Shard 0: plain records; shard 1: one KPL aggregate then plain records.
    let shards = emulator.js(&["shards", "kcl"]);
    let shards: serde_json::Value = serde_json::from_str(&shards).unwrap();
    let ids: Vec<String> = shards
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ShardId"].as_str().unwrap().to_owned())
        .collect();
    emulator.put(&dir, "kcl", &numbered(90, 29, 0));
    emulator.js(&[
        "put-kpl",
        "kcl",
        "agg={\"u\":0}",
        "agg={\"u\":1}",
        "agg={\"u\":2}",
        "agg={\"u\":3}",
    ]);
    let before = emulator.dump("kcl");
    let dumped = emulator.js(&["dump", "kcl"]);
    let records: Vec<serde_json::Value> = dumped
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(before.len(), records.len());
    let seq_of = |pred: &dyn Fn(&serde_json::Value) -> bool| {
        records
            .iter()
            .find(|r| pred(r))
            .map(|r| r["sequenceNumber"].as_str().unwrap().to_owned())
            .unwrap()
    };
    // The aggregate's shard and sequence number; a mid-shard plain record elsewhere.
    let agg_shard = records
        .iter()
        .find(|r| r["partitionKey"] == "agg")
        .map(|r| r["shardId"].as_str().unwrap().to_owned())
        .unwrap();
    let agg_seq = seq_of(&|r| r["partitionKey"] == "agg");
    let plain_shard = ids.iter().find(|id| **id != agg_shard).unwrap().clone();
    let end_shard = ids
        .iter()
        .find(|id| **id != agg_shard && **id != plain_shard)
        .unwrap()
        .clone();
    let plain: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["shardId"] == plain_shard.as_str())
        .collect();
    let mid = plain.len() / 2;
    let mid_seq = plain[mid]["sequenceNumber"].as_str().unwrap().to_owned();

    // The table exactly as KCL 2.x/3.x writes it (attribute names and types), with attributes
    // we do not use, owned by a KCL worker that has gone away.
    let client = dynamo.client();
    block_on(async {
        use aws_sdk_dynamodb::types::*;
        client
            .create_table()
            .table_name("leases")
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("leaseKey")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("leaseKey")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        // Tables are created asynchronously: wait until it is ACTIVE.
        loop {
            let described = client.describe_table().table_name("leases").send().await;
            let active = described
                .ok()
                .and_then(|d| d.table)
                .and_then(|t| t.table_status)
                == Some(TableStatus::Active);
            if active {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let n = |v: u64| AttributeValue::N(v.to_string());
        for (shard, checkpoint, sub) in [
            (&plain_shard, mid_seq.as_str(), 0),
            (&agg_shard, agg_seq.as_str(), 1),
            (&end_shard, "SHARD_END", 0),
        ] {
            client
                .put_item()
                .table_name("leases")
                .item("leaseKey", s(shard))
                .item("leaseOwner", s("kcl-java-worker-1"))
                .item("leaseCounter", n(17))
                .item("ownerSwitchesSinceCheckpoint", n(0))
                .item("checkpoint", s(checkpoint))
                .item("checkpointSubSequenceNumber", n(sub))
                .item("startingHashKey", s("0"))
                .item("endingHashKey", s("1"))
                .item("throughputKBps", AttributeValue::N("1.5".into()))
                .item("leaseState", s("kcl-private"))
                .send()
                .await
                .unwrap();
        }
    });
    let config = config(&dir, "kcl", 3, json!({}));
    let mut a = Worker::start(&emulator, &dynamo, &dir, &config, "worker-a", "4");
    // 2 of 3 leases are open; the KCL worker's counters stop moving, so they expire.
    wait_for("worker-a holds the two open leases", LONG, &[&a], || {
        let owners = dynamo.owners("leases");
        owners.len() == 2 && owners.values().all(|o| o.as_deref() == Some("worker-a"))
    });
    let expected_plain: BTreeSet<String> = plain[mid + 1..]
        .iter()
        .map(|r| r["sequenceNumber"].as_str().unwrap().to_owned())
        .collect();
    wait_for("the records after each checkpoint", LONG, &[&a], || {
        let out = a.lines();
        let got: BTreeSet<String> = out
            .iter()
            .filter(|l| l["shardId"] == plain_shard.as_str())
            .map(|l| l["sequenceNumber"].as_str().unwrap().to_owned())
            .collect();
        got == expected_plain && out.iter().filter(|l| l["partitionKey"] == "agg").count() == 2
    });
    assert!(a.terminate().success(), "{}", a.log());
    let out = a.lines();
    // Resumed after the stored checkpoints: nothing at or before them, nothing twice.
    let plain_out: Vec<String> = out
        .iter()
        .filter(|l| l["shardId"] == plain_shard.as_str())
        .map(|l| l["sequenceNumber"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(plain_out.len(), expected_plain.len(), "each once");
    let agg: Vec<u64> = out
        .iter()
        .filter(|l| l["partitionKey"] == "agg")
        .map(|l| l["subSequenceNumber"].as_u64().unwrap())
        .collect();
    assert_eq!(
        agg,
        vec![2, 3],
        "the aggregate resumes after sub-sequence 1"
    );
    let agg_shard_plain = records
        .iter()
        .filter(|r| r["shardId"] == agg_shard.as_str() && r["partitionKey"] != "agg")
        .filter(|r| seq_key(r["sequenceNumber"].as_str().unwrap()) > seq_key(&agg_seq))
        .count();
    assert_eq!(
        out.iter()
            .filter(|l| l["shardId"] == agg_shard.as_str() && l["partitionKey"] != "agg")
            .count(),
        agg_shard_plain
    );
    assert!(
        out.iter().all(|l| l["shardId"] != end_shard.as_str()),
        "a SHARD_END lease is not read"
    );
    // The items keep what we do not know, and the checkpoints moved in KCL's types.
    for item in dynamo.items("leases") {
        assert_eq!(
            number(&item, "throughputKBps").as_deref(),
            Some("1.5"),
            "{item:?}"
        );
        assert_eq!(text(&item, "leaseState").as_deref(), Some("kcl-private"));
        assert_eq!(text(&item, "startingHashKey").as_deref(), Some("0"));
        assert!(number(&item, "checkpointSubSequenceNumber").is_some());
        assert!(
            number(&item, "leaseCounter")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                >= 17
        );
    }
    let items = dynamo.items("leases");
    let plain_item = items
        .iter()
        .find(|i| text(i, "leaseKey").as_deref() == Some(plain_shard.as_str()))
        .unwrap();
    assert_eq!(
        text(plain_item, "checkpoint").as_deref(),
        plain.last().unwrap()["sequenceNumber"].as_str(),
        "checkpointed at the shard's last record"
    );
    assert_eq!(text(plain_item, "leaseOwner"), None, "released at SIGTERM");
}

#[test]
fn the_lease_table_stopped_for_30_s_stops_reading_then_recovers() {
    let emulator = Emulator::start();
    let mut dynamo = Dynalite::start("lease-outage-db");
    let dir = scratch("lease-outage");
    emulator.create_stream("outage", 4);
    emulator.put(&dir, "outage", &numbered(200, 11, 0));
    let config = config(&dir, "outage", 4, json!({}));
    let a = Worker::start(&emulator, &dynamo, &dir, &config, "worker-a", "6");
    let b = Worker::start(&emulator, &dynamo, &dir, &config, "worker-b", "6");
    wait_for("2 leases each", LONG, &[&a, &b], || {
        settled(&dynamo, &["worker-a", "worker-b"], 2)
    });
    wait_for("the first 200 records", LONG, &[&a, &b], || {
        holds_all(&[&a, &b], 0..200)
    });
    dynamo.stop();
    // Without the table nobody can prove a lease: every worker stops reading its shards.
    wait_for("both workers stop reading", LONG, &[&a, &b], || {
        [&a, &b].iter().all(|w| {
            w.log()
                .matches("lease not renewed in time (lease table unreachable): stopped reading the shard")
                .count()
                >= 2
        })
    });
    let during = union(&[&a, &b]).values().sum::<usize>();
    emulator.put(&dir, "outage", &numbered(200, 11, 200));
    std::thread::sleep(Duration::from_secs(30));
    let after_outage = union(&[&a, &b]).values().sum::<usize>();
    assert_eq!(
        during, after_outage,
        "nothing is read while no lease can be proven"
    );
    dynamo.launch();
    wait_for(
        "every record after the table is back",
        LONG,
        &[&a, &b],
        || holds_all(&[&a, &b], 0..400),
    );
    let mut a = a;
    let mut b = b;
    assert!(a.terminate().success(), "{}", a.log());
    assert!(b.terminate().success(), "{}", b.log());
    let counts = union(&[&a, &b]);
    assert!((0..400u64).all(|n| counts.contains_key(&n)));
}

/// One GET of the metrics endpoint (empty when it does not answer).
/// (timestamp, line) of the log lines of every worker that contain `what`.
fn logged(workers: &[&Worker], what: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for w in workers {
        for line in w.log().lines().filter(|l| l.contains(what)) {
            let stamp = line.split_whitespace().next().unwrap_or("").to_owned();
            found.push((stamp, format!("{}: {line}", w.id)));
        }
    }
    found
}

#[test]
fn update_shard_count_while_three_workers_consume_reads_parents_before_children() {
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("lease-reshard-db");
    let dir = scratch("lease-reshard");
    emulator.create_stream("reshard", 2);
    emulator.put(&dir, "reshard", &numbered(200, 19, 0));
    let config = config(&dir, "reshard", 2, json!({}));
    let a = Worker::start(&emulator, &dynamo, &dir, &config, "worker-a", "6");
    let b = Worker::start(&emulator, &dynamo, &dir, &config, "worker-b", "6");
    let c = Worker::start(&emulator, &dynamo, &dir, &config, "worker-c", "6");
    let all = [&a, &b, &c];
    wait_for("the first 200 records", LONG, &all, || {
        holds_all(&all, 0..200)
    });
    emulator.js(&["reshard", "reshard", "4"]);
    emulator.put(&dir, "reshard", &numbered(200, 19, 200));
    wait_for("every record after the reshard", LONG, &all, || {
        holds_all(&all, 0..400)
    });
    // The children have leases and were read; each parent ended before any of its children
    // started, whichever workers held them (one clock: the workers share this machine).
    let shards: serde_json::Value =
        serde_json::from_str(&emulator.js(&["shards", "reshard"])).unwrap();
    let mut parent_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for shard in shards.as_array().unwrap() {
        let id = shard["ShardId"].as_str().unwrap().to_owned();
        for key in ["ParentShardId", "AdjacentParentShardId"] {
            if let Some(parent) = shard[key].as_str() {
                parent_of
                    .entry(id.clone())
                    .or_default()
                    .push(parent.to_owned());
            }
        }
    }
    assert!(
        !parent_of.is_empty(),
        "the reshard made child shards: {shards}"
    );
    wait_for("the parents finished", LONG, &all, || {
        parent_of.values().flatten().all(|p| {
            !logged(
                &all,
                &format!("shard finished: checkpoint SHARD_END shard_id={p}"),
            )
            .is_empty()
        })
    });
    for (child, parents) in &parent_of {
        let started = logged(&all, &format!("shard{{shard_id={child}}}: reading shard"));
        assert!(!started.is_empty(), "child {child} was read");
        for parent in parents {
            let ended = logged(
                &all,
                &format!("shard finished: checkpoint SHARD_END shard_id={parent}"),
            );
            let (ended_at, _) = ended.iter().min().unwrap();
            for (started_at, line) in &started {
                assert!(
                    started_at > ended_at,
                    "{line} before parent {parent} ended at {ended_at}"
                );
            }
        }
    }
    // Per key, the records come out in order within each worker's output.
    for w in all {
        let mut last: BTreeMap<String, u64> = BTreeMap::new();
        for line in w.lines() {
            let n = line["data"]["n"].as_u64().unwrap();
            let key = line["partitionKey"].as_str().unwrap().to_owned();
            if let Some(prev) = last.insert(key.clone(), n) {
                assert!(
                    n > prev || union(&all)[&n] > 1,
                    "{}: key {key}: {n} after {prev}",
                    w.id
                );
            }
        }
    }
    for mut w in [a, b, c] {
        assert!(w.terminate().success(), "{}", w.log());
    }
}

#[test]
fn an_unreachable_lease_table_exits_3_after_the_connect_timeout() {
    let emulator = Emulator::start();
    let dir = scratch("lease-unreachable");
    emulator.create_stream("nodb", 1);
    let config = config(&dir, "nodb", 1, json!({}));
    let nothing = format!("http://127.0.0.1:{}", free_port());
    let output = run(consume(
        &emulator,
        &dir,
        &config,
        &[
            "--lease-table",
            "leases",
            "--dynamodb-endpoint-url",
            &nothing,
            "--connect-timeout",
            "2",
        ],
    ));
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("lease table not reachable within 2 s"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn idle_timeout_with_a_lease_table_drains_then_exits_0() {
    // `--idle-timeout` means caught up with leases too: every owned shard at the tip, then
    // quiet for the timeout; the worker exits 0 with every record and releases its leases.
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("lease-idle-db");
    let dir = scratch("lease-idle");
    emulator.create_stream("idle", 2);
    emulator.put(&dir, "idle", &numbered(200, 7, 0));
    let config = config(&dir, "idle", 2, json!({}));
    let mut a = Worker::start_with(
        &emulator,
        &dynamo,
        &dir,
        &config,
        "worker-a",
        "6",
        &["--idle-timeout", "3"],
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = a.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < LONG,
            "the worker did not exit after draining: {}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "{status}: {}", a.log());
    assert!(holds_all(&[&a], 0..200), "{}", a.log());
    assert!(
        dynamo.owners("leases").values().all(Option::is_none),
        "leases kept after exit: {:?}",
        dynamo.owners("leases")
    );
}

#[test]
fn fan_out_with_the_lease_table_and_two_workers() {
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("lease-efo-db");
    let dir = scratch("lease-efo");
    emulator.create_stream("efo", 4);
    emulator.put(&dir, "efo", &numbered(200, 13, 0));
    let config = config(&dir, "efo", 4, json!({}));
    let efo = ["--efo", "fleet"];
    let a = Worker::start_with(&emulator, &dynamo, &dir, &config, "worker-a", "6", &efo);
    wait_for("worker-a holds all 4", LONG, &[&a], || {
        settled(&dynamo, &["worker-a"], 4)
    });
    let b = Worker::start_with(&emulator, &dynamo, &dir, &config, "worker-b", "6", &efo);
    let both = [&a, &b];
    wait_for("2 leases each", LONG, &both, || {
        settled(&dynamo, &["worker-a", "worker-b"], 2)
    });
    wait_for("the first 200 records", LONG, &both, || {
        holds_all(&both, 0..200)
    });
    // A stolen lease's subscription moves too (the new owner's first SubscribeToShard may meet
    // the old one still open on the service's side: retried).
    let settled_at = marks(&both);
    emulator.put(&dir, "efo", &numbered(200, 13, 200));
    wait_for("the next 200 records", LONG, &both, || {
        holds_all(&both, 200..400)
    });
    once_unless_moved(
        &both,
        &settled_at,
        0,
        |n, _| (200..400).contains(&n),
        "after the settle",
    );
    for w in both {
        assert!(
            w.log()
                .contains("subscribing to the shard (enhanced fan-out)"),
            "{}",
            w.log()
        );
    }
    // Both workers share the one consumer; checkpoints went to the table.
    let consumers = emulator.js(&["consumers", "efo"]);
    assert_eq!(consumers.matches("\"name\"").count(), 1, "{consumers}");
    let mut a = a;
    let mut b = b;
    assert!(a.terminate().success(), "{}", a.log());
    assert!(b.terminate().success(), "{}", b.log());
    let items = dynamo.items("leases");
    assert_eq!(items.len(), 4);
    for item in &items {
        let checkpoint = text(item, "checkpoint").unwrap();
        assert!(
            checkpoint.chars().all(|c| c.is_ascii_digit()),
            "a sequence number checkpointed: {item:?}"
        );
    }
}
