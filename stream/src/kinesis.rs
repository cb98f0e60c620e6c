//! The slice of the Kinesis API the streaming loops use, behind a trait so the loops can be unit
//! tested against a fake; `SdkKinesis` is the real implementation on the official AWS SDK.

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::types::ShardIteratorType;
use std::future::Future;
use std::time::Duration;

/// A shard as ListShards describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    pub id: String,
    pub parent: Option<String>,
    pub adjacent_parent: Option<String>,
    /// The shard has an ending sequence number: it was split or merged and takes no new writes.
    pub closed: bool,
    /// Its hash key range (decimal strings, as ListShards gives them), when known.
    pub hash_range: Option<(String, String)>,
}

impl ShardInfo {
    pub fn parents(&self) -> impl Iterator<Item = &str> {
        self.parent
            .as_deref()
            .into_iter()
            .chain(self.adjacent_parent.as_deref())
    }
}

/// Where a shard iterator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    Oldest,
    Latest,
    AtSequence(String),
    AfterSequence(String),
}

/// One record as GetRecords returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    pub sequence_number: String,
    pub partition_key: String,
    /// Approximate arrival time, milliseconds since the Unix epoch.
    pub arrival_millis: i64,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordsPage {
    pub records: Vec<KinesisRecord>,
    /// `None` once a closed shard has been read to its end.
    pub next_iterator: Option<String>,
    pub millis_behind_latest: Option<i64>,
}

/// Errors sorted by what the caller should do about them.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    #[error("throttled: {0}")]
    Throttled(String),
    #[error("shard iterator expired")]
    ExpiredIterator,
    #[error("transient error: {0}")]
    Transient(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The service refused the credentials (unknown key, bad signature, expired token, denied).
    #[error("credentials refused: {0}")]
    Credentials(String),
    #[error("{0}")]
    Fatal(String),
}

impl ApiError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ApiError::Throttled(_) | ApiError::Transient(_))
    }
}

/// A stream failure as a command reports it (exit code 3): the stream is missing, could not be
/// reached in time, or refused a call no retry fixes.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StreamError {
    #[error("stream {stream} does not exist in {region}")]
    NotFound { stream: String, region: String },
    #[error("cannot reach stream {stream} in {region} within {seconds} s: {last}")]
    Unreachable {
        stream: String,
        region: String,
        seconds: f64,
        last: ApiError,
    },
    #[error("stream {stream}: {source}")]
    Api { stream: String, source: ApiError },
    #[error("stream {stream}, shard {shard}: {source}")]
    Shard {
        stream: String,
        shard: String,
        source: ApiError,
    },
    #[error("stopped before stream {stream} could be reached")]
    StoppedBeforeReached { stream: String },
}

impl StreamError {
    /// An error of a call on `stream`; a missing stream is named as such.
    pub fn from_api(error: ApiError, stream: &str, region: &str) -> Self {
        match error {
            ApiError::NotFound(_) => StreamError::NotFound {
                stream: stream.to_owned(),
                region: region.to_owned(),
            },
            source => StreamError::Api {
                stream: stream.to_owned(),
                source,
            },
        }
    }

    /// The underlying service error, when there is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            StreamError::Unreachable { last, .. } => Some(last),
            StreamError::Api { source, .. } | StreamError::Shard { source, .. } => Some(source),
            StreamError::NotFound { .. } | StreamError::StoppedBeforeReached { .. } => None,
        }
    }
}

pub trait KinesisApi: Clone + Send + Sync + 'static {
    fn list_shards(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<Vec<ShardInfo>, ApiError>> + Send;
    fn shard_iterator(
        &self,
        stream: &str,
        shard_id: &str,
        start: &StartAt,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;
    fn get_records(
        &self,
        iterator: &str,
        limit: u64,
    ) -> impl Future<Output = Result<RecordsPage, ApiError>> + Send;
}

/// The real service (or an emulator) through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkKinesis {
    client: aws_sdk_kinesis::Client,
}

/// Summary of a stream for `test`.
#[derive(Debug, Clone)]
pub struct StreamSummary {
    pub status: String,
    pub open_shards: u32,
}

impl SdkKinesis {
    pub fn new(client: aws_sdk_kinesis::Client) -> Self {
        Self { client }
    }

