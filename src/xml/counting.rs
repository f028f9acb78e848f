//! The input side of the XML layer: a `BufRead` between the caller's reader and
//! quick-xml that counts newlines (for messages) and caps how much one event may make
//! quick-xml buffer. No parsing here.

use std::io::{BufRead, Read};

use super::MAX_MARKUP;

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
