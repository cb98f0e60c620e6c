//! Issues: what every check reports, at a JSON pointer, errors apart from warnings.

use serde::Serialize;

/// At most this many issues are kept; past it one `issues.truncated` error says so.
pub const MAX_ISSUES: usize = 100;

/// Defines [`IssueCode`]: each code with its dotted wire name and its severity, in one place.
macro_rules! issue_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal, $severity:ident;)*) => {
        /// Every issue code, with its stable dotted id (`region.unknown`) and its severity
        /// (ARCHITECTURE.md explains each). TypeScript sees them as the `IssueCode` union.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum IssueCode {
            $($(#[doc = $doc])* #[serde(rename = $code)] $variant,)*
        }

        impl IssueCode {
            /// Every code, in the order of ARCHITECTURE.md's table (`code as usize` indexes it).
            pub const ALL: &'static [IssueCode] = &[$(IssueCode::$variant),*];

            /// Every code's dotted id, in [`IssueCode::ALL`]'s order, one a line.
            #[cfg(any(target_arch = "wasm32", test))]
            pub(crate) const LINES: &'static str = concat!($($code, "\n"),*);

            /// The stable dotted id, as on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(IssueCode::$variant => $code,)*
                }
            }

            /// Errors make a result invalid; warnings do not.
            pub const fn severity(self) -> Severity {
                match self {
                    $(IssueCode::$variant => Severity::$severity,)*
                }
            }
        }
    };
}

issue_codes! {
    /// JSON text does not parse.
    InputSyntax = "input.syntax", Error;
    /// The payload is not an object (or the text not a string).
    InputType = "input.type", Error;
    /// Nesting deeper than 64 levels.
    InputTooDeep = "input.too_deep", Error;
    /// The same key twice in one object.
    InputDuplicateKey = "input.duplicate_key", Error;
    /// The module failed unexpectedly (JS glue); never expected.
    InputInternal = "input.internal", Error;
    /// More than 100 issues; the rest are dropped.
    IssuesTruncated = "issues.truncated", Error;
    /// Not a connector field.
    FieldUnknown = "field.unknown", Error;
    /// A required field is missing.
    FieldRequired = "field.required", Error;
    /// A field has the wrong JSON type.
    FieldType = "field.type", Error;
    /// `null` where it is not allowed.
    FieldNull = "field.null", Error;
    /// An empty (or blank) string where a value is required.
    FieldEmpty = "field.empty", Error;
    /// An integer beyond ±2^53.
    FieldUnsafeInteger = "field.unsafe_integer", Error;
    /// `type` is not `aws-kinesis`.
    TypeInvalid = "type.invalid", Error;
    /// `id` is longer than 64 characters.
    IdLength = "id.length", Error;
    /// `id` does not start with a letter.
    IdStart = "id.start", Error;
    /// `id` has characters other than letters, digits, `.`, `-`, `_`.
    IdCharacters = "id.characters", Error;
    /// `id` equals an existing id (case-insensitively).
    IdDuplicate = "id.duplicate", Error;
    /// The app already holds 10 connectors.
    AppConnectorLimit = "app.connector_limit", Error;
    /// An update's credentials lack a member (reported at that member).
    CredentialsIncomplete = "credentials.incomplete", Error;
    /// `credentials.user` is not 16–128 word characters.
    CredentialsUserFormat = "credentials.user.format", Error;
    /// `credentials.user` is not the usual 20-character AKIA…/ASIA… shape.
    CredentialsUserShape = "credentials.user.shape", Warning;
    /// `credentials.password` is not the usual 40 characters.
    CredentialsPasswordShape = "credentials.password.shape", Warning;
    /// Not one of the 20 regions.
    RegionUnknown = "region.unknown", Error;
    /// `stream` is longer than 128 characters.
    StreamLength = "stream.length", Error;
    /// `stream` has characters other than `[a-zA-Z0-9_.-]`.
    StreamCharacters = "stream.characters", Error;
    /// `shards` is not 1–100000.
    ShardsRange = "shards.range", Error;
    /// `shards` is above the region's default quota.
    ShardsQuota = "shards.quota", Warning;
    /// An update changes the shard count (UpdateShardCount steps).
    ShardsReshard = "shards.reshard", Warning;
    /// The change needs more than 10 UpdateShardCount calls.
    ShardsReshardDailyLimit = "shards.reshard_daily_limit", Warning;
    /// `maxRecordsPerShardPerSecond` is below 1.
    MaxRecordsRange = "maxRecordsPerShardPerSecond.range", Error;
    /// `maxRecordsPerShardPerSecond` is above 1000.
    MaxRecordsAboveLimit = "maxRecordsPerShardPerSecond.above_limit", Warning;
    /// `maxBytesPerShardPerSecond` is below 1.
    MaxBytesRange = "maxBytesPerShardPerSecond.range", Error;
    /// `maxBytesPerShardPerSecond` is above 1048576.
    MaxBytesAboveLimit = "maxBytesPerShardPerSecond.above_limit", Warning;
    /// Neither `_mtd_<digits>` nor a method name.
    MethodFormat = "dataProcessingMethodId.format", Error;
    /// Not among `context.methods`.
    MethodUnknown = "dataProcessingMethodId.unknown", Error;
    /// Both spellings of the method field, with different values.
    MethodConflict = "dataProcessingMethodId.conflict", Error;
    /// An update with no fields.
    UpdateEmpty = "update.empty", Error;
    /// An update changes `type` or `id`.
    UpdateImmutable = "update.immutable", Error;
    /// The context argument is malformed.
    ContextInvalid = "context.invalid", Error;
    /// `diff`: the saved connector itself is invalid there.
    DiffSavedInvalid = "diff.saved_invalid", Error;
}

