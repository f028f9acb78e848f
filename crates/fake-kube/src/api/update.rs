//! PUT and PATCH of an existing object (and server-side apply's create): the shared tail that
//! keeps identity, separates status from spec, defaults, validates, bumps `metadata.generation`,
//! detects no-ops and commits.

use serde_json::{Value, json};

use super::scale::{apply_scale, scale_of};
use super::{check_type, create, has_status_subresource, meta_str, strip_type, to_storage};
use crate::defaults;
use crate::patch::{self, PatchKind};
use crate::resources::ResourceType;
use crate::status::ApiError;
use crate::store::{self, Store};
use crate::validation;

fn without_volatile(v: &Value) -> Value {
    let mut v = strip_type(v.clone());
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    v
}

/// The shared tail of PUT and PATCH: identity, status/spec separation, defaults, validation,
/// generation, no-op detection, commit.
fn store_update(
    store: &mut Store,
    rt: &'static ResourceType,
    old: &Value,
    new: Value,
    subresource: Option<&str>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let name = meta_str(old, "name").unwrap_or_default().to_string();
    let mut new = to_storage(rt, new);
    if !new.get("metadata").is_some_and(Value::is_object) {
        new["metadata"] = json!({});
    }
    if let Some(n) = meta_str(&new, "name") {
        if n != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
    }
    if let Some(rv) = meta_str(&new, "resourceVersion").filter(|rv| !rv.is_empty()) {
        if Some(rv) != meta_str(old, "resourceVersion") {
            return Err(ApiError::conflict(rt, &name));
        }
    }
    for k in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
    ] {
        match old["metadata"].get(k) {
            Some(v) => new["metadata"][k] = v.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    match subresource {
        Some("status") => {
            new["spec"] = old.get("spec").cloned().unwrap_or(Value::Null);
            new["metadata"]["labels"] = old["metadata"]
                .get("labels")
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(m) = new.as_object_mut() {
                m.retain(|_, v| !v.is_null());
            }
            if let Some(m) = new["metadata"].as_object_mut() {
                m.retain(|_, v| !v.is_null());
            }
        }
        _ if has_status_subresource(rt) && rt.plural != "namespaces" => match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        },
        _ => {}
    }
    defaults::apply(rt, &mut new);
    let causes = validation::validate(
        rt,
        &store::present(rt, &new),
        Some(&store::present(rt, old)),
    );
    if !causes.is_empty() {
        return Err(ApiError::invalid(rt, &name, causes));
    }
    if rt.has_generation {
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
        let bumped = if old.get("spec") != new.get("spec") {
            generation + 1
        } else {
            generation
        };
        new["metadata"]["generation"] = json!(bumped);
    }
    if without_volatile(&new) == without_volatile(old) {
        return Ok(store::present(rt, old));
    }
    if dry_run {
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        return Ok(store::present(rt, &new));
    }
    let stored = store.replace(rt, new);
    Ok(store::present(rt, &stored))
}

/// PUT on an object or its `status`/`scale` subresource.
pub fn update(
    store: &mut Store,
    rt: &'static ResourceType,
    namespace: &str,
    name: &str,
    subresource: Option<&str>,
    body: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let old = store
        .get(rt, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    if subresource == Some("scale") {
        let new = apply_scale(rt, &old, &body)?;
        let updated = store_update(store, rt, &old, new, None, dry_run)?;
        return Ok(scale_of(rt, &updated));
    }
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    }
    check_type(rt, &body)?;
    if rt.namespaced {
        if let Some(ns) = meta_str(&body, "namespace").filter(|ns| !ns.is_empty()) {
            if ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
    }
    store_update(store, rt, &old, body, subresource, dry_run)
}

/// Query parameters of a PATCH that change its meaning.
#[derive(Debug, Default, Clone)]
pub struct PatchParams {
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// `force`.
    pub force: bool,
    /// `dryRun=All`.
    pub dry_run: bool,
}

/// PATCH; returns the result and whether it created the object (server-side apply only).
#[allow(clippy::too_many_arguments)]
pub fn patch(
    store: &mut Store,
    rt: &'static ResourceType,
    namespace: &str,
    name: &str,
    subresource: Option<&str>,
    kind: PatchKind,
    body: &[u8],
    params: &PatchParams,
) -> Result<(Value, bool), ApiError> {
    if kind == PatchKind::Apply && params.field_manager.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError {
            code: 422,
            reason: "Invalid",
            message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
            details: Some(json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]})),
        });
    }
    if kind != PatchKind::Apply && params.force {
        return Err(ApiError {
            code: 422,
            reason: "Invalid",
            message: "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch".into(),
            details: Some(json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": "FieldValueForbidden", "message": "Forbidden: may not be specified for non-apply patch", "field": "force"}]})),
        });
    }
    let patch_doc = patch::parse_body(kind, body)?;
    let Some(old) = store.get(rt, namespace, name).cloned() else {
        if kind == PatchKind::Apply && subresource.is_none() {
            if meta_str(&patch_doc, "name").is_some_and(|n| n != name) {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    meta_str(&patch_doc, "name").unwrap_or_default()
                )));
            }
            let mut body = patch_doc;
            body["metadata"]["name"] = json!(name);
            let ns = rt.namespaced.then_some(namespace);
            return create(store, rt, ns, body, params.dry_run).map(|v| (v, true));
        }
        return Err(ApiError::not_found(rt, name));
    };
    if subresource == Some("scale") {
        let current = scale_of(rt, &old);
        let patched = patch::apply(kind, &current, &patch_doc)?;
        let new = apply_scale(rt, &old, &patched)?;
        let updated = store_update(store, rt, &old, new, None, params.dry_run)?;
        return Ok((scale_of(rt, &updated), false));
    }
    let current = store::present(rt, &old);
    let patched = patch::apply(kind, &current, &patch_doc)?;
    if patched.get("kind") != current.get("kind")
        || patched.get("apiVersion") != current.get("apiVersion")
    {
        check_type(rt, &patched)?;
    }
    store_update(store, rt, &old, patched, subresource, params.dry_run).map(|v| (v, false))
}
