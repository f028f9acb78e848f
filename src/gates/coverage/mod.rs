//! Coverage gate: read coverage reports, enforce total, branch, per-file and diff
//! thresholds, annotate uncovered changed lines. `run` is the gate's story: find and
//! parse reports (`files`), learn the changed lines (`changes`), map and merge
//! (`paths`, `merge`), evaluate (`evaluate`), render (`render`). This file, `files` and
//! `changes` do the I/O (files, git, the GitHub API); every other file is pure.

mod changes;
pub mod config;
pub mod diff;
mod error;
pub mod evaluate;
pub mod extras;
mod files;
pub mod merge;
pub mod metric;
pub mod model;
pub mod parse;
pub mod render;

use crate::gates::Context;
use crate::outcome::Outcome;
use crate::paths::{Mapped, PathMapper};
use crate::runner::inputs::RawInputs;
use crate::spec::{InputSpec, OutputSpec};
use changes::changed_lines;
use config::CoverageConfig;
use evaluate::DiffState;
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

pub use error::Error;

/// Run the coverage gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = CoverageConfig::try_from(raw)?;
    let ws = ctx.workspace.clone();
    let reports = find_reports(&ws, &cfg.files, cfg.default_files)?;
    // Parsing (CPU, one thread per report up to the cores) runs while git lists the
    // tracked files and the changed lines are fetched (processes, network).
    let forced = cfg.format;
    let ws_for_names = ws.clone();
    let parsing = tokio::task::spawn_blocking(move || parse_all(&reports, forced, &ws_for_names));
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
