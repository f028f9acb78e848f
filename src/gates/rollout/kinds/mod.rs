//! The one workload abstraction: [`Kind`], implemented once per kind in this folder
//! (`deployment.rs`, `statefulset.rs`, `daemonset.rs`). Everything the watch, the
//! explanation, the rollback and the report need to know about a kind is answered here:
//! kubectl's status rules, replica counts, the template and selector, the revision it is
//! at, and which pods belong to the new revision (what fail fast judges).
//!
//! Pure: objects the gate has read go in, values come out. The I/O files are generic over
//! `K: Kind` and never match on the kind; `workload.rs` picks the Rust type for a
//! [`WorkloadKind`] in one place.

/// The [`Kind`] items every kind spells alike: `status.observedGeneration`,
/// `spec.template` and `spec.selector`. Deployment, StatefulSet and DaemonSet name these
/// fields the same, but k8s-openapi gives their specs and statuses no trait in common, so
/// the shared code is a macro used inside each `impl Kind`. `rolling_update_only` adds
/// [`Kind::unsupported_strategy`] for the kinds kubectl can follow only under the
/// `RollingUpdate` update strategy (StatefulSet, DaemonSet).
macro_rules! fields_every_kind_has {
    () => {
        fn observed_generation(&self) -> i64 {
            self.status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0)
        }
        fn template(&self) -> Option<&k8s_openapi::api::core::v1::PodTemplateSpec> {
            self.spec.as_ref().map(|s| &s.template)
        }
        fn selector(
            &self,
        ) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> {
            self.spec.as_ref().map(|s| &s.selector)
        }
    };
    (rolling_update_only) => {
        fields_every_kind_has!();
        fn unsupported_strategy(&self) -> Option<String> {
            let t = self
                .spec
                .as_ref()
                .and_then(|s| s.update_strategy.as_ref())
                .and_then(|u| u.type_.as_deref());
            (t != Some("RollingUpdate")).then($crate::gates::rollout::status::unsupported_message)
        }
    };
}

pub mod daemonset;
pub mod deployment;
pub mod statefulset;

use std::fmt::Debug;

use k8s_openapi::Metadata as _;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::names::WorkloadKind;
use super::status::{Progress, RolloutState};

/// Annotation holding a Deployment's (and its ReplicaSets') revision number.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// What the API client needs of an object the gate reads (a workload, or the objects that
/// record its revisions).
pub trait ApiObject:
    kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
}

// Named one by one rather than by a blanket impl, which would repeat every bound above: the
// compiler checks each against them.
impl ApiObject for Deployment {}
impl ApiObject for StatefulSet {}
impl ApiObject for DaemonSet {}
impl ApiObject for ReplicaSet {}
impl ApiObject for ControllerRevision {}

/// The part of the new revision an explanation looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRevision<'p> {
    /// The new revision's pods.
    pub pods: Vec<&'p Pod>,
    /// Objects besides the workload and these pods whose events matter (`(Kind, name)`:
    /// a Deployment's new ReplicaSet).
    pub event_objects: Vec<(String, String)>,
    /// One line per revision object worth showing (a Deployment's ReplicaSets).
    pub history_lines: Vec<String>,
}

/// A workload kind the gate can roll out: Deployment, StatefulSet or DaemonSet.
pub trait Kind: ApiObject {
    /// Which kind this is.
    const WORKLOAD: WorkloadKind;
    /// Whether [`Kind::revision`] needs the history (the Deployment's is an annotation).
    const REVISION_FROM_HISTORY: bool;
    /// The objects that record this kind's revisions: ReplicaSets for a Deployment,
    /// ControllerRevisions for a StatefulSet or DaemonSet.
    type History: ApiObject;

