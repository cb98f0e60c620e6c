//! Reading inputs and reporting the core's results: for people (issues at the file's line and
//! column) or as the npm package's JSON objects. The one place in this crate that builds an
//! `Issue` (`parse_json`) or formats its code (`format_issue`).

pub use crate::input::{read_input, Input, ReadError};

use crate::error::Outcome;
use kinesis_connector::{Issue, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// `file:line:column: error[code] /path: message` for each issue, errors first.
pub fn print_issues(input: Option<&Input>, errors: &[Issue], warnings: &[Issue]) {
    for issue in errors.iter().chain(warnings) {
        eprintln!("{}", format_issue(input, issue));
    }
}

pub fn format_issue(input: Option<&Input>, issue: &Issue) -> String {
    let severity = match issue.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let location = match input {
        Some(input) => {
            let position = match (issue.params.line, issue.params.column) {
                (Some(line), Some(column)) => Some((line as usize, column as usize)),
                _ => kinesis_connector::locate(&input.text, &issue.path),
            };
            match position {
                Some((line, column)) => format!("{}:{line}:{column}: ", input.name),
                None => format!("{}: ", input.name),
            }
        }
        None => String::new(),
    };
    let path = if issue.path.is_empty() {
        String::new()
    } else {
        format!(" {}", issue.path)
    };
    format!(
        "{location}{severity}[{}]{path}: {}",
        issue.code, issue.message
    )
}

/// Prints a JSON result to stdout (pretty, one trailing newline).
pub fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot serialize the result: {e}"),
    }
}

/// Parses JSON text for the commands that take values (normalize, diff); a syntax error becomes
/// the same `input.syntax` issue the validator reports.
pub fn parse_json(input: &Input) -> Result<serde_json::Value, Box<Issue>> {
    serde_json::from_str(&input.text).map_err(|e| {
        Box::new(Issue {
            severity: Severity::Error,
            code: kinesis_connector::IssueCode::InputSyntax,
            path: String::new(),
            message: format!("The text is not valid JSON: {e}."),
            params: kinesis_connector::Params {
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
                ..kinesis_connector::Params::default()
            },
        })
    })
}

/// Reports an input that is not JSON, in either format.
pub fn report_syntax(input: &Input, issue: Box<Issue>, format: Format) -> Outcome {
    match format {
        Format::Human => print_issues(Some(input), std::slice::from_ref(&issue), &[]),
        Format::Json => {
            print_json(&serde_json::json!({ "valid": false, "errors": [issue], "warnings": [] }))
        }
    }
    Outcome::Invalid
}
