//! The streaming commands against the real emulator through the fault-injecting proxy
//! (tests/stream/faultproxy.mjs): throttling and limit errors with the service's error shape,
//! 500 and 503, slow answers, connections dropped part way through an answer or cut before it,
//! partly failed PutRecords, the emulator killed and restarted, a full disk under the state
//! directory, and state files corrupted by hand. What arrived is read back by the JS SDK.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(300);

fn ns(lines: &[Value]) -> Vec<u64> {
    lines
        .iter()
        .map(|l| l["data"]["n"].as_u64().unwrap())
        .collect()
}

fn summary(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "summary JSON ({e}): {} / {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn produce_through_every_fault_loses_nothing_and_the_counts_reconcile_exactly() {
    let emulator = Emulator::start();
    let dir = scratch("fault-produce");
    emulator.create_stream("faults", 2);
    let total = 1500u64;
    let input = data_values(&dir, &[&total.to_string()]);
    let proxy = FaultProxy::start(
        emulator.port,
        json!({
            "PutRecords": ["ok", "throttle", "partial", "500", "ok", "limit", "503", "drop",
                           "slow", "reset", "partial", "ok"],
            "ListShards": ["throttle", "ok", "503", "ok"],
            "slowMs": 1500
        }),
        &dir.join("proxy.ndjson"),
    );
    // 200 records/s per shard: many small requests, so the schedule comes round several times.
    let config = config(
        &dir,
        "faults",
        2,
        json!({ "maxRecordsPerShardPerSecond": 200 }),
    );
    let mut cmd = produce_at(
        &proxy.endpoint(),
        &dir,
        &config,
        &input,
        &["--max-attempts", "40"],
    );
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_with_limit(child, LIMIT);
    let s = summary(&output);
    assert!(
        output.status.success(),
        "{s} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("read"), total);
    assert_eq!(n("read"), n("sent") + n("filtered") + n("deadLettered"));
    assert_eq!((n("sent"), n("deadLettered")), (total, 0), "{s}");
    proxy.assert_injected(
        "PutRecords",
        &[
            "throttle", "partial", "500", "limit", "503", "drop", "slow", "reset",
        ],
    );
    proxy.assert_injected("ListShards", &["throttle"]);
    // The partial answers really failed entries, and those were sent again.
    let log = proxy.log();
    let failed_entries: u64 = log
        .iter()
        .filter(|e| e["fault"] == "partial")
        .map(|e| e["failed"].as_u64().unwrap_or(0))
        .sum();
    assert!(failed_entries > 0, "{log:?}");

    // Every value is in the stream; the only extra copies are the entries of requests whose
    // answer was dropped after the emulator had taken them (the producer cannot know they
    // arrived): exactly that many.
    let mut copies: BTreeMap<String, u64> = BTreeMap::new();
    let records = emulator.dump("faults");
    for (_, _, data) in &records {
        let v: Value = serde_json::from_str(data).unwrap();
        *copies
            .entry(v["feedId"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(copies.len() as u64, total, "none lost");
    let dropped_but_written: u64 = log
        .iter()
        .filter(|e| e["op"] == "PutRecords" && e["fault"] == "drop")
        .map(|e| e["forwarded"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        records.len() as u64,
        total + dropped_but_written,
        "extra copies are exactly the dropped answers' entries"
    );
}

#[test]
fn a_drain_through_every_fault_reads_every_record_before_it_exits_0() {
    let emulator = Emulator::start();
    let dir = scratch("fault-consume");
    emulator.create_stream("drain", 2);
    let total = 1000;
    emulator.put(&dir, "drain", &numbered(total, 13, 0));
    let proxy = FaultProxy::start(
        emulator.port,
        json!({
            "GetRecords": ["ok", "throttle", "slow", "500", "ok", "503", "drop", "limit",
                           "reset", "ok", "slow"],
            "GetShardIterator": ["limit", "ok", "500", "ok"],
            "ListShards": ["ok", "throttle", "ok"],
            // Faults through the reading (about 30 calls); then the stream settles, since a
            // shard whose calls keep failing is never known to be at the tip.
            "until": { "GetRecords": 80, "GetShardIterator": 20, "ListShards": 10 },
            // Longer than the idle timeout: a drain that only waits for quiet exits early.
            "slowMs": 3000
        }),
        &dir.join("proxy.ndjson"),
    );
    // 200 records/s per shard: a few seconds of reading, many GetRecords calls.
    let config = config(
        &dir,
        "drain",
        2,
        json!({ "maxRecordsPerShardPerSecond": 200 }),
    );
    let mut cmd = bin();
    cmd.arg("consume")
        .arg("--config")
        .arg(&config)
        .arg("--endpoint-url")
        .arg(proxy.endpoint())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["--stats-interval", "0", "--idle-timeout", "2"]);
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_with_limit(child, LIMIT);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut seen = ns(&lines(&output.stdout));
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..total as u64).collect::<Vec<u64>>(),
        "every record, once (one run: nothing before a checkpoint is read twice)"
    );
    proxy.assert_injected(
        "GetRecords",
        &["throttle", "slow", "500", "503", "drop", "limit", "reset"],
    );
    proxy.assert_injected("GetShardIterator", &["limit", "500"]);
    // The checkpoints cover everything: a second drain reads nothing again.
    let mut again = bin();
    again
        .arg("consume")
        .arg("--config")
        .arg(&config)
        .arg("--endpoint-url")
        .arg(emulator.endpoint())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["--stats-interval", "0", "--idle-timeout", "1"]);
    let again = run(again);
    assert!(again.status.success());
    assert_eq!(lines(&again.stdout).len(), 0);
}

#[test]
fn consume_with_the_emulator_killed_and_restarted_reads_every_record() {
    let dir = scratch("fault-kill-emulator");
    let mut emulator = Emulator::start_persistent(&dir.join("emulator-data"));
    emulator.create_stream("outage", 2);
    let total = 1500;
    emulator.put(&dir, "outage", &numbered(total, 7, 0));
    // The emulator saves its data every 100 ms: let it save what was put before the kill.
    std::thread::sleep(Duration::from_millis(1000));
    let mut proxy = FaultProxy::start(emulator.port, json!({}), &dir.join("proxy.ndjson"));
    // 150 records/s per shard: about five seconds of reading, so the kill lands part way.
    let config = config(
        &dir,
        "outage",
        2,
        json!({ "maxRecordsPerShardPerSecond": 150 }),
    );
    let out_path = dir.join("out.ndjson");
    let mut cmd = bin();
    cmd.arg("consume")
        .arg("--config")
        .arg(&config)
        .arg("--endpoint-url")
        .arg(proxy.endpoint())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["--stats-interval", "0", "--idle-timeout", "3"]);
    let child = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while lines(&std::fs::read(&out_path).unwrap()).len() < 300 {
        assert!(std::time::Instant::now() < deadline, "no records read");
        std::thread::sleep(Duration::from_millis(20));
    }
    emulator.kill();
    proxy.cut();
    let at_kill = lines(&std::fs::read(&out_path).unwrap()).len();
    std::thread::sleep(Duration::from_millis(2500));
    emulator.start_again();
    let output = wait_with_limit(child, LIMIT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(at_kill < total, "the kill came part way");
    let out = lines(&std::fs::read(&out_path).unwrap());
    let mut seen = ns(&out);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen,
        (0..total as u64).collect::<Vec<u64>>(),
        "none missing"
    );
    assert!(
        proxy
            .faults()
            .contains_key(&("GetRecords".into(), "upstream-error".into()))
            || stderr.contains("retrying"),
        "the outage was seen: {stderr}"
    );
}

