//! Enhanced fan-out (`consume --efo NAME`): the stream consumer's registration and one shard's
//! subscription, behind small object-safe traits so the read loop (`consume::subscribe`) can be
//! unit tested with a fake; `SdkFanOut` is the real implementation on the SDK's event stream.
//!
//! The consumer is registered (or found, when one of that name exists) once per session, lazily,
//! by the first shard reader that needs it, after the stream has answered ListShards: the connect
//! timeout and the not-found errors stay those of polling.

use crate::backoff::Backoff;
use crate::kinesis::{classify, ApiError, KinesisRecord, StartAt};
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::types::{ConsumerStatus, ShardIteratorType, StartingPosition};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One `SubscribeToShardEvent`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanOutEvent {
    pub records: Vec<KinesisRecord>,
    /// Where a new subscription continues (AFTER_SEQUENCE_NUMBER); `None` at the shard's end.
    pub continuation: Option<String>,
    pub millis_behind_latest: Option<i64>,
    /// The shards that continue this one, once it has ended (split or merge).
    pub child_shards: Vec<String>,
}

impl FanOutEvent {
    /// The shard has ended: no continuation (AWS then names the children).
    pub fn is_shard_end(&self) -> bool {
        self.continuation.is_none()
    }
}

/// An open subscription: events until it ends (`Ok(None)`, after at most 5 minutes on AWS).
pub trait Subscription: Send {
    fn next_event(&mut self) -> BoxFuture<'_, Result<Option<FanOutEvent>, ApiError>>;
}

/// The calls of enhanced fan-out.
pub trait FanOutApi: Send + Sync + 'static {
    /// The stream's ARN (consumers are registered on it).
    fn stream_arn<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, Result<String, ApiError>>;
    /// Registers the consumer, or describes it when one of that name exists.
    fn register<'a>(
        &'a self,
        stream_arn: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Consumer, ApiError>>;
    fn describe<'a>(
        &'a self,
        stream_arn: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Consumer, ApiError>>;
    fn deregister<'a>(&'a self, consumer_arn: &'a str) -> BoxFuture<'a, Result<(), ApiError>>;
    fn subscribe<'a>(
        &'a self,
        consumer_arn: &'a str,
        shard: &'a str,
        start: &'a StartAt,
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, ApiError>>;
}

/// A registered stream consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub arn: String,
    /// `CREATING`, `ACTIVE` or `DELETING`.
    pub status: String,
}

/// `--efo` for one session: the consumer name, its ARN once registered, and the timings.
#[derive(Clone)]
pub struct FanOut {
    pub api: Arc<dyn FanOutApi>,
    pub stream: Arc<str>,
    pub name: Arc<str>,
    /// The consumer's ARN once registered (or found) and ACTIVE; the lock is held while one
    /// reader registers, so the others wait for it.
    consumer: Arc<tokio::sync::Mutex<Option<String>>>,
    /// A subscription silent for this long (no event, not even an empty one) is re-subscribed.
    pub silence_timeout: Duration,
    /// How long registration waits for the consumer to become ACTIVE.
    pub activation_timeout: Duration,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("stream", &self.stream)
            .field("name", &self.name)
            .field(
                "consumer",
                &self.consumer.try_lock().ok().and_then(|c| c.clone()),
            )
            .finish()
    }
}

/// A healthy subscription keeps sending events, empty ones when there is nothing new
/// (kinesis-mock every second; AWS every few seconds): this long without one is taken for a
/// half-open connection.
pub const DEFAULT_SILENCE_TIMEOUT: Duration = Duration::from_secs(15);

/// SubscribeToShard may be called once per second per consumer and shard.
pub const MIN_SUBSCRIBE_INTERVAL: Duration = Duration::from_secs(1);

impl FanOut {
    pub fn new(api: Arc<dyn FanOutApi>, stream: &str, name: &str) -> Self {
        Self {
            api,
            stream: Arc::from(stream),
            name: Arc::from(name),
            consumer: Arc::default(),
            silence_timeout: DEFAULT_SILENCE_TIMEOUT,
            activation_timeout: Duration::from_secs(120),
        }
    }

