//! Big reports on every core: the input is read in chunks of about [`CHUNK`] bytes, each
//! cut right before a file section starts (`<class `, `SF:`, ...), the chunks are parsed
//! by worker threads and merged in order. Memory holds a few chunks at a time, never
//! the whole report; a report that fits in one chunk is parsed on the calling thread.
//!
//! A chunk after the first is parsed speculatively, from the state the first chunk
//! ended in (open elements and the format's own state between sections). Chunks join
//! only where the previous chunk really ended in that state, so the result is the one a
//! single front-to-back pass gives; where it did not (a cut inside a comment, a section
//! left open), or where any chunk found something unusual, the whole run gives up
//! ([`None`]) and the caller reads the report again with the full reader, which alone
//! produces errors, with their file and line. Pure: reads only the reader it is given.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Mutex;
use std::sync::mpsc;

use memchr::memmem;

use super::fast::Step;
use crate::gates::coverage::model::Report;

/// Chunk size: large enough that a chunk's set-up (a channel hop, a builder merged) is
/// noise (~2 ms of parsing), small enough that the few in flight cost little memory and
/// the first chunk, parsed before the workers start, little time.
pub(crate) const CHUNK: usize = 1 << 20;

/// How far past [`CHUNK`] a chunk may grow while looking for a place to cut (one file
/// section that long is not a real report's); past it the fast path gives up.
const MAX_EXTRA: usize = 16 << 20;

/// Read granularity while looking for a cut (what is read past it moves to the next
/// chunk: a copy, so small).
const BLOCK: usize = 64 << 10;

/// A format parser that can parse a report in chunks.
pub(crate) trait Chunked: Sized + Send {
    /// The state carried from one chunk into the next; chunks join where it is equal.
    type Carry: Clone + PartialEq + Send + Sync;
    /// Where a chunk may start: the first bytes of a file section.
    const SPLIT: &'static [u8];
    /// A parser at the document's start (`None`) or at a chunk starting in `carry`.
    fn start(carry: Option<&Self::Carry>) -> Self;
    /// Parse one chunk; `first`/`last`: it starts/ends the document.
    fn chunk(&mut self, text: &str, origin: &str, first: bool, last: bool) -> Step;
    /// The state after the last chunk parsed.
    fn carry(&self) -> Self::Carry;
    /// Take in what the parser of the following chunk collected.
    fn absorb(&mut self, later: Self);
    /// The report, or `None` to leave the verdict (e.g. "no files") to the full reader.
    fn finish(self, origin: &str) -> Option<Report>;
}

/// Cuts the input into chunks.
struct Splitter<R> {
    reader: R,
    /// Chunk size ([`CHUNK`]; tests make it small to cut everywhere).
    size: usize,
    /// Bytes read past the last cut: the start of the next chunk.
    spill: Vec<u8>,
    eof: bool,
    finder: memmem::Finder<'static>,
}

impl<R: Read> Splitter<R> {
    /// Read up to `n` more bytes into `buf`; false at the end of input. I/O errors give
    /// up the fast path (the full reader reports them).
    fn read(&mut self, buf: &mut Vec<u8>, n: usize) -> Result<(), ()> {
        let got = (&mut self.reader)
            .take(n as u64)
            .read_to_end(buf)
            .map_err(|_| ())?;
        if got < n {
            self.eof = true;
        }
        Ok(())
    }

