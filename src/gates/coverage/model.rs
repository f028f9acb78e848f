//! The compact in-memory model every coverage parser produces: one [`Report`] per
//! report file, one [`FileReport`] per source path, and its executable [`Lines`] at
//! about one byte per line.
//!
//! This module only holds data and the duplicate-merging rules. It does no I/O, no
//! path normalisation and no cross-report merging policy (that belongs to the gate).
//!
//! Memory is the point of the shape: a 1 GB Cobertura report can list 24 million
//! distinct lines, so a line costs about one byte here (see [`Lines`]); 12-byte
//! [`LineRecord`]s exist only for the one file section a parser is reading.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::extras::{FileCounts, FileExtras};

mod batch;
pub use batch::LinesByFile;

/// A coverage report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Cobertura XML (coverage.py, gcovr, istanbul, cargo-llvm-cov, grcov, mypy, ...).
    Cobertura,
    /// LCOV tracefile (`SF:`/`DA:`/`BRDA:` records).
    Lcov,
    /// JaCoCo XML report.
    Jacoco,
    /// Clover XML (OpenClover, istanbul, PHPUnit).
    Clover,
    /// Go cover profile (`go test -coverprofile`).
    Go,
}

impl Format {
    /// Every format, in the order auto-detection documents them.
    pub const ALL: [Format; 5] = [
        Format::Cobertura,
        Format::Lcov,
        Format::Jacoco,
        Format::Clover,
        Format::Go,
    ];

    /// The lower-case name used in inputs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Cobertura => "cobertura",
            Format::Lcov => "lcov",
            Format::Jacoco => "jacoco",
            Format::Clover => "clover",
            Format::Go => "go",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of `cobertura`, `lcov`, `jacoco`, `clover`, `go`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown coverage format {0:?} (expected cobertura, lcov, jacoco, clover or go)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// One record of a file section as a parser collects it, before it joins the file's
/// [`Lines`]. 12 bytes; only sections (one `<class>`, one `SF` record) are held in this
/// form, never a whole report.
///
/// `branches_total == 0` means the report has no branch data for this line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LineRecord {
    /// 1-based line number as written in the report.
    pub line: u32,
    /// Execution count, saturating at `u32::MAX`.
    pub hits: u32,
    /// Branch outcomes taken at least once (never more than `branches_total`).
    pub branches_covered: u16,
    /// Branch outcomes on this line; 0 when there is no branch data.
    pub branches_total: u16,
}

const _: () = assert!(std::mem::size_of::<LineRecord>() == 12);

impl LineRecord {
    /// A line without branch data.
    pub fn new(line: u32, hits: u32) -> Self {
        LineRecord {
            line,
            hits,
            branches_covered: 0,
            branches_total: 0,
        }
    }

    /// Fold a duplicate record for the same line into this one: hits = max (so the
    /// line is covered if any record was), branch total and covered = max of each,
    /// covered capped at total.
    pub fn absorb(&mut self, other: &LineRecord) {
        self.hits = self.hits.max(other.hits);
        self.branches_total = self.branches_total.max(other.branches_total);
        self.branches_covered = self
            .branches_covered
            .max(other.branches_covered)
            .min(self.branches_total);
    }
}

/// How records for the same line inside one file section combine before the section
/// is merged into the file's [`Lines`] (where [`LineRecord::absorb`] applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameLine {
    /// Duplicates of one line (Cobertura, JaCoCo): max of everything.
    Max,
    /// Distinct elements on one line (LCOV `BRDA`s, Clover `cond`s): hits max,
    /// branch outcomes added up.
    SumBranches,
}

/// Sort `lines` and fold records of the same line per `rule`.
pub fn fold_lines(lines: &mut Vec<LineRecord>, rule: SameLine) {
    if lines.is_sorted_by(|a, b| a.line < b.line) {
        return;
    }
    lines.sort_by_key(|r| r.line);
    lines.dedup_by(|later, kept| {
        if later.line != kept.line {
            return false;
        }
        match rule {
            SameLine::Max => kept.absorb(later),
            SameLine::SumBranches => {
                kept.hits = kept.hits.max(later.hits);
                kept.branches_total = kept.branches_total.saturating_add(later.branches_total);
                kept.branches_covered = kept
                    .branches_covered
                    .saturating_add(later.branches_covered)
                    .min(kept.branches_total);
            }
        }
        true
    });
}

/// One executable line as the model keeps it: what the gate counts, nothing more (hit
/// counts beyond "at least once" are not kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Line {
    /// 1-based line number as written in the report.
    pub line: u32,
    /// Executed at least once.
    pub covered: bool,
    /// Branch outcomes taken at least once (never more than `branches_total`).
    pub branches_covered: u16,
    /// Branch outcomes on this line; 0 when there is no branch data.
    pub branches_total: u16,
}

