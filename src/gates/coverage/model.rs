//! The compact in-memory model every coverage parser produces: one [`Report`] per
//! report file, one [`FileReport`] per source path, one 12-byte [`LineRecord`] per
//! executable line.
//!
//! This module only holds data and the duplicate-merging rules. It does no I/O, no
//! path normalisation and no cross-report merging policy (that belongs to the gate).
//!
//! Memory is the point of the shape: a 100 MB Cobertura report has about 2.4 million
//! `<line>` elements, so a line costs 12 bytes here and nothing else is kept per line.

use std::fmt;
use std::str::FromStr;

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

/// One executable line of one file. 12 bytes.
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

    /// Whether the line was executed at least once.
    pub fn is_covered(&self) -> bool {
        self.hits > 0
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

/// Coverage of one source file inside one report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileReport {
    /// The path exactly as the report writes it (for JaCoCo: package directory joined
    /// with the source file name). Not normalised.
    pub path: String,
    /// Executable lines, sorted by line number, each line at most once.
    pub lines: Vec<LineRecord>,
}

impl FileReport {
    /// Merge another report of the same file into this one with the duplicate rules of
    /// [`LineRecord::absorb`]. Both line lists must be sorted and unique (as every
    /// parser produces them); the result is too.
    pub fn merge_from(&mut self, other: &FileReport) {
        merge_sorted(&mut self.lines, &other.lines);
    }

    /// Line totals of this file.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        t.add_lines(&self.lines);
        t
    }
}

/// Merge the sorted unique `other` into the sorted unique `into`.
pub(crate) fn merge_sorted(into: &mut Vec<LineRecord>, other: &[LineRecord]) {
    if other.is_empty() {
        return;
    }
    // Fast path: `other` only adds lines after ours (the common case of a file split
    // over several consecutive classes).
    if into.last().is_none_or(|last| last.line < other[0].line) {
        into.extend_from_slice(other);
        return;
    }
    // Count the lines `other` adds: none (a repeated class or section) means an
    // in-place fold with no allocation; otherwise allocate exactly once.
    let mut new_lines = 0usize;
    let (mut i, mut j) = (0, 0);
    while j < other.len() {
        if i < into.len() && into[i].line < other[j].line {
            i += 1;
        } else {
            if i >= into.len() || into[i].line != other[j].line {
                new_lines += 1;
            }
            j += 1;
        }
    }
    if new_lines == 0 {
        let mut i = 0;
        for b in other {
            while i < into.len() && into[i].line < b.line {
                i += 1;
            }
            if let Some(a) = into.get_mut(i).filter(|a| a.line == b.line) {
                a.absorb(b);
            }
        }
        return;
    }
    let mut merged = Vec::with_capacity(into.len() + new_lines);
    let (mut i, mut j) = (0, 0);
    while i < into.len() && j < other.len() {
        let (a, b) = (into[i], other[j]);
        match a.line.cmp(&b.line) {
            std::cmp::Ordering::Less => {
                merged.push(a);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                merged.push(b);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let mut m = a;
                m.absorb(&b);
                merged.push(m);
                i += 1;
                j += 1;
            }
        }
    }
    merged.extend_from_slice(&into[i..]);
    merged.extend_from_slice(&other[j..]);
    *into = merged;
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
    /// Whether any line of the report carries branch data.
    pub has_branch_data: bool,
}

impl Report {
    /// Totals counted from the line records (never from summary attributes).
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for f in &self.files {
            t.add_lines(&f.lines);
        }
        t
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
    fn add_lines(&mut self, lines: &[LineRecord]) {
        self.lines_total += lines.len() as u64;
        for r in lines {
            self.lines_covered += u64::from(r.hits > 0);
            self.branches_covered += u64::from(r.branches_covered);
            self.branches_total += u64::from(r.branches_total);
        }
    }

