//! The change against the base: this run's evaluation beside the baseline record read from
//! the merge-base's check run. Totals and their deltas, per-file deltas for the files the
//! change touched, and "indirect changes" (files outside the diff whose numbers moved)
//! listed apart so a swing is explained, not hidden. Also the record this run leaves for
//! later runs, and the `max-drop` / `baseline-required` checks. Pure: values in, values out.

use std::collections::{BTreeSet, HashMap};

use super::config::{CoverageConfig, show_delta, show_percent};
use super::evaluate::{Check, Evaluation};
use crate::baseline::{Item, Record};

/// The name of the `max-drop` check.
pub(crate) const DROP_CHECK: &str = "Line coverage drop";

/// The gate name in records.
pub(crate) const KIND: &str = "coverage";

pub(crate) use crate::base_commit::BaseState;

/// A file's numbers on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileDelta {
    /// Repository path.
    pub path: String,
    /// Lines on the base (`None`: not in the base record).
    pub base: Option<(u64, u64)>,
    /// Lines now (`None`: no longer reported).
    pub now: Option<(u64, u64)>,
}

/// Everything compared with the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deltas {
    /// The base commit.
    pub sha: String,
    /// Which commit and why.
    pub why: String,
    /// The base check run.
    pub url: String,
    /// Line totals on the base.
    pub lines: (u64, u64),
    /// Branch totals on the base, when measured.
    pub branches: Option<(u64, u64)>,
    /// Changed files (in the diff).
    pub changed: Vec<FileDelta>,
    /// Files outside the diff whose numbers moved.
    pub indirect: Vec<FileDelta>,
    /// The base record held only some files (per-file deltas are partial).
    pub partial: bool,
}

/// The record this run leaves in its check run: line and branch totals, per file.
pub(crate) fn record(ev: &Evaluation, check: &str) -> Record {
    // In path order (paths are unique): the rows sorted by reference, then copied once.
    let mut rows: Vec<&super::evaluate::FileRow> = ev.rows.iter().collect();
    rows.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    let items: Vec<Item> = rows
        .into_iter()
        .map(|r| Item {
            name: r.path.clone(),
            counts: vec![(r.covered, r.total), r.branches],
        })
        .collect();
    Record {
        kind: KIND.into(),
        check: check.into(),
        counters: vec!["lines".into(), "branches".into()],
        totals: vec![ev.lines, ev.branches.unwrap_or((0, 0))],
        items_total: items.len() as u64,
        items,
    }
}

/// Compare with the base; `changed` holds the paths the diff touched (empty without one).
pub(crate) fn compare(
    ev: &Evaluation,
    changed: &BTreeSet<String>,
    sha: &str,
    why: &str,
    url: &str,
    base: &Record,
) -> Deltas {
    let was: HashMap<&str, (u64, u64)> = base
        .items
        .iter()
        .filter_map(|i| Some((i.name.as_str(), *i.counts.first()?)))
        .collect();
    let partial = !base.complete();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let (mut direct, mut indirect) = (Vec::new(), Vec::new());
    for r in &ev.rows {
        seen.insert(&r.path);
        let d = FileDelta {
            path: r.path.clone(),
            base: was.get(r.path.as_str()).copied(),
            now: Some((r.covered, r.total)),
        };
        if changed.contains(&r.path) {
            direct.push(d);
        } else if d.base.is_some_and(|b| b != (r.covered, r.total))
            || (d.base.is_none() && !partial)
        {
            indirect.push(d);
        }
    }
    for (path, b) in &was {
        if !seen.contains(path) {
            let d = FileDelta {
                path: (*path).to_owned(),
                base: Some(*b),
                now: None,
            };
            if changed.contains(*path) {
                direct.push(d);
            } else {
                indirect.push(d);
            }
        }
    }
    indirect.sort_by(|a, b| a.path.cmp(&b.path));
    direct.sort_by(|a, b| a.path.cmp(&b.path));
    let branches = base.total("branches").filter(|b| b.1 > 0);
    Deltas {
        sha: sha.to_owned(),
        why: why.to_owned(),
        url: url.to_owned(),
        lines: base.total("lines").unwrap_or((0, 0)),
        branches,
        changed: direct,
        indirect,
        partial,
    }
}

/// The `max-drop` and `baseline-required` checks, appended to `ev.checks`.
pub(crate) fn checks(ev: &mut Evaluation, deltas: Option<&Deltas>, cfg: &CoverageConfig) {
    match deltas {
        Some(d) => {
            if let Some(max) = cfg.max_drop {
                let dropped = max.dropped_more_than(d.lines, ev.lines);
                ev.checks.push(Check {
                    name: DROP_CHECK,
                    measured: format!(
                        "{} points ({}% → {}%)",
                        show_delta(d.lines, ev.lines),
                        show_percent(d.lines.0, d.lines.1),
                        show_percent(ev.lines.0, ev.lines.1)
                    ),
                    threshold: Some(max),
                    pass: Some(!dropped),
                });
            }
        }
        None if cfg.baseline_required => ev.checks.push(Check {
            name: "Baseline",
            measured: "none found".into(),
            threshold: None,
            pass: Some(false),
        }),
        None => {}
    }
}

