//! "Caught up": whether every owned shard has reached the tip of the stream, and since when.
//!
//! `--idle-timeout` means a drain is done, so it may only count while every shard the consumer
//! owns is at the tip: its last GetRecords came back empty with `MillisBehindLatest` 0 (a closed
//! shard read to its end is no longer owned). A shard that was just started, whose call failed
//! (throttling, a 5xx, a dropped connection, an expired iterator) or that returned records is
//! not at the tip, and neither is the stream while a shard has ended and the coordinator has not
//! yet listed (and started) its children. Everything here changes only through the events the
//! writer receives, so the writer re-computes its deadline after each one.

use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub(crate) struct TipTracker {
    /// The owned shards; `Some(since)` while at the tip.
    shards: BTreeMap<Arc<str>, Option<Instant>>,
    /// When the last listing that left nothing pending came in; `None` before the first one.
    settled_at: Option<Instant>,
    /// Shards the writer reported finished, and how many of those the coordinator had seen at
    /// its last listing: while the first is ahead, children may be about to start.
    finished_sent: u64,
    finished_seen: u64,
}

impl TipTracker {
    /// The coordinator listed the shards and is about to start `started` (after taking
    /// `finished_seen` finished shards into account).
    pub fn listed(&mut self, started: &[Arc<str>], finished_seen: u64, now: Instant) {
        for shard in started {
            self.shards.entry(Arc::clone(shard)).or_insert(None);
        }
        self.finished_seen = self.finished_seen.max(finished_seen);
        if self.finished_seen >= self.finished_sent {
            self.settled_at = Some(now);
        }
    }

    /// A GetRecords answer for `shard`.
    pub fn page(&mut self, shard: &Arc<str>, at_tip: bool, now: Instant) {
        let state = self.shards.entry(Arc::clone(shard)).or_insert(None);
        if at_tip {
            state.get_or_insert(now);
        } else {
            *state = None;
        }
    }

    /// A call for `shard` failed and is being retried: where the shard stands is unknown.
    pub fn behind(&mut self, shard: &Arc<str>) {
        if let Some(state) = self.shards.get_mut(shard) {
            *state = None;
        }
    }

    /// `shard` is no longer owned (its lease moved): it no longer counts.
    pub fn stopped(&mut self, shard: &str) {
        self.shards.remove(shard);
    }

    /// `shard` was read to its end and reported finished to the coordinator.
    pub fn finished(&mut self, shard: &str) {
        self.shards.remove(shard);
        self.finished_sent += 1;
    }

    /// Since when every owned shard has been at the tip; `None` while one is not (or the
    /// shards were never listed, or children may be about to start).
    pub fn caught_up_since(&self) -> Option<Instant> {
        if self.finished_sent > self.finished_seen {
            return None;
        }
        let mut since = self.settled_at?;
        for state in self.shards.values() {
            since = since.max((*state)?);
        }
        Some(since)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn caught_up_only_once_every_shard_is_at_the_tip() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let mut tip = TipTracker::default();
        assert_eq!(tip.caught_up_since(), None, "never listed");
        tip.listed(&[Arc::clone(&a), Arc::clone(&b)], 0, at(0));
        assert_eq!(tip.caught_up_since(), None, "started, not read");
        tip.page(&a, true, at(1));
        assert_eq!(tip.caught_up_since(), None, "b not at the tip");
        tip.page(&b, false, at(2));
        tip.page(&b, true, at(3));
        tip.page(&a, true, at(4));
        assert_eq!(
            tip.caught_up_since(),
            Some(at(3)),
            "since the last to get there"
        );
        tip.behind(&a);
        assert_eq!(tip.caught_up_since(), None, "a retrying");
        tip.page(&a, true, at(5));
        assert_eq!(tip.caught_up_since(), Some(at(5)));
        // b ends: nothing is caught up until the coordinator has listed after it.
        tip.finished("b");
        assert_eq!(tip.caught_up_since(), None);
        tip.listed(&[], 0, at(6));
        assert_eq!(tip.caught_up_since(), None, "a listing from before b ended");
        let child: Arc<str> = Arc::from("c");
        tip.listed(&[Arc::clone(&child)], 1, at(7));
        assert_eq!(tip.caught_up_since(), None, "the child is not read yet");
        tip.page(&child, true, at(8));
        assert_eq!(tip.caught_up_since(), Some(at(8)));
    }
}
