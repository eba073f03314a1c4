//! SCIM `/Bulk` (RFC 7644 §3.7): several writes in one request, each with
//! an outcome of its own.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};

use super::{ScimClient, check_id, check_resource, error, found, json_body};
use crate::provision::connector::ConnectorError;
use crate::scim::ResourceKind;

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// One write of a bulk request: `POST /Users` with the resource, `PATCH
/// /Groups/{id}` with a PatchOp, …
#[derive(Debug, Clone, PartialEq)]
pub struct BulkWrite {
    pub method: Method,
    pub kind: ResourceKind,
    /// The resource written to; None for a create.
    pub id: Option<String>,
    pub data: Value,
}

impl BulkWrite {
    /// The operation's `path`, relative to the SCIM base.
    fn path(&self) -> String {
        match &self.id {
            Some(id) => format!("/{}/{id}", self.kind.endpoint()),
            None => format!("/{}", self.kind.endpoint()),
        }
    }

    /// Roughly what it adds to a request body, in bytes.
    pub fn size(&self) -> usize {
        self.path().len() + self.data.to_string().len() + 64
    }
}

impl ScimClient {
    /// Sends `writes` in one `POST /Bulk` (without `failOnErrors`: each is
    /// tried); one outcome per write, in order — the operation's entry of
    /// the BulkResponse when it succeeded. `Err` when the request as a
    /// whole failed.
    pub async fn bulk(
        &self,
        writes: &[BulkWrite],
    ) -> Result<Vec<Result<Value, ConnectorError>>, ConnectorError> {
        for id in writes.iter().filter_map(|w| w.id.as_deref()) {
            check_id(id)?;
        }
        let ops: Vec<Value> = writes
            .iter()
            .enumerate()
            .map(|(i, w)| {
                json!({"method": w.method.as_str(), "bulkId": bulk_id(i), "path": w.path(), "data": w.data})
            })
            .collect();
        let body = json!({"schemas": [BULK_REQUEST], "Operations": ops});
        let reply = self
            .execute(Method::POST, self.url(&["Bulk"]), Some(&body))
            .await?;
        found(&reply)?;
        let answer = json_body(&reply)?;
        let Some(listed) = answer.get("Operations").and_then(Value::as_array) else {
            return Err(ConnectorError::Protocol(
                "a bulk response without \"Operations\"".into(),
            ));
        };
        let by_id: HashMap<&str, &Value> = listed
            .iter()
            .filter_map(|op| Some((op.get("bulkId")?.as_str()?, op)))
            .collect();
        Ok((0..writes.len())
            .map(|i| match by_id.get(bulk_id(i).as_str()) {
                Some(op) => outcome(op),
                None => Err(ConnectorError::Protocol(format!(
                    "the bulk response has no answer for operation {}",
                    bulk_id(i)
                ))),
            })
            .collect())
    }

    /// One write of a bulk request sent as a request of its own (with the
    /// retries of one); its outcome shaped like a bulk operation's, the
    /// answered resource as its `response`.
    pub async fn write_alone(&self, write: &BulkWrite) -> Result<Value, ConnectorError> {
        let url = match &write.id {
            Some(id) => {
                check_id(id)?;
                self.url(&[write.kind.endpoint(), id])
            }
            None => self.url(&[write.kind.endpoint()]),
        };
        let reply = self
            .execute(write.method.clone(), url, Some(&write.data))
            .await?;
        found(&reply)?;
        let response = if reply.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            json_body(&reply)?
        };
        if write.method == Method::POST {
            check_resource(&response)?;
        }
        Ok(json!({"status": reply.status.to_string(), "response": response}))
    }
}

fn bulk_id(i: usize) -> String {
    format!("w{i}")
}

/// One operation's entry: success, or the error its status and response say.
fn outcome(op: &Value) -> Result<Value, ConnectorError> {
    let status = match op.get("status") {
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    };
    let Some(status) = status else {
        return Err(ConnectorError::Protocol(
            "a bulk operation without a status".into(),
        ));
    };
    let response = op
        .get("response")
        .map(|r| r.to_string().into_bytes())
        .unwrap_or_default();
    match status {
        200..=299 => Ok(op.clone()),
        401 | 403 => Err(error::unauthorized(status, &response)),
        408 | 429 | 500..=599 => {
            let (_, detail) = error::read_error_body(status, &response);
            Err(ConnectorError::Unavailable {
                attempts: 1,
                last: format!("HTTP {status}: {detail}"),
            })
        }
        _ => Err(error::rejected(status, &response)),
    }
}

/// The id of a resource a bulk operation created: the last segment of its
/// `location`, else its response's `id`.
pub fn created_id(op: &Value) -> Option<String> {
    let from_location = op
        .get("location")
        .and_then(Value::as_str)
        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
        .filter(|id| !id.is_empty());
    from_location
        .or_else(|| op.get("response")?.get("id")?.as_str())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_reads_as_its_status_says() {
        let created = json!({"bulkId": "w0", "status": "201",
            "location": "https://t.example/scim/v2/Users/abc"});
        assert_eq!(
            created_id(&outcome(&created).unwrap()).as_deref(),
            Some("abc")
        );
        let by_response = json!({"status": 201, "response": {"id": "def"}});
        assert_eq!(created_id(&by_response).as_deref(), Some("def"));
        let taken = json!({"status": "409", "response":
            {"scimType": "uniqueness", "detail": "userName taken"}});
        match outcome(&taken) {
            Err(ConnectorError::Rejected {
                status: 409,
                scim_type,
                detail,
                http,
            }) => {
                assert_eq!(scim_type.as_deref(), Some("uniqueness"));
                assert_eq!(detail, "userName taken");
                assert!(http);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            outcome(&json!({"status": "403"})),
            Err(ConnectorError::Unauthorized { status: 403, .. })
        ));
        let busy = outcome(&json!({"status": "503"})).unwrap_err();
        assert!(!busy.is_permanent() && !busy.is_unreachable(), "{busy:?}");
        assert!(matches!(
            outcome(&json!({"status": "soon"})),
            Err(ConnectorError::Protocol(_))
        ));
    }
}
