//! Records/s per core through the consume pipeline without the network: KPL de-aggregation,
//! the processing method, NDJSON out (into a buffer that is "flushed" by clearing it).
//!
//! `cargo bench -p kinesis-connector-stream --profile release-native --bench pipeline [-- FILTER]`
//! (only the cases whose name contains FILTER, e.g. `method`).
#![allow(clippy::unwrap_used, reason = "benchmark")]

use kinesis_stream::consume::output::Pipeline;
use kinesis_stream::kinesis::KinesisRecord;
use kinesis_stream::kpl;
use kinesis_stream::method::{MethodLimits, MethodRunner};
use std::time::Instant;

/// The platform's Data Value example (platform-notes.md), about 700 bytes.
fn data_value(n: usize) -> String {
    format!(
        r#"{{"feedId":"5f1c0e2a-8d3b-4c71-9a0e-{n:012}","account":{{"id":"_acc_100000000000000001","name":"acme"}},"app":{{"id":"_app_100000000000000002","name":"Plant_7"}},"sourceTime":"2026-03-01T10:00:00.000Z","serverTime":"2026-03-01T10:00:00.120Z","tags":["line-2"],"annotations":{{"sn":"SN-77-0042"}},"source":{{"ip":"203.0.113.7:50123","object":{{"id":"_dev_100000000000000003","name":"Pump.7"}},"protocol":"mqtt","apiKeyId":"_key_100000000000000004"}},"destination":{{"object":{{"id":"_dev_100000000000000003","name":"Pump.7"}},"property":{{"id":"_prp_100000000000000005","name":"temperature"}},"state":{{"temperature":71.5,"pressure":2.1}}}},"value":{}}}"#,
        n % 100
    )
}

fn small_value(n: usize) -> String {
    format!(
        r#"{{"device":"dev-{}","t":"temperature","v":{}}}"#,
        n % 50,
        n % 100
    )
}

fn records(count: usize, payload: &dyn Fn(usize) -> String) -> Vec<KinesisRecord> {
    (0..count)
        .map(|n| KinesisRecord {
            sequence_number: format!("4968057185843236760097392758028167565668102907536{n:07}"),
            partition_key: format!("dev-{}", n % 50),
            arrival_millis: 1_772_359_200_120 + (n / 1000) as i64,
            data: payload(n).into_bytes(),
        })
        .collect()
}

fn aggregated(
    count: usize,
    per_record: usize,
    payload: &dyn Fn(usize) -> String,
) -> Vec<KinesisRecord> {
    let users: Vec<(String, String)> = (0..count)
        .map(|n| (format!("dev-{}", n % 50), payload(n)))
        .collect();
    users
        .chunks(per_record)
        .enumerate()
        .map(|(i, chunk)| KinesisRecord {
            sequence_number: format!("4968057185843236760097392758028167565668102907536{i:07}"),
            partition_key: chunk[0].0.clone(),
            arrival_millis: 1_772_359_200_120,
            data: kpl::aggregate(chunk.iter().map(|(k, d)| (k.as_str(), d.as_bytes()))),
        })
        .collect()
}

/// The first argument that is not an option (cargo passes `--bench`).
fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}

fn measure(name: &str, input: &[KinesisRecord], method: Option<&str>) {
    if filter().is_some_and(|f| !name.contains(&f)) {
        return;
    }
    let runner =
        method.map(|src| MethodRunner::from_source("bench", src, MethodLimits::default()).unwrap());
    let mut pipeline = Pipeline::new(runner);
    let mut sink = std::io::sink();
    let started = Instant::now();
    let mut user_records = 0u64;
    let mut bytes_out = 0usize;
    for record in input {
        user_records += pipeline
            .process("shardId-000000000000", record, None)
            .records;
        if pipeline.out.len() > 256 << 10 {
            bytes_out += pipeline.out.len();
            std::io::Write::write_all(&mut sink, &pipeline.out).unwrap();
            pipeline.out.clear();
        }
    }
    bytes_out += pipeline.out.len();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name:<48} {:>10.0} records/s  ({user_records} records in {secs:.3} s, {:.0} MB/s out)",
        user_records as f64 / secs,
        bytes_out as f64 / secs / 1e6
    );
}

const SMALL_METHOD: &str =
    "function preprocessor(v) { if (v.v < 5) return null; return { device: v.device, value: v.v * 2 }; }";
const DATA_VALUE_METHOD: &str = "function preprocessor(value) {\n  if (value.destination.property.name !== 'temperature') return null;\n  return { device_context: value.destination.object, event: { feed_id: value.feedId, event_type: 'temperature', time: value.serverTime, property_name: value.destination.property.name, property_new_value: value.value } };\n}";

fn main() {
    // `PIPELINE_RECORDS` scales the run down, e.g. for callgrind.
    let n: usize = std::env::var("PIPELINE_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let small = records(n, &small_value);
    measure("small JSON (50 B), no method", &small, None);
    measure(
        "KPL aggregated x100, small JSON, no method",
        &aggregated(n, 100, &small_value),
        None,
    );
    let big = records(n, &data_value);
    measure("Data Value JSON (700 B), no method", &big, None);
    measure(
        "binary payload (50 B, base64 out), no method",
        &records(n, &|i| format!("\u{1}bin{i:046}")),
        None,
    );
    let m = n * 3 / 10;
    measure("small JSON, small method", &small[..m], Some(SMALL_METHOD));
    measure(
        "Data Value JSON, reshaping method",
        &big[..m],
        Some(DATA_VALUE_METHOD),
    );
}
