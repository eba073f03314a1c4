//! stub
use crate::http::routes::Endpoint;
pub fn endpoints() -> Vec<Endpoint> { Vec::new() }
