//! `go test -json` output: one test2json event per line (`run`, `output`, `pass`, `fail`,
//! `skip`, ...). A test's output is buffered (bounded) until its result arrives; a test
//! still running when its package fails (a panic, a timeout) or when the stream ends is
//! counted as failed. Lines that are not JSON (build errors go test prints as text) are
//! skipped. Pure.

use std::collections::HashMap;
use std::io::BufRead;

use serde::Deserialize;

use super::super::model::{Case, Status, Tally};
use super::{ParseError, ParseErrorKind};
use crate::xml::Location;

/// Longest event line accepted (a test2json line holds one line of output).
const MAX_LINE: usize = 1 << 20;
/// Output buffered for tests still running, all of them together.
const MAX_PENDING: usize = 16 << 20;

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Package", default)]
    package: String,
    #[serde(rename = "Test", default)]
    test: Option<String>,
    #[serde(rename = "Elapsed", default)]
    elapsed: Option<f64>,
    #[serde(rename = "Output", default)]
    output: Option<String>,
}

/// Read `go test -json` output into `tally`.
pub fn parse<R: BufRead>(mut reader: R, origin: &str, tally: &mut Tally) -> Result<(), ParseError> {
    let mut running: HashMap<(String, String), Case> = HashMap::new();
    let mut pending = 0usize;
    let mut line = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    let mut events = 0u64;
    let err = |n: u64, kind| ParseError::new(origin, Location::Line(n), kind);
    loop {
        line.clear();
        let n = std::io::Read::take(&mut reader, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| ParseError::new(origin, Location::Whole, ParseErrorKind::Io(e)))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.len() > MAX_LINE {
            return Err(err(line_no, ParseErrorKind::LineTooLong(MAX_LINE)));
        }
        let text = line.trim_ascii();
        if !text.starts_with(b"{") {
            continue;
        }
        let ev: Event = serde_json::from_slice(text).map_err(|e| {
            err(
                line_no,
                ParseErrorKind::Event(crate::xml::excerpt(e.to_string().as_bytes())),
            )
        })?;
        events += 1;
        let Some(test) = ev.test else {
            if ev.action == "fail" {
                // The package failed: tests still running there (a panic) failed too.
                let open: Vec<(String, String)> = running
                    .keys()
                    .filter(|(p, _)| *p == ev.package)
                    .cloned()
                    .collect();
                for key in open {
                    if let Some(mut case) = running.remove(&key) {
                        pending = pending.saturating_sub(case.output.text.len());
                        case.status = Some(Status::Failed);
                        finish(case, tally);
                    }
                }
            }
            continue;
        };
        let key = (ev.package.clone(), test.clone());
        match ev.action.as_str() {
            "run" => {
                running.entry(key).or_insert_with(|| Case {
                    suite: ev.package,
                    name: test,
                    ..Case::default()
                });
            }
            "output" => {
                if let (Some(case), Some(out)) = (running.get_mut(&key), ev.output) {
                    if pending < MAX_PENDING {
                        let before = case.output.text.len();
                        case.output.push(&out);
                        pending += case.output.text.len() - before;
                    } else {
                        case.output.cut = true;
                    }
                }
            }
            "pass" | "fail" | "skip" => {
                let mut case = running.remove(&key).unwrap_or_else(|| Case {
                    suite: ev.package.clone(),
                    name: test.clone(),
                    ..Case::default()
                });
                pending = pending.saturating_sub(case.output.text.len());
                case.status = Some(match ev.action.as_str() {
                    "pass" => Status::Passed,
                    "fail" => Status::Failed,
                    _ => Status::Skipped,
                });
                case.millis = ev
                    .elapsed
                    .filter(|e| e.is_finite() && *e >= 0.0)
                    .map_or(0, |e| (e * 1000.0).round().min(u64::MAX as f64) as u64);
                finish(case, tally);
            }
            _ => {}
        }
    }
    if events == 0 {
        return Err(ParseError::new(
            origin,
            Location::Whole,
            ParseErrorKind::NotAReport("no test2json events".into()),
        ));
    }
    let mut left: Vec<Case> = running.into_values().collect();
    left.sort_by(|a, b| (&a.suite, &a.name).cmp(&(&b.suite, &b.name)));
    for mut case in left {
        case.status = Some(Status::Failed);
        case.message
            .push("did not finish (the stream ended while it ran)");
        finish(case, tally);
    }
    Ok(())
}

/// A failed test's output is its details (go prints the failure there); a passing
/// one's output is dropped.
fn finish(mut case: Case, tally: &mut Tally) {
    if case.status == Some(Status::Failed) {
        case.details = std::mem::take(&mut case.output);
        if case.message.is_empty() {
            case.message.push(first_message(&case.details.text));
        }
    } else {
        case.output = Default::default();
    }
    tally.add(case);
}

/// The first `file_test.go:12: message` line of a failing test's output, else "".
fn first_message(out: &str) -> &str {
    out.lines()
        .map(str::trim)
        .find(|l| {
            l.split_once(".go:").is_some_and(|(_, rest)| {
                rest.split(':')
                    .next()
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            })
        })
        .unwrap_or("")
}