    /// The consumer's ARN: registered (or found) and ACTIVE. The first caller does the work;
    /// the others wait for it. `Ok(None)` when stopped first.
    pub async fn consumer_arn(&self, stop: &CancellationToken) -> Result<Option<String>, ApiError> {
        let mut slot = tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            slot = self.consumer.lock() => slot,
        };
        if let Some(arn) = slot.as_ref() {
            return Ok(Some(arn.clone()));
        }
        let arn = tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            result = self.register_active() => result?,
        };
        *slot = Some(arn.clone());
        Ok(Some(arn))
    }

    /// The service no longer knows `arn` (the consumer was deregistered meanwhile): the next
    /// `consumer_arn` registers it again.
    pub async fn forget(&self, arn: &str) {
        let mut slot = self.consumer.lock().await;
        if slot.as_deref() == Some(arn) {
            warn!(consumer = %self.name, consumer_arn = %arn, "the stream consumer is gone; registering it again");
            *slot = None;
        }
    }

    /// The ARN when this session registered or found the consumer.
    pub async fn registered(&self) -> Option<String> {
        self.consumer.lock().await.clone()
    }

    /// `--efo-deregister`: removes the consumer this session registered or found (logged, never
    /// fatal: the records are read and checkpointed by now).
    pub async fn deregister(&self) {
        let Some(arn) = self.registered().await else {
            return;
        };
        match retrying("DeregisterStreamConsumer", || self.api.deregister(&arn)).await {
            Ok(()) => info!(consumer = %self.name, "enhanced fan-out consumer deregistered"),
            Err(error) => {
                warn!(consumer = %self.name, error = %error, "could not deregister the stream consumer")
            }
        }
    }

    async fn register_active(&self) -> Result<String, ApiError> {
        let stream_arn = retrying("DescribeStreamSummary", || {
            self.api.stream_arn(&self.stream)
        })
        .await?;
        let mut consumer = retrying("RegisterStreamConsumer", || {
            self.api.register(&stream_arn, &self.name)
        })
        .await?;
        info!(consumer = %self.name, consumer_arn = %consumer.arn, status = %consumer.status,
              "enhanced fan-out consumer registered");
        let deadline = tokio::time::Instant::now() + self.activation_timeout;
        let mut poll = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));
        while consumer.status != "ACTIVE" {
            if consumer.status == "DELETING" {
                return Err(ApiError::Fatal(format!(
                    "stream consumer {} is being deleted; choose another --efo name or wait",
                    self.name
                )));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(ApiError::Fatal(format!(
                    "stream consumer {} was not ACTIVE after {} s (status {})",
                    self.name,
                    self.activation_timeout.as_secs(),
                    consumer.status
                )));
            }
            tokio::time::sleep(poll.next_delay()).await;
            consumer = retrying("DescribeStreamConsumer", || {
                self.api.describe(&stream_arn, &self.name)
            })
            .await?;
        }
        info!(consumer = %self.name, "enhanced fan-out consumer active");
        Ok(consumer.arn)
    }
}

