//! The secret audit: every CLI subcommand, every function of the npm package (through Node) and
//! both streaming commands (at `trace` level, through the fault proxy so the error paths log
//! too) run on configs that hold a canary password, and the canary must appear nowhere: not on
//! stdout or stderr, not in a dead-letter line, a checkpoint, a progress record or the stats
//! lines, nor (with `--lease-table`) in a metrics scrape or an attribute of the lease table.
//! The only places it may appear are the connector value itself (a validation's or
//! normalization's `value`) and a diff's request bodies (`update`, `create`, `requests[].body`),
//! which are the requests to send.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

/// A password of the usual shape (40 characters of `[A-Za-z0-9/+=]`).
const CANARY: &str = "Canary7f3a9cQJ2mZx8Kd0LwVbT5sNyHe4Ru/k+W";
/// A password of the wrong shape (warned about: the warning must not quote it).
const CANARY_ODD: &str = "canary odd shape !! 0042";

fn tokens() -> [&'static str; 3] {
    // The middle of the canary as well, so a shortened or masked echo is caught too.
    [CANARY, CANARY_ODD, &CANARY[8..28]]
}

fn assert_clean(what: &str, text: &str) {
    for token in tokens() {
        assert!(
            !text.contains(token),
            "{what}: the canary password ({token}) leaked:\n{text}"
        );
    }
}

/// Removes the parts where the secret belongs: the connector value and a diff's request bodies.
fn strip_allowed(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in ["value", "update", "create"] {
                map.remove(key);
            }
            if let Some(Value::Array(requests)) = map.get_mut("requests") {
                for request in requests {
                    if let Some(r) = request.as_object_mut() {
                        r.remove("body");
                    }
                }
            }
            for (_, v) in map.iter_mut() {
                strip_allowed(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_allowed),
        _ => {}
    }
}

fn base(id: &str, password: &str) -> Value {
    json!({
        "type": "aws-kinesis",
        "id": id,
        "credentials": { "user": "AKIAIOSFODNN7EXAMPLE", "password": password },
        "region": "us-east-1",
        "stream": "audit",
        "shards": 1,
        "maxRecordsPerShardPerSecond": 1000,
        "maxBytesPerShardPerSecond": 1000000
    })
}

/// The configs of the audit: (name, JSON text).
fn inputs() -> Vec<(&'static str, String)> {
    let valid = base("dc.audit", CANARY);
    let mut invalid = base("0bad id", CANARY);
    invalid["region"] = json!("us-east1");
    invalid["pasword"] = json!(CANARY);
    invalid["shards"] = json!(0);
    let mut padded = base("dc.audit", &format!("  {CANARY}\t"));
    padded["shards"] = json!("2");
    let odd = base("dc.audit", CANARY_ODD);
    let mut half_credentials = json!({ "credentials": { "password": CANARY }, "shards": 2 });
    half_credentials["stream"] = json!("other");
    let update = json!({ "credentials": { "user": "AKIAIOSFODNN7EXAMPLE", "password": CANARY_ODD }, "shards": 2 });
    let mut wrong_type = base("dc.audit", CANARY);
    wrong_type["credentials"] = json!({ "user": CANARY, "password": [CANARY] });
    let text = |v: &Value| serde_json::to_string_pretty(v).unwrap();
    let broken = text(&valid);
    vec![
        ("valid", text(&valid)),
        ("invalid", text(&invalid)),
        ("padded", text(&padded)),
        ("odd-shape", text(&odd)),
        ("half-credentials", text(&half_credentials)),
        ("update", text(&update)),
        ("wrong-type", text(&wrong_type)),
        // A syntax error right after the password: the report must not quote the line.
        (
            "broken",
            broken[..broken.find(CANARY).unwrap() + CANARY.len() + 2].to_owned(),
        ),
    ]
}

