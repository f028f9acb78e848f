//! Everything a person reads from the rollout gate, whole, as `insta` snapshots: a pass, a
//! fail and an error, each through every channel (workflow-command lines on stdout, the
//! `GITHUB_OUTPUT` file, the job summary, and the check run when a GitHub API is there).
//!
//! Durations, timestamps, delimiters, temp paths and ports are redacted. The fake's clock
//! is held still while the gate reads what explains a failure ([`Hold`]), so restart and
//! event counts are exact. Everything else must stay exactly as it is: these snapshots are
//! what proves a refactoring changed nothing people see.

use serde_json::Value;

use super::{
    Cluster, Drive, Hold, cluster, daemonset, deployment, drive, forbid_deployments, statefulset,
};
use crate::common::{Harness, Run};
use crate::github_mock::MockGitHub;

/// Where the run reports: through annotations and the summary only, or to a check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reporting {
    /// No GitHub API: annotations as `::error`/`::notice` lines.
    Degraded,
    /// A mock GitHub API judged by GitHub's OpenAPI description.
    CheckRun,
}

/// The redactions every rollout snapshot needs.
fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        // GITHUB_OUTPUT heredoc delimiters.
        (r"ghadelimiter_[0-9a-f]+", "[DELIMITER]"),
        // Ports of the fake API server and the mock GitHub (also as escaped markdown).
        (r"127\\?\.0\\?\.0\\?\.1:\d+", "127.0.0.1:[PORT]"),
        // Temp dirs.
        (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
        (r"/tmp/rust-ci-action[A-Za-z0-9_-]*", "[TMP]"),
        // The summary table's Observed and Duration columns.
        (
            r"(?m)^(\| `[^`]+` \| [^|]+ \| [^|]* \| )[^|]+ \| [^|]+ \|",
            "$1[OBSERVED] | [DURATION] |",
        ),
        // `Smoke command ✅ `cmd`: exited with 0 in 12ms`.
        (
            r"(?m)^(Smoke command .*) in [0-9.hms]+$",
            "$1 in [DURATION]",
        ),
        // Rollback lines: `- ↩️ `ns/kind/name` to revision 1: ... (4.2s)`.
        (r"(?m)^(- (?:↩️|⚠️) .*) \([0-9.hms]+\)$", "$1 ([DURATION])"),
        // The results JSON.
        (r#""(duration_ms|observed_ms)":\s*\d+"#, r#""$1": "[MS]""#),
        (
            r#""finished_at":\s*"[^"]+""#,
            r#""finished_at": "[TIMESTAMP]""#,
        ),
        // The fail-fast verdict's time since the patch.
        (
            r"failed fast after [0-9.hms]+",
            "failed fast after [DURATION]",
        ),
        // Check-run ids and URLs of the mock.
        (r"check-runs/\d+", "check-runs/[ID]"),
    ]
}

