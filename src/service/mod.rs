//! Use cases: validate through `scim`, write through `store` (which appends
//! the change log in the same transaction), and emit audit events.

pub mod auth;
mod blocking;
pub mod groups;
pub mod password;
pub mod tokens;
pub mod users;
pub mod views;

use std::sync::Arc;

use crate::store::Store;

pub use auth::{Authenticator, Principal};
pub use blocking::blocking;

/// Everything the front ends (HTTP, CLI) call, built once around one store.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub users: users::Users,
    pub groups: groups::Groups,
    pub auth: Authenticator,
}

impl Services {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            users: users::Users::new(store.clone()),
            groups: groups::Groups::new(store.clone()),
            auth: Authenticator::new(store.clone()),
            store,
        }
    }
}
