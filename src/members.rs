//! `validateCreate(object)` / `validateUpdate(object)` without JSON text, for the wasm binding.
//!
//! For a flat object (every member a string, a finite number, a boolean or null, and objects
//! of such members one level down, as `credentials`), the glue (pkg/src/api.js `members`)
//! writes the members as a table of `u32` words in [`TABLE`] and their texts one after another
//! in one string, instead of `JSON.stringify` and a parse (ARCHITECTURE.md, "Package
//! performance"). This module reads them back into the same [`Node`] tree the parser builds,
//! so the checks, the results and the compact tables are the ones of the text path.
//!
//! An entry is three words `[kind | key << 8, key length, value length]`: `key` indexes
//! [`compact::KEYS`](crate::compact::KEYS) (below [`NAMED`]), or is [`TEXT_KEY`] for a key
//! whose text comes first in the string; [`STRING`] and [`NUMBER`] values (the number as JS
//! writes it, as `JSON.stringify` does) come next in the string; an [`OBJECT`]'s value length
//! is the count of its member entries, which follow it. Lengths are UTF-16 units, which are
//! bytes since only an ASCII string is read: anything else is `None` and the glue takes the
//! text path.

use std::borrow::Cow;
use std::cell::Cell;

use crate::compact::KEYS;
use crate::json::{Json, Member, Node};

pub(crate) const STRING: u32 = 1;
pub(crate) const NUMBER: u32 = 2;
pub(crate) const TRUE: u32 = 3;
pub(crate) const FALSE: u32 = 4;
pub(crate) const OBJECT: u32 = 5;
pub(crate) const NULL: u32 = 6;
/// Keys below this index are [`KEYS`]' names: the connector's fields, `user` and `password`.
pub(crate) const NAMED: u32 = 12;
/// The key's text is in the string, before the value's.
pub(crate) const TEXT_KEY: u32 = 255;
/// Entries the table holds (below 256); an object with more members takes the text path.
pub(crate) const CAPACITY: usize = 64;

/// Where the glue writes the entries. wasm is single-threaded (no atomics). Aligned so that its
/// address leaves the low byte free for the capacity (`wasm.rs` `membersTable`).
#[repr(C, align(256))]
pub(crate) struct Table([Cell<u32>; 3 * CAPACITY]);

// SAFETY: the module runs on one thread (wasm32 without atomics), like the arena.
unsafe impl Sync for Table {}

pub(crate) static TABLE: Table = Table([const { Cell::new(0) }; 3 * CAPACITY]);

impl Table {
    /// The table's address in linear memory (what the glue writes to).
    pub(crate) fn address(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

/// The object the first `entries` entries of `words` and `text` describe; `None` when they do
/// not describe one exactly (the glue then sends the text).
pub(crate) fn read<'a>(text: &'a str, words: &[u32], entries: usize) -> Option<Node<'a>> {
    if !text.is_ascii() || entries > CAPACITY || words.len() < 3 * entries {
        return None;
    }
    let mut reader = Reader {
        text,
        words: &words[..3 * entries],
        at: 0,
        pos: 0,
    };
    let members = reader.members(None, 0)?;
    (reader.pos == text.len()).then_some(Node {
        value: Json::Object(members),
        start: 0,
        end: text.len() as u32,
    })
}

/// [`read`] of what the glue wrote in [`TABLE`].
pub(crate) fn read_table(text: &str, entries: usize) -> Option<Node<'_>> {
    let words: Vec<u32> = TABLE.0.get(..3 * entries)?.iter().map(Cell::get).collect();
    read(text, &words, entries)
}

struct Reader<'t, 'a> {
    text: &'a str,
    words: &'t [u32],
    /// The next word.
    at: usize,
    /// The next byte of the text.
    pos: usize,
}

impl<'a> Reader<'_, 'a> {
    fn take(&mut self, len: u32) -> Option<(&'a str, usize)> {
        let start = self.pos;
        let end = start.checked_add(len as usize)?;
        let s = self.text.get(start..end)?;
        self.pos = end;
        Some((s, start))
    }

    /// `count` members (`None`: the top level, until the last entry).
    fn members(&mut self, count: Option<usize>, depth: usize) -> Option<Vec<Member<'a>>> {
        let mut members = Vec::with_capacity(count.unwrap_or(self.words.len() / 3));
        while count.map_or(self.at < self.words.len(), |n| members.len() < n) {
            let [head, key_len, value_len] = *self.words.get(self.at..self.at + 3)? else {
                return None;
            };
            self.at += 3;
            let (kind, key) = (head & 0xff, head >> 8);
            let (key, key_start) = match key {
                TEXT_KEY => self.take(key_len)?,
                k if k < NAMED && key_len == 0 => (KEYS[k as usize], self.pos),
                _ => return None,
            };
            let start = self.pos;
            let value = match kind {
                STRING => Json::String(Cow::Borrowed(self.take(value_len)?.0)),
                NUMBER => Json::Number(Cow::Borrowed(self.number(value_len)?)),
                TRUE => Json::Bool(true),
                FALSE => Json::Bool(false),
                NULL => Json::Null,
                OBJECT if depth == 0 => Json::Object(self.members(Some(value_len as usize), 1)?),
                _ => return None,
            };
            if matches!(kind, TRUE | FALSE | NULL) && value_len != 0 {
                return None;
            }
            members.push(Member {
                key: Cow::Borrowed(key),
                key_start: key_start as u32,
                value: Node {
                    value,
                    start: start as u32,
                    end: self.pos as u32,
                },
            });
        }
        Some(members)
    }

    /// A number as JS writes one (`-`, digits, `.`, `e+`/`e-`): JSON's grammar, which the
    /// checks rely on, is checked by the parser, so here too.
    fn number(&mut self, len: u32) -> Option<&'a str> {
        let (s, _) = self.take(len)?;
        // An integer (what the fields hold) is checked here; anything else by the parser,
        // which then needs no compiling for an ordinary first call (V8 compiles lazily).
        if is_integer_text(s) {
            return Some(s);
        }
        crate::issues::apart(|| {
            crate::json::parse(s)
                .ok()
                .filter(|node| matches!(node.value, Json::Number(_)))
                .map(|_| s)
        })
    }
}

