//! Reading console forms: bounded, and a malformed form is an error page.

use actix_web::web;

use super::guard::MAX_FORM_BYTES;
use super::page::ConsoleError;
use crate::scim::ScimError;

pub fn config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(MAX_FORM_BYTES)
        .error_handler(|e, _| {
            ConsoleError(
                ScimError::new(400, None, format!("The form could not be read: {e}")).into(),
            )
            .into()
        })
}

/// A text field: `None` when blank.
pub fn given(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}
