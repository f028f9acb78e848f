//! Coverage gate: read coverage reports, enforce total, branch, per-file and diff
//! thresholds, annotate uncovered changed lines, compare with the merge-base's recorded
//! result and keep one pull-request comment. `run` is the gate's story: find and parse
//! reports (`files`), learn the changed lines (`changes`) and the baseline ([`crate::base_commit`]), map
//! and merge (`paths`, `merge`), evaluate (`evaluate`, `delta`), render (`render`), record
//! ([`crate::baseline`]) and comment (`comment`). This file, `files`, `changes` and
//! `comment` do the I/O (files, git, the GitHub API); every other file is pure.

mod changes;
pub(crate) mod comment;
pub(crate) mod components;
pub(crate) mod config;
pub(crate) mod delta;
pub mod diff;
mod error;
pub(crate) mod evaluate;
pub(crate) mod extras;
mod files;
mod from_run;
pub(crate) mod merge;
pub(crate) mod metric;
pub mod model;
pub mod parse;
pub(crate) mod render;

use std::collections::BTreeSet;

use crate::gates::Context;
use crate::outcome::{Annotation, Level, Outcome, Verdict};
use crate::paths::{Mapped, PathMapper};
use crate::runner::inputs::RawInputs;
use crate::spec::{InputSpec, OutputSpec};
use changes::changed_lines;
use config::CoverageConfig;
use delta::{BaseState, Deltas};
use evaluate::{DiffState, Evaluation};
use files::{find_reports, parse_all, tracked_files};
use merge::{Merged, Merger};
use model::Report;

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
    InputSpec::new("base-ref", "What diff coverage compares against (default: the pull request's base). The changed lines are those `git diff <base>...HEAD` adds, renames followed, by git's default diff whatever the runner's `diff.*` settings; without the base in the clone, the pull-request files API gives them."),
    InputSpec::new("annotate", "`changed` (uncovered lines the change touched), `all` or `none`.").default("changed"),
    InputSpec::new("path-prefix", "Prefix to add to report paths to make them repository-relative."),
    InputSpec::new("source-root", "Prefix to strip from report paths (the directory the report was made in)."),
    InputSpec::new("max-drop", "Most percentage points line coverage may fall against the merge-base's recorded result (`0`: must not fall). Without a baseline the gate passes with a notice."),
    InputSpec::new("baseline-required", "`true`: fail when no baseline is found on the merge-base or its first parents.").default("false"),
    InputSpec::new("components", "Monorepo components, one per line: `name: glob [glob...] [threshold=N]` (e.g. `api: services/api/** threshold=80`). Each gets its own row, delta and verdict, and an entry in the `components` output; a file belongs to the first component that matches, files in none are `other`.").multiline(),
    InputSpec::new("from-run", "Report on this workflow run (`${{ github.event.workflow_run.id }}` in a `workflow_run` job): its artifact `artifact` holds the reports; the pull request is the open one whose head is the run's commit. Check run and comment go to that commit and pull request. See the README's fork workflow."),
    InputSpec::new("artifact", "With `from-run`: the name of the artifact holding the reports.").default("coverage"),
    InputSpec::new("comment", "The sticky pull-request comment: `off`, `on-change` (when the change touches measured lines, moves a total or fails; an existing comment is always updated) or `always`. Needs `pull-requests: write`.").default("on-change"),
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
        description: "Files under `file-threshold`, one per line (a name with a line break or a leading `\"` is quoted as git quotes paths).",
    },
    OutputSpec {
        name: "components",
        description: "With `components`: a JSON array, one object per component and `other` (`name`, `files`, `lines-covered`, `lines-total`, `line-coverage`, `base-line-coverage`, `line-coverage-delta`, `threshold`, `result`).",
    },
    OutputSpec {
        name: "base-sha",
        description: "The commit whose recorded result the change was compared with; empty without one.",
    },
    OutputSpec {
        name: "base-line-coverage",
        description: "Line coverage on `base-sha` in percent; empty without a baseline.",
    },
    OutputSpec {
        name: "line-coverage-delta",
        description: "Change in line coverage against `base-sha` in points, signed (`-0.35`); empty without a baseline.",
    },
    OutputSpec {
        name: "base-branch-coverage",
        description: "Branch coverage on `base-sha` in percent; empty without a baseline or branch data.",
    },
    OutputSpec {
        name: "branch-coverage-delta",
        description: "Change in branch coverage against `base-sha` in points, signed; empty without a baseline or branch data.",
    },
];

