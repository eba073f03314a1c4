//! Validation of a target's non-secret settings before it is stored:
//! every option the CLI and admin API accept is checked here once.

use std::collections::HashSet;

use anyhow::bail;

use super::client::extra_headers;
use super::plan::{DeprovisionMode, MatchKey};
use super::target::{AllowedActions, TargetSettings};
use crate::scim::ResourceKind;
use crate::scim::filter::{self, FilterLimits};

pub const MAX_TIMEOUT_SECS: u64 = 600;
pub const MAX_CONCURRENCY: usize = 64;
pub const MAX_RATE_LIMIT: u32 = 10_000;

/// A scope filter that parses and names attributes of `kind`.
pub fn check_filter(text: &str, kind: ResourceKind, what: &str) -> anyhow::Result<()> {
    let f = filter::parse_filter(text, FilterLimits::default())
        .map_err(|e| anyhow::anyhow!("invalid {what}: {}", e.detail))?;
    filter::check(&f, kind).map_err(|e| anyhow::anyhow!("invalid {what}: {}", e.detail))?;
    Ok(())
}

/// Allowed actions from their names (`create,update,deactivate,delete`);
/// the ones not named are refused.
pub fn parse_actions(names: &[String]) -> anyhow::Result<AllowedActions> {
    let mut actions = AllowedActions {
        create: false,
        update: false,
        deactivate: false,
        delete: false,
    };
    for name in names {
        let slot = match name.trim().to_ascii_lowercase().as_str() {
            "create" => &mut actions.create,
            "update" => &mut actions.update,
            "deactivate" => &mut actions.deactivate,
            "delete" => &mut actions.delete,
            _ => bail!("unknown action {name:?} (create, update, deactivate, delete)"),
        };
        if *slot {
            bail!("action {name:?} is given twice");
        }
        *slot = true;
    }
    Ok(actions)
}

/// The settings made canonical (resource type spelling, trimmed names, the
/// kind's own settings), or the first thing wrong with them.
pub fn check_settings(settings: &TargetSettings) -> anyhow::Result<TargetSettings> {
    let mut out = settings.clone();
    out.resource_types = resource_types(&settings.resource_types)?;
    let a = settings.actions;
    if !(a.create || a.update || a.deactivate || a.delete) {
        bail!("at least one action (create, update, deactivate, delete) must be allowed");
    }
    if settings.deprovision == DeprovisionMode::Delete && !a.delete {
        bail!("deprovisioning by delete needs the delete action to be allowed");
    }
    MatchKey::parse(&settings.matching)
        .map_err(|m| anyhow::anyhow!("invalid matching attribute: {m}"))?;
    let g = &settings.guard;
    if !g.max_percent.is_finite() || !(0.0..=100.0).contains(&g.max_percent) {
        bail!("the deletion guard percentage must be between 0 and 100");
    }
    if !(1..=MAX_TIMEOUT_SECS).contains(&settings.timeout_secs) {
        bail!("the timeout must be 1 to {MAX_TIMEOUT_SECS} seconds");
    }
    if !(1..=MAX_CONCURRENCY).contains(&settings.max_concurrency) {
        bail!("the maximum concurrency must be 1 to {MAX_CONCURRENCY}");
    }
    if settings
        .rate_limit
        .is_some_and(|r| !(1..=MAX_RATE_LIMIT).contains(&r))
    {
        bail!("the rate limit must be 1 to {MAX_RATE_LIMIT} requests per second");
    }
    extra_headers(&settings.headers).map_err(anyhow::Error::msg)?;
    if let Some(scope) = &settings.group_scope {
        check_filter(scope, ResourceKind::Group, "group scope")?;
    }
    out.scope_groups = group_names(&settings.scope_groups)?;
    out.root_department = settings
        .root_department
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_string);
    out.department_scope = department_ids(&settings.department_scope)?;
    out.kind.check_settings(out)
}

/// The department scope's ids, trimmed, each once; an empty list is none.
fn department_ids(ids: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()) {
        if out.iter().any(|o| o == id) {
            bail!("department {id:?} is given twice in the department scope");
        }
        out.push(id.to_string());
    }
    Ok(out)
}

