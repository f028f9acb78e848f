//! The baseline record: a compact, versioned, machine-readable result a gate leaves in its
//! own check run, so a later run on a pull request can read it back from the merge-base's
//! check run (no storage branch, no SaaS; reading needs only `checks: read`).
//!
//! Gate-agnostic: a record is named counters (`lines`, `branches`; a tests gate would use
//! `passed`, `failed`), their totals, and the same counters per item (files). The block is
//! an HTML comment, invisible where GitHub renders the check run:
//!
//! ```text
//! <!-- rust-ci-action:record v1 <base64 of deflated JSON> -->
//! ```
//!
//! The version sits outside the compressed part so an unknown one is refused before any
//! decompression; base64 has no `-`, so the comment cannot be closed early. Decoding is
//! bounded (compressed and decompressed sizes) because the text is read back from a
//! check run anyone with `checks: write` could have written. Pure: strings in, values out.

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The record format this build writes and reads.
pub(crate) const VERSION: u32 = 1;
const OPEN: &str = "<!-- rust-ci-action:record v";
const CLOSE: &str = " -->";
/// A block longer than this is refused unread (the check-run text cannot hold more).
const MAX_BLOCK: usize = 70_000;
/// Decompressed JSON larger than this is refused (a deflate bomb would be far larger).
const MAX_JSON: u64 = 32 << 20;

/// One gate run's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The gate that wrote it (`coverage`).
    pub kind: String,
    /// The check run's name: a record is only read back by the same check name.
    pub check: String,
    /// Counter names, in the order `totals` and each item's counts follow.
    pub counters: Vec<String>,
    /// `(covered, total)` per counter.
    pub totals: Vec<(u64, u64)>,
    /// Items (files) with `(covered, total)` per counter; possibly fewer than `items_total`.
    pub items: Vec<Item>,
    /// How many items the run had (more than `items` when the block had to be cut).
    pub items_total: u64,
}

/// One item (a file) of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Item {
    /// Name (a repository path).
    pub name: String,
    /// `(covered, total)` per counter of the record.
    pub counts: Vec<(u64, u64)>,
}

impl Record {
    /// The totals of counter `name`.
    pub(crate) fn total(&self, name: &str) -> Option<(u64, u64)> {
        let i = self.counters.iter().position(|c| c == name)?;
        self.totals.get(i).copied()
    }

    /// Whether every item is in the record.
    pub(crate) fn complete(&self) -> bool {
        self.items.len() as u64 >= self.items_total
    }
}

/// An encoded block and how much of the record it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// The block (empty when not even the totals fit the budget).
    pub block: String,
    /// Items in the block.
    pub items: usize,
    /// Items in the record.
    pub items_total: usize,
}

/// Why a block was not used; each is a notice, never an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Ignored {
    /// No block in the text.
    #[error("no baseline record in the check run")]
    Missing,
    /// A version this build does not read.
    #[error("the baseline record has version {0}, this build reads version {VERSION}")]
    Version(String),
    /// Not base64, not deflate, not the JSON we write, or too large.
    #[error("the baseline record is malformed ({0})")]
    Malformed(String),
    /// Written by another gate or another check name.
    #[error("the baseline record belongs to {0}")]
    Other(String),
}

/// Level 4: on a 16,500-file record (790 KB of JSON) 2 % larger than level 6 in less than
/// half the time (zlib-rs: 9.6 against 21.3 ms).
const LEVEL: u32 = 4;

/// Items' JSON between two flushes of the one compressed stream ([`Stream`]): each flush
/// costs a deflate block header (tens of bytes), and each attempt of the search
/// compresses afresh about this much.
const SEGMENT: usize = 32 << 10;

/// A deflate encoder at [`LEVEL`] writing into memory.
fn encoder() -> flate2::write::DeflateEncoder<Vec<u8>> {
    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(LEVEL))
}

/// `parts` deflated, in order, as one finished stream.
fn deflate(parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut enc = encoder();
    for part in parts {
        enc.write_all(part).ok()?;
    }
    enc.finish().ok()
}

