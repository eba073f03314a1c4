//! The console's stylesheet and script, compiled into the binary: nothing
//! to install or host, and no request leaves the server.

use actix_web::HttpResponse;
use actix_web::http::Method;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};

use crate::http::routes::Endpoint;

const CSS: &str = include_str!("../../../assets/console/console.css");
const JS: &str = include_str!("../../../assets/console/console.js");

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/assets/console.css", None, css),
        Endpoint::new(Method::GET, "/assets/console.js", None, js),
    ]
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        // They change only with the binary; a short cache still picks up an upgrade.
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}

async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}
