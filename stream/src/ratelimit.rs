//! Per-shard budgets: records and bytes per second (token buckets) and the service's own limit of
//! five GetRecords calls per second per shard. Shared by `consume` (read budget) and, later,
//! `produce` (write budget per predicted shard).
//!
//! Time comes from `tokio::time`, so the logic is tested with tokio's paused clock.

use std::time::Duration;
use tokio::time::Instant;

/// A token bucket that may go into debt: a batch larger than the balance is still accepted (the
/// service has already returned it), and the debt is paid back by waiting.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// `rate` tokens per second, holding at most one second's worth, starting with `initial`.
    pub fn new(rate: u64, initial: f64) -> Self {
        let rate = rate.max(1) as f64;
        Self {
            rate,
            capacity: rate,
            tokens: initial.min(rate),
            updated: Instant::now(),
        }
    }

    /// Changes the rate live (config `--watch`), keeping the current balance within the new cap.
    pub fn set_rate(&mut self, rate: u64) {
        self.refill();
        self.rate = rate.max(1) as f64;
        self.capacity = self.rate;
        self.tokens = self.tokens.min(self.capacity);
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.updated = now;
    }

    /// Whole tokens available now (0 when in debt).
    pub fn available(&mut self) -> u64 {
        self.refill();
        if self.tokens <= 0.0 {
            0
        } else {
            self.tokens.floor() as u64
        }
    }

    /// Takes `n` tokens, possibly going into debt.
    pub fn consume(&mut self, n: u64) {
        self.refill();
        self.tokens -= n as f64;
    }

    /// How long until at least `n` tokens (capped at the capacity) are available.
    pub fn wait_for(&mut self, n: u64) -> Duration {
        self.refill();
        let want = (n as f64).min(self.capacity);
        if self.tokens >= want {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((want - self.tokens) / self.rate)
        }
    }
}

/// The read budget of one shard.
#[derive(Debug, Clone)]
pub struct ShardBudget {
    pub records: TokenBucket,
    pub bytes: TokenBucket,
    min_call_interval: Duration,
    last_call: Option<Instant>,
}

/// Kinesis allows five GetRecords (or PutRecords for writes: 1000 rec/s) calls per second per shard.
pub const MIN_GET_RECORDS_INTERVAL: Duration = Duration::from_millis(200);
/// GetRecords returns at most this many records per call.
pub const MAX_GET_RECORDS_LIMIT: u64 = 10_000;

impl ShardBudget {
    /// Starts with one call's worth (a fifth of a second) of tokens rather than a full second, so
    /// a fresh reader does not burst a whole second's budget at once.
    pub fn new(records_per_second: u64, bytes_per_second: u64) -> Self {
        let records = TokenBucket::new(
            records_per_second,
            (records_per_second as f64 / 5.0).max(1.0),
        );
        let bytes = TokenBucket::new(bytes_per_second, (bytes_per_second as f64 / 5.0).max(1.0));
        Self {
            records,
            bytes,
            min_call_interval: MIN_GET_RECORDS_INTERVAL,
            last_call: None,
        }
    }

    pub fn set_rates(&mut self, records_per_second: u64, bytes_per_second: u64) {
        self.records.set_rate(records_per_second);
        self.bytes.set_rate(bytes_per_second);
    }

    /// How long to wait before the next call may go out: the call interval, at least one record
    /// token and no byte debt.
    pub fn delay_before_call(&mut self) -> Duration {
        let interval = match self.last_call {
            Some(last) => (last + self.min_call_interval).saturating_duration_since(Instant::now()),
            None => Duration::ZERO,
        };
        interval
            .max(self.records.wait_for(1))
            .max(self.bytes.wait_for(1))
    }

    /// The `Limit` for the next call (after `delay_before_call` has been waited out).
    pub fn call_limit(&mut self) -> u64 {
        self.records.available().clamp(1, MAX_GET_RECORDS_LIMIT)
    }

    /// Records that a call went out now and what it returned.
    pub fn record_call(&mut self, records: u64, bytes: u64) {
        self.last_call = Some(Instant::now());
        self.records.consume(records);
        self.bytes.consume(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_refills_at_rate() {
        let mut bucket = TokenBucket::new(100, 0.0);
        assert_eq!(bucket.available(), 0);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(bucket.available(), 50);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(bucket.available(), 100, "capped at one second's worth");
    }

    #[tokio::test(start_paused = true)]
    async fn debt_is_paid_by_waiting() {
        let mut bucket = TokenBucket::new(10, 10.0);
        bucket.consume(30);
        assert_eq!(bucket.available(), 0);
        assert_eq!(bucket.wait_for(1), Duration::from_millis(2100));
    }

    #[tokio::test(start_paused = true)]
    async fn budget_spaces_calls_and_limits_records() {
        let mut budget = ShardBudget::new(100, 1_000_000);
        assert_eq!(budget.delay_before_call(), Duration::ZERO);
        assert_eq!(budget.call_limit(), 20);
        budget.record_call(20, 100);
        assert_eq!(budget.delay_before_call(), MIN_GET_RECORDS_INTERVAL);
        tokio::time::advance(MIN_GET_RECORDS_INTERVAL).await;
        assert_eq!(budget.call_limit(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn simulated_drain_respects_rate() {
        // 1000 records at 100/s through the budget take at least 9 s.
        let start = Instant::now();
        let mut budget = ShardBudget::new(100, u64::MAX / 4);
        let mut left = 1000u64;
        while left > 0 {
            let delay = budget.delay_before_call();
            tokio::time::sleep(delay).await;
            let got = budget.call_limit().min(left);
            budget.record_call(got, got * 10);
            left -= got;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(9), "{took:?}");
        assert!(took <= Duration::from_secs(11), "{took:?}");
    }
}
