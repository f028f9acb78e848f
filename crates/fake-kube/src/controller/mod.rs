//! The simulated control plane: deployment, replicaset, statefulset and daemonset controllers, a
//! scheduler-plus-kubelet for pods, and garbage collection, all driven by the test's clock.
//!
//! One `tick` advances simulated time and runs each controller once, in the order kubelet →
//! garbage collector → replicasets → statefulsets → daemonsets → deployments, so a rolling update
//! moves one step per tick and a test can watch every intermediate status. Controllers read and
//! write only through the store (so every write is a watch event), never the network.

mod daemonset;
mod deployment;
mod history;
pub mod kubelet;
pub mod logs;
mod replicaset;
mod statefulset;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::resources::{self, ResourceType};
use crate::store::Store;

/// State of the simulation that is not part of any object.
#[derive(Debug, Clone)]
pub struct Controllers {
    /// Per-pod kubelet progress, by pod uid.
    pods: BTreeMap<String, kubelet::PodSim>,
    /// Node names, fixed by the scenario.
    nodes: Vec<String>,
    /// Round-robin scheduling cursor.
    next_node: usize,
    /// Pod IP allocator.
    next_ip: u32,
}

/// What one tick changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TickReport {
    /// Simulated time after the tick, epoch milliseconds.
    pub now_ms: i64,
    /// Store revision after the tick.
    pub resource_version: u64,
    /// Whether any object changed during the tick.
    pub changed: bool,
}

impl Controllers {
    /// A control plane with `nodes` schedulable nodes (`node-1` ...).
    pub fn new(nodes: u32) -> Self {
        Controllers {
            pods: BTreeMap::new(),
            nodes: (1..=nodes.max(1)).map(|i| format!("node-{i}")).collect(),
            next_node: 0,
            next_ip: 2,
        }
    }

    /// Creates the Node objects.
    pub fn install_nodes(&self, store: &mut Store) {
        for (i, node) in self.nodes.iter().enumerate() {
            if store.get(&resources::NODES, "", node).is_some() {
                continue;
            }
            let obj = json!({
                "metadata": {"name": node, "labels": {
                    "kubernetes.io/hostname": node,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                }},
                "spec": {"podCIDR": format!("10.244.{}.0/24", i + 1)},
                "status": {
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                    "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", i + 1)}, {"type": "Hostname", "address": node}],
                    "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"},
                    "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"},
                    "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.24", "operatingSystem": "linux", "architecture": "amd64"}
                }
            });
            store.insert_new(&resources::NODES, obj);
        }
    }

    /// Node names.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// Advances simulated time by `ms` and runs every controller once.
    pub fn tick(&mut self, store: &mut Store, ms: i64) -> TickReport {
        let before = store.revision();
        store.clock.advance_ms(ms);
        self.step(store);
        TickReport {
            now_ms: store.clock.now_ms(),
            resource_version: store.revision(),
            changed: store.revision() != before,
        }
    }

    /// Runs every controller once without moving the clock.
    pub fn step(&mut self, store: &mut Store) {
        kubelet::step(self, store);
        collect_garbage(store);
        replicaset::sync_all(self, store);
        statefulset::sync_all(self, store);
        daemonset::sync_all(self, store);
        deployment::sync_all(store);
    }

    /// Picks a node for a pod (round robin).
    fn schedule(&mut self) -> String {
        let node = self.nodes[self.next_node % self.nodes.len()].clone();
        self.next_node += 1;
        node
    }

    /// Allocates a pod IP.
    fn allocate_ip(&mut self, node: &str) -> String {
        let n = self.next_ip;
        self.next_ip += 1;
        let node_idx = self.nodes.iter().position(|x| x == node).unwrap_or(0) + 1;
        format!("10.244.{node_idx}.{}", n % 250 + 2)
    }
}