/// The check run's text budget for the per-file tables (GitHub's limit is 65,535).
const CHECK_TEXT_BUDGET: usize = 65_000;
/// The check run's limit, which the summary and the baseline record share.
const CHECK_LIMIT: usize = 65_535;

pub use error::Error;

/// Run the coverage gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = CoverageConfig::try_from(raw)?;
    let ws = ctx.workspace.clone();
    // `from-run`: the reports come from the triggering run's artifact, the pull request
    // from its head commit; everything else is as on a pull request.
    let from = match cfg.from_run {
        Some(id) => Some(from_run::prepare(ctx, id, &cfg.artifact).await?),
        None => None,
    };
    let mut from_ctx = None;
    if let Some(f) = &from {
        let mut c = ctx.clone();
        c.event.head_sha = Some(f.pr.head_sha.clone());
        c.event.base_sha = Some(f.pr.base_sha.clone());
        c.event.pull_request = Some(f.pr.clone());
        from_ctx = Some(c);
    }
    let ctx = from_ctx.as_ref().unwrap_or(ctx);
    let report_root = from
        .as_ref()
        .map_or_else(|| ws.clone(), |f| f.dir.path().to_path_buf());
    let reports = find_reports(&report_root, &cfg.files, cfg.default_files)?;
    // Parsing (CPU, one thread per report up to the cores) and listing the tracked files
    // run while the changed lines are fetched (processes, network).
    let forced = cfg.format;
    let ws_for_names = report_root.clone();
    let (started_tx, started_rx) = tokio::sync::watch::channel(false);
    let tracking_rx = started_rx.clone();
    let parsing = async move {
        // The parser takes every core: it starts once git's diff processes run (or none
        // will), so git's short steps before them never queue behind it.
        changes::started(started_rx).await;
        tokio::task::spawn_blocking(move || parse_all(&reports, forced, &ws_for_names)).await
    };
    let pr = ctx.event.pull_request.as_ref();
    let finding_base = async {
        match pr {
            Some(pr) => {
                let wanted = crate::base_commit::Wanted {
                    kind: delta::KIND,
                    title: "Coverage baseline",
                };
                crate::base_commit::find(ctx, wanted, &pr.base_sha, &pr.head_sha).await
            }
            None => BaseState::NotApplicable,
        }
    };
    let tracking = {
        let ws = ws.clone();
        // Needed once the reports are parsed: it starts with the parser.
        crate::git::Task::spawn(async move {
            changes::started(tracking_rx).await;
            tracked_files(&ws).await
        })
    };
    // The reports are merged (their paths mapped to the repository's) while git still
    // diffs: what waits for the diff's end is the evaluation alone.
    let merging = {
        let workspace = ws.display().to_string();
        let (prefix, root) = (cfg.path_prefix.clone(), cfg.source_root.clone());
        async move {
            let (parsed, tracked) =
                tokio::join!(parsing, async { tracking.join().await.unwrap_or_default() });
            // A blocking task that did not finish (the runtime shutting down).
            let unfinished = |e: tokio::task::JoinError| crate::reports::FindError::Read {
                path: "reports".into(),
                source: std::io::Error::other(e.to_string()),
            };
            let parsed = parsed.map_err(unfinished)??;
            let mapper = PathMapper::new(&workspace, tracked, prefix, root);
            match tokio::task::spawn_blocking(move || merge_reports(parsed, &mapper)).await {
                Ok(merged) => Ok::<Merged, Error>(merged),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(unfinished(e).into()),
            }
        }
    };
    let (merged, diff, base_state) = tokio::join!(
        merging,
        changed_lines(ctx, &cfg, changes::Started::new(started_tx)),
        finding_base
    );
    let merged = merged?;
    let diff = diff?;
    if let DiffState::Off(why) = &diff {
        tracing::info!("diff coverage off: {why}");
    }
    let mut ev = evaluate::evaluate(&merged, &diff, &cfg)?;
    tracing::info!(
        "line coverage {}% ({}/{}), {} files",
        config::show_percent(ev.lines.0, ev.lines.1),
        ev.lines.0,
        ev.lines.1,
        merged.files.len()
    );
    let changed: BTreeSet<String> = match &diff {
        DiffState::Available { lines, .. } => lines.keys().cloned().collect(),
        DiffState::Off(_) => BTreeSet::new(),
    };
    let deltas = match &base_state {
        BaseState::Found {
            sha,
            why,
            record,
            url,
        } => {
            tracing::info!("baseline: {sha}, {why}");
            Some(delta::compare(&ev, &changed, sha, why, url, record))
        }
        BaseState::Missing { why, api_failed } => {
            let level = if *api_failed {
                Level::Warning
            } else {
                Level::Notice
            };
            ctx.commands.annotation(&Annotation::general(
                level,
                "Coverage baseline",
                &format!("no comparison with the base: {why}"),
            ));
            None
        }
        BaseState::NotApplicable => None,
    };
    delta::checks(&mut ev, deltas.as_ref(), &cfg);
    let base_record = match &base_state {
        BaseState::Found { record, .. } => Some(record),
        _ => None,
    };
    let component_rows = components::rows(&cfg.components, &ev, base_record);
    ev.checks.extend(components::check(&component_rows));
    let component_table = components::table(&component_rows);
    let missing = match &base_state {
        BaseState::Missing { why, .. } => Some(why.as_str()),
        _ => None,
    };
    let view = render::Base {
        deltas: deltas.as_ref(),
        missing,
        changed: Some(&changed),
        components: &component_table,
    };
    // The record is built, encoded and freed on its own thread, beside the renders.
    let check_name = &ctx.check_name;
    let (mut outcome, encoded) = render::outcome_with(
        &mut ev,
        &merged,
        &diff,
        &cfg,
        view,
        CHECK_TEXT_BUDGET,
        |ev, summary| crate::baseline::encode(&delta::record(ev, check_name), record_room(summary)),
    );
    outcome
        .outputs
        .push(("components".into(), components::output(&component_rows)));
    attach_record(&mut outcome, encoded);
    if let (Some(pr), Some(gh)) = (pr, ctx.github.as_ref()) {
        let touched = !changed.is_empty()
            || outcome.verdict == Verdict::Fail
            || deltas
                .as_ref()
                .is_some_and(|d| d.lines != ev.lines || !d.indirect.is_empty());
        let body = comment_body(
            ctx,
            &ev,
            deltas.as_ref(),
            &changed,
            missing,
            outcome.verdict,
            &component_table,
        );
        let req = comment::Request {
            number: pr.number,
            check_name: &ctx.check_name,
            mode: cfg.comment,
            changed: touched,
            body: &body,
        };
        match comment::post(gh, &req).await {
            comment::Posted::Failed(why) => ctx.commands.warning("Coverage comment", &why),
            comment::Posted::Created(url) => tracing::info!("comment created: {url}"),
            comment::Posted::Updated(url) => tracing::info!("comment updated: {url}"),
            comment::Posted::Skipped => tracing::info!("no comment: nothing changed"),
        }
    }
    drop_later((merged, ev, diff));
    Ok(outcome)
}

