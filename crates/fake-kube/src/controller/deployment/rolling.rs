//! The rolling update (`rolling.go`): how far the new ReplicaSet may scale up within `maxSurge`
//! and how far old ReplicaSets may scale down within `maxUnavailable`, unhealthy replicas first.

use super::{Sync, max_surge, max_unavailable, spec_replicas};
use crate::controller::int;

impl Sync<'_> {
    /// `NewRSNewReplicas`.
    pub(super) fn new_rs_new_replicas(&self, new_rs_replicas: i64, all_replicas: i64) -> i64 {
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

    /// `reconcileNewReplicaSet`.
    pub(super) fn reconcile_new(&mut self) -> bool {
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

    /// `reconcileOldReplicaSets` with `cleanupUnhealthyReplicas` and
    /// `scaleDownOldReplicaSetsForRollingUpdate`.
    pub(super) fn reconcile_old(&mut self) -> bool {
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
}
