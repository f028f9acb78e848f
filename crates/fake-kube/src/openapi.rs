//! A minimal OpenAPI v3 document: just enough for kubectl to see that the server validates fields
//! itself.
//!
//! `kubectl apply`/`create`/`replace` default to `--validate=strict`. kubectl first asks
//! `/openapi/v3` whether the PATCH operation of the object's kind takes a `fieldValidation` query
//! parameter; when it does, kubectl leaves validation to the server and sends
//! `fieldValidation=Strict`. When `/openapi/v3` is missing it falls back to client-side validation,
//! downloads `/openapi/v2`, and fails ("failed to download openapi"). So the fake publishes, per
//! group/version, one PATCH operation per kind with the `x-kubernetes-group-version-kind`
//! extension and that parameter, and no schemas: kubectl then computes apply patches from its
//! built-in types, as it does for any server whose spec lacks a kind (see kubectl's
//! `QueryParamVerifierV3` and `Patcher.gvkSupportsPatchOpenAPIV3`). `/openapi/v2` stays 404.

use serde_json::{Map, Value, json};

use crate::resources::{self, GROUP_VERSIONS};

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`: the list of group/version documents.
pub fn root() -> Value {
    let mut paths = Map::new();
    for (g, v) in std::iter::once(&("", "v1")).chain(GROUP_VERSIONS.iter()) {
        let p = gv_path(g, v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=fake")}),
        );
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/<api/v1 | apis/<g>/<v>>`, if served.
pub fn group_version(path: &str) -> Option<Value> {
    let (group, version) = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    let mut paths = Map::new();
    for rt in resources::in_group_version(group, version) {
        let prefix = format!("/{}", gv_path(group, version));
        let item = if rt.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", rt.plural)
        } else {
            format!("{prefix}/{}/{{name}}", rt.plural)
        };
        paths.insert(
            item,
            json!({
                "patch": {
                    "operationId": format!("patch{}", rt.kind),
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                    "parameters": [
                        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                        {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}
                    ],
                    "responses": {"200": {"description": "OK"}}
                }
            }),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": {}}
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents() {
        assert_eq!(
            root()["paths"]["apis/apps/v1"]["serverRelativeURL"],
            "/openapi/v3/apis/apps/v1?hash=fake"
        );
        let apps = group_version("apis/apps/v1").expect("apps");
        let op = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert!(group_version("apis/batch/v1").is_none());
    }
}
