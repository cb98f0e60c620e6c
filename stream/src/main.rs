//! `kinesis-connector`: validate, normalize and diff connector configs; test, consume and produce.
//!
//! `main` only parses the command line, sets up tracing and the shutdown signal, and calls the
//! library; see `kinesis_stream::consume::run` for the consumer, `kinesis_stream::produce::run`
//! for the producer.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kinesis_connector::{Connector, Context};
use kinesis_stream::cli::{self, Format, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use kinesis_stream::consume::{self, ConsumeOptions, StartFrom};
use kinesis_stream::kinesis::{ApiError, Connection, KinesisApi};
use kinesis_stream::method::MethodLimits;
use kinesis_stream::produce::{self, ProduceOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Validate, normalize and diff AWS Kinesis data connector configs, and stream with them.
#[derive(Parser, Debug)]
#[command(name = "kinesis-connector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a create payload (or an update payload with --update); exit 1 when invalid.
    Validate {
        /// The config file, or - for standard input.
        file: PathBuf,
        /// Validate an update (PUT body) instead of a create (POST body).
        #[arg(long)]
        update: bool,
        /// The saved connector the update applies to (checks the merged result too).
        #[arg(long, value_name = "FILE")]
        current: Option<PathBuf>,
        /// Ids of the app's other connectors (comma-separated), for the uniqueness check.
        #[arg(long, value_name = "IDS", value_delimiter = ',')]
        existing_ids: Vec<String>,
        /// The app's method ids and names (comma-separated); the method must be one of them.
        #[arg(long, value_name = "IDS", value_delimiter = ',')]
        methods: Option<Vec<String>>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print the normalized payload (trimmed, lower-cased, coerced, canonical key order).
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
    Test {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[command(flatten)]
        connection: ConnectionArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Read every shard of the stream and write one JSON line per record to stdout.
    Consume(ConsumeArgs),
    /// Send Data Values (one JSON per line) to the stream through the processing method.
    Produce(ProduceArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SchemaKind {
    Create,
    Update,
}

#[derive(clap::Args, Debug)]
struct ConnectionArgs {
    /// Kinesis endpoint, e.g. a local emulator (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum From {
    Oldest,
    Latest,
}

#[derive(clap::Args, Debug)]
struct ConsumeArgs {
    /// The connector config (a create payload).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Where to start in a shard without a checkpoint.
    #[arg(long, value_enum, default_value = "oldest")]
    from: From,
    /// Directory of processing methods: DIR/<dataProcessingMethodId>.js.
    #[arg(long, value_name = "DIR")]
    methods: Option<PathBuf>,
    /// Time limit of one method call, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    method_timeout_ms: u64,
    /// Where records a method rejects go (default: STATE_DIR/<id>/dead-letter.ndjson).
    #[arg(long, value_name = "FILE")]
    dead_letter: Option<PathBuf>,
    /// Where checkpoints are kept (default: $XDG_STATE_HOME/kinesis-connector).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Exit 0 once no new record has arrived on any shard for this long.
    #[arg(long, value_name = "SECONDS")]
    idle_timeout: Option<f64>,
    /// Apply config changes on disk while running.
    #[arg(long)]
    watch: bool,
    /// Seconds between the stats lines on stderr (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    stats_interval: f64,
}

#[derive(clap::Args, Debug)]
struct ProduceArgs {
    /// The connector config (a create payload).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Data Values, one JSON object per line (- for standard input).
    #[arg(long, value_name = "FILE", default_value = "-")]
    input: PathBuf,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// JSON pointer to the partition key in each value (falls back to /feedId).
    #[arg(long, value_name = "POINTER", default_value = produce::DEFAULT_PARTITION_KEY)]
    partition_key: String,
    /// Directory of processing methods: DIR/<dataProcessingMethodId>.js.
    #[arg(long, value_name = "DIR")]
    methods: Option<PathBuf>,
    /// Time limit of one method call, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    method_timeout_ms: u64,
    /// Where records that are not sent go (default: STATE_DIR/<id>/produce-dead-letter.ndjson).
    #[arg(long, value_name = "FILE")]
    dead_letter: Option<PathBuf>,
    /// Base of the default dead-letter path (default: $XDG_STATE_HOME/kinesis-connector).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// PutRecords attempts per record before it goes to the dead-letter file.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_attempts: u32,
    /// Apply config changes on disk while running.
    #[arg(long)]
    watch: bool,
    /// Seconds between the stats lines on stderr (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    stats_interval: f64,
    /// The summary as JSON on stdout instead of text on stderr.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    init_tracing();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KINESIS_CONNECTOR_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("warn,kinesis_stream=info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Validate {
            file,
            update,
            current,
            existing_ids,
            methods,
            format,
        } => validate(
            &file,
            update,
            current.as_deref(),
            existing_ids,
            methods,
            format,
        ),
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
        Command::Schema { kind } => {
            let text = match kind {
                SchemaKind::Create => kinesis_connector::create_schema_text(),
                SchemaKind::Update => kinesis_connector::update_schema_text(),
            };
            println!("{}", text.trim_end());
            Ok(EXIT_OK)
        }
        Command::Test {
            config,
            connection,
            format,
        } => {
            let Some(connector) = load_config(&config)? else {
                return Ok(EXIT_INVALID);
            };
            runtime()?.block_on(test_stream(
                &connector,
                connection.endpoint_url.as_deref(),
                format,
            ))
        }
        Command::Consume(args) => consume_command(args),
        Command::Produce(args) => produce_command(args),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn validate(
    file: &Path,
    update: bool,
    current: Option<&Path>,
    existing_ids: Vec<String>,
    methods: Option<Vec<String>>,
    format: Format,
) -> anyhow::Result<u8> {
    let input = cli::read_input(file)?;
    let current = match current {
        Some(path) => {
            let saved = cli::read_input(path)?;
            match cli::parse_json(&saved) {
                Ok(value) => Some(value),
                Err(issue) => return Ok(cli::report_syntax(&saved, issue, format)),
            }
        }
        None => None,
    };
    let context = Context {
        current,
        existing_ids,
        methods,
    };
    // The typed results print with the package's key order.
    let (valid, errors, warnings) = if update {
        let r = kinesis_connector::validate_update_json(&input.text, &context);
        if format == Format::Json {
            cli::print_json(&r);
        }
        (r.valid, r.errors, r.warnings)
    } else {
        let r = kinesis_connector::validate_create_json(&input.text, &context);
        if format == Format::Json {
            cli::print_json(&r);
        }
        (r.valid, r.errors, r.warnings)
    };
    if format == Format::Human {
        cli::print_issues(Some(&input), &errors, &warnings);
        let verdict = if valid { "valid" } else { "invalid" };
        eprintln!(
            "{}: {verdict} ({} errors, {} warnings)",
            input.name,
            errors.len(),
            warnings.len()
        );
    }
    Ok(if valid { EXIT_OK } else { EXIT_INVALID })
}

fn normalize(file: &Path, update: bool, format: Format) -> anyhow::Result<u8> {
    let input = cli::read_input(file)?;
    let value = match cli::parse_json(&input) {
        Ok(value) => value,
        Err(issue) => return Ok(cli::report_syntax(&input, issue, format)),
    };
    let result = if update {
        kinesis_connector::normalize_update(&value)
    } else {
        kinesis_connector::normalize_create(&value)
    };
    match format {
        Format::Json => cli::print_json(&result),
        Format::Human => {
            cli::print_json(&result.value);
            for change in &result.changes {
                eprintln!(
                    "{}: {} {}",
                    input.name,
                    if change.path.is_empty() {
                        "/"
                    } else {
                        &change.path
                    },
                    change.message
                );
            }
        }
    }
    Ok(EXIT_OK)
}

fn diff(saved: &Path, desired: &Path, format: Format) -> anyhow::Result<u8> {
    let saved_input = cli::read_input(saved)?;
    let desired_input = cli::read_input(desired)?;
    let saved = match cli::parse_json(&saved_input) {
        Ok(value) => value,
        Err(issue) => return Ok(cli::report_syntax(&saved_input, issue, format)),
    };
    let desired = match cli::parse_json(&desired_input) {
        Ok(value) => value,
        Err(issue) => return Ok(cli::report_syntax(&desired_input, issue, format)),
    };
    let result = kinesis_connector::diff(&saved, &desired);
    match format {
        Format::Json => cli::print_json(&result),
        Format::Human => {
            cli::print_issues(None, &result.errors, &result.warnings);
            let action = serde_json::to_value(result.action)?;
            println!("action: {}", action.as_str().unwrap_or("?"));
            for change in &result.changes {
                let effect = serde_json::to_value(&change.effect)?;
                let show = |v: &Option<kinesis_connector::FieldValue>| match v {
                    Some(v) => serde_json::to_string(v).unwrap_or_default(),
                    None => "-".to_owned(),
                };
                println!(
                    "  {} {}: {} -> {} ({})",
                    change.path,
                    serde_json::to_value(change.kind)?.as_str().unwrap_or("?"),
                    show(&change.before),
                    show(&change.after),
                    effect.get("kind").and_then(|k| k.as_str()).unwrap_or("?")
                );
            }
            if !result.update.is_empty() {
                println!("update:");
                cli::print_json(&result.update);
            }
            if let Some(create) = &result.create {
                println!("create:");
                cli::print_json(create);
            }
        }
    }
    Ok(if result.valid { EXIT_OK } else { EXIT_INVALID })
}

/// Reads and validates a config (a create payload); prints the issues when it is invalid.
fn load_config(path: &Path) -> anyhow::Result<Option<Connector>> {
    let input = cli::read_input(path)?;
    let result = kinesis_connector::validate_create_json(&input.text, &Context::default());
    if !result.valid {
        cli::print_issues(Some(&input), &result.errors, &result.warnings);
        eprintln!("{}: invalid config, nothing was read", input.name);
        return Ok(None);
    }
    for warning in &result.warnings {
        tracing::warn!(path = %warning.path, code = %warning.code, "{}", warning.message);
    }
    Ok(result.value)
}

async fn test_stream(
    connector: &Connector,
    endpoint: Option<&str>,
    format: Format,
) -> anyhow::Result<u8> {
    let connection = Connection::from_connector(connector, endpoint);
    let api = connection.client().await;
    let mut checks: Vec<serde_json::Value> = Vec::new();
    let mut ok = true;
    let mut check = |name: &str, status: &str, message: String| {
        if status == "fail" {
            ok = false;
        }
        checks.push(serde_json::json!({ "check": name, "status": status, "message": message }));
    };
    match api.describe(&connector.stream).await {
        Ok(summary) => {
            check(
                "credentials",
                "ok",
                format!("access key {} accepted", mask(&connection.access_key_id)),
            );
            check(
                "stream",
                "ok",
                format!("stream {} exists", connector.stream),
            );
            if summary.status == "ACTIVE" {
                check("status", "ok", "stream is ACTIVE".into());
            } else {
                check(
                    "status",
                    "fail",
                    format!("stream is {}, not ACTIVE", summary.status),
                );
            }
            // Count open shards from the listing (the emulator's summary count can lag a reshard).
            let open = match api.list_shards(&connector.stream).await {
                Ok(shards) => shards.iter().filter(|s| !s.closed).count() as u32,
                Err(_) => summary.open_shards,
            };
            if open == connector.shards {
                check("shards", "ok", format!("{open} open shards, as configured"));
            } else {
                check(
                    "shards",
                    "warning",
                    format!("{open} open shards, the config says {}", connector.shards),
                );
            }
        }
        Err(ApiError::NotFound(_)) => {
            check(
                "credentials",
                "ok",
                format!("access key {} accepted", mask(&connection.access_key_id)),
            );
            check(
                "stream",
                "fail",
                format!(
                    "stream {} does not exist in {}",
                    connector.stream, connection.region
                ),
            );
        }
        Err(error) => {
            let text = error.to_string();
            let credentials = [
                "UnrecognizedClient",
                "InvalidSignature",
                "AccessDenied",
                "ExpiredToken",
                "SignatureDoesNotMatch",
            ];
            if credentials.iter().any(|c| text.contains(c)) {
                check("credentials", "fail", text);
            } else {
                check("connection", "fail", text);
            }
        }
    }
    match format {
        Format::Json => cli::print_json(&serde_json::json!({ "ok": ok, "checks": checks })),
        Format::Human => {
            for c in &checks {
                println!(
                    "{:<8} {:<12} {}",
                    c["status"].as_str().unwrap_or(""),
                    c["check"].as_str().unwrap_or(""),
                    c["message"].as_str().unwrap_or("")
                );
            }
            println!("{}", if ok { "test passed" } else { "test failed" });
        }
    }
    Ok(if ok { EXIT_OK } else { EXIT_INVALID })
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

fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{flag} must be a non-negative number of seconds"))
}

fn consume_command(args: ConsumeArgs) -> anyhow::Result<u8> {
    let Some(connector) = load_config(&args.config)? else {
        return Ok(EXIT_INVALID);
    };
    let mut options =
        ConsumeOptions::new(args.state_dir.unwrap_or_else(consume::default_state_dir));
    options.config_path = Some(args.config.clone());
    options.watch = args.watch;
    options.endpoint_url = args.connection.endpoint_url;
    options.from = match args.from {
        From::Oldest => StartFrom::Oldest,
        From::Latest => StartFrom::Latest,
    };
    options.methods_dir = args.methods;
    options.method_limits = MethodLimits {
        call_timeout: Duration::from_millis(args.method_timeout_ms.max(1)),
        ..MethodLimits::default()
    };
    options.dead_letter = args.dead_letter;
    options.idle_timeout = args
        .idle_timeout
        .map(|s| seconds(s, "--idle-timeout"))
        .transpose()?;
    let stats = seconds(args.stats_interval, "--stats-interval")?;
    options.stats_interval = (!stats.is_zero()).then_some(stats);
    if !connector.disabled {
        // Fail before reading anything when the method is missing or broken.
        if let Err(e) = consume::load_method(&connector, &options) {
            eprintln!("error: {e}");
            return Ok(match e {
                consume::ConsumeError::NoMethodsDir(_) => EXIT_USAGE,
                _ => EXIT_INVALID,
            });
        }
    }
    let runtime = runtime()?;
    let shutdown = CancellationToken::new();
    runtime.spawn(signal_shutdown(shutdown.clone()));
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let summary = runtime.block_on(consume::run(connector, options, &mut output, shutdown))?;
    output.flush().context("cannot flush stdout")?;
    eprintln!(
        "consumed {} records: {} written, {} filtered, {} dead-lettered{}",
        summary.records,
        summary.written,
        summary.filtered,
        summary.dead_lettered,
        summary
            .dead_letter_file
            .map(|p| format!(" (to {})", p.display()))
            .unwrap_or_default()
    );
    Ok(EXIT_OK)
}

fn produce_command(args: ProduceArgs) -> anyhow::Result<u8> {
    let Some(connector) = load_config(&args.config)? else {
        return Ok(EXIT_INVALID);
    };
    if !args.partition_key.is_empty() && !args.partition_key.starts_with('/') {
        eprintln!("error: --partition-key must be a JSON pointer such as /destination/object/id");
        return Ok(EXIT_USAGE);
    }
    let dead_letter = args.dead_letter.unwrap_or_else(|| {
        args.state_dir
            .unwrap_or_else(consume::default_state_dir)
            .join(&connector.id)
            .join("produce-dead-letter.ndjson")
    });
    let mut options = ProduceOptions::new(dead_letter);
    options.config_path = Some(args.config.clone());
    options.watch = args.watch;
    options.endpoint_url = args.connection.endpoint_url;
    options.methods_dir = args.methods;
    options.method_limits = MethodLimits {
        call_timeout: Duration::from_millis(args.method_timeout_ms.max(1)),
        ..MethodLimits::default()
    };
    options.partition_key = args.partition_key;
    options.max_attempts = args.max_attempts.max(1);
    let stats = seconds(args.stats_interval, "--stats-interval")?;
    options.stats_interval = (!stats.is_zero()).then_some(stats);
    if !connector.disabled {
        // Fail before reading anything when the method is missing or broken.
        if let Err(e) = produce::load_method(&connector, &options) {
            eprintln!("error: {e}");
            return Ok(match e {
                produce::ProduceError::NoMethodsDir(_) => EXIT_USAGE,
                _ => EXIT_INVALID,
            });
        }
    }
    let runtime = runtime()?;
    let shutdown = CancellationToken::new();
    runtime.spawn(signal_shutdown(shutdown.clone()));
    let summary = if args.input.as_os_str() == "-" {
        let input = tokio::io::BufReader::with_capacity(256 << 10, tokio::io::stdin());
        runtime.block_on(produce::run(connector, options, input, shutdown))?
    } else {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot read {}", args.input.display()))?;
        let input = tokio::io::BufReader::with_capacity(256 << 10, tokio::fs::File::from_std(file));
        runtime.block_on(produce::run(connector, options, input, shutdown))?
    };
    match args.format {
        Format::Json => cli::print_json(&summary),
        Format::Human => {
            eprintln!(
                "produced: read {}, filtered {}, sent {}, dead-lettered {}{} in {:.1} s ({} PutRecords requests)",
                summary.read,
                summary.filtered,
                summary.sent,
                summary.dead_lettered,
                summary
                    .dead_letter_file
                    .as_ref()
                    .map(|p| format!(" (to {})", p.display()))
                    .unwrap_or_default(),
                summary.seconds,
                summary.requests,
            );
            if let Some(error) = &summary.error {
                eprintln!("error: {error}");
            }
            for (shard, counts) in &summary.shards {
                eprintln!(
                    "  {shard}: sent {}, dead-lettered {}",
                    counts.sent, counts.dead_lettered
                );
            }
        }
    }
    if !summary.reconciles() {
        eprintln!("error: the counts do not add up (read != sent + filtered + dead-lettered)");
        return Ok(EXIT_INVALID);
    }
    Ok(if summary.dead_lettered > 0 {
        EXIT_INVALID
    } else {
        EXIT_OK
    })
}

/// Cancels `shutdown` on SIGINT or SIGTERM; the consumer then flushes, checkpoints and exits 0.
async fn signal_shutdown(shutdown: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!(signal = "SIGTERM", "stopping"),
        _ = int.recv() => tracing::info!(signal = "SIGINT", "stopping"),
    }
    shutdown.cancel();
}
