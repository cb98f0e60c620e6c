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
            pub fn code(self) -> &'static str {
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

            pub fn from_code(code: &str) -> Option<Region> {
                match code { $($code => Some(Region::$variant),)* _ => None }
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
    let squashed = squash(input);
    if squashed.is_empty() {
        return None;
    }
    if let Some(r) = Region::ALL.iter().find(|r| squash(r.code()) == squashed) {
        return Some(*r);
    }
    if squashed.len() >= 4 {
        let by_name: Vec<Region> = Region::ALL
            .iter()
            .copied()
            .filter(|r| has_part(&squash(r.name()), &squashed))
            .collect();
        if let [only] = by_name[..] {
            return Some(only);
        }
    }
    closest(input, Region::ALL.iter().map(|r| (r.code(), *r)), 2)
}

/// `haystack` contains `needle` (bytes; no substring-search machinery in the wasm build).
pub(crate) fn has_part(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len().max(1))
        .any(|w| w == needle.as_bytes())
}

/// Lower-case alphanumerics only: `US_West-2` and `uswest2` compare equal.
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The candidate nearest to `input` (case-insensitive optimal string alignment distance) when
/// it is within `max_distance` and unambiguous.
pub fn closest<'c, T: Copy>(
    input: &str,
    candidates: impl Iterator<Item = (&'c str, T)>,
    max_distance: usize,
) -> Option<T> {
    let input = input.to_ascii_lowercase();
    let mut best: Option<(usize, T)> = None;
    let mut tie = false;
    for (text, value) in candidates {
        let d = distance(&input, &text.to_ascii_lowercase());
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
        Some((d, value)) if d <= max_distance && !tie => Some(value),
        _ => None,
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; width * (a.len() + 1)];
    for (j, cell) in rows.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = d;
        }
    }
    rows[a.len() * width + b.len()]
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
        assert_eq!(Region::UsWest2.name(), "US West (Oregon)");
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_region("us-west2"), Some(Region::UsWest2));
        assert_eq!(suggest_region("US_WEST_2"), Some(Region::UsWest2));
        assert_eq!(suggest_region("Oregon"), Some(Region::UsWest2));
        assert_eq!(suggest_region("eu-cnetral-1"), Some(Region::EuCentral1));
        assert_eq!(suggest_region("mars-north-9"), None);
    }
}
