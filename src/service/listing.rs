//! List and search use cases: turns client parameters into a store query,
//! then builds the ListResponse (projection, index or cursor paging).

use std::sync::Arc;

use serde_json::{Value, json};

use super::blocking;
use super::cursor::{CursorCodec, CursorState, Direction, fingerprint};
use super::users::{read_user_text, user_body};
use crate::error::AppError;
use crate::scim::filter::{
    self, CompValue, CompareOp, Filter, FilterLimits, parse_attr_path, parse_filter,
};
use crate::scim::list::{
    LIST_RESPONSE_SCHEMA, ListParams, PageRequest, list_response, list_response_text,
};
use crate::scim::projection::Projection;
use crate::scim::registry::registry;
use crate::scim::sort::Position;
use crate::scim::sort::SortSpec;
use crate::scim::{ResourceKind, ScimError, ScimType};
use crate::store::{ListPage, ListQuery, Store, UserKey, Window};

/// Paging and filter bounds, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct ListLimits {
    pub default_page_size: u64,
    pub max_page_size: u64,
    pub filter: FilterLimits,
}

#[derive(Clone)]
pub struct Listing {
    store: Arc<dyn Store>,
    limits: ListLimits,
    cursors: CursorCodec,
}

/// A parsed list request.
struct Plan {
    filter: Option<Filter>,
    sort: Option<SortSpec>,
    projection: Projection,
    fingerprint: String,
}

pub fn parse_sort(
    sort_by: Option<&str>,
    sort_order: Option<&str>,
) -> Result<Option<SortSpec>, ScimError> {
    let descending = match sort_order.map(str::trim) {
        None | Some("") => false,
        Some(o) if o.eq_ignore_ascii_case("ascending") => false,
        Some(o) if o.eq_ignore_ascii_case("descending") => true,
        Some(o) => {
            return Err(ScimError::invalid_value(format!(
                "sortOrder must be \"ascending\" or \"descending\", not {o:?}"
            )));
        }
    };
    match sort_by.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => {
            let path = parse_attr_path(s)
                .map_err(|e| ScimError::invalid_value(format!("invalid sortBy: {}", e.detail)))?;
            Ok(Some(SortSpec { path, descending }))
        }
    }
}

/// The userName a filter asks for when it is exactly `userName eq "…"`
/// (userName is not case-exact: the caller folds case).
fn user_name_equality(filter: &Filter) -> Option<&str> {
    let core = registry().core_schema(ResourceKind::User).id;
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(name),
        } if path.sub.is_none()
            && path.name.eq_ignore_ascii_case("userName")
            && path
                .uri
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(core)) =>
        {
            Some(name)
        }
        _ => None,
    }
}

/// A page's items as SCIM JSON, with what the paging answer needs.
fn rendered<T>(
    page: ListPage<T>,
    render: impl Fn(&T) -> Value,
) -> (u64, Vec<Value>, Vec<Position>, bool, bool) {
    let items = page.items.iter().map(render).collect();
    (
        page.total,
        items,
        page.positions,
        page.more_before,
        page.more_after,
    )
}

impl Listing {
    pub fn new(store: Arc<dyn Store>, limits: ListLimits, cursors: CursorCodec) -> Self {
        Self {
            store,
            limits,
            cursors,
        }
    }

    pub fn limits(&self) -> ListLimits {
        self.limits
    }

    pub fn cursor_timeout_secs(&self) -> i64 {
        self.cursors.ttl_secs
    }

    fn plan(&self, kind: ResourceKind, params: &ListParams) -> Result<Plan, ScimError> {
        let filter = match params.filter.as_deref() {
            None => None,
            Some(text) => {
                let f = parse_filter(text, self.limits.filter)?;
                filter::check(&f, kind)?;
                Some(f)
            }
        };
        let sort = parse_sort(params.sort_by.as_deref(), params.sort_order.as_deref())?;
        let projection = Projection::parse(
            kind,
            params.attributes.as_deref(),
            params.excluded_attributes.as_deref(),
        )?;
        let fingerprint = fingerprint(&[
            kind.as_str(),
            &filter.as_ref().map(ToString::to_string).unwrap_or_default(),
            &sort
                .as_ref()
                .map(|s| format!("{}:{}", s.path, s.descending))
                .unwrap_or_default(),
        ]);
        Ok(Plan {
            filter,
            sort,
            projection,
            fingerprint,
        })
    }

