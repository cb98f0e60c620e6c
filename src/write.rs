//! JSON output for the wasm binding (and the request bodies `diff` checks), without serde.
//!
//! serde's generic serializers made up about a third of the wasm module; results are a handful
//! of small types, so they are written here by hand. The output is byte-for-byte what
//! `serde_json::to_string` gives for the same values (the test at the bottom checks this over
//! the whole fixture corpus), so the native API and the npm package return identical JSON.

use crate::issues::{Issue, Params, Severity};
use crate::json::{Foreign, Json};
use crate::model::{
    Change, ChangeKind, Connector, Credentials, DiffAction, DiffResult, Effect, FieldValue,
    NormalizeChange, NormalizeResult, NormalizedValue, RegionInfo, Request, UpdatePayload,
    ValidationResult,
};

pub(crate) trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>);
}

pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s.as_bytes();
    // Copy runs that need no escape in one go; most strings are a single run.
    while let Some(i) = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    {
        out.extend_from_slice(&rest[..i]);
        let b = rest[i];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

pub(crate) fn unsigned(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

pub(crate) fn signed(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    unsigned(out, n.unsigned_abs());
}

/// Writes `{"key":value,...}`, skipping absent fields.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Object<'o> {
    fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, first: true }
    }

    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        string(self.out, key);
        self.out.push(b':');
        self.out
    }

    fn field<T: WriteJson + ?Sized>(&mut self, key: &str, value: &T) -> &mut Self {
        value.write_json(self.key(key));
        self
    }

    fn optional<T: WriteJson>(&mut self, key: &str, value: &Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.field(key, v);
        }
        self
    }

    fn end(&mut self) {
        self.out.push(b'}');
    }
}

impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self);
    }
}

impl WriteJson for &str {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self);
    }
}

impl WriteJson for bool {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

impl WriteJson for u32 {
    fn write_json(&self, out: &mut Vec<u8>) {
        unsigned(out, u64::from(*self));
    }
}

impl WriteJson for u64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        unsigned(out, *self);
    }
}

impl WriteJson for i64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        signed(out, *self);
    }
}

impl<T: WriteJson> WriteJson for Option<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write_json(out);
        }
        out.push(b']');
    }
}

impl WriteJson for Severity {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(
            out,
            if *self == Severity::Error {
                "error"
            } else {
                "warning"
            },
        );
    }
}

impl WriteJson for Params {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .optional("field", &self.field)
            .optional("suggestion", &self.suggestion)
            .optional("expected", &self.expected)
            .optional("actual", &self.actual)
            .optional("length", &self.length)
            .optional("min", &self.min)
            .optional("max", &self.max)
            .optional("line", &self.line)
            .optional("column", &self.column)
            .optional("from", &self.from)
            .optional("to", &self.to)
            .optional("steps", &self.steps)
            .optional("plan", &self.plan)
            .end();
    }
}

impl WriteJson for Issue {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("severity", &self.severity)
            .field("code", self.code.as_str())
            .field("path", &self.path)
            .field("message", &self.message)
            .field("params", &self.params)
            .end();
    }
}

impl WriteJson for crate::Region {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self.code());
    }
}

impl WriteJson for crate::ConnectorType {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, crate::CONNECTOR_TYPE);
    }
}

impl WriteJson for RegionInfo {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("code", &self.code)
            .field("name", self.name)
            .end();
    }
}

impl WriteJson for Credentials {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::new(out);
        o.field("user", &self.user);
        if let Some(p) = &self.password {
            o.field("password", p.expose());
        }
        o.end();
    }
}

impl WriteJson for Connector {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("type", &self.kind)
            .field("id", &self.id)
            .optional("credentials", &self.credentials)
            .field("region", &self.region)
            .field("stream", &self.stream)
            .field("shards", &self.shards)
            .field(
                "maxRecordsPerShardPerSecond",
                &self.max_records_per_shard_per_second,
            )
            .field(
                "maxBytesPerShardPerSecond",
                &self.max_bytes_per_shard_per_second,
            )
            .optional("dataProcessingMethodId", &self.data_processing_method_id)
            .field("disabled", &self.disabled)
            .end();
    }
}

impl WriteJson for UpdatePayload {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .optional("type", &self.kind)
            .optional("id", &self.id)
            .optional("credentials", &self.credentials)
            .optional("region", &self.region)
            .optional("stream", &self.stream)
            .optional("shards", &self.shards)
            .optional(
                "maxRecordsPerShardPerSecond",
                &self.max_records_per_shard_per_second,
            )
            .optional(
                "maxBytesPerShardPerSecond",
                &self.max_bytes_per_shard_per_second,
            )
            .optional("dataProcessingMethodId", &self.data_processing_method_id)
            .optional("disabled", &self.disabled)
            .end();
    }
}

impl<T: WriteJson> WriteJson for ValidationResult<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("valid", &self.valid)
            .field("errors", &self.errors)
            .field("warnings", &self.warnings)
            .optional("value", &self.value)
            .end();
    }
}

impl WriteJson for Json<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Json::Null | Json::Foreign(_) => out.extend_from_slice(b"null"),
            Json::Bool(b) => b.write_json(out),
            // As the serde path writes it: integers that fit i64 canonically, others as read.
            Json::Number(text) => match text.parse::<i64>() {
                Ok(n) => signed(out, n),
                Err(_) => out.extend_from_slice(text.as_bytes()),
            },
            Json::String(s) => string(out, s),
            Json::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.value.write_json(out);
                }
                out.push(b']');
            }
            Json::Object(members) => {
                let mut o = Object::new(out);
                for m in members
                    .iter()
                    .filter(|m| m.value.value != Json::Foreign(Foreign::Undefined))
                {
                    o.field(&m.key, &m.value.value);
                }
                o.end();
            }
        }
    }
}

