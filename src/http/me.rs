//! `/Me` (RFC 7644 §3.11): the User the credential is bound to
//! (`scimhub token create --user ID`); 501 when it is bound to none.

use actix_web::http::Method;
use actix_web::{HttpRequest, web};

use super::AppState;
use super::body::ScimJson;
use super::resources::{get_one, patch_one, replace_one};
use super::routes::Endpoint;
use crate::error::AppError;
use crate::scim::{ResourceKind, ScimError};
use crate::service::Principal;
use crate::service::tokens::{SCOPE_READ, SCOPE_WRITE};

type Handled = Result<actix_web::HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/Me", Some(SCOPE_READ), get),
        Endpoint::new(Method::PUT, "/Me", Some(SCOPE_WRITE), replace),
        Endpoint::new(Method::PATCH, "/Me", Some(SCOPE_WRITE), patch),
    ]
}

fn subject(caller: &Principal) -> Result<&str, AppError> {
    caller.user_id.as_deref().ok_or_else(|| {
        ScimError::new(
            501,
            None,
            "this credential is not bound to a User, so /Me has no subject",
        )
        .into()
    })
}

async fn get(state: web::Data<AppState>, caller: Principal, req: HttpRequest) -> Handled {
    get_one(&state, ResourceKind::User, subject(&caller)?, &req).await
}

async fn replace(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let id = subject(&caller)?.to_string();
    replace_one(&state, ResourceKind::User, &id, &caller, &req, body).await
}

async fn patch(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let id = subject(&caller)?.to_string();
    patch_one(&state, ResourceKind::User, &id, &caller, &req, body).await
}
