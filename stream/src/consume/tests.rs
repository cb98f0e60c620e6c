//! The consume loops against a fake Kinesis, on tokio's paused clock.
#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::kinesis::{ApiError, RecordsPage, ShardInfo, StartAt, StreamError};
use std::collections::{HashMap, VecDeque};
use tokio::time::Instant;

#[derive(Default)]
struct FakeState {
    shards: Vec<ShardInfo>,
    records: HashMap<String, Vec<KinesisRecord>>,
    /// Errors GetRecords returns first, in order.
    injected: VecDeque<ApiError>,
    calls: Vec<(String, Instant)>,
    /// ListShards fails as a refused connection does (always, or until this time).
    unreachable: bool,
    unreachable_until: Option<Instant>,
    /// How long every GetRecords takes to answer (a slow service or proxy).
    get_records_delay: Duration,
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
            hash_range: None,
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
        let state = self.0.lock().unwrap();
        if state.unreachable || state.unreachable_until.is_some_and(|t| Instant::now() < t) {
            return Err(ApiError::Transient(
                "dispatch failure: connection refused".into(),
            ));
        }
        Ok(state.shards.clone())
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
        let delay = self.0.lock().unwrap().get_records_delay;
        tokio::time::sleep(delay).await;
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

/// Options with the state under `state` (a temporary directory, removed when the test ends).
fn options(state: &tempfile::TempDir) -> ConsumeOptions {
    let mut options = ConsumeOptions::new(state.path().to_path_buf());
    options.idle_timeout = Some(Duration::from_secs(3));
    options.common.stats_interval = None;
    options
}

async fn consume(fake: &Fake, connector: &Connector, options: &ConsumeOptions) -> Vec<u64> {
    let mut out = Vec::new();
    let (_live_tx, live_rx) = watch::channel(Live::from(connector));
    run_session(
        fake.clone(),
        None,
        connector,
        options,
        &mut out,
        CancellationToken::new(),
        live_rx,
        None,
    )
    .await
    .unwrap();
    super::output::tests_support::ns(&out)
}

#[tokio::test(start_paused = true)]
async fn parents_are_read_to_their_end_before_children() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("child-a", Some("parent"), false, 100..110);
    fake.shard("parent", None, true, 0..50);
    fake.shard("child-b", Some("parent"), false, 200..205);
    let c = connector(1000);
    let options = options(&state);
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
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..30);
    fake.inject(ApiError::Throttled("slow down".into()));
    fake.inject(ApiError::Throttled("slow down".into()));
    fake.inject(ApiError::ExpiredIterator);
    fake.inject(ApiError::Transient("connection reset".into()));
    let c = connector(10);
    let ns = consume(&fake, &c, &options(&state)).await;
    assert_eq!(ns, (0..30).collect::<Vec<u64>>());
}

