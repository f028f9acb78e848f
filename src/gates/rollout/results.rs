//! What the rollout gate found, per workload: plain data that the I/O files fill in and
//! `render.rs` turns into what people read. No I/O, no formatting for people.

use std::time::Duration;

use super::explain::Explanation;
use super::names::Workload;
use super::problems::PodProblem;
use super::status::Progress;

/// How one workload's rollout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Patched and rolled out.
    Complete,
    /// Already at the image, and healthy.
    Unchanged,
    /// Failed on its own terms (progress deadline, paused, deleted, strategy).
    Failed,
    /// Still not done when `timeout` ran out.
    TimedOut,
}

impl Status {
    /// Value in the `results` JSON.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Unchanged => "unchanged",
            Status::Failed => "failed",
            Status::TimedOut => "timeout",
        }
    }
    /// Whether this is a success.
    pub(super) fn ok(self) -> bool {
        matches!(self, Status::Complete | Status::Unchanged)
    }
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RollbackReport {
    /// The revision restored, when one was chosen.
    pub to_revision: Option<i64>,
    /// Restored and rolled out again.
    pub ok: bool,
    /// kubectl's last message for the rollback rollout, or why it was not done.
    pub message: String,
    /// How long it took.
    pub duration: Duration,
}

/// One workload's result.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WorkloadReport {
    /// The target (cluster) it is in, when the step has several.
    pub target: Option<String>,
    /// Which workload.
    pub workload: Workload,
    /// The container updated.
    pub container: String,
    /// The image rolled out.
    pub image: String,
    /// The container's image before.
    pub previous_image: String,
    /// Whether we patched it.
    pub patched: bool,
    /// How it ended.
    pub status: Status,
    /// kubectl's last message for it.
    pub message: String,
    /// The revision reached (Deployment revision, ControllerRevision number).
    pub revision: Option<String>,
    /// Replica counts as they changed.
    pub progression: Vec<Progress>,
    /// From the patch until the controller observed it.
    pub observed_after: Option<Duration>,
    /// From the patch until the verdict.
    pub duration: Duration,
    /// Wall-clock time the verdict was reached (for latency measurements).
    pub finished_at: Option<jiff::Timestamp>,
    /// Why it failed, in detail.
    pub explanation: Option<Explanation>,
    /// The pod state that failed it fast, when one did.
    pub fail_fast: Option<PodProblem>,
    /// What the rollback did, when one was attempted.
    pub rollback: Option<RollbackReport>,
}

impl WorkloadReport {
    /// `staging-us: deployment/api`, or `deployment/api` with one target.
    pub(super) fn short_label(&self) -> String {
        match &self.target {
            Some(t) => format!("{t}: {}", self.workload.short()),
            None => self.workload.short(),
        }
    }
    /// `staging-us: default/deployment/api`, or the workload alone with one target.
    pub(super) fn label(&self) -> String {
        match &self.target {
            Some(t) => format!("{t}: {}", self.workload),
            None => self.workload.to_string(),
        }
    }

    /// The short reason: the explanation's headline, or kubectl's message.
    pub(super) fn reason(&self) -> String {
        self.explanation
            .as_ref()
            .map_or_else(|| self.message.clone(), Explanation::headline)
    }
}

/// The smoke command's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SmokeReport {
    /// The command.
    pub command: String,
    /// Passed (exit 0 within the timeout).
    pub passed: bool,
    /// `exited with 3`, `timed out after 5m`, `killed by a signal`.
    pub detail: String,
    /// Last lines of its output.
    pub output_tail: String,
    /// How long it ran.
    pub duration: Duration,
}

/// Whether the gate rolled back every workload it patched (and there was at least one).
pub(super) fn all_rolled_back(reports: &[WorkloadReport]) -> bool {
    let patched: Vec<&WorkloadReport> = reports.iter().filter(|r| r.patched).collect();
    !patched.is_empty()
        && patched
            .iter()
            .all(|r| r.rollback.as_ref().is_some_and(|b| b.ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(patched: bool, rollback: Option<bool>) -> WorkloadReport {
        WorkloadReport {
            target: None,
            workload: Workload::parse("deployment/api", "default").unwrap(),
            container: "api".into(),
            image: "api:2".into(),
            previous_image: "api:1".into(),
            patched,
            status: Status::Failed,
            message: "m".into(),
            revision: None,
            progression: Vec::new(),
            observed_after: None,
            duration: Duration::ZERO,
            finished_at: None,
            explanation: None,
            fail_fast: None,
            rollback: rollback.map(|ok| RollbackReport {
                to_revision: Some(1),
                ok,
                message: String::new(),
                duration: Duration::ZERO,
            }),
        }
    }

    /// Per workload: patched, and how its rollback went (none, ok, failed).
    type Workloads = &'static [(bool, Option<bool>)];

    #[test]
    fn rolled_back_means_every_patched_workload_was_restored() {
        let cases: &[(Workloads, bool)] = &[
            (&[], false),
            (&[(false, None)], false),
            (&[(true, Some(true))], true),
            (&[(true, Some(true)), (false, None)], true),
            (&[(true, Some(true)), (true, Some(false))], false),
            (&[(true, None)], false),
        ];
        for (reports, want) in cases {
            let reports: Vec<WorkloadReport> =
                reports.iter().map(|(p, r)| report(*p, *r)).collect();
            assert_eq!(all_rolled_back(&reports), *want, "{cases:?}");
        }
    }

    #[test]
    fn statuses_read_as_results_values() {
        let all = [
            (Status::Complete, "complete", true),
            (Status::Unchanged, "unchanged", true),
            (Status::Failed, "failed", false),
            (Status::TimedOut, "timeout", false),
        ];
        for (s, text, ok) in all {
            assert_eq!((s.as_str(), s.ok()), (text, ok));
        }
    }
}
