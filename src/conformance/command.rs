//! `scimhub conformance`: replays the embedded cases against a server.

use clap::Args;

use super::catalog::{self, Suite};
use super::runner::{Runner, Target};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    scimhub conformance --url http://127.0.0.1:8080/scim/v2 --token \"$TOKEN\"\n  \
    SCIMHUB_CONFORMANCE_TOKEN=... scimhub conformance --url https://test.example.com/scim/v2 --only okta\n\n\
    The cases create and then delete their own users and groups: run them against a test \
    instance.")]
pub struct ConformanceArgs {
    /// SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2.
    #[arg(long, value_name = "BASE_URL")]
    url: String,
    /// Bearer token with read and write access.
    #[arg(long, env = "SCIMHUB_CONFORMANCE_TOKEN", hide_env_values = true)]
    token: String,
    /// Bearer token with read access only (the scope cases are skipped without it).
    #[arg(long, env = "SCIMHUB_CONFORMANCE_READ_TOKEN", hide_env_values = true)]
    read_token: Option<String>,
    /// Run one suite only: rfc7644, okta, entra, tolerance, extensions or events.
    #[arg(long, value_name = "SUITE")]
    only: Option<Suite>,
}

/// Prints the table; an error (so exit code 1) when any case failed.
pub fn run(args: &ConformanceArgs) -> anyhow::Result<()> {
    let cases = catalog::load(args.only).map_err(anyhow::Error::msg)?;
    let target = Target {
        base_url: args.url.clone(),
        token: args.token.clone(),
        read_token: args.read_token.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let runner = Runner::new(target)?;
        Ok::<_, reqwest::Error>(runner.run(&cases).await)
    })?;
    print!("{report}");
    if report.failed() > 0 {
        anyhow::bail!(
            "{} of {} conformance cases failed",
            report.failed(),
            report.results.len()
        );
    }
    Ok(())
}
