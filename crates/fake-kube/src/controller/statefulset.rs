//! The StatefulSet controller (`pkg/controller/statefulset`): ordinal pods `<name>-<n>`,
//! OrderedReady or Parallel creation, RollingUpdate from the highest ordinal down to the
//! partition one pod at a time, OnDelete, ControllerRevisions, and
//! currentRevision/updateRevision/currentReplicas/updatedReplicas in the status.

use serde_json::{Value, json};

use super::history::{self, History};
use super::replicaset::counts;
use super::{
    Controllers, controller_ref, int, name, namespace, owned, pod_active, pod_available, pod_ready,
};
use crate::resources::{PODS, STATEFULSETS};
use crate::store::Store;

const HASH_LABEL: &str = "controller.kubernetes.io/hash";
const POD_REVISION_LABEL: &str = "controller-revision-hash";

fn ordinal(set: &Value, pod: &Value) -> Option<i64> {
    name(pod)
        .strip_prefix(&format!("{}-", name(set)))?
        .parse()
        .ok()
}

fn revision_of(pod: &Value) -> &str {
    pod.pointer("/metadata/labels")
        .and_then(|l| l.get(POD_REVISION_LABEL))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn running_and_ready(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running") && pod_ready(pod)
}

fn create_pod(store: &mut Store, set: &Value, revision: &Value, ord: i64) {
    let template = history::template_of(revision);
    let pod_name = format!("{}-{ord}", name(set));
    let mut pod = super::pod_from_template(
        &template,
        namespace(set),
        &pod_name,
        controller_ref(&STATEFULSETS, set),
        &[
            (POD_REVISION_LABEL, name(revision).to_string()),
            ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
            ("apps.kubernetes.io/pod-index", ord.to_string()),
        ],
    );
    pod["spec"]["hostname"] = json!(pod_name);
    if let Some(svc) = set.pointer("/spec/serviceName").and_then(Value::as_str) {
        pod["spec"]["subdomain"] = json!(svc);
    }
    store.insert_new(&PODS, pod);
    store.record_event(
        &STATEFULSETS,
        set,
        "Normal",
        "SuccessfulCreate",
        &format!(
            "create Pod {pod_name} in StatefulSet {} successful",
            name(set)
        ),
        "statefulset-controller",
    );
}

fn delete_pod(store: &mut Store, set: &Value, pod: &Value) {
    store.remove(&PODS, namespace(pod), name(pod));
    store.record_event(
        &STATEFULSETS,
        set,
        "Normal",
        "SuccessfulDelete",
        &format!(
            "delete Pod {} in StatefulSet {} successful",
            name(pod),
            name(set)
        ),
        "statefulset-controller",
    );
}

fn sync(store: &mut Store, set: &Value) {
    let history: History = history::sync(store, &STATEFULSETS, set, HASH_LABEL);
    let update_name = name(&history.update).to_string();
    let current_name = set
        .pointer("/status/currentRevision")
        .and_then(Value::as_str)
        .filter(|c| history.all.iter().any(|r| name(r) == *c))
        .unwrap_or(&update_name)
        .to_string();
    let current_rev = history
        .all
        .iter()
        .find(|r| name(r) == current_name)
        .cloned()
        .unwrap_or_else(|| history.update.clone());
    let replicas = int(set, "/spec/replicas");
    let strategy = set
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        .unwrap_or("RollingUpdate");
    let rolling = strategy == "RollingUpdate";
    let partition = if rolling {
        int(set, "/spec/updateStrategy/rollingUpdate/partition")
    } else {
        0
    };
    let parallel = set
        .pointer("/spec/podManagementPolicy")
        .and_then(Value::as_str)
        == Some("Parallel");

    let pods: Vec<Value> = owned(store, &PODS, set)
        .into_iter()
        .filter(pod_active)
        .collect();
    let by_ord = |ord: i64| pods.iter().find(|p| ordinal(set, p) == Some(ord)).cloned();
    let mut acted = false;
    let mut blocked = false;
    for ord in 0..replicas {
        match by_ord(ord) {
            None => {
                // Pods below the partition stay at the current revision (newVersionedStatefulSetPod).
                let revision = if rolling && ord < partition {
                    &current_rev
                } else {
                    &history.update
                };
                create_pod(store, set, revision, ord);
                acted = true;
                if !parallel {
                    blocked = true;
                    break;
                }
            }
            Some(p) if !parallel && !running_and_ready(&p) => {
                blocked = true;
                break;
            }
            Some(_) => {}
        }
    }
    if !blocked {
        let mut condemned: Vec<Value> = pods
            .iter()
            .filter(|p| ordinal(set, p).is_none_or(|o| o >= replicas))
            .cloned()
            .collect();
        condemned.sort_by_key(|p| std::cmp::Reverse(ordinal(set, p)));
        for p in condemned {
            delete_pod(store, set, &p);
            acted = true;
            if !parallel {
                break;
            }
        }
    }
    let all_healthy = (0..replicas).all(|o| by_ord(o).is_some_and(|p| running_and_ready(&p)));
    if rolling && !acted && all_healthy {
        for ord in (partition.max(0)..replicas).rev() {
            if let Some(p) = by_ord(ord) {
                if revision_of(&p) != update_name {
                    delete_pod(store, set, &p);
                    break;
                }
            }
        }
    }

    let now = store.clock.now_ms();
    let min_ready = int(set, "/spec/minReadySeconds");
    let pods: Vec<Value> = owned(store, &PODS, set)
        .into_iter()
        .filter(pod_active)
        .collect();
    let count = |f: &dyn Fn(&Value) -> bool| {
        i64::try_from(pods.iter().filter(|p| f(p)).count()).unwrap_or(0)
    };
    let total = i64::try_from(pods.len()).unwrap_or(0);
    let ready = count(&|p| pod_ready(p));
    let available = count(&|p| pod_available(p, min_ready, now));
    let updated = count(&|p| revision_of(p) == update_name);
    let mut current_replicas = count(&|p| revision_of(p) == current_name);
    let mut current = current_name.clone();
    if rolling && updated == total && ready == total {
        current = update_name.clone();
        current_replicas = updated;
    }
    let mut status = counts(&[
        (
            "observedGeneration",
            int(set, "/metadata/generation"),
            false,
        ),
        ("replicas", total, true),
        ("readyReplicas", ready, false),
        ("currentReplicas", current_replicas, false),
        ("updatedReplicas", updated, false),
        ("availableReplicas", available, true),
    ]);
    status.insert("currentRevision".into(), json!(current));
    status.insert("updateRevision".into(), json!(update_name));
    status.insert(
        "collisionCount".into(),
        json!(int(set, "/status/collisionCount")),
    );
    let live: Vec<String> = pods
        .iter()
        .map(|p| revision_of(p).to_string())
        .chain([current])
        .collect();
    history::truncate(
        store,
        &history,
        &live,
        int(set, "/spec/revisionHistoryLimit"),
    );
    if let Some(fresh) = store.get(&STATEFULSETS, namespace(set), name(set)).cloned() {
        super::write_status(store, &STATEFULSETS, &fresh, Value::Object(status));
    }
}

/// Syncs every StatefulSet once.
pub(super) fn sync_all(_ctrl: &mut Controllers, store: &mut Store) {
    for set in store.list(&STATEFULSETS, None) {
        if let Some(current) = store
            .get(&STATEFULSETS, namespace(&set), name(&set))
            .cloned()
        {
            sync(store, &current);
        }
    }
}
