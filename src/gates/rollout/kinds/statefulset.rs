//! StatefulSets: kubectl's status rules (partitions included), ready counts, the update
//! revision and its pods (the label fail fast matches), and why a
//! StatefulSet rollback can stay stuck. Pure.

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::Pod;

use super::{Kind, NewRevision, pods_at_revision};
use crate::gates::rollout::names::WorkloadKind;
use crate::gates::rollout::status::{Progress, RolloutState, count, spec_not_observed};

impl Kind for StatefulSet {
    const WORKLOAD: WorkloadKind = WorkloadKind::StatefulSet;
    const REVISION_FROM_HISTORY: bool = true;
    fields_every_kind_has!(rolling_update_only);
    type History = ControllerRevision;

    fn kubectl_status(&self) -> RolloutState {
        kubectl_statefulset_status(self)
    }
    fn progress(&self) -> Progress {
        let st = self.status.clone().unwrap_or_default();
        Progress {
            desired: self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            updated: count(st.updated_replicas),
            ready: count(st.ready_replicas),
        }
    }
    /// The number of the update revision's ControllerRevision, else the newest.
    fn revision(&self, history: &[ControllerRevision]) -> Option<String> {
        let update = self
            .status
            .as_ref()
            .and_then(|st| st.update_revision.clone());
        let named = history
            .iter()
            .find(|cr| cr.metadata.name == update)
            .map(|cr| cr.revision);
        named
            .or_else(|| history.iter().map(|cr| cr.revision).max())
            .map(|r| r.to_string())
    }
    /// The pods at the update revision (its name is in the status; no history needed).
    fn new_revision<'p>(&self, _: &[ControllerRevision], pods: &'p [Pod]) -> NewRevision<'p> {
        let rev = self
            .status
            .as_ref()
            .and_then(|st| st.update_revision.as_deref());
        NewRevision {
            pods: pods_at_revision(self.uid(), rev, pods),
            event_objects: Vec::new(),
            history_lines: Vec::new(),
        }
    }
    const POD_REVISION_LABEL: &'static str = "controller-revision-hash";
    const POD_REVISION_FROM_HISTORY: bool = false;
    /// `status.updateRevision`.
    fn pod_revision(&self, _: &[ControllerRevision]) -> Option<String> {
        self.status
            .as_ref()
            .and_then(|st| st.update_revision.clone())
            .filter(|r| !r.is_empty())
    }
    /// A StatefulSet waits for a pod of the broken revision to become ready before it
    /// replaces it, so reverting the template alone can leave it stuck; Kubernetes
    /// documents deleting those pods by hand.
    fn rollback_stuck_hint() -> Option<&'static str> {
        Some(
            "a StatefulSet keeps pods of the broken revision until they are deleted (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#forced-rollback)",
        )
    }
}

