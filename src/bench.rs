//! Native timing of what a `validateCreateJson` export does in the wasm (parse, check, build the
//! result, encode the compact table), on the package benchmark's corpus. A test, so it needs no
//! extra target; the numbers mean something only in a release build:
//!
//! ```text
//! node bench/js/bench.mjs --dump-corpus /tmp/corpus.txt
//! KC_BENCH_CORPUS=/tmp/corpus.txt cargo test --release --lib bench -- --nocapture
//! ```
//!
//! Without `KC_BENCH_CORPUS` it times the two example connectors for a few rounds, so the test
//! still checks that the path it times answers as the package expects.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::Instant;

use crate::issues::Issues;
use crate::validate::Ctx;

/// One validation as `wasm.rs` runs it for `validateCreateJson` without a context.
fn validate_json(text: &str) -> (bool, bool) {
    let mut issues = Issues::default();
    let root = crate::parse(text, &mut issues);
    let result = match &root {
        Some(node) => crate::create(node, &Ctx::default(), &mut issues),
        None => crate::finish::<crate::Connector>(issues, None),
    };
    let compact = crate::compact::validation(text, root.as_ref(), &result).is_some();
    (result.valid, compact)
}

/// Median ns per text over `rounds` rounds of `reps` passes.
fn time(texts: &[String], rounds: usize, reps: usize) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                for text in texts {
                    std::hint::black_box(validate_json(std::hint::black_box(text)));
                }
            }
            start.elapsed().as_nanos() as f64 / (reps * texts.len()) as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[test]
fn bench_validate_create_json() {
    let (texts, rounds, reps) = match std::env::var("KC_BENCH_CORPUS") {
        Ok(path) => {
            let all = std::fs::read_to_string(path).unwrap();
            // KC_BENCH_REPS: fewer passes, for callgrind.
            let reps = std::env::var("KC_BENCH_REPS")
                .ok()
                .and_then(|r| r.parse().ok());
            (
                all.lines().map(str::to_owned).collect::<Vec<_>>(),
                9,
                reps.unwrap_or(2000),
            )
        }
        Err(_) => (
            vec![
                include_str!("../examples/connector.json").to_owned(),
                include_str!("../examples/connector-invalid.json").to_owned(),
            ],
            3,
            10,
        ),
    };
    let (valid, invalid): (Vec<String>, Vec<String>) =
        texts.into_iter().partition(|text| validate_json(text).0);
    assert!(!valid.is_empty() && !invalid.is_empty());
    // The package's fast path: every result of the corpus goes as a compact table.
    assert!(valid
        .iter()
        .chain(&invalid)
        .all(|text| validate_json(text).1));
    let valid_ns = time(&valid, rounds, reps);
    let invalid_ns = time(&invalid, rounds, reps);
    println!(
        "native validateCreateJson: valid {:.3} us ({} texts), invalid {:.3} us ({} texts)",
        valid_ns / 1000.0,
        valid.len(),
        invalid_ns / 1000.0,
        invalid.len()
    );
}
