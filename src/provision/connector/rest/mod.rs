//! The generic REST connector: a system with its own JSON API (an IM
//! tool's contacts API, an in-house app) driven by one request template
//! per operation. Credentials, rate limit, retries and recording are the
//! outbound client's, as for SCIM targets; the API's own error format
//! (codes in 2xx answers) is read by `errors`.

pub mod settings;
mod template;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

pub use self::settings::{Endpoints, ErrorFormat, RequestTemplate, RestSettings};
use self::template::Values;
use super::{Capabilities, Connector, ConnectorError, manager_field};
use crate::provision::client::{AnswerCheck, AnswerFault, ScimClient};
use crate::provision::plan::MatchKey;
use crate::scim::ResourceKind;

/// Member changes are one request each.
const MEMBER_BATCH: usize = 100;

pub struct RestConnector {
    client: ScimClient,
    settings: RestSettings,
}

impl RestConnector {
    pub fn new(client: ScimClient, settings: RestSettings) -> Self {
        let check: Arc<dyn AnswerCheck> = Arc::new(Errors(settings.errors.clone()));
        Self {
            client: client.speaking_json(check),
            settings,
        }
    }

    fn endpoints(&self, kind: ResourceKind) -> Result<&Endpoints, ConnectorError> {
        match kind {
            ResourceKind::User => Ok(&self.settings.users),
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                self.settings.groups.as_ref().ok_or_else(|| {
                    ConnectorError::Config(
                        "this REST target has no group endpoints (rest.groups)".into(),
                    )
                })
            }
        }
    }

    async fn send(
        &self,
        request: &RequestTemplate,
        values: &Values<'_>,
        object: Option<&Value>,
        object_by_default: bool,
    ) -> Result<(u16, Value), ConnectorError> {
        let method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| ConnectorError::Config(format!("bad method {:?}", request.method)))?;
        let object = object
            .map(|o| manager_field::outgoing(o, self.settings.users.manager_field.as_deref()));
        let body = match (&request.body, object_by_default) {
            (Some(template), _) => Some(values.body(template, object.as_ref())),
            (None, true) => object,
            (None, false) => None,
        };
        let answer = self
            .client
            .call(method, &values.path(&request.path), body.as_ref())
            .await?;
        Ok((answer.status, answer.body))
    }

    /// Objects in a list or find answer, each with `id` (and members as SCIM has them).
    fn objects(&self, e: &Endpoints, answer: &Value) -> Result<Vec<Value>, ConnectorError> {
        let items = answer.pointer(&e.items_pointer).ok_or_else(|| {
            ConnectorError::Protocol(format!("the answer has nothing at {:?}", e.items_pointer))
        })?;
        let Value::Array(items) = items else {
            return Err(ConnectorError::Protocol(format!(
                "{:?} in the answer is not an array",
                e.items_pointer
            )));
        };
        Ok(items.iter().filter_map(|i| engine_object(e, i)).collect())
    }
}

/// Text of an id (strings and numbers both occur in the wild).
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The API's object as the engines see it: `id` set, members as `[{value}]`.
fn engine_object(e: &Endpoints, raw: &Value) -> Option<Value> {
    let id = raw.pointer(&e.id_pointer).and_then(id_text)?;
    let mut object = raw.clone();
    let fields = object.as_object_mut()?;
    fields.insert("id".into(), Value::String(id));
    if let Some(pointer) = &e.members_pointer {
        let members: Vec<Value> = raw
            .pointer(pointer)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| id_text(m).or_else(|| m.pointer(&e.id_pointer).and_then(id_text)))
            .map(|id| json!({"value": id}))
            .collect();
        fields.insert("members".into(), Value::Array(members));
    }
    manager_field::incoming(&mut object, e.manager_field.as_deref());
    Some(object)
}

fn missing(what: &str) -> ConnectorError {
    ConnectorError::Config(format!("this REST target has no {what} request"))
}

