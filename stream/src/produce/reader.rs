//! The input side: one line at a time, bounded in length; parse, method, partition key.

use super::progress::Tracker;
use super::{
    Item, Prepared, ProduceError, ProduceOptions, FALLBACK_PARTITION_KEY, MAX_PARTITION_KEY_CHARS,
    MAX_RECORD_BYTES,
};
use crate::deadletter::{Entry, Json, Stage};
use crate::method::{MethodRunner, Outcome};
use kinesis_connector::{Connector, Effects};
use std::sync::Arc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Lines longer than this cannot become a record whatever the method does; the rest of such a
/// line is skipped without being held in memory.
const MAX_LINE_BYTES: usize = 2 * MAX_RECORD_BYTES;

/// How the reader counts what it read.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ReadCounts {
    pub read: u64,
    pub filtered: u64,
    /// The input was read to its end (not stopped part way).
    pub end_of_input: bool,
}

pub(crate) struct Reader<'o, R> {
    pub input: R,
    pub method: Option<MethodRunner>,
    pub options: &'o ProduceOptions,
    pub config: watch::Receiver<Arc<Connector>>,
    pub tx: mpsc::Sender<Item>,
    pub stop: CancellationToken,
    /// `--input FILE`: lines are tracked until done, for the progress record.
    pub progress: Option<Tracker>,
}

/// One line of input: its bytes (without the newline) and whether it was cut at the cap.
struct Line {
    bytes: Vec<u8>,
    truncated: bool,
    /// Bytes taken from the input, the newline included.
    consumed: u64,
}

impl<R: AsyncBufRead + Unpin> Reader<'_, R> {
    pub async fn run(mut self) -> Result<ReadCounts, ProduceError> {
        let mut counts = ReadCounts::default();
        let (mut line_no, mut offset) = self
            .options
            .input_progress
            .as_ref()
            .map_or((0, 0), |p| (p.start_line, p.start_offset));
        let mut current = Arc::clone(&self.config.borrow_and_update());
        loop {
            if self.config.has_changed().unwrap_or(false) {
                let new = Arc::clone(&self.config.borrow_and_update());
                self.apply(&current, &new);
                current = new;
            }
            if current.disabled {
                info!("connector disabled: input paused");
                tokio::select! {
                    _ = self.stop.cancelled() => break,
                    changed = self.config.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        continue;
                    }
                }
            }
            if let Some(progress) = &self.progress {
                tokio::select! {
                    _ = self.stop.cancelled() => break,
                    () = progress.room() => {}
                }
            }
            let line = tokio::select! {
                _ = self.stop.cancelled() => break,
                line = read_line(&mut self.input) => line.map_err(ProduceError::Input)?,
            };
            let Some(line) = line else {
                counts.end_of_input = true;
                break;
            };
            line_no += 1;
            offset += line.consumed;
            let text = line.bytes.trim_ascii();
            if text.is_empty() {
                self.track(line_no, offset, true);
                continue;
            }
            counts.read += 1;
            let item = match self.prepare(line_no, text, line.truncated) {
                Ok(Some(prepared)) => Item::Record(prepared),
                Ok(None) => {
                    counts.filtered += 1;
                    self.track(line_no, offset, true);
                    continue;
                }
                Err(entry) => Item::Dead {
                    line: line_no,
                    entry,
                },
            };
            self.track(line_no, offset, false);
            if self.tx.send(item).await.is_err() {
                // The sender is gone (it only leaves early on an error it reports itself).
                break;
            }
        }
        Ok(counts)
    }

    fn track(&self, line: u64, end_offset: u64, done: bool) {
        if let Some(progress) = &self.progress {
            progress.read(line, end_offset, done);
        }
    }

    /// A config change from `--watch`: the method is swapped (also when resuming, since a
    /// connector disabled at start has not loaded its method yet); `disabled` is read by the loop.
    fn apply(&mut self, old: &Connector, new: &Connector) {
        let effects = Effects::between(old, new);
        if effects.method || effects.resume {
            self.options
                .common
                .swap_method(&mut self.method, new.data_processing_method_id.as_deref());
        }
    }

    /// The record a line becomes, `None` when the method filters it, or the dead-letter entry.
    fn prepare(
        &mut self,
        line: u64,
        text: &[u8],
        truncated: bool,
    ) -> Result<Option<Prepared>, Vec<u8>> {
        if truncated {
            return Err(dead_entry(
                line,
                &format!("line longer than {MAX_LINE_BYTES} bytes"),
                None,
                Raw::Text(&text[..text.len().min(1024)]),
            ));
        }
        let value: serde_json::Value = match serde_json::from_slice(text) {
            Ok(value) => value,
            Err(e) => {
                return Err(dead_entry(
                    line,
                    &format!("not JSON: {e}"),
                    None,
                    Raw::Text(text),
                ))
            }
        };
        let key = match partition_key(&value, &self.options.partition_key) {
            Ok(key) => key,
            Err(message) => return Err(dead_entry(line, &message, None, Raw::Json(text))),
        };
        let data = match self.method.as_mut() {
            None => text.to_vec(),
            Some(method) => match method.run_json(text) {
                Outcome::Keep(json) => json.into_bytes(),
                Outcome::Drop => return Ok(None),
                Outcome::Failed(message) => {
                    return Err(dead_entry(
                        line,
                        &message,
                        Some(method.id()),
                        Raw::Json(text),
                    ))
                }
            },
        };
        let prepared = Prepared { line, key, data };
        if prepared.size() > MAX_RECORD_BYTES {
            warn!(line, size = prepared.size(), "record too large");
            return Err(dead_entry(
                line,
                &format!(
                    "record of {} bytes (data and partition key) is over the {MAX_RECORD_BYTES}-byte Kinesis limit",
                    prepared.size()
                ),
                None,
                Raw::Json(text),
            ));
        }
        Ok(Some(prepared))
    }
}

