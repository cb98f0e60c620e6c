//! `kinesis-connector`: validate, normalize and diff connector configs; test, consume and produce.
//!
//! `main` only parses the command line, sets up tracing and the shutdown signal, calls the
//! library (`kinesis_stream::commands::run`) and maps its answer to the exit code.

use clap::Parser;
use kinesis_stream::cli::Cli;
use kinesis_stream::error::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!(
                "error: {:#}",
                anyhow::Error::new(e).context("cannot start the async runtime")
            );
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let shutdown = CancellationToken::new();
    runtime.spawn(signal_shutdown(shutdown.clone()));
    match runtime.block_on(kinesis_stream::commands::run(cli, shutdown)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            let code = e.exit_code();
            eprintln!("error: {:#}", anyhow::Error::new(e));
            ExitCode::from(code)
        }
    }
}

fn init_tracing() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KINESIS_CONNECTOR_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("warn,kinesis_stream=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Cancels `shutdown` on SIGINT or SIGTERM; a streaming command then flushes, checkpoints and
/// exits.
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
