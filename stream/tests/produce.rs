//! `produce` against the real emulator (kinesis-mock); what arrived is read back by the official
//! JS SDK (tests/stream/kinesis.mjs), never by our own consumer.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn summary(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "summary JSON ({e}): {} / {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn reconciles(s: &Value) {
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("read"),
        n("sent") + n("filtered") + n("deadLettered"),
        "{s}"
    );
}

/// What the example method makes of a Data Value (the platform's filter-and-reshape).
fn expected(value: &Value) -> Option<Value> {
    let destination = &value["destination"];
    if destination["property"]["name"] != "temperature" {
        return None;
    }
    Some(json!({
        "device_context": {
            "id": destination["object"]["id"], "name": destination["object"]["name"],
            "app": value["app"]["name"], "tags": value["tags"], "annotations": value["annotations"]
        },
        "event": {
            "feed_id": value["feedId"], "event_type": "property_change", "time": value["sourceTime"],
            "property_name": "temperature", "property_new_value": value["value"]
        }
    }))
}

#[test]
fn kept_values_arrive_transformed_with_their_partition_keys() {
    let emulator = Emulator::start();
    let dir = scratch("produce-method");
    emulator.create_stream("temps", 2);
    let input = data_values(&dir, &["150"]);
    let config = config(
        &dir,
        "temps",
        2,
        json!({ "dataProcessingMethodId": "temperature_filter" }),
    );
    let methods = repo_root().join("examples/methods");
    let output = run(produce(
        &emulator,
        &dir,
        &config,
        &input,
        &["--methods", methods.to_str().unwrap()],
    ));
    assert!(output.status.success());
    let s = summary(&output);
    reconciles(&s);
    assert_eq!(
        (s["read"].as_u64(), s["filtered"].as_u64()),
        (Some(150), Some(100))
    );
    assert_eq!(s["sent"], 50);

    let values: Vec<Value> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // feed id → (partition key, transformed payload) for every value the method keeps.
    let want: BTreeMap<String, (String, Value)> = values
        .iter()
        .filter_map(|v| {
            expected(v).map(|e| {
                (
                    v["feedId"].as_str().unwrap().to_owned(),
                    (
                        v["destination"]["object"]["id"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                        e,
                    ),
                )
            })
        })
        .collect();
    assert_eq!(want.len(), 50);
    let records = emulator.dump("temps");
    assert_eq!(records.len(), 50, "only the kept values are in the stream");
    let mut got = BTreeMap::new();
    let mut shards = BTreeSet::new();
    for (shard, key, data) in records {
        let payload: Value = serde_json::from_str(&data).unwrap();
        let feed = payload["event"]["feed_id"].as_str().unwrap().to_owned();
        shards.insert(shard.clone());
        got.insert(feed, (key, payload, shard));
    }
    for (feed, (key, payload)) in &want {
        let (got_key, got_payload, _) = &got[feed];
        assert_eq!(got_key, key, "partition key of {feed}");
        assert_eq!(got_payload, payload, "payload of {feed}");
    }
    // The per-shard counts of the summary are the shards the records are in.
    let per_shard: BTreeMap<String, u64> = s["shards"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["sent"].as_u64().unwrap()))
        .collect();
    for shard in &shards {
        let n = got.values().filter(|(_, _, s)| s == shard).count() as u64;
        assert_eq!(per_shard[shard], n, "{shard}");
    }
    assert_eq!(shards.len(), 2, "8 devices spread over both shards");
}

#[test]
fn a_line_that_is_not_json_is_dead_lettered_and_the_rest_sent() {
    let emulator = Emulator::start();
    let dir = scratch("produce-bad");
    emulator.create_stream("bad", 1);
    let input = data_values(&dir, &["60", "--bad-line", "17"]);
    let config = config(&dir, "bad", 1, json!({}));
    let output = run(produce(&emulator, &dir, &config, &input, &[]));
    assert_eq!(
        output.status.code(),
        Some(1),
        "dead letters make the exit non-zero"
    );
    let s = summary(&output);
    reconciles(&s);
    assert_eq!(
        (s["sent"].as_u64(), s["deadLettered"].as_u64()),
        (Some(59), Some(1))
    );
    let dead = std::fs::read_to_string(dir.join("dead.ndjson")).unwrap();
    let entry: Value = serde_json::from_str(dead.trim()).unwrap();
    assert_eq!(entry["line"], 17);
    assert!(
        entry["error"].as_str().unwrap().starts_with("not JSON"),
        "{entry}"
    );
    assert_eq!(emulator.dump("bad").len(), 59);
}

