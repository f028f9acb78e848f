//! What people and workflows read of a coverage evaluation: the title, the summary (the
//! checks table and the notes under it), the per-file table, and the outputs. Pure:
//! evaluation in, [`Outcome`] out; no I/O and no evaluation (that is `evaluate.rs`).
//!
//! Every name here comes from the pull request (report paths, file names inside
//! reports), so each goes through [`crate::untrusted`]: `md_code(.., Md::Cell)` in table
//! cells, `md_code(.., Md::Prose)` in sentences. Nothing else escapes.

pub(crate) mod comment;
pub(crate) mod files;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::config::{Annotate, CoverageConfig, Metric, show_delta, show_percent};
use super::delta::Deltas;
use super::evaluate::{Check, DiffSource, DiffState, Evaluation};
use super::merge::Merged;
use crate::outcome::{Outcome, Verdict};
use crate::runner::summary::STEP_SUMMARY_LIMIT;
use crate::untrusted::{Md, md_code, md_text};

/// How many paths a list in the summary names before "and N more".
const LISTED: usize = 20;

fn pct((c, t): (u64, u64)) -> String {
    show_percent(c, t)
}

/// What the comparison with the base adds to an outcome.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Base<'a> {
    /// The comparison, when a baseline was found.
    pub deltas: Option<&'a Deltas>,
    /// Why there is no comparison (on a pull request without a baseline).
    pub missing: Option<&'a str>,
    /// Paths the change touched.
    pub changed: Option<&'a BTreeSet<String>>,
    /// The components table (empty without components).
    pub components: &'a str,
}

/// A check's threshold as people read it: `max-drop 0.5 points` for the drop, else
/// `threshold 80%`.
pub(super) fn threshold_text(check: &str, t: super::config::Percent) -> String {
    if check == super::delta::DROP_CHECK {
        format!("max-drop {} points", t.to_string().trim_end_matches('%'))
    } else {
        format!("threshold {t}")
    }
}

