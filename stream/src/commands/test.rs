//! `test`: are the credentials accepted, does the stream exist, is it ACTIVE, and does its open
//! shard count match the config (a mismatch is a warning). Failures are sorted by the typed
//! `ApiError`, and exit 3.

use super::report::{self, Format};
use crate::cli::ConnectionArgs;
use crate::error::{Error, Outcome};
use crate::kinesis::{ApiError, Connection, KinesisApi, StreamError};
use crate::session::reach::{reach, Target};
use kinesis_connector::Connector;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warning,
    Fail,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Fail => "fail",
        }
    }
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    status: Status,
    message: String,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    ok: bool,
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, check: &'static str, status: Status, message: String) {
        self.checks.push(Check {
            check,
            status,
            message,
        });
    }
}

pub async fn test(
    connector: &Connector,
    connection: &ConnectionArgs,
    format: Format,
    shutdown: &CancellationToken,
) -> Result<Outcome, Error> {
    let conn = Connection::from_connector(connector, connection.endpoint_url.as_deref());
    let api = conn.client().await;
    let target = Target::of(connector);
    let stream = connector.stream.as_str();
    let accepted = || format!("access key {} accepted", mask(&conn.access_key_id));
    let mut report = Report::default();
    match reach(&target, connection.connect_timeout, shutdown, || {
        api.describe(stream)
    })
    .await
    {
        Ok(Some(summary)) => {
            report.add("credentials", Status::Ok, accepted());
            report.add("stream", Status::Ok, format!("stream {stream} exists"));
            if summary.status == "ACTIVE" {
                report.add("status", Status::Ok, "stream is ACTIVE".into());
            } else {
                let message = format!("stream is {}, not ACTIVE", summary.status);
                report.add("status", Status::Fail, message);
            }
            // Count open shards from the listing (the emulator's summary count can lag a reshard).
            let open = match api.list_shards(stream).await {
                Ok(shards) => shards.iter().filter(|s| !s.closed).count() as u32,
                Err(_) => summary.open_shards,
            };
            if open == connector.shards {
                let message = format!("{open} open shards, as configured");
                report.add("shards", Status::Ok, message);
            } else {
                let message = format!("{open} open shards, the config says {}", connector.shards);
                report.add("shards", Status::Warning, message);
            }
        }
        Ok(None) => {
            let error = StreamError::StoppedBeforeReached {
                stream: stream.to_owned(),
            };
            report.add("connection", Status::Fail, error.to_string());
        }
        Err(error @ StreamError::NotFound { .. }) => {
            report.add("credentials", Status::Ok, accepted());
            report.add("stream", Status::Fail, error.to_string());
        }
        Err(error) => {
            let check = match error.api_error() {
                Some(ApiError::Credentials(_)) => "credentials",
                _ => "connection",
            };
            report.add(check, Status::Fail, error.to_string());
        }
    }
    report.ok = report.checks.iter().all(|c| c.status != Status::Fail);
    match format {
        Format::Json => report::print_json(&report)?,
        Format::Human => {
            for c in &report.checks {
                report::out(format_args!(
                    "{:<8} {:<12} {}",
                    c.status.as_str(),
                    c.check,
                    c.message
                ))?;
            }
            report::out(format_args!(
                "{}",
                if report.ok {
                    "test passed"
                } else {
                    "test failed"
                }
            ))?;
        }
    }
    Ok(if report.ok {
        Outcome::Ok
    } else {
        Outcome::StreamFailed
    })
}

/// `AKIA…MPLE`: enough to recognise a key id without printing it whole.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "****".into();
    }
    format!(
        "{}…{}",
        chars[..4].iter().collect::<String>(),
        chars[chars.len() - 4..].iter().collect::<String>()
    )
}
