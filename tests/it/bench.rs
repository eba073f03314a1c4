//! `scimhub bench suite` at a tiny scale: every row is measured end to end
//! (the sync rows with 100 users). A behaviour check, not a timing one.

use std::process::Command;

use serde_json::Value;

const LOAD_ROWS: &[&str] = &[
    "static JSON GET /livez (ceiling)",
    "GET /ServiceProviderConfig (token check only)",
    "GET /Users/{id}",
    "GET /Users?filter=userName eq",
    "  the same, 1 client (latency)",
    "POST /Users",
    "PATCH /Users/{id} replace displayName",
    "group member add/remove, 10 members",
    "group member add/remove, 20 members",
];
const SYNC_ROWS: &[&str] = &[
    "outbound full sync 10k users",
    "change → downstream latency",
];
const BULK_ROW: &str = "/Bulk import, 1,000 users per request";
const STORED_ROW: &str = "acknowledged user creations found afterwards";
const RSS_ROWS: &[&str] = &[
    "peak RSS of the server process",
    "  server RSS after the runs: heap and other anonymous memory",
    "  server RSS after the runs: mapped files",
];

fn suite(extra: &[&str]) -> String {
    let out = suite_command(extra);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn suite_command(extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .env_remove("SCIMHUB_DATABASE_URL")
        .args([
            "bench",
            "suite",
            "--users",
            "50",
            "--runs",
            "1",
            "--duration",
            "0.5",
            "--concurrency",
            "4",
            "--member-sizes",
            "10,20",
            "--bulk-rounds",
            "1",
            "--sync-users",
            "100",
        ])
        .args(extra)
        .output()
        .unwrap()
}

/// Checks the JSON report: every load row has a rate, latencies and a ratio
/// to the ceiling; /Bulk and the full sync a users/s rate; propagation a p50.
fn check_report(report: &Value, backend: &str, instances: u64) {
    assert_eq!(report["settings"]["backend"], backend);
    assert_eq!(report["settings"]["instances"], instances);
    assert_eq!(report["settings"]["concurrency"], 4);
    for fact in ["cpu", "os", "rustc", "profile"] {
        assert!(
            report["machine"][fact]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{fact}"
        );
    }
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    let rows = report["rows"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["scenario"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = LOAD_ROWS.to_vec();
    expected.push(BULK_ROW);
    expected.extend(SYNC_ROWS);
    expected.push(STORED_ROW);
    expected.extend(RSS_ROWS);
    assert_eq!(names, expected);
    let row = |name: &str| rows.iter().find(|r| r["scenario"] == name).unwrap();
    for name in LOAD_ROWS {
        let r = row(name);
        assert_eq!(r["unit"], "req/s", "{name}");
        assert!(r["value"].as_f64().unwrap() > 0.0, "{name}: {r}");
        assert!(r["p50_ms"].as_f64().unwrap() > 0.0, "{name}: {r}");
        assert!(r["p99_ms"].as_f64().unwrap() >= r["p50_ms"].as_f64().unwrap());
        assert!(r["vs_ceiling"].as_f64().unwrap() > 0.0, "{name}: {r}");
        assert_eq!(r["runs"], 1);
    }
    assert_eq!(row(LOAD_ROWS[0])["vs_ceiling"], 1.0);
    assert_eq!(row(BULK_ROW)["unit"], "users/s");
    assert!(row(BULK_ROW)["value"].as_f64().unwrap() > 0.0);
    for name in SYNC_ROWS {
        assert!(row(name)["value"].as_f64().unwrap() > 0.0, "{name}");
    }
    assert_eq!(row(SYNC_ROWS[0])["unit"], "users/s");
    for name in RSS_ROWS {
        assert_eq!(row(name)["unit"], "MiB", "{name}");
        assert!(row(name)["value"].as_f64().unwrap() >= 0.0, "{name}");
    }
    assert!(row(RSS_ROWS[0])["value"].as_f64().unwrap() > 1.0);
    // 50 seeded, then every acknowledged POST and /Bulk creation (the
    // suite itself fails when one is missing).
    assert_eq!(row(STORED_ROW)["unit"], "users");
    assert!(row(STORED_ROW)["value"].as_f64().unwrap() > 50.0 + 1000.0);
}

#[test]
fn suite_prints_every_row_on_sqlite() {
    let table = suite(&[]);
    let mut names: Vec<&str> = LOAD_ROWS.to_vec();
    names.push(BULK_ROW);
    names.extend(RSS_ROWS);
    names.extend(SYNC_ROWS);
    for name in names {
        let line = table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row {name:?} in\n{table}"));
        assert!(!line[name.len()..].trim().is_empty(), "{line}");
    }
    assert!(table.contains("machine: "), "{table}");
    let report: Value = serde_json::from_str(&suite(&["--json"])).unwrap();
    check_report(&report, "SQLite", 1);
}

#[test]
fn suite_runs_on_postgres() {
    let Some(server) = crate::support::postgres::server() else {
        return;
    };
    let url = server.fresh_database();
    let report: Value = serde_json::from_str(&suite(&["--json", "--database", &url])).unwrap();
    check_report(&report, "PostgreSQL", 1);
}

#[test]
fn suite_spreads_the_load_over_two_instances_on_postgres() {
    let Some(server) = crate::support::postgres::server() else {
        return;
    };
    let url = server.fresh_database();
    let args = ["--json", "--database", &url, "--instances", "2"];
    let report: Value = serde_json::from_str(&suite(&args)).unwrap();
    check_report(&report, "PostgreSQL", 2);
}

#[test]
fn several_instances_need_postgres() {
    let out = suite_command(&["--instances", "2"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--database postgres://"), "{stderr}");
}

/// `scimhub bench sources` at a tiny scale (300 people and 60 departments):
/// the HR import, the no-change
/// re-import and the LDAP steady-state incremental run all report what
/// they did (slapd: skipped here when not installed, like the LDAP tests).
#[test]
fn the_sources_bench_imports_re_imports_and_follows_ldap() {
    let ldap = if scimhub::bench::slapd::program("slapd").is_some()
        || std::env::var("SCIMHUB_REQUIRE_SLAPD").as_deref() == Ok("1")
    {
        "200"
    } else {
        "0"
    };
    let out = Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .env_remove("SCIMHUB_DATABASE_URL")
        .args([
            "bench",
            "sources",
            "--people",
            "300",
            "--ldap-people",
            ldap,
            "--changes",
            "20",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("HR CSV import into an empty store: 366 rows read, 360 created, 6 refused"),
        "{text}"
    );
    assert!(
        text.contains("no-change re-import: 360 unchanged, 0 written"),
        "{text}"
    );
    if ldap != "0" {
        assert!(
            text.contains("LDAP incremental import of 20 changes: 20 entries read, 20 updated"),
            "{text}"
        );
    }
}

/// `scimhub bench departments` at a tiny scale (230 departments, 2,000
/// people): the tree's queries and moves, then the full outbound sync of
/// the tree into a second scimhub (every department a group) and a re-run
/// that writes nothing.
#[test]
fn the_departments_bench_syncs_the_tree_out() {
    let out = Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .env_remove("SCIMHUB_DATABASE_URL")
        .args([
            "bench",
            "departments",
            "--departments",
            "230",
            "--people",
            "2000",
            "--requests",
            "5",
            "--moves",
            "2",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in {text}"))
            .to_string()
    };
    let full = line("full outbound sync of the tree (230 departments, 2000 people)");
    assert!(
        full.contains("created 2230 (department groups 230), unchanged 0"),
        "{full}"
    );
    let rerun = line("no-change re-run");
    assert!(
        rerun.contains("created 0 (department groups 0), unchanged 2230, member patches 0"),
        "{rerun}"
    );
}
