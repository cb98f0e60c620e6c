//! Runs the shared fixture corpus (tests/fixtures/*.json) against the Rust API. The Node tests
//! run the same corpus against the npm package (tests/js/fixtures.test.mjs).

mod common;

use common::{check, load_cases, run};
use serde_json::Value;

#[test]
fn fixture_corpus() {
    let cases = load_cases();
    assert!(
        cases.len() >= 150,
        "the corpus has {} cases; it should have at least 150",
        cases.len()
    );
    let mut failures = Vec::new();
    for (file, case) in &cases {
        let got = run(case);
        let problems = check(case, &got);
        if !problems.is_empty() {
            failures.push(format!(
                "{file}: {}\n    {}",
                case["name"].as_str().unwrap_or("?"),
                problems.join("\n    ")
            ));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} fixture cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

#[test]
fn the_password_is_never_echoed() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    for (_, case) in load_cases() {
        let got = run(&case);
        let mut shown = got.clone();
        if let Some(o) = shown.as_object_mut() {
            o.remove("value");
            o.remove("update");
            o.remove("create");
            // The request bodies are the update and create bodies; the rest of each is shown.
            for request in o
                .get_mut("requests")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(r) = request.as_object_mut() {
                    r.remove("body");
                }
            }
        }
        assert!(
            !shown.to_string().contains(secret),
            "{}: password in {}",
            case["name"],
            shown
        );
    }
}
