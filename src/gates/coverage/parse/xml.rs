//! The streaming XML layer the XML parsers share: a quick-xml reader over the caller's
//! `BufRead` with one reused event buffer, plus what quick-xml leaves to us: the stack
//! of open elements (to reject truncated files and to know a `<line>`'s parents), line
//! numbers for messages, the root-element check, the DOCTYPE entity check, a nesting
//! limit, and size caps: no tag, text run or comment over [`MAX_MARKUP`] is buffered,
//! and no element name, attribute value or text over [`MAX_VALUE`] reaches a parser.
//!
//! It never resolves entities beyond the five predefined ones and character references,
//! never fetches a DTD and never materialises a tree.

use std::io::{BufRead, Read};
use std::ops::Range;

use quick_xml::Reader;
use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::{BytesStart, Event};

use super::{Location, MAX_VALUE, ParseError, ParseErrorKind, check_len, looks_binary};

/// Deepest element nesting accepted. Real reports nest fewer than 10 levels.
pub(crate) const MAX_DEPTH: usize = 256;

/// Longest piece of markup one event may span (256 KiB: room for a tag whose attribute
/// values are each up to [`MAX_VALUE`]). quick-xml copies a whole tag, text run or
/// comment into its event buffer before handing it over, so without a cap a 300 MB
/// attribute cost 2 GB; [`Counting`] stops it here instead.
pub(crate) const MAX_MARKUP: usize = 4 * MAX_VALUE;

/// A `BufRead` that counts the newlines the XML reader has consumed, so an event's
/// line is known without a second pass, and refuses to hand out more than
/// [`MAX_MARKUP`] bytes for one event: past that, `fill_buf` fails (and `overflow`
/// says why), so the reader's buffer never grows beyond the cap.
struct Counting<R> {
    inner: R,
    newlines: u64,
    /// Bytes handed out since the current event began ([`Xml::run`] resets it).
    event_bytes: usize,
    /// An event ran past [`MAX_MARKUP`].
    overflow: bool,
}

