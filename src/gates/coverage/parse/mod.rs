//! Streaming parsers for coverage reports: bytes from a [`BufRead`] in, a
//! [`Report`] out.
//!
//! Every parser reads its input once, front to back, with one reused buffer: no parser
//! holds the whole file or a DOM, so memory follows the number of distinct executable
//! lines (about one byte each, see [`Lines`](super::model::Lines)) plus the largest single file section
//! (12 bytes per record), not the size of the report. Nothing here opens files, prints or
//! looks at the environment; the gate does that and hands us a reader and the report's
//! path for messages.
//!
//! Errors say which file, where (1-based line or byte offset) and what was expected. A
//! truncated or malformed report is an error, never a partial report, and no input makes
//! a parser panic (the targets in `fuzz/` check that).

mod builder;
mod chunk;
pub mod clover;
pub mod cobertura;
pub mod detect;
mod fast;
pub mod go;
mod hot;
pub mod jacoco;
pub mod lcov;

use std::io::BufRead;

use super::model::{Format, Report};
pub(crate) use super::model::{SameLine, fold_lines};
pub(crate) use builder::Builder;

pub use detect::detect;

/// Parse a report of a known format.
pub fn parse<R: BufRead>(format: Format, reader: R, origin: &str) -> Result<Report, ParseError> {
    match format {
        Format::Cobertura => cobertura::parse(reader, origin),
        Format::Lcov => lcov::parse(reader, origin),
        Format::Jacoco => jacoco::parse(reader, origin),
        Format::Clover => clover::parse(reader, origin),
        Format::Go => go::parse(reader, origin),
    }
}

/// Parse a report of a known format on the fast path where it applies (Cobertura,
/// JaCoCo, Clover, LCOV: a memchr scanner, big reports in chunks on every core), else
/// with [`parse`], which also decides every report the fast path gives up on. `open`
/// yields a reader from the start of the report; it is called a second time only when
/// the fast path gave up. The result is always the one [`parse`] gives.
pub fn parse_reopen<R: BufRead>(
    format: Format,
    open: impl FnMut() -> std::io::Result<R>,
    origin: &str,
) -> Result<Report, ParseError> {
    parse_chunked(format, open, origin, chunk::CHUNK)
}

/// [`parse_reopen`] with chunks of about `chunk` bytes: tests and fuzz targets make them
/// tiny so that chunks join everywhere.
#[doc(hidden)]
pub fn parse_chunked<R: BufRead>(
    format: Format,
    mut open: impl FnMut() -> std::io::Result<R>,
    origin: &str,
    chunk: usize,
) -> Result<Report, ParseError> {
    use fast::XmlChunks;
    let io = |e| ParseError::new(origin, Location::Whole, ParseErrorKind::Io(e));
    let fast = match format {
        Format::Cobertura => {
            chunk::run::<XmlChunks<cobertura::State>, _>(open().map_err(io)?, origin, chunk)
        }
        Format::Jacoco => {
            chunk::run::<XmlChunks<jacoco::State>, _>(open().map_err(io)?, origin, chunk)
        }
        Format::Clover => {
            chunk::run::<XmlChunks<clover::State>, _>(open().map_err(io)?, origin, chunk)
        }
        Format::Lcov => chunk::run::<lcov::State, _>(open().map_err(io)?, origin, chunk),
        Format::Go => None,
    };
    match fast {
        Some(report) => Ok(report),
        None => parse(format, open().map_err(io)?, origin),
    }
}

/// The fast path alone: `None` where it gives up. For tests and fuzz targets, which
/// check that it is taken.
#[doc(hidden)]
pub fn fast_only(format: Format, bytes: &[u8], chunk: usize) -> Option<Report> {
    use fast::XmlChunks;
    match format {
        Format::Cobertura => chunk::run::<XmlChunks<cobertura::State>, _>(bytes, "r", chunk),
        Format::Jacoco => chunk::run::<XmlChunks<jacoco::State>, _>(bytes, "r", chunk),
        Format::Clover => chunk::run::<XmlChunks<clover::State>, _>(bytes, "r", chunk),
        Format::Lcov => chunk::run::<lcov::State, _>(bytes, "r", chunk),
        Format::Go => None,
    }
}

