//! Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
//! the n-th retry waits a random time in `[0, min(cap, base * 2^n)]`, so many shards retrying at
//! once spread out instead of hammering the service together.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            attempt: 0,
            rng: fastrand::Rng::new(),
        }
    }

    /// The defaults for Kinesis calls: 100 ms doubling up to 10 s.
    pub fn for_kinesis() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(10))
    }

    /// The next delay; grows with every call until `reset`.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        // At least one millisecond so a retry loop never spins.
        Duration::from_millis(self.rng.u64(0..=millis).max(1))
    }

    fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        for attempt in 0..20 {
            let ceiling =
                Duration::from_millis(100 * (1u64 << attempt.min(4))).min(Duration::from_secs(1));
            let delay = backoff.next_delay();
            assert!(
                delay <= ceiling,
                "attempt {attempt}: {delay:?} > {ceiling:?}"
            );
            assert!(delay >= Duration::from_millis(1));
        }
        backoff.reset();
        assert_eq!(backoff.attempts(), 0);
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
