//! Whether a rollout is done: `kubectl rollout status`'s rules, as pure functions of the
//! object (the model is kube-rs `kube-runtime/src/wait.rs`: a predicate tested on YAML).
//!
//! The `kubectl_*` functions follow `k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`
//! branch for branch and return its exact messages (without the trailing newline). kube's
//! own `conditions::is_deployment_completed()` is not used: it only looks at the
//! `Progressing` condition's reason, so a Deployment whose new spec the controller has not
//! observed yet still carries the previous rollout's `NewReplicaSetAvailable` and counts as
//! complete. [`evaluate`] adds the two rules a gate needs on top of kubectl's: the status
//! must describe at least the generation our PATCH returned, and a paused Deployment fails
//! instead of waiting out the timeout.

use k8s_openapi::Metadata;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::config::WorkloadKind;

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
        let ready = if kind == WorkloadKind::StatefulSet {
            "ready"
        } else {
            "available"
        };
        format!(
            "{}/{} updated, {}/{} {ready}",
            self.updated, self.desired, self.ready, self.desired
        )
    }
}

/// What the rollout logic needs from a Deployment, StatefulSet or DaemonSet.
pub trait RolloutObject: Metadata<Ty = ObjectMeta> {
    /// Which kind this is.
    const KIND: WorkloadKind;
    /// kubectl's verdict on this object.
    fn kubectl_status(&self) -> RolloutState;
    /// `metadata.name`.
    fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }
    /// `metadata.generation` (0 when absent, as Go reads it).
    fn generation(&self) -> i64 {
        self.metadata().generation.unwrap_or(0)
    }
    /// `status.observedGeneration` (0 when absent).
    fn observed_generation(&self) -> i64;
    /// `spec.template`.
    fn template(&self) -> Option<&PodTemplateSpec>;
    /// Replica counts.
    fn progress(&self) -> Progress;
    /// `spec.paused` (Deployments only).
    fn paused(&self) -> bool {
        false
    }
    /// `None` when kubectl can follow this object's update strategy, else kubectl's error.
    fn unsupported_strategy(&self) -> Option<String> {
        None
    }
}

/// kubectl's message while the controller has not seen the latest spec.
pub fn spec_not_observed(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Deployment => "Waiting for deployment spec update to be observed...",
        WorkloadKind::StatefulSet => "Waiting for statefulset spec update to be observed...",
        WorkloadKind::DaemonSet => "Waiting for daemon set spec update to be observed...",
    }
}

/// The gate's verdict: kubectl's rules, tied to `min_generation` (the generation our PATCH
/// returned, or the one we read when nothing needed patching).
///
/// A stale object (from a watch cache or a list served before the patch) can show an old
/// generation fully observed; kubectl would call it complete. Requiring
/// `observedGeneration >= min_generation` closes that gap.
pub fn evaluate<K: RolloutObject>(obj: &K, min_generation: i64) -> RolloutState {
    if let Some(msg) = obj.unsupported_strategy() {
        return RolloutState::Failed(msg);
    }
    if obj.observed_generation() < min_generation {
        return RolloutState::Progressing(spec_not_observed(<K as RolloutObject>::KIND).to_owned());
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

fn n(v: Option<i32>) -> i32 {
    v.unwrap_or(0)
}

impl RolloutObject for Deployment {
    const KIND: WorkloadKind = WorkloadKind::Deployment;

    fn kubectl_status(&self) -> RolloutState {
        kubectl_deployment_status(self)
    }
    fn observed_generation(&self) -> i64 {
        self.status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0)
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().map(|s| &s.template)
    }
    fn progress(&self) -> Progress {
        let st = self.status.clone().unwrap_or_default();
        Progress {
            desired: self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            updated: n(st.updated_replicas),
            ready: n(st.available_replicas),
        }
    }
    fn paused(&self) -> bool {
        self.spec.as_ref().and_then(|s| s.paused).unwrap_or(false)
    }
}

impl RolloutObject for StatefulSet {
    const KIND: WorkloadKind = WorkloadKind::StatefulSet;

    fn kubectl_status(&self) -> RolloutState {
        kubectl_statefulset_status(self)
    }
    fn observed_generation(&self) -> i64 {
        self.status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0)
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().map(|s| &s.template)
    }
    fn progress(&self) -> Progress {
        let st = self.status.clone().unwrap_or_default();
        Progress {
            desired: self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            updated: n(st.updated_replicas),
            ready: n(st.ready_replicas),
        }
    }
    fn unsupported_strategy(&self) -> Option<String> {
        let t = self
            .spec
            .as_ref()
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.type_.as_deref());
        (t != Some("RollingUpdate")).then(unsupported_message)
    }
}

impl RolloutObject for DaemonSet {
    const KIND: WorkloadKind = WorkloadKind::DaemonSet;

