//! The fast XML tokenizer: the same [`Ev`] stream as the full reader ([`crate::xml`])
//! for the plain XML every coverage tool writes, straight from a UTF-8 chunk in memory:
//! `memchr` to the next `<`, a quote-aware scan to the tag's `>`, and the tag handed to
//! the format's handler as a borrowed [`BytesStart`] without copying or re-validating.
//!
//! It accepts a strict subset of what the full reader accepts and answers
//! [`Step::Bail`] on anything else: entity or character references in text, CDATA, a
//! DOCTYPE with an internal subset, a processing instruction other than the leading XML
//! declaration, any markup or text over [`MAX_VALUE`], nesting over [`MAX_DEPTH`], a
//! mismatched end tag, text outside the root, a handler error, an unfinished tag at the
//! end. The caller then runs the full reader, which stays the judge: it alone produces
//! errors (with their lines), and on every input the fast path accepts the two give the
//! same events, hence the same model (the differential test in `parse/tests.rs` and the
//! fuzz targets check it). Pure: no I/O.

use memchr::{memchr, memmem};
use quick_xml::events::BytesStart;

use super::chunk::Chunked;
use super::hot::{HotTag, is_ws, same};
use super::{MAX_VALUE, ParseError};
use crate::gates::coverage::model::Report;
use crate::xml::{Ctx, Ev, MAX_DEPTH};

/// Whether the fast path finished its chunk or gave it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Every event of the chunk was handed over.
    Done,
    /// Something unusual: the caller must let the full reader decide.
    Bail,
}

/// The tokenizer's state between two events: the open elements and where the root
/// stands. Two chunks join only where the first one's end state equals the state the
/// second one assumed at its start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Open {
    /// Names of the open elements, concatenated; `ends[i]` is the end of the i-th.
    names: Vec<u8>,
    ends: Vec<usize>,
    root_seen: bool,
    root_closed: bool,
}

impl Open {
    /// Name of the open element `k` levels up from the innermost (`k = 0`: the
    /// innermost, the parent of an empty element), or `b""` above the root.
    pub(crate) fn parent(&self, k: usize) -> &[u8] {
        let n = self.ends.len();
        if k >= n {
            return b"";
        }
        let i = n - 1 - k;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.names[start..self.ends[i]]
    }

    /// Whether [`Open::parent`]`(k)` is `name`.
    #[inline(always)]
    pub(crate) fn parent_is(&self, k: usize, name: &[u8]) -> bool {
        same(self.parent(k), name)
    }
}

/// The `>` that ends the tag whose content starts at `from`, skipping quoted attribute
/// values as quick-xml does; `None` if the chunk ends first. Looks no further than
/// `limit`.
fn tag_end(b: &[u8], from: usize, limit: usize) -> Option<usize> {
    // A byte loop, not memchr: a `<line>` tag is ~40 bytes, where memchr's set-up per
    // call (nine calls for a tag with four attributes) costs more than the scan.
    let b = &b[..limit.min(b.len())];
    let mut quote = 0u8;
    for (j, &c) in b.iter().enumerate().skip(from) {
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'>' {
            return Some(j);
        } else if c == b'"' || c == b'\'' {
            quote = c;
        }
    }
    None
}

/// A name as quick-xml splits it off a tag's content, when it is an ordinary one.
fn plain_name(content: &[u8]) -> Option<usize> {
    let n = content
        .iter()
        .position(|&b| is_ws(b))
        .unwrap_or(content.len());
    let name = &content[..n];
    let ok = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    ok.then_some(n)
}

