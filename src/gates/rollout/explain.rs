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

use super::problems::{CREATING, PodProblem, container_statuses, unschedulable};

/// Most log lines shown.
pub(super) const LOG_LINES: usize = 20;
/// Most log bytes shown.
pub(super) const LOG_BYTES: usize = 4096;
/// Most pods listed.
pub(super) const MAX_PODS: usize = 10;

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
        if reason.is_empty() || CREATING.contains(&reason.as_str()) {
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
        let message = format!("{message}{restarts}").trim().to_owned();
        return Some(PodProblem::of_container(pod, cs, &reason, message));
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
        let message = format!("{msg}exit code {}{restarts}", t.exit_code);
        return Some(PodProblem::of_container(pod, cs, &reason, message));
    }
    if state.and_then(|s| s.running.as_ref()).is_some() && !cs.ready {
        // Running but not ready: a failing readiness probe, or restarts after OOM kills.
        let (reason, message) = match last {
            Some(t) if t.reason.as_deref() == Some("OOMKilled") => {
                ("OOMKilled", format!("{last_exit}{restarts}"))
            }
            _ => ("NotReady", format!("running but not ready{restarts}")),
        };
        return Some(PodProblem::of_container(pod, cs, reason, message));
    }
    None
}

/// What is wrong with a pod: scheduling, init containers, containers, eviction.
pub(super) fn pod_problems(pod: &Pod) -> Vec<PodProblem> {
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
    out.extend(unschedulable(&name, status));
    for cs in container_statuses(status) {
        out.extend(container_problem(&name, cs));
    }
    out
}

/// Which container's log to read: `kubectl logs [--previous] POD -c CONTAINER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LogTarget {
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
pub(super) fn log_target(pods: &[&Pod]) -> Option<LogTarget> {
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let statuses = pod.status.iter().flat_map(container_statuses);
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
pub(super) fn tail_log(text: &str, max_lines: usize, max_bytes: usize) -> String {
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
pub(super) fn pod_line(p: &Pod) -> String {
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
pub(super) struct Explanation {
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
    pub(super) fn headline(&self) -> String {
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
pub(super) fn explain(
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

    /// A pod named `name` whose `api` container runs `example.com/api:<tag>`, in `phase`,
    /// with `status` lines after the phase.
    fn api_pod(name: &str, tag: &str, phase: &str, status: &str) -> Pod {
        pod(&format!(
            "metadata: {{name: {name}}}\nspec: {{containers: [{{name: api, image: 'example.com/api:{tag}'}}]}}\nstatus:\n  phase: {phase}\n{status}"
        ))
    }

    /// `status:` lines: the `api` container's status (`state` and `lastState` in YAML).
    fn api_status(tag: &str, ready: bool, restarts: i32, state: &str, last: &str) -> String {
        format!(
            "  containerStatuses:\n  - {{name: api, image: 'example.com/api:{tag}', imageID: '', ready: {ready}, restartCount: {restarts}, state: {state}, lastState: {last}}}"
        )
    }

    /// A new pod whose image cannot be pulled.
    pub(crate) fn pull() -> Pod {
        let waiting = r#"{waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "example.com/api:pull-error"'}}"#;
        let status = api_status("pull-error", false, 0, waiting, "{}");
        api_pod("api-7c9d-x1", "pull-error", "Pending", &status)
    }

    /// A new pod in a crash loop, restarted four times.
    pub(crate) fn crash() -> Pod {
        let waiting = "{waiting: {reason: CrashLoopBackOff, message: 'back-off 1m20s restarting failed container=api pod=api-7c9d-x2'}}";
        let last = "{terminated: {exitCode: 1, reason: Error}}";
        let status = api_status("crash", false, 4, waiting, last);
        api_pod("api-7c9d-x2", "crash", "Running", &status)
    }

    /// A new pod running again, not ready, after two OOM kills.
    fn oom() -> Pod {
        let running = "{running: {startedAt: '2025-01-01T00:00:00Z'}}";
        let last = "{terminated: {exitCode: 137, reason: OOMKilled}}";
        let status = api_status("oom", false, 2, running, last);
        api_pod("api-7c9d-x3", "oom", "Running", &status)
    }

    /// A new pod no node has room for.
    fn unschedulable() -> Pod {
        let status = "  conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable, message: '0/3 nodes are available: 3 Insufficient cpu.'}]";
        api_pod("api-7c9d-x4", "unschedulable", "Pending", status)
    }

    /// An old pod, running and ready.
    fn healthy() -> Pod {
        let status = api_status("1", true, 0, "{running: {}}", "{}");
        api_pod("api-5f6b-a1", "1", "Running", &status)
    }

    /// A Deployment past its progress deadline with [`pull`] and [`crash`] as its new pods,
    /// the crashed instance's log `log`, `history_lines` and `events`.
    pub(crate) fn past_deadline(
        history_lines: Vec<String>,
        events: Vec<String>,
        log: &str,
    ) -> Explanation {
        let target = LogTarget {
            pod: "api-7c9d-x2".into(),
            container: "api".into(),
            previous: true,
        };
        explain(
            "deployment \"api\" exceeded its progress deadline",
            &[&pull(), &crash()],
            history_lines,
            events,
            Some((target, log.into())),
        )
    }

    #[test]
    fn pod_problems_name_the_reason() {
        let cases = [
            (
                pull(),
                vec![
                    "api-7c9d-x1/api: ImagePullBackOff: Back-off pulling image \"example.com/api:pull-error\"",
                ],
            ),
            (
                crash(),
                vec![
                    "api-7c9d-x2/api: CrashLoopBackOff: back-off 1m20s restarting failed container=api pod=api-7c9d-x2; last exit: Error, exit code 1 (restarted 4 times)",
                ],
            ),
            (
                oom(),
                vec![
                    "api-7c9d-x3/api: OOMKilled: last exit: OOMKilled, exit code 137 (restarted 2 times)",
                ],
            ),
            (
                unschedulable(),
                vec!["api-7c9d-x4: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."],
            ),
            (healthy(), vec![]),
        ];
        for (p, want) in cases {
            let got: Vec<String> = pod_problems(&p).iter().map(PodProblem::line).collect();
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
        let (crash, pull, oom, healthy) = (crash(), pull(), oom(), healthy());
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
        let e = past_deadline(
            vec!["api-7c9d (revision 2, api:2): 1 desired, 1 current, 0 ready".into()],
            vec!["Warning Failed pod/api-7c9d-x1: ErrImagePull".into()],
            "panic: boom",
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
        let healthy = healthy();
        assert_eq!(
            explain("timed out", &[&healthy], vec![], vec![], None).headline(),
            "timed out",
            "no pod problem: the verdict alone"
        );
    }
}
