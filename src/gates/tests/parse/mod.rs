//! Streaming readers for test reports: bytes from a [`BufRead`] in, each test handed to a
//! [`Tally`] as it is read, so memory does not follow the report's size. JUnit XML (every
//! dialect: pytest, jest-junit, cargo-nextest, Ant/Surefire, PHPUnit) on the shared
//! [`crate::xml`] layer, and `go test -json` (test2json events). The format is told
//! from the content. Pure: nothing here opens files or prints.
//!
//! Hostile input: entities are refused and values capped by the XML layer; captured
//! output is cut ([`crate::xml`] skips text past 64 KiB, [`super::model::Bounded`] keeps
//! 16 KiB); every reader is one pass, linear in its input.

pub mod gotest;
pub mod junit;

use std::fmt;
use std::io::BufRead;

use super::model::Tally;
use crate::xml::{Location, XmlError, XmlErrorKind};

/// The report formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JUnit XML.
    Junit,
    /// `go test -json` events.
    GoJson,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Junit => "JUnit XML",
            Format::GoJson => "go test -json",
        })
    }
}

/// The format of a report from its first bytes: a JSON object per line is test2json,
/// XML whose first element is `testsuites` or `testsuite` is JUnit.
pub fn detect(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = head.trim_ascii_start();
    if text.starts_with(b"{") {
        return Some(Format::GoJson);
    }
    if !text.starts_with(b"<") {
        return None;
    }
    let mut rest = text;
    // Skip the declaration, comments and a DOCTYPE to the first element.
    while let Some(i) = memchr::memchr(b'<', rest) {
        let tail = &rest[i + 1..];
        if tail.starts_with(b"?") || tail.starts_with(b"!") {
            rest = tail;
            continue;
        }
        let name_end = tail
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
            .unwrap_or(tail.len());
        return match &tail[..name_end] {
            b"testsuites" | b"testsuite" => Some(Format::Junit),
            _ => None,
        };
    }
    None
}

/// A test report could not be read: `<origin>[: line N]: <what>`.
pub type ParseError = crate::xml::ReportError<ParseErrorKind>;

impl From<XmlError> for ParseError {
    fn from(e: XmlError) -> Self {
        e.map_kind(|kind| match kind {
            XmlErrorKind::NotXml(what) => ParseErrorKind::NotAReport(what),
            other => ParseErrorKind::Xml(other),
        })
    }
}

/// What was wrong with a test report.
#[derive(Debug, thiserror::Error)]
pub enum ParseErrorKind {
    /// Not a test report (the detail says what it is).
    #[error("not a test report ({0})")]
    NotAReport(String),
    /// The XML layer refused it.
    #[error(transparent)]
    Xml(XmlErrorKind),
    /// A line of `go test -json` output is not a test2json event.
    #[error("expected a test2json event ({0})")]
    Event(String),
    /// A line longer than any real event.
    #[error("line longer than {0} bytes")]
    LineTooLong(usize),
    /// No test in the report.
    #[error("no test cases")]
    NoTests,
    /// Reading failed.
    #[error("cannot read the report")]
    Io(#[source] std::io::Error),
}

/// Parse a report of a known format into `tally`.
pub fn parse<R: BufRead>(
    format: Format,
    reader: R,
    origin: &str,
    tally: &mut Tally,
) -> Result<(), ParseError> {
    match format {
        Format::Junit => junit::parse(reader, origin, tally),
        Format::GoJson => gotest::parse(reader, origin, tally),
    }
}

/// Parse a JUnit or test2json string into a fresh tally (tests and fuzzing).
pub fn parse_str(input: &str, origin: &str) -> Result<Tally, ParseError> {
    let format = detect(input.as_bytes()).ok_or_else(|| {
        ParseError::new(
            origin,
            Location::Whole,
            ParseErrorKind::NotAReport("unrecognised format".into()),
        )
    })?;
    let mut tally = Tally::default();
    parse(format, input.as_bytes(), origin, &mut tally)?;
    Ok(tally)
}

/// Seconds as JUnit writes them (`0.012`, `12`, `1,234.5`) to milliseconds; anything
/// else (negative, not a number) is `None`, and the test simply has no time.
pub(crate) fn seconds_to_millis(s: &str) -> Option<u64> {
    let s: String = s.trim().chars().filter(|c| *c != ',').collect();
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * 1000.0).round().min(u64::MAX as f64) as u64)
}

#[cfg(test)]
mod tests;
