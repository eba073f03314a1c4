//! The test of a target reached through its connector alone (SQL tables, a
//! REST API): it answers and accepts the credentials (the connector's
//! probe), and the mapping, tried on a few local resources, gives objects
//! the system has a place for.

use std::sync::Arc;

use super::report::{Status, Step, StepReport, TestReport};
use super::{TestSubject, sample_label, samples};
use crate::provision::connector::ConnectorError;
use crate::store::Store;

pub async fn test(subject: &TestSubject, store: Arc<dyn Store>) -> TestReport {
    let url = &subject.options.base_url;
    let finish = |steps, why| TestReport::finish(&subject.name, url, &Step::CONNECTOR, steps, why);
    let connector = match subject.settings.kind.connector(
        url,
        subject.options.credentials.clone(),
        &subject.settings,
        subject.rate.clone(),
        None,
    ) {
        Ok(c) => c,
        Err(e) => {
            let step = StepReport::new(Step::Reachability, Status::Failed, format!("{e:#}"));
            return finish(vec![step], Some("the connection cannot be set up"));
        }
    };
    let mut steps = Vec::new();
    match connector.probe().await {
        Ok(()) => {
            steps.push(StepReport::new(
                Step::Reachability,
                Status::Ok,
                format!("{url} answers"),
            ));
            steps.push(StepReport::new(
                Step::Authentication,
                Status::Ok,
                "the credentials are accepted",
            ));
        }
        Err(e @ ConnectorError::Unauthorized { .. }) => {
            steps.push(StepReport::new(
                Step::Reachability,
                Status::Ok,
                format!("{url} answers"),
            ));
            steps.push(StepReport::new(
                Step::Authentication,
                Status::Failed,
                e.to_string(),
            ));
            return finish(steps, Some("the target refused the credentials"));
        }
        Err(e) => {
            steps.push(StepReport::new(
                Step::Reachability,
                Status::Failed,
                e.to_string(),
            ));
            return finish(steps, Some("the target cannot be reached"));
        }
    }
    let kinds = subject.kinds();
    let samples = match samples(subject, &kinds, store).await {
        Ok(samples) => samples,
        Err(e) => {
            let detail = format!("cannot read local resources to try the mapping on: {e}");
            steps.push(StepReport::new(Step::Mapping, Status::Failed, detail));
            return finish(steps, None);
        }
    };
    let mut problems = Vec::new();
    for (kind, resource) in &samples {
        let object = subject.mapping.for_kind(*kind).apply(resource);
        match connector.unknown_fields(*kind, &object).await {
            Ok(unknown) if unknown.is_empty() => {}
            Ok(unknown) => problems.push(format!(
                "{} maps to {} the target has no place for",
                sample_label(*kind, resource),
                unknown.join(", ")
            )),
            Err(e) => problems.push(format!("{}: {e}", sample_label(*kind, resource))),
        }
    }
    let step = if problems.is_empty() {
        let detail = format!(
            "tried on {} local resources: every field has its place",
            samples.len()
        );
        StepReport::new(Step::Mapping, Status::Ok, detail)
    } else {
        StepReport::new(Step::Mapping, Status::Failed, problems.join("; "))
    };
    steps.push(step);
    finish(steps, None)
}
