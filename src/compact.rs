//! The compact answer of a validation, for the wasm binding: the result as a table of numbers
//! the glue expands into objects, instead of a JSON round trip of the whole result
//! (ARCHITECTURE.md, "The wasm binding"). The value is made of slices of the text the caller
//! gave; the issues' strings are slices of one `pieces` string handed over with the table.
//!
//! The table is `u32` words: `[valid, value entries, errors, warnings]`, the value's entries,
//! then each issue as `[code | warning << 16, path a, path b, message a, message b, params]`
//! followed by its params' entries. An entry is three words `[kind | key << 8, a, b]`:
//! - [`STRING`]: `text.slice(a, b)` (UTF-16 offsets; the text is ASCII);
//! - [`PIECE`]: `pieces.slice(a, b)` (UTF-16 offsets);
//! - [`NUMBER`] / [`NEGATIVE`]: the integer `±(b * 2^32 + a)` (at most 2^53);
//! - [`TRUE`] / [`FALSE`]: the boolean;
//! - [`BEGIN`] / [`END`]: an object value under `key` starts / the innermost object ends.
//!
//! `key` and `code` index [`strings`]: the keys, then the issue codes. Entries come in the order
//! `write.rs` writes. The encoder gives up (`None`) unless the expanded result is exactly what
//! `write.rs` would have written: every string of the value verbatim in the text, no param it
//! cannot carry; the caller then writes the whole result as JSON.

use std::borrow::Cow;

use crate::field::{Field, METHOD_ALIAS};
use crate::issues::{Issue, IssueCode, Params, Severity};
use crate::json::{Json, Node};
use crate::model::{Connector, UpdatePayload, ValidationResult, CONNECTOR_TYPE};

pub(crate) const STRING: u32 = 1;
pub(crate) const NUMBER: u32 = 2;
pub(crate) const TRUE: u32 = 3;
pub(crate) const FALSE: u32 = 4;
pub(crate) const BEGIN: u32 = 5;
pub(crate) const END: u32 = 6;
pub(crate) const PIECE: u32 = 7;
pub(crate) const NEGATIVE: u32 = 8;

/// The keys an entry names: the connector's fields, the members of `credentials`, the params.
pub(crate) const KEYS: [&str; 24] = {
    let mut keys = [""; 24];
    let mut i = 0;
    while i < Field::ALL.len() {
        keys[i] = Field::ALL[i].name();
        i += 1;
    }
    let rest = [
        "user",
        "password",
        "field",
        "suggestion",
        "expected",
        "actual",
        "length",
        "min",
        "max",
        "line",
        "column",
        "from",
        "to",
        "steps",
    ];
    let mut j = 0;
    while j < rest.len() {
        keys[i + j] = rest[j];
        j += 1;
    }
    keys
};
const USER: u32 = 10;
const PASSWORD: u32 = 11;
/// Where the issue codes start in [`strings`].
const CODES: u32 = KEYS.len() as u32;

/// The strings the table's `key` and `code` words index: [`KEYS`], then every issue code, one
/// a line.
pub(crate) fn strings() -> String {
    let mut lines = String::new();
    for key in KEYS {
        lines.push_str(key);
        lines.push('\n');
    }
    lines.push_str(IssueCode::LINES);
    lines
}

/// A validation result as a table and the strings its issues slice.
#[derive(Default)]
pub(crate) struct Table {
    pub words: Vec<u32>,
    pub pieces: String,
    /// The length of `pieces` in UTF-16 units.
    units: u32,
}

/// The values a validation can return, as entries (or not: the caller writes JSON).
pub(crate) trait Value {
    fn entries(&self, text: &Text, root: &Node, table: &mut Table) -> bool;
}

/// The text the input was parsed from, when it is ASCII (byte offsets are UTF-16 offsets).
pub(crate) struct Text {
    base: usize,
    len: usize,
}

