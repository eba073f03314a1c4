//! What an operator reads: a notification as an e-mail subject and a plain
//! text body saying what happened, to which target, the counts, and the
//! exact command (and admin API call) to act on it.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::provision::runs::report::ActionCounts;
use crate::provision::webhook::Notification;

/// One rendered message, stored as the outbox row's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailText {
    pub subject: String,
    pub text: String,
}

/// Where the admin API is, for the calls a message suggests.
#[derive(Debug, Clone, Default)]
pub struct ApiBase {
    /// `public_url`, without a trailing slash; relative paths without it.
    root: String,
}

impl ApiBase {
    pub fn new(public_url: Option<&str>) -> Self {
        Self {
            root: public_url
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_default(),
        }
    }

    fn call(&self, method: &str, path: &str) -> String {
        format!("{method} {}/admin/v1{path}", self.root)
    }
}

fn counts_line(c: &ActionCounts) -> String {
    format!(
        "created {}, updated {}, deactivated {}, deleted {}, failed {}",
        c.created, c.updated, c.deactivated, c.deleted, c.failed
    )
}

/// A heading line followed by the command and the API call, indented.
fn act(out: &mut String, heading: &str, command: &str, call: &str) {
    let _ = write!(out, "\n{heading}\n    {command}\n    {call}\n");
}