fn count_newlines(bytes: &[u8]) -> u64 {
    // A plain filter-count: the compiler vectorises it, and it is cheaper than
    // memchr_iter when newlines are dense (one every ~40 bytes in these reports).
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

impl<R> Counting<R> {
    /// Bytes the current event may still take; an error once it has taken them all.
    fn room(&mut self) -> std::io::Result<usize> {
        let room = MAX_MARKUP.saturating_sub(self.event_bytes);
        if room == 0 {
            self.overflow = true;
            return Err(std::io::Error::other("XML markup over the size cap"));
        }
        Ok(room)
    }
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = self.room()?;
        let limit = buf.len().min(room);
        let n = self.inner.read(&mut buf[..limit])?;
        self.newlines += count_newlines(&buf[..n]);
        self.event_bytes += n;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let room = MAX_MARKUP.saturating_sub(self.event_bytes);
        if room == 0 {
            // At the end of input there is nothing to refuse.
            if self.inner.fill_buf()?.is_empty() {
                return Ok(&[]);
            }
            self.room()?;
        }
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(room)])
    }

    fn consume(&mut self, amt: usize) {
        // `fill_buf` after a `fill_buf` without `consume` returns the same bytes without
        // I/O (the `BufRead` contract), so this only looks at what is being consumed.
        if let Ok(buf) = self.inner.fill_buf() {
            self.newlines += count_newlines(&buf[..amt.min(buf.len())]);
        }
        self.event_bytes += amt;
        self.inner.consume(amt);
    }
}

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

    /// An error located at the line where markup with content `raw` starts.
    pub(crate) fn error_at(&self, raw: &str, kind: ParseErrorKind) -> ParseError {
        let line = (self.newlines + 1).saturating_sub(count_newlines(raw.as_bytes()));
        ParseError::new(self.origin, Location::Line(line), kind)
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
    pub(crate) fn new(
        mut inner: R,
        origin: &'o str,
        root: &'static str,
    ) -> Result<Self, ParseError> {
        let head = loop {
            match inner.fill_buf() {
                Ok(h) => break h,
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
        if head.is_empty() {
            return Err(ParseError::new(
                origin,
                Location::Whole,
                ParseErrorKind::Empty,
            ));
        }
        if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            return Err(ParseError::new(
                origin,
                Location::Whole,
                ParseErrorKind::Utf16,
            ));
        }
        let mut reader = Reader::from_reader(Counting {
            inner,
            newlines: 0,
            event_bytes: 0,
            overflow: false,
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
            ref_buf: [0; 4],
        })
    }

    fn error(&self, location: Location, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.origin, location, kind)
    }

    fn map_xml_error(&self, e: XmlError, root_seen: bool) -> ParseError {
        let at = Location::Byte(self.reader.error_position());
        let counting = self.reader.get_ref();
        if counting.overflow {
            return self.error(
                Location::Line(counting.newlines + 1),
                ParseErrorKind::MarkupTooLong,
            );
        }
        match e {
            XmlError::Io(io) => self.error(
                Location::Whole,
                ParseErrorKind::Io(std::io::Error::new(io.kind(), io.to_string())),
            ),
            XmlError::Syntax(
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
                ParseErrorKind::UnexpectedEof(innermost(&self.names, &self.ends)),
            ),
            XmlError::Encoding(_) if !root_seen => self.error(
                Location::Whole,
                ParseErrorKind::NotAReport("binary data".to_owned()),
            ),
            XmlError::Encoding(_) => self.error(
                Location::Whole,
                ParseErrorKind::InvalidUtf8(self.reader.get_ref().newlines + 1),
            ),
            other if !root_seen => self.error(
                at,
                ParseErrorKind::NotAReport(format!("not well-formed XML: {other}")),
            ),
            other => self.error(at, ParseErrorKind::Xml(other.to_string())),
        }
    }

    /// Read the whole document, calling `on` for every element start, end and piece of
    /// text inside the root. Whitespace, comments, processing instructions and the XML
    /// declaration are skipped; text outside the root, a foreign root, an
    /// entity-defining DOCTYPE, excessive depth and truncation are errors.
    pub(crate) fn run<F>(mut self, mut on: F) -> Result<(), ParseError>
    where
        F: FnMut(Ev<'_>, &Ctx<'_>) -> Result<(), ParseError>,
    {
        let mut root_seen = false;
        let mut root_closed = false;
        loop {
            self.buf.clear();
            self.reader.get_mut().event_bytes = 0;
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev,
                Err(e) => return Err(self.map_xml_error(e, root_seen)),
            };
            let newlines = self.reader.get_ref().newlines;
            let line_of = |raw: &str| (newlines + 1).saturating_sub(count_newlines(raw.as_bytes()));
            let origin = self.origin;
            let err = |loc: Location, kind: ParseErrorKind| ParseError::new(origin, loc, kind);
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
                        let found = format!("<{}>", super::excerpt(name.as_bytes()));
                        return Err(err(at, ParseErrorKind::TrailingContent(found)));
                    }
                    if name != self.root {
                        let found = format!("root element <{}>", super::excerpt(name.as_bytes()));
                        return Err(err(Location::Whole, ParseErrorKind::NotAReport(found)));
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
                            ParseErrorKind::TooDeep(MAX_DEPTH),
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
                            ParseErrorKind::TrailingContent("text".to_owned())
                        } else if looks_binary(text.as_bytes()) {
                            ParseErrorKind::NotAReport("binary data".to_owned())
                        } else {
                            ParseErrorKind::NotAReport(format!(
                                "text before the root element: {:?}",
                                super::excerpt(text.trim().as_bytes())
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
                            ParseErrorKind::TrailingContent("CDATA".to_owned())
                        } else {
                            ParseErrorKind::NotAReport("CDATA before the root element".to_owned())
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
                            ParseErrorKind::TrailingContent("an entity reference".to_owned())
                        } else {
                            ParseErrorKind::NotAReport("text before the root element".to_owned())
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
                        let name = super::excerpt(r.as_bytes());
                        return Err(err(
                            Location::Byte(pos),
                            ParseErrorKind::Xml(format!("unknown entity &{name};")),
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
                            ParseErrorKind::EntityDefinitions,
                        ));
                    }
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if !self.ends.is_empty() {
                        return Err(err(
                            Location::Byte(pos),
                            ParseErrorKind::UnexpectedEof(innermost(&self.names, &self.ends)),
                        ));
                    }
                    if !root_seen {
                        return Err(err(Location::Whole, ParseErrorKind::Empty));
                    }
                    return Ok(());
                }
            }
        }
    }
}

