//! The 20 regions the platform accepts (from the seed), and "did you mean" matching.

use serde::{Deserialize, Serialize};

macro_rules! regions {
    ($($variant:ident = $code:literal, $name:literal, $quota:literal;)*) => {
        /// An AWS region the platform's Kinesis connector accepts.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum Region {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl Region {
            pub const ALL: &'static [Region] = &[$(Region::$variant,)*];

            /// The region code, e.g. `us-west-2`.
            pub const fn code(self) -> &'static str {
                match self { $(Region::$variant => $code,)* }
            }

            /// The display name from the seed, e.g. `US West (Oregon)`.
            pub fn name(self) -> &'static str {
                match self { $(Region::$variant => $name,)* }
            }

            /// The default Kinesis shard quota of an account in this region.
            pub fn default_shard_quota(self) -> u32 {
                match self { $(Region::$variant => $quota,)* }
            }

            // A loop over the codes, not a `match` on the text: the match compiled to 1 KB
            // of comparisons at every place it was inlined. Each code is compared as one
            // 128-bit number (every code is at most 15 bytes), not by a call to memcmp.
            pub fn from_code(code: &str) -> Option<Region> {
                let key = packed(code.as_bytes())?;
                let at = PACKED_CODES.iter().position(|&c| c == key)?;
                Some(Region::ALL[at])
            }
        }
    };
}

regions! {
    UsGovWest1 = "us-gov-west-1", "AWS GovCloud (US)", 200;
    UsGovEast1 = "us-gov-east-1", "AWS GovCloud (US-East)", 200;
    UsEast1 = "us-east-1", "US East (N. Virginia)", 500;
    UsEast2 = "us-east-2", "US East (Ohio)", 200;
    UsWest1 = "us-west-1", "US West (N. California)", 200;
    UsWest2 = "us-west-2", "US West (Oregon)", 500;
    EuWest1 = "eu-west-1", "EU (Ireland)", 500;
    EuWest2 = "eu-west-2", "EU (London)", 200;
    EuWest3 = "eu-west-3", "EU (Paris)", 200;
    EuCentral1 = "eu-central-1", "EU (Frankfurt)", 200;
    EuNorth1 = "eu-north-1", "EU (Stockholm)", 200;
    ApSouth1 = "ap-south-1", "Asia Pacific (Mumbai)", 200;
    ApSoutheast1 = "ap-southeast-1", "Asia Pacific (Singapore)", 200;
    ApSoutheast2 = "ap-southeast-2", "Asia Pacific (Sydney)", 200;
    ApNortheast1 = "ap-northeast-1", "Asia Pacific (Tokyo)", 200;
    ApNortheast2 = "ap-northeast-2", "Asia Pacific (Seoul)", 200;
    SaEast1 = "sa-east-1", "South America (Sao Paulo)", 200;
    CnNorth1 = "cn-north-1", "China (Beijing)", 200;
    CnNorthwest1 = "cn-northwest-1", "China (Ningxia)", 200;
    CaCentral1 = "ca-central-1", "Canada (Central)", 200;
}

/// A text of at most 15 bytes as one number: its bytes, zero-padded, and its length in the
/// last byte (so `"a"` and `"a\0"` differ); `None` when longer.
const fn packed(bytes: &[u8]) -> Option<u128> {
    if bytes.len() > 15 {
        return None;
    }
    let mut word = [0u8; 16];
    let mut i = 0;
    while i < bytes.len() {
        word[i] = bytes[i];
        i += 1;
    }
    word[15] = bytes.len() as u8;
    Some(u128::from_le_bytes(word))
}

/// [`Region::ALL`]'s codes, [`packed`].
const PACKED_CODES: [u128; Region::ALL.len()] = {
    let mut codes = [0u128; Region::ALL.len()];
    let mut i = 0;
    while i < Region::ALL.len() {
        codes[i] = match packed(Region::ALL[i].code().as_bytes()) {
            Some(code) => code,
            None => panic!("a region code is longer than 15 bytes"),
        };
        i += 1;
    }
    codes
};

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The closest region to something that is not a region code: a differently written code
/// (`US_WEST_2`, `us-west2`), a display name (`Oregon`), or a small typo.
pub fn suggest_region(input: &str) -> Option<Region> {
    if input.chars().count() > 64 {
        return None;
    }
    let mut buf = [0u8; 64];
    let squashed = squash_into(input, &mut buf);
    if squashed.is_empty() {
        return None;
    }
    if let Some(r) = Region::ALL.iter().find(|r| squashed_eq(r.code(), squashed)) {
        return Some(*r);
    }
    if squashed.len() >= 4 {
        let mut by_name = Region::ALL.iter().copied().filter(|r| {
            let mut name = [0u8; 64];
            has_part(squash_into(r.name(), &mut name), squashed)
        });
        if let (Some(only), None) = (by_name.next(), by_name.next()) {
            return Some(only);
        }
    }
    closest(input, Region::ALL.iter().map(|r| (r.code(), *r)), 2)
}