/// Frees `value` on another thread: the gate's answer does not wait while a large
/// report's memory is handed back (the process usually exits before that is done).
fn drop_later<T: Send + 'static>(value: T) {
    // If no thread can be started, the closure (and `value`) is dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// The room for the baseline record in the check run's summary beside `summary`.
fn record_room(summary: &str) -> usize {
    CHECK_LIMIT.saturating_sub(summary.len() + 4096).min(60_000)
}

/// Leave this run's baseline record in the check run's summary: as much as fits beside
/// the summary ([`record_room`]), saying so when not every file did.
fn attach_record(outcome: &mut Outcome, enc: crate::baseline::Encoded) {
    if enc.block.is_empty() {
        outcome
            .summary
            .push_str("\nNo baseline record: the summary left no room for it in the check run.\n");
        return;
    }
    if enc.items < enc.items_total {
        outcome.summary.push_str(&format!(
            "\nThe baseline record for later runs holds the totals and {} of {} files (the check run's 65,535-character limit).\n",
            enc.items, enc.items_total
        ));
    }
    outcome.record = Some(enc.block);
}

fn comment_body(
    ctx: &Context,
    ev: &Evaluation,
    deltas: Option<&Deltas>,
    changed: &BTreeSet<String>,
    missing: Option<&str>,
    verdict: Verdict,
    components: &str,
) -> String {
    let marker = comment::marker(&ctx.check_name);
    let input = render::files::Input {
        ev,
        deltas,
        changed,
    };
    let cx = render::comment::Context {
        marker: &marker,
        check_name: &ctx.check_name,
        verdict,
        no_base: missing,
        check_run_url: ctx.check_run_url.as_deref(),
        components,
    };
    render::comment::body(ev, deltas, &input, &cx)
}

