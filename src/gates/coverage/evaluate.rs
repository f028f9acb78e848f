//! Pure evaluation: merged coverage + changed lines + configuration → checks, per-file
//! numbers and annotations. No I/O, and no text for people beyond the checks' own
//! measured values (the markdown and the outputs are `render.rs`'s).

use std::fmt::Write as _;

use super::config::{Annotate, CoverageConfig, Metric, Percent, show_percent};
use super::diff::ChangedLines;
use super::merge::Merged;
use super::model::Line;
use crate::outcome::{Annotation, Level};

/// Whether changed lines are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DiffState {
    /// Diff coverage is off, and why (plain text; it can quote `base-ref` or an API
    /// error, so it is rendered through `crate::untrusted`).
    Off(String),
    /// Changed lines, and where they came from.
    Available {
        /// Added lines per path.
        lines: ChangedLines,
        /// Where they came from.
        source: DiffSource,
        /// Changed files whose patch was not available (too large, binary).
        unknown: Vec<String>,
    },
}

/// Where the changed lines came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DiffSource {
    /// `git diff <range>` in the workspace.
    Git {
        /// `<base>...HEAD`.
        range: String,
    },
    /// The pull-request files API.
    PullRequestFiles {
        /// The pull request's number.
        number: u64,
    },
}

/// Counts for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRow {
    /// Path.
    pub path: String,
    /// Executable lines covered.
    pub covered: u64,
    /// Executable lines.
    pub total: u64,
    /// Branches covered / total (0/0 when none).
    pub branches: (u64, u64),
    /// Go statements covered / total (0/0 when none).
    pub statements: (u64, u64),
    /// Changed executable lines covered / total, when the file changed.
    pub diff: Option<(u64, u64)>,
    /// Below `file-threshold`.
    pub below: bool,
}

/// One policy's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    /// Name.
    pub name: &'static str,
    /// Shown value.
    pub measured: String,
    /// Threshold.
    pub threshold: Option<Percent>,
    /// `Some(true)` pass, `Some(false)` fail, `None` not enforced.
    pub pass: Option<bool>,
}

/// The data a threshold needs is missing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MissingData {
    /// Branch threshold without branch data.
    #[error(
        "branch-threshold is {0} but the reports have no branch data (absent branch data is not 0%)"
    )]
    Branches(Percent),
    /// Threshold on an empty report.
    #[error("the reports have no executable lines, so {0} cannot be checked")]
    Lines(&'static str),
    /// `coverage-metric: statements` without a Go profile.
    #[error(
        "coverage-metric is statements but no report is a Go profile (only Go profiles count statements)"
    )]
    Statements,
}

/// The gate's decision with everything needed to report it.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    /// Checks in display order.
    pub checks: Vec<Check>,
    /// Per-file rows, changed files first, worst first.
    pub rows: Vec<FileRow>,
    /// Totals.
    pub lines: (u64, u64),
    /// Branch totals, `None` when not measured.
    pub branches: Option<(u64, u64)>,
    /// Go statement totals, `None` without Go profiles.
    pub statements: Option<(u64, u64)>,
    /// What `threshold` measured.
    pub metric: Metric,
    /// Files whose report has no per-line hits (gcovr JaCoCo): totals only.
    pub no_per_line: Vec<String>,
    /// Diff totals, `None` when diff coverage is off.
    pub diff: Option<(u64, u64)>,
    /// Annotations (uncovered ranges).
    pub annotations: Vec<Annotation>,
}

/// Selected uncovered lines grouped into ranges: contiguous, or separated only by lines
/// the report does not list (non-executable). Fed a line at a time, in ascending order.
#[derive(Default)]
struct Ranges {
    out: Vec<(u32, u32)>,
    open: Option<(u32, u32)>,
}

impl Ranges {
    /// The next line (in ascending order), and whether it is asked about.
    fn line(&mut self, l: &Line, selected: bool) {
        if !l.covered && selected {
            self.open = Some(match self.open {
                Some((s, _)) => (s, l.line),
                None => (l.line, l.line),
            });
        } else if let Some(r) = self.open.take() {
            self.out.push(r);
        }
    }

    fn finish(mut self) -> Vec<(u32, u32)> {
        self.out.extend(self.open);
        self.out
    }
}

/// Membership in a sorted set for lines asked in ascending order: a walk along the set,
/// not a lookup per line.
struct Ascending<'a> {
    it: std::iter::Peekable<std::collections::btree_set::Iter<'a, u32>>,
}

impl<'a> Ascending<'a> {
    fn new(set: &'a std::collections::BTreeSet<u32>) -> Self {
        Self {
            it: set.iter().peekable(),
        }
    }

