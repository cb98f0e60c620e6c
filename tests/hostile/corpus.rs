//! The hostile-input corpus, read from tests/hostile/cases.json: included (`#[path]`) by the
//! core's tests/hostile.rs and the CLI's stream/tests/hostile.rs.

use serde_json::Value;

pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub valid: bool,
    pub codes: Vec<String>,
    pub faces: Vec<String>,
}

impl Case {
    pub fn on(&self, face: &str) -> bool {
        self.faces.iter().any(|f| f == face)
    }
}

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|e| panic!("bad hex {b}: {e}")))
        .collect()
}

pub fn cases(path: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    doc["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let mut bytes = Vec::new();
            for part in c["parts"].as_array().into_iter().flatten() {
                if let Some(h) = part["hex"].as_str() {
                    bytes.extend(hex(h));
                } else {
                    let text = part["text"].as_str().unwrap_or_default();
                    let times = part["times"].as_u64().unwrap_or(1) as usize;
                    bytes.extend(text.repeat(times).into_bytes());
                }
            }
            Case {
                name: c["name"].as_str().unwrap_or_default().to_owned(),
                bytes,
                valid: c["valid"].as_bool().unwrap_or(false),
                codes: strings(&c["codes"]),
                faces: strings(&c["faces"]),
            }
        })
        .collect()
}