    /// The next chunk into `buf`: `Ok(Some(last))`, `Ok(None)` at the end of input,
    /// `Err` to give up.
    fn next(&mut self, buf: &mut Vec<u8>) -> Result<Option<bool>, ()> {
        buf.clear();
        buf.append(&mut self.spill);
        if !self.eof && buf.len() < self.size {
            let want = self.size - buf.len();
            self.read(buf, want)?;
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let mut from = self.size.min(buf.len()).max(1);
        loop {
            if self.eof {
                return Ok(Some(true));
            }
            if let Some(p) = self.finder.find(&buf[from..]) {
                self.spill = buf.split_off(from + p);
                return Ok(Some(false));
            }
            if buf.len() > self.size + MAX_EXTRA {
                return Err(());
            }
            from = buf.len().saturating_sub(Self::overlap(&self.finder)).max(1);
            self.read(buf, BLOCK)?;
        }
    }

    fn overlap(finder: &memmem::Finder<'_>) -> usize {
        finder.needle().len().saturating_sub(1)
    }
}

/// One chunk's result on its way back to the merging thread: its index, its parser
/// (`None`: it gave up) and its buffer for reuse.
type Parsed<C> = (usize, Option<C>, Vec<u8>);

/// Parse `reader` in chunks of about `size` bytes with `C`; `None` when the full reader
/// must decide.
pub(crate) fn run<C: Chunked, R: Read>(reader: R, origin: &str, size: usize) -> Option<Report> {
    let mut split = Splitter {
        reader,
        size: size.max(1),
        spill: Vec::new(),
        eof: false,
        finder: memmem::Finder::new(C::SPLIT).into_owned(),
    };
    let mut buf = Vec::with_capacity(size.min(CHUNK) + BLOCK);
    let last = split.next(&mut buf).ok()??;
    let mut head = C::start(None);
    let text = std::str::from_utf8(&buf).ok()?;
    if head.chunk(text, origin, true, last) == Step::Bail {
        return None;
    }
    if last {
        return head.finish(origin);
    }
    let carry = head.carry();
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (job_tx, job_rx) = mpsc::sync_channel::<(usize, Vec<u8>, bool)>(workers);
    let job_rx = Mutex::new(job_rx);
    let (res_tx, res_rx) = mpsc::channel::<Parsed<C>>();
    let ok = std::thread::scope(|s| {
        for _ in 0..workers {
            let (job_rx, res_tx, carry) = (&job_rx, res_tx.clone(), &carry);
            s.spawn(move || {
                loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((k, buf, last)) = job else { return };
                    let mut p = C::start(Some(carry));
                    let step = match std::str::from_utf8(&buf) {
                        Ok(text) => p.chunk(text, origin, false, last),
                        Err(_) => Step::Bail,
                    };
                    // Joins only where this chunk ends as the next one assumed it starts.
                    let joins = last || p.carry() == *carry;
                    let p = (step == Step::Done && joins).then_some(p);
                    if res_tx.send((k, p, buf)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(res_tx);
        let mut pool = vec![buf];
        let (mut sent, mut merged, mut in_flight) = (1usize, 1usize, 0usize);
        let (mut reading, mut gave_up) = (true, false);
        let mut waiting: BTreeMap<usize, Option<C>> = BTreeMap::new();
        let ok = loop {
            while reading && in_flight <= workers {
                let mut b = pool.pop().unwrap_or_default();
                // A chunk cut before a section always has a successor: running out of
                // input there (`None`) means the last chunk was never marked as such.
                let Ok(Some(last)) = split.next(&mut b) else {
                    gave_up = true;
                    break;
                };
                if job_tx.send((sent, b, last)).is_err() {
                    gave_up = true;
                    break;
                }
                sent += 1;
                in_flight += 1;
                reading = !last;
            }
            if gave_up {
                break false;
            }
            if in_flight == 0 {
                break true;
            }
            let Ok((k, p, b)) = res_rx.recv() else {
                break false;
            };
            in_flight -= 1;
            pool.push(b);
            waiting.insert(k, p);
            let mut failed = false;
            while let Some(p) = waiting.remove(&merged) {
                match p {
                    Some(p) => head.absorb(p),
                    None => failed = true,
                }
                merged += 1;
            }
            if failed {
                break false;
            }
        };
        // Workers still busy find nobody to report to and stop.
        drop(res_rx);
        drop(job_tx);
        ok && merged == sent
    });
    if ok { head.finish(origin) } else { None }
}