impl Line {
    /// The duplicate rule of [`LineRecord::absorb`]: covered if either is, branch total
    /// and covered the max of each, covered capped at total.
    fn absorb(&mut self, other: &Line) {
        self.covered |= other.covered;
        self.branches_total = self.branches_total.max(other.branches_total);
        self.branches_covered = self
            .branches_covered
            .max(other.branches_covered)
            .min(self.branches_total);
    }
}

impl From<&LineRecord> for Line {
    fn from(r: &LineRecord) -> Self {
        Line {
            line: r.line,
            covered: r.hits > 0,
            branches_covered: r.branches_covered.min(r.branches_total),
            branches_total: r.branches_total,
        }
    }
}

/// Branch data of one line, kept apart from the line stream because most lines have
/// none. 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct BranchData {
    line: u32,
    covered: u16,
    total: u16,
}

/// The executable lines of one file, sorted and unique, in about one byte per line.
///
/// Lines are a LEB128 varint stream of `(line - previous line) << 1 | covered`; source
/// files list most lines, so a delta is nearly always below 64 and a line costs one
/// byte. Branch data sits in a sorted side table of 8-byte entries for the lines that
/// have it. The benchmark's 1 GB Cobertura report with 24 M distinct lines
/// (2.4 M of them with branch data) takes 41 MiB this way, where 12-byte records took
/// 275 MiB.
///
/// The encoding is canonical, so `==` compares contents.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Lines {
    stream: Vec<u8>,
    branches: Vec<BranchData>,
    /// The last line pushed (meaningless while `stream` is empty); kept so appending
    /// a later section does not decode the stream.
    last: u32,
}

impl fmt::Debug for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Lines {
    /// Lines from records sorted by line and unique (as the parsers' section fold
    /// leaves them).
    pub fn from_sorted_records(records: &[LineRecord]) -> Self {
        let mut out = Lines {
            stream: Vec::with_capacity(records.len()),
            ..Lines::default()
        };
        for r in records {
            out.push(Line::from(r));
        }
        out
    }

    /// No lines at all.
    pub fn is_empty(&self) -> bool {
        self.stream.is_empty()
    }

    /// Line and branch totals, straight from the bytes: a line is one varint (its last
    /// byte is below 0x80) and its covered bit is bit 0 of its first byte.
    pub fn totals(&self) -> Totals {
        // Byte `i` starts a line when `i` is 0 or byte `i - 1` ends one. Counted in
        // blocks of 255 with byte-wide sums, which the compiler turns into vector code.
        let s = &self.stream;
        let (mut total, mut covered) = (0u64, s.first().map_or(0, |&b| u64::from(b & 1)));
        for block in s.chunks(255) {
            let n: u8 = block.iter().map(|&b| u8::from(b < 0x80)).sum();
            total += u64::from(n);
        }
        let after_first = s.get(1..).unwrap_or_default();
        for (next, prev) in after_first.chunks(255).zip(s.chunks(255)) {
            let n: u8 = next
                .iter()
                .zip(prev)
                .map(|(&b, &p)| (b & 1) & u8::from(p < 0x80))
                .sum();
            covered += u64::from(n);
        }
        let mut t = Totals {
            lines_covered: covered,
            lines_total: total,
            ..Totals::default()
        };
        for b in &self.branches {
            t.branches_covered += u64::from(b.covered);
            t.branches_total += u64::from(b.total);
        }
        t
    }

    /// Heap bytes held (for benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.stream.capacity() + self.branches.capacity() * std::mem::size_of::<BranchData>()
    }

    /// The lines in order.
    pub fn iter(&self) -> LinesIter<'_> {
        LinesIter {
            stream: &self.stream,
            branches: &self.branches,
            prev: 0,
        }
    }

    /// Give back growth slack (after a file's last section).
    pub fn shrink_to_fit(&mut self) {
        self.stream.shrink_to_fit();
        self.branches.shrink_to_fit();
    }

    /// Append a line after every line held. Callers keep the order; a line that is not
    /// after the last one is dropped rather than break the invariant.
    fn push(&mut self, l: Line) {
        debug_assert!(self.is_empty() || l.line > self.last, "push out of order");
        if !self.is_empty() && l.line <= self.last {
            return;
        }
        let delta = if self.is_empty() {
            l.line
        } else {
            l.line - self.last
        };
        let mut v = (u64::from(delta) << 1) | u64::from(l.covered);
        while v >= 0x80 {
            // Truncation to the low seven bits is the encoding.
            self.stream.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.stream.push(v as u8);
        if l.branches_total > 0 {
            self.branches.push(BranchData {
                line: l.line,
                covered: l.branches_covered.min(l.branches_total),
                total: l.branches_total,
            });
        }
        self.last = l.line;
    }

    /// Merge sorted unique `other` into these lines in one pass; the same line in both
    /// follows [`Line::absorb`]. `first` is `other`'s first line.
    fn merge_iter(&mut self, other: impl Iterator<Item = Line>, first: Option<u32>) {
        let Some(first) = first else { return };
        // Fast path: `other` only adds lines after ours (a file split over several
        // consecutive classes).
        if self.is_empty() || first > self.last {
            for l in other {
                self.push(l);
            }
            return;
        }
        let mut merged = Lines {
            stream: Vec::with_capacity(self.stream.len() + self.stream.len() / 8),
            ..Lines::default()
        };
        let mut a = self.iter().peekable();
        let mut b = other.peekable();
        loop {
            let next = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (Some(x), Some(y)) => match x.line.cmp(&y.line) {
                    std::cmp::Ordering::Less => a.next(),
                    std::cmp::Ordering::Greater => b.next(),
                    std::cmp::Ordering::Equal => {
                        let mut m = *x;
                        m.absorb(y);
                        a.next();
                        b.next();
                        Some(m)
                    }
                },
            };
            if let Some(l) = next {
                merged.push(l);
            }
        }
        *self = merged;
    }
}

