//! The pod side of fail fast: a watch on the workload's pods (its selector), kept as a map
//! by name, and the check, after every pod or workload event, of the new revision's pods
//! against [`failfast::judge`]. Transient states get one warning line per workload and
//! reason; a conclusive one ends the wait (`wait.rs` turns it into the verdict).
//!
//! The new revision is the kind's answer ([`Kind::pod_revision`]: the new ReplicaSet's
//! `pod-template-hash`, the StatefulSet's `updateRevision`, the DaemonSet's newest
//! ControllerRevision), read once the controller has observed the patched generation, so a
//! crash loop among the old pods never fails the new rollout. Reads pods and, for
//! Deployments and DaemonSets, the history once per generation; writes nothing. A pod
//! watch the token may not open turns fail fast off with a warning (the wait goes on as
//! kubectl's): it never fails the gate.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::time::Instant;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};

use super::cluster::Cluster;
use super::error::ApiError;
use super::failfast::{self, CREATING_GRACE, FailFast, Finding};
use super::kinds::Kind;
use super::names::Workload;
use super::problems::{CREATING, PodProblem};
use super::wait::is_fatal;
use super::workload;

type PodEvents = BoxStream<'static, Result<watcher::Event<Pod>, watcher::Error>>;

/// The watch on one workload's pods.
pub(super) struct PodWatch<K> {
    policy: FailFast,
    stream: Option<PodEvents>,
    pods: BTreeMap<String, Pod>,
    relisting: Option<BTreeMap<String, Pod>>,
    /// `(generation, revision)` once known.
    revision: Option<(i64, String)>,
    /// Reasons already warned about.
    warned: BTreeSet<String>,
    /// Containers seen creating, and since when.
    creating_since: BTreeMap<String, Instant>,
    kind: PhantomData<fn() -> K>,
}

impl<K: Kind> PodWatch<K> {
    /// Start watching the pods `selector` matches (`None`: the workload selects nothing,
    /// and there is nothing to watch).
    pub(super) fn start(
        cluster: &Cluster,
        w: &Workload,
        selector: Option<&str>,
        policy: FailFast,
    ) -> Self {
        let stream = selector.map(|s| {
            let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &w.namespace);
            watcher(api, watcher::Config::default().labels(s))
                .default_backoff()
                .boxed()
        });
        Self {
            policy,
            stream,
            pods: BTreeMap::new(),
            relisting: None,
            revision: None,
            warned: BTreeSet::new(),
            creating_since: BTreeMap::new(),
            kind: PhantomData,
        }
    }

    /// Wait for the next pod event (applied to the map) or for a creating container's
    /// grace to run out. Never returns once the watch is off.
    pub(super) async fn changed(&mut self, w: &Workload) {
        let wake = self
            .creating_since
            .values()
            .min()
            .map(|t| tokio::time::Instant::from_std(*t + CREATING_GRACE));
        let Some(stream) = self.stream.as_mut() else {
            return futures::future::pending().await;
        };
        let next = tokio::select! {
            n = stream.next() => n,
            () = sleep_until(wake) => return,
        };
        match next {
            None => self.stream = None,
            Some(Err(e)) if is_fatal(&e) => {
                tracing::warn!(
                    "{w}: cannot watch its pods ({}): fail-fast is off, waiting as kubectl does",
                    ApiError::from_watch(e)
                );
                self.stream = None;
            }
            Some(Err(e)) => {
                tracing::debug!(
                    "{w}: pod watch interrupted, resuming: {}",
                    ApiError::from_watch(e)
                );
            }
            Some(Ok(ev)) => self.apply(ev),
        }
    }

    fn apply(&mut self, ev: watcher::Event<Pod>) {
        let name = |p: &Pod| p.metadata.name.clone().unwrap_or_default();
        match ev {
            watcher::Event::Init => self.relisting = Some(BTreeMap::new()),
            watcher::Event::InitApply(p) => {
                if let Some(r) = self.relisting.as_mut() {
                    r.insert(name(&p), p);
                }
            }
            watcher::Event::InitDone => {
                if let Some(r) = self.relisting.take() {
                    self.pods = r;
                }
            }
            watcher::Event::Apply(p) => {
                self.pods.insert(name(&p), p);
            }
            watcher::Event::Delete(p) => {
                self.pods.remove(&name(&p));
            }
        }
    }

    /// Judge the new revision's pods: the first conclusive state, if any. Warns once about
    /// each transient reason. `obj` is the workload as last seen.
    pub(super) async fn check(
        &mut self,
        cluster: &Cluster,
        w: &Workload,
        obj: &K,
        min_generation: i64,
    ) -> Option<PodProblem> {
        let anything = self
            .pods
            .values()
            .any(|p| !failfast::judge(p, self.policy).is_empty());
        if !anything {
            self.creating_since.clear();
            return None;
        }
        if obj.observed_generation() < min_generation {
            self.creating_since.clear();
            return None;
        }
        let revision = match &self.revision {
            Some((generation, r)) if *generation == obj.generation() => r.clone(),
            _ => {
                let history = if K::POD_REVISION_FROM_HISTORY {
                    match workload::history(cluster, obj).await {
                        Ok(h) => h,
                        Err(e) => {
                            tracing::debug!("{w}: fail-fast cannot read the history yet: {e}");
                            self.creating_since.clear();
                            return None;
                        }
                    }
                } else {
                    Vec::new()
                };
                let Some(r) = obj.pod_revision(&history) else {
                    self.creating_since.clear();
                    return None;
                };
                self.revision = Some((obj.generation(), r.clone()));
                r
            }
        };
        let found: Vec<Finding> = self
            .pods
            .values()
            .filter(|p| failfast::at_revision(p, K::POD_REVISION_LABEL, &revision))
            .flat_map(|p| failfast::judge(p, self.policy))
            .collect();
        let mut creating = BTreeSet::new();
        let mut conclusive = None;
        for f in &found {
            match f {
                Finding::Conclusive(e) => {
                    conclusive.get_or_insert_with(|| e.clone());
                }
                Finding::Transient(e) if CREATING.contains(&e.reason.as_str()) => {
                    let key = e.key();
                    let since = *self
                        .creating_since
                        .entry(key.clone())
                        .or_insert_with(Instant::now);
                    creating.insert(key);
                    if since.elapsed() >= CREATING_GRACE {
                        self.warn_once(w, e);
                    }
                }
                Finding::Transient(e) => self.warn_once(w, e),
            }
        }
        // Forget containers no longer creating, and those already warned about (so the
        // grace timer does not fire again).
        let warned = &self.warned;
        self.creating_since
            .retain(|k, _| creating.contains(k) && !warned.iter().any(|r| k.ends_with(r.as_str())));
        conclusive
    }

    fn warn_once(&mut self, w: &Workload, e: &PodProblem) {
        if !self.warned.insert(e.reason.clone()) {
            return;
        }
        let why = match e.reason.as_str() {
            "Unschedulable" => " (a cluster autoscaler may add a node)",
            "ErrImagePull" => " (the kubelet retries after a back-off)",
            "CrashLoopBackOff" | "OOMKilled" => " (below the `fail-fast-restarts` count)",
            _ => "",
        };
        tracing::warn!("{w}: {}: not conclusive{why}, waiting", e.evidence_line());
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => futures::future::pending().await,
    }
}
