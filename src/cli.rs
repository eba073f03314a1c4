//! Command-line interface: `serve`, `token` management, `dept` (the
//! organization tree), `schema` (extension schemas) and `conformance`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, Overrides};
use crate::service::token_admin::TokenView;
use crate::service::{Services, tokens};
use crate::store::diesel::{DieselStore, redact_url};
use crate::store::{Actor, Store};

mod audit;
mod changes;
mod dept;
mod door;
mod failures;
#[cfg(test)]
mod help;
mod schema;
mod source;
mod subscription;
mod sync;
mod target;

#[derive(Debug, Parser)]
#[command(
    name = "scimhub",
    version,
    about = "SCIM 2.0 identity hub: inbound SCIM service provider and outbound sync center",
    long_about = "SCIM 2.0 identity hub: inbound SCIM service provider and outbound sync center.\n\n\
                  Every command reads the same configuration: defaults, then --config FILE, then \
                  SCIMHUB_* environment variables, then flags (docs/configuration.md).",
    after_help = "Examples:\n  \
                  scimhub serve                               # SQLite ./scimhub.db, 127.0.0.1:8080\n  \
                  scimhub token create --name okta            # a token for an identity provider\n  \
                  scimhub target add --name crm --url https://crm.example/scim/v2 --token T\n  \
                  scimhub sync run crm --dry-run\n\n\
                  Documentation: README.md and docs/ in the source tree."
)]
pub struct Cli {
    /// TOML configuration file (keys as in docs/configuration.md).
    #[arg(long, global = true, env = "SCIMHUB_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the SCIM server (and the sync workers and webhook deliveries).
    #[command(after_help = "Examples:\n  \
        scimhub serve\n  \
        scimhub serve --listen 0.0.0.0:8080 --database sqlite:///var/lib/scimhub/scimhub.db\n  \
        SCIMHUB_SECRET_KEY=$(openssl rand -hex 32) scimhub serve --database postgres://scimhub@db/scimhub")]
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080; env SCIMHUB_LISTEN].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Manage API bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage downstream SCIM targets of the sync center.
    #[command(subcommand)]
    Target(target::TargetCommand),
    /// Manage upstream sources (HR files, another SCIM server, LDAP / AD)
    /// and import from them.
    #[command(subcommand)]
    Source(source::SourceCommand),
    /// Run the sync center: full syncs, dry runs, approvals.
    #[command(subcommand)]
    Sync(sync::SyncCommand),
    /// The incremental sync's failure queue.
    #[command(subcommand)]
    Failures(failures::FailuresCommand),
    /// The organization tree: departments.
    #[command(subcommand)]
    Dept(dept::DeptCommand),
    /// Manage change-event webhook subscriptions.
    #[command(subcommand)]
    Subscription(subscription::SubscriptionCommand),
    /// Extension schemas for Users and Groups.
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// Replay the shipped conformance cases against a SCIM server.
    Conformance(crate::conformance::command::ConformanceArgs),
    /// Maintain the change log behind the pull API.
    #[command(subcommand)]
    Changes(changes::ChangesCommand),
    /// Read the audit trail (newest first).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Copy the live SQLite store into FILE, consistently, while it serves
    /// (PostgreSQL: use pg_dump).
    #[command(after_help = "Example:\n  \
        scimhub backup /var/backups/scimhub-$(date +%F).db --database sqlite:///var/lib/scimhub/scimhub.db")]
    Backup {
        /// The new backup file (must not exist).
        file: PathBuf,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Restore a backup made with `scimhub backup` as a new SQLite store
    /// (the database file must not exist yet).
    #[command(after_help = "Example:\n  \
        scimhub restore /var/backups/scimhub-2026-12-07.db --database sqlite:///srv/scimhub/new.db\n\n\
        Then run a full sync of each target (`scimhub sync run NAME --dry-run` first).")]
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Run a benchmark and print its numbers.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Seed users and time the filters clients send (end to end over HTTP).
    Query {
        /// How many users to seed.
        #[arg(long, default_value_t = 1_000_000)]
        users: u64,
        /// Sequential requests per scenario.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Database URL (default: a fresh SQLite file in a temp dir).
        #[arg(long = "database", value_name = "URL")]
        database: Option<String>,
    },
    /// Time member add/remove at several group sizes and /Bulk imports.
    Writes {
        /// Group sizes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "100,10000,100000")]
        sizes: Vec<u64>,
        /// Add/remove pairs per size.
        #[arg(long, default_value_t = 500)]
        changes: usize,
        /// 1,000-user /Bulk requests.
        #[arg(long, default_value_t = 5)]
        bulk_rounds: usize,
    },
    /// Full sync into a second scimhub, a no-change re-run, and change → target latency.
    Sync {
        /// Users to seed on the source.
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        /// Groups to seed on the source.
        #[arg(long, default_value_t = 100)]
        groups: u64,
        /// Members per group.
        #[arg(long, default_value_t = 200)]
        members: u64,
        /// Source writes timed until they reach the target.
        #[arg(long, default_value_t = 50)]
        samples: usize,
    },
    /// Issue #17's numbers: an HR export (1% invalid rows) imported into an
    /// empty store, a no-change re-import, and an incremental LDAP import
    /// from a real slapd (needs python3, slapd and ldap-utils).
    #[command(after_help = "Examples (release build):\n  \
        scimhub bench sources                            # 100,000 rows, LDAP 100,000 people, 100 changes\n  \
        scimhub bench sources --people 10000 --ldap-people 0")]
    Sources {
        /// Rows of the HR export.
        #[arg(long, default_value_t = 100_000)]
        people: usize,
        /// Share of the rows that must be refused.
        #[arg(long, default_value_t = 0.01)]
        bad: f64,
        /// People in the LDAP directory (0: leave LDAP out).
        #[arg(long, default_value_t = 100_000)]
        ldap_people: usize,
        /// Directory entries changed before the incremental import.
        #[arg(long, default_value_t = 100)]
        changes: usize,
        /// Database URL of an empty database (default: fresh SQLite files).
        #[arg(long = "database", value_name = "URL")]
        database: Option<String>,
    },
    /// The organization tree: "everyone under a top-level department" and
    /// moving a subtree, end to end over HTTP.
    #[command(after_help = "Examples (release build):\n  \
        scimhub bench departments\n  \
        scimhub bench departments --database postgres://USER@HOST/EMPTY_DB")]
    Departments {
        /// Departments to seed (10 top-level, 20 under each, the rest under those).
        #[arg(long, default_value_t = 5_000)]
        departments: u64,
        /// People to seed, spread evenly over the departments.
        #[arg(long, default_value_t = 100_000)]
        people: u64,
        /// Sequential "everyone under" requests.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Subtree moves timed.
        #[arg(long, default_value_t = 20)]
        moves: usize,
        /// Database URL of an empty database (default: a fresh SQLite file).
        #[arg(long = "database", value_name = "URL")]
        database: Option<String>,
        /// Skip the full outbound sync of the tree into a second scimhub.
        #[arg(long)]
        no_outbound: bool,
    },
    /// Issue #8's table: every scenario under concurrent load, as a ratio
    /// to a static route of the same server, medians over runs.
    #[command(after_help = "Examples (release build):\n  \
        scimhub bench suite --runs 3\n  \
        scimhub bench suite --only POST --json\n  \
        scimhub bench suite --database postgres://USER@HOST/EMPTY_DB")]
    Suite {
        /// Users to seed (lookups pick among them).
        #[arg(long, default_value_t = 100_000)]
        users: u64,
        /// Runs of every scenario; the table shows medians.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds each scenario is timed per run (after a short warm-up).
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        /// Database URL of an empty database (default: a fresh SQLite file).
        #[arg(long = "database", value_name = "URL")]
        database: Option<String>,
        /// Group sizes for member add/remove, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "100,10000,100000")]
        member_sizes: Vec<u64>,
        /// 1,000-user /Bulk requests per run.
        #[arg(long, default_value_t = 3)]
        bulk_rounds: usize,
        /// Users in the outbound full-sync row (with 100 groups of 200 members).
        #[arg(long, default_value_t = 10_000)]
        sync_users: u64,
        /// Only the rows whose name contains this text (case-insensitive);
        /// the ceiling is always measured.
        #[arg(long, value_name = "TEXT")]
        only: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// `serve` processes sharing the database (more than one needs
        /// --database postgres://…); the connections are spread over them.
        #[arg(long, default_value_t = 1)]
        instances: usize,
    },
}

