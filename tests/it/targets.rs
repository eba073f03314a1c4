//! `scimhub target add|list|show|remove`: validation, encrypted credentials,
//! and that no secret is ever printed or stored in the clear.

use std::process::{Command, Output};

use diesel::prelude::*;
use diesel::sql_types::Text;

const KEY: &str = "0011223344556677889900112233445566778899001122334455667788990011";
const TOKEN: &str = "downstream-secret-token-123";

fn scimhub(db: &str, args: &[&str]) -> Output {
    scimhub_env(db, args, &[])
}

/// With secrets given through the environment instead of flags. These
/// targets do not exist, so `target add` skips its test (`--no-test`).
fn scimhub_env(db: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let untested: &[&str] = if args.starts_with(&["target", "add"]) {
        &["--no-test"]
    } else {
        &[]
    };
    Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .env_remove("SCIMHUB_DATABASE_URL")
        .env_remove("SCIMHUB_TARGET_TOKEN")
        .env_remove("SCIMHUB_TARGET_PASSWORD")
        .env_remove("SCIMHUB_TARGET_CLIENT_SECRET")
        .env("SCIMHUB_SECRET_KEY", KEY)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .args(args)
        .args(untested)
        .args(["--database", db])
        .output()
        .unwrap()
}

fn sealed_credentials(db: &str) -> Vec<String> {
    let mut conn = SqliteConnection::establish(db.trim_start_matches("sqlite://")).unwrap();
    let rows: Vec<Cred> = diesel::sql_query("SELECT credentials FROM sync_targets")
        .load(&mut conn)
        .unwrap();
    rows.into_iter().map(|r| r.credentials).collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[derive(QueryableByName)]
struct Cred {
    #[diesel(sql_type = Text)]
    credentials: String,
}

#[test]
fn target_commands_add_list_show_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let mapping = dir.path().join("map.toml");
    std::fs::write(
        &mapping,
        "[users]\n[[users.rules]]\ntarget = \"userName\"\nvalue = \"lower(userName)\"\n",
    )
    .unwrap();
    let map = mapping.to_str().unwrap();

    let add = scimhub(
        &db,
        &[
            "target",
            "add",
            "--name",
            "slack",
            "--url",
            "https://slack.example/scim/v2/",
            "--token",
            TOKEN,
            "--mapping",
            map,
            "--scope",
            "active eq true",
        ],
    );
    assert!(add.status.success(), "{}", text(&add));
    assert!(!text(&add).contains(TOKEN));

    let dup = scimhub(
        &db,
        &[
            "target",
            "add",
            "--name",
            "slack",
            "--url",
            "https://x.example",
            "--token",
            "t",
        ],
    );
    assert!(!dup.status.success());
    assert!(text(&dup).contains("already exists"), "{}", text(&dup));

    let list = scimhub(&db, &["target", "list"]);
    let listing = text(&list);
    assert!(listing.contains("slack") && listing.contains("https://slack.example/scim/v2"));
    assert!(
        listing.contains(" new "),
        "a new target waits for its initial sync: {listing}"
    );

    let show = scimhub(&db, &["target", "show", "slack", "--json"]);
    assert!(show.status.success(), "{}", text(&show));
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["name"], "slack");
    assert_eq!(shown["settings"]["matching"], "userName");
    assert_eq!(shown["scope"], "active eq true");
    assert_eq!(shown["status"]["state"], "new");
    assert_eq!(
        shown["mapping"]["users"]["rules"][0]["value"],
        "lower(userName)"
    );
    assert!(!text(&show).contains(TOKEN));
    assert!(!text(&show).to_lowercase().contains("credentials"));

    // At rest: sealed, not the token.
    let rows = sealed_credentials(&db);
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].contains(TOKEN));
    assert!(rows[0].len() > 40);

    let rm = scimhub(&db, &["target", "remove", "slack"]);
    assert!(rm.status.success(), "{}", text(&rm));
    let again = scimhub(&db, &["target", "remove", "slack"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("no target named"));
    assert!(!text(&scimhub(&db, &["target", "list"])).contains("slack"));
}