    fn kubectl_status(&self) -> RolloutState {
        kubectl_daemonset_status(self)
    }
    fn observed_generation(&self) -> i64 {
        self.status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0)
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().map(|s| &s.template)
    }
    fn progress(&self) -> Progress {
        let st = self.status.clone().unwrap_or_default();
        Progress {
            desired: st.desired_number_scheduled,
            updated: n(st.updated_number_scheduled),
            ready: n(st.number_available),
        }
    }
    fn unsupported_strategy(&self) -> Option<String> {
        let t = self
            .spec
            .as_ref()
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.type_.as_deref());
        (t != Some("RollingUpdate")).then(unsupported_message)
    }
}

/// kubectl's error for `OnDelete` (it names the StatefulSet constant for DaemonSets too;
/// both are the string `RollingUpdate`).
fn unsupported_message() -> String {
    "rollout status is only available for RollingUpdate strategy type".to_owned()
}

/// `DeploymentStatusViewer.Status` with `revision == 0`.
pub fn kubectl_deployment_status(d: &Deployment) -> RolloutState {
    let name = d.metadata.name.as_deref().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    let st = d.status.clone().unwrap_or_default();
    if generation > st.observed_generation.unwrap_or(0) {
        return RolloutState::Progressing(spec_not_observed(WorkloadKind::Deployment).to_owned());
    }
    let progressing = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing");
    if progressing.is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
        return RolloutState::Failed(format!(
            "deployment \"{name}\" exceeded its progress deadline"
        ));
    }
    let (updated, replicas, available) = (
        n(st.updated_replicas),
        n(st.replicas),
        n(st.available_replicas),
    );
    if let Some(want) = d.spec.as_ref().and_then(|s| s.replicas)
        && updated < want
    {
        return RolloutState::Progressing(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {updated} out of {want} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return RolloutState::Progressing(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return RolloutState::Progressing(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    RolloutState::Complete(format!("deployment \"{name}\" successfully rolled out"))
}

/// `DaemonSetStatusViewer.Status`.
pub fn kubectl_daemonset_status(ds: &DaemonSet) -> RolloutState {
    if let Some(msg) = ds.unsupported_strategy() {
        return RolloutState::Failed(msg);
    }
    let name = ds.metadata.name.as_deref().unwrap_or_default();
    let st = ds.status.clone().unwrap_or_default();
    if ds.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0) {
        return RolloutState::Progressing(spec_not_observed(WorkloadKind::DaemonSet).to_owned());
    }
    let (updated, desired, available) = (
        n(st.updated_number_scheduled),
        st.desired_number_scheduled,
        n(st.number_available),
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
        return RolloutState::Progressing(spec_not_observed(WorkloadKind::StatefulSet).to_owned());
    }
    let spec = sts.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas);
    let ready = n(st.ready_replicas);
    if let Some(want) = replicas
        && ready < want
    {
        return RolloutState::Progressing(format!(
            "Waiting for {} pods to be ready...",
            want - ready
        ));
    }
    let updated = n(st.updated_replicas);
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
        n(st.current_replicas)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RolloutState::{Complete, Failed, Progressing};

    fn deploy(spec_extra: &str, generation: i64, status: &str) -> Deployment {
        let yaml = format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: default
  generation: {generation}
spec:
  replicas: 3
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
      - name: api
        image: example.com/api:2
{spec_extra}
status:
{status}
"#
        );
        serde_yaml::from_str(&yaml).unwrap()
    }

    #[test]
    fn deployment_follows_kubectl_branch_for_branch() {
        let cases: Vec<(&str, Deployment, RolloutState)> = vec![
            (
                "generation not observed yet",
                deploy("", 4, "  observedGeneration: 3\n  replicas: 3\n  updatedReplicas: 3\n  availableReplicas: 3"),
                Progressing("Waiting for deployment spec update to be observed...".into()),
            ),
            (
                "status missing entirely",
                deploy("", 1, "  {}"),
                Progressing("Waiting for deployment spec update to be observed...".into()),
            ),
            (
                "progress deadline exceeded wins over counts",
                deploy(
                    "",
                    4,
                    r#"  observedGeneration: 4
  replicas: 4
  updatedReplicas: 1
  availableReplicas: 3
  conditions:
  - type: Available
    status: "True"
    reason: MinimumReplicasAvailable
  - type: Progressing
    status: "False"
    reason: ProgressDeadlineExceeded
    message: ReplicaSet "api-7c9d" has timed out progressing."#,
                ),
                Failed("deployment \"api\" exceeded its progress deadline".into()),
            ),
            (
                "new replicas not all updated",
                deploy(
                    "",
                    4,
                    r#"  observedGeneration: 4
  replicas: 4
  updatedReplicas: 1
  availableReplicas: 3
  conditions:
  - type: Progressing
    status: "True"
    reason: ReplicaSetUpdated"#,
                ),
                Progressing("Waiting for deployment \"api\" rollout to finish: 1 out of 3 new replicas have been updated...".into()),
            ),
            (
                "old replicas pending termination",
                deploy("", 4, "  observedGeneration: 4\n  replicas: 4\n  updatedReplicas: 3\n  availableReplicas: 3"),
                Progressing("Waiting for deployment \"api\" rollout to finish: 1 old replicas are pending termination...".into()),
            ),
            (
                "updated but not available",
                deploy("", 4, "  observedGeneration: 4\n  replicas: 3\n  updatedReplicas: 3\n  availableReplicas: 2"),
                Progressing("Waiting for deployment \"api\" rollout to finish: 2 of 3 updated replicas are available...".into()),
            ),
            (
                "complete",
                deploy(
                    "",
                    4,
                    r#"  observedGeneration: 4
  replicas: 3
  updatedReplicas: 3
  readyReplicas: 3
  availableReplicas: 3
  conditions:
  - type: Progressing
    status: "True"
    reason: NewReplicaSetAvailable"#,
                ),
                Complete("deployment \"api\" successfully rolled out".into()),
            ),
            (
                "observed ahead of generation still counts as observed",
                deploy("", 4, "  observedGeneration: 5\n  replicas: 3\n  updatedReplicas: 3\n  availableReplicas: 3"),
                Complete("deployment \"api\" successfully rolled out".into()),
            ),
            (
                "paused: kubectl just waits",
                deploy("  paused: true", 4, "  observedGeneration: 4\n  replicas: 3\n  updatedReplicas: 0\n  availableReplicas: 3"),
                Progressing("Waiting for deployment \"api\" rollout to finish: 0 out of 3 new replicas have been updated...".into()),
            ),
        ];
        for (name, d, want) in cases {
            assert_eq!(kubectl_deployment_status(&d), want, "{name}");
        }
    }

    #[test]
    fn no_spec_replicas_skips_the_updated_check_like_kubectl() {
        let mut d = deploy(
            "",
            2,
            "  observedGeneration: 2\n  replicas: 1\n  updatedReplicas: 1\n  availableReplicas: 1",
        );
        if let Some(s) = d.spec.as_mut() {
            s.replicas = None;
        }
        assert_eq!(
            kubectl_deployment_status(&d),
            Complete("deployment \"api\" successfully rolled out".into())
        );
        assert_eq!(d.progress().desired, 1, "the API server's default");
    }

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

    fn sts(strategy: &str, generation: i64, status: &str) -> StatefulSet {
        let yaml = format!(
            r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, generation: {generation}}}
spec:
  replicas: 3
  serviceName: db
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec: {{containers: [{{name: db, image: "db:2"}}]}}
  updateStrategy:
{strategy}
status:
{status}
"#
        );
        serde_yaml::from_str(&yaml).unwrap()
    }

    #[test]
    fn statefulset_follows_kubectl_branch_for_branch() {
        let rolling = "    type: RollingUpdate\n    rollingUpdate: {partition: 0}";
        let partitioned = "    type: RollingUpdate\n    rollingUpdate: {partition: 2}";
        let bare = "    type: RollingUpdate";
        let cases: Vec<(&str, StatefulSet, RolloutState)> = vec![
            (
                "OnDelete",
                sts("    type: OnDelete", 2, "  replicas: 3\n  observedGeneration: 2"),
                Failed("rollout status is only available for RollingUpdate strategy type".into()),
            ),
            (
                "never observed",
                sts(rolling, 1, "  replicas: 0"),
                Progressing("Waiting for statefulset spec update to be observed...".into()),
            ),
            (
                "old generation observed",
                sts(rolling, 3, "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: 3"),
                Progressing("Waiting for statefulset spec update to be observed...".into()),
            ),
            (
                "not all ready",
                sts(rolling, 2, "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: 1\n  updatedReplicas: 1"),
                Progressing("Waiting for 2 pods to be ready...".into()),
            ),
            (
                "partition not reached",
                sts(partitioned, 2, "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: 3\n  updatedReplicas: 0"),
                Progressing("Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...".into()),
            ),
            (
                "partition reached",
                sts(partitioned, 2, "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: 3\n  updatedReplicas: 1"),
                Complete("partitioned roll out complete: 1 new pods have been updated...".into()),
            ),
            (
                "partition 0 (the API default) decides even while revisions differ",
                sts(
                    rolling,
                    2,
                    "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: 3\n  updatedReplicas: 3\n  currentRevision: db-1\n  updateRevision: db-2",
                ),
                Complete("partitioned roll out complete: 3 new pods have been updated...".into()),
            ),
            (
                "no rollingUpdate: revisions differ",
                sts(
                    bare,
                    2,
                    "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: 3\n  updatedReplicas: 2\n  currentRevision: db-1\n  updateRevision: db-2",
                ),
                Progressing("waiting for statefulset rolling update to complete 2 pods at revision db-2...".into()),
            ),
            (
                "no rollingUpdate: revisions equal",
                sts(
                    bare,
                    2,
                    "  replicas: 3\n  observedGeneration: 2\n  readyReplicas: 3\n  updatedReplicas: 3\n  currentReplicas: 3\n  currentRevision: db-2\n  updateRevision: db-2",
                ),
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

    fn ds(strategy: &str, generation: i64, status: &str) -> DaemonSet {
        let yaml = format!(
            r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, generation: {generation}}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec: {{containers: [{{name: agent, image: "agent:2"}}]}}
  updateStrategy:
{strategy}
status:
{status}
"#
        );
        serde_yaml::from_str(&yaml).unwrap()
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
