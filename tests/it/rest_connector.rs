//! The REST connector against a contacts API like an IM tool's (its own
//! ids, numeric department ids, errors as HTTP 200 with an `errcode`, a
//! rate limit), run in the test on a loopback port.

use std::collections::BTreeMap;
use std::time::Duration;

use scimhub::provision::client::{ClientOptions, RetryPolicy, ScimClient};
use scimhub::provision::connector::rest::{RestConnector, RestSettings};
use scimhub::provision::connector::{Connector, ConnectorError};
use scimhub::provision::plan::MatchKey;
use scimhub::provision::target::Credentials;
use scimhub::scim::ResourceKind;
use serde_json::json;

use crate::support::contacts_app::{ContactsApp, TOKEN};

fn connector(app: &ContactsApp, token: &str) -> RestConnector {
    let client = ScimClient::new(ClientOptions {
        base_url: app.url.clone(),
        credentials: Credentials::Bearer {
            token: token.to_string(),
        },
        headers: BTreeMap::new(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        },
    })
    .unwrap();
    let settings: RestSettings = serde_json::from_value(ContactsApp::settings()).unwrap();
    settings.check().unwrap();
    RestConnector::new(client, settings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_found_updated_deactivated_and_deleted_through_the_api() {
    let app = ContactsApp::start();
    let c = connector(&app, TOKEN);
    assert!(c.capabilities().await.unwrap().lookup);
    c.probe().await.unwrap();

    let ada = json!({"name": "Ada", "email": "ada@example.com"});
    let id = c.create(ResourceKind::User, &ada).await.unwrap();
    assert_eq!(id, "u1", "the API's own id");
    let got = c.get(ResourceKind::User, &id).await.unwrap().unwrap();
    assert_eq!(
        (got["id"].as_str(), got["name"].as_str()),
        (Some("u1"), Some("Ada"))
    );

    let key = MatchKey::parse(r#"emails[type eq "work"].value"#).unwrap();
    let found = c
        .find(ResourceKind::User, &key, "ADA@example.com")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    c.update(
        ResourceKind::User,
        &id,
        &json!({"name": "Ada Lovelace", "email": "ada@example.com"}),
        None,
    )
    .await
    .unwrap();
    let boss = c
        .create(
            ResourceKind::User,
            &json!({"name": "Boss", "email": "boss@example.com"}),
        )
        .await
        .unwrap();
    c.set_manager(&id, &boss).await.unwrap();
    c.deactivate(&id).await.unwrap();
    let user = app.state.lock().unwrap().users["u1"].clone();
    assert_eq!(
        (
            user["name"].as_str(),
            user["manager"].as_str(),
            user["enable"].as_i64()
        ),
        (Some("Ada Lovelace"), Some(boss.as_str()), Some(0)),
        "{user}"
    );

    c.delete(ResourceKind::User, &id).await.unwrap();
    c.delete(ResourceKind::User, &id).await.unwrap();
    assert!(c.get(ResourceKind::User, &id).await.unwrap().is_none());
    assert_eq!(c.list(ResourceKind::User).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departments_keep_members_and_numeric_ids() {
    let app = ContactsApp::start();
    let c = connector(&app, TOKEN);
    let a = c
        .create(
            ResourceKind::User,
            &json!({"name": "A", "email": "a@example.com"}),
        )
        .await
        .unwrap();
    let b = c
        .create(
            ResourceKind::User,
            &json!({"name": "B", "email": "b@example.com"}),
        )
        .await
        .unwrap();
    let dept = c
        .create(ResourceKind::Group, &json!({"name": "R&D"}))
        .await
        .unwrap();
    assert_eq!(dept, "1");
    c.change_members(&dept, &[a.clone(), b.clone()], &[])
        .await
        .unwrap();
    c.change_members(&dept, &[], std::slice::from_ref(&a))
        .await
        .unwrap();
    let got = c.get(ResourceKind::Group, &dept).await.unwrap().unwrap();
    assert_eq!(got["members"], json!([{"value": b}]), "{got}");
    c.update(
        ResourceKind::Group,
        &dept,
        &json!({"name": "Research"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        app.state.lock().unwrap().departments[&1]["name"],
        "Research"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_codes_read_as_exists_gone_and_refused_credentials() {
    let app = ContactsApp::start();
    let c = connector(&app, TOKEN);
    let ada = json!({"name": "Ada", "email": "ada@example.com"});
    c.create(ResourceKind::User, &ada).await.unwrap();
    let before = app.state.lock().unwrap().users.clone();

    let again = c.create(ResourceKind::User, &ada).await.unwrap_err();
    assert!(
        matches!(&again, ConnectorError::Rejected { status: 409, detail, .. } if detail.contains("60104")),
        "{again}"
    );
    assert!(c.get(ResourceKind::User, "nobody").await.unwrap().is_none());
    let missing = c
        .update(ResourceKind::User, "nobody", &json!({"name": "X"}), None)
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing}");

    let wrong = connector(&app, "not-the-token");
    let refused = wrong.list(ResourceKind::User).await.unwrap_err();
    assert!(
        matches!(refused, ConnectorError::Unauthorized { .. }),
        "{refused}"
    );
    assert!(wrong.probe().await.is_err());
    assert_eq!(app.state.lock().unwrap().users, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apis_rate_limit_is_waited_out_not_failed() {
    let app = ContactsApp::start();
    app.state.lock().unwrap().per_second = 5;
    let c = connector(&app, TOKEN);
    for n in 0..12 {
        let user = json!({"name": format!("P{n}"), "email": format!("p{n}@example.com")});
        c.create(ResourceKind::User, &user).await.unwrap();
    }
    let state = app.state.lock().unwrap();
    assert_eq!(state.users.len(), 12);
    assert!(state.throttled > 0, "the limit was hit and retried");
}
