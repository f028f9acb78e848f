//! Workflow runs and their artifacts: what a `workflow_run` job needs to report on the run
//! that triggered it (a fork's pull request, whose own token could not write).
//! <https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run>,
//! <https://docs.github.com/en/rest/actions/artifacts>.

use http::Method;
use serde_json::Value;

use super::{ApiError, GitHub, query_value};

/// A workflow run, as far as reporting on it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    /// Its head commit.
    pub head_sha: String,
    /// `owner/repo` of its head (a fork's own name).
    pub head_repo: String,
    /// Pull requests GitHub ties it to (empty for forks).
    pub pull_requests: Vec<u64>,
}

/// `GET /repos/{owner}/{repo}/actions/runs/{run_id}`.
pub async fn run(gh: &GitHub, id: u64) -> Result<WorkflowRun, ApiError> {
    let path = gh.repo_path(&format!("/actions/runs/{id}"));
    let body = gh.send::<()>(Method::GET, &path, None).await?.body;
    let s = |p: &str| {
        body.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let head_sha = s("/head_sha");
    if head_sha.is_empty() {
        return Err(ApiError::Decode {
            method: Method::GET,
            path,
            reason: "no `head_sha` in the workflow run".into(),
        });
    }
    Ok(WorkflowRun {
        head_sha,
        head_repo: s("/head_repository/full_name"),
        pull_requests: body
            .get("pull_requests")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|p| p.get("number")?.as_u64()).collect())
            .unwrap_or_default(),
    })
}

/// The id of the run's unexpired artifact named `name`, if any.
pub async fn artifact(gh: &GitHub, run_id: u64, name: &str) -> Result<Option<u64>, ApiError> {
    let path = gh.repo_path(&format!(
        "/actions/runs/{run_id}/artifacts?name={}&per_page=100",
        query_value(name)
    ));
    let body = gh.send::<()>(Method::GET, &path, None).await?.body;
    Ok(body
        .get("artifacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("name").and_then(Value::as_str) == Some(name))
        .filter(|a| a.get("expired").and_then(Value::as_bool) != Some(true))
        .find_map(|a| a.get("id").and_then(Value::as_u64)))
}

/// The artifact's zip, at most `max_bytes`.
pub async fn download(gh: &GitHub, artifact_id: u64, max_bytes: u64) -> Result<Vec<u8>, ApiError> {
    let path = gh.repo_path(&format!("/actions/artifacts/{artifact_id}/zip"));
    gh.download(&path, max_bytes).await
}