    fn cursor_count(&self, raw: Option<&str>) -> Result<u64, ScimError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(self.limits.default_page_size),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n >= 0 => Ok((n as u64).min(self.limits.max_page_size)),
                _ => Err(ScimError::bad_request(
                    ScimType::InvalidCount,
                    format!(
                        "count must be a whole number from 0 to {}",
                        self.limits.max_page_size
                    ),
                )),
            },
        }
    }

    /// `list` as JSON text. `userName eq "…"` with the default order,
    /// attributes and index paging (what provisioning clients send before
    /// writing a user) is one unique-index read rendered from the stored
    /// text, on SQLite without leaving the HTTP worker; the rest is `list`.
    pub async fn list_text(
        &self,
        kind: ResourceKind,
        params: ListParams,
        base_url: String,
    ) -> Result<Vec<u8>, AppError> {
        let plain = kind == ResourceKind::User
            && params.cursor.is_none()
            && params.sort_by.is_none()
            && params.sort_order.is_none()
            && params.attributes.is_none()
            && params.excluded_attributes.is_none();
        if let (true, Some(text)) = (plain, params.filter.as_deref()) {
            let f = parse_filter(text, self.limits.filter)?;
            filter::check(&f, kind)?;
            if let Some(user_name) = user_name_equality(&f) {
                let page = PageRequest::from_params(
                    params.start_index.as_deref(),
                    params.count.as_deref(),
                    self.limits.default_page_size,
                    self.limits.max_page_size,
                )?;
                let user = read_user_text(
                    &self.store,
                    UserKey::UserNameLower(&user_name.to_lowercase()),
                    true,
                )
                .await?;
                let total = u64::from(user.is_some());
                let shown = match user {
                    Some(u) if page.offset() == 0 && page.count > 0 => {
                        vec![user_body(u, &base_url, &Projection::default())?]
                    }
                    _ => Vec::new(),
                };
                return Ok(list_response_text(total, page, &shown));
            }
        }
        let body = self.list(kind, params, base_url).await?;
        serde_json::to_vec(&body).map_err(|e| AppError::Internal(e.into()))
    }

    /// GET `/{type}` and POST `/{type}/.search`.
    pub async fn list(
        &self,
        kind: ResourceKind,
        params: ListParams,
        base_url: String,
    ) -> Result<Value, AppError> {
        let plan = self.plan(kind, &params)?;
        let now = chrono::Utc::now().timestamp();
        let (window, cursor_mode) = match params.cursor.as_deref() {
            None => {
                let page = PageRequest::from_params(
                    params.start_index.as_deref(),
                    params.count.as_deref(),
                    self.limits.default_page_size,
                    self.limits.max_page_size,
                )?;
                (
                    Window::Index {
                        offset: page.offset(),
                        count: page.count,
                    },
                    None,
                )
            }
            Some(cursor) => {
                let count = self.cursor_count(params.count.as_deref())?;
                let window = if cursor.is_empty() {
                    Window::After { after: None, count }
                } else {
                    let state = self.cursors.decode(cursor, &plan.fingerprint, now)?;
                    match state.direction {
                        Direction::After => Window::After {
                            after: Some(state.position),
                            count,
                        },
                        Direction::Before => Window::Before {
                            before: state.position,
                            count,
                        },
                    }
                };
                (window, Some(count))
            }
        };
        let query = ListQuery {
            filter: plan.filter.clone(),
            sort: plan.sort.clone(),
            window: window.clone(),
            with_members: plan.projection.shows("members"),
            with_groups: plan.projection.shows("groups"),
        };
        let store = self.store.clone();
        let page = blocking(move || {
            let base = base_url.as_str();
            Ok(match kind {
                ResourceKind::User => rendered(store.list_users(&query)?, |u| u.to_scim(base)),
                ResourceKind::Group => rendered(store.list_groups(&query)?, |g| g.to_scim(base)),
                ResourceKind::Department => {
                    rendered(store.list_departments(&query)?, |d| d.to_scim(base))
                }
                ResourceKind::Plain(_) => {
                    rendered(store.list_resources(kind, &query)?, |r| r.to_scim(base))
                }
            })
        })
        .await?;
        let (total, items, positions, more_before, more_after) = page;
        let resources: Vec<Value> = items
            .into_iter()
            .map(|r| plan.projection.apply(kind, r))
            .collect();
        match (cursor_mode, window) {
            (None, Window::Index { offset, count }) => Ok(list_response(
                total,
                PageRequest {
                    start_index: offset + 1,
                    count,
                },
                resources,
            )),
            (Some(_), _) => {
                let expires = now + self.cursors.ttl_secs;
                let make = |direction, position: &crate::scim::sort::Position| {
                    self.cursors.encode(&CursorState {
                        direction,
                        position: position.clone(),
                        query: plan.fingerprint.clone(),
                        expires,
                    })
                };
                let mut body = json!({
                    "schemas": [LIST_RESPONSE_SCHEMA],
                    "totalResults": total,
                    "itemsPerPage": resources.len(),
                });
                if let Some(map) = body.as_object_mut() {
                    if let (true, Some(last)) = (more_after, positions.last()) {
                        map.insert(
                            "nextCursor".into(),
                            Value::String(make(Direction::After, last)),
                        );
                    }
                    if let (true, Some(first)) = (more_before, positions.first()) {
                        map.insert(
                            "previousCursor".into(),
                            Value::String(make(Direction::Before, first)),
                        );
                    }
                    // Also with count=0, as on index paging (`list_response`).
                    map.insert("Resources".into(), Value::Array(resources));
                }
                Ok(body)
            }
            (None, _) => Err(AppError::Internal(anyhow::anyhow!(
                "index paging produced a cursor window"
            ))),
        }
    }

    /// POST `/.search` at the root: every resource type in registry order
    /// (Users, Groups, Departments, then the plain types), filtered alike.
    pub async fn search_all(
        &self,
        params: ListParams,
        base_url: String,
    ) -> Result<Value, AppError> {
        if params.cursor.is_some() || params.sort_by.is_some() {
            return Err(ScimError::invalid_value(
                "cursor paging and sortBy are only supported on one resource type's /.search (such as /Users/.search)",
            )
            .into());
        }
        let page = PageRequest::from_params(
            params.start_index.as_deref(),
            params.count.as_deref(),
            self.limits.default_page_size,
            self.limits.max_page_size,
        )?;
        // Each type contributes its whole window's worth; the union is then cut.
        let mut total = 0u64;
        let mut all: Vec<Value> = Vec::new();
        let kinds: Vec<ResourceKind> = registry().resource_types.iter().map(|rt| rt.kind).collect();
        for kind in kinds {
            let mut one = params.clone();
            one.start_index = Some("1".into());
            one.count = Some((page.offset() + page.count).to_string());
            let limits = ListLimits {
                max_page_size: u64::MAX >> 1,
                ..self.limits
            };
            let inner = Listing {
                limits,
                ..self.clone()
            };
            let body = inner.list(kind, one, base_url.clone()).await?;
            total += body["totalResults"].as_u64().unwrap_or(0);
            if let Some(Value::Array(items)) = body.get("Resources") {
                all.extend(items.iter().cloned());
            }
        }
        let start = usize::try_from(page.offset())
            .unwrap_or(usize::MAX)
            .min(all.len());
        let end = start.saturating_add(page.count as usize).min(all.len());
        Ok(list_response(total, page, all[start..end].to_vec()))
    }
}