/// Retries throttling and transient errors of a control-plane call with backoff.
async fn retrying<T, F>(what: &str, mut call: impl FnMut() -> F) -> Result<T, ApiError>
where
    F: Future<Output = Result<T, ApiError>>,
{
    let mut backoff = Backoff::for_kinesis();
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) if error.is_retryable() && backoff.attempts() < 20 => {
                let delay = backoff.next_delay();
                debug!(error = %error, delay_ms = delay.as_millis() as u64, "retrying {what}");
                tokio::time::sleep(delay).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The real service (or an emulator) through the SDK's event stream.
#[derive(Debug, Clone)]
pub struct SdkFanOut {
    pub client: aws_sdk_kinesis::Client,
}

/// An error of the event stream: the service sends it as an exception event, which the SDK
/// gives as a variant (its metadata may carry no code).
fn event_error<R: std::fmt::Debug>(
    err: SdkError<aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError, R>,
) -> ApiError {
    use aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError as E;
    let SdkError::ServiceError(service) = &err else {
        return crate::kinesis::unanswered(&err);
    };
    let e = service.err();
    let message = e.message().unwrap_or("no message").to_owned();
    match e {
        // The previous subscription of this consumer and shard is still open on the service's
        // side (for about 5 s after it was cut).
        E::ResourceInUseException(_) => {
            ApiError::Transient(format!("ResourceInUseException: {message}"))
        }
        E::ResourceNotFoundException(_) => {
            ApiError::NotFound(format!("ResourceNotFoundException: {message}"))
        }
        E::InternalFailureException(_) => {
            ApiError::Transient(format!("InternalFailureException: {message}"))
        }
        E::KmsThrottlingException(_) => {
            ApiError::Throttled(format!("KMSThrottlingException: {message}"))
        }
        other => crate::kinesis::classify_code(other.code().unwrap_or("Unknown"), &message),
    }
}

fn consumer_of(arn: Option<String>, status: Option<&ConsumerStatus>) -> Result<Consumer, ApiError> {
    Ok(Consumer {
        arn: arn.ok_or_else(|| ApiError::Transient("the stream consumer has no ARN".into()))?,
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
    })
}

impl FanOutApi for SdkFanOut {
    fn stream_arn<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, Result<String, ApiError>> {
        Box::pin(async move {
            let out = self
                .client
                .describe_stream_summary()
                .stream_name(stream)
                .send()
                .await
                .map_err(classify)?;
            out.stream_description_summary
                .map(|s| s.stream_arn)
                .filter(|arn| !arn.is_empty())
                .ok_or_else(|| ApiError::Transient("DescribeStreamSummary gave no ARN".into()))
        })
    }

    fn register<'a>(
        &'a self,
        stream_arn: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Consumer, ApiError>> {
        Box::pin(async move {
            let result = self
                .client
                .register_stream_consumer()
                .stream_arn(stream_arn)
                .consumer_name(name)
                .send()
                .await;
            match result {
                Ok(out) => {
                    let c = out.consumer;
                    match c {
                        Some(c) => consumer_of(Some(c.consumer_arn), Some(&c.consumer_status)),
                        None => Err(ApiError::Transient(
                            "RegisterStreamConsumer gave no consumer".into(),
                        )),
                    }
                }
                // A consumer of that name exists (ours from an earlier run, or a KCL
                // application's of the same name): use it.
                Err(SdkError::ServiceError(e))
                    if e.err().code() == Some("ResourceInUseException") =>
                {
                    self.describe(stream_arn, name).await
                }
                Err(error) => Err(classify(error)),
            }
        })
    }

    fn describe<'a>(
        &'a self,
        stream_arn: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Consumer, ApiError>> {
        Box::pin(async move {
            let out = self
                .client
                .describe_stream_consumer()
                .stream_arn(stream_arn)
                .consumer_name(name)
                .send()
                .await
                .map_err(classify)?;
            match out.consumer_description {
                Some(c) => consumer_of(Some(c.consumer_arn), Some(&c.consumer_status)),
                None => Err(ApiError::Transient(
                    "DescribeStreamConsumer gave no description".into(),
                )),
            }
        })
    }

    fn deregister<'a>(&'a self, consumer_arn: &'a str) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            self.client
                .deregister_stream_consumer()
                .consumer_arn(consumer_arn)
                .send()
                .await
                .map_err(classify)?;
            Ok(())
        })
    }

    fn subscribe<'a>(
        &'a self,
        consumer_arn: &'a str,
        shard: &'a str,
        start: &'a StartAt,
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, ApiError>> {
        Box::pin(async move {
            let position = match start {
                StartAt::Oldest => {
                    StartingPosition::builder().r#type(ShardIteratorType::TrimHorizon)
                }
                StartAt::Latest => StartingPosition::builder().r#type(ShardIteratorType::Latest),
                StartAt::AtSequence(seq) => StartingPosition::builder()
                    .r#type(ShardIteratorType::AtSequenceNumber)
                    .sequence_number(seq),
                StartAt::AfterSequence(seq) => StartingPosition::builder()
                    .r#type(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(seq),
            }
            .build()
            .map_err(|e| ApiError::Fatal(format!("cannot build a starting position: {e}")))?;
            let out = self
                .client
                .subscribe_to_shard()
                .consumer_arn(consumer_arn)
                .shard_id(shard)
                .starting_position(position)
                .send()
                .await
                .map_err(classify)?;
            Ok(Box::new(SdkSubscription { output: out }) as Box<dyn Subscription>)
        })
    }
}

struct SdkSubscription {
    /// Its `event_stream` (the receiver's type is not exported by the SDK).
    output: aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardOutput,
}

impl Subscription for SdkSubscription {
    fn next_event(&mut self) -> BoxFuture<'_, Result<Option<FanOutEvent>, ApiError>> {
        use aws_sdk_kinesis::types::SubscribeToShardEventStream as Stream;
        Box::pin(async move {
            loop {
                let event = match self.output.event_stream.recv().await.map_err(event_error)? {
                    None => return Ok(None),
                    Some(Stream::SubscribeToShardEvent(event)) => event,
                    Some(other) => {
                        warn!(event = ?other, "unknown fan-out event ignored");
                        continue;
                    }
                };
                let records = event.records.into_iter().map(KinesisRecord::from).collect();
                let continuation =
                    Some(event.continuation_sequence_number).filter(|c| !c.is_empty());
                return Ok(Some(FanOutEvent {
                    records,
                    continuation,
                    millis_behind_latest: Some(event.millis_behind_latest),
                    child_shards: event
                        .child_shards
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| c.shard_id)
                        .collect(),
                }));
            }
        })
    }
}
