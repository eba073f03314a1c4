//! The case files embedded at build time (see `build.rs`), by suite.

use std::fmt;
use std::str::FromStr;

use super::case::Case;

include!(concat!(env!("OUT_DIR"), "/conformance_files.rs"));

/// A folder of cases under `conformance/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    Rfc7644,
    Okta,
    Entra,
    /// Variants real clients send that a strict server may refuse.
    Tolerance,
    /// Resource types and schemas beyond RFC 7643, each case run where the
    /// server advertises what it needs.
    Extensions,
    /// What a SCIM client can observe of SCIM events (RFC 9967) without a
    /// subscription, run where the server publishes a signing key.
    Events,
}

impl Suite {
    pub const ALL: [Suite; 6] = [
        Suite::Rfc7644,
        Suite::Okta,
        Suite::Entra,
        Suite::Tolerance,
        Suite::Extensions,
        Suite::Events,
    ];

    pub fn folder(self) -> &'static str {
        match self {
            Suite::Rfc7644 => "rfc7644",
            Suite::Okta => "okta",
            Suite::Entra => "entra",
            Suite::Tolerance => "tolerance",
            Suite::Extensions => "extensions",
            Suite::Events => "events",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder())
    }
}

impl FromStr for Suite {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Suite::ALL
            .into_iter()
            .find(|suite| suite.folder().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown suite {s:?}: use rfc7644, okta, entra, tolerance, extensions or events"
                )
            })
    }
}

/// Parses one file; `file` is its path under `conformance/`.
pub fn parse(file: &str, text: &str) -> Result<Case, String> {
    let mut case: Case = serde_yaml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    case.validate().map_err(|e| format!("{file}: {e}"))?;
    case.id = file.trim_end_matches(".yaml").to_string();
    Ok(case)
}

/// Every embedded case of `only` (or of all suites), in file-name order
/// within each suite; any unreadable file is an error.
pub fn load(only: Option<Suite>) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for suite in Suite::ALL
        .into_iter()
        .filter(|s| only.is_none_or(|o| o == *s))
    {
        let prefix = format!("{}/", suite.folder());
        for (file, text) in FILES.iter().filter(|(f, _)| f.starts_with(&prefix)) {
            cases.push(parse(file, text)?);
        }
    }
    let known = |file: &str| {
        Suite::ALL.iter().any(|s| {
            file.strip_prefix(s.folder())
                .is_some_and(|r| r.starts_with('/'))
        })
    };
    if let Some((stray, _)) = FILES.iter().find(|(f, _)| !known(f)) {
        return Err(format!(
            "{stray}: case files belong in rfc7644/, okta/, entra/, tolerance/, extensions/ or events/"
        ));
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_case_parses_and_validates() {
        let all = load(None).unwrap();
        assert_eq!(all.len(), FILES.len());
        for suite in Suite::ALL {
            let some = load(Some(suite)).unwrap();
            assert!(!some.is_empty(), "{suite} has cases");
            assert!(some.iter().all(|c| c.id.starts_with(suite.folder())));
        }
        let mut ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
    }

    #[test]
    fn authoring_mistakes_are_refused() {
        let ok = "name: n\nsteps:\n  - {method: GET, path: /Users, expect: {status: 200}}\n";
        assert!(parse("t.yaml", ok).is_ok());
        let origin = "name: n\nrequires: {events: true}\nsteps:\n  \
                      - {method: GET, base: origin, path: /j, expect: {status: 200}}\n";
        let case = parse("t.yaml", origin).unwrap();
        assert!(case.requires.events && !case.requires.is_empty());
        assert_eq!(case.steps[0].base, crate::conformance::case::Base::Origin);
        for bad in [
            "name: n\nsteps: []\n",
            "name: n\nsteps:\n  - {method: GET, path: /Users}\n",
            "name: n\nsteps:\n  - {method: GET, path: Users, expect: {status: 200}}\n",
            "name: n\nsteps:\n  - {method: get, path: /Users, expect: {status: 200}}\n",
            "name: n\nsteps:\n  - {method: GET, path: /Users, expect: {status: 200, stauts: 1}}\n",
            "name: n\nsteps:\n  - {method: GET, path: /Users, expect: {status: {$gtee: 1}}}\n",
            "name: n\nsteps:\n  - {method: GET, path: /Users, save: run, expect: {status: 200}}\n",
            "name: n\nsteps:\n  - {method: GET, path: /U, expect: {status: 200, absent: [a..b]}}\n",
            "name: n\nsteps:\n  - {method: GET, base: root, path: /U, expect: {status: 200}}\n",
            "name: n\nrequires: {events: yes please}\nsteps:\n  - {method: GET, path: /U, expect: {status: 200}}\n",
        ] {
            assert!(parse("t.yaml", bad).is_err(), "{bad}");
        }
    }
}
