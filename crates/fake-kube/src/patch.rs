//! The four PATCH body formats: strategic merge, JSON merge (RFC 7386), JSON patch (RFC 6902) and
//! server-side apply.
//!
//! Strategic merge needs each list's merge key; the real server reads them from the Go struct tags
//! (`patchMergeKey`), this fake keys them by field name (`containers` by `name`, `volumeMounts` by
//! `mountPath`, ...), which is exact for the workload resources it serves. Directives supported:
//! `$patch: replace|delete|merge`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`,
//! `$retainKeys`. Server-side apply is treated as a strategic merge without directives: fields a
//! manager stops sending are not removed, which is the one visible difference from real SSA.
//! Pure functions over `serde_json::Value`.

use serde_json::{Map, Value};

use crate::status::ApiError;

/// The PATCH formats the server accepts, by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/merge-patch+json`
    Merge,
    /// `application/json-patch+json`
    Json,
    /// `application/apply-patch+yaml`
    Apply,
}

impl PatchKind {
    /// Maps a `Content-Type` header value (parameters ignored) to a patch kind.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        match base {
            "application/strategic-merge-patch+json" => Some(PatchKind::Strategic),
            "application/merge-patch+json" => Some(PatchKind::Merge),
            "application/json-patch+json" => Some(PatchKind::Json),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchKind::Apply)
            }
            _ => None,
        }
    }
}

/// The merge key of a list field, by field name.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "ports" => Some("containerPort"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        _ => None,
    }
}

/// Lists of scalars merged as sets rather than replaced.
fn is_merged_scalar_list(field: &str) -> bool {
    field == "finalizers"
}

/// Parses a PATCH body: JSON for every kind, YAML also accepted for apply.
pub fn parse_body(kind: PatchKind, body: &[u8]) -> Result<Value, ApiError> {
    match kind {
        PatchKind::Apply => serde_yaml::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}"))),
        _ => serde_json::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}"))),
    }
}

/// Applies a parsed patch of `kind` to `original`, returning the patched object.
pub fn apply(kind: PatchKind, original: &Value, patch: &Value) -> Result<Value, ApiError> {
    match kind {
        PatchKind::Strategic => strategic_merge(original, patch, true),
        PatchKind::Apply => strategic_merge(original, patch, false),
        PatchKind::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: merge patch must be a JSON object",
                ));
            }
            let mut doc = original.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut doc = original.clone();
            json_patch::patch(&mut doc, &ops)
                .map_err(|e| ApiError::unprocessable(e.to_string()))?;
            Ok(doc)
        }
    }
}

/// Strategic merge of `patch` into `original`; `directives` false treats `$` keys as data.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    directives: bool,
) -> Result<Value, ApiError> {
    let Some(patch_map) = patch.as_object() else {
        return Err(ApiError::bad_request(
            "error decoding patch: strategic merge patch must be a JSON object",
        ));
    };
    let mut result = match original {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    merge_map(&mut result, patch_map, directives)?;
    Ok(Value::Object(result))
}

fn directive(m: &Map<String, Value>, directives: bool) -> Option<&str> {
    if directives {
        m.get("$patch").and_then(Value::as_str)
    } else {
        None
    }
}

/// Removes every `$...` directive key from a value, recursively.
fn strip(value: &Value, directives: bool) -> Value {
    if !directives {
        return value.clone();
    }
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip(v, directives)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|i| {
                    !i.as_object()
                        .is_some_and(|m| m.len() == 1 && m.contains_key("$patch"))
                })
                .map(|i| strip(i, directives))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_map(
    orig: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    directives: bool,
) -> Result<(), ApiError> {
    match directive(patch, directives) {
        Some("replace") => {
            if let Value::Object(m) = strip(&Value::Object(patch.clone()), directives) {
                *orig = m;
            }
            return Ok(());
        }
        Some("delete") => {
            orig.clear();
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown patch type: {other} found in map"
            )));
        }
    }
    for (key, value) in patch {
        if directives && key.starts_with('$') {
            continue;
        }
        match value {
            Value::Null => {
                orig.remove(key);
            }
            Value::Object(pm) => {
                if directive(pm, directives) == Some("delete") {
                    orig.remove(key);
                    continue;
                }
                match orig.get_mut(key) {
                    Some(Value::Object(om)) => merge_map(om, pm, directives)?,
                    _ => {
                        let mut fresh = Map::new();
                        merge_map(&mut fresh, pm, directives)?;
                        orig.insert(key.clone(), Value::Object(fresh));
                    }
                }
            }
            Value::Array(items) => {
                let merged = merge_list(key, orig.get(key), items, directives)?;
                orig.insert(key.clone(), merged);
            }
            scalar => {
                orig.insert(key.clone(), scalar.clone());
            }
        }
    }
    if directives {
        for (key, value) in patch {
            if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
                let remove: Vec<&Value> = value
                    .as_array()
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                if let Some(Value::Array(list)) = orig.get_mut(field) {
                    list.retain(|v| !remove.contains(&v));
                }
            }
        }
        for (key, value) in patch {
            if let Some(field) = key.strip_prefix("$setElementOrder/") {
                if let (Some(Value::Array(list)), Some(order)) =
                    (orig.get_mut(field), value.as_array())
                {
                    reorder(field, list, order);
                }
            }
        }
        if let Some(Value::Array(keep)) = patch.get("$retainKeys") {
            let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
            orig.retain(|k, _| keep.contains(&k.as_str()));
        }
    }
    Ok(())
}