/// The block of `deflated` bytes.
fn block_of(deflated: &[u8]) -> String {
    format!("{OPEN}{VERSION} {}{CLOSE}", STANDARD.encode(deflated))
}

/// The length of the block of `deflated` bytes, without making it.
fn block_len(deflated: usize) -> usize {
    OPEN.len() + VERSION.to_string().len() + 1 + deflated.div_ceil(3) * 4 + CLOSE.len()
}

#[cfg(test)]
fn compress(json: &[u8]) -> Option<String> {
    Some(block_of(&deflate(&[json])?))
}

/// A record serialised once, so the JSON of any prefix of its items is two slices and a
/// tail (no re-serialising or cloning per attempt).
struct Prefixes {
    /// `{"kind":...,"items":[` then every item, comma-separated.
    json: Vec<u8>,
    /// Where the items start, and where item `i` ends.
    start: usize,
    ends: Vec<usize>,
    /// `],"items_total":N}`.
    tail: String,
}

impl Prefixes {
    fn new(record: &Record) -> Option<Self> {
        #[derive(Serialize)]
        struct Head<'a> {
            kind: &'a str,
            check: &'a str,
            counters: &'a [String],
            totals: &'a [(u64, u64)],
        }
        let head = serde_json::to_vec(&Head {
            kind: &record.kind,
            check: &record.check,
            counters: &record.counters,
            totals: &record.totals,
        })
        .ok()?;
        // `{...}` without its closing brace, then the items array.
        let mut json = head[..head.len() - 1].to_vec();
        json.extend_from_slice(b",\"items\":[");
        let start = json.len();
        let mut ends = Vec::with_capacity(record.items.len());
        for (i, item) in record.items.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            serde_json::to_writer(&mut json, item).ok()?;
            ends.push(json.len());
        }
        Some(Self {
            json,
            start,
            ends,
            tail: format!("],\"items_total\":{}}}", record.items_total),
        })
    }

    /// Where the JSON of the first `n` items ends.
    fn end(&self, n: usize) -> usize {
        n.checked_sub(1)
            .and_then(|i| self.ends.get(i))
            .copied()
            .unwrap_or(self.start)
    }

    /// The record's JSON with its first `n` items.
    #[cfg(test)]
    fn with(&self, n: usize) -> Vec<u8> {
        let end = self.end(n);
        let mut out = Vec::with_capacity(end + self.tail.len());
        out.extend_from_slice(&self.json[..end]);
        out.extend_from_slice(self.tail.as_bytes());
        out
    }
}

/// Where the one stream was flushed: after `items` items, their JSON ending at `json`,
/// its deflated bytes ending at `deflated` (on a byte boundary, the window kept).
#[derive(Debug, Clone, Copy)]
struct Cut {
    items: usize,
    json: usize,
    deflated: usize,
}

/// The record's JSON compressed once, in order, flushed after the head and after every
/// [`SEGMENT`] bytes of items, until the flushed bytes alone pass `budget`. A block for
/// `n` items is the stream up to a cut, then a fresh stream of the items after the cut
/// and the tail: deflate blocks refer only to bytes of their own stream, so the fresh one
/// continues the flushed one, and each attempt compresses only what follows the cut.
struct Stream {
    deflated: Vec<u8>,
    cuts: Vec<Cut>,
}

impl Stream {
    fn new(p: &Prefixes, budget: usize) -> Option<Self> {
        let mut enc = encoder();
        enc.write_all(&p.json[..p.start]).ok()?;
        enc.flush().ok()?;
        let mut cuts = vec![Cut {
            items: 0,
            json: p.start,
            deflated: enc.get_ref().len(),
        }];
        let mut from = p.start;
        for (i, &end) in p.ends.iter().enumerate() {
            if end - from < SEGMENT && i + 1 < p.ends.len() {
                continue;
            }
            enc.write_all(&p.json[from..end]).ok()?;
            enc.flush().ok()?;
            from = end;
            let deflated = enc.get_ref().len();
            cuts.push(Cut {
                items: i + 1,
                json: end,
                deflated,
            });
            if block_len(deflated) > budget {
                break;
            }
        }
        Some(Self {
            deflated: enc.finish().ok()?,
            cuts,
        })
    }