/// Merge parsed reports under repository paths.
fn merge_reports(parsed: Vec<(String, Report)>, paths: &PathMapper) -> Merged {
    let mut merged = Merger::default();
    for (shown, mut report) in parsed {
        merged.report(shown, report.format.to_string(), report.has_branch_data);
        let mapped = map_paths(paths, &report);
        for (f, m) in report.files.into_iter().zip(mapped) {
            let extras = report.extras.remove(&f.path).unwrap_or_default();
            match m {
                Mapped::Repo(p) => merged.add_with(p, f, extras, true),
                Mapped::Unmapped(p) => merged.add_with(p, f, extras, false),
            }
        }
    }
    merged.finish()
}

/// Each of the report's files mapped to the repository, in order. A report of thousands
/// of files is mapped on both cores, each half with its own mapper (a mapper's memo only
/// saves work: the halves give what one mapper gives).
fn map_paths(paths: &PathMapper, report: &Report) -> Vec<Mapped> {
    const BOTH_CORES_FROM: usize = 4096;
    let map = |files: &[model::FileReport]| {
        let mut mapper = paths.for_report(&report.sources);
        files
            .iter()
            .map(|f| mapper.map(&f.path))
            .collect::<Vec<_>>()
    };
    crate::in_halves(&report.files, BOTH_CORES_FROM, map)
}

#[cfg(test)]
mod tests {
    use super::model::{FileReport, Format, Report};
    use crate::paths::PathMapper;

    /// Mapped on both cores, a big report's files map as one mapper maps them, in order:
    /// absolute paths under the workspace, `<source>`-relative ones, suffixes of tracked
    /// files, repeats, and paths that match nothing.
    #[test]
    fn both_cores_map_as_one_mapper() {
        let tracked: Vec<String> = (0..3000)
            .map(|i| format!("src/m{}/f{i}.py", i % 7))
            .collect();
        let mapper = PathMapper::new("/ws", tracked, None, None);
        let files: Vec<FileReport> = (0..9000)
            .map(|i| FileReport {
                path: match i % 5 {
                    0 => format!("/ws/src/m{}/f{}.py", i % 7, i % 3000),
                    1 => format!("m{}/f{}.py", i % 7, i % 3000),
                    2 => format!("/elsewhere/build/src/m{}/f{}.py", i % 7, i % 3000),
                    3 => format!("gen/none{i}.py"),
                    _ => format!("src\\m{}\\f{}.py", i % 7, (i * 7) % 3000),
                },
                ..FileReport::default()
            })
            .collect();
        let report = Report {
            format: Format::Cobertura,
            origin: "coverage.xml".into(),
            sources: vec!["/ws/src".into()],
            files,
            has_branch_data: false,
            extras: Default::default(),
        };
        let mut one = mapper.for_report(&report.sources);
        let expected: Vec<_> = report.files.iter().map(|f| one.map(&f.path)).collect();
        let got = super::map_paths(&mapper, &report);
        assert_eq!(got, expected);
        assert!(
            got.iter()
                .any(|m| matches!(m, crate::paths::Mapped::Unmapped(_)))
        );
        assert!(
            got.iter()
                .any(|m| matches!(m, crate::paths::Mapped::Repo(_)))
        );
    }
}