/// Hand every event of `text` to `h`, starting from `open` (left as the state at the
/// end): [`XmlHandler::hot`] first for an empty element named [`XmlHandler::HOT`],
/// else [`XmlHandler::on`]. `text` must start and end between events; `last` says it
/// ends the document, `first` that it starts it (a leading XML declaration and DOCTYPE
/// are allowed only there).
pub(crate) fn events<H: XmlHandler>(
    text: &str,
    open: &mut Open,
    origin: &str,
    first: bool,
    last: bool,
    h: &mut H,
) -> Step {
    let root = H::ROOT;
    let b = text.as_bytes();
    let len = b.len();
    let mut i = 0;
    if first && text.starts_with('\u{feff}') {
        i = 3;
    }
    // Before anything but whitespace, an XML declaration may come.
    let mut prolog = first;
    loop {
        // Between tags there is mostly a line end and indentation: step over it
        // before asking memchr.
        let mut j = i;
        while j < len && is_ws(b[j]) {
            j += 1;
        }
        // Only whitespace before the tag (the usual case): no text to look at.
        let only_ws = j < len && b[j] == b'<';
        let next = if only_ws {
            Some(j - i)
        } else {
            memchr(b'<', &b[j..]).map(|p| p + j - i)
        };
        let Some(p) = next else {
            // Trailing text: whitespace only, and the document must be complete.
            if !b[i..].iter().all(|&c| is_ws(c)) {
                return Step::Bail;
            }
            if last && (!open.root_seen || !open.ends.is_empty()) {
                return Step::Bail;
            }
            return Step::Done;
        };
        let lt = i + p;
        if lt > i && !only_ws {
            let run = &b[i..lt];
            let start = run.iter().position(|&c| !is_ws(c));
            if let Some(s) = start {
                // Character data: only plain text inside the root.
                if open.ends.is_empty() || run.len() > MAX_VALUE || memchr(b'&', run).is_some() {
                    return Step::Bail;
                }
                let e = run.iter().rposition(|&c| !is_ws(c)).map_or(s, |e| e + 1);
                let Some(t) = text.get(i + s..i + e) else {
                    return Step::Bail;
                };
                let ctx = Ctx::new(&open.names, &open.ends, false, 0, origin);
                if h.on(Ev::Text(t), &ctx).is_err() {
                    return Step::Bail;
                }
                prolog = false;
            }
        }
        let limit = lt + MAX_VALUE;
        match b.get(lt + 1) {
            Some(b'/') => {
                let Some(gt) = b.get(lt + 2..limit.min(len)).and_then(|s| memchr(b'>', s)) else {
                    return Step::Bail;
                };
                let gt = lt + 2 + gt;
                let content = &b[lt + 2..gt];
                let name_end = content
                    .iter()
                    .rposition(|&c| !is_ws(c))
                    .map_or(0, |e| e + 1);
                let name = &content[..name_end];
                let Some(&top_end) = open.ends.last() else {
                    return Step::Bail;
                };
                let top_start = open.ends.len().checked_sub(2).map_or(0, |k| open.ends[k]);
                if &open.names[top_start..top_end] != name {
                    return Step::Bail;
                }
                open.ends.pop();
                open.names.truncate(top_start);
                if open.ends.is_empty() {
                    open.root_closed = true;
                }
                let Some(name) = text.get(lt + 2..lt + 2 + name_end) else {
                    return Step::Bail;
                };
                let ctx = Ctx::new(&open.names, &open.ends, false, 0, origin);
                if h.on(Ev::End(name), &ctx).is_err() {
                    return Step::Bail;
                }
                i = gt + 1;
            }
            Some(b'?') => {
                // Only the XML declaration, first in the document.
                if !prolog
                    || !b[lt..].starts_with(b"<?xml")
                    || !b.get(lt + 5).is_some_and(|&c| is_ws(c))
                {
                    return Step::Bail;
                }
                let Some(q) = memmem::find(&b[lt..limit.min(len)], b"?>") else {
                    return Step::Bail;
                };
                i = lt + q + 2;
                prolog = false;
            }
            Some(b'!') => {
                let rest = &b[lt..limit.min(len)];
                if rest.starts_with(b"<!--") {
                    // `<!-->` and `<!--->` end where quick-xml may not agree: leave them to it.
                    if matches!(rest.get(4), Some(b'-' | b'>') | None) {
                        return Step::Bail;
                    }
                    let Some(q) = memmem::find(&rest[4..], b"-->") else {
                        return Step::Bail;
                    };
                    i = lt + 4 + q + 3;
                } else if rest.starts_with(b"<!DOCTYPE") && !open.root_seen {
                    let Some(gt) = memchr(b'>', rest) else {
                        return Step::Bail;
                    };
                    let decl = &rest[9..gt];
                    let quotes = |q: u8| decl.iter().filter(|&&c| c == q).count();
                    if !decl.first().is_some_and(|&c| is_ws(c))
                        || decl.iter().all(|&c| is_ws(c))
                        || decl.iter().any(|&c| matches!(c, b'[' | b'<'))
                        || quotes(b'"') % 2 == 1
                        || quotes(b'\'') % 2 == 1
                    {
                        return Step::Bail;
                    }
                    i = lt + gt + 1;
                    prolog = false;
                } else {
                    return Step::Bail;
                }
            }
            Some(_) => {
                // The element most of the report is made of, in one pass when the
                // handler takes it; anything else below.
                let hot = H::HOT.as_bytes();
                if open.root_seen
                    && !open.root_closed
                    && !open.ends.is_empty()
                    && b[lt + 1..].starts_with(hot)
                    && b.get(lt + 1 + hot.len()).is_some_and(|&c| is_ws(c))
                {
                    let tag = HotTag {
                        text,
                        from: lt + 1 + hot.len(),
                        limit,
                    };
                    if let Some(gt) = h.hot(tag, open) {
                        prolog = false;
                        i = gt + 1;
                        continue;
                    }
                }
                let Some(gt) = tag_end(b, lt + 1, limit) else {
                    return Step::Bail;
                };
                let empty = gt > lt + 1 && b[gt - 1] == b'/';
                let content_end = if empty { gt - 1 } else { gt };
                let Some(name_len) = plain_name(&b[lt + 1..content_end]) else {
                    return Step::Bail;
                };
                let Some(content) = text.get(lt + 1..content_end) else {
                    return Step::Bail;
                };
                let name = &b[lt + 1..lt + 1 + name_len];
                if !open.root_seen {
                    if name != root.as_bytes() {
                        return Step::Bail;
                    }
                    open.root_seen = true;
                } else if open.root_closed || open.ends.is_empty() {
                    return Step::Bail;
                }
                let e = BytesStart::from_content(content, name_len);
                if empty {
                    if open.ends.is_empty() {
                        open.root_closed = true;
                    }
                    let ctx = Ctx::new(&open.names, &open.ends, false, 0, origin);
                    if h.on(Ev::Empty(e), &ctx).is_err() {
                        return Step::Bail;
                    }
                } else {
                    if open.ends.len() >= MAX_DEPTH {
                        return Step::Bail;
                    }
                    open.names.extend_from_slice(name);
                    open.ends.push(open.names.len());
                    let ctx = Ctx::new(&open.names, &open.ends, true, 0, origin);
                    if h.on(Ev::Start(e), &ctx).is_err() {
                        return Step::Bail;
                    }
                }
                prolog = false;
                i = gt + 1;
            }
            None => return Step::Bail,
        }
    }
}

