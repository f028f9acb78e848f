//! Why a rollout failed, in words: the new pods' waiting/terminated reasons
//! (`ImagePullBackOff`, `CrashLoopBackOff`, `OOMKilled`, `Unschedulable`, ...), the pods and
//! revisions involved, recent events ([`super::events`]), and the tail of a failing
//! container's log.
//!
//! Pure: objects the gate has already read go in, an [`Explanation`] comes out. Which
//! container's log to read is decided here too, so `inspect.rs` only fetches; which pods
//! belong to the new revision is the kind's answer (`kinds/`). How an explanation reads is
//! `render.rs`'s business.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// Most log lines shown.
pub const LOG_LINES: usize = 20;
/// Most log bytes shown.
pub const LOG_BYTES: usize = 4096;
/// Most pods listed.
pub const MAX_PODS: usize = 10;

/// One thing wrong with one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodProblem {
    /// Pod name.
    pub pod: String,
    /// Container, when the problem is a container's.
    pub container: Option<String>,
    /// `ImagePullBackOff`, `CrashLoopBackOff`, `OOMKilled`, `Unschedulable`, ...
    pub reason: String,
    /// The kubelet's or scheduler's message, plus exit codes and restarts.
    pub message: String,
}

impl PodProblem {
    /// `api-7c9d-x1/api: ImagePullBackOff: Back-off pulling image "..."`.
    pub fn line(&self) -> String {
        let place = match &self.container {
            Some(c) => format!("{}/{c}", self.pod),
            None => self.pod.clone(),
        };
        if self.message.is_empty() {
            format!("{place}: {}", self.reason)
        } else {
            format!("{place}: {}: {}", self.reason, self.message)
        }
    }
}

/// Reasons a container waits in that are steps of a normal start, not problems.
const BENIGN_WAITING: &[&str] = &["ContainerCreating", "PodInitializing"];

fn container_problem(pod: &str, cs: &ContainerStatus) -> Option<PodProblem> {
    let state = cs.state.as_ref();
    let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let restarts = if cs.restart_count > 0 {
        format!(" (restarted {} times)", cs.restart_count)
    } else {
        String::new()
    };
    let last_exit = last
        .map(|t| {
            let reason = t.reason.clone().unwrap_or_else(|| "Error".into());
            format!("last exit: {reason}, exit code {}", t.exit_code)
        })
        .unwrap_or_default();
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        let reason = w.reason.clone().unwrap_or_default();
        if reason.is_empty() || BENIGN_WAITING.contains(&reason.as_str()) {
            return None;
        }
        let mut message = w.message.clone().unwrap_or_default();
        if !last_exit.is_empty() {
            message = if message.is_empty() {
                last_exit
            } else {
                format!("{message}; {last_exit}")
            };
        }
        return Some(PodProblem {
            pod: pod.to_owned(),
            container: Some(cs.name.clone()),
            reason,
            message: format!("{message}{restarts}").trim().to_owned(),
        });
    }
    if let Some(t) = state.and_then(|s| s.terminated.as_ref())
        && t.exit_code != 0
    {
        let reason = t.reason.clone().unwrap_or_else(|| "Error".into());
        let msg = t
            .message
            .clone()
            .map(|m| format!("{m}; "))
            .unwrap_or_default();
        return Some(PodProblem {
            pod: pod.to_owned(),
            container: Some(cs.name.clone()),
            reason,
            message: format!("{msg}exit code {}{restarts}", t.exit_code),
        });
    }
    if state.and_then(|s| s.running.as_ref()).is_some() && !cs.ready {
        // Running but not ready: a failing readiness probe, or restarts after OOM kills.
        let (reason, message) = match last {
            Some(t) if t.reason.as_deref() == Some("OOMKilled") => {
                ("OOMKilled".to_owned(), format!("{last_exit}{restarts}"))
            }
            _ => (
                "NotReady".to_owned(),
                format!("running but not ready{restarts}"),
            ),
        };
        return Some(PodProblem {
            pod: pod.to_owned(),
            container: Some(cs.name.clone()),
            reason,
            message,
        });
    }
    None
}