/// `StatefulSetStatusViewer.Status`.
///
/// Note kubectl's quirk, kept on purpose: the API server defaults
/// `updateStrategy.rollingUpdate.partition` to 0, so for any StatefulSet read from a real
/// cluster the partition branch decides, and the `updateRevision == currentRevision` branch
/// is reached only when `rollingUpdate` is absent.
pub fn kubectl_statefulset_status(sts: &StatefulSet) -> RolloutState {
    if let Some(msg) = sts.unsupported_strategy() {
        return RolloutState::Failed(msg);
    }
    let st = sts.status.clone().unwrap_or_default();
    let observed = st.observed_generation.unwrap_or(0);
    if observed == 0 || sts.metadata.generation.unwrap_or(0) > observed {
        return RolloutState::Progressing(spec_not_observed(WorkloadKind::StatefulSet));
    }
    let spec = sts.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas);
    let ready = count(st.ready_replicas);
    if let Some(want) = replicas
        && ready < want
    {
        return RolloutState::Progressing(format!(
            "Waiting for {} pods to be ready...",
            want - ready
        ));
    }
    let updated = count(st.updated_replicas);
    if let Some(rolling) = spec
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
    {
        if let (Some(want), Some(partition)) = (replicas, rolling.partition)
            && updated < want - partition
        {
            return RolloutState::Progressing(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                want - partition
            ));
        }
        return RolloutState::Complete(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        ));
    }
    let update_rev = st.update_revision.clone().unwrap_or_default();
    let current_rev = st.current_revision.clone().unwrap_or_default();
    if update_rev != current_rev {
        return RolloutState::Progressing(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}..."
        ));
    }
    RolloutState::Complete(format!(
        "statefulset rolling update complete {} pods at revision {current_rev}...",
        count(st.current_replicas)
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::gates::rollout::kinds::tests::workload;
    use crate::gates::rollout::status::{evaluate, unsupported_message};
    use RolloutState::{Complete, Failed, Progressing};

    pub(crate) fn sts(strategy: &str, generation: i64, status: &str) -> StatefulSet {
        let spec = format!("  replicas: 3\n  serviceName: db\n  updateStrategy:\n{strategy}");
        workload("StatefulSet", "db", "db:2", generation, &spec, status)
    }

    /// `status:` lines: generation 2 observed, `ready` and `updated` of 3 replicas, `more`.
    fn observed(ready: i32, updated: i32, more: &str) -> String {
        format!(
            "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: {ready}\n  updatedReplicas: {updated}{more}"
        )
    }

    #[test]
    fn statefulset_follows_kubectl_branch_for_branch() {
        let rolling = "    type: RollingUpdate\n    rollingUpdate: {partition: 0}";
        let partitioned = "    type: RollingUpdate\n    rollingUpdate: {partition: 2}";
        let bare = "    type: RollingUpdate";
        let revisions =
            |current: &str| format!("\n  currentRevision: {current}\n  updateRevision: db-2");
        let unobserved =
            Progressing("Waiting for statefulset spec update to be observed...".into());
        let partition_done = |n: i32| {
            Complete(format!(
                "partitioned roll out complete: {n} new pods have been updated..."
            ))
        };
        let cases = [
            ("OnDelete", sts("    type: OnDelete", 2, &observed(3, 3, "")), Failed(unsupported_message())),
            ("never observed", sts(rolling, 1, "  replicas: 0"), unobserved.clone()),
            ("old generation observed", sts(rolling, 3, &observed(3, 0, "")), unobserved),
            ("not all ready", sts(rolling, 2, &observed(1, 1, "")), Progressing("Waiting for 2 pods to be ready...".into())),
            (
                "partition not reached",
                sts(partitioned, 2, &observed(3, 0, "")),
                Progressing("Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...".into()),
            ),
            ("partition reached", sts(partitioned, 2, &observed(3, 1, "")), partition_done(1)),
            (
                "partition 0 (the API default) decides even while revisions differ",
                sts(rolling, 2, &observed(3, 3, &revisions("db-1"))),
                partition_done(3),
            ),
            (
                "no rollingUpdate: revisions differ",
                sts(bare, 2, &observed(3, 2, &revisions("db-1"))),
                Progressing("waiting for statefulset rolling update to complete 2 pods at revision db-2...".into()),
            ),
            (
                "no rollingUpdate: revisions equal",
                sts(bare, 2, &observed(3, 3, &format!("\n  currentReplicas: 3{}", revisions("db-2")))),
                Complete("statefulset rolling update complete 3 pods at revision db-2...".into()),
            ),
        ];
        for (name, s, want) in cases {
            assert_eq!(kubectl_statefulset_status(&s), want, "{name}");
            assert_eq!(
                evaluate(&s, 0),
                want,
                "{name}: evaluate agrees when the generation is not pinned"
            );
        }
    }

    #[test]
    fn revision_is_the_update_revision_number_else_the_newest() {
        let s = sts(
            "    type: RollingUpdate",
            2,
            "  replicas: 3\n  updateRevision: db-2f",
        );
        let cr = |name: &str, rev: i64| -> ControllerRevision {
            serde_yaml::from_str(&format!("metadata: {{name: {name}}}\nrevision: {rev}\n")).unwrap()
        };
        assert_eq!(
            s.revision(&[cr("db-1a", 1), cr("db-2f", 2), cr("db-3c", 3)]),
            Some("2".into())
        );
        assert_eq!(
            s.revision(&[cr("db-1a", 1), cr("db-3c", 3)]),
            Some("3".into())
        );
        assert_eq!(s.revision(&[]), None);
        assert!(StatefulSet::rollback_stuck_hint().is_some_and(|h| h.contains("forced-rollback")));
    }
}
