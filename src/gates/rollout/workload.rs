//! One workload on the cluster, whatever its kind: [`Prepared`] is what `run` drives
//! through the rollout (check, patch, follow, roll back), and `with_kind!` is the one place
//! where a [`WorkloadKind`] picks the Rust type every step is generic over.
//!
//! This file reads the workload and its history and sends the image patch; the watch is
//! `wait.rs`, the rollback `rollback.rs`. What differs by kind is answered by
//! [`Kind`] (`kinds/`), never by matching on the kind here.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use super::cluster::Cluster;
use super::error::{Action, ApiError, Error};
use super::failfast::FailFast;
use super::kinds::{self, Kind};
use super::names::{ContainerChoice, Workload, WorkloadKind, choose_container};
use super::results::{RollbackReport, WorkloadReport};
use super::{rollback, wait};

/// Field manager recorded on our patches (`kubectl set image` uses `kubectl-set`).
pub(super) const FIELD_MANAGER: &str = "rust-ci-action";
/// The annotation `kubectl rollout history` shows as CHANGE-CAUSE.
pub(super) const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// What the check before any change learned about one workload.
pub(super) struct Prepared {
    /// The workload.
    pub workload: Workload,
    /// The container to update.
    pub container: String,
    /// Its image now.
    pub previous_image: String,
    /// The workload's generation when read.
    pub generation: i64,
    /// Its selector as a `labelSelector` query (its pods, for fail fast).
    pub selector: Option<String>,
    /// Whether `container` is an init container.
    pub init: bool,
    /// What a rollback restores.
    pub record: Record,
}

/// Evaluates `$body` with `$K` standing for the Rust type of the [`WorkloadKind`] `$kind`:
/// the one place a kind picks the type every step is generic over (each step is a generic
/// function over [`Kind`]; this match is their only dispatch).
macro_rules! with_kind {
    ($kind:expr, $K:ident => $body:expr) => {
        match $kind {
            WorkloadKind::Deployment => {
                type $K = Deployment;
                $body
            }
            WorkloadKind::StatefulSet => {
                type $K = StatefulSet;
                $body
            }
            WorkloadKind::DaemonSet => {
                type $K = DaemonSet;
                $body
            }
        }
    };
}

/// What the workload was before the gate patched it: a rollback restores exactly this.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Record {
    /// `spec.template`, as read.
    pub template: serde_json::Value,
    /// The `kubernetes.io/change-cause` annotation, as read.
    pub change_cause: Option<String>,
    /// The revision it was at, as `kubectl rollout history` numbers it.
    pub revision: Option<i64>,
}

/// How one workload's rollout started.
#[derive(Debug, Clone, Copy)]
pub(super) struct Started {
    /// Whether the image was patched (else it already ran it).
    pub patched: bool,
    /// The generation the status must reach: the patch's, or the one read.
    pub min_generation: i64,
    /// When the rollout started, for durations and the deadline.
    pub at: Instant,
}

/// Read `w` and check it can be rolled out (it exists, we may read it, its strategy can be
/// followed, the container is known), changing nothing.
pub(super) async fn prepare(
    cluster: &Cluster,
    w: &Workload,
    container: Option<&str>,
) -> Result<Prepared, Error> {
    let read = with_kind!(w.kind, K => read::<K>(cluster, w, container).await)?;
    Ok(Prepared {
        workload: w.clone(),
        container: read.container,
        previous_image: read.image,
        generation: read.generation,
        selector: read.selector,
        init: read.init,
        record: read.record,
    })
}

impl Prepared {
    /// Point the container at `image` (unless it already runs it), recording `cause`.
    pub(super) async fn set_image(
        &self,
        cluster: &Cluster,
        image: &str,
        cause: &str,
    ) -> Result<Started, Error> {
        let at = Instant::now();
        if self.previous_image == image {
            tracing::info!(
                "{}: container `{}` already runs {image}; checking that it is healthy",
                self.workload,
                self.container
            );
            return Ok(Started {
                patched: false,
                min_generation: self.generation,
                at,
            });
        }
        let body = Patch::Strategic(image_patch(&self.container, self.init, image, cause));
        let w = &self.workload;
        let generation = with_kind!(w.kind, K => patch::<K>(cluster, w, &body).await)
            .map_err(|e| cluster.error(Action::Patch, &self.workload, e))?;
        tracing::info!(
            "{}: {}container `{}` {} → {image} (generation {generation})",
            self.workload,
            if self.init { "init " } else { "" },
            self.container,
            self.previous_image
        );
        Ok(Started {
            patched: true,
            min_generation: generation,
            at,
        })
    }