#[test]
fn target_add_refuses_bad_input_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let bad_map = dir.path().join("bad.toml");
    std::fs::write(
        &bad_map,
        "[users]\n[[users.rules]]\ntarget = \"userName\"\nvalue = \"lowr(userName)\"\n",
    )
    .unwrap();
    let base = ["target", "add", "--name", "app", "--token", "t"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--url", "ftp://x.example"], "must be http(s)"),
        (vec!["--url", "not a url"], "is not a URL"),
        (
            vec![
                "--url",
                "https://x.example",
                "--mapping",
                bad_map.to_str().unwrap(),
            ],
            "users rule 1: value \"lowr(userName)\" at character 1: unknown function 'lowr'",
        ),
        (
            vec!["--url", "https://x.example", "--scope", "active eq"],
            "invalid scope",
        ),
        (
            vec!["--url", "https://x.example", "--matching", "emails["],
            "invalid matching attribute",
        ),
    ];
    for (extra, want) in cases {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let out = scimhub(&db, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out).contains(want), "{args:?}: {}", text(&out));
    }
    let bad_name = scimhub(
        &db,
        &[
            "target",
            "add",
            "--name",
            "a b",
            "--url",
            "https://x.example",
            "--token",
            "t",
        ],
    );
    assert!(text(&bad_name).contains("target names are"));

    // Without a key nothing is stored.
    let out = Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .env_remove("SCIMHUB_SECRET_KEY")
        .env_remove("SCIMHUB_DATABASE_URL")
        .args([
            "target",
            "add",
            "--name",
            "app",
            "--url",
            "https://x.example",
            "--token",
            "t",
            "--database",
            &db,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("SCIMHUB_SECRET_KEY"), "{}", text(&out));
    assert!(!text(&scimhub(&db, &["target", "list"])).contains("x.example"));
}

/// One way of giving a target's credentials, and the secret that must never show.
struct AuthCase {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    kind: &'static str,
    secret: &'static str,
}

const AUTH_CASES: [AuthCase; 5] = [
    AuthCase {
        name: "by-token-env",
        args: &[],
        env: &[("SCIMHUB_TARGET_TOKEN", "env-token-secret-1")],
        kind: "bearer",
        secret: "env-token-secret-1",
    },
    AuthCase {
        name: "by-basic",
        args: &["--basic-user", "svc-user"],
        env: &[("SCIMHUB_TARGET_PASSWORD", "basic-password-secret-2")],
        kind: "basic",
        secret: "basic-password-secret-2",
    },
    AuthCase {
        name: "by-basic-flag",
        args: &[
            "--basic-user",
            "svc",
            "--basic-password",
            "flag-password-secret-3",
        ],
        env: &[],
        kind: "basic",
        secret: "flag-password-secret-3",
    },
    AuthCase {
        name: "by-oauth",
        args: &[
            "--oauth-token-url",
            "https://login.example/oauth2/token",
            "--client-id",
            "scimhub-client",
            "--client-secret",
            "oauth-client-secret-4",
            "--oauth-scope",
            "scim.write",
        ],
        env: &[],
        kind: "oauth2",
        secret: "oauth-client-secret-4",
    },
    AuthCase {
        name: "by-oauth-env",
        args: &[
            "--oauth-token-url",
            "https://login.example/oauth2/token",
            "--client-id",
            "scimhub-client",
        ],
        env: &[("SCIMHUB_TARGET_CLIENT_SECRET", "oauth-env-secret-5")],
        kind: "oauth2",
        secret: "oauth-env-secret-5",
    },
];

#[test]
fn every_auth_kind_is_stored_sealed_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    for case in &AUTH_CASES {
        let name = case.name;
        let mut args = vec![
            "target",
            "add",
            "--name",
            name,
            "--url",
            "https://app.example/scim/v2",
        ];
        args.extend(case.args);
        let out = scimhub_env(&db, &args, case.env);
        assert!(out.status.success(), "{name}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("{} auth", case.kind)),
            "{}",
            text(&out)
        );
        assert!(!text(&out).contains(case.secret));
        let show = scimhub(&db, &["target", "show", name, "--json"]);
        assert!(show.status.success(), "{}", text(&show));
        let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
        assert_eq!(shown["settings"]["auth"], case.kind, "{name}");
        assert!(
            !text(&show).contains(case.secret),
            "{name}: {}",
            text(&show)
        );
        assert!(!text(&show).to_lowercase().contains("credentials"));
    }
    let sealed = sealed_credentials(&db);
    assert_eq!(sealed.len(), AUTH_CASES.len());
    let listing = text(&scimhub(&db, &["target", "list"]));
    for case in &AUTH_CASES {
        assert!(sealed.iter().all(|row| !row.contains(case.secret)));
        assert!(!listing.contains(case.secret));
    }
    assert!(
        sealed
            .iter()
            .all(|row| !row.contains("svc-user") && !row.contains("scimhub-client"))
    );
}

