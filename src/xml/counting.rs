//! The input side of the XML layer: a `BufRead` between the caller's reader and
//! quick-xml that counts newlines (for messages) and caps how much one event may make
//! quick-xml buffer. No parsing here.

use std::io::{BufRead, Read};

use super::{MAX_MARKUP, MAX_VALUE};

/// A `BufRead` that counts the newlines the XML reader has consumed, so an event's
/// line is known without a second pass, and refuses to hand out more than
/// [`MAX_MARKUP`] bytes for one event: past that, `fill_buf` fails (and `overflow`
/// says why), so the reader's buffer never grows beyond the cap.
pub(super) struct Counting<R> {
    pub(super) inner: R,
    pub(super) newlines: u64,
    /// Bytes handed out since the current event began ([`Xml::run`] resets it).
    pub(super) event_bytes: usize,
    /// An event ran past [`MAX_MARKUP`].
    pub(super) overflow: bool,
    /// A run of text past [`MAX_VALUE`] is cut there and the rest skipped, instead of
    /// refused (test output: a long log is real, and only its start is shown).
    pub(super) cut_text: bool,
    /// The current event is character data (it began with neither `<` nor `&`).
    pub(super) in_text: bool,
    /// The first bytes of the current event (to know a CDATA section).
    pub(super) head: [u8; 9],
    /// The last two bytes handed out (a `]]` the cut left behind ends a CDATA section).
    pub(super) tail: [u8; 2],
    /// Bytes of a made-up `]]>` still to hand out after a cut CDATA section.
    pub(super) pending: usize,
}

/// What [`Counting::fill_cutting`] decided.
enum Fill {
    /// Hand out this many bytes of the inner buffer.
    Inner(usize),
    /// Hand out the rest of the made-up `]]>`.
    Pending,
    /// Not text: the ordinary caps apply.
    Markup,
}

const CDATA_OPEN: &[u8; 9] = b"<![CDATA[";
const CDATA_CLOSE: &[u8; 3] = b"]]>";

pub(super) fn count_newlines(bytes: &[u8]) -> u64 {
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

impl<R: BufRead> Counting<R> {
    /// [`BufRead::fill_buf`] when text is cut: decides whether the event is text, hands
    /// out at most [`MAX_VALUE`] bytes of it (cut at a character boundary), then skips to
    /// the next `<` or `&`, so quick-xml ends the text event there. Linear: each byte is
    /// looked at once.
    fn fill_cutting(&mut self) -> std::io::Result<Fill> {
        if self.pending > 0 {
            return Ok(Fill::Pending);
        }
        let buf = self.inner.fill_buf()?;
        let Some(&first) = buf.first() else {
            return Ok(Fill::Inner(0));
        };
        if self.event_bytes == 0 {
            self.in_text = first != b'<' && first != b'&';
        } else if first == b'<' {
            self.in_text = false;
        }
        let cdata =
            !self.in_text && self.event_bytes >= CDATA_OPEN.len() && &self.head == CDATA_OPEN;
        if !self.in_text && !cdata {
            // Until the event's first 9 bytes are known, hand out no more of what could
            // be a CDATA opening than that, or quick-xml would take a whole buffer of the
            // section before it could be cut.
            let at = self.event_bytes;
            if at < CDATA_OPEN.len() {
                let k = buf.len().min(CDATA_OPEN.len() - at);
                if buf[..k] == CDATA_OPEN[at..at + k] {
                    return Ok(Fill::Inner(k));
                }
            }
            return Ok(Fill::Markup);
        }
        let room = MAX_VALUE.saturating_sub(self.event_bytes);
        let mut n = buf.len().min(room);
        while n > 0 && n < buf.len() && (buf[n] & 0xC0) == 0x80 {
            n -= 1;
        }
        if n > 0 {
            return Ok(Fill::Inner(n));
        }
        if cdata {
            return self.skip_cdata();
        }
        // Past the cap: skip what is left of the run.
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(Fill::Inner(0));
            }
            match memchr::memchr2(b'<', b'&', buf) {
                Some(i) => {
                    self.newlines += count_newlines(&buf[..i]);
                    self.inner.consume(i);
                    self.in_text = false;
                    let len = self.inner.fill_buf()?.len();
                    return Ok(Fill::Inner(len));
                }
                None => {
                    let len = buf.len();
                    self.newlines += count_newlines(buf);
                    self.inner.consume(len);
                }
            }
        }
    }

    /// Skip a cut CDATA section's rest up to and including its `]]>`, then hand out a
    /// made-up `]]>` so quick-xml ends the section with what it has. Brackets handed out
    /// just before the cut count towards the terminator.
    fn skip_cdata(&mut self) -> std::io::Result<Fill> {
        let mut brackets = match self.tail {
            [b']', b']'] => 2,
            [_, b']'] => 1,
            _ => 0,
        };
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                // Unterminated: quick-xml reports the truncated section.
                return Ok(Fill::Inner(0));
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                match b {
                    b']' => brackets = (brackets + 1).min(2),
                    b'>' if brackets == 2 => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => brackets = 0,
                }
            }
            let used = end.unwrap_or(buf.len());
            self.newlines += count_newlines(&buf[..used]);
            self.inner.consume(used);
            if end.is_some() {
                self.pending = CDATA_CLOSE.len();
                return Ok(Fill::Pending);
            }
        }
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.cut_text {
            match self.fill_cutting()? {
                Fill::Inner(n) => {
                    let buf = self.inner.fill_buf()?;
                    return Ok(&buf[..n.min(buf.len())]);
                }
                Fill::Pending => return Ok(&CDATA_CLOSE[CDATA_CLOSE.len() - self.pending..]),
                Fill::Markup => {}
            }
        }
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
        if self.pending > 0 {
            // The made-up `]]>` of a cut CDATA section: nothing of the input.
            self.pending = self.pending.saturating_sub(amt);
            self.event_bytes += amt;
            return;
        }
        // `fill_buf` after a `fill_buf` without `consume` returns the same bytes without
        // I/O (the `BufRead` contract), so this only looks at what is being consumed.
        if let Ok(buf) = self.inner.fill_buf() {
            let used = &buf[..amt.min(buf.len())];
            self.newlines += count_newlines(used);
            if self.cut_text {
                for (k, &b) in used.iter().enumerate() {
                    let at = self.event_bytes + k;
                    if at >= self.head.len() {
                        break;
                    }
                    self.head[at] = b;
                }
                match used {
                    [.., a, b] => self.tail = [*a, *b],
                    [b] => self.tail = [self.tail[1], *b],
                    [] => {}
                }
            }
        }
        self.event_bytes += amt;
        self.inner.consume(amt);
    }
}
