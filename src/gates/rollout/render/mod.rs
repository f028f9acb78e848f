//! What people and workflows read from the rollout gate: the title, the summary table with
//! each workload's replica progression and durations, the failure details (explanations,
//! log tails, smoke output), the annotations, and the outputs (`results` JSON and the
//! rest). Pure: results in, [`Outcome`] out.
//!
//! Pod log tails and smoke-command output are text the pull request controls; they enter
//! markdown only through [`code_block`], the place to route through the untrusted-text
//! module once it lands. A failed workload's details are [`explanation`]'s.

mod explanation;

pub(super) use self::explanation::{explanation_annotation, explanation_markdown};

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
    OutputSpec {
        name: "deployment-id",
        description: "Id of the GitHub deployment recorded for `environment`, also when the gate then ends in an error (empty when none was recorded).",
    },
];

/// The description of the deployment's final status: what it was rolled back to, when it
/// was, then the title.
pub(super) fn deployment_description(title: &str, reports: &[WorkloadReport]) -> String {
    if !all_rolled_back(reports) {
        return title.to_owned();
    }
    let to: Vec<String> = reports
        .iter()
        .filter(|r| r.patched)
        .map(|r| {
            let revision = r
                .rollback
                .as_ref()
                .and_then(|b| b.to_revision)
                .map(|v| format!(" (revision {v})"))
                .unwrap_or_default();
            format!("{}{revision}", r.previous_image)
        })
        .collect();
    format!("rolled back to {}: {title}", to.join(", "))
}

/// The gate's outcome.
pub(super) fn outcome(
    image: &str,
    reports: &[WorkloadReport],
    smoke: Option<&SmokeReport>,
) -> Outcome {
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
            untrusted::md_code(&r.label(), untrusted::Md::Prose)
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
            &format!("Rollout failed: {}", r.label()),
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
                    .map_or_else(String::new, WorkloadReport::short_label)
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
        ([one], _) => format!("{} failed: {}", one.short_label(), one.reason()),
        (many, _) => format!(
            "{} of {} workloads failed: {}",
            many.len(),
            reports.len(),
            many.iter()
                .map(|r| r.short_label())
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

/// With several targets, one row per target: its result, its workloads, its rollback.
fn targets_table(reports: &[WorkloadReport]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for t in reports.iter().filter_map(|r| r.target.as_deref()) {
        if !names.contains(&t) {
            names.push(t);
        }
    }
    if names.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("| Target | Result | Workloads | Rollback |\n| --- | --- | --- | --- |\n");
    for t in names {
        let mine: Vec<&WorkloadReport> = reports
            .iter()
            .filter(|r| r.target.as_deref() == Some(t))
            .collect();
        let ok = mine.iter().filter(|r| r.status.ok()).count();
        let result = if ok == mine.len() {
            "✅ rolled out"
        } else {
            "❌ failed"
        };
        let rollbacks: Vec<bool> = mine
            .iter()
            .filter_map(|r| r.rollback.as_ref().map(|b| b.ok))
            .collect();
        let rollback = match (rollbacks.is_empty(), rollbacks.iter().all(|ok| *ok)) {
            (true, _) => "–",
            (false, true) => "↩️ rolled back",
            (false, false) => "⚠️ incomplete",
        };
        out.push_str(&format!(
            "| {} | {result} | {ok}/{} ready | {rollback} |\n",
            name(t),
            mine.len()
        ));
    }
    out.push('\n');
    out
}

/// The table of workloads, the smoke command's line and the rollback list.
fn summary(reports: &[WorkloadReport], smoke: Option<&SmokeReport>) -> String {
    let mut summary = targets_table(reports);
    summary.push_str(
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
            name(&r.label()),
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
                name(&r.label()),
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
                &format!("{title}: {}", r.label()),
                &format!("{}{}: {}", r.label(), to_revision(b.to_revision), b.message),
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
pub(super) fn progression_line(kind: WorkloadKind, progression: &[Progress]) -> String {
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
pub(super) fn results_json(reports: &[WorkloadReport]) -> String {
    let items: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            json!({
                "target": r.target,
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
                "fail_fast": r.fail_fast.as_ref().map(|e| json!({
                    "pod": e.pod,
                    "container": e.container,
                    "reason": e.reason,
                    "message": e.message,
                })),
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
pub(super) fn code_block(text: &str) -> String {
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
mod tests;
