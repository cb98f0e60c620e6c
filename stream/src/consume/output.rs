//! The per-record pipeline of `consume`: de-aggregate, run the method, write one NDJSON line.
//!
//! This is the hot path (millions of records per second per core), so lines are written straight
//! into a byte buffer: no `serde_json::Value` per record, payloads that are already compact JSON
//! are copied as they are, and the arrival time string is cached between records.

use crate::deadletter::{Entry, Payload};
use crate::kinesis::KinesisRecord;
use crate::kpl;
use crate::method::{MethodRunner, Outcome};
use crate::ndjson::push_str as push_json_string;
use base64::Engine as _;
use serde::de::IgnoredAny;
use std::io::Write as _;

/// What one Kinesis record turned into.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// User records seen (after de-aggregation).
    pub records: u64,
    pub written: u64,
    pub filtered: u64,
    pub dead_lettered: u64,
    /// The last sub-sequence number handled, for aggregated records.
    pub last_sub_sequence: Option<u64>,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.records += other.records;
        self.written += other.written;
        self.filtered += other.filtered;
        self.dead_lettered += other.dead_lettered;
        self.last_sub_sequence = other.last_sub_sequence;
    }
}

/// Buffers the output lines and dead-letter lines of a batch until the caller flushes them.
#[derive(Debug, Default)]
pub struct Pipeline {
    pub method: Option<MethodRunner>,
    /// NDJSON output lines.
    pub out: Vec<u8>,
    /// NDJSON dead-letter entries.
    pub dead: Vec<u8>,
    arrival_cache: (i64, String),
    scratch: Vec<u8>,
}

struct Meta<'a> {
    shard_id: &'a str,
    sequence_number: &'a str,
    sub_sequence: Option<u64>,
    partition_key: &'a str,
}

impl Pipeline {
    pub fn new(method: Option<MethodRunner>) -> Self {
        Self {
            method,
            ..Self::default()
        }
    }

    /// Handles one Kinesis record. `skip_through`: sub-records up to and including this index were
    /// already handled before a restart (resume inside an aggregated record).
    pub fn process(
        &mut self,
        shard_id: &str,
        record: &KinesisRecord,
        skip_through: Option<u64>,
    ) -> Counts {
        let mut nothing = |_: &mut Vec<u8>| Ok::<(), std::convert::Infallible>(());
        match self.process_each(shard_id, record, skip_through, &mut nothing) {
            Ok(counts) => counts,
            Err(never) => match never {},
        }
    }

