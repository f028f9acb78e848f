//! What people read: the title, the headline counts, failures first (message and the
//! first lines of the trace and output as inert fenced blocks), flaky tests, the slowest
//! tests; and the outputs. Every test name, message and output goes through
//! [`crate::untrusted`]. Pure.

use std::fmt::Write as _;

use crate::outcome::Outcome;
use crate::runner::summary::STEP_SUMMARY_LIMIT;
use crate::untrusted::{Md, md_block, md_code, md_text};

use super::config::{FailOn, Flaky, TestsConfig};
use super::evaluate::{Evaluation, failure_text, headline};
use super::files::Read;
use super::locate::Located;
use super::model::{Case, Tally};
use super::regress::short;

/// Lines of a failure's trace and of its output shown in the text.
const SHOWN_LINES: usize = 30;
/// Failures listed by name in the `failed-tests` output.
const OUTPUT_FAILURES: usize = 100;

/// The outcome for people and for later steps. `text_budget` bounds the details (the
/// check run's text limit).
pub(crate) fn outcome(
    ev: &Evaluation,
    tally: &Tally,
    read: &[Read],
    cfg: &TestsConfig,
    text_budget: usize,
) -> Outcome {
    let summary = summary(tally, read, cfg, ev);
    let text = details(ev, tally, text_budget);
    // The job summary (1 MiB) holds more failures than the check run; keep 64 KiB of it
    // for the title, the summary and the reporter's notes.
    let long_budget = STEP_SUMMARY_LIMIT.saturating_sub(summary.len() + 65_536);
    let long = details(ev, tally, long_budget);
    Outcome {
        verdict: ev.verdict,
        title: title(tally),
        summary,
        long_text: (long != text).then_some(long),
        text,
        record: None,
        annotations: ev.annotations.clone(),
        outputs: outputs(tally, ev),
    }
}

/// Milliseconds as people read them.
pub(crate) fn duration(millis: u64) -> String {
    if millis < 60_000 {
        format!("{}.{:02} s", millis / 1000, (millis % 1000) / 10)
    } else {
        format!("{} min {} s", millis / 60_000, (millis % 60_000) / 1000)
    }
}

fn title(t: &Tally) -> String {
    let mut parts = vec![format!("{} passed", t.passed)];
    if t.failed > 0 {
        parts.push(format!("{} failed", t.failed));
    }
    if t.errored > 0 {
        parts.push(format!("{} errored", t.errored));
    }
    if t.flaky > 0 {
        parts.push(format!("{} flaky", t.flaky));
    }
    if t.skipped > 0 {
        parts.push(format!("{} skipped", t.skipped));
    }
    format!(
        "{} of {} tests in {}",
        parts.join(", "),
        t.total(),
        duration(t.millis)
    )
}

fn summary(t: &Tally, read: &[Read], cfg: &TestsConfig, ev: &Evaluation) -> String {
    let mut md = String::from(
        "| Passed | Failed | Errors | Flaky | Skipped | Total | Duration |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        t.passed,
        t.failed,
        t.errored,
        t.flaky,
        t.skipped,
        t.total(),
        duration(t.millis)
    );
    if t.flaky > 0 {
        md.push_str(match cfg.flaky {
            Flaky::Pass => "Flaky tests (failed, then passed on a retry) do not fail the gate (`flaky: pass`).\n\n",
            Flaky::Fail => "Flaky tests (failed, then passed on a retry) fail the gate (`flaky: fail`).\n\n",
        });
    }
    if let Some(b) = &ev.base {
        let old = ev.also_on_base.iter().filter(|a| **a).count();
        let _ = writeln!(
            md,
            "`fail-on: new`: {old} of {} failures also failed on the base {}{} and do not fail the gate; {} {} new.{}\n",
            t.failed + t.errored,
            md_code(short(&b.sha), Md::Prose),
            link(&b.url),
            ev.counted,
            if ev.counted == 1 { "is" } else { "are" },
            if b.complete {
                ""
            } else {
                " The base's record does not name all its failures: one missing from it counts as new."
            }
        );
    } else if cfg.fail_on == FailOn::New {
        md.push_str("`fail-on: new`: no record of the base's failed tests was found, so every failure fails the gate, as with `fail-on: any` (the notice says why).\n\n");
    }
    let listed: Vec<String> = read
        .iter()
        .take(20)
        .map(|r| {
            format!(
                "{} ({}, {} tests)",
                md_code(&r.shown, Md::Prose),
                r.format,
                r.tests
            )
        })
        .collect();
    let _ = write!(md, "Read {}", listed.join(", "));
    if read.len() > 20 {
        let _ = write!(md, " and {} more reports", read.len() - 20);
    }
    md.push('\n');
    md
}

fn where_(at: Option<&Located>) -> String {
    match at {
        Some(Located {
            path,
            line: Some(l),
        }) => format!(" at {}", md_code(&format!("{path}:{l}"), Md::Prose)),
        Some(Located { path, line: None }) => format!(" in {}", md_code(path, Md::Prose)),
        None => String::new(),
    }
}