#[test]
fn target_options_are_stored_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = scimhub(
        &db,
        &[
            "target",
            "add",
            "--name",
            "hr",
            "--url",
            "https://hr.example/scim",
            "--token",
            TOKEN,
            "--header",
            "X-Tenant=acme",
            "--header",
            "X-Region = eu ",
            "--timeout",
            "12",
            "--max-concurrency",
            "2",
            "--resource-types",
            "users",
            "--actions",
            "create,update,delete",
            "--deprovision",
            "delete",
            "--matching",
            "externalId",
            "--group-scope",
            "displayName sw \"hr-\"",
            "--group-members-of",
            "Staff,Contractors",
            "--guard-percent",
            "5.5",
            "--guard-min",
            "3",
            "--guard-max",
            "50",
            "--reconcile-every",
            "3600",
            "--rate-limit",
            "25",
            "--departments",
            "none",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let show = scimhub(&db, &["target", "show", "hr", "--json"]);
    let settings =
        serde_json::from_slice::<serde_json::Value>(&show.stdout).unwrap()["settings"].clone();
    assert_eq!(
        settings,
        serde_json::json!({
            "kind": "scim",
            "auth": "bearer",
            "resource_types": ["Users"],
            "actions": {"create": true, "update": true, "deactivate": false, "delete": true},
            "deprovision": "delete",
            "matching": "externalId",
            "guard": {"max_percent": 5.5, "min_count": 3, "max_count": 50, "window_secs": 3600},
            "timeout_secs": 12,
            "max_concurrency": 2,
            "headers": {"X-Region": "eu", "X-Tenant": "acme"},
            "group_scope": "displayName sw \"hr-\"",
            "scope_groups": ["Staff", "Contractors"],
            "reconcile_secs": 3600,
            "orphans": "report",
            "rate_limit": 25,
            "departments": "none",
        })
    );
}

#[test]
fn target_add_refuses_bad_options_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let base = [
        "target",
        "add",
        "--name",
        "app",
        "--url",
        "https://x.example",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "give the target's credentials"),
        (
            vec!["--token", "t", "--basic-user", "u"],
            "cannot be used with",
        ),
        (
            vec![
                "--basic-user",
                "u",
                "--oauth-token-url",
                "https://t.example",
            ],
            "cannot be used with",
        ),
        (vec!["--basic-password", "p"], "--basic-user"),
        (vec!["--basic-user", "u"], "needs --basic-password"),
        (
            vec!["--basic-user", "a:b", "--basic-password", "p"],
            "cannot contain ':'",
        ),
        (vec!["--client-id", "c"], "--oauth-token-url"),
        (
            vec![
                "--oauth-token-url",
                "https://t.example",
                "--client-secret",
                "s",
            ],
            "needs --client-id",
        ),
        (
            vec!["--oauth-token-url", "https://t.example", "--client-id", "c"],
            "needs --client-secret",
        ),
        (
            vec![
                "--oauth-token-url",
                "ftp://t.example",
                "--client-id",
                "c",
                "--client-secret",
                "s",
            ],
            "OAuth token URL",
        ),
        (vec!["--token", "t", "--header", "X-A"], "NAME=VALUE"),
        (
            vec!["--token", "t", "--header", "bad name=1"],
            "not a valid header name",
        ),
        (
            vec!["--token", "t", "--header", "Authorization=Bearer x"],
            "cannot be overridden",
        ),
        (
            vec!["--token", "t", "--header", "X-A=1", "--header", "X-A=2"],
            "given twice",
        ),
        (vec!["--token", "t", "--timeout", "0"], "timeout must be"),
        (vec!["--token", "t", "--timeout", "soon"], "invalid value"),
        (
            vec!["--token", "t", "--max-concurrency", "0"],
            "concurrency",
        ),
        (
            vec!["--token", "t", "--resource-types", "Roles"],
            "unknown resource type",
        ),
        (
            vec!["--token", "t", "--actions", "create,purge"],
            "unknown action",
        ),
        (
            vec!["--token", "t", "--deprovision", "nuke"],
            "invalid value",
        ),
        (
            vec!["--token", "t", "--deprovision", "delete"],
            "needs the delete action",
        ),
        (
            vec!["--token", "t", "--group-scope", "displayName eq"],
            "invalid group scope",
        ),
        (
            vec!["--token", "t", "--group-members-of", "a,,b"],
            "scope group name is empty",
        ),
        (
            vec!["--token", "t", "--guard-percent", "150"],
            "between 0 and 100",
        ),
        (
            vec!["--token", "t", "--guard-min", "-1"],
            "unexpected argument",
        ),
    ];
    for (extra, want) in cases {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let out = scimhub(&db, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out).contains(want), "{args:?}: {}", text(&out));
    }
    assert!(!text(&scimhub(&db, &["target", "list"])).contains("x.example"));
}