    /// `process`, calling `between` with the output buffer after each user record that went
    /// through the method (a slow method's lines can then be written out one by one).
    pub fn process_each<E>(
        &mut self,
        shard_id: &str,
        record: &KinesisRecord,
        skip_through: Option<u64>,
        between: &mut impl FnMut(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<Counts, E> {
        let mut counts = Counts::default();
        if kpl::is_aggregated(&record.data) {
            if let Ok(users) = kpl::deaggregate(&record.data) {
                for (index, user) in users.iter().enumerate() {
                    let sub = index as u64;
                    counts.last_sub_sequence = Some(sub);
                    if skip_through.is_some_and(|s| sub <= s) {
                        continue;
                    }
                    let meta = Meta {
                        shard_id,
                        sequence_number: &record.sequence_number,
                        sub_sequence: Some(sub),
                        partition_key: user.partition_key,
                    };
                    self.one(&meta, record.arrival_millis, user.data, &mut counts);
                    if self.method.is_some() {
                        between(&mut self.out)?;
                    }
                }
                return Ok(counts);
            }
        }
        if skip_through.is_some() {
            // A KCL checkpoint (sequence, sub-sequence 0) on a plain record: it was handled.
            return Ok(counts);
        }
        let meta = Meta {
            shard_id,
            sequence_number: &record.sequence_number,
            sub_sequence: None,
            partition_key: &record.partition_key,
        };
        self.one(&meta, record.arrival_millis, &record.data, &mut counts);
        if self.method.is_some() {
            between(&mut self.out)?;
        }
        Ok(counts)
    }

    fn one(&mut self, meta: &Meta<'_>, arrival_millis: i64, data: &[u8], counts: &mut Counts) {
        counts.records += 1;
        let Some(method) = self.method.as_mut() else {
            write_line_start(&mut self.out, meta, &mut self.arrival_cache, arrival_millis);
            write_data(&mut self.out, data);
            self.out.extend_from_slice(b"}\n");
            counts.written += 1;
            return;
        };
        let input = match json_payload(data) {
            Some(json) => json,
            None => {
                // Not JSON: the method sees the payload as a base64 string.
                self.scratch.clear();
                push_json_string(
                    &mut self.scratch,
                    &base64::engine::general_purpose::STANDARD.encode(data),
                );
                &self.scratch[..]
            }
        };
        match method.run_json(input) {
            Outcome::Keep(json) => {
                write_line_start(&mut self.out, meta, &mut self.arrival_cache, arrival_millis);
                self.out.extend_from_slice(b",\"data\":");
                self.out.extend_from_slice(json.as_bytes());
                self.out.extend_from_slice(b"}\n");
                counts.written += 1;
            }
            Outcome::Drop => counts.filtered += 1,
            Outcome::Failed(error) => {
                let arrival = cached_arrival(&mut self.arrival_cache, arrival_millis);
                let payload = match json_payload(data) {
                    Some(json) => Payload::Json(json),
                    None => Payload::Base64(data),
                };
                Entry {
                    shard_id: Some(meta.shard_id),
                    sequence_number: Some(meta.sequence_number),
                    sub_sequence_number: meta.sub_sequence,
                    partition_key: Some(meta.partition_key),
                    arrival: Some(arrival),
                    method_id: Some(method.id()),
                    error: &error,
                    ..Entry::default()
                }
                .with_payload(payload)
                .write_to(&mut self.dead);
                counts.dead_lettered += 1;
            }
        }
    }
}

/// The payload as JSON text when it is JSON (leading/trailing whitespace trimmed).
fn json_payload(data: &[u8]) -> Option<&[u8]> {
    let trimmed = data.trim_ascii();
    if trimmed.is_empty() {
        return None;
    }
    serde_json::from_slice::<IgnoredAny>(trimmed)
        .ok()
        .map(|_| trimmed)
}

/// Writes `,"data":<json>` or `,"data":"<base64>","encoding":"base64"`.
fn write_data(out: &mut Vec<u8>, data: &[u8]) {
    match json_payload(data) {
        Some(json) if !json.contains(&b'\n') && !json.contains(&b'\r') => {
            out.extend_from_slice(b",\"data\":");
            out.extend_from_slice(json);
        }
        Some(json) => {
            // Pretty-printed JSON: compact it so the output stays one line per record.
            out.extend_from_slice(b",\"data\":");
            let value: serde_json::Value =
                serde_json::from_slice(json).unwrap_or(serde_json::Value::Null);
            let _ = serde_json::to_writer(&mut *out, &value);
        }
        None => {
            out.extend_from_slice(b",\"data\":\"");
            let start = out.len();
            out.resize(
                start + base64::encoded_len(data.len(), true).unwrap_or(0),
                0,
            );
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(data, &mut out[start..])
                .unwrap_or(0);
            out.truncate(start + written);
            out.extend_from_slice(b"\",\"encoding\":\"base64\"");
        }
    }
}

fn write_line_start(
    out: &mut Vec<u8>,
    meta: &Meta<'_>,
    cache: &mut (i64, String),
    arrival_millis: i64,
) {
    out.extend_from_slice(b"{\"shardId\":");
    push_json_string(out, meta.shard_id);
    out.extend_from_slice(b",\"sequenceNumber\":");
    push_json_string(out, meta.sequence_number);
    if let Some(sub) = meta.sub_sequence {
        out.extend_from_slice(b",\"subSequenceNumber\":");
        let _ = write!(out, "{sub}");
    }
    out.extend_from_slice(b",\"partitionKey\":");
    push_json_string(out, meta.partition_key);
    out.extend_from_slice(b",\"arrival\":\"");
    out.extend_from_slice(cached_arrival(cache, arrival_millis).as_bytes());
    out.push(b'"');
}

/// The arrival time text, formatted once for a run of records that arrived in the same
/// millisecond.
fn cached_arrival(cache: &mut (i64, String), arrival_millis: i64) -> &str {
    if cache.0 != arrival_millis || cache.1.is_empty() {
        *cache = (arrival_millis, format_rfc3339_millis(arrival_millis));
    }
    &cache.1
}

/// `2026-03-01T10:00:00.120Z` from milliseconds since the Unix epoch (the `time` crate does the
/// calendar; always three fraction digits). A time outside the years the crate knows (±9999) is
/// no arrival time; it prints as the epoch.
pub fn format_rfc3339_millis(millis: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::MethodLimits;

    fn record(data: &[u8]) -> KinesisRecord {
        KinesisRecord {
            sequence_number: "49590".into(),
            partition_key: "dev-1".into(),
            arrival_millis: 1_772_359_200_120,
            data: data.to_vec(),
        }
    }

    fn lines(buf: &[u8]) -> Vec<serde_json::Value> {
        buf.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("each line is JSON"))
            .collect()
    }

    #[test]
    fn time_format() {
        assert_eq!(format_rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339_millis(1_772_359_200_120),
            "2026-03-01T10:00:00.120Z"
        );
        assert_eq!(
            format_rfc3339_millis(951_782_400_000),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn json_payload_is_embedded() {
        let mut p = Pipeline::new(None);
        p.process("shardId-0", &record(b" {\"value\": 1}\n"), None);
        p.process("shardId-0", &record(b"{\n  \"a\": \"x\"\n}"), None);
        assert_eq!(
            lines(&p.out),
            vec![
                serde_json::json!({"shardId":"shardId-0","sequenceNumber":"49590","partitionKey":"dev-1",
                    "arrival":"2026-03-01T10:00:00.120Z","data":{"value":1}}),
                serde_json::json!({"shardId":"shardId-0","sequenceNumber":"49590","partitionKey":"dev-1",
                    "arrival":"2026-03-01T10:00:00.120Z","data":{"a":"x"}}),
            ]
        );
    }

    #[test]
    fn binary_payload_is_base64() {
        let mut p = Pipeline::new(None);
        p.process("s", &record(&[0, 159, 146, 150]), None);
        let out = lines(&p.out);
        assert_eq!(out[0]["data"], "AJ+Slg==");
        assert_eq!(out[0]["encoding"], "base64");
    }

    #[test]
    fn aggregated_records_keep_sub_sequence_numbers() {
        let data = kpl::aggregate([
            ("k1", &b"{\"n\":1}"[..]),
            ("k2", b"{\"n\":2}"),
            ("k1", b"{\"n\":3}"),
        ]);
        let mut p = Pipeline::new(None);
        let counts = p.process("s", &record(&data), Some(0));
        assert_eq!(counts.records, 2);
        assert_eq!(counts.last_sub_sequence, Some(2));
        let out = lines(&p.out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["partitionKey"], "k2");
        assert_eq!(out[0]["subSequenceNumber"], 1);
        assert_eq!(out[1]["data"]["n"], 3);
    }

    #[test]
    fn method_filters_transforms_and_dead_letters() {
        let method = MethodRunner::from_source(
            "m",
            "function preprocessor(v) { if (v.bad) throw new Error('nope'); if (v.n < 2) return null; return {m: v.n * 10}; }",
            MethodLimits::default(),
        )
        .expect("loads");
        let mut p = Pipeline::new(Some(method));
        let mut total = Counts::default();
        for data in [&b"{\"n\":1}"[..], b"{\"n\":5}", b"{\"bad\":true}"] {
            total += p.process("s", &record(data), None);
        }
        assert_eq!(
            (
                total.records,
                total.written,
                total.filtered,
                total.dead_lettered
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(lines(&p.out)[0]["data"], serde_json::json!({"m": 50}));
        let dead = lines(&p.dead);
        assert_eq!(dead[0]["error"], "Error: nope");
        assert_eq!(dead[0]["data"], serde_json::json!({"bad": true}));
        assert_eq!(dead[0]["methodId"], "m");
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// The `data.n` of every output line.
    pub fn ns(out: &[u8]) -> Vec<u64> {
        out.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_slice(l).unwrap_or_default();
                v["data"]["n"].as_u64().unwrap_or(u64::MAX)
            })
            .collect()
    }
}
