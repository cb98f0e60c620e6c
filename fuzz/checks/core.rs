//! What must hold for any input, checked by the fuzz targets (fuzz/fuzz_targets/) and, on every
//! kept corpus and crash input, by the ordinary test suite (tests/fuzz_regressions.rs).

use super::gen::{Gen, CANARY};
use kinesis_connector::{
    apply_update, diff, diff_in, locate, normalize_create, normalize_update, validate_create,
    validate_create_in, validate_create_json, validate_update, validate_update_in,
    validate_update_json, Context, DiffAction, Issue, Severity, ValidationResult,
};
use serde_json::Value;

fn issue_ok(issue: &Issue, what: &str) {
    let p = &issue.path;
    assert!(
        p.is_empty() || p.starts_with('/'),
        "{what}: bad pointer {p:?}"
    );
    assert!(
        !issue.message.is_empty(),
        "{what}: empty message for {}",
        issue.code
    );
    assert_eq!(
        issue.severity,
        issue.code.severity(),
        "{what}: {}",
        issue.code
    );
    assert!(
        !issue.code.as_str().starts_with("input.internal"),
        "{what}: internal issue {}",
        issue.message
    );
    let shown = format!("{} {:?}", issue.message, issue.params);
    assert!(
        !shown.contains(CANARY),
        "{what}: the secret is echoed: {shown}"
    );
}

fn result_ok<T>(r: &ValidationResult<T>, what: &str) {
    assert_eq!(
        r.valid,
        r.errors.is_empty(),
        "{what}: valid disagrees with errors"
    );
    assert_eq!(
        r.valid,
        r.value.is_some(),
        "{what}: valid disagrees with value"
    );
    for i in &r.errors {
        issue_ok(i, what);
        assert_eq!(
            i.severity,
            Severity::Error,
            "{what}: {} among errors",
            i.code
        );
    }
    for i in &r.warnings {
        issue_ok(i, what);
        assert_eq!(
            i.severity,
            Severity::Warning,
            "{what}: {} among warnings",
            i.code
        );
    }
}

fn codes<T>(r: &ValidationResult<T>) -> Vec<(String, String)> {
    r.errors
        .iter()
        .chain(&r.warnings)
        .map(|i| (i.code.to_string(), i.path.clone()))
        .collect()
}

/// JSON text, as the CLI and `validateCreateJson` receive it.
pub fn text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ctx = Context::default();
    let create = validate_create_json(&text, &ctx);
    result_ok(&create, "validate_create_json");
    let update = validate_update_json(&text, &ctx);
    result_ok(&update, "validate_update_json");
    for issue in create.errors.iter().chain(&update.errors) {
        if let Some((line, column)) = locate(&text, &issue.path) {
            assert!(line >= 1 && column >= 1, "locate gave {line}:{column}");
            assert!(
                line <= text.split('\n').count(),
                "locate past the end: line {line}"
            );
        }
    }
    // Text the validator accepts is JSON: the same document as a value must agree.
    // (A byte order mark is skipped by the validator, as RFC 8259 allows; serde_json refuses it.)
    if let Ok(value) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
        let by_value = validate_create(&value, &ctx);
        result_ok(&by_value, "validate_create (from text)");
        if create.valid {
            assert!(
                by_value.valid,
                "text valid, value invalid: {:?}",
                codes(&by_value)
            );
            assert_eq!(create.value, by_value.value, "text and value disagree");
        }
        // Arbitrary bytes through the other functions too, wherever they are JSON.
        for n in [normalize_create(&value), normalize_update(&value)] {
            assert!(n
                .changes
                .iter()
                .all(|c| c.path.is_empty() || c.path.starts_with('/')));
        }
        let same = diff(&value, &value);
        assert_eq!(same.valid, same.errors.is_empty(), "diff(v, v)");
        if create.valid {
            assert!(
                same.changes.is_empty(),
                "diff(v, v) changed: {:?}",
                same.changes
            );
        }
        result_ok(&apply_update(&value, &value), "apply_update(v, v)");
    } else {
        assert!(
            !create.valid,
            "validate_create_json accepted what serde_json rejects"
        );
    }
}

