//! Per-shard budgets. `consume` reads within `ShardBudget` (records and bytes per second, token
//! buckets that may go into debt because GetRecords returns what it returns, and the service's
//! five calls per second). `produce` writes within `WriteBudget`, which asks before each record
//! and is built on `governor`'s GCRA limiters.
//!
//! Time comes from `tokio::time` in both (governor through `TokioClock`), so the logic is tested
//! with tokio's paused clock.

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

    /// Enhanced fan-out (events are pushed, no calls): how long to wait before the next event
    /// is handed on, for at least one record token and no byte debt.
    pub fn delay_before_next(&mut self) -> Duration {
        self.records.wait_for(1).max(self.bytes.wait_for(1))
    }

    /// Enhanced fan-out: what an event held.
    pub fn record(&mut self, records: u64, bytes: u64) {
        self.records.consume(records);
        self.bytes.consume(bytes);
    }

    /// Records that a call went out now and what it returned.
    pub fn record_call(&mut self, records: u64, bytes: u64) {
        self.last_call = Some(Instant::now());
        self.records.consume(records);
        self.bytes.consume(bytes);
    }
}

/// governor's view of `tokio::time`: nanoseconds since the clock was made.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl governor::clock::Clock for TokioClock {
    type Instant = governor::nanos::Nanos;

    fn now(&self) -> Self::Instant {
        governor::nanos::Nanos::from(self.origin.elapsed())
    }
}

type Gcra = governor::RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    TokioClock,
    governor::middleware::NoOpMiddleware<governor::nanos::Nanos>,
>;

/// The write budget of one shard: `records` records and `bytes` bytes per second. A burst holds a
/// fifth of a second's worth (at least one record, and at least one byte), so a fresh or idle
/// shard does not send a whole second at once and the achieved rate stays close to the configured
/// one over any few seconds. A record larger than the byte burst is admitted in burst-sized
/// instalments (the shard waits for each), so any record size works with any byte rate.
#[derive(Debug)]
pub struct WriteBudget {
    clock: TokioClock,
    records: Gcra,
    bytes: Gcra,
    byte_burst: u32,
    /// The head record's record token is taken; it waits for its bytes.
    record_taken: bool,
    /// Bytes of the head record already paid for.
    bytes_paid: u64,
}

fn quota(per_second: u64) -> (governor::Quota, u32) {
    use std::num::NonZeroU32;
    let rate = u32::try_from(per_second.clamp(1, 1_000_000_000)).unwrap_or(u32::MAX);
    let burst = (rate / 5).max(1);
    let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
    let burst_nz = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    (
        governor::Quota::per_second(rate).allow_burst(burst_nz),
        burst,
    )
}

impl WriteBudget {
    pub fn new(records_per_second: u64, bytes_per_second: u64, clock: TokioClock) -> Self {
        let (record_quota, _) = quota(records_per_second);
        let (byte_quota, byte_burst) = quota(bytes_per_second);
        Self {
            clock,
            records: governor::RateLimiter::direct_with_clock(record_quota, clock),
            bytes: governor::RateLimiter::direct_with_clock(byte_quota, clock),
            byte_burst,
            record_taken: false,
            bytes_paid: 0,
        }
    }

    /// Asks to send one record of `size` bytes now. `Ok` admits it; `Err(wait)` says how long
    /// until asking again can succeed (what was already taken for this record is kept, so asking
    /// again for the same record never pays twice).
    pub fn admit(&mut self, size: u64) -> Result<(), Duration> {
        use governor::clock::Clock as _;
        if !self.record_taken {
            if let Err(not_until) = self.records.check() {
                return Err(not_until.wait_time_from(self.clock.now()));
            }
            self.record_taken = true;
        }
        while self.bytes_paid < size {
            let chunk = (size - self.bytes_paid).min(u64::from(self.byte_burst));
            let n = std::num::NonZeroU32::new(u32::try_from(chunk).unwrap_or(self.byte_burst))
                .unwrap_or(std::num::NonZeroU32::MIN);
            match self.bytes.check_n(n) {
                Ok(Ok(())) => self.bytes_paid += chunk,
                Ok(Err(not_until)) => return Err(not_until.wait_time_from(self.clock.now())),
                // Cannot happen: chunks never exceed the burst. Wait a moment rather than spin.
                Err(_) => return Err(Duration::from_millis(10)),
            }
        }
        self.record_taken = false;
        self.bytes_paid = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn write_budget_holds_the_record_rate() {
        let mut budget = WriteBudget::new(200, u64::MAX, TokioClock::default());
        let start = Instant::now();
        let mut sent = 0;
        while sent < 2000 {
            match budget.admit(100) {
                Ok(()) => sent += 1,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
        let took = start.elapsed();
        // The first 40 go at once (a fifth of a second), the rest at 200/s.
        assert!(took >= Duration::from_millis(9_790), "{took:?}");
        assert!(took <= Duration::from_millis(9_850), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn write_budget_holds_the_byte_rate_even_for_large_records() {
        // 1,000 bytes/s, records of 700 bytes (larger than the 200-byte burst).
        let mut budget = WriteBudget::new(1000, 1000, TokioClock::default());
        let start = Instant::now();
        let mut sent = 0;
        while sent < 20 {
            match budget.admit(700) {
                Ok(()) => sent += 1,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
        let took = start.elapsed().as_secs_f64();
        // 14,000 bytes at 1,000/s, less the first burst.
        assert!((13.5..14.2).contains(&took), "{took}");
    }

    #[tokio::test(start_paused = true)]
    async fn refused_record_does_not_pay_twice() {
        let mut budget = WriteBudget::new(5, 1_000_000, TokioClock::default());
        assert!(budget.admit(10).is_ok(), "one record of burst");
        let wait = budget.admit(10).expect_err("limited");
        assert_eq!(wait, Duration::from_millis(200));
        tokio::time::advance(wait).await;
        assert!(budget.admit(10).is_ok());
    }

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
