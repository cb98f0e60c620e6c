//! The offline commands: `validate`, `normalize`, `diff`, `schema`. The core decides; these read
//! the files and print its results.

use super::report::{self, Format};
use crate::cli::{SchemaKind, ValidateArgs};
use crate::error::{Error, Outcome};
use kinesis_connector::Context;
use std::path::Path;

pub fn schema(kind: SchemaKind) -> Result<Outcome, Error> {
    report::out(format_args!("{}", kind.text().trim_end()))?;
    Ok(Outcome::Ok)
}

pub fn validate(args: ValidateArgs) -> Result<Outcome, Error> {
    let ValidateArgs {
        file,
        update,
        current,
        existing_ids,
        methods,
        format,
    } = args;
    let input = match report::read_document(&file, format)? {
        Ok(input) => input,
        Err(outcome) => return Ok(outcome),
    };
    let current = match current {
        Some(path) => {
            let saved = match report::read_document(&path, format)? {
                Ok(input) => input,
                Err(outcome) => return Ok(outcome),
            };
            match report::parse_json(&saved) {
                Ok(value) => Some(value),
                Err(issue) => return report::report_syntax(&saved, issue, format),
            }
        }
        None => None,
    };
    let context = Context {
        current,
        existing_ids,
        methods,
    };
    // The typed results print with the package's key order.
    let (valid, errors, warnings) = if update {
        let r = kinesis_connector::validate_update_json(&input.text, &context);
        if format == Format::Json {
            report::print_json(&r)?;
        }
        (r.valid, r.errors, r.warnings)
    } else {
        let r = kinesis_connector::validate_create_json(&input.text, &context);
        if format == Format::Json {
            report::print_json(&r)?;
        }
        (r.valid, r.errors, r.warnings)
    };
    if format == Format::Human {
        report::print_issues(Some(&input), &errors, &warnings);
        let verdict = if valid { "valid" } else { "invalid" };
        eprintln!(
            "{}: {verdict} ({} errors, {} warnings)",
            input.name,
            errors.len(),
            warnings.len()
        );
    }
    Ok(verdict(valid))
}

pub fn normalize(file: &Path, update: bool, format: Format) -> Result<Outcome, Error> {
    let input = match report::read_document(file, format)? {
        Ok(input) => input,
        Err(outcome) => return Ok(outcome),
    };
    let value = match report::parse_json(&input) {
        Ok(value) => value,
        Err(issue) => return report::report_syntax(&input, issue, format),
    };
    let result = if update {
        kinesis_connector::normalize_update(&value)
    } else {
        kinesis_connector::normalize_create(&value)
    };
    match format {
        Format::Json => report::print_json(&result)?,
        Format::Human => {
            report::print_json(&result.value)?;
            for change in &result.changes {
                eprintln!(
                    "{}: {} {}",
                    input.name,
                    if change.path.is_empty() {
                        "/"
                    } else {
                        &change.path
                    },
                    change.message
                );
            }
        }
    }
    Ok(Outcome::Ok)
}

pub fn diff(saved: &Path, desired: &Path, format: Format) -> Result<Outcome, Error> {
    let saved_input = match report::read_document(saved, format)? {
        Ok(input) => input,
        Err(outcome) => return Ok(outcome),
    };
    let desired_input = match report::read_document(desired, format)? {
        Ok(input) => input,
        Err(outcome) => return Ok(outcome),
    };
    let saved = match report::parse_json(&saved_input) {
        Ok(value) => value,
        Err(issue) => return report::report_syntax(&saved_input, issue, format),
    };
    let desired = match report::parse_json(&desired_input) {
        Ok(value) => value,
        Err(issue) => return report::report_syntax(&desired_input, issue, format),
    };
    let result = kinesis_connector::diff(&saved, &desired);
    match format {
        Format::Json => report::print_json(&result)?,
        Format::Human => {
            report::print_issues(None, &result.errors, &result.warnings);
            let action = wire(&result.action);
            report::out(format_args!("action: {}", action.as_str().unwrap_or("?")))?;
            for change in &result.changes {
                let effect = wire(&change.effect);
                let show = |v: &Option<kinesis_connector::FieldValue>| match v {
                    Some(v) => serde_json::to_string(v).unwrap_or_default(),
                    None => "-".to_owned(),
                };
                report::out(format_args!(
                    "  {} {}: {} -> {} ({})",
                    change.path,
                    wire(&change.kind).as_str().unwrap_or("?"),
                    show(&change.before),
                    show(&change.after),
                    effect.get("kind").and_then(|k| k.as_str()).unwrap_or("?")
                ))?;
            }
            if !result.update.is_empty() {
                report::out(format_args!("update:"))?;
                report::print_json(&result.update)?;
            }
            if let Some(create) = &result.create {
                report::out(format_args!("create:"))?;
                report::print_json(create)?;
            }
        }
    }
    Ok(verdict(result.valid))
}

fn verdict(valid: bool) -> Outcome {
    if valid {
        Outcome::Ok
    } else {
        Outcome::Invalid
    }
}

/// A core type as it appears on the wire (its camelCase tag), for the human output.
fn wire<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}
