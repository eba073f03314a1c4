//! Per-case outcomes and the pass/fail table.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub id: String,
    pub name: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub results: Vec<CaseResult>,
}

impl Report {
    fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| pick(&r.outcome)).count()
    }

    pub fn passed(&self) -> usize {
        self.count(|o| *o == Outcome::Pass)
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skip(_)))
    }
}

/// One line per case (`PASS`, `FAIL`, `SKIP`, id, time, what it proves),
/// the reason's lines indented under failures and skips, and a closing count.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .results
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(f, "RESULT  {:<width$}  {:>7}  DESCRIPTION", "CASE", "TIME")?;
        for r in &self.results {
            let (label, reason) = match &r.outcome {
                Outcome::Pass => ("PASS", None),
                Outcome::Fail(why) => ("FAIL", Some(why)),
                Outcome::Skip(why) => ("SKIP", Some(why)),
            };
            let ms = format!("{} ms", r.elapsed.as_millis());
            writeln!(f, "{label:<6}  {:<width$}  {ms:>7}  {}", r.id, r.name)?;
            for line in reason.iter().flat_map(|why| why.lines()) {
                writeln!(f, "        {line}")?;
            }
        }
        writeln!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_each_case_and_the_reason_for_failures() {
        let case = |id: &str, outcome| CaseResult {
            id: id.into(),
            name: "does a thing".into(),
            outcome,
            elapsed: Duration::from_millis(12),
        };
        let report = Report {
            results: vec![
                case("okta/a", Outcome::Pass),
                case(
                    "okta/b",
                    Outcome::Fail("step 1: status: expected 201\n  response 401: {}".into()),
                ),
            ],
        };
        let table = report.to_string();
        assert!(table.contains("PASS    okta/a"), "{table}");
        assert!(table.contains("FAIL    okta/b"), "{table}");
        assert!(
            table.contains("\n        step 1: status: expected 201\n          response 401: {}\n")
        );
        assert!(table.ends_with("1 passed, 1 failed, 0 skipped\n"));
    }
}
