//! The exported JSON Schemas agree with the Rust validator on every structural rule, over the
//! shared fixture corpus (checked with the `jsonschema` crate).

#[allow(dead_code, reason = "only the corpus loader and runner are used here")]
mod common;

use serde_json::Value;

/// Rules the schema cannot state: they need the app, the saved connector, or the raw text.
const NOT_STRUCTURAL: &[&str] = &[
    "id.duplicate",
    "app.connector_limit",
    "dataProcessingMethodId.unknown",
    "dataProcessingMethodId.conflict",
    "update.immutable",
    "input.duplicate_key",
    "input.syntax",
    "context.invalid",
];

#[test]
fn schemas_are_valid_draft_2020_12() {
    for schema in [
        kinesis_connector::create_schema(),
        kinesis_connector::update_schema(),
    ] {
        jsonschema::draft202012::meta::validate(&schema).expect("a valid 2020-12 schema");
    }
}

#[test]
fn schema_and_validator_agree_on_the_corpus() {
    let create = jsonschema::draft202012::new(&kinesis_connector::create_schema())
        .expect("create schema compiles");
    let update = jsonschema::draft202012::new(&kinesis_connector::update_schema())
        .expect("update schema compiles");
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for (file, case) in common::load_cases() {
        let op = case["op"].as_str().unwrap_or("");
        let validator = match op {
            "validateCreate" | "validateCreateJson" => &create,
            "validateUpdate" | "validateUpdateJson" => &update,
            _ => continue,
        };
        // Context-dependent cases (current, existing ids, methods) are not structural.
        if case.get("context").is_some_and(|c| !c.is_null()) {
            continue;
        }
        let instance: Value = match case.get("text").and_then(Value::as_str) {
            Some(text) => match serde_json::from_str(text) {
                Ok(v) => v,
                Err(_) => continue, // not JSON (or nested past serde_json's limit): nothing to compare
            },
            None => case["input"].clone(),
        };
        let result = common::run(&case);
        let codes: Vec<&str> = result["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["code"].as_str())
            .collect();
        if codes.iter().any(|c| NOT_STRUCTURAL.contains(c)) {
            continue;
        }
        compared += 1;
        let rust_valid = result["valid"].as_bool().unwrap_or(false);
        let schema_valid = validator.is_valid(&instance);
        if rust_valid != schema_valid {
            disagreements.push(format!(
                "{file}: {}: validator says {rust_valid} ({codes:?}), schema says {schema_valid}",
                case["name"].as_str().unwrap_or("?")
            ));
        }
    }
    assert!(compared >= 200, "only {compared} cases compared");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
