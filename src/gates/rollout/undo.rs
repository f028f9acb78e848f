//! Choosing what `kubectl rollout undo` (without `--to-revision`) would restore, and the
//! patch that restores it. Pure: objects in, a JSON patch out.
//!
//! Follows `k8s.io/kubectl/pkg/polymorphichelpers/rollback.go`:
//! - Deployment: among the ReplicaSets it controls, the one with the second-highest
//!   `deployment.kubernetes.io/revision`; its template minus the `pod-template-hash` label
//!   replaces `spec.template`, and its annotations (except the bookkeeping ones) replace the
//!   Deployment's, so the old `kubernetes.io/change-cause` comes back. A paused Deployment
//!   is refused, as kubectl does.
//! - StatefulSet / DaemonSet: the ControllerRevision with the second-highest `revision`;
//!   kubectl applies its `data` (`{"spec":{"template":{..., "$patch":"replace"}}}`) as a
//!   strategic merge patch. We send the same template as a JSON patch `replace` of
//!   `/spec/template`, which means the same thing without relying on the `$patch`
//!   directive.
//!
//! When the current template already equals the chosen one, kubectl skips the rollback;
//! so do we ([`UndoError::AlreadyCurrent`]).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Value, json};

use super::kinds::{REVISION_ANNOTATION, controlled_by, revision_annotation};

/// The label the Deployment controller adds to each ReplicaSet's template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Annotations kubectl keeps from the Deployment instead of copying from the ReplicaSet.
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// Why there is nothing to roll back to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoError {
    /// No earlier revision exists.
    #[error("no rollout history found for {0}")]
    NoHistory(String),
    /// The workload already runs the previous revision's template.
    #[error("skipped rollback (current template already matches revision {0})")]
    AlreadyCurrent(i64),
    /// kubectl refuses to roll back a paused Deployment.
    #[error(
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
    )]
    Paused,
    /// The ControllerRevision holds no template.
    #[error("revision {0} holds no pod template")]
    NoTemplate(i64),
}

/// What to restore.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoPlan {
    /// The revision whose template comes back.
    pub to_revision: i64,
    /// JSON patch operations (RFC 6902) for the workload.
    pub patch: Value,
    /// Images of the restored template, for the report.
    pub images: Vec<String>,
}

/// kubectl's "previous" pick: the second-highest revision seen, in one pass.
fn previous<T>(items: impl IntoIterator<Item = (i64, T)>) -> Option<(i64, T)> {
    let mut latest: Option<(i64, T)> = None;
    let mut prev: Option<(i64, T)> = None;
    for (v, item) in items {
        match &latest {
            Some((l, _)) if *l >= v => {
                if prev.as_ref().is_none_or(|(p, _)| *p < v) {
                    prev = Some((v, item));
                }
            }
            _ => {
                prev = latest.take();
                latest = Some((v, item));
            }
        }
    }
    prev
}

fn without_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH);
        if labels.is_empty()
            && let Some(m) = t.metadata.as_mut()
        {
            m.labels = None;
        }
    }
    t
}

fn images(t: &PodTemplateSpec) -> Vec<String> {
    t.spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `kubectl rollout undo deployment/NAME`.
pub fn deployment_undo(
    deploy: &Deployment,
    replicasets: &[ReplicaSet],
) -> Result<UndoPlan, UndoError> {
    let name = deploy.metadata.name.clone().unwrap_or_default();
    if deploy.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
        return Err(UndoError::Paused);
    }
    let uid = deploy.metadata.uid.as_deref();
    let candidates = replicasets
        .iter()
        .filter(|rs| controlled_by(&rs.metadata, uid))
        .filter_map(|rs| revision_annotation(&rs.metadata).map(|r| (r, rs)));
    let (to_revision, rs) = previous(candidates)
        .ok_or_else(|| UndoError::NoHistory(format!("deployment \"{name}\"")))?;
    let target = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    let current = deploy
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    if without_hash(&target) == without_hash(&current) {
        return Err(UndoError::AlreadyCurrent(to_revision));
    }
    let template = without_hash(&target);
    let current_annotations = deploy.metadata.annotations.clone().unwrap_or_default();
    let mut annotations: BTreeMap<String, String> = ANNOTATIONS_TO_SKIP
        .iter()
        .filter_map(|k| {
            current_annotations
                .get(*k)
                .map(|v| ((*k).to_owned(), v.clone()))
        })
        .collect();
    for (k, v) in rs.metadata.annotations.iter().flatten() {
        if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    let patch = json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": if deploy.metadata.annotations.is_some() { "replace" } else { "add" }, "path": "/metadata/annotations", "value": annotations},
    ]);
    Ok(UndoPlan {
        to_revision,
        images: images(&template),
        patch,
    })
}

