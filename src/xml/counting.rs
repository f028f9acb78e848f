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
}

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
    fn fill_cutting(&mut self) -> std::io::Result<Option<usize>> {
        let buf = self.inner.fill_buf()?;
        let Some(&first) = buf.first() else {
            return Ok(Some(0));
        };
        if self.event_bytes == 0 {
            self.in_text = first != b'<' && first != b'&';
        } else if first == b'<' {
            self.in_text = false;
        }
        if !self.in_text {
            return Ok(None);
        }
        let room = MAX_VALUE.saturating_sub(self.event_bytes);
        let mut n = buf.len().min(room);
        while n > 0 && n < buf.len() && (buf[n] & 0xC0) == 0x80 {
            n -= 1;
        }
        if n > 0 {
            return Ok(Some(n));
        }
        // Past the cap: skip what is left of the run.
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(Some(0));
            }
            match memchr::memchr2(b'<', b'&', buf) {
                Some(i) => {
                    self.newlines += count_newlines(&buf[..i]);
                    self.inner.consume(i);
                    self.in_text = false;
                    let len = self.inner.fill_buf()?.len();
                    return Ok(Some(len));
                }
                None => {
                    let len = buf.len();
                    self.newlines += count_newlines(buf);
                    self.inner.consume(len);
                }
            }
        }
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.cut_text
            && let Some(n) = self.fill_cutting()?
        {
            let buf = self.inner.fill_buf()?;
            return Ok(&buf[..n.min(buf.len())]);
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
        // `fill_buf` after a `fill_buf` without `consume` returns the same bytes without
        // I/O (the `BufRead` contract), so this only looks at what is being consumed.
        if let Ok(buf) = self.inner.fill_buf() {
            self.newlines += count_newlines(&buf[..amt.min(buf.len())]);
        }
        self.event_bytes += amt;
        self.inner.consume(amt);
    }
}
