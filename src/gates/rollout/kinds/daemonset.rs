//! DaemonSets: kubectl's status rules, scheduled and available counts, the newest
//! ControllerRevision and its pods (the label fail fast matches).
//! Pure.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;

use super::{Kind, NewRevision, pods_at_revision};
use crate::gates::rollout::names::WorkloadKind;
use crate::gates::rollout::status::{Progress, RolloutState, count, spec_not_observed};

impl Kind for DaemonSet {
    const WORKLOAD: WorkloadKind = WorkloadKind::DaemonSet;
    const REVISION_FROM_HISTORY: bool = true;
    fields_every_kind_has!(rolling_update_only);
    type History = ControllerRevision;

    fn kubectl_status(&self) -> RolloutState {
        kubectl_daemonset_status(self)
    }
    fn progress(&self) -> Progress {
        let st = self.status.clone().unwrap_or_default();
        Progress {
            desired: st.desired_number_scheduled,
            updated: count(st.updated_number_scheduled),
            ready: count(st.number_available),
        }
    }
    /// The newest ControllerRevision's number.
    fn revision(&self, history: &[ControllerRevision]) -> Option<String> {
        history
            .iter()
            .map(|cr| cr.revision)
            .max()
            .map(|r| r.to_string())
    }
    /// The pods at the newest ControllerRevision (all of the DaemonSet's when unknown).
    fn new_revision<'p>(&self, history: &[ControllerRevision], pods: &'p [Pod]) -> NewRevision<'p> {
        let newest = history
            .iter()
            .max_by_key(|cr| cr.revision)
            .and_then(|cr| cr.metadata.name.as_deref());
        NewRevision {
            pods: pods_at_revision(self.uid(), newest, pods),
            event_objects: Vec::new(),
            history_lines: Vec::new(),
        }
    }
    const POD_REVISION_LABEL: &'static str = "controller-revision-hash";
    const POD_REVISION_FROM_HISTORY: bool = true;
    /// The newest ControllerRevision's name (its pods carry the hash, the name's suffix).
    fn pod_revision(&self, history: &[ControllerRevision]) -> Option<String> {
        history
            .iter()
            .max_by_key(|cr| cr.revision)
            .and_then(|cr| cr.metadata.name.clone())
    }
}

/// `DaemonSetStatusViewer.Status`.
pub fn kubectl_daemonset_status(ds: &DaemonSet) -> RolloutState {
    if let Some(msg) = ds.unsupported_strategy() {
        return RolloutState::Failed(msg);
    }
    let name = ds.metadata.name.as_deref().unwrap_or_default();
    let st = ds.status.clone().unwrap_or_default();
    if ds.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0) {
        return RolloutState::Progressing(spec_not_observed(WorkloadKind::DaemonSet));
    }
    let (updated, desired, available) = (
        count(st.updated_number_scheduled),
        st.desired_number_scheduled,
        count(st.number_available),
    );
    if updated < desired {
        return RolloutState::Progressing(format!(
            "Waiting for daemon set \"{name}\" rollout to finish: {updated} out of {desired} new pods have been updated..."
        ));
    }
    if available < desired {
        return RolloutState::Progressing(format!(
            "Waiting for daemon set \"{name}\" rollout to finish: {available} of {desired} updated pods are available..."
        ));
    }
    RolloutState::Complete(format!("daemon set \"{name}\" successfully rolled out"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::gates::rollout::kinds::tests::workload;
    use RolloutState::{Complete, Failed, Progressing};

    pub(crate) fn ds(strategy: &str, generation: i64, status: &str) -> DaemonSet {
        let spec = format!("  updateStrategy:\n{strategy}");
        workload("DaemonSet", "agent", "agent:2", generation, &spec, status)
    }

    #[test]
    fn daemonset_follows_kubectl_branch_for_branch() {
        let rolling = "    type: RollingUpdate\n    rollingUpdate: {maxUnavailable: 1}";
        let base = "  currentNumberScheduled: 3\n  desiredNumberScheduled: 3\n  numberMisscheduled: 0\n  numberReady: 3";
        let cases: Vec<(&str, DaemonSet, RolloutState)> = vec![
            (
                "OnDelete",
                ds("    type: OnDelete", 2, base),
                Failed("rollout status is only available for RollingUpdate strategy type".into()),
            ),
            (
                "not observed",
                ds(rolling, 3, &format!("{base}\n  observedGeneration: 2")),
                Progressing("Waiting for daemon set spec update to be observed...".into()),
            ),
            (
                "not all updated",
                ds(rolling, 2, &format!("{base}\n  observedGeneration: 2\n  updatedNumberScheduled: 1\n  numberAvailable: 3")),
                Progressing("Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated...".into()),
            ),
            (
                "not all available",
                ds(rolling, 2, &format!("{base}\n  observedGeneration: 2\n  updatedNumberScheduled: 3\n  numberAvailable: 2")),
                Progressing("Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available...".into()),
            ),
            (
                "complete",
                ds(rolling, 2, &format!("{base}\n  observedGeneration: 2\n  updatedNumberScheduled: 3\n  numberAvailable: 3")),
                Complete("daemon set \"agent\" successfully rolled out".into()),
            ),
        ];
        for (name, d, want) in cases {
            assert_eq!(kubectl_daemonset_status(&d), want, "{name}");
        }
    }
}
