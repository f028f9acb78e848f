//! The verdict and the annotations: failures (and flaky tests when `flaky: fail`) fail
//! the gate; each failure is annotated where it failed, each flaky test as a warning.
//! With `fail-on: new` and a base record, a failure that also failed on the base is
//! annotated as a warning and does not fail the gate. Pure: locations come from
//! [`super::locate`] with the mapper given, the base's failures from [`super::regress`].

use crate::outcome::{Annotation, Level, Verdict};
use crate::paths::PathMapper;

use super::config::{FailOn, Flaky, TestsConfig};
use super::locate::{Located, locate};
use super::model::{Case, Status, Tally};
use super::regress::{self, Base};

/// Lines of a failure's text an annotation quotes.
const ANNOTATION_LINES: usize = 20;

/// What the gate decided.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    /// Pass or fail.
    pub verdict: Verdict,
    /// Where each kept failure happened (same order as [`Tally::failures`]).
    pub failure_at: Vec<Option<Located>>,
    /// Where each kept flaky test failed on its first run.
    pub flaky_at: Vec<Option<Located>>,
    /// One per kept failure and flaky test.
    pub annotations: Vec<Annotation>,
    /// Per kept failure: it also failed on the base (all `false` without a base).
    pub also_on_base: Vec<bool>,
    /// The base compared with (`fail-on: new` and a record found).
    pub base: Option<Base>,
    /// Failures that count against the gate: all of them, or the new ones with a base.
    pub counted: u64,
}

