//! `consume` against the real emulator (kinesis-mock), records written by the official JS SDK.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn ns(lines: &[serde_json::Value]) -> Vec<u64> {
    lines
        .iter()
        .map(|l| l["data"]["n"].as_u64().unwrap())
        .collect()
}

#[test]
fn three_shards_every_record_once() {
    let emulator = Emulator::start();
    let dir = scratch("three");
    emulator.create_stream("three", 3);
    let records = numbered(300, 17, 0);
    emulator.put(&dir, "three", &records);
    let config = config(&dir, "three", 3, json!({}));
    let output = run(consume(&emulator, &dir, &config, &["--idle-timeout", "2"]));
    assert!(output.status.success());
    let out = lines(&output.stdout);
    let mut seen = ns(&out);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..300).collect::<Vec<u64>>(),
        "each record exactly once"
    );
    let shards: BTreeSet<&str> = out.iter().map(|l| l["shardId"].as_str().unwrap()).collect();
    assert_eq!(shards.len(), 3, "all three shards read");
    let first = &out[0];
    for field in ["shardId", "sequenceNumber", "partitionKey", "arrival"] {
        assert!(first[field].is_string(), "{field} in {first}");
    }
    // A second run resumes at the checkpoints: nothing again.
    let again = run(consume(&emulator, &dir, &config, &["--idle-timeout", "1"]));
    assert!(again.status.success());
    assert_eq!(lines(&again.stdout).len(), 0);
}

#[test]
fn kill_9_then_resume_loses_nothing() {
    let emulator = Emulator::start();
    let dir = scratch("kill");
    emulator.create_stream("kill", 2);
    let total = 3000;
    emulator.put(&dir, "kill", &numbered(total, 11, 0));
    // 300 records/s per shard: the drain takes about five seconds, so the kill lands part way.
    let config = config(
        &dir,
        "kill",
        2,
        json!({ "maxRecordsPerShardPerSecond": 300 }),
    );
    let out_path = dir.join("run1.ndjson");
    let mut child = consume(&emulator, &dir, &config, &[])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let len = lines(&std::fs::read(&out_path).unwrap()).len();
        if len >= 1200 {
            break;
        }
        assert!(Instant::now() < deadline, "only {len} records after 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first = lines(&std::fs::read(&out_path).unwrap());
    assert!(first.len() < total, "the kill came part way");
    let saved = checkpoints(&dir, "kill");

    let second = run(consume(&emulator, &dir, &config, &["--idle-timeout", "2"]));
    assert!(second.status.success());
    let second = lines(&second.stdout);

    let mut all: BTreeSet<u64> = ns(&first).into_iter().collect();
    all.extend(ns(&second));
    assert_eq!(all.len(), total, "none missing");
    // Duplicates only since the last checkpoint: the second run starts after it on every shard.
    for line in &second {
        let shard = line["shardId"].as_str().unwrap();
        if let Some(ckpt) = saved.get(shard).and_then(|c| c["sequenceNumber"].as_str()) {
            assert!(
                seq_key(line["sequenceNumber"].as_str().unwrap()) > seq_key(ckpt),
                "re-read before the checkpoint: {line}"
            );
        }
    }
    let first_set: BTreeSet<u64> = ns(&first).into_iter().collect();
    let duplicates = ns(&second)
        .into_iter()
        .filter(|n| first_set.contains(n))
        .count();
    eprintln!(
        "first run {} records, second {}, duplicates {duplicates}",
        first.len(),
        second.len()
    );
}

#[test]
fn resharding_while_consuming_keeps_order_per_key() {
    let emulator = Emulator::start();
    let dir = scratch("reshard");
    emulator.create_stream("reshard", 2);
    emulator.put(&dir, "reshard", &numbered(400, 10, 0));
    let config = config(&dir, "reshard", 2, json!({}));
    let child = consume(&emulator, &dir, &config, &["--idle-timeout", "6"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    emulator.js(&["reshard", "reshard", "4"]);
    emulator.put(&dir, "reshard", &numbered(400, 10, 400));
    let output = wait_with_limit(child, Duration::from_secs(300));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = lines(&output.stdout);
    let mut seen = ns(&out);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..800).collect::<Vec<u64>>(),
        "none missing, none twice"
    );
    let shards: BTreeSet<&str> = out.iter().map(|l| l["shardId"].as_str().unwrap()).collect();
    assert!(shards.len() > 2, "children read too: {shards:?}");
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for line in &out {
        let key = line["partitionKey"].as_str().unwrap().to_owned();
        let n = line["data"]["n"].as_u64().unwrap();
        if let Some(prev) = last.insert(key.clone(), n) {
            assert!(n > prev, "key {key}: {n} came after {prev}");
        }
    }
}

#[test]
fn kpl_aggregated_record_yields_its_user_records() {
    let emulator = Emulator::start();
    let dir = scratch("kpl");
    emulator.create_stream("kpl", 1);
    emulator.js(&[
        "put-kpl",
        "kpl",
        "a={\"u\":1}",
        "b={\"u\":2}",
        "a=plain text",
    ]);
    let config = config(&dir, "kpl", 1, json!({}));
    let output = run(consume(
        &emulator,
        &dir,
        &config,
        &["--idle-timeout", "1.5"],
    ));
    assert!(output.status.success());
    let out = lines(&output.stdout);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[0]["data"], json!({"u": 1}));
    assert_eq!(out[0]["partitionKey"], "a");
    assert_eq!(out[0]["subSequenceNumber"], 0);
    assert_eq!(out[1]["partitionKey"], "b");
    assert_eq!(out[1]["subSequenceNumber"], 1);
    assert_eq!(out[2]["encoding"], "base64");
    assert_eq!(out[2]["data"], "cGxhaW4gdGV4dA==");
    assert_eq!(out[0]["sequenceNumber"], out[2]["sequenceNumber"]);
    let saved = checkpoints(&dir, "kpl");
    assert_eq!(saved["shardId-000000000000"]["subSequenceNumber"], 2);
}

