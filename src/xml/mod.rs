//! The streaming XML layer every XML report reader shares (coverage's Cobertura, JaCoCo
//! and Clover readers, the tests gate's JUnit reader): a quick-xml reader over the
//! caller's `BufRead` with one reused event buffer, plus what quick-xml leaves to us:
//! the stack of open elements (to reject truncated files and to know an element's
//! parents), line numbers for messages, the root-element check, the DOCTYPE entity
//! check, a nesting limit, and size caps: no tag, text run or comment over
//! [`MAX_MARKUP`] is buffered, and no element name, attribute value or text over
//! [`MAX_VALUE`] reaches a parser.
//!
//! It never resolves entities beyond the five predefined ones and character references,
//! never fetches a DTD and never materialises a tree. Pure: no files, no printing; it
//! knows no report format (each reader maps [`XmlError`] into its own error).

mod attrs;
mod counting;
mod error;

use quick_xml::Reader;
use quick_xml::errors::{Error as QxError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use std::io::BufRead;

use attrs::check_tag;
pub(crate) use attrs::{attrs, unescape};
use counting::{Counting, count_newlines};
pub use error::{Location, ReportError, XmlError, XmlErrorKind};
pub(crate) use error::{check_len, excerpt, looks_binary};

/// Longest name, attribute value or text accepted (64 KiB). Real paths stay under a few
/// KiB (Linux's `PATH_MAX` is 4 KiB); a longer one is hostile or broken and is an input
/// error naming the file and line, before it costs time or memory downstream.
pub const MAX_VALUE: usize = 64 * 1024;

/// Deepest element nesting accepted. Real reports nest fewer than 10 levels.
pub(crate) const MAX_DEPTH: usize = 256;

/// Longest piece of markup one event may span (256 KiB: room for a tag whose attribute
/// values are each up to [`MAX_VALUE`]). quick-xml copies a whole tag, text run or
/// comment into its event buffer before handing it over, so without a cap a 300 MB
/// attribute cost 2 GB; [`Counting`] stops it here instead.
pub(crate) const MAX_MARKUP: usize = 4 * MAX_VALUE;

/// One event as the format parsers see it.
pub(crate) enum Ev<'b> {
    /// `<name ...>`; already on the stack.
    Start(BytesStart<'b>),
    /// `<name .../>`; never on the stack.
    Empty(BytesStart<'b>),
    /// `</name>`; already popped.
    End(&'b str),
    /// Character data (text, CDATA or a resolved reference) inside the root.
    Text(&'b str),
}

/// What a handler may ask about the position of the current event.
pub(crate) struct Ctx<'a> {
    names: &'a [u8],
    ends: &'a [usize],
    /// Whether the top of the stack is the current event's element (a `Start`).
    top_is_current: bool,
    newlines: u64,
    origin: &'a str,
}

impl<'a> Ctx<'a> {
    /// The context of an event: the open elements, whether the innermost of them is the
    /// event's own element, and what a line number needs.
    pub(super) fn new(
        names: &'a [u8],
        ends: &'a [usize],
        top_is_current: bool,
        newlines: u64,
        origin: &'a str,
    ) -> Self {
        Ctx {
            names,
            ends,
            top_is_current,
            newlines,
            origin,
        }
    }

    /// Name of the ancestor `k` levels above the current event's element (`k = 1`:
    /// parent), or `""` above the root.
    pub(crate) fn ancestor(&self, k: usize) -> &str {
        let k = k.saturating_sub(1) + usize::from(self.top_is_current);
        let n = self.ends.len();
        if k >= n {
            return "";
        }
        let i = n - 1 - k;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        std::str::from_utf8(&self.names[start..self.ends[i]]).unwrap_or("")
    }

    /// Whether an element called `name` is open around the current event.
    pub(crate) fn inside(&self, name: &str) -> bool {
        let mut start = 0;
        for &end in self.ends {
            if &self.names[start..end] == name.as_bytes() {
                return true;
            }
            start = end;
        }
        false
    }

    /// The 1-based line where markup with content `raw` (part of the current event)
    /// starts.
    pub(crate) fn line_of(&self, raw: &str) -> u64 {
        (self.newlines + 1).saturating_sub(count_newlines(raw.as_bytes()))
    }

    /// The document's name as given to [`Xml::new`].
    pub(crate) fn origin(&self) -> &str {
        self.origin
    }

    /// An error located at the line where markup with content `raw` starts.
    pub(crate) fn xml_error_at(&self, raw: &str, kind: XmlErrorKind) -> XmlError {
        XmlError::new(self.origin, Location::Line(self.line_of(raw)), kind)
    }
}

/// The shared XML driver.
pub(crate) struct Xml<'o, R> {
    reader: Reader<Counting<R>>,
    buf: Vec<u8>,
    /// Names of the open elements, concatenated; `ends[i]` is the end of the i-th.
    names: Vec<u8>,
    ends: Vec<usize>,
    origin: &'o str,
    root: &'static str,
    /// Another root element accepted (JUnit: `testsuites` or a lone `testsuite`).
    alt_root: Option<&'static str>,
    /// Scratch for a resolved character reference.
    ref_buf: [u8; 4],
}

fn innermost(names: &[u8], ends: &[usize]) -> String {
    let n = ends.len();
    if n == 0 {
        return "the document".to_owned();
    }
    let start = if n == 1 { 0 } else { ends[n - 2] };
    format!("<{}>", String::from_utf8_lossy(&names[start..ends[n - 1]]))
}

impl<'o, R: BufRead> Xml<'o, R> {
    /// A driver that requires the root element `root`. Fails early on empty input and
    /// UTF-16.
    pub(crate) fn new(mut inner: R, origin: &'o str, root: &'static str) -> Result<Self, XmlError> {
        let head = loop {
            match inner.fill_buf() {
                Ok(h) => break h,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(XmlError::new(origin, Location::Whole, XmlErrorKind::Io(e)));
                }
            }
        };
        if head.is_empty() {
            return Err(XmlError::new(origin, Location::Whole, XmlErrorKind::Empty));
        }
        if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            return Err(XmlError::new(origin, Location::Whole, XmlErrorKind::Utf16));
        }
        let mut reader = Reader::from_reader(Counting {
            inner,
            newlines: 0,
            event_bytes: 0,
            overflow: false,
            cut_text: false,
            in_text: false,
            head: [0; 9],
            tail: [0; 2],
            pending: 0,
        });
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        // Whitespace between elements is not reported: fewer events on the hot path.
        config.trim_text(true);
        Ok(Xml {
            reader,
            buf: Vec::with_capacity(1024),
            names: Vec::with_capacity(256),
            ends: Vec::with_capacity(16),
            origin,
            root,
            alt_root: None,
            ref_buf: [0; 4],
        })
    }

    /// Accept `other` as the root element too.
    pub(crate) fn or_root(mut self, other: &'static str) -> Self {
        self.alt_root = Some(other);
        self
    }

    /// Text as written (not trimmed: indentation in a stack trace matters), and text
    /// runs longer than [`MAX_VALUE`] cut there (the rest skipped) instead of refused:
    /// for test reports, whose captured output can be megabytes.
    pub(crate) fn captured_text(mut self) -> Self {
        self.reader.get_mut().cut_text = true;
        self.reader.config_mut().trim_text(false);
        self
    }

    fn error(&self, location: Location, kind: XmlErrorKind) -> XmlError {
        XmlError::new(self.origin, location, kind)
    }

    fn map_xml_error(&self, e: QxError, root_seen: bool) -> XmlError {
        let at = Location::Byte(self.reader.error_position());
        let counting = self.reader.get_ref();
        if counting.overflow {
            return self.error(
                Location::Line(counting.newlines + 1),
                XmlErrorKind::MarkupTooLong,
            );
        }
        match e {
            QxError::Io(io) => self.error(
                Location::Whole,
                XmlErrorKind::Io(std::io::Error::new(io.kind(), io.to_string())),
            ),
            QxError::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedPI
                | SyntaxError::UnclosedXmlDecl
                | SyntaxError::UnclosedDoubleQuotedAttributeValue
                | SyntaxError::UnclosedSingleQuotedAttributeValue,
            ) if root_seen => self.error(
                Location::Byte(self.reader.buffer_position()),
                XmlErrorKind::UnexpectedEof(innermost(&self.names, &self.ends)),
            ),
            QxError::Encoding(_) if !root_seen => self.error(
                Location::Whole,
                XmlErrorKind::NotXml("binary data".to_owned()),
            ),
            QxError::Encoding(_) => self.error(
                Location::Whole,
                XmlErrorKind::InvalidUtf8(self.reader.get_ref().newlines + 1),
            ),
            other if !root_seen => self.error(
                at,
                XmlErrorKind::NotXml(format!("not well-formed XML: {other}")),
            ),
            other => self.error(at, XmlErrorKind::Xml(other.to_string())),
        }
    }

    /// Read the whole document, calling `on` for every element start, end and piece of
    /// text inside the root. Whitespace, comments, processing instructions and the XML
    /// declaration are skipped; text outside the root, a foreign root, an
    /// entity-defining DOCTYPE, excessive depth and truncation are errors.
    pub(crate) fn run<F, E>(mut self, mut on: F) -> Result<(), E>
    where
        F: FnMut(Ev<'_>, &Ctx<'_>) -> Result<(), E>,
        E: From<XmlError>,
    {
        let mut root_seen = false;
        let mut root_closed = false;
        loop {
            self.buf.clear();
            self.reader.get_mut().event_bytes = 0;
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev,
                Err(e) => return Err(self.map_xml_error(e, root_seen).into()),
            };
            let newlines = self.reader.get_ref().newlines;
            let line_of = |raw: &str| (newlines + 1).saturating_sub(count_newlines(raw.as_bytes()));
            let origin = self.origin;
            let err = |loc: Location, kind: XmlErrorKind| E::from(XmlError::new(origin, loc, kind));
            let pos = self.reader.buffer_position();
            match &event {
                Event::Start(e) | Event::Empty(e) => {
                    check_tag(e).map_err(|kind| err(Location::Line(line_of(e)), kind))?;
                }
                Event::Text(t) => {
                    let what = || format!("text in {}", innermost(&self.names, &self.ends));
                    check_len(t.as_bytes(), what)
                        .map_err(|kind| err(Location::Line(line_of(t)), kind))?;
                }
                Event::CData(c) => {
                    let what = || format!("CDATA in {}", innermost(&self.names, &self.ends));
                    check_len(c.as_bytes(), what)
                        .map_err(|kind| err(Location::Line(line_of(c)), kind))?;
                }
                _ => {}
            }
            match event {
                Event::Start(_) | Event::Empty(_) if !root_seen || root_closed => {
                    let self_closing = matches!(event, Event::Empty(_));
                    let (Event::Start(e) | Event::Empty(e)) = event else {
                        continue;
                    };
                    let name = e.name();
                    let name = name.as_ref();
                    let at = Location::Line(line_of(&e));
                    if root_closed {
                        let found = format!("<{}>", excerpt(name.as_bytes()));
                        return Err(err(at, XmlErrorKind::TrailingContent(found)));
                    }
                    if name != self.root && Some(name) != self.alt_root {
                        let found = format!("root element <{}>", excerpt(name.as_bytes()));
                        return Err(err(Location::Whole, XmlErrorKind::NotXml(found)));
                    }
                    root_seen = true;
                    if self_closing {
                        // `<coverage/>`: nothing inside.
                        root_closed = true;
                        let ctx = Ctx::new(&self.names, &self.ends, false, newlines, origin);
                        on(Ev::Empty(e), &ctx)?;
                        continue;
                    }
                    self.names.extend_from_slice(name.as_bytes());
                    self.ends.push(self.names.len());
                    let ctx = Ctx::new(&self.names, &self.ends, true, newlines, origin);
                    on(Ev::Start(e), &ctx)?;
                }
                Event::Start(e) => {
                    if self.ends.len() >= MAX_DEPTH {
                        return Err(err(
                            Location::Line(line_of(&e)),
                            XmlErrorKind::TooDeep(MAX_DEPTH),
                        ));
                    }
                    self.names.extend_from_slice(e.name().as_ref().as_bytes());
                    self.ends.push(self.names.len());
                    let ctx = Ctx::new(&self.names, &self.ends, true, newlines, origin);
                    on(Ev::Start(e), &ctx)?;
                }
                Event::Empty(e) => {
                    let ctx = Ctx::new(&self.names, &self.ends, false, newlines, origin);
                    on(Ev::Empty(e), &ctx)?;
                }
                Event::End(e) => {
                    self.ends.pop();
                    self.names.truncate(self.ends.last().copied().unwrap_or(0));
                    if self.ends.is_empty() {
                        root_closed = true;
                    }
                    let ctx = Ctx::new(&self.names, &self.ends, false, newlines, origin);
                    let name = e.name();
                    on(Ev::End(name.as_ref()), &ctx)?;
                }
                Event::Text(t) => {
                    let text: &str = &t;
                    if self.ends.is_empty() {
                        if text.trim().is_empty() {
                            continue;
                        }
                        let kind = if root_seen {
                            XmlErrorKind::TrailingContent("text".to_owned())
                        } else if looks_binary(text.as_bytes()) {
                            XmlErrorKind::NotXml("binary data".to_owned())
                        } else {
                            XmlErrorKind::NotXml(format!(
                                "text before the root element: {:?}",
                                excerpt(text.trim().as_bytes())
                            ))
                        };
                        return Err(err(Location::Line(line_of(text)), kind));
                    }
                    let ctx = Ctx::new(&self.names, &self.ends, false, newlines, origin);
                    on(Ev::Text(text), &ctx)?;
                }
                Event::CData(c) => {
                    if self.ends.is_empty() {
                        let kind = if root_seen {
                            XmlErrorKind::TrailingContent("CDATA".to_owned())
                        } else {
                            XmlErrorKind::NotXml("CDATA before the root element".to_owned())
                        };
                        return Err(err(Location::Byte(pos), kind));
                    }
                    let text: &str = &c;
                    let ctx = Ctx::new(&self.names, &self.ends, false, newlines, origin);
                    on(Ev::Text(text), &ctx)?;
                }
                Event::GeneralRef(r) => {
                    if self.ends.is_empty() {
                        let kind = if root_seen {
                            XmlErrorKind::TrailingContent("an entity reference".to_owned())
                        } else {
                            XmlErrorKind::NotXml("text before the root element".to_owned())
                        };
                        return Err(err(Location::Byte(pos), kind));
                    }
                    let resolved: Option<char> = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => match &*r {
                            "amp" => Some('&'),
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "quot" => Some('"'),
                            "apos" => Some('\''),
                            _ => None,
                        },
                        Err(_) => None,
                    };
                    let Some(c) = resolved else {
                        let name = excerpt(r.as_bytes());
                        return Err(err(
                            Location::Byte(pos),
                            XmlErrorKind::Xml(format!("unknown entity &{name};")),
                        ));
                    };
                    let text: &str = c.encode_utf8(&mut self.ref_buf);
                    let ctx = Ctx::new(&self.names, &self.ends, false, newlines, origin);
                    on(Ev::Text(text), &ctx)?;
                }
                Event::DocType(d) => {
                    if d.contains("<!ENTITY") {
                        return Err(err(
                            Location::Line(line_of(&d)),
                            XmlErrorKind::EntityDefinitions,
                        ));
                    }
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if !self.ends.is_empty() {
                        return Err(err(
                            Location::Byte(pos),
                            XmlErrorKind::UnexpectedEof(innermost(&self.names, &self.ends)),
                        ));
                    }
                    if !root_seen {
                        return Err(err(Location::Whole, XmlErrorKind::Empty));
                    }
                    return Ok(());
                }
            }
        }
    }
}