impl Text {
    pub(crate) fn new(text: &str) -> Option<Text> {
        (text.is_ascii() && text.len() < u32::MAX as usize).then_some(Text {
            base: text.as_ptr() as usize,
            len: text.len(),
        })
    }
}

impl Table {
    fn entry(&mut self, kind: u32, key: u32, a: u32, b: u32) -> bool {
        self.words.extend_from_slice(&[kind | key << 8, a, b]);
        true
    }

    fn piece(&mut self, s: &str) -> (u32, u32) {
        let start = self.units;
        self.pieces.push_str(s);
        let units = if s.is_ascii() {
            s.len()
        } else {
            s.encode_utf16().count()
        };
        self.units = self.units.saturating_add(units as u32);
        (start, self.units)
    }

    /// `expected`, found verbatim as the string `node` borrowed from the text. Out of line: at
    /// its 7 call sites it measured 1.3 KB of wasm.
    #[inline(never)]
    fn verbatim(&mut self, text: &Text, key: u32, node: Option<&Node>, expected: &str) -> bool {
        let Some(Node {
            value: Json::String(Cow::Borrowed(s)),
            ..
        }) = node
        else {
            return false;
        };
        if !same_bytes(s.as_bytes(), expected.as_bytes()) {
            return false;
        }
        let start = (s.as_ptr() as usize).wrapping_sub(text.base);
        if start > text.len || text.len - start < s.len() {
            return false;
        }
        self.entry(STRING, key, start as u32, (start + s.len()) as u32)
    }

    fn integer(&mut self, key: u32, n: i64) -> bool {
        let m = n.unsigned_abs();
        m <= 1 << 53
            && self.entry(
                if n < 0 { NEGATIVE } else { NUMBER },
                key,
                m as u32,
                (m >> 32) as u32,
            )
    }

    fn text_param(&mut self, key: u32, s: &Option<String>) -> u32 {
        match s {
            Some(s) => {
                let (a, b) = self.piece(s);
                self.entry(PIECE, key, a, b);
                1
            }
            None => 0,
        }
    }