    /// kubectl's verdict on this object (`rollout status` without `--revision`).
    fn kubectl_status(&self) -> RolloutState;
    /// `status.observedGeneration` (0 when absent, as Go reads it).
    fn observed_generation(&self) -> i64;
    /// `spec.template`.
    fn template(&self) -> Option<&PodTemplateSpec>;
    /// `spec.selector`.
    fn selector(&self) -> Option<&LabelSelector>;
    /// Replica counts for the progression line.
    fn progress(&self) -> Progress;
    /// `spec.paused` (Deployments only).
    fn paused(&self) -> bool {
        false
    }
    /// `None` when kubectl can follow this object's update strategy, else kubectl's error.
    fn unsupported_strategy(&self) -> Option<String> {
        None
    }
    /// The revision the object is at, as `kubectl rollout history` numbers it. `history`
    /// is the object's own history (see [`owned`]); empty when it could not be read.
    fn revision(&self, history: &[Self::History]) -> Option<String>;
    /// The new revision's pods among `pods` (the ones the selector matched), and what
    /// else an explanation shows.
    fn new_revision<'p>(&self, history: &[Self::History], pods: &'p [Pod]) -> NewRevision<'p>;
    /// The label whose value names a pod's revision (`pod-template-hash`,
    /// `controller-revision-hash`).
    const POD_REVISION_LABEL: &'static str;
    /// Whether [`Kind::pod_revision`] needs the history.
    const POD_REVISION_FROM_HISTORY: bool;
    /// The new revision's name or hash, matched against [`Kind::POD_REVISION_LABEL`] by
    /// [`crate::gates::rollout::failfast::at_revision`]; `None` until the controller has made
    /// it. Only meaningful once the controller has observed the generation in question.
    fn pod_revision(&self, history: &[Self::History]) -> Option<String>;
    /// Why a rollback of this kind may not finish on its own, with the docs link.
    fn rollback_stuck_hint() -> Option<&'static str> {
        None
    }

    /// `metadata.name`.
    fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }
    /// `metadata.generation` (0 when absent, as Go reads it).
    fn generation(&self) -> i64 {
        self.metadata().generation.unwrap_or(0)
    }
    /// `metadata.uid`.
    fn uid(&self) -> Option<&str> {
        self.metadata().uid.as_deref()
    }
    /// The selector as the `labelSelector` query parameter spells it.
    fn selector_query(&self) -> Option<String> {
        self.selector().and_then(selector_query)
    }
    /// `(name, image)` of the template's containers.
    fn containers(&self) -> Vec<(String, Option<String>)> {
        names_and_images(self.template(), |s| &s.containers)
    }
    /// `(name, image)` of the template's init containers.
    fn init_containers(&self) -> Vec<(String, Option<String>)> {
        names_and_images(self.template(), |s| {
            s.init_containers.as_deref().unwrap_or_default()
        })
    }
    /// kubectl's description of the object in messages: `daemon set "agent"`.
    fn described(&self) -> String {
        format!("{} \"{}\"", Self::WORKLOAD.described(), self.name())
    }
}

