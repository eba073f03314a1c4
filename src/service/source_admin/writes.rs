//! `IntakeWrites` over the service layer: imported users, groups and
//! departments are written by the same `Users`, `Groups` and `Departments`
//! use cases as SCIM requests, so
//! they reach the change log (and from there webhooks, subscriptions and
//! downstream targets) with the source as the actor.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::AppError;
use crate::provision::source::{IntakeWrites, WriteError, WritesFor, Written};
use crate::scim::patch::PATCH_OP_SCHEMA;
use crate::service::departments::Departments;
use crate::service::groups::Groups;
use crate::service::users::Users;
use crate::store::{Actor, RemoveMode};

#[derive(Clone)]
pub struct ServiceWrites {
    users: Users,
    groups: Groups,
    departments: Departments,
    actor: Actor,
}

/// The record's fault (4xx) or not.
fn sorted(e: AppError) -> WriteError {
    match e {
        AppError::Scim(s) if s.status < 500 => WriteError::Refused(s.detail),
        other => WriteError::Failed(anyhow::anyhow!("{other:#}")),
    }
}

fn patch_body(operations: Vec<Value>) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations})
}

/// The writes of each source, as `source:NAME`.
pub fn writes_for(users: Users, groups: Groups, departments: Departments) -> WritesFor {
    Arc::new(move |actor: &str| {
        Arc::new(ServiceWrites {
            users: users.clone(),
            groups: groups.clone(),
            departments: departments.clone(),
            actor: Actor::system(actor),
        }) as Arc<dyn IntakeWrites>
    })
}

impl IntakeWrites for ServiceWrites {
    fn create_users(&self, bodies: Vec<Value>) -> Written<Vec<Result<String, String>>> {
        let me = self.clone();
        Box::pin(async move {
            let outcomes = me
                .users
                .create_many(&me.actor, bodies)
                .await
                .map_err(sorted)?;
            Ok(outcomes
                .into_iter()
                .map(|o| {
                    o.map(|(id, _)| id).map_err(|e| match e {
                        AppError::Scim(s) => s.detail,
                        other => other.to_string(),
                    })
                })
                .collect())
        })
    }

    fn patch_user(&self, id: String, operations: Vec<Value>) -> Written<()> {
        let me = self.clone();
        Box::pin(async move {
            me.users
                .patch(&me.actor, &id, patch_body(operations), None, true)
                .await
                .map(drop)
                .map_err(sorted)
        })
    }

    fn create_group(&self, body: Value) -> Written<String> {
        let me = self.clone();
        Box::pin(async move {
            me.groups
                .create(&me.actor, body)
                .await
                .map(|g| g.id)
                .map_err(sorted)
        })
    }

    fn patch_group(&self, id: String, operations: Vec<Value>) -> Written<()> {
        let me = self.clone();
        Box::pin(async move {
            me.groups
                .patch(&me.actor, &id, patch_body(operations), None, false)
                .await
                .map(drop)
                .map_err(sorted)
        })
    }

    fn delete_group(&self, id: String) -> Written<()> {
        let me = self.clone();
        Box::pin(async move {
            let deleted = me.groups.delete(&me.actor, &id, None, RemoveMode::Refuse);
            deleted.await.map_err(sorted)
        })
    }

    fn create_department(&self, body: Value) -> Written<String> {
        let me = self.clone();
        Box::pin(async move {
            me.departments
                .create(&me.actor, body)
                .await
                .map(|d| d.id)
                .map_err(sorted)
        })
    }

    fn patch_department(&self, id: String, operations: Vec<Value>) -> Written<()> {
        let me = self.clone();
        Box::pin(async move {
            me.departments
                .patch(&me.actor, &id, patch_body(operations), None, true)
                .await
                .map(drop)
                .map_err(sorted)
        })
    }

    fn delete_department(&self, id: String) -> Written<()> {
        let me = self.clone();
        Box::pin(async move {
            me.departments
                .delete(&me.actor, &id, None, RemoveMode::Refuse)
                .await
                .map(drop)
                .map_err(sorted)
        })
    }
}
