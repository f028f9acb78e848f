//! Deployments: kubectl's status rules, replica counts, the revision annotation, the new
//! ReplicaSet, its pods and their `pod-template-hash` (for fail fast). Pure.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;

use super::{
    Kind, NewRevision, REVISION_ANNOTATION, controlled_by, pods_owned_by, revision_annotation,
};
use crate::gates::rollout::names::WorkloadKind;
use crate::gates::rollout::status::{Progress, RolloutState, count, spec_not_observed};
use crate::gates::rollout::undo;

impl Kind for Deployment {
    const WORKLOAD: WorkloadKind = WorkloadKind::Deployment;
    const REVISION_FROM_HISTORY: bool = false;
    fields_every_kind_has!();
    type History = ReplicaSet;

    fn kubectl_status(&self) -> RolloutState {
        kubectl_deployment_status(self)
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
    use crate::gates::rollout::kinds::tests::workload;
    use RolloutState::{Complete, Failed, Progressing};

    pub(crate) fn deploy(spec_extra: &str, generation: i64, status: &str) -> Deployment {
        let spec = format!("  replicas: 3\n{spec_extra}");
        workload(
            "Deployment",
            "api",
            "example.com/api:2",
            generation,
            &spec,
            status,
        )
    }

    /// `status:` lines: the generation observed and the replica counts.
    pub(crate) fn counts(observed: i64, replicas: i32, updated: i32, available: i32) -> String {
        format!(
            "  observedGeneration: {observed}\n  replicas: {replicas}\n  updatedReplicas: {updated}\n  availableReplicas: {available}"
        )
    }

    /// `status:` lines that follow [`counts`]: the `Progressing` condition.
    fn progressing(status: &str, reason: &str) -> String {
        format!(
            "\n  conditions:\n  - {{type: Progressing, status: \"{status}\", reason: {reason}}}"
        )
    }

    #[test]
    fn deployment_follows_kubectl_branch_for_branch() {
        let unobserved = Progressing("Waiting for deployment spec update to be observed...".into());
        let waiting = |rest: &str| {
            Progressing(format!(
                "Waiting for deployment \"api\" rollout to finish: {rest}..."
            ))
        };
        let done = Complete("deployment \"api\" successfully rolled out".into());
        let deadline = Failed("deployment \"api\" exceeded its progress deadline".into());
        let exceeded = progressing("False", "ProgressDeadlineExceeded")
            + "\n  - {type: Available, status: \"True\", reason: MinimumReplicasAvailable}";
        let not_updated = waiting("1 out of 3 new replicas have been updated");
        let cases = [
            (
                "generation not observed yet",
                counts(3, 3, 3, 3),
                unobserved.clone(),
            ),
            ("status missing entirely", "  {}".to_owned(), unobserved),
            (
                "deadline exceeded wins over counts",
                counts(4, 4, 1, 3) + &exceeded,
                deadline,
            ),
            (
                "new replicas not all updated",
                counts(4, 4, 1, 3) + &progressing("True", "ReplicaSetUpdated"),
                not_updated,
            ),
            (
                "old replicas pending termination",
                counts(4, 4, 3, 3),
                waiting("1 old replicas are pending termination"),
            ),
            (
                "updated but not available",
                counts(4, 3, 3, 2),
                waiting("2 of 3 updated replicas are available"),
            ),
            (
                "complete",
                counts(4, 3, 3, 3) + &progressing("True", "NewReplicaSetAvailable"),
                done.clone(),
            ),
            (
                "observed ahead of the generation counts as observed",
                counts(5, 3, 3, 3),
                done,
            ),
        ];
        for (name, status, want) in cases {
            assert_eq!(
                kubectl_deployment_status(&deploy("", 4, &status)),
                want,
                "{name}"
            );
        }
        assert_eq!(
            kubectl_deployment_status(&deploy("  paused: true", 4, &counts(4, 3, 0, 3))),
            waiting("0 out of 3 new replicas have been updated"),
            "paused: kubectl just waits"
        );
    }

    #[test]
    fn no_spec_replicas_skips_the_updated_check_like_kubectl() {
        let mut d = deploy("", 2, &counts(2, 1, 1, 1));
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
