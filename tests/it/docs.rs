//! The documentation stays true to the tree it describes: every relative
//! link and anchor resolves, the README stays a landing page, ARCHITECTURE.md
//! names every module under `src/`, and the packaging files agree with the
//! documented defaults. (The route table is checked in `access`, the
//! configuration reference in `config::reference`, the CLI help in `cli::help`.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap()
}

/// README.md, ARCHITECTURE.md and every docs/*.md.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.insert(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// `(target, anchor)` of every relative Markdown link `](…)`.
fn relative_links(text: &str) -> Vec<(String, Option<String>)> {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    link.captures_iter(text)
        .map(|c| c[1].to_string())
        .filter(|l| !l.contains("://") && !l.starts_with("mailto:"))
        .map(|l| match l.split_once('#') {
            Some((file, anchor)) => (file.to_string(), Some(anchor.to_string())),
            None => (l, None),
        })
        .collect()
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (target, fragment) in relative_links(&text) {
            let target_path = if target.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(&target)
            };
            let name = file.strip_prefix(root()).unwrap().display().to_string();
            if !target_path.exists() {
                broken.push(format!("{name}: {target} does not exist"));
                continue;
            }
            if let Some(fragment) = fragment {
                let text = std::fs::read_to_string(&target_path).unwrap();
                if !anchors(&text).contains(&fragment) {
                    broken.push(format!("{name}: {target}#{fragment} names no heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

#[test]
fn the_link_check_sees_broken_links() {
    let text = "[a](docs/none.md) [b](#here) [c](https://x.example/y)";
    assert_eq!(
        relative_links(text),
        [
            ("docs/none.md".to_string(), None),
            (String::new(), Some("here".to_string()))
        ]
    );
    let headings = anchors("# Notifications: webhooks and e-mail\n```\n# not a heading\n```\n");
    assert_eq!(
        headings,
        BTreeSet::from(["notifications-webhooks-and-e-mail".to_string()])
    );
}

#[test]
fn the_readme_is_a_landing_page_with_the_two_setup_commands() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; move detail to docs/"
    );
    for command in [
        "cargo run --release -- serve",
        "cargo test",
        "cargo install --path .",
    ] {
        assert!(readme.contains(command), "README.md lacks `{command}`");
    }
    for guide in [
        "docs/getting-started.md",
        "docs/okta.md",
        "docs/entra.md",
        "docs/sync-center.md",
        "docs/operations.md",
        "docs/configuration.md",
        "docs/admin-api.md",
        "docs/security.md",
        "docs/scim.md",
    ] {
        assert!(
            readme.contains(&format!("]({guide}")),
            "README.md does not link {guide}"
        );
    }
}

#[test]
fn architecture_names_every_module_under_src() {
    let architecture = read("ARCHITECTURE.md");
    let words: BTreeSet<&str> = architecture
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("src")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let shown = if path.is_dir() {
            format!("{name}/")
        } else {
            name.clone()
        };
        if !architecture.contains(&shown) {
            missing.push(format!("src/{shown}"));
        }
        if !path.is_dir() {
            continue;
        }
        for child in std::fs::read_dir(&path).unwrap() {
            let child = child.unwrap().path();
            let stem = child.file_stem().unwrap().to_string_lossy().to_string();
            if stem != "mod" && !words.contains(stem.as_str()) {
                missing.push(format!("src/{name}/{stem}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name {missing:?}"
    );
}

/// `KEY=VALUE` lines under `[Section]` headers, comments and blank lines
/// aside: the INI shape systemd reads.
fn ini(text: &str) -> Vec<(String, String, String)> {
    let mut section = None;
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not KEY=VALUE: {line}", n + 1));
        let section = section
            .clone()
            .unwrap_or_else(|| panic!("line {}: outside a section", n + 1));
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()),
            "line {}: bad key {key:?}",
            n + 1
        );
        entries.push((section, key.to_string(), value.to_string()));
    }
    entries
}

#[test]
fn the_systemd_unit_runs_the_documented_binary_hardened() {
    let entries = ini(&read("packaging/scimhub.service"));
    let get = |section: &str, key: &str| -> Vec<String> {
        entries
            .iter()
            .filter(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.clone())
            .collect()
    };
    let sections: BTreeSet<&str> = entries.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(sections, BTreeSet::from(["Install", "Service", "Unit"]));
    assert_eq!(
        get("Service", "ExecStart"),
        ["/usr/local/bin/scimhub serve"]
    );
    assert_eq!(get("Service", "User"), ["scimhub"]);
    assert_eq!(get("Service", "StateDirectory"), ["scimhub"]);
    assert_eq!(
        get("Service", "EnvironmentFile"),
        ["/etc/scimhub/scimhub.env"]
    );
    assert_eq!(get("Service", "NoNewPrivileges"), ["yes"]);
    assert_eq!(get("Service", "ProtectSystem"), ["strict"]);
    let environment = get("Service", "Environment");
    assert!(
        environment.contains(&"SCIMHUB_DATABASE_URL=sqlite:///var/lib/scimhub/scimhub.db".into())
    );
    assert!(environment.contains(&"SCIMHUB_LISTEN=127.0.0.1:8080".into()));
    // The stop timeout outlasts the default shutdown_timeout_secs (30 s).
    assert_eq!(get("Service", "TimeoutStopSec"), ["45s"]);

    // The example environment file is what the CLI sources: the same database.
    let env = read("packaging/scimhub.env");
    assert!(env.contains("\nSCIMHUB_DATABASE_URL=sqlite:///var/lib/scimhub/scimhub.db\n"));
    assert!(env.contains("\nSCIMHUB_SECRET_KEY="));
    assert!(read("docs/operations.md").contains("packaging/scimhub.service"));
}

#[test]
fn the_dockerfile_listens_checks_health_and_keeps_data_where_it_says() {
    let dockerfile = read("Dockerfile");
    let instruction = |name: &str| -> Vec<String> {
        dockerfile
            .lines()
            .filter(|l| l.starts_with(&format!("{name} ")))
            .map(|l| l[name.len() + 1..].trim().to_string())
            .collect()
    };
    assert_eq!(
        instruction("FROM").len(),
        2,
        "a build stage and a runtime stage"
    );
    assert!(instruction("FROM")[1].starts_with("debian:"));
    assert!(dockerfile.contains("SCIMHUB_LISTEN=0.0.0.0:8080"));
    assert!(dockerfile.contains("SCIMHUB_DATABASE_URL=sqlite:///var/lib/scimhub/scimhub.db"));
    assert_eq!(instruction("EXPOSE"), ["8080"]);
    assert_eq!(instruction("VOLUME"), [r#"["/var/lib/scimhub"]"#]);
    assert_eq!(instruction("USER"), ["scimhub:scimhub"]);
    assert!(dockerfile.contains("http://127.0.0.1:8080/healthz"));
    assert_eq!(instruction("ENTRYPOINT"), [r#"["scimhub"]"#]);
    assert_eq!(instruction("CMD"), [r#"["serve"]"#]);
    // The build context keeps what build.rs and the migrations embed.
    let ignored = read(".dockerignore");
    for needed in ["src", "migrations", "conformance", "Cargo.lock", "build.rs"] {
        assert!(
            !ignored.lines().any(|l| l.trim() == needed),
            "{needed} is ignored"
        );
    }
}
