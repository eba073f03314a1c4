//! `scimhub target add|update|list|show|test|pause|resume|remove|release`, over
//! the same service (and audit trail) as the admin API: flags become the
//! admin API's request body. Secrets can come from the environment instead
//! of flags, so they stay out of shell history.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;
use crate::provision::target_status::TargetWithStatus;

const TOKEN_ENV: &str = "SCIMHUB_TARGET_TOKEN";
const PASSWORD_ENV: &str = "SCIMHUB_TARGET_PASSWORD";
const CLIENT_SECRET_ENV: &str = "SCIMHUB_TARGET_CLIENT_SECRET";

#[derive(Debug, Subcommand)]
pub(super) enum TargetCommand {
    /// Add a target (credentials stored encrypted with SCIMHUB_SECRET_KEY).
    /// It starts `new`: nothing is pushed until its initial full run
    /// (`scimhub sync run NAME`, after `--dry-run`) or `target resume`.
    #[command(after_help = "Examples:\n  \
        SCIMHUB_TARGET_TOKEN=... scimhub target add --name crm --url https://crm.example/scim/v2\n  \
        SCIMHUB_TARGET_CLIENT_SECRET=... scimhub target add --name hr \\\n      \
        --url https://hr.example/scim/v2 --oauth-token-url https://hr.example/oauth/token \\\n      \
        --client-id scimhub --mapping hr.toml --scope 'active eq true' --guard-percent 10 --guard-min 5\n  \
        SCIMHUB_TARGET_PASSWORD=... scimhub target add --name dir --kind ldap \\\n      \
        --url ldaps://ldap.example.org --bind-dn cn=scimhub,dc=example,dc=org \\\n      \
        --base-dn dc=example,dc=org --user-dn 'uid={uid},ou=people,dc=example,dc=org' \\\n      \
        --group-dn 'cn={cn},ou=groups,dc=example,dc=org' --disable-attribute employeeType=disabled \\\n      \
        --mapping ldap.toml\n\n\
        Needs SCIMHUB_SECRET_KEY (credentials are sealed at rest). Options and the mapping \
        file: docs/sync-center.md; LDAP targets: docs/connectors.md.")]
    Add(Box<AddArgs>),
    /// Change a target in place: id map, runs, failure queue and held
    /// approvals stay. Only the options given change; a new URL or new
    /// credentials are tested first (unless `--no-test`).
    #[command(after_help = "Examples:\n  \
        scimhub target update crm --guard-percent 5\n  \
        scimhub target update crm --mapping crm.toml   # then: scimhub sync run crm --dry-run\n  \
        SCIMHUB_TARGET_TOKEN=... scimhub target update crm   # new credentials, tested first")]
    Update(Box<UpdateArgs>),
    /// List targets with their state, last run, queue depth and lag.
    List {
        /// Print them as JSON, as `GET /admin/v1/targets` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show one target's settings, mapping and state (never its credentials).
    Show {
        /// The target's name.
        name: String,
        /// Print it as JSON, as `GET /admin/v1/targets/{name}` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Test a target: reachability, credentials, ServiceProviderConfig,
    /// Schemas, and the mapping type-checked against them; exits 1 when a step fails.
    Test {
        /// The target's name.
        name: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Stop real-time pushes to a target; changes wait behind its cursor.
    Pause {
        /// The target's name.
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Push again: a paused target gets what changed meanwhile; a new one
    /// follows from now on (run a full sync for its existing accounts).
    Resume {
        /// The target's name.
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a target with its id map and run history.
    Remove {
        /// The target's name.
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Release a quarantined target now (its worker resumes from its cursor).
    Release {
        /// The target's name.
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

/// One auth kind: `--token`, `--basic-user` + password, or `--oauth-token-url` + client.
#[derive(Debug, Args)]
pub(super) struct CredentialArgs {
    /// Bearer token (or env SCIMHUB_TARGET_TOKEN, which keeps it out of shell history).
    #[arg(long, conflicts_with_all = ["basic_user", "oauth_token_url"])]
    token: Option<String>,
    /// HTTP basic auth user name; for an LDAP target the bind DN (--bind-dn).
    #[arg(
        long,
        visible_alias = "bind-dn",
        value_name = "USER",
        conflicts_with = "oauth_token_url"
    )]
    basic_user: Option<String>,
    /// HTTP basic auth password, or an LDAP target's bind password
    /// (--bind-password); or env SCIMHUB_TARGET_PASSWORD.
    #[arg(
        long,
        visible_alias = "bind-password",
        value_name = "PASSWORD",
        requires = "basic_user"
    )]
    basic_password: Option<String>,
    /// OAuth 2.0 token URL for the client-credentials grant.
    #[arg(long, value_name = "URL")]
    oauth_token_url: Option<String>,
    /// OAuth client id.
    #[arg(long, requires = "oauth_token_url")]
    client_id: Option<String>,
    /// OAuth client secret (or env SCIMHUB_TARGET_CLIENT_SECRET).
    #[arg(long, value_name = "SECRET", requires = "oauth_token_url")]
    client_secret: Option<String>,
    /// OAuth scope to ask for (space-separated).
    #[arg(long, value_name = "SCOPE", requires = "oauth_token_url")]
    oauth_scope: Option<String>,
    /// No credentials: a SQL target whose database trusts the connection.
    #[arg(long, conflicts_with_all = ["token", "basic_user", "oauth_token_url"])]
    no_credentials: bool,
}

/// Every non-secret setting; on `update` only those given change.
#[derive(Debug, Args)]
pub(super) struct SettingsArgs {
    /// A SQL or REST target's own settings: a TOML or JSON file with a
    /// `[sql]` or `[rest]` section (see docs/connectors.md).
    #[arg(long, value_name = "FILE")]
    connector_settings: Option<PathBuf>,
    /// SCIM filter choosing the groups to provision. Default: all groups.
    #[arg(long, value_name = "FILTER")]
    group_scope: Option<String>,
    /// Only users who are members of these groups (display names, comma-separated).
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    group_members_of: Option<Vec<String>>,
    /// Attribute that links existing target accounts [default: userName].
    #[arg(long, value_name = "ATTR")]
    matching: Option<String>,
    /// Extra request header, repeatable (not secret: `target show` prints it);
    /// on update each given header is added or replaced.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,
    /// Per-request timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Requests in flight at once [default: 4].
    #[arg(long, value_name = "N")]
    max_concurrency: Option<usize>,
    /// Run a full reconcile (drift repair) every SECS seconds while serving (0: never).
    #[arg(long, value_name = "SECS")]
    reconcile_every: Option<u64>,
    /// Resource types to sync [default: Users,Groups].
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    resource_types: Option<Vec<String>>,
    /// Allowed actions [default: create,update,deactivate].
    #[arg(long, value_name = "ACTIONS", value_delimiter = ',')]
    actions: Option<Vec<String>>,
    /// How users leaving scope are deprovisioned [default: deactivate].
    #[arg(long, value_enum)]
    deprovision: Option<Deprovision>,
    /// Target accounts no local user or group accounts for [default: report].
    #[arg(long, value_enum)]
    orphans: Option<Orphans>,
    /// Deletion guard: hold deprovisions beyond P% of linked accounts… [default: 20]
    #[arg(long, value_name = "P")]
    guard_percent: Option<f64>,
    /// …when at least N would go [default: 10].
    #[arg(long, value_name = "N")]
    guard_min: Option<usize>,
    /// Hold beyond N deprovisions whatever the share.
    #[arg(long, value_name = "N")]
    guard_max: Option<usize>,
    /// Deprovisions of real-time sync and runs add up over this many seconds [default: 3600].
    #[arg(long, value_name = "SECS")]
    guard_window: Option<u64>,
    /// Most requests per second to the target, runs, workers and retries alike (0: no limit).
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// Provision only this department's subtree: its departments, and only
    /// the people under it (an id from `scimhub dept tree`; "" on update:
    /// the whole tree again).
    #[arg(long, value_name = "ID")]
    root_department: Option<String>,
    /// Only people under one of these departments (ids, comma-separated;
    /// "" on update: no such restriction).
    #[arg(long, value_name = "ID,…", value_delimiter = ',')]
    department_scope: Option<Vec<String>>,
    /// How departments reach the target: groups (a group per department,
    /// holding its people and sub-departments), attribute (the people's
    /// department string) or none [default: attribute].
    #[arg(long, value_enum)]
    departments: Option<Departments>,
}

/// An LDAP target's settings (`--kind ldap`); on `update` only those given change.
#[derive(Debug, Args)]
#[command(next_help_heading = "LDAP targets (--kind ldap, see docs/connectors.md)")]
pub(super) struct LdapArgs {
    /// Where the target's entries are searched, e.g. dc=example,dc=org.
    #[arg(long, value_name = "DN")]
    base_dn: Option<String>,
    /// Where users go: a DN template whose {ATTR}s are mapped attributes,
    /// e.g. 'uid={uid},ou=people,dc=example,dc=org'.
    #[arg(long, value_name = "TEMPLATE")]
    user_dn: Option<String>,
    /// Where groups go, e.g. 'cn={cn},ou=groups,dc=example,dc=org'.
    #[arg(long, value_name = "TEMPLATE")]
    group_dn: Option<String>,
    /// Object classes of new users [default: inetOrgPerson; AD: user].
    #[arg(long, value_name = "CLASS,…", value_delimiter = ',')]
    user_classes: Option<Vec<String>>,
    /// Object classes of new groups [default: groupOfNames; AD: group].
    #[arg(long, value_name = "CLASS,…", value_delimiter = ',')]
    group_classes: Option<Vec<String>>,
    /// An extra LDAP filter the target's users match, e.g. '(objectCategory=person)'.
    #[arg(long, value_name = "FILTER")]
    user_filter: Option<String>,
    /// An extra LDAP filter the target's groups match.
    #[arg(long, value_name = "FILTER")]
    group_filter: Option<String>,
    /// The attribute holding an entry's stable id [default: entryUUID; AD: objectGUID].
    #[arg(long, value_name = "ATTR")]
    id_attribute: Option<String>,
    /// The member every group keeps, as groupOfNames needs one [default: the
    /// empty DN]; `none` where groups may be empty (AD).
    #[arg(long, value_name = "DN")]
    empty_member: Option<String>,
    /// Upgrade an ldap:// connection with StartTLS (`--start-tls false` turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    start_tls: Option<bool>,
    /// Deactivate users by setting ATTR to VALUE (removed when active again).
    #[arg(
        long,
        value_name = "ATTR=VALUE",
        conflicts_with_all = ["disable_account_control", "disable_move_to"]
    )]
    disable_attribute: Option<String>,
    /// Deactivate users by Active Directory's userAccountControl ACCOUNTDISABLE bit.
    #[arg(long, conflicts_with = "disable_move_to")]
    disable_account_control: bool,
    /// Deactivate users by moving them under DN (back to their template's
    /// container when active again).
    #[arg(long, value_name = "DN")]
    disable_move_to: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    /// A SCIM 2.0 service provider.
    Scim,
    /// An LDAP directory (OpenLDAP, Active Directory, …).
    Ldap,
    /// Tables in a PostgreSQL or SQLite database.
    Sql,
    /// A JSON API of its own, driven by request templates.
    Rest,
}

#[derive(Debug, Args)]
pub(super) struct AddArgs {
    /// A unique name: 1-64 letters, digits, `-`, `_` or `.`.
    #[arg(long)]
    name: String,
    /// What the target is [default: scim].
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// The target's SCIM base URL, e.g. https://app.example.com/scim/v2; for
    /// an LDAP target its server, e.g. ldaps://dc1.example.com:636.
    #[arg(long, value_name = "BASE_URL")]
    url: String,
    #[command(flatten)]
    credentials: CredentialArgs,
    /// Attribute mapping file (TOML or JSON; see docs/sync-center.md). Default: identity.
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// SCIM filter choosing the users to provision. Default: all users.
    #[arg(long, value_name = "FILTER")]
    scope: Option<String>,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(flatten)]
    ldap: LdapArgs,
    /// Store the target without testing it first (see `target test`).
    #[arg(long)]
    no_test: bool,
    #[command(flatten)]
    db: DatabaseArg,
}

#[derive(Debug, Args)]
pub(super) struct UpdateArgs {
    /// The target's name.
    name: String,
    /// A new SCIM base URL.
    #[arg(long, value_name = "BASE_URL")]
    url: Option<String>,
    #[command(flatten)]
    credentials: CredentialArgs,
    /// A new attribute mapping file.
    #[arg(long, value_name = "FILE", conflicts_with = "identity_mapping")]
    mapping: Option<PathBuf>,
    /// Go back to the identity mapping.
    #[arg(long)]
    identity_mapping: bool,
    /// A new user scope filter.
    #[arg(long, value_name = "FILTER", conflicts_with = "all_users")]
    scope: Option<String>,
    /// Drop the user scope: every user.
    #[arg(long)]
    all_users: bool,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(flatten)]
    ldap: LdapArgs,
    /// Store a new URL or new credentials without testing them first.
    #[arg(long)]
    no_test: bool,
    /// Print the updated target as JSON, as `PATCH /admin/v1/targets/{name}` answers.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DatabaseArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Departments {
    /// A group per department: its people and its sub-departments' groups.
    Groups,
    /// Only the people's `department` attribute.
    Attribute,
    /// Nothing about departments.
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Orphans {
    Report,
    Deprovision,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Deprovision {
    Deactivate,
    Delete,
}

impl TargetCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            TargetCommand::Add(args) => &args.db,
            TargetCommand::Update(args) => &args.db,
            TargetCommand::List { db, .. }
            | TargetCommand::Show { db, .. }
            | TargetCommand::Test { db, .. }
            | TargetCommand::Pause { db, .. }
            | TargetCommand::Resume { db, .. }
            | TargetCommand::Remove { db, .. }
            | TargetCommand::Release { db, .. } => db,
        }
    }
}