/// Byte ranges of one attribute's name and value in raw attribute text.
type AttrSpan = (Range<usize>, Range<usize>);

/// The next `name="value"` of raw attribute text `s` from byte `*i`, or `None` at the
/// end; `Err` says what is malformed.
fn next_attr(s: &[u8], i: &mut usize) -> Result<Option<AttrSpan>, &'static str> {
    let len = s.len();
    while *i < len && s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    // `<a/>` arrives without the slash, but be lenient about a stray one.
    if *i >= len || (s[*i] == b'/' && *i + 1 == len) {
        return Ok(None);
    }
    let key_start = *i;
    while *i < len && s[*i] != b'=' && !s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    let key = key_start..*i;
    while *i < len && s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    if key.is_empty() || *i >= len || s[*i] != b'=' {
        return Err("expected name=\"value\"");
    }
    *i += 1;
    while *i < len && s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    let Some(&quote) = s.get(*i).filter(|&&q| q == b'"' || q == b'\'') else {
        return Err("attribute value without quotes");
    };
    let value_start = *i + 1;
    let Some(n) = memchr::memchr(quote, &s[value_start..]) else {
        return Err("unterminated attribute value");
    };
    *i = value_start + n + 1;
    Ok(Some((key, value_start..value_start + n)))
}

/// Values of the named attributes of `e`, raw (still escaped), in the order of `keys`.
/// Malformed attribute syntax is [`ParseErrorKind::Xml`] at the element's line.
///
/// A hand-rolled scan instead of quick-xml's `attributes()`: this runs for each of
/// millions of `<line>` elements, borrows every value and allocates nothing. quick-xml
/// has already checked that the tag is closed and its quotes balanced.
pub(crate) fn attrs<'a, const N: usize>(
    x: &Ctx<'_>,
    e: &'a BytesStart<'_>,
    keys: [&str; N],
) -> Result<[Option<&'a str>; N], ParseError> {
    let mut out: [Option<&'a str>; N] = [None; N];
    let raw: &'a str = e.attributes_raw();
    let s = raw.as_bytes();
    let mut i = 0;
    loop {
        let (key, value) = match next_attr(s, &mut i) {
            Ok(Some(kv)) => kv,
            Ok(None) => break,
            Err(what) => {
                return Err(x.error_at(
                    e,
                    ParseErrorKind::Xml(format!(
                        "malformed attributes in <{}>: {what}",
                        e.name().0
                    )),
                ));
            }
        };
        let key = &s[key];
        // Delimiters are ASCII, so these are char boundaries.
        let value = raw.get(value).unwrap_or("");
        for (slot, k) in out.iter_mut().zip(keys) {
            let k = k.as_bytes();
            if key.len() == k.len() && key.first() == k.first() && key == k {
                if slot.is_none() {
                    *slot = Some(value);
                }
                break;
            }
        }
    }
    Ok(out)
}

/// A tag's name or attribute value over [`MAX_VALUE`], as [`ParseErrorKind::TooLong`].
/// Only a tag longer than the cap can hold one, so most tags cost one comparison.
fn check_tag(e: &BytesStart<'_>) -> Result<(), ParseErrorKind> {
    if e.len() <= MAX_VALUE {
        return Ok(());
    }
    let name = e.name();
    let name = name.as_ref();
    check_len(name.as_bytes(), || "element name".to_owned())?;
    let s = e.attributes_raw().as_bytes();
    let mut i = 0;
    // Malformed attributes are left to `attrs`, which reports them where they matter.
    while let Ok(Some((key, value))) = next_attr(s, &mut i) {
        check_len(&s[value], || {
            format!(
                "attribute {} of <{}>",
                super::excerpt(&s[key]),
                super::excerpt(name.as_bytes())
            )
        })?;
    }
    Ok(())
}

/// An attribute value as text with references resolved.
pub(crate) fn unescape(x: &Ctx<'_>, e: &BytesStart<'_>, raw: &str) -> Result<String, ParseError> {
    if !raw.contains('&') {
        return Ok(raw.to_owned());
    }
    quick_xml::escape::unescape(raw)
        .map(|s| s.into_owned())
        .map_err(|err| x.error_at(e, ParseErrorKind::Xml(err.to_string())))
}