/// Decide and locate; `base` is the base commit's record (looked for with `fail-on: new`).
pub(crate) fn evaluate(
    tally: &Tally,
    mapper: &PathMapper,
    cfg: &TestsConfig,
    base: Option<Base>,
) -> Evaluation {
    let base = base.filter(|_| cfg.fail_on == FailOn::New);
    let also_on_base = match &base {
        Some(b) => regress::classify(tally, b),
        None => vec![false; tally.failures.len()],
    };
    let counted = regress::new_failures(tally, &also_on_base);
    let failing = counted > 0 || (cfg.flaky == Flaky::Fail && tally.flaky > 0);
    let mut rm = mapper.for_report(&[]);
    let failure_at: Vec<Option<Located>> =
        tally.failures.iter().map(|c| locate(c, &mut rm)).collect();
    let flaky_at: Vec<Option<Located>> = tally.flakies.iter().map(|c| locate(c, &mut rm)).collect();
    let n = tally.failures.len();
    let mut annotations = Vec::with_capacity(n + tally.flakies.len());
    for (i, (case, at)) in tally.failures.iter().zip(&failure_at).enumerate() {
        let old = also_on_base.get(i).copied().unwrap_or(false);
        let (level, title, priority) = match (&base, old) {
            (Some(b), true) => (
                Level::Warning,
                format!(
                    "{}, also failing on {}: {}",
                    headline(case),
                    regress::short(&b.sha),
                    case.full_name()
                ),
                (n - i) as i64,
            ),
            _ => (
                Level::Failure,
                format!("{}: {}", headline(case), case.full_name()),
                (n - i) as i64 + 1_000_000,
            ),
        };
        annotations.push(annotation(level, &title, case, at.as_ref(), priority));
    }
    let level = if cfg.flaky == Flaky::Fail {
        Level::Failure
    } else {
        Level::Warning
    };
    for (case, at) in tally.flakies.iter().zip(&flaky_at) {
        let title = format!(
            "Flaky test (passed after {} failed {}): {}",
            case.retries.max(1),
            if case.retries > 1 { "runs" } else { "run" },
            case.full_name()
        );
        annotations.push(annotation(level, &title, case, at.as_ref(), 0));
    }
    Evaluation {
        verdict: if failing {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        failure_at,
        flaky_at,
        annotations,
        also_on_base,
        base,
        counted,
    }
}

/// "Test failed" or "Test errored" (with the retries it had).
pub(crate) fn headline(case: &Case) -> String {
    let what = if case.status == Some(Status::Errored) {
        "Test errored"
    } else {
        "Test failed"
    };
    match case.retries {
        0 => what.to_owned(),
        1 => format!("{what} (also on 1 retry)"),
        n => format!("{what} (also on {n} retries)"),
    }
}

/// The message, then the first lines of the trace.
pub(crate) fn failure_text(case: &Case, lines: usize) -> String {
    let mut out = String::new();
    let message = case.message.text.trim();
    let details = case.details.text.trim_matches('\n');
    // The trace often starts with the message: then the trace alone says it.
    if !message.is_empty() && !details.trim_start().starts_with(message) {
        out.push_str(message);
        out.push('\n');
    }
    let mut shown = 0;
    for line in details.lines().take(lines) {
        out.push_str(line);
        out.push('\n');
        shown += 1;
    }
    if details.lines().nth(shown).is_some() || case.details.cut {
        out.push_str("…\n");
    }
    out.trim_end().to_owned()
}

fn annotation(
    level: Level,
    title: &str,
    case: &Case,
    at: Option<&Located>,
    priority: i64,
) -> Annotation {
    let mut message = failure_text(case, ANNOTATION_LINES);
    if message.is_empty() {
        message = title.to_owned();
    }
    if let Some(Located { line: None, .. }) = at {
        message.push_str("\n(the report gives no line in this file)");
    }
    let (path, line) = match at {
        Some(l) => (Some(l.path.clone()), Some(l.line.unwrap_or(1))),
        None => (None, None),
    };
    Annotation {
        path,
        start_line: line,
        end_line: line,
        level,
        title: Some(title.to_owned()),
        message,
        priority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Record;
    use crate::runner::inputs::RawInputs;

    fn case(name: &str) -> Case {
        Case {
            suite: "s".into(),
            name: name.into(),
            status: Some(Status::Failed),
            ..Case::default()
        }
    }

    fn run(fail_on: &str, base: Option<&[&str]>, now: &[&str]) -> Evaluation {
        let cfg = TestsConfig::try_from(&RawInputs::from_named([("fail-on", fail_on)])).unwrap();
        let mut t = Tally::default();
        t.failures = now.iter().map(|n| case(n)).collect();
        t.failed = now.len() as u64;
        let base = base.map(|names| {
            let mut b = Tally::default();
            b.failures = names.iter().map(|n| case(n)).collect();
            b.failed = names.len() as u64;
            let r: Record = regress::record(&b, "c");
            Base::new("0123456789abcdef".into(), "https://x/1".into(), &r)
        });
        evaluate(&t, &PathMapper::new("/ws", [], None, None), &cfg, base)
    }

    #[test]
    fn old_failures_are_warnings_only_with_fail_on_new_and_a_base() {
        let ev = run("new", Some(&["a"]), &["a"]);
        assert_eq!((ev.verdict, ev.counted), (Verdict::Pass, 0));
        assert_eq!(ev.annotations[0].level, Level::Warning);
        let title = ev.annotations[0].title.as_deref().unwrap();
        assert!(title.contains("also failing on 0123456"), "{title}");

        let ev = run("new", Some(&["a"]), &["a", "b"]);
        assert_eq!((ev.verdict, ev.counted), (Verdict::Fail, 1));
        let levels: Vec<Level> = ev.annotations.iter().map(|a| a.level).collect();
        assert_eq!(levels, [Level::Warning, Level::Failure]);
        assert!(ev.annotations[1].priority > ev.annotations[0].priority);

        // No base, or `fail-on: any` with one: every failure fails.
        assert_eq!(run("new", None, &["a"]).verdict, Verdict::Fail);
        let any = run("any", Some(&["a"]), &["a"]);
        assert_eq!((any.verdict, any.base.is_none()), (Verdict::Fail, true));
        assert_eq!(any.annotations[0].level, Level::Failure);
    }
}
