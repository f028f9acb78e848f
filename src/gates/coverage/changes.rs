//! The lines a change adds: `git diff base...HEAD` when the base is in the clone, else the
//! pull-request files API. Runs git and calls GitHub; the parsing is in `diff.rs`.

mod parts;

use std::path::Path;

use crate::gates::Context;
use crate::github::{self, ApiError, GitHub};

use super::Error;
use super::config::CoverageConfig;
use super::diff::split::{Group, Plan};
use super::diff::{self, ChangedLines, DiffError};
use super::evaluate::{DiffSource, DiffState};
use parts::{Diff, Runs};

/// Told once the `git diff` processes run, or that none will: the gate parses the reports
/// and lists the tracked files from then on, so the few milliseconds of git before the
/// diff proper do not wait for a core the parser or another git holds.
pub(super) struct Started(tokio::sync::watch::Sender<bool>);

impl Started {
    pub(super) fn new(tx: tokio::sync::watch::Sender<bool>) -> Self {
        Self(tx)
    }

    fn now(&mut self) {
        self.0.send_replace(true);
    }
}

/// Until [`Started`] is told, or is dropped untold; 20 ms at most, so a git slow to get
/// there holds up what waits for it no longer.
pub(super) async fn started(mut rx: tokio::sync::watch::Receiver<bool>) {
    let told = rx.wait_for(|&now| now);
    let _ = tokio::time::timeout(std::time::Duration::from_millis(20), told).await;
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
        if let Some(lines) = git_diff(ws, c, &mut started).await {
            let lines = lines?;
            return Ok(DiffState::Available {
                lines,
                source: DiffSource::Git {
                    range: format!("{c}...HEAD"),
                },
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

/// git's own options for every diff here, before the command: plain `a/` and `b/`
/// prefixes whatever the user's configuration, paths taken literally.
const GIT: [&str; 5] = [
    "-c",
    "diff.mnemonicprefix=no",
    "-c",
    "diff.noprefix=no",
    "--literal-pathspecs",
];

/// The options of every diff here, after the command: no colour, renames followed (as
/// the pull request shows them), and git's default diff of the files' own lines whatever
/// the runner's `diff.*` settings: no external diff, no textconv, the default algorithm
/// with the indent heuristic (plumbing reads none of these settings; porcelain, the
/// fallback, would).
const DIFF: [&str; 6] = [
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    "-M",
];

/// How the range is asked for. `git diff-tree --merge-base <base> HEAD` (git 2.30+) is
/// `git diff <base>...HEAD` in plumbing: the same text, but it takes a new-side file
/// from the work tree when the index says it is that blob (no inflating it), and no
/// `diff.*` preference of the runner's configuration (algorithm, textconv) changes which
/// lines count as added. Porcelain `git diff` is the fallback for older git, and for a
/// base with several merge-bases, which plumbing refuses and porcelain takes the first of.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Ask {
    Plumbing,
    Porcelain,
}

impl Ask {
    /// `git <args>` for `base`'s range with `extra` options, before the `--`.
    fn args<'a>(self, base: &'a str, range: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = GIT.to_vec();
        match self {
            Ask::Plumbing => args.extend(["diff-tree", "--merge-base"]),
            Ask::Porcelain => args.push("diff"),
        }
        args.extend(DIFF);
        args.extend(extra);
        match self {
            Ask::Plumbing => args.extend([base, "HEAD", "--"]),
            Ask::Porcelain => args.extend([range, "--"]),
        }
        args
    }
}

/// `git diff -M -U0 <base>...HEAD`'s added lines; `None` when the range is not in the
/// clone. A change of many files is diffed on both cores: the raw listing names the
/// files, and one process per group of them ([`diff::split::groups`]) diffs at once; the
/// texts together are the one diff's.
async fn git_diff(
    ws: &Path,
    base: &str,
    started: &mut Started,
) -> Option<Result<ChangedLines, DiffError>> {
    let range = format!("{base}...HEAD");
    let list = |ask: Ask| {
        let args = ask.args(base, &range, &["-r", "--raw", "-z"]);
        async move { crate::git::bytes(ws, &args).await }
    };
    let diff = |ask: Ask| Diff {
        ws,
        ask,
        base,
        range: range.clone(),
        origin: format!("git diff {range}"),
    };
    let (plumbing, porcelain) = (diff(Ask::Plumbing), diff(Ask::Porcelain));
    // The whole range's diff starts beside its listing; the listing then says whether
    // another process takes half its files over, or groups replace it.
    let mut early = Runs::new(&plumbing);
    early.start_now(Group::whole());
    let (used, mut runs) = match list(Ask::Plumbing).await {
        Some(raw) => (&plumbing, planned(&plumbing, Some(early), &raw)),
        None => {
            drop(early);
            let raw = list(Ask::Porcelain).await?;
            (&porcelain, planned(&porcelain, None, &raw))
        }
    };
    runs.started().await;
    started.now();
    match runs.finish().await {
        Some(read) => {
            tracing::debug!(
                "{}: {} diff processes, {} of them taking files over from slower ones",
                used.origin,
                read.parts.len(),
                read.taken_over
            );
            Some(diff::join_parts(read.parts))
        }
        // Not seen: the listing worked. Once more as one process, to be sure.
        None => {
            let mut once = Runs::new(used);
            once.start(Group::whole());
            let read = once.finish().await?;
            Some(diff::join_parts(read.parts))
        }
    }
}

/// The processes [`diff::split::plan`] asks for once the listing `raw` is in; `early`,
/// when given, already runs the whole range.
fn planned<'a>(diff: &'a Diff<'a>, early: Option<Runs<'a>>, raw: &[u8]) -> Runs<'a> {
    match diff::split::plan(raw, 2) {
        Plan::Whole { paths, cut_from } => {
            let mut runs = early.unwrap_or_else(|| {
                let mut runs = Runs::new(diff);
                runs.start(Group::whole());
                runs
            });
            runs.listed(paths, cut_from);
            runs
        }
        Plan::Groups(groups) => {
            drop(early);
            let mut runs = Runs::new(diff);
            for g in groups {
                runs.start(g);
            }
            runs
        }
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

#[cfg(test)]
mod tests;