    /// Wait for the rollout, then read its revision and, when it failed, what explains it.
    pub(super) fn follow<'a>(
        &'a self,
        cluster: &'a Cluster,
        image: &'a str,
        started: Started,
        timeout: Duration,
        fail_fast: Option<FailFast>,
    ) -> BoxFuture<'a, Result<WorkloadReport, Error>> {
        let kind = self.workload.kind;
        with_kind!(kind, K => Box::pin(wait::follow::<K>(
            cluster, self, image, started, timeout, fail_fast
        )))
    }

    /// Restore the recorded template, then wait for it.
    pub(super) fn roll_back<'a>(
        &'a self,
        cluster: &'a Cluster,
        timeout: Duration,
    ) -> BoxFuture<'a, RollbackReport> {
        let kind = self.workload.kind;
        with_kind!(kind, K => Box::pin(rollback::roll_back::<K>(cluster, self, timeout)))
    }
}

/// The strategic merge patch `kubectl set image` sends (containers and init containers
/// merge by `name`), plus the change-cause annotation.
pub(super) fn image_patch(
    container: &str,
    init: bool,
    image: &str,
    cause: &str,
) -> serde_json::Value {
    let list = if init { "initContainers" } else { "containers" };
    json!({
        "metadata": {"annotations": {CHANGE_CAUSE: cause}},
        "spec": {"template": {"spec": {list: [{"name": container, "image": image}]}}}
    })
}

/// Our patch parameters: the field manager, nothing else.
pub(super) fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}

/// Patch `w`; returns the generation the API server assigned.
pub(super) async fn patch<K: Kind>(
    cluster: &Cluster,
    w: &Workload,
    patch: &Patch<serde_json::Value>,
) -> Result<i64, kube::Error> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &w.namespace);
    Ok(api
        .patch(&w.name, &patch_params(), patch)
        .await?
        .generation())
}

/// Read `w` as it is now.
pub(super) async fn get<K: Kind>(cluster: &Cluster, w: &Workload) -> Result<K, kube::Error> {
    Api::<K>::namespaced(cluster.client.clone(), &w.namespace)
        .get(&w.name)
        .await
}

/// The objects recording `obj`'s revisions (its ReplicaSets or ControllerRevisions),
/// found by its selector and kept when it controls them.
pub(super) async fn history<K: Kind>(
    cluster: &Cluster,
    obj: &K,
) -> Result<Vec<K::History>, ApiError> {
    let namespace = obj.metadata().namespace.clone().unwrap_or_default();
    let api: Api<K::History> = Api::namespaced(cluster.client.clone(), &namespace);
    let items = api
        .list(&selector_params(obj))
        .await
        .map_err(ApiError::from_kube)?
        .items;
    Ok(kinds::owned(obj, items))
}

/// `labelSelector=<the workload's selector>`, or no selector at all when it has none.
pub(super) fn selector_params<K: Kind>(obj: &K) -> ListParams {
    obj.selector_query()
        .map(|s| ListParams::default().labels(&s))
        .unwrap_or_default()
}

/// `could not list ReplicaSets: ...`: what an explanation or a rollback says when the
/// history could not be read.
pub(super) fn history_gap<K: Kind>(e: &ApiError) -> String {
    format!(
        "could not list {}s: {e}",
        <K::History as k8s_openapi::Resource>::KIND
    )
}

/// What [`read`] learned.
struct Read {
    container: String,
    image: String,
    generation: i64,
    selector: Option<String>,
    init: bool,
    record: Record,
}

/// Read `w` as a `K` and [`check`] it: the container, its image, the generation, the
/// selector, and the [`Record`] a rollback restores.
async fn read<K: Kind>(
    cluster: &Cluster,
    w: &Workload,
    container: Option<&str>,
) -> Result<Read, Error> {
    let obj: K = get(cluster, w)
        .await
        .map_err(|e| cluster.error(Action::Get, w, e))?;
    let (container, image, init) = check(&obj, w, container)?;
    let revision = if K::REVISION_FROM_HISTORY {
        // Only for the report ("rolled back to revision N"): a gap is no error.
        match history(cluster, &obj).await {
            Ok(h) => obj.revision(&h),
            Err(_) => None,
        }
    } else {
        obj.revision(&[])
    };
    let record = Record {
        template: serde_json::to_value(obj.template()).unwrap_or_default(),
        change_cause: obj
            .metadata()
            .annotations
            .as_ref()
            .and_then(|a| a.get(CHANGE_CAUSE))
            .cloned(),
        revision: revision.and_then(|r| r.parse().ok()),
    };
    Ok(Read {
        container,
        image,
        generation: obj.generation(),
        selector: obj.selector_query(),
        init,
        record,
    })
}

