//! The watch: following one workload until kubectl's rules settle, it is deleted, or the
//! deadline passes ([`wait_for`]), and turning that into the workload's report
//! ([`follow`]: status, revision, and what explains a failure).
//!
//! Talks to the API server through kube's watcher only; the verdict on each event is
//! [`status::evaluate`], the kind's rules.

use std::pin::pin;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;

use super::cluster::Cluster;
use super::duration::format_duration;
use super::error::{Action, ApiError, Error};
use super::failfast::{self, FailFast};
use super::inspect;
use super::kinds::Kind;
use super::names::Workload;
use super::podwatch::PodWatch;
use super::problems::PodProblem;
use super::results::{Status, WorkloadReport};
use super::status::{self, Progress, RolloutState};
use super::workload::{self, Prepared, Started};

/// How a wait ended.
pub(super) enum WaitEnd<K> {
    /// kubectl would exit (complete, or failed on its own terms).
    Settled(RolloutState, K),
    /// The timeout ran out first.
    TimedOut(Option<K>),
    /// The object went away.
    Deleted,
    /// A pod of the new revision showed conclusive evidence (fail fast).
    FailedFast(PodProblem, K),
}

/// What a wait saw.
pub(super) struct Waited<K> {
    /// How it ended.
    pub end: WaitEnd<K>,
    /// kubectl's last message.
    pub last_message: String,
    /// Replica counts as they changed, once the controller saw our generation.
    pub progression: Vec<Progress>,
    /// From the start until the controller observed our generation.
    pub observed_after: Option<Duration>,
    /// Wall-clock time the verdict was reached.
    pub finished_at: Option<jiff::Timestamp>,
}

impl<K> Waited<K> {
    /// `Some(true)` complete, `Some(false)` failed or deleted, `None` timed out.
    pub(super) fn succeeded(&self) -> Option<bool> {
        match &self.end {
            WaitEnd::Settled(RolloutState::Complete(_), _) => Some(true),
            WaitEnd::Settled(..) | WaitEnd::Deleted | WaitEnd::FailedFast(..) => Some(false),
            WaitEnd::TimedOut(_) => None,
        }
    }
}

/// Wait for `p`'s rollout, then read its revision and, when it failed, what explains it.
pub(super) async fn follow<K: Kind>(
    cluster: &Cluster,
    p: &Prepared,
    image: &str,
    started: Started,
    timeout: Duration,
    fail_fast: Option<FailFast>,
) -> Result<WorkloadReport, Error> {
    let w = &p.workload;
    let deadline = tokio::time::Instant::from_std(started.at + timeout);
    let mut pods = fail_fast.map(|f| PodWatch::<K>::start(cluster, w, p.selector.as_deref(), f));
    let waited = wait_for::<K>(
        cluster,
        w,
        started.min_generation,
        started.at,
        deadline,
        pods.as_mut(),
    )
    .await?;
    drop(pods);
    let duration = started.at.elapsed();
    let mut evidence = None;
    let (status, message, obj) = match waited.end {
        WaitEnd::Settled(RolloutState::Complete(m), o) => (
            if started.patched {
                Status::Complete
            } else {
                Status::Unchanged
            },
            m,
            Some(o),
        ),
        WaitEnd::Settled(RolloutState::Failed(m), o) => (Status::Failed, m, Some(o)),
        WaitEnd::Settled(RolloutState::Progressing(m), o) => (Status::TimedOut, m, Some(o)),
        WaitEnd::TimedOut(o) => {
            let last = if waited.last_message.is_empty() {
                "no status seen"
            } else {
                &waited.last_message
            };
            (Status::TimedOut, timed_out("the rollout", timeout, last), o)
        }
        WaitEnd::Deleted => (Status::Failed, waited.last_message.clone(), None),
        WaitEnd::FailedFast(e, o) => {
            evidence = Some(e);
            (Status::Failed, waited.last_message.clone(), Some(o))
        }
    };
    // The history is read once, when the revision or an explanation needs it.
    let history = match &obj {
        Some(o) if K::REVISION_FROM_HISTORY || !status.ok() => {
            Some(workload::history(cluster, o).await)
        }
        _ => None,
    };
    let known: &[K::History] = match &history {
        Some(Ok(h)) => h,
        _ => &[],
    };
    let revision = obj.as_ref().and_then(|o| o.revision(known));
    let explanation = if status.ok() {
        None
    } else {
        tracing::warn!("{w}: {message}");
        Some(inspect::explain_failure(cluster, w, obj.as_ref(), history.as_ref(), &message).await)
    };
    Ok(WorkloadReport {
        target: None,
        workload: w.clone(),
        container: p.container.clone(),
        image: image.to_owned(),
        previous_image: p.previous_image.clone(),
        patched: started.patched,
        status,
        message,
        revision,
        progression: waited.progression,
        observed_after: waited.observed_after,
        duration,
        finished_at: waited.finished_at,
        explanation,
        fail_fast: evidence,
        rollback: None,
    })
}

