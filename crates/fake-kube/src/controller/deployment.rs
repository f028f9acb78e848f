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
//! Proportional scaling of several active ReplicaSets is simplified: the whole difference goes to
//! the largest one.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::replicaset::counts;
use super::{controller_ref, int, name, namespace, owned, without_nulls};
use crate::names::hash_value;
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

    fn conditions(&self) -> Vec<Value> {
        self.d
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    fn condition(&self, kind: &str) -> Option<Value> {
        self.conditions().into_iter().find(|c| c["type"] == kind)
    }

    /// `SetDeploymentCondition`: no-op when status and reason are unchanged; keeps the transition
    /// time when only the reason changes.
    fn set_condition(status: &mut Value, cond: Value) {
        let mut conds: Vec<Value> = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(existing) = conds.iter().find(|c| c["type"] == cond["type"]) {
            if existing["status"] == cond["status"] && existing["reason"] == cond["reason"] {
                return;
            }
            let mut cond = cond.clone();
            if existing["status"] == cond["status"] {
                cond["lastTransitionTime"] = existing["lastTransitionTime"].clone();
            }
            conds.retain(|c| c["type"] != cond["type"]);
            conds.push(cond);
        } else {
            conds.push(cond);
        }
        status["conditions"] = Value::Array(conds);
    }

    fn new_condition(&self, kind: &str, status: &str, reason: &str, message: String) -> Value {
        let now = self.now();
        json!({"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
    }

    fn set_own_condition(&mut self, cond: Value) {
        if !self.d.get("status").is_some_and(Value::is_object) {
            self.d["status"] = json!({});
        }
        Self::set_condition(&mut self.d["status"], cond);
    }

    fn has_progress_deadline(&self) -> bool {
        self.spec
            .progress_deadline
            .is_some_and(|s| s != i64::from(i32::MAX))
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

    /// `checkPausedConditions`.
    fn check_paused_conditions(&mut self) {
        if !self.has_progress_deadline() {
            return;
        }
        let cond = self.condition("Progressing");
        let reason = cond
            .as_ref()
            .and_then(|c| c["reason"].as_str())
            .unwrap_or_default()
            .to_string();
        if reason == "ProgressDeadlineExceeded" {
            return;
        }
        let paused_exists = reason == "DeploymentPaused";
        if self.spec.paused && !paused_exists {
            let c = self.new_condition(
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused".into(),
            );
            self.set_own_condition(c);
        } else if !self.spec.paused && paused_exists {
            let c = self.new_condition(
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed".into(),
            );
            self.set_own_condition(c);
        }
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

    /// `SetReplicasAnnotations` + `scaleReplicaSet` + its event.
    fn scale_rs(&mut self, rs: &Value, new_scale: i64) -> bool {
        let replicas = self.spec.replicas;
        let max = replicas + max_surge(&self.spec);
        let old_scale = spec_replicas(rs);
        let annotations_ok = annotation(rs, DESIRED_REPLICAS)
            == Some(replicas.to_string().as_str())
            && annotation(rs, MAX_REPLICAS) == Some(max.to_string().as_str());
        if old_scale == new_scale && annotations_ok {
            return false;
        }
        let mut updated = rs.clone();
        updated["spec"]["replicas"] = json!(new_scale);
        updated["metadata"]["annotations"][DESIRED_REPLICAS] = json!(replicas.to_string());
        updated["metadata"]["annotations"][MAX_REPLICAS] = json!(max.to_string());
        if old_scale != new_scale {
            let g = int(&updated, "/metadata/generation");
            updated["metadata"]["generation"] = json!(g + 1);
        }
        let stored = self.store.replace(&REPLICASETS, updated);
        self.replace_rs(stored);
        if old_scale != new_scale {
            let op = if new_scale > old_scale { "up" } else { "down" };
            let msg = format!(
                "Scaled {op} replica set {} from {old_scale} to {new_scale}",
                name(rs)
            );
            self.record("ScalingReplicaSet", &msg);
        }
        old_scale != new_scale
    }

    /// `copyDeploymentAnnotationsToReplicaSet` + revision bookkeeping of
    /// `SetNewReplicaSetAnnotations`; returns whether anything changed.
    fn set_new_rs_annotations(&self, rs: &mut Value, new_revision: i64, exists: bool) -> bool {
        let mut changed = false;
        if !rs["metadata"]["annotations"].is_object() {
            rs["metadata"]["annotations"] = json!({});
        }
        if let Some(d_ann) = self
            .d
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            for (k, v) in d_ann {
                if SKIP_COPY.contains(&k.as_str())
                    || rs["metadata"]["annotations"].get(k) == Some(v)
                {
                    continue;
                }
                rs["metadata"]["annotations"][k] = v.clone();
                changed = true;
            }
        }
        let old = annotation(rs, REVISION).map(str::to_string);
        let old_int: i64 = old.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0);
        if old_int < new_revision {
            rs["metadata"]["annotations"][REVISION] = json!(new_revision.to_string());
            changed = true;
            if let Some(old) = old {
                let history = annotation(rs, REVISION_HISTORY)
                    .unwrap_or_default()
                    .to_string();
                let mut revs: Vec<String> = history
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                revs.push(old);
                while revs.join(",").len() > MAX_REV_HISTORY_CHARS && revs.len() > 1 {
                    revs.remove(0);
                }
                rs["metadata"]["annotations"][REVISION_HISTORY] = json!(revs.join(","));
            }
        }
        if !exists {
            rs["metadata"]["annotations"][DESIRED_REPLICAS] = json!(self.spec.replicas.to_string());
            rs["metadata"]["annotations"][MAX_REPLICAS] =
                json!((self.spec.replicas + max_surge(&self.spec)).to_string());
            changed = true;
        }
        changed
    }

    fn set_deployment_revision(&mut self, revision: &str) {
        if annotation(&self.d, REVISION) != Some(revision) {
            if !self.d["metadata"]["annotations"].is_object() {
                self.d["metadata"]["annotations"] = json!({});
            }
            self.d["metadata"]["annotations"][REVISION] = json!(revision);
        }
    }

    /// `NewRSNewReplicas`.
    fn new_rs_new_replicas(&self, new_rs_replicas: i64, all_replicas: i64) -> i64 {
        if self.spec.recreate {
            return self.spec.replicas;
        }
        let max_total = self.spec.replicas + max_surge(&self.spec);
        if all_replicas >= max_total {
            return new_rs_replicas;
        }
        let up = (max_total - all_replicas).min(self.spec.replicas - new_rs_replicas);
        new_rs_replicas + up
    }

    /// `getNewReplicaSet`: finds (and re-revisions) or creates the ReplicaSet for the current
    /// template.
    fn get_new_rs(&mut self, create: bool) {
        let max_old = self.old_rss.iter().map(revision).max().unwrap_or(0);
        let new_revision = max_old + 1;
        if let Some(existing) = self.new_rs.clone() {
            let mut rs = existing.clone();
            let changed = self.set_new_rs_annotations(&mut rs, new_revision, true);
            let min_ready = self.spec.min_ready;
            let min_ready_changed = int(&rs, "/spec/minReadySeconds") != min_ready;
            if changed || min_ready_changed {
                if min_ready_changed {
                    rs["spec"]["minReadySeconds"] = json!(min_ready);
                    let g = int(&rs, "/metadata/generation");
                    rs["metadata"]["generation"] = json!(g + 1);
                }
                let stored = self.store.replace(&REPLICASETS, rs);
                self.new_rs = Some(stored);
                // The real controller returns here and picks the deployment revision up on the
                // next sync; doing it now saves a tick without changing what clients see last.
            }
            let rev = annotation(self.new_rs.as_ref().unwrap_or(&existing), REVISION)
                .unwrap_or_default()
                .to_string();
            self.set_deployment_revision(&rev);
            if self.has_progress_deadline() && self.condition("Progressing").is_none() {
                let c = self.new_condition(
                    "Progressing",
                    "True",
                    "FoundNewReplicaSet",
                    format!("Found new replica set \"{}\"", name(&existing)),
                );
                self.set_own_condition(c);
            }
            return;
        }
        if !create {
            return;
        }
        let template = self
            .d
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let collision = self
            .d
            .pointer("/status/collisionCount")
            .and_then(Value::as_i64);
        let hash = hash_value(&template, collision);
        let mut rs_template = template.clone();
        rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
        let mut selector = self
            .d
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or_else(|| json!({}));
        selector["matchLabels"][HASH_LABEL] = json!(hash);
        let rs_name = format!("{}-{hash}", name(&self.d));
        let all_replicas: i64 = self.old_rss.iter().map(spec_replicas).sum();
        let replicas = self.new_rs_new_replicas(0, all_replicas);
        let mut rs = json!({
            "metadata": {
                "name": rs_name,
                "namespace": namespace(&self.d),
                "labels": rs_template["metadata"]["labels"].clone(),
                "ownerReferences": [controller_ref(&DEPLOYMENTS, &self.d)],
                "annotations": {},
            },
            "spec": {
                "replicas": replicas,
                "minReadySeconds": self.spec.min_ready,
                "selector": selector,
                "template": rs_template,
            },
        });
        if self.spec.min_ready == 0 {
            if let Some(s) = rs["spec"].as_object_mut() {
                s.remove("minReadySeconds");
            }
        }
        self.set_new_rs_annotations(&mut rs, new_revision, false);
        crate::defaults::apply(&REPLICASETS, &mut rs);
        let created = if let Some(existing) = self
            .store
            .get(&REPLICASETS, namespace(&self.d), &rs_name)
            .cloned()
        {
            // A leftover with the same name (hash collision): adopt it as the real controller
            // would after bumping collisionCount; rare enough to keep simple.
            existing
        } else {
            self.store.insert_new(&REPLICASETS, rs)
        };
        if replicas > 0 {
            self.record(
                "ScalingReplicaSet",
                &format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
            );
        }
        self.set_deployment_revision(&new_revision.to_string());
        if self.has_progress_deadline() {
            let c = self.new_condition(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                format!("Created new replica set \"{rs_name}\""),
            );
            self.set_own_condition(c);
        }
        self.new_rs = Some(created);
    }

    /// `calculateStatus`.
    fn calculate_status(&self) -> Value {
        let all = self.all_rss();
        let available: i64 = all
            .iter()
            .map(|r| int(r, "/status/availableReplicas"))
            .sum();
        let total: i64 = all.iter().map(spec_replicas).sum();
        let unavailable = (total - available).max(0);
        let updated = self
            .new_rs
            .as_ref()
            .map_or(0, |r| int(r, "/status/replicas"));
        let mut status = Value::Object(counts(&[
            (
                "observedGeneration",
                int(&self.d, "/metadata/generation"),
                false,
            ),
            (
                "replicas",
                all.iter().map(|r| int(r, "/status/replicas")).sum(),
                false,
            ),
            ("updatedReplicas", updated, false),
            (
                "readyReplicas",
                all.iter().map(|r| int(r, "/status/readyReplicas")).sum(),
                false,
            ),
            ("availableReplicas", available, false),
            ("unavailableReplicas", unavailable, false),
        ]));
        if let Some(c) = self.d.pointer("/status/collisionCount") {
            status["collisionCount"] = c.clone();
        }
        status["conditions"] = json!(self.conditions());
        let cond = if available >= self.spec.replicas - max_unavailable(&self.spec) {
            self.new_condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
            )
        } else {
            self.new_condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
            )
        };
        Self::set_condition(&mut status, cond);
        status
    }

    fn complete(&self, status: &Value) -> bool {
        let r = self.spec.replicas;
        int(status, "/updatedReplicas") == r
            && int(status, "/replicas") == r
            && int(status, "/availableReplicas") == r
            && int(status, "/observedGeneration") >= int(&self.d, "/metadata/generation")
    }

    /// `syncRolloutStatus`: the Progressing condition, including the deadline.
    fn rollout_status(&mut self) -> Value {
        let mut status = self.calculate_status();
        if !self.has_progress_deadline() {
            if let Some(conds) = status.get_mut("conditions").and_then(Value::as_array_mut) {
                conds.retain(|c| c["type"] != "Progressing");
            }
        }
        let current = self.condition("Progressing");
        let reason = current
            .as_ref()
            .and_then(|c| c["reason"].as_str())
            .unwrap_or_default()
            .to_string();
        let is_complete = int(&status, "/replicas") == int(&status, "/updatedReplicas")
            && reason == "NewReplicaSetAvailable";
        if self.has_progress_deadline() && !is_complete {
            let new_name = self.new_rs.as_ref().map(|r| name(r).to_string());
            let old = &self.stored_status;
            let progressing = int(&status, "/updatedReplicas") > int(old, "/updatedReplicas")
                || (int(&status, "/replicas") - int(&status, "/updatedReplicas"))
                    < (int(old, "/replicas") - int(old, "/updatedReplicas"))
                || int(&status, "/readyReplicas") > int(old, "/readyReplicas")
                || int(&status, "/availableReplicas") > int(old, "/availableReplicas");
            if self.complete(&status) {
                let msg = match &new_name {
                    Some(n) => format!("ReplicaSet \"{n}\" has successfully progressed."),
                    None => format!(
                        "Deployment \"{}\" has successfully progressed.",
                        name(&self.d)
                    ),
                };
                let c = self.new_condition("Progressing", "True", "NewReplicaSetAvailable", msg);
                Self::set_condition(&mut status, c);
            } else if progressing {
                let msg = match &new_name {
                    Some(n) => format!("ReplicaSet \"{n}\" is progressing."),
                    None => format!("Deployment \"{}\" is progressing.", name(&self.d)),
                };
                let mut c = self.new_condition("Progressing", "True", "ReplicaSetUpdated", msg);
                if let Some(cur) = &current {
                    if cur["status"] == "True" {
                        c["lastTransitionTime"] = cur["lastTransitionTime"].clone();
                    }
                }
                if let Some(conds) = status.get_mut("conditions").and_then(Value::as_array_mut) {
                    conds.retain(|c| c["type"] != "Progressing");
                    conds.push(c);
                }
            } else if self.timed_out(current.as_ref()) {
                let msg = match &new_name {
                    Some(n) => format!("ReplicaSet \"{n}\" has timed out progressing."),
                    None => format!(
                        "Deployment \"{}\" has timed out progressing.",
                        name(&self.d)
                    ),
                };
                let c = self.new_condition("Progressing", "False", "ProgressDeadlineExceeded", msg);
                Self::set_condition(&mut status, c);
            }
        }
        status
    }

    /// `DeploymentTimedOut`.
    fn timed_out(&self, cond: Option<&Value>) -> bool {
        let Some(cond) = cond else { return false };
        match cond["reason"].as_str() {
            Some("NewReplicaSetAvailable") => false,
            Some("ProgressDeadlineExceeded") => true,
            _ => {
                let from = cond["lastUpdateTime"]
                    .as_str()
                    .and_then(crate::clock::parse_time)
                    .unwrap_or(0);
                let deadline = self.spec.progress_deadline.unwrap_or(600) * 1000;
                from + deadline < self.store.clock.now_ms()
            }
        }
    }

    /// `reconcileNewReplicaSet`.
    fn reconcile_new(&mut self) -> bool {
        let Some(new_rs) = self.new_rs.clone() else {
            return false;
        };
        let current = spec_replicas(&new_rs);
        if current == self.spec.replicas {
            return false;
        }
        if current > self.spec.replicas {
            return self.scale_rs(&new_rs, self.spec.replicas);
        }
        let all: i64 = self.all_rss().iter().map(spec_replicas).sum();
        let target = self.new_rs_new_replicas(current, all);
        self.scale_rs(&new_rs, target)
    }

    fn sorted_old(&self) -> Vec<Value> {
        let mut old = self.old_rss.clone();
        old.sort_by_key(created);
        old
    }

    /// `reconcileOldReplicaSets` with `cleanupUnhealthyReplicas` and
    /// `scaleDownOldReplicaSetsForRollingUpdate`.
    fn reconcile_old(&mut self) -> bool {
        let old_count: i64 = self.old_rss.iter().map(spec_replicas).sum();
        if old_count == 0 {
            return false;
        }
        let all_count: i64 = self.all_rss().iter().map(spec_replicas).sum();
        let min_available = self.spec.replicas - max_unavailable(&self.spec);
        let new_unavailable = self.new_rs.as_ref().map_or(0, |r| {
            spec_replicas(r) - int(r, "/status/availableReplicas")
        });
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        let mut total = 0;
        for rs in self.sorted_old() {
            if total >= max_scaled_down {
                break;
            }
            let replicas = spec_replicas(&rs);
            let available = int(&rs, "/status/availableReplicas");
            if replicas == 0 || replicas == available {
                continue;
            }
            let down = (max_scaled_down - total).min(replicas - available);
            self.scale_rs(&rs, replicas - down);
            total += down;
        }
        let available: i64 = self
            .all_rss()
            .iter()
            .map(|r| int(r, "/status/availableReplicas"))
            .sum();
        let mut scaled = total;
        if available > min_available {
            let target = available - min_available;
            let mut done = 0;
            for rs in self.sorted_old() {
                if done >= target {
                    break;
                }
                let replicas = spec_replicas(&rs);
                if replicas == 0 {
                    continue;
                }
                let down = replicas.min(target - done);
                self.scale_rs(&rs, replicas - down);
                done += down;
            }
            scaled += done;
        }
        scaled > 0
    }

    /// `cleanupDeployment`: deletes the oldest empty ReplicaSets beyond `revisionHistoryLimit`.
    fn cleanup(&mut self) {
        let Some(limit) = self.spec.history_limit else {
            return;
        };
        let mut old = self.old_rss.clone();
        let diff = i64::try_from(old.len()).unwrap_or(0) - limit;
        if diff <= 0 {
            return;
        }
        old.sort_by_key(revision);
        for rs in old.iter().take(usize::try_from(diff).unwrap_or(0)) {
            if int(rs, "/status/replicas") != 0
                || spec_replicas(rs) != 0
                || int(rs, "/metadata/generation") > int(rs, "/status/observedGeneration")
            {
                continue;
            }
            self.store.remove(&REPLICASETS, namespace(rs), name(rs));
            self.old_rss.retain(|o| name(o) != name(rs));
        }
    }

    /// `scale`: the sync path for paused deployments and pure scaling events.
    fn scale(&mut self) {
        let mut active: Vec<Value> = self
            .all_rss()
            .into_iter()
            .filter(|r| spec_replicas(r) > 0)
            .collect();
        let target = self.spec.replicas;
        let active_or_latest = match active.len() {
            0 => self.new_rs.clone().or_else(|| {
                let mut old = self.sorted_old();
                old.pop()
            }),
            1 => active.first().cloned(),
            _ => None,
        };
        if let Some(rs) = active_or_latest {
            if spec_replicas(&rs) != target {
                self.scale_rs(&rs, target);
            }
            return;
        }
        let saturated = self.new_rs.as_ref().is_some_and(|n| {
            spec_replicas(n) == target
                && annotation(n, DESIRED_REPLICAS) == Some(target.to_string().as_str())
                && int(n, "/status/availableReplicas") == target
        });
        if saturated {
            for rs in self.old_rss.clone().iter().filter(|r| spec_replicas(r) > 0) {
                self.scale_rs(rs, 0);
            }
            return;
        }
        if self.spec.recreate {
            return;
        }
        let allowed = if target > 0 {
            target + max_surge(&self.spec)
        } else {
            0
        };
        let current: i64 = active.iter().map(spec_replicas).sum();
        let delta = allowed - current;
        if delta == 0 {
            return;
        }
        active.sort_by_key(|r| (std::cmp::Reverse(spec_replicas(r)), created(r)));
        if delta > 0 {
            active.sort_by_key(|r| {
                (
                    std::cmp::Reverse(spec_replicas(r)),
                    std::cmp::Reverse(created(r)),
                )
            });
        }
        if let Some(first) = active.first().cloned() {
            let size = (spec_replicas(&first) + delta).max(0);
            self.scale_rs(&first, size);
        }
    }

    /// `isScalingEvent`.
    fn is_scaling_event(&self) -> bool {
        self.all_rss()
            .iter()
            .filter(|r| spec_replicas(r) > 0)
            .filter_map(|r| annotation(r, DESIRED_REPLICAS).and_then(|a| a.parse::<i64>().ok()))
            .any(|desired| desired != self.spec.replicas)
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