/// The container to update, its image and whether it is an init container (only when
/// `wanted` names one), or why the workload cannot be rolled out.
pub(super) fn check<K: Kind>(
    obj: &K,
    w: &Workload,
    wanted: Option<&str>,
) -> Result<(String, String, bool), Error> {
    if let Some(message) = obj.unsupported_strategy() {
        return Err(Error::Unsupported {
            workload: w.clone(),
            message,
        });
    }
    let containers = obj.containers();
    let names: Vec<String> = containers.iter().map(|(n, _)| n.clone()).collect();
    if let Some(wanted) = wanted
        && !names.iter().any(|n| n == wanted)
        && let Some((name, image)) = obj.init_containers().into_iter().find(|(n, _)| n == wanted)
    {
        return Ok((name, image.unwrap_or_default(), true));
    }
    let container = choose_container(&names, wanted, &w.name).map_err(|c| match c {
        ContainerChoice::NotFound { wanted, .. } if wanted.is_empty() => Error::NoContainers {
            workload: w.clone(),
        },
        ContainerChoice::NotFound { wanted, names } => Error::ContainerNotFound {
            workload: w.clone(),
            wanted,
            names,
        },
        ContainerChoice::Ambiguous { names } => Error::ContainerAmbiguous {
            workload: w.clone(),
            names,
        },
    })?;
    let image = containers
        .into_iter()
        .find(|(n, _)| *n == container)
        .and_then(|(_, i)| i)
        .unwrap_or_default();
    Ok((container, image, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::error_chain;

    fn statefulset(containers: &str, strategy: &str) -> StatefulSet {
        serde_yaml::from_str(&format!(
            "metadata: {{name: db, generation: 3}}\nspec:\n  selector: {{matchLabels: {{app: db}}}}\n  serviceName: db\n  template: {{spec: {{containers: {containers}}}}}\n  updateStrategy: {{type: {strategy}}}\n"
        ))
        .unwrap()
    }

    #[test]
    fn the_patch_is_kubectl_set_image_plus_the_change_cause() {
        assert_eq!(
            image_patch(
                "api",
                false,
                "example.com/api:2",
                "https://github.com/o/r/actions/runs/7"
            ),
            json!({
                "metadata": {"annotations": {"kubernetes.io/change-cause": "https://github.com/o/r/actions/runs/7"}},
                "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "example.com/api:2"}]}}}
            })
        );
        assert_eq!(patch_params().field_manager.as_deref(), Some(FIELD_MANAGER));
        assert_eq!(
            image_patch("migrate", true, "m:2", "c")["spec"]["template"]["spec"],
            json!({"initContainers": [{"name": "migrate", "image": "m:2"}]}),
            "an init container is patched in its own list"
        );
    }

    #[test]
    fn the_check_picks_the_container_or_says_why_not() {
        let w = Workload::parse("sts/db", "default").unwrap();
        let two = r#"[{name: db, image: "db:1"}, {name: proxy, image: "proxy:1"}]"#;
        let ok = statefulset(two, "RollingUpdate");
        assert_eq!(
            check(&ok, &w, None).unwrap(),
            ("db".to_owned(), "db:1".to_owned(), false),
            "the container named like the workload"
        );
        assert_eq!(
            check(&ok, &w, Some("proxy")).unwrap(),
            ("proxy".to_owned(), "proxy:1".to_owned(), false)
        );
        let message = |obj: &StatefulSet, wanted: Option<&str>| {
            error_chain(&check(obj, &w, wanted).unwrap_err())
        };
        assert_eq!(
            message(&ok, Some("web")),
            "default/statefulset/db: no container named `web` (containers: db, proxy)"
        );
        let odd = statefulset(r#"[{name: a}, {name: b}]"#, "RollingUpdate");
        assert_eq!(
            message(&odd, None),
            "default/statefulset/db has several containers (a, b) and none is named like it: choose one with the `container` input"
        );
        assert_eq!(
            message(&statefulset("[]", "RollingUpdate"), None),
            "default/statefulset/db: the pod template has no containers"
        );
        assert_eq!(
            message(&statefulset(two, "OnDelete"), None),
            "default/statefulset/db: rollout status is only available for RollingUpdate strategy type; it uses the OnDelete update strategy, which a rollout cannot wait for",
            "the strategy is checked first"
        );
        assert_eq!(
            check(&statefulset(r#"[{name: db}]"#, "RollingUpdate"), &w, None).unwrap(),
            ("db".to_owned(), String::new(), false),
            "a container without an image: nothing to compare with"
        );
    }
}