impl<'a> IntoIterator for &'a Lines {
    type Item = Line;
    type IntoIter = LinesIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<LineRecord> for Lines {
    /// Sorts and folds duplicates per [`SameLine::Max`]; for tests and tools.
    fn from_iter<I: IntoIterator<Item = LineRecord>>(iter: I) -> Self {
        let mut recs: Vec<LineRecord> = iter.into_iter().collect();
        fold_lines(&mut recs, SameLine::Max);
        Lines::from_sorted_records(&recs)
    }
}

/// Iterator over [`Lines`].
#[derive(Debug, Clone)]
pub struct LinesIter<'a> {
    stream: &'a [u8],
    branches: &'a [BranchData],
    prev: u32,
}

impl Iterator for LinesIter<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let (&b, rest) = self.stream.split_first()?;
            self.stream = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        // `push` wrote a u32 delta shifted by one, so this fits.
        let line = self.prev.wrapping_add((v >> 1) as u32);
        self.prev = line;
        let mut l = Line {
            line,
            covered: v & 1 == 1,
            branches_covered: 0,
            branches_total: 0,
        };
        if let Some((b, rest)) = self.branches.split_first().filter(|(b, _)| b.line == line) {
            l.branches_covered = b.covered;
            l.branches_total = b.total;
            self.branches = rest;
        }
        Some(l)
    }
}

/// Coverage of one source file inside one report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileReport {
    /// The path exactly as the report writes it (for JaCoCo: package directory joined
    /// with the source file name). Not normalised.
    pub path: String,
    /// Executable lines.
    pub lines: Lines,
}

impl FileReport {
    /// Line totals of this file.
    pub fn totals(&self) -> Totals {
        self.lines.totals()
    }
}

/// One parsed report file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The format it was parsed as.
    pub format: Format,
    /// The report file's path, for messages.
    pub origin: String,
    /// Cobertura `<source>` entries in document order; empty for other formats.
    pub sources: Vec<String>,
    /// One entry per distinct path, in order of first appearance in the report.
    pub files: Vec<FileReport>,
    /// Whether any line of the report carries branch data (stray branches included).
    pub has_branch_data: bool,
    /// Data beyond the line records, by [`FileReport::path`], for the files that have
    /// any (see [`super::extras`]); normalized.
    pub extras: BTreeMap<String, FileExtras>,
}

impl Report {
    /// Totals counted from the line records, with each file's extras applied (stray
    /// branches, the totals llvm-cov or gcovr's JaCoCo state where they replace the
    /// records); never from other summary attributes.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for f in &self.files {
            let c = self.counts(f);
            t.add(&Totals {
                lines_covered: c.lines.0,
                lines_total: c.lines.1,
                branches_covered: c.branches.0,
                branches_total: c.branches.1,
            });
        }
        t
    }

    /// One file's counts with its extras applied.
    pub fn counts(&self, f: &FileReport) -> FileCounts {
        super::extras::counts(&f.lines, self.extras.get(&f.path))
    }
}

/// Covered and total counts of lines and branch outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Executable lines hit at least once.
    pub lines_covered: u64,
    /// Executable lines.
    pub lines_total: u64,
    /// Branch outcomes taken at least once.
    pub branches_covered: u64,
    /// Branch outcomes.
    pub branches_total: u64,
}

impl Totals {
    /// Add another set of totals.
    pub fn add(&mut self, other: &Totals) {
        self.lines_covered += other.lines_covered;
        self.lines_total += other.lines_total;
        self.branches_covered += other.branches_covered;
        self.branches_total += other.branches_total;
    }
}

#[cfg(test)]
mod tests;
