//! Tolerated spellings of SCIM endpoint paths, as older clients and
//! Microsoft's validator send them: endpoint names in any case (`/users`,
//! `/USERS/{id}`, `/serviceproviderconfig`, `/Users/.SEARCH`) and one
//! trailing slash (`/Users/`, `/Users/{id}/`). Such a path is rewritten to
//! its declared spelling before routing, so routing, the token and scope
//! middleware and `meta.location` only ever see the declared paths: a
//! variant spelling reaches exactly the route (and guard) it stands for.

use std::sync::LazyLock;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;

use super::SCIM_BASE;

/// One segment of a declared path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{id}`: any non-empty segment, kept as sent.
    Param,
}

/// The declared SCIM paths (relative to `SCIM_BASE`), in declaration order.
#[derive(Debug, Clone, Default)]
pub struct CanonicalPaths {
    patterns: Vec<Vec<Segment>>,
}

impl CanonicalPaths {
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<Vec<Segment>> = Vec::new();
        for path in paths {
            let pattern: Vec<Segment> = path
                .trim_start_matches('/')
                .split('/')
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_string())
                    }
                })
                .collect();
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        Self { patterns }
    }

    /// The declared spelling of the full request path `path`, when it names a
    /// SCIM endpoint in another spelling; `None` when it is already declared
    /// or names none. The first matching pattern wins, as in routing (so
    /// `/Users/.SEARCH` is the search, not a user). A declared path (every
    /// request of a well-behaved client) is recognised without allocating.
    pub fn canonical(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix(SCIM_BASE)?.strip_prefix('/')?;
        let trimmed = rest.strip_suffix('/').unwrap_or(rest);
        let matches = |p: &&Vec<Segment>, exact: bool| {
            let mut got = trimmed.split('/');
            p.iter().all(|want| {
                got.next().is_some_and(|got| match want {
                    Segment::Literal(name) if exact => name == got,
                    Segment::Literal(name) => name.eq_ignore_ascii_case(got),
                    Segment::Param => !got.is_empty(),
                })
            }) && got.next().is_none()
        };
        let pattern = self.patterns.iter().find(|p| matches(p, false))?;
        if trimmed.len() == rest.len() && matches(&pattern, true) {
            return None;
        }
        let mut out = String::with_capacity(path.len());
        out.push_str(SCIM_BASE);
        for (want, got) in pattern.iter().zip(trimmed.split('/')) {
            out.push('/');
            match want {
                Segment::Literal(name) => out.push_str(name),
                Segment::Param => out.push_str(got),
            }
        }
        (out != path).then_some(out)
    }
}

static SCIM_PATHS: LazyLock<CanonicalPaths> = LazyLock::new(|| {
    let endpoints = super::scim_endpoints();
    CanonicalPaths::new(endpoints.iter().map(|e| e.path.as_str()))
});

/// Rewrites a tolerated spelling of a SCIM path to the declared one
/// (the query string is kept) before the request is routed.
pub async fn rewrite(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(uri) = SCIM_PATHS
        .canonical(req.path())
        .and_then(|path| with_path(req.uri(), &path))
    {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
    next.call(req).await
}

fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let mut parts = uri.clone().into_parts();
    let target = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    parts.path_and_query = Some(PathAndQuery::try_from(target).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> CanonicalPaths {
        CanonicalPaths::new([
            "/Users",
            "/Users/.search",
            "/Users/{id}",
            "/ServiceProviderConfig",
            "/Schemas/{id}",
            "/.search",
        ])
    }

    #[test]
    fn endpoint_names_in_any_case_and_a_trailing_slash_become_the_declared_path() {
        let p = paths();
        for (sent, declared) in [
            ("/scim/v2/users", "/scim/v2/Users"),
            ("/scim/v2/USERS/", "/scim/v2/Users"),
            ("/scim/v2/Users/", "/scim/v2/Users"),
            ("/scim/v2/users/AbC-1", "/scim/v2/Users/AbC-1"),
            ("/scim/v2/Users/AbC-1/", "/scim/v2/Users/AbC-1"),
            ("/scim/v2/users/.SEARCH", "/scim/v2/Users/.search"),
            (
                "/scim/v2/serviceproviderconfig",
                "/scim/v2/ServiceProviderConfig",
            ),
            (
                "/scim/v2/schemas/urn:ietf:params:scim:schemas:core:2.0:User",
                "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            ),
            ("/scim/v2/.SEARCH/", "/scim/v2/.search"),
        ] {
            assert_eq!(p.canonical(sent).as_deref(), Some(declared), "{sent}");
        }
    }

    #[test]
    fn declared_paths_and_other_paths_are_left_alone() {
        let p = paths();
        for path in [
            "/scim/v2/Users",
            "/scim/v2/Users/abc",
            "/scim/v2/",
            "/scim/v2",
            "/scim/v2/Users//",
            "/scim/v2/Users/a/b",
            "/scim/v2/Userz",
            "/SCIM/V2/Users",
            "/admin/v1/tokens/",
            "/scim/v2users",
        ] {
            assert_eq!(p.canonical(path), None, "{path}");
        }
    }
}