/// Parse a whole report with the full reader driving handler `H` (what each XML format's
/// `parse` is, and the judge the fast path is checked against).
pub(crate) fn parse_full<H: XmlHandler, R: std::io::BufRead>(
    reader: R,
    origin: &str,
) -> Result<Report, ParseError> {
    let xml = crate::xml::Xml::new(reader, origin, H::ROOT)?;
    let mut st = H::resume(None);
    xml.run(|ev, ctx| st.on(ev, ctx))?;
    st.finish(origin)
}

/// A format's handler of [`Ev`]s, as both readers drive it, plus what chunked parsing
/// needs: its state between file sections, and how to merge what two chunks collected.
pub(crate) trait XmlHandler: Sized + Send {
    /// The root element the format requires.
    const ROOT: &'static str;
    /// Where a chunk may start (a file section's start tag, with the space after it).
    const SPLIT: &'static [u8];
    /// Everything of the handler's state that later events depend on, except what it
    /// collects (the report builder, Cobertura's sources).
    type Carry: Clone + PartialEq + Send + Sync;
    /// A fresh handler (`None`) or one resuming in `carry`.
    fn resume(carry: Option<&Self::Carry>) -> Self;
    /// One event.
    fn on(&mut self, ev: Ev<'_>, ctx: &Ctx<'_>) -> Result<(), ParseError>;
    /// The state to carry into the next chunk.
    fn carry(&self) -> Self::Carry;
    /// Take in what the handler of the following chunk collected.
    fn absorb(&mut self, later: Self);
    /// The report (its errors are left to the full reader).
    fn finish(self, origin: &str) -> Result<Report, ParseError>;
    /// The name of the element most of a report is made of.
    const HOT: &'static str = "line";
    /// An empty element named [`Self::HOT`] inside the elements `open`: do exactly what
    /// [`Self::on`] does with it as an [`Ev::Empty`] and return the index of its `>`,
    /// or return `None`, having changed nothing, to leave it to `on`.
    fn hot(&mut self, tag: HotTag<'_>, open: &Open) -> Option<usize> {
        let _ = (tag, open);
        None
    }
}

/// An [`XmlHandler`] with the tokenizer's state: a [`Chunked`] parser.
pub(crate) struct XmlChunks<H> {
    open: Open,
    handler: H,
}

impl<H: XmlHandler> Chunked for XmlChunks<H> {
    type Carry = (Open, H::Carry);
    const SPLIT: &'static [u8] = H::SPLIT;

    fn start(carry: Option<&Self::Carry>) -> Self {
        XmlChunks {
            open: carry.map(|c| c.0.clone()).unwrap_or_default(),
            handler: H::resume(carry.map(|c| &c.1)),
        }
    }

    fn chunk(&mut self, text: &str, origin: &str, first: bool, last: bool) -> Step {
        events(text, &mut self.open, origin, first, last, &mut self.handler)
    }

    fn carry(&self) -> Self::Carry {
        (self.open.clone(), self.handler.carry())
    }

    fn absorb(&mut self, later: Self) {
        self.open = later.open;
        self.handler.absorb(later.handler);
    }

    fn finish(self, origin: &str) -> Option<Report> {
        self.handler.finish(origin).ok()
    }
}