/// [`parse_reopen`] of a report in memory.
pub fn parse_slice(format: Format, bytes: &[u8], origin: &str) -> Result<Report, ParseError> {
    parse_reopen(format, || Ok(bytes), origin)
}

/// Detect the format from the first buffered bytes of `reader` (see [`detect()`]), then
/// parse. The reader's first `fill_buf` must hold the start of the document, which a
/// [`std::io::BufReader`] with its default 8 KiB capacity does.
pub fn parse_auto<R: BufRead>(mut reader: R, origin: &str) -> Result<Report, ParseError> {
    let head = loop {
        match reader.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ParseError::new(
                    origin,
                    Location::Whole,
                    ParseErrorKind::Io(e),
                ));
            }
        }
    };
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::new(
            origin,
            Location::Whole,
            ParseErrorKind::Empty,
        ));
    }
    match detect(head) {
        Some(format) => parse(format, reader, origin),
        None => Err(ParseError::new(
            origin,
            Location::Whole,
            ParseErrorKind::NotAReport(if looks_binary(head) {
                "binary data".to_owned()
            } else {
                "unrecognised format; set `format` explicitly".to_owned()
            }),
        )),
    }
}

/// A report could not be parsed.
///
/// Displays as `<origin>[: line N | : byte N]: <what>`, e.g.
/// `lcov.info: line 7: expected DA:<line>,<hits>, found "DA:x,1"`.
pub type ParseError = crate::xml::ReportError<ParseErrorKind>;

impl From<crate::xml::XmlError> for ParseError {
    fn from(e: crate::xml::XmlError) -> Self {
        use crate::xml::XmlErrorKind as X;
        e.map_kind(|kind| match kind {
            X::Empty => ParseErrorKind::Empty,
            X::NotXml(s) => ParseErrorKind::NotAReport(s),
            X::EntityDefinitions => ParseErrorKind::EntityDefinitions,
            X::UnexpectedEof(s) => ParseErrorKind::UnexpectedEof(s),
            X::InvalidUtf8(n) => ParseErrorKind::InvalidUtf8(n),
            X::Utf16 => ParseErrorKind::Utf16,
            X::Xml(s) => ParseErrorKind::Xml(s),
            X::TooDeep(n) => ParseErrorKind::TooDeep(n),
            X::TrailingContent(s) => ParseErrorKind::TrailingContent(s),
            X::TooLong(s) => ParseErrorKind::TooLong(s),
            X::MarkupTooLong => ParseErrorKind::MarkupTooLong,
            X::Io(io) => ParseErrorKind::Io(io),
        })
    }
}

/// [`crate::xml::Ctx::error_at`] with a coverage error kind.
pub(crate) trait ErrorAt {
    /// An error located at the line where markup with content `raw` starts.
    fn error_at(&self, raw: &str, kind: ParseErrorKind) -> ParseError;
}

impl ErrorAt for crate::xml::Ctx<'_> {
    fn error_at(&self, raw: &str, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.origin(), Location::Line(self.line_of(raw)), kind)
    }
}

pub use crate::xml::Location;