    /// The block of the first `n` items (`n` at least the cut's).
    fn block(&self, p: &Prefixes, cut: Cut, n: usize) -> Option<String> {
        let rest = deflate(&[p.json.get(cut.json..p.end(n))?, p.tail.as_bytes()])?;
        let mut bytes = Vec::with_capacity(cut.deflated + rest.len());
        bytes.extend_from_slice(&self.deflated[..cut.deflated]);
        bytes.extend_from_slice(&rest);
        Some(block_of(&bytes))
    }

    /// The last cut after which the tail still fits, with that block.
    fn start(&self, p: &Prefixes, budget: usize) -> Option<(Cut, String)> {
        self.cuts.iter().rev().find_map(|&c| {
            self.block(p, c, c.items)
                .filter(|b| b.len() <= budget)
                .map(|b| (c, b))
        })
    }
}

/// Encode `record` in at most `budget` bytes: every item when they fit, otherwise the
/// totals and the longest prefix of `items` that fits (the caller orders the items by
/// what matters most). The record is compressed once as a [`Stream`]; the longest prefix
/// is then searched for from the last cut that leaves room, each attempt compressing
/// only the items after that cut: the work follows what fits, not the record's size.
pub(crate) fn encode(record: &Record, budget: usize) -> Encoded {
    let total = record.items.len();
    let mut out = Encoded {
        block: String::new(),
        items: 0,
        items_total: total,
    };
    let Some(p) = Prefixes::new(record) else {
        return out;
    };
    let Some(stream) = Stream::new(&p, budget) else {
        return out;
    };
    let Some((cut, first)) = stream.start(&p, budget) else {
        return out;
    };
    let block = |n: usize| stream.block(&p, cut, n);
    // Invariant: `lo` items fit (block `size_lo` bytes); `hi` do not (`size_hi`), once
    // found. The first guess is what the stream's bytes per item say fits; the bracket
    // then grows by what the items after the cut have cost, a little past the estimate.
    let (mut lo, mut size_lo) = (cut.items, first.len());
    out.block = first;
    let last = stream.cuts.last().copied().unwrap_or(cut);
    let streamed = last.deflated.saturating_sub(stream.cuts[0].deflated) as f64 * 4.0 / 3.0;
    let mut per_item = (streamed / last.items.max(1) as f64).max(1.0);
    let mut n = lo + ((budget - size_lo) as f64 / per_item) as usize;
    let (hi, size_hi) = loop {
        if lo == total {
            // Everything fits.
            out.items = total;
            return out;
        }
        n = n.clamp(lo + 1, total);
        let Some(b) = block(n) else { return out };
        if b.len() > budget {
            break (n, b.len());
        }
        if n - cut.items >= 64 {
            per_item = (b.len().saturating_sub(size_lo) as f64 / (n - lo) as f64).max(1.0);
        }
        lo = n;
        size_lo = b.len();
        out.block = b;
        let reach = lo + ((budget - size_lo) as f64 / per_item) as usize;
        // Straight to every item when the estimate says they all fit.
        n = if reach >= total {
            total
        } else {
            (reach + (reach - cut.items) / 8 + 1).min(lo + (lo - cut.items).max(64))
        };
    };
    let (mut hi, mut size_hi) = (hi, size_hi);
    // Then between the two: interpolated, since the size grows about linearly with the
    // items; when a guess fails to halve the interval, the next one is the midpoint (the
    // bisection's bound holds).
    let mut bisect = false;
    while hi - lo > 1 {
        let mid = if bisect || size_hi <= size_lo {
            lo + (hi - lo) / 2
        } else {
            let want = (budget - size_lo) as u128 * (hi - lo) as u128;
            let guess = lo + (want / (size_hi - size_lo) as u128) as usize;
            guess.clamp(lo + 1, hi - 1)
        };
        let before = hi - lo;
        match block(mid) {
            Some(b) if b.len() <= budget => {
                lo = mid;
                size_lo = b.len();
                out.block = b;
            }
            Some(b) => {
                hi = mid;
                size_hi = b.len();
            }
            None => return out,
        }
        bisect = (hi - lo) * 2 > before;
    }
    out.items = lo;
    out
}

