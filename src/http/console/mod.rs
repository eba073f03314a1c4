//! The admin web console at `/console`: server-rendered pages (askama
//! templates compiled into the binary, every value HTML-escaped) and one
//! small script for live run progress. A thin door over `service`, like the
//! admin API: every read and change goes through the same use cases and is
//! audited with the signed-in actor (`console:<name>`).
//!
//! Sign-in and the assets are public; every other route sits behind
//! `guard::require_session` (a live session, and on state-changing requests
//! its CSRF token), so a route added here cannot be reached without one.

mod approvals;
mod assets;
mod audit;
mod departments;
mod failures;
mod forms;
pub mod guard;
mod notice;
mod oidc;
mod org_view;
mod overview;
mod page;
mod people;
mod runs;
mod sign_in;
mod source_runs;
mod source_view;
mod sources;
mod subscriptions;
mod targets;
mod tokens;
mod view;

use actix_web::middleware::from_fn;
use actix_web::web;

use super::routes::{self, Endpoint, RouteRule};

pub const CONSOLE_BASE: &str = "/console";

/// What the console's routes other than sign-in and the assets need, as
/// the route table names it.
pub const SESSION: &str = "console session";

fn public_endpoints() -> Vec<Endpoint> {
    let mut all = sign_in::public_endpoints();
    all.extend(oidc::endpoints());
    all.extend(assets::endpoints());
    all
}

fn session_endpoints() -> Vec<Endpoint> {
    let mut all = overview::endpoints();
    all.extend(sign_in::endpoints());
    all.extend(people::endpoints());
    all.extend(departments::endpoints());
    all.extend(targets::endpoints());
    all.extend(sources::endpoints());
    all.extend(source_runs::endpoints());
    all.extend(runs::endpoints());
    all.extend(approvals::endpoints());
    all.extend(failures::endpoints());
    all.extend(audit::endpoints());
    all.extend(tokens::endpoints());
    all.extend(subscriptions::endpoints());
    all
}

/// Mounts the console: the public routes first, then everything else
/// behind the session guard; security headers on all of it.
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(CONSOLE_BASE)
            .wrap(from_fn(guard::security_headers))
            .app_data(forms::config())
            .configure(|c| routes::mount(c, CONSOLE_BASE, public_endpoints()))
            .service(
                web::scope("")
                    .wrap(from_fn(guard::require_session))
                    .configure(|c| routes::mount(c, CONSOLE_BASE, session_endpoints()))
                    .default_service(web::to(page::not_found)),
            ),
    );
}

/// Every console route with what it needs (`None`: public; `SESSION`).
pub fn route_table() -> Vec<RouteRule> {
    let mut all = routes::rules(CONSOLE_BASE, public_endpoints());
    all.extend(routes::rules(CONSOLE_BASE, session_endpoints()));
    all
}