    /// The SDK client (enhanced fan-out shares it).
    pub fn sdk_client(&self) -> &aws_sdk_kinesis::Client {
        &self.client
    }

    pub async fn describe(&self, stream: &str) -> Result<StreamSummary, ApiError> {
        let out = self
            .client
            .describe_stream_summary()
            .stream_name(stream)
            .send()
            .await
            .map_err(classify)?;
        let summary = out.stream_description_summary();
        let (status, open) = match summary {
            Some(s) => (
                s.stream_status().as_str().to_owned(),
                u32::try_from(s.open_shard_count()).unwrap_or(0),
            ),
            None => ("UNKNOWN".to_owned(), 0),
        };
        Ok(StreamSummary {
            status,
            open_shards: open,
        })
    }
}

/// A failed call sorted by what the caller should do about it.
pub(crate) fn classify<E>(err: SdkError<E, aws_sdk_kinesis::config::http::HttpResponse>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            let code = e.code().unwrap_or("Unknown");
            let message = e.message().unwrap_or("no message");
            match classify_code(code, message) {
                // An answer without a known error code (a load balancer's plain-text 503, an
                // unlisted 5xx) is sorted by its HTTP status: 5xx and 429 are worth a retry.
                ApiError::Fatal(_) if status >= 500 => {
                    ApiError::Transient(format!("HTTP {status}: {code}: {message}"))
                }
                ApiError::Fatal(_) if status == 429 => {
                    ApiError::Throttled(format!("HTTP {status}: {code}: {message}"))
                }
                sorted => sorted,
            }
        }
        _ => unanswered(&err),
    }
}

/// A call the service did not answer: a timeout, a connection that failed or broke, an
/// unreadable response (worth a retry), or a request that could not be built (not).
pub(crate) fn unanswered<E, R>(err: &SdkError<E, R>) -> ApiError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = format!("{}", aws_sdk_kinesis::error::DisplayErrorContext(err));
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ApiError::Transient(text)
        }
        _ => ApiError::Fatal(text),
    }
}

impl From<aws_sdk_kinesis::types::Record> for KinesisRecord {
    fn from(r: aws_sdk_kinesis::types::Record) -> Self {
        KinesisRecord {
            arrival_millis: r
                .approximate_arrival_timestamp
                .and_then(|t| t.to_millis().ok())
                .unwrap_or(0),
            sequence_number: r.sequence_number,
            partition_key: r.partition_key.unwrap_or_default(),
            data: r.data.into_inner(),
        }
    }
}

/// A service error code, sorted by what the caller should do about it.
pub(crate) fn classify_code(code: &str, message: &str) -> ApiError {
    let message = format!("{code}: {message}");
    match code {
        "ProvisionedThroughputExceededException"
        | "LimitExceededException"
        | "ThrottlingException"
        | "KMSThrottlingException" => ApiError::Throttled(message),
        "ExpiredIteratorException" => ApiError::ExpiredIterator,
        "ResourceNotFoundException" => ApiError::NotFound(message),
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "InvalidClientTokenId"
        | "MissingAuthenticationToken"
        | "ExpiredTokenException"
        | "ExpiredToken"
        | "AccessDeniedException"
        | "AccessDenied" => ApiError::Credentials(message),
        "InternalFailure"
        | "InternalFailureException"
        | "ServiceUnavailable"
        | "ResourceInUseException" => ApiError::Transient(message),
        _ => ApiError::Fatal(message),
    }
}