/// A secret from its flag, else from its environment variable.
fn secret(flag: &Option<String>, env: &str) -> Option<String> {
    flag.clone().or_else(|| std::env::var(env).ok())
}

/// The credentials object of the admin API, when any are given.
fn credentials(a: &CredentialArgs) -> anyhow::Result<Option<Value>> {
    if let Some(username) = &a.basic_user {
        let password = secret(&a.basic_password, PASSWORD_ENV)
            .with_context(|| format!("--basic-user needs --basic-password (or {PASSWORD_ENV})"))?;
        return Ok(Some(
            json!({"kind": "basic", "username": username, "password": password}),
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
    if a.no_credentials {
        return Ok(Some(json!({"kind": "none"})));
    }
    Ok(secret(&a.token, TOKEN_ENV).map(|token| json!({"kind": "bearer", "token": token})))
}

const NO_CREDENTIALS: &str = "give the target's credentials: --token (or SCIMHUB_TARGET_TOKEN), \
     --basic-user with --basic-password, or --oauth-token-url with --client-id and --client-secret \
     (an LDAP target: --bind-dn with --bind-password; a SQL target: a database user with \
     --basic-user and --basic-password, or --no-credentials)";

fn headers(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--header wants NAME=VALUE, got {pair:?}");
        };
        let name = name.trim().to_string();
        if out
            .insert(name.clone(), Value::String(value.trim().to_string()))
            .is_some()
        {
            bail!("header {name:?} is given twice");
        }
    }
    Ok(out)
}

/// The settings the flags name, as the admin API's `settings` object.
fn settings(a: &SettingsArgs) -> anyhow::Result<Value> {
    let mut s = Map::new();
    let mut put = |key: &str, value: Value| {
        s.insert(key.to_string(), value);
    };
    if let Some(v) = &a.group_scope {
        put("group_scope", json!(v));
    }
    if let Some(v) = &a.group_members_of {
        put("scope_groups", json!(v));
    }
    if let Some(v) = &a.matching {
        put("matching", json!(v));
    }
    if !a.headers.is_empty() {
        put("headers", Value::Object(headers(&a.headers)?));
    }
    if let Some(v) = a.timeout {
        put("timeout_secs", json!(v));
    }
    if let Some(v) = a.max_concurrency {
        put("max_concurrency", json!(v));
    }
    if let Some(v) = a.rate_limit {
        put("rate_limit", if v == 0 { Value::Null } else { json!(v) });
    }
    if let Some(v) = a.reconcile_every {
        put(
            "reconcile_secs",
            if v == 0 { Value::Null } else { json!(v) },
        );
    }
    if let Some(v) = &a.resource_types {
        put("resource_types", json!(v));
    }
    if let Some(v) = &a.actions {
        let actions = crate::provision::target_check::parse_actions(v)?;
        put("actions", serde_json::to_value(actions)?);
    }
    if let Some(v) = a.deprovision {
        let word = match v {
            Deprovision::Deactivate => "deactivate",
            Deprovision::Delete => "delete",
        };
        put("deprovision", json!(word));
    }
    if let Some(v) = a.orphans {
        let word = match v {
            Orphans::Report => "report",
            Orphans::Deprovision => "deprovision",
        };
        put("orphans", json!(word));
    }
    if let Some(v) = &a.root_department {
        let id = v.trim();
        put(
            "root_department",
            if id.is_empty() {
                Value::Null
            } else {
                json!(id)
            },
        );
    }
    if let Some(v) = &a.department_scope {
        let ids: Vec<&str> = v
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        put("department_scope", json!(ids));
    }
    if let Some(v) = a.departments {
        let word = match v {
            Departments::Groups => "groups",
            Departments::Attribute => "attribute",
            Departments::None => "none",
        };
        put("departments", json!(word));
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
    if let Some(v) = a.guard_window {
        guard.insert("window_secs".into(), json!(v));
    }
    if !guard.is_empty() {
        put("guard", Value::Object(guard));
    }
    Ok(Value::Object(s))
}

/// The `ldap` settings the flags name (an object to merge), if any.
fn ldap_settings(a: &LdapArgs) -> anyhow::Result<Option<Value>> {
    let mut s = Map::new();
    let mut put = |key: &str, value: Value| {
        s.insert(key.to_string(), value);
    };
    if let Some(v) = &a.base_dn {
        put("base_dn", json!(v));
    }
    if let Some(v) = a.start_tls {
        put("start_tls", json!(v));
    }
    if let Some(v) = &a.id_attribute {
        put("id_attribute", json!(v));
    }
    if let Some(v) = &a.empty_member {
        let none = v.eq_ignore_ascii_case("none");
        put("empty_member", if none { Value::Null } else { json!(v) });
    }
    for (key, dn, classes, filter) in [
        ("users", &a.user_dn, &a.user_classes, &a.user_filter),
        ("groups", &a.group_dn, &a.group_classes, &a.group_filter),
    ] {
        let mut entries = Map::new();
        if let Some(v) = dn {
            entries.insert("dn".into(), json!(v));
        }
        if let Some(v) = classes {
            entries.insert("object_classes".into(), json!(v));
        }
        if let Some(v) = filter {
            entries.insert("filter".into(), json!(v));
        }
        if !entries.is_empty() {
            put(key, Value::Object(entries));
        }
    }
    if let Some(pair) = &a.disable_attribute {
        let Some((attribute, value)) = pair.split_once('=') else {
            bail!("--disable-attribute wants ATTR=VALUE, got {pair:?}");
        };
        put(
            "deactivate",
            json!({"by": "attribute", "attribute": attribute.trim(), "value": value.trim()}),
        );
    } else if a.disable_account_control {
        put("deactivate", json!({"by": "account_control"}));
    } else if let Some(container) = &a.disable_move_to {
        put("deactivate", json!({"by": "move", "container": container}));
    }
    Ok((!s.is_empty()).then_some(Value::Object(s)))
}

/// The settings object of `add`/`update`: the general flags and the LDAP ones.
fn all_settings(general: &SettingsArgs, ldap: &LdapArgs) -> anyhow::Result<Value> {
    let mut settings = settings(general)?;
    if let (Some(ldap), Some(s)) = (ldap_settings(ldap)?, settings.as_object_mut()) {
        s.insert("ldap".into(), ldap);
    }
    if let (Some(path), Some(s)) = (&general.connector_settings, settings.as_object_mut()) {
        s.extend(connector_settings(path)?);
    }
    Ok(settings)
}

/// The `[sql]` or `[rest]` section of a settings file (TOML or JSON).
fn connector_settings(path: &PathBuf) -> anyhow::Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read connector settings file {}", path.display()))?;
    let parsed: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?
    } else {
        toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))?
    };
    let Value::Object(sections) = parsed else {
        bail!("{}: expected a [sql] or [rest] section", path.display());
    };
    if let Some(other) = sections
        .keys()
        .find(|k| !matches!(k.as_str(), "sql" | "rest"))
    {
        bail!(
            "{}: unknown section [{other}]: the file holds a [sql] or [rest] section",
            path.display()
        );
    }
    Ok(sections)
}

