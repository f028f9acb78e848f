//! What people and workflows read from the rollout gate: the title, the summary table with
//! each workload's replica progression and durations, the failure details (explanations,
//! log tails, smoke output), the annotations, and the outputs (`results` JSON and the
//! rest). Pure: results in, [`Outcome`] out.
//!
//! Pod log tails and smoke-command output are text the pull request controls; they enter
//! markdown only through [`code_block`], the place to route through the untrusted-text
//! module once it lands. A failed workload's details are [`explanation`]'s.

mod explanation;

pub use self::explanation::{explanation_annotation, explanation_markdown};

use std::time::Duration;

use serde_json::json;

use super::duration::format_duration;
use super::events::one_line;
use super::names::WorkloadKind;
use super::results::{SmokeReport, Status, WorkloadReport, all_rolled_back};
use super::status::Progress;
use crate::outcome::{Annotation, Level, Outcome, Verdict};
use crate::spec::OutputSpec;
use crate::untrusted;

/// The rollout gate's outputs.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "revision",
        description: "New revision of the (first) workload.",
    },
    OutputSpec {
        name: "previous-image",
        description: "Image the (first) workload ran before.",
    },
    OutputSpec {
        name: "rolled-back",
        description: "`true` when a failed rollout was rolled back.",
    },
    OutputSpec {
        name: "results",
        description: "JSON: per workload status, durations and reason.",
    },
];

/// The gate's outcome.
pub fn outcome(image: &str, reports: &[WorkloadReport], smoke: Option<&SmokeReport>) -> Outcome {
    let failed: Vec<&WorkloadReport> = reports.iter().filter(|r| !r.status.ok()).collect();
    let smoke_failed = smoke.filter(|s| !s.passed);
    let verdict = if failed.is_empty() && smoke_failed.is_none() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let rolled_back = all_rolled_back(reports);
    let mut text = String::new();
    let mut annotations = Vec::new();
    for r in &failed {
        text.push_str(&format!(
            "### ❌ {}\n\n",
            untrusted::md_code(&r.workload.to_string(), untrusted::Md::Prose)
        ));
        match &r.explanation {
            Some(e) => text.push_str(&explanation_markdown(e)),
            None => text.push_str(&format!("{}\n\n", r.message)),
        }
        let message = r
            .explanation
            .as_ref()
            .map_or_else(|| r.message.clone(), explanation_annotation);
        let mut a = Annotation::general(
            Level::Failure,
            &format!("Rollout failed: {}", r.workload),
            &message,
        );
        a.priority = 10;
        annotations.push(a);
    }
    if let Some(s) = smoke_failed {
        text.push_str(&format!(
            "### ❌ Smoke command\n\n{} {}\n\n",
            name(&s.command),
            s.detail
        ));
        if !s.output_tail.is_empty() {
            text.push_str(&code_block(&s.output_tail));
        }
        let mut msg = format!("`{}` {}", s.command, s.detail);
        if !s.output_tail.is_empty() {
            msg.push('\n');
            msg.push_str(&s.output_tail);
        }
        let mut a = Annotation::general(Level::Failure, "Smoke command failed", &msg);
        a.priority = 9;
        annotations.push(a);
    }
    annotations.extend(rollback_annotations(reports));

    let first = reports.first();
    Outcome {
        verdict,
        title: title(image, reports, &failed, smoke_failed.is_some(), rolled_back),
        summary: summary(reports, smoke),
        text,
        record: None,
        long_text: None,
        annotations,
        outputs: vec![
            (
                "revision".into(),
                first.and_then(|r| r.revision.clone()).unwrap_or_default(),
            ),
            (
                "previous-image".into(),
                first.map(|r| r.previous_image.clone()).unwrap_or_default(),
            ),
            ("rolled-back".into(), rolled_back.to_string()),
            ("results".into(), results_json(reports)),
        ],
    }
}