/// `timed out after 5m waiting for the rollout: <kubectl's last message>`.
pub(super) fn timed_out(what: &str, timeout: Duration, last_message: &str) -> String {
    format!(
        "timed out after {} waiting for {what}: {last_message}",
        format_duration(timeout)
    )
}

/// Whether a watch error ends the wait at once: retrying cannot fix RBAC, auth or a
/// missing resource.
pub(super) fn is_fatal(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => {
            matches!(k, kube::Error::Api(s) if matches!(s.code, 401 | 403 | 404))
        }
        _ => false,
    }
}

/// Watch one object until kubectl's rules settle, the object is deleted, or `deadline`.
///
/// Driven by `kube::runtime::watcher` with `default_backoff`: a dropped connection resumes
/// from the last resourceVersion, a `410 Gone` relists, transient errors back off. No
/// polling: a status change is evaluated the moment its event arrives. RBAC and auth errors
/// end the wait at once (retrying cannot fix them); other errors are retried until the
/// deadline, and if the watch is still failing then, the cluster was lost.
pub(super) async fn wait_for<K: Kind>(
    cluster: &Cluster,
    w: &Workload,
    min_generation: i64,
    started: Instant,
    deadline: tokio::time::Instant,
    mut pods: Option<&mut PodWatch<K>>,
) -> Result<Waited<K>, Error> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &w.namespace);
    let cfg = watcher::Config::default().fields(&format!("metadata.name={}", w.name));
    let mut stream = pin!(watcher(api, cfg).default_backoff());
    let mut waited = Waited {
        end: WaitEnd::Deleted,
        last_message: String::new(),
        progression: Vec::new(),
        observed_after: None,
        finished_at: None,
    };
    let deleted = format!("{} was deleted during the rollout", w.short());
    let mut last: Option<K> = None;
    let mut failing: Option<ApiError> = None;
    let mut seen_in_listing = false;
    loop {
        let next = async {
            match pods.as_deref_mut() {
                None => Some(stream.next().await),
                Some(pw) => tokio::select! {
                    n = stream.next() => Some(n),
                    () = pw.changed(w) => None,
                },
            }
        };
        let Ok(next) = tokio::time::timeout_at(deadline, next).await else {
            if let Some(last_failure) = failing {
                return Err(Error::WatchFailing {
                    url: cluster.url.clone(),
                    workload: w.clone(),
                    last: last_failure,
                });
            }
            waited.end = WaitEnd::TimedOut(last);
            return Ok(waited);
        };
        let Some(next) = next else {
            // A pod changed: judge the new revision's pods against the workload as last seen.
            if let (Some(pw), Some(obj)) = (pods.as_deref_mut(), last.as_ref())
                && let Some(e) = pw.check(cluster, w, obj, min_generation).await
            {
                return Ok(failed_fast(waited, e, obj.clone(), started));
            }
            continue;
        };
        let obj = match next {
            // The watcher never ends on its own; treat an end like a lost cluster.
            None => {
                return Err(Error::WatchEnded {
                    url: cluster.url.clone(),
                    workload: w.clone(),
                });
            }
            Some(Err(e)) if is_fatal(&e) => {
                return Err(Error::from_api(
                    &cluster.url,
                    Action::Watch,
                    w,
                    ApiError::from_watch(e),
                ));
            }
            Some(Err(e)) => {
                let e = ApiError::from_watch(e);
                tracing::debug!("{w}: watch interrupted, resuming: {e}");
                failing = Some(e);
                continue;
            }
            Some(Ok(watcher::Event::Init)) => {
                seen_in_listing = false;
                continue;
            }
            Some(Ok(watcher::Event::InitDone)) => {
                failing = None;
                if !seen_in_listing {
                    waited.end = WaitEnd::Deleted;
                    waited.last_message = deleted;
                    return Ok(waited);
                }
                continue;
            }
            Some(Ok(watcher::Event::Delete(_))) => {
                waited.end = WaitEnd::Deleted;
                waited.last_message = deleted;
                return Ok(waited);
            }
            Some(Ok(watcher::Event::InitApply(o))) => {
                seen_in_listing = true;
                o
            }
            Some(Ok(watcher::Event::Apply(o))) => o,
        };
        failing = None;
        if waited.observed_after.is_none() && obj.observed_generation() >= min_generation {
            waited.observed_after = Some(started.elapsed());
        }
        // Counts from before the controller saw our change describe the old rollout.
        let progress = obj.progress();
        if obj.observed_generation() >= min_generation
            && waited.progression.last() != Some(&progress)
        {
            waited.progression.push(progress);
        }
        let state = status::evaluate(&obj, min_generation);
        if state.message() != waited.last_message {
            tracing::info!("{w}: {}", state.message());
            waited.last_message = state.message().to_owned();
        }
        if let (RolloutState::Progressing(_), Some(pw)) = (&state, pods.as_deref_mut())
            && let Some(e) = pw.check(cluster, w, &obj, min_generation).await
        {
            return Ok(failed_fast(waited, e, obj, started));
        }
        match state {
            RolloutState::Progressing(_) => last = Some(obj),
            settled => {
                waited.finished_at = Some(jiff::Timestamp::now());
                waited.end = WaitEnd::Settled(settled, obj);
                return Ok(waited);
            }
        }
    }
}