impl WriteJson for NormalizeChange {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("path", &self.path)
            .field("message", &self.message)
            .end();
    }
}

impl WriteJson for NormalizeResult {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("value", &self.value)
            .field("changes", &self.changes)
            .end();
    }
}

impl WriteJson for NormalizedValue {
    fn write_json(&self, out: &mut Vec<u8>) {
        self.0.write_json(out);
    }
}

impl WriteJson for Request {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::new(out);
        match self {
            Request::Put { id, body } => {
                o.field("method", "PUT").field("id", id).field("body", body)
            }
            Request::Delete { id } => o.field("method", "DELETE").field("id", id),
            Request::Post { body } => o.field("method", "POST").field("body", body),
        };
        o.end();
    }
}

impl WriteJson for DiffAction {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(
            out,
            match self {
                DiffAction::None => "none",
                DiffAction::Update => "update",
                DiffAction::Replace => "replace",
            },
        );
    }
}

impl WriteJson for ChangeKind {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(
            out,
            match self {
                ChangeKind::Added => "added",
                ChangeKind::Removed => "removed",
                ChangeKind::Changed => "changed",
            },
        );
    }
}

impl WriteJson for Effect {
    fn write_json(&self, out: &mut Vec<u8>) {
        let kind = match self {
            Effect::Reconnect => "reconnect",
            Effect::Reshard { .. } => "reshard",
            Effect::Throttle => "throttle",
            Effect::Method => "method",
            Effect::Pause => "pause",
            Effect::Resume => "resume",
            Effect::Recreate => "recreate",
        };
        let mut o = Object::new(out);
        o.field("kind", kind);
        if let Effect::Reshard {
            from,
            to,
            steps,
            plan,
        } = self
        {
            o.field("from", from)
                .field("to", to)
                .field("steps", steps)
                .field("plan", plan);
        }
        o.end();
    }
}

impl WriteJson for FieldValue {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Text(s) => string(out, s),
            FieldValue::Number(n) => unsigned(out, *n),
            FieldValue::Flag(b) => b.write_json(out),
        }
    }
}

impl WriteJson for Change {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("path", &self.path)
            .field("kind", &self.kind)
            .optional("before", &self.before)
            .optional("after", &self.after)
            .field("effect", &self.effect)
            .end();
    }
}

impl WriteJson for DiffResult {
    fn write_json(&self, out: &mut Vec<u8>) {
        Object::new(out)
            .field("valid", &self.valid)
            .field("errors", &self.errors)
            .field("warnings", &self.warnings)
            .field("action", &self.action)
            .field("update", &self.update)
            .optional("create", &self.create)
            .field("changes", &self.changes)
            .field("requests", &self.requests)
            .end();
    }
}

#[cfg(test)]
mod tests {
    use super::WriteJson;
    use crate::Op;
    use serde::Serialize;
    use serde_json::Value;

    fn same<T: WriteJson + Serialize>(value: &T) {
        let mut ours = Vec::new();
        value.write_json(&mut ours);
        let ours = String::from_utf8(ours).expect("utf-8");
        let theirs = serde_json::to_string(value).expect("serializes");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        for s in [
            "",
            "plain",
            "quote \" back \\ slash /",
            "\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}",
            "é → 🦀",
        ] {
            let mut ours = Vec::new();
            super::string(&mut ours, s);
            assert_eq!(
                String::from_utf8(ours).expect("utf-8"),
                serde_json::to_string(s).expect("serializes")
            );
        }
    }

    /// Every result over the fixture corpus is written exactly as serde_json writes it.
    #[test]
    fn output_matches_serde_over_the_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
            for case in doc["cases"].as_array().expect("cases") {
                let input = case.get("input").cloned().unwrap_or(Value::Null);
                let ctx = case.get("context").cloned().unwrap_or(Value::Null);
                let text = case.get("text").and_then(Value::as_str).unwrap_or("");
                let typed_ctx: crate::Context =
                    serde_json::from_value(ctx.clone()).unwrap_or_default();
                let op = case["op"].as_str().and_then(Op::from_name);
                match op.expect("a known op") {
                    Op::ValidateCreate => same(&crate::validate_create_in(&input, &ctx)),
                    Op::ValidateUpdate => same(&crate::validate_update_in(&input, &ctx)),
                    Op::ValidateCreateJson => same(&crate::validate_create_json(text, &typed_ctx)),
                    Op::ValidateUpdateJson => same(&crate::validate_update_json(text, &typed_ctx)),
                    Op::NormalizeCreate => same(&crate::normalize_create(&input)),
                    Op::NormalizeUpdate => same(&crate::normalize_update(&input)),
                    Op::Diff if case.get("context").is_some() => {
                        same(&crate::diff_in(&case["saved"], &case["desired"], &ctx))
                    }
                    Op::Diff => same(&crate::diff(&case["saved"], &case["desired"])),
                    Op::ApplyUpdate => same(&crate::apply_update(&case["saved"], &case["update"])),
                    Op::Regions | Op::CreateSchema | Op::UpdateSchema => continue,
                }
                count += 1;
            }
        }
        assert!(count > 400, "only {count} cases");
        same(&crate::regions());
    }
}