/// `-?(0|[1-9][0-9]*)`: a JSON integer.
fn is_integer_text(s: &str) -> bool {
    match s.strip_prefix('-').unwrap_or(s).as_bytes() {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    /// What the glue writes for `members`: (key, value) with keys by name or as text.
    fn encode(members: &[(&str, Option<(u32, &str)>)]) -> (String, Vec<u32>, usize) {
        let mut text = String::new();
        let mut words = Vec::new();
        for (key, value) in members {
            let named = KEYS[..NAMED as usize].iter().position(|k| k == key);
            let (kind, v) = value.unwrap_or((OBJECT, ""));
            let (key_word, key_len) = match named {
                Some(i) => (i as u32, 0),
                None => {
                    text.push_str(key);
                    (TEXT_KEY, key.len() as u32)
                }
            };
            let value_len = match kind {
                STRING | NUMBER => {
                    text.push_str(v);
                    v.len() as u32
                }
                OBJECT => v.parse().unwrap(),
                _ => 0,
            };
            words.extend([kind | key_word << 8, key_len, value_len]);
        }
        let n = words.len() / 3;
        (text, words, n)
    }

    #[test]
    fn integers_are_what_the_parser_reads_as_integers() {
        for s in [
            "0",
            "-0",
            "7",
            "-7",
            "10",
            "1234567890123456789012",
            "01",
            "-01",
            "00",
            "",
            "-",
            "--1",
            "+1",
            "1.5",
            "1e3",
            "1E+3",
            "-0.0",
            "1 ",
            " 1",
            "1a",
            "0x1",
            "١",
        ] {
            let parsed = crate::json::parse(s)
                .is_ok_and(|n| matches!(&n.value, Json::Number(t) if !t.contains(['.', 'e', 'E'])));
            // The fast path takes only what the parser takes; the rest goes to the parser.
            assert!(!is_integer_text(s) || parsed, "{s:?}");
            let plain = !s.is_empty() && !s.contains([' ', '.', 'e', 'E']);
            assert_eq!(is_integer_text(s), parsed && plain, "{s:?}");
        }
    }

    #[test]
    fn reads_what_the_parser_reads() {
        let (text, words, n) = encode(&[
            ("type", Some((STRING, "aws-kinesis"))),
            ("credentials", Some((OBJECT, "2"))),
            ("user", Some((STRING, "AKIA"))),
            ("x y", Some((NULL, ""))),
            ("shards", Some((NUMBER, "-1.5e+21"))),
            ("disabled", Some((TRUE, ""))),
            ("__proto__", Some((FALSE, ""))),
        ]);
        let node = read(&text, &words, n).unwrap();
        let parsed = crate::json::parse(
            r#"{"type":"aws-kinesis","credentials":{"user":"AKIA","x y":null},"shards":-1.5e+21,"disabled":true,"__proto__":false}"#,
        )
        .unwrap();
        fn shape(node: &Node) -> String {
            match &node.value {
                Json::Object(members) => members
                    .iter()
                    .map(|m| format!("{}={};", m.key, shape(&m.value)))
                    .collect(),
                other => format!("{other:?}"),
            }
        }
        assert_eq!(shape(&node), shape(&parsed));
        assert!(node
            .get("credentials")
            .and_then(|c| c.get("user"))
            .is_some());
    }

    #[test]
    fn reads_the_table_the_glue_writes() {
        let (text, words, n) = encode(&[
            ("type", Some((STRING, "aws-kinesis"))),
            ("shards", Some((NUMBER, "2"))),
        ]);
        for (cell, word) in TABLE.0.iter().zip(&words) {
            cell.set(*word);
        }
        assert_eq!(TABLE.address() % 256, 0);
        let node = read_table(&text, n).unwrap();
        assert_eq!(node.get("shards").unwrap().value, Json::Number("2".into()));
        assert!(read_table(&text, CAPACITY + 1).is_none());
    }

    #[test]
    fn refuses_what_does_not_add_up() {
        let (text, words, n) = encode(&[("type", Some((STRING, "aws-kinesis")))]);
        assert!(read(&text, &words, n).is_some());
        // text left over, text missing, an entry missing, a bad kind, non-ASCII, a bad number
        assert!(read(&format!("{text}x"), &words, n).is_none());
        assert!(read(&text[1..], &words, n).is_none());
        assert!(read(&text, &words, n + 1).is_none());
        assert!(read(&text, &[9, 0, 11], 1).is_none());
        assert!(read("aws-kinesié", &words, n).is_none());
        let (text, words, n) = encode(&[("shards", Some((NUMBER, "1.")))]);
        assert!(read(&text, &words, n).is_none());
        // objects one level down only, and no more members than the object has
        let (text, words, n) = encode(&[
            ("credentials", Some((OBJECT, "1"))),
            ("user", Some((OBJECT, "0"))),
        ]);
        assert!(read(&text, &words, n).is_none());
        let (text, words, n) = encode(&[("credentials", Some((OBJECT, "3")))]);
        assert!(read(&text, &words, n).is_none());
        assert!(read("", &[], CAPACITY + 1).is_none());
    }
}
