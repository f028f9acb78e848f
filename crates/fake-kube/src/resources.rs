//! The static table of resources the fake serves, as the real discovery documents name them.
//!
//! Everything that routes, stores, prints or discovers a resource looks it up here, so a resource
//! that is not in this table does not exist for any client. This module holds data only: no I/O.

/// One REST resource as `GET /apis/<group>/<version>` lists it.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the legacy core group.
    pub group: &'static str,
    /// API version inside the group.
    pub version: &'static str,
    /// Plural resource name used in URLs.
    pub plural: &'static str,
    /// Singular name, as discovery reports it.
    pub singular: &'static str,
    /// Kind of one object.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names (`deploy`, `po`, ...).
    pub short_names: &'static [&'static str],
    /// Categories (`all`).
    pub categories: &'static [&'static str],
    /// Subresources served under `<plural>/<name>/<sub>`.
    pub subresources: &'static [&'static str],
    /// Storage bucket: two API versions of one resource (core and events.k8s.io events) share it.
    pub storage: &'static str,
    /// Whether the API server keeps `metadata.generation` for this resource.
    pub has_generation: bool,
}

impl ResourceType {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps` or `pods`: the form used in error messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps` or `Pod`: the form used in `Invalid` messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `DeploymentList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

/// The verbs every resource in this table supports.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Namespaces (cluster-scoped).
pub static NAMESPACES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    short_names: &["ns"],
    categories: &[],
    subresources: &["status"],
    storage: "namespaces",
    has_generation: false,
};

/// Nodes (cluster-scoped, fixed by the scenario).
pub static NODES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    short_names: &["no"],
    categories: &[],
    subresources: &["status"],
    storage: "nodes",
    has_generation: false,
};

/// Pods.
pub static PODS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    short_names: &["po"],
    categories: &["all"],
    subresources: &["log", "status"],
    storage: "pods",
    has_generation: false,
};

/// Core v1 events.
pub static EVENTS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    short_names: &["ev"],
    categories: &[],
    subresources: &[],
    storage: "events",
    has_generation: false,
};

/// events.k8s.io/v1 events: the same storage as core events, converted on the way in and out.
pub static EVENTS_V1: ResourceType = ResourceType {
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    short_names: &["ev"],
    categories: &[],
    subresources: &[],
    storage: "events",
    has_generation: false,
};

/// Deployments.
pub static DEPLOYMENTS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    short_names: &["deploy"],
    categories: &["all"],
    subresources: &["scale", "status"],
    storage: "deployments.apps",
    has_generation: true,
};

/// ReplicaSets.
pub static REPLICASETS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    namespaced: true,
    short_names: &["rs"],
    categories: &["all"],
    subresources: &["scale", "status"],
    storage: "replicasets.apps",
    has_generation: true,
};

/// StatefulSets.
pub static STATEFULSETS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    namespaced: true,
    short_names: &["sts"],
    categories: &["all"],
    subresources: &["scale", "status"],
    storage: "statefulsets.apps",
    has_generation: true,
};

/// DaemonSets.
pub static DAEMONSETS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "daemonsets",
    singular: "daemonset",
    kind: "DaemonSet",
    namespaced: true,
    short_names: &["ds"],
    categories: &["all"],
    subresources: &["status"],
    storage: "daemonsets.apps",
    has_generation: true,
};

/// ControllerRevisions (history of StatefulSets and DaemonSets).
pub static CONTROLLERREVISIONS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "controllerrevisions",
    singular: "controllerrevision",
    kind: "ControllerRevision",
    namespaced: true,
    short_names: &[],
    categories: &[],
    subresources: &[],
    storage: "controllerrevisions.apps",
    has_generation: false,
};

/// Every served resource, in discovery order.
pub static ALL: &[&ResourceType] = &[
    &NAMESPACES,
    &NODES,
    &PODS,
    &EVENTS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &STATEFULSETS,
    &DAEMONSETS,
    &CONTROLLERREVISIONS,
    &EVENTS_V1,
];

/// Served group/versions besides core `v1`, each with its group name.
pub static GROUP_VERSIONS: &[(&str, &str)] = &[("apps", "v1"), ("events.k8s.io", "v1")];

/// The resource served at `group/version/plural`.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    ALL.iter()
        .copied()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource for an object's `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    ALL.iter()
        .copied()
        .find(|r| r.api_version() == api_version && r.kind == kind)
}

/// The resources of one group/version, for `GET /apis/<group>/<version>`.
pub fn in_group_version(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceType> {
    ALL.iter()
        .copied()
        .filter(move |r| r.group == group && r.version == version)
}

/// The canonical (core or apps) resource for a storage bucket.
pub fn by_storage(storage: &str) -> Option<&'static ResourceType> {
    ALL.iter().copied().find(|r| r.storage == storage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree() {
        for r in ALL {
            assert_eq!(by_path(r.group, r.version, r.plural), Some(*r));
            assert_eq!(by_kind(&r.api_version(), r.kind), Some(*r));
        }
        assert_eq!(DEPLOYMENTS.qualified_plural(), "deployments.apps");
        assert_eq!(PODS.qualified_kind(), "Pod");
        assert_eq!(by_storage("events"), Some(&EVENTS));
    }
}
