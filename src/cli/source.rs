//! `scimhub source add|update|list|show|remove|test|run|runs|report|approve|reject|failures`:
//! the organization center's upstream sources, over the same service (and
//! audit trail) as `/admin/v1/sources`. Flags become the admin API's
//! request body; secrets can come from the environment instead of flags.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use super::DatabaseArg;
use super::door::Door;
use super::sync::progress_bar;
use crate::config::Config;
use crate::provision::source::{FileInput, ImportOptions, ImportReport, RunMode, render};
use crate::service::source_admin::{self, DEFAULT_PREVIEW, DEFAULT_RUNS, MAX_PREVIEW, MAX_RUNS};

const TOKEN_ENV: &str = "SCIMHUB_SOURCE_TOKEN";
const PASSWORD_ENV: &str = "SCIMHUB_SOURCE_PASSWORD";
const CLIENT_SECRET_ENV: &str = "SCIMHUB_SOURCE_CLIENT_SECRET";

#[derive(Debug, Subcommand)]
pub(super) enum SourceCommand {
    /// Add an upstream source: HR files, another SCIM server or an LDAP
    /// directory / Active Directory (credentials stored encrypted with
    /// SCIMHUB_SECRET_KEY). Nothing is imported until `source run`.
    #[command(after_help = "Examples:\n  \
        scimhub source add --name hr --kind file --path /srv/hr/people.csv \\\n      \
        --departments-path /srv/hr/departments.csv --mapping hr.toml --phone-region US\n  \
        SCIMHUB_SOURCE_PASSWORD=... scimhub source add --name ad --kind ldap \\\n      \
        --url ldaps://dc.example.com --base-dn dc=example,dc=com --bind-dn cn=scimhub,dc=example,dc=com\n  \
        SCIMHUB_SOURCE_TOKEN=... scimhub source add --name idp --kind scim --url https://idp.example/scim/v2\n\n\
        Settings, mappings and cleansing: docs/sources.md.")]
    Add(Box<AddArgs>),
    /// Change a source in place (links, runs and failure list stay); only
    /// the options given change.
    #[command(after_help = "Examples:\n  \
        scimhub source update hr --mapping hr.toml   # then: scimhub source run hr --dry-run\n  \
        scimhub source update ad --schedule 900 --schedule-mode incremental")]
    Update(Box<UpdateArgs>),
    /// List sources with their last run and failure count.
    List {
        /// Print them as JSON, as `GET /admin/v1/sources` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show one source's settings and mapping (never its credentials).
    Show {
        /// The source's name.
        name: String,
        /// Print it as JSON, as `GET /admin/v1/sources/{name}` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a source with its links, runs and failure list (the users and
    /// groups it imported stay).
    Remove {
        /// The source's name.
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Read the source and show what its first records map to (or why they
    /// would be refused); writes nothing. Exits 1 when the source cannot be read.
    Test {
        /// The source's name.
        name: String,
        /// How many records to show [default: 5].
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// A file source: read this file instead of its path.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print the preview as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Import from a source now; exits 1 when the run failed, refused
    /// records or awaits approval.
    #[command(after_help = "Examples:\n  \
        scimhub source run hr --dry-run         # create / update / deactivate / unchanged\n  \
        scimhub source run hr                   # import; refused records: `source failures hr`\n  \
        scimhub source run hr --file /tmp/people-2026-12.csv\n  \
        scimhub source run ad --incremental     # only what changed since the last run")]
    Run {
        /// The source's name.
        name: String,
        /// Only what changed since the last run (SCIM and LDAP sources).
        #[arg(long)]
        incremental: bool,
        /// Plan and report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// A file source: import this file instead of its path.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List a source's runs, newest first.
    Runs {
        /// The source's name.
        name: String,
        /// At most this many (1-100) [default: 20].
        #[arg(long)]
        limit: Option<String>,
        /// Print them as JSON, as `GET /admin/v1/sources/{name}/runs` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show one run's report.
    Report {
        /// The run's id (see `source runs`).
        run_id: String,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Apply the deprovisions a run held back (deletion guard).
    Approve {
        /// The run awaiting approval.
        run_id: String,
        /// Print the updated report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Refuse the deprovisions a run held back; those users stay active.
    Reject {
        /// The run awaiting approval.
        run_id: String,
        /// Print the updated report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// The records a source's runs refused, with the reason and the record
    /// as read; an entry goes once a run imports the fixed record.
    Failures {
        /// The source's name.
        name: String,
        /// Print them as JSON, as `GET /admin/v1/sources/{name}/failures` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

/// Credentials: a token, basic auth (an LDAP bind DN and password), or OAuth client credentials.
#[derive(Debug, Args)]
pub(super) struct CredentialArgs {
    /// SCIM: bearer token (or env SCIMHUB_SOURCE_TOKEN, which keeps it out of shell history).
    #[arg(long, conflicts_with_all = ["basic_user", "bind_dn", "oauth_token_url"])]
    token: Option<String>,
    /// SCIM: HTTP basic auth user name.
    #[arg(long, value_name = "USER", conflicts_with_all = ["bind_dn", "oauth_token_url"])]
    basic_user: Option<String>,
    /// LDAP: the DN to bind as (anonymous without it).
    #[arg(long, value_name = "DN", conflicts_with = "oauth_token_url")]
    bind_dn: Option<String>,
    /// The basic-auth or bind password (or env SCIMHUB_SOURCE_PASSWORD).
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
    /// SCIM: OAuth 2.0 token URL for the client-credentials grant.
    #[arg(long, value_name = "URL")]
    oauth_token_url: Option<String>,
    /// SCIM: OAuth client id.
    #[arg(long, requires = "oauth_token_url")]
    client_id: Option<String>,
    /// SCIM: OAuth client secret (or env SCIMHUB_SOURCE_CLIENT_SECRET).
    #[arg(long, value_name = "SECRET", requires = "oauth_token_url")]
    client_secret: Option<String>,
    /// SCIM: OAuth scope to ask for (space-separated).
    #[arg(long, value_name = "SCOPE", requires = "oauth_token_url")]
    oauth_scope: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Auto,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    Full,
    Incremental,
}

/// Every non-secret setting; on `update` only those given change.
#[derive(Debug, Args)]
pub(super) struct SettingsArgs {
    /// File: the users (people) file, an absolute path.
    #[arg(long, value_name = "FILE")]
    path: Option<String>,
    /// File: the groups file, an absolute path.
    #[arg(long, value_name = "FILE")]
    groups_path: Option<String>,
    /// File: the departments file (the organization tree), an absolute path.
    #[arg(long, value_name = "FILE")]
    departments_path: Option<String>,
    /// File: import each new file put in this directory (while serving).
    #[arg(long, value_name = "DIR")]
    watch_dir: Option<String>,
    /// File: how files are read [default: auto, by the first character].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// File: the CSV delimiter [default: guessed from the header line].
    #[arg(long, value_name = "CHAR")]
    delimiter: Option<char>,
    /// SCIM: the base URL; LDAP: ldap://host:port or ldaps://host:port.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// LDAP: the DN users and groups are searched under.
    #[arg(long, value_name = "DN")]
    base_dn: Option<String>,
    /// LDAP: the filter choosing users [default: (objectClass=inetOrgPerson)].
    #[arg(long, value_name = "FILTER")]
    user_filter: Option<String>,
    /// LDAP: the filter choosing groups [default: groupOfNames or groupOfUniqueNames].
    #[arg(long, value_name = "FILTER")]
    group_filter: Option<String>,
    /// LDAP: the DN whose organizational units below it are departments [default: none read].
    #[arg(long, value_name = "DN")]
    departments_base: Option<String>,
    /// LDAP: the filter choosing departments [default: (objectClass=organizationalUnit)].
    #[arg(long, value_name = "FILTER")]
    department_filter: Option<String>,
    /// LDAP: StartTLS before binding (ldap:// URLs).
    #[arg(long)]
    starttls: Option<bool>,
    /// LDAP: what incremental runs compare [default: modifyTimestamp; AD: uSNChanged].
    #[arg(long, value_name = "ATTR")]
    change_attribute: Option<String>,
    /// SCIM: extra request header, repeatable (not secret: `source show` prints it).
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,
    /// Records per page asked of a SCIM or LDAP source [default: 500].
    #[arg(long, value_name = "N")]
    page_size: Option<u32>,
    /// Seconds per request [default: 30].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// The field holding a user's id in the source [default: the mapped externalId; SCIM: id; LDAP: entryUUID].
    #[arg(long, value_name = "FIELD")]
    user_key: Option<String>,
    /// The field holding a group's id in the source.
    #[arg(long, value_name = "FIELD")]
    group_key: Option<String>,
    /// The field holding a department's id in the source.
    #[arg(long, value_name = "FIELD")]
    department_key: Option<String>,
    /// Region for phone numbers without a country code (e.g. US, DE).
    #[arg(long, value_name = "REGION")]
    phone_region: Option<String>,
    /// Attributes every imported user must have (SCIM paths, comma-separated).
    #[arg(long = "require", value_name = "PATH,…", value_delimiter = ',')]
    required: Option<Vec<String>>,
    /// The attributes this source is the authority for (comma-separated)
    /// [default: all its mapping sets].
    #[arg(long, value_name = "ATTR,…", value_delimiter = ',')]
    owns: Option<Vec<String>>,
    /// Link records to existing users with the same userName instead of
    /// reporting a conflict.
    #[arg(long)]
    join_existing: Option<bool>,
    /// What to import [default: Users,Groups,Departments].
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    resource_types: Option<Vec<String>>,
    /// Deletion guard: hold deprovisions beyond P% of what the source supplies… [default: 20]
    #[arg(long, value_name = "P")]
    guard_percent: Option<f64>,
    /// …when at least N would go [default: 10].
    #[arg(long, value_name = "N")]
    guard_min: Option<usize>,
    /// Hold beyond N deprovisions whatever the share.
    #[arg(long, value_name = "N")]
    guard_max: Option<usize>,
    /// Run every SECS seconds while serving (0: manual only).
    #[arg(long, value_name = "SECS")]
    schedule: Option<u64>,
    /// What scheduled runs do [default: full].
    #[arg(long, value_enum)]
    schedule_mode: Option<Mode>,
}

#[derive(Debug, Args)]
pub(super) struct AddArgs {
    /// A unique name: 1-64 letters, digits, `-`, `_` or `.`.
    #[arg(long)]
    name: String,
    /// file (HR exports), scim (another SCIM server) or ldap (LDAP / Active Directory).
    #[arg(long)]
    kind: String,
    #[command(flatten)]
    credentials: CredentialArgs,
    /// Mapping file (TOML or JSON; see docs/sources.md) [default: files with
    /// SCIM-path headers need none; SCIM: identity; LDAP: inetOrgPerson].
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(flatten)]
    db: DatabaseArg,
}

#[derive(Debug, Args)]
pub(super) struct UpdateArgs {
    /// The source's name.
    name: String,
    #[command(flatten)]
    credentials: CredentialArgs,
    /// Drop the stored credentials (LDAP: bind anonymously).
    #[arg(long)]
    no_credentials: bool,
    /// A new mapping file.
    #[arg(long, value_name = "FILE", conflicts_with = "no_mapping")]
    mapping: Option<PathBuf>,
    /// Drop the mapping (its kind's default applies).
    #[arg(long)]
    no_mapping: bool,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Print the updated source as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DatabaseArg,
}

impl SourceCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            SourceCommand::Add(a) => &a.db,
            SourceCommand::Update(a) => &a.db,
            SourceCommand::List { db, .. }
            | SourceCommand::Show { db, .. }
            | SourceCommand::Remove { db, .. }
            | SourceCommand::Test { db, .. }
            | SourceCommand::Run { db, .. }
            | SourceCommand::Runs { db, .. }
            | SourceCommand::Report { db, .. }
            | SourceCommand::Approve { db, .. }
            | SourceCommand::Reject { db, .. }
            | SourceCommand::Failures { db, .. } => db,
        }
    }
}

fn secret(flag: &Option<String>, env: &str) -> Option<String> {
    flag.clone().or_else(|| std::env::var(env).ok())
}

/// The credentials object of the admin API, when any are given.
fn credentials(a: &CredentialArgs) -> anyhow::Result<Option<Value>> {
    if let Some(user) = a.basic_user.as_ref().or(a.bind_dn.as_ref()) {
        let password = secret(&a.password, PASSWORD_ENV).with_context(|| {
            format!("--basic-user and --bind-dn need --password (or {PASSWORD_ENV})")
        })?;
        return Ok(Some(
            json!({"kind": "basic", "username": user, "password": password}),
        ));
    }
    if let Some(token_url) = &a.oauth_token_url {
        let client_id = a
            .client_id
            .clone()
            .context("--oauth-token-url needs --client-id")?;
        let client_secret = secret(&a.client_secret, CLIENT_SECRET_ENV).with_context(|| {
            format!("--oauth-token-url needs --client-secret (or {CLIENT_SECRET_ENV})")
        })?;
        return Ok(Some(json!({"kind": "oauth2", "token_url": token_url,
            "client_id": client_id, "client_secret": client_secret, "scope": a.oauth_scope})));
    }
    Ok(secret(&a.token, TOKEN_ENV).map(|token| json!({"kind": "bearer", "token": token})))
}

fn headers(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--header wants NAME=VALUE, got {pair:?}");
        };
        out.insert(name.trim().to_string(), json!(value.trim()));
    }
    Ok(out)
}

/// The settings the flags name, as the admin API's `settings` object.
fn settings(a: &SettingsArgs) -> anyhow::Result<Map<String, Value>> {
    let mut s = Map::new();
    let mut put = |key: &str, value: Value| {
        s.insert(key.to_string(), value);
    };
    let texts = [
        ("path", &a.path),
        ("groups_path", &a.groups_path),
        ("departments_path", &a.departments_path),
        ("watch_dir", &a.watch_dir),
        ("url", &a.url),
        ("base_dn", &a.base_dn),
        ("user_filter", &a.user_filter),
        ("group_filter", &a.group_filter),
        ("departments_base", &a.departments_base),
        ("department_filter", &a.department_filter),
        ("change_attribute", &a.change_attribute),
        ("user_key", &a.user_key),
        ("group_key", &a.group_key),
        ("department_key", &a.department_key),
        ("phone_region", &a.phone_region),
    ];
    for (key, v) in texts {
        if let Some(v) = v {
            put(key, json!(v));
        }
    }
    if let Some(f) = a.format {
        put(
            "format",
            json!(match f {
                Format::Auto => "auto",
                Format::Csv => "csv",
                Format::Json => "json",
            }),
        );
    }
    if let Some(d) = a.delimiter {
        put("delimiter", json!(d.to_string()));
    }
    if let Some(v) = a.starttls {
        put("starttls", json!(v));
    }
    if !a.headers.is_empty() {
        put("headers", Value::Object(headers(&a.headers)?));
    }
    if let Some(v) = a.page_size {
        put("page_size", json!(v));
    }
    if let Some(v) = a.timeout {
        put("timeout_secs", json!(v));
    }
    if let Some(v) = &a.required {
        put("required", json!(v));
    }
    if let Some(v) = &a.owns {
        put("owns", json!(v));
    }
    if let Some(v) = a.join_existing {
        put("join_existing", json!(v));
    }
    if let Some(v) = &a.resource_types {
        put("resource_types", json!(v));
    }
    if let Some(v) = a.schedule {
        put("schedule_secs", if v == 0 { Value::Null } else { json!(v) });
    }
    if let Some(m) = a.schedule_mode {
        put(
            "schedule_mode",
            json!(match m {
                Mode::Full => "full",
                Mode::Incremental => "incremental",
            }),
        );
    }
    let mut guard = Map::new();
    if let Some(v) = a.guard_percent {
        guard.insert("max_percent".into(), json!(v));
    }
    if let Some(v) = a.guard_min {
        guard.insert("min_count".into(), json!(v));
    }
    if let Some(v) = a.guard_max {
        guard.insert("max_count".into(), json!(v));
    }
    if !guard.is_empty() {
        put("guard", Value::Object(guard));
    }
    Ok(s)
}

fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

fn upload(path: &Option<PathBuf>) -> anyhow::Result<Option<FileInput>> {
    path.as_ref()
        .map(|p| {
            let text = p.to_string_lossy();
            FileInput::read(&text).map_err(|e| anyhow::anyhow!("{e}"))
        })
        .transpose()
}

fn add_body(a: &AddArgs) -> anyhow::Result<Value> {
    let mut body = json!({"name": a.name, "kind": a.kind, "settings": settings(&a.settings)?});
    if let Some(c) = credentials(&a.credentials)? {
        body["credentials"] = c;
    }
    if let Some(path) = &a.mapping {
        body["mapping"] = json!(read_text(path, "mapping file")?);
    }
    Ok(body)
}

fn update_body(a: &UpdateArgs) -> anyhow::Result<Value> {
    let mut body = Map::new();
    if let Some(c) = credentials(&a.credentials)? {
        body.insert("credentials".into(), c);
    } else if a.no_credentials {
        body.insert("credentials".into(), Value::Null);
    }
    if let Some(path) = &a.mapping {
        body.insert("mapping".into(), json!(read_text(path, "mapping file")?));
    } else if a.no_mapping {
        body.insert("mapping".into(), Value::Null);
    }
    let s = settings(&a.settings)?;
    if !s.is_empty() {
        body.insert("settings".into(), Value::Object(s));
    }
    if body.is_empty() {
        bail!("nothing to change: give at least one option (see `scimhub source update --help`)");
    }
    Ok(Value::Object(body))
}

/// Prints a report; an error (exit 1) when the run failed, refused records
/// or awaits approval.
fn print_report(report: &ImportReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", render(report));
    }
    if report.status.is_unsuccessful() {
        bail!("import {} is {}", report.id, report.status.as_str());
    }
    Ok(())
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub(super) fn run(cmd: &SourceCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let sources = &door.services.sources;
    let actor = &door.actor;
    match cmd {
        SourceCommand::Add(a) => {
            let view = door.block_on(sources.add(actor, add_body(a)?))?;
            println!(
                "Added {} source {:?}. Preview it with `scimhub source test {1}` and \
                 `scimhub source run {1} --dry-run`, then import with `scimhub source run {1}`.",
                view.kind.as_str(),
                view.name
            );
        }
        SourceCommand::Update(a) => {
            let view = door.block_on(sources.update(actor, &a.name, update_body(a)?))?;
            if a.json {
                print_json(&view)?;
            } else {
                println!("Updated source {:?}.", view.name);
            }
        }
        SourceCommand::List { json, .. } => {
            let list = door.block_on(sources.list())?;
            if *json {
                return print_json(&json!({ "sources": list }));
            }
            println!(
                "{:<20} {:<6} {:<36} {:<26} FAILURES",
                "NAME", "KIND", "LAST RUN", "STATUS"
            );
            for s in list {
                let (id, status) =
                    s.last_run
                        .as_ref()
                        .map_or(("-".to_string(), "-".to_string()), |r| {
                            let dry = if r.dry_run { " (dry)" } else { "" };
                            (r.id.clone(), format!("{}{dry}", r.status.as_str()))
                        });
                println!(
                    "{:<20} {:<6} {:<36} {:<26} {}",
                    s.source.name,
                    s.source.kind.as_str(),
                    id,
                    status,
                    s.failures
                );
            }
        }
        SourceCommand::Show { name, json, .. } => {
            let s = door.block_on(sources.show(name))?;
            if *json {
                print_json(&s)?;
            } else {
                let last = s.last_run.as_ref().map_or("never run".to_string(), |r| {
                    format!("last run {} {}", r.id, r.status.as_str())
                });
                println!(
                    "{} ({}): {last}; {} refused records",
                    s.source.name,
                    s.source.kind.as_str(),
                    s.failures
                );
                print_json(&s.source)?;
            }
        }
        SourceCommand::Remove { name, .. } => {
            door.block_on(sources.remove(actor, name))?;
            println!("Removed source {name:?} (what it imported stays).");
        }
        SourceCommand::Test {
            name,
            limit,
            file,
            json,
            ..
        } => {
            let limit = limit.unwrap_or(DEFAULT_PREVIEW).clamp(1, MAX_PREVIEW);
            let preview = door.block_on(sources.test(name, limit, upload(file)?))?;
            if *json {
                print_json(&preview)?;
            } else {
                match &preview.error {
                    Some(e) => println!("Source {name:?} cannot be read: {e}"),
                    None => {
                        println!(
                            "Source {name:?}: the first {} records map to:",
                            preview.records.len()
                        );
                        for r in &preview.records {
                            match (&r.resource, &r.reason) {
                                (Some(res), _) => println!(
                                    "{} ({}):\n{}",
                                    r.locator,
                                    r.key.as_deref().unwrap_or("-"),
                                    serde_json::to_string_pretty(res)?
                                ),
                                (None, reason) => println!(
                                    "{}: refused [{}] {}",
                                    r.locator,
                                    reason.as_deref().unwrap_or("-"),
                                    r.detail.as_deref().unwrap_or_default()
                                ),
                            }
                        }
                    }
                }
            }
            if !preview.ok {
                bail!("source {name:?} failed its test");
            }
        }
        SourceCommand::Run {
            name,
            incremental,
            dry_run,
            file,
            json,
            ..
        } => {
            let options = ImportOptions {
                mode: if *incremental {
                    RunMode::Incremental
                } else {
                    RunMode::Full
                },
                dry_run: *dry_run,
                trigger: "cli".into(),
                upload: upload(file)?,
            };
            let (bar, progress) = progress_bar();
            let report = door.block_on(sources.run_now(actor, name, options, Some(progress)));
            bar.finish_and_clear();
            print_report(&report?, *json)?;
        }
        SourceCommand::Runs {
            name, limit, json, ..
        } => {
            let limit = source_admin::limit(limit.as_deref(), DEFAULT_RUNS, MAX_RUNS)?;
            let runs = door.block_on(sources.runs(name, limit))?;
            if *json {
                return print_json(&json!({ "runs": runs }));
            }
            println!(
                "{:<36} {:<12} {:<26} {:<24} {:>7} {:>7} {:>7} {:>7}",
                "RUN", "MODE", "STATUS", "STARTED", "CREATED", "UPDATED", "DEACT", "FAILED"
            );
            for r in runs {
                let dry = if r.dry_run { " (dry)" } else { "" };
                println!(
                    "{:<36} {:<12} {:<26} {:<24} {:>7} {:>7} {:>7} {:>7}",
                    r.id,
                    r.mode.as_str(),
                    format!("{}{dry}", r.status.as_str()),
                    r.started,
                    r.counts.created,
                    r.counts.updated,
                    r.counts.deactivated,
                    r.counts.failed
                );
            }
        }
        SourceCommand::Report { run_id, json, .. } => {
            let report = door.block_on(sources.report(run_id))?;
            if *json {
                print_json(&report)?;
            } else {
                print!("{}", render(&report));
            }
        }
        SourceCommand::Approve { run_id, json, .. } => {
            let report = door.block_on(sources.approve(actor, run_id))?;
            print_report(&report, *json)?;
        }
        SourceCommand::Reject { run_id, json, .. } => {
            let report = door.block_on(sources.reject(actor, run_id))?;
            if *json {
                print_json(&report)?;
            } else {
                print!("{}", render(&report));
            }
        }
        SourceCommand::Failures { name, json, .. } => {
            let failures = door.block_on(sources.failures(name))?;
            if *json {
                return print_json(&json!({ "failures": failures }));
            }
            if failures.is_empty() {
                println!("Source {name:?} has no refused records.");
            }
            for f in failures {
                println!("{} [{}] {}: {}", f.locator, f.reason, f.key, f.detail);
                println!("    {}", f.record);
            }
        }
    }
    Ok(())
}