/// `3 workloads rolled out <image>`, `deployment/api failed: <reason> (rolled back)`, ...
fn title(
    image: &str,
    reports: &[WorkloadReport],
    failed: &[&WorkloadReport],
    smoke_failed: bool,
    rolled_back: bool,
) -> String {
    let title = match (failed, smoke_failed) {
        ([], false) => {
            let unchanged = reports
                .iter()
                .filter(|r| r.status == Status::Unchanged)
                .count();
            let n = reports.len();
            let what = if n == 1 {
                reports
                    .first()
                    .map_or_else(String::new, |r| r.workload.short())
            } else {
                format!("{n} workloads")
            };
            if unchanged == n {
                format!("{what} already at {image} and healthy")
            } else {
                format!("{what} rolled out {image}")
            }
        }
        ([], true) => "Smoke command failed after the rollout".to_owned(),
        ([one], _) => format!("{} failed: {}", one.workload.short(), one.reason()),
        (many, _) => format!(
            "{} of {} workloads failed: {}",
            many.len(),
            reports.len(),
            many.iter()
                .map(|r| r.workload.short())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if rolled_back {
        format!("{title} (rolled back)")
    } else {
        title
    }
}

/// The table of workloads, the smoke command's line and the rollback list.
fn summary(reports: &[WorkloadReport], smoke: Option<&SmokeReport>) -> String {
    let mut summary = String::from(
        "| Workload | Result | Replicas | Observed | Duration | Detail |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in reports {
        let detail = if r.status.ok() {
            let change = if r.patched {
                format!("{} → {}", name(&r.previous_image), name(&r.image))
            } else {
                name(&r.image)
            };
            let rev = r
                .revision
                .as_deref()
                .map(|v| format!(", revision {v}"))
                .unwrap_or_default();
            format!("{change}{rev}")
        } else {
            cell(&r.reason())
        };
        summary.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            name(&r.workload.to_string()),
            label(r.status),
            progression_line(r.workload.kind, &r.progression),
            r.observed_after
                .map(format_duration)
                .unwrap_or_else(|| "–".into()),
            format_duration(r.duration),
            detail
        ));
    }
    if let Some(s) = smoke {
        let icon = if s.passed { "✅" } else { "❌" };
        summary.push_str(&format!(
            "\nSmoke command {icon} {}: {} in {}\n",
            name(&s.command),
            s.detail,
            format_duration(s.duration)
        ));
    }
    let mut rollbacks = reports
        .iter()
        .filter_map(|r| r.rollback.as_ref().map(|b| (r, b)))
        .peekable();
    if rollbacks.peek().is_some() {
        summary.push_str("\n**Rollback**\n\n");
        for (r, b) in rollbacks {
            let icon = if b.ok { "↩️" } else { "⚠️" };
            summary.push_str(&format!(
                "- {icon} {}{}: {} ({})\n",
                name(&r.workload.to_string()),
                to_revision(b.to_revision),
                cell(&b.message),
                format_duration(b.duration)
            ));
        }
    }
    summary
}

/// A notice per workload rolled back, an error per rollback that did not finish.
fn rollback_annotations(reports: &[WorkloadReport]) -> Vec<Annotation> {
    reports
        .iter()
        .filter_map(|r| r.rollback.as_ref().map(|b| (r, b)))
        .map(|(r, b)| {
            let (level, title) = if b.ok {
                (Level::Notice, "Rolled back")
            } else {
                (Level::Failure, "Rollback failed")
            };
            Annotation::general(
                level,
                &format!("{title}: {}", r.workload),
                &format!(
                    "{}{}: {}",
                    r.workload,
                    to_revision(b.to_revision),
                    b.message
                ),
            )
        })
        .collect()
}

fn to_revision(v: Option<i64>) -> String {
    v.map(|v| format!(" to revision {v}")).unwrap_or_default()
}

fn label(s: Status) -> &'static str {
    match s {
        Status::Complete => "✅ rolled out",
        Status::Unchanged => "✅ unchanged",
        Status::Failed => "❌ failed",
        Status::TimedOut => "❌ timed out",
    }
}

/// `0 → 1 → 3/3 updated, 3/3 available`: the distinct updated counts seen, then the last
/// ready/available count.
pub fn progression_line(kind: WorkloadKind, progression: &[Progress]) -> String {
    let Some(last) = progression.last() else {
        return String::new();
    };
    let mut updated: Vec<i32> = Vec::new();
    for p in progression {
        if updated.last() != Some(&p.updated) {
            updated.push(p.updated);
        }
    }
    let seq = updated
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" → ");
    format!(
        "{seq}/{} updated, {}/{} {}",
        last.desired,
        last.ready,
        last.desired,
        kind.ready_word()
    )
}

