//! The Deployment's status: replica counts, the `Available` condition (`calculateStatus`), and
//! the `Progressing` condition with its reasons, including pause/resume and
//! `ProgressDeadlineExceeded` once `progressDeadlineSeconds` of simulated time pass without
//! progress (`syncRolloutStatus`, `progress.go`). Reads the sync state; writes nothing to the store.

use serde_json::{Value, json};

use super::{Sync, max_unavailable, spec_replicas};
use crate::controller::replicaset::counts;
use crate::controller::{int, name};

impl Sync<'_> {
    fn conditions(&self) -> Vec<Value> {
        self.d
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    pub(super) fn condition(&self, kind: &str) -> Option<Value> {
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

    pub(super) fn new_condition(
        &self,
        kind: &str,
        status: &str,
        reason: &str,
        message: String,
    ) -> Value {
        let now = self.now();
        json!({"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
    }

    pub(super) fn set_own_condition(&mut self, cond: Value) {
        if !self.d.get("status").is_some_and(Value::is_object) {
            self.d["status"] = json!({});
        }
        Self::set_condition(&mut self.d["status"], cond);
    }

    pub(super) fn has_progress_deadline(&self) -> bool {
        self.spec
            .progress_deadline
            .is_some_and(|s| s != i64::from(i32::MAX))
    }

    /// `checkPausedConditions`.
    pub(super) fn check_paused_conditions(&mut self) {
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

    /// `calculateStatus`.
    pub(super) fn calculate_status(&self) -> Value {
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

    pub(super) fn complete(&self, status: &Value) -> bool {
        let r = self.spec.replicas;
        int(status, "/updatedReplicas") == r
            && int(status, "/replicas") == r
            && int(status, "/availableReplicas") == r
            && int(status, "/observedGeneration") >= int(&self.d, "/metadata/generation")
    }

    /// `syncRolloutStatus`: the Progressing condition, including the deadline.
    pub(super) fn rollout_status(&mut self) -> Value {
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
}
