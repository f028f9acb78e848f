//! What people and workflows read of a coverage evaluation: the title, the summary (the
//! checks table and the notes under it), the per-file table, and the outputs. Pure:
//! evaluation in, [`Outcome`] out; no I/O and no evaluation (that is `evaluate.rs`).
//!
//! Every name here comes from the pull request (report paths, file names inside
//! reports), so each goes through [`crate::untrusted`]: `md_code(.., Md::Cell)` in table
//! cells, `md_code(.., Md::Prose)` in sentences. Nothing else escapes.

use std::fmt::Write as _;

use super::config::{Annotate, CoverageConfig, Metric, show_percent};
use super::evaluate::{Check, DiffState, Evaluation, FileRow};
use super::merge::Merged;
use crate::outcome::{Outcome, Verdict};
use crate::untrusted::{Md, md_code};

/// How many paths a list in the summary names before "and N more".
const LISTED: usize = 20;

fn pct((c, t): (u64, u64)) -> String {
    show_percent(c, t)
}

/// Turn an evaluation into the gate's outcome; the per-file table stops before
/// `text_budget` bytes.
pub fn outcome(
    ev: &Evaluation,
    merged: &Merged,
    diff: &DiffState,
    cfg: &CoverageConfig,
    text_budget: usize,
) -> Outcome {
    let failed: Vec<&Check> = ev.checks.iter().filter(|c| c.pass == Some(false)).collect();
    Outcome {
        verdict: if failed.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        title: title(ev, &failed),
        summary: summary(ev, merged, diff, cfg),
        text: file_table(ev, text_budget),
        annotations: ev.annotations.clone(),
        outputs: outputs(ev),
    }
}

/// One line: the headline number, the diff number, and which checks failed.
fn title(ev: &Evaluation, failed: &[&Check]) -> String {
    let mut title = format!("Line coverage {}%", pct(ev.lines));
    if ev.lines.1 == 0 {
        title = "No executable lines".into();
    }
    if let (Metric::Statements, Some(s)) = (ev.metric, ev.statements.filter(|s| s.1 > 0)) {
        title = format!("Statement coverage {}%", pct(s));
    }
    if let Some(d) = ev.diff.filter(|d| d.1 > 0) {
        let _ = write!(title, ", diff coverage {}%", pct(d));
    }
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|c| c.name).collect();
        let _ = write!(
            title,
            ": below threshold ({})",
            names.join(", ").to_lowercase()
        );
    }
    title
}

/// Paths as code spans joined with ", ": the first [`LISTED`], then " and N more".
fn some_of<'a>(paths: impl ExactSizeIterator<Item = &'a String>) -> String {
    let more = paths.len().saturating_sub(LISTED);
    let mut s = paths
        .take(LISTED)
        .map(|p| md_code(p, Md::Prose))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        let _ = write!(s, " and {more} more");
    }
    s
}

/// The checks table, then what was read, what could not be mapped and what was
/// annotated.
fn summary(ev: &Evaluation, merged: &Merged, diff: &DiffState, cfg: &CoverageConfig) -> String {
    let mut summary =
        String::from("| Check | Measured | Threshold | Result |\n|---|---|---|---|\n");
    for c in &ev.checks {
        let result = match c.pass {
            Some(true) => "✅ pass",
            Some(false) => "❌ fail",
            None => "—",
        };
        let th = c
            .threshold
            .map(|p| p.to_string())
            .unwrap_or_else(|| "—".into());
        let _ = writeln!(summary, "| {} | {} | {th} | {result} |", c.name, c.measured);
    }
    let reports: Vec<String> = merged
        .reports
        .iter()
        .map(|(p, f)| format!("{} ({f})", md_code(p, Md::Prose)))
        .collect();
    let _ = write!(summary, "\nReports: {}.", reports.join(", "));
    if let DiffState::Available {
        source, unknown, ..
    } = diff
    {
        let _ = write!(summary, " Changed lines from {source}.");
        if !unknown.is_empty() {
            let _ = write!(
                summary,
                " {} changed files had no patch (binary or too large) and were left out of diff coverage.",
                unknown.len()
            );
        }
    }
    summary.push('\n');
    if !merged.unmapped.is_empty() {
        let _ = writeln!(
            summary,
            "\n{} report paths did not match a file in the repository (set `path-prefix` or `source-root`): {}",
            merged.unmapped.len(),
            some_of(merged.unmapped.iter()),
        );
    }
    summary.extend(no_per_line_note(&ev.no_per_line));
    let annotated = ev.annotations.len();
    if annotated > 0 {
        let _ = writeln!(
            summary,
            "\n{annotated} uncovered ranges annotated ({}).",
            match cfg.annotate {
                Annotate::Changed => "changed lines",
                Annotate::All => "all lines",
                Annotate::None => "none",
            }
        );
    }
    summary
}

