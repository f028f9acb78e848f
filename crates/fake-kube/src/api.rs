//! REST semantics over the store: get, list (with selectors, pagination and `continue`), create,
//! update, patch, delete, the `status` and `scale` subresources.
//!
//! This is the part of the API server between decoding a request and encoding a response:
//! preconditions (`resourceVersion` conflicts, namespace existence, name clashes), defaulting,
//! validation, status/spec separation and `metadata.generation`. It does no HTTP: the server
//! module maps requests here and results back to responses.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::defaults;
use crate::patch::{self, PatchKind};
use crate::resources::{self, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::{ApiError, Cause};
use crate::store::{self, Store};
use crate::validation;

/// Options of a LIST request.
#[derive(Debug, Default, Clone)]
pub struct ListOptions {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 or absent: no limit).
    pub limit: Option<usize>,
    /// `continue` token.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<String>,
}

/// A page of a list: items (presented, without kind/apiVersion) and list metadata.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Items.
    pub items: Vec<Value>,
    /// `metadata` of the list.
    pub metadata: Value,
}

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    let token =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{namespace}/{name}\u{0}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(u64, String, String), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = v["rv"].as_u64().ok_or_else(bad)?;
    let start = v["start"]
        .as_str()
        .ok_or_else(bad)?
        .trim_end_matches('\u{0}');
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((rv, ns.to_string(), name.to_string()))
}

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

