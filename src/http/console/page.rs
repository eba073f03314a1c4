//! What every console page shares: the signed-in caller, the page chrome
//! (navigation, notices), rendering a template, and errors as HTML pages.

use std::fmt;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use super::notice;
use crate::error::{AppError, AuthError};
use crate::http::middleware::actor_named;
use crate::service::console::Session;
use crate::store::Actor;

tokio::task_local! {
    /// The id of the console request being answered, for its error page.
    static REQUEST_ID: String;
}

/// Runs `answer` (a console request) with its request id at hand, so an
/// error page can name it.
pub async fn with_request_id<F: std::future::Future>(id: String, answer: F) -> F::Output {
    REQUEST_ID.scope(id, answer).await
}

/// The console's sections, in navigation order: key, label, path.
const SECTIONS: [(&str, &str, &str); 12] = [
    ("overview", "Overview", "/console"),
    ("users", "People", "/console/users"),
    ("groups", "Groups", "/console/groups"),
    ("departments", "Organization", "/console/departments"),
    ("targets", "Targets", "/console/targets"),
    ("sources", "Sources", "/console/sources"),
    ("runs", "Runs", "/console/runs"),
    ("approvals", "Approvals", "/console/approvals"),
    ("failures", "Failures", "/console/failures"),
    ("audit", "Audit log", "/console/audit"),
    ("tokens", "Tokens", "/console/tokens"),
    ("subscriptions", "Subscriptions", "/console/subscriptions"),
];

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// The frame around every signed-in page.
pub struct Chrome {
    pub actor: String,
    pub csrf: String,
    pub section: &'static str,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Chrome {
    pub fn nav(&self) -> Vec<NavItem> {
        SECTIONS
            .iter()
            .map(|(key, label, href)| NavItem {
                label,
                href,
                current: *key == self.section,
            })
            .collect()
    }

    /// The same page showing `error` (a refused form).
    pub fn with_error(mut self, error: String) -> Self {
        self.error = Some(error);
        self
    }
}

/// The signed-in caller, left in the request by `guard::require_session`.
#[derive(Debug, Clone)]
pub struct Signed(pub Session);

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = std::future::Ready<Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only routes behind `require_session` ask for it.
        std::future::ready(
            req.extensions()
                .get::<Signed>()
                .cloned()
                .ok_or(ConsoleError(AppError::Auth(AuthError::Missing))),
        )
    }
}

impl Signed {
    pub fn chrome(&self, req: &HttpRequest, section: &'static str) -> Chrome {
        Chrome {
            actor: self.0.actor.clone(),
            csrf: self.0.csrf.clone(),
            section,
            notice: query(req, "notice").and_then(|c| notice::text(&c)),
            error: None,
        }
    }

    /// The audit actor of this request: the session's, with the request id
    /// and client address.
    pub fn actor(&self, req: &HttpRequest) -> Actor {
        actor_named(&self.0.actor, req)
    }
}

/// A query parameter, when given and not blank.
pub fn query(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A rendered page. Pages are never cached: they show live state and,
/// once, secrets.
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, ConsoleError> {
    let body = page.render()?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(body))
}

pub fn ok(page: &impl Template) -> Result<HttpResponse, ConsoleError> {
    html(StatusCode::OK, page)
}

/// After a form: back to a page (303, so a reload does not post again).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.into()))
        .finish()
}

/// `path` with `?notice=CODE` (or `&notice=CODE`).
pub fn with_notice(path: &str, code: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}notice={code}")
}

/// What `segment` leaves as it is: letters, digits, `-`, `_`, `~` (ids and
/// names read as themselves; `.` is encoded so `..` cannot climb).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// A path segment (a name or an id) safe in a URL.
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Why a console request failed, as a page a person reads.
#[derive(Debug)]
pub struct ConsoleError(pub AppError);

impl From<AppError> for ConsoleError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(e: askama::Error) -> Self {
        Self(AppError::Internal(anyhow::anyhow!(
            "rendering a console page: {e}"
        )))
    }
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a person is told about an error (never internal detail).
pub fn explain(e: &AppError) -> String {
    match e {
        AppError::Scim(s) => s.detail.clone(),
        AppError::Auth(_) => "Your session has ended or is not valid: sign in again.".into(),
        AppError::RateLimited { retry_after_secs } => {
            format!("Too many attempts: try again in {retry_after_secs} seconds.")
        }
        AppError::Internal(_) => {
            "Something went wrong on the server. Nothing more is shown here; the server log \
             has the details under the request id below."
                .into()
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    title: String,
    detail: String,
    sign_in: bool,
    request_id: Option<String>,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        ResponseError::status_code(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = &self.0 {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let status = self.status_code();
        let page = ErrorPage {
            title: status
                .canonical_reason()
                .unwrap_or("Something went wrong")
                .to_string(),
            detail: explain(&self.0),
            sign_in: matches!(self.0, AppError::Auth(_)),
            request_id: REQUEST_ID.try_with(Clone::clone).ok(),
        };
        let mut response = HttpResponse::build(status);
        response
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header(CacheControl(vec![CacheDirective::NoStore]));
        if let AppError::RateLimited { retry_after_secs } = &self.0 {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        match page.render() {
            Ok(body) => response.body(body),
            Err(_) => response.body("error"),
        }
    }
}

pub type Page = Result<HttpResponse, ConsoleError>;

/// Any other path under `/console` (behind the session guard).
pub async fn not_found() -> Page {
    Err(ConsoleError(
        crate::scim::ScimError::not_found("There is no such console page.").into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_ids_readable_and_cannot_climb() {
        assert_eq!(segment("a402-72ba_x~"), "a402-72ba_x~");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("a/b?c#d"), "a%2Fb%3Fc%23d");
    }

    #[actix_web::test]
    async fn an_internal_error_page_names_the_request_and_nothing_else() {
        let cause = anyhow::anyhow!("database is locked: /var/lib/scimhub/secret.db");
        let response = with_request_id("req-42".into(), async {
            ConsoleError(AppError::Internal(cause)).error_response()
        })
        .await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("<code id=\"request-id\">req-42</code>"),
            "{body}"
        );
        assert!(
            body.contains("Something went wrong on the server"),
            "{body}"
        );
        assert!(
            !body.contains("database") && !body.contains("secret.db"),
            "{body}"
        );
    }

    #[actix_web::test]
    async fn an_unknown_page_is_a_404_page() {
        let response = with_request_id("req-7".into(), async {
            match not_found().await {
                Ok(_) => panic!("found"),
                Err(e) => e.error_response(),
            }
        })
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("<h1>Not Found</h1>"), "{body}");
        assert!(body.contains("There is no such console page."), "{body}");
    }
}
