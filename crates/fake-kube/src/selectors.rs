//! Label and field selectors, parsed from query strings and from `spec.selector` objects.
//!
//! Syntax follows `k8s.io/apimachinery/pkg/labels` (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
//! `a`, `!a`) and `pkg/fields` (`a=b`, `a==b`, `a!=b`). Field selectors are checked against the
//! per-resource list of supported field labels, because the real server rejects unknown ones with
//! 400 `field label not supported`. Pure functions.

use serde_json::{Map, Value};

use crate::resources::ResourceType;
use crate::status::ApiError;

/// One label requirement.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in split_top_level(s) {
            let bad = || ApiError::bad_request(format!("unable to parse requirement: {part}"));
            let req = if let Some(key) = part.strip_prefix('!') {
                Requirement::DoesNotExist(key.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Equals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Equals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once(" notin ") {
                Requirement::NotIn(k.trim().to_string(), parse_set(v).ok_or_else(bad)?)
            } else if let Some((k, v)) = part.split_once(" in ") {
                Requirement::In(k.trim().to_string(), parse_set(v).ok_or_else(bad)?)
            } else if part.contains(' ') || part.contains('(') {
                return Err(bad());
            } else {
                Requirement::Exists(part.clone())
            };
            requirements.push(req);
        }
        Ok(LabelSelector { requirements })
    }

    /// Builds a selector from a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
    pub fn from_object(sel: &Value) -> Self {
        let mut requirements = Vec::new();
        if let Some(labels) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in labels {
                requirements.push(Requirement::Equals(
                    k.clone(),
                    v.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e["key"].as_str().unwrap_or_default().to_string();
                let values: Vec<String> = e["values"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let req = match e["operator"].as_str().unwrap_or_default() {
                    "In" => Requirement::In(key, values),
                    "NotIn" => Requirement::NotIn(key, values),
                    "Exists" => Requirement::Exists(key),
                    _ => Requirement::DoesNotExist(key),
                };
                requirements.push(req);
            }
        }
        LabelSelector { requirements }
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object's labels satisfy every requirement.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }

    /// Whether an object's `metadata.labels` satisfy the selector.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(obj.pointer("/metadata/labels").and_then(Value::as_object))
    }

    /// The canonical string form (`app=api,tier in (a,b)`), as `Scale.status.selector` holds it.
    pub fn to_query(&self) -> String {
        let mut parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        parts.sort();
        parts.join(",")
    }
}

/// One field requirement.
#[derive(Debug, Clone, PartialEq)]
struct FieldRequirement {
    path: String,
    value: String,
    negate: bool,
}

/// A parsed field selector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

/// Field labels the real server accepts for a resource, beyond `metadata.name` and
/// `metadata.namespace` (see each resource's `GetAttrs`/`AddFieldLabelConversionFunc`).
fn supported_fields(rt: &ResourceType) -> &'static [&'static str] {
    match (rt.group, rt.plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("events.k8s.io", "events") => &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "type",
        ],
        ("apps", "replicasets") => &["status.replicas"],
        ("", "namespaces") => &["status.phase"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter for `rt`.
    pub fn parse(s: &str, rt: &ResourceType) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, value, negate) = if let Some((k, v)) = part.split_once("!=") {
                (k, v, true)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, v, false)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, v, false)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let path = path.trim();
            let known = path == "metadata.name"
                || path == "metadata.namespace"
                || supported_fields(rt).contains(&path);
            if !known {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {path}"
                )));
            }
            requirements.push(FieldRequirement {
                path: path.to_string(),
                value: value.trim().to_string(),
                negate,
            });
        }
        Ok(FieldSelector { requirements })
    }

    /// Whether the object satisfies every requirement; a missing field reads as `""`.
    pub fn matches(&self, obj: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let actual = field_value(obj, &r.path);
            (actual == r.value) != r.negate
        })
    }

    /// The value a `metadata.name=` requirement pins, if any.
    pub fn pinned_name(&self) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.path == "metadata.name" && !r.negate)
            .map(|r| r.value.as_str())
    }
}

fn field_value(obj: &Value, path: &str) -> String {
    // `source` on core events is the source component.
    let path = if path == "source" {
        "source.component"
    } else {
        path
    };
    let mut cur = obj;
    for seg in path.split('.') {
        match cur.get(seg) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, EVENTS};
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let labels = json!({"metadata": {"labels": {"app": "api", "tier": "web"}}});
        let cases = [
            ("", true),
            ("app=api", true),
            ("app==api", true),
            ("app!=api", false),
            ("app=api,tier=web", true),
            ("app=api,tier=db", false),
            ("tier in (web,db)", true),
            ("tier notin (web)", false),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app in (x, api),tier", true),
        ];
        for (sel, want) in cases {
            let parsed = LabelSelector::parse(sel).expect(sel);
            assert_eq!(parsed.matches_object(&labels), want, "{sel}");
        }
        assert!(LabelSelector::parse("app in x").is_err());
    }

    #[test]
    fn selector_objects() {
        let sel = LabelSelector::from_object(&json!({
            "matchLabels": {"app": "api"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]
        }));
        assert_eq!(sel.to_query(), "app=api,tier in (web)");
        assert!(
            sel.matches_object(&json!({"metadata": {"labels": {"app": "api", "tier": "web"}}}))
        );
    }

    #[test]
    fn field_selectors() {
        let ev = json!({"involvedObject": {"name": "api", "kind": "Deployment", "uid": "u1"}, "type": "Normal", "source": {"component": "deployment-controller"}});
        let sel = FieldSelector::parse(
            "involvedObject.name=api,involvedObject.kind=Deployment,involvedObject.uid=u1",
            &EVENTS,
        )
        .expect("parses");
        assert!(sel.matches(&ev));
        let sel = FieldSelector::parse("involvedObject.uid=", &EVENTS).expect("parses");
        assert!(!sel.matches(&ev));
        let sel = FieldSelector::parse("source=deployment-controller,type!=Warning", &EVENTS)
            .expect("parses");
        assert!(sel.matches(&ev));
        let err = FieldSelector::parse("spec.paused=true", &DEPLOYMENTS).expect_err("unsupported");
        assert_eq!(err.message, "field label not supported: spec.paused");
        let sel = FieldSelector::parse("metadata.name=api", &DEPLOYMENTS).expect("parses");
        assert_eq!(sel.pinned_name(), Some("api"));
    }
}