fn check_output(what: &str, output: &Output, stdout_kind: Stdout) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_clean(&format!("{what} (stderr)"), &stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout_kind {
        Stdout::Json => {
            // One JSON document, or NDJSON; anything else is checked as text.
            let documents: Vec<Result<Value, &str>> = match serde_json::from_str::<Value>(&stdout) {
                Ok(value) => vec![Ok(value)],
                Err(_) => stdout
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| serde_json::from_str::<Value>(l).map_err(|_| l))
                    .collect(),
            };
            for document in documents {
                match document {
                    Ok(mut value) => {
                        strip_allowed(&mut value);
                        assert_clean(&format!("{what} (stdout JSON)"), &value.to_string());
                    }
                    Err(line) => assert_clean(&format!("{what} (stdout)"), line),
                }
            }
        }
        // The normalized payload itself: the connector value.
        Stdout::Value => {
            if serde_json::from_str::<Value>(&stdout).is_err() {
                assert_clean(&format!("{what} (stdout, not a value)"), &stdout);
            }
        }
        // A human diff: the request bodies come last, after "update:" or "create:".
        Stdout::Diff => {
            let end = ["update:", "create:"]
                .iter()
                .filter_map(|m| stdout.find(m))
                .min()
                .unwrap_or(stdout.len());
            assert_clean(&format!("{what} (stdout)"), &stdout[..end]);
        }
        Stdout::Text => assert_clean(&format!("{what} (stdout)"), &stdout),
    }
}

#[derive(Clone, Copy)]
enum Stdout {
    Json,
    Value,
    Diff,
    Text,
}