/// `haystack` contains `needle` (bytes; no substring-search machinery in the wasm build).
pub(crate) fn has_part(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len().max(1)).any(|w| w == needle)
}

fn squashed_chars(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
}

/// Lower-case ASCII alphanumerics only: `US_West-2` and `uswest2` compare equal.
pub fn squash(s: &str) -> String {
    squashed_chars(s).map(char::from).collect()
}

/// [`squash`] into a stack buffer, keeping the first 64 bytes.
pub(crate) fn squash_into<'b>(s: &str, buf: &'b mut [u8; 64]) -> &'b [u8] {
    let mut n = 0;
    for (slot, c) in buf.iter_mut().zip(squashed_chars(s)) {
        *slot = c;
        n += 1;
    }
    &buf[..n]
}

/// `squash(s) == squashed`, without building the string.
pub(crate) fn squashed_eq(s: &str, squashed: &[u8]) -> bool {
    squashed_chars(s).eq(squashed.iter().copied())
}

/// `squash(s)` starts with `squashed` or `squashed` starts with it, without building the
/// string: one walk of both that stops at the first difference.
pub(crate) fn squashed_prefix(s: &str, squashed: &[u8]) -> bool {
    let mut mine = squashed_chars(s);
    let mut theirs = squashed.iter().copied();
    loop {
        match (mine.next(), theirs.next()) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => return false,
            _ => return true,
        }
    }
}

/// The candidate nearest to `input` (case-insensitive optimal string alignment distance) when
/// it is within `max_distance` and unambiguous.
pub fn closest<'c, T: Copy>(
    input: &str,
    candidates: impl Iterator<Item = (&'c str, T)>,
    max_distance: usize,
) -> Option<T> {
    let mut input_buf = Chars::new();
    let input = input_buf.fill(input);
    let mut text_buf = Chars::new();
    let mut best: Option<(usize, T)> = None;
    let mut tie = false;
    for (text, value) in candidates {
        // Candidates further than `max_distance` can neither win nor tie with a winner.
        if text.chars().count().abs_diff(input.len()) > max_distance {
            continue;
        }
        let Some(d) = osa_within(input, text_buf.fill(text), max_distance) else {
            continue;
        };
        match best {
            Some((bd, _)) if d > bd => {}
            Some((bd, _)) if d == bd => tie = true,
            _ => {
                best = Some((d, value));
                tie = false;
            }
        }
    }
    match best {
        Some((_, value)) if !tie => Some(value),
        _ => None,
    }
}

/// The optimal string alignment distance (Levenshtein plus adjacent transpositions, ASCII
/// case-insensitive) when it is at most `max`, else `None`.
#[cfg(test)]
pub fn distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let (mut a_buf, mut b_buf) = (Chars::new(), Chars::new());
    osa_within(a_buf.fill(a), b_buf.fill(b), max)
}

const SHORT: usize = 64;

/// The ASCII-lower-cased characters of a string: on the stack up to 64, else on the heap.
struct Chars {
    short: [char; SHORT],
    long: Vec<char>,
}

impl Chars {
    fn new() -> Self {
        Self {
            short: ['\0'; SHORT],
            long: Vec::new(),
        }
    }

    fn fill(&mut self, s: &str) -> &[char] {
        let mut n = 0;
        for c in s.chars().map(|c| c.to_ascii_lowercase()) {
            let Some(slot) = self.short.get_mut(n) else {
                self.long = s.chars().map(|c| c.to_ascii_lowercase()).collect();
                return &self.long;
            };
            *slot = c;
            n += 1;
        }
        &self.short[..n]
    }
}

/// Whether the bag distance of `a` and `b` (the larger of the two multiset differences of
/// their characters) is above `max`. No edit changes it by more than one (a transposition not
/// at all), so it is a lower bound of the distance: a candidate past `max` by it needs no
/// table. Only for ASCII characters (a count per code); `false` when either has another.
fn bag_distance_above(a: &[char], b: &[char], max: usize) -> bool {
    let mut counts = [0i32; 128];
    let (mut only_a, mut only_b) = (0usize, 0usize);
    for &c in a {
        let Some(count) = counts.get_mut(c as usize) else {
            return false;
        };
        *count += 1;
        only_a += 1;
    }
    for &c in b {
        let Some(count) = counts.get_mut(c as usize) else {
            return false;
        };
        if *count > 0 {
            only_a -= 1;
        } else {
            only_b += 1;
        }
        *count -= 1;
    }
    only_a.max(only_b) > max
}

