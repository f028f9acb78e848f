//! The Deployment controller, after `pkg/controller/deployment`: new ReplicaSets named
//! `<deployment>-<pod-template-hash>`, revision and revision-history annotations, rolling updates
//! bounded by `maxSurge`/`maxUnavailable`, Recreate, pause, proportional scaling, history cleanup,
//! and the `Available`/`Progressing` conditions with their real reasons, including
//! `ProgressDeadlineExceeded` once `progressDeadlineSeconds` of simulated time pass without progress.
//!
//! kubectl decides "rolled out", "exceeded its progress deadline" and rollback targets from exactly
//! these fields, so the arithmetic follows the real controller line by line (`rolling.go`,
//! `sync.go`, `progress.go`, `util/deployment_util.go`; the observable contract is
//! <https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status>).
//!
//! One job a file: this module holds the spec, the shared helpers and `sync` (which path a sync
//! takes); `revisions` finds or creates the new ReplicaSet and keeps revision annotations and
//! history; `rolling` is the rolling-update arithmetic; `scaling` resizes ReplicaSets (with the
//! simplified proportional scaling); `status` computes the status and its conditions.

mod revisions;
mod rolling;
mod scaling;
mod status;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::{int, name, namespace, owned, without_nulls};
use crate::resources::{DEPLOYMENTS, REPLICASETS};
use crate::store::Store;

const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const HASH_LABEL: &str = "pod-template-hash";
/// Annotations never copied from a Deployment to its ReplicaSets (`skipCopyAnnotation`).
const SKIP_COPY: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];
const MAX_REV_HISTORY_CHARS: usize = 2000;

/// The spec values the controller needs, read through the typed k8s-openapi struct.
struct Spec {
    replicas: i64,
    paused: bool,
    recreate: bool,
    max_surge: Option<IntOrString>,
    max_unavailable: Option<IntOrString>,
    progress_deadline: Option<i64>,
    min_ready: i64,
    history_limit: Option<i64>,
}

fn read_spec(obj: &Value) -> Spec {
    let typed: Option<Deployment> = serde_json::from_value(obj.clone()).ok();
    let spec = typed.and_then(|d| d.spec).unwrap_or_default();
    let strategy = spec.strategy.unwrap_or_default();
    let rolling = strategy.rolling_update.unwrap_or_default();
    Spec {
        replicas: i64::from(spec.replicas.unwrap_or(1)),
        paused: spec.paused.unwrap_or(false),
        recreate: strategy.type_.as_deref() == Some("Recreate"),
        max_surge: rolling.max_surge,
        max_unavailable: rolling.max_unavailable,
        progress_deadline: spec.progress_deadline_seconds.map(i64::from),
        min_ready: i64::from(spec.min_ready_seconds.unwrap_or(0)),
        history_limit: spec.revision_history_limit.map(i64::from),
    }
}

/// `intstr.GetScaledValueFromIntOrPercent`.
fn scaled(v: Option<&IntOrString>, total: i64, round_up: bool) -> i64 {
    match v {
        Some(IntOrString::Int(i)) => i64::from(*i),
        Some(IntOrString::String(s)) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            let product = pct * total;
            if round_up {
                (product + 99) / 100
            } else {
                product / 100
            }
        }
        None => 0,
    }
}

