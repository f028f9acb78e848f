//! Scaling (`sync.go`): resizing one ReplicaSet with its desired/max-replicas annotations and
//! event, detecting a pure scaling event, and the scale path for paused deployments. Proportional
//! scaling of several active ReplicaSets is simplified: the whole difference goes to the largest one.

use serde_json::{Value, json};

use super::{DESIRED_REPLICAS, MAX_REPLICAS, Sync, annotation, created, max_surge, spec_replicas};
use crate::controller::{int, name};
use crate::resources::REPLICASETS;

impl Sync<'_> {
    /// `SetReplicasAnnotations` + `scaleReplicaSet` + its event.
    pub(super) fn scale_rs(&mut self, rs: &Value, new_scale: i64) -> bool {
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

    /// `scale`: the sync path for paused deployments and pure scaling events.
    pub(super) fn scale(&mut self) {
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
    pub(super) fn is_scaling_event(&self) -> bool {
        self.all_rss()
            .iter()
            .filter(|r| spec_replicas(r) > 0)
            .filter_map(|r| annotation(r, DESIRED_REPLICAS).and_then(|a| a.parse::<i64>().ok()))
            .any(|desired| desired != self.spec.replicas)
    }
}
