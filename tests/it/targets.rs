//! `scimhub target add|list|show|remove`: validation, encrypted credentials,
//! and that no secret is ever printed or stored in the clear.

use std::process::{Command, Output};

use diesel::prelude::*;
use diesel::sql_types::Text;

const KEY: &str = "0011223344556677889900112233445566778899001122334455667788990011";
const TOKEN: &str = "downstream-secret-token-123";

fn scimhub(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .env_remove("SCIMHUB_DATABASE_URL")
        .env_remove("SCIMHUB_TARGET_TOKEN")
        .env("SCIMHUB_SECRET_KEY", KEY)
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--database", db])
        .output()
        .unwrap()
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
    assert!(listing.contains("custom") && listing.contains("active eq true"));

    let show = scimhub(&db, &["target", "show", "slack"]);
    assert!(show.status.success(), "{}", text(&show));
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["name"], "slack");
    assert_eq!(shown["settings"]["matching"], "userName");
    assert_eq!(
        shown["mapping"]["users"]["rules"][0]["value"],
        "lower(userName)"
    );
    assert!(!text(&show).contains(TOKEN));
    assert!(!text(&show).to_lowercase().contains("credentials"));

    // At rest: sealed, not the token.
    let mut conn = SqliteConnection::establish(db.trim_start_matches("sqlite://")).unwrap();
    let rows: Vec<Cred> = diesel::sql_query("SELECT credentials FROM sync_targets")
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].credentials.contains(TOKEN));
    assert!(rows[0].credentials.len() > 40);

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
