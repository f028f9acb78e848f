//! Fail fast: which pod states of the new revision are conclusive evidence that a rollout
//! will not finish, so the gate can stop waiting long before the progress deadline
//! (`progressDeadlineSeconds`, 600 s by default), and which are transient and only worth a
//! warning line. Pure: pods in, [`Finding`]s out; the watch that feeds it is `podwatch.rs`.
//!
//! Conclusive, for any container (init containers too):
//! - `ImagePullBackOff`: the kubelet has already failed one pull and backed off (the first
//!   `ErrImagePull` alone is transient: registries hiccup, and the retry may succeed);
//! - `InvalidImageName`, `CreateContainerConfigError`, `CreateContainerError`: the kubelet
//!   retries these, but nothing in the rollout will change the outcome;
//! - `CrashLoopBackOff`, or a last termination by `OOMKilled`, once the container has
//!   restarted [`DEFAULT_RESTARTS`] times (input `fail-fast-restarts`). The default of 2
//!   lets a container that crashes once at start-up (a dependency not up yet, a migration
//!   lock) recover, and still ends a crash loop within the kubelet's first back-offs
//!   (10 s, 20 s), not after ten minutes.
//!
//! Transient (the gate waits, with one warning line): a pod `Unschedulable` (a cluster
//! autoscaler may add a node), `ContainerCreating` / `PodInitializing` for longer than
//! [`CREATING_GRACE`], the first `ErrImagePull`, and crash loops below the restart count.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::problems::{CREATING, PodProblem, container_statuses, unschedulable};

/// Restarts after which a crash loop or repeated OOM kill is conclusive.
pub const DEFAULT_RESTARTS: i32 = 2;
/// How long a container may be `ContainerCreating` (or its pod `PodInitializing`) before
/// the gate says so: every container passes through these states briefly.
pub const CREATING_GRACE: Duration = Duration::from_secs(3);

/// Waiting reasons that are conclusive at once.
const CONCLUSIVE_WAITING: &[&str] = &[
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// The fail-fast policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailFast {
    /// Restarts after which `CrashLoopBackOff` / `OOMKilled` is conclusive (at least 1).
    pub restarts: i32,
}

impl Default for FailFast {
    fn default() -> Self {
        Self {
            restarts: DEFAULT_RESTARTS,
        }
    }
}

/// What a pod's state says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The rollout will not finish: fail now.
    Conclusive(PodProblem),
    /// Not conclusive: wait, and say so once.
    Transient(PodProblem),
}

fn container_finding(pod: &str, cs: &ContainerStatus, policy: FailFast) -> Option<Finding> {
    let evidence = |reason: &str, message| PodProblem::of_container(pod, cs, reason, message);
    let restarts = cs.restart_count;
    let restarted = format!("restarted {restarts} times");
    let last_oom = cs
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .is_some_and(|t| t.reason.as_deref() == Some("OOMKilled"));
    let state = cs.state.as_ref();
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        let reason = w.reason.as_deref().unwrap_or_default();
        let message = w.message.clone().unwrap_or_default();
        if CONCLUSIVE_WAITING.contains(&reason) {
            return Some(Finding::Conclusive(evidence(reason, message)));
        }
        if reason == "CrashLoopBackOff" {
            let reason = if last_oom { "OOMKilled" } else { reason };
            let e = evidence(reason, restarted);
            return Some(if restarts >= policy.restarts {
                Finding::Conclusive(e)
            } else {
                Finding::Transient(e)
            });
        }
        if reason == "ErrImagePull" || CREATING.contains(&reason) {
            return Some(Finding::Transient(evidence(reason, message)));
        }
        return None;
    }
    let oom_now = state
        .and_then(|s| s.terminated.as_ref())
        .is_some_and(|t| t.reason.as_deref() == Some("OOMKilled"));
    if oom_now || last_oom {
        let e = evidence("OOMKilled", restarted);
        return Some(if restarts >= policy.restarts {
            Finding::Conclusive(e)
        } else {
            Finding::Transient(e)
        });
    }
    None
}

/// Every finding about `pod`, conclusive ones first.
pub fn judge(pod: &Pod, policy: FailFast) -> Vec<Finding> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut out = Vec::new();
    let Some(status) = &pod.status else {
        return out;
    };
    out.extend(unschedulable(&name, status).map(Finding::Transient));
    for cs in container_statuses(status) {
        out.extend(container_finding(&name, cs, policy));
    }
    out.sort_by_key(|f| !matches!(f, Finding::Conclusive(_)));
    out
}

/// Whether `pod` carries the new revision's `label` value: equal to `revision`, or its
/// suffix after a `-` (a DaemonSet's pods carry the hash, its ControllerRevision is named
/// `<daemonset>-<hash>`).
pub fn at_revision(pod: &Pod, label: &str, revision: &str) -> bool {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(label))
        .is_some_and(|h| {
            !h.is_empty()
                && (h == revision
                    || revision
                        .strip_suffix(h.as_str())
                        .is_some_and(|p| p.ends_with('-')))
        })
}

/// The verdict line: how long after the patch, and what was seen.
pub fn verdict(e: &PodProblem, after: &str) -> String {
    format!("failed fast after {after}: {}", e.evidence_line())
}

