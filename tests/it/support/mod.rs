//! Test support: `TestApp`, the PostgreSQL launcher, request bodies, and the
//! macro that runs each test on both backends.

pub mod app;
pub mod browser;
pub mod console;
pub mod contacts_app;
pub mod events;
pub mod jwt;
pub mod live;
pub mod oidc;
pub mod org;
pub mod poll;
pub mod postgres;
pub mod slapd;
pub mod smtp;

pub use app::{Backend, TestApp};
pub use poll::{eventually, eventually_blocking};
use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub fn user_body(user_name: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": user_name},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
    })
}

pub fn group_body(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": members})
}

/// Runs each listed `async fn name(app: TestApp)` once on SQLite and once
/// on PostgreSQL, as `sqlite::name` and `postgres::name`. With
/// `config = f;` first, each server's `Config` is passed through `f` before
/// it starts.
#[macro_export]
macro_rules! on_both_backends {
    (config = $configure:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::support::TestApp::start_with($crate::support::Backend::Sqlite, $configure)
                        .await
                        .expect("SQLite always starts");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::support::TestApp::start_with($crate::support::Backend::Postgres, $configure).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(config = |_| {}; $($name),*);
    };
}

/// Runs each listed `async fn name(backend: Backend)` (a live scenario
/// that starts its own source) once with an SQLite source and once with a
/// PostgreSQL one.
#[macro_export]
macro_rules! on_both_sources {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}