/// `kubectl rollout undo statefulset/NAME` or `daemonset/NAME`: `owner_uid` and
/// `current` are the workload's uid and `spec.template`.
pub fn revision_undo(
    what: &str,
    owner_uid: Option<&str>,
    current: &PodTemplateSpec,
    revisions: &[ControllerRevision],
) -> Result<UndoPlan, UndoError> {
    let owned = revisions
        .iter()
        .filter(|cr| controlled_by(&cr.metadata, owner_uid))
        .map(|cr| (cr.revision, cr));
    let (to_revision, cr) = previous(owned).ok_or_else(|| UndoError::NoHistory(what.to_owned()))?;
    let mut template = cr
        .data
        .as_ref()
        .and_then(|d| d.0.pointer("/spec/template"))
        .cloned()
        .ok_or(UndoError::NoTemplate(to_revision))?;
    if let Some(obj) = template.as_object_mut() {
        obj.remove("$patch");
    }
    let parsed: PodTemplateSpec =
        serde_json::from_value(template.clone()).map_err(|_| UndoError::NoTemplate(to_revision))?;
    // Compare as the API server would store them: a round trip through the typed struct
    // drops nulls and normalises field order on both sides.
    let same = serde_json::to_value(&parsed).ok() == serde_json::to_value(current).ok();
    if same {
        return Err(UndoError::AlreadyCurrent(to_revision));
    }
    Ok(UndoPlan {
        to_revision,
        images: images(&parsed),
        patch: json!([{"op": "replace", "path": "/spec/template", "value": template}]),
    })
}

/// The JSON patch that restores a workload to what the gate recorded before patching it:
/// `template` (its `spec.template` as read) replaces the current one whole, and the
/// change-cause annotation gets its previous value back (or goes, when it had none; the
/// gate's own patch added it, so it is there to remove).
///
/// Unlike `kubectl rollout undo` this needs no history: it works at any
/// `revisionHistoryLimit`, including 0 (kubernetes/kubernetes#105732), and restores what
/// ran before this rollout even when "the previous revision" is something else.
pub fn restore_patch(template: &Value, change_cause: Option<&str>) -> Value {
    let path = "/metadata/annotations/kubernetes.io~1change-cause";
    let cause = match change_cause {
        Some(c) => json!({"op": "add", "path": path, "value": c}),
        None => json!({"op": "remove", "path": path}),
    };
    json!([{"op": "replace", "path": "/spec/template", "value": template}, cause])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(image: &str, paused: bool) -> Deployment {
        serde_yaml::from_str(&format!(
            r#"
metadata:
  name: api
  uid: d1
  annotations:
    deployment.kubernetes.io/revision: "5"
    kubernetes.io/change-cause: https://github.com/o/r/actions/runs/2
    kubectl.kubernetes.io/last-applied-configuration: "{{}}"
spec:
  paused: {paused}
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec: {{containers: [{{name: api, image: "{image}"}}]}}
"#
        ))
        .unwrap()
    }

    fn rs(name: &str, owner: &str, rev: i64, image: &str, cause: &str) -> ReplicaSet {
        serde_yaml::from_str(&format!(
            r#"
metadata:
  name: {name}
  annotations:
    deployment.kubernetes.io/revision: "{rev}"
    deployment.kubernetes.io/desired-replicas: "3"
    kubernetes.io/change-cause: {cause}
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: api, uid: {owner}, controller: true}}]
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api, pod-template-hash: h{rev}}}}}
    spec: {{containers: [{{name: api, image: "{image}"}}]}}
