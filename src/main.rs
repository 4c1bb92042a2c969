//! The `close-lake` binary: parse the command line, run it, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = close_lake::cli::Cli::parse();
    close_lake::report::init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("close-lake: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(close_lake::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err.exit_code();
            let message = format!("{:#}", anyhow::Error::from(err));
            eprintln!("close-lake: {}", close_lake::report::one_line(&message));
            ExitCode::from(code)
        }
    }
}