/// Structured values through every function of the API.
pub fn values(data: &[u8]) {
    let mut g = Gen::new(data);
    let a = if g.below(3) == 0 {
        g.value(0)
    } else {
        g.connector(0)
    };
    let b = if g.below(3) == 0 {
        g.value(0)
    } else {
        g.connector(0)
    };
    let raw_context = if g.below(2) == 0 {
        g.value(1)
    } else {
        Value::Null
    };
    let ctx = Context::default();

    let create = validate_create(&a, &ctx);
    result_ok(&create, "validate_create");
    // The value written as text is read the same way.
    if let Ok(text) = serde_json::to_string(&a) {
        let by_text = validate_create_json(&text, &ctx);
        result_ok(&by_text, "validate_create_json (from value)");
        assert_eq!(
            create.valid,
            by_text.valid,
            "value and text disagree on {text}: {:?} vs {:?}",
            codes(&create),
            codes(&by_text)
        );
        assert_eq!(codes(&create), codes(&by_text), "issues differ for {text}");
    }
    result_ok(&validate_update(&a, &ctx), "validate_update");
    result_ok(&validate_create_in(&a, &raw_context), "validate_create_in");
    result_ok(&validate_update_in(&b, &raw_context), "validate_update_in");
    let with_current = Context {
        current: Some(a.clone()),
        ..Context::default()
    };
    result_ok(
        &validate_update(&b, &with_current),
        "validate_update with current",
    );

    for (n, what) in [
        (normalize_create(&a), "normalize_create"),
        (normalize_update(&b), "normalize_update"),
    ] {
        for change in &n.changes {
            assert!(
                change.path.is_empty() || change.path.starts_with('/'),
                "{what}: {change:?}"
            );
            assert!(
                !change.message.contains(CANARY),
                "{what}: secret in {}",
                change.message
            );
        }
    }
    if let Some(connector) = &create.value {
        // Normalizing is idempotent, and a valid connector stays valid once normalized.
        let once = normalize_create(&a);
        let value = serde_json::to_value(&once.value).unwrap_or_default();
        let twice = normalize_create(&value);
        assert!(
            twice.changes.is_empty(),
            "normalize not idempotent: {:?}",
            twice.changes
        );
        let again = validate_create(&value, &ctx);
        assert!(
            again.valid,
            "normalized connector invalid: {:?}",
            codes(&again)
        );
        // The same connector, but for credentials (normalizing trims a password with spaces
        // around it, which is valid with a warning).
        let strip = |c: &kinesis_connector::Connector| kinesis_connector::Connector {
            credentials: None,
            ..c.clone()
        };
        assert_eq!(
            again.value.as_ref().map(strip),
            Some(strip(connector)),
            "normalizing changed the meaning"
        );
        // A connector compared with itself needs nothing.
        let same = diff(&a, &a);
        assert!(same.valid, "diff(a, a) invalid: {:?}", same.errors);
        assert!(
            same.changes.is_empty(),
            "diff(a, a) changed: {:?}",
            same.changes
        );
        assert_eq!(same.action, DiffAction::None, "diff(a, a) action");
    }

    for (d, what) in [
        (diff(&a, &b), "diff"),
        (diff_in(&a, &b, &raw_context), "diff_in"),
    ] {
        assert_eq!(
            d.valid,
            d.errors.is_empty(),
            "{what}: valid disagrees with errors"
        );
        for i in d.errors.iter().chain(&d.warnings) {
            issue_ok(i, what);
        }
        for c in &d.changes {
            let shown = format!("{c:?}");
            assert!(
                !shown.contains(CANARY),
                "{what}: secret in a change: {shown}"
            );
        }
    }

    let applied = apply_update(&a, &b);
    result_ok(&applied, "apply_update");
    if let Some(merged) = &applied.value {
        let mut value = serde_json::to_value(merged).unwrap_or_default();
        // A saved connector may lack credentials or their password (the platform never returns
        // saved secrets), and so may the merge: the platform keeps the saved ones. Everything
        // else must be valid.
        if let Some(object) = value.as_object_mut() {
            let credentials = object
                .entry("credentials")
                .or_insert_with(|| super::gen::valid_connector()["credentials"].clone());
            if let Some(credentials) = credentials.as_object_mut() {
                credentials
                    .entry("password")
                    .or_insert_with(|| Value::String(CANARY.to_owned()));
            }
        }
        let check = validate_create(&value, &ctx);
        assert!(
            check.valid,
            "apply_update gave an invalid connector: {:?}",
            codes(&check)
        );
    }
}

/// `locate` over any text and pointer (split at the first NUL byte).
pub fn locate_any(data: &[u8]) {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let text = String::from_utf8_lossy(&data[..split]);
    let pointer = String::from_utf8_lossy(data.get(split + 1..).unwrap_or_default());
    if let Some((line, column)) = locate(&text, &pointer) {
        assert!(line >= 1 && column >= 1, "locate gave {line}:{column}");
        assert!(line <= text.split('\n').count(), "line {line} past the end");
    }
}
