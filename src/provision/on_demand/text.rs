//! An on-demand provisioning report as people read it on a terminal.

use std::fmt::Write;

use super::report::{MatchHow, ObjectReport, Outcome, ProvisionReport, Step};
use crate::provision::client::{DRY_RUN_ID_PREFIX, Exchange};

pub fn render(r: &ProvisionReport) -> String {
    let mut out = String::new();
    let what = if r.dry_run {
        "Dry run: provisioning"
    } else {
        "Provisioning"
    };
    let user = r.objects.first().map(label).unwrap_or_default();
    let _ = writeln!(
        out,
        "{what} {user} to target {:?} ({})",
        r.target, r.target_state
    );
    if r.dry_run {
        let _ = writeln!(
            out,
            "  nothing is written: writes show as \"would send\", created resources get \
             made-up ids ({DRY_RUN_ID_PREFIX}N)"
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    for object in &r.objects {
        out.push('\n');
        render_object(&mut out, object, r.dry_run);
    }
    let verdict = if r.ok { "done" } else { "FAILED" };
    let _ = writeln!(out, "\n{verdict}.");
    out
}

fn label(o: &ObjectReport) -> String {
    let kind = o.resource_type.to_lowercase();
    match &o.name {
        Some(name) => format!("{kind} {name:?} ({})", o.local_id),
        None => format!("{kind} {}", o.local_id),
    }
}

fn render_object(out: &mut String, o: &ObjectReport, dry_run: bool) {
    let _ = writeln!(out, "{}", capitalized(&label(o)));
    for step in &o.steps {
        let _ = writeln!(out, "  {}", step_line(step));
    }
    let remote = o
        .remote_id
        .as_deref()
        .map(|id| format!(" (remote id {id})"))
        .unwrap_or_default();
    let _ = writeln!(out, "  => {}{remote}", outcome_text(o.outcome, dry_run));
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn outcome_text(outcome: Outcome, dry_run: bool) -> &'static str {
    match (outcome, dry_run) {
        (Outcome::Created, false) => "created",
        (Outcome::Created, true) => "would be created",
        (Outcome::Linked, false) => "linked (existing account adopted)",
        (Outcome::Linked, true) => "would be linked (existing account adopted)",
        (Outcome::Updated, false) => "updated",
        (Outcome::Updated, true) => "would be updated",
        (Outcome::Unchanged, _) => "unchanged",
        (Outcome::OutOfScope, _) => "out of scope: nothing written",
        (Outcome::NotAllowed, _) => "not allowed by the target's actions: nothing written",
        (Outcome::Gone, _) => "deleted here meanwhile: nothing written",
        (Outcome::Failed, _) => "FAILED",
    }
}

fn step_line(step: &Step) -> String {
    match step {
        Step::Scope { in_scope, reason } => {
            let verdict = if *in_scope {
                "in scope"
            } else {
                "out of scope"
            };
            format!("scope      {verdict}: {reason}")
        }
        Step::Resource { resource } => format!("mapped     {resource}"),
        Step::Match {
            how,
            remote_id,
            detail,
        } => {
            let how = match how {
                MatchHow::IdMap => "id map",
                MatchHow::Adopted => "adopted",
                MatchHow::Create => "create",
            };
            let remote = remote_id
                .as_deref()
                .map(|id| format!(" -> {id}"))
                .unwrap_or_default();
            format!("match      {how}{remote}: {detail}")
        }
        Step::Request(e) => request_line(e),
        Step::Skipped { reason } => format!("skipped    {reason}"),
        Step::Failed { operation, error } => format!("FAILED     {operation}: {error}"),
    }
}

fn request_line(e: &Exchange) -> String {
    let verb = if e.sent { "sent" } else { "would send" };
    let mut line = format!("{verb:<10} {} {}", e.method, e.path);
    if let Some(body) = &e.body {
        let _ = write!(line, " {body}");
    }
    let mut answer = Vec::new();
    if let Some(status) = e.status {
        answer.push(format!("{status}"));
    }
    if let Some(found) = e.found {
        answer.push(format!("{found} found"));
    }
    if let Some(id) = &e.remote_id {
        answer.push(format!("id {id}"));
    }
    if let Some(error) = &e.error {
        answer.push(error.clone());
    }
    if !answer.is_empty() {
        let _ = write!(line, " => {}", answer.join(", "));
    }
    line
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dry_runs_say_would_send_and_would_be_created() {
        let report = ProvisionReport {
            target: "down".into(),
            target_state: "new".into(),
            dry_run: true,
            notes: vec!["target \"down\" is new".into()],
            objects: vec![ObjectReport {
                resource_type: "User".into(),
                local_id: "u1".into(),
                name: Some("alice".into()),
                outcome: Outcome::Created,
                remote_id: Some("dry-run-1".into()),
                steps: vec![
                    Step::Scope {
                        in_scope: true,
                        reason: "the target syncs every user".into(),
                    },
                    Step::Request(Exchange {
                        method: "POST".into(),
                        path: "/Users".into(),
                        body: Some(json!({"userName": "alice"})),
                        sent: false,
                        status: Some(201),
                        remote_id: Some("dry-run-1".into()),
                        found: None,
                        error: None,
                    }),
                ],
            }],
            ok: true,
        };
        let text = render(&report);
        assert!(
            text.starts_with("Dry run: provisioning user \"alice\" (u1) to target \"down\" (new)"),
            "{text}"
        );
        assert!(
            text.contains("would send POST /Users {\"userName\":\"alice\"} => 201, id dry-run-1"),
            "{text}"
        );
        assert!(
            text.contains("=> would be created (remote id dry-run-1)"),
            "{text}"
        );
        assert!(text.contains("note: target \"down\" is new"), "{text}");
        assert!(text.trim_end().ends_with("done."), "{text}");
    }
}
