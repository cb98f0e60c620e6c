//! The consume loops against a fake Kinesis, on tokio's paused clock.
#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::kinesis::{ApiError, RecordsPage, ShardInfo, StartAt};
use std::collections::{HashMap, VecDeque};
use tokio::time::Instant;

#[derive(Default)]
struct FakeState {
    shards: Vec<ShardInfo>,
    records: HashMap<String, Vec<KinesisRecord>>,
    /// Errors GetRecords returns first, in order.
    injected: VecDeque<ApiError>,
    calls: Vec<(String, Instant)>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<FakeState>>);

impl Fake {
    fn shard(&self, id: &str, parent: Option<&str>, closed: bool, ns: std::ops::Range<u64>) {
        let mut state = self.0.lock().unwrap();
        state.shards.push(ShardInfo {
            id: id.into(),
            parent: parent.map(Into::into),
            adjacent_parent: None,
            closed,
        });
        let records = ns
            .map(|n| KinesisRecord {
                sequence_number: format!("{:020}", n),
                partition_key: "k".into(),
                arrival_millis: 0,
                data: format!("{{\"n\":{n}}}").into_bytes(),
            })
            .collect();
        state.records.insert(id.into(), records);
    }

    fn inject(&self, error: ApiError) {
        self.0.lock().unwrap().injected.push_back(error);
    }
}

impl KinesisApi for Fake {
    async fn list_shards(&self, _stream: &str) -> Result<Vec<ShardInfo>, ApiError> {
        Ok(self.0.lock().unwrap().shards.clone())
    }

    async fn shard_iterator(
        &self,
        _stream: &str,
        shard_id: &str,
        start: &StartAt,
    ) -> Result<String, ApiError> {
        let state = self.0.lock().unwrap();
        let records = &state.records[shard_id];
        let position = |seq: &str| {
            records
                .iter()
                .position(|r| r.sequence_number == seq)
                .unwrap()
        };
        let at = match start {
            StartAt::Oldest => 0,
            StartAt::Latest => records.len(),
            StartAt::AtSequence(seq) => position(seq),
            StartAt::AfterSequence(seq) => position(seq) + 1,
        };
        Ok(format!("{shard_id}|{at}"))
    }

    async fn get_records(&self, iterator: &str, limit: u64) -> Result<RecordsPage, ApiError> {
        let mut state = self.0.lock().unwrap();
        let (shard, at) = iterator.split_once('|').unwrap();
        state.calls.push((shard.to_owned(), Instant::now()));
        if let Some(error) = state.injected.pop_front() {
            return Err(error);
        }
        let at: usize = at.parse().unwrap();
        let closed = state.shards.iter().any(|s| s.id == shard && s.closed);
        let records = &state.records[shard];
        let end = (at + limit as usize).min(records.len());
        let page = records[at..end].to_vec();
        let next_iterator = (!(closed && end == records.len())).then(|| format!("{shard}|{end}"));
        Ok(RecordsPage {
            records: page,
            next_iterator,
            millis_behind_latest: Some(0),
        })
    }
}

fn connector(records_per_second: u64) -> Connector {
    let text = format!(
        r#"{{"type":"aws-kinesis","id":"unit","credentials":{{"user":"AKIAIOSFODNN7EXAMPLE","password":"x"}},
        "region":"us-east-1","stream":"s","shards":1,"maxRecordsPerShardPerSecond":{records_per_second},
        "maxBytesPerShardPerSecond":1000000}}"#
    );
    kinesis_connector::validate_create_json(&text, &kinesis_connector::Context::default())
        .value
        .unwrap()
}

