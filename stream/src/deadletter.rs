//! The dead-letter output: one typed entry (`Entry`), written as NDJSON by consume (records a
//! method rejected) and produce (input that is not JSON, method errors, records that could not be
//! sent). Opened on first use, appended to, and synced before the checkpoint that moves past
//! those records is written.

use serde::Serialize;
use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error("cannot write dead-letter file {path}")]
pub struct DeadLetterError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Where in `produce` a record was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Input,
    Method,
    Put,
}

/// A record's payload in an entry: JSON embedded as it is (compacted when it spans lines), or
/// a base64 string (with `"encoding":"base64"`) when it is not JSON.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    Json(&'a [u8]),
    Base64(&'a [u8]),
}

impl Serialize for Payload<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Json(json) => Json(json).serialize(serializer),
            Payload::Base64(bytes) => {
                use base64::Engine as _;
                serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }
}

/// One dead-letter line. The fields present depend on where the record failed:
/// consume `{shardId, sequenceNumber, subSequenceNumber?, partitionKey, arrival, methodId, error,
/// data, encoding?}`; produce `{line, stage: "input", error, raw}`,
/// `{line, stage: "method", methodId, error, input}`, `{line, stage: "put", shardId,
/// partitionKey, attempts, error, data}`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_sequence_number: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_id: Option<&'a str>,
    pub error: &'a str,
    /// The input value (JSON) a method or the partition key failed on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Json<'a>>,
    /// An input line that is not JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<Cow<'a, str>>,
    /// Set with `with_payload`, which also sets `encoding`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Payload<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
}

impl<'a> Entry<'a> {
    /// Sets the record's payload: `data` (and `encoding` for base64).
    pub fn with_payload(mut self, payload: Payload<'a>) -> Self {
        self.encoding = matches!(payload, Payload::Base64(_)).then_some("base64");
        self.data = Some(payload);
        self
    }

    /// Appends the entry as one NDJSON line.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail, and every field serializes.
        let _ = serde_json::to_writer(&mut *out, self);
        out.push(b'\n');
    }
}

/// JSON text known to be valid, embedded as it is; compacted when it spans lines so the entry
/// stays one line.
#[derive(Debug, Clone, Copy)]
pub struct Json<'a>(pub &'a [u8]);

impl Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let text = std::str::from_utf8(self.0).map_err(S::Error::custom)?;
        if text.contains(['\n', '\r']) {
            let value: serde_json::Value = serde_json::from_str(text).map_err(S::Error::custom)?;
            return value.serialize(serializer);
        }
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(text).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    file: Option<File>,
    entries: u64,
}

impl DeadLetter {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: None,
            entries: 0,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Entries written by this process.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Appends complete NDJSON lines (`Entry::write_to`) and makes them durable.
    pub fn append(&mut self, lines: &[u8]) -> Result<(), DeadLetterError> {
        if lines.is_empty() {
            return Ok(());
        }
        let err = |source| DeadLetterError {
            path: self.path.clone(),
            source,
        };
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            self.file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
                    .map_err(err)?,
            );
        }
        if let Some(file) = self.file.as_mut() {
            file.write_all(lines).map_err(err)?;
            file.sync_data().map_err(err)?;
        }
        self.entries += lines.iter().filter(|b| **b == b'\n').count() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(entry: &Entry<'_>) -> String {
        let mut out = Vec::new();
        entry.write_to(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn each_kind_of_entry_keeps_its_line_format() {
        let consume = Entry {
            shard_id: Some("shardId-0"),
            sequence_number: Some("4959"),
            sub_sequence_number: Some(2),
            partition_key: Some("k"),
            arrival: Some("2026-03-01T10:00:00.120Z"),
            method_id: Some("m"),
            error: "Error: \"no\"",
            ..Entry::default()
        };
        assert_eq!(
            line(&consume.clone().with_payload(Payload::Json(b"{\n  \"a\": 1\n}"))),
            "{\"shardId\":\"shardId-0\",\"sequenceNumber\":\"4959\",\"subSequenceNumber\":2,\"partitionKey\":\"k\",\"arrival\":\"2026-03-01T10:00:00.120Z\",\"methodId\":\"m\",\"error\":\"Error: \\\"no\\\"\",\"data\":{\"a\":1}}\n"
        );
        assert!(line(&consume.with_payload(Payload::Base64(&[0, 159])))
            .ends_with(",\"data\":\"AJ8=\",\"encoding\":\"base64\"}\n"));
        let input = Entry {
            line: Some(17),
            stage: Some(Stage::Input),
            error: "not JSON: x",
            raw: Some("nope".into()),
            ..Entry::default()
        };
        assert_eq!(
            line(&input),
            "{\"line\":17,\"stage\":\"input\",\"error\":\"not JSON: x\",\"raw\":\"nope\"}\n"
        );
        let method = Entry {
            line: Some(6),
            stage: Some(Stage::Method),
            method_id: Some("m"),
            error: "Error: e",
            input: Some(Json(b"{\"n\": 3}")),
            ..Entry::default()
        };
        assert_eq!(
            line(&method),
            "{\"line\":6,\"stage\":\"method\",\"methodId\":\"m\",\"error\":\"Error: e\",\"input\":{\"n\": 3}}\n"
        );
        let put = Entry {
            line: Some(8),
            stage: Some(Stage::Put),
            shard_id: Some("shardId-1"),
            partition_key: Some("dev"),
            attempts: Some(10),
            error: "e",
            ..Entry::default()
        }
        .with_payload(Payload::Json(b"{\"n\":8}"));
        assert_eq!(
            line(&put),
            "{\"line\":8,\"stage\":\"put\",\"shardId\":\"shardId-1\",\"partitionKey\":\"dev\",\"attempts\":10,\"error\":\"e\",\"data\":{\"n\":8}}\n"
        );
    }
}
