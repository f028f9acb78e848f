//! Check runs: created `in_progress` on the pull request's head commit, then filled
//! with output and annotations (at most 50 per request, as the API allows; later batches
//! are appended by further updates), then concluded.
//! <https://docs.github.com/en/rest/checks/runs#update-a-check-run>
//!
//! Bodies go out as GitHub documents them; what a gate's outcome turns into (output
//! text, annotations) is decided in `report/`.

use http::Method;
use serde_json::{Value, json};

use super::{ApiError, GitHub};

/// The API's limit of annotations per create/update request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// A created check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// Id.
    pub id: u64,
    /// Web URL.
    pub html_url: String,
}

/// Create a check run `in_progress`.
pub async fn create(
    gh: &GitHub,
    name: &str,
    head_sha: &str,
    started_at: &str,
) -> Result<CheckRun, ApiError> {
    let path = gh.repo_path("/check-runs");
    let body = json!({
        "name": name,
        "head_sha": head_sha,
        "status": "in_progress",
        "started_at": started_at,
    });
    let resp = gh.send(Method::POST, &path, Some(&body)).await?;
    let id = resp
        .body
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::Decode {
            method: Method::POST,
            path: path.clone(),
            reason: "no `id` in the created check run".into(),
        })?;
    let html_url = resp
        .body
        .get("html_url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(CheckRun { id, html_url })
}

/// The output of a check run, already cut to the API's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Title.
    pub title: String,
    /// Summary markdown (≤ 65,535 characters).
    pub summary: String,
    /// Details markdown (≤ 65,535 characters).
    pub text: String,
}

/// Fill in output and annotations, then conclude. Returns the number of
/// annotation-carrying requests sent.
pub async fn complete(
    gh: &GitHub,
    run: &CheckRun,
    output: &Output,
    annotations: &[Value],
    conclusion: &str,
    completed_at: &str,
) -> Result<usize, ApiError> {
    let path = gh.repo_path(&format!("/check-runs/{}", run.id));
    let batches: Vec<&[Value]> = annotations.chunks(ANNOTATIONS_PER_REQUEST).collect();
    let out = |batch: &[Value]| {
        let mut o = json!({ "title": output.title, "summary": output.summary });
        if !output.text.is_empty() {
            o["text"] = Value::String(output.text.clone());
        }
        if !batch.is_empty() {
            o["annotations"] = Value::Array(batch.to_vec());
        }
        o
    };
    // Every batch but the last is appended while the run is still in progress; the last
    // one rides on the request that concludes it.
    let (last, earlier) = match batches.split_last() {
        Some((last, earlier)) => (*last, earlier),
        None => (&[][..], &[][..]),
    };
    for batch in earlier {
        gh.send(Method::PATCH, &path, Some(&json!({ "output": out(batch) })))
            .await?;
    }
    let body = json!({
        "status": "completed",
        "conclusion": conclusion,
        "completed_at": completed_at,
        "output": out(last),
    });
    gh.send(Method::PATCH, &path, Some(&body)).await?;
    Ok(batches.len())
}