fn case_section(icon: &str, what: &str, case: &Case, at: Option<&Located>) -> String {
    let mut s = format!(
        "#### {icon} {}\n\n{what}{}",
        md_text(&case.full_name()),
        where_(at)
    );
    if !case.suite.is_empty() {
        let _ = write!(s, " (suite {})", md_code(&case.suite, Md::Prose));
    }
    s.push_str("\n\n");
    let text = failure_text(case, SHOWN_LINES);
    if !text.is_empty() {
        s.push_str(&md_block(&text));
    }
    let out = case.output.text.trim_matches('\n');
    if !out.trim().is_empty() {
        let mut lines: Vec<&str> = out.lines().take(SHOWN_LINES).collect();
        if out.lines().nth(SHOWN_LINES).is_some() || case.output.cut {
            lines.push("…");
        }
        s.push_str("Output:\n\n");
        s.push_str(&md_block(&lines.join("\n")));
    }
    s
}

/// A failure's section: "also failing on <base>" (a warning sign) when it failed there.
fn failure_section(ev: &Evaluation, i: usize, case: &Case, at: Option<&Located>) -> String {
    match (&ev.base, ev.also_on_base.get(i)) {
        (Some(b), Some(true)) => {
            let what = format!(
                "{}, also failing on {} (does not fail the gate)",
                headline(case),
                md_code(short(&b.sha), Md::Prose)
            );
            case_section("⚠️", &what, case, at)
        }
        _ => case_section("❌", &headline(case), case, at),
    }
}

/// A link to `url` when it is a plain https address, else nothing.
fn link(url: &str) -> String {
    let plain = url.starts_with("https://")
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()[]<>\"'`".contains(c));
    if plain {
        format!(" ([its check run]({url}))")
    } else {
        String::new()
    }
}

fn details(ev: &Evaluation, t: &Tally, budget: usize) -> String {
    let mut md = String::new();
    let mut left_out = 0usize;
    let push = |md: &mut String, part: String| {
        // Keep room for the closing lines.
        if md.len() + part.len() + 200 <= budget {
            md.push_str(&part);
            true
        } else {
            false
        }
    };
    let failures = t.failed + t.errored;
    if failures > 0 {
        md.push_str("### Failures\n\n");
        for (i, (case, at)) in t.failures.iter().zip(&ev.failure_at).enumerate() {
            if left_out > 0 || !push(&mut md, failure_section(ev, i, case, at.as_ref())) {
                left_out += 1;
            }
        }
        let unlisted = failures.saturating_sub(t.failures.len() as u64) + left_out as u64;
        if unlisted > 0 {
            let _ = writeln!(md, "{unlisted} more failures are not shown (size limit).\n");
        }
    }
    if t.flaky > 0 {
        md.push_str("### Flaky tests\n\n");
        let mut shown = 0u64;
        for (case, at) in t.flakies.iter().zip(&ev.flaky_at) {
            let what = format!(
                "Passed after {} failed {}",
                case.retries.max(1),
                if case.retries > 1 { "runs" } else { "run" }
            );
            if !push(&mut md, case_section("⚠️", &what, case, at.as_ref())) {
                break;
            }
            shown += 1;
        }
        if t.flaky > shown {
            let _ = writeln!(md, "{} more flaky tests are not shown.\n", t.flaky - shown);
        }
    }
    if !t.slowest.is_empty() {
        let mut table = String::from("### Slowest tests\n\n| Test | Duration |\n| --- | ---: |\n");
        for s in &t.slowest {
            let _ = writeln!(
                table,
                "| {} | {} |",
                md_code(&s.name, Md::Cell),
                duration(s.millis)
            );
        }
        table.push('\n');
        push(&mut md, table);
    }
    md
}

fn outputs(t: &Tally, ev: &Evaluation) -> Vec<(String, String)> {
    let failed: Vec<serde_json::Value> = t
        .failures
        .iter()
        .zip(&ev.failure_at)
        .take(OUTPUT_FAILURES)
        .map(|(c, at)| {
            let message: String = c
                .message
                .text
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(500)
                .collect();
            serde_json::json!({
                "suite": c.suite,
                "name": c.full_name(),
                "status": c.status.map_or("failed", |s| s.word()),
                "file": at.as_ref().map(|l| l.path.clone()),
                "line": at.as_ref().and_then(|l| l.line),
                "message": message,
            })
        })
        .collect();
    vec![
        ("passed".into(), t.passed.to_string()),
        ("failed".into(), (t.failed + t.errored).to_string()),
        ("flaky".into(), t.flaky.to_string()),
        ("skipped".into(), t.skipped.to_string()),
        ("total".into(), t.total().to_string()),
        (
            "duration".into(),
            format!("{}.{:03}", t.millis / 1000, t.millis % 1000),
        ),
        (
            "failed-tests".into(),
            serde_json::Value::Array(failed).to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::link;

    #[test]
    fn only_plain_https_addresses_are_linked() {
        assert_eq!(
            link("https://github.com/o/r/runs/1"),
            " ([its check run](https://github.com/o/r/runs/1))"
        );
        for bad in [
            "",
            "javascript:x",
            "https://a/b)(c",
            "https://a b",
            "http://a",
        ] {
            assert_eq!(link(bad), "", "{bad}");
        }
    }
}
