//! The lines a change adds: `git diff base...HEAD` when the base is in the clone, else the
//! pull-request files API. Runs git and calls GitHub; the parsing is in `diff.rs`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::gates::Context;
use crate::github::{self, ApiError, GitHub};

use super::Error;
use super::config::CoverageConfig;
use super::diff::{self, ChangedLines, DiffError};
use super::evaluate::{DiffSource, DiffState};

/// Told once the `git diff` processes run, or that none will: the gate parses the reports
/// from then on, so the few milliseconds of git before the diff proper do not wait for a
/// core the parser holds.
pub(super) struct Started(Option<tokio::sync::oneshot::Sender<()>>);

impl Started {
    pub(super) fn new(tx: tokio::sync::oneshot::Sender<()>) -> Self {
        Self(Some(tx))
    }

    fn now(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// The changed lines: `git diff base...HEAD` when the base is in the clone; otherwise (a
/// shallow clone, `fetch-depth: 1`) the pull-request files API.
pub(super) async fn changed_lines(
    ctx: &Context,
    cfg: &CoverageConfig,
    mut started: Started,
) -> Result<DiffState, Error> {
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
        // A revision, never an option (no ref or object name starts with `-`).
        if c.starts_with('-') {
            continue;
        }
        let range = format!("{c}...HEAD");
        if let Some(parts) = git_diff(ws, &range, &mut started).await {
            let origin = format!("git diff {range}");
            let lines = diff::parse_git_diff_parts(&parts, &origin)?;
            return Ok(DiffState::Available {
                lines,
                source: DiffSource::Git { range },
                unknown: vec![],
            });
        }
    }
    started.now();
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

/// The options of every `git diff` here: plain `a/` and `b/` prefixes whatever the
/// user's configuration, no colour, no external diff driver, renames followed (as the
/// pull request shows them), no context lines.
const DIFF: [&str; 10] = [
    "-c",
    "diff.mnemonicprefix=no",
    "-c",
    "diff.noprefix=no",
    "--literal-pathspecs",
    "diff",
    "--no-color",
    "--no-ext-diff",
    "-M",
    "-U0",
];

/// `git diff -M -U0 <range>`'s text; `None` when the range is not in the clone. A change
/// of many files is diffed on both cores: `git diff --raw` lists the files, and one
/// process per group of them ([`diff::split::groups`]) diffs at once; the texts together
/// are the one diff's.
async fn git_diff(ws: &Path, range: &str, started: &mut Started) -> Option<Vec<String>> {
    let whole = || {
        let mut args = DIFF.to_vec();
        args.extend([range, "--"]);
        crate::git::spawn(ws, &args)
    };
    let mut list = DIFF[..9].to_vec();
    list.extend(["--raw", "-z", range, "--"]);
    let raw = crate::git::bytes(ws, &list).await?;
    let runs: Vec<_> = match diff::split::groups(&raw, 2) {
        Some(groups) => groups
            .iter()
            .map(|paths| {
                let mut args: Vec<&OsStr> = DIFF.iter().map(OsStr::new).collect();
                args.extend([OsStr::new(range), OsStr::new("--")]);
                args.extend(paths.iter().map(|p| OsStr::from_bytes(p)));
                crate::git::spawn(ws, &args)
            })
            .collect::<Option<_>>()?,
        None => vec![whole()?],
    };
    started.now();
    let mut parts = Vec::with_capacity(runs.len());
    for out in futures::future::join_all(runs.into_iter().map(crate::git::Running::output)).await {
        match out {
            Some(bytes) => parts.push(String::from_utf8_lossy(&bytes).into_owned()),
            // Not seen: the listing worked. Once more as one process, to be sure.
            None => {
                let bytes = whole()?.output().await?;
                return Some(vec![String::from_utf8_lossy(&bytes).into_owned()]);
            }
        }
    }
    Some(parts)
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
