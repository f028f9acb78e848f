//! GitHub deployments (input `environment`), recorded in the mock GitHub API that judges
//! every request by GitHub's OpenAPI description: a deployment for the pull request's head
//! commit, `in_progress`, then `success`, `failure` (rolled back: says to what) or
//! `error`, each with the run's log URL and the environment URL; output `deployment-id`
//! (also when the gate errors after recording the deployment).
//! A token that may not write deployments gets one warning and the same verdict.

use std::path::PathBuf;

use serde_json::Value;

use super::{Cluster, Drive, cluster, deployment, drive, forbid_deployments};
use crate::common::{Harness, Run, shared_dir};
use crate::github_mock::{Fault, MockGitHub};

/// The head commit of the pull request in the event payload (not `GITHUB_SHA`, the merge
/// commit).
const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const TOKEN: &str = "ghs_deployTOKEN0123456789abcdefSECRET";

fn on_pull_request(h: Harness, mock: &MockGitHub) -> Harness {
    let event: PathBuf = h.dir.path().join("event.json");
    std::fs::copy(
        shared_dir().join("github-events/pull_request.synchronize.22.json"),
        &event,
    )
    .expect("event");
    h.env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event.display().to_string())
        .env("GITHUB_SHA", "1111111111111111111111111111111111111111")
        .input("github-token", TOKEN)
        .input("environment", "staging")
        .input("environment-url", "https://staging.example.com")
}

/// Requests to the deployments API, in order: (path, body).
fn deployment_requests(mock: &MockGitHub) -> Vec<(String, Value)> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path.contains("/deployments"))
        .map(|r| (r.path, r.body.unwrap_or(Value::Null)))
        .collect()
}

fn states(reqs: &[(String, Value)]) -> Vec<String> {
    reqs.iter()
        .filter(|(p, _)| p.ends_with("/statuses"))
        .map(|(_, b)| b["state"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn with_mock<F, Fut>(f: F)
where
    F: FnOnce(MockGitHub) -> Fut,
    Fut: std::future::Future<Output = MockGitHub>,
{
    let mock = tokio::task::spawn_blocking(MockGitHub::start)
        .await
        .expect("mock");
    let mock = f(mock).await;
    mock.assert_valid();
    // The mock owns a runtime, which must not be dropped inside this one.
    tokio::task::spawn_blocking(move || drop(mock))
        .await
        .expect("drop mock");
}

async fn run(c: &Cluster, h: Harness) -> Run {
    drive(c, h, Drive::default()).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_rollout_is_recorded_for_the_pull_requests_head() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    with_mock(|mock| async {
        let h = on_pull_request(c.gate("deployment/api", "example.com/api:2"), &mock);
        let run = run(&c, h).await;
        run.assert_code(0);
        let reqs = deployment_requests(&mock);
        let (path, created) = &reqs[0];
        assert_eq!(path, "/repos/o/r/deployments");
        assert_eq!(created["ref"], HEAD);
        assert_eq!(created["environment"], "staging");
        assert_eq!(created["auto_merge"], false);
        assert_eq!(created["required_contexts"], serde_json::json!([]));
        assert_eq!(states(&reqs), ["in_progress", "success"]);
        let id = run.output("deployment-id").expect("deployment-id");
        assert!(!id.is_empty());
        for (p, b) in reqs.iter().skip(1) {
            assert_eq!(p, &format!("/repos/o/r/deployments/{id}/statuses"));
            assert_eq!(b["log_url"], "https://github.com/o/r/actions/runs/77");
            assert_eq!(b["environment_url"], "https://staging.example.com");
        }
        // The token appears once, in the mask that hides it, and nowhere else.
        let leaks = run
            .stdout
            .lines()
            .chain(run.stderr.lines())
            .filter(|l| l.contains(TOKEN) && !l.starts_with("::add-mask::"))
            .count();
        assert_eq!(leaks, 0, "{run}");
        mock
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_rollout_is_a_failure_that_says_to_what() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    with_mock(|mock| async {
        let h = on_pull_request(
            c.gate("deployment/api", "example.com/api:2-crash")
                .input("rollback-on-failure", "true"),
            &mock,
        );
        let run = run(&c, h).await;
        run.assert_code(1);
        let reqs = deployment_requests(&mock);
        assert_eq!(states(&reqs), ["in_progress", "failure"]);
        let last = &reqs[reqs.len() - 1].1;
        let d = last["description"].as_str().unwrap_or_default();
        assert!(
            d.starts_with("rolled back to example.com/api:1 (revision 1): "),
            "{d}"
        );
        mock
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_is_recorded_as_error() {
    let c = cluster(&[
        deployment("api", "example.com/api:1", ""),
        deployment("locked", "example.com/locked:1", ""),
    ])
    .await;
    forbid_deployments(&c, &["patch"], Some("locked"));
    with_mock(|mock| async {
        let h = on_pull_request(
            c.gate("deployment/api\ndeployment/locked", "example.com/app:2"),
            &mock,
        );
        let run = run(&c, h).await;
        run.assert_code(2);
        let reqs = deployment_requests(&mock);
        assert_eq!(states(&reqs), ["in_progress", "error"]);
        let d = reqs[reqs.len() - 1].1["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(d.contains("forbidden to patch"), "{d}");
        // The deployment exists, so its id is still an output, beside `result=error`.
        assert_eq!(run.output("result"), Some("error"));
        let id = run.output("deployment-id").expect("deployment-id on error");
        assert!(
            reqs[1..]
                .iter()
                .all(|(p, _)| p == &format!("/repos/o/r/deployments/{id}/statuses")),
            "{id}: {reqs:?}"
        );
        mock
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_deployments_write_the_gate_warns_once_and_keeps_its_verdict() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    with_mock(|mock| async {
        mock.fault(Fault {
            method: "POST",
            path_contains: "/deployments",
            status: 403,
            headers: Vec::new(),
            body: serde_json::json!({"message": "Resource not accessible by integration"}),
            times: 10,
        });
        let h = on_pull_request(c.gate("deployment/api", "example.com/api:2"), &mock);
        let run = run(&c, h).await;
        run.assert_code(0);
        assert_eq!(run.output("result"), Some("pass"));
        assert_eq!(run.output("deployment-id"), Some(""));
        let warnings: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.starts_with("::warning") && l.contains("Deployment not recorded"))
            .collect();
        assert_eq!(warnings.len(), 1, "{run}");
        assert!(
            warnings[0].contains("deployments: write"),
            "{}",
            warnings[0]
        );
        assert_eq!(
            deployment_requests(&mock).len(),
            1,
            "no status after a refused deployment"
        );
        mock
    })
    .await;
}
