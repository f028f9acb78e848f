//! The lines a change adds: `git diff base...HEAD` when the base is in the clone, else the
//! pull-request files API. Runs git and calls GitHub; the parsing is in `diff.rs`.

use std::path::Path;

use crate::gates::Context;
use crate::github::{self, ApiError, GitHub};

use super::Error;
use super::config::CoverageConfig;
use super::diff::{self, ChangedLines, DiffError};
use super::evaluate::{DiffSource, DiffState};

/// [`crate::git::bytes`] as text.
async fn git(ws: &Path, args: &[&str]) -> Option<String> {
    crate::git::bytes(ws, args)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The changed lines: `git diff base...HEAD` when the base is in the clone; otherwise (a
/// shallow clone, `fetch-depth: 1`) the pull-request files API.
pub(super) async fn changed_lines(ctx: &Context, cfg: &CoverageConfig) -> Result<DiffState, Error> {
    let pr = ctx.event.pull_request.as_ref();
    let base = cfg
        .base_ref
        .clone()
        .or_else(|| pr.map(|p| p.base_sha.clone()))
        .or_else(|| {
            (ctx.event.name == "merge_group")
                .then(|| ctx.event.base_sha.clone())
                .flatten()
        });
    let Some(base) = base else {
        return Ok(DiffState::Off("no pull request and no base-ref".into()));
    };
    let ws = &ctx.workspace;
    let mut candidates = vec![base.clone()];
    if !base.starts_with("origin/") {
        candidates.push(format!("origin/{base}"));
    }
    // With `from-run` the clone is this repository's default branch, not the change: only
    // the API knows the change's lines.
    let candidates = if cfg.from_run.is_some() {
        Vec::new()
    } else {
        candidates
    };
    for c in &candidates {
        if git(
            ws,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{c}^{{commit}}"),
            ],
        )
        .await
        .is_none()
        {
            continue;
        }
        let range = format!("{c}...HEAD");
        if let Some(text) = git(
            ws,
            &[
                "-c",
                "diff.mnemonicprefix=no",
                "-c",
                "diff.noprefix=no",
                "diff",
                "--no-color",
                "--no-ext-diff",
                "-M",
                "-U0",
                &range,
            ],
        )
        .await
        {
            let origin = format!("git diff {range}");
            let lines = diff::parse_git_diff(&text, &origin)?;
            return Ok(DiffState::Available {
                lines,
                source: DiffSource::Git { range },
                unknown: vec![],
            });
        }
    }
    let why_git = if cfg.from_run.is_some() {
        "with from-run the change is not in this clone".to_owned()
    } else {
        format!(
            "the base {base} is not in this clone (shallow checkout? fetch-depth: 0 fetches it)"
        )
    };
    let unavailable = |why: String| {
        if cfg.diff_threshold.is_some() {
            Err(Error::DiffUnavailable(why))
        } else {
            Ok(DiffState::Off(why))
        }
    };
    let (Some(pr), Some(gh)) = (pr, ctx.github.as_ref()) else {
        return unavailable(format!(
            "{why_git}, and there is no pull request and token to ask the API"
        ));
    };
    match pull_request_files(gh, pr.number).await {
        Ok((lines, unknown)) => {
            tracing::info!("{why_git}: changed lines taken from the pull request files API");
            Ok(DiffState::Available {
                lines,
                source: DiffSource::PullRequestFiles { number: pr.number },
                unknown,
            })
        }
        Err(PrFilesError::Api(e)) => unavailable(format!(
            "{why_git}, and the pull request files API failed: {}",
            crate::error::error_chain(&e)
        )),
        Err(PrFilesError::Diff(e)) => Err(Error::Diff(e)),
    }
}

enum PrFilesError {
    Api(ApiError),
    Diff(DiffError),
}

/// `GET /repos/{owner}/{repo}/pulls/{n}/files`, every page (the API lists at most 3,000
/// files), each `patch` parsed for added lines.
async fn pull_request_files(
    gh: &GitHub,
    number: u64,
) -> Result<(ChangedLines, Vec<String>), PrFilesError> {
    let items = github::pulls::files(gh, number)
        .await
        .map_err(PrFilesError::Api)?;
    let mut lines = ChangedLines::new();
    let mut unknown = Vec::new();
    for item in items {
        let Some(name) = item.get("filename").and_then(|v| v.as_str()) else {
            continue;
        };
        if item.get("status").and_then(|v| v.as_str()) == Some("removed") {
            continue;
        }
        match item.get("patch").and_then(|v| v.as_str()) {
            Some(patch) => {
                let added = diff::added_lines(patch, &format!("pulls/{number}/files: {name}"))
                    .map_err(PrFilesError::Diff)?;
                if !added.is_empty() {
                    lines.insert(name.to_owned(), added);
                }
            }
            None => {
                if item.get("additions").and_then(|v| v.as_u64()).unwrap_or(0) > 0 {
                    unknown.push(name.to_owned());
                }
            }
        }
    }
    Ok((lines, unknown))
}
