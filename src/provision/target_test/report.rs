//! What a target test found, step by step, as JSON (admin API, `--json`)
//! and as text (the CLI).

use std::fmt;

use serde::Serialize;

use crate::provision::client::{TargetLimits, UnreachableKind};
use crate::provision::mapping::typecheck::{Severity, TypeProblem};

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Reachability,
    Authentication,
    ServiceProviderConfig,
    /// LDAP: the base DN (and the fixed containers) can be read.
    BaseDn,
    Schemas,
    Mapping,
}

impl Step {
    /// A SCIM target's steps.
    pub const SCIM: [Step; 5] = [
        Step::Reachability,
        Step::Authentication,
        Step::ServiceProviderConfig,
        Step::Schemas,
        Step::Mapping,
    ];

    /// An LDAP target's steps (`schemas`: the directory's subschema).
    pub const LDAP: [Step; 5] = [
        Step::Reachability,
        Step::Authentication,
        Step::BaseDn,
        Step::Schemas,
        Step::Mapping,
    ];

    /// A SQL or REST target's steps: reached through its connector, and
    /// the mapping tried on local resources.
    pub const CONNECTOR: [Step; 3] = [Step::Reachability, Step::Authentication, Step::Mapping];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Reachability => "reachability",
            Step::Authentication => "authentication",
            Step::ServiceProviderConfig => "service_provider_config",
            Step::BaseDn => "base_dn",
            Step::Schemas => "schemas",
            Step::Mapping => "mapping",
        }
    }
}

/// A warning does not fail the test; a failure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Failed,
    Skipped,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    pub step: Step,
    pub status: Status,
    pub detail: String,
    /// Why the target could not be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<UnreachableKind>,
    /// What the ServiceProviderConfig announces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<TargetLimits>,
    /// The schema URIs the target publishes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The mapping rules that do not fit the target.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<TypeProblem>,
}

impl StepReport {
    pub fn new(step: Step, status: Status, detail: impl Into<String>) -> Self {
        Self {
            step,
            status,
            detail: detail.into(),
            unreachable: None,
            features: None,
            schemas: Vec::new(),
            problems: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestReport {
    pub target: String,
    pub base_url: String,
    /// No step failed.
    pub ok: bool,
    pub steps: Vec<StepReport>,
}

impl TestReport {
    /// The steps run so far, and the rest of `all` skipped for `why`.
    pub fn finish(
        target: &str,
        base_url: &str,
        all: &[Step],
        mut steps: Vec<StepReport>,
        why: Option<&str>,
    ) -> Self {
        for &step in all.iter().skip(steps.len()) {
            let why = why.unwrap_or("not run");
            steps.push(StepReport::new(step, Status::Skipped, why));
        }
        Self {
            target: target.to_string(),
            base_url: base_url.to_string(),
            ok: steps.iter().all(|s| s.status != Status::Failed),
            steps,
        }
    }

    /// The failed steps and their errors on one line (an API error's detail).
    pub fn failures(&self) -> String {
        let lines: Vec<String> = self
            .steps
            .iter()
            .filter(|s| s.status == Status::Failed)
            .map(|s| {
                let errors: Vec<String> = s
                    .problems
                    .iter()
                    .filter(|p| p.severity == Severity::Error)
                    .map(ToString::to_string)
                    .collect();
                if errors.is_empty() {
                    format!("{}: {}", s.step.as_str(), s.detail)
                } else {
                    format!("{}: {}", s.step.as_str(), errors.join("; "))
                }
            })
            .collect();
        lines.join("; ")
    }
}

impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Target {:?} ({}):", self.target, self.base_url)?;
        for s in &self.steps {
            writeln!(
                f,
                "  {:<8} {:<24} {}",
                s.status.label(),
                s.step.as_str(),
                s.detail
            )?;
            for p in &s.problems {
                let severity = match p.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                writeln!(f, "  {:<8} {:<24} - {severity}: {p}", "", "")?;
            }
        }
        let verdict = if self.ok { "passed" } else { "FAILED" };
        writeln!(f, "Test {verdict}.")
    }
}
