//! Reading inputs and reporting the core's results: for people (issues at the file's line and
//! column) or as the npm package's JSON objects. The one place in this crate that builds an
//! `Issue` (`parse_json`) or formats its code (`format_issue`).

pub use crate::input::{read_input, Input, ReadError};

use crate::error::{Error, Outcome};
use kinesis_connector::{Issue, IssueCode, Params, Severity};
use std::io::Write;
use std::path::Path;

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
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Output(std::io::Error::other(e)))?;
    out(format_args!("{text}"))
}

/// One line to stdout. A closed or failing stdout (`| head`, a full disk) is an error the
/// command returns, never a panic.
pub fn out(line: std::fmt::Arguments<'_>) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_fmt(line)
        .and_then(|()| stdout.write_all(b"\n"))
        .map_err(Error::Output)
}

/// Reads a JSON document for the offline commands: text that is not UTF-8 is reported as the
/// `input.syntax` issue it is (with the byte offset), in the chosen format, and is `Err`.
pub fn read_document(path: &Path, format: Format) -> Result<Result<Input, Outcome>, Error> {
    match read_input(path) {
        Ok(input) => Ok(Ok(input)),
        Err(ReadError::Utf8 { name, fault }) => {
            let issue = Box::new(Issue {
                severity: Severity::Error,
                code: IssueCode::InputSyntax,
                path: String::new(),
                message: format!("The text is not valid JSON: it is {fault}."),
                params: Params {
                    line: Some(fault.line as u64),
                    column: Some(fault.column as u64),
                    ..Params::default()
                },
            });
            let input = Input {
                name,
                text: String::new(),
            };
            report_syntax(&input, issue, format).map(Err)
        }
        Err(e) => Err(e.into()),
    }
}

/// Parses JSON text for the commands that take values (normalize, diff); a syntax error becomes
/// the same `input.syntax` issue the validator reports.
pub fn parse_json(input: &Input) -> Result<serde_json::Value, Box<Issue>> {
    serde_json::from_str(&input.text).map_err(|e| {
        Box::new(Issue {
            severity: Severity::Error,
            code: IssueCode::InputSyntax,
            path: String::new(),
            message: format!("The text is not valid JSON: {e}."),
            params: Params {
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
                ..Params::default()
            },
        })
    })
}

/// Reports an input that is not JSON, in either format.
pub fn report_syntax(input: &Input, issue: Box<Issue>, format: Format) -> Result<Outcome, Error> {
    match format {
        Format::Human => print_issues(Some(input), std::slice::from_ref(&issue), &[]),
        Format::Json => {
            print_json(&serde_json::json!({ "valid": false, "errors": [issue], "warnings": [] }))?
        }
    }
    Ok(Outcome::Invalid)
}
