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
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.json");
    let desired = dir.path().join("desired.json");
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
}

/// A loopback port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `test`, `consume` and `produce` against an endpoint where nothing listens: each gives up
/// after the connect timeout with exit 3 and says why; consume's idle timeout (shorter than the
/// connect timeout) does not make it look like a drained stream.
#[test]
fn a_stream_that_cannot_be_reached_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, VALID).unwrap();
    let config = config.to_str().unwrap();
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let common = [
        "--config",
        config,
        "--endpoint-url",
        &endpoint,
        "--connect-timeout",
        "2",
    ];
    let with = |command: &str, extra: &[&str]| {
        let mut args = vec![command];
        args.extend_from_slice(&common);
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>, stdin: Option<&str>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kc(&args, stdin)
    };

    let consume = run(
        with("consume", &["--idle-timeout", "1", "--state-dir", state]),
        None,
    );
    let stderr = String::from_utf8_lossy(&consume.stderr);
    assert_eq!(consume.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error: cannot reach stream test in us-west-2 within 2 s"),
        "{stderr}"
    );
    assert!(consume.stdout.is_empty());
    assert!(!stderr.contains("consumed"), "no drained summary: {stderr}");

    let produce = run(
        with("produce", &["--state-dir", state, "--format", "json"]),
        Some("{\"feedId\":\"f1\"}\n{\"feedId\":\"f2\"}\n"),
    );
    assert_eq!(
        produce.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&produce.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&produce.stdout).unwrap();
    assert_eq!(summary["read"], 2);
    assert_eq!(summary["deadLettered"], 2, "nothing lost: {summary}");
    assert!(
        summary["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach stream test"),
        "{summary}"
    );
    let empty = run(with("produce", &["--state-dir", state]), Some(""));
    assert_eq!(
        empty.status.code(),
        Some(3),
        "no input still needs the stream"
    );

    let test = run(with("test", &["--format", "json"]), None);
    assert_eq!(test.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&test.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["checks"][0]["check"], "connection");
    assert_eq!(report["checks"][0]["status"], "fail");
}

#[test]
fn help_lists_the_exit_codes_and_the_connect_timeout() {
    let help = kc(&["consume", "--help"], None);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--connect-timeout <SECONDS>"), "{text}");
    assert!(
        text.contains("3  a stream, network or credentials failure"),
        "{text}"
    );
    assert_eq!(
        kc(
            &["consume", "--config", "x.json", "--idle-timeout", "-1"],
            None
        )
        .status
        .code(),
        Some(2),
        "a negative time is a usage error"
    );
}
