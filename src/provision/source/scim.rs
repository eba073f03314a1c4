//! Another SCIM 2.0 service provider as a source: its Users and Groups —
//! and its Departments when its `/ResourceTypes` has them (another
//! scimhub) — paged through the outbound client (auth, retries, paging
//! guards).
//! Incremental reads ask for `meta.lastModified gt` the watermark when the
//! provider filters; one that does not (or refuses that filter) is read
//! whole and compared (a full diff).

use std::collections::VecDeque;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use super::reader::{Page, RawRecord, ReadError, SourceReader};
use super::settings::SourceSettings;
use crate::provision::client::{ClientOptions, RetryPolicy, ScimClient};
use crate::provision::connector::ConnectorError;
use crate::provision::target::Credentials;
use crate::scim::ResourceKind;
use crate::scim::registry::ORGANIZATION_USER_SCHEMA;

/// Writes that commit just after a read may carry an earlier
/// `lastModified`: the next incremental read looks back this far.
const LOOK_BACK_SECS: i64 = 2;

pub struct ScimReader {
    client: ScimClient,
    settings: SourceSettings,
    since: Option<DateTime<Utc>>,
    pages: Option<VecDeque<Page>>,
    newest: Option<DateTime<Utc>>,
    complete: bool,
    /// The provider has departments and the settings read them.
    departments: bool,
}

/// Whether a `/ResourceTypes` answer lists the Department type.
fn has_departments(resource_types: &Value) -> bool {
    let listed = resource_types
        .get("Resources")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| resource_types.as_array().cloned())
        .unwrap_or_default();
    listed.iter().any(|t| {
        let is = |field: &str, want: &str| {
            t.get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| v.trim_start_matches('/').eq_ignore_ascii_case(want))
        };
        is("name", "Department") || is("endpoint", "Departments")
    })
}

fn read_error(url: &str, e: ConnectorError) -> ReadError {
    match e {
        ConnectorError::Unauthorized { status, detail } => ReadError::Refused(format!(
            "the SCIM source {url} refused the credentials (HTTP {status}): {detail}"
        )),
        ConnectorError::Unavailable { last, .. } => {
            ReadError::Unreachable(format!("the SCIM source {url} cannot be reached: {last}"))
        }
        ConnectorError::Config(m) => ReadError::Config(m),
        other => ReadError::Malformed(format!("the SCIM source {url}: {other}")),
    }
}

