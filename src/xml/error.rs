//! What the XML layer reports when a document cannot be read: where ([`Location`]) and
//! what ([`XmlErrorKind`]), plus the helpers messages use to quote input safely
//! ([`excerpt`], [`looks_binary`]). Format-agnostic: each gate maps these kinds into its
//! own error type (a coverage report is "not a coverage report", a test report "not a
//! test report").

use std::fmt;

use super::MAX_VALUE;

/// Where in a document an error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The document as a whole.
    Whole,
    /// A 1-based line.
    Line(u64),
    /// A 0-based byte offset (used where a line is not meaningful, e.g. end of file).
    Byte(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Whole => Ok(()),
            Location::Line(n) => write!(f, ": line {n}"),
            Location::Byte(n) => write!(f, ": byte {n}"),
        }
    }
}

/// A report could not be read: `<origin>[: line N | : byte N]: <what>`. One shape for the
/// XML layer ([`XmlError`]) and for each gate's own error kind, so a gate maps only the kind.
#[derive(Debug)]
pub struct ReportError<K> {
    /// The report's name as given to the reader.
    pub origin: String,
    /// Where.
    pub location: Location,
    /// What.
    pub kind: K,
}

impl<K> ReportError<K> {
    pub(crate) fn new(origin: &str, location: Location, kind: K) -> Self {
        ReportError {
            origin: origin.to_owned(),
            location,
            kind,
        }
    }

    /// The same place with the kind mapped (an XML kind into a gate's kind).
    pub fn map_kind<L>(self, f: impl FnOnce(K) -> L) -> ReportError<L> {
        ReportError {
            origin: self.origin,
            location: self.location,
            kind: f(self.kind),
        }
    }
}

impl<K: fmt::Display> fmt::Display for ReportError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}: {}", self.origin, self.location, self.kind)
    }
}

// Written by hand rather than derived: `kind` is part of this error's own message, so
// making it the `source` would print it twice in a chain. Only the kind's own source
// (an I/O error) continues the chain.
impl<K: std::error::Error> std::error::Error for ReportError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.kind.source()
    }
}

/// A document could not be read as XML, or broke one of the caps.
pub type XmlError = ReportError<XmlErrorKind>;

/// What was wrong with an XML document.
#[derive(Debug, thiserror::Error)]
pub enum XmlErrorKind {
    /// No content (or only whitespace).
    #[error("empty file")]
    Empty,
    /// Not the XML document asked for (the detail says what it is instead).
    #[error("not the expected XML document ({0})")]
    NotXml(String),
    /// A DOCTYPE declares entities; refused to rule out entity-expansion attacks.
    #[error("DOCTYPE with entity definitions is not allowed")]
    EntityDefinitions,
    /// The input ended inside an element (a truncated document).
    #[error("unexpected end of file inside {0}")]
    UnexpectedEof(String),
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8 at line {0}")]
    InvalidUtf8(u64),
    /// UTF-16 encoded.
    #[error("UTF-16 encoding is not supported (convert the report to UTF-8)")]
    Utf16,
    /// Not well-formed.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// Elements nest deeper than [`super::MAX_DEPTH`].
    #[error("elements nested deeper than {0} levels")]
    TooDeep(usize),
    /// Something other than whitespace or comments follows the root element.
    #[error("content after the root element ({0})")]
    TrailingContent(String),
    /// A name, attribute value or text over [`MAX_VALUE`]; the string says which.
    #[error("{0} longer than {max} bytes", max = MAX_VALUE)]
    TooLong(String),
    /// One piece of markup over [`super::MAX_MARKUP`].
    #[error("XML markup (a tag, text or comment) longer than {max} bytes", max = super::MAX_MARKUP)]
    MarkupTooLong,
    /// Reading failed.
    #[error("cannot read the report")]
    Io(#[source] std::io::Error),
}

/// [`XmlErrorKind::TooLong`] for `value` described by `what`, when over [`MAX_VALUE`].
pub(crate) fn check_len(value: &[u8], what: impl FnOnce() -> String) -> Result<(), XmlErrorKind> {
    if value.len() > MAX_VALUE {
        Err(XmlErrorKind::TooLong(what()))
    } else {
        Ok(())
    }
}

/// Whether bytes look like binary data rather than text (NUL or other control bytes,
/// or invalid UTF-8 in the first bytes).
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    if head
        .iter()
        .any(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)))
    {
        return true;
    }
    match std::str::from_utf8(head) {
        Ok(_) => false,
        // A multi-byte character cut by the 512-byte window is not binary.
        Err(e) => e.error_len().is_some(),
    }
}

/// Text for an error message: lossy UTF-8, at most 120 characters, looking at no more
/// than the first 480 bytes (a 300 MB line costs nothing). Messages print it with `{:?}`
/// or through `untrusted`, so control characters never reach a sink raw.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(480)];
    let s = String::from_utf8_lossy(head);
    let mut out: String = s.chars().take(120).collect();
    if s.chars().nth(120).is_some() || head.len() < bytes.len() {
        out.push('…');
    }
    out
}