impl KinesisApi for SdkKinesis {
    async fn list_shards(&self, stream: &str) -> Result<Vec<ShardInfo>, ApiError> {
        let mut shards = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let request = match &next {
                Some(token) => self.client.list_shards().next_token(token),
                None => self.client.list_shards().stream_name(stream),
            };
            let out = request.send().await.map_err(classify)?;
            for shard in out.shards.unwrap_or_default() {
                let closed = shard
                    .sequence_number_range
                    .as_ref()
                    .is_some_and(|r| r.ending_sequence_number.is_some());
                let hash_range = shard
                    .hash_key_range
                    .map(|r| (r.starting_hash_key, r.ending_hash_key));
                shards.push(ShardInfo {
                    id: shard.shard_id,
                    parent: shard.parent_shard_id,
                    adjacent_parent: shard.adjacent_parent_shard_id,
                    closed,
                    hash_range,
                });
            }
            match out.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(shards),
            }
        }
    }

    async fn shard_iterator(
        &self,
        stream: &str,
        shard_id: &str,
        start: &StartAt,
    ) -> Result<String, ApiError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard_id);
        let request = match start {
            StartAt::Oldest => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            StartAt::Latest => request.shard_iterator_type(ShardIteratorType::Latest),
            StartAt::AtSequence(seq) => request
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number(seq),
            StartAt::AfterSequence(seq) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq),
        };
        let out = request.send().await.map_err(classify)?;
        out.shard_iterator
            .ok_or_else(|| ApiError::Transient("GetShardIterator returned no iterator".into()))
    }

    async fn get_records(&self, iterator: &str, limit: u64) -> Result<RecordsPage, ApiError> {
        let limit = i32::try_from(limit).unwrap_or(10_000);
        let out = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(limit)
            .send()
            .await
            .map_err(classify)?;
        let records = out.records.into_iter().map(KinesisRecord::from).collect();
        Ok(RecordsPage {
            records,
            next_iterator: out.next_shard_iterator,
            millis_behind_latest: out.millis_behind_latest,
        })
    }
}

/// How to reach Kinesis: the connector's credentials and region, possibly overridden.
#[derive(Clone)]
pub struct Connection {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Option<String>,
    pub endpoint_url: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log line, whatever the level.
        f.debug_struct("Connection")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

impl Connection {
    /// The connector's settings, with the standard AWS environment variables taking precedence for
    /// the credentials (`AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`) and the endpoint
    /// (`AWS_ENDPOINT_URL`) when they are set; `--endpoint-url` wins over both.
    pub fn from_connector(
        connector: &kinesis_connector::Connector,
        endpoint_flag: Option<&str>,
    ) -> Self {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (access_key_id, secret_access_key) =
            match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
                (Some(id), Some(secret)) => (id, Some(secret)),
                _ => match &connector.credentials {
                    Some(credentials) => (
                        credentials.user.clone(),
                        credentials.password.as_ref().map(|p| p.expose().to_owned()),
                    ),
                    None => (
                        env("AWS_ACCESS_KEY_ID").unwrap_or_default(),
                        env("AWS_SECRET_ACCESS_KEY"),
                    ),
                },
            };
        Self {
            region: connector.region.code().to_owned(),
            access_key_id,
            secret_access_key,
            endpoint_url: endpoint_flag
                .map(str::to_owned)
                .or_else(|| env("AWS_ENDPOINT_URL")),
        }
    }

    pub async fn client(&self) -> SdkKinesis {
        self.build_client(None).await
    }

    /// A client without the SDK's own retries: `produce` retries (only the failed entries) with
    /// its own backoff and counts every attempt against `--max-attempts`.
    pub async fn client_without_retries(&self) -> SdkKinesis {
        self.build_client(Some(aws_config::retry::RetryConfig::disabled()))
            .await
    }

    async fn build_client(&self, retry: Option<aws_config::retry::RetryConfig>) -> SdkKinesis {
        let shared = self.sdk_config(self.endpoint_url.clone(), retry).await;
        SdkKinesis::new(aws_sdk_kinesis::Client::new(&shared))
    }

    /// The SDK settings (credentials, region, timeouts, the rustls HTTP client) for any service
    /// of this connection, with that service's endpoint.
    pub async fn sdk_config(
        &self,
        endpoint_url: Option<String>,
        retry: Option<aws_config::retry::RetryConfig>,
    ) -> aws_config::SdkConfig {
        use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region};
        use aws_smithy_http_client::tls;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(Region::new(self.region.clone()))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(secret) = &self.secret_access_key {
            let session_token = std::env::var("AWS_SESSION_TOKEN").ok().filter(|_| {
                std::env::var("AWS_ACCESS_KEY_ID").is_ok_and(|id| id == self.access_key_id)
            });
            loader = loader.credentials_provider(Credentials::new(
                self.access_key_id.clone(),
                secret.clone(),
                session_token,
                None,
                "kinesis-connector",
            ));
        }
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(retry) = retry {
            loader = loader.retry_config(retry);
        }
        loader.load().await
    }
}

