//! `scripts/demo.sh` (what `make demo` runs after building), without the blocking console server.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use std::process::Command;

#[test]
fn demo_validates_produces_and_consumes() {
    let output = Command::new("bash")
        .arg(common::repo_root().join("scripts/demo.sh"))
        .env("DEMO_NO_SERVE", "1")
        .env("DEMO_COUNT", "120")
        .env("KC_BIN", env!("CARGO_BIN_EXE_kinesis-connector"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "examples/connector.json: valid (0 errors",
        "error[region.unknown] /region",
        "error[stream.characters] /stream",
        "error[shards.range] /shards",
        "error[field.unknown] /dataProcesingMethodId",
        "examples/connector-invalid.json: invalid (4 errors",
        "test passed",
        "produced: read 120, filtered 80, sent 40, dead-lettered 0",
        "consumed 40 records; the first three:",
        "console: not served (DEMO_NO_SERVE=1)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    let consumed: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with("{\"shardId\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(consumed.len(), 3);
    for record in consumed {
        assert_eq!(record["data"]["event"]["property_name"], "temperature");
        assert_eq!(
            record["partitionKey"],
            record["data"]["device_context"]["id"]
        );
    }
}
