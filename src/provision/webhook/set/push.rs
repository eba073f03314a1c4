//! One SET pushed to a receiver (RFC 8935): the compact JWS as the body,
//! the subscription's secret as a bearer token so the receiver knows the
//! sender. 202 (any 2xx) is accepted; a 400's `err` and `description`
//! end up in the subscription's `lastError`.

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

use super::signer::SET_MEDIA_TYPE;
use crate::provision::webhook::transport::{Outcome, outcome};

pub async fn post(client: &reqwest::Client, url: &str, secret: &[u8], jws: &str) -> Outcome {
    let sent = client
        .post(url)
        .header(CONTENT_TYPE, SET_MEDIA_TYPE)
        .header(ACCEPT, "application/json")
        .header(
            AUTHORIZATION,
            format!("Bearer {}", String::from_utf8_lossy(secret)),
        )
        .body(jws.to_string())
        .send()
        .await;
    outcome(sent).await
}