/// `metadata.uid`.
pub(crate) fn uid(obj: &Value) -> &str {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `metadata.name`.
pub(crate) fn name(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `metadata.namespace`.
pub(crate) fn namespace(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// An integer at a JSON pointer, 0 when absent.
pub(crate) fn int(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

/// The uid of an object's controlling owner.
pub(crate) fn controller_uid(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller") == Some(&Value::Bool(true)))
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

/// Whether `obj` is controlled by `owner`.
pub(crate) fn owned_by(obj: &Value, owner: &Value) -> bool {
    controller_uid(obj) == Some(uid(owner))
}

/// The `ownerReferences` entry of a controller, as `metav1.NewControllerRef` builds it.
pub(crate) fn controller_ref(owner_rt: &ResourceType, owner: &Value) -> Value {
    json!({
        "apiVersion": owner_rt.api_version(),
        "kind": owner_rt.kind,
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Objects of `rt` in `ns` controlled by `owner`.
pub(crate) fn owned(store: &Store, rt: &ResourceType, owner: &Value) -> Vec<Value> {
    store
        .list(rt, Some(namespace(owner)))
        .into_iter()
        .filter(|o| owned_by(o, owner))
        .collect()
}

/// Removes nulls recursively, so templates compare the way Go's typed structs do.
pub(crate) fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Writes `status` (and optionally new annotations) if anything differs from what is stored.
pub(crate) fn write_status(
    store: &mut Store,
    rt: &ResourceType,
    obj: &Value,
    status: Value,
) -> Value {
    let mut updated = obj.clone();
    updated["status"] = status;
    if without_nulls(&updated) == without_nulls(obj) {
        return obj.clone();
    }
    store.replace(rt, updated)
}

/// Whether a pod counts as active (not terminal, not being deleted).
pub(crate) fn pod_active(pod: &Value) -> bool {
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or_default();
    pod.pointer("/metadata/deletionTimestamp").is_none()
        && phase != "Succeeded"
        && phase != "Failed"
}

/// Whether a pod's Ready condition is True.
pub(crate) fn pod_ready(pod: &Value) -> bool {
    ready_since(pod).is_some()
}

/// When a pod's Ready condition last turned True, if it is True.
pub(crate) fn ready_since(pod: &Value) -> Option<i64> {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")
        .map(|c| {
            c.get("lastTransitionTime")
                .and_then(Value::as_str)
                .and_then(crate::clock::parse_time)
                .unwrap_or(0)
        })
}

/// Whether a pod is available: ready for at least `min_ready_seconds`.
pub(crate) fn pod_available(pod: &Value, min_ready_seconds: i64, now_ms: i64) -> bool {
    match ready_since(pod) {
        Some(t) => min_ready_seconds == 0 || t + min_ready_seconds * 1000 <= now_ms,
        None => false,
    }
}

/// Builds a pod from a template, as the workload controllers do.
pub(crate) fn pod_from_template(
    template: &Value,
    namespace: &str,
    name: &str,
    owner_ref: Value,
    extra_labels: &[(&str, String)],
) -> Value {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    let mut meta = json!({
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "ownerReferences": [owner_ref],
    });
    if let Some(a) = template.pointer("/metadata/annotations") {
        meta["annotations"] = a.clone();
    }
    let mut pod = json!({
        "metadata": meta,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    });
    crate::defaults::apply(&resources::PODS, &mut pod);
    pod
}

/// Deletes objects whose controlling owner no longer exists (background propagation).
fn collect_garbage(store: &mut Store) {
    let mut owner_uids: Vec<String> = Vec::new();
    for rt in resources::ALL.iter().filter(|r| r.group != "events.k8s.io") {
        owner_uids.extend(store.list(rt, None).iter().map(|o| uid(o).to_string()));
    }
    for rt in [
        &resources::PODS,
        &resources::REPLICASETS,
        &resources::CONTROLLERREVISIONS,
    ] {
        for obj in store.list(rt, None) {
            if let Some(owner) = controller_uid(&obj) {
                if !owner_uids.iter().any(|u| u == owner) {
                    store.remove(rt, namespace(&obj), name(&obj));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Cluster;
    use crate::scenario::Scenario;

    fn deployment(replicas: i64, extra: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  replicas: {replicas}\n{extra}  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec: {{containers: [{{name: app, image: \"app:v1\"}}]}}\n"
        )
    }

    fn cluster(manifest: &str) -> Cluster {
        let scenario = Scenario::new().with_manifests(manifest).expect("manifest");
        Cluster::new(&scenario, 1_700_000_000_000).expect("cluster")
    }

    fn set_image(c: &mut Cluster, image: &str) {
        let body = format!(
            r#"{{"spec":{{"template":{{"spec":{{"containers":[{{"name":"app","image":"{image}"}}]}}}}}}}}"#
        );
        crate::api::patch(
            &mut c.store,
            &resources::DEPLOYMENTS,
            "default",
            "api",
            None,
            crate::patch::PatchKind::Strategic,
            body.as_bytes(),
            &crate::api::PatchParams::default(),
        )
        .expect("patch");
    }

    /// Pods that exist and pods that are available, across all ReplicaSets.
    fn pods(c: &Cluster) -> (i64, i64) {
        let pods = c.store.list(&resources::PODS, Some("default"));
        let now = c.store.clock.now_ms();
        let total = i64::try_from(pods.iter().filter(|p| pod_active(p)).count()).unwrap_or(0);
        let available =
            i64::try_from(pods.iter().filter(|p| pod_available(p, 0, now)).count()).unwrap_or(0);
        (total, available)
    }

    #[test]
    fn rolling_updates_respect_surge_and_unavailability() {
        // (replicas, strategy, max pods, min available)
        let cases = [
            (3, "", 4, 3),
            (4, "", 5, 3),
            (
                10,
                "  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 2}}\n",
                10,
                8,
            ),
            (
                2,
                "  strategy: {rollingUpdate: {maxSurge: \"100%\", maxUnavailable: 0}}\n",
                4,
                2,
            ),
        ];
        for (replicas, strategy, max_pods, min_available) in cases {
            let mut c = cluster(&deployment(replicas, strategy));
            set_image(&mut c, "app:v2");
            let mut ticks = 0;
            loop {
                c.tick(1.0);
                ticks += 1;
                let (total, available) = pods(&c);
                assert!(
                    total <= max_pods,
                    "{replicas}/{strategy}: {total} pods at tick {ticks}"
                );
                assert!(
                    available >= min_available,
                    "{replicas}/{strategy}: {available} available at tick {ticks}"
                );
                let d = c
                    .store
                    .get(&resources::DEPLOYMENTS, "default", "api")
                    .cloned()
                    .unwrap_or_default();
                if int(&d, "/status/updatedReplicas") == replicas
                    && int(&d, "/status/availableReplicas") == replicas
                    && int(&d, "/status/replicas") == replicas
                {
                    break;
                }
                assert!(ticks < 200, "{replicas}/{strategy} never finished");
            }
            let rss = c.store.list(&resources::REPLICASETS, Some("default"));
            assert_eq!(rss.len(), 2);
            assert!(rss.iter().any(|r| int(r, "/spec/replicas") == 0));
        }
    }

    #[test]
    fn progress_deadline_counts_simulated_time_without_progress() {
        let mut c = cluster(&deployment(2, "  progressDeadlineSeconds: 120\n"));
        set_image(&mut c, "app:pull-error");
        for _ in 0..5 {
            c.tick(1.0);
        }
        let reason = |c: &Cluster| {
            let d = c
                .store
                .get(&resources::DEPLOYMENTS, "default", "api")
                .cloned()
                .unwrap_or_default();
            d.pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|x| x["type"] == "Progressing"))
                .and_then(|x| x["reason"].as_str())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(reason(&c), "ReplicaSetUpdated");
        c.tick(100.0);
        // Last progress was the new pod at +2 s; +105 s is within 120 s of it, +125 s is not.
        assert_eq!(reason(&c), "ReplicaSetUpdated");
        c.tick(20.0);
        assert_eq!(reason(&c), "ProgressDeadlineExceeded");
    }

    #[test]
    fn daemonset_replaces_at_most_max_unavailable() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: agent, image: \"agent:v1\"}]}\n";
        let mut c = cluster(ds);
        let body = br#"{"spec":{"template":{"spec":{"containers":[{"name":"agent","image":"agent:v2"}]}}}}"#;
        crate::api::patch(
            &mut c.store,
            &resources::DAEMONSETS,
            "default",
            "agent",
            None,
            crate::patch::PatchKind::Strategic,
            body,
            &crate::api::PatchParams::default(),
        )
        .expect("patch");
        for _ in 0..30 {
            c.tick(1.0);
            let (_, available) = pods(&c);
            assert!(
                available >= 2,
                "more than one node without an available pod"
            );
        }
        let ds = c
            .store
            .get(&resources::DAEMONSETS, "default", "agent")
            .cloned()
            .unwrap_or_default();
        assert_eq!(int(&ds, "/status/updatedNumberScheduled"), 3);
        assert_eq!(int(&ds, "/status/numberAvailable"), 3);
    }
}