#[tokio::test(start_paused = true)]
async fn get_records_stays_within_five_calls_per_second_per_shard() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..40);
    fake.shard("s1", None, false, 100..140);
    let c = connector(10);
    let started = Instant::now();
    let ns = consume(&fake, &c, &options(&state)).await;
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
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..3);
    fake.inject(ApiError::Fatal("AccessDeniedException: no".into()));
    let c = connector(100);
    let mut out = Vec::new();
    let (_tx, rx) = watch::channel(Live::from(&c));
    let result = run_session(
        fake,
        None,
        &c,
        &options(&state),
        &mut out,
        CancellationToken::new(),
        rx,
        None,
    )
    .await;
    assert!(
        matches!(&result, Err(ConsumeError::Stream(StreamError::Shard { shard, source: ApiError::Fatal(m), .. }))
            if shard == "s0" && m.contains("AccessDenied")),
        "{result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_cannot_be_reached_fails_the_session_not_the_idle_timeout() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.0.lock().unwrap().unreachable = true;
    let c = connector(100);
    let mut options = options(&state);
    // Idle timeout shorter than the connect timeout: without the stream reached it must not
    // count, or the run would end "drained" and exit 0.
    options.idle_timeout = Some(Duration::from_secs(1));
    let mut out = Vec::new();
    let (_tx, rx) = watch::channel(Live::from(&c));
    let result = run_session(
        fake,
        None,
        &c,
        &options,
        &mut out,
        CancellationToken::new(),
        rx,
        Some(Duration::from_secs(3)),
    )
    .await;
    assert!(
        matches!(&result, Err(ConsumeError::Stream(StreamError::Unreachable { seconds, .. })) if *seconds == 3.0),
        "{result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_counts_from_when_the_stream_was_reached() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..5);
    fake.0.lock().unwrap().unreachable_until = Some(Instant::now() + Duration::from_secs(4));
    let c = connector(100);
    let mut options = options(&state);
    options.idle_timeout = Some(Duration::from_secs(2));
    let mut out = Vec::new();
    let (_tx, rx) = watch::channel(Live::from(&c));
    run_session(
        fake,
        None,
        &c,
        &options,
        &mut out,
        CancellationToken::new(),
        rx,
        Some(Duration::from_secs(30)),
    )
    .await
    .unwrap();
    assert_eq!(super::output::tests_support::ns(&out), vec![0, 1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn live_rate_change_applies_without_restart() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..200);
    let c = connector(1);
    let options = options(&state);
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
        None,
        &c,
        &options,
        &mut out,
        CancellationToken::new(),
        live_rx,
        None,
    );
    let (result, ()) = tokio::join!(session, faster);
    result.unwrap();
    assert_eq!(super::output::tests_support::ns(&out).len(), 200);
    // At 1 record/s this would take 200 s; after the change it drains at once.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn from_latest_skips_history_but_reads_new_records() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("old-parent", None, true, 0..5);
    fake.shard("s0", Some("old-parent"), false, 10..20);
    let c = connector(1000);
    let mut options = options(&state);
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
    let session = run_session(
        fake,
        None,
        &c,
        &options,
        &mut out,
        CancellationToken::new(),
        rx,
        None,
    );
    let (result, ()) = tokio::join!(session, append);
    result.unwrap();
    assert_eq!(super::output::tests_support::ns(&out), vec![20, 21, 22]);
}

#[tokio::test(start_paused = true)]
async fn slow_get_records_longer_than_the_idle_timeout_still_drains_everything() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..30);
    fake.shard("s1", None, false, 100..130);
    fake.0.lock().unwrap().get_records_delay = Duration::from_secs(5);
    // 10 records/s: each shard takes several calls of 5 s each.
    let c = connector(10);
    let mut options = options(&state);
    options.idle_timeout = Some(Duration::from_secs(2));
    let mut ns = consume(&fake, &c, &options).await;
    ns.sort_unstable();
    let expected: Vec<u64> = (0..30).chain(100..130).collect();
    assert_eq!(ns, expected);
}

#[tokio::test(start_paused = true)]
async fn throttling_backoff_longer_than_the_idle_timeout_still_drains_everything() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..20);
    // Enough throttling in a row that the backoff grows past the idle timeout.
    for _ in 0..12 {
        fake.inject(ApiError::Throttled("Rate exceeded".into()));
    }
    let c = connector(1000);
    let mut options = options(&state);
    options.idle_timeout = Some(Duration::from_secs(1));
    assert_eq!(
        consume(&fake, &c, &options).await,
        (0..20).collect::<Vec<u64>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_shard_that_was_at_the_tip_and_then_fails_stops_the_idle_clock() {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..3);
    let c = connector(1000);
    let mut options = options(&state);
    options.idle_timeout = Some(Duration::from_secs(2));
    let mut out = Vec::new();
    let (_tx, rx) = watch::channel(Live::from(&c));
    let late = fake.clone();
    // After the shard reached the tip: a run of throttling (its backoff longer than the idle
    // timeout), and meanwhile new records.
    let append = async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let mut state = late.0.lock().unwrap();
        for _ in 0..12 {
            state
                .injected
                .push_back(ApiError::Throttled("Rate exceeded".into()));
        }
        let records = state.records.get_mut("s0").unwrap();
        for n in 3..6 {
            records.push(KinesisRecord {
                sequence_number: format!("{n:020}"),
                partition_key: "k".into(),
                arrival_millis: 0,
                data: format!("{{\"n\":{n}}}").into_bytes(),
            });
        }
    };
    let session = run_session(
        fake,
        None,
        &c,
        &options,
        &mut out,
        CancellationToken::new(),
        rx,
        None,
    );
    let (result, ()) = tokio::join!(session, append);
    result.unwrap();
    assert_eq!(
        super::output::tests_support::ns(&out),
        vec![0, 1, 2, 3, 4, 5]
    );
}

