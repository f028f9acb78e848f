//! The `scale` subresource: an `autoscaling/v1` `Scale` view of a workload, and an updated
//! Scale turned back into an update of its parent. Also GET of the `status` subresource.

use serde_json::{Value, json};

use super::meta_str;
use crate::resources::ResourceType;
use crate::selectors::LabelSelector;
use crate::status::{ApiError, Cause};
use crate::store::{self, Store};

pub(super) fn scale_of(rt: &ResourceType, obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector")
        .map(|s| LabelSelector::from_object(s).to_query())
        .unwrap_or_default();
    let mut meta = json!({});
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = obj["metadata"].get(k) {
            meta[k] = v.clone();
        }
    }
    let _ = rt;
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": meta,
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        }
    })
}

/// GET of a subresource other than `log`.
pub fn get_subresource(
    store: &Store,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    subresource: &str,
) -> Result<Value, ApiError> {
    let obj = store
        .get(rt, namespace, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    match subresource {
        "status" => Ok(store::present(rt, obj)),
        "scale" => Ok(scale_of(rt, obj)),
        _ => Err(ApiError::no_such_resource()),
    }
}

/// Converts an updated Scale back into an update of its parent.
pub(super) fn apply_scale(
    rt: &ResourceType,
    old: &Value,
    scale: &Value,
) -> Result<Value, ApiError> {
    let name = meta_str(old, "name").unwrap_or_default();
    if let Some(rv) = meta_str(scale, "resourceVersion").filter(|rv| !rv.is_empty()) {
        if Some(rv) != meta_str(old, "resourceVersion") {
            return Err(ApiError::conflict(rt, name));
        }
    }
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::invalid(
            rt,
            name,
            vec![Cause::invalid(
                "spec.replicas",
                &replicas.to_string(),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(replicas);
    if let Some(m) = new["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    Ok(new)
}
