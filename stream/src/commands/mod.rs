//! The commands as library functions: each returns `Result<Outcome, Error>`, and `main` maps
//! that to an exit code.
//!
//! `validate`, `normalize`, `diff`, `schema` (offline, `offline.rs`); `test` (`test.rs`);
//! `consume`, `produce` (`stream.rs`: the options from the command line, the run, the summary).

mod offline;
pub mod report;
mod stream;
mod test;

use crate::cli::{Cli, Command, SchemaKind};
use crate::error::{Error, Outcome};
use crate::session::config::{self, ConfigError};
use kinesis_connector::Connector;
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub use offline::{diff, normalize, schema, validate};
pub use stream::{consume, produce};
pub use test::test;

/// Runs the command the command line names; `shutdown` stops a streaming command cleanly.
pub async fn run(cli: Cli, shutdown: CancellationToken) -> Result<Outcome, Error> {
    match cli.command {
        Command::Validate(args) => validate(args),
        Command::Normalize {
            file,
            update,
            format,
        } => normalize(&file, update, format),
        Command::Diff {
            saved,
            desired,
            format,
        } => diff(&saved, &desired, format),
        Command::Schema { kind } => schema(kind),
        Command::Test {
            config,
            connection,
            format,
        } => {
            let Some(connector) = load_config(&config)? else {
                return Ok(Outcome::Invalid);
            };
            test(&connector, &connection, format, &shutdown).await
        }
        Command::Consume(args) => consume(args, shutdown).await,
        Command::Produce(args) => produce(args, shutdown).await,
    }
}

/// The config of a streaming command; `None` when it is invalid (its issues are printed first).
fn load_config(path: &Path) -> Result<Option<Connector>, Error> {
    match config::load(path) {
        Ok(connector) => Ok(Some(connector)),
        Err(ConfigError::Read(e)) => Err(e.into()),
        Err(ConfigError::Invalid {
            input,
            errors,
            warnings,
        }) => {
            report::print_issues(Some(&input), &errors, &warnings);
            eprintln!("{}: invalid config, nothing was read", input.name);
            Ok(None)
        }
    }
}

impl SchemaKind {
    fn text(self) -> String {
        match self {
            SchemaKind::Create => kinesis_connector::create_schema_text(),
            SchemaKind::Update => kinesis_connector::update_schema_text(),
        }
    }
}
