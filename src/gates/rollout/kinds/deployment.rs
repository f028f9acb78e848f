//! Deployments: kubectl's status rules, replica counts, the revision annotation, the new
//! ReplicaSet, its pods and their `pod-template-hash` (for fail fast). Pure.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{
    Kind, NewRevision, REVISION_ANNOTATION, controlled_by, pods_owned_by, revision_annotation,
};
use crate::gates::rollout::names::WorkloadKind;
use crate::gates::rollout::status::{Progress, RolloutState, count, spec_not_observed};
use crate::gates::rollout::undo;

impl Kind for Deployment {
    const WORKLOAD: WorkloadKind = WorkloadKind::Deployment;
    const REVISION_FROM_HISTORY: bool = false;
    type History = ReplicaSet;

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
    fn selector(&self) -> Option<&LabelSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }
    fn progress(&self) -> Progress {
        let st = self.status.clone().unwrap_or_default();
        Progress {
            desired: self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            updated: count(st.updated_replicas),
            ready: count(st.available_replicas),
        }
    }
    fn paused(&self) -> bool {
        self.spec.as_ref().and_then(|s| s.paused).unwrap_or(false)
    }
    /// The `deployment.kubernetes.io/revision` annotation.
    fn revision(&self, _: &[ReplicaSet]) -> Option<String> {
        self.metadata
            .annotations
            .as_ref()?
            .get(REVISION_ANNOTATION)
            .cloned()
    }
    /// The new ReplicaSet's pods; its events; a line per ReplicaSet, newest first.
    fn new_revision<'p>(&self, history: &[ReplicaSet], pods: &'p [Pod]) -> NewRevision<'p> {
        let new_rs = new_replicaset(self, history);
        NewRevision {
            pods: pods_owned_by(new_rs.and_then(|rs| rs.metadata.uid.as_deref()), pods),
            event_objects: new_rs
                .map(|rs| {
                    (
                        "ReplicaSet".to_owned(),
                        rs.metadata.name.clone().unwrap_or_default(),
                    )
                })
                .into_iter()
                .collect(),
            history_lines: owned_replicasets(self, history)
                .into_iter()
                .map(replicaset_line)
                .collect(),
        }
    }
    const POD_REVISION_LABEL: &'static str = undo::POD_TEMPLATE_HASH;
    const POD_REVISION_FROM_HISTORY: bool = true;
    /// The new ReplicaSet's `pod-template-hash`.
    fn pod_revision(&self, history: &[ReplicaSet]) -> Option<String> {
        let rs = new_replicaset(self, history)?;
        if revision_annotation(&rs.metadata) != revision_annotation(&self.metadata) {
            return None;
        }
        rs.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(undo::POD_TEMPLATE_HASH))
            .cloned()
    }
}

/// The Deployment's ReplicaSets, newest revision first.
pub fn owned_replicasets<'a>(deploy: &Deployment, rss: &'a [ReplicaSet]) -> Vec<&'a ReplicaSet> {
    let uid = deploy.metadata.uid.as_deref();
    let mut owned: Vec<&ReplicaSet> = rss
        .iter()
        .filter(|rs| controlled_by(&rs.metadata, uid))
        .collect();
    owned.sort_by_key(|rs| std::cmp::Reverse(revision_annotation(&rs.metadata).unwrap_or(0)));
    owned
}

/// The new ReplicaSet: the one at the Deployment's revision.
pub fn new_replicaset<'a>(deploy: &Deployment, rss: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let rev = revision_annotation(&deploy.metadata);
    let owned = owned_replicasets(deploy, rss);
    match rev {
        Some(r) => owned
            .into_iter()
            .find(|rs| revision_annotation(&rs.metadata) == Some(r)),
        None => owned.into_iter().next(),
    }
}