/// `(name, image)` of one container list of a pod template (`list` picks which).
fn names_and_images(
    template: Option<&PodTemplateSpec>,
    list: impl Fn(&PodSpec) -> &[Container],
) -> Vec<(String, Option<String>)> {
    template
        .and_then(|t| t.spec.as_ref())
        .map(|s| {
            list(s)
                .iter()
                .map(|c| (c.name.clone(), c.image.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A label selector as the `labelSelector` query parameter spells it
/// (`app=api,tier in (web,api),!canary`). `None` for a selector that selects nothing.
pub fn selector_query(sel: &LabelSelector) -> Option<String> {
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            _ => return None,
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// Whether `meta` names `uid` as its controller.
pub fn controlled_by(meta: &ObjectMeta, uid: Option<&str>) -> bool {
    let Some(uid) = uid else { return false };
    meta.owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid && o.controller == Some(true))
}

/// The objects among `items` that `owner` controls: its history, from a list by selector
/// (which can match other owners' objects too).
pub fn owned<K: Kind>(owner: &K, items: Vec<K::History>) -> Vec<K::History> {
    items
        .into_iter()
        .filter(|h| controlled_by(h.metadata(), owner.uid()))
        .collect()
}

/// `deployment.kubernetes.io/revision` as a number.
pub fn revision_annotation(meta: &ObjectMeta) -> Option<i64> {
    meta.annotations
        .as_ref()?
        .get(REVISION_ANNOTATION)?
        .parse()
        .ok()
}

/// Pods controlled by an owner (a ReplicaSet, StatefulSet or DaemonSet).
pub fn pods_owned_by<'a>(owner_uid: Option<&str>, pods: &'a [Pod]) -> Vec<&'a Pod> {
    pods.iter()
        .filter(|p| controlled_by(&p.metadata, owner_uid))
        .collect()
}

/// StatefulSet/DaemonSet pods at a controller revision (`controller-revision-hash` label),
/// or all of the owner's pods when the revision is unknown.
pub fn pods_at_revision<'a>(
    owner_uid: Option<&str>,
    revision: Option<&str>,
    pods: &'a [Pod],
) -> Vec<&'a Pod> {
    let owned = pods_owned_by(owner_uid, pods);
    let Some(rev) = revision else { return owned };
    let at: Vec<&Pod> = owned
        .iter()
        .copied()
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("controller-revision-hash"))
                .is_some_and(|h| rev.ends_with(h.as_str()))
        })
        .collect();
    if at.is_empty() { owned } else { at }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A workload of `kind` at `generation`, named `name` like its labels and its one
    /// container (which runs `image`), with `spec_extra` lines under `spec:` and `status`
    /// lines under `status:`: the fixture every kind's tests build theirs on.
    pub(crate) fn workload<K: DeserializeOwned>(
        kind: &str,
        name: &str,
        image: &str,
        generation: i64,
        spec_extra: &str,
        status: &str,
    ) -> K {
        let yaml = format!(
            r#"
apiVersion: apps/v1
kind: {kind}
metadata: {{name: {name}, namespace: default, generation: {generation}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: {name}, image: "{image}"}}]}}
{spec_extra}
status:
{status}
"#
        );
        serde_yaml::from_str(&yaml).unwrap()
    }

    #[test]
    fn selectors_become_query_strings() {
        let sel: LabelSelector = serde_yaml::from_str(
            "matchLabels: {app: api, tier: web}\nmatchExpressions:\n- {key: env, operator: In, values: [prod, stage]}\n- {key: canary, operator: DoesNotExist}\n- {key: team, operator: Exists}\n- {key: zone, operator: NotIn, values: [a]}\n",
        )
        .unwrap();
        assert_eq!(
            selector_query(&sel).unwrap(),
            "app=api,tier=web,env in (prod,stage),!canary,team,zone notin (a)"
        );
        assert_eq!(selector_query(&LabelSelector::default()), None);
        let odd: LabelSelector =
            serde_yaml::from_str("matchExpressions:\n- {key: a, operator: Gt, values: ['1']}\n")
                .unwrap();
        assert_eq!(
            selector_query(&odd),
            None,
            "an operator labelSelector lacks"
        );
    }

    fn pod(name: &str, owner: &str, hash: &str) -> Pod {
        serde_yaml::from_str(&format!(
            "metadata:\n  name: {name}\n  labels: {{controller-revision-hash: {hash}}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: {owner}, controller: true}}]\n"
        ))
        .unwrap()
    }

    #[test]
    fn pods_are_picked_by_controller_and_revision_hash() {
        let pods = vec![
            pod("db-0", "s1", "db-5c6d"),
            pod("db-1", "s1", "db-7f8g"),
            pod("other-0", "s2", "db-7f8g"),
        ];
        let names = |v: Vec<&Pod>| -> Vec<String> {
            v.iter().filter_map(|p| p.metadata.name.clone()).collect()
        };
        assert_eq!(names(pods_owned_by(Some("s1"), &pods)), ["db-0", "db-1"]);
        assert!(pods_owned_by(None, &pods).is_empty(), "no uid, no owner");
        assert_eq!(
            names(pods_at_revision(Some("s1"), Some("db-7f8g"), &pods)),
            ["db-1"]
        );
        assert_eq!(
            names(pods_at_revision(Some("s1"), Some("db-0000"), &pods)),
            ["db-0", "db-1"],
            "an unknown revision falls back to every owned pod"
        );
        assert_eq!(
            names(pods_at_revision(Some("s1"), None, &pods)),
            ["db-0", "db-1"]
        );
    }
}