/// What one scripted subscription does, step by step.
#[derive(Clone)]
enum Step {
    Event(crate::efo::FanOutEvent),
    /// No event, no error, the connection up: a half-open subscription.
    Silent,
    Broken(ApiError),
    End,
}

/// A fake fan-out: each SubscribeToShard takes the next script (an `Err` refuses the call).
#[derive(Default)]
struct FakeFanOut {
    scripts: Mutex<VecDeque<Result<Vec<Step>, ApiError>>>,
    /// Where each SubscribeToShard started, and when.
    calls: Mutex<Vec<(StartAt, Instant)>>,
    registrations: Mutex<u32>,
}

struct Scripted(VecDeque<Step>);

impl crate::efo::Subscription for Scripted {
    fn next_event(
        &mut self,
    ) -> crate::efo::BoxFuture<'_, Result<Option<crate::efo::FanOutEvent>, ApiError>> {
        Box::pin(async move {
            match self.0.pop_front().unwrap_or(Step::End) {
                Step::Event(event) => Ok(Some(event)),
                Step::Silent => std::future::pending().await,
                Step::Broken(error) => Err(error),
                Step::End => Ok(None),
            }
        })
    }
}

impl crate::efo::FanOutApi for FakeFanOut {
    fn stream_arn<'a>(
        &'a self,
        stream: &'a str,
    ) -> crate::efo::BoxFuture<'a, Result<String, ApiError>> {
        Box::pin(async move { Ok(format!("arn:{stream}")) })
    }
    fn register<'a>(
        &'a self,
        stream_arn: &'a str,
        name: &'a str,
    ) -> crate::efo::BoxFuture<'a, Result<crate::efo::Consumer, ApiError>> {
        Box::pin(async move {
            *self.registrations.lock().unwrap() += 1;
            Ok(crate::efo::Consumer {
                arn: format!("{stream_arn}/consumer/{name}"),
                status: "CREATING".into(),
            })
        })
    }
    fn describe<'a>(
        &'a self,
        stream_arn: &'a str,
        name: &'a str,
    ) -> crate::efo::BoxFuture<'a, Result<crate::efo::Consumer, ApiError>> {
        Box::pin(async move {
            Ok(crate::efo::Consumer {
                arn: format!("{stream_arn}/consumer/{name}"),
                status: "ACTIVE".into(),
            })
        })
    }
    fn deregister<'a>(&'a self, _arn: &'a str) -> crate::efo::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async { Ok(()) })
    }
    fn subscribe<'a>(
        &'a self,
        _consumer_arn: &'a str,
        _shard: &'a str,
        start: &'a StartAt,
    ) -> crate::efo::BoxFuture<'a, Result<Box<dyn crate::efo::Subscription>, ApiError>> {
        Box::pin(async move {
            self.calls
                .lock()
                .unwrap()
                .push((start.clone(), Instant::now()));
            let script = self
                .scripts
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Ok(vec![Step::Silent]));
            script
                .map(|steps| Box::new(Scripted(steps.into())) as Box<dyn crate::efo::Subscription>)
        })
    }
}

fn fan_out_event(ns: std::ops::Range<u64>, continuation: Option<u64>) -> Step {
    Step::Event(crate::efo::FanOutEvent {
        records: ns
            .map(|n| KinesisRecord {
                sequence_number: format!("{:020}", n),
                partition_key: "k".into(),
                arrival_millis: 0,
                data: format!("{{\"n\":{n}}}").into_bytes(),
            })
            .collect(),
        continuation: continuation.map(|n| format!("{:020}", n)),
        millis_behind_latest: Some(0),
        child_shards: Vec::new(),
    })
}

