//! The admin API under `/admin/v1`. The whole scope sits behind
//! `middleware::require_admin`, so every route listed here needs the
//! `admin` scope; add a module's endpoints to `endpoints` to mount them.

mod departments;
mod failures;
mod runs;
mod schemas;
mod sources;
mod subscriptions;
mod targets;
mod tokens;

use super::routes::Endpoint;

pub fn endpoints() -> Vec<Endpoint> {
    let mut all = tokens::endpoints();
    all.extend(targets::endpoints());
    all.extend(runs::endpoints());
    all.extend(failures::endpoints());
    all.extend(subscriptions::endpoints());
    all.extend(sources::endpoints());
    all.extend(departments::endpoints());
    all.extend(schemas::endpoints());
    all
}