/// `ResolveFenceposts`: (surge, unavailable).
fn fenceposts(spec: &Spec) -> (i64, i64) {
    let surge = scaled(spec.max_surge.as_ref(), spec.replicas, true);
    let mut unavailable = scaled(spec.max_unavailable.as_ref(), spec.replicas, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

fn max_surge(spec: &Spec) -> i64 {
    if spec.recreate { 0 } else { fenceposts(spec).0 }
}

fn max_unavailable(spec: &Spec) -> i64 {
    if spec.recreate || spec.replicas == 0 {
        return 0;
    }
    fenceposts(spec).1.min(spec.replicas)
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

fn revision(rs: &Value) -> i64 {
    annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn created(rs: &Value) -> String {
    format!(
        "{}{}",
        rs.pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        name(rs)
    )
}

fn template_without_hash(t: &Value) -> Value {
    let mut t = without_nulls(t);
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    t
}

/// `EqualIgnoreHash` of two pod templates.
fn templates_equal(a: &Value, b: &Value) -> bool {
    template_without_hash(a) == template_without_hash(b)
}

fn spec_replicas(rs: &Value) -> i64 {
    int(rs, "/spec/replicas")
}

/// The working state of one sync.
struct Sync<'a> {
    store: &'a mut Store,
    /// The deployment being synced; status and annotations are edited in place and written once.
    d: Value,
    /// The status stored when the sync started (the "old" status of the progress checks).
    stored_status: Value,
    spec: Spec,
    new_rs: Option<Value>,
    old_rss: Vec<Value>,
}

impl Sync<'_> {
    fn now(&self) -> String {
        self.store.clock.timestamp()
    }

    fn record(&mut self, reason: &str, message: &str) {
        let d = self.d.clone();
        self.store.record_event(
            &DEPLOYMENTS,
            &d,
            "Normal",
            reason,
            message,
            "deployment-controller",
        );
    }

    fn all_rss(&self) -> Vec<Value> {
        let mut all = self.old_rss.clone();
        if let Some(n) = &self.new_rs {
            all.push(n.clone());
        }
        all
    }

    fn replace_rs(&mut self, rs: Value) {
        if self.new_rs.as_ref().is_some_and(|n| name(n) == name(&rs)) {
            self.new_rs = Some(rs);
            return;
        }
        for old in &mut self.old_rss {
            if name(old) == name(&rs) {
                *old = rs;
                return;
            }
        }
    }

    fn sorted_old(&self) -> Vec<Value> {
        let mut old = self.old_rss.clone();
        old.sort_by_key(created);
        old
    }

    fn write(self) {
        let stored = self
            .store
            .get(&DEPLOYMENTS, namespace(&self.d), name(&self.d))
            .cloned();
        if let Some(stored) = stored {
            let mut updated = stored.clone();
            updated["status"] = self.d.get("status").cloned().unwrap_or_else(|| json!({}));
            if let Some(a) = self.d.pointer("/metadata/annotations") {
                updated["metadata"]["annotations"] = a.clone();
            }
            if without_nulls(&updated) != without_nulls(&stored) {
                self.store.replace(&DEPLOYMENTS, updated);
            }
        }
    }
}

fn sync(store: &mut Store, d: Value) {
    let spec = read_spec(&d);
    let template = d.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    let mut rss = owned(store, &REPLICASETS, &d);
    rss.sort_by_key(created);
    let new_rs = rss
        .iter()
        .find(|r| {
            templates_equal(
                r.pointer("/spec/template").unwrap_or(&Value::Null),
                &template,
            )
        })
        .cloned();
    let old_rss: Vec<Value> = rss
        .into_iter()
        .filter(|r| new_rs.as_ref().is_none_or(|n| name(n) != name(r)))
        .collect();
    let stored_status = d.get("status").cloned().unwrap_or_else(|| json!({}));
    let mut s = Sync {
        store,
        d,
        stored_status,
        spec,
        new_rs,
        old_rss,
    };
    s.check_paused_conditions();

    if s.spec.paused || s.is_scaling_event() {
        s.get_new_rs(false);
        s.scale();
        if s.spec.paused {
            s.cleanup();
        }
        let status = s.calculate_status();
        s.d["status"] = status;
        s.write();
        return;
    }

    if s.spec.recreate {
        s.get_new_rs(false);
        let active_old: Vec<Value> = s
            .old_rss
            .iter()
            .filter(|r| spec_replicas(r) > 0)
            .cloned()
            .collect();
        let mut scaled_down = false;
        for rs in &active_old {
            scaled_down |= s.scale_rs(rs, 0);
        }
        let old_running = s.old_rss.iter().any(|r| int(r, "/status/replicas") > 0);
        if !scaled_down && !old_running {
            if s.new_rs.is_none() {
                s.get_new_rs(true);
            } else if let Some(n) = s.new_rs.clone() {
                let target = s.spec.replicas;
                s.scale_rs(&n, target);
            }
            if s.complete(&s.stored_status.clone()) {
                s.cleanup();
            }
        }
        let status = s.rollout_status();
        s.d["status"] = status;
        s.write();
        return;
    }

    s.get_new_rs(true);
    let scaled = s.reconcile_new() || s.reconcile_old();
    if !scaled && s.complete(&s.stored_status.clone()) {
        s.cleanup();
    }
    let status = s.rollout_status();
    s.d["status"] = status;
    s.write();
}

/// Syncs every Deployment once.
pub(super) fn sync_all(store: &mut Store) {
    for d in store.list(&DEPLOYMENTS, None) {
        if let Some(current) = store.get(&DEPLOYMENTS, namespace(&d), name(&d)).cloned() {
            sync(store, current);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenceposts_round_like_the_controller() {
        let spec = |replicas, surge: &str, unavailable: &str| Spec {
            replicas,
            paused: false,
            recreate: false,
            max_surge: Some(IntOrString::String(surge.into())),
            max_unavailable: Some(IntOrString::String(unavailable.into())),
            progress_deadline: Some(600),
            min_ready: 0,
            history_limit: Some(10),
        };
        assert_eq!(fenceposts(&spec(3, "25%", "25%")), (1, 0));
        assert_eq!(fenceposts(&spec(4, "25%", "25%")), (1, 1));
        assert_eq!(fenceposts(&spec(10, "0%", "0%")), (0, 1));
        assert_eq!(max_unavailable(&spec(1, "0%", "100%")), 1);
    }
}