fn options(name: &str) -> ConsumeOptions {
    let dir = std::env::temp_dir().join(format!(
        "kc-unit-{name}-{}-{}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let mut options = ConsumeOptions::new(dir);
    options.idle_timeout = Some(Duration::from_secs(3));
    options.stats_interval = None;
    options
}

async fn consume(fake: &Fake, connector: &Connector, options: &ConsumeOptions) -> Vec<u64> {
    let mut out = Vec::new();
    let (_live_tx, live_rx) = watch::channel(Live::from(connector));
    run_session(
        fake.clone(),
        connector,
        options,
        &mut out,
        CancellationToken::new(),
        live_rx,
    )
    .await
    .unwrap();
    crate::output::tests_support::ns(&out)
}

#[tokio::test(start_paused = true)]
async fn parents_are_read_to_their_end_before_children() {
    let fake = Fake::default();
    fake.shard("child-a", Some("parent"), false, 100..110);
    fake.shard("parent", None, true, 0..50);
    fake.shard("child-b", Some("parent"), false, 200..205);
    let c = connector(1000);
    let options = options("parents");
    let ns = consume(&fake, &c, &options).await;
    assert_eq!(ns.len(), 65);
    let last_parent = ns.iter().rposition(|n| *n < 50).unwrap();
    let first_child = ns.iter().position(|n| *n >= 100).unwrap();
    assert!(last_parent < first_child, "{ns:?}");
    let saved = CheckpointStore::new(options.checkpoint_path(&c))
        .load()
        .unwrap()
        .unwrap();
    assert!(saved.shards["parent"].finished);
    // A restart reads nothing again: the parent is finished, the children resume.
    assert_eq!(consume(&fake, &c, &options).await, Vec::<u64>::new());
}

#[tokio::test(start_paused = true)]
async fn throttling_and_expired_iterators_are_recovered() {
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..30);
    fake.inject(ApiError::Throttled("slow down".into()));
    fake.inject(ApiError::Throttled("slow down".into()));
    fake.inject(ApiError::ExpiredIterator);
    fake.inject(ApiError::Transient("connection reset".into()));
    let c = connector(10);
    let ns = consume(&fake, &c, &options("retry")).await;
    assert_eq!(ns, (0..30).collect::<Vec<u64>>());
}

#[tokio::test(start_paused = true)]
async fn get_records_stays_within_five_calls_per_second_per_shard() {
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..40);
    fake.shard("s1", None, false, 100..140);
    let c = connector(10);
    let started = Instant::now();
    let ns = consume(&fake, &c, &options("calls")).await;
    assert_eq!(ns.len(), 80);
    // 40 records at 10/s per shard, two loaded at the start: at least 3.8 s.
    assert!(
        started.elapsed() >= Duration::from_millis(3800),
        "{:?}",
        started.elapsed()
    );
    let calls = fake.0.lock().unwrap().calls.clone();
    for shard in ["s0", "s1"] {
        let times: Vec<Instant> = calls
            .iter()
            .filter(|(s, _)| s == shard)
            .map(|(_, t)| *t)
            .collect();
        for pair in times.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(200),
                "{shard}: calls {:?} apart",
                pair[1] - pair[0]
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn fatal_errors_end_the_session_with_the_error() {
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..3);
    fake.inject(ApiError::Fatal("AccessDeniedException: no".into()));
    let c = connector(100);
    let mut out = Vec::new();
    let (_tx, rx) = watch::channel(Live::from(&c));
    let result = run_session(
        fake,
        &c,
        &options("fatal"),
        &mut out,
        CancellationToken::new(),
        rx,
    )
    .await;
    assert!(matches!(result, Err(ConsumeError::Kinesis(m)) if m.contains("AccessDenied")));
}

#[tokio::test(start_paused = true)]
async fn live_rate_change_applies_without_restart() {
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..200);
    let c = connector(1);
    let options = options("live");
    let mut out = Vec::new();
    let (live_tx, live_rx) = watch::channel(Live::from(&c));
    let started = Instant::now();
    let faster = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        live_tx
            .send(Live {
                records_per_second: 1000,
                ..Live::from(&c)
            })
            .unwrap();
    };
    let session = run_session(
        fake,
        &c,
        &options,
        &mut out,
        CancellationToken::new(),
        live_rx,
    );
    let (result, ()) = tokio::join!(session, faster);
    result.unwrap();
    assert_eq!(crate::output::tests_support::ns(&out).len(), 200);
    // At 1 record/s this would take 200 s; after the change it drains at once.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn from_latest_skips_history_but_reads_new_records() {
    let fake = Fake::default();
    fake.shard("old-parent", None, true, 0..5);
    fake.shard("s0", Some("old-parent"), false, 10..20);
    let c = connector(1000);
    let mut options = options("latest");
    options.from = StartFrom::Latest;
    let mut out = Vec::new();
    let (_tx, rx) = watch::channel(Live::from(&c));
    let writer_fake = fake.clone();
    let append = async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut state = writer_fake.0.lock().unwrap();
        let records = state.records.get_mut("s0").unwrap();
        for n in 20..23 {
            records.push(KinesisRecord {
                sequence_number: format!("{n:020}"),
                partition_key: "k".into(),
                arrival_millis: 0,
                data: format!("{{\"n\":{n}}}").into_bytes(),
            });
        }
    };
    let session = run_session(fake, &c, &options, &mut out, CancellationToken::new(), rx);
    let (result, ()) = tokio::join!(session, append);
    result.unwrap();
    assert_eq!(crate::output::tests_support::ns(&out), vec![20, 21, 22]);
}
