//! The typed settings sections that `config` fills from the file and the
//! environment and that the engines read: plain values with their defaults
//! and derived accessors. `config` imports this module and the engines
//! import this module; neither imports the other.

mod email;
pub mod events;
mod scim_events;
mod sync_worker;
mod webhooks;

pub use email::{EmailConfig, SmtpPassword, SmtpSecurity};
pub use scim_events::ScimEventsConfig;
pub use sync_worker::SyncWorkerConfig;
pub use webhooks::{NotifyEndpoint, WebhookConfig};

/// An http(s) URL without credentials in it.
pub fn check_http_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|_| format!("{text:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("the URL must be http(s)://host/…, got {text:?}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{text:?}: credentials belong in the auth options, not in the URL"
        ));
    }
    Ok(url)
}