/// The verdict of an evaluation: any failed check fails it.
pub(crate) fn verdict(ev: &Evaluation) -> Verdict {
    if ev.checks.iter().any(|c| c.pass == Some(false)) {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
/// Turn an evaluation into the gate's outcome; the per-file tables of the check run stop
/// before `text_budget` bytes.
pub(crate) fn outcome(
    ev: &Evaluation,
    merged: &Merged,
    diff: &DiffState,
    cfg: &CoverageConfig,
    text_budget: usize,
) -> Outcome {
    let mut ev = ev.clone();
    outcome_with(
        &mut ev,
        merged,
        diff,
        cfg,
        Base::default(),
        text_budget,
        |_, _| (),
    )
    .0
}

/// [`outcome`] with the comparison against the base. `beside` runs on another core while
/// the per-file tables render, given the evaluation and the summary (the baseline record, whose room in the
/// check run is what the summary leaves). The evaluation's annotations move into the
/// outcome (thousands of them, not copied): `ev.annotations` is empty afterwards.
pub(crate) fn outcome_with<T: Send>(
    ev: &mut Evaluation,
    merged: &Merged,
    diff: &DiffState,
    cfg: &CoverageConfig,
    base: Base<'_>,
    text_budget: usize,
    beside: impl FnOnce(&Evaluation, &str) -> T + Send,
) -> (Outcome, T) {
    let mut summary = summary(ev, merged, diff, cfg);
    let annotations = std::mem::take(&mut ev.annotations);
    let ev = &*ev;
    let failed: Vec<&Check> = ev.checks.iter().filter(|c| c.pass == Some(false)).collect();
    let empty = BTreeSet::new();
    let input = files::Input {
        ev,
        deltas: base.deltas,
        changed: base.changed.unwrap_or(&empty),
    };
    summary.push_str(&base_paragraph(ev, base));
    if !base.components.is_empty() {
        summary.push('\n');
        summary.push_str(base.components);
    }
    // The job summary holds the title, the summary and notes too: keep 64 KiB for them.
    let long_budget = STEP_SUMMARY_LIMIT.saturating_sub(summary.len() + 65_536);
    // `beside` on its own core, beside the check run's tables and the job summary's.
    let (text, long, besides) = std::thread::scope(|s| {
        let besides = s.spawn(|| beside(ev, &summary));
        let (text, long) = tables(&input, text_budget, long_budget);
        (text, long, crate::joined(besides))
    });
    let mut outputs = outputs(ev);
    outputs.extend(super::delta::outputs(ev, base.deltas));
    let outcome = Outcome {
        verdict: verdict(ev),
        title: title(ev, &failed, base.deltas),
        summary,
        long_text: (long != text).then_some(long),
        text,
        record: None,
        annotations,
        outputs,
    };
    (outcome, besides)
}

/// The per-file tables within the check run's budget and the job summary's. A table
/// that fits the smaller budget whole is the same under the larger one, so it is
/// rendered once (a 600-file table: 0.7 ms less after the diff). One unlikely to fit it
/// (more rows than the smaller budget has `MIN_ROW` bytes for) is rendered under both
/// budgets at once, on two cores, as before.
fn tables(input: &files::Input<'_>, text_budget: usize, long_budget: usize) -> (String, String) {
    const MIN_ROW: usize = 48;
    let (small, large) = (text_budget.min(long_budget), text_budget.max(long_budget));
    let (small_text, large_text) = if input.ev.rows.len().saturating_mul(MIN_ROW) > small {
        std::thread::scope(|s| {
            let large = s.spawn(|| files::render(input, large, false));
            let small = files::render(input, small, false);
            (small, crate::joined(large))
        })
    } else {
        match files::render_whole(input, small, false) {
            (text, true) => (text.clone(), text),
            (text, false) => (text, files::render(input, large, false)),
        }
    };
    if text_budget <= long_budget {
        (small_text, large_text)
    } else {
        (large_text, small_text)
    }
}

/// The paragraph about the base: which commit, why, and the totals on both sides.
fn base_paragraph(ev: &Evaluation, base: Base<'_>) -> String {
    match (base.deltas, base.missing) {
        (Some(d), _) => {
            let mut s = format!(
                "\nCompared with {} ({}): line coverage {}% → {}% ({} points)",
                md_code(&d.sha, Md::Prose),
                md_text(&d.why),
                show_percent(d.lines.0, d.lines.1),
                pct(ev.lines),
                show_delta(d.lines, ev.lines),
            );
            if let (Some(b), Some(n)) = (d.branches, ev.branches) {
                let _ = write!(
                    s,
                    ", branch coverage {}% → {}% ({} points)",
                    show_percent(b.0, b.1),
                    pct(n),
                    show_delta(b, n)
                );
            }
            let _ = writeln!(
                s,
                "; {} changed files, {} indirect changes.",
                d.changed.len(),
                d.indirect.len()
            );
            if d.partial {
                s.push_str("The base record held only some files: per-file deltas are partial.\n");
            }
            s
        }
        (None, Some(why)) => format!("\nNo comparison with the base: {}.\n", md_text(why)),
        (None, None) => String::new(),
    }
}

/// One line: the headline number, the diff number, and which checks failed.
fn title(ev: &Evaluation, failed: &[&Check], deltas: Option<&Deltas>) -> String {
    let mut title = format!("Line coverage {}%", pct(ev.lines));
    if let Some(d) = deltas
        .map(|d| show_delta(d.lines, ev.lines))
        .filter(|d| !d.is_empty())
    {
        let _ = write!(title, " ({d})");
    }
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
            .map(|p| {
                if c.name == super::delta::DROP_CHECK {
                    threshold_text(c.name, p)
                } else {
                    p.to_string()
                }
            })
            .unwrap_or_else(|| "—".into());
        let _ = writeln!(
            summary,
            "| {} | {} | {th} | {result} |",
            c.name,
            md_text(&c.measured)
        );
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
        let from = match source {
            DiffSource::Git { range } => md_code(&format!("git diff {range}"), Md::Prose),
            DiffSource::PullRequestFiles { number } => {
                format!("the pull request files API (#{number})")
            }
        };
        let _ = write!(summary, " Changed lines from {from}.");
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
                .map(|r| crate::untrusted::list_item(&r.path))
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