/// The wait's end when a pod showed conclusive evidence: the verdict line names the pod,
/// the container, the reason and the time since the patch.
fn failed_fast<K>(mut waited: Waited<K>, e: PodProblem, obj: K, started: Instant) -> Waited<K> {
    let message = failfast::verdict(&e, &format_duration(started.elapsed()));
    tracing::info!("fail-fast: {}", failfast::HINT);
    waited.finished_at = Some(jiff::Timestamp::now());
    waited.last_message = message;
    waited.end = WaitEnd::FailedFast(e, obj);
    waited
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_name_the_wait_and_the_last_status() {
        assert_eq!(
            timed_out(
                "the rollout",
                Duration::from_secs(90),
                "Waiting for 1 pods to be ready..."
            ),
            "timed out after 1m30s waiting for the rollout: Waiting for 1 pods to be ready..."
        );
        assert_eq!(
            timed_out("the rollback", Duration::from_millis(1500), "x"),
            "timed out after 1.5s waiting for the rollback: x"
        );
    }

    #[test]
    fn only_rbac_auth_and_missing_resources_end_a_watch_at_once() {
        let api = |code: u16| {
            kube::Error::Api(Box::new(
                kube::core::Status::failure("m", "r").with_code(code),
            ))
        };
        for code in [401, 403, 404] {
            assert!(
                is_fatal(&watcher::Error::WatchStartFailed(api(code))),
                "{code}"
            );
            assert!(
                is_fatal(&watcher::Error::InitialListFailed(api(code))),
                "{code}"
            );
        }
        for code in [410, 429, 500, 503] {
            assert!(!is_fatal(&watcher::Error::WatchFailed(api(code))), "{code}");
        }
        assert!(!is_fatal(&watcher::Error::NoResourceVersion));
    }
}