#[test]
fn method_filters_transforms_and_dead_letters_throws() {
    let emulator = Emulator::start();
    let dir = scratch("method");
    emulator.create_stream("method", 1);
    emulator.put(&dir, "method", &numbered(30, 3, 0));
    let methods = dir.join("methods");
    std::fs::create_dir_all(&methods).unwrap();
    std::fs::write(
        methods.join("Double_It.js"),
        "function preprocessor(value) {\n  if (value.n === 7) throw new Error('seven is bad');\n  if (value.n % 3 === 0) return null;\n  return { doubled: value.n * 2 };\n}\n",
    )
    .unwrap();
    let config = config(
        &dir,
        "method",
        1,
        json!({ "dataProcessingMethodId": "Double_It" }),
    );
    let dead = dir.join("dead.ndjson");
    let output = run(consume(
        &emulator,
        &dir,
        &config,
        &[
            "--idle-timeout",
            "1.5",
            "--methods",
            methods.to_str().unwrap(),
            "--dead-letter",
            dead.to_str().unwrap(),
        ],
    ));
    assert!(output.status.success());
    let out = lines(&output.stdout);
    let doubled: Vec<u64> = out
        .iter()
        .map(|l| l["data"]["doubled"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (0..30)
        .filter(|n| n % 3 != 0 && *n != 7)
        .map(|n| n * 2)
        .collect();
    assert_eq!(
        doubled, expected,
        "filtered, transformed, and the stream went on after the throw"
    );
    let dead = lines(&std::fs::read(&dead).unwrap());
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["data"]["n"], 7);
    assert!(
        dead[0]["error"].as_str().unwrap().contains("seven is bad"),
        "{}",
        dead[0]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 dead-lettered"), "{stderr}");
}

#[test]
fn disabled_connector_reads_nothing() {
    let emulator = Emulator::start();
    let dir = scratch("disabled");
    emulator.create_stream("disabled", 1);
    emulator.put(&dir, "disabled", &numbered(5, 1, 0));
    let config = config(&dir, "disabled", 1, json!({ "disabled": true }));
    let output = run(consume(&emulator, &dir, &config, &["--idle-timeout", "1"]));
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("disabled"));
    assert!(
        !dir.join("state").exists(),
        "no checkpoint: nothing was read"
    );
}

#[test]
fn invalid_config_exits_1_naming_the_field() {
    let emulator = Emulator::start();
    let dir = scratch("invalid");
    emulator.create_stream("invalid", 1);
    emulator.put(&dir, "invalid", &numbered(5, 1, 0));
    let config = config(
        &dir,
        "invalid",
        1,
        json!({ "region": "us-west2", "shards": 0 }),
    );
    let output = run(consume(&emulator, &dir, &config, &["--idle-timeout", "1"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/region") && stderr.contains("us-west-2"),
        "{stderr}"
    );
    assert!(stderr.contains("/shards"), "{stderr}");
    assert!(
        stderr.contains("config.json:"),
        "issues point into the file: {stderr}"
    );
    assert!(!dir.join("state").exists(), "nothing was read");
}

#[test]
fn read_budget_holds_100_records_per_second() {
    let emulator = Emulator::start();
    let dir = scratch("rate");
    emulator.create_stream("rate", 1);
    let n = 500;
    emulator.put(&dir, "rate", &numbered(n, 5, 0));
    let config = config(
        &dir,
        "rate",
        1,
        json!({ "maxRecordsPerShardPerSecond": 100 }),
    );
    let mut child = consume(&emulator, &dir, &config, &["--idle-timeout", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let read = stdout.read(&mut chunk).unwrap();
        if read == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..read]);
        if lines(&buf).len() >= n {
            break;
        }
    }
    let took = started.elapsed();
    child.wait().unwrap();
    assert_eq!(lines(&buf).len(), n);
    let lower = Duration::from_secs_f64(n as f64 / 100.0 - 1.0);
    assert!(
        took >= lower,
        "{n} records at 100/s took {took:?}, less than {lower:?}"
    );
}

#[test]
fn secret_never_logged_even_at_trace() {
    let emulator = Emulator::start();
    let dir = scratch("secret");
    emulator.create_stream("secret", 1);
    emulator.put(&dir, "secret", &numbered(3, 1, 0));
    let config = config(&dir, "secret", 1, json!({}));
    let mut cmd = consume(&emulator, &dir, &config, &["--idle-timeout", "1"]);
    cmd.env("KINESIS_CONNECTOR_LOG", "trace");
    let output = run(cmd);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.len() > 1000, "trace logging is on");
    assert!(!stderr.contains(SECRET), "the secret leaked into the logs");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(SECRET));
    let mut test = bin();
    test.args([
        "test",
        "--config",
        config.to_str().unwrap(),
        "--endpoint-url",
        &emulator.endpoint(),
    ]);
    test.env("KINESIS_CONNECTOR_LOG", "trace");
    let output = run(test);
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stderr).contains(SECRET));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(SECRET));
}

