//! Validate, normalize and diff AWS Kinesis data connector configs: the create (POST) and
//! update (PUT) payloads of an IoT platform's "aws-kinesis" data connector.
//!
//! No I/O; builds natively and for `wasm32-unknown-unknown` (see `wasm.rs` for the binding).
//!
//! ```
//! use kinesis_connector::{validate_create_json, Context, IssueCode, Severity};
//!
//! let result = validate_create_json(r#"{
//!   "type": "aws-kinesis", "id": "dc.kinesis.1",
//!   "credentials": {"user": "AKIAIOSFODNN7EXAMPLE", "password": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
//!   "region": "us-west2", "stream": "test", "shards": 1,
//!   "maxRecordsPerShardPerSecond": 1000, "maxBytesPerShardPerSecond": 1000000
//! }"#, &Context::default());
//! assert!(!result.valid);
//! assert_eq!(result.errors[0].code, IssueCode::RegionUnknown);
//! assert_eq!(IssueCode::RegionUnknown.severity(), Severity::Error);
//! assert_eq!(IssueCode::RegionUnknown.to_string(), "region.unknown");
//! assert_eq!(result.errors[0].params.suggestion.as_deref(), Some("us-west-2"));
//! ```

#[cfg(any(target_arch = "wasm32", test))]
mod arena;
#[cfg(test)]
mod bench;
#[cfg(any(target_arch = "wasm32", test))]
mod compact;
mod diff;
mod field;
mod issues;
mod json;
#[cfg(any(target_arch = "wasm32", test))]
mod members;
mod model;
mod normalize;
mod ops;
mod regions;
mod schema;
mod update;
mod validate;
#[cfg(target_arch = "wasm32")]
mod wasm;
mod write;

pub use diff::{changes, Effects};
pub use field::Field;
pub use issues::{Issue, IssueCode, Params, Severity, MAX_ISSUES};
pub use json::locate;
pub use model::{
    Change, ChangeKind, Connector, ConnectorType, Context, Credentials, DiffAction, DiffResult,
    Effect, FieldValue, NormalizeChange, NormalizeResult, NormalizedValue, RegionInfo, Request,
    Secret, UpdatePayload, ValidationResult, CONNECTOR_TYPE,
};
pub use ops::{Op, LIST_OPS};
pub use regions::{suggest_region, Region};
pub use validate::reshard_plan;

use issues::{Issues, Params as P};
use json::{Node, SyntaxErrorKind};
use model::NormalizedValue as Normalized;
use validate::{check_context, check_fields, into_connector, Ctx, Mode};

/// Validate a create payload (POST body).
pub fn validate_create(
    input: &serde_json::Value,
    context: &Context,
) -> ValidationResult<Connector> {
    validate_create_in(input, &context_value(context))
}

/// [`validate_create`] with the context as raw JSON, as the npm package receives it
/// (`{ current?, existingIds?, methods? }`); a malformed context is a `context.invalid` issue.
pub fn validate_create_in(
    input: &serde_json::Value,
    context: &serde_json::Value,
) -> ValidationResult<Connector> {
    with_context(context, |ctx, issues| match value_node(input, issues) {
        Some(node) => create(&node, ctx, issues),
        None => finish(std::mem::take(issues), None),
    })
}

/// Validate a create payload given as JSON text; a syntax error is an issue with line and column.
pub fn validate_create_json(text: &str, context: &Context) -> ValidationResult<Connector> {
    with_context(&context_value(context), |ctx, issues| {
        match parse(text, issues) {
            Some(node) => create(&node, ctx, issues),
            None => finish(std::mem::take(issues), None),
        }
    })
}

/// Validate an update payload (PUT body); with `context.current`, the merged result too.
pub fn validate_update(
    input: &serde_json::Value,
    context: &Context,
) -> ValidationResult<UpdatePayload> {
    validate_update_in(input, &context_value(context))
}

/// [`validate_update`] with the context as raw JSON.
pub fn validate_update_in(
    input: &serde_json::Value,
    context: &serde_json::Value,
) -> ValidationResult<UpdatePayload> {
    with_context(context, |ctx, issues| match value_node(input, issues) {
        Some(node) => update(&node, ctx, issues),
        None => finish(std::mem::take(issues), None),
    })
}

/// Validate an update payload given as JSON text.
pub fn validate_update_json(text: &str, context: &Context) -> ValidationResult<UpdatePayload> {
    with_context(&context_value(context), |ctx, issues| {
        match parse(text, issues) {
            Some(node) => update(&node, ctx, issues),
            None => finish(std::mem::take(issues), None),
        }
    })
}

/// SPEC §4 for a create payload: trims, lower-cases, coerces form strings, fills `disabled`.
pub fn normalize_create(input: &serde_json::Value) -> NormalizeResult {
    normalize_value(input, true)
}

/// SPEC §4 for an update payload (no defaults filled; `null` kept).
pub fn normalize_update(input: &serde_json::Value) -> NormalizeResult {
    normalize_value(input, false)
}

fn normalize_value(input: &serde_json::Value, create: bool) -> NormalizeResult {
    match json::from_value(input) {
        Ok(node) => normalize_node(&node, create),
        // Too deep to walk: `null`, nothing changed (as the package answers: its reader stops
        // at the same depth).
        Err(_) => NormalizeResult {
            value: Normalized(json::Json::Null),
            changes: Vec::new(),
        },
    }
}

