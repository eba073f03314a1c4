//! Every resource type's endpoints (`/Users`, `/Groups`, `/Departments`,
//! `/Agents`, …): the same handlers, told apart by the `ResourceKind` each
//! route is declared with.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::body::ScimJson;
use super::middleware::actor_of;
use super::response::{self, base_url};
use super::routes::Endpoint;
use crate::error::AppError;
use crate::scim::etag::TagList;
use crate::scim::list::ListParams;
use crate::scim::projection::Projection;
use crate::scim::render::location;
use crate::scim::{ResourceKind, ScimError};
use crate::service::Principal;
use crate::service::resources::{Resource, derived_attribute};
use crate::service::tokens::{SCOPE_READ, SCOPE_WRITE};
use crate::service::users::user_body;
use crate::store::RemoveMode;

type Handled = Result<HttpResponse, AppError>;

/// One resource type's endpoints (`/Users`, `/Agents`, …): reads need
/// `scim:read` (a `.search` POST is a read), changes `scim:write`. Every
/// type in the registry gets the same handlers, told the type it serves.
pub fn endpoints(kind: ResourceKind) -> Vec<Endpoint> {
    type Data = web::Data<AppState>;
    type Id = web::Path<String>;
    let base = format!("/{}", kind.endpoint());
    let (read, write) = (Some(SCOPE_READ), Some(SCOPE_WRITE));
    vec![
        Endpoint::new(Method::GET, &base, read, move |s: Data, r: HttpRequest| {
            list(kind, s, r)
        }),
        Endpoint::new(
            Method::POST,
            &base,
            write,
            move |s: Data, c: Principal, r: HttpRequest, b: ScimJson| create(kind, s, c, r, b),
        ),
        Endpoint::new(
            Method::POST,
            format!("{base}/.search"),
            read,
            move |s: Data, r: HttpRequest, b: ScimJson| search(kind, s, r, b),
        ),
        Endpoint::new(
            Method::GET,
            format!("{base}/{{id}}"),
            read,
            move |s: Data, id: Id, r: HttpRequest| async move { get_one(&s, kind, &id, &r).await },
        ),
        Endpoint::new(
            Method::PUT,
            format!("{base}/{{id}}"),
            write,
            move |s: Data, id: Id, c: Principal, r: HttpRequest, ScimJson(b): ScimJson| async move {
                replace_one(&s, kind, &id, &c, &r, b).await
            },
        ),
        Endpoint::new(
            Method::PATCH,
            format!("{base}/{{id}}"),
            write,
            move |s: Data, id: Id, c: Principal, r: HttpRequest, ScimJson(b): ScimJson| async move {
                patch_one(&s, kind, &id, &c, &r, b).await
            },
        ),
        Endpoint::new(
            Method::DELETE,
            format!("{base}/{{id}}"),
            write,
            move |s: Data, id: Id, c: Principal, r: HttpRequest| delete(kind, s, id, c, r),
        ),
    ]
}

/// `attributes` / `excludedAttributes` of a request's query string.
fn projection(kind: ResourceKind, req: &HttpRequest) -> Result<Projection, AppError> {
    let params = ListParams::from_pairs(&query_pairs(req));
    Ok(Projection::parse(
        kind,
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?)
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// Whether the response shows the type's derived attribute (users'
/// `groups`, groups' `members`): a read or write skips it otherwise.
fn shows_derived(kind: ResourceKind, projection: &Projection) -> bool {
    derived_attribute(kind).is_some_and(|name| projection.shows(name))
}

pub(super) async fn get_one(
    state: &AppState,
    kind: ResourceKind,
    id: &str,
    req: &HttpRequest,
) -> Handled {
    let base = base_url(req, state);
    let projection = projection(kind, req)?;
    let if_none_match = tags(req, header::IF_NONE_MATCH)?;
    let found = state
        .services
        .resources
        .get(kind, id, shows_derived(kind, &projection))
        .await?;
    if if_none_match.is_some_and(|t| t.matches(found.meta())) {
        return Ok(response::etag_only(StatusCode::NOT_MODIFIED, found.meta()));
    }
    respond(StatusCode::OK, kind, found, &base, &projection)
}

/// A resource as a response, projected: a user rendered from its stored
/// text (no JSON tree) when the projection leaves it whole; a created one
/// with its `Location`.
fn respond(
    status: StatusCode,
    kind: ResourceKind,
    resource: Resource,
    base: &str,
    projection: &Projection,
) -> Handled {
    let (body, meta) = match resource {
        Resource::User(user) => {
            let created = (status == StatusCode::CREATED)
                .then(|| location(base, ResourceKind::User, &user.id));
            let meta = user.meta.clone();
            let body = user_body(user, base, projection)?;
            return Ok(response::resource_text(
                status,
                body,
                &meta,
                created.as_deref(),
            ));
        }
        Resource::Group(g) => (g.to_scim(base), g.meta),
        Resource::Department(d) => (d.to_scim(base), d.meta),
        Resource::Plain(r) => (r.to_scim(base), r.meta),
    };
    Ok(response::resource(
        status,
        &projection.apply(kind, body),
        &meta,
    ))
}

async fn create(
    kind: ResourceKind,
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let base = base_url(&req, &state);
    let projection = projection(kind, &req)?;
    let actor = actor_of(&caller, &req);
    let created = state.services.resources.create(kind, &actor, body).await?;
    respond(StatusCode::CREATED, kind, created, &base, &projection)
}

/// An entity-tag header (`If-Match` / `If-None-Match`), if sent.
fn tags(req: &HttpRequest, name: header::HeaderName) -> Result<Option<TagList>, AppError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => {
            let text = v
                .to_str()
                .map_err(|_| ScimError::invalid_value("entity-tag headers must be ASCII"))?;
            Ok(Some(TagList::parse(text)?))
        }
    }
}

