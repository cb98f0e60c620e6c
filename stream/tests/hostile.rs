//! The hostile-input corpus (tests/hostile/cases.json, shared with the core's and the npm
//! package's tests) through the CLI: `validate FILE --format json` prints a result with the
//! case's issues and exits 0 or 1, never a panic (101) or a message alone. Also: a stdout that
//! closes early is an error, not a panic.
#![allow(clippy::unwrap_used, reason = "tests")]

#[path = "../../tests/hostile/corpus.rs"]
mod corpus;

use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kinesis-connector"))
}

#[test]
fn validate_reports_every_case() {
    let cases = corpus::cases(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/hostile/cases.json"
    ));
    assert!(cases.len() >= 20, "the corpus lost cases");
    let dir = tempfile::tempdir().unwrap();
    for (n, case) in cases.iter().filter(|c| c.on("cli")).enumerate() {
        let file = dir.path().join(format!("case-{n}.json"));
        std::fs::write(&file, &case.bytes).unwrap();
        let out = bin()
            .args(["validate", file.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert_eq!(
            code,
            Some(if case.valid { 0 } else { 1 }),
            "{}: exit ({stderr})",
            case.name
        );
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{}: stdout is not a JSON result: {e} ({stderr})", case.name)
        });
        assert_eq!(result["valid"], case.valid, "{}: verdict", case.name);
        let issues: Vec<&serde_json::Value> = ["errors", "warnings"]
            .iter()
            .flat_map(|k| result[k].as_array().into_iter().flatten())
            .collect();
        let seen: Vec<&str> = issues.iter().filter_map(|i| i["code"].as_str()).collect();
        for want in &case.codes {
            assert!(
                seen.contains(&want.as_str()),
                "{}: no {want} in {seen:?}",
                case.name
            );
        }
        if std::str::from_utf8(&case.bytes).is_err() {
            let message = issues[0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("byte offset"), "{}: {message}", case.name);
            assert!(
                issues[0]["params"]["line"].is_u64(),
                "{}: no line",
                case.name
            );
        }
    }
}

#[test]
fn a_closed_stdout_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.json");
    // Enough issues that the result is far larger than a pipe's buffer.
    let members: String = (0..5000).map(|i| format!(",\"unknown{i}\":{i}")).collect();
    std::fs::write(&file, format!("{{\"type\":\"aws-kinesis\"{members}}}")).unwrap();
    let mut child = bin()
        .args(["normalize", file.to_str().unwrap(), "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the output"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
