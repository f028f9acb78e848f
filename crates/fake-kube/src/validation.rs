//! The validation rules whose 422 `Invalid` responses a deploy tool is likely to meet.
//!
//! Not the full `pkg/apis/*/validation` suite: object names, container names and images, replica
//! counts, selector/template agreement, immutable selectors, the rolling-update parameters and the
//! StatefulSet spec fields that may not change. Messages are copied from the real validators.
//! Pure functions.

use serde_json::Value;

use crate::resources::ResourceType;
use crate::status::{Cause, go_quote};

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Go's `%#v` of a `map[string]string`, as validation messages print label maps.
fn go_string_map(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        Some(m) if !m.is_empty() => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        go_quote(k),
                        go_quote(m[k].as_str().unwrap_or_default())
                    )
                })
                .collect();
            format!("map[string]string{{{}}}", parts.join(", "))
        }
        _ => "map[string]string(nil)".to_string(),
    }
}

fn go_label_selector(sel: &Value) -> String {
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}",
        go_string_map(sel.get("matchLabels"))
    )
}

fn validate_meta(obj: &Value, causes: &mut Vec<Cause>) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        causes.push(Cause::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else if !is_dns_subdomain(name) {
        causes.push(Cause::invalid(
            "metadata.name",
            &go_quote(name),
            SUBDOMAIN_MSG,
        ));
    }
}

fn validate_pod_spec(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    let Some(containers) = containers.filter(|c| !c.is_empty()) else {
        causes.push(Cause::required(format!("{path}.containers"), ""));
        return;
    };
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let field = format!("{path}.containers[{i}]");
        let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            causes.push(Cause::required(format!("{field}.name"), ""));
        } else if !is_dns_label(name) {
            causes.push(Cause::invalid(
                format!("{field}.name"),
                &go_quote(name),
                LABEL_MSG,
            ));
        } else if seen.contains(&name) {
            causes.push(Cause::duplicate(format!("{field}.name"), &go_quote(name)));
        }
        seen.push(name);
        let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
        if image.is_empty() {
            causes.push(Cause::required(format!("{field}.image"), ""));
        } else if image.trim() != image {
            causes.push(Cause::invalid(
                format!("{field}.image"),
                &go_quote(image),
                "must not have leading or trailing whitespace",
            ));
        }
    }
}

fn int_or_string_is_zero(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s == "0" || s == "0%",
        _ => false,
    }
}

fn validate_workload(rt: &ResourceType, obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    let replicas = spec.and_then(|s| s.get("replicas")).and_then(Value::as_i64);
    if let Some(r) = replicas.filter(|r| *r < 0) {
        causes.push(Cause::invalid(
            "spec.replicas",
            &r.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    let selector = spec.and_then(|s| s.get("selector"));
    let labels = spec.and_then(|s| s.pointer("/template/metadata/labels"));
    match selector {
        None | Some(Value::Null) => causes.push(Cause::required("spec.selector", "")),
        Some(sel) => {
            let parsed = crate::selectors::LabelSelector::from_object(sel);
            if parsed.is_empty() {
                causes.push(Cause::invalid(
                    "spec.selector",
                    &go_label_selector(sel),
                    &format!("empty selector is invalid for {}", rt.singular),
                ));
            } else if !parsed.matches(labels.and_then(Value::as_object)) {
                causes.push(Cause::invalid(
                    "spec.template.metadata.labels",
                    &go_string_map(labels),
                    "`selector` does not match template `labels`",
                ));
            }
            if let Some(old_sel) = old.and_then(|o| o.pointer("/spec/selector")) {
                if old_sel != sel {
                    causes.push(Cause::invalid(
                        "spec.selector",
                        &go_label_selector(sel),
                        "field is immutable",
                    ));
                }
            }
        }
    }
    validate_pod_spec(
        spec.and_then(|s| s.pointer("/template/spec")),
        "spec.template.spec",
        causes,
    );
    if rt.plural == "deployments" {
        let ru = spec.and_then(|s| s.pointer("/strategy/rollingUpdate"));
        if let Some(ru) = ru {
            if int_or_string_is_zero(ru.get("maxUnavailable"))
                && int_or_string_is_zero(ru.get("maxSurge"))
            {
                causes.push(Cause::invalid(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    &ru.get("maxUnavailable")
                        .map(Value::to_string)
                        .unwrap_or_default(),
                    "may not be 0 when `maxSurge` is 0",
                ));
            }
        }
        let deadline = spec
            .and_then(|s| s.get("progressDeadlineSeconds"))
            .and_then(Value::as_i64);
        let min_ready = spec
            .and_then(|s| s.get("minReadySeconds"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if let Some(d) = deadline.filter(|d| *d <= min_ready) {
            causes.push(Cause::invalid(
                "spec.progressDeadlineSeconds",
                &d.to_string(),
                "must be greater than minReadySeconds",
            ));
        }
    }
    if rt.plural == "statefulsets" {
        if let (Some(new_spec), Some(old_spec)) = (spec, old.and_then(|o| o.get("spec"))) {
            let mutable = [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ];
            let strip = |s: &Value| -> Value {
                let mut s = s.clone();
                if let Some(m) = s.as_object_mut() {
                    m.retain(|k, _| !mutable.contains(&k.as_str()));
                }
                s
            };
            if strip(new_spec) != strip(old_spec) {
                causes.push(Cause {
                    reason: "FieldValueForbidden",
                    field: "spec".into(),
                    message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into(),
                });
            }
        }
    }
}

/// Validates an object about to be stored; `old` is the stored version on update.
pub fn validate(rt: &ResourceType, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut causes = Vec::new();
    validate_meta(obj, &mut causes);
    match (rt.group, rt.plural) {
        ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets") => {
            validate_workload(rt, obj, old, &mut causes);
        }
        ("", "pods") => validate_pod_spec(obj.get("spec"), "spec", &mut causes),
        _ => {}
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, STATEFULSETS};
    use serde_json::json;

    fn deploy(image: &str, labels: Value) -> Value {
        json!({"metadata": {"name": "api"}, "spec": {"replicas": 1,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": image}]}}}})
    }

    #[test]
    fn workload_rules() {
        assert!(validate(&DEPLOYMENTS, &deploy("i", json!({"app": "api"})), None).is_empty());
        let causes = validate(&DEPLOYMENTS, &deploy("", json!({"app": "api"})), None);
        assert_eq!(
            causes,
            vec![Cause::required(
                "spec.template.spec.containers[0].image",
                ""
            )]
        );
        let causes = validate(&DEPLOYMENTS, &deploy("i", json!({"app": "web"})), None);
        assert_eq!(causes[0].field, "spec.template.metadata.labels");
        assert_eq!(
            causes[0].message,
            "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"
        );
        let mut changed = deploy("i", json!({"app": "api", "v": "2"}));
        changed["spec"]["selector"]["matchLabels"]["v"] = json!("2");
        let causes = validate(
            &DEPLOYMENTS,
            &changed,
            Some(&deploy("i", json!({"app": "api"}))),
        );
        assert_eq!(causes.len(), 1);
        assert!(causes[0].message.ends_with("field is immutable"));
        let mut sts = deploy("i", json!({"app": "api"}));
        let old = sts.clone();
        sts["spec"]["serviceName"] = json!("other");
        let causes = validate(&STATEFULSETS, &sts, Some(&old));
        assert_eq!(causes[0].reason, "FieldValueForbidden");
    }
}