/// Writes `count` numbered records to a 1-shard stream and drains it once into the state dir.
fn drained_once(emulator: &Emulator, dir: &Path, stream: &str, count: usize) -> PathBuf {
    emulator.create_stream(stream, 1);
    emulator.put(dir, stream, &numbered(count, 3, 0));
    let config = config(dir, stream, 1, json!({}));
    let first = run(consume(emulator, dir, &config, &["--idle-timeout", "1"]));
    assert!(first.status.success());
    assert_eq!(lines(&first.stdout).len(), count);
    config
}

#[test]
fn a_corrupt_checkpoint_file_stops_consume_at_once_naming_the_file() {
    let emulator = Emulator::start();
    let dir = scratch("corrupt-checkpoint");
    let config = drained_once(&emulator, &dir, "corrupt", 50);
    let file = dir.join("state/dc.test/checkpoints-us-east-1-corrupt.json");
    let good = std::fs::read(&file).unwrap();
    // Truncated by hand, half way through.
    std::fs::write(&file, &good[..good.len() / 2]).unwrap();
    let child = consume(&emulator, &dir, &config, &["--idle-timeout", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Without a signal: the error comes at start.
    let output = wait_with_limit(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert!(stderr.contains("--discard-corrupt-state"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing read");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        &good[..good.len() / 2],
        "left as it was"
    );

    // Asked for: the file is moved aside and the stream is read again from the oldest record.
    let output = run(consume(
        &emulator,
        &dir,
        &config,
        &["--idle-timeout", "1", "--discard-corrupt-state"],
    ));
    assert!(output.status.success());
    assert_eq!(lines(&output.stdout).len(), 50);
    let aside: Vec<String> = std::fs::read_dir(dir.join("state/dc.test"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(checkpoints(&dir, "corrupt").contains_key("shardId-000000000000"));
}

#[test]
fn a_corrupt_produce_progress_record_stops_produce_before_sending() {
    use md5::{Digest, Md5};
    let emulator = Emulator::start();
    let dir = scratch("corrupt-progress");
    emulator.create_stream("progress", 1);
    let input = data_values(&dir, &["20"]);
    let config = config(&dir, "progress", 1, json!({}));
    // Where a run killed part way leaves the record of this input (the documented name).
    let canonical = std::fs::canonicalize(&input).unwrap();
    let digest = Md5::digest(canonical.as_os_str().as_encoded_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let record = dir.join(format!(
        "state/dc.test/produce-progress-us-east-1-progress-{hash}.json"
    ));
    std::fs::create_dir_all(record.parent().unwrap()).unwrap();
    std::fs::write(&record, b"{\"version\":1,\"input\":\"/x\",\"li").unwrap();
    let output = run(produce(&emulator, &dir, &config, &input, &[]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&record.display().to_string()), "{stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert_eq!(emulator.dump("progress").len(), 0, "nothing sent");
    // Asked for: moved aside, and the file is sent from its first line.
    let output = run(produce(
        &emulator,
        &dir,
        &config,
        &input,
        &["--discard-corrupt-state"],
    ));
    assert!(output.status.success());
    assert_eq!(summary(&output)["read"], 20);
    assert_eq!(emulator.dump("progress").len(), 20);
    assert!(
        !record.exists(),
        "moved aside, then the finished run left no record"
    );
}

/// A small tmpfs, unmounted when dropped.
struct SmallFs(PathBuf);

impl SmallFs {
    fn mount(at: PathBuf, size: &str) -> Self {
        std::fs::create_dir_all(&at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "cannot mount a tmpfs at {} (this test needs root, as CI runs it): {status}",
            at.display()
        );
        SmallFs(at)
    }

    /// Fills the file system to the last byte.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        for _ in 0..4096 {
            if file.write_all(&[0]).is_err() {
                break;
            }
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_under_the_checkpoints_is_a_clear_error_and_the_old_checkpoint_stays() {
    let emulator = Emulator::start();
    let dir = scratch("full-disk");
    let fs = SmallFs::mount(dir.join("mnt"), "256k");
    emulator.create_stream("full", 1);
    emulator.put(&dir, "full", &numbered(100, 3, 0));
    let config = config(&dir, "full", 1, json!({}));
    let state = fs.0.join("state");
    let consume_here = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.arg("consume")
            .arg("--config")
            .arg(&config)
            .arg("--endpoint-url")
            .arg(emulator.endpoint())
            .arg("--state-dir")
            .arg(&state)
            .args(["--stats-interval", "0"])
            .args(extra);
        cmd
    };
    let first = run(consume_here(&["--idle-timeout", "1"]));
    assert!(first.status.success());
    assert_eq!(lines(&first.stdout).len(), 100);
    let file = state.join("dc.test/checkpoints-us-east-1-full.json");
    let saved = std::fs::read(&file).unwrap();

    emulator.put(&dir, "full", &numbered(100, 3, 100));
    let filler = fs.fill();
    let child = consume_here(&["--idle-timeout", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_with_limit(child, LIMIT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        saved,
        "the old checkpoint, whole"
    );
    let leftovers: Vec<String> = std::fs::read_dir(state.join("dc.test"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Space again: the run resumes at the old checkpoint; what the failed run printed comes again
    // (duplicates only after the last checkpoint), nothing is missing.
    std::fs::remove_file(filler).unwrap();
    let again = run(consume_here(&["--idle-timeout", "1"]));
    assert!(again.status.success());
    assert_eq!(ns(&lines(&again.stdout)), (100..200).collect::<Vec<u64>>());

    // produce keeps going when its progress record cannot be saved (it only saves work on a
    // restart): every value sent, a warning naming the failure, exit 0.
    let filler = fs.fill();
    emulator.create_stream("full-produce", 1);
    let produce_dir = dir.join("produce");
    std::fs::create_dir_all(&produce_dir).unwrap();
    let config = common::config(&produce_dir, "full-produce", 1, json!({}));
    let input = data_values(&produce_dir, &["200"]);
    let mut produce = bin();
    produce
        .arg("produce")
        .arg("--config")
        .arg(&config)
        .arg("--input")
        .arg(&input)
        .arg("--endpoint-url")
        .arg(emulator.endpoint())
        .arg("--state-dir")
        .arg(&state)
        .arg("--dead-letter")
        .arg(dir.join("dead.ndjson"))
        .args(["--stats-interval", "0", "--format", "json"]);
    let produced = run(produce);
    let stderr = String::from_utf8_lossy(&produced.stderr);
    assert!(produced.status.success(), "{stderr}");
    let s: Value = serde_json::from_slice(&produced.stdout).unwrap();
    assert_eq!(
        (s["read"].as_u64(), s["sent"].as_u64()),
        (Some(200), Some(200)),
        "{s}"
    );
    assert!(
        stderr.contains("cannot save the progress record"),
        "{stderr}"
    );

    assert_eq!(emulator.dump("full-produce").len(), 200);
    drop(filler);
}
