//! One thing wrong with one pod ([`PodProblem`]), the one shape both the explanation of a
//! failed rollout (`explain.rs`) and fail fast (`failfast.rs`) report, each in its own
//! line; and what both read off a pod the same way: a pod the scheduler cannot place, and
//! its init containers' and containers' statuses in the kubelet's order.
//!
//! Pure: pods in, values out. Which states are problems is each caller's rule, not this
//! file's.

use k8s_openapi::api::core::v1::{ContainerStatus, PodStatus};

/// Waiting reasons of a normal start: every container passes through them.
pub(super) const CREATING: &[&str] = &["ContainerCreating", "PodInitializing"];

/// One thing wrong with one pod, or with one of its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodProblem {
    /// Pod name.
    pub pod: String,
    /// Container, when the problem is a container's.
    pub container: Option<String>,
    /// `ImagePullBackOff`, `CrashLoopBackOff`, `OOMKilled`, `Unschedulable`, ...
    pub reason: String,
    /// The kubelet's or scheduler's message, with exit codes and restarts when they matter.
    pub message: String,
}

impl PodProblem {
    /// A problem of container `cs` of pod `pod`.
    pub fn of_container(pod: &str, cs: &ContainerStatus, reason: &str, message: String) -> Self {
        Self {
            pod: pod.to_owned(),
            container: Some(cs.name.clone()),
            reason: reason.to_owned(),
            message,
        }
    }

    /// The explanation's line: `api-7c9d-x1/api: ImagePullBackOff: Back-off pulling image "..."`.
    pub fn line(&self) -> String {
        let place = match &self.container {
            Some(c) => format!("{}/{c}", self.pod),
            None => self.pod.clone(),
        };
        self.placed(&place, |m| format!(": {m}"))
    }

    /// Fail fast's line: `pod api-7c9d-x1, container api: ImagePullBackOff (Back-off pulling
    /// image "x")`.
    pub fn evidence_line(&self) -> String {
        let place = match &self.container {
            Some(c) => format!("pod {}, container {c}", self.pod),
            None => format!("pod {}", self.pod),
        };
        self.placed(&place, |m| format!(" ({m})"))
    }

    /// `<place>: <reason>`, then the message as `message` spells it, when there is one.
    fn placed(&self, place: &str, message: impl Fn(&str) -> String) -> String {
        let message = if self.message.is_empty() {
            String::new()
        } else {
            message(&self.message)
        };
        format!("{place}: {}{message}", self.reason)
    }

    /// A key naming the pod, container and reason (to warn once about each).
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.pod,
            self.container.as_deref().unwrap_or(""),
            self.reason
        )
    }
}

/// The pod `pod` cannot be scheduled: its `PodScheduled` condition is `False`.
pub(super) fn unschedulable<'a>(
    pod: &'a str,
    status: &'a PodStatus,
) -> impl Iterator<Item = PodProblem> + 'a {
    status
        .conditions
        .iter()
        .flatten()
        .filter(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(move |c| PodProblem {
            pod: pod.to_owned(),
            container: None,
            reason: c.reason.clone().unwrap_or_else(|| "Unschedulable".into()),
            message: c.message.clone().unwrap_or_default(),
        })
}

/// The init containers' statuses, then the containers'.
pub(super) fn container_statuses(status: &PodStatus) -> impl Iterator<Item = &ContainerStatus> {
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_problem_reads_two_ways() {
        let mut p = PodProblem {
            pod: "api-1".into(),
            container: Some("api".into()),
            reason: "ImagePullBackOff".into(),
            message: "Back-off pulling image \"x\"".into(),
        };
        assert_eq!(
            p.line(),
            "api-1/api: ImagePullBackOff: Back-off pulling image \"x\""
        );
        assert_eq!(
            p.evidence_line(),
            "pod api-1, container api: ImagePullBackOff (Back-off pulling image \"x\")"
        );
        assert_eq!(p.key(), "api-1/api/ImagePullBackOff");
        p.container = None;
        p.message.clear();
        assert_eq!(p.line(), "api-1: ImagePullBackOff");
        assert_eq!(p.evidence_line(), "pod api-1: ImagePullBackOff");
        assert_eq!(p.key(), "api-1//ImagePullBackOff");
    }

    #[test]
    fn statuses_come_init_containers_first_and_scheduling_from_the_condition() {
        let status: PodStatus = serde_yaml::from_str(
            "conditions:\n- {type: PodScheduled, status: 'False', message: no nodes}\n- {type: Ready, status: 'False', reason: Unschedulable}\ninitContainerStatuses:\n- {name: migrate, image: x, imageID: '', ready: false, restartCount: 0}\ncontainerStatuses:\n- {name: api, image: y, imageID: '', ready: false, restartCount: 0}\n",
        )
        .unwrap();
        let names: Vec<&str> = container_statuses(&status)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["migrate", "api"]);
        let lines: Vec<String> = unschedulable("p", &status).map(|p| p.line()).collect();
        assert_eq!(
            lines,
            ["p: Unschedulable: no nodes"],
            "only PodScheduled counts"
        );
    }
}
