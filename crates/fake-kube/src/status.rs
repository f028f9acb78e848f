//! `Status` error bodies with the exact codes, reasons and messages the real API server sends.
//!
//! Clients branch on `reason` and `code` (client-go's `errors.IsNotFound`, kube-rs's
//! `ErrorResponse`), and kubectl prints `message` verbatim, so these strings are copied from
//! `k8s.io/apimachinery/pkg/api/errors`. Pure: builds JSON, writes nothing.

use serde_json::{Value, json};

use crate::resources::ResourceType;

/// One failed field of an `Invalid` (422) error.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueDuplicate`, ...
    pub reason: &'static str,
    /// Dotted field path, `spec.template.spec.containers[0].image`.
    pub field: String,
    /// `Required value`, `Invalid value: "x": detail`, ...
    pub message: String,
}

impl Cause {
    /// `field: Required value`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        Cause {
            reason: "FieldValueRequired",
            field: field.into(),
            message,
        }
    }

    /// `field: Invalid value: <value>: detail`, the value rendered the way Go's `%#v` would.
    pub fn invalid(field: impl Into<String>, value: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {value}: {detail}"),
        }
    }

    /// `field: Duplicate value: <value>`.
    pub fn duplicate(field: impl Into<String>, value: &str) -> Self {
        Cause {
            reason: "FieldValueDuplicate",
            field: field.into(),
            message: format!("Duplicate value: {value}"),
        }
    }
}

/// An API error as the server reports it: HTTP code plus `Status` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code, repeated as `code` in the body.
    pub code: u16,
    /// `NotFound`, `Conflict`, ...; empty for errors without a reason.
    pub reason: &'static str,
    /// Human-readable message, printed by kubectl after `Error from server (<reason>): `.
    pub message: String,
    /// The `details` object, if any.
    pub details: Option<Value>,
}

fn details(rt: &ResourceType, name: &str) -> Value {
    let mut d = serde_json::Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !rt.group.is_empty() {
        d.insert("group".into(), json!(rt.group));
    }
    d.insert("kind".into(), json!(rt.plural));
    Value::Object(d)
}

impl ApiError {
    /// 404 `deployments.apps "x" not found`.
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{name}\" not found", rt.qualified_plural()),
            details: Some(details(rt, name)),
        }
    }

    /// 404 for a URL that names no resource.
    pub fn no_such_resource() -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: "the server could not find the requested resource".into(),
            details: Some(json!({})),
        }
    }

    /// 409 `deployments.apps "x" already exists`.
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{name}\" already exists", rt.qualified_plural()),
            details: Some(details(rt, name)),
        }
    }

    /// 409 optimistic-concurrency conflict on a stale `resourceVersion`.
    pub fn conflict(rt: &ResourceType, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                rt.qualified_plural()
            ),
            details: Some(details(rt, name)),
        }
    }

    /// 422 with one cause per failed field.
    pub fn invalid(rt: &ResourceType, name: &str, causes: Vec<Cause>) -> Self {
        let rendered: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let summary = if rendered.len() == 1 {
            rendered[0].clone()
        } else {
            format!("[{}]", rendered.join(", "))
        };
        let mut d = serde_json::Map::new();
        d.insert("name".into(), json!(name));
        if !rt.group.is_empty() {
            d.insert("group".into(), json!(rt.group));
        }
        d.insert("kind".into(), json!(rt.kind));
        d.insert(
            "causes".into(),
            Value::Array(
                causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect(),
            ),
        );
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("{} \"{name}\" is invalid: {summary}", rt.qualified_kind()),
            details: Some(Value::Object(d)),
        }
    }

    /// 422 without a kind, as a failed JSON patch operation is reported.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        ApiError {
            code: 422,
            reason: "Invalid",
            message: message.into(),
            details: None,
        }
    }

    /// 403 as RBAC denies it.
    pub fn forbidden(
        rt: &ResourceType,
        subresource: Option<&str>,
        name: &str,
        verb: &str,
        user: &str,
        namespace: Option<&str>,
    ) -> Self {
        let resource = match subresource {
            Some(sub) => format!("{}/{sub}", rt.plural),
            None => rt.plural.to_string(),
        };
        let subject = if name.is_empty() {
            rt.qualified_plural()
        } else {
            format!("{} \"{name}\"", rt.qualified_plural())
        };
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        ApiError {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
                rt.group
            ),
            details: Some(details(rt, name)),
        }
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
            details: None,
        }
    }

    /// 410 `Expired`, for a too-old `resourceVersion` or `continue` token.
    pub fn expired(message: impl Into<String>) -> Self {
        ApiError {
            code: 410,
            reason: "Expired",
            message: message.into(),
            details: None,
        }
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed() -> Self {
        ApiError {
            code: 405,
            reason: "MethodNotAllowed",
            message: "the server does not allow this method on the requested resource".into(),
            details: Some(json!({})),
        }
    }

    /// 415 for a PATCH body in a format the server does not know.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        ApiError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"
            ),
            details: None,
        }
    }

    /// The `Status` object sent as the response body (and inside watch `ERROR` events).
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(d), Some(obj)) = (&self.details, status.as_object_mut()) {
            obj.insert("details".into(), d.clone());
        }
        status
    }
}

/// Renders a string value the way Go's `%#v` does in validation messages.
pub fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, PODS};

    #[test]
    fn messages_match_the_api_server() {
        let cases = [
            (
                ApiError::not_found(&DEPLOYMENTS, "api"),
                404,
                "deployments.apps \"api\" not found",
            ),
            (ApiError::not_found(&PODS, "p"), 404, "pods \"p\" not found"),
            (
                ApiError::conflict(&DEPLOYMENTS, "api"),
                409,
                "Operation cannot be fulfilled on deployments.apps \"api\": the object has been modified; please apply your changes to the latest version and try again",
            ),
            (
                ApiError::forbidden(&DEPLOYMENTS, None, "api", "patch", "u", Some("default")),
                403,
                "deployments.apps \"api\" is forbidden: User \"u\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"default\"",
            ),
            (
                ApiError::invalid(
                    &DEPLOYMENTS,
                    "api",
                    vec![Cause::required(
                        "spec.template.spec.containers[0].image",
                        "",
                    )],
                ),
                422,
                "Deployment.apps \"api\" is invalid: spec.template.spec.containers[0].image: Required value",
            ),
        ];
        for (err, code, message) in cases {
            assert_eq!(err.code, code);
            assert_eq!(err.message, message);
            assert_eq!(err.to_status()["code"], code);
        }
        let status = ApiError::not_found(&PODS, "p").to_status();
        assert_eq!(status["details"], json!({"name": "p", "kind": "pods"}));
    }
}