/// What is wrong with a pod: scheduling, init containers, containers, eviction.
pub fn pod_problems(pod: &Pod) -> Vec<PodProblem> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut out = Vec::new();
    let Some(status) = &pod.status else {
        return out;
    };
    if status.phase.as_deref() == Some("Failed") {
        out.push(PodProblem {
            pod: name.clone(),
            container: None,
            reason: status.reason.clone().unwrap_or_else(|| "Failed".into()),
            message: status.message.clone().unwrap_or_default(),
        });
    }
    for c in status.conditions.iter().flatten() {
        if c.type_ == "PodScheduled" && c.status == "False" {
            out.push(PodProblem {
                pod: name.clone(),
                container: None,
                reason: c.reason.clone().unwrap_or_else(|| "Unschedulable".into()),
                message: c.message.clone().unwrap_or_default(),
            });
        }
    }
    for cs in status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
    {
        out.extend(container_problem(&name, cs));
    }
    out
}

/// Which container's log to read: `kubectl logs [--previous] POD -c CONTAINER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Read the previous (crashed) instance.
    pub previous: bool,
}

/// The first container that crashed or exited with an error: its previous instance when it
/// has restarted and is not running now, else the current one. Containers that never
/// started (image pulls, scheduling) have no log.
pub fn log_target(pods: &[&Pod]) -> Option<LogTarget> {
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let statuses = pod.status.iter().flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        });
        for cs in statuses {
            let state = cs.state.as_ref();
            let terminated_now = state
                .and_then(|s| s.terminated.as_ref())
                .is_some_and(|t| t.exit_code != 0);
            let crashed_before = cs
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .is_some();
            if terminated_now {
                return Some(LogTarget {
                    pod: name,
                    container: cs.name.clone(),
                    previous: false,
                });
            }
            if crashed_before && cs.restart_count > 0 {
                let running = state.and_then(|s| s.running.as_ref()).is_some();
                return Some(LogTarget {
                    pod: name,
                    container: cs.name.clone(),
                    previous: !running || !cs.ready,
                });
            }
        }
    }
    None
}

/// The last `max_lines` lines of a log, then at most its last `max_bytes` bytes (cut at a
/// line start when possible, else at a character boundary).
pub fn tail_log(text: &str, max_lines: usize, max_bytes: usize) -> String {
    let trimmed = text.trim_end_matches('\n');
    let lines: Vec<&str> = trimmed.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let mut out = lines[start..].join("\n");
    if out.len() > max_bytes {
        let mut cut = out.len() - max_bytes;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        if let Some(nl) = out[cut..].find('\n')
            && nl + 1 < out.len() - cut
        {
            cut += nl + 1;
        }
        out = out[cut..].to_owned();
    }
    out
}

/// `api-7c9d-x1 Pending 0/1 ready, 3 restarts`.
pub fn pod_line(p: &Pod) -> String {
    let name = p.metadata.name.as_deref().unwrap_or("");
    let st = p.status.clone().unwrap_or_default();
    let cs = st.container_statuses.unwrap_or_default();
    let ready = cs.iter().filter(|c| c.ready).count();
    let total = p.spec.as_ref().map_or(cs.len(), |s| s.containers.len());
    let restarts: i32 = cs.iter().map(|c| c.restart_count).sum();
    format!(
        "{name} {} {ready}/{total} ready, {restarts} restarts",
        st.phase.as_deref().unwrap_or("Unknown")
    )
}

/// Everything known about a failed rollout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    /// kubectl's last message (or the timeout) for the workload.
    pub verdict: String,
    /// Problems of the new revision's pods.
    pub problems: Vec<PodProblem>,
    /// Pod lines (new revision's pods).
    pub pods: Vec<String>,
    /// ReplicaSet lines (Deployments only).
    pub replicasets: Vec<String>,
    /// Event lines, oldest first.
    pub events: Vec<String>,
    /// Which log was read, and its tail.
    pub log: Option<(LogTarget, String)>,
    /// Things that could not be read (the explanation is then partial).
    pub gaps: Vec<String>,
}