    /// The params in `write.rs`'s order; `None` for a `plan` (an array: written as JSON).
    fn params(&mut self, p: &Params) -> Option<u32> {
        if p.plan.is_some() {
            return None;
        }
        let mut n = self.text_param(12, &p.field)
            + self.text_param(13, &p.suggestion)
            + self.text_param(14, &p.expected)
            + self.text_param(15, &p.actual);
        let numbers = [
            (16, p.length.map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
            (17, p.min),
            (18, p.max),
            (19, p.line.map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
            (20, p.column.map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
            (21, p.from.map(i64::from)),
            (22, p.to.map(i64::from)),
            (23, p.steps.map(i64::from)),
        ];
        for (key, value) in numbers {
            if let Some(v) = value {
                if !self.integer(key, v) {
                    return None;
                }
                n += 1;
            }
        }
        Some(n)
    }

    fn issue(&mut self, issue: &Issue) -> bool {
        let warning = u32::from(issue.severity == Severity::Warning);
        // `IssueCode::ALL` lists the codes in declaration order (a test checks it).
        let code = issue.code as u32;
        let (pa, pb) = self.piece(&issue.path);
        let (ma, mb) = self.piece(&issue.message);
        let at = self.words.len();
        self.words
            .extend_from_slice(&[(CODES + code) | warning << 16, pa, pb, ma, mb, 0]);
        match self.params(&issue.params) {
            Some(n) => {
                self.words[at + 5] = n;
                true
            }
            None => false,
        }
    }
}

/// `a == b`, eight bytes at a time: slice equality calls memcmp, which the wasm build's
/// compiler-builtins compares a byte at a time.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    (&mut x).zip(&mut y).all(|(p, q)| word(p) == word(q))
        && x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

/// Encodes `result`, the validation of `root` parsed from `text`; `None` when the result must
/// go as JSON.
pub(crate) fn validation<T: Value>(
    text: &str,
    root: Option<&Node>,
    result: &ValidationResult<T>,
) -> Option<Table> {
    // The issues' paths and messages are most of the pieces: one allocation instead of a
    // string grown (and copied) a few times.
    let pieces: usize = result
        .errors
        .iter()
        .chain(&result.warnings)
        .map(|issue| issue.path.len() + issue.message.len())
        .sum();
    let mut table = Table {
        words: Vec::with_capacity(64),
        pieces: String::with_capacity(if pieces == 0 { 0 } else { pieces + 64 }),
        ..Table::default()
    };
    table.words.extend_from_slice(&[
        u32::from(result.valid),
        0,
        result.errors.len() as u32,
        result.warnings.len() as u32,
    ]);
    if let Some(value) = &result.value {
        let text = Text::new(text)?;
        if !value.entries(&text, root?, &mut table) {
            return None;
        }
        table.words[1] = ((table.words.len() - 4) / 3) as u32;
    }
    for issue in result.errors.iter().chain(&result.warnings) {
        if !table.issue(issue) {
            return None;
        }
    }
    Some(table)
}

const fn key(field: Field) -> u32 {
    field as u32
}

impl Value for Connector {
    fn entries(&self, text: &Text, root: &Node, t: &mut Table) -> bool {
        // Each field's node (the last of its name, as `Node::get` finds it) from one pass over
        // the members, not a search of them per field.
        let mut found: [Option<&Node>; Field::ALL.len()] = [None; Field::ALL.len()];
        let mut alias = None;
        for member in root.value.as_object().unwrap_or_default() {
            if member.key == METHOD_ALIAS {
                alias = Some(&member.value);
            } else if let Some(field) = Field::from_name(&member.key) {
                found[field as usize] = Some(&member.value);
            }
        }
        let get = |field: Field| found[field as usize];
        t.verbatim(text, key(Field::Type), get(Field::Type), CONNECTOR_TYPE)
            && t.verbatim(text, key(Field::Id), get(Field::Id), &self.id)
            && match &self.credentials {
                None => true,
                Some(c) => {
                    let node = get(Field::Credentials);
                    t.entry(BEGIN, key(Field::Credentials), 0, 0)
                        && t.verbatim(text, USER, node.and_then(|n| n.get("user")), &c.user)
                        && match &c.password {
                            None => true,
                            Some(p) => {
                                let at = node.and_then(|n| n.get("password"));
                                t.verbatim(text, PASSWORD, at, p.expose())
                            }
                        }
                        && t.entry(END, 0, 0, 0)
                }
            }
            && t.verbatim(
                text,
                key(Field::Region),
                get(Field::Region),
                self.region.code(),
            )
            && t.verbatim(text, key(Field::Stream), get(Field::Stream), &self.stream)
            && t.integer(key(Field::Shards), i64::from(self.shards))
            && t.integer(
                key(Field::MaxRecordsPerShardPerSecond),
                i64::try_from(self.max_records_per_shard_per_second).unwrap_or(i64::MAX),
            )
            && t.integer(
                key(Field::MaxBytesPerShardPerSecond),
                i64::try_from(self.max_bytes_per_shard_per_second).unwrap_or(i64::MAX),
            )
            && match &self.data_processing_method_id {
                None => true,
                Some(m) => {
                    // Under either spelling in the input; the value says dataProcessingMethodId.
                    let node = get(Field::DataProcessingMethodId).or(alias);
                    t.verbatim(text, key(Field::DataProcessingMethodId), node, m)
                }
            }
            && t.entry(
                if self.disabled { TRUE } else { FALSE },
                key(Field::Disabled),
                0,
                0,
            )
    }
}

/// An update's value (a PUT body with nulls) goes as JSON; its issues alone are compact.
impl Value for UpdatePayload {
    fn entries(&self, _: &Text, _: &Node, _: &mut Table) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::write::{string, WriteJson};

    #[test]
    fn same_bytes_is_equality() {
        let words: [&[u8]; 10] = [
            b"",
            b"a",
            b"b",
            b"abcdefgh",
            b"abcdefgi",
            b"abcdefghi",
            b"abcdefghj",
            b"AKIAIOSFODNN7EXAMPLE",
            b"AKIAIOSFODNN7EXAMPLF",
            b"\0\0\0\0\0\0\0\0\0",
        ];
        for a in words {
            for b in words {
                assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
            }
        }
        assert!(!same_bytes(b"ab", b"ab\0"));
    }

    /// What the glue does with a table (pkg/src/api.js `expand`), writing JSON instead.
    fn entries(
        out: &mut String,
        words: &[u32],
        mut i: usize,
        n: usize,
        text: &str,
        pieces: &[u16],
    ) -> usize {
        let all = strings();
        let strings: Vec<&str> = all.lines().collect();
        let mut first = vec![true];
        for _ in 0..n {
            let [head, a, b] = [words[i], words[i + 1], words[i + 2]];
            i += 3;
            let (kind, key) = (head & 0xff, strings[(head >> 8) as usize]);
            if kind == END {
                out.push('}');
                first.pop();
                continue;
            }
            if !std::mem::replace(first.last_mut().unwrap(), false) {
                out.push(',');
            }
            out.push_str(&format!("\"{key}\":"));
            let number = u64::from(b) << 32 | u64::from(a);
            let mut buf = Vec::new();
            match kind {
                STRING => string(&mut buf, &text[a as usize..b as usize]),
                PIECE => string(
                    &mut buf,
                    &String::from_utf16(&pieces[a as usize..b as usize]).unwrap(),
                ),
                NUMBER => buf.extend(number.to_string().bytes()),
                NEGATIVE => buf.extend(format!("-{number}").bytes()),
                TRUE => buf.extend(b"true"),
                FALSE => buf.extend(b"false"),
                BEGIN => {
                    buf.push(b'{');
                    first.push(true);
                }
                _ => panic!("kind {kind}"),
            }
            out.push_str(&String::from_utf8(buf).unwrap());
        }
        i
    }

    fn expand(text: &str, table: &Table) -> String {
        let words = &table.words;
        let pieces: Vec<u16> = table.pieces.encode_utf16().collect();
        let all = strings();
        let strings: Vec<&str> = all.lines().collect();
        let slice = |a: u32, b: u32| {
            let mut buf = Vec::new();
            string(
                &mut buf,
                &String::from_utf16(&pieces[a as usize..b as usize]).unwrap(),
            );
            String::from_utf8(buf).unwrap()
        };
        let mut value = String::new();
        let mut i = entries(&mut value, words, 4, words[1] as usize, text, &pieces);
        let mut lists = [Vec::new(), Vec::new()];
        for list in 0..2 {
            for _ in 0..words[2 + list] {
                let head = words[i];
                let mut params = String::new();
                let next = entries(
                    &mut params,
                    words,
                    i + 6,
                    words[i + 5] as usize,
                    text,
                    &pieces,
                );
                lists[list].push(format!(
                    "{{\"severity\":\"{}\",\"code\":\"{}\",\"path\":{},\"message\":{},\"params\":{{{params}}}}}",
                    if head >> 16 == 1 { "warning" } else { "error" },
                    strings[(head & 0xffff) as usize],
                    slice(words[i + 1], words[i + 2]),
                    slice(words[i + 3], words[i + 4]),
                ));
                i = next;
            }
        }
        assert_eq!(i, words.len());
        let value = if words[1] > 0 {
            format!(",\"value\":{{{value}}}")
        } else {
            String::new()
        };
        format!(
            "{{\"valid\":{},\"errors\":[{}],\"warnings\":[{}]{value}}}",
            words[0] == 1,
            lists[0].join(","),
            lists[1].join(",")
        )
    }

    fn written<T: WriteJson>(value: &T) -> String {
        let mut out = Vec::new();
        value.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// Every validation of the fixture corpus: the table, expanded, is what write.rs writes.
    #[test]
    fn tables_expand_to_the_written_result() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut cases = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for case in doc["cases"].as_array().unwrap() {
                let op = case["op"].as_str().unwrap_or("");
                let text = match op {
                    "validateCreate" | "validateUpdate" => case["input"].to_string(),
                    "validateCreateJson" | "validateUpdateJson" => {
                        case["text"].as_str().unwrap_or("").to_string()
                    }
                    _ => continue,
                };
                cases.push((op.starts_with("validateCreate"), text));
            }
        }
        let (mut compact, mut values) = (0, 0);
        for (creating, text) in &cases {
            let mut issues = crate::issues::Issues::default();
            let root = crate::parse(text, &mut issues);
            let ctx = crate::validate::Ctx::default();
            let (table, json) = if *creating {
                let result = match &root {
                    Some(root) => crate::create(root, &ctx, &mut issues),
                    None => crate::finish(std::mem::take(&mut issues), None),
                };
                values += usize::from(result.value.is_some());
                (validation(text, root.as_ref(), &result), written(&result))
            } else {
                let result = match &root {
                    Some(root) => crate::update(root, &ctx, &mut issues),
                    None => crate::finish(std::mem::take(&mut issues), None),
                };
                (validation(text, root.as_ref(), &result), written(&result))
            };
            if let Some(table) = table {
                assert_eq!(expand(text, &table), json, "{text}");
                compact += 1;
            }
        }
        assert!(
            compact > cases.len() / 2,
            "only {compact} of {} went compact",
            cases.len()
        );
        assert!(values > 5, "{values}");
    }

    #[test]
    fn codes_index_their_line() {
        let all = strings();
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), KEYS.len() + IssueCode::ALL.len());
        for (i, code) in IssueCode::ALL.iter().enumerate() {
            assert_eq!(*code as usize, i);
            assert_eq!(lines[CODES as usize + i], code.as_str());
        }
    }

