//! Commits: the merge-base of two commits (the compare API), the check runs on a commit,
//! and the pull requests a commit belongs to.
//! <https://docs.github.com/en/rest/commits/commits#compare-two-commits>,
//! <https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference>,
//! <https://docs.github.com/en/rest/commits/commits#list-pull-requests-associated-with-a-commit>.
//!
//! Every call here needs read access only (`contents: read`, `checks: read`,
//! `pull-requests: read`), which fork tokens have.

use http::Method;
use serde_json::Value;

use super::{ApiError, GitHub, query_value};

/// What the compare API says about `base...head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compare {
    /// The merge-base commit.
    pub merge_base: String,
    /// Its parents, first parent first.
    pub merge_base_parents: Vec<String>,
}

fn decode(path: &str, reason: &str) -> ApiError {
    ApiError::Decode {
        method: Method::GET,
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `GET /repos/{owner}/{repo}/compare/{base}...{head}`: the merge-base and its parents.
/// One commit per page is asked for: only `merge_base_commit` is read.
pub async fn compare(gh: &GitHub, base: &str, head: &str) -> Result<Compare, ApiError> {
    let path = gh.repo_path(&format!(
        "/compare/{}...{}?per_page=1",
        query_value(base),
        query_value(head)
    ));
    let body = gh.send::<()>(Method::GET, &path, None).await?.body;
    let mb = body
        .get("merge_base_commit")
        .ok_or_else(|| decode(&path, "no `merge_base_commit`"))?;
    let merge_base = mb
        .get("sha")
        .and_then(Value::as_str)
        .ok_or_else(|| decode(&path, "no `merge_base_commit.sha`"))?
        .to_owned();
    let merge_base_parents = mb
        .get("parents")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("sha").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Compare {
        merge_base,
        merge_base_parents,
    })
}

/// A check run as listed on a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenCheckRun {
    /// Id.
    pub id: u64,
    /// `queued`, `in_progress`, `completed`.
    pub status: String,
    /// `output.summary` (empty when none).
    pub summary: String,
    /// `output.text` (empty when none).
    pub text: String,
    /// Web URL.
    pub html_url: String,
}

/// `GET /repos/{owner}/{repo}/commits/{sha}/check-runs?check_name=..&filter=latest`: the
/// latest check runs named `name` on `sha` (one page: re-runs of one name are few).
pub async fn check_runs(gh: &GitHub, sha: &str, name: &str) -> Result<Vec<SeenCheckRun>, ApiError> {
    let path = gh.repo_path(&format!(
        "/commits/{}/check-runs?check_name={}&filter=latest&per_page=20",
        query_value(sha),
        query_value(name)
    ));
    let body = gh.send::<()>(Method::GET, &path, None).await?.body;
    let runs = body
        .get("check_runs")
        .and_then(Value::as_array)
        .ok_or_else(|| decode(&path, "no `check_runs` array"))?;
    let s = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    Ok(runs
        .iter()
        .map(|r| SeenCheckRun {
            id: r.get("id").and_then(Value::as_u64).unwrap_or(0),
            status: s(r, "/status"),
            summary: s(r, "/output/summary"),
            text: s(r, "/output/text"),
            html_url: s(r, "/html_url"),
        })
        .collect())
}

/// An open or closed pull request a commit belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitPull {
    /// Number.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// Head commit.
    pub head_sha: String,
    /// `owner/repo` of the head (a fork's own name).
    pub head_repo: String,
    /// Base commit.
    pub base_sha: String,
    /// Base branch.
    pub base_ref: String,
}

/// `GET /repos/{owner}/{repo}/commits/{sha}/pulls`: the pull requests `sha` belongs to.
pub async fn pulls(gh: &GitHub, sha: &str) -> Result<Vec<CommitPull>, ApiError> {
    let path = gh.repo_path(&format!("/commits/{}/pulls?per_page=100", query_value(sha)));
    let items = gh.get_all_pages(&path, 3).await?;
    let s = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    Ok(items
        .iter()
        .filter_map(|p| {
            Some(CommitPull {
                number: p.get("number").and_then(Value::as_u64)?,
                state: s(p, "/state"),
                head_sha: s(p, "/head/sha"),
                head_repo: s(p, "/head/repo/full_name"),
                base_sha: s(p, "/base/sha"),
                base_ref: s(p, "/base/ref"),
            })
        })
        .collect())
}
