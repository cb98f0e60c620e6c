//! Issues: what every check reports, at a JSON pointer, errors apart from warnings.

use serde::Serialize;

/// At most this many issues are kept; past it one `issues.truncated` error says so.
pub const MAX_ISSUES: usize = 100;

/// Every issue code (ARCHITECTURE.md explains each). TypeScript sees them as the `IssueCode`
/// union; debug builds assert that nothing else is ever emitted.
pub const ISSUE_CODES: &[&str] = &[
    "input.syntax",
    "input.type",
    "input.too_deep",
    "input.duplicate_key",
    "input.internal",
    "issues.truncated",
    "field.unknown",
    "field.required",
    "field.type",
    "field.null",
    "field.empty",
    "field.unsafe_integer",
    "type.invalid",
    "id.length",
    "id.start",
    "id.characters",
    "id.duplicate",
    "app.connector_limit",
    "credentials.incomplete",
    "credentials.user.format",
    "credentials.user.shape",
    "credentials.password.shape",
    "region.unknown",
    "stream.length",
    "stream.characters",
    "shards.range",
    "shards.quota",
    "shards.reshard",
    "shards.reshard_daily_limit",
    "maxRecordsPerShardPerSecond.range",
    "maxRecordsPerShardPerSecond.above_limit",
    "maxBytesPerShardPerSecond.range",
    "maxBytesPerShardPerSecond.above_limit",
    "dataProcessingMethodId.format",
    "dataProcessingMethodId.unknown",
    "dataProcessingMethodId.conflict",
    "update.empty",
    "update.immutable",
    "context.invalid",
    "diff.saved_invalid",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding. `message` is an English sentence; `params` carries the facts it was built from,
/// so a UI can phrase its own. Neither ever contains a credential value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Issue {
    pub severity: Severity,
    /// Stable dotted id, e.g. `region.unknown` (one of [`ISSUE_CODES`]; see ARCHITECTURE.md).
    #[cfg_attr(feature = "ts", ts(type = "IssueCode"))]
    pub code: &'static str,
    /// JSON pointer into the input; `""` is the root.
    pub path: String,
    pub message: String,
    pub params: Params,
}

/// The facts behind an issue; each key appears only where it applies.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// The field the issue is about (unknown or missing fields).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub field: Option<String>,
    /// A close valid value to offer as "did you mean".
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub suggestion: Option<String>,
    /// What was expected: a JSON type or an exact value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub expected: Option<String>,
    /// What was found: a JSON type (values of credentials are never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub actual: Option<String>,
    /// Length in characters, for length rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max: Option<i64>,
    /// Where the text goes wrong (syntax errors), 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub column: Option<u64>,
    /// Resharding: the shard counts and the UpdateShardCount calls between them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub from: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub to: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub steps: Option<u32>,
    /// The shard counts after each UpdateShardCount call.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub plan: Option<Vec<u32>>,
}

/// Collects issues up to [`MAX_ISSUES`].
#[derive(Debug, Default)]
pub struct Issues {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    truncated: bool,
}

impl Issues {
    pub fn error(
        &mut self,
        code: &'static str,
        path: impl Into<String>,
        message: String,
        params: Params,
    ) {
        self.push(Severity::Error, code, path.into(), message, params);
    }

    pub fn warning(
        &mut self,
        code: &'static str,
        path: impl Into<String>,
        message: String,
        params: Params,
    ) {
        self.push(Severity::Warning, code, path.into(), message, params);
    }

    pub fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: String,
        message: String,
        params: Params,
    ) {
        debug_assert!(
            ISSUE_CODES.contains(&code),
            "issue code {code} is not in ISSUE_CODES"
        );
        if self.errors.len() + self.warnings.len() >= MAX_ISSUES {
            if !self.truncated {
                self.truncated = true;
                self.errors.push(Issue {
                    severity: Severity::Error,
                    code: "issues.truncated",
                    path: String::new(),
                    message: format!("More than {MAX_ISSUES} issues; the rest are not listed."),
                    params: Params {
                        max: Some(MAX_ISSUES as i64),
                        ..Params::default()
                    },
                });
            }
            return;
        }
        let issue = Issue {
            severity,
            code,
            path,
            message,
            params,
        };
        match severity {
            Severity::Error => self.errors.push(issue),
            Severity::Warning => self.warnings.push(issue),
        }
    }

    pub fn add(&mut self, issue: Issue) {
        self.push(
            issue.severity,
            issue.code,
            issue.path,
            issue.message,
            issue.params,
        );
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn contains(&self, path: &str, code: &str) -> bool {
        self.errors
            .iter()
            .chain(&self.warnings)
            .any(|i| i.path == path && i.code == code)
    }
}

/// Shorten user text for a message (values can be megabytes long).
pub fn clip(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(MAX).collect();
        out.push('…');
        out
    }
}
