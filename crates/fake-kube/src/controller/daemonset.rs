//! The DaemonSet controller (`pkg/controller/daemon`): one pod per simulated node, RollingUpdate
//! bounded by `maxUnavailable` (surge 0), OnDelete, ControllerRevisions, and the
//! desired/current/ready/updated/available counts in the status.

use serde_json::{Value, json};

use super::history;
use super::replicaset::counts;
use super::{
    Controllers, controller_ref, int, name, namespace, owned, pod_active, pod_available, pod_ready,
};
use crate::resources::{DAEMONSETS, PODS};
use crate::store::Store;

const HASH_LABEL: &str = "controller-revision-hash";

fn hash_of(pod: &Value) -> &str {
    pod.pointer("/metadata/labels")
        .and_then(|l| l.get(HASH_LABEL))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn node_of(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `maxUnavailable` scaled to the number of nodes, rounding up as the daemon controller does.
fn max_unavailable(ds: &Value, desired: i64) -> i64 {
    let v = ds.pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable");
    let n = match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(1),
        Some(Value::String(s)) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            (pct * desired + 99) / 100
        }
        _ => 1,
    };
    n.max(if desired > 0 { 1 } else { 0 }).min(desired.max(1))
}

fn delete_pod(store: &mut Store, ds: &Value, pod: &Value) {
    store.remove(&PODS, namespace(pod), name(pod));
    store.record_event(
        &DAEMONSETS,
        ds,
        "Normal",
        "SuccessfulDelete",
        &format!("Deleted pod: {}", name(pod)),
        "daemonset-controller",
    );
}

fn sync(ctrl: &mut Controllers, store: &mut Store, ds: &Value) {
    let history = history::sync(store, &DAEMONSETS, ds, HASH_LABEL);
    let hash = history.hash.clone();
    let template = history::template_of(&history.update);
    let nodes: Vec<String> = ctrl.nodes().to_vec();
    let desired = i64::try_from(nodes.len()).unwrap_or(0);
    let now = store.clock.now_ms();
    let min_ready = int(ds, "/spec/minReadySeconds");
    let generation = int(ds, "/metadata/generation");
    let pods: Vec<Value> = owned(store, &PODS, ds)
        .into_iter()
        .filter(pod_active)
        .collect();

    let mut acted = false;
    for node in &nodes {
        let on_node: Vec<&Value> = pods.iter().filter(|p| node_of(p) == node).collect();
        if on_node.is_empty() {
            let pod_name = format!("{}-{}", name(ds), store.ids.suffix());
            let mut pod = super::pod_from_template(
                &template,
                namespace(ds),
                &pod_name,
                controller_ref(&DAEMONSETS, ds),
                &[
                    (HASH_LABEL, hash.clone()),
                    ("pod-template-generation", generation.to_string()),
                ],
            );
            pod["metadata"]["generateName"] = json!(format!("{}-", name(ds)));
            pod["spec"]["nodeName"] = json!(node);
            store.insert_new(&PODS, pod);
            store.record_event(
                &DAEMONSETS,
                ds,
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {pod_name}"),
                "daemonset-controller",
            );
            acted = true;
        } else if on_node.len() > 1 {
            // Keep the newest updated pod; extra pods on a node go.
            for extra in on_node.iter().skip(1) {
                delete_pod(store, ds, extra);
                acted = true;
            }
        }
    }
    let rolling = ds
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        != Some("OnDelete");
    if rolling && !acted {
        let max_unavailable = max_unavailable(ds, desired);
        let mut unavailable = 0;
        let mut replace_now = Vec::new();
        let mut candidates = Vec::new();
        for node in &nodes {
            let Some(pod) = pods.iter().find(|p| node_of(p) == node) else {
                unavailable += 1;
                continue;
            };
            let available = pod_available(pod, min_ready, now);
            if hash_of(pod) == hash {
                if !available {
                    unavailable += 1;
                }
            } else if !available {
                replace_now.push(pod.clone());
            } else if unavailable < max_unavailable {
                candidates.push(pod.clone());
            }
        }
        let budget = usize::try_from((max_unavailable - unavailable).max(0)).unwrap_or(0);
        for pod in replace_now.iter().chain(candidates.iter().take(budget)) {
            delete_pod(store, ds, pod);
        }
    }

    let pods: Vec<Value> = owned(store, &PODS, ds)
        .into_iter()
        .filter(pod_active)
        .collect();
    let count = |f: &dyn Fn(&Value) -> bool| {
        i64::try_from(pods.iter().filter(|p| f(p)).count()).unwrap_or(0)
    };
    let scheduled = i64::try_from(
        nodes
            .iter()
            .filter(|n| pods.iter().any(|p| node_of(p) == n.as_str()))
            .count(),
    )
    .unwrap_or(0);
    let available = count(&|p| pod_available(p, min_ready, now));
    let status = counts(&[
        ("currentNumberScheduled", scheduled, true),
        ("numberMisscheduled", 0, true),
        ("desiredNumberScheduled", desired, true),
        ("numberReady", count(&|p| pod_ready(p)), true),
        ("observedGeneration", generation, false),
        (
            "updatedNumberScheduled",
            count(&|p| hash_of(p) == hash),
            false,
        ),
        ("numberAvailable", available, false),
        ("numberUnavailable", desired - available, false),
    ]);
    let live: Vec<String> = history
        .all
        .iter()
        .filter(|r| {
            let h = r
                .pointer("/metadata/labels")
                .and_then(|l| l.get(HASH_LABEL))
                .and_then(Value::as_str)
                .unwrap_or_default();
            pods.iter().any(|p| hash_of(p) == h)
        })
        .map(|r| name(r).to_string())
        .collect();
    history::truncate(
        store,
        &history,
        &live,
        int(ds, "/spec/revisionHistoryLimit"),
    );
    if let Some(fresh) = store.get(&DAEMONSETS, namespace(ds), name(ds)).cloned() {
        super::write_status(store, &DAEMONSETS, &fresh, Value::Object(status));
    }
}

/// Syncs every DaemonSet once.
pub(super) fn sync_all(ctrl: &mut Controllers, store: &mut Store) {
    for ds in store.list(&DAEMONSETS, None) {
        if let Some(current) = store.get(&DAEMONSETS, namespace(&ds), name(&ds)).cloned() {
            sync(ctrl, store, &current);
        }
    }
}