#[test]
fn every_cli_subcommand_keeps_the_password_out_of_its_output() {
    let emulator = Emulator::start();
    let dir = scratch("secrets-cli");
    emulator.create_stream("audit", 1);
    let proxy = FaultProxy::start(
        emulator.port,
        json!({ "*": ["throttle", "503", "ok", "500", "drop", "ok"] }),
        &dir.join("proxy.ndjson"),
    );
    let files: Vec<(&str, PathBuf)> = inputs()
        .into_iter()
        .map(|(name, text)| {
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, text).unwrap();
            (name, path)
        })
        .collect();
    let valid = dir.join("valid.json");
    let run_kc = |args: Vec<String>| {
        let mut cmd = bin();
        cmd.args(&args).env("KINESIS_CONNECTOR_LOG", "trace");
        cmd.output().unwrap()
    };
    let p = |path: &Path| path.to_str().unwrap().to_owned();
    let mut runs = 0;
    for (name, file) in &files {
        for format in ["human", "json"] {
            let json_out = format == "json";
            let kind = |human: Stdout| if json_out { Stdout::Json } else { human };
            let cases: Vec<(Vec<String>, Stdout)> = vec![
                (vec!["validate".into(), p(file)], kind(Stdout::Text)),
                (
                    vec![
                        "validate".into(),
                        "--existing-ids".into(),
                        "dc.audit,other".into(),
                        "--methods".into(),
                        "m1".into(),
                        p(file),
                    ],
                    kind(Stdout::Text),
                ),
                (
                    vec![
                        "validate".into(),
                        "--update".into(),
                        "--current".into(),
                        p(&valid),
                        p(file),
                    ],
                    kind(Stdout::Text),
                ),
                (vec!["normalize".into(), p(file)], kind(Stdout::Value)),
                (
                    vec!["normalize".into(), "--update".into(), p(file)],
                    kind(Stdout::Value),
                ),
                (vec!["diff".into(), p(&valid), p(file)], kind(Stdout::Diff)),
                (vec!["diff".into(), p(file), p(&valid)], kind(Stdout::Diff)),
                (
                    vec![
                        "test".into(),
                        "--config".into(),
                        p(file),
                        "--endpoint-url".into(),
                        proxy.endpoint(),
                        "--connect-timeout".into(),
                        "5".into(),
                    ],
                    kind(Stdout::Text),
                ),
            ];
            for (mut args, stdout_kind) in cases {
                args.push("--format".into());
                args.push(format.into());
                let output = run_kc(args.clone());
                check_output(&format!("{name}: {args:?}"), &output, stdout_kind);
                runs += 1;
            }
        }
        // Standard input too.
        let mut cmd = bin();
        cmd.args(["validate", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(
            &mut child.stdin.take().unwrap(),
            &std::fs::read(file).unwrap(),
        )
        .unwrap();
        check_output(
            &format!("{name}: validate -"),
            &child.wait_with_output().unwrap(),
            Stdout::Text,
        );
    }
    for kind in ["create", "update"] {
        check_output(
            &format!("schema {kind}"),
            &run_kc(vec!["schema".into(), kind.into()]),
            Stdout::Json,
        );
    }
    assert!(runs >= 100, "{runs} runs");
    // The streaming calls of `test` met the faults.
    assert!(proxy.log().len() > 5, "{:?}", proxy.log());
}

#[test]
fn every_package_function_keeps_the_password_out_of_its_results() {
    let module = repo_root().join("pkg/index.mjs");
    assert!(
        module.exists(),
        "{} is not built: run `make wasm` (make test builds it first)",
        module.display()
    );
    let dir = scratch("secrets-pkg");
    let inputs: Vec<Value> = inputs()
        .into_iter()
        .map(|(name, text)| json!({ "name": name, "text": text }))
        .collect();
    let cases = dir.join("inputs.json");
    std::fs::write(&cases, serde_json::to_string(&inputs).unwrap()).unwrap();
    let script = dir.join("audit.mjs");
    std::fs::write(
        &script,
        format!(
            r#"import * as kc from {module:?};
import {{ readFileSync }} from 'node:fs';
const inputs = JSON.parse(readFileSync({cases:?}, 'utf8'));
const saved = JSON.parse(inputs.find((i) => i.name === 'valid').text);
const out = [];
const call = (name, f) => {{
  try {{ out.push({{ name, result: f() }}); }} catch (e) {{ out.push({{ name, thrown: String(e && e.stack || e) }}); }}
}};
for (const {{ name, text }} of inputs) {{
  let value; try {{ value = JSON.parse(text); }} catch {{ value = text; }}
  const ctx = {{ existingIds: ['dc.audit', 'other'], methods: ['m1'] }};
  call(`validateCreate ${{name}}`, () => kc.validateCreate(value));
  call(`validateCreate+context ${{name}}`, () => kc.validateCreate(value, ctx));
  call(`validateUpdate ${{name}}`, () => kc.validateUpdate(value, {{ ...ctx, current: saved }}));
  call(`validateUpdate no current ${{name}}`, () => kc.validateUpdate(value));
  call(`validateCreateJson ${{name}}`, () => kc.validateCreateJson(text, ctx));
  call(`validateUpdateJson ${{name}}`, () => kc.validateUpdateJson(text, {{ current: saved }}));
  call(`normalizeCreate ${{name}}`, () => kc.normalizeCreate(value));
  call(`normalizeUpdate ${{name}}`, () => kc.normalizeUpdate(value));
  call(`diff saved→${{name}}`, () => kc.diff(saved, value));
  call(`diff ${{name}}→saved`, () => kc.diff(value, saved, ctx));
  call(`applyUpdate ${{name}}`, () => kc.applyUpdate(saved, value));
}}
call('regions', () => kc.regions());
call('createSchema', () => kc.createSchema());
call('updateSchema', () => kc.updateSchema());
process.stdout.write(JSON.stringify(out));
"#
        ),
    )
    .unwrap();
    let output = std::process::Command::new("node")
        .arg(&script)
        .env("NODE_NO_WARNINGS", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_clean("package stderr", &String::from_utf8_lossy(&output.stderr));
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(results.len() > 80, "{}", results.len());
    let mut with_value = 0;
    for mut result in results {
        let name = result["name"].as_str().unwrap().to_owned();
        // Before the allowed parts are taken out the canary is there (the search does find it).
        if result.to_string().contains(CANARY) {
            with_value += 1;
        }
        strip_allowed(&mut result);
        assert_clean(&name, &result.to_string());
    }
    // The canary is where it belongs: the value of a valid config carries it.
    assert!(with_value > 5, "{with_value}");
}

/// Every file under `dir` (state, dead letters, checkpoints, progress records), checked.
fn check_files(dir: &Path) -> usize {
    let mut checked = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "emulator-data") {
                continue;
            }
            checked += check_files(&path);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let name = path.file_name().unwrap().to_string_lossy();
            // The configs hold the password: they are the input, not an output.
            if name.ends_with("config.json") || name.starts_with("valid") {
                continue;
            }
            assert_clean(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn both_streaming_commands_at_trace_level_through_faults_keep_the_password_out() {
    let emulator = Emulator::start();
    let dir = scratch("secrets-stream");
    emulator.create_stream("audit", 2);
    let proxy = FaultProxy::start(
        emulator.port,
        json!({
            "PutRecords": ["partial", "throttle", "503", "drop", "500", "ok", "partial", "reset"],
            "GetRecords": ["ok", "throttle", "500", "503", "drop", "limit", "ok"],
            "GetShardIterator": ["limit", "ok"],
            "ListShards": ["throttle", "ok"],
            // Then the stream settles, so the drain can find every shard at the tip.
            "until": { "GetRecords": 40, "GetShardIterator": 10, "ListShards": 10 },
            "slowMs": 500
        }),
        &dir.join("proxy.ndjson"),
    );
    let mut config_value = base("dc.test", CANARY);
    config_value["stream"] = json!("audit");
    config_value["shards"] = json!(2);
    config_value["dataProcessingMethodId"] = json!("Audit_Method");
    let config = dir.join("config.json");
    std::fs::write(&config, config_value.to_string()).unwrap();
    let methods = dir.join("methods");
    std::fs::create_dir_all(&methods).unwrap();
    std::fs::write(
        methods.join("Audit_Method.js"),
        "function preprocessor(value) {\n  if (value.n !== undefined && value.n % 5 === 0) throw new Error('five');\n  if (value.destination && value.destination.property.name === 'pressure') throw new Error('no pressure');\n  return value;\n}\n",
    )
    .unwrap();
    // produce: a non-JSON line, method throws, and few attempts, so some puts are dead-lettered.
    let values = data_values(&dir, &["300"]);
    let mut text = std::fs::read_to_string(&values).unwrap();
    text.push_str("not json at all\n");
    std::fs::write(&values, text).unwrap();
    let mut produce = bin();
    produce
        .arg("produce")
        .arg("--config")
        .arg(&config)
        .arg("--input")
        .arg(&values)
        .arg("--endpoint-url")
        .arg(proxy.endpoint())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--methods")
        .arg(&methods)
        .arg("--dead-letter")
        .arg(dir.join("produce-dead.ndjson"))
        .args([
            "--max-attempts",
            "2",
            "--stats-interval",
            "1",
            "--format",
            "json",
        ])
        .env("KINESIS_CONNECTOR_LOG", "trace")
        .env("RUST_LOG", "trace");
    let child = produce
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_with_limit(child, Duration::from_secs(300));
    assert!(
        output.stderr.len() > 10_000,
        "trace logging is on ({} bytes)",
        output.stderr.len()
    );
    check_output("produce", &output, Stdout::Json);
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(summary["deadLettered"].as_u64().unwrap() > 0, "{summary}");

    // consume: records of its own with a throwing method, through the faults, then SIGTERM-free
    // exit by the idle timeout.
    emulator.put(&dir, "audit", &numbered(60, 4, 0));
    let mut consume = bin();
    consume
        .arg("consume")
        .arg("--config")
        .arg(&config)
        .arg("--endpoint-url")
        .arg(proxy.endpoint())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--methods")
        .arg(&methods)
        .arg("--dead-letter")
        .arg(dir.join("consume-dead.ndjson"))
        .args(["--idle-timeout", "2", "--stats-interval", "1"])
        .env("KINESIS_CONNECTOR_LOG", "trace")
        .env("RUST_LOG", "trace");
    let child = consume
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_with_limit(child, Duration::from_secs(300));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    check_output("consume", &output, Stdout::Text);
    assert!(String::from_utf8_lossy(&output.stderr).contains("stats:"));
    assert!(dir.join("consume-dead.ndjson").exists());
    // Dead letters of both, checkpoints, progress records, the proxy's own log.
    let checked = check_files(&dir);
    assert!(checked >= 4, "{checked} files checked");
    let faults = proxy.faults();
    assert!(
        faults.contains_key(&("PutRecords".into(), "partial".into()))
            && faults.contains_key(&("GetRecords".into(), "500".into())),
        "{faults:?}"
    );
}

#[test]
fn a_lease_table_worker_keeps_the_password_out_of_its_metrics_and_the_table() {
    // consume --lease-table --efo at trace level with --metrics-addr: the canary is in no log line,
    // no metrics scrape and no attribute of the lease table.
    let emulator = Emulator::start();
    let dynamo = Dynalite::start("secrets-lease-db");
    let dir = scratch("secrets-lease");
    emulator.create_stream("leased", 2);
    emulator.put(&dir, "leased", &numbered(40, 4, 0));
    let mut config_value = base("dc.test", CANARY);
    config_value["stream"] = json!("leased");
    config_value["shards"] = json!(2);
    let config = dir.join("config.json");
    std::fs::write(&config, config_value.to_string()).unwrap();
    let metrics_port = free_port();
    let child = consume(
        &emulator,
        &dir,
        &config,
        &[
            "--lease-table",
            "audit-leases",
            "--worker-id",
            "audit-worker",
            "--dynamodb-endpoint-url",
            &dynamo.endpoint(),
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
            "--idle-timeout",
            "3",
            // Through enhanced fan-out: the event stream's requests and events at trace too.
            "--efo",
            "audit-consumer",
        ],
    )
    .env("KINESIS_CONNECTOR_LOG", "trace")
    .env("RUST_LOG", "trace")
    // Files, not pipes: nobody reads a pipe while the scrapes run, and trace logging fills one.
    .stdout(std::fs::File::create(dir.join("consume.out")).unwrap())
    .stderr(std::fs::File::create(dir.join("consume.err")).unwrap())
    .spawn()
    .unwrap();
    // Scrape while it runs (it exits by the idle timeout once both shards are at the tip).
    let mut child = child;
    let mut metrics = String::new();
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(120) && child.try_wait().unwrap().is_none() {
        let text = scrape(metrics_port);
        if text.contains("kinesis_connector_records_read") {
            metrics = text;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = wait_with_limit(child, Duration::from_secs(300)).status;
    let output = Output {
        status,
        stdout: std::fs::read(dir.join("consume.out")).unwrap(),
        stderr: std::fs::read(dir.join("consume.err")).unwrap(),
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        metrics.contains("kinesis_connector_leases_held"),
        "no metrics were scraped: {metrics}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("subscribing to the shard"),
        "read through fan-out"
    );
    assert_clean("consume --lease-table metrics", &metrics);
    check_output("consume --lease-table", &output, Stdout::Text);
    // The table, every attribute of every item, through the DynamoDB SDK's own dump.
    let table = dump_table(&dynamo, "audit-leases");
    assert!(
        table.contains("leaseKey"),
        "the table was not read: {table}"
    );
    assert_clean("the lease table", &table);
}

/// Every item of a table, as the SDK prints it.
fn dump_table(dynamo: &Dynalite, table: &str) -> String {
    let connection = kinesis_stream::kinesis::Connection {
        region: "us-east-1".into(),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Some("test-secret-not-the-canary".into()),
        endpoint_url: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = connection.sdk_config(Some(dynamo.endpoint()), None).await;
        let client = aws_sdk_dynamodb::Client::new(&config);
        match client.scan().table_name(table).send().await {
            Ok(out) => format!("{:?}", out.items.unwrap_or_default()),
            Err(e) => format!("scan failed: {e:?}"),
        }
    })
}