#[async_trait]
impl Connector for RestConnector {
    async fn capabilities(&self) -> Result<Capabilities, ConnectorError> {
        Ok(Capabilities {
            lookup: self.settings.users.find.is_some(),
            member_batch: MEMBER_BATCH,
            ..Capabilities::default()
        })
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        match self
            .send(&self.settings.users.list, &Values::default(), None, false)
            .await
        {
            Ok(_) | Err(ConnectorError::Rejected { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, kind: ResourceKind) -> Result<Vec<Value>, ConnectorError> {
        let e = self.endpoints(kind)?;
        let (_, answer) = self.send(&e.list, &Values::default(), None, false).await?;
        self.objects(e, &answer)
    }

    async fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, ConnectorError> {
        let e = self.endpoints(kind)?;
        let values = Values {
            id: Some(id),
            ..Values::default()
        };
        let (status, answer) = match self.send(&e.get, &values, None, false).await {
            Err(ConnectorError::Rejected { status: 404, .. }) => return Ok(None),
            other => other?,
        };
        if status == 404 {
            return Ok(None);
        }
        let raw = answer.pointer(&e.object_pointer).unwrap_or(&Value::Null);
        Ok(engine_object(e, raw))
    }

    async fn find(
        &self,
        kind: ResourceKind,
        _key: &MatchKey,
        value: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let e = self.endpoints(kind)?;
        let request = e.find.as_ref().ok_or_else(|| missing("find"))?;
        let values = Values {
            value: Some(value),
            ..Values::default()
        };
        match self.send(request, &values, None, false).await {
            Err(ConnectorError::Rejected { status: 404, .. }) => Ok(Vec::new()),
            Ok((404, _)) => Ok(Vec::new()),
            Ok((_, answer)) => self.objects(e, &answer),
            Err(other) => Err(other),
        }
    }

    async fn create(&self, kind: ResourceKind, object: &Value) -> Result<String, ConnectorError> {
        let e = self.endpoints(kind)?;
        let (status, answer) = self
            .send(&e.create, &Values::default(), Some(object), true)
            .await?;
        if status == 404 {
            return Err(ConnectorError::Rejected {
                status,
                scim_type: None,
                detail: format!("{} answered 404", e.create.path),
                http: true,
            });
        }
        let pointer = e.created_id_pointer.as_ref().unwrap_or(&e.id_pointer);
        answer
            .pointer(pointer)
            .and_then(id_text)
            .or_else(|| object.pointer(&e.id_pointer).and_then(id_text))
            .ok_or_else(|| {
                ConnectorError::Protocol(format!("the create answer has no id at {pointer:?}"))
            })
    }

    async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        object: &Value,
        _changed: Option<&[String]>,
    ) -> Result<(), ConnectorError> {
        let e = self.endpoints(kind)?;
        let values = Values {
            id: Some(id),
            ..Values::default()
        };
        // The whole mapped object: APIs of this kind rarely patch reliably.
        match self.send(&e.update, &values, Some(object), true).await? {
            (404, _) => Err(ConnectorError::Rejected {
                status: 404,
                scim_type: None,
                detail: format!("no object {id:?}"),
                http: true,
            }),
            _ => Ok(()),
        }
    }

    async fn set_manager(&self, user_id: &str, manager_id: &str) -> Result<(), ConnectorError> {
        let e = &self.settings.users;
        let field = e.manager_field.as_ref().ok_or_else(|| {
            ConnectorError::Config("set rest.users.manager_field to keep managers".into())
        })?;
        let values = Values {
            id: Some(user_id),
            ..Values::default()
        };
        let object = json!({ field.as_str(): manager_id });
        self.send(&e.update, &values, Some(&object), true)
            .await
            .map(drop)
    }

    async fn deactivate(&self, user_id: &str) -> Result<(), ConnectorError> {
        let e = &self.settings.users;
        let request = e.deactivate.as_ref().ok_or_else(|| missing("deactivate"))?;
        let values = Values {
            id: Some(user_id),
            ..Values::default()
        };
        self.send(request, &values, None, false).await.map(drop)
    }

    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<(), ConnectorError> {
        let e = self.endpoints(kind)?;
        let values = Values {
            id: Some(id),
            ..Values::default()
        };
        match self.send(&e.delete, &values, None, false).await {
            // Already gone.
            Ok(_) | Err(ConnectorError::Rejected { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn change_members(
        &self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), ConnectorError> {
        let e = self.endpoints(ResourceKind::Group)?;
        let adding = e.add_member.as_ref().ok_or_else(|| missing("add_member"))?;
        let removing = e
            .remove_member
            .as_ref()
            .ok_or_else(|| missing("remove_member"))?;
        for (request, members) in [(removing, remove), (adding, add)] {
            for member in members {
                let values = Values {
                    id: Some(group_id),
                    member: Some(member),
                    value: None,
                };
                self.send(request, &values, None, false).await?;
            }
        }
        Ok(())
    }
}

/// Reads `rest.errors` out of 2xx answers.
struct Errors(Option<ErrorFormat>);

impl AnswerCheck for Errors {
    fn check(&self, body: &[u8]) -> Option<AnswerFault> {
        let format = self.0.as_ref()?;
        let answer: Value = serde_json::from_slice(body).ok()?;
        let code = answer.pointer(&format.code_pointer)?;
        if format.ok.contains(code) {
            return None;
        }
        let code_text = id_text(code).unwrap_or_else(|| code.to_string());
        let message = format
            .message_pointer
            .as_ref()
            .and_then(|p| answer.pointer(p))
            .and_then(Value::as_str)
            .unwrap_or("");
        let detail = format!("error {code_text}: {message}");
        Some(match format.codes.get(&code_text).copied() {
            Some(401 | 403) => AnswerFault::Unauthorized(detail),
            Some(429 | 503) => AnswerFault::Transient(detail),
            Some(status) => AnswerFault::Rejected { status, detail },
            None => AnswerFault::Rejected {
                status: 400,
                detail,
            },
        })
    }
}
