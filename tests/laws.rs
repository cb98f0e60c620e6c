//! Property tests of the laws in SPEC §4–§5:
//! - normalize is idempotent (and a second pass reports no change);
//! - `apply_update(saved, diff(saved, desired).update).value == normalize(desired).value`;
//! - validation never panics on arbitrary JSON, and never echoes the password.

use kinesis_connector as kc;
use proptest::prelude::*;
use serde_json::{json, Value};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn region() -> impl Strategy<Value = &'static str> {
    prop::sample::select(kc::Region::ALL.iter().map(|r| r.code()).collect::<Vec<_>>())
}

/// A valid connector with the given id.
fn connector(id: &'static str) -> impl Strategy<Value = Value> {
    (
        region(),
        "[a-zA-Z0-9_.-]{1,20}",
        1u32..=300,
        1u64..=2000,
        1u64..=2_000_000,
        prop::option::of("[a-z][a-z0-9_-]{0,10}"),
        any::<bool>(),
        prop::sample::select(vec!["AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"]),
        prop::sample::select(vec![SECRET, "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"]),
    )
        .prop_map(
            move |(region, stream, shards, records, bytes, method, disabled, user, password)| {
                let mut c = json!({
                    "type": "aws-kinesis", "id": id,
                    "credentials": {"user": user, "password": password},
                    "region": region, "stream": stream, "shards": shards,
                    "maxRecordsPerShardPerSecond": records, "maxBytesPerShardPerSecond": bytes,
                    "disabled": disabled,
                });
                if let Some(m) = method {
                    c["dataProcessingMethodId"] = json!(m);
                }
                c
            },
        )
}

/// A connector as a form might send it: padded strings, numbers as strings, odd case.
fn messy(c: Value) -> impl Strategy<Value = Value> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        move |(pad, strings, upper, alias)| {
            let mut c = c.clone();
            let o = c.as_object_mut().expect("object");
            if pad {
                let s = format!("  {} ", o["stream"].as_str().unwrap_or(""));
                o.insert("stream".into(), json!(s));
            }
            if strings {
                let n = o["shards"].to_string();
                o.insert("shards".into(), json!(n));
                let d = o["disabled"].to_string();
                o.insert("disabled".into(), json!(d));
            }
            if upper {
                let r = o["region"].as_str().unwrap_or("").to_uppercase();
                o.insert("region".into(), json!(r));
            }
            if alias {
                if let Some(m) = o.remove("dataProcessingMethodId") {
                    o.insert("dataProcessingMethod".into(), m);
                }
            }
            c
        },
    )
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "aws-kinesis",
            "us-west-2",
            "type",
            "shards",
            "credentials"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "type",
                        "id",
                        "credentials",
                        "user",
                        "password",
                        "region",
                        "stream",
                        "shards",
                        "maxRecordsPerShardPerSecond",
                        "maxBytesPerShardPerSecond",
                        "dataProcessingMethodId",
                        "dataProcessingMethod",
                        "disabled",
                        "strem",
                        "__proto__",
                    ]),
                    inner
                ),
                0..10
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn normalize_is_idempotent(input in connector("dc.kinesis.1").prop_flat_map(messy)) {
        let once = kc::normalize_create(&input);
        let again = kc::normalize_create(&once.value.to_value());
        prop_assert_eq!(&again.value, &once.value);
        prop_assert!(again.changes.is_empty(), "second pass changed {:?}", again.changes);
        let update_once = kc::normalize_update(&input);
        let update_again = kc::normalize_update(&update_once.value.to_value());
        prop_assert_eq!(update_again.value, update_once.value);
    }

    #[test]
    fn normalize_is_idempotent_on_any_json(input in arbitrary_json()) {
        let once = kc::normalize_create(&input);
        let again = kc::normalize_create(&once.value.to_value());
        prop_assert_eq!(again.value, once.value);
    }

    #[test]
    fn applying_the_diff_gives_the_desired_connector(
        saved in connector("dc.kinesis.1"),
        desired in connector("dc.kinesis.1").prop_flat_map(messy),
    ) {
        prop_assert!(kc::validate_create(&saved, &kc::Context::default()).valid);
        let d = kc::diff(&saved, &desired);
        prop_assert!(d.valid, "diff errors: {:?}", d.errors);
        prop_assert_ne!(d.action, kc::DiffAction::Replace);
        let update = serde_json::to_value(&d.update).expect("serializes");
        let applied = kc::apply_update(&saved, &update);
        let normalized = kc::normalize_create(&desired).value.to_value();
        if d.action == kc::DiffAction::None {
            prop_assert!(d.changes.is_empty());
        }
        prop_assert!(applied.valid, "apply errors: {:?}", applied.errors);
        prop_assert_eq!(serde_json::to_value(applied.value).expect("serializes"), normalized);
    }

    #[test]
    fn any_json_gives_a_result_and_never_the_password(input in arbitrary_json(), saved in connector("dc.kinesis.1")) {
        let ctx = kc::Context { current: Some(saved.clone()), ..kc::Context::default() };
        for result in [
            serde_json::to_value(kc::validate_create(&input, &kc::Context::default())),
            serde_json::to_value(kc::validate_update(&input, &ctx)),
            serde_json::to_value(kc::normalize_update(&input)),
        ] {
            let result = result.expect("serializes");
            prop_assert!(result.is_object());
        }
        let d = serde_json::to_value(kc::diff(&saved, &input)).expect("serializes");
        prop_assert!(!d["errors"].to_string().contains(SECRET));
        prop_assert!(!d["changes"].to_string().contains(SECRET));
    }

    /// validate_update with the saved secret in `current` (and diff with a context) never
    /// shows that secret in an issue, whatever the update and whatever else the saved holds.
    #[test]
    fn validate_update_never_shows_the_saved_password(
        input in arbitrary_json(),
        saved in connector("dc.kinesis.1"),
        saved_noise in arbitrary_json(),
    ) {
        let password = saved["credentials"]["password"].as_str().unwrap_or(SECRET).to_string();
        let mut broken = saved.clone();
        broken["stream"] = saved_noise.clone();
        broken["credentials"]["extra"] = json!(password);
        for current in [saved.clone(), broken] {
            let ctx = kc::Context { current: Some(current.clone()), ..kc::Context::default() };
            let result = kc::validate_update(&input, &ctx);
            for issue in result.errors.iter().chain(&result.warnings) {
                let shown = serde_json::to_string(issue).expect("serializes");
                prop_assert!(!shown.contains(&password), "{}", shown);
            }
            let d = kc::diff_in(&current, &input, &json!({"existingIds": ["dc.kinesis.1"], "methods": ["m"]}));
            for issue in d.errors.iter().chain(&d.warnings) {
                let shown = serde_json::to_string(issue).expect("serializes");
                prop_assert!(!shown.contains(&password), "{}", shown);
            }
        }
    }
}

