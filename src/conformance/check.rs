//! Judging one response against a step's expectations.

use serde_json::{Value, json};

use super::case::Expect;
use super::http::Exchange;
use super::matcher::check;
use super::path;
use super::template::Vars;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A header expectation: the words `present` / `absent`, or a matcher.
pub fn header_matcher(expected: &Value) -> Value {
    match expected.as_str() {
        Some("present") => json!({"$exists": true}),
        Some("absent") => json!({"$exists": false}),
        _ => expected.clone(),
    }
}

impl Expect {
    /// Whether the body must be a SCIM error (RFC 7644 §3.12).
    fn wants_error(&self) -> bool {
        let failing_status = self
            .status
            .as_ref()
            .and_then(Value::as_u64)
            .is_some_and(|s| s >= 400);
        self.error
            .unwrap_or(failing_status || self.scim_type.is_some())
    }

    /// Every unmet expectation, in the order they are written. A wrong
    /// status is reported alone: the rest would only repeat it.
    pub fn problems(&self, vars: &Vars, response: &Exchange) -> Vec<String> {
        // Placeholders are filled in here, after the step's own `save`.
        let judge = |what: &str, expected: &Value, actual: Option<&Value>| {
            vars.render(expected)
                .and_then(|expected| check(&expected, actual))
                .err()
                .map(|why| format!("{what}: {why}"))
        };
        if let Some(status) = &self.status
            && let Some(wrong) = judge("status", status, Some(&Value::from(response.status)))
        {
            return vec![wrong];
        }
        let mut problems = Vec::new();
        let mut note = |what: &str, expected: &Value, actual: Option<&Value>| {
            problems.extend(judge(what, expected, actual));
        };
        let body = &response.body;
        if self.wants_error() {
            let error_shape = json!({
                "schemas": [ERROR_SCHEMA],
                "status": {"$eq": response.status.to_string()},
            });
            note("SCIM error body", &error_shape, Some(body));
        }
        if let Some(scim_type) = &self.scim_type {
            note("scimType", scim_type, body.get("scimType"));
        }
        for (name, expected) in &self.headers {
            let actual = response.header(name).map(|v| Value::String(v.into()));
            note(
                &format!("header {name}"),
                &header_matcher(expected),
                actual.as_ref(),
            );
        }
        if let Some(expected) = &self.body {
            note("body", expected, Some(body));
        }
        let at = |p: &str| {
            let segments = path::parse(&vars.render_str(p).ok()?).ok()?;
            path::lookup(body, &segments)
        };
        for (p, expected) in &self.paths {
            note(p, expected, at(p));
        }
        for p in &self.present {
            note(p, &json!({"$exists": true}), at(p));
        }
        for p in &self.absent {
            note(p, &json!({"$exists": false}), at(p));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn exchange(status: u16, body: Value) -> Exchange {
        let mut headers = HeaderMap::new();
        headers.insert("etag", HeaderValue::from_static("W/\"1\""));
        Exchange {
            status,
            headers,
            text: body.to_string(),
            body,
        }
    }

    fn expect(yaml: &str) -> Expect {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn problems(e: &Expect, r: &Exchange) -> Vec<String> {
        e.problems(&Vars::new("t"), r)
    }

    #[test]
    fn reports_each_unmet_expectation() {
        let e = expect(
            "status: 201\nheaders: {etag: present, location: present}\n\
             paths: {userName: a}\nabsent: [password]\npresent: [id]",
        );
        let r = exchange(201, json!({"userName": "b", "password": "x"}));
        let found = problems(&e, &r);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("header location"));
        assert!(found[1].starts_with("userName"));
        assert_eq!(
            problems(&e, &exchange(201, json!({"userName": "a", "id": "1"}))).len(),
            1
        );
        assert_eq!(
            problems(&e, &exchange(401, json!({}))),
            ["status: expected 201, got 401"]
        );
    }

    #[test]
    fn failing_statuses_must_be_scim_errors() {
        let e = expect("status: 404");
        assert_eq!(
            problems(&e, &exchange(404, json!({"detail": "gone"}))).len(),
            1
        );
        let good = json!({"schemas": [ERROR_SCHEMA], "status": "404"});
        assert!(problems(&e, &exchange(404, good)).is_empty());
        let numeric = json!({"schemas": [ERROR_SCHEMA], "status": 404});
        assert_eq!(
            problems(&e, &exchange(404, numeric)).len(),
            1,
            "status must be a string"
        );
        let typed = expect("status: 409\nscimType: uniqueness");
        let body = json!({"schemas": [ERROR_SCHEMA], "status": "409", "scimType": "mutability"});
        assert_eq!(problems(&typed, &exchange(409, body)).len(), 1);
    }
}
