//! `fail-on: new`: the record every tests-gate run leaves in its check run (the failed
//! tests by a stable id, in [`crate::baseline`]'s block), and the classification of this
//! run's failures against the base commit's record: a failure whose id the base recorded
//! as failing "also failed on the base". Pure: values in, values out; finding the base
//! commit is `crate::base_commit`'s, rendering is `render`'s.

use std::collections::HashSet;

use crate::baseline::{Item, Record};

use super::model::{Case, Tally};

/// The gate name in records.
pub(crate) const KIND: &str = "tests";

/// The first seven characters of a commit id, as people read it.
pub(crate) fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// A failed test's id across runs: `suite::name` (the class-qualified name alone when
/// the report has no suite name).
pub(crate) fn id(case: &Case) -> String {
    if case.suite.is_empty() {
        case.full_name()
    } else {
        format!("{}::{}", case.suite, case.full_name())
    }
}

/// The record this run leaves: counters `passed` and `failed` (each of the total), and
/// one item per kept failure, in report order (the first ones survive a cut).
/// `items_total` counts every failure, kept or not, so a reader knows the list is short.
pub(crate) fn record(tally: &Tally, check: &str) -> Record {
    let total = tally.total();
    let failed = tally.failed + tally.errored;
    Record {
        kind: KIND.into(),
        check: check.into(),
        counters: vec!["passed".into(), "failed".into()],
        totals: vec![(tally.passed, total), (failed, total)],
        items: tally
            .failures
            .iter()
            .map(|c| Item {
                name: id(c),
                counts: vec![(0, 1), (1, 1)],
            })
            .collect(),
        items_total: failed.max(tally.failures.len() as u64),
    }
}

/// The base commit's record, as the classification needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    /// The commit whose check run held the record.
    pub sha: String,
    /// Its check run's web URL.
    pub url: String,
    /// Ids of the tests that failed there.
    pub failing: HashSet<String>,
    /// The record named every failure of that run (else a failure missing from it may
    /// still have failed there, and counts as new).
    pub complete: bool,
}

impl Base {
    /// From a decoded record: the ids of the items that failed.
    pub(crate) fn new(sha: String, url: String, record: &Record) -> Self {
        let i = record.counters.iter().position(|c| c == "failed");
        let failing = record
            .items
            .iter()
            .filter(|item| i.and_then(|i| item.counts.get(i)).is_some_and(|c| c.0 > 0))
            .map(|item| item.name.clone())
            .collect();
        Self {
            sha,
            url,
            failing,
            complete: record.complete(),
        }
    }
}

/// For each kept failure (in [`Tally::failures`] order): did it also fail on the base?
pub(crate) fn classify(tally: &Tally, base: &Base) -> Vec<bool> {
    tally
        .failures
        .iter()
        .map(|c| base.failing.contains(&id(c)))
        .collect()
}

/// Failures that fail the gate under `fail-on: new`: the kept ones not failing on the
/// base, plus every failure the tally did not keep (they cannot be classified).
pub(crate) fn new_failures(tally: &Tally, also: &[bool]) -> u64 {
    let failed = tally.failed + tally.errored;
    let old = also.iter().filter(|a| **a).count() as u64;
    failed.saturating_sub(old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{decode, encode};
    use crate::gates::tests::model::Status;

    fn case(suite: &str, class: &str, name: &str) -> Case {
        Case {
            suite: suite.into(),
            class: class.into(),
            name: name.into(),
            status: Some(Status::Failed),
            ..Case::default()
        }
    }

    fn tally(failures: Vec<Case>, passed: u64) -> Tally {
        let mut t = Tally::default();
        t.passed = passed;
        t.failed = failures.len() as u64;
        t.failures = failures;
        t
    }

    #[test]
    fn ids_are_suite_and_qualified_name() {
        assert_eq!(id(&case("pkg", "Cls", "test_a")), "pkg::Cls.test_a");
        assert_eq!(id(&case("", "Cls", "test_a")), "Cls.test_a");
        assert_eq!(id(&case("s", "", "t")), "s::t");
    }

    #[test]
    fn the_record_round_trips_through_the_block() {
        let t = tally(vec![case("s", "", "a"), case("s", "", "b")], 5);
        let r = record(&t, "rust-ci-action / tests");
        assert_eq!(r.total("passed"), Some((5, 7)));
        assert_eq!(r.total("failed"), Some((2, 7)));
        let e = encode(&r, 60_000);
        let back = decode(&e.block, KIND, "rust-ci-action / tests").unwrap();
        assert_eq!(back, r);
        let base = Base::new("abc".into(), "u".into(), &back);
        assert!(base.complete);
        assert_eq!(base.failing.len(), 2);
        assert!(decode(&e.block, "coverage", "rust-ci-action / tests").is_err());
    }

    #[test]
    fn failures_on_the_base_are_old_the_rest_and_unkept_ones_are_new() {
        let base_run = tally(vec![case("s", "", "a"), case("s", "", "gone")], 1);
        let base = Base::new("abc".into(), "u".into(), &record(&base_run, "c"));
        let now = tally(
            vec![case("s", "", "a"), case("s", "", "b"), case("t", "", "a")],
            0,
        );
        let also = classify(&now, &base);
        assert_eq!(
            also,
            [true, false, false],
            "same name in another suite is new"
        );
        assert_eq!(new_failures(&now, &also), 2);
        let all_old = tally(vec![case("s", "", "a")], 0);
        assert_eq!(new_failures(&all_old, &classify(&all_old, &base)), 0);
        // 3 failures of which only one was kept: the two unkept ones count as new.
        let mut cut = tally(vec![case("s", "", "a")], 0);
        cut.failed = 2;
        cut.errored = 1;
        assert_eq!(new_failures(&cut, &classify(&cut, &base)), 2);
    }

    #[test]
    fn a_cut_record_says_so() {
        let mut t = tally(vec![case("s", "", "a")], 0);
        t.failed = 1500;
        let r = record(&t, "c");
        assert_eq!(r.items_total, 1500);
        assert!(!Base::new("x".into(), "u".into(), &r).complete);
        assert!(
            Base::new("x".into(), "u".into(), &r)
                .failing
                .contains("s::a")
        );
    }
}
