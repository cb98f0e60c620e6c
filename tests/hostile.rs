//! The hostile-input corpus (tests/hostile/cases.json, shared with the npm package's and the
//! CLI's tests) through the core: every case gives its verdict and its issues, never a panic.

#[path = "hostile/corpus.rs"]
mod corpus;

use corpus::Case;
use kinesis_connector::{validate_create, validate_create_json, Context, Issue};
use serde_json::Value;

fn check(case: &Case, what: &str, valid: bool, errors: &[Issue], warnings: &[Issue]) {
    let seen: Vec<String> = errors
        .iter()
        .chain(warnings)
        .map(|i| i.code.to_string())
        .collect();
    assert_eq!(
        valid, case.valid,
        "{}: {what}: verdict ({seen:?})",
        case.name
    );
    for code in &case.codes {
        assert!(
            seen.contains(code),
            "{}: {what}: no {code} in {seen:?}",
            case.name
        );
    }
    for issue in errors.iter().chain(warnings) {
        assert!(!issue.message.is_empty(), "{}: {what}", case.name);
        // An issue that quotes the input stays short, whatever the input's size.
        assert!(
            issue.message.len() < 1000,
            "{}: {what}: a {}-byte message",
            case.name,
            issue.message.len()
        );
        assert_ne!(
            issue.code.to_string(),
            "input.internal",
            "{}: {what}",
            case.name
        );
    }
}

#[test]
fn every_case_gives_its_issues() {
    let cases = corpus::cases(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/hostile/cases.json"
    ));
    assert!(cases.len() >= 20, "the corpus lost cases");
    for case in cases.iter().filter(|c| c.on("core")) {
        let text = std::str::from_utf8(&case.bytes)
            .unwrap_or_else(|e| panic!("{}: a core case must be UTF-8: {e}", case.name));
        let r = validate_create_json(text, &Context::default());
        check(case, "text", r.valid, &r.errors, &r.warnings);
        // As a value too, where serde_json can read it (it refuses deep nesting, 1E400, ...).
        // (duplicate keys are gone in a value, so only the shape of the result is checked).
        if let Ok(value) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
            let r = validate_create(&value, &Context::default());
            assert_eq!(r.valid, r.errors.is_empty(), "{}: value", case.name);
            for issue in r.errors.iter().chain(&r.warnings) {
                assert!(
                    issue.message.len() < 1000,
                    "{}: value: a long message",
                    case.name
                );
            }
        }
    }
}
