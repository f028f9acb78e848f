//! REST semantics over the store: get, list (with selectors, pagination and `continue`), create,
//! update, patch, delete, the `status` and `scale` subresources.
//!
//! This is the part of the API server between decoding a request and encoding a response:
//! preconditions (`resourceVersion` conflicts, namespace existence, name clashes), defaulting,
//! validation, status/spec separation and `metadata.generation`. It does no HTTP: the server
//! module maps requests here and results back to responses.
//!
//! One job a file: this module holds get, create and delete and the checks they share; `list`
//! is LIST with pagination and delete-collection; `update` is PUT and PATCH of an existing
//! object; `scale` is the `scale` subresource.

mod list;
mod scale;
#[cfg(test)]
mod tests;
mod update;

pub use list::{ListOptions, ListPage, delete_collection, list};
pub use scale::get_subresource;
pub use update::{PatchParams, patch, update};

use serde_json::{Value, json};

use crate::defaults;
use crate::resources::{self, ResourceType};
use crate::status::ApiError;
use crate::store::{self, Store};
use crate::validation;

fn strip_type(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    v
}

/// GET of one object.
pub fn get(
    store: &Store,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    store
        .get(rt, namespace, name)
        .map(|o| store::present(rt, o))
        .ok_or_else(|| ApiError::not_found(rt, name))
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
}

/// Whether a resource has a status the main endpoint must not change.
fn has_status_subresource(rt: &ResourceType) -> bool {
    rt.subresources.contains(&"status")
}

/// Turns a body in `rt`'s wire form into the stored form (events.k8s.io conversion).
fn to_storage(rt: &ResourceType, body: Value) -> Value {
    if rt.storage == "events" && !rt.group.is_empty() {
        strip_type(store::events_from_v1(&body))
    } else {
        strip_type(body)
    }
}

fn check_type(rt: &ResourceType, body: &Value) -> Result<(), ApiError> {
    if let Some(av) = body.get("apiVersion").and_then(Value::as_str) {
        if av != rt.api_version() {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
    }
    if let Some(kind) = body.get("kind").and_then(Value::as_str) {
        if kind != rt.kind {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind ({})",
                rt.kind
            )));
        }
    }
    Ok(())
}

fn check_namespace(
    store: &Store,
    rt: &ResourceType,
    namespace: Option<&str>,
    body: &mut Value,
) -> Result<String, ApiError> {
    if !rt.namespaced {
        return Ok(String::new());
    }
    let url_ns = namespace.unwrap_or("default");
    match meta_str(body, "namespace") {
        Some(ns) if !ns.is_empty() && ns != url_ns => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        _ => {}
    }
    body["metadata"]["namespace"] = json!(url_ns);
    if !store.namespace_exists(url_ns) {
        return Err(ApiError::not_found(&resources::NAMESPACES, url_ns));
    }
    Ok(url_ns.to_string())
}

/// POST: creates an object (201), applying defaults and validation.
pub fn create(
    store: &mut Store,
    rt: &'static ResourceType,
    namespace: Option<&str>,
    body: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    }
    check_type(rt, &body)?;
    let mut obj = to_storage(rt, body);
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let ns = check_namespace(store, rt, namespace, &mut obj)?;
    if meta_str(&obj, "name").unwrap_or_default().is_empty() {
        if let Some(prefix) = meta_str(&obj, "generateName").map(str::to_string) {
            let suffix = store.ids.suffix();
            obj["metadata"]["name"] = json!(format!("{prefix}{suffix}"));
        }
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        for k in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "managedFields",
        ] {
            m.remove(k);
        }
    }
    if has_status_subresource(rt) && rt.plural != "namespaces" && rt.plural != "nodes" {
        if let Some(m) = obj.as_object_mut() {
            m.remove("status");
        }
    }
    defaults::apply(rt, &mut obj);
    let name = meta_str(&obj, "name").unwrap_or_default().to_string();
    let causes = validation::validate(rt, &store::present(rt, &obj), None);
    if !causes.is_empty() {
        return Err(ApiError::invalid(rt, &name, causes));
    }
    if store.get(rt, &ns, &name).is_some() {
        return Err(ApiError::already_exists(rt, &name));
    }
    if dry_run {
        return Ok(store::present(rt, &obj));
    }
    let stored = store.insert_new(rt, obj);
    Ok(store::present(rt, &stored))
}

/// DELETE of one object: gone at once (no graceful termination or finalizers); dependents are
/// collected on the next tick.
pub fn delete(
    store: &mut Store,
    rt: &'static ResourceType,
    namespace: &str,
    name: &str,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let existing = store
        .get(rt, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    if dry_run {
        return Ok(store::present(rt, &existing));
    }
    if rt.plural == "namespaces" {
        for dependent in resources::ALL
            .iter()
            .filter(|r| r.namespaced && r.group != "events.k8s.io")
        {
            for obj in store.list(dependent, Some(name)) {
                if let Some(n) = meta_str(&obj, "name") {
                    store.remove(dependent, name, n);
                }
            }
        }
    }
    let removed = store.remove(rt, namespace, name).unwrap_or(existing);
    Ok(store::present(rt, &removed))
}
