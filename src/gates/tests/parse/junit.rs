//! JUnit XML, as every producer writes it: a `testsuites` root or a lone `testsuite`,
//! suites nested in suites (PHPUnit, jest-junit), `testcase` with `failure`, `error` or
//! `skipped`, `system-out`/`system-err` (per test or per suite), `properties`; the
//! Surefire/nextest rerun elements: `flakyFailure`/`flakyError` (failed, then passed:
//! flaky) and `rerunFailure`/`rerunError` (failed on every run: retries). Pure.

use std::io::BufRead;

use quick_xml::events::BytesStart;

use super::super::model::{Case, Status, Tally};
use super::{ParseError, seconds_to_millis};
use crate::xml::{Ctx, Ev, Xml, attrs, unescape};

/// Where text inside a test case goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Nowhere,
    Details,
    Output,
    /// A rerun element's text: kept as details when the final run left none.
    Rerun,
}

#[derive(Default)]
struct State {
    suites: Vec<String>,
    case: Option<Case>,
    flaky_runs: u32,
    into: Option<Sink>,
    rerun_text: super::super::model::Bounded,
}

/// Read a JUnit report into `tally`.
pub fn parse<R: BufRead>(reader: R, origin: &str, tally: &mut Tally) -> Result<(), ParseError> {
    let xml = Xml::new(reader, origin, "testsuites")?
        .or_root("testsuite")
        .captured_text();
    let mut st = State::default();
    xml.run(|ev, ctx| st.on(ev, ctx, tally))?;
    Ok(())
}

fn text_attr(ctx: &Ctx<'_>, e: &BytesStart<'_>, raw: Option<&str>) -> Result<String, ParseError> {
    Ok(match raw {
        Some(r) => unescape(ctx, e, r)?,
        None => String::new(),
    })
}

impl State {
    fn on(&mut self, ev: Ev<'_>, ctx: &Ctx<'_>, tally: &mut Tally) -> Result<(), ParseError> {
        match ev {
            Ev::Start(e) => self.open(&e, ctx, tally, false),
            Ev::Empty(e) => self.open(&e, ctx, tally, true),
            Ev::End(name) => {
                match name {
                    "testsuite" => {
                        self.suites.pop();
                    }
                    "testcase" => self.close_case(tally),
                    _ => {}
                }
                if matches!(
                    name,
                    "failure"
                        | "error"
                        | "skipped"
                        | "system-out"
                        | "system-err"
                        | "flakyFailure"
                        | "flakyError"
                        | "rerunFailure"
                        | "rerunError"
                ) && ctx.inside("testcase")
                {
                    self.into = None;
                }
                Ok(())
            }
            Ev::Text(t) => {
                let Some(case) = self.case.as_mut() else {
                    return Ok(());
                };
                match self.into {
                    Some(Sink::Details) => case.details.push(t),
                    Some(Sink::Output) => case.output.push(t),
                    Some(Sink::Rerun) => self.rerun_text.push(t),
                    Some(Sink::Nowhere) | None => {}
                }
                Ok(())
            }
        }
    }

    fn open(
        &mut self,
        e: &BytesStart<'_>,
        ctx: &Ctx<'_>,
        tally: &mut Tally,
        empty: bool,
    ) -> Result<(), ParseError> {
        let name = e.name();
        let name = name.as_ref();
        match name {
            "testsuite" => {
                let [n] = attrs(ctx, e, ["name"])?;
                if !empty {
                    self.suites.push(text_attr(ctx, e, n)?);
                }
            }
            "testcase" => {
                if self.case.is_some() {
                    return Err(ctx
                        .xml_error_at(
                            e,
                            crate::xml::XmlErrorKind::Xml("<testcase> inside <testcase>".into()),
                        )
                        .into());
                }
                let [n, class, file, line, time] =
                    attrs(ctx, e, ["name", "classname", "file", "line", "time"])?;
                let file = text_attr(ctx, e, file)?;
                let case = Case {
                    suite: self.suites.last().cloned().unwrap_or_default(),
                    class: text_attr(ctx, e, class)?,
                    name: text_attr(ctx, e, n)?,
                    file: (!file.is_empty()).then_some(file),
                    line: line
                        .and_then(|l| l.trim().parse::<u32>().ok())
                        .filter(|l| *l > 0),
                    millis: time.and_then(seconds_to_millis).unwrap_or(0),
                    ..Case::default()
                };
                self.case = Some(case);
                self.flaky_runs = 0;
                self.rerun_text = Default::default();
                if empty {
                    self.close_case(tally);
                }
            }
            _ if self.case.is_some() && ctx.ancestor(1) == "testcase" => {
                self.open_in_case(name, e, ctx, empty)?;
            }
            _ if self.case.is_some() && !empty => {
                // Inside a rerun or verdict element (nextest nests the attempt's
                // system-out/err there): not this test's final output.
                self.into = Some(Sink::Nowhere);
            }
            _ => {}
        }
        Ok(())
    }

    fn open_in_case(
        &mut self,
        name: &str,
        e: &BytesStart<'_>,
        ctx: &Ctx<'_>,
        empty: bool,
    ) -> Result<(), ParseError> {
        let Some(case) = self.case.as_mut() else {
            return Ok(());
        };
        let into = match name {
            "failure" | "error" | "skipped" => {
                let status = match name {
                    "failure" => Status::Failed,
                    "error" => Status::Errored,
                    _ => Status::Skipped,
                };
                // The first verdict element decides (a test with both is counted once).
                if case.status.is_none() {
                    case.status = Some(status);
                    let [message, kind] = attrs(ctx, e, ["message", "type"])?;
                    let message = text_attr(ctx, e, message)?;
                    let kind = text_attr(ctx, e, kind)?;
                    case.message = Default::default();
                    if message.is_empty() && !kind.is_empty() {
                        case.message.push(&kind);
                    } else {
                        case.message.push(&message);
                    }
                    Sink::Details
                } else {
                    Sink::Nowhere
                }
            }
            "system-out" | "system-err" => Sink::Output,
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                case.retries = case.retries.saturating_add(1);
                if name.starts_with("flaky") {
                    self.flaky_runs += 1;
                }
                if self.rerun_text.is_empty() {
                    if case.message.is_empty() {
                        let [message] = attrs(ctx, e, ["message"])?;
                        case.message.push(&text_attr(ctx, e, message)?);
                    }
                    Sink::Rerun
                } else {
                    Sink::Nowhere
                }
            }
            _ => Sink::Nowhere,
        };
        if !empty {
            self.into = Some(into);
        }
        Ok(())
    }

    fn close_case(&mut self, tally: &mut Tally) {
        self.into = None;
        let Some(mut case) = self.case.take() else {
            return;
        };
        if case.status.is_none() && self.flaky_runs > 0 {
            case.status = Some(Status::Flaky);
        }
        if case.details.is_empty() && !self.rerun_text.is_empty() {
            case.details = std::mem::take(&mut self.rerun_text);
        }
        tally.add(case);
    }
}