/// What was wrong with a report.
#[derive(Debug, thiserror::Error)]
pub enum ParseErrorKind {
    /// The file has no content (or only whitespace).
    #[error("empty file")]
    Empty,
    /// The content is not a report of the requested format (the detail says what it is).
    #[error("not a coverage report ({0})")]
    NotAReport(String),
    /// An XML DOCTYPE declares entities; refused to rule out entity-expansion attacks.
    #[error("DOCTYPE with entity definitions is not allowed")]
    EntityDefinitions,
    /// The input ended in the middle of something (a truncated report).
    #[error("unexpected end of file inside {0}")]
    UnexpectedEof(String),
    /// A required XML attribute is missing.
    #[error("<{element}> element without a {attribute} attribute")]
    MissingAttribute {
        /// The element's name.
        element: &'static str,
        /// The missing attribute.
        attribute: &'static str,
    },
    /// An XML attribute has a value the format does not allow.
    #[error("<{element}> element with invalid {attribute}={value:?} (expected {expected})")]
    InvalidAttribute {
        /// The element's name.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
        /// The value found (shortened if long).
        value: String,
        /// What the format allows there.
        expected: &'static str,
    },
    /// A line of a text format does not have the expected shape.
    #[error("expected {expected}, found {found:?}")]
    Syntax {
        /// The shape the format requires here.
        expected: &'static str,
        /// The line found (shortened if long).
        found: String,
    },
    /// Bytes that are not UTF-8 where text (a path) was required.
    #[error("invalid UTF-8 at line {0}")]
    InvalidUtf8(u64),
    /// The report is UTF-16 encoded; every supported tool writes UTF-8.
    #[error("UTF-16 encoding is not supported (convert the report to UTF-8)")]
    Utf16,
    /// The XML is not well-formed.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// Elements nest deeper than any real report does.
    #[error("elements nested deeper than {0} levels")]
    TooDeep(usize),
    /// Something other than whitespace or comments follows the root element.
    #[error("content after the root element ({0})")]
    TrailingContent(String),
    /// A line of a text format is longer than any real record.
    #[error("line longer than {0} bytes")]
    LineTooLong(usize),
    /// A path, name, attribute value or text is longer than any real one
    /// ([`MAX_VALUE`]); the string says which.
    #[error("{0} longer than {max} bytes", max = MAX_VALUE)]
    TooLong(String),
    /// One piece of XML markup (a tag with its attributes, a run of text, a comment) is
    /// longer than any real one; refused before the reader buffers more of it.
    #[error("XML markup (a tag, text or comment) longer than {max} bytes", max = crate::xml::MAX_MARKUP)]
    MarkupTooLong,
    /// A Go cover profile block spans more lines than any real source file has.
    #[error("block spans {0} lines (more than {max})", max = go::MAX_BLOCK_LINES)]
    BlockTooLong(u64),
    /// The numbers cannot describe real source (e.g. a tiny Go profile whose blocks
    /// would expand to millions of lines); refused before it exhausts memory.
    #[error("not a real cover profile ({0})")]
    Implausible(String),
    /// The report is well-formed but describes no source file.
    #[error("no file records")]
    NoFiles,
    /// Reading failed.
    #[error("cannot read the report")]
    Io(#[source] std::io::Error),
}

/// Describe the first broken model invariant of `report`, if any: file paths unique,
/// lines sorted and unique, branch outcomes covered ≤ total, `has_branch_data`
/// consistent with the records (stray branches included), extras only for listed
/// files. Every parser's output must pass; the fuzz targets and tests call this.
pub fn invariant_violation(report: &Report) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    let mut any_branch = false;
    for f in &report.files {
        if !seen.insert(f.path.as_str()) {
            return Some(format!("duplicate path {:?}", f.path));
        }
        let mut prev: Option<u32> = None;
        for l in &f.lines {
            if prev.is_some_and(|p| p >= l.line) {
                return Some(format!("lines of {:?} not sorted and unique", f.path));
            }
            prev = Some(l.line);
            if l.branches_covered > l.branches_total {
                return Some(format!(
                    "{}:{} covers more branches than it has",
                    f.path, l.line
                ));
            }
            any_branch |= l.branches_total > 0;
        }
    }
    for (path, x) in &report.extras {
        if !seen.contains(path.as_str()) {
            return Some(format!("extras for {path:?}, which has no file record"));
        }
        if x.stray_branches.iter().any(|b| b.covered > b.total) {
            return Some(format!("{path}: a stray branch covers more than it has"));
        }
        any_branch |= x.stray_branches.iter().any(|b| b.total > 0);
    }
    if any_branch != report.has_branch_data {
        return Some("has_branch_data disagrees with the records".to_owned());
    }
    if report.files.is_empty() {
        return Some("a report without files".to_owned());
    }
    None
}

/// Panic if [`invariant_violation`] finds something; for fuzz targets.
pub fn check_invariants(report: &Report) {
    if let Some(v) = invariant_violation(report) {
        panic!("model invariant broken: {v}");
    }
}

pub(crate) use crate::xml::{excerpt, looks_binary};

/// Parse a non-negative decimal integer, saturating at `u32::MAX`. Surrounding ASCII
/// whitespace is allowed; anything else (sign, fraction, empty) is `None`.
pub(crate) fn parse_u32_sat(bytes: &[u8]) -> Option<u32> {
    parse_u64_sat(bytes).map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}

