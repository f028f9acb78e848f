//! Discovery documents: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>`,
//! `/apis/<group>/<version>`.
//!
//! kubectl and kube-rs ask `/api` and `/apis` for aggregated discovery first
//! (`Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,...`). The
//! fake answers that form too, with the matching `Content-Type`, as a 1.30+ server does; a
//! client that asks for plain JSON gets the legacy documents and then queries each group/version
//! (<https://kubernetes.io/docs/concepts/overview/kubernetes-api/#aggregated-discovery>).
//! Pure: builds JSON.

use serde_json::{Value, json};

use crate::resources::{self, GROUP_VERSIONS, ResourceType, VERBS};

/// `GET /version`: a 1.33 server, one minor ahead of the kubectl here, inside the skew policy.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0",
        "gitCommit": "60a317eadfcb839692a68eab88b2096f4d708f4f",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T13:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `GET /api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `GET /apis`.
pub fn groups() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": GROUP_VERSIONS.iter().map(|(g, v)| group(g, v)).collect::<Vec<_>>()
    })
}

/// `GET /apis/<group>`, if served.
pub fn api_group(name: &str) -> Option<Value> {
    GROUP_VERSIONS
        .iter()
        .find(|(g, _)| *g == name)
        .map(|(g, v)| {
            let mut doc = group(g, v);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            doc
        })
}

fn entry(rt: &ResourceType) -> Value {
    let mut e = json!({
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": VERBS,
    });
    if !rt.short_names.is_empty() {
        e["shortNames"] = json!(rt.short_names);
    }
    if !rt.categories.is_empty() {
        e["categories"] = json!(rt.categories);
    }
    e
}

fn subresource_entry(rt: &ResourceType, sub: &str) -> Value {
    let mut e = json!({
        "name": format!("{}/{sub}", rt.plural),
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": ["get", "patch", "update"],
    });
    match sub {
        "scale" => {
            e["group"] = json!("autoscaling");
            e["version"] = json!("v1");
            e["kind"] = json!("Scale");
        }
        "log" => e["verbs"] = json!(["get"]),
        _ => {}
    }
    e
}

/// `GET /api/v1` or `GET /apis/<group>/<version>`, if served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut items = Vec::new();
    for rt in resources::in_group_version(group, version) {
        items.push(entry(rt));
        for sub in rt.subresources {
            items.push(subresource_entry(rt, sub));
        }
    }
    if items.is_empty() {
        return None;
    }
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}),
    )
}

/// The media type of aggregated discovery, v2.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an `Accept` header asks for aggregated discovery v2.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn aggregated_resource(rt: &ResourceType) -> Value {
    let subresources: Vec<Value> = rt
        .subresources
        .iter()
        .map(|sub| {
            let (kind, verbs) = match *sub {
                "scale" => (
                    gvk("autoscaling", "v1", "Scale"),
                    json!(["get", "patch", "update"]),
                ),
                "log" => (gvk("", "v1", rt.kind), json!(["get"])),
                _ => (
                    gvk(rt.group, rt.version, rt.kind),
                    json!(["get", "patch", "update"]),
                ),
            };
            json!({"subresource": sub, "responseKind": kind, "verbs": verbs})
        })
        .collect();
    let mut r = json!({
        "resource": rt.plural,
        "responseKind": gvk(rt.group, rt.version, rt.kind),
        "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": rt.singular,
        "verbs": VERBS,
    });
    if !rt.short_names.is_empty() {
        r["shortNames"] = json!(rt.short_names);
    }
    if !rt.categories.is_empty() {
        r["categories"] = json!(rt.categories);
    }
    if !subresources.is_empty() {
        r["subresources"] = Value::Array(subresources);
    }
    r
}

fn aggregated_group(name: &str, version: &str) -> Value {
    json!({
        "metadata": {"name": name, "creationTimestamp": null},
        "versions": [{
            "version": version,
            "resources": resources::in_group_version(name, version).map(aggregated_resource).collect::<Vec<_>>(),
            "freshness": "Current",
        }],
    })
}

/// `GET /api` (`core` true) or `GET /apis` as an `APIGroupDiscoveryList`.
pub fn aggregated(core: bool) -> Value {
    let items: Vec<Value> = if core {
        vec![aggregated_group("", "v1")]
    } else {
        GROUP_VERSIONS
            .iter()
            .map(|(g, v)| aggregated_group(g, v))
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents() {
        let apps = resource_list("apps", "v1").expect("apps/v1");
        let names: Vec<&str> = apps["resources"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        for want in [
            "deployments",
            "deployments/status",
            "deployments/scale",
            "controllerrevisions",
        ] {
            assert!(names.contains(&want), "{want}");
        }
        let core = resource_list("", "v1").expect("v1");
        assert!(
            core["resources"]
                .as_array()
                .expect("array")
                .iter()
                .any(|r| r["name"] == "pods/log")
        );
        assert!(resource_list("batch", "v1").is_none());
        assert_eq!(groups()["groups"][0]["name"], "apps");
    }

    #[test]
    fn aggregated_documents() {
        assert!(wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json, */*"));
        let apis = aggregated(false);
        let apps = &apis["items"][0];
        assert_eq!(apps["metadata"]["name"], "apps");
        let deploy = apps["versions"][0]["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["resource"] == "deployments")
            .expect("deployments")
            .clone();
        assert_eq!(deploy["scope"], "Namespaced");
        assert_eq!(deploy["subresources"][0]["responseKind"]["kind"], "Scale");
        assert_eq!(aggregated(true)["items"][0]["versions"][0]["version"], "v1");
    }
}