/// `api-7c9d (revision 4, example.com/api:2): 3 desired, 3 current, 1 ready`.
pub fn replicaset_line(rs: &ReplicaSet) -> String {
    let name = rs.metadata.name.as_deref().unwrap_or("");
    let rev = revision_annotation(&rs.metadata)
        .map(|r| format!("revision {r}"))
        .unwrap_or_else(|| "no revision".into());
    let images: Vec<String> = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default();
    let desired = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let st = rs.status.clone().unwrap_or_default();
    format!(
        "{name} ({rev}, {}): {desired} desired, {} current, {} ready",
        images.join(", "),
        st.replicas,
        st.ready_replicas.unwrap_or(0)
    )
}

/// `DeploymentStatusViewer.Status` with `revision == 0`.
pub fn kubectl_deployment_status(d: &Deployment) -> RolloutState {
    let name = d.metadata.name.as_deref().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    let st = d.status.clone().unwrap_or_default();
    if generation > st.observed_generation.unwrap_or(0) {
        return RolloutState::Progressing(spec_not_observed(WorkloadKind::Deployment));
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
        count(st.updated_replicas),
        count(st.replicas),
        count(st.available_replicas),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use RolloutState::{Complete, Failed, Progressing};

    pub(crate) fn deploy(spec_extra: &str, generation: i64, status: &str) -> Deployment {
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

    fn rs(name: &str, uid_owner: &str, rev: i64, image: &str) -> ReplicaSet {
        serde_yaml::from_str(&format!(
            r#"
metadata:
  name: {name}
  uid: {name}-uid
  annotations: {{"deployment.kubernetes.io/revision": "{rev}"}}
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: api, uid: {uid_owner}, controller: true}}]
spec:
  replicas: 1
  selector: {{matchLabels: {{app: api}}}}
  template: {{spec: {{containers: [{{name: api, image: "{image}"}}]}}}}
status: {{replicas: 1, readyReplicas: 0}}
"#
        ))
        .unwrap()
    }

    #[test]
    fn the_new_replicaset_is_the_one_at_the_deployment_revision() {
        let d: Deployment = serde_yaml::from_str(
            "metadata: {name: api, uid: d1, annotations: {deployment.kubernetes.io/revision: '4'}}\nspec: {selector: {}, template: {}}\n",
        )
        .unwrap();
        let rss = vec![
            rs("api-old", "d1", 3, "api:1"),
            rs("api-new", "d1", 4, "api:2"),
            rs("other", "d2", 9, "x"),
        ];
        assert_eq!(
            new_replicaset(&d, &rss)
                .and_then(|r| r.metadata.name.clone())
                .as_deref(),
            Some("api-new")
        );
        let owned: Vec<_> = owned_replicasets(&d, &rss)
            .iter()
            .filter_map(|r| r.metadata.name.clone())
            .collect();
        assert_eq!(owned, ["api-new", "api-old"]);
        assert_eq!(
            replicaset_line(&rss[1]),
            "api-new (revision 4, api:2): 1 desired, 1 current, 0 ready"
        );
        assert_eq!(d.revision(&[]), Some("4".to_owned()), "from the annotation");

        let pods: Vec<Pod> = ["api-new-uid", "api-old-uid"]
            .iter()
            .enumerate()
            .map(|(i, owner)| {
                serde_yaml::from_str(&format!(
                    "metadata:\n  name: p{i}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: x, uid: {owner}, controller: true}}]\n"
                ))
                .unwrap()
            })
            .collect();
        let new = d.new_revision(&rss, &pods);
        assert_eq!(
            new.pods
                .iter()
                .filter_map(|p| p.metadata.name.as_deref())
                .collect::<Vec<_>>(),
            ["p0"]
        );
        assert_eq!(
            new.event_objects,
            [("ReplicaSet".to_owned(), "api-new".to_owned())]
        );
        assert_eq!(new.history_lines.len(), 2, "{:?}", new.history_lines);
        let unknown = d.new_revision(&[], &pods);
        assert!(
            unknown.pods.is_empty() && unknown.event_objects.is_empty(),
            "without ReplicaSets no pod is known to be new"
        );
    }
}
