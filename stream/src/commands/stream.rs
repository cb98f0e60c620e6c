//! `consume` and `produce` from the command line: the options (one shared part), the method
//! checked before anything is read, the run, and the summary.

use super::load_config;
use super::report::{self, Format};
use crate::checkpoint::ProgressStore;
use crate::cli::{ConsumeArgs, From, ProduceArgs, StreamArgs};
use crate::consume::{self, ConsumeOptions, StartFrom};
use crate::error::{Error, Outcome};
use crate::method::MethodLimits;
use crate::produce::progress::InputProgress;
use crate::produce::{self, ProduceError, ProduceOptions};
use crate::session::paths::{self, default_state_dir};
use crate::session::StreamOptions;
use kinesis_connector::Connector;
use std::io::{Seek, SeekFrom, Write};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The buffer between the input file (or stdin) and the producer.
const INPUT_BUFFER: usize = 256 << 10;

impl StreamArgs {
    fn options(&self) -> StreamOptions {
        let mut options =
            StreamOptions::new(self.state_dir.clone().unwrap_or_else(default_state_dir));
        options.config_path = Some(self.config.clone());
        options.watch = self.watch;
        options.endpoint_url = self.connection.endpoint_url.clone();
        options.connect_timeout = self.connection.connect_timeout;
        options.methods_dir = self.methods.clone();
        options.method_limits = MethodLimits {
            call_timeout: Duration::from_millis(self.method_timeout_ms.max(1)),
            ..MethodLimits::default()
        };
        options.dead_letter = self.dead_letter.clone();
        options.stats_interval = (!self.stats_interval.is_zero()).then_some(self.stats_interval);
        options.discard_corrupt_state = self.discard_corrupt_state;
        options
    }
}

/// Fails before anything is read when the method is missing or broken.
fn check_method(connector: &Connector, options: &StreamOptions) -> Result<(), Error> {
    if !connector.disabled {
        options.load_method(connector)?;
    }
    Ok(())
}

pub async fn consume(args: ConsumeArgs, shutdown: CancellationToken) -> Result<Outcome, Error> {
    let Some(connector) = load_config(&args.common.config)? else {
        return Ok(Outcome::Invalid);
    };
    let mut options = ConsumeOptions::with(args.common.options());
    options.from = match args.from {
        From::Oldest => StartFrom::Oldest,
        From::Latest => StartFrom::Latest,
    };
    options.idle_timeout = args.idle_timeout;
    options.metrics_addr = args.metrics_addr;
    if let Some(table) = &args.lease_table {
        if args.failover_time < std::time::Duration::from_millis(300) {
            return Err(Error::Usage(
                "--failover-time must be at least 0.3 seconds".into(),
            ));
        }
        let mut lease = crate::lease::LeaseOptions::new(table);
        if let Some(id) = &args.worker_id {
            if id.trim().is_empty() {
                return Err(Error::Usage("--worker-id must not be empty".into()));
            }
            lease.worker_id = id.clone();
        }
        lease.failover = args.failover_time;
        lease.endpoint_url = args.dynamodb_endpoint_url.clone();
        options.lease = Some(lease);
    }
    if let Some(name) = &args.efo {
        // The service's own rule for consumer names.
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            return Err(Error::Usage(format!(
                "--efo {name:?}: a stream consumer name is 1 to 128 characters of letters, digits, '_', '.' and '-'"
            )));
        }
        if args.efo_silence_timeout < std::time::Duration::from_millis(500) {
            return Err(Error::Usage(
                "--efo-silence-timeout must be at least 0.5 seconds".into(),
            ));
        }
        let mut efo = consume::EfoOptions::new(name);
        efo.deregister = args.efo_deregister;
        efo.silence_timeout = args.efo_silence_timeout;
        options.efo = Some(efo);
    }
    check_method(&connector, &options.common)?;
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let summary = consume::run(connector, options, &mut output, shutdown).await?;
    output.flush().map_err(Error::Output)?;
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
    Ok(Outcome::Ok)
}

pub async fn produce(args: ProduceArgs, shutdown: CancellationToken) -> Result<Outcome, Error> {
    let Some(connector) = load_config(&args.common.config)? else {
        return Ok(Outcome::Invalid);
    };
    if !args.partition_key.is_empty() && !args.partition_key.starts_with('/') {
        return Err(Error::Usage(
            "--partition-key must be a JSON pointer such as /destination/object/id".into(),
        ));
    }
    let mut options = ProduceOptions::with(args.common.options());
    options.partition_key = args.partition_key;
    options.max_attempts = args.max_attempts.max(1);
    check_method(&connector, &options.common)?;
    let summary = if args.input.as_os_str() == "-" {
        let input = tokio::io::BufReader::with_capacity(INPUT_BUFFER, tokio::io::stdin());
        produce::run(connector, options, input, shutdown).await?
    } else {
        let read_error = |source| report::ReadError::new(args.input.display().to_string(), source);
        let mut file = std::fs::File::open(&args.input).map_err(read_error)?;
        let canonical = std::fs::canonicalize(&args.input).map_err(read_error)?;
        let store = ProgressStore::new(paths::progress_file(
            &options.common.state_dir,
            &connector,
            &canonical,
        ));
        let progress = InputProgress::open(
            store,
            canonical,
            args.restart_input,
            options.common.discard_corrupt_state,
        )
        .map_err(ProduceError::Progress)?;
        if progress.start_line > 0 {
            eprintln!(
                "{}: continuing after line {}, done in an earlier run (progress record {}; --restart-input sends the whole file)",
                args.input.display(),
                progress.start_line,
                progress.store.path().display()
            );
            file.seek(SeekFrom::Start(progress.start_offset))
                .map_err(read_error)?;
        }
        options.input_progress = Some(progress);
        let input =
            tokio::io::BufReader::with_capacity(INPUT_BUFFER, tokio::fs::File::from_std(file));
        produce::run(connector, options, input, shutdown).await?
    };
    match args.format {
        Format::Json => report::print_json(&summary)?,
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
            if let Some(line) = summary.resumed_after_line {
                eprintln!("  (continued after line {line})");
            }
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
        return Ok(Outcome::Invalid);
    }
    Ok(if summary.error.is_some() {
        Outcome::StreamFailed
    } else if summary.dead_lettered > 0 {
        Outcome::Invalid
    } else {
        Outcome::Ok
    })
}
