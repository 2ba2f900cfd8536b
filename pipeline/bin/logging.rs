//! Logging: human-readable on a terminal (with a progress bar), JSON lines for CloudWatch.

use std::io::IsTerminal;

use tracing_indicatif::IndicatifLayer;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Text lines for people.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` overrides the level given by `verbosity`
/// (0: info, 1: debug, 2+: trace, for orglake's own modules; warnings from libraries).
pub fn init(format: LogFormat, verbosity: u8) {
    let level = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,aws_config=error,orglake={level}")));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Json => {
            let _ = registry
                .with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr))
                .try_init();
        }
        LogFormat::Human if std::io::stderr().is_terminal() => {
            let progress = IndicatifLayer::new();
            let writer = progress.get_stderr_writer();
            let _ = registry
                .with(tracing_subscriber::fmt::layer().with_writer(writer))
                .with(progress)
                .try_init();
        }
        LogFormat::Human => {
            let _ = registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(std::io::stderr),
                )
                .try_init();
        }
    }
}
