//! The produce loop against a fake Kinesis, on tokio's paused clock.
#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::kinesis::{ApiError, PutOutcome, ShardRange};
use std::collections::BTreeSet;
use std::sync::Mutex;
use tokio::time::Instant;

type FailRule = Box<dyn Fn(&str, u32) -> Option<&'static str> + Send>;

#[derive(Default)]
struct FakeState {
    shards: Vec<ShardRange>,
    /// Every request: the (key, data) of its entries and when it went out.
    requests: Vec<(Vec<(String, String)>, Instant)>,
    /// How often each data payload has been offered.
    attempts: BTreeMap<String, u32>,
    /// Error code for an entry (by data and attempt number), if it should fail.
    fail: Option<FailRule>,
    /// Requests that fail as a whole first.
    request_errors: Vec<ApiError>,
    list_calls: u32,
    /// After this many requests, the stream has been resharded into these shards.
    reshard_after: Option<(usize, Vec<ShardRange>)>,
    /// How long each PutRecords takes.
    latency: Duration,
    /// ListShards fails with this, as a refused connection does.
    list_error: Option<ApiError>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<FakeState>>);

fn halves() -> Vec<ShardRange> {
    let half = u128::MAX / 2;
    vec![
        ShardRange {
            id: "shardId-000000000000".into(),
            start: 0,
            end: half,
        },
        ShardRange {
            id: "shardId-000000000001".into(),
            start: half + 1,
            end: u128::MAX,
        },
    ]
}

impl ProducerApi for Fake {
    async fn open_shards(&self, _stream: &str) -> Result<Vec<ShardRange>, ApiError> {
        let mut state = self.0.lock().unwrap();
        state.list_calls += 1;
        match &state.list_error {
            Some(error) => Err(error.clone()),
            None => Ok(state.shards.clone()),
        }
    }

    async fn put_records(
        &self,
        _stream: &str,
        entries: &[(&str, &[u8])],
    ) -> Result<Vec<PutOutcome>, ApiError> {
        let result = self.put_now(entries);
        let latency = self.0.lock().unwrap().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        result
    }
}

impl Fake {
    fn put_now(&self, entries: &[(&str, &[u8])]) -> Result<Vec<PutOutcome>, ApiError> {
        let mut state = self.0.lock().unwrap();
        if let Some((after, shards)) = &state.reshard_after {
            if state.requests.len() >= *after {
                state.shards = shards.clone();
            }
        }
        let request: Vec<(String, String)> = entries
            .iter()
            .map(|(k, d)| (k.to_string(), String::from_utf8_lossy(d).into_owned()))
            .collect();
        state.requests.push((request.clone(), Instant::now()));
        if !state.request_errors.is_empty() {
            return Err(state.request_errors.remove(0));
        }
        let map = ShardMap::new(state.shards.clone());
        let mut out = Vec::new();
        for (key, data) in request {
            let attempt = {
                let n = state.attempts.entry(data.clone()).or_default();
                *n += 1;
                *n
            };
            let failed = state.fail.as_ref().and_then(|f| f(&data, attempt));
            out.push(match failed {
                Some(code) => Err((code.to_owned(), "fake".to_owned())),
                None => Ok(map.shard_for(&key).unwrap().to_owned()),
            });
        }
        Ok(out)
    }
}

