//! `/metrics` (admin scope) over HTTP: the middleware that counts and times
//! every request by its route template, and the scrape that renders
//! `crate::metrics` with the store's figures read now.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

use super::AppState;
use super::routes::{Endpoint, RouteLabel};
use crate::error::AppError;
use crate::service::tokens::SCOPE_ADMIN;

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request by the route template it matched.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.services.metrics.clone());
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = res
            .request()
            .app_data::<RouteLabel>()
            .map_or("unmatched", |r| r.0);
        let seconds = started.elapsed().as_secs_f64();
        metrics.observe(method, route, res.status().as_u16(), seconds);
    }
    Ok(res)
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, "", Some(SCOPE_ADMIN), scrape)]
}

/// The text exposition, with the store-backed gauges read now.
pub(super) async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let snapshot = state.services.operations.snapshot().await?;
    let text = state
        .services
        .metrics
        .render(snapshot)
        .map_err(AppError::Internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