#[test]
fn one_shard_at_200_records_per_second_takes_at_least_9_seconds_for_2000() {
    let emulator = Emulator::start();
    let dir = scratch("produce-rate");
    emulator.create_stream("rate", 1);
    let input = data_values(&dir, &["2000"]);
    let config = config(
        &dir,
        "rate",
        1,
        json!({ "maxRecordsPerShardPerSecond": 200 }),
    );
    let started = Instant::now();
    let output = run(produce(&emulator, &dir, &config, &input, &[]));
    let took = started.elapsed();
    assert!(output.status.success());
    assert_eq!(summary(&output)["sent"], 2000);
    assert!(took >= Duration::from_secs(9), "{took:?}");
}

#[test]
fn emulator_restart_part_way_loses_nothing() {
    let dir = scratch("produce-restart");
    let mut emulator = Emulator::start_persistent(&dir.join("emulator-data"));
    emulator.create_stream("restart", 2);
    let input = data_values(&dir, &["2000"]);
    // 100 records/s on each of 2 shards: about ten seconds of sending, so the emulator (which
    // takes a few seconds to shut down gracefully) is down part way.
    let config = config(
        &dir,
        "restart",
        2,
        json!({ "maxRecordsPerShardPerSecond": 100 }),
    );
    let proxy = Proxy::start(emulator.port);
    let endpoint = proxy.endpoint();
    let child = produce_at(&endpoint, &dir, &config, &input, &["--max-attempts", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let t = Instant::now();
    proxy.cut();
    emulator.stop();
    eprintln!("stopped in {:?}", t.elapsed());
    std::thread::sleep(Duration::from_millis(2500));
    emulator.start_again();
    eprintln!("started again after {:?}", t.elapsed());
    let output = wait_with_limit(child, Duration::from_secs(300));
    let s = summary(&output);
    reconciles(&s);
    let sent = s["sent"].as_u64().unwrap();
    let dead_count = s["deadLettered"].as_u64().unwrap();
    assert_eq!(s["read"], 2000);
    assert_eq!(sent + dead_count, 2000, "{s}");
    // Every value is in the stream or in the dead-letter file.
    let in_stream: BTreeSet<String> = emulator
        .dump("restart")
        .into_iter()
        .map(|(_, _, data)| {
            let v: Value = serde_json::from_str(&data).unwrap();
            v["feedId"].as_str().unwrap().to_owned()
        })
        .collect();
    let dead: BTreeSet<String> = std::fs::read_to_string(dir.join("dead.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["data"]["feedId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(dead.len() as u64, dead_count);
    assert_eq!(
        in_stream.len() as u64,
        sent,
        "each sent value is in the stream once (by feed id)"
    );
    let all: BTreeSet<String> = in_stream.union(&dead).cloned().collect();
    assert_eq!(all.len(), 2000, "none lost");
    // The outage was seen: the run retried.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("retrying"), "{stderr}");
}

#[test]
fn disabled_connector_sends_nothing() {
    let emulator = Emulator::start();
    let dir = scratch("produce-disabled");
    emulator.create_stream("off", 1);
    let input = data_values(&dir, &["10"]);
    let config = config(&dir, "off", 1, json!({ "disabled": true }));
    let output = run(produce(&emulator, &dir, &config, &input, &[]));
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("disabled"));
    assert_eq!(emulator.dump("off").len(), 0);
}

#[test]
fn resharding_while_producing_refreshes_the_shard_map_and_loses_nothing() {
    let emulator = Emulator::start();
    let dir = scratch("produce-reshard");
    emulator.create_stream("grow", 2);
    let input = data_values(&dir, &["1200", "--devices", "40"]);
    // 100 records/s on each shard: about six seconds on 2 shards, so the split lands part way.
    let config = config(
        &dir,
        "grow",
        2,
        json!({ "maxRecordsPerShardPerSecond": 100 }),
    );
    let child = produce(&emulator, &dir, &config, &input, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    emulator.js(&["reshard", "grow", "4"]);
    let output = wait_with_limit(child, Duration::from_secs(300));
    let s = summary(&output);
    reconciles(&s);
    assert!(output.status.success(), "{s}");
    assert_eq!(
        (s["sent"].as_u64(), s["deadLettered"].as_u64()),
        (Some(1200), Some(0))
    );
    let records = emulator.dump("grow");
    let feeds: BTreeSet<String> = records
        .iter()
        .map(|(_, _, data)| {
            let v: Value = serde_json::from_str(data).unwrap();
            v["feedId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(records.len(), 1200, "each value once");
    assert_eq!(feeds.len(), 1200, "none missing");
    // The split was noticed and the shards listed again: a later shard map names the children.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("shard map") && l.contains("shardId-000000000002")),
        "{stderr}"
    );
    // The records in the child shards are the ones the summary counts there.
    let children: Vec<&String> = s["shards"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|id| !matches!(id.as_str(), "shardId-000000000000" | "shardId-000000000001"))
        .collect();
    assert!(!children.is_empty(), "{s}");
    let in_children = records
        .iter()
        .filter(|(shard, _, _)| children.contains(&shard))
        .count() as u64;
    let counted: u64 = children
        .iter()
        .map(|id| s["shards"][id.as_str()]["sent"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, in_children, "{s}");
}

/// The progress record of `produce --input` under `dir/state`, if there is one: (line, path).
fn progress_record(dir: &std::path::Path) -> Option<(u64, std::path::PathBuf)> {
    let state = dir.join("state/dc.test");
    let entries = std::fs::read_dir(&state).ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("produce-progress-") && name.ends_with(".json") {
            let text = std::fs::read(entry.path()).ok()?;
            // The file is replaced atomically: it always parses.
            let value: Value = serde_json::from_slice(&text).unwrap();
            return Some((value["line"].as_u64().unwrap(), entry.path()));
        }
    }
    None
}

#[test]
fn kill_9_then_run_again_continues_after_the_last_line_done() {
    let emulator = Emulator::start();
    let dir = scratch("produce-kill");
    emulator.create_stream("crash", 2);
    let total = 3000u64;
    let input = data_values(&dir, &[&total.to_string()]);
    // 150 records/s on each of 2 shards: about ten seconds, so the kill lands part way.
    let config = config(
        &dir,
        "crash",
        2,
        json!({ "maxRecordsPerShardPerSecond": 150 }),
    );
    let mut child = produce(&emulator, &dir, &config, &input, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if progress_record(&dir).is_some_and(|(line, _)| line >= 600) {
            break;
        }
        assert!(Instant::now() < deadline, "no progress after 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (done, record) = progress_record(&dir).unwrap();
    assert!(done < total, "the kill came part way ({done})");

    let output = run(produce(&emulator, &dir, &config, &input, &[]));
    let s = summary(&output);
    reconciles(&s);
    assert!(output.status.success(), "{s}");
    assert_eq!(s["resumedAfterLine"], done, "{s}");
    assert_eq!(
        s["read"],
        total - done,
        "only the lines after it are read again: {s}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&format!("continuing after line {done}"))
    );
    assert!(!record.exists(), "a run to the end removes the record");

    // Every line is in the stream; the duplicates are only lines after the record's line, and
    // at most what can be in flight (the channel, the queues, one request).
    let feed_line: BTreeMap<String, u64> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["feedId"].as_str().unwrap().to_owned(), i as u64 + 1)
        })
        .collect();
    let mut count: BTreeMap<String, u64> = BTreeMap::new();
    for (_, _, data) in emulator.dump("crash") {
        let v: Value = serde_json::from_str(&data).unwrap();
        *count
            .entry(v["feedId"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(count.len() as u64, total, "none lost");
    let duplicated: Vec<u64> = count
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(feed, _)| feed_line[feed])
        .collect();
    assert!(
        duplicated.iter().all(|line| *line > done),
        "a line done before the kill was sent again: {duplicated:?} (record at {done})"
    );
    let in_flight = 64 + 2000 + 500;
    assert!(
        duplicated.len() <= in_flight,
        "{} duplicates",
        duplicated.len()
    );
    eprintln!(
        "killed after line {done}; {} lines sent twice",
        duplicated.len()
    );
}
