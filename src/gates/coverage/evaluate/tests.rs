//! Evaluation tests: totals, thresholds, ranges, and one core against two.

use super::*;
use std::collections::BTreeSet;

use crate::gates::coverage::merge::{Merged, Merger};
use crate::gates::coverage::model::{FileReport, LineRecord, Lines};
use crate::runner::inputs::RawInputs;

fn rec(line: u32, hits: u32) -> LineRecord {
    LineRecord::new(line, hits)
}

fn lines(recs: &[LineRecord]) -> Lines {
    recs.iter().copied().collect()
}

#[test]
fn ranges_span_non_executable_lines_but_not_covered_ones() {
    let recs = [
        rec(1, 0),
        rec(2, 0),
        rec(5, 0),
        rec(6, 3),
        rec(7, 0),
        rec(10, 0),
    ];
    let lines = lines(&recs);
    let ranges = |selected: &dyn Fn(&Line) -> bool| {
        let mut r = Ranges::default();
        for l in &lines {
            r.line(&l, selected(&l));
        }
        r.finish()
    };
    assert_eq!(ranges(&|_| true), vec![(1, 5), (7, 10)]);
    assert_eq!(ranges(&|l| l.line != 2), vec![(1, 1), (5, 5), (7, 10)]);
}

fn cfg(pairs: &[(&str, &str)]) -> CoverageConfig {
    CoverageConfig::try_from(&RawInputs::from_named(pairs.iter().copied())).unwrap()
}

fn merged() -> Merged {
    let mut m = Merger::default();
    m.add(
        "a.py".into(),
        FileReport {
            path: "a.py".into(),
            lines: lines(&[rec(1, 1), rec(2, 0), rec(3, 0), rec(4, 1)]),
        },
        true,
    );
    m.add(
        "b.py".into(),
        FileReport {
            path: "b.py".into(),
            lines: lines(&[rec(1, 1), rec(2, 1)]),
        },
        true,
    );
    // b.py again from another report: line 3 new, line 2 uncovered there but covered here
    m.add(
        "b.py".into(),
        FileReport {
            path: "x".into(),
            lines: lines(&[rec(2, 0), rec(3, 0)]),
        },
        true,
    );
    m.finish()
}

#[test]
fn totals_thresholds_and_diff() {
    let m = merged();
    let diff = DiffState::Available {
        lines: ChangedLines::from([("a.py".into(), BTreeSet::from([2, 3, 4, 9]))]),
        source: DiffSource::Git {
            range: "main...HEAD".into(),
        },
        unknown: vec![],
    };
    let ev = evaluate(
        &m,
        &diff,
        &cfg(&[
            ("threshold", "57"),
            ("diff-threshold", "34"),
            ("file-threshold", "60"),
        ]),
    )
    .unwrap();
    assert_eq!(ev.lines, (4, 7), "b.py:2 counted once and covered");
    assert_eq!(ev.diff, Some((1, 3)), "line 9 is not executable");
    let pass: Vec<Option<bool>> = ev.checks.iter().map(|c| c.pass).collect();
    assert_eq!(pass, vec![Some(true), None, Some(false), Some(false)]);
    assert_eq!(ev.rows[0].path, "a.py", "changed file first");
    assert_eq!(ev.annotations.len(), 1);
    assert_eq!(
        (ev.annotations[0].start_line, ev.annotations[0].end_line),
        (Some(2), Some(3))
    );
    let below: Vec<&str> = ev
        .rows
        .iter()
        .filter(|r| r.below)
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(below, ["a.py"]);
}

/// On both cores, a big report evaluates as on one: totals, rows in order, every
/// annotation in order, unmapped files unannotated.
#[test]
fn both_cores_evaluate_as_one() {
    let mut m = Merger::default();
    let mut changed = ChangedLines::new();
    for i in 0..300u32 {
        let recs: Vec<LineRecord> = (1..=40).map(|l| rec(l, (l * 7 + i) % 3)).collect();
        let path = format!("src/f{i}.py");
        if i % 4 == 0 {
            changed.insert(path.clone(), (i % 40..i % 40 + 12).collect());
        }
        let f = FileReport {
            path: path.clone(),
            lines: lines(&recs),
        };
        m.add(path, f, i % 7 != 0);
    }
    let m = m.finish();
    let diff = DiffState::Available {
        lines: changed,
        source: DiffSource::Git {
            range: "main...HEAD".into(),
        },
        unknown: vec![],
    };
    for annotate in ["changed", "all"] {
        let cfg = cfg(&[("file-threshold", "60"), ("annotate", annotate)]);
        let one = evaluate_from(&m, &diff, &cfg, usize::MAX).unwrap();
        let both = evaluate_from(&m, &diff, &cfg, 2).unwrap();
        assert!(one.annotations.len() > 100, "{annotate}: enough to compare");
        assert_eq!(format!("{one:?}"), format!("{both:?}"), "{annotate}");
    }
}

#[test]
fn branch_threshold_without_branch_data_is_an_error() {
    let e = evaluate(
        &merged(),
        &DiffState::Off("no pull request".into()),
        &cfg(&[("branch-threshold", "50")]),
    )
    .unwrap_err();
    assert_eq!(e, MissingData::Branches("50".parse().unwrap()));
}
