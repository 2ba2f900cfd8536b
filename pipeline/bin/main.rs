//! The `orglake` binary: parse the command line, run, map errors to exit codes.

mod allocator;
mod cli;
mod flags;
mod logging;
mod progress_bar;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, EXIT_ERROR, execute};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(execute(cli)).map_err(anyhow::Error::from) {
        Ok(code) => code,
        Err(err) => {
            // One line: the library's messages already carry their cause.
            let message = orglake::notify::one_line(&err.to_string());
            eprintln!("error: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