/// Like [`parse_u32_sat`], saturating at `u16::MAX`.
pub(crate) fn parse_u16_sat(bytes: &[u8]) -> Option<u16> {
    parse_u64_sat(bytes).map(|v| u16::try_from(v).unwrap_or(u16::MAX))
}

/// Like [`parse_u32_sat`], saturating at `u64::MAX`.
pub(crate) fn parse_u64_sat(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.trim_ascii();
    if bytes.is_empty() {
        return None;
    }
    let mut acc: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        acc = acc.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    Some(acc)
}

/// Saturating conversion for branch counts.
pub(crate) fn sat_u16(v: u64) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// Longest line a text format may have (a path plus a few numbers).
pub(crate) const MAX_LINE: usize = 1 << 20;

/// Longest path, name, XML attribute value or XML text accepted (64 KiB): the XML
/// layer's cap, applied to the text formats too.
pub use crate::xml::MAX_VALUE;

/// [`ParseErrorKind::TooLong`] for `value` described by `what`, when it is over
/// [`MAX_VALUE`].
pub(crate) fn check_len(value: &[u8], what: impl FnOnce() -> String) -> Result<(), ParseErrorKind> {
    if value.len() > MAX_VALUE {
        Err(ParseErrorKind::TooLong(what()))
    } else {
        Ok(())
    }
}

/// Reads a text report line by line into one reused buffer, counting lines and
/// refusing lines longer than [`MAX_LINE`] (a `read_until` would grow without bound on
/// a file without newlines).
pub(crate) struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    line_no: u64,
    bytes_seen: u64,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(reader: R) -> Self {
        LineReader {
            reader,
            buf: Vec::with_capacity(256),
            line_no: 0,
            bytes_seen: 0,
        }
    }

    /// The 1-based number of the line last returned.
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Total bytes read so far.
    pub(crate) fn bytes_seen(&self) -> u64 {
        self.bytes_seen
    }

    /// The next line (1-based number, bytes without `\n` / `\r\n`), or `None` at
    /// end of input.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, ParseErrorKind> {
        self.buf.clear();
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ParseErrorKind::Io(e)),
            };
            if available.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let end = if done { take - 1 } else { take };
            if self.buf.len() + end > MAX_LINE {
                self.line_no += 1;
                return Err(ParseErrorKind::LineTooLong(MAX_LINE));
            }
            self.buf.extend_from_slice(&available[..end]);
            self.reader.consume(take);
            self.bytes_seen += take as u64;
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line_no += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some((self.line_no, &self.buf)))
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the parsers' tests.
    use super::*;
    use crate::gates::coverage::model::Totals;

    /// Parse a string, panicking with the error text on failure.
    pub(crate) fn ok(format: Format, input: &str) -> Report {
        match parse(format, input.as_bytes(), "r") {
            Ok(r) => r,
            Err(e) => panic!("{format} parse failed: {e}\n--- input:\n{input}"),
        }
    }

    /// Parse a string expecting an error; returns its message.
    pub(crate) fn err(format: Format, origin: &str, input: &[u8]) -> String {
        match parse(format, input, origin) {
            Ok(r) => panic!("{format} parse unexpectedly succeeded: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// Each input's error message is the one wanted.
    pub(crate) fn errs(format: Format, origin: &str, cases: &[(&[u8], &str)]) {
        for (input, want) in cases {
            assert_eq!(
                err(format, origin, input),
                *want,
                "input: {}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// (lines covered, lines total, branches covered, branches total).
    pub(crate) fn t(r: &Report) -> (u64, u64, u64, u64) {
        let Totals {
            lines_covered,
            lines_total,
            branches_covered,
            branches_total,
        } = r.totals();
        (lines_covered, lines_total, branches_covered, branches_total)
    }

    /// One file's lines as (line, covered, branches covered, branches total).
    pub(crate) fn recs(r: &Report, path: &str) -> Vec<(u32, bool, u16, u16)> {
        let f = r
            .files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("no file {path} in {:?}", paths(r)));
        f.lines
            .iter()
            .map(|l| (l.line, l.covered, l.branches_covered, l.branches_total))
            .collect()
    }

    /// The report's paths in order.
    pub(crate) fn paths(r: &Report) -> Vec<&str> {
        r.files.iter().map(|f| f.path.as_str()).collect()
    }
}

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;
