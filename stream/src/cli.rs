//! The command line (clap derive; the doc comments are the help text). Parsing only: the
//! commands are in `commands`.

use crate::commands::report::Format;
use crate::produce::DEFAULT_PARTITION_KEY;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

const EXIT_CODES: &str = "\
Exit codes:
  0  ok
  1  invalid input or config (or dead letters, a failed local write)
  2  usage
  3  a stream, network or credentials failure (the stream could not be reached, does not exist,
     or refused the credentials)";

/// Validate, normalize and diff AWS Kinesis data connector configs, and stream with them.
#[derive(Parser, Debug)]
#[command(name = "kinesis-connector", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate a create payload (or an update payload with --update); exit 1 when invalid.
    #[command(after_help = EXIT_CODES)]
    Validate(ValidateArgs),
    /// Print the normalized payload (trimmed, lower-cased, coerced, canonical key order).
    #[command(after_help = EXIT_CODES)]
    Normalize {
        /// The payload file, or - for standard input.
        file: PathBuf,
        /// Normalize an update payload (no defaults filled in).
        #[arg(long)]
        update: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// What turns the saved connector into the desired one: action, PUT body, effects.
    #[command(after_help = EXIT_CODES)]
    Diff {
        saved: PathBuf,
        desired: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print the JSON Schema of the create or update payload.
    Schema {
        #[arg(value_enum)]
        kind: SchemaKind,
    },
    /// Check the credentials, that the stream exists and is active, and its shard count.
    #[command(after_help = EXIT_CODES)]
    Test {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[command(flatten)]
        connection: ConnectionArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Read every shard of the stream and write one JSON line per record to stdout.
    #[command(after_help = EXIT_CODES)]
    Consume(ConsumeArgs),
    /// Send Data Values (one JSON per line) to the stream through the processing method.
    #[command(after_help = EXIT_CODES)]
    Produce(ProduceArgs),
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// The config file, or - for standard input.
    pub file: PathBuf,
    /// Validate an update (PUT body) instead of a create (POST body).
    #[arg(long)]
    pub update: bool,
    /// The saved connector the update applies to (checks the merged result too).
    #[arg(long, value_name = "FILE")]
    pub current: Option<PathBuf>,
    /// Ids of the app's other connectors (comma-separated), for the uniqueness check.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub existing_ids: Vec<String>,
    /// The app's method ids and names (comma-separated); the method must be one of them.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub methods: Option<Vec<String>>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SchemaKind {
    Create,
    Update,
}

/// How to reach the stream (test, consume, produce).
#[derive(clap::Args, Debug)]
pub struct ConnectionArgs {
    /// Kinesis endpoint, e.g. a local emulator (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// How long to keep trying to reach the stream at start before giving up (exit 3).
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    pub connect_timeout: Duration,
}

/// The options consume and produce share.
#[derive(clap::Args, Debug)]
pub struct StreamArgs {
    /// The connector config (a create payload).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Directory of processing methods: DIR/<dataProcessingMethodId>.js.
    #[arg(long, value_name = "DIR")]
    pub methods: Option<PathBuf>,
    /// Time limit of one method call, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub method_timeout_ms: u64,
    /// Where records that are not sent on go (default: STATE_DIR/<id>/dead-letter.ndjson for
    /// consume, STATE_DIR/<id>/produce-dead-letter.ndjson for produce).
    #[arg(long, value_name = "FILE")]
    pub dead_letter: Option<PathBuf>,
    /// Where local state is kept: checkpoints, default dead-letter files
    /// (default: $XDG_STATE_HOME/kinesis-connector).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Apply config changes on disk while running.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between the stats lines on stderr (0: none).
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
    pub stats_interval: Duration,
    /// When the checkpoint file (consume) or the input's progress record (produce) is corrupt,
    /// move it aside and start without it (consume: at --from; produce: at the first line)
    /// instead of exiting 1.
    #[arg(long)]
    pub discard_corrupt_state: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum From {
    Oldest,
    Latest,
}

#[derive(clap::Args, Debug)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub common: StreamArgs,
    /// Where to start in a shard without a checkpoint.
    #[arg(long, value_enum, default_value = "oldest")]
    pub from: From,
    /// Exit 0 once no new record has arrived on any shard for this long (counted from when
    /// the stream was reached).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub idle_timeout: Option<Duration>,
    /// Share the stream with other workers through this DynamoDB lease table (KCL's format;
    /// created when missing). Leases and checkpoints then live in the table only.
    #[arg(long, value_name = "NAME")]
    pub lease_table: Option<String>,
    /// This worker's name in the lease table (default: host name, pid and a random suffix).
    #[arg(long, value_name = "ID", requires = "lease_table")]
    pub worker_id: Option<String>,
    /// A lease whose counter has not moved for this long is taken over (KCL's failover time).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    pub failover_time: Duration,
    /// DynamoDB endpoint for the lease table (default: AWS_ENDPOINT_URL_DYNAMODB, else
    /// AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL", requires = "lease_table")]
    pub dynamodb_endpoint_url: Option<String>,
    /// Read through enhanced fan-out (SubscribeToShard) as the stream consumer of this name:
    /// registered when missing, reused when it exists. Each consumer has its own 2 MB/s per
    /// shard, pushed to it.
    #[arg(long, value_name = "NAME")]
    pub efo: Option<String>,
    /// With --efo: deregister the stream consumer on exit.
    #[arg(long, requires = "efo")]
    pub efo_deregister: bool,
    /// With --efo: a subscription that sends nothing (not even an empty event) for this long
    /// is subscribed again.
    #[arg(long, value_name = "SECONDS", default_value = "15", value_parser = seconds)]
    pub efo_silence_timeout: Duration,
    /// Serve Prometheus text metrics on HOST:PORT (records, bytes and lag per shard; with
    /// --lease-table also the leases and the table's requests).
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<std::net::SocketAddr>,
}

#[derive(clap::Args, Debug)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub common: StreamArgs,
    /// Data Values, one JSON object per line (- for standard input).
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub input: PathBuf,
    /// JSON pointer to the partition key in each value (falls back to /feedId).
    #[arg(long, value_name = "POINTER", default_value = DEFAULT_PARTITION_KEY)]
    pub partition_key: String,
    /// With --input FILE: ignore the file's progress record (kept so that a restart after a
    /// crash continues after the last line done) and send the file from its first line.
    #[arg(long)]
    pub restart_input: bool,
    /// PutRecords attempts per record before it goes to the dead-letter file.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_attempts: u32,
    /// The summary as JSON on stdout instead of text on stderr.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// A non-negative number of seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(value)
        .map_err(|_| "must be a non-negative number of seconds".into())
}