impl IssueCode {
    /// The code with this dotted id.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for IssueCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for IssueCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

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
    /// Always `code.severity()` (kept on the wire for readers that do not know the codes).
    pub severity: Severity,
    /// Stable dotted id, e.g. `region.unknown` (see ARCHITECTURE.md).
    pub code: IssueCode,
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

impl Issue {
    /// An issue with the severity its code carries.
    pub fn new(code: IssueCode, path: impl Into<String>, message: String, params: Params) -> Self {
        Issue {
            severity: code.severity(),
            code,
            path: path.into(),
            message,
            params,
        }
    }
}

/// Runs `f` out of line. The checks wrap the code that builds an issue (its message and
/// params) in it, so their common path, a valid value, stays small: V8 compiles a wasm
/// function whole the first time it is called, and that compiling is most of a fresh
/// process's first validation (ARCHITECTURE.md, "Package performance").
#[cold]
#[inline(never)]
pub(crate) fn cold<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Runs `f` out of line, like [`cold`] but not marked unlikely: for the separate paths of a
/// function (create or update) so that a call compiles only the one it takes. `wasm-opt`
/// is told not to inline [`cold`] and `apart` (`scripts/build-wasm.sh`).
#[inline(never)]
pub(crate) fn apart<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `issues.report(...)` out of line ([`cold`]).
macro_rules! report {
    ($issues:expr, $($arg:expr),+ $(,)?) => {
        $crate::issues::cold(|| $issues.report($($arg),+))
    };
}
pub(crate) use report;

impl Issues {
    /// Record an issue; its code decides whether it is an error or a warning.
    // Out of line: inlined at each of the ~60 call sites it measured 0.8 KB gzipped of wasm.
    #[inline(never)]
    pub fn report(
        &mut self,
        code: IssueCode,
        path: impl Into<String>,
        message: String,
        params: Params,
    ) {
        self.push(code, path.into(), message, params);
    }

    /// Record an issue made elsewhere (its severity follows its code).
    pub fn add(&mut self, issue: Issue) {
        self.push(issue.code, issue.path, issue.message, issue.params);
    }

    fn push(&mut self, code: IssueCode, path: String, message: String, params: Params) {
        if self.errors.len() + self.warnings.len() >= MAX_ISSUES {
            if !self.truncated {
                self.truncated = true;
                self.errors.push(Issue::new(
                    IssueCode::IssuesTruncated,
                    "",
                    format!("More than {MAX_ISSUES} issues; the rest are not listed."),
                    Params {
                        max: Some(MAX_ISSUES as i64),
                        ..Params::default()
                    },
                ));
            }
            return;
        }
        let issue = Issue::new(code, path, message, params);
        match issue.severity {
            Severity::Error => self.errors.push(issue),
            Severity::Warning => self.warnings.push(issue),
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn contains(&self, path: &str, code: IssueCode) -> bool {
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