#[derive(Debug, Args)]
struct DatabaseArg {
    /// Database URL: postgres://… or sqlite://PATH or a file path
    /// [default: sqlite://scimhub.db; env SCIMHUB_DATABASE_URL].
    #[arg(long = "database", value_name = "URL")]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; the token itself is printed alone on the last line.
    #[command(after_help = "Examples:\n  \
        scimhub token create --name okta\n  \
        scimhub token create --name ops --scopes admin\n  \
        TOKEN=$(scimhub token create --name reader --scopes scim:read | tail -n 1)")]
    Create {
        /// A unique name (1-64 letters, digits, `.`, `_`, `-`, `@`); it is the actor in the audit trail.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: scim:read, scim:write, admin.
        #[arg(long, default_value = "scim:read,scim:write")]
        scopes: String,
        /// Bind the token to a User id (its subject for /Me).
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List tokens (never their secrets) with the id the admin API's
    /// `DELETE /admin/v1/tokens/{id}` takes.
    List {
        /// Print them as JSON, as `GET /admin/v1/tokens` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Revoke the live token with this name.
    Revoke {
        /// The token's name (see `token list`).
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

fn load_config(cli: &Cli, overrides: Overrides) -> anyhow::Result<Config> {
    let env: HashMap<String, String> = std::env::vars().collect();
    Config::load(cli.config.as_deref(), &env, &overrides)
}

fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = DieselStore::open(&config.database_url, config.pool_size)?;
    Ok(Arc::new(store))
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let db_override = |db: &DatabaseArg| Overrides {
        database_url: db.database.clone(),
        ..Overrides::default()
    };
    match &cli.command {
        Command::Serve { listen, db } => {
            let overrides = Overrides {
                listen: listen.clone(),
                database_url: db.database.clone(),
            };
            let config = load_config(&cli, overrides)?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            serve(&config)
        }
        Command::Bench(BenchCommand::Query {
            users,
            requests,
            database,
        }) => {
            crate::telemetry::init(crate::config::LogFormat::Text, "warn");
            crate::bench::run_query_bench(&crate::bench::QueryBench {
                users: *users,
                requests: *requests,
                database: database.clone(),
            })
        }
        Command::Bench(BenchCommand::Writes {
            sizes,
            changes,
            bulk_rounds,
        }) => {
            crate::telemetry::init(crate::config::LogFormat::Text, "warn");
            crate::bench::run_write_bench(&crate::bench::WriteBench {
                sizes: sizes.clone(),
                changes: *changes,
                bulk_rounds: *bulk_rounds,
            })
        }
        Command::Bench(BenchCommand::Sync {
            users,
            groups,
            members,
            samples,
        }) => {
            crate::telemetry::init(crate::config::LogFormat::Text, "warn");
            crate::bench::run_sync_bench(&crate::bench::SyncBench {
                users: *users,
                groups: *groups,
                members: *members,
                propagation_samples: *samples,
                print: true,
            })
            .map(drop)
        }
        Command::Bench(BenchCommand::Sources {
            people,
            bad,
            ldap_people,
            changes,
            database,
        }) => {
            crate::telemetry::init(crate::config::LogFormat::Text, "warn");
            crate::bench::run_sources_bench(&crate::bench::SourcesBench {
                people: *people,
                bad: *bad,
                ldap_people: *ldap_people,
                changes: *changes,
                database: database.clone(),
            })
        }
        Command::Bench(BenchCommand::Departments {
            departments,
            people,
            requests,
            moves,
            database,
            no_outbound,
        }) => {
            crate::telemetry::init(crate::config::LogFormat::Text, "warn");
            crate::bench::run_department_bench(&crate::bench::DepartmentBench {
                departments: *departments,
                people: *people,
                requests: *requests,
                moves: *moves,
                database: database.clone(),
                outbound: !*no_outbound,
            })
        }
        Command::Bench(BenchCommand::Suite {
            users,
            runs,
            concurrency,
            duration,
            database,
            member_sizes,
            bulk_rounds,
            sync_users,
            only,
            json,
            instances,
        }) => {
            crate::telemetry::init(crate::config::LogFormat::Text, "warn");
            anyhow::ensure!(
                duration.is_finite() && *duration > 0.0,
                "--duration must be a positive number of seconds"
            );
            crate::bench::run_suite_bench(&crate::bench::SuiteBench {
                users: *users,
                runs: *runs,
                concurrency: *concurrency,
                duration: std::time::Duration::from_secs_f64(*duration),
                database: database.clone(),
                member_sizes: member_sizes.clone(),
                bulk_rounds: *bulk_rounds,
                sync_users: *sync_users,
                only: only.clone(),
                json: *json,
                instances: *instances,
            })
        }
        Command::Changes(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            changes::run(cmd, &config)
        }
        Command::Audit(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            audit::run(cmd, &config)
        }
        Command::Token(cmd) => {
            let db = match cmd {
                TokenCommand::Create { db, .. }
                | TokenCommand::List { db, .. }
                | TokenCommand::Revoke { db, .. } => db,
            };
            let config = load_config(&cli, db_override(db))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            token(cmd, &config)
        }
        Command::Target(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            target::run(cmd, &config)
        }
        Command::Source(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            source::run(cmd, &config)
        }
        Command::Failures(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            failures::run(cmd, &config)
        }
        Command::Sync(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            sync::run(cmd, &config)
        }
        Command::Dept(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            dept::run(cmd, &config)
        }
        Command::Subscription(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            subscription::run(cmd, &config)
        }
        Command::Schema(cmd) => {
            let config = load_config(&cli, db_override(cmd.db()))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            schema::run(cmd, &config)
        }
        Command::Conformance(args) => crate::conformance::command::run(args),
        Command::Backup { file, db } => {
            let config = load_config(&cli, db_override(db))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            let store = DieselStore::open(&config.database_url, 1)?;
            store.backup_to(file)?;
            println!(
                "Backed up {} to {}.",
                redact_url(&config.database_url),
                file.display()
            );
            Ok(())
        }
        Command::Restore { file, db } => {
            let config = load_config(&cli, db_override(db))?;
            crate::telemetry::init(config.log_format, &config.log_filter);
            let restored = crate::store::diesel::restore(file, &config.database_url)?;
            println!(
                "Restored {} into {}: {} users, {} groups. Sync targets resume from their \
                 saved cursors; run a full sync of each (`scimhub sync run NAME --dry-run` \
                 first) to repair what changed downstream since the backup.",
                file.display(),
                redact_url(&config.database_url),
                restored.users,
                restored.groups
            );
            Ok(())
        }
    }
}

/// With no live token (and no JWT issuer) nothing can call the API: say how
/// to make one, on the terminal and in the log.
fn first_run_hint(store: &dyn Store, config: &Config) {
    let live = tokens::list(store).map(|t| t.iter().any(|t| t.revoked.is_none()));
    if matches!(live, Ok(false)) && config.jwt_issuers.is_empty() {
        let hint = "no API token exists yet: create one with \
                    `scimhub token create --name NAME` (add `--scopes admin` for the admin API)";
        eprintln!("scimhub: {hint}");
        tracing::warn!("{hint}");
    }
}

fn serve(config: &Config) -> anyhow::Result<()> {
    // A listen address that does not resolve, or a certificate that cannot
    // be used, fails before anything starts.
    config.listen_addrs()?;
    let certificate = crate::http::tls::load(&config.tls)?;
    let scheme = if certificate.is_some() {
        "https"
    } else {
        "http"
    };
    let db = Arc::new(DieselStore::open(&config.database_url, config.pool_size)?);
    tracing::info!(database = %redact_url(&config.database_url), "database ready");
    let store: Arc<dyn Store> = db.clone();
    first_run_hint(store.as_ref(), config);
    let services = Services::new(db.clone(), config)?;
    // Incremental sync runs beside the server and stops after it.
    let workers = if config.sync.enabled {
        let ctx = crate::provision::worker::WorkerContext::new(
            db.clone(),
            db.clone(),
            config.secret_key.clone(),
            config.sync.clone(),
        )
        .with_rate_limits(services.sync.rate_limits())
        .with_metrics(services.metrics.clone())
        .with_notifier(crate::service::notifications::notifier(db.clone(), config));
        Some(crate::provision::worker::Workers::start(ctx)?)
    } else {
        None
    };
    let served = actix_web::rt::System::new().block_on(async {
        // Started before the listener, so a signal that arrives as soon as
        // the port answers finds the server's handlers in place.
        let webhooks = crate::service::notifications::start_workers(
            store,
            db,
            config,
            services.events.publisher(),
        )?;
        // Scheduled and watched-directory imports of the upstream sources.
        if config.sync.enabled {
            actix_web::rt::spawn(crate::service::source_admin::schedule::run(
                services.sources.clone(),
            ));
        }
        if let Some(addr) = &config.metrics_listen {
            let (metrics, bound) = crate::http::bind_metrics(config, services.clone(), addr)?;
            tracing::info!(addr = %bound, "metrics listening at /metrics (no token)");
            actix_web::rt::spawn(metrics);
        }
        let served = match crate::http::bind_with(config, services, certificate) {
            Ok((server, addr)) => {
                tracing::info!(%addr, scheme, "scimhub listening; SCIM base path /scim/v2");
                if config.console.enabled {
                    tracing::info!("web console at {scheme}://{addr}/console (sign in with an admin-scope token)");
                }
                server.await.context("server stopped with an error")
            }
            Err(e) => Err(e),
        };
        webhooks.stop().await;
        served
    });
    if let Some(w) = workers {
        w.stop();
    }
    tracing::info!("scimhub stopped");
    served
}

fn token(cmd: &TokenCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(config)?;
    match cmd {
        TokenCommand::Create {
            name, scopes, user, ..
        } => {
            let scopes = tokens::parse_scopes(scopes)?;
            if let Some(id) = user {
                store
                    .get_user(id, false)
                    .map_err(|_| anyhow::anyhow!("no user with id {id:?}"))?;
            }
            let actor = Actor::system(&door::cli_actor());
            let (_, secret) =
                tokens::create_by(store.as_ref(), &actor, name, scopes.clone(), user.clone())?;
            println!("Created token {name:?} with scopes {}.", scopes.join(" "));
            println!("Store it now: it cannot be shown again.");
            println!("{secret}");
        }
        TokenCommand::List { json, .. } => {
            let tokens: Vec<TokenView> = tokens::list(store.as_ref())?
                .into_iter()
                .map(TokenView::from)
                .collect();
            if *json {
                let listed = serde_json::json!({ "tokens": tokens });
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else {
                print_tokens(&tokens);
            }
        }
        TokenCommand::Revoke { name, .. } => {
            tokens::revoke(store.as_ref(), &Actor::system(&door::cli_actor()), name)?;
            println!("Revoked token {name:?}.");
            // A running server trusts a token it verified for this long; only
            // a revocation through its own admin API reaches it sooner.
            match config.token_cache_secs {
                0 => println!("A running scimhub refuses it from now on (token_cache_secs = 0)."),
                1 => println!(
                    "A running scimhub may accept it for up to 1 more second (token_cache_secs)."
                ),
                secs => println!(
                    "A running scimhub may accept it for up to {secs} more seconds (token_cache_secs)."
                ),
            }
        }
    }
    Ok(())
}

fn print_tokens(tokens: &[TokenView]) {
    println!(
        "{:<18} {:<24} {:<28} {:<22} {:<22} STATUS",
        "ID", "NAME", "SCOPES", "CREATED", "LAST USED"
    );
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_string(), |t| {
            t.format("%Y-%m-%d %H:%M:%SZ").to_string()
        })
    };
    for t in tokens {
        let status = if t.revoked.is_some() {
            "revoked"
        } else {
            "live"
        };
        println!(
            "{:<18} {:<24} {:<28} {:<22} {:<22} {status}",
            t.id,
            t.name,
            t.scopes.join(" "),
            fmt(Some(t.created)),
            fmt(t.last_used)
        );
    }
}
