use std::process::ExitCode;

use clap::Parser;

// mimalloc: glibc's malloc spent a quarter of large member changes' CPU in its own
// bookkeeping (BENCHMARKS.md, "Full outbound sync of the tree").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = scimhub::cli::Cli::parse();
    match scimhub::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the cause printed (libpq errors span several).
            let message = format!("{e:#}");
            eprintln!(
                "error: {}",
                message.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            ExitCode::FAILURE
        }
    }
}
