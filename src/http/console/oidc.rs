//! Sign-in with an external OpenID Connect provider: `start` sends the
//! browser to the provider, `callback` takes it back and opens a session.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, web};
use askama::Template;

use super::guard::session_cookie;
use super::page::{self, Page, query, see_other};
use super::sign_in::{SignInPage, over_https, safe_next};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::middleware::client_address;
use crate::http::routes::Endpoint;
use crate::scim::ScimError;

/// The short-lived cookie binding a sign-in to the browser that began it.
const LOGIN_COOKIE: &str = "scimhub_console_login";
const LOGIN_PATH: &str = "/console/oidc";

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/oidc/start", None, start),
        Endpoint::new(Method::GET, "/oidc/callback", None, callback),
    ]
}

fn not_configured() -> AppError {
    ScimError::not_found("No external sign-in is configured (console.oidc).").into()
}

/// The login cookie: `Lax`, since the provider sends the browser back with
/// a cross-site navigation, which a `Strict` cookie would not accompany.
fn login_cookie(secret: String, secure: bool) -> Cookie<'static> {
    Cookie::build(LOGIN_COOKIE, secret)
        .path(LOGIN_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::minutes(10))
        .finish()
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("cookie: {e}"))
}

async fn start(state: web::Data<AppState>, req: HttpRequest) -> Page {
    let oidc = state.services.console.oidc().ok_or_else(not_configured)?;
    let next = safe_next(query(&req, "next").as_deref());
    let started = oidc.start(next).await?;
    let mut res = see_other(started.authorize_url);
    res.add_cookie(&login_cookie(
        started.cookie_secret,
        over_https(&req, &state),
    ))
    .map_err(internal)?;
    Ok(res)
}

/// After the callback: a same-site step to the console, so the new
/// `SameSite=Strict` session cookie goes along.
#[derive(Template)]
#[template(path = "console/signed_in.html")]
struct SignedIn {
    next: String,
}

/// The sign-in page again, saying why.
fn refused(state: &AppState, status: StatusCode, error: String) -> Page {
    let mut page = SignInPage::new(state, "/console".into());
    page.error = Some(error);
    page::html(status, &page)
}

async fn callback(state: web::Data<AppState>, req: HttpRequest) -> Page {
    let oidc = state.services.console.oidc().ok_or_else(not_configured)?;
    let source = client_address(&req).unwrap_or_else(|| "unknown".into());
    if let Some(error) = query(&req, "error") {
        let why = query(&req, "error_description").unwrap_or(error);
        return refused(
            &state,
            StatusCode::UNAUTHORIZED,
            format!("The sign-in provider said: {why}"),
        );
    }
    if let Some(wait) = state.console_sign_ins.blocked(&source) {
        let secs = wait.as_secs() + 1;
        return refused(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed sign-ins from this address: try again in {secs} seconds."),
        );
    }
    let cookie = req
        .cookie(LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let (code, given_state) = (
        query(&req, "code").unwrap_or_default(),
        query(&req, "state").unwrap_or_default(),
    );
    let finished = oidc
        .finish(
            &state.services.console,
            &cookie,
            &given_state,
            &code,
            &source,
        )
        .await;
    let mut cleared = login_cookie(String::new(), over_https(&req, &state));
    cleared.make_removal();
    let mut res = match finished {
        Ok((signed, next)) => {
            let mut res = page::ok(&SignedIn { next })?;
            res.add_cookie(&session_cookie(signed.secret, over_https(&req, &state)))
                .map_err(internal)?;
            res
        }
        Err(AppError::Auth(_)) => {
            let _ = state.console_sign_ins.check(&source);
            refused(
                &state,
                StatusCode::FORBIDDEN,
                "You signed in at the provider, but you are not allowed into this console.".into(),
            )?
        }
        Err(AppError::Scim(e)) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            refused(&state, status, e.detail)?
        }
        Err(e) => return Err(e.into()),
    };
    res.add_cookie(&cleared).map_err(internal)?;
    Ok(res)
}