impl Explanation {
    /// The short reason for a result row: the verdict plus the first distinct pod reasons.
    pub fn headline(&self) -> String {
        // Reasons the verdict already names (a fail-fast verdict) are not repeated.
        let reasons: BTreeSet<&str> = self
            .problems
            .iter()
            .map(|p| p.reason.as_str())
            .filter(|r| !self.verdict.contains(r))
            .collect();
        if reasons.is_empty() {
            self.verdict.clone()
        } else {
            format!(
                "{} ({})",
                self.verdict,
                reasons.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Build the explanation from what was read. `pods` are the new revision's pods,
/// `history_lines` the kind's lines about its revisions, `events` the event lines.
pub fn explain(
    verdict: &str,
    pods: &[&Pod],
    history_lines: Vec<String>,
    events: Vec<String>,
    log: Option<(LogTarget, String)>,
) -> Explanation {
    Explanation {
        verdict: verdict.to_owned(),
        problems: pods.iter().flat_map(|p| pod_problems(p)).collect(),
        pods: pods.iter().take(MAX_PODS).map(|p| pod_line(p)).collect(),
        replicasets: history_lines,
        events,
        log,
        gaps: Vec::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn pod(yaml: &str) -> Pod {
        serde_yaml::from_str(yaml).unwrap()
    }

    pub(crate) const PULL: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: api-7c9d-x1
  labels: {app: api, pod-template-hash: 7c9d}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-7c9d, uid: rs-new, controller: true}]
spec: {containers: [{name: api, image: "example.com/api:pull-error"}]}
status:
  phase: Pending
  containerStatuses:
  - name: api
    image: example.com/api:pull-error
    imageID: ""
    ready: false
    restartCount: 0
    state:
      waiting:
        reason: ImagePullBackOff
        message: Back-off pulling image "example.com/api:pull-error"
"#;

    pub(crate) const CRASH: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: api-7c9d-x2
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-7c9d, uid: rs-new, controller: true}]
spec: {containers: [{name: api, image: "example.com/api:crash"}]}
status:
  phase: Running
  containerStatuses:
  - name: api
    image: example.com/api:crash
    imageID: ""
    ready: false
    restartCount: 4
    state:
      waiting:
        reason: CrashLoopBackOff
        message: back-off 1m20s restarting failed container=api pod=api-7c9d-x2
    lastState:
      terminated: {exitCode: 1, reason: Error}
"#;

    pub(crate) const OOM: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-7c9d-x3}
spec: {containers: [{name: api, image: "example.com/api:oom"}]}
status:
  phase: Running
  containerStatuses:
  - name: api
    image: example.com/api:oom
    imageID: ""
    ready: false
    restartCount: 2
    state: {running: {startedAt: "2025-01-01T00:00:00Z"}}
    lastState:
      terminated: {exitCode: 137, reason: OOMKilled}
"#;

    pub(crate) const UNSCHEDULABLE: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-7c9d-x4}
spec: {containers: [{name: api, image: "example.com/api:unschedulable"}]}
status:
  phase: Pending
  conditions:
  - type: PodScheduled
    status: "False"
    reason: Unschedulable
    message: "0/3 nodes are available: 3 Insufficient cpu."
"#;

    pub(crate) const HEALTHY: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-5f6b-a1}
spec: {containers: [{name: api, image: "example.com/api:1"}]}
status:
  phase: Running
  containerStatuses:
  - {name: api, image: "example.com/api:1", imageID: "", ready: true, restartCount: 0, state: {running: {}}}