"#
        ))
        .unwrap()
    }

    #[test]
    fn deployment_undo_restores_the_second_newest_replicaset() {
        let d = deploy("api:5", false);
        let rss = vec![
            rs("api-h3", "d1", 3, "api:3", "three"),
            rs("api-h5", "d1", 5, "api:5", "five"),
            rs("api-h4", "d1", 4, "api:4", "four"),
            rs("foreign", "zz", 99, "x:1", "x"),
        ];
        let plan = deployment_undo(&d, &rss).unwrap();
        assert_eq!(plan.to_revision, 4);
        assert_eq!(plan.images, ["api:4"]);
        let want = json!([
            {"op": "replace", "path": "/spec/template", "value": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "api:4"}]}
            }},
            {"op": "replace", "path": "/metadata/annotations", "value": {
                "deployment.kubernetes.io/revision": "5",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "kubernetes.io/change-cause": "four"
            }}
        ]);
        assert_eq!(plan.patch, want);
    }

    #[test]
    fn deployment_undo_refusals() {
        let rss = vec![
            rs("api-h4", "d1", 4, "api:4", "four"),
            rs("api-h5", "d1", 5, "api:5", "five"),
        ];
        assert_eq!(
            deployment_undo(&deploy("api:5", true), &rss),
            Err(UndoError::Paused)
        );
        assert_eq!(
            deployment_undo(&deploy("api:5", false), &rss[1..])
                .unwrap_err()
                .to_string(),
            "no rollout history found for deployment \"api\""
        );
        // The current template (ignoring the hash label) already is revision 4's.
        assert_eq!(
            deployment_undo(&deploy("api:4", false), &rss),
            Err(UndoError::AlreadyCurrent(4))
        );
    }

    #[test]
    fn the_restore_patch_puts_back_the_recorded_template_and_cause() {
        let t = json!({"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "api:1"}]}});
        assert_eq!(
            restore_patch(&t, Some("run 6")),
            json!([
                {"op": "replace", "path": "/spec/template", "value": t},
                {"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause", "value": "run 6"}
            ])
        );
        assert_eq!(
            restore_patch(&t, None)[1],
            json!({"op": "remove", "path": "/metadata/annotations/kubernetes.io~1change-cause"})
        );
    }

    #[test]
    fn previous_picks_the_second_highest_in_any_order() {
        for order in [[1, 2, 3], [3, 2, 1], [2, 3, 1], [1, 3, 2], [3, 1, 2]] {
            assert_eq!(
                previous(order.iter().map(|v| (*v, ()))).map(|p| p.0),
                Some(2),
                "{order:?}"
            );
        }
        assert_eq!(previous([(7, ())]).map(|p| p.0), None);
        assert_eq!(previous(Vec::<(i64, ())>::new()).map(|p| p.0), None);
    }

    fn cr(rev: i64, owner: &str, image: &str) -> ControllerRevision {
        serde_yaml::from_str(&format!(
            r#"
metadata:
  name: db-{rev}
  ownerReferences: [{{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: {owner}, controller: true}}]
revision: {rev}
data:
  spec:
    template:
      $patch: replace
      metadata: {{labels: {{app: db}}}}
      spec: {{containers: [{{name: db, image: "{image}"}}]}}
"#
        ))
        .unwrap()
    }

    #[test]
    fn controller_revision_undo() {
        let current: PodTemplateSpec = serde_yaml::from_str(
            "metadata: {labels: {app: db}}\nspec: {containers: [{name: db, image: 'db:3'}]}\n",
        )
        .unwrap();
        let revs = vec![
            cr(2, "s1", "db:2"),
            cr(3, "s1", "db:3"),
            cr(1, "s1", "db:1"),
            cr(9, "other", "x"),
        ];
        let plan = revision_undo("statefulset \"db\"", Some("s1"), &current, &revs).unwrap();
        assert_eq!(plan.to_revision, 2);
        assert_eq!(plan.images, ["db:2"]);
        assert_eq!(
            plan.patch,
            json!([{"op": "replace", "path": "/spec/template", "value": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "db:2"}]}
            }}])
        );
        let at_two: PodTemplateSpec = serde_yaml::from_str(
            "metadata: {labels: {app: db}}\nspec: {containers: [{name: db, image: 'db:2'}]}\n",
        )
        .unwrap();
        assert_eq!(
            revision_undo("x", Some("s1"), &at_two, &revs),
            Err(UndoError::AlreadyCurrent(2))
        );
        assert_eq!(
            revision_undo("daemon set \"a\"", Some("s1"), &current, &revs[..1]),
            Err(UndoError::NoHistory("daemon set \"a\"".into()))
        );
    }
}