/// LIST, with selectors, `limit`/`continue` pagination and the 410 answers for history that
/// compaction has removed.
pub fn list(
    store: &Store,
    rt: &ResourceType,
    namespace: Option<&str>,
    opts: &ListOptions,
) -> Result<ListPage, ApiError> {
    let mut list_rv = store.revision();
    let mut start = None;
    if let Some(token) = opts.continue_token.as_deref().filter(|t| !t.is_empty()) {
        let (rv, ns, name) = decode_continue(token)?;
        if rv < store.compacted() {
            let mut err = ApiError::expired(CONTINUE_EXPIRED);
            err.details = None;
            return Err(err);
        }
        list_rv = rv;
        start = Some((ns, name));
    } else if let Some(rv) = opts
        .resource_version
        .as_deref()
        .and_then(|r| r.parse::<u64>().ok())
        .filter(|rv| *rv > 0)
    {
        if opts.resource_version_match.as_deref() == Some("Exact") && rv < store.compacted() {
            return Err(ApiError::expired(format!(
                "too old resource version: {rv} ({})",
                store.compacted()
            )));
        }
    }
    let matching: Vec<Value> = store
        .list_after(rt, namespace, start.as_ref())
        .into_iter()
        .map(|o| store::present(rt, &o))
        .filter(|o| opts.labels.matches_object(o) && opts.fields.matches(o))
        .collect();
    let limit = opts.limit.filter(|l| *l > 0);
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    let items: Vec<Value> = match limit {
        Some(limit) if matching.len() > limit => {
            let last = &matching[limit - 1];
            let ns = last
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name = last
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            metadata["continue"] = json!(encode_continue(list_rv, ns, name));
            metadata["remainingItemCount"] = json!(matching.len() - limit);
            matching.into_iter().take(limit).collect()
        }
        _ => matching,
    };
    Ok(ListPage {
        items: items.into_iter().map(strip_type).collect(),
        metadata,
    })
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

fn scale_of(rt: &ResourceType, obj: &Value) -> Value {
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
fn apply_scale(rt: &ResourceType, old: &Value, scale: &Value) -> Result<Value, ApiError> {
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

/// DELETE of a collection: every object the selectors match.
pub fn delete_collection(
    store: &mut Store,
    rt: &'static ResourceType,
    namespace: Option<&str>,
    opts: &ListOptions,
    dry_run: bool,
) -> Result<ListPage, ApiError> {
    let page = list(
        store,
        rt,
        namespace,
        &ListOptions {
            limit: None,
            continue_token: None,
            ..opts.clone()
        },
    )?;
    if !dry_run {
        for item in &page.items {
            let ns = meta_str(item, "namespace").unwrap_or_default();
            let name = meta_str(item, "name").unwrap_or_default();
            store.remove(rt, ns, name);
        }
    }
    Ok(ListPage {
        metadata: json!({"resourceVersion": store.revision().to_string()}),
        ..page
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::DEPLOYMENTS;

    fn deploy() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                "template": {"metadata": {"labels": {"app": "api"}},
                    "spec": {"containers": [{"name": "app", "image": "app:v1"}]}}}})
    }

    #[test]
    fn create_update_patch_conflict() {
        let mut s = Store::new(1_700_000_000_000, 1);
        let created =
            create(&mut s, &DEPLOYMENTS, Some("default"), deploy(), false).expect("created");
        assert_eq!(created["metadata"]["generation"], 1);
        let err =
            create(&mut s, &DEPLOYMENTS, Some("default"), deploy(), false).expect_err("exists");
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "AlreadyExists");
        let rv = created["metadata"]["resourceVersion"].clone();

        let body =
            br#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:v2"}]}}}}"#;
        let (patched, _) = patch(
            &mut s,
            &DEPLOYMENTS,
            "default",
            "api",
            None,
            PatchKind::Strategic,
            body,
            &PatchParams::default(),
        )
        .expect("patched");
        assert_eq!(patched["metadata"]["generation"], 2);
        assert_eq!(
            patched["spec"]["template"]["spec"]["containers"][0]["image"],
            "app:v2"
        );

        let mut stale = created.clone();
        stale["metadata"]["resourceVersion"] = rv;
        let err =
            update(&mut s, &DEPLOYMENTS, "default", "api", None, stale, false).expect_err("stale");
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "Conflict");

        // A status-only change does not bump the generation; a no-op does not bump the revision.
        let before = s.revision();
        let (same, _) = patch(
            &mut s,
            &DEPLOYMENTS,
            "default",
            "api",
            None,
            PatchKind::Merge,
            br#"{"spec":{"replicas":2}}"#,
            &PatchParams::default(),
        )
        .expect("noop");
        assert_eq!(s.revision(), before);
        assert_eq!(same["metadata"]["generation"], 2);
        let (st, _) = patch(
            &mut s,
            &DEPLOYMENTS,
            "default",
            "api",
            Some("status"),
            PatchKind::Merge,
            br#"{"status":{"replicas":7}}"#,
            &PatchParams::default(),
        )
        .expect("status");
        assert_eq!(st["status"]["replicas"], 7);
        assert_eq!(st["metadata"]["generation"], 2);

        let err = patch(
            &mut s,
            &DEPLOYMENTS,
            "default",
            "api",
            None,
            PatchKind::Merge,
            br#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":""}]}}}}"#,
            &PatchParams::default(),
        )
        .expect_err("invalid");
        assert_eq!(err.code, 422);

        let err = patch(
            &mut s,
            &DEPLOYMENTS,
            "default",
            "missing",
            None,
            PatchKind::Merge,
            b"{}",
            &PatchParams::default(),
        )
        .expect_err("missing");
        assert_eq!(err.code, 404);
    }

    #[test]
    fn apply_creates_then_merges() {
        let mut s = Store::new(1_700_000_000_000, 1);
        let params = PatchParams {
            field_manager: Some("gate".into()),
            ..Default::default()
        };
        let body = serde_json::to_vec(&deploy()).expect("json");
        let (_, created) = patch(
            &mut s,
            &DEPLOYMENTS,
            "default",
            "api",
            None,
            PatchKind::Apply,
            &body,
            &params,
        )
        .expect("apply");
        assert!(created);
        let err = patch(
            &mut s,
            &DEPLOYMENTS,
            "default",
            "api",
            None,
            PatchKind::Apply,
            &body,
            &PatchParams::default(),
        )
        .expect_err("no manager");
        assert_eq!(err.code, 422);
    }

    #[test]
    fn pagination_and_expired_continue() {
        let mut s = Store::new(1_700_000_000_000, 1);
        for n in ["a", "b", "c"] {
            let mut d = deploy();
            d["metadata"]["name"] = json!(n);
            create(&mut s, &DEPLOYMENTS, Some("default"), d, false).expect("created");
        }
        let opts = ListOptions {
            limit: Some(2),
            ..Default::default()
        };
        let page = list(&s, &DEPLOYMENTS, Some("default"), &opts).expect("page");
        assert_eq!(page.items.len(), 2);
        assert!(page.items[0].get("kind").is_none());
        let token = page.metadata["continue"]
            .as_str()
            .expect("token")
            .to_string();
        let next = list(
            &s,
            &DEPLOYMENTS,
            Some("default"),
            &ListOptions {
                continue_token: Some(token.clone()),
                ..Default::default()
            },
        )
        .expect("next");
        assert_eq!(next.items.len(), 1);
        assert_eq!(next.items[0]["metadata"]["name"], "c");
        s.compact();
        let mut d = deploy();
        d["metadata"]["name"] = json!("d");
        create(&mut s, &DEPLOYMENTS, Some("default"), d, false).expect("created");
        s.compact();
        let err = list(
            &s,
            &DEPLOYMENTS,
            Some("default"),
            &ListOptions {
                continue_token: Some(token),
                ..Default::default()
            },
        )
        .expect_err("expired");
        assert_eq!(err.code, 410);
        assert_eq!(err.reason, "Expired");
    }
}