/// Find and decode the block in `text` (a check run's output); `kind` and `check` must
/// match what the record says.
pub(crate) fn decode(text: &str, kind: &str, check: &str) -> Result<Record, Ignored> {
    let start = text.find(OPEN).ok_or(Ignored::Missing)?;
    let rest = &text[start + OPEN.len()..];
    let end = rest
        .find(CLOSE)
        .ok_or_else(|| Ignored::Malformed("the block is not closed".into()))?;
    let body = &rest[..end];
    if body.len() > MAX_BLOCK {
        return Err(Ignored::Malformed("the block is too long".into()));
    }
    let (version, data) = body
        .split_once(' ')
        .ok_or_else(|| Ignored::Malformed("no version".into()))?;
    if version != VERSION.to_string() {
        let shown: String = version.chars().take(12).collect();
        return Err(Ignored::Version(shown));
    }
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|e| Ignored::Malformed(format!("base64: {e}")))?;
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(bytes.as_slice())
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| Ignored::Malformed(format!("deflate: {e}")))?;
    if json.len() as u64 > MAX_JSON {
        return Err(Ignored::Malformed("larger than 32 MiB unpacked".into()));
    }
    let record: Record =
        serde_json::from_slice(&json).map_err(|e| Ignored::Malformed(format!("JSON: {e}")))?;
    let n = record.counters.len();
    let shaped = record.totals.len() == n && record.items.iter().all(|i| i.counts.len() == n);
    if !shaped {
        return Err(Ignored::Malformed(
            "counts do not match the counter names".into(),
        ));
    }
    if record.kind != kind || record.check != check {
        return Err(Ignored::Other(format!(
            "the {} gate's check {:?}, not {check:?}",
            record.kind, record.check
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> Record {
        Record {
            kind: "coverage".into(),
            check: "cov".into(),
            counters: vec!["lines".into(), "branches".into()],
            totals: vec![(10, 20), (1, 2)],
            items: (0..n)
                .map(|i| Item {
                    name: format!("src/module{i}/file{}.rs", i * 7919 % 1000),
                    counts: vec![((i * 31 % 97) as u64, 97), (0, 0)],
                })
                .collect(),
            items_total: n as u64,
        }
    }

    #[test]
    fn round_trip_and_inert_markdown() {
        let r = record(50);
        let e = encode(&r, 65_535);
        assert_eq!((e.items, e.items_total), (50, 50));
        assert!(e.block.starts_with("<!-- ") && e.block.ends_with(" -->"));
        assert_eq!(e.block.matches("--").count(), 2, "nothing closes it early");
        let text = format!("| table |\n\n{}\n", e.block);
        assert_eq!(decode(&text, "coverage", "cov"), Ok(r));
    }

    #[test]
    fn a_prefix_is_the_record_cut_to_its_first_items() {
        let r = record(50);
        let p = Prefixes::new(&r).unwrap();
        for n in [0, 1, 2, 49, 50] {
            let back: Record = serde_json::from_slice(&p.with(n)).unwrap();
            let cut = Record {
                items: r.items[..n].to_vec(),
                ..r.clone()
            };
            assert_eq!(back, cut, "{n}");
        }
    }

    /// The block `encode` makes of the first `n` items under `budget`: the same stream,
    /// from the same cut.
    fn block_with(record: &Record, budget: usize, n: usize) -> Option<String> {
        let p = Prefixes::new(record)?;
        let stream = Stream::new(&p, budget)?;
        let (cut, _) = stream.start(&p, budget)?;
        stream.block(&p, cut, n)
    }

    #[test]
    fn too_many_items_keep_totals_and_a_prefix() {
        let r = record(20_000);
        let e = encode(&r, 20_000);
        assert!(e.block.len() <= 20_000, "{}", e.block.len());
        assert!(e.items > 100 && e.items < 20_000, "{}", e.items);
        let back = decode(&e.block, "coverage", "cov").unwrap();
        assert!(!back.complete());
        assert_eq!(back.items_total, 20_000);
        assert_eq!(back.totals, r.totals);
        assert_eq!(back.items[..], r.items[..e.items]);
        // One more item would not have fitted.
        assert!(block_with(&r, 20_000, e.items + 1).unwrap().len() > 20_000);
        assert_eq!(encode(&r, 10).block, "", "not even the totals fit");
        // As many items as one compression of the prefix would fit, within 1 %.
        let one_shot = |n: usize| compress(&Prefixes::new(&r).unwrap().with(n)).unwrap();
        assert!(one_shot(e.items * 101 / 100).len() > 20_000);
    }

    #[test]
    fn the_prefix_is_the_longest_that_fits_at_any_size_and_budget() {
        for n in [0, 1, 10, 63, 64, 65, 3_000, 9_000] {
            let r = record(n);
            for budget in [120, 300, 1_000, 5_000, 20_000, 60_000, 100_000] {
                let e = encode(&r, budget);
                let p = Prefixes::new(&r).unwrap();
                if e.block.is_empty() {
                    let stream = Stream::new(&p, budget).unwrap();
                    let none = stream.block(&p, stream.cuts[0], 0).unwrap();
                    assert!(none.len() > budget, "{n} {budget}");
                    continue;
                }
                assert!(e.block.len() <= budget, "{n} {budget}");
                assert_eq!(
                    e.block,
                    block_with(&r, budget, e.items).unwrap(),
                    "{n} {budget}"
                );
                if e.block.len() <= MAX_BLOCK {
                    let back = decode(&e.block, "coverage", "cov").unwrap();
                    assert_eq!(back.items[..], r.items[..e.items], "{n} {budget}");
                }
                if e.items < n {
                    let more = block_with(&r, budget, e.items + 1).unwrap();
                    assert!(more.len() > budget, "{n} {budget}: {} fit", e.items + 1);
                }
            }
        }
    }

    #[test]
    fn bad_blocks_are_ignored_with_a_reason() {
        let good = encode(&record(3), 65_535).block;
        let payload = good
            .trim_start_matches("<!-- rust-ci-action:record v1 ")
            .trim_end_matches(" -->");
        let cases: Vec<(String, &str)> = vec![
            ("no block here".into(), "no baseline record"),
            (format!("{OPEN}1 abc"), "not closed"),
            (format!("{OPEN}9 {payload}{CLOSE}"), "version 9"),
            (format!("{OPEN}1 !!!{CLOSE}"), "base64"),
            (format!("{OPEN}1 aGVsbG8={CLOSE}"), "deflate"),
            (
                compress(b"{\"kind\":\"coverage\"}").unwrap(),
                "JSON",
            ),
            (
                compress(br#"{"kind":"coverage","check":"cov","counters":["a"],"totals":[],"items":[],"items_total":0}"#).unwrap(),
                "counts do not match",
            ),
            (format!("{OPEN}1{CLOSE}"), "no version"),
        ];
        for (text, want) in cases {
            let e = decode(&text, "coverage", "cov").unwrap_err();
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
        let e = decode(&good, "coverage", "other").unwrap_err();
        assert!(matches!(e, Ignored::Other(_)), "{e}");
        let e = decode(&good, "tests", "cov").unwrap_err();
        assert!(matches!(e, Ignored::Other(_)), "{e}");
    }

    #[test]
    fn a_deflate_bomb_is_refused() {
        let json = vec![b' '; (MAX_JSON + 10) as usize];
        let block = compress(&json).unwrap();
        assert!(block.len() < MAX_BLOCK, "{}", block.len());
        let e = decode(&block, "coverage", "cov").unwrap_err();
        assert!(e.to_string().contains("32 MiB"), "{e}");
    }
}