/// An open shard and the hash key range it takes writes for (MD5 of the partition key as a
/// 128-bit big-endian integer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRange {
    pub id: String,
    pub start: u128,
    pub end: u128,
}

/// The outcome of one PutRecords entry: the shard that took it, or the service's error code and
/// message.
pub type PutOutcome = Result<String, (String, String)>;

/// The slice of the API `produce` uses, behind a trait so its loop can be unit tested.
pub trait ProducerApi: Clone + 'static {
    /// The open shards (those without an ending sequence number) with their hash key ranges.
    fn open_shards(&self, stream: &str) -> impl Future<Output = Result<Vec<ShardRange>, ApiError>>;
    /// One PutRecords request; the outcomes come back in the order of `entries`.
    fn put_records(
        &self,
        stream: &str,
        entries: &[(&str, &[u8])],
    ) -> impl Future<Output = Result<Vec<PutOutcome>, ApiError>>;
}

impl ProducerApi for SdkKinesis {
    async fn open_shards(&self, stream: &str) -> Result<Vec<ShardRange>, ApiError> {
        let mut shards = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let request = match &next {
                Some(token) => self.client.list_shards().next_token(token),
                None => self.client.list_shards().stream_name(stream),
            };
            let out = request.send().await.map_err(classify)?;
            for shard in out.shards.unwrap_or_default() {
                let closed = shard
                    .sequence_number_range
                    .as_ref()
                    .is_some_and(|r| r.ending_sequence_number.is_some());
                let Some(range) = shard.hash_key_range else {
                    continue;
                };
                let (Ok(start), Ok(end)) = (
                    range.starting_hash_key.parse::<u128>(),
                    range.ending_hash_key.parse::<u128>(),
                ) else {
                    return Err(ApiError::Transient(format!(
                        "shard {} has an unreadable hash key range",
                        shard.shard_id
                    )));
                };
                if !closed {
                    shards.push(ShardRange {
                        id: shard.shard_id,
                        start,
                        end,
                    });
                }
            }
            match out.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(shards),
            }
        }
    }

    async fn put_records(
        &self,
        stream: &str,
        entries: &[(&str, &[u8])],
    ) -> Result<Vec<PutOutcome>, ApiError> {
        use aws_sdk_kinesis::primitives::Blob;
        use aws_sdk_kinesis::types::PutRecordsRequestEntry;
        let mut request = self.client.put_records().stream_name(stream);
        for (key, data) in entries {
            let entry = PutRecordsRequestEntry::builder()
                .partition_key(*key)
                .data(Blob::new(data.to_vec()))
                .build()
                .map_err(|e| ApiError::Fatal(format!("cannot build a PutRecords entry: {e}")))?;
            request = request.records(entry);
        }
        let out = request.send().await.map_err(classify)?;
        let results: Vec<PutOutcome> = out
            .records
            .into_iter()
            .map(|r| match (r.error_code, r.shard_id) {
                (Some(code), _) => Err((code, r.error_message.unwrap_or_default())),
                (None, Some(shard)) => Ok(shard),
                (None, None) => Err(("InternalFailure".into(), "no shard id returned".into())),
            })
            .collect();
        if results.len() != entries.len() {
            return Err(ApiError::Transient(format!(
                "PutRecords returned {} results for {} entries",
                results.len(),
                entries.len()
            )));
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_error_codes_are_sorted_by_what_to_do() {
        assert!(matches!(
            classify_code("UnrecognizedClientException", "bad key"),
            ApiError::Credentials(m) if m == "UnrecognizedClientException: bad key"
        ));
        for code in [
            "InvalidSignatureException",
            "ExpiredTokenException",
            "AccessDeniedException",
        ] {
            assert!(
                matches!(classify_code(code, ""), ApiError::Credentials(_)),
                "{code}"
            );
        }
        assert!(matches!(
            classify_code("ResourceNotFoundException", "x"),
            ApiError::NotFound(_)
        ));
        assert!(classify_code("ProvisionedThroughputExceededException", "x").is_retryable());
        assert!(classify_code("InternalFailure", "x").is_retryable());
        assert!(matches!(
            classify_code("ValidationException", "x"),
            ApiError::Fatal(_)
        ));
    }
}