fn element_key<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    item.as_object().and_then(|m| m.get(key))
}

fn reorder(field: &str, list: &mut [Value], order: &[Value]) {
    let position = |item: &Value| -> usize {
        let found = match merge_key(field) {
            Some(key) => order.iter().position(|o| {
                element_key(o, key).is_some() && element_key(o, key) == element_key(item, key)
            }),
            None => order.iter().position(|o| o == item),
        };
        found.unwrap_or(usize::MAX)
    };
    list.sort_by_key(|item| position(item));
}

fn merge_list(
    field: &str,
    orig: Option<&Value>,
    patch: &[Value],
    directives: bool,
) -> Result<Value, ApiError> {
    let orig_items: Vec<Value> = orig.and_then(Value::as_array).cloned().unwrap_or_default();
    let replace_all = directives
        && patch.iter().any(|p| {
            p.as_object()
                .is_some_and(|m| m.get("$patch").and_then(Value::as_str) == Some("replace"))
        });
    if replace_all {
        return Ok(strip(&Value::Array(patch.to_vec()), directives));
    }
    if let Some(key) = merge_key(field) {
        if patch.iter().all(Value::is_object) {
            let mut result = orig_items;
            for item in patch {
                let Some(pm) = item.as_object() else { continue };
                let id = pm.get(key);
                if directive(pm, directives) == Some("delete") {
                    result.retain(|o| id.is_none() || element_key(o, key) != id);
                    continue;
                }
                let existing =
                    id.and_then(|id| result.iter_mut().find(|o| element_key(o, key) == Some(id)));
                match existing {
                    Some(Value::Object(om)) => merge_map(om, pm, directives)?,
                    _ => result.push(strip(item, directives)),
                }
            }
            return Ok(Value::Array(result));
        }
    }
    if is_merged_scalar_list(field) {
        let mut result = orig_items;
        for item in patch {
            if !result.contains(item) {
                result.push(item.clone());
            }
        }
        return Ok(Value::Array(result));
    }
    Ok(strip(&Value::Array(patch.to_vec()), directives))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"metadata": {"name": "api", "labels": {"app": "api"}, "finalizers": ["a"]},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "app", "image": "app:v1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "proxy:v1"}
        ]}}}})
    }

    #[test]
    fn set_image_patch_merges_containers_by_name() {
        // The exact body `kubectl set image deployment/api app=app:v2` sends.
        let patch = json!({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"image":"app:v2","name":"app"}]}}}});
        let out = apply(PatchKind::Strategic, &deployment(), &patch).expect("patches");
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "app:v2");
        assert_eq!(containers[0]["env"][0]["name"], "A");
        assert_eq!(containers[1]["image"], "proxy:v1");
    }

    #[test]
    fn strategic_directives() {
        let cases = [
            (
                json!({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}),
                "/spec/template/spec/containers",
                json!([{"name": "app", "image": "app:v1", "env": [{"name": "A", "value": "1"}]}]),
            ),
            (
                json!({"spec":{"template":{"$patch":"replace","spec":{"containers":[{"name":"x","image":"x"}]}}}}),
                "/spec/template",
                json!({"spec":{"containers":[{"name":"x","image":"x"}]}}),
            ),
            (
                json!({"metadata":{"finalizers":["b"]}}),
                "/metadata/finalizers",
                json!(["a", "b"]),
            ),
            (
                json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}),
                "/metadata/finalizers",
                json!([]),
            ),
            (
                json!({"metadata":{"labels":{"app":null,"x":"y"}}}),
                "/metadata/labels",
                json!({"x": "y"}),
            ),
            (
                json!({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}]}}}}),
                "/spec/template/spec/containers/0/name",
                json!("sidecar"),
            ),
        ];
        for (patch, pointer, want) in cases {
            let out = apply(PatchKind::Strategic, &deployment(), &patch).expect("patches");
            assert_eq!(out.pointer(pointer), Some(&want), "{patch}");
        }
    }

    #[test]
    fn merge_and_json_patch() {
        let out = apply(
            PatchKind::Merge,
            &deployment(),
            &json!({"spec":{"template":{"spec":{"containers":[{"name":"only","image":"i"}]}}}}),
        )
        .expect("merge");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let out = apply(
            PatchKind::Json,
            &deployment(),
            &json!([{"op":"replace","path":"/spec/replicas","value":5}]),
        )
        .expect("json patch");
        assert_eq!(out["spec"]["replicas"], 5);
        let err = apply(
            PatchKind::Json,
            &deployment(),
            &json!([{"op":"replace","path":"/spec/missing/x","value":5}]),
        )
        .expect_err("fails");
        assert_eq!(err.code, 422);
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml; charset=utf-8"),
            Some(PatchKind::Apply)
        );
        assert_eq!(PatchKind::from_content_type("application/json"), None);
    }
}