/// Every channel of one run, in reading order.
fn readout(run: &Run, check_run: Option<&Value>) -> String {
    let mut out = format!("exit code: {}\n", run.code);
    out.push_str("\n--- workflow commands (stdout)\n");
    for line in run.stdout.lines().filter(|l| l.starts_with("::")) {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("\n--- GITHUB_OUTPUT\n");
    out.push_str(&run.outputs_raw);
    if let Some(results) = run.output("results") {
        out.push_str("\n--- results (pretty)\n");
        let v: Value = serde_json::from_str(results).expect("results JSON");
        out.push_str(&serde_json::to_string_pretty(&v).expect("pretty"));
        out.push('\n');
    }
    out.push_str("\n--- job summary\n");
    out.push_str(&run.summary);
    if let Some(body) = check_run {
        out.push_str("\n--- check run (final update)\n");
        let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or("<none>");
        out.push_str(&format!("status: {}\n", text("/status")));
        out.push_str(&format!("conclusion: {}\n", text("/conclusion")));
        out.push_str(&format!("title: {}\n", text("/output/title")));
        out.push_str(&format!("summary:\n{}\n", text("/output/summary")));
        out.push_str(&format!("text:\n{}\n", text("/output/text")));
        let annotations = body
            .pointer("/output/annotations")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        out.push_str(&format!(
            "annotations: {}\n",
            serde_json::to_string_pretty(&annotations).expect("pretty")
        ));
    }
    out
}

/// Point the harness at a mock GitHub so the gate reports to a check run.
fn with_check_run(h: Harness, mock: &MockGitHub) -> Harness {
    h.env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_SHA", "ec26c3e57ca3a959ca5aad62de7213c562f8c821")
        .input("github-token", "ghs_snapshot-token")
}

/// The body of the request that completed the check run.
fn final_check_run(mock: &MockGitHub) -> Value {
    mock.assert_valid();
    mock.requests()
        .into_iter()
        .rev()
        .find_map(|r| {
            r.body
                .filter(|b| b["status"] == "completed" && r.method == "PATCH")
        })
        .expect("a completing check-run update")
}

#[track_caller]
fn assert_readout(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    for (re, with) in filters() {
        settings.add_filter(re, with);
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// One scenario: a fresh fake cluster per reporting mode, `setup` applied to it, the gate
/// from `make` run (driven by `d`, or directly when `None`), each mode snapshotted as
/// `<name>` / `<name>_check_run`.
struct Scenario<'a> {
    name: &'a str,
    manifests: Vec<String>,
    setup: &'a dyn Fn(&Cluster),
    make: &'a dyn Fn(&Cluster) -> Harness,
    drive: Option<Drive>,
    modes: &'a [Reporting],
}

async fn snapshot(s: Scenario<'_>) {
    for mode in s.modes {
        let c = cluster(&s.manifests).await;
        (s.setup)(&c);
        let h = (s.make)(&c);
        let (run, check) = match mode {
            Reporting::Degraded => (run_one(&c, h, s.drive.clone()).await, None),
            Reporting::CheckRun => {
                let mock = tokio::task::spawn_blocking(MockGitHub::start)
                    .await
                    .expect("mock");
                let run = run_one(&c, with_check_run(h, &mock), s.drive.clone()).await;
                let body = final_check_run(&mock);
                // The mock owns a runtime, which must not be dropped inside this one.
                tokio::task::spawn_blocking(move || drop(mock))
                    .await
                    .expect("drop mock");
                (run, Some(body))
            }
        };
        let name = match mode {
            Reporting::Degraded => s.name.to_owned(),
            Reporting::CheckRun => format!("{}_check_run", s.name),
        };
        assert_readout(&name, &readout(&run, check.as_ref()));
    }
}

async fn run_one(c: &Cluster, h: Harness, d: Option<Drive>) -> Run {
    match d {
        Some(d) => drive(c, h, d).await.0,
        None => tokio::task::spawn_blocking(move || h.run())
            .await
            .expect("gate thread"),
    }
}

const BOTH: &[Reporting] = &[Reporting::Degraded, Reporting::CheckRun];
const DEGRADED: &[Reporting] = &[Reporting::Degraded];

fn nothing(_: &Cluster) {}

fn forbid_patching_locked(c: &Cluster) {
    forbid_deployments(c, &["patch"], Some("locked"));
}

fn forbid_watching_deployments(c: &Cluster) {
    forbid_deployments(c, &["list", "watch"], None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pass_three_kinds_with_a_smoke_command() {
    snapshot(Scenario {
        name: "pass",
        manifests: vec![
            deployment("api", "example.com/app:1", ""),
            statefulset("db", "example.com/app:1"),
            daemonset("agent", "example.com/app:1"),
        ],
        setup: &nothing,
        make: &|c| {
            c.gate(
                "deployment/api\nstatefulset/db\ndaemonset/agent",
                "example.com/app:2",
            )
            .input("smoke-command", "echo smoke ok")
        },
        drive: Some(Drive {
            watches: 3,
            ..Drive::default()
        }),
        modes: BOTH,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_crash_loop_explained_and_rolled_back() {
    snapshot(Scenario {
        name: "fail_crash_rollback",
        manifests: vec![deployment("api", "example.com/api:1", "")],
        setup: &nothing,
        make: &|c| {
            c.gate("deployment/api", "example.com/api:2-crash")
                .input("rollback-on-failure", "true")
        },
        drive: Some(Drive {
            hold: Hold::OnConclusivePod,
            ..Drive::default()
        }),
        modes: BOTH,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_smoke_command_rolled_back() {
    snapshot(Scenario {
        name: "fail_smoke_rollback",
        manifests: vec![deployment("api", "example.com/api:1", "")],
        setup: &nothing,
        make: &|c| {
            c.gate("deployment/api", "example.com/api:2")
                .input("smoke-command", "echo 'GET /health: 503'; exit 3")
                .input("rollback-on-failure", "true")
        },
        drive: Some(Drive::default()),
        modes: DEGRADED,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_statefulset_and_daemonset_rollbacks() {
    snapshot(Scenario {
        name: "fail_statefulset_daemonset_rollback",
        manifests: vec![
            statefulset("db", "example.com/app:1"),
            daemonset("agent", "example.com/app:1"),
        ],
        setup: &nothing,
        make: &|c| {
            c.gate("statefulset/db\ndaemonset/agent", "example.com/app:2-crash")
                .input("timeout", "3s")
                .input("fail-fast", "false")
                .input("rollback-on-failure", "true")
        },
        drive: Some(Drive {
            seconds: 2.0,
            every: std::time::Duration::from_millis(100),
            max_ticks: 100,
            watches: 2,
            hold: Hold::AfterTicks(6),
            resume_after_patches: 2,
            ..Drive::default()
        }),
        modes: DEGRADED,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bad_input() {
    snapshot(Scenario {
        name: "error_bad_input",
        manifests: vec![deployment("api", "example.com/api:1", "")],
        setup: &nothing,
        make: &|c| c.gate("deployment/api", "Example.com/API:2"),
        drive: None,
        modes: DEGRADED,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_unreachable_cluster() {
    snapshot(Scenario {
        name: "error_unreachable",
        manifests: vec![deployment("api", "example.com/api:1", "")],
        setup: &nothing,
        make: &|c| {
            let kubeconfig = c
                .fake
                .kubeconfig("default")
                .replace(&c.fake.url(), "http://127.0.0.1:9");
            c.gate("deployment/api", "example.com/api:2")
                .input("kubeconfig", kubeconfig)
        },
        drive: None,
        modes: BOTH,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_forbidden_patch_after_one_was_patched() {
    snapshot(Scenario {
        name: "error_forbidden_patch_after_one_patched",
        manifests: vec![
            deployment("api", "example.com/api:1", ""),
            deployment("locked", "example.com/api:1", ""),
        ],
        setup: &forbid_patching_locked,
        make: &|c| c.gate("deployment/api\ndeployment/locked", "example.com/api:2"),
        drive: None,
        modes: DEGRADED,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_forbidden_watch_names_what_was_patched() {
    snapshot(Scenario {
        name: "error_forbidden_watch",
        manifests: vec![deployment("api", "example.com/api:1", "")],
        setup: &forbid_watching_deployments,
        make: &|c| c.gate("deployment/api", "example.com/api:2"),
        drive: None,
        modes: DEGRADED,
    })
    .await;
}
