//! The first contact with a stream: throttling and transient errors (connection refused, DNS,
//! timeouts, 5xx) are retried with backoff for a bounded time (`--connect-timeout`), so a wrong
//! endpoint or a network that is down ends the command with a clear error (exit 3) instead of
//! waiting forever or, worse, looking like a drained stream. Once a stream has been reached,
//! outages are retried without a bound by the loops themselves.

use crate::backoff::Backoff;
use crate::kinesis::{ApiError, StreamError};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// The stream a command is about, for its error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub stream: String,
    pub region: String,
}

impl Target {
    pub fn of(connector: &kinesis_connector::Connector) -> Self {
        Self {
            stream: connector.stream.clone(),
            region: connector.region.code().to_owned(),
        }
    }

    /// An error no retry fixes, as the command reports it.
    pub fn error(&self, error: ApiError) -> StreamError {
        StreamError::from_api(error, &self.stream, &self.region)
    }
}

/// Calls `call` until it succeeds, retrying retryable errors until `timeout` has passed since
/// the first call; `Ok(None)` when `stop` comes first. Each call is itself cut at the time left,
/// so an endpoint that never answers cannot hold it longer.
pub async fn reach<T, F, Fut>(
    target: &Target,
    timeout: Duration,
    stop: &CancellationToken,
    mut call: F,
) -> Result<Option<T>, StreamError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let deadline = Instant::now() + timeout;
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let mut last: Option<ApiError> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let result = tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            result = tokio::time::timeout(left, call()) => result,
        };
        match result {
            Ok(Ok(value)) => return Ok(Some(value)),
            Ok(Err(error)) if error.is_retryable() => last = Some(error),
            Ok(Err(error)) => return Err(target.error(error)),
            // Cut at the deadline: the error before it says more than the cut.
            Err(_) => {}
        }
        let delay = backoff.next_delay();
        if Instant::now() + delay >= deadline {
            return Err(StreamError::Unreachable {
                stream: target.stream.clone(),
                region: target.region.clone(),
                seconds: timeout.as_secs_f64(),
                last: last.unwrap_or_else(|| ApiError::Transient("no answer".into())),
            });
        }
        let error = last.as_ref().map(ToString::to_string).unwrap_or_default();
        warn!(error = %error, delay_ms = delay.as_millis() as u64, "stream not reached yet; retrying");
        tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn target() -> Target {
        Target {
            stream: "s".into(),
            region: "us-east-1".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_until_the_timeout() {
        let calls = Cell::new(0u32);
        let started = Instant::now();
        let result: Result<Option<()>, _> = reach(
            &target(),
            Duration::from_secs(3),
            &CancellationToken::new(),
            || {
                calls.set(calls.get() + 1);
                async { Err(ApiError::Transient("connection refused".into())) }
            },
        )
        .await;
        let error = result.unwrap_err();
        assert!(
            matches!(&error, StreamError::Unreachable { last: ApiError::Transient(m), .. } if m == "connection refused"),
            "{error:?}"
        );
        assert!(error.to_string().contains("within 3 s"), "{error}");
        assert!(calls.get() > 2, "retried: {} calls", calls.get());
        assert!(started.elapsed() <= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn success_after_retries_and_fatal_errors_at_once() {
        let calls = Cell::new(0u32);
        let result = reach(
            &target(),
            Duration::from_secs(30),
            &CancellationToken::new(),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 3 {
                        Err(ApiError::Throttled("slow down".into()))
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), Some(3));
        let result: Result<Option<()>, _> = reach(
            &target(),
            Duration::from_secs(30),
            &CancellationToken::new(),
            || async { Err(ApiError::NotFound("no stream".into())) },
        )
        .await;
        assert!(matches!(result, Err(StreamError::NotFound { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_answers_is_cut_at_the_timeout() {
        let started = Instant::now();
        let result: Result<Option<()>, _> = reach(
            &target(),
            Duration::from_secs(2),
            &CancellationToken::new(),
            std::future::pending,
        )
        .await;
        assert!(matches!(result, Err(StreamError::Unreachable { .. })));
        assert!(started.elapsed() <= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_the_wait() {
        let stop = CancellationToken::new();
        stop.cancel();
        let result: Result<Option<()>, _> = reach(
            &target(),
            Duration::from_secs(2),
            &stop,
            std::future::pending,
        )
        .await;
        assert_eq!(result.unwrap(), None);
    }
}
