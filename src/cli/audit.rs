//! `scimhub audit list`: the audit trail, newest first, as a table or JSON.

use clap::Subcommand;

use super::{DatabaseArg, open_store};
use crate::config::Config;
use crate::store::{AuditQuery, AuditRecord};

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// List audit events, newest first.
    #[command(after_help = "Examples:\n  \
        scimhub audit list --limit 20\n  \
        scimhub audit list --actor okta --since 2026-11-22T00:00:00Z\n  \
        scimhub audit list --resource USER_ID --json")]
    List {
        /// Only events at or after this time (RFC 3339, e.g. 2026-11-22T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only events by this actor (a token name, jwt:ISS:SUB, or cli:USER).
        #[arg(long)]
        actor: Option<String>,
        /// Only events about this resource id.
        #[arg(long)]
        resource: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print them as JSON: `{"events": [...]}`.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

impl AuditCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            AuditCommand::List { db, .. } => db,
        }
    }
}

pub(super) fn run(cmd: &AuditCommand, config: &Config) -> anyhow::Result<()> {
    let AuditCommand::List {
        since,
        actor,
        resource,
        limit,
        json,
        ..
    } = cmd;
    let since = since
        .as_deref()
        .map(|s| chrono::DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&chrono::Utc)))
        .transpose()
        .map_err(|_| {
            anyhow::anyhow!("--since must be an RFC 3339 time such as 2026-11-22T00:00:00Z")
        })?;
    // Reading only: no service (and no audit row) needed.
    let store = open_store(config)?;
    let rows = store.audit(&AuditQuery {
        since,
        actor: actor.clone(),
        resource_id: resource.clone(),
        limit: *limit,
        ..AuditQuery::default()
    })?;
    if *json {
        let listed = serde_json::json!({ "events": rows });
        println!("{}", serde_json::to_string_pretty(&listed)?);
    } else {
        print_table(&rows);
    }
    Ok(())
}

fn print_table(rows: &[AuditRecord]) {
    println!(
        "{:<24} {:<18} {:<28} {:<34} {:<15} ATTRIBUTES / DETAIL",
        "TIME", "EVENT", "ACTOR", "RESOURCE", "SOURCE"
    );
    for r in rows {
        let resource = match (&r.resource_type, &r.resource_id) {
            (Some(t), Some(id)) => format!("{t}/{id}"),
            _ => "-".into(),
        };
        let what = if r.attributes.is_empty() {
            r.detail.clone().unwrap_or_default()
        } else {
            r.attributes.join(",")
        };
        println!(
            "{:<24} {:<18} {:<28} {:<34} {:<15} {what}",
            r.at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            r.event,
            r.actor,
            resource,
            r.source.as_deref().unwrap_or("-"),
        );
    }
}