/// The distance of `a` and `b` when it is at most `max` (decided early where it can be).
fn osa_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if bag_distance_above(a, b, max) {
        return None;
    }
    let width = b.len() + 1;
    let mut small = [0usize; 3 * (SHORT + 1)];
    let mut large: Vec<usize>;
    let rows: &mut [usize] = if width <= SHORT + 1 {
        &mut small[..3 * width]
    } else {
        large = vec![0; 3 * width];
        &mut large
    };
    // rows[r * width + j] for the rows i - 2, i - 1 and i, by i % 3.
    for (j, cell) in rows.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    let (mut prev2, mut prev, mut cur) = (2 * width, 0, width);
    for i in 1..=a.len() {
        rows[cur] = i;
        let mut row_min = i;
        let ai = a[i - 1];
        for j in 1..=b.len() {
            let cost = usize::from(ai != b[j - 1]);
            let mut d = (rows[prev + j] + 1)
                .min(rows[cur + j - 1] + 1)
                .min(rows[prev + j - 1] + cost);
            if i > 1 && j > 1 && ai == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[prev2 + j - 2] + 1);
            }
            rows[cur + j] = d;
            row_min = row_min.min(d);
        }
        // Every later cell descends from this row (directly, or through the row before it by a
        // transposition, which adds one): past `max` in both means past it at the end.
        if row_min > max && rows[prev..prev + width].iter().all(|&d| d > max) {
            return None;
        }
        (prev2, prev, cur) = (prev, cur, prev2);
    }
    let d = rows[prev + b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_regions_round_trip() {
        assert_eq!(Region::ALL.len(), 20);
        for r in Region::ALL {
            assert_eq!(Region::from_code(r.code()), Some(*r));
        }
        // Only the exact code: not a prefix, an extension, a zero byte more, another case.
        for near in [
            "us-west-",
            "us-west-22",
            "us-west-2\0",
            "\0us-west-2",
            "US-WEST-2",
            "",
            "a-very-long-code-x",
        ] {
            assert_eq!(Region::from_code(near), None, "{near:?}");
        }
        assert_eq!(Region::UsWest2.name(), "US West (Oregon)");
    }

    #[test]
    fn squashed_prefix_is_a_prefix_either_way() {
        let words = [
            "", "a", "ab", "A-b", "abc", "b", "shards", "sha", "SHARDS_x", "régïon", "re", "x-y",
        ];
        for s in words {
            for t in words {
                let (a, b) = (squash(s), squash(t));
                let expected = a.starts_with(&b) || b.starts_with(&a);
                assert_eq!(squashed_prefix(s, b.as_bytes()), expected, "{s:?} {t:?}");
            }
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_region("us-west2"), Some(Region::UsWest2));
        assert_eq!(suggest_region("US_WEST_2"), Some(Region::UsWest2));
        assert_eq!(suggest_region("Oregon"), Some(Region::UsWest2));
        assert_eq!(suggest_region("eu-cnetral-1"), Some(Region::EuCentral1));
        assert_eq!(suggest_region("mars-north-9"), None);
    }

    /// The straightforward full-matrix distance, to check the bounded one against.
    fn reference(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.to_ascii_lowercase().chars().collect();
        let b: Vec<char> = b.to_ascii_lowercase().chars().collect();
        let w = b.len() + 1;
        let mut m = vec![0usize; w * (a.len() + 1)];
        for (j, cell) in m.iter_mut().enumerate().take(w) {
            *cell = j;
        }
        for i in 1..=a.len() {
            m[i * w] = i;
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut d = (m[(i - 1) * w + j] + 1)
                    .min(m[i * w + j - 1] + 1)
                    .min(m[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d = d.min(m[(i - 2) * w + j - 2] + 1);
                }
                m[i * w + j] = d;
            }
        }
        m[a.len() * w + b.len()]
    }

    #[test]
    fn bounded_distance_agrees_with_the_full_matrix() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "shards",
            "shrads",
            "SHARDS",
            "stream",
            "streams",
            "regoin",
            "region",
            "us-west-2",
            "us-west2",
            "uswest-2",
            "eu-central-1",
            "eu-cnetral-1",
            "maxRecordsPerShardPerSecond",
            "maxBytesPerShardPerSecond",
            "dataProcessingMethodId",
            "dataProcesingMethodID",
            "é-région",
            "ÉTÉ",
            "été",
            "ab\u{1F600}cd",
            "a fairly long key that is past sixty-four characters, so it takes the heap path",
            "a fairly long key that is past sixty-four characters, so it takes the heap paths",
        ];
        for a in words {
            for b in words {
                let full = reference(a, b);
                assert_eq!(distance_within(a, b, usize::MAX), Some(full), "{a:?} {b:?}");
                for max in 0..5 {
                    let want = (full <= max).then_some(full);
                    assert_eq!(distance_within(a, b, max), want, "{a:?} {b:?} {max}");
                }
            }
        }
        // Short words of a small alphabet: many pairs near each other, where a lower bound
        // that cut too much would show.
        let mut seed = 0x9e37_79b9_u32;
        let mut word = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (0..seed % 7)
                .map(|i| ['a', 'b', 'c', 'B'][((seed >> (2 * i + 3)) % 4) as usize])
                .collect::<String>()
        };
        for _ in 0..3000 {
            let (a, b) = (word(), word());
            let full = reference(&a, &b);
            for max in 0..4 {
                assert_eq!(
                    distance_within(&a, &b, max),
                    (full <= max).then_some(full),
                    "{a:?} {b:?} {max}"
                );
            }
        }
    }
}