fn connector(records_per_second: u64) -> Connector {
    let text = serde_json::json!({
        "type": "aws-kinesis", "id": "dc.unit",
        "credentials": { "user": "AKIAIOSFODNN7EXAMPLE", "password": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
        "region": "us-east-1", "stream": "s", "shards": 2,
        "maxRecordsPerShardPerSecond": records_per_second, "maxBytesPerShardPerSecond": 100_000_000
    })
    .to_string();
    kinesis_connector::validate_create_json(&text, &kinesis_connector::Context::default())
        .value
        .unwrap()
}

fn input(count: usize, pad: usize) -> String {
    (0..count)
        .map(|n| {
            format!(
                "{{\"feedId\":\"f{n}\",\"destination\":{{\"object\":{{\"id\":\"dev-{}\"}}}},\"n\":{n},\"pad\":\"{}\"}}\n",
                n % 13,
                "x".repeat(pad)
            )
        })
        .collect()
}

/// Options with the state under `state` (a temporary directory, removed when the test ends).
fn options(state: &tempfile::TempDir) -> ProduceOptions {
    let mut options = ProduceOptions::new(state.path().to_path_buf());
    options.common.dead_letter = Some(state.path().join("dead.ndjson"));
    options.common.stats_interval = None;
    options
}

async fn produce(
    fake: &Fake,
    connector: Connector,
    options: ProduceOptions,
    text: &str,
) -> Summary {
    let fake = fake.clone();
    run_with(
        connector,
        options,
        text.as_bytes(),
        CancellationToken::new(),
        move |_| {
            let fake = fake.clone();
            async move { fake }
        },
    )
    .await
    .unwrap()
}

fn fake() -> Fake {
    let fake = Fake::default();
    fake.0.lock().unwrap().shards = halves();
    fake
}

fn request_sizes(fake: &Fake) -> Vec<usize> {
    let state = fake.0.lock().unwrap();
    state.requests.iter().map(|r| r.0.len()).collect()
}

#[tokio::test(start_paused = true)]
async fn batches_hold_500_records_and_5_mib() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    let summary = produce(&fake, connector(100_000), options(&state), &input(1200, 0)).await;
    assert_eq!(
        (summary.read, summary.sent, summary.dead_lettered),
        (1200, 1200, 0)
    );
    let sizes = request_sizes(&fake);
    // One request in flight: a backlog goes out in full requests, topped up across shards.
    assert_eq!(sizes, [500, 500, 200], "full batches under a backlog");
    assert_eq!(summary.requests as usize, sizes.len());
    let per_shard: u64 = summary.shards.values().map(|c| c.sent).sum();
    assert_eq!(per_shard, 1200);
    assert_eq!(summary.shards.len(), 2);

    // Two in flight: a request serves one shard (so two can fly together), full but for each
    // shard's last.
    let fake2 = self::fake();
    let mut two = options(&state);
    two.max_in_flight = 2;
    let summary = produce(&fake2, connector(100_000), two, &input(1200, 0)).await;
    assert_eq!(summary.sent, 1200);
    let mut expected: Vec<usize> = Vec::new();
    for counts in summary.shards.values() {
        let n = counts.sent as usize;
        expected.extend(std::iter::repeat_n(500, n / 500));
        if !n.is_multiple_of(500) {
            expected.push(n % 500);
        }
    }
    let mut sizes = request_sizes(&fake2);
    sizes.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sizes, expected, "one shard per request");

    // 200 KB records: at most 26 fit under 5 MiB.
    let fake2 = self::fake();
    let summary = produce(
        &fake2,
        connector(100_000),
        options(&state),
        &input(60, 200_000),
    )
    .await;
    assert_eq!(summary.sent, 60);
    let requests = &fake2.0.lock().unwrap().requests;
    for (request, _) in requests {
        let bytes: usize = request.iter().map(|(k, d)| k.len() + d.len()).sum();
        assert!(bytes <= MAX_REQUEST_BYTES, "{bytes}");
    }
    // 12 MB in at least 3 requests; with a request in flight per shard, each of the 2 shards
    // may end with a partly filled one.
    assert!(requests.len() <= 4, "{}", requests.len());
}

