//! A failed workload's details as people read them: the markdown block for the job
//! summary and check run, and the plain text of its `::error` annotation. Pure.

use super::{cell, code_block, name};
use crate::gates::rollout::explain::{Explanation, MAX_PODS};
use crate::gates::rollout::problems::PodProblem;

/// Markdown for the job summary and check run: the verdict, the pod problems table, the
/// pods, ReplicaSets and events, the log tail, and what could not be read.
pub(crate) fn explanation_markdown(e: &Explanation) -> String {
    let mut md = String::new();
    md.push_str(&format!("{}\n\n", e.verdict));
    if !e.problems.is_empty() {
        md.push_str("| Pod | Container | Reason | Detail |\n| --- | --- | --- | --- |\n");
        for p in &e.problems {
            md.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                name(&p.pod),
                p.container.as_deref().map(name).unwrap_or_default(),
                name(&p.reason),
                cell(&p.message)
            ));
        }
        md.push('\n');
    }
    for (title, lines) in [
        ("Pods", &e.pods),
        ("ReplicaSets", &e.replicasets),
        ("Recent events", &e.events),
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
    if let Some((t, text)) = &e.log {
        let which = if t.previous {
            " (previous instance)"
        } else {
            ""
        };
        md.push_str(&format!(
            "**Last log lines of {} container {}{which}**\n\n",
            name(&t.pod),
            name(&t.container)
        ));
        md.push_str(&code_block(text));
    }
    for g in &e.gaps {
        md.push_str(&format!("> {g}\n\n"));
    }
    md
}

/// Plain text for an `::error` annotation: verdict, pod problems, last warning events, log
/// tail.
pub(crate) fn explanation_annotation(e: &Explanation) -> String {
    let mut lines = vec![e.verdict.clone()];
    lines.extend(e.problems.iter().take(MAX_PODS).map(PodProblem::line));
    let warnings: Vec<&String> = e
        .events
        .iter()
        .filter(|l| l.starts_with("Warning"))
        .collect();
    lines.extend(
        warnings
            .iter()
            .rev()
            .take(5)
            .rev()
            .map(|l| format!("event: {l}")),
    );
    if let Some((t, text)) = &e.log {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::rollout::explain::tests::past_deadline;

    #[test]
    fn explanation_renders_for_people_and_annotations() {
        let events = vec![
            "Warning Failed pod/api-7c9d-x1: ErrImagePull".into(),
            "Normal Pulling pod/x: y".into(),
        ];
        let e = past_deadline(vec![], events, "panic: boom | here");
        let md = explanation_markdown(&e);
        assert!(
            md.contains("| `api-7c9d-x1` | `api` | `ImagePullBackOff` |"),
            "{md}"
        );
        assert!(
            md.contains("**Last log lines of `api-7c9d-x2` container `api` (previous instance)**"),
            "{md}"
        );
        assert!(md.contains("```text\npanic: boom | here\n```"), "{md}");
        let a = explanation_annotation(&e);
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