"#;

    #[test]
    fn pod_problems_name_the_reason() {
        let cases = [
            (
                PULL,
                vec![
                    "api-7c9d-x1/api: ImagePullBackOff: Back-off pulling image \"example.com/api:pull-error\"",
                ],
            ),
            (
                CRASH,
                vec![
                    "api-7c9d-x2/api: CrashLoopBackOff: back-off 1m20s restarting failed container=api pod=api-7c9d-x2; last exit: Error, exit code 1 (restarted 4 times)",
                ],
            ),
            (
                OOM,
                vec![
                    "api-7c9d-x3/api: OOMKilled: last exit: OOMKilled, exit code 137 (restarted 2 times)",
                ],
            ),
            (
                UNSCHEDULABLE,
                vec!["api-7c9d-x4: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."],
            ),
            (HEALTHY, vec![]),
        ];
        for (yaml, want) in cases {
            let got: Vec<String> = pod_problems(&pod(yaml))
                .iter()
                .map(PodProblem::line)
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn creating_containers_are_not_problems_but_failed_pods_and_init_containers_are() {
        let creating = pod(
            "metadata: {name: p}\nstatus:\n  phase: Pending\n  containerStatuses:\n  - {name: a, image: x, imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: ContainerCreating}}}\n",
        );
        assert!(pod_problems(&creating).is_empty());
        let evicted = pod(
            "metadata: {name: p}\nstatus: {phase: Failed, reason: Evicted, message: 'The node was low on resource: memory.'}\n",
        );
        assert_eq!(
            pod_problems(&evicted)[0].line(),
            "p: Evicted: The node was low on resource: memory."
        );
        let init = pod(
            "metadata: {name: p}\nstatus:\n  phase: Pending\n  initContainerStatuses:\n  - {name: migrate, image: x, imageID: '', ready: false, restartCount: 0, state: {terminated: {exitCode: 2, reason: Error}}}\n",
        );
        assert_eq!(
            pod_problems(&init)[0].line(),
            "p/migrate: Error: exit code 2"
        );
    }

    #[test]
    fn log_target_prefers_the_crashed_instance() {
        let (crash, pull, oom, healthy) = (pod(CRASH), pod(PULL), pod(OOM), pod(HEALTHY));
        assert_eq!(
            log_target(&[&pull]),
            None,
            "an image that never pulled has no log"
        );
        assert_eq!(
            log_target(&[&pull, &crash]),
            Some(LogTarget {
                pod: "api-7c9d-x2".into(),
                container: "api".into(),
                previous: true
            })
        );
        assert_eq!(
            log_target(&[&oom]).map(|t| t.previous),
            Some(true),
            "running again but not ready: the killed instance"
        );
        assert_eq!(log_target(&[&healthy]), None);
    }

    #[test]
    fn log_tail_is_bounded_by_lines_and_bytes() {
        let log: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        let t = tail_log(&log, 20, 4096);
        assert_eq!(t.lines().count(), 20);
        assert!(t.starts_with("line 31\n") && t.ends_with("line 50"), "{t}");
        let long: String = (0..20)
            .map(|i| format!("{i}:{}\n", "x".repeat(400)))
            .collect();
        let t = tail_log(&long, 20, 4096);
        assert!(t.len() <= 4096, "{}", t.len());
        assert!(t.starts_with("10:"), "cut at a line start: {}", &t[..10]);
        let one = "é".repeat(3000);
        let t = tail_log(&one, 20, 4095);
        assert!(t.len() <= 4095 && t.chars().all(|c| c == 'é'));
        assert_eq!(tail_log("", 20, 4096), "");
    }

    #[test]
    fn explanation_collects_problems_pods_and_headline() {
        let (p1, p2) = (pod(PULL), pod(CRASH));
        let target = LogTarget {
            pod: "api-7c9d-x2".into(),
            container: "api".into(),
            previous: true,
        };
        let e = explain(
            "deployment \"api\" exceeded its progress deadline",
            &[&p1, &p2],
            vec!["api-7c9d (revision 2, api:2): 1 desired, 1 current, 0 ready".into()],
            vec!["Warning Failed pod/api-7c9d-x1: ErrImagePull".into()],
            Some((target, "panic: boom".into())),
        );
        assert_eq!(
            e.headline(),
            "deployment \"api\" exceeded its progress deadline (CrashLoopBackOff, ImagePullBackOff)"
        );
        assert_eq!(e.problems.len(), 2);
        assert_eq!(
            e.pods,
            [
                "api-7c9d-x1 Pending 0/1 ready, 0 restarts",
                "api-7c9d-x2 Running 0/1 ready, 4 restarts"
            ]
        );
        assert_eq!(e.replicasets.len(), 1);
        assert!(e.gaps.is_empty());
        let healthy = pod(HEALTHY);
        assert_eq!(
            explain("timed out", &[&healthy], vec![], vec![], None).headline(),
            "timed out",
            "no pod problem: the verdict alone"
        );
    }
}