fn read_mapping(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read mapping file {}", path.display()))
}

fn add_body(a: &AddArgs) -> anyhow::Result<Value> {
    let mut body = json!({
        "name": a.name,
        "url": a.url,
        "credentials": credentials(&a.credentials)?.context(NO_CREDENTIALS)?,
        "settings": all_settings(&a.settings, &a.ldap)?,
        "test": !a.no_test,
    });
    if let Some(kind) = a.kind {
        let word = match kind {
            Kind::Scim => "scim",
            Kind::Ldap => "ldap",
            Kind::Sql => "sql",
            Kind::Rest => "rest",
        };
        body["settings"]["kind"] = json!(word);
    }
    if let Some(path) = &a.mapping {
        body["mapping"] = json!(read_mapping(path)?);
    }
    if let Some(scope) = &a.scope {
        body["scope"] = json!(scope);
    }
    Ok(body)
}

fn update_body(a: &UpdateArgs) -> anyhow::Result<Value> {
    let mut body = Map::new();
    if let Some(url) = &a.url {
        body.insert("url".into(), json!(url));
    }
    if let Some(c) = credentials(&a.credentials)? {
        body.insert("credentials".into(), c);
    }
    if let Some(path) = &a.mapping {
        body.insert("mapping".into(), json!(read_mapping(path)?));
    } else if a.identity_mapping {
        body.insert("mapping".into(), Value::Null);
    }
    if let Some(scope) = &a.scope {
        body.insert("scope".into(), json!(scope));
    } else if a.all_users {
        body.insert("scope".into(), Value::Null);
    }
    let settings = all_settings(&a.settings, &a.ldap)?;
    if settings.as_object().is_some_and(|s| !s.is_empty()) {
        body.insert("settings".into(), settings);
    }
    if body.is_empty() {
        bail!("nothing to change: give at least one option (see `scimhub target update --help`)");
    }
    if a.no_test {
        body.insert("test".into(), json!(false));
    }
    Ok(Value::Object(body))
}

