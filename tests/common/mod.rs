//! The shared fixture corpus (tests/fixtures/*.json): loading, running a case against the Rust
//! API, and checking its result. Used by tests/fixtures.rs and tests/schema.rs.

use std::path::Path;

use kinesis_connector as kc;
use serde_json::Value;

pub fn load_cases() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable fixture file");
        let doc: Value = serde_json::from_str(&text).expect("fixture file is JSON");
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for case in doc["cases"].as_array().expect("cases array") {
            cases.push((name.clone(), case.clone()));
        }
    }
    cases
}

fn context(case: &Value) -> kc::Context {
    match case.get("context") {
        Some(c) => serde_json::from_value(c.clone()).unwrap_or_default(),
        None => kc::Context::default(),
    }
}

/// Run one case; the result as JSON, exactly as the npm package returns it.
pub fn run(case: &Value) -> Value {
    let op = case["op"].as_str().expect("op");
    let ctx = context(case);
    let raw_ctx = case.get("context").cloned().unwrap_or(Value::Null);
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let text = case.get("text").and_then(Value::as_str).unwrap_or("");
    let v = |x: &dyn erased::Ser| x.to_json();
    match kc::Op::from_name(op).unwrap_or_else(|| panic!("unknown op {op}")) {
        kc::Op::ValidateCreate => v(&kc::validate_create_in(&input, &raw_ctx)),
        kc::Op::ValidateUpdate => v(&kc::validate_update_in(&input, &raw_ctx)),
        kc::Op::ValidateCreateJson => v(&kc::validate_create_json(text, &ctx)),
        kc::Op::ValidateUpdateJson => v(&kc::validate_update_json(text, &ctx)),
        kc::Op::NormalizeCreate => v(&kc::normalize_create(&input)),
        kc::Op::NormalizeUpdate => v(&kc::normalize_update(&input)),
        kc::Op::Diff if case.get("context").is_some() => {
            v(&kc::diff_in(&case["saved"], &case["desired"], &raw_ctx))
        }
        kc::Op::Diff => v(&kc::diff(&case["saved"], &case["desired"])),
        kc::Op::ApplyUpdate => v(&kc::apply_update(&case["saved"], &case["update"])),
        other @ (kc::Op::Regions | kc::Op::CreateSchema | kc::Op::UpdateSchema) => {
            panic!(
                "{} takes no input; the corpus has no cases for it",
                other.name()
            )
        }
    }
}

mod erased {
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("results serialize")
        }
    }
}

fn issue_key(issue: &Value) -> (String, String) {
    (
        issue["path"].as_str().unwrap_or("?").to_string(),
        issue["code"].as_str().unwrap_or("?").to_string(),
    )
}

fn compare_issues(kind: &str, expected: &Value, actual: &Value, problems: &mut Vec<String>) {
    let mut want: Vec<(String, String)> = expected
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e[0].as_str().unwrap_or("").into(),
                        e[1].as_str().unwrap_or("").into(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut got: Vec<(String, String)> = actual
        .as_array()
        .map(|a| a.iter().map(issue_key).collect())
        .unwrap_or_default();
    want.sort();
    got.sort();
    if want != got {
        problems.push(format!("{kind}: expected {want:?}, got {got:?}"));
    }
    // Params subsets.
    for e in expected.as_array().into_iter().flatten() {
        let Some(params) = e.get(2).and_then(Value::as_object) else {
            continue;
        };
        let found = actual.as_array().into_iter().flatten().find(|i| {
            i["path"] == e[0]
                && i["code"] == e[1]
                && params.iter().all(|(k, v)| &i["params"][k] == v)
        });
        if found.is_none() {
            problems.push(format!(
                "{kind}: no issue {} {} with params {}",
                e[0],
                e[1],
                Value::Object(params.clone())
            ));
        }
    }
}

/// Deep equality with object key order included.
fn same_ordered(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && same_ordered(va, vb))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_ordered(a, b))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

pub fn check(case: &Value, got: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let expect = &case["expect"];
    match case["op"].as_str().unwrap_or("") {
        "normalizeCreate" | "normalizeUpdate" => {
            if !same_ordered(&expect["value"], &got["value"]) {
                problems.push(format!(
                    "value: expected {}, got {}",
                    expect["value"], got["value"]
                ));
            }
            let mut want: Vec<String> = expect["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(String::from))
                .collect();
            let mut have: Vec<String> = got["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["path"].as_str().map(String::from))
                .collect();
            want.sort();
            want.dedup();
            have.sort();
            have.dedup();
            if want != have {
                problems.push(format!("changes: expected {want:?}, got {have:?}"));
            }
        }
        "diff" => {
            if expect["action"] != got["action"] {
                problems.push(format!(
                    "action: expected {}, got {}",
                    expect["action"], got["action"]
                ));
            }
            if let Some(update) = expect.get("update") {
                if !same_ordered(update, &got["update"]) {
                    problems.push(format!("update: expected {update}, got {}", got["update"]));
                }
            }
            // Changes compare as a multiset of "path kind effect"; steps only where given.
            let key = |path: &Value, kind: &Value, effect: &Value| {
                let text = |v: &Value| v.as_str().unwrap_or("").to_string();
                format!("{} {} {}", text(path), text(kind), text(effect))
            };
            let got_changes: Vec<&Value> =
                got["changes"].as_array().into_iter().flatten().collect();
            let mut have: Vec<String> = got_changes
                .iter()
                .map(|c| key(&c["path"], &c["kind"], &c["effect"]["kind"]))
                .collect();
            let mut want = Vec::new();
            for c in expect["changes"].as_array().into_iter().flatten() {
                let base = key(&c[0], &c[1], &c[2]);
                if let Some(steps) = c.get(3) {
                    let ok = got_changes.iter().any(|g| {
                        key(&g["path"], &g["kind"], &g["effect"]["kind"]) == base
                            && &g["effect"]["steps"] == steps
                    });
                    if !ok {
                        problems.push(format!("change {base}: expected steps {steps}"));
                    }
                }
                want.push(base);
            }
            want.sort();
            have.sort();
            if want != have {
                problems.push(format!("changes: expected {want:?}, got {have:?}"));
            }
            if let Some(requests) = expect.get("requests") {
                if !same_ordered(requests, &got["requests"]) {
                    problems.push(format!(
                        "requests: expected {requests}, got {}",
                        got["requests"]
                    ));
                }
            }
            for kind in ["errors", "warnings"] {
                if let Some(list) = expect.get(kind) {
                    compare_issues(kind, list, &got[kind], &mut problems);
                }
            }
            if let Some(valid) = expect.get("valid") {
                if valid != &got["valid"] {
                    problems.push(format!("valid: expected {valid}, got {}", got["valid"]));
                }
            }
        }
        _ => {
            if expect["valid"] != got["valid"] {
                problems.push(format!(
                    "valid: expected {}, got {}",
                    expect["valid"], got["valid"]
                ));
            }
            compare_issues("errors", &expect["errors"], &got["errors"], &mut problems);
            compare_issues(
                "warnings",
                &expect["warnings"],
                &got["warnings"],
                &mut problems,
            );
            if let Some(value) = expect.get("value") {
                if !same_ordered(value, &got["value"]) {
                    problems.push(format!("value: expected {value}, got {}", got["value"]));
                }
            }
        }
    }
    problems
}
