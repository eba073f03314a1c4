//! The report as people read it on a terminal.

use std::fmt::Write;

use super::report::{RunReport, shown};

pub fn render(r: &RunReport) -> String {
    let mut out = String::new();
    let kind = if r.head.dry_run { "Dry run" } else { "Run" };
    let _ = writeln!(
        out,
        "{kind} {} of target {:?}: {}",
        r.head.id,
        r.head.target,
        r.head.status.as_str()
    );
    let _ = writeln!(
        out,
        "  started {}  finished {}",
        r.head.started,
        r.head.finished.as_deref().unwrap_or("-")
    );
    let c = &r.head.counts;
    let _ = writeln!(
        out,
        "  created {}  updated {}  deactivated {}  deleted {}  linked {}  unchanged {}  skipped {}  failed {}",
        c.created, c.updated, c.deactivated, c.deleted, c.linked, c.unchanged, c.skipped, c.failed
    );
    let _ = writeln!(
        out,
        "  membership patches {}  manager updates {}",
        c.member_patches, c.manager_updates
    );
    if !c.departments.is_zero() {
        let d = &c.departments;
        let _ = writeln!(
            out,
            "  of which department groups: created {}  updated {}  deleted {}  linked {}  unchanged {}  skipped {}  failed {}  membership patches {}",
            d.created,
            d.updated,
            d.deleted,
            d.linked,
            d.unchanged,
            d.skipped,
            d.failed,
            d.member_patches
        );
    }
    if let Some(e) = &r.head.error {
        let _ = writeln!(out, "  error: {e}");
    }
    for change in &r.changes {
        let _ = write!(
            out,
            "  {:<10} {:<5} {}",
            change.action, change.resource_type, change.local_id
        );
        if !change.changed.is_empty() {
            let _ = write!(out, " [{}]", change.changed.join(", "));
        }
        if let Some(reason) = &change.reason {
            let _ = write!(out, " ({reason})");
        }
        out.push('\n');
        for d in &change.diff {
            let _ = writeln!(
                out,
                "{:19}{}: {} → {}",
                "",
                d.attribute,
                shown(&d.before),
                shown(&d.after)
            );
        }
    }
    if !r.pending.is_empty() {
        let _ = writeln!(
            out,
            "  {} deprovision(s) await approval (scimhub sync approve {} | reject {}):",
            r.pending.len(),
            r.head.id,
            r.head.id
        );
        for h in &r.pending {
            let _ = writeln!(
                out,
                "    {:<5} {:<32} {} → {} ({}, held {})",
                h.resource_type,
                h.name.as_deref().unwrap_or("-"),
                if h.local_id.is_empty() {
                    "-"
                } else {
                    &h.local_id
                },
                h.remote_id,
                h.reason,
                h.held_at.as_deref().unwrap_or(&r.head.started)
            );
        }
    }
    if !r.orphans.is_empty() {
        let _ = writeln!(
            out,
            "  {} account(s) on the target match nothing here (orphans):",
            r.orphans.len()
        );
        for o in &r.orphans {
            let _ = writeln!(
                out,
                "    {:<5} {:<32} {}",
                o.resource_type,
                o.name.as_deref().unwrap_or("-"),
                o.remote_id
            );
        }
    }
    for f in &r.failures {
        let status = f.status.map_or("-".to_string(), |s| s.to_string());
        let _ = writeln!(
            out,
            "  failed {} {} {} [{status}]: {}",
            f.action, f.resource_type, f.local_id, f.detail
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    out
}
