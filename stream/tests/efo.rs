//! `consume --efo NAME` (enhanced fan-out through SubscribeToShard) against the real emulator
//! (kinesis-mock serves SubscribeToShard as an event stream), records written by the official JS
//! SDK. Fan-out with the lease table is in lease.rs, beside the other lease tests.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(180);

fn ns(lines: &[serde_json::Value]) -> Vec<u64> {
    lines
        .iter()
        .map(|l| l["data"]["n"].as_u64().unwrap())
        .collect()
}

/// `consume --efo NAME` with its stdout in `out` and stderr in `err`.
fn spawn_efo(
    endpoint: &str,
    dir: &Path,
    config: &Path,
    name: &str,
    tag: &str,
    extra: &[&str],
) -> Child {
    let mut cmd = bin();
    cmd.arg("consume")
        .arg("--config")
        .arg(config)
        .arg("--endpoint-url")
        .arg(endpoint)
        .arg("--state-dir")
        .arg(dir.join(tag).join("state"))
        .args(["--stats-interval", "0", "--efo", name])
        .args(extra)
        .env("KINESIS_CONNECTOR_LOG", "warn,kinesis_stream=debug")
        .stdout(std::fs::File::create(dir.join(format!("{tag}.out"))).unwrap())
        .stderr(std::fs::File::create(dir.join(format!("{tag}.err"))).unwrap());
    cmd.spawn().unwrap()
}

fn out_of(dir: &Path, tag: &str) -> Vec<serde_json::Value> {
    lines(&std::fs::read(dir.join(format!("{tag}.out"))).unwrap_or_default())
}

fn log_of(dir: &Path, tag: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(dir.join(format!("{tag}.err"))).unwrap_or_default())
        .into_owned()
}

/// Waits for the process within `LIMIT` (killing it after) and asserts exit 0.
fn finish(child: Child, dir: &Path, tag: &str) {
    let output = wait_with_limit(child, LIMIT);
    assert!(output.status.success(), "{tag}: {}", log_of(dir, tag));
}

/// `got` holds each of `want` exactly once; on failure, what is missing or repeated and the log.
fn exactly_once(got: Vec<u64>, want: std::ops::Range<u64>, dir: &Path, tag: &str) {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for n in got {
        *counts.entry(n).or_insert(0) += 1;
    }
    let missing: Vec<u64> = want.clone().filter(|n| !counts.contains_key(n)).collect();
    let repeated: Vec<u64> = counts
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(n, _)| *n)
        .collect();
    let stray: Vec<u64> = counts
        .keys()
        .filter(|n| !want.contains(n))
        .copied()
        .collect();
    assert!(
        missing.is_empty() && repeated.is_empty() && stray.is_empty(),
        "{tag}: {} missing (first {:?}), {} repeated (first {:?}), {} unexpected\n{}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        repeated.len(),
        repeated.iter().take(5).collect::<Vec<_>>(),
        stray.len(),
        log_of(dir, tag)
    );
}

