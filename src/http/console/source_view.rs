//! Sources and their runs as the console's lists and pages show them.

use std::collections::HashSet;

use super::page::segment;
use super::view::{when, when_opt};
use crate::provision::source::manage::{LastRun, SourceWithStatus};
use crate::provision::source::report::ImportCounts;
use crate::provision::source::{ImportReport, RunStatus, SourceSettings};

/// A source in a list.
pub struct SourceRow {
    pub name: String,
    pub href: String,
    pub kind: &'static str,
    /// `awaiting_approval`, `running`, `scheduled` or `manual`.
    pub state: &'static str,
    pub schedule: String,
    pub last_run: Option<LastRunRow>,
    /// Entries in the failure list.
    pub failures: usize,
}

pub struct LastRunRow {
    pub href: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub started: String,
}

fn run_kind(dry_run: bool) -> &'static str {
    if dry_run { "dry run" } else { "run" }
}

/// The source's page.
pub fn source_href(name: &str) -> String {
    format!("/console/sources/{}", segment(name))
}

/// A source run's page.
pub fn run_href(id: &str) -> String {
    format!("/console/source-runs/{}", segment(id))
}

/// When the source runs by itself: `every 15 min (incremental)`, `watching DIR`, `manual`.
pub fn schedule(s: &SourceSettings) -> String {
    let mut parts = Vec::new();
    if let Some(secs) = s.schedule_secs {
        let every = if secs % 60 == 0 {
            format!("{} min", secs / 60)
        } else {
            format!("{secs} s")
        };
        parts.push(format!("every {every} ({})", s.schedule_mode.as_str()));
    }
    if let Some(dir) = &s.watch_dir {
        parts.push(format!("watching {dir}"));
    }
    if parts.is_empty() {
        "manual".into()
    } else {
        parts.join(", ")
    }
}

impl SourceRow {
    /// `held`: the names of the sources with a run awaiting approval.
    pub fn new(s: &SourceWithStatus, held: &HashSet<String>) -> Self {
        let settings = &s.source.settings;
        let running = s
            .last_run
            .as_ref()
            .is_some_and(|r| r.status == RunStatus::Running);
        let state = if held.contains(&s.source.name) {
            "awaiting_approval"
        } else if running {
            "running"
        } else if settings.schedule_secs.is_some() || settings.watch_dir.is_some() {
            "scheduled"
        } else {
            "manual"
        };
        Self {
            name: s.source.name.clone(),
            href: source_href(&s.source.name),
            kind: s.source.kind.as_str(),
            state,
            schedule: schedule(settings),
            last_run: s.last_run.as_ref().map(LastRunRow::from),
            failures: s.failures,
        }
    }

    /// Its failure list's page.
    pub fn failures_href(&self) -> String {
        format!("{}/failures", self.href)
    }
}

impl From<&LastRun> for LastRunRow {
    fn from(r: &LastRun) -> Self {
        Self {
            href: run_href(&r.id),
            kind: run_kind(r.dry_run),
            status: r.status.as_str(),
            started: when(&r.started),
        }
    }
}

/// `40 read: 2 created, 1 updated, 1 failed`, or `40 read: nothing changed`.
pub fn summary(c: &ImportCounts) -> String {
    let parts: Vec<String> = [
        (c.created, "created"),
        (c.linked, "linked"),
        (c.updated, "updated"),
        (c.deactivated, "deactivated"),
        (c.deleted, "deleted"),
        (c.failed, "refused"),
        (c.held, "held"),
        (c.member_patches, "membership changes"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let changed = if parts.is_empty() {
        "nothing changed".to_string()
    } else {
        parts.join(", ")
    };
    format!("{} read: {changed}", c.read)
}

/// The counts a report's table shows, labelled.
pub fn count_cells(c: &ImportCounts) -> Vec<(&'static str, usize)> {
    vec![
        ("read", c.read),
        ("created", c.created),
        ("linked", c.linked),
        ("updated", c.updated),
        ("unchanged", c.unchanged),
        ("deactivated", c.deactivated),
        ("deleted", c.deleted),
        ("refused", c.failed),
        ("held", c.held),
        ("membership changes", c.member_patches),
    ]
}

/// A source run in a list.
pub struct SourceRunRow {
    pub id: String,
    pub href: String,
    pub source: String,
    pub source_href: String,
    pub kind: &'static str,
    pub mode: &'static str,
    pub trigger: String,
    pub status: &'static str,
    pub started: String,
    pub finished: String,
    pub summary: String,
}

impl From<&ImportReport> for SourceRunRow {
    fn from(r: &ImportReport) -> Self {
        Self {
            id: r.id.clone(),
            href: run_href(&r.id),
            source: r.source.clone(),
            source_href: source_href(&r.source),
            kind: run_kind(r.dry_run),
            mode: r.mode.as_str(),
            trigger: r.trigger.clone(),
            status: r.status.as_str(),
            started: when(&r.started),
            finished: when_opt(r.finished.as_deref()),
            summary: summary(&r.counts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::source::RunMode;

    #[test]
    fn schedules_read_as_people_say_them() {
        let mut s = SourceSettings::default();
        assert_eq!(schedule(&s), "manual");
        s.schedule_secs = Some(900);
        s.schedule_mode = RunMode::Incremental;
        assert_eq!(schedule(&s), "every 15 min (incremental)");
        s.schedule_secs = Some(90);
        s.watch_dir = Some("/srv/hr/inbox".into());
        assert_eq!(
            schedule(&s),
            "every 90 s (incremental), watching /srv/hr/inbox"
        );
    }

    #[test]
    fn a_summary_names_what_changed() {
        let mut c = ImportCounts {
            read: 40,
            unchanged: 40,
            ..ImportCounts::default()
        };
        assert_eq!(summary(&c), "40 read: nothing changed");
        c.created = 2;
        c.failed = 1;
        assert_eq!(summary(&c), "40 read: 2 created, 1 refused");
    }
}
