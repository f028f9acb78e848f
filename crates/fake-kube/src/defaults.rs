//! Defaulting, as the API server applies it to every object it decodes (create, update, patch).
//!
//! Defaults matter to clients: `kubectl rollout status` prints "partitioned roll out complete"
//! only because the server defaults a StatefulSet's `rollingUpdate.partition` to 0, and
//! `kubectl rollout undo` compares templates that both carry the defaulted fields. The values come
//! from `pkg/apis/apps/v1/defaults.go` and `pkg/apis/core/v1/defaults.go`. Pure functions.

use serde_json::{Map, Value, json};

use crate::resources::ResourceType;

fn obj(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !map.get(key).is_some_and(Value::is_object) {
        map.insert(key.to_string(), Value::Object(Map::new()));
    }
    match map.get_mut(key) {
        Some(Value::Object(m)) => m,
        _ => unreachable!("just inserted an object"),
    }
}

/// `Always` for `:latest` or untagged images, `IfNotPresent` otherwise (core/v1 defaults).
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_containers(spec: &mut Map<String, Value>, key: &str) {
    if let Some(Value::Array(containers)) = spec.get_mut(key) {
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            let image = c
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
            set_default(c, "terminationMessagePolicy", json!("File"));
            set_default(c, "imagePullPolicy", json!(default_pull_policy(&image)));
            set_default(c, "resources", json!({}));
            if let Some(Value::Array(ports)) = c.get_mut("ports") {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    set_default(p, "protocol", json!("TCP"));
                }
            }
        }
    }
}

/// Defaults of a PodSpec, shared by pods and pod templates.
pub fn default_pod_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    default_containers(spec, "containers");
    default_containers(spec, "initContainers");
}

/// Defaults of a pod template: the PodSpec ones plus `metadata.creationTimestamp: null`, which
/// Go's encoder writes for every embedded ObjectMeta.
pub fn default_template(template: &mut Map<String, Value>) {
    let meta = child(template, "metadata");
    if !meta.contains_key("creationTimestamp") {
        meta.insert("creationTimestamp".into(), Value::Null);
    }
    default_pod_spec(child(template, "spec"));
}

fn default_rolling(spec: &mut Map<String, Value>, key: &str, fields: &[(&str, Value)]) {
    let strategy = child(spec, key);
    set_default(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let ru = child(strategy, "rollingUpdate");
        for (k, v) in fields {
            set_default(ru, k, v.clone());
        }
    }
}

/// Applies the server's defaults for `rt` to `object` in place.
pub fn apply(rt: &ResourceType, object: &mut Value) {
    let Some(root) = obj(object) else { return };
    let kind = (rt.group, rt.plural);
    let workload = matches!(
        kind,
        (
            "apps",
            "deployments" | "replicasets" | "statefulsets" | "daemonsets"
        )
    );
    if workload {
        let spec = child(root, "spec");
        if kind.1 != "daemonsets" {
            set_default(spec, "replicas", json!(1));
        }
        match kind.1 {
            "deployments" => {
                default_rolling(
                    spec,
                    "strategy",
                    &[("maxUnavailable", json!("25%")), ("maxSurge", json!("25%"))],
                );
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
            }
            "statefulsets" => {
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                default_rolling(spec, "updateStrategy", &[("partition", json!(0))]);
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                );
            }
            "daemonsets" => {
                default_rolling(
                    spec,
                    "updateStrategy",
                    &[("maxUnavailable", json!(1)), ("maxSurge", json!(0))],
                );
                set_default(spec, "revisionHistoryLimit", json!(10));
            }
            _ => {}
        }
        default_template(child(spec, "template"));
    }
    if kind == ("", "pods") {
        let spec = child(root, "spec");
        default_pod_spec(spec);
        set_default(spec, "serviceAccountName", json!("default"));
        set_default(spec, "serviceAccount", json!("default"));
        set_default(spec, "enableServiceLinks", json!(true));
        set_default(spec, "priority", json!(0));
        set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
        set_default(
            spec,
            "tolerations",
            json!([
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]),
        );
    }
    if kind == ("", "namespaces") {
        let spec = child(root, "spec");
        set_default(spec, "finalizers", json!(["kubernetes"]));
        let status = child(root, "status");
        set_default(status, "phase", json!("Active"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, STATEFULSETS};

    #[test]
    fn pull_policy() {
        for (image, want) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.27", "IfNotPresent"),
            ("localhost:5000/app", "Always"),
            ("localhost:5000/app:v2", "IfNotPresent"),
            ("app@sha256:abc", "IfNotPresent"),
        ] {
            assert_eq!(default_pull_policy(image), want, "{image}");
        }
    }

    #[test]
    fn workload_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
        apply(&DEPLOYMENTS, &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(
            d["spec"]["template"]["metadata"]["creationTimestamp"],
            Value::Null
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["resources"],
            json!({})
        );
        let mut s = json!({"spec": {"template": {"spec": {"containers": []}}}});
        apply(&STATEFULSETS, &mut s);
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        let mut once = d.clone();
        apply(&DEPLOYMENTS, &mut once);
        assert_eq!(once, d, "defaulting is idempotent");
    }
}
