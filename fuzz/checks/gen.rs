//! A byte-driven generator of JSON values for the fuzz targets: every byte string is a valid
//! recipe, so libFuzzer's mutations explore values, not parse failures. Biased toward connector
//! shapes (a valid connector with some fields replaced) so the deep rules are reached.

use serde_json::{json, Map, Number, Value};

/// The password every generated connector carries: it must never appear in an issue or a change.
pub const CANARY: &str = "CANARY-7f3c9-do-not-echo";

const KEYS: &[&str] = &[
    "type",
    "id",
    "credentials",
    "user",
    "password",
    "region",
    "stream",
    "shards",
    "maxRecordsPerShardPerSecond",
    "maxBytesPerShardPerSecond",
    "dataProcessingMethodId",
    "disabled",
    "current",
    "existingIds",
    "methods",
    "__proto__",
    "constructor",
    "",
    "Region",
    "shard",
    "maxRecordsPerSecond",
];

const STRINGS: &[&str] = &[
    "aws-kinesis",
    "dc.kinesis.1",
    "dc.kinesis.2",
    "us-west-2",
    "us-west2",
    "US-WEST-2",
    " us-west-2 ",
    "eu-central-1",
    "cn-north-1",
    "",
    " ",
    "test",
    "stream name",
    "AKIAIOSFODNN7EXAMPLE",
    "m.1",
    "\u{0}",
    "é",
    "\u{1F600}",
    "\u{FEFF}",
    "true",
    "1",
    "null",
    "aws_kinesis",
    "a-b_c.d",
    "..",
    "/",
    "~0~1",
];

const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1.5,
    2.0,
    10.0,
    500.0,
    1000.0,
    1001.0,
    1024.0,
    1e3,
    1e6,
    1048576.0,
    1048577.0,
    4294967295.0,
    4294967296.0,
    9007199254740991.0,
    9007199254740993.0,
    1.8e19,
    1e308,
    -1e308,
    5e-324,
    0.1,
];

pub struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Gen<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Gen { data, pos: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    /// Raw bytes of a length chosen by the input (at most `max`).
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let len = self
            .below(max + 1)
            .min(self.data.len().saturating_sub(self.pos));
        let start = self.pos.min(self.data.len());
        self.pos += len;
        &self.data[start..start + len]
    }

    pub fn string(&mut self) -> String {
        match self.below(4) {
            0 => String::from_utf8_lossy(self.bytes(40)).into_owned(),
            1 => {
                // A dictionary word, edited at one place (near misses for suggestions).
                let mut s: Vec<char> = STRINGS[self.below(STRINGS.len())].chars().collect();
                let at = self.below(s.len() + 1);
                match self.below(3) {
                    0 if at < s.len() => {
                        s.remove(at);
                    }
                    1 => s.insert(at, char::from(b'a' + self.byte() % 26)),
                    _ => s.insert(at, '-'),
                }
                s.into_iter().collect()
            }
            2 => "x".repeat(self.below(300)),
            _ => STRINGS[self.below(STRINGS.len())].to_owned(),
        }
    }

    pub fn number(&mut self) -> Value {
        match self.below(3) {
            0 => json!(NUMBERS[self.below(NUMBERS.len())]),
            1 => json!(i64::from(self.byte() as i8) * i64::from(self.byte())),
            _ => {
                let mut raw = [0u8; 8];
                for b in &mut raw {
                    *b = self.byte();
                }
                Number::from_f64(f64::from_le_bytes(raw)).map_or(Value::Null, Value::Number)
            }
        }
    }

    pub fn key(&mut self) -> String {
        if self.below(4) == 0 {
            self.string()
        } else {
            KEYS[self.below(KEYS.len())].to_owned()
        }
    }

    pub fn value(&mut self, depth: usize) -> Value {
        let kinds = if depth > 8 { 4 } else { 8 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.byte() & 1 == 1),
            2 => self.number(),
            3 => Value::String(self.string()),
            4 => Value::Array((0..self.below(5)).map(|_| self.value(depth + 1)).collect()),
            5 | 6 => {
                let mut map = Map::new();
                for _ in 0..self.below(6) {
                    let key = self.key();
                    map.insert(key, self.value(depth + 1));
                }
                Value::Object(map)
            }
            _ => self.connector(depth),
        }
    }

    /// A valid connector, then up to four edits: a field replaced, removed or added.
    pub fn connector(&mut self, depth: usize) -> Value {
        let mut c = valid_connector();
        for _ in 0..self.below(5) {
            let key = self.key();
            let map = match (self.below(4), c.as_object_mut()) {
                (0, Some(top)) => match top.get_mut("credentials") {
                    Some(Value::Object(creds)) => creds,
                    _ => top,
                },
                (_, Some(top)) => top,
                (_, None) => break,
            };
            match self.below(3) {
                0 => {
                    map.remove(&key);
                }
                _ => {
                    let v = self.value(depth + 1);
                    map.insert(key, v);
                }
            }
        }
        c
    }
}

pub fn valid_connector() -> Value {
    json!({
        "type": "aws-kinesis",
        "id": "dc.kinesis.1",
        "credentials": {"user": "AKIAIOSFODNN7EXAMPLE", "password": CANARY},
        "region": "us-west-2",
        "stream": "test",
        "shards": 1,
        "maxRecordsPerShardPerSecond": 1000,
        "maxBytesPerShardPerSecond": 1048576
    })
}
