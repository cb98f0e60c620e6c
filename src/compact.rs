//! The compact answer of a valid validation, for the wasm binding: the connector as references
//! into the text the caller gave, so the glue builds the value from slices of that text instead
//! of a JSON round trip of the whole result (ARCHITECTURE.md, "The wasm binding").
//!
//! A table of `u32` words: the number of entries, then three words per entry, `[head, a, b]`,
//! where `head` is `kind | key << 8` (`key` indexes [`KEYS`]):
//! - [`STRING`]: the value is `text.slice(a, b)` (UTF-16 offsets; the text is ASCII);
//! - [`NUMBER`]: the value is the integer `b * 2^32 + a` (at most 2^53);
//! - [`TRUE`] / [`FALSE`]: the boolean;
//! - [`BEGIN`] / [`END`]: an object value under `key` starts / the innermost object ends.
//!
//! Entries come in the connector's canonical key order. The encoder gives up (`false`) unless
//! every string of the value is verbatim in the text, so the expanded value is always exactly
//! what `write.rs` would have written; the caller then writes the whole result as JSON.

use std::borrow::Cow;

use crate::field::{Field, METHOD_ALIAS};
use crate::json::{Json, Node};
use crate::model::{Connector, CONNECTOR_TYPE};

pub(crate) const STRING: u32 = 1;
pub(crate) const NUMBER: u32 = 2;
pub(crate) const TRUE: u32 = 3;
pub(crate) const FALSE: u32 = 4;
pub(crate) const BEGIN: u32 = 5;
pub(crate) const END: u32 = 6;

/// Entries a connector can need (13), three words each, after the count.
pub(crate) const WORDS: usize = 1 + 3 * 16;

/// The keys an entry names: the connector's fields, then the members of `credentials`.
pub(crate) const KEYS: [&str; 12] = {
    let mut keys = [""; 12];
    let mut i = 0;
    while i < Field::ALL.len() {
        keys[i] = Field::ALL[i].name();
        i += 1;
    }
    keys[10] = "user";
    keys[11] = "password";
    keys
};
const USER: u32 = 10;
const PASSWORD: u32 = 11;

struct Writer<'t, 'w> {
    /// The start of the text the input was parsed from.
    base: usize,
    len: usize,
    words: &'w mut [u32; WORDS],
    at: usize,
    _text: std::marker::PhantomData<&'t str>,
}

impl Writer<'_, '_> {
    fn push(&mut self, kind: u32, key: u32, a: u32, b: u32) -> bool {
        if self.at + 3 > WORDS {
            return false;
        }
        self.words[self.at] = kind | key << 8;
        self.words[self.at + 1] = a;
        self.words[self.at + 2] = b;
        self.at += 3;
        true
    }

    /// `expected`, found verbatim as the string `node` borrowed from the text.
    fn string(&mut self, key: u32, node: Option<&Node>, expected: &str) -> bool {
        let Some(Node {
            value: Json::String(Cow::Borrowed(s)),
            ..
        }) = node
        else {
            return false;
        };
        if *s != expected {
            return false;
        }
        let start = (s.as_ptr() as usize).wrapping_sub(self.base);
        if start > self.len || self.len - start < s.len() {
            return false;
        }
        self.push(STRING, key, start as u32, (start + s.len()) as u32)
    }

    fn number(&mut self, key: u32, n: u64) -> bool {
        n <= 1 << 53 && self.push(NUMBER, key, n as u32, (n >> 32) as u32)
    }
}

const fn key(field: Field) -> u32 {
    field as u32
}

