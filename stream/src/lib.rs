//! The native streaming side of kinesis-connector: the CLI's library.
//!
//! `consume::run(connector, options, output, shutdown)` is the entry of the consumer and
//! `produce::run(connector, options, input, shutdown)` the entry of the producer; the pieces
//! it is built from (rate budgets, backoff, the method runner, the dead-letter file, KPL) are
//! separate modules so `produce` can reuse them.
pub mod backoff;
pub mod checkpoint;
pub mod cli;
pub mod consume;
pub mod deadletter;
pub mod kinesis;
pub mod kpl;
pub mod method;
pub mod output;
pub mod produce;
pub mod ratelimit;
pub mod watch;
