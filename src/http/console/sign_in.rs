//! Signing in (an admin-scope API token exchanged for a session) and out.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::guard::{cleared_cookie, session_cookie};
use super::page::{self, Page, Signed, query, see_other, with_notice};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::middleware::client_address;
use crate::http::routes::Endpoint;
use crate::service::audit;
use crate::store::Actor;

/// Sign-in and its form are public; sign-out needs the session.
pub fn public_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/sign-in", None, form),
        Endpoint::new(Method::POST, "/sign-in", None, sign_in),
    ]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::POST,
        "/sign-out",
        Some(super::SESSION),
        sign_out,
    )]
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignInPage {
    next: String,
    notice: Option<String>,
    pub error: Option<String>,
    oidc: bool,
    oidc_name: String,
}

impl SignInPage {
    pub fn new(state: &AppState, next: String) -> Self {
        let (oidc, oidc_name) = match &state.console_oidc_name {
            Some(name) => (true, name.clone()),
            None => (false, String::new()),
        };
        Self {
            next,
            notice: None,
            error: None,
            oidc,
            oidc_name,
        }
    }
}

/// Where to go after signing in: a console path, else the overview (never
/// another site).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/console")
                && !n.starts_with("/console/sign-")
                && !n.contains("//")
                && !n.contains('\\') =>
        {
            n.to_string()
        }
        _ => "/console".to_string(),
    }
}

async fn form(state: web::Data<AppState>, req: HttpRequest) -> Page {
    let mut page = SignInPage::new(&state, safe_next(query(&req, "next").as_deref()));
    page.notice = query(&req, "notice").and_then(|c| super::notice::text(&c));
    page::ok(&page)
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
    #[serde(default)]
    next: String,
}

/// Whether the browser says the form came from another site (a login
/// CSRF); browsers that send no `Sec-Fetch-Site` are let through, the
/// SameSite=Strict cookie still guards everything after.
fn cross_site(req: &HttpRequest) -> bool {
    req.headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// Whether the client reached us over HTTPS (directly or, per a trusted
/// proxy, in front of it): the cookie is then `Secure`.
pub fn over_https(req: &HttpRequest, state: &AppState) -> bool {
    crate::http::origin::of(req, &state.trusted_proxies).scheme == "https"
}

async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(f): web::Form<SignInForm>,
) -> Page {
    let next = safe_next(Some(&f.next));
    let source = client_address(&req).unwrap_or_else(|| "unknown".into());
    let mut page = SignInPage::new(&state, next.clone());
    if cross_site(&req) {
        page.error = Some("This sign-in did not come from the console's own page.".into());
        return page::html(StatusCode::FORBIDDEN, &page);
    }
    if let Some(wait) = state.console_sign_ins.blocked(&source) {
        let secs = wait.as_secs() + 1;
        let actor = Actor {
            name: "-".into(),
            request_id: None,
            source: Some(source.clone()),
        };
        let detail = format!("too many failed sign-ins from {source}; refused for {secs} s");
        audit::record(
            &state.services.store,
            "console.sign_in.limited",
            &actor,
            detail,
        )
        .await?;
        page.error = Some(format!(
            "Too many failed sign-ins from this address: try again in {secs} seconds."
        ));
        let mut res = page::html(StatusCode::TOO_MANY_REQUESTS, &page)?;
        if let Ok(v) = secs.to_string().parse() {
            res.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, v);
        }
        return Ok(res);
    }
    match state
        .services
        .console
        .sign_in_with_token(&f.token, &source)
        .await
    {
        Ok(signed) => {
            let mut res = see_other(next);
            res.add_cookie(&session_cookie(signed.secret, over_https(&req, &state)))
                .map_err(|e| AppError::Internal(anyhow::anyhow!("session cookie: {e}")))?;
            Ok(res)
        }
        Err(AppError::Auth(_)) => {
            let _ = state.console_sign_ins.check(&source);
            page.error = Some(
                "That token cannot sign in: it is unknown, revoked, or lacks the admin scope."
                    .into(),
            );
            page::html(StatusCode::UNAUTHORIZED, &page)
        }
        Err(e) => Err(e.into()),
    }
}

async fn sign_out(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    state
        .services
        .console
        .sign_out(&who.0, &who.actor(&req))
        .await?;
    let mut res: HttpResponse = see_other(with_notice("/console/sign-in", "signed-out"));
    res.add_cookie(&cleared_cookie())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session cookie: {e}")))?;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_only_returns_to_console_pages() {
        assert_eq!(
            safe_next(Some("/console/targets/crm")),
            "/console/targets/crm"
        );
        assert_eq!(
            safe_next(Some("/console/runs?status=running")),
            "/console/runs?status=running"
        );
        for hostile in [
            "https://evil.example/console",
            "//evil.example",
            "/console//evil.example",
            "/console\\..\\x",
            "/admin/v1/tokens",
            "/console/sign-out",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/console", "{hostile}");
        }
        assert_eq!(safe_next(None), "/console");
    }
}