    #[test]
    fn escapes_aliases_and_text() {
        let base = r#"{"type":"aws-kinesis","id":"a1","credentials":{"user":"AKIAIOSFODNN7EXAMPLE","password":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},"region":"us-west-2","stream":"s","shards":2,"maxRecordsPerShardPerSecond":100,"maxBytesPerShardPerSecond":1000"#;
        let check = |text: &str| {
            let mut issues = crate::issues::Issues::default();
            let root = crate::parse(text, &mut issues).unwrap();
            let result = crate::create(&root, &crate::validate::Ctx::default(), &mut issues);
            validation(text, Some(&root), &result).map(|t| (expand(text, &t), written(&result)))
        };
        let same = |tail: &str| {
            let (ours, json) = check(&format!("{base}{tail}}}")).unwrap();
            assert_eq!(ours, json);
            ours
        };
        assert!(same("").ends_with("\"disabled\":false}}"));
        assert!(
            same(",\"dataProcessingMethod\":\"m1\"").contains("\"dataProcessingMethodId\":\"m1\"")
        );
        assert!(same(",\"disabled\":true").ends_with("\"disabled\":true}}"));
        // Issues quote the input, escapes and all; the pieces carry any text.
        same(",\"x\\\"\u{e9}\":null,\"shards\":-3");
        // A value with an escape is not verbatim in the text: JSON.
        assert_eq!(
            check(&format!("{base},\"dataProcessingMethodId\":\"m\\u0031\"}}")),
            None
        );
        // Not ASCII: UTF-16 offsets would differ from byte offsets.
        let text = format!("{}}}", base.replace("EXAMPLEKEY", "EXAMPLEK\u{e9}"));
        assert_eq!(check(&text), None);
    }
}
