//! The console's guards: security headers on every response, and a live
//! session (plus, on every state-changing request, its CSRF token) before
//! any page other than sign-in and the assets.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};

use super::page::{ConsoleError, Signed, see_other, segment, with_request_id};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::middleware::RequestId;
use crate::scim::ScimError;

/// The session cookie (its value is the session's secret).
pub const COOKIE: &str = "scimhub_console";

/// Only this server's own scripts, styles and forms; no framing, no
/// inline code, nothing fetched from elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Largest console form read for its CSRF token (a mapping fits easily).
pub const MAX_FORM_BYTES: usize = 256 * 1024;

fn set(res: &mut ServiceResponse<impl MessageBody>, name: HeaderName, value: &'static str) {
    res.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

/// Adds the security headers to every console response.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let mut res = with_request_id(id, next.call(req)).await?;
    set(
        &mut res,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(&mut res, header::X_FRAME_OPTIONS, "DENY");
    set(&mut res, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut res, header::REFERRER_POLICY, "no-referrer");
    set(
        &mut res,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        set(&mut res, header::CACHE_CONTROL, "no-store");
    }
    Ok(res)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// Where a request without a session goes: a page view to sign-in (and
/// back afterwards); anything else is refused.
fn no_session(req: ServiceRequest) -> ServiceResponse {
    if is_safe(req.method()) {
        let back = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_default();
        let to = format!("/console/sign-in?next={}", segment(&back));
        req.into_response(see_other(to))
    } else {
        let refused = ConsoleError(
            ScimError::new(
                403,
                None,
                "There is no signed-in session for this form: sign in again and repeat it.",
            )
            .into(),
        );
        req.into_response(refused.error_response())
    }
}

fn refuse(req: ServiceRequest, error: AppError) -> ServiceResponse {
    req.into_response(ConsoleError(error).error_response())
}

/// Needs a live session; a state-changing request also needs the
/// session's CSRF token in its form (`csrf`). The `Signed` caller is left
/// in the request.
pub async fn require_session(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let err = AppError::Internal(anyhow::anyhow!("application state missing"));
        return Ok(refuse(req, err).map_into_right_body());
    };
    let secret = req.cookie(COOKIE).map(|c| c.value().to_string());
    let session = match secret {
        Some(secret) => state.services.console.session(&secret).await,
        None => Ok(None),
    };
    let session = match session {
        Ok(Some(session)) => session,
        Ok(None) => return Ok(no_session(req).map_into_right_body()),
        Err(e) => return Ok(refuse(req, e).map_into_right_body()),
    };
    if !is_safe(req.method()) {
        let body = match read_form(&mut req).await {
            Ok(body) => body,
            Err(e) => return Ok(refuse(req, e).map_into_right_body()),
        };
        let presented = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        if !presented.is_some_and(|token| session.csrf_matches(&token)) {
            tracing::warn!(target: crate::telemetry::AUDIT, event = "console.csrf_refused", actor = %session.actor, path = %req.path());
            let refused = ScimError::new(
                403,
                None,
                "This form is out of date or was not sent from the console: reload the page and try again.",
            );
            return Ok(refuse(req, refused.into()).map_into_right_body());
        }
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    req.extensions_mut().insert(Signed(session));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The request body, at most `MAX_FORM_BYTES`.
async fn read_form(req: &mut ServiceRequest) -> Result<web::Bytes, AppError> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    use futures_util::StreamExt;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ScimError::new(400, None, format!("the form could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(ScimError::payload_too_large(format!(
                "the form is larger than {MAX_FORM_BYTES} bytes"
            ))
            .into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// After sign-out or when a session ended: the cookie removed.
pub fn cleared_cookie() -> actix_web::cookie::Cookie<'static> {
    let mut cookie = actix_web::cookie::Cookie::build(COOKIE, "")
        .path("/console")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

/// The session cookie: HttpOnly, SameSite=Strict, `Secure` under TLS
/// (or behind a trusted proxy that says the client used HTTPS).
pub fn session_cookie(secret: String, secure: bool) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(COOKIE, secret)
        .path("/console")
        .http_only(true)
        .secure(secure)
        .same_site(actix_web::cookie::SameSite::Strict)
        .finish()
}