fn print_table(targets: &[TargetWithStatus]) {
    println!(
        "{:<20} {:<18} {:<40} {:<24} {:>5} {:>6}  LAST ERROR",
        "NAME", "STATE", "URL", "LAST RUN", "QUEUE", "LAG"
    );
    for t in targets {
        let s = &t.status;
        let last_run = s.last_run.as_ref().map_or("-".to_string(), |r| {
            format!(
                "{}{}",
                r.head.status.as_str(),
                if r.head.dry_run { " (dry)" } else { "" }
            )
        });
        println!(
            "{:<20} {:<18} {:<40} {:<24} {:>5} {:>6}  {}",
            t.target.name,
            s.state,
            t.target.base_url,
            last_run,
            s.queue_depth,
            s.lag,
            s.last_error.as_deref().unwrap_or("-")
        );
    }
}

pub(super) fn run(cmd: &TargetCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let sync = &door.services.sync;
    let actor = &door.actor;
    match cmd {
        TargetCommand::Add(args) => {
            let view = door.block_on(sync.add_target(actor, add_body(args)?))?;
            println!(
                "Added {} target {:?} ({}, {} auth). It is new: nothing is pushed until its \
                 initial sync.\nPreview it with `scimhub sync run {1} --dry-run`, then run \
                 `scimhub sync run {1}` (or `scimhub target resume {1}` to follow only new \
                 changes).",
                view.settings.kind.as_str(),
                view.name,
                view.base_url,
                view.settings.auth
            );
        }
        TargetCommand::Update(args) => {
            let updated =
                door.block_on(sync.update_target(actor, &args.name, update_body(args)?))?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&updated)?);
            } else {
                println!("Updated target {:?}.", updated.target.name);
                if updated.reconcile_needed {
                    println!(
                        "Scope, mapping or matching changed: existing accounts follow with a \
                         full run. Preview with `scimhub sync run {0} --dry-run`, then \
                         `scimhub sync run {0}`.",
                        updated.target.name
                    );
                }
            }
        }
        TargetCommand::List { json, .. } => {
            let targets = door.block_on(sync.targets())?;
            if *json {
                let listed = json!({ "targets": targets });
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else {
                print_table(&targets);
            }
        }
        TargetCommand::Show { name, json, .. } => {
            let t = door.block_on(sync.target(name))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&t)?);
            } else {
                print_table(std::slice::from_ref(&t));
                println!("{}", serde_json::to_string_pretty(&t.target)?);
            }
        }
        TargetCommand::Test { name, json, .. } => {
            let report = door.block_on(sync.test_target(name))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            if !report.ok {
                bail!("target {name:?} failed its test");
            }
        }
        TargetCommand::Pause { name, .. } => {
            door.block_on(sync.pause(actor, name))?;
            println!("Paused target {name:?}: changes wait until `scimhub target resume {name}`.");
        }
        TargetCommand::Resume { name, .. } => {
            let view = door.block_on(sync.resume(actor, name))?;
            println!(
                "Resumed target {name:?}: real-time sync follows the change log from position {}.",
                view.change_cursor
            );
        }
        TargetCommand::Remove { name, .. } => {
            door.block_on(sync.remove_target(actor, name))?;
            println!("Removed target {name:?}.");
        }
        TargetCommand::Release { name, .. } => {
            if door.block_on(sync.release_target(actor, name))? {
                println!("Released target {name:?} from quarantine.");
            } else {
                println!("Target {name:?} was not quarantined.");
            }
        }
    }
    Ok(())
}
