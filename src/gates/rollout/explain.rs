//! Why a rollout failed, in words: the new pods' waiting/terminated reasons
//! (`ImagePullBackOff`, `CrashLoopBackOff`, `OOMKilled`, `Unschedulable`, ...), recent events
//! of the workload, its ReplicaSets and pods, and the tail of a failing container's log.
//!
//! Pure: objects the gate has already read go in, text comes out. Choosing which pods
//! belong to the new revision and which container's log to read is decided here too, so
//! `mod.rs` only fetches.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Annotation holding a Deployment's (and its ReplicaSets') revision number.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// Most log lines shown.
pub const LOG_LINES: usize = 20;
/// Most log bytes shown.
pub const LOG_BYTES: usize = 4096;
/// Most events shown.
pub const MAX_EVENTS: usize = 12;
/// Most pods listed.
pub const MAX_PODS: usize = 10;

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

fn revision_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<i64> {
    meta.annotations
        .as_ref()?
        .get(REVISION_ANNOTATION)?
        .parse()
        .ok()
}

fn controlled_by(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    uid: Option<&str>,
) -> bool {
    let Some(uid) = uid else { return false };
    meta.owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid && o.controller == Some(true))
}

/// The Deployment's ReplicaSets, newest revision first.
pub fn owned_replicasets<'a>(deploy: &Deployment, rss: &'a [ReplicaSet]) -> Vec<&'a ReplicaSet> {
    let uid = deploy.metadata.uid.as_deref();
    let mut owned: Vec<&ReplicaSet> = rss
        .iter()
        .filter(|rs| controlled_by(&rs.metadata, uid))
        .collect();
    owned.sort_by_key(|rs| std::cmp::Reverse(revision_of(&rs.metadata).unwrap_or(0)));
    owned
}

/// The new ReplicaSet: the one at the Deployment's revision.
pub fn new_replicaset<'a>(deploy: &Deployment, rss: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let rev = revision_of(&deploy.metadata);
    let owned = owned_replicasets(deploy, rss);
    match rev {
        Some(r) => owned
            .into_iter()
            .find(|rs| revision_of(&rs.metadata) == Some(r)),
        None => owned.into_iter().next(),
    }
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

/// Events about the given objects (`(kind, name)` pairs), oldest first, at most `max`
/// (the most recent ones).
pub fn relevant_events<'a>(
    events: &'a [Event],
    objects: &BTreeSet<(String, String)>,
    max: usize,
) -> Vec<&'a Event> {
    let mut ev: Vec<&Event> = events
        .iter()
        .filter(|e| {
            let o = &e.involved_object;
            objects.contains(&(
                o.kind.clone().unwrap_or_default(),
                o.name.clone().unwrap_or_default(),
            ))
        })
        .collect();
    ev.sort_by_key(|e| event_time(e));
    let skip = ev.len().saturating_sub(max);
    ev.split_off(skip)
}

fn event_time(e: &Event) -> Option<jiff::Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
}

/// `Warning BackOff pod/api-1: Back-off pulling image "x" (x4)`.
pub fn event_line(e: &Event) -> String {
    let o = &e.involved_object;
    let count = e
        .count
        .filter(|c| *c > 1)
        .map(|c| format!(" (x{c})"))
        .unwrap_or_default();
    format!(
        "{} {} {}/{}: {}{count}",
        e.type_.as_deref().unwrap_or("Normal"),
        e.reason.as_deref().unwrap_or(""),
        o.kind.as_deref().unwrap_or("").to_ascii_lowercase(),
        o.name.as_deref().unwrap_or(""),
        one_line(e.message.as_deref().unwrap_or("")),
    )
}

/// `api-7c9d (revision 4, example.com/api:2): 3 desired, 3 current, 1 ready`.
pub fn replicaset_line(rs: &ReplicaSet) -> String {
    let name = rs.metadata.name.as_deref().unwrap_or("");
    let rev = revision_of(&rs.metadata)
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

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
        let reasons: BTreeSet<&str> = self.problems.iter().map(|p| p.reason.as_str()).collect();
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

    /// Markdown for the job summary and check run.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        md.push_str(&format!("{}\n\n", self.verdict));
        if !self.problems.is_empty() {
            md.push_str("| Pod | Container | Reason | Detail |\n| --- | --- | --- | --- |\n");
            for p in &self.problems {
                md.push_str(&format!(
                    "| `{}` | {} | `{}` | {} |\n",
                    p.pod,
                    p.container
                        .as_deref()
                        .map(|c| format!("`{c}`"))
                        .unwrap_or_default(),
                    p.reason,
                    cell(&p.message)
                ));
            }
            md.push('\n');
        }
        for (title, lines) in [
            ("Pods", &self.pods),
            ("ReplicaSets", &self.replicasets),
            ("Recent events", &self.events),
        ] {
            if lines.is_empty() {
                continue;
            }
            md.push_str(&format!("**{title}**\n\n"));
            for l in lines {
                md.push_str(&format!("- {}\n", cell(l)));
            }
            md.push('\n');
        }
        if let Some((t, text)) = &self.log {
            let which = if t.previous {
                " (previous instance)"
            } else {
                ""
            };
            md.push_str(&format!(
                "**Last log lines of `{}` container `{}`{which}**\n\n",
                t.pod, t.container
            ));
            let fence = if text.contains("```") { "~~~~" } else { "```" };
            md.push_str(&format!("{fence}text\n{text}\n{fence}\n\n"));
        }
        for g in &self.gaps {
            md.push_str(&format!("> {g}\n\n"));
        }
        md
    }

    /// Plain text for an `::error` annotation: verdict, pod problems, last events, log tail.
    pub fn annotation(&self) -> String {
        let mut lines = vec![self.verdict.clone()];
        lines.extend(self.problems.iter().take(MAX_PODS).map(PodProblem::line));
        let warnings: Vec<&String> = self
            .events
            .iter()
            .filter(|e| e.starts_with("Warning"))
            .collect();
        lines.extend(
            warnings
                .iter()
                .rev()
                .take(5)
                .rev()
                .map(|e| format!("event: {e}")),
        );
        if let Some((t, text)) = &self.log {
            let which = if t.previous {
                ", previous instance"
            } else {
                ""
            };
            lines.push(format!("log of {}/{}{which}:", t.pod, t.container));
            lines.push(text.clone());
        }
        lines.join("\n")
    }
}

fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// Build the explanation from what was read. `pods` are the new revision's pods.
pub fn explain(
    verdict: &str,
    pods: &[&Pod],
    replicasets: &[&ReplicaSet],
    events: &[&Event],
    log: Option<(LogTarget, String)>,
) -> Explanation {
    Explanation {
        verdict: verdict.to_owned(),
        problems: pods.iter().flat_map(|p| pod_problems(p)).collect(),
        pods: pods.iter().take(MAX_PODS).map(|p| pod_line(p)).collect(),
        replicasets: replicasets.iter().map(|rs| replicaset_line(rs)).collect(),
        events: events.iter().map(|e| event_line(e)).collect(),
        log,
        gaps: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(yaml: &str) -> Pod {
        serde_yaml::from_str(yaml).unwrap()
    }

    const PULL: &str = r#"
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

    const CRASH: &str = r#"
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

    const OOM: &str = r#"
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

    const UNSCHEDULABLE: &str = r#"
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

    const HEALTHY: &str = r#"
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
        let pods = vec![pod(PULL), pod(HEALTHY)];
        assert_eq!(pods_owned_by(Some("rs-new"), &pods).len(), 1);
    }

    #[test]
    fn events_are_filtered_sorted_and_capped() {
        let ev = |name: &str, kind: &str, t: &str, reason: &str, ty: &str| -> Event {
            serde_yaml::from_str(&format!(
                "metadata: {{name: {name}.1}}\ninvolvedObject: {{kind: {kind}, name: {name}}}\nreason: {reason}\nmessage: \"{reason} happened\\n twice\"\ntype: {ty}\ncount: 2\nlastTimestamp: \"{t}\"\n"
            ))
            .unwrap()
        };
        let events = vec![
            ev(
                "api-7c9d-x1",
                "Pod",
                "2025-01-01T00:00:03Z",
                "Failed",
                "Warning",
            ),
            ev(
                "api",
                "Deployment",
                "2025-01-01T00:00:01Z",
                "ScalingReplicaSet",
                "Normal",
            ),
            ev(
                "unrelated",
                "Pod",
                "2025-01-01T00:00:02Z",
                "Killing",
                "Normal",
            ),
            ev(
                "api-7c9d",
                "ReplicaSet",
                "2025-01-01T00:00:02Z",
                "SuccessfulCreate",
                "Normal",
            ),
        ];
        let objects: BTreeSet<(String, String)> = [
            ("Deployment", "api"),
            ("ReplicaSet", "api-7c9d"),
            ("Pod", "api-7c9d-x1"),
        ]
        .iter()
        .map(|(k, n)| ((*k).to_owned(), (*n).to_owned()))
        .collect();
        let lines: Vec<String> = relevant_events(&events, &objects, 2)
            .into_iter()
            .map(event_line)
            .collect();
        assert_eq!(
            lines,
            [
                "Normal SuccessfulCreate replicaset/api-7c9d: SuccessfulCreate happened twice (x2)",
                "Warning Failed pod/api-7c9d-x1: Failed happened twice (x2)",
            ]
        );
    }

    #[test]
    fn explanation_renders_for_people_and_annotations() {
        let (p1, p2) = (pod(PULL), pod(CRASH));
        let target = LogTarget {
            pod: "api-7c9d-x2".into(),
            container: "api".into(),
            previous: true,
        };
        let mut e = explain(
            "deployment \"api\" exceeded its progress deadline",
            &[&p1, &p2],
            &[],
            &[],
            Some((target, "panic: boom | here".into())),
        );
        e.events = vec![
            "Warning Failed pod/api-7c9d-x1: ErrImagePull".into(),
            "Normal Pulling pod/x: y".into(),
        ];
        assert_eq!(
            e.headline(),
            "deployment \"api\" exceeded its progress deadline (CrashLoopBackOff, ImagePullBackOff)"
        );
        let md = e.markdown();
        assert!(
            md.contains("| `api-7c9d-x1` | `api` | `ImagePullBackOff` |"),
            "{md}"
        );
        assert!(
            md.contains("**Last log lines of `api-7c9d-x2` container `api` (previous instance)**"),
            "{md}"
        );
        assert!(md.contains("```text\npanic: boom | here\n```"), "{md}");
        let a = e.annotation();
        assert!(a.starts_with("deployment \"api\" exceeded its progress deadline\napi-7c9d-x1/api: ImagePullBackOff"), "{a}");
        assert!(
            a.contains("event: Warning Failed pod/api-7c9d-x1: ErrImagePull"),
            "{a}"
        );
        assert!(
            !a.contains("Normal Pulling"),
            "only warnings go to the annotation: {a}"
        );
        assert!(
            a.ends_with("log of api-7c9d-x2/api, previous instance:\npanic: boom | here"),
            "{a}"
        );
    }
}