fn wait_until(what: &str, dir: &Path, tag: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            log_of(dir, tag)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn fan_out_reads_every_record_of_three_shards_once_then_resumes_at_the_checkpoints() {
    let emulator = Emulator::start();
    let dir = scratch("efo-three");
    emulator.create_stream("efo-three", 3);
    emulator.put(&dir, "efo-three", &numbered(300, 17, 0));
    let config = config(&dir, "efo-three", 3, json!({}));
    let child = spawn_efo(
        &emulator.endpoint(),
        &dir,
        &config,
        "app",
        "run1",
        &["--idle-timeout", "3"],
    );
    finish(child, &dir, "run1");
    let out = out_of(&dir, "run1");
    exactly_once(ns(&out), 0..300, &dir, "run1");
    let shards: BTreeSet<&str> = out.iter().map(|l| l["shardId"].as_str().unwrap()).collect();
    assert_eq!(shards.len(), 3, "all three shards read");
    for field in ["shardId", "sequenceNumber", "partitionKey", "arrival"] {
        assert!(out[0][field].is_string(), "{field} in {}", out[0]);
    }
    let log = log_of(&dir, "run1");
    assert!(log.contains("enhanced fan-out consumer active"), "{log}");
    assert_eq!(log.matches("subscribing to the shard").count(), 3, "{log}");
    // Checkpoints as in polling: the second run subscribes at them and reads nothing again
    // (the consumer of that name exists now and is reused).
    let saved = checkpoints(&dir.join("run1"), "efo-three");
    assert_eq!(saved.len(), 3, "{saved:?}");
    std::fs::rename(dir.join("run1"), dir.join("run2")).unwrap();
    emulator.put(&dir, "efo-three", &numbered(30, 17, 300));
    let child = spawn_efo(
        &emulator.endpoint(),
        &dir,
        &config,
        "app",
        "run2",
        &["--idle-timeout", "3", "--efo-deregister"],
    );
    finish(child, &dir, "run2");
    exactly_once(ns(&out_of(&dir, "run2")), 300..330, &dir, "run2");
    let log = log_of(&dir, "run2");
    assert!(
        log.contains("AtSequence"),
        "subscribed at the checkpoints:\n{log}"
    );
    assert!(log.contains("consumer deregistered"), "{log}");
}

#[test]
fn kill_9_during_fan_out_then_resume_loses_nothing() {
    let emulator = Emulator::start();
    let dir = scratch("efo-kill");
    emulator.create_stream("efo-kill", 2);
    let total = 3000;
    emulator.put(&dir, "efo-kill", &numbered(total, 11, 0));
    // The read budget (300 records/s per shard) holds fan-out too: the kill lands part way.
    let config = config(
        &dir,
        "efo-kill",
        2,
        json!({ "maxRecordsPerShardPerSecond": 300 }),
    );
    let mut child = spawn_efo(&emulator.endpoint(), &dir, &config, "app", "run1", &[]);
    wait_until("1200 records", &dir, "run1", || {
        out_of(&dir, "run1").len() >= 1200
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first = out_of(&dir, "run1");
    assert!(first.len() < total, "the kill came part way");
    let saved = checkpoints(&dir.join("run1"), "efo-kill");
    std::fs::rename(dir.join("run1"), dir.join("run2")).unwrap();
    let child = spawn_efo(
        &emulator.endpoint(),
        &dir,
        &config,
        "app",
        "run2",
        &["--idle-timeout", "3"],
    );
    finish(child, &dir, "run2");
    let second = out_of(&dir, "run2");
    let mut all: BTreeSet<u64> = ns(&first).into_iter().collect();
    all.extend(ns(&second));
    assert_eq!(all.len(), total, "none missing");
    // The second run starts after the checkpoint on every shard.
    for line in &second {
        let shard = line["shardId"].as_str().unwrap();
        if let Some(ckpt) = saved.get(shard).and_then(|c| c["sequenceNumber"].as_str()) {
            assert!(
                seq_key(line["sequenceNumber"].as_str().unwrap()) > seq_key(ckpt),
                "re-read before the checkpoint: {line}"
            );
        }
    }
}

/// The subscriptions cut mid-stream and the endpoint down for 2.5 s (a TCP forwarder between
/// the consumer and the emulator closes every connection and refuses new ones), then back: the
/// emulator still holds the cut subscriptions for a few seconds, so the first ones again are
/// refused with ResourceInUseException and retried. (Restarting kinesis-mock itself with
/// subscriptions open is not reliable: its graceful stop waited past 30 s, and after a SIGKILL
/// it failed to load its persisted data in 2 of 3 tries.)
#[test]
fn subscriptions_cut_mid_stream_with_the_endpoint_down_resubscribe_without_loss() {
    let emulator = Emulator::start();
    let dir = scratch("efo-cut");
    emulator.create_stream("efo-cut", 2);
    let total = 1500;
    emulator.put(&dir, "efo-cut", &numbered(total, 7, 0));
    let proxy = Proxy::start(emulator.port);
    let config = config(
        &dir,
        "efo-cut",
        2,
        json!({ "maxRecordsPerShardPerSecond": 150 }),
    );
    let child = spawn_efo(
        &proxy.endpoint(),
        &dir,
        &config,
        "app",
        "run",
        &["--idle-timeout", "3"],
    );
    wait_until("300 records", &dir, "run", || {
        out_of(&dir, "run").len() >= 300
    });
    proxy.down();
    let at_cut = out_of(&dir, "run").len();
    std::thread::sleep(Duration::from_millis(2500));
    proxy.up();
    finish(child, &dir, "run");
    assert!(at_cut < total, "the cut came part way");
    let mut seen = ns(&out_of(&dir, "run"));
    seen.sort_unstable();
    seen.dedup();
    let want: Vec<u64> = (0..total as u64).collect();
    assert!(
        seen == want,
        "{} of {total} read:\n{}",
        seen.len(),
        log_of(&dir, "run")
    );
    let log = log_of(&dir, "run");
    assert!(
        log.contains("subscription broke") || log.contains("retrying SubscribeToShard"),
        "the cut was seen:\n{log}"
    );
}

#[test]
fn a_silent_subscription_is_detected_and_subscribed_again() {
    let emulator = Emulator::start();
    let dir = scratch("efo-silent");
    emulator.create_stream("efo-silent", 1);
    emulator.put(&dir, "efo-silent", &numbered(50, 5, 0));
    // The first subscription goes half-open after its first two chunks: no event, no error,
    // the connection still up.
    let proxy = FaultProxy::start(
        emulator.port,
        json!({ "SubscribeToShard": ["stall"], "until": { "SubscribeToShard": 1 }, "stallAfterChunks": 2 }),
        &dir.join("proxy.ndjson"),
    );
    let config = config(&dir, "efo-silent", 1, json!({}));
    let child = spawn_efo(
        &proxy.endpoint(),
        &dir,
        &config,
        "app",
        "run",
        &["--idle-timeout", "6", "--efo-silence-timeout", "2"],
    );
    wait_until("the first 50 records", &dir, "run", || {
        out_of(&dir, "run").len() >= 50
    });
    emulator.put(&dir, "efo-silent", &numbered(50, 5, 50));
    finish(child, &dir, "run");
    exactly_once(ns(&out_of(&dir, "run")), 0..100, &dir, "run");
    let log = log_of(&dir, "run");
    assert!(
        log.contains("subscription silent past the timeout"),
        "{log}"
    );
    proxy.assert_injected("SubscribeToShard", &["stall"]);
}

#[test]
fn update_shard_count_during_fan_out_reads_parents_before_children() {
    let emulator = Emulator::start();
    let dir = scratch("efo-reshard");
    emulator.create_stream("efo-reshard", 2);
    emulator.put(&dir, "efo-reshard", &numbered(400, 10, 0));
    let config = config(&dir, "efo-reshard", 2, json!({}));
    let child = spawn_efo(
        &emulator.endpoint(),
        &dir,
        &config,
        "app",
        "run",
        &["--idle-timeout", "6"],
    );
    wait_until("the first records", &dir, "run", || {
        !out_of(&dir, "run").is_empty()
    });
    emulator.js(&["reshard", "efo-reshard", "4"]);
    emulator.put(&dir, "efo-reshard", &numbered(400, 10, 400));
    finish(child, &dir, "run");
    let out = out_of(&dir, "run");
    exactly_once(ns(&out), 0..800, &dir, "run");
    let shards: BTreeSet<&str> = out.iter().map(|l| l["shardId"].as_str().unwrap()).collect();
    assert!(shards.len() > 2, "children read too: {shards:?}");
    // Per partition key, in order: a child's records come after its parents'.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for line in &out {
        let key = line["partitionKey"].as_str().unwrap().to_owned();
        let n = line["data"]["n"].as_u64().unwrap();
        if let Some(prev) = last.insert(key.clone(), n) {
            assert!(n > prev, "key {key}: {n} came after {prev}");
        }
    }
    let log = log_of(&dir, "run");
    assert!(log.contains("shard closed and read to its end"), "{log}");
}

#[test]
fn two_consumers_of_different_names_both_read_everything() {
    let emulator = Emulator::start();
    let dir = scratch("efo-two");
    emulator.create_stream("efo-two", 2);
    emulator.put(&dir, "efo-two", &numbered(200, 9, 0));
    let config = config(&dir, "efo-two", 2, json!({}));
    let a = spawn_efo(
        &emulator.endpoint(),
        &dir,
        &config,
        "app-a",
        "a",
        &["--idle-timeout", "4"],
    );
    let b = spawn_efo(
        &emulator.endpoint(),
        &dir,
        &config,
        "app-b",
        "b",
        &["--idle-timeout", "4"],
    );
    // Written while both are subscribed: pushed to each.
    wait_until("both reading", &dir, "b", || {
        !out_of(&dir, "a").is_empty() && !out_of(&dir, "b").is_empty()
    });
    emulator.put(&dir, "efo-two", &numbered(200, 9, 200));
    finish(a, &dir, "a");
    finish(b, &dir, "b");
    for tag in ["a", "b"] {
        exactly_once(ns(&out_of(&dir, tag)), 0..400, &dir, tag);
    }
    let consumers = emulator.js(&["consumers", "efo-two"]);
    assert!(
        consumers.contains("app-a") && consumers.contains("app-b"),
        "{consumers}"
    );
}

#[test]
fn a_bad_consumer_name_is_a_usage_error() {
    let dir = scratch("efo-name");
    let config = config(&dir, "s", 1, json!({}));
    let output = bin()
        .args(["consume", "--config"])
        .arg(&config)
        .args(["--endpoint-url", "http://127.0.0.1:9", "--efo", "bad name!"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stream consumer name"), "{stderr}");
}
