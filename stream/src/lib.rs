//! The native streaming side of kinesis-connector: the library behind the `kinesis-connector`
//! binary. `commands::run(cli, shutdown)` runs a parsed command line and returns an `Outcome` or
//! an `Error`, each with its exit code.
//!
//! ```text
//! cli ──► commands ──► offline (validate, normalize, diff, schema: the core's results, printed)
//!                 ├──► test ─────────┐
//!                 ├──► consume::run ─┼─ session: options, config (+ --watch), first contact,
//!                 └──► produce::run ─┘  method, paths, stats ── kinesis (the SDK behind traits)
//! ```
//! The pieces both pipelines are built from (rate budgets, backoff, the method runner, the
//! dead-letter file, KPL, the NDJSON string writer) are modules of their own.
pub mod backoff;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod consume;
pub mod deadletter;
pub mod efo;
pub mod error;
pub mod input;
pub mod kinesis;
pub mod kpl;
pub mod lease;
pub mod method;
pub mod metrics;
pub mod ndjson;
pub mod produce;
pub mod ratelimit;
pub mod session;

pub use error::{Error, Outcome};
