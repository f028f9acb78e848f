//! The ReplicaSet controller: keeps `spec.replicas` pods, deletes the least useful ones first, and
//! reports replicas, ready and available counts (`pkg/controller/replicaset`).

use serde_json::{Map, Value, json};

use super::{
    Controllers, controller_ref, int, name, namespace, owned, pod_active, pod_available, pod_ready,
};
use crate::resources::{PODS, REPLICASETS};
use crate::store::Store;

/// Deletion preference (lower first), after `controller.ActivePods`: unscheduled, pending,
/// not ready, then the newest.
fn deletion_rank(pod: &Value) -> (u8, u8, u8, std::cmp::Reverse<String>) {
    let scheduled = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let created = pod
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    (
        u8::from(scheduled),
        u8::from(phase == "Running"),
        u8::from(pod_ready(pod)),
        std::cmp::Reverse(created + name(pod)),
    )
}

/// Builds a status with Go's `omitempty` rules (zero counts are left out, `replicas` is not).
pub(super) fn counts(fields: &[(&str, i64, bool)]) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v, always) in fields {
        if *always || *v != 0 {
            m.insert((*k).to_string(), json!(v));
        }
    }
    m
}

fn sync(ctrl: &mut Controllers, store: &mut Store, rs: &Value) {
    let _ = ctrl;
    let ns = namespace(rs).to_string();
    let want = usize::try_from(int(rs, "/spec/replicas").max(0)).unwrap_or(0);
    let mut pods: Vec<Value> = owned(store, &PODS, rs)
        .into_iter()
        .filter(pod_active)
        .collect();
    if pods.len() < want {
        let template = rs
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        for _ in pods.len()..want {
            let pod_name = format!("{}-{}", name(rs), store.ids.suffix());
            let mut pod = super::pod_from_template(
                &template,
                &ns,
                &pod_name,
                controller_ref(&REPLICASETS, rs),
                &[],
            );
            pod["metadata"]["generateName"] = json!(format!("{}-", name(rs)));
            let created = store.insert_new(&PODS, pod);
            store.record_event(
                &REPLICASETS,
                rs,
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {pod_name}"),
                "replicaset-controller",
            );
            pods.push(created);
        }
    } else if pods.len() > want {
        pods.sort_by_key(deletion_rank);
        let surplus = pods.len() - want;
        for pod in pods.drain(..surplus) {
            store.remove(&PODS, &ns, name(&pod));
            store.record_event(
                &REPLICASETS,
                rs,
                "Normal",
                "SuccessfulDelete",
                &format!("Deleted pod: {}", name(&pod)),
                "replicaset-controller",
            );
        }
    }
    let now = store.clock.now_ms();
    let min_ready = int(rs, "/spec/minReadySeconds");
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let available = pods
        .iter()
        .filter(|p| pod_available(p, min_ready, now))
        .count();
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    let status = counts(&[
        ("replicas", n(pods.len()), true),
        ("fullyLabeledReplicas", n(pods.len()), false),
        ("readyReplicas", n(ready), false),
        ("availableReplicas", n(available), false),
        ("observedGeneration", int(rs, "/metadata/generation"), false),
    ]);
    super::write_status(store, &REPLICASETS, rs, Value::Object(status));
}

/// Syncs every ReplicaSet once.
pub(super) fn sync_all(ctrl: &mut Controllers, store: &mut Store) {
    for rs in store.list(&REPLICASETS, None) {
        if let Some(current) = store.get(&REPLICASETS, namespace(&rs), name(&rs)).cloned() {
            sync(ctrl, store, &current);
        }
    }
}