pub fn render(event: &Notification, event_id: &str, at: DateTime<Utc>, api: &ApiBase) -> MailText {
    let mut text = String::new();
    let subject = match event {
        Notification::RunFailed {
            target,
            run_id,
            error,
            counts,
        } => {
            let _ = writeln!(
                text,
                "A sync run of target {target} could not proceed.\n\n\
                 Target:  {target}\nRun:     {run_id}\nError:   {}\nCounts:  {}",
                error.as_deref().unwrap_or("(none given)"),
                counts_line(counts)
            );
            act(
                &mut text,
                "See the report:",
                &format!("scimhub sync show {run_id}"),
                &api.call("GET", &format!("/runs/{run_id}")),
            );
            act(
                &mut text,
                "Run it again once the cause is fixed:",
                &format!("scimhub sync run {target}"),
                &api.call("POST", &format!("/targets/{target}/runs")),
            );
            format!("[scimhub] Sync run of {target} failed")
        }
        Notification::RunCompletedWithFailures {
            target,
            run_id,
            counts,
        } => {
            let _ = writeln!(
                text,
                "A sync run of target {target} finished, but {} object(s) could not be written.\n\n\
                 Target:  {target}\nRun:     {run_id}\nCounts:  {}",
                counts.failed,
                counts_line(counts)
            );
            act(
                &mut text,
                "See which objects failed and why:",
                &format!("scimhub sync show {run_id}"),
                &api.call("GET", &format!("/runs/{run_id}")),
            );
            act(
                &mut text,
                "Run it again once the cause is fixed:",
                &format!("scimhub sync run {target}"),
                &api.call("POST", &format!("/targets/{target}/runs")),
            );
            format!(
                "[scimhub] Sync run of {target}: {} object(s) failed",
                counts.failed
            )
        }
        Notification::GuardTripped {
            target,
            run_id,
            held,
            counts,
        } => {
            let _ = writeln!(
                text,
                "The deletion guard of target {target} held back {held} deprovision(s); \
                 nothing was removed downstream. They wait for an admin.\n\n\
                 Target:  {target}\nRun:     {run_id}\nHeld:    {held}\nCounts:  {}",
                counts_line(counts)
            );
            act(
                &mut text,
                "Review them:",
                &format!("scimhub sync show {run_id}"),
                &api.call("GET", &format!("/runs/{run_id}")),
            );
            act(
                &mut text,
                "Approve (deprovision them now):",
                &format!("scimhub sync approve {run_id}"),
                &api.call("POST", &format!("/runs/{run_id}/approve")),
            );
            act(
                &mut text,
                "Or reject (remove nothing):",
                &format!("scimhub sync reject {run_id}"),
                &api.call("POST", &format!("/runs/{run_id}/reject")),
            );
            format!("[scimhub] {target}: {held} deprovision(s) await approval")
        }
        Notification::TargetQuarantined { target, reason } => {
            let _ = writeln!(
                text,
                "Target {target} is quarantined: it is no longer written to.\n\n\
                 Target:  {target}\nReason:  {reason}\n\n\
                 Changes wait in the change log and are delivered once it is released. \
                 scimhub probes the target and releases it by itself when it answers again.",
            );
            act(
                &mut text,
                "Release it now (after fixing the cause):",
                &format!("scimhub target release {target}"),
                &api.call("POST", &format!("/targets/{target}/release")),
            );
            act(
                &mut text,
                "See its failure queue:",
                &format!("scimhub failures list --target {target}"),
                &api.call("GET", &format!("/failures?target={target}")),
            );
            format!("[scimhub] Target {target} is quarantined")
        }
        Notification::TargetReleased { target, reason } => {
            let _ = writeln!(
                text,
                "Target {target} left quarantine ({}); the changes that waited are being delivered.\n\n\
                 Target:  {target}",
                reason.as_deref().unwrap_or("released")
            );
            act(
                &mut text,
                "See what is still failing:",
                &format!("scimhub failures list --target {target}"),
                &api.call("GET", &format!("/failures?target={target}")),
            );
            format!("[scimhub] Target {target} is synced again")
        }
        Notification::QueueGrowing {
            target,
            depth,
            permanent,
            grew_checks,
        } => {
            let grew = if *grew_checks > 1 {
                format!(" It grew at each of the last {grew_checks} checks.")
            } else {
                String::new()
            };
            let _ = writeln!(
                text,
                "The failure queue of target {target} keeps growing.{grew}\n\n\
                 Target:  {target}\nQueued:  {depth} object(s), {permanent} of them refused \
                 for good (waiting for an admin), the rest retrying\n\n\
                 You will not be told again until the queue has drained."
            );
            act(
                &mut text,
                "See the entries and their errors:",
                &format!("scimhub failures list --target {target}"),
                &api.call("GET", &format!("/failures?target={target}")),
            );
            act(
                &mut text,
                "Retry them all now (after fixing the cause):",
                &format!("scimhub failures retry --all --target {target}"),
                &api.call("POST", &format!("/failures/retry?target={target}")),
            );
            format!("[scimhub] Failure queue of {target} keeps growing ({depth} queued)")
        }
    };
    let _ = write!(
        text,
        "\n-- \nscimhub, event {} at {} (id {event_id})\n",
        event.event_type(),
        crate::scim::render::format_time(&at)
    );
    MailText { subject, text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-08T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_quarantine_names_the_target_reason_and_release_command() {
        let m = render(
            &Notification::TargetQuarantined {
                target: "crm".into(),
                reason: "the target refused the credentials (401)".into(),
            },
            "e1",
            at(),
            &ApiBase::new(Some("https://hub.example.com/")),
        );
        assert_eq!(m.subject, "[scimhub] Target crm is quarantined");
        assert!(
            m.text
                .contains("Reason:  the target refused the credentials (401)")
        );
        assert!(m.text.contains("    scimhub target release crm\n"));
        assert!(
            m.text
                .contains("    POST https://hub.example.com/admin/v1/targets/crm/release\n")
        );
        assert!(m.text.contains("scimhub failures list --target crm"));
        assert!(
            m.text
                .contains("event target.quarantined at 2026-12-08T10:00:00")
        );
    }

    #[test]
    fn a_held_run_says_how_many_and_how_to_approve_or_reject() {
        let m = render(
            &Notification::GuardTripped {
                target: "crm".into(),
                run_id: "r-42".into(),
                held: 12,
                counts: ActionCounts::default(),
            },
            "e2",
            at(),
            &ApiBase::new(None),
        );
        assert_eq!(m.subject, "[scimhub] crm: 12 deprovision(s) await approval");
        assert!(m.text.contains("scimhub sync approve r-42"));
        assert!(m.text.contains("POST /admin/v1/runs/r-42/approve"));
        assert!(m.text.contains("scimhub sync reject r-42"));
        assert!(m.text.contains("scimhub sync show r-42"));
    }

    #[test]
    fn run_outcomes_carry_counts_error_and_the_report_command() {
        let counts = ActionCounts {
            created: 3,
            failed: 2,
            ..ActionCounts::default()
        };
        let failed = render(
            &Notification::RunFailed {
                target: "crm".into(),
                run_id: "r1".into(),
                error: Some("target unreachable".into()),
                counts,
            },
            "e3",
            at(),
            &ApiBase::new(None),
        );
        assert_eq!(failed.subject, "[scimhub] Sync run of crm failed");
        assert!(failed.text.contains("Error:   target unreachable"));
        assert!(
            failed
                .text
                .contains("created 3, updated 0, deactivated 0, deleted 0, failed 2")
        );
        assert!(failed.text.contains("scimhub sync show r1"));
        let partial = render(
            &Notification::RunCompletedWithFailures {
                target: "crm".into(),
                run_id: "r2".into(),
                counts,
            },
            "e4",
            at(),
            &ApiBase::new(None),
        );
        assert_eq!(
            partial.subject,
            "[scimhub] Sync run of crm: 2 object(s) failed"
        );
        assert!(partial.text.contains("GET /admin/v1/runs/r2"));
    }

    #[test]
    fn a_growing_queue_gives_depth_and_the_failures_commands() {
        let m = render(
            &Notification::QueueGrowing {
                target: "crm".into(),
                depth: 120,
                permanent: 20,
                grew_checks: 5,
            },
            "e5",
            at(),
            &ApiBase::new(None),
        );
        assert_eq!(
            m.subject,
            "[scimhub] Failure queue of crm keeps growing (120 queued)"
        );
        assert!(m.text.contains("120 object(s), 20 of them refused"));
        assert!(m.text.contains("the last 5 checks"));
        assert!(m.text.contains("scimhub failures list --target crm"));
        assert!(m.text.contains("scimhub failures retry --all --target crm"));
    }
}