/// The `results` output: one object per workload.
pub fn results_json(reports: &[WorkloadReport]) -> String {
    let items: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            json!({
                "workload": r.workload.to_string(),
                "namespace": r.workload.namespace,
                "kind": r.workload.kind.name(),
                "name": r.workload.name,
                "container": r.container,
                "status": r.status.as_str(),
                "patched": r.patched,
                "image": r.image,
                "previous_image": r.previous_image,
                "revision": r.revision,
                "message": r.message,
                "reason": if r.status.ok() { None } else { Some(r.reason()) },
                "duration_ms": millis(r.duration),
                "observed_ms": r.observed_after.map(millis),
                "finished_at": r.finished_at.map(|t| t.to_string()),
                "progression": progression_line(r.workload.kind, &r.progression),
                "rolled_back": r.rollback.as_ref().is_some_and(|b| b.ok),
                "rollback": r.rollback.as_ref().map(|b| json!({
                    "to_revision": b.to_revision,
                    "ok": b.ok,
                    "message": b.message,
                    "duration_ms": millis(b.duration),
                })),
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Streamed text the pull request controls (a pod's log tail, the smoke command's output)
/// as a fenced block, the one way such text enters the gate's markdown.
pub fn code_block(text: &str) -> String {
    untrusted::md_block(text)
}

/// Text from the cluster (event messages, reasons, pod lines) for a table cell or list
/// item: one line, escaped as untrusted markdown.
pub(super) fn cell(s: &str) -> String {
    untrusted::md_text(&one_line(s))
}

/// A name (pod, container, workload, command) as a code span in a table cell.
pub(super) fn name(s: &str) -> String {
    untrusted::md_code(s, untrusted::Md::Cell)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::rollout::explain::{Explanation, PodProblem};
    use crate::gates::rollout::names::Workload;
    use crate::gates::rollout::results::RollbackReport;

    fn report(name: &str, status: Status) -> WorkloadReport {
        WorkloadReport {
            workload: Workload::parse(&format!("deployment/{name}"), "default").unwrap(),
            container: name.into(),
            image: "example.com/api:2".into(),
            previous_image: "example.com/api:1".into(),
            patched: status != Status::Unchanged,
            status,
            message: format!("deployment \"{name}\" successfully rolled out"),
            revision: Some("4".into()),
            progression: vec![
                Progress {
                    desired: 3,
                    updated: 0,
                    ready: 3,
                },
                Progress {
                    desired: 3,
                    updated: 1,
                    ready: 2,
                },
                Progress {
                    desired: 3,
                    updated: 1,
                    ready: 3,
                },
                Progress {
                    desired: 3,
                    updated: 3,
                    ready: 3,
                },
            ],
            observed_after: Some(Duration::from_millis(120)),
            duration: Duration::from_millis(12_340),
            finished_at: None,
            explanation: None,
            rollback: None,
        }
    }

    #[test]
    fn progression_lists_distinct_updated_counts() {
        let r = report("api", Status::Complete);
        assert_eq!(
            progression_line(WorkloadKind::Deployment, &r.progression),
            "0 → 1 → 3/3 updated, 3/3 available"
        );
        assert_eq!(
            progression_line(WorkloadKind::StatefulSet, &r.progression[..1]),
            "0/3 updated, 3/3 ready"
        );
        assert_eq!(progression_line(WorkloadKind::DaemonSet, &[]), "");
    }

    #[test]
    fn passing_outcome() {
        let o = outcome(
            "example.com/api:2",
            &[
                report("api", Status::Complete),
                report("web", Status::Unchanged),
            ],
            None,
        );
        assert_eq!(o.verdict, Verdict::Pass);
        assert_eq!(o.title, "2 workloads rolled out example.com/api:2");
        assert!(o.summary.contains("| `default/deployment/api` | ✅ rolled out | 0 → 1 → 3/3 updated, 3/3 available | 120ms | 12.34s | `example.com/api:1` → `example.com/api:2`, revision 4 |"), "{}", o.summary);
        assert!(
            o.summary
                .contains("| `default/deployment/web` | ✅ unchanged |"),
            "{}",
            o.summary
        );
        assert!(o.annotations.is_empty());
        let outs: std::collections::BTreeMap<_, _> = o.outputs.iter().cloned().collect();
        assert_eq!(outs["revision"], "4");
        assert_eq!(outs["previous-image"], "example.com/api:1");
        assert_eq!(outs["rolled-back"], "false");
        let results: serde_json::Value = serde_json::from_str(&outs["results"]).unwrap();
        assert_eq!(results[0]["status"], "complete");
        assert_eq!(results[0]["duration_ms"], 12_340);
        assert_eq!(results[0]["reason"], serde_json::Value::Null);
        assert_eq!(results[1]["status"], "unchanged");
        assert_eq!(results[1]["patched"], false);
    }

    #[test]
    fn failing_outcome_names_the_workload_and_rollback() {
        let mut bad = report("worker", Status::Failed);
        bad.message = "deployment \"worker\" exceeded its progress deadline".into();
        bad.explanation = Some(Explanation {
            verdict: bad.message.clone(),
            problems: vec![PodProblem {
                pod: "worker-1".into(),
                container: Some("worker".into()),
                reason: "ImagePullBackOff".into(),
                message: "Back-off pulling image".into(),
            }],
            ..Explanation::default()
        });
        bad.rollback = Some(RollbackReport {
            to_revision: Some(3),
            ok: true,
            message: "deployment \"worker\" successfully rolled out".into(),
            duration: Duration::from_secs(4),
        });
        let mut ok = report("api", Status::Complete);
        ok.rollback = Some(RollbackReport {
            to_revision: Some(3),
            ok: true,
            message: "deployment \"api\" successfully rolled out".into(),
            duration: Duration::from_secs(2),
        });
        let o = outcome("example.com/api:2", &[ok, bad], None);
        assert_eq!(o.verdict, Verdict::Fail);
        assert_eq!(
            o.title,
            "deployment/worker failed: deployment \"worker\" exceeded its progress deadline (ImagePullBackOff) (rolled back)"
        );
        assert!(
            o.text.contains("### ❌ `default/deployment/worker`"),
            "{}",
            o.text
        );
        let errors: Vec<&Annotation> = o
            .annotations
            .iter()
            .filter(|a| a.level == Level::Failure)
            .collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].title.as_deref(),
            Some("Rollout failed: default/deployment/worker")
        );
        assert!(
            errors[0]
                .message
                .contains("worker-1/worker: ImagePullBackOff"),
            "{}",
            errors[0].message
        );
        assert!(errors[0].path.is_none());
        let outs: std::collections::BTreeMap<_, _> = o.outputs.iter().cloned().collect();
        assert_eq!(outs["rolled-back"], "true");
        let results: serde_json::Value = serde_json::from_str(&outs["results"]).unwrap();
        assert_eq!(results[1]["status"], "failed");
        assert_eq!(results[1]["rollback"]["to_revision"], 3);
        assert_eq!(results[1]["rolled_back"], true);
    }

    #[test]
    fn smoke_failure_fails_the_gate() {
        let smoke = SmokeReport {
            command: "curl -f http://api/health".into(),
            passed: false,
            detail: "exited with 22".into(),
            output_tail: "curl: (22) 503".into(),
            duration: Duration::from_millis(800),
        };
        let o = outcome("x:1", &[report("api", Status::Complete)], Some(&smoke));
        assert_eq!(o.verdict, Verdict::Fail);
        assert_eq!(o.title, "Smoke command failed after the rollout");
        assert!(
            o.summary
                .contains("Smoke command ❌ `curl -f http://api/health`: exited with 22 in 800ms"),
            "{}",
            o.summary
        );
        assert!(
            o.annotations
                .iter()
                .any(|a| a.title.as_deref() == Some("Smoke command failed")
                    && a.message.ends_with("curl: (22) 503"))
        );
    }

    #[test]
    fn code_blocks_outlast_backtick_fences_in_the_text() {
        assert_eq!(code_block("ok"), "```text\nok\n```\n\n");
        assert_eq!(
            code_block("a ``` b"),
            "````text\na ``` b\n````\n\n",
            "a fence inside the text does not end the block"
        );
    }
}