/// The paragraph naming files whose report has no per-line hits (gcovr's JaCoCo).
fn no_per_line_note(paths: &[String]) -> Option<String> {
    if paths.is_empty() {
        return None;
    }
    Some(format!(
        "\n{} files have no per-line data in their report (gcovr's JaCoCo writes none; its Cobertura or LCOV output has it): their totals come from the report's counters, and they get no annotations and no diff coverage: {}\n",
        paths.len(),
        some_of(paths.iter()),
    ))
}

/// The per-file table, changed and worst files first, cut before `budget` bytes.
fn file_table(ev: &Evaluation, budget: usize) -> String {
    let has_diff = ev.rows.iter().any(|r| r.diff.is_some());
    let stmt_col = ev.statements.is_some();
    let branch_col = ev.branches.is_some();
    let col = |on: bool, head: &'static str| if on { head } else { "" };
    let mut text = format!(
        "| File | Lines | Line % |{}{}{}\n|---|---|---|{}{}{}\n",
        col(stmt_col, " Statement % |"),
        col(branch_col, " Branch % |"),
        col(has_diff, " Changed lines covered |"),
        col(stmt_col, "---|"),
        col(branch_col, "---|"),
        col(has_diff, "---|"),
    );
    let mut shown = 0;
    for r in &ev.rows {
        let row = file_row(r, stmt_col, branch_col, has_diff);
        if text.len() + row.len() > budget {
            break;
        }
        text.push_str(&row);
        shown += 1;
    }
    if shown < ev.rows.len() {
        let _ = writeln!(
            text,
            "\n… and {} more files (worst and changed files are listed first).",
            ev.rows.len() - shown
        );
    }
    text
}

/// `—` for nothing measured, else the percentage.
fn pct_or_dash(v: (u64, u64)) -> String {
    if v.1 == 0 {
        "—".into()
    } else {
        format!("{}%", pct(v))
    }
}

fn file_row(r: &FileRow, stmt_col: bool, branch_col: bool, has_diff: bool) -> String {
    let mut row = format!(
        "| {}{} | {}/{} | {} |",
        md_code(&r.path, Md::Cell),
        if r.below { " ⚠️" } else { "" },
        r.covered,
        r.total,
        pct_or_dash((r.covered, r.total)),
    );
    if stmt_col {
        let _ = write!(row, " {} |", pct_or_dash(r.statements));
    }
    if branch_col {
        let _ = write!(row, " {} |", pct_or_dash(r.branches));
    }
    if has_diff {
        let _ = write!(
            row,
            " {} |",
            r.diff
                .map_or_else(|| "—".into(), |d| format!("{}/{} ({}%)", d.0, d.1, pct(d)))
        );
    }
    row.push('\n');
    row
}

/// The gate's outputs: every number, empty when not measured.
fn outputs(ev: &Evaluation) -> Vec<(String, String)> {
    let opt = |v: Option<(u64, u64)>, f: fn((u64, u64)) -> String| v.map(f).unwrap_or_default();
    let outputs: Vec<(String, String)> = vec![
        ("line-coverage".to_owned(), pct(ev.lines)),
        ("lines-covered".to_owned(), ev.lines.0.to_string()),
        ("lines-total".to_owned(), ev.lines.1.to_string()),
        ("branch-coverage".to_owned(), opt(ev.branches, pct)),
        (
            "branches-covered".to_owned(),
            opt(ev.branches, |b| b.0.to_string()),
        ),
        (
            "branches-total".to_owned(),
            opt(ev.branches, |b| b.1.to_string()),
        ),
        ("diff-coverage".to_owned(), opt(ev.diff, pct)),
        (
            "diff-lines-covered".to_owned(),
            opt(ev.diff, |d| d.0.to_string()),
        ),
        (
            "diff-lines-total".to_owned(),
            opt(ev.diff, |d| d.1.to_string()),
        ),
        (
            "files-below-threshold".to_owned(),
            ev.rows
                .iter()
                .filter(|r| r.below)
                .map(|r| r.path.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ];
    outputs
        .into_iter()
        .chain(super::metric::outputs(ev.statements))
        .collect()
}

#[cfg(test)]
mod tests;
