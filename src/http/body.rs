//! The SCIM request body extractor: bounded size, JSON media types only,
//! and every failure reported as a SCIM error.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde_json::Value;

use super::AppState;
use crate::error::AppError;
use crate::scim::ScimError;

const FALLBACK_LIMIT: usize = 1024 * 1024;

pub struct ScimJson(pub Value);

fn too_large(limit: usize) -> AppError {
    ScimError::payload_too_large(format!("the request body is larger than {limit} bytes")).into()
}

fn check_media_type(req: &HttpRequest) -> Result<(), AppError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/scim+json" || essence == "application/json" {
        Ok(())
    } else {
        Err(ScimError::new(
            415,
            None,
            "Content-Type must be application/scim+json or application/json",
        )
        .into())
    }
}

/// A JSON body that may be absent (no bytes, or only whitespace); the
/// same limits and media types as `ScimJson` otherwise.
pub struct OptionalJson(pub Option<Value>);

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

/// Reads the body within the size limit; `None` when it is empty.
fn read_json(req: &HttpRequest, payload: &mut Payload) -> Extracted<Option<Value>> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(FALLBACK_LIMIT, |s| s.max_body_bytes);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let early = check_media_type(req).and_then(|()| match declared {
        Some(n) if n > limit => Err(too_large(limit)),
        _ => Ok(()),
    });
    let mut payload = payload.take();
    Box::pin(async move {
        early?;
        let mut buf = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|_| ScimError::invalid_syntax("the request body could not be read"))?;
            if buf.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            buf.extend_from_slice(&chunk);
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice::<super::strict_json::Strict>(&buf)
            .map(|v| Some(v.0))
            .map_err(|e| {
                ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}")).into()
            })
    })
}

impl FromRequest for ScimJson {
    type Error = AppError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload);
        Box::pin(async move {
            body.await?
                .map(ScimJson)
                .ok_or_else(|| ScimError::invalid_syntax("the request body is empty").into())
        })
    }
}

impl FromRequest for OptionalJson {
    type Error = AppError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload);
        Box::pin(async move { body.await.map(OptionalJson) })
    }
}

/// The largest file accepted by an upload (a 100,000-row HR export is
/// about 15 MB).
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// A file uploaded as the whole request body (any media type: the source
/// says how it is read), at most `UPLOAD_LIMIT` bytes.
pub struct Upload(pub Vec<u8>);

impl FromRequest for Upload {
    type Error = AppError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > UPLOAD_LIMIT) {
                return Err(too_large(UPLOAD_LIMIT));
            }
            let mut buf = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ScimError::invalid_syntax("the request body could not be read"))?;
                if buf.len() + chunk.len() > UPLOAD_LIMIT {
                    return Err(too_large(UPLOAD_LIMIT));
                }
                buf.extend_from_slice(&chunk);
            }
            if buf.is_empty() {
                return Err(ScimError::invalid_syntax("the upload is empty").into());
            }
            Ok(Upload(buf))
        })
    }
}
