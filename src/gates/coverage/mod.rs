//! Coverage gate: read coverage reports, enforce total, branch, per-file and diff
//! thresholds, annotate uncovered changed lines. This file and `reports.rs` (the report
//! files) are the only parts of the gate that do I/O: here git and the GitHub API, and
//! `run`, the gate's story: find and parse reports (`reports`), map and merge
//! (`paths`, `merge`), evaluate (`evaluate`), render (`render`). Every other file is pure.

pub mod config;
pub mod diff;
pub mod evaluate;
pub mod extras;
pub mod merge;
pub mod metric;
pub mod model;
pub mod parse;
pub mod paths;
pub mod render;
mod reports;

use std::path::Path;

use crate::gates::Context;
use crate::outcome::Outcome;
use crate::report::github::{ApiError, GitHub};
use crate::runner::inputs::{InputError, RawInputs};
use crate::spec::{InputSpec, OutputSpec};
use config::CoverageConfig;
use diff::{ChangedLines, DiffError};
use evaluate::{DiffState, EvalError};
use merge::{Merged, Merger};
use model::Report;
use parse::ParseError;
use paths::{Mapped, PathMapper};

/// Default report locations, tried when `files` is not given.
pub const DEFAULT_FILES: &[&str] = &[
    "coverage.xml",
    "cobertura.xml",
    "**/cobertura-coverage.xml",
    "lcov.info",
    "coverage/lcov.info",
    "**/jacoco.xml",
    "clover.xml",
    "coverage.out",
];

/// The coverage gate's inputs.
pub const INPUTS: &[InputSpec] = &[
    InputSpec::new("files", "Coverage reports, one path or glob per line.")
        .default("coverage.xml, cobertura.xml, **/cobertura-coverage.xml, lcov.info, coverage/lcov.info, **/jacoco.xml, clover.xml, coverage.out")
        .multiline(),
    InputSpec::new("format", "`auto` (from content), `cobertura`, `lcov`, `jacoco`, `clover` or `go`.").default("auto"),
    InputSpec::new("threshold", "Minimum coverage in percent (decimals allowed, e.g. `82.5`): of lines, or of statements when `coverage-metric` says so."),
    InputSpec::new("coverage-metric", "What `threshold` and `file-threshold` measure: `lines`, `statements` (Go profiles: the number `go test -cover` and `go tool cover -func` print) or `auto` (statements when every report is a Go profile, else lines).").default("auto"),
    InputSpec::new("branch-threshold", "Minimum branch coverage in percent."),
    InputSpec::new("file-threshold", "Minimum coverage of every file (lines or statements, as `threshold`), in percent."),
    InputSpec::new("diff-threshold", "Minimum coverage of the executable lines the change adds, in percent."),
    InputSpec::new("base-ref", "What diff coverage compares against (default: the pull request's base)."),
    InputSpec::new("annotate", "`changed` (uncovered lines the change touched), `all` or `none`.").default("changed"),
    InputSpec::new("path-prefix", "Prefix to add to report paths to make them repository-relative."),
    InputSpec::new("source-root", "Prefix to strip from report paths (the directory the report was made in)."),
];

/// The coverage gate's outputs.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "line-coverage",
        description: "Line coverage in percent, two decimals.",
    },
    OutputSpec {
        name: "lines-covered",
        description: "Executable lines hit at least once.",
    },
    OutputSpec {
        name: "lines-total",
        description: "Executable lines.",
    },
    OutputSpec {
        name: "statement-coverage",
        description: "Go statement coverage in percent, two decimals (`go tool cover -func`'s total); empty without Go profiles.",
    },
    OutputSpec {
        name: "statements-covered",
        description: "Go statements run at least once; empty without Go profiles.",
    },
    OutputSpec {
        name: "statements-total",
        description: "Go statements; empty without Go profiles.",
    },
    OutputSpec {
        name: "branch-coverage",
        description: "Branch coverage in percent; empty when the reports have no branch data.",
    },
    OutputSpec {
        name: "branches-covered",
        description: "Branch outcomes taken; empty when not measured.",
    },
    OutputSpec {
        name: "branches-total",
        description: "Branch outcomes; empty when not measured.",
    },
    OutputSpec {
        name: "diff-coverage",
        description: "Coverage of the changed executable lines in percent; empty without a diff.",
    },
    OutputSpec {
        name: "diff-lines-covered",
        description: "Changed executable lines covered; empty without a diff.",
    },
    OutputSpec {
        name: "diff-lines-total",
        description: "Changed executable lines; empty without a diff.",
    },
    OutputSpec {
        name: "files-below-threshold",
        description: "Files under `file-threshold`, one per line.",
    },
];

/// The coverage gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No report matched.
    #[error("no coverage report found in {dir}: tried {patterns}")]
    NoReports {
        /// Directory searched.
        dir: String,
        /// The patterns, comma-separated.
        patterns: String,
    },
    /// A `files` entry names a directory.
    #[error(
        "input `files`: {pattern:?} is a directory, not a report (name the file, or a glob such as \"{pattern}/**/*.xml\")"
    )]
    Directory {
        /// The entry.
        pattern: String,
    },
    /// A glob is not valid.
    #[error("input `files`: {pattern:?} is not a valid glob")]
    Glob {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// A report could not be read.
    #[error("{path}: cannot read")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A report resolves, through a symlink, to a file outside the workspace.
    #[error(
        "{path}: is a symlink that leads outside the workspace; refused (reports are read only inside the workspace, or from an absolute path written in `files`)"
    )]
    OutsideWorkspace {
        /// The report as the user or the default pattern named it.
        path: String,
    },
    /// The format could not be told from the content.
    #[error(
        "{path}: not a coverage report this gate reads (Cobertura, LCOV, JaCoCo, Clover, Go profile); set `format` if it is one"
    )]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// A report is malformed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The reports lack data a threshold needs.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A diff is malformed.
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// `diff-threshold` was asked for but changed lines are not available.
    #[error("diff-threshold is set but the changed lines are unknown: {0}")]
    DiffUnavailable(String),
}