    /// Add another set of totals.
    pub fn add(&mut self, other: &Totals) {
        self.lines_covered += other.lines_covered;
        self.lines_total += other.lines_total;
        self.branches_covered += other.branches_covered;
        self.branches_total += other.branches_total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: u32, hits: u32, bc: u16, bt: u16) -> LineRecord {
        LineRecord {
            line,
            hits,
            branches_covered: bc,
            branches_total: bt,
        }
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert_eq!(
            "xml".parse::<Format>().map_err(|e| e.to_string()),
            Err(
                "unknown coverage format \"xml\" (expected cobertura, lcov, jacoco, clover or go)"
                    .to_owned()
            )
        );
    }

    #[test]
    fn line_record_is_12_bytes() {
        assert_eq!(std::mem::size_of::<LineRecord>(), 12);
    }

    #[test]
    fn merge_rules() {
        let cases: &[(&[LineRecord], &[LineRecord], &[LineRecord])] = &[
            // `other` is a subset with gaps: folded in place.
            (
                &[rec(1, 0, 0, 0), rec(3, 0, 0, 0), rec(5, 2, 0, 0)],
                &[rec(3, 7, 1, 2), rec(5, 0, 0, 0)],
                &[rec(1, 0, 0, 0), rec(3, 7, 1, 2), rec(5, 2, 0, 0)],
            ),
            // Interleaved.
            (
                &[rec(2, 0, 0, 0), rec(4, 0, 0, 0)],
                &[rec(1, 1, 0, 0), rec(3, 1, 0, 0), rec(5, 1, 0, 0)],
                &[
                    rec(1, 1, 0, 0),
                    rec(2, 0, 0, 0),
                    rec(3, 1, 0, 0),
                    rec(4, 0, 0, 0),
                    rec(5, 1, 0, 0),
                ],
            ),
            (&[], &[rec(1, 0, 0, 0)], &[rec(1, 0, 0, 0)]),
            (&[rec(1, 0, 0, 0)], &[], &[rec(1, 0, 0, 0)]),
            (&[rec(1, 0, 0, 0)], &[rec(1, 3, 0, 0)], &[rec(1, 3, 0, 0)]),
            (&[rec(1, 5, 0, 0)], &[rec(1, 0, 0, 0)], &[rec(1, 5, 0, 0)]),
            (
                &[rec(1, 1, 1, 2), rec(4, 0, 0, 0)],
                &[rec(1, 1, 2, 4), rec(2, 1, 0, 0)],
                &[rec(1, 1, 2, 4), rec(2, 1, 0, 0), rec(4, 0, 0, 0)],
            ),
            (&[rec(1, 1, 2, 2)], &[rec(1, 1, 0, 4)], &[rec(1, 1, 2, 4)]),
            (
                &[rec(1, 1, 0, 0)],
                &[rec(3, 1, 0, 0)],
                &[rec(1, 1, 0, 0), rec(3, 1, 0, 0)],
            ),
        ];
        for (a, b, want) in cases {
            let mut f = FileReport {
                path: "a".into(),
                lines: a.to_vec(),
            };
            f.merge_from(&FileReport {
                path: "a".into(),
                lines: b.to_vec(),
            });
            assert_eq!(&f.lines, want, "{a:?} + {b:?}");
        }
    }

    #[test]
    fn totals_count_records() {
        let r = Report {
            format: Format::Lcov,
            origin: "x".into(),
            sources: vec![],
            files: vec![
                FileReport {
                    path: "a".into(),
                    lines: vec![rec(1, 1, 1, 2), rec(2, 0, 0, 0)],
                },
                FileReport {
                    path: "b".into(),
                    lines: vec![rec(1, u32::MAX, 0, 0)],
                },
            ],
            has_branch_data: true,
        };
        assert_eq!(
            r.totals(),
            Totals {
                lines_covered: 2,
                lines_total: 3,
                branches_covered: 1,
                branches_total: 2
            }
        );
    }
}
