//! The offline commands: exit codes, line/column in human output, JSON equal to the core's result.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kc(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinesis-connector"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

const VALID: &str = r#"{
  "type": "aws-kinesis",
  "id": "dc.kinesis.1",
  "credentials": {"user": "AKIAIOSFODNN7EXAMPLE", "password": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
  "region": "us-west-2", "stream": "test", "shards": 1,
  "maxRecordsPerShardPerSecond": 1000, "maxBytesPerShardPerSecond": 1000000
}"#;

#[test]
fn validate_exit_codes_and_locations() {
    let ok = kc(&["validate", "-"], Some(VALID));
    assert_eq!(ok.status.code(), Some(0));
    let bad = VALID.replace("\"us-west-2\"", "\"us-west2\"");
    let out = kc(&["validate", "-"], Some(&bad));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("<stdin>:5:13: error[region.unknown] /region"),
        "{stderr}"
    );
    assert!(!stderr.contains("wJalrXUtnFEMI"), "no secret in reports");
    let syntax = kc(&["validate", "-"], Some("{\n  \"id\": ,\n}"));
    assert_eq!(syntax.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&syntax.stderr).contains("<stdin>:2:"),
        "syntax errors carry line and column"
    );
    assert_eq!(kc(&["validate"], None).status.code(), Some(2), "usage");
    assert_eq!(kc(&["frobnicate"], None).status.code(), Some(2), "usage");
    assert_eq!(
        kc(&["produce"], None).status.code(),
        Some(2),
        "produce without --config is a usage error"
    );
    assert_eq!(
        kc(&["produce", "--config", "/nonexistent/x.json"], None)
            .status
            .code(),
        Some(1),
        "an unreadable config is invalid input"
    );
}

#[test]
fn json_format_is_the_core_result() {
    let bad = VALID.replace("\"shards\": 1", "\"shards\": 0, \"extra\": 1");
    let out = kc(&["validate", "--format", "json", "-"], Some(&bad));
    assert_eq!(out.status.code(), Some(1));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = serde_json::to_value(kinesis_connector::validate_create_json(
        &bad,
        &kinesis_connector::Context::default(),
    ))
    .unwrap();
    assert_eq!(printed, expected);
    let norm = kc(
        &["normalize", "--format", "json", "-"],
        Some(r#"{"type":" AWS-Kinesis ","shards":"2"}"#),
    );
    assert_eq!(norm.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&norm.stdout).unwrap();
    let input = serde_json::json!({"type":" AWS-Kinesis ","shards":"2"});
    assert_eq!(
        printed,
        serde_json::to_value(kinesis_connector::normalize_create(&input)).unwrap()
    );
}

#[test]
fn diff_and_schema() {
    let dir = std::env::temp_dir().join(format!("kc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("saved.json");
    let desired = dir.join("desired.json");
    std::fs::write(&saved, VALID).unwrap();
    std::fs::write(&desired, VALID.replace("\"shards\": 1", "\"shards\": 4")).unwrap();
    let out = kc(
        &[
            "diff",
            saved.to_str().unwrap(),
            desired.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["action"], "update");
    assert_eq!(result["update"], serde_json::json!({"shards": 4}));
    let human = kc(
        &["diff", saved.to_str().unwrap(), desired.to_str().unwrap()],
        None,
    );
    assert!(String::from_utf8_lossy(&human.stdout).contains("/shards changed: 1 -> 4 (reshard)"));
    let schema = kc(&["schema", "create"], None);
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(schema, kinesis_connector::create_schema());
    assert_eq!(kc(&["schema", "nope"], None).status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}