/// Writes the table for `value`, the connector a create validation built from `root` (parsed
/// from `text`). False when the value cannot be expressed as slices of the text.
pub(crate) fn connector(text: &str, root: &Node, value: &Connector, words: &mut [u32; WORDS]) -> bool {
    if !text.is_ascii() || text.len() > u32::MAX as usize {
        return false;
    }
    let mut w = Writer {
        base: text.as_ptr() as usize,
        len: text.len(),
        words,
        at: 1,
        _text: std::marker::PhantomData,
    };
    let get = |field: Field| root.get(field.name());
    let ok = w.string(key(Field::Type), get(Field::Type), CONNECTOR_TYPE)
        && w.string(key(Field::Id), get(Field::Id), &value.id)
        && match &value.credentials {
            None => true,
            Some(c) => {
                let node = get(Field::Credentials);
                w.push(BEGIN, key(Field::Credentials), 0, 0)
                    && w.string(USER, node.and_then(|n| n.get("user")), &c.user)
                    && match &c.password {
                        None => true,
                        Some(p) => w.string(PASSWORD, node.and_then(|n| n.get("password")), p.expose()),
                    }
                    && w.push(END, 0, 0, 0)
            }
        }
        && w.string(key(Field::Region), get(Field::Region), value.region.code())
        && w.string(key(Field::Stream), get(Field::Stream), &value.stream)
        && w.number(key(Field::Shards), u64::from(value.shards))
        && w.number(
            key(Field::MaxRecordsPerShardPerSecond),
            value.max_records_per_shard_per_second,
        )
        && w.number(
            key(Field::MaxBytesPerShardPerSecond),
            value.max_bytes_per_shard_per_second,
        )
        && match &value.data_processing_method_id {
            None => true,
            Some(m) => {
                // Under either spelling in the input; the value says dataProcessingMethodId.
                let node = get(Field::DataProcessingMethodId).or_else(|| root.get(METHOD_ALIAS));
                w.string(key(Field::DataProcessingMethodId), node, m)
            }
        }
        && w.push(
            if value.disabled { TRUE } else { FALSE },
            key(Field::Disabled),
            0,
            0,
        );
    if ok {
        w.words[0] = ((w.at - 1) / 3) as u32;
    }
    ok
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::write::WriteJson;

    /// What the glue does with a table (pkg/src/api.js `expand`), writing JSON instead.
    fn expand(text: &str, words: &[u32]) -> String {
        let mut out = String::new();
        let mut first = vec![true];
        for e in 0..words[0] as usize {
            let [head, a, b] = [words[1 + 3 * e], words[2 + 3 * e], words[3 + 3 * e]];
            let (kind, key) = (head & 0xff, KEYS[(head >> 8) as usize]);
            if kind == END {
                out.push('}');
                first.pop();
                continue;
            }
            if !std::mem::replace(first.last_mut().unwrap(), false) {
                out.push(',');
            }
            out.push_str(&format!("\"{key}\":"));
            match kind {
                STRING => out.push_str(&format!("\"{}\"", &text[a as usize..b as usize])),
                NUMBER => out.push_str(&(u64::from(b) << 32 | u64::from(a)).to_string()),
                TRUE => out.push_str("true"),
                FALSE => out.push_str("false"),
                BEGIN => {
                    out.push('{');
                    first.push(true);
                }
                _ => panic!("kind {kind}"),
            }
        }
        format!("{{{out}}}")
    }

    /// Every valid create of the fixture corpus: the table, expanded, is what write.rs writes.
    #[test]
    fn the_table_expands_to_the_written_connector() {
        let mut checked = 0;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for case in doc["cases"].as_array().unwrap() {
                match case["op"].as_str() {
                    Some("validateCreate") => texts.push(case["input"].to_string()),
                    Some("validateCreateJson") => {
                        texts.push(case["text"].as_str().unwrap_or("").to_string())
                    }
                    _ => {}
                }
            }
        }
        for text in texts {
            let mut issues = crate::issues::Issues::default();
            let Some(root) = crate::parse(&text, &mut issues) else { continue };
            let result = crate::create(&root, &crate::validate::Ctx::default(), &mut issues);
            let Some(value) = &result.value else { continue };
            let mut words = [0; WORDS];
            let mut written = Vec::new();
            value.write_json(&mut written);
            if connector(&text, &root, value, &mut words) {
                assert_eq!(expand(&text, &words), String::from_utf8(written).unwrap(), "{text}");
                checked += 1;
            }
        }
        assert!(checked > 5, "only {checked} fixtures took the compact path");
    }

    #[test]
    fn escapes_and_aliases() {
        let base = r#"{"type":"aws-kinesis","id":"a1","credentials":{"user":"AKIAIOSFODNN7EXAMPLE","password":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},"region":"us-west-2","stream":"s","shards":2,"maxRecordsPerShardPerSecond":100,"maxBytesPerShardPerSecond":1000"#;
        let check = |tail: &str| {
            let text = format!("{base}{tail}}}");
            let mut issues = crate::issues::Issues::default();
            let root = crate::parse(&text, &mut issues).unwrap();
            let result = crate::create(&root, &crate::validate::Ctx::default(), &mut issues);
            let value = result.value.unwrap();
            let mut words = [0; WORDS];
            connector(&text, &root, &value, &mut words).then(|| expand(&text, &words))
        };
        // Not ASCII: UTF-16 offsets would differ from byte offsets.
        let text = format!("{}{}", base.replace("EXAMPLEKEY", "EXAMPLEK\u{e9}"), "}");
        let mut issues = crate::issues::Issues::default();
        let root = crate::parse(&text, &mut issues).unwrap();
        let value = crate::create(&root, &crate::validate::Ctx::default(), &mut issues).value.unwrap();
        assert!(!connector(&text, &root, &value, &mut [0; WORDS]));
        assert!(check("").unwrap().ends_with("\"disabled\":false}"));
        assert!(check(",\"dataProcessingMethod\":\"m1\"")
            .unwrap()
            .contains("\"dataProcessingMethodId\":\"m1\""));
        assert_eq!(check(",\"dataProcessingMethodId\":\"m\\u0031\""), None);
        assert!(check(",\"disabled\":true").unwrap().ends_with("\"disabled\":true}"));
    }
}