/// `meta.lastModified`, when the resource has a readable one.
fn last_modified(r: &Value) -> Option<DateTime<Utc>> {
    let text = r.get("meta")?.get("lastModified")?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl ScimReader {
    pub fn new(
        settings: &SourceSettings,
        credentials: Credentials,
        watermark: Option<&str>,
    ) -> Result<Self, ReadError> {
        let url = settings
            .url
            .clone()
            .ok_or_else(|| ReadError::Config("the SCIM source has no url".into()))?;
        let options = ClientOptions {
            base_url: url,
            credentials,
            headers: settings.headers.clone(),
            timeout: std::time::Duration::from_secs(settings.timeout_secs),
            retry: RetryPolicy {
                max_attempts: 3,
                ..RetryPolicy::default()
            },
        };
        let client = ScimClient::new(options)
            .map_err(|e| read_error(&settings.url.clone().unwrap_or_default(), e))?;
        let since = watermark
            .and_then(|w| DateTime::parse_from_rfc3339(w).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok(Self {
            client,
            settings: settings.clone(),
            since,
            pages: None,
            newest: None,
            complete: true,
            departments: false,
        })
    }

    fn reads_kind(&self, kind: ResourceKind) -> bool {
        self.settings.reads(kind) && (kind != ResourceKind::Department || self.departments)
    }

    /// Reads one resource type: changed ones when it can, else all.
    async fn read_kind(
        &mut self,
        kind: ResourceKind,
        filters: bool,
    ) -> Result<Vec<Value>, ReadError> {
        let page = usize::try_from(self.settings.page_size).unwrap_or(usize::MAX);
        if let (Some(since), true) = (self.since, filters) {
            let from = (since - Duration::seconds(LOOK_BACK_SECS))
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            let filter = format!("meta.lastModified gt \"{from}\"");
            match self.client.list_matching(kind, Some(&filter), page).await {
                Ok(found) => return Ok(found),
                // It cannot filter on lastModified after all: read everything.
                Err(ConnectorError::Rejected {
                    status: 400 | 501, ..
                }) => {
                    tracing::info!(
                        kind = kind.as_str(),
                        "SCIM source refused a lastModified filter; reading everything"
                    );
                }
                Err(e) => return Err(read_error(self.client.base_url(), e)),
            }
        }
        self.complete = true;
        self.client
            .list_all(kind, page)
            .await
            .map_err(|e| read_error(self.client.base_url(), e))
    }

    async fn read(&mut self) -> Result<VecDeque<Page>, ReadError> {
        let limits = self
            .client
            .discover()
            .await
            .map_err(|e| read_error(self.client.base_url(), e))?;
        // Incremental only when every type can be read by change.
        self.complete = self.since.is_none() || !limits.filter;
        if self.settings.reads(ResourceKind::Department) {
            self.departments = match self.client.resource_types().await {
                Ok(types) => types.as_ref().is_some_and(has_departments),
                Err(
                    e @ (ConnectorError::Unauthorized { .. } | ConnectorError::Unavailable { .. }),
                ) => {
                    return Err(read_error(self.client.base_url(), e));
                }
                // A provider that cannot list its types has no departments to give.
                Err(e) => {
                    tracing::info!(error = %e, "SCIM source's /ResourceTypes unreadable; reading no departments");
                    false
                }
            };
        }
        let mut pages = VecDeque::new();
        for kind in [
            ResourceKind::Department,
            ResourceKind::Group,
            ResourceKind::User,
        ] {
            if !self.reads_kind(kind) {
                continue;
            }
            let found = self.read_kind(kind, limits.filter).await?;
            let mut page = Vec::with_capacity(found.len());
            for r in found {
                if let Some(t) = last_modified(&r) {
                    self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
                }
                let id = r
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let mut fields: Map<String, Value> = match r {
                    Value::Object(o) => o,
                    _ => Map::new(),
                };
                // Departments not read here are no references to resolve.
                if kind == ResourceKind::User && !self.departments {
                    fields.remove(ORGANIZATION_USER_SCHEMA);
                }
                page.push(RawRecord::new(
                    kind,
                    format!("{}/{id}", kind.endpoint().trim_start_matches('/')),
                    fields,
                ));
            }
            pages.push_back(page);
        }
        Ok(pages)
    }
}

impl SourceReader for ScimReader {
    fn next_page(&mut self) -> BoxFuture<'_, Result<Option<Page>, ReadError>> {
        Box::pin(async move {
            if self.pages.is_none() {
                self.pages = Some(self.read().await?);
            }
            Ok(self.pages.as_mut().and_then(VecDeque::pop_front))
        })
    }

    fn watermark(&self) -> Option<String> {
        self.newest
            .or(self.since)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    fn complete(&self) -> bool {
        self.complete
    }

    fn reads(&self, kind: ResourceKind) -> bool {
        self.reads_kind(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn departments_are_read_where_the_resource_types_list_them() {
        let scimhub = json!({"Resources": [
            {"name": "User", "endpoint": "/Users"},
            {"name": "Department", "endpoint": "/Departments"}]});
        assert!(has_departments(&scimhub));
        assert!(!has_departments(
            &json!({"Resources": [{"name": "User", "endpoint": "/Users"}]})
        ));
        assert!(has_departments(
            &json!([{"name": "x", "endpoint": "Departments"}])
        ));
    }
}
