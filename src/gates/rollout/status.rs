//! Whether a rollout is done: `kubectl rollout status`'s rules, as pure functions of the
//! object (the model is kube-rs `kube-runtime/src/wait.rs`: a predicate tested on YAML).
//!
//! The per-kind `kubectl_*_status` functions (in `kinds/`) follow `k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`
//! branch for branch and return its exact messages (without the trailing newline). kube's
//! own `conditions::is_deployment_completed()` is not used: it only looks at the
//! `Progressing` condition's reason, so a Deployment whose new spec the controller has not
//! observed yet still carries the previous rollout's `NewReplicaSetAvailable` and counts as
//! complete. [`evaluate`] adds the two rules a gate needs on top of kubectl's: the status
//! must describe at least the generation our PATCH returned, and a paused Deployment fails
//! instead of waiting out the timeout.

use super::kinds::Kind;
use super::names::WorkloadKind;

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    /// Done (kubectl exits 0 with this message).
    Complete(String),
    /// Not done yet; keep watching.
    Progressing(String),
    /// Will not finish on its own (kubectl exits with this error).
    Failed(String),
}

impl RolloutState {
    /// The message, whatever the state.
    pub fn message(&self) -> &str {
        match self {
            RolloutState::Complete(m) | RolloutState::Progressing(m) | RolloutState::Failed(m) => m,
        }
    }
}

/// Replica counts for the progression line of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Replicas (or scheduled daemon pods) wanted.
    pub desired: i32,
    /// Replicas running the new template.
    pub updated: i32,
    /// Replicas ready (StatefulSet) or available (Deployment, DaemonSet).
    pub ready: i32,
}

impl Progress {
    /// `2/3 updated, 1/3 ready`.
    pub fn describe(&self, kind: WorkloadKind) -> String {
        format!(
            "{}/{} updated, {}/{} {}",
            self.updated,
            self.desired,
            self.ready,
            self.desired,
            kind.ready_word()
        )
    }
}

/// kubectl's message while the controller has not seen the latest spec.
pub fn spec_not_observed(kind: WorkloadKind) -> String {
    format!(
        "Waiting for {} spec update to be observed...",
        kind.described()
    )
}

/// kubectl's error for `OnDelete` (it names the StatefulSet constant for DaemonSets too;
/// both are the string `RollingUpdate`).
pub fn unsupported_message() -> String {
    "rollout status is only available for RollingUpdate strategy type".to_owned()
}

/// `0`, as Go reads an absent count.
pub fn count(v: Option<i32>) -> i32 {
    v.unwrap_or(0)
}

