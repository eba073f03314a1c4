use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = scimhub::cli::Cli::parse();
    match scimhub::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