pub(super) async fn replace_one(
    state: &AppState,
    kind: ResourceKind,
    id: &str,
    caller: &Principal,
    req: &HttpRequest,
    body: Value,
) -> Handled {
    let base = base_url(req, state);
    let if_match = tags(req, header::IF_MATCH)?;
    let projection = projection(kind, req)?;
    let actor = actor_of(caller, req);
    let with_derived = shows_derived(kind, &projection);
    let replaced = state
        .services
        .resources
        .replace(kind, &actor, id, body, if_match, with_derived);
    respond(StatusCode::OK, kind, replaced.await?, &base, &projection)
}

/// PATCH answers with the resource; a Group PATCH with no `attributes` /
/// `excludedAttributes` asked answers 204 and never loads the members.
pub(super) async fn patch_one(
    state: &AppState,
    kind: ResourceKind,
    id: &str,
    caller: &Principal,
    req: &HttpRequest,
    body: Value,
) -> Handled {
    let base = base_url(req, state);
    let if_match = tags(req, header::IF_MATCH)?;
    let projection = projection(kind, req)?;
    let actor = actor_of(caller, req);
    let no_content = kind == ResourceKind::Group && projection == Projection::default();
    let with_derived = !no_content && shows_derived(kind, &projection);
    let patched = state
        .services
        .resources
        .patch(kind, &actor, id, body, if_match, with_derived);
    let patched = patched.await?;
    if no_content {
        return Ok(response::etag_only(StatusCode::NO_CONTENT, patched.meta()));
    }
    respond(StatusCode::OK, kind, patched, &base, &projection)
}

async fn delete(
    kind: ResourceKind,
    state: web::Data<AppState>,
    id: web::Path<String>,
    caller: Principal,
    req: HttpRequest,
) -> Handled {
    let if_match = tags(&req, header::IF_MATCH)?;
    // Only a department has anything under it to say what happens to.
    let mode = match kind {
        ResourceKind::Department => remove_mode(&query_pairs(&req))?,
        _ => RemoveMode::Refuse,
    };
    let actor = actor_of(&caller, &req);
    let deleted = state
        .services
        .resources
        .delete(kind, &actor, &id, if_match, mode);
    deleted.await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What deleting a department does to what is under it: refused unless
/// the query asks `cascade=true` or `moveTo=ID` (not both).
pub(crate) fn remove_mode(pairs: &[(String, String)]) -> Result<RemoveMode, AppError> {
    let find = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let cascade = match find("cascade") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(ScimError::invalid_value(format!(
                "cascade must be true or false, not {v:?}"
            ))
            .into());
        }
    };
    match (cascade, find("moveTo").filter(|v| !v.is_empty())) {
        (true, Some(_)) => {
            Err(ScimError::invalid_value("ask for cascade or for moveTo, not both").into())
        }
        (true, None) => Ok(RemoveMode::Cascade),
        (false, Some(to)) => Ok(RemoveMode::MoveTo(to.to_string())),
        (false, None) => Ok(RemoveMode::Refuse),
    }
}

async fn list(kind: ResourceKind, state: web::Data<AppState>, req: HttpRequest) -> Handled {
    let params = ListParams::from_pairs(&query_pairs(&req));
    let body = state
        .services
        .listing
        .list_text(kind, params, base_url(&req, &state))
        .await?;
    Ok(response::json_text(StatusCode::OK, body))
}

async fn search(
    kind: ResourceKind,
    state: web::Data<AppState>,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let params = ListParams::from_search_request(&body)?;
    let body = state
        .services
        .listing
        .list(kind, params, base_url(&req, &state))
        .await?;
    Ok(response::json(StatusCode::OK, &body))
}

/// POST `/.search` at the root, across resource types.
pub async fn search_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let params = ListParams::from_search_request(&body)?;
    let body = state
        .services
        .listing
        .search_all(params, base_url(&req, &state))
        .await?;
    Ok(response::json(StatusCode::OK, &body))
}