/// The gate's verdict: kubectl's rules, tied to `min_generation` (the generation our PATCH
/// returned, or the one we read when nothing needed patching).
///
/// A stale object (from a watch cache or a list served before the patch) can show an old
/// generation fully observed; kubectl would call it complete. Requiring
/// `observedGeneration >= min_generation` closes that gap.
pub fn evaluate<K: Kind>(obj: &K, min_generation: i64) -> RolloutState {
    if let Some(msg) = obj.unsupported_strategy() {
        return RolloutState::Failed(msg);
    }
    if obj.observed_generation() < min_generation {
        return RolloutState::Progressing(spec_not_observed(K::WORKLOAD));
    }
    match obj.kubectl_status() {
        // The controller observed the paused spec and will not roll it out: kubectl would
        // wait out its timeout; a gate should say why at once.
        RolloutState::Progressing(_)
            if obj.paused() && obj.observed_generation() >= obj.generation() =>
        {
            RolloutState::Failed(format!(
                "deployment \"{}\" is paused, so its new template will not roll out (resume it with `kubectl rollout resume`)",
                obj.name()
            ))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::rollout::kinds::daemonset::tests::ds;
    use crate::gates::rollout::kinds::deployment::kubectl_deployment_status;
    use crate::gates::rollout::kinds::deployment::tests::deploy;
    use crate::gates::rollout::kinds::statefulset::tests::sts;
    use RolloutState::{Complete, Failed, Progressing};

    #[test]
    fn kube_rs_is_deployment_completed_is_fooled_where_evaluate_is_not() {
        // Right after our PATCH: generation 5, the controller still on 4 and the previous
        // rollout's NewReplicaSetAvailable condition still there.
        let d = deploy(
            "",
            5,
            r#"  observedGeneration: 4
  replicas: 3
  updatedReplicas: 3
  availableReplicas: 3
  conditions:
  - type: Progressing
    status: "True"
    reason: NewReplicaSetAvailable"#,
        );
        use kube::runtime::wait::{Condition, conditions::is_deployment_completed};
        assert!(
            is_deployment_completed().matches_object(Some(&d)),
            "kube-rs says complete"
        );
        assert_eq!(
            evaluate(&d, 5),
            Progressing("Waiting for deployment spec update to be observed...".into())
        );
    }

    #[test]
    fn evaluate_ties_the_verdict_to_our_generation() {
        // A stale copy: generation 4 fully rolled out, but our PATCH returned generation 5.
        let stale = deploy(
            "",
            4,
            "  observedGeneration: 4\n  replicas: 3\n  updatedReplicas: 3\n  availableReplicas: 3",
        );
        assert_eq!(
            kubectl_deployment_status(&stale),
            Complete("deployment \"api\" successfully rolled out".into())
        );
        assert_eq!(
            evaluate(&stale, 5),
            Progressing("Waiting for deployment spec update to be observed...".into())
        );
        assert_eq!(
            evaluate(&stale, 4),
            Complete("deployment \"api\" successfully rolled out".into())
        );
    }

    #[test]
    fn evaluate_fails_a_paused_deployment_once_observed() {
        let paused = deploy(
            "  paused: true",
            4,
            "  observedGeneration: 4\n  replicas: 3\n  updatedReplicas: 0\n  availableReplicas: 3",
        );
        match evaluate(&paused, 4) {
            Failed(m) => assert_eq!(
                m,
                "deployment \"api\" is paused, so its new template will not roll out (resume it with `kubectl rollout resume`)"
            ),
            other => panic!("{other:?}"),
        }
        let not_observed = deploy("  paused: true", 5, "  observedGeneration: 4");
        assert!(matches!(evaluate(&not_observed, 5), Progressing(_)));
        let done = deploy(
            "  paused: true",
            4,
            "  observedGeneration: 4\n  replicas: 3\n  updatedReplicas: 3\n  availableReplicas: 3",
        );
        assert!(
            matches!(evaluate(&done, 4), Complete(_)),
            "a paused deployment that is already rolled out is healthy"
        );
    }

    #[test]
    fn evaluate_follows_kubectl_for_every_kind_and_fails_on_delete_at_once() {
        let on_delete = sts(
            "    type: OnDelete",
            2,
            "  replicas: 3\n  observedGeneration: 1",
        );
        assert_eq!(
            evaluate(&on_delete, 2),
            Failed(unsupported_message()),
            "the strategy is checked before the generation"
        );
        let agent = ds(
            "    type: RollingUpdate",
            3,
            "  desiredNumberScheduled: 3\n  currentNumberScheduled: 3\n  numberMisscheduled: 0\n  numberReady: 3\n  observedGeneration: 2",
        );
        assert_eq!(
            evaluate(&agent, 3),
            Progressing("Waiting for daemon set spec update to be observed...".into())
        );
        for kind in WorkloadKind::ALL {
            assert!(spec_not_observed(kind).contains(kind.described()));
        }
    }

    #[test]
    fn progress_lines() {
        let d = deploy(
            "",
            4,
            "  observedGeneration: 4\n  replicas: 4\n  updatedReplicas: 2\n  availableReplicas: 3",
        );
        assert_eq!(
            d.progress().describe(WorkloadKind::Deployment),
            "2/3 updated, 3/3 available"
        );
        let s = sts(
            "    type: RollingUpdate",
            2,
            "  replicas: 3\n  readyReplicas: 1\n  updatedReplicas: 2",
        );
        assert_eq!(
            s.progress().describe(WorkloadKind::StatefulSet),
            "2/3 updated, 1/3 ready"
        );
    }
}
