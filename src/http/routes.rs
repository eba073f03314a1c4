//! The route table. Every endpoint is declared once, with the scope it
//! needs; `mount` registers exactly the declared endpoints and
//! `http::route_table` lists the same declarations, so the access tests walk
//! every route there is and a route cannot exist without an access rule.

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Route, web};

/// One method on one path, the scope it needs (`None`: public) and its handler.
pub struct Endpoint {
    pub method: Method,
    /// Path pattern relative to where it is mounted, e.g. `/Users/{id}`.
    pub path: String,
    pub scope: Option<&'static str>,
    route: Route,
}

impl Endpoint {
    pub fn new<F, Args>(
        method: Method,
        path: impl Into<String>,
        scope: Option<&'static str>,
        handler: F,
    ) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self {
            route: web::route().method(method.clone()).to(handler),
            method,
            path: path.into(),
            scope,
        }
    }
}

/// What a route needs, as docs/admin-api.md and the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    pub method: Method,
    /// The full path pattern, e.g. `/scim/v2/Users/{id}`.
    pub path: String,
    pub scope: Option<&'static str>,
}

pub fn rules(base: &str, endpoints: Vec<Endpoint>) -> Vec<RouteRule> {
    endpoints
        .into_iter()
        .map(|e| RouteRule {
            method: e.method,
            path: format!("{base}{}", e.path),
            scope: e.scope,
        })
        .collect()
}

/// The route template a resource was mounted at, as metrics label it
/// (`/scim/v2/Users/:id`: braces in label values trip some exposition
/// parsers). Resource data, so the metrics middleware reads it without
/// matching the path again.
#[derive(Debug, Clone, Copy)]
pub struct RouteLabel(pub &'static str);

/// One `&'static str` per distinct label: labels come from the route table
/// (a bounded set), and every worker and test app mounts the same ones.
fn interned(label: String) -> &'static str {
    static LABELS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<&'static str>>> =
        std::sync::LazyLock::new(Default::default);
    let mut labels = LABELS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = labels.get(label.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(label.into_boxed_str());
    labels.insert(leaked);
    leaked
}

/// Registers the endpoints under `base` (where the enclosing scope is
/// mounted), one resource per path in the order the paths first appear (so
/// `/Users/.search` comes before `/Users/{id}`); other methods on a known
/// path answer 405.
pub fn mount(cfg: &mut web::ServiceConfig, base: &str, endpoints: Vec<Endpoint>) {
    let mut paths: Vec<(String, Vec<Route>)> = Vec::new();
    for e in endpoints {
        match paths.iter_mut().find(|(p, _)| *p == e.path) {
            Some((_, routes)) => routes.push(e.route),
            None => paths.push((e.path, vec![e.route])),
        }
    }
    for (path, routes) in paths {
        let label = format!("{base}{path}").replace('{', ":").replace('}', "");
        let resource = routes
            .into_iter()
            .fold(web::resource(path), |r, route| r.route(route))
            .app_data(RouteLabel(interned(label)));
        cfg.service(resource.default_service(web::to(super::method_not_allowed)));
    }
}