/// Run the coverage gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = CoverageConfig::try_from(raw)?;
    let ws = ctx.workspace.clone();
    let reports = reports::find_reports(&ws, &cfg.files, cfg.default_files)?;
    // Parsing (CPU, one thread per report up to the cores) runs while git lists the
    // tracked files and the changed lines are fetched (processes, network).
    let forced = cfg.format;
    let ws_for_names = ws.clone();
    let parsing =
        tokio::task::spawn_blocking(move || reports::parse_all(&reports, forced, &ws_for_names));
    let (parsed, tracked, diff) =
        tokio::join!(parsing, tracked_files(&ws), changed_lines(ctx, &cfg));
    let parsed = parsed.map_err(|e| Error::Read {
        path: "reports".into(),
        source: std::io::Error::other(e.to_string()),
    })??;
    let diff = diff?;
    let mapper = PathMapper::new(
        &ws.display().to_string(),
        tracked,
        cfg.path_prefix.clone(),
        cfg.source_root.clone(),
    );
    let merged = merge_reports(parsed, &mapper);
    if let DiffState::Off(why) = &diff {
        tracing::info!("diff coverage off: {why}");
    }
    let ev = evaluate::evaluate(&merged, &diff, &cfg)?;
    tracing::info!(
        "line coverage {}% ({}/{}), {} files",
        config::show_percent(ev.lines.0, ev.lines.1),
        ev.lines.0,
        ev.lines.1,
        merged.files.len()
    );
    Ok(render::outcome(&ev, &merged, &diff, &cfg, 60_000))
}

/// Files git tracks in `ws` (the universe report paths are matched against); without
/// git, the files on disk.
async fn tracked_files(ws: &Path) -> Vec<String> {
    match git_bytes(ws, &["ls-files", "-z"]).await {
        Some(out) => out
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .filter_map(|s| std::str::from_utf8(s).ok().map(str::to_owned))
            .collect(),
        None => {
            tracing::debug!("not a git checkout: matching report paths against files on disk");
            walkdir::WalkDir::new(ws)
                .into_iter()
                .filter_entry(|e| {
                    !(e.file_type().is_dir()
                        && matches!(
                            e.file_name().to_str(),
                            Some(".git" | "node_modules" | "target")
                        ))
                })
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .filter_map(|e| {
                    e.path()
                        .strip_prefix(ws)
                        .ok()
                        .and_then(|p| p.to_str())
                        .map(|p| p.replace('\\', "/"))
                })
                .take(200_000)
                .collect()
        }
    }
}

/// Merge parsed reports under repository paths.
fn merge_reports(parsed: Vec<(String, Report)>, paths: &PathMapper) -> Merged {
    let mut merged = Merger::default();
    for (shown, mut report) in parsed {
        merged.report(shown, report.format.to_string(), report.has_branch_data);
        let mut mapper = paths.for_report(&report.sources);
        for f in report.files {
            let extras = report.extras.remove(&f.path).unwrap_or_default();
            match mapper.map(&f.path) {
                Mapped::Repo(p) => merged.add_with(p, f, extras, true),
                Mapped::Unmapped(p) => merged.add_with(p, f, extras, false),
            }
        }
    }
    merged.finish()
}

/// Run git in the workspace; its stdout, or `None` when it fails.
async fn git_bytes(ws: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = tokio::process::Command::new("git")
        .arg("-C")
        .arg(ws)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .ok()?;
    if out.status.success() {
        Some(out.stdout)
    } else {
        tracing::debug!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        None
    }
}

/// [`git_bytes`] as text.
async fn git(ws: &Path, args: &[&str]) -> Option<String> {
    git_bytes(ws, args)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The changed lines: `git diff base...HEAD` when the base is in the clone; otherwise (a
/// shallow clone, `fetch-depth: 1`) the pull-request files API.
async fn changed_lines(ctx: &Context, cfg: &CoverageConfig) -> Result<DiffState, Error> {
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
        return Ok(DiffState::Off("no pull request and no `base-ref`".into()));
    };
    let ws = &ctx.workspace;
    let mut candidates = vec![base.clone()];
    if !base.starts_with("origin/") {
        candidates.push(format!("origin/{base}"));
    }
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
                source: format!("`{origin}`"),
                unknown: vec![],
            });
        }
    }
    let why_git = format!(
        "the base `{base}` is not in this clone (shallow checkout? `fetch-depth: 0` fetches it)"
    );
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
                source: format!("the pull request files API (#{})", pr.number),
                unknown,
            })
        }
        Err(PrFilesError::Api(e)) => unavailable(format!(
            "{why_git}, and the pull request files API failed: {}",
            crate::report::github::error_chain(&e)
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
    let first = gh.repo_path(&format!("/pulls/{number}/files?per_page=100"));
    let items = gh
        .get_all_pages(&first, 30)
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