fn resource_types(types: &[String]) -> anyhow::Result<Vec<String>> {
    if types.is_empty() {
        bail!("at least one resource type (Users, Groups) must be synced");
    }
    let mut out: Vec<String> = Vec::new();
    for t in types {
        let kind = ResourceKind::parse(t.trim().trim_end_matches(['s', 'S']))
            .ok_or_else(|| anyhow::anyhow!("unknown resource type {t:?} (Users or Groups)"))?;
        if kind == ResourceKind::Department {
            bail!(
                "departments are not a resource type of targets: choose how they reach the \
                 target with --departments groups|attribute|none (settings.departments)"
            );
        }
        let name = kind.endpoint().to_string();
        if out.contains(&name) {
            bail!("resource type {name} is given twice");
        }
        out.push(name);
    }
    Ok(out)
}

fn group_names(names: &[String]) -> anyhow::Result<Vec<String>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() {
            bail!("a scope group name is empty");
        }
        if !seen.insert(name.to_lowercase()) {
            bail!("scope group {name:?} is given twice");
        }
        out.push(name.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_by_name_and_refuse_unknown_or_repeated_ones() {
        let a = parse_actions(&["create".into(), " Delete ".into()]).unwrap();
        assert!(a.create && a.delete && !a.update && !a.deactivate);
        let e = parse_actions(&["create".into(), "purge".into()]).unwrap_err();
        assert!(e.to_string().contains("unknown action \"purge\""), "{e}");
        let e = parse_actions(&["update".into(), "update".into()]).unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
    }

    fn err(settings: TargetSettings) -> String {
        check_settings(&settings).unwrap_err().to_string()
    }

    #[test]
    fn defaults_pass_and_spellings_become_canonical() {
        let d = TargetSettings::default();
        assert_eq!(check_settings(&d).unwrap(), d);
        let s = TargetSettings {
            resource_types: vec!["users".into(), " Group ".into()],
            scope_groups: vec![" Sales ".into()],
            group_scope: Some("displayName sw \"eng\"".into()),
            ..d
        };
        let out = check_settings(&s).unwrap();
        assert_eq!(out.resource_types, ["Users", "Groups"]);
        assert_eq!(out.scope_groups, ["Sales"]);
    }

    #[test]
    fn refuses_incoherent_or_out_of_range_settings() {
        let d = TargetSettings::default;
        let none = AllowedActions {
            create: false,
            update: false,
            deactivate: false,
            delete: false,
        };
        let cases = [
            (
                TargetSettings {
                    resource_types: vec![],
                    ..d()
                },
                "at least one resource type",
            ),
            (
                TargetSettings {
                    resource_types: vec!["Roles".into()],
                    ..d()
                },
                "unknown resource type",
            ),
            (
                TargetSettings {
                    resource_types: vec!["Users".into(), "users".into()],
                    ..d()
                },
                "given twice",
            ),
            (
                TargetSettings {
                    actions: none,
                    ..d()
                },
                "at least one action",
            ),
            (
                TargetSettings {
                    deprovision: DeprovisionMode::Delete,
                    ..d()
                },
                "needs the delete action",
            ),
            (
                TargetSettings {
                    timeout_secs: 0,
                    ..d()
                },
                "timeout",
            ),
            (
                TargetSettings {
                    max_concurrency: 0,
                    ..d()
                },
                "concurrency",
            ),
            (
                TargetSettings {
                    rate_limit: Some(0),
                    ..d()
                },
                "rate limit must be 1 to",
            ),
            (
                TargetSettings {
                    group_scope: Some("displayName eq".into()),
                    ..d()
                },
                "invalid group scope",
            ),
            (
                TargetSettings {
                    scope_groups: vec!["a".into(), "A".into()],
                    ..d()
                },
                "given twice",
            ),
            (
                TargetSettings {
                    scope_groups: vec![" ".into()],
                    ..d()
                },
                "is empty",
            ),
        ];
        for (settings, want) in cases {
            let e = err(settings.clone());
            assert!(e.contains(want), "{settings:?}: {e}");
        }
        let mut nan = d();
        nan.guard.max_percent = f64::NAN;
        assert!(err(nan).contains("percentage"));
    }
}