#[test]
fn test_command_reports_stream_and_shard_mismatch() {
    let emulator = Emulator::start();
    let dir = scratch("testcmd");
    emulator.create_stream("probe", 2);
    let config = config(&dir, "probe", 3, json!({}));
    let output = run({
        let mut c = bin();
        c.args([
            "test",
            "--config",
            config.to_str().unwrap(),
            "--endpoint-url",
            &emulator.endpoint(),
            "--format",
            "json",
        ]);
        c
    });
    assert!(
        output.status.success(),
        "a shard mismatch is only a warning"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let shards = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "shards")
        .unwrap();
    assert_eq!(shards["status"], "warning");
    let missing = common::config(&dir, "nope", 1, json!({}));
    let output = run({
        let mut c = bin();
        c.args([
            "test",
            "--config",
            missing.to_str().unwrap(),
            "--endpoint-url",
            &emulator.endpoint(),
        ]);
        c
    });
    assert_eq!(
        output.status.code(),
        Some(3),
        "a missing stream is a stream failure"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("stream nope does not exist in us-east-1")
    );
}

#[test]
fn watch_applies_changes_live_ignores_invalid_ones_and_sigterm_exits_0() {
    let emulator = Emulator::start();
    let dir = scratch("watch");
    emulator.create_stream("watch", 1);
    emulator.put(&dir, "watch", &numbered(100, 4, 0));
    // At 5 records/s the 100 records would take 20 s.
    let config = config(
        &dir,
        "watch",
        1,
        json!({ "maxRecordsPerShardPerSecond": 5 }),
    );
    let started = Instant::now();
    let child = consume(&emulator, &dir, &config, &["--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(
        &config,
        "{ \"type\": \"aws-kinesis\", \"shards\": \"many\" }",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    common::config(
        &dir,
        "watch",
        1,
        json!({ "maxRecordsPerShardPerSecond": 10000 }),
    );
    std::thread::sleep(Duration::from_millis(2500));
    common::config(
        &dir,
        "watch",
        1,
        json!({ "maxRecordsPerShardPerSecond": 10000, "disabled": true }),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = wait_with_limit(child, Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "SIGTERM exits 0: {stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the faster rate applied live"
    );
    assert!(stderr.contains("invalid config change ignored"), "{stderr}");
    assert!(stderr.contains("applied live"), "{stderr}");
    assert!(stderr.contains("disabled"), "{stderr}");
    let mut seen = ns(&lines(&output.stdout));
    seen.sort_unstable();
    assert_eq!(seen, (0..100).collect::<Vec<u64>>());
    let saved = checkpoints(&dir, "watch");
    assert!(
        saved["shardId-000000000000"]["sequenceNumber"].is_string(),
        "checkpointed before exit"
    );
}

/// Reads a child's stdout lines with the time each arrived.
fn timed_lines(child: &mut std::process::Child) -> Vec<(Instant, serde_json::Value)> {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    std::io::BufReader::new(stdout)
        .lines()
        .map(|l| (Instant::now(), serde_json::from_str(&l.unwrap()).unwrap()))
        .collect()
}

/// A record reaches stdout once it has been through the method, not when the whole page (or
/// fan-out event) has: 200 KPL user records in one Kinesis record, a method of about 5 ms a
/// record; the lines must come out spread over the second the method takes, not all at once.
fn lines_come_out_as_the_method_finishes_them(extra: &[&str], name: &str) {
    let emulator = Emulator::start();
    let dir = scratch(name);
    emulator.create_stream(name, 1);
    let users: Vec<String> = (0..200)
        .map(|n| format!("k{}={{\"n\":{n}}}", n % 7))
        .collect();
    let mut args = vec!["put-kpl", name];
    args.extend(users.iter().map(String::as_str));
    emulator.js(&args);
    let methods = dir.join("methods");
    std::fs::create_dir_all(&methods).unwrap();
    std::fs::write(
        methods.join("Slow.js"),
        "function preprocessor(value) {\n  const end = Date.now() + 5;\n  while (Date.now() < end) {}\n  return value;\n}\n",
    )
    .unwrap();
    let config = config(&dir, name, 1, json!({ "dataProcessingMethodId": "Slow" }));
    let mut flags = vec![
        "--idle-timeout",
        "2",
        "--methods",
        methods.to_str().unwrap(),
    ];
    flags.extend_from_slice(extra);
    let mut child = consume(&emulator, &dir, &config, &flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let timed = timed_lines(&mut child);
    assert!(child.wait().unwrap().success());
    assert_eq!(timed.len(), 200);
    let first = timed[0].0;
    let last = timed[199].0;
    // 200 records of >= 5 ms: at least a second from the first line to the last (all at once
    // would be a few milliseconds), and the first half out before the last line by far.
    assert!(
        last - first >= Duration::from_millis(700),
        "the lines came out together: {:?} from first to last",
        last - first
    );
    let middle = timed[99].0;
    assert!(
        last - middle >= Duration::from_millis(350),
        "{:?}",
        last - middle
    );
}

#[test]
fn polling_writes_each_record_as_soon_as_the_method_is_done_with_it() {
    lines_come_out_as_the_method_finishes_them(&[], "eager-poll");
}

#[test]
fn fan_out_writes_each_record_as_soon_as_the_method_is_done_with_it() {
    lines_come_out_as_the_method_finishes_them(&["--efo", "eager"], "eager-efo");
}

#[test]
fn metrics_addr_without_a_lease_table_serves_records_and_lag_per_shard() {
    let emulator = Emulator::start();
    let dir = scratch("metrics");
    emulator.create_stream("metrics", 2);
    emulator.put(&dir, "metrics", &numbered(100, 7, 0));
    let config = config(&dir, "metrics", 2, json!({}));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = consume(
        &emulator,
        &dir,
        &config,
        &["--idle-timeout", "3", "--metrics-addr", &addr],
    )
    .stdout(std::fs::File::create(dir.join("out.ndjson")).unwrap())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut text = String::new();
    while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        let scraped = scrape(port);
        let both = ["shardId-000000000000", "shardId-000000000001"]
            .iter()
            .all(|id| {
                scraped.contains(&format!(
                    "kinesis_connector_records_read_total{{shard_id=\"{id}\"}}"
                ))
            });
        if both {
            text = scraped;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = wait_with_limit(child, Duration::from_secs(120)).status;
    assert!(status.success());
    assert!(
        text.contains("kinesis_connector_records_read_total{shard_id=\"shardId-000000000000\"}")
            && text.contains("kinesis_connector_millis_behind_latest{shard_id=\"shardId-"),
        "{text}"
    );
    assert_eq!(
        lines(&std::fs::read(dir.join("out.ndjson")).unwrap()).len(),
        100
    );
}
