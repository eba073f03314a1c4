//! Reading many resources: paging through a whole endpoint and one-page
//! filtered searches, with guards against targets that page forever.

use reqwest::Method;
use serde_json::Value;

use super::{ConnectorError, DEFAULT_PAGE_SIZE, ScimClient, check_resource, found, json_body};
use crate::scim::ResourceKind;

/// Largest page size asked for, whatever the caller passes.
const MAX_PAGE_SIZE: usize = super::discovery::MAX_CURSOR_PAGE;

/// One ListResponse (RFC 7644 §3.4.2).
struct Page {
    resources: Vec<Value>,
    total: Option<usize>,
    /// Where the next page starts, on cursor paging (RFC 9865).
    next_cursor: Option<String>,
}

impl Page {
    fn parse(body: Value) -> Result<Self, ConnectorError> {
        let Value::Object(mut body) = body else {
            return Err(ConnectorError::Protocol(
                "a list response that is not an object".into(),
            ));
        };
        let number = |v: Option<&Value>| {
            v.and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
        };
        let total = number(body.get("totalResults"));
        let next_cursor = body
            .get("nextCursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        // An empty list may leave "Resources" out (RFC 7644 §3.4.2).
        let resources = match body.remove("Resources") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ConnectorError::Protocol(
                    "\"Resources\" is not an array".into(),
                ));
            }
        };
        for resource in &resources {
            check_resource(resource)?;
        }
        Ok(Self {
            resources,
            total,
            next_cursor,
        })
    }
}

impl ScimClient {
    /// Pages through GET /Users or /Groups (startIndex/count, page size from limits), returning every resource.
    pub async fn list_all(
        &self,
        kind: ResourceKind,
        page_size: usize,
    ) -> Result<Vec<Value>, ConnectorError> {
        self.list_matching(kind, None, page_size).await
    }

    /// `list_all`, of the resources matching `filter` when one is given
    /// (an upstream source's changes since a time).
    pub async fn list_matching(
        &self,
        kind: ResourceKind,
        filter: Option<&str>,
        page_size: usize,
    ) -> Result<Vec<Value>, ConnectorError> {
        let page_size = if page_size == 0 {
            DEFAULT_PAGE_SIZE
        } else {
            page_size.min(MAX_PAGE_SIZE)
        };
        let mut all = Vec::new();
        let mut start = 1;
        let mut previous_first: Option<Value> = None;
        for _ in 0..self.max_pages {
            let mut query = vec![
                ("startIndex", start.to_string()),
                ("count", page_size.to_string()),
            ];
            query.extend(filter.map(|f| ("filter", f.to_string())));
            let page = self.page(kind, &query).await?;
            if page.resources.is_empty() {
                return Ok(all);
            }
            let first = page.resources[0].get("id").cloned();
            if previous_first.is_some() && previous_first == first {
                return Err(ConnectorError::Protocol(format!(
                    "the page at startIndex {start} repeats the previous one (startIndex ignored?)"
                )));
            }
            previous_first = first;
            let count = page.resources.len();
            all.extend(page.resources);
            start += count;
            // A target may cap the page below what was asked (its itemsPerPage):
            // trust totalResults when given.
            let done = match page.total {
                Some(total) => start > total,
                None => count < page_size,
            };
            if done {
                return Ok(all);
            }
        }
        Err(ConnectorError::Protocol(format!(
            "still paging after {} pages of {page_size}; giving up",
            self.max_pages
        )))
    }

    /// Pages through GET /Users or /Groups by cursor (RFC 9865: `cursor`
    /// empty first, then each page's `nextCursor` until there is none),
    /// returning every resource.
    pub async fn list_all_by_cursor(
        &self,
        kind: ResourceKind,
        page_size: usize,
    ) -> Result<Vec<Value>, ConnectorError> {
        let count = page_size.clamp(1, MAX_PAGE_SIZE).to_string();
        let mut all = Vec::new();
        let mut cursor = String::new();
        for _ in 0..self.max_pages {
            let query = [("cursor", cursor.clone()), ("count", count.clone())];
            let page = self.page(kind, &query).await?;
            all.extend(page.resources);
            match page.next_cursor {
                None => return Ok(all),
                Some(next) if next == cursor => {
                    return Err(ConnectorError::Protocol(
                        "the target answered the same nextCursor again".into(),
                    ));
                }
                Some(next) => cursor = next,
            }
        }
        Err(ConnectorError::Protocol(format!(
            "still paging after {} pages of {count}; giving up",
            self.max_pages
        )))
    }

    /// GET /{Users|Groups}?filter=… (one page, for matching lookups).
    pub async fn search(
        &self,
        kind: ResourceKind,
        filter: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        Ok(self
            .page(kind, &[("filter", filter.to_string())])
            .await?
            .resources)
    }

    async fn page(
        &self,
        kind: ResourceKind,
        query: &[(&str, String)],
    ) -> Result<Page, ConnectorError> {
        let mut url = self.url(&[kind.endpoint()]);
        url.query_pairs_mut().extend_pairs(query);
        let reply = self.execute(Method::GET, url, None).await?;
        found(&reply)?;
        Page::parse(json_body(&reply)?)
    }
}