/// SPEC §5: what turns `saved` into `desired`, and the requests that do it (`requests`).
pub fn diff(saved: &serde_json::Value, desired: &serde_json::Value) -> DiffResult {
    let mut issues = Issues::default();
    let saved = value_node(saved, &mut issues).unwrap_or_else(undefined_node);
    let desired = value_node(desired, &mut issues).unwrap_or_else(undefined_node);
    diff::diff(&saved, &desired, None, issues)
}

/// [`diff`] with the app's context as raw JSON (`{ existingIds?, methods? }`, as the npm
/// package receives it): the requests are checked too, as the platform would check them (the
/// PUT body as an update of `saved`, the re-create's POST body as a create; the saved
/// connector's own id does not count as taken), and their issues join the result.
pub fn diff_in(
    saved: &serde_json::Value,
    desired: &serde_json::Value,
    context: &serde_json::Value,
) -> DiffResult {
    with_context(context, |ctx, issues| {
        let mut issues = std::mem::take(issues);
        let saved = value_node(saved, &mut issues).unwrap_or_else(undefined_node);
        let desired = value_node(desired, &mut issues).unwrap_or_else(undefined_node);
        diff::diff(&saved, &desired, Some(ctx), issues)
    })
}

/// Merge an update into a saved connector; `value` is the merged, normalized connector.
pub fn apply_update(
    saved: &serde_json::Value,
    update: &serde_json::Value,
) -> ValidationResult<Connector> {
    let mut issues = Issues::default();
    let saved = value_node(saved, &mut issues).unwrap_or_else(undefined_node);
    let update = value_node(update, &mut issues).unwrap_or_else(undefined_node);
    apply(&saved, &update, issues)
}

/// JSON Schema of the create payload.
pub fn create_schema() -> serde_json::Value {
    serde_json::from_str(&schema::create_schema_text()).unwrap_or_default()
}

/// JSON Schema of the update payload.
pub fn update_schema() -> serde_json::Value {
    serde_json::from_str(&schema::update_schema_text()).unwrap_or_default()
}

pub use schema::{create_schema_text, update_schema_text};

/// The 20 regions with their display names.
pub fn regions() -> Vec<RegionInfo> {
    Region::ALL
        .iter()
        .map(|r| RegionInfo {
            code: *r,
            name: r.name(),
        })
        .collect()
}

// ---- shared by the native API above and the wasm binding ----

fn context_value(context: &Context) -> serde_json::Value {
    serde_json::to_value(context).unwrap_or_default()
}

fn undefined_node<'a>() -> Node<'a> {
    Node::detached(json::Json::Foreign(json::Foreign::Undefined))
}

fn value_node<'a>(value: &'a serde_json::Value, issues: &mut Issues) -> Option<Node<'a>> {
    match json::from_value(value) {
        Ok(node) => Some(node),
        Err(pointer) => {
            validate::too_deep(issues, &pointer);
            None
        }
    }
}

fn with_context<R>(context: &serde_json::Value, f: impl FnOnce(&Ctx, &mut Issues) -> R) -> R {
    let mut issues = Issues::default();
    let node = match json::from_value(context) {
        Ok(node) => Some(node),
        Err(_) => {
            validate::context_invalid(&mut issues, "context", "The context is nested too deeply.");
            None
        }
    };
    let ctx = validate::read_context(node.as_ref(), &mut issues);
    f(&ctx, &mut issues)
}

pub(crate) fn parse<'a>(text: &'a str, issues: &mut Issues) -> Option<Node<'a>> {
    match json::parse(text) {
        Ok(node) => Some(node),
        Err(e) => {
            match &e.kind {
                SyntaxErrorKind::TooDeep { pointer } => validate::too_deep(issues, pointer),
                SyntaxErrorKind::Invalid(reason) => issues.report(
                    IssueCode::InputSyntax,
                    "",
                    format!(
                        "The text is not valid JSON: {reason} at line {}, column {}.",
                        e.line, e.column
                    ),
                    P {
                        line: Some(e.line as u64),
                        column: Some(e.column as u64),
                        ..P::default()
                    },
                ),
            }
            None
        }
    }
}

pub(crate) fn create(input: &Node, ctx: &Ctx, issues: &mut Issues) -> ValidationResult<Connector> {
    let fields = check_fields(input, Mode::Create, issues);
    if let Some(f) = &fields {
        check_context(f, ctx, true, issues);
    }
    let value = if issues.has_errors() {
        None
    } else {
        fields.and_then(into_connector)
    };
    finish(std::mem::take(issues), value)
}

pub(crate) fn update(
    input: &Node,
    ctx: &Ctx,
    issues: &mut Issues,
) -> ValidationResult<UpdatePayload> {
    let check = update::check_update(input, ctx, issues);
    let value = update::update_value(&check, issues);
    finish(std::mem::take(issues), value)
}

pub(crate) fn apply(
    saved: &Node,
    update: &Node,
    mut issues: Issues,
) -> ValidationResult<Connector> {
    let ctx = Ctx {
        current: Some(saved),
        ..Ctx::default()
    };
    let check = update::check_update(update, &ctx, &mut issues);
    let value = update::merged_value(&check, &issues);
    finish(issues, value)
}

pub(crate) fn normalize_node(input: &Node, create: bool) -> NormalizeResult {
    let (value, changes) = normalize::normalize(input, create);
    NormalizeResult {
        value: Normalized(value),
        changes,
    }
}

pub(crate) fn finish<T>(issues: Issues, value: Option<T>) -> ValidationResult<T> {
    let valid = !issues.has_errors();
    ValidationResult {
        valid,
        errors: issues.errors,
        warnings: issues.warnings,
        value: value.filter(|_| valid),
    }
}