fn quarters() -> Vec<ShardRange> {
    let quarter = u128::MAX / 4;
    (0..4u128)
        .map(|i| ShardRange {
            id: format!("shardId-00000000000{i}"),
            start: i * (quarter + 1),
            end: if i == 3 {
                u128::MAX
            } else {
                (i + 1) * (quarter + 1) - 1
            },
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn requests_go_out_concurrently_one_per_shard_in_order() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    {
        let mut state = fake.0.lock().unwrap();
        state.shards = quarters();
        state.latency = Duration::from_millis(200);
    }
    let mut options = options(&state);
    options.max_in_flight = 4;
    let max_in_flight = options.max_in_flight;
    let started = Instant::now();
    let summary = produce(&fake, connector(100_000), options, &input(6000, 0)).await;
    let took = started.elapsed();
    assert_eq!((summary.sent, summary.dead_lettered), (6000, 0));
    let state = fake.0.lock().unwrap();
    let map = ShardMap::new(state.shards.clone());
    let latency = state.latency;
    let requests: Vec<(BTreeSet<String>, Instant)> = state
        .requests
        .iter()
        .map(|(entries, at)| {
            let shards = entries
                .iter()
                .map(|(k, _)| map.shard_for(k).unwrap().to_owned())
                .collect();
            (shards, *at)
        })
        .collect();
    let mut most = 0;
    for (i, (shards, at)) in requests.iter().enumerate() {
        let overlapping: Vec<&BTreeSet<String>> = requests
            .iter()
            .enumerate()
            .filter(|(j, (_, other))| *j != i && *other < *at + latency && *at < *other + latency)
            .map(|(_, (s, _))| s)
            .collect();
        most = most.max(overlapping.len() + 1);
        for other in overlapping {
            assert!(
                shards.is_disjoint(other),
                "a shard in two requests in flight"
            );
        }
    }
    assert!(most > 1 && most <= max_in_flight, "{most} in flight");
    // Sequential, the requests would take requests × 200 ms.
    assert!(
        took < latency * requests.len() as u32 / 2,
        "{took:?} for {} requests",
        requests.len()
    );
    // Every key's records went out in input order.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for (entries, _) in &state.requests {
        for (key, data) in entries {
            let n = serde_json::from_str::<serde_json::Value>(data).unwrap()["n"]
                .as_u64()
                .unwrap();
            if let Some(previous) = last.insert(key.clone(), n) {
                assert!(previous < n, "{key}: {n} after {previous}");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn only_failed_entries_are_retried_in_order() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    // Every fifth record is throttled on its first two attempts.
    fake.0.lock().unwrap().fail = Some(Box::new(|data: &str, attempt| {
        let n: u64 = serde_json::from_str::<serde_json::Value>(data).unwrap()["n"]
            .as_u64()
            .unwrap();
        (n.is_multiple_of(5) && attempt <= 2).then_some("ProvisionedThroughputExceededException")
    }));
    let summary = produce(&fake, connector(100_000), options(&state), &input(100, 0)).await;
    assert_eq!((summary.sent, summary.dead_lettered), (100, 0));
    let state = fake.0.lock().unwrap();
    let total_entries: usize = state.requests.iter().map(|r| r.0.len()).sum();
    assert_eq!(
        total_entries,
        100 + 20 * 2,
        "only the 20 failed entries went again, twice"
    );
    assert_eq!(state.requests[0].0.len(), 100);
    assert!(
        state.requests[1].0.len() == 20,
        "the retry holds only the failed entries"
    );
    // The retry waited for the backoff.
    assert!(state.requests[1].1 > state.requests[0].1);
}

#[tokio::test(start_paused = true)]
async fn a_record_that_keeps_failing_is_dead_lettered_with_its_reason() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.0.lock().unwrap().fail = Some(Box::new(|data: &str, _| {
        data.contains("\"n\":7,").then_some("InternalFailure")
    }));
    let mut options = options(&state);
    options.max_attempts = 4;
    let dead_path = options.common.dead_letter.clone().unwrap();
    let summary = produce(&fake, connector(100_000), options, &input(20, 0)).await;
    assert_eq!(
        (summary.read, summary.sent, summary.dead_lettered),
        (20, 19, 1)
    );
    assert!(summary.reconciles());
    let dead = std::fs::read_to_string(dead_path).unwrap();
    let entry: serde_json::Value = serde_json::from_str(dead.trim()).unwrap();
    assert_eq!(entry["line"], 8);
    assert_eq!(entry["attempts"], 4);
    assert_eq!(entry["stage"], "put");
    assert!(
        entry["error"].as_str().unwrap().contains("InternalFailure"),
        "{entry}"
    );
    assert_eq!(entry["data"]["n"], 7);
}

#[tokio::test(start_paused = true)]
async fn whole_request_errors_are_retried_with_backoff() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.0.lock().unwrap().request_errors = vec![
        ApiError::Transient("connection refused".into()),
        ApiError::Throttled("slow down".into()),
    ];
    let summary = produce(&fake, connector(100_000), options(&state), &input(50, 0)).await;
    assert_eq!((summary.sent, summary.dead_lettered), (50, 0));
    let sizes: Vec<usize> = fake
        .0
        .lock()
        .unwrap()
        .requests
        .iter()
        .map(|r| r.0.len())
        .collect();
    assert_eq!(sizes, vec![50, 50, 50]);
}

#[tokio::test(start_paused = true)]
async fn per_shard_rate_holds_on_the_paused_clock() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.0.lock().unwrap().shards.truncate(1);
    fake.0.lock().unwrap().shards[0].end = u128::MAX;
    let started = Instant::now();
    let summary = produce(&fake, connector(200), options(&state), &input(2000, 0)).await;
    let took = started.elapsed();
    assert_eq!(summary.sent, 2000);
    // 2,000 records at 200/s with a burst of 40: 9.8 s.
    assert!(took >= Duration::from_millis(9_700), "{took:?}");
    assert!(took <= Duration::from_millis(10_200), "{took:?}");
    // No second of the run carried more than the rate (plus the burst).
    let state = fake.0.lock().unwrap();
    for window_start in 0..9u64 {
        let from = started + Duration::from_secs(window_start);
        let to = from + Duration::from_secs(1);
        let n: usize = state
            .requests
            .iter()
            .filter(|(_, at)| *at >= from && *at < to)
            .map(|r| r.0.len())
            .sum();
        assert!(n <= 240, "second {window_start}: {n}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_reshard_is_noticed_and_the_map_refreshed() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    let third = u128::MAX / 3;
    let new = vec![
        ShardRange {
            id: "shardId-000000000002".into(),
            start: 0,
            end: third,
        },
        ShardRange {
            id: "shardId-000000000003".into(),
            start: third + 1,
            end: 2 * third,
        },
        ShardRange {
            id: "shardId-000000000004".into(),
            start: 2 * third + 1,
            end: u128::MAX,
        },
    ];
    fake.0.lock().unwrap().reshard_after = Some((1, new));
    // 100 records/s per shard: several requests, so the change is seen part way.
    let summary = produce(&fake, connector(100), options(&state), &input(400, 0)).await;
    assert_eq!(summary.sent, 400);
    let state = fake.0.lock().unwrap();
    assert!(state.list_calls >= 2, "listed again after the reshard");
    assert!(
        summary.shards.contains_key("shardId-000000000004"),
        "{:?}",
        summary.shards
    );
}

#[tokio::test(start_paused = true)]
async fn bad_lines_and_methods_end_in_the_dead_letter_with_line_numbers() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    let dir = state.path().join("methods");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("m.js"),
        "function preprocessor(v) { if (v.n === 3) throw new Error('bad three'); if (v.n % 2) return null; return { n: v.n }; }",
    )
    .unwrap();
    let mut connector = connector(100_000);
    connector.data_processing_method_id = Some("m".into());
    let mut options = options(&state);
    options.common.methods_dir = Some(dir);
    let dead_path = options.common.dead_letter.clone().unwrap();
    let mut text = input(6, 0);
    text.insert_str(0, "not json\n\n");
    let summary = produce(&fake, connector, options, &text).await;
    // 7 non-blank lines: 1 not JSON, n=0..5: 3 kept (0, 2, 4), 2 filtered (1, 5), 1 threw (3).
    assert_eq!(
        (
            summary.read,
            summary.sent,
            summary.filtered,
            summary.dead_lettered
        ),
        (7, 3, 2, 2)
    );
    let dead: Vec<serde_json::Value> = std::fs::read_to_string(dead_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dead[0]["line"], 1);
    assert_eq!(dead[0]["raw"], "not json");
    assert_eq!(dead[1]["line"], 6, "blank lines count for line numbers");
    assert_eq!(dead[1]["error"], "Error: bad three");
    let sent: Vec<String> = fake.0.lock().unwrap().requests[0]
        .0
        .iter()
        .map(|e| e.1.clone())
        .collect();
    assert_eq!(sent, vec![r#"{"n":0}"#, r#"{"n":2}"#, r#"{"n":4}"#]);
}

#[tokio::test(start_paused = true)]
async fn memory_is_bounded_by_backpressure() {
    let state = tempfile::tempdir().unwrap();
    // A slow stream (10 records/s) and a long input: the sender never holds more than its bound.
    let fake = fake();
    let mut options = options(&state);
    options.queue_records = 50;
    let text = input(300, 0);
    let fake2 = fake.clone();
    let watch_queue = async {
        // Sampled while running: requests are small and spread out.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let sent: usize = fake2
            .0
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|r| r.0.len())
            .sum();
        sent
    };
    let (summary, sent_after_3s) =
        tokio::join!(produce(&fake, connector(10), options, &text), watch_queue);
    assert_eq!(summary.sent, 300);
    assert!(sent_after_3s < 100, "{sent_after_3s}");
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_cannot_be_reached_at_start_fails_the_run_and_loses_nothing() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.0.lock().unwrap().list_error = Some(ApiError::Transient("connection refused".into()));
    let mut options = options(&state);
    options.common.connect_timeout = Duration::from_secs(3);
    let dead_path = options.common.dead_letter.clone().unwrap();
    let started = Instant::now();
    let summary = produce(&fake, connector(100), options, &input(10, 0)).await;
    assert!(
        matches!(&summary.error, Some(StreamError::Unreachable { seconds, .. }) if *seconds == 3.0),
        "{:?}",
        summary.error
    );
    assert!(
        started.elapsed() <= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        (summary.read, summary.sent, summary.dead_lettered),
        (10, 0, 10)
    );
    assert!(summary.reconciles());
    let dead = std::fs::read_to_string(dead_path).unwrap();
    assert_eq!(dead.lines().count(), 10);
    assert!(dead.contains("cannot reach stream s"), "{dead}");
}

#[tokio::test(start_paused = true)]
async fn an_empty_input_still_needs_the_stream_reached() {
    let state = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.0.lock().unwrap().list_error = Some(ApiError::NotFound("no such stream".into()));
    let summary = produce(&fake, connector(100), options(&state), "").await;
    assert_eq!(
        summary.error,
        Some(StreamError::NotFound {
            stream: "s".into(),
            region: "us-east-1".into()
        })
    );
    assert_eq!(summary.read, 0);
}
