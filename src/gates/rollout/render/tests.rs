//! Tests of what people read from the rollout gate (`render/mod.rs`).

use super::*;
use crate::gates::rollout::explain::Explanation;
use crate::gates::rollout::names::Workload;
use crate::gates::rollout::problems::PodProblem;
use crate::gates::rollout::results::RollbackReport;

fn report(name: &str, status: Status) -> WorkloadReport {
    WorkloadReport {
        target: None,
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
        fail_fast: None,
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
fn deployment_descriptions_say_what_was_restored() {
    let mut bad = report("api", Status::Failed);
    assert_eq!(deployment_description("t", std::slice::from_ref(&bad)), "t");
    bad.rollback = Some(RollbackReport {
        to_revision: Some(3),
        ok: true,
        message: String::new(),
        duration: Duration::ZERO,
    });
    assert_eq!(
        deployment_description("deployment/api failed", &[bad]),
        "rolled back to example.com/api:1 (revision 3): deployment/api failed"
    );
}

#[test]
fn several_targets_get_a_table_and_labels() {
    let mut us = report("api", Status::Complete);
    us.target = Some("staging-us".into());
    let mut eu = report("api", Status::Failed);
    eu.target = Some("staging-eu".into());
    eu.rollback = Some(RollbackReport {
        to_revision: Some(1),
        ok: true,
        message: String::new(),
        duration: Duration::ZERO,
    });
    let o = outcome("example.com/api:2", &[us, eu], None);
    assert!(
        o.summary.starts_with("| Target | Result | Workloads | Rollback |\n| --- | --- | --- | --- |\n| `staging-us` | ✅ rolled out | 1/1 ready | – |\n| `staging-eu` | ❌ failed | 0/1 ready | ↩️ rolled back |\n"),
        "{}",
        o.summary
    );
    assert!(
        o.title.starts_with("staging-eu: deployment/api failed"),
        "{}",
        o.title
    );
    let outs: std::collections::BTreeMap<_, _> = o.outputs.iter().cloned().collect();
    let results: serde_json::Value = serde_json::from_str(&outs["results"]).unwrap();
    assert_eq!(results[1]["target"], "staging-eu");
    let single = outcome("x", &[report("api", Status::Complete)], None);
    assert!(
        single.summary.starts_with("| Workload |"),
        "no target table for one target"
    );
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