/// The partition key at `pointer`, else at `/feedId`: a string as it is, a number or boolean as
/// its JSON text.
pub(crate) fn partition_key(value: &serde_json::Value, pointer: &str) -> Result<String, String> {
    let found = [pointer, FALLBACK_PARTITION_KEY]
        .into_iter()
        .filter_map(|p| value.pointer(p))
        .find_map(|v| match v {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        });
    match found {
        Some(key) if key.chars().count() <= MAX_PARTITION_KEY_CHARS => Ok(key),
        Some(key) => Err(format!(
            "partition key of {} characters is over the {MAX_PARTITION_KEY_CHARS}-character limit",
            key.chars().count()
        )),
        None => Err(format!(
            "no partition key: nothing usable at {pointer} or {FALLBACK_PARTITION_KEY}"
        )),
    }
}

enum Raw<'a> {
    /// The line is JSON: embedded as it is.
    Json(&'a [u8]),
    /// The line is not JSON: embedded as a string.
    Text(&'a [u8]),
}

/// The entry of a line that never became a record: `stage` "method" when the method failed on
/// it, else "input".
fn dead_entry(line: u64, error: &str, method_id: Option<&str>, raw: Raw<'_>) -> Vec<u8> {
    let mut entry = Entry {
        line: Some(line),
        stage: Some(if method_id.is_some() {
            Stage::Method
        } else {
            Stage::Input
        }),
        method_id,
        error,
        ..Entry::default()
    };
    match raw {
        Raw::Json(json) => entry.input = Some(Json(json)),
        Raw::Text(text) => entry.raw = Some(String::from_utf8_lossy(text)),
    }
    let mut out = Vec::with_capacity(64 + error.len());
    entry.write_to(&mut out);
    out
}

/// Reads one line, keeping at most `MAX_LINE_BYTES` of it; `None` at the end of the input.
async fn read_line<R: AsyncBufRead + Unpin>(input: &mut R) -> std::io::Result<Option<Line>> {
    let mut line = Line {
        bytes: Vec::new(),
        truncated: false,
        consumed: 0,
    };
    let mut any = false;
    loop {
        let chunk = input.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(any.then_some(line));
        }
        any = true;
        let (part, used, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(line.bytes.len());
        if part.len() > room {
            line.truncated = true;
        }
        line.bytes.extend_from_slice(&part[..part.len().min(room)]);
        input.consume(used);
        line.consumed += used as u64;
        if done {
            return Ok(Some(line));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partition_key_pointer_then_feed_id() {
        let v = json!({"feedId": "f-1", "destination": {"object": {"id": "_dev_7"}}});
        assert_eq!(
            partition_key(&v, "/destination/object/id").as_deref(),
            Ok("_dev_7")
        );
        assert_eq!(partition_key(&v, "/nope").as_deref(), Ok("f-1"));
        assert_eq!(partition_key(&json!({"n": 5}), "/n").as_deref(), Ok("5"));
        assert!(partition_key(&json!({"x": 1}), "/nope").is_err());
        let long = "k".repeat(257);
        assert!(partition_key(&json!({ "feedId": long }), "/nope").is_err());
    }

    #[tokio::test]
    async fn lines_are_capped_and_the_rest_skipped() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let text = format!("a\n{long}\nb");
        let mut input = tokio::io::BufReader::with_capacity(1000, text.as_bytes());
        let first = read_line(&mut input).await.unwrap().unwrap();
        assert_eq!(
            (first.bytes.as_slice(), first.truncated),
            (&b"a"[..], false)
        );
        let second = read_line(&mut input).await.unwrap().unwrap();
        assert!(second.truncated);
        assert_eq!(second.bytes.len(), MAX_LINE_BYTES);
        let third = read_line(&mut input).await.unwrap().unwrap();
        assert_eq!(third.bytes, b"b");
        assert!(read_line(&mut input).await.unwrap().is_none());
    }
}