    /// Whether `line` is in the set; `line` must not be below the one asked before.
    fn has(&mut self, line: u32) -> bool {
        while let Some(&&n) = self.it.peek() {
            if n >= line {
                return n == line;
            }
            self.it.next();
        }
        false
    }
}

/// What one file adds to an evaluation.
struct FilePart {
    counts: super::extras::FileCounts,
    /// Changed executable lines covered / total, when the file changed.
    diff: Option<(u64, u64)>,
    row: FileRow,
    annotations: Vec<Annotation>,
}

/// How many files a report needs before its files are evaluated on both cores (a
/// thread's start costs about what a hundred files do).
const BOTH_CORES_FROM: usize = 256;

/// Evaluate.
pub(crate) fn evaluate(
    merged: &Merged,
    diff: &DiffState,
    cfg: &CoverageConfig,
) -> Result<Evaluation, MissingData> {
    evaluate_from(merged, diff, cfg, BOTH_CORES_FROM)
}

/// [`evaluate`], its files on both cores from `both_cores_from` files on.
fn evaluate_from(
    merged: &Merged,
    diff: &DiffState,
    cfg: &CoverageConfig,
    both_cores_from: usize,
) -> Result<Evaluation, MissingData> {
    let changed: Option<&ChangedLines> = match diff {
        DiffState::Available { lines, .. } => Some(lines),
        DiffState::Off(_) => None,
    };
    let mut lines = (0u64, 0u64);
    let mut branches = (0u64, 0u64);
    let mut diff_tot = (0u64, 0u64);
    let mut statements = (0u64, 0u64);
    let mut no_per_line = Vec::new();
    let (metric, go) = super::metric::resolve(cfg.metric, &merged.reports)?;
    let mut rows = Vec::with_capacity(merged.files.len());
    let mut annotations = Vec::new();
    // Each file on its own, on both cores for a big report; summed in path order.
    let files: Vec<(&String, &super::model::FileReport)> = merged.files.iter().collect();
    let parts = crate::in_halves(&files, both_cores_from, |files| {
        files
            .iter()
            .map(|(path, f)| file_part(path, f, merged, changed, cfg, metric))
            .collect()
    });
    for part in parts {
        let counts = part.counts;
        lines.0 += counts.lines.0;
        lines.1 += counts.lines.1;
        branches.0 += counts.branches.0;
        branches.1 += counts.branches.1;
        statements.0 += counts.statements.0;
        statements.1 += counts.statements.1;
        if !counts.per_line_hits {
            no_per_line.push(part.row.path.clone());
        }
        if let Some(d) = part.diff {
            diff_tot.0 += d.0;
            diff_tot.1 += d.1;
        }
        rows.push(part.row);
        annotations.extend(part.annotations);
    }
    let has_branches = merged.has_branch_data && branches.1 > 0;
    let line_threshold = cfg.threshold.filter(|_| metric == Metric::Lines);
    let mut checks = Vec::new();
    let measured = |c: u64, t: u64, unit: &str| format!("{}% ({c}/{t} {unit})", show_percent(c, t));
    if lines.1 == 0 && (cfg.threshold.is_some() || cfg.file_threshold.is_some()) {
        return Err(MissingData::Lines(if cfg.threshold.is_some() {
            "threshold"
        } else {
            "file-threshold"
        }));
    }
    checks.push(Check {
        name: "Line coverage",
        measured: if lines.1 == 0 {
            "no executable lines".into()
        } else {
            measured(lines.0, lines.1, "lines")
        },
        threshold: line_threshold,
        pass: line_threshold.map(|p| p.met_by(lines.0, lines.1)),
    });
    if go {
        let threshold = cfg.threshold.filter(|_| metric == Metric::Statements);
        checks.push(super::metric::statement_check(statements, threshold));
    }
    match (has_branches, cfg.branch_threshold) {
        (false, Some(p)) => return Err(MissingData::Branches(p)),
        (true, p) => checks.push(Check {
            name: "Branch coverage",
            measured: measured(branches.0, branches.1, "branches"),
            threshold: p,
            pass: p.map(|p| p.met_by(branches.0, branches.1)),
        }),
        (false, None) => checks.push(Check {
            name: "Branch coverage",
            measured: "not measured".into(),
            threshold: None,
            pass: None,
        }),
    }
    let diff_measured = match diff {
        DiffState::Off(why) => format!("off: {why}"),
        DiffState::Available { .. } if diff_tot.1 == 0 => "no changed executable lines".into(),
        DiffState::Available { .. } => measured(diff_tot.0, diff_tot.1, "changed lines"),
    };
    checks.push(Check {
        name: "Diff coverage",
        measured: diff_measured,
        threshold: cfg.diff_threshold,
        // No changed executable lines: nothing to hold to the threshold.
        pass: match diff {
            DiffState::Available { .. } => cfg
                .diff_threshold
                .map(|p| diff_tot.1 == 0 || p.met_by(diff_tot.0, diff_tot.1)),
            DiffState::Off(_) => None,
        },
    });
    if let Some(p) = cfg.file_threshold {
        let below = rows.iter().filter(|r| r.below).count();
        checks.push(Check {
            name: "Every file",
            measured: format!(
                "{below} of {} files below",
                rows.iter()
                    .filter(|r| match metric {
                        Metric::Statements => r.statements.1 > 0,
                        _ => r.total > 0,
                    })
                    .count()
            ),
            threshold: Some(p),
            pass: Some(below == 0),
        });
    }
    // Changed files first, then worst coverage first, then path.
    rows.sort_by(|a, b| {
        b.diff
            .is_some()
            .cmp(&a.diff.is_some())
            .then_with(|| {
                let ra = u128::from(a.covered) * u128::from(b.total.max(1));
                let rb = u128::from(b.covered) * u128::from(a.total.max(1));
                ra.cmp(&rb)
            })
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(Evaluation {
        checks,
        rows,
        lines,
        branches: has_branches.then_some(branches),
        statements: go.then_some(statements),
        metric,
        no_per_line,
        diff: changed.map(|_| diff_tot),
        annotations,
    })
}

/// One file's counts, row and annotations.
fn file_part(
    path: &str,
    f: &super::model::FileReport,
    merged: &Merged,
    changed: Option<&ChangedLines>,
    cfg: &CoverageConfig,
    metric: Metric,
) -> FilePart {
    let counts = super::extras::counts(&f.lines, merged.extras.get(path));
    let (c, t) = counts.lines;
    // Without per-line hits the file has no changed or uncovered lines to show.
    let file_changed = changed
        .filter(|_| counts.per_line_hits)
        .and_then(|ch| ch.get(path));
    // Which uncovered lines are annotated: none, the changed ones or all.
    let (annotated, all) = match (cfg.annotate, file_changed) {
        (Annotate::None, _) | (Annotate::Changed, None) => (false, false),
        (Annotate::All, _) => (counts.per_line_hits, true),
        (Annotate::Changed, Some(_)) => (true, false),
    };
    // One walk along the lines for the changed lines' counts and the ranges.
    let mut fdiff = file_changed.map(|_| (0u64, 0u64));
    let mut ranges = Ranges::default();
    if fdiff.is_some() || annotated {
        let mut set = file_changed.map(Ascending::new);
        for l in f.lines.iter() {
            let changed = set.as_mut().is_some_and(|s| s.has(l.line));
            if changed && let Some(d) = fdiff.as_mut() {
                d.1 += 1;
                d.0 += u64::from(l.covered);
            }
            if annotated {
                ranges.line(&l, all || changed);
            }
        }
    }
    let ranges = ranges.finish();
    let (mc, mt) = match metric {
        Metric::Statements => counts.statements,
        _ => (c, t),
    };
    let below = mt > 0 && cfg.file_threshold.is_some_and(|p| !p.met_by(mc, mt));
    let row = FileRow {
        path: path.to_owned(),
        covered: c,
        total: t,
        branches: counts.branches,
        statements: counts.statements,
        diff: fdiff.filter(|d| d.1 > 0),
        below,
    };
    // GitHub cannot place annotations on files it does not know.
    let annotations = if merged.unmapped.contains(path) {
        Vec::new()
    } else {
        uncovered_annotations(path, &ranges, file_changed.is_some())
    };
    FilePart {
        counts,
        diff: fdiff,
        row,
        annotations,
    }
}

/// The annotations of one file's uncovered `ranges`.
fn uncovered_annotations(path: &str, ranges: &[(u32, u32)], changed: bool) -> Vec<Annotation> {
    let changed_note = if changed {
        " (changed in this pull request)"
    } else {
        ""
    };
    ranges
        .iter()
        .map(|&(s, e)| {
            // One allocation for the message: thousands of them on a big change.
            let mut message = String::with_capacity(72);
            let _ = if s == e {
                write!(message, "Line {s} is")
            } else {
                write!(message, "Lines {s}-{e} are")
            };
            message.push_str(" not covered by tests");
            message.push_str(changed_note);
            message.push('.');
            Annotation {
                path: Some(path.to_owned()),
                start_line: Some(s),
                end_line: Some(e),
                level: Level::Warning,
                title: Some("Not covered by tests".into()),
                message,
                // Changed code first, then longer gaps.
                priority: i64::from(e - s + 1) + if changed { 1 << 32 } else { 0 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
