//! The one place where errors become HTTP responses.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use super::response::SCIM_CONTENT_TYPE;
use crate::error::{AppError, AuthError};
use crate::scim::ScimError;

fn as_scim(e: &AppError) -> ScimError {
    match e {
        AppError::Scim(s) => s.clone(),
        AppError::Auth(AuthError::InsufficientScope(scope)) => {
            ScimError::new(403, None, format!("this token lacks the {scope} scope"))
        }
        AppError::Auth(reason) => ScimError::new(401, None, reason.to_string()),
        AppError::RateLimited { retry_after_secs } => ScimError::new(
            429,
            None,
            format!("too many requests for this credential; retry after {retry_after_secs} s"),
        ),
        AppError::Internal(_) => ScimError::new(
            500,
            None,
            "internal server error; the X-Request-Id response header identifies it in the server log",
        ),
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(as_scim(self).status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            // Full detail goes to the log (inside the request's span), never to the client.
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let scim = as_scim(self);
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
        if matches!(self, AppError::Auth(a) if !matches!(a, AuthError::InsufficientScope(_))) {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scimhub\""),
            ));
        }
        if let AppError::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        response.body(scim.to_json().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(e: &AppError) -> (u16, String) {
        let r = e.error_response();
        let status = r.status().as_u16();
        let bytes = r.into_body().try_into_bytes().unwrap_or_default();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[test]
    fn internal_errors_are_generic_and_leak_nothing() {
        let e = AppError::Internal(anyhow::anyhow!(
            "password authentication failed for user \"scimhub\" at db.internal:5432"
        ));
        let (status, body) = body_of(&e);
        assert_eq!(status, 500);
        assert!(body.contains("\"status\":\"500\""));
        assert!(body.contains("X-Request-Id"));
        assert!(!body.contains("db.internal") && !body.contains("password authentication"));
    }

    #[test]
    fn auth_errors_carry_the_challenge_except_for_scope() {
        let r = AppError::Auth(AuthError::Revoked).error_response();
        assert_eq!(r.status().as_u16(), 401);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        let r = AppError::Auth(AuthError::InsufficientScope("scim:write")).error_response();
        assert_eq!(r.status().as_u16(), 403);
        assert!(!r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