/// The same law over updates chosen to make the saved connector's issues surface.
#[test]
fn validate_update_with_a_saved_secret_reports_none_of_it() {
    let secrets = [
        SECRET,
        "short secret!",
        "zq9-secret",
        "AKIAIOSFODNN7EXAMPLE",
    ];
    let updates = [
        json!({"shards": 2}),
        json!({"shards": "two", "region": "mars", "extra": 1}),
        json!({"credentials": {"user": "AKIAI44QH8DHBEXAMPLE"}}),
        json!({"credentials": {"password": 5}}),
        json!({"id": "other", "type": "x"}),
        json!({}),
    ];
    for secret in secrets {
        let good = json!({
            "type": "aws-kinesis", "id": "dc.kinesis.1",
            "credentials": {"user": "AKIAIOSFODNN7EXAMPLE", "password": secret},
            "region": "us-west-2", "stream": "s", "shards": 1,
            "maxRecordsPerShardPerSecond": 1, "maxBytesPerShardPerSecond": 1,
        });
        let mut bad = good.clone();
        bad["stream"] = json!("bad stream");
        bad["credentials"]["user"] = json!("short");
        bad["credentials"]["password"] = json!([secret]);
        bad["credentials"]["extra"] = json!(secret);
        for current in [&good, &bad] {
            for update in &updates {
                let ctx = kc::Context {
                    current: Some(current.clone()),
                    ..kc::Context::default()
                };
                let result = kc::validate_update(update, &ctx);
                let text = kc::validate_update_json(&update.to_string(), &ctx);
                for issue in result
                    .errors
                    .iter()
                    .chain(&result.warnings)
                    .chain(&text.errors)
                    .chain(&text.warnings)
                {
                    let shown = serde_json::to_string(issue).expect("serializes");
                    assert!(!shown.contains(secret), "{update} over {current}: {shown}");
                }
            }
        }
    }
}