/// The outputs about the base: `base-sha`, `base-line-coverage`, `line-coverage-delta`,
/// `base-branch-coverage`, `branch-coverage-delta` (empty without a base).
pub(crate) fn outputs(ev: &Evaluation, deltas: Option<&Deltas>) -> Vec<(String, String)> {
    let pct = |v: Option<(u64, u64)>| v.map(|v| show_percent(v.0, v.1)).unwrap_or_default();
    let delta = |b: Option<(u64, u64)>, n: Option<(u64, u64)>| match (b, n) {
        (Some(b), Some(n)) => show_delta(b, n),
        _ => String::new(),
    };
    let b_lines = deltas.map(|d| d.lines);
    let b_branches = deltas.and_then(|d| d.branches);
    vec![
        (
            "base-sha".into(),
            deltas.map(|d| d.sha.clone()).unwrap_or_default(),
        ),
        ("base-line-coverage".into(), pct(b_lines)),
        ("line-coverage-delta".into(), delta(b_lines, Some(ev.lines))),
        ("base-branch-coverage".into(), pct(b_branches)),
        (
            "branch-coverage-delta".into(),
            delta(b_branches, ev.branches),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::coverage::config::Metric;
    use crate::gates::coverage::evaluate::FileRow;

    fn row(path: &str, covered: u64, total: u64) -> FileRow {
        FileRow {
            path: path.into(),
            covered,
            total,
            branches: (0, 0),
            statements: (0, 0),
            diff: None,
            below: false,
        }
    }

    fn ev(rows: Vec<FileRow>) -> Evaluation {
        let lines = rows
            .iter()
            .fold((0, 0), |a, r| (a.0 + r.covered, a.1 + r.total));
        Evaluation {
            checks: vec![],
            rows,
            lines,
            branches: None,
            statements: None,
            metric: Metric::Lines,
            no_per_line: vec![],
            diff: None,
            annotations: vec![],
        }
    }

    #[test]
    fn changed_and_indirect_files_are_apart() {
        let base = record(
            &ev(vec![
                row("a.rs", 5, 10),
                row("b.rs", 8, 10),
                row("c.rs", 1, 1),
                row("gone.rs", 1, 2),
            ]),
            "cov",
        );
        let now = ev(vec![
            row("a.rs", 9, 10),
            row("b.rs", 7, 10),
            row("c.rs", 1, 1),
            row("new.rs", 0, 3),
        ]);
        let changed = BTreeSet::from(["a.rs".to_owned(), "new.rs".to_owned()]);
        let d = compare(&now, &changed, "abc", "the merge-base", "u", &base);
        let names = |v: &[FileDelta]| v.iter().map(|d| d.path.clone()).collect::<Vec<_>>();
        assert_eq!(names(&d.changed), ["a.rs", "new.rs"]);
        assert_eq!(d.changed[1].base, None);
        assert_eq!(names(&d.indirect), ["b.rs", "gone.rs"], "c.rs did not move");
        assert_eq!(d.lines, (15, 23));
        let outs = outputs(&now, Some(&d));
        assert_eq!(outs[0], ("base-sha".into(), "abc".into()));
        assert_eq!(outs[1], ("base-line-coverage".into(), "65.21".into()));
        assert_eq!(outs[2], ("line-coverage-delta".into(), "+5.61".into()));
        assert_eq!(outs[3].1, "", "no branch data");
    }

    #[test]
    fn max_drop_and_baseline_required() {
        let cfg = |pairs: &[(&str, &str)]| {
            CoverageConfig::try_from(&crate::runner::inputs::RawInputs::from_named(
                pairs.iter().copied(),
            ))
            .unwrap()
        };
        let base = record(&ev(vec![row("a.rs", 80, 100)]), "cov");
        for (now, max, pass) in [(80, "0", true), (79, "0", false), (79, "1", true)] {
            let mut e = ev(vec![row("a.rs", now, 100)]);
            let d = compare(&e, &BTreeSet::new(), "s", "w", "u", &base);
            checks(&mut e, Some(&d), &cfg(&[("max-drop", max)]));
            assert_eq!(e.checks[0].pass, Some(pass), "{now} {max}");
        }
        let mut e = ev(vec![row("a.rs", 1, 2)]);
        checks(&mut e, None, &cfg(&[("max-drop", "0")]));
        assert!(e.checks.is_empty(), "no baseline: max-drop passes");
        checks(&mut e, None, &cfg(&[("baseline-required", "true")]));
        assert_eq!(e.checks[0].pass, Some(false));
    }
}
