//! An LDAP target's test: the directory answers (TLS as asked), accepts
//! the bind DN and password, holds the base DN and the fixed containers of
//! the DN templates, publishes its subschema, and the mapping, tried on a
//! few local resources, gives entries it accepts: a DN from the template,
//! attributes it knows, and every attribute the object classes require.

use std::sync::Arc;

use ldap3::{Ldap, Scope, SearchEntry};
use serde_json::Value;

use super::report::{Status, Step, StepReport, TestReport};
use super::{TestSubject, sample_label, samples};
use crate::provision::connector::ldap::entry::{self, values};
use crate::provision::connector::ldap::schema::DirectorySchema;
use crate::provision::connector::ldap::{Endpoint, LdapSettings, describe_result, dn};
use crate::provision::connector::ldap_endpoint;
use crate::provision::mapping::typecheck::{Severity, TypeProblem};
use crate::scim::ResourceKind;

pub async fn test(subject: &TestSubject, store: Arc<dyn crate::store::Store>) -> TestReport {
    let url = &subject.options.base_url;
    let finish = |steps, why| TestReport::finish(&subject.name, url, &Step::LDAP, steps, why);
    let settings = subject.settings.ldap.clone().unwrap_or_default();
    let endpoint = match ldap_endpoint(url, subject.options.credentials.clone(), &subject.settings)
    {
        Ok(e) => e,
        Err(e) => {
            let step = StepReport::new(Step::Reachability, Status::Failed, e.to_string());
            return finish(vec![step], Some("the connection cannot be set up"));
        }
    };
    let mut steps = Vec::new();
    let mut ldap = match endpoint.connect().await {
        Ok(ldap) => {
            let tls = if url.starts_with("ldaps:") {
                "over TLS (ldaps)"
            } else if endpoint.start_tls {
                "over TLS (StartTLS)"
            } else {
                "without TLS"
            };
            let detail = format!("the directory answers at {url}, {tls}");
            steps.push(StepReport::new(Step::Reachability, Status::Ok, detail));
            ldap
        }
        Err(e) => {
            steps.push(StepReport::new(
                Step::Reachability,
                Status::Failed,
                e.to_string(),
            ));
            return finish(steps, Some("the target cannot be reached"));
        }
    };
    if let Err(e) = endpoint.bind(&mut ldap).await {
        steps.push(StepReport::new(
            Step::Authentication,
            Status::Failed,
            e.to_string(),
        ));
        return finish(steps, Some("the target refused the credentials"));
    }
    let detail = format!("bound as {}", endpoint.bind_dn);
    steps.push(StepReport::new(Step::Authentication, Status::Ok, detail));
    let kinds = subject.kinds();
    steps.push(base_dn(&mut ldap, &endpoint, &settings, &kinds).await);
    let (step, schema) = schema(&mut ldap, &endpoint).await;
    steps.push(step);
    let step = mapping(subject, &settings, &kinds, schema.as_ref(), store).await;
    steps.push(step);
    let _ = ldap.unbind().await;
    finish(steps, None)
}

/// The entries of one base-scope read, or what went wrong.
async fn read(
    ldap: &mut Ldap,
    endpoint: &Endpoint,
    base: &str,
    attrs: &[&str],
) -> Result<Vec<SearchEntry>, String> {
    ldap.with_timeout(endpoint.timeout);
    let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
    let answer = ldap
        .search(base, Scope::Base, "(objectClass=*)", attrs)
        .await;
    match answer.and_then(|r| r.success()) {
        Ok((entries, _)) => Ok(entries.into_iter().map(SearchEntry::construct).collect()),
        Err(ldap3::LdapError::LdapResult { result }) => Err(describe_result(&result)),
        Err(e) => Err(e.to_string()),
    }
}

async fn base_dn(
    ldap: &mut Ldap,
    endpoint: &Endpoint,
    settings: &LdapSettings,
    kinds: &[ResourceKind],
) -> StepReport {
    let mut read_ok = vec![settings.base_dn.clone()];
    if let Err(e) = read(ldap, endpoint, &settings.base_dn, &["1.1"]).await {
        let detail = format!("the base DN {:?} cannot be read: {e}", settings.base_dn);
        return StepReport::new(Step::BaseDn, Status::Failed, detail);
    }
    for &kind in kinds {
        let template = match kind {
            ResourceKind::User => settings.user_template(),
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                settings.group_template()
            }
        };
        let Some(container) = template.ok().and_then(|t| t.fixed_container()) else {
            continue;
        };
        if let Err(e) = read(ldap, endpoint, &container, &["1.1"]).await {
            let detail = format!(
                "the {} container {container:?} cannot be read (create it first): {e}",
                kind.as_str().to_lowercase()
            );
            return StepReport::new(Step::BaseDn, Status::Failed, detail);
        }
        read_ok.push(container);
    }
    let detail = format!("{} can be read", read_ok.join(" and "));
    StepReport::new(Step::BaseDn, Status::Ok, detail)
}