/// What the log says with the verdict.
pub const HINT: &str =
    "`fail-fast: false` waits for the progress deadline as `kubectl rollout status` does";

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(statuses: &str) -> Pod {
        serde_yaml::from_str(&format!(
            "metadata: {{name: api-1, labels: {{pod-template-hash: 7c9d}}}}\nstatus:\n{statuses}"
        ))
        .unwrap()
    }

    fn waiting(reason: &str, restarts: i32, last: &str) -> Pod {
        pod(&format!(
            "  containerStatuses:\n  - {{name: api, image: x, imageID: '', ready: false, restartCount: {restarts}, state: {{waiting: {{reason: {reason}, message: m}}}}, lastState: {last}}}\n"
        ))
    }

    fn kinds(findings: &[Finding]) -> Vec<(bool, &str)> {
        findings
            .iter()
            .map(|f| match f {
                Finding::Conclusive(e) => (true, e.reason.as_str()),
                Finding::Transient(e) => (false, e.reason.as_str()),
            })
            .collect()
    }

    /// Waiting reason, restarts, last state, and the findings (conclusive?, reason).
    type Case = (
        &'static str,
        i32,
        &'static str,
        &'static [(bool, &'static str)],
    );

    #[test]
    fn waiting_reasons_are_conclusive_or_transient() {
        let p = FailFast::default();
        let cases: &[Case] = &[
            ("ImagePullBackOff", 0, "{}", &[(true, "ImagePullBackOff")]),
            ("ErrImagePull", 0, "{}", &[(false, "ErrImagePull")]),
            ("InvalidImageName", 0, "{}", &[(true, "InvalidImageName")]),
            (
                "CreateContainerConfigError",
                0,
                "{}",
                &[(true, "CreateContainerConfigError")],
            ),
            (
                "CreateContainerError",
                0,
                "{}",
                &[(true, "CreateContainerError")],
            ),
            (
                "ContainerCreating",
                0,
                "{}",
                &[(false, "ContainerCreating")],
            ),
            ("PodInitializing", 0, "{}", &[(false, "PodInitializing")]),
            (
                "CrashLoopBackOff",
                1,
                "{terminated: {exitCode: 1}}",
                &[(false, "CrashLoopBackOff")],
            ),
            (
                "CrashLoopBackOff",
                2,
                "{terminated: {exitCode: 1}}",
                &[(true, "CrashLoopBackOff")],
            ),
            (
                "CrashLoopBackOff",
                2,
                "{terminated: {exitCode: 137, reason: OOMKilled}}",
                &[(true, "OOMKilled")],
            ),
            ("SomethingNew", 0, "{}", &[]),
        ];
        for (reason, restarts, last, want) in cases {
            assert_eq!(
                kinds(&judge(&waiting(reason, *restarts, last), p)),
                *want,
                "{reason} after {restarts} restarts"
            );
        }
    }

    #[test]
    fn the_restart_count_is_the_policys() {
        let crash = waiting("CrashLoopBackOff", 1, "{terminated: {exitCode: 1}}");
        assert_eq!(
            kinds(&judge(&crash, FailFast { restarts: 1 })),
            [(true, "CrashLoopBackOff")]
        );
        assert_eq!(
            kinds(&judge(&crash, FailFast { restarts: 5 })),
            [(false, "CrashLoopBackOff")]
        );
    }

    #[test]
    fn oom_kills_count_whether_waiting_running_or_terminated() {
        let p = FailFast::default();
        let running = pod(
            "  containerStatuses:\n  - {name: api, image: x, imageID: '', ready: true, restartCount: 3, state: {running: {}}, lastState: {terminated: {exitCode: 137, reason: OOMKilled}}}\n",
        );
        assert_eq!(kinds(&judge(&running, p)), [(true, "OOMKilled")]);
        let first = pod(
            "  containerStatuses:\n  - {name: api, image: x, imageID: '', ready: false, restartCount: 0, state: {terminated: {exitCode: 137, reason: OOMKilled}}, lastState: {}}\n",
        );
        assert_eq!(kinds(&judge(&first, p)), [(false, "OOMKilled")]);
        let healthy = pod(
            "  containerStatuses:\n  - {name: api, image: x, imageID: '', ready: true, restartCount: 1, state: {running: {}}, lastState: {terminated: {exitCode: 1, reason: Error}}}\n",
        );
        assert!(judge(&healthy, p).is_empty(), "one crash, then running");
    }

    #[test]
    fn unschedulable_is_transient_and_init_containers_count() {
        let p = FailFast::default();
        let pending = pod(
            "  phase: Pending\n  conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable, message: 0/3 nodes are available}]\n",
        );
        let f = judge(&pending, p);
        assert_eq!(kinds(&f), [(false, "Unschedulable")]);
        let Finding::Transient(e) = &f[0] else {
            panic!()
        };
        assert_eq!(
            e.evidence_line(),
            "pod api-1: Unschedulable (0/3 nodes are available)"
        );
        let init = pod(
            "  initContainerStatuses:\n  - {name: migrate, image: x, imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image \"x\"'}}}\n  containerStatuses:\n  - {name: api, image: y, imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: PodInitializing}}}\n",
        );
        let f = judge(&init, p);
        assert_eq!(
            kinds(&f),
            [(true, "ImagePullBackOff"), (false, "PodInitializing")],
            "conclusive first"
        );
        let Finding::Conclusive(e) = &f[0] else {
            panic!()
        };
        assert_eq!(
            verdict(e, "12s"),
            "failed fast after 12s: pod api-1, container migrate: ImagePullBackOff (Back-off pulling image \"x\")"
        );
    }

    #[test]
    fn revision_labels_match_whole_or_as_the_name_suffix() {
        let p = pod("  {}\n");
        assert!(at_revision(&p, "pod-template-hash", "7c9d"));
        assert!(at_revision(&p, "pod-template-hash", "agent-7c9d"));
        assert!(!at_revision(&p, "pod-template-hash", "agent7c9d"));
        assert!(!at_revision(&p, "pod-template-hash", "8c9d"));
        assert!(!at_revision(&p, "controller-revision-hash", "7c9d"));
    }
}
