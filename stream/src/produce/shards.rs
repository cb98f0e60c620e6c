//! Which shard takes a partition key: Kinesis hashes the key with MD5 and the open shard whose
//! hash key range holds that 128-bit number takes the record. Predicting it lets the producer
//! hold each shard to its own write budget before sending.

use crate::kinesis::ShardRange;
use md5::{Digest, Md5};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardMap {
    /// Open shards sorted by the start of their range.
    shards: Vec<ShardRange>,
}

/// The hash key of a partition key.
pub fn hash_key(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest);
    u128::from_be_bytes(bytes)
}

impl ShardMap {
    pub fn new(mut shards: Vec<ShardRange>) -> Self {
        shards.sort_by_key(|s| s.start);
        Self { shards }
    }

    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.shards.iter().map(|s| s.id.as_str())
    }

    /// The shard whose range holds the key's hash. Open shards cover the whole key space; should a
    /// listing taken mid-reshard leave a gap, the nearest shard below is used (the response's
    /// shard id then tells the truth and the map is refreshed).
    pub fn shard_for(&self, partition_key: &str) -> Option<&str> {
        let hash = hash_key(partition_key);
        let after = self.shards.partition_point(|s| s.start <= hash);
        self.shards
            .get(after.saturating_sub(1))
            .map(|s| s.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(id: &str, start: u128, end: u128) -> ShardRange {
        ShardRange {
            id: id.into(),
            start,
            end,
        }
    }

    #[test]
    fn md5_hash_key_is_big_endian() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(hash_key(""), 0xd41d8cd98f00b204e9800998ecf8427e);
    }

    #[test]
    fn key_lands_in_its_range() {
        let half = u128::MAX / 2;
        let map = ShardMap::new(vec![range("b", half + 1, u128::MAX), range("a", 0, half)]);
        // md5("") starts with 0xd4: upper half.
        assert_eq!(map.shard_for(""), Some("b"));
        let low = (0..100)
            .map(|n| format!("k{n}"))
            .find(|k| hash_key(k) <= half)
            .expect("some key hashes low");
        assert_eq!(map.shard_for(&low), Some("a"));
        assert_eq!(ShardMap::default().shard_for("x"), None);
    }
}