/// The subschema entry the root DSE names, parsed.
async fn schema(ldap: &mut Ldap, endpoint: &Endpoint) -> (StepReport, Option<DirectorySchema>) {
    let root = read(ldap, endpoint, "", &["subschemaSubentry"]).await;
    let subentry = root
        .ok()
        .and_then(|entries| entries.into_iter().next())
        .and_then(|e| values(&e, "subschemaSubentry").first().cloned())
        .unwrap_or_else(|| "cn=Subschema".to_string());
    let attrs = ["objectClasses", "attributeTypes"];
    match read(ldap, endpoint, &subentry, &attrs).await {
        Ok(entries) if !entries.is_empty() => {
            let e = &entries[0];
            let schema =
                DirectorySchema::parse(values(e, "objectClasses"), values(e, "attributeTypes"));
            let detail = format!(
                "{} object classes and {} attribute types read from {subentry}",
                schema.class_count(),
                schema.attribute_count()
            );
            (
                StepReport::new(Step::Schemas, Status::Ok, detail),
                Some(schema),
            )
        }
        other => {
            let why = match other {
                Err(e) => e,
                Ok(_) => "no such entry".into(),
            };
            let detail = format!(
                "the subschema ({subentry}) cannot be read, so the mapping is checked without \
                 it: {why}"
            );
            (
                StepReport::new(Step::Schemas, Status::Warning, detail),
                None,
            )
        }
    }
}

fn problem(section: &'static str, target: &str, value: &str, message: String) -> TypeProblem {
    TypeProblem {
        severity: Severity::Error,
        section,
        target: target.to_string(),
        value: value.to_string(),
        message,
    }
}

/// The problems of one section's rules against the directory's schema
/// and on the samples of its kind.
fn section_problems(
    kind: ResourceKind,
    subject: &TestSubject,
    settings: &LdapSettings,
    schema: Option<&DirectorySchema>,
    samples: &[(String, Value)],
) -> Vec<TypeProblem> {
    let section = match kind {
        ResourceKind::User => "users",
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => "groups",
    };
    let rules = &subject.mapping.for_kind(kind).rules;
    let mut problems = Vec::new();
    if let Some(schema) = schema {
        for rule in rules.iter().filter(|r| r.target.uri.is_none()) {
            let name = &rule.target.name;
            if !name.eq_ignore_ascii_case("active") && !schema.knows_attribute(name) {
                let message = format!("the directory has no attribute '{name}'");
                problems.push(problem(section, &rule.target.text, &rule.source, message));
            }
        }
    }
    let (template, classes) = match kind {
        ResourceKind::User => (settings.user_template(), &settings.users.object_classes),
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
            (settings.group_template(), &settings.groups.object_classes)
        }
    };
    let required = match schema.map(|s| s.required(classes)).transpose() {
        Ok(r) => r.unwrap_or_default(),
        Err(message) => {
            problems.push(problem(section, "", "", message));
            Vec::new()
        }
    };
    let mapping = subject.mapping.for_kind(kind);
    for (label, mapped) in samples.iter().map(|(l, s)| (l, mapping.apply(s))) {
        if let Ok(t) = &template
            && let Err(e) = t.place(&mapped)
        {
            problems.push(problem(section, "", "", format!("{label}: {e}")));
        }
        if let Err(e) = entry::attribute_values(&mapped) {
            problems.push(problem(section, "", "", format!("{label}: {e}")));
        }
        let member = &settings.member_attribute;
        let missing: Vec<&String> = required
            .iter()
            .filter(|a| !a.eq_ignore_ascii_case("objectClass"))
            .filter(|a| !(kind == ResourceKind::Group && a.eq_ignore_ascii_case(member)))
            .filter(|a| dn::first_value(&mapped, a).is_none())
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|a| format!("'{a}'")).collect();
            let message = format!(
                "{label}: the object classes ({}) require {}, which the mapping leaves unset",
                classes.join(", "),
                names.join(", ")
            );
            problems.push(problem(section, "", "", message));
        }
    }
    problems
}

async fn mapping(
    subject: &TestSubject,
    settings: &LdapSettings,
    kinds: &[ResourceKind],
    schema: Option<&DirectorySchema>,
    store: Arc<dyn crate::store::Store>,
) -> StepReport {
    let all = match samples(subject, kinds, store).await {
        Ok(all) => all,
        Err(e) => {
            let detail = format!("cannot read local resources to try the mapping on: {e}");
            return StepReport::new(Step::Mapping, Status::Failed, detail);
        }
    };
    let mut problems = Vec::new();
    for &kind in kinds {
        let mine: Vec<(String, Value)> = all
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(k, r)| (sample_label(*k, r), r.clone()))
            .collect();
        problems.extend(section_problems(kind, subject, settings, schema, &mine));
    }
    let status = if problems.is_empty() {
        Status::Ok
    } else {
        Status::Failed
    };
    let against = if schema.is_some() {
        "the directory's schema"
    } else {
        "the DN templates"
    };
    let detail = format!(
        "the mapping checked against {against} and tried on {} local resources: {} errors",
        all.len(),
        problems.len()
    );
    let mut step = StepReport::new(Step::Mapping, status, detail);
    step.problems = problems;
    step
}