#[tokio::test(start_paused = true)]
async fn fan_out_resubscribes_from_each_continuation_through_refusals_breaks_and_silence() {
    let fan_api = Arc::new(FakeFanOut::default());
    fan_api.scripts.lock().unwrap().extend([
        // The previous subscription is still open on the service's side: refused, retried.
        Err(ApiError::Transient(
            "ResourceInUseException: another subscription".into(),
        )),
        // Ends by itself (as after 5 minutes on AWS).
        Ok(vec![fan_out_event(0..3, Some(2)), Step::End]),
        // Breaks (a cut connection).
        Ok(vec![
            fan_out_event(3..5, Some(4)),
            Step::Broken(ApiError::Transient("reset".into())),
        ]),
        // Goes silent while the connection stays up.
        Ok(vec![fan_out_event(5..8, Some(7)), Step::Silent]),
        // The rest, then the shard's end (no continuation).
        Ok(vec![
            fan_out_event(8..10, Some(9)),
            fan_out_event(10..10, None),
        ]),
    ]);
    // The shard ends (its checkpoint says finished), then the session is stopped.
    let (ns, result, saved) = fan_out_session(fan_api.clone(), 5).await;
    result.unwrap();
    assert_eq!(ns, (0..10).collect::<Vec<u64>>());
    let calls = fan_api.calls.lock().unwrap().clone();
    let starts: Vec<StartAt> = calls.iter().map(|(s, _)| s.clone()).collect();
    let after = |n: u64| StartAt::AfterSequence(format!("{:020}", n));
    assert_eq!(
        starts,
        vec![
            StartAt::Oldest,
            StartAt::Oldest,
            after(2),
            after(4),
            after(7)
        ]
    );
    // At most one SubscribeToShard a second, and the silent one waited out its timeout.
    for pair in calls.windows(2) {
        assert!(
            pair[1].1 - pair[0].1 >= crate::efo::MIN_SUBSCRIBE_INTERVAL,
            "{calls:?}"
        );
    }
    assert!(calls[4].1 - calls[3].1 >= Duration::from_secs(15));
    let saved = saved.unwrap();
    assert!(saved.shards["s0"].finished, "{saved:?}");
}

/// A session over one shard through `fan_api`, stopped once `calls` subscriptions were made
/// (and a second more); what it wrote, how it ended, and the checkpoints it left.
async fn fan_out_session(
    fan_api: Arc<FakeFanOut>,
    calls: usize,
) -> (
    Vec<u64>,
    Result<Summary, ConsumeError>,
    Option<crate::checkpoint::Checkpoints>,
) {
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    fake.shard("s0", None, false, 0..10);
    let c = connector(1000);
    let mut options = options(&state);
    options.idle_timeout = None;
    let fan_out = crate::efo::FanOut::new(fan_api.clone(), "s", "app");
    let mut out = Vec::new();
    let (_live_tx, live_rx) = watch::channel(Live::from(&c));
    let stop = CancellationToken::new();
    let session = run_session(
        fake.clone(),
        Some(fan_out),
        &c,
        &options,
        &mut out,
        stop.clone(),
        live_rx,
        None,
    );
    let stopper = async {
        while fan_api.calls.lock().unwrap().len() < calls && !stop.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.cancel();
    };
    let (result, ()) = tokio::join!(session, stopper);
    let saved = CheckpointStore::new(options.checkpoint_path(&c))
        .load()
        .unwrap();
    (super::output::tests_support::ns(&out), result, saved)
}

#[tokio::test(start_paused = true)]
async fn fan_out_registers_a_consumer_deregistered_meanwhile_again() {
    let fan_api = Arc::new(FakeFanOut::default());
    fan_api.scripts.lock().unwrap().extend([
        Ok(vec![
            fan_out_event(0..3, Some(2)),
            Step::Broken(ApiError::NotFound("consumer".into())),
        ]),
        Err(ApiError::NotFound(
            "ResourceNotFoundException: consumer".into(),
        )),
        Ok(vec![
            fan_out_event(3..10, Some(9)),
            fan_out_event(10..10, None),
        ]),
    ]);
    let (ns, result, _) = fan_out_session(fan_api.clone(), 3).await;
    result.unwrap();
    assert_eq!(ns, (0..10).collect::<Vec<u64>>());
    assert_eq!(
        *fan_api.registrations.lock().unwrap(),
        2,
        "registered again once"
    );
}

#[tokio::test(start_paused = true)]
async fn fan_out_gives_up_when_the_consumer_stays_unknown() {
    let fan_api = Arc::new(FakeFanOut::default());
    fan_api.scripts.lock().unwrap().extend((0..10).map(|_| {
        Err(ApiError::NotFound(
            "ResourceNotFoundException: shard".into(),
        ))
    }));
    let (_, result, _) = fan_out_session(fan_api.clone(), 10).await;
    let error = result.unwrap_err().to_string();
    assert!(error.contains("not found"), "{error}");
    assert_eq!(
        *fan_api.registrations.lock().unwrap(),
        4,
        "three times again, then exit"
    );
}
