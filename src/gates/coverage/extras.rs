//! What a report says about a file beyond its executable lines ([`Lines`]), for the
//! producers whose own totals cannot be read off line records alone:
//!
//! - **stray branches** (istanbul LCOV): `BRDA` records on lines that have no `DA`
//!   (default parameters on a function's line). They count as branch outcomes, but the
//!   line is not an executable line.
//! - **stated line totals**: the report's own per-file totals, used instead of the line
//!   records' when they are the producer's definition of the number (llvm-cov `LF`/`LH`,
//!   which leave out macro-definition lines its `DA` records list), or when the lines
//!   carry no hit counts at all (gcovr's JaCoCo: `<line nr>` without `mi`/`ci`, counts
//!   only in `<counter type="LINE">`).
//! - **statement blocks** (Go profiles): Go measures statements, not lines; `go tool
//!   cover -func` and `go test -cover` print covered statements over all statements,
//!   with each block counted once however many test binaries wrote it.
//!
//! Pure data and merge rules: no I/O, no path mapping, no policy.

use super::model::Lines;

/// Extra data of one file. Empty for most producers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileExtras {
    /// Branch outcomes on lines that are not executable lines, sorted by line, unique.
    pub stray_branches: Vec<LineBranches>,
    /// Line totals the report states for the file, when they replace the line records'.
    pub stated: Option<StatedLines>,
    /// Go statement blocks, sorted by position, unique.
    pub blocks: Vec<Block>,
}

/// Branch outcomes of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineBranches {
    /// 1-based line.
    pub line: u32,
    /// Outcomes taken at least once (never more than `total`).
    pub covered: u16,
    /// Outcomes.
    pub total: u16,
}

/// A file's line totals as its report states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatedLines {
    /// Lines hit.
    pub covered: u64,
    /// Executable lines.
    pub total: u64,
    /// Whether the line records carry real hit counts. `false` (gcovr JaCoCo): the
    /// records only say which lines are executable, so nothing can be said per line:
    /// no annotations and no diff coverage for the file.
    pub per_line_hits: bool,
}

/// One Go cover-profile block: a source range and its statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Block {
    /// Start (line, column), 1-based.
    pub start: (u32, u32),
    /// End (line, column), 1-based.
    pub end: (u32, u32),
    /// Statements in the block.
    pub statements: u32,
    /// Executed at least once.
    pub covered: bool,
}

/// A file's counts with its extras applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileCounts {
    /// Lines (covered, total).
    pub lines: (u64, u64),
    /// Branch outcomes (covered, total), stray branches included.
    pub branches: (u64, u64),
    /// Statements (covered, total); (0, 0) without blocks.
    pub statements: (u64, u64),
    /// Whether per-line hits are known (see [`StatedLines::per_line_hits`]).
    pub per_line_hits: bool,
}

impl FileExtras {
    /// Nothing beyond the lines.
    pub fn is_empty(&self) -> bool {
        self.stray_branches.is_empty() && self.stated.is_none() && self.blocks.is_empty()
    }

    /// Fold in another section of the same file (from the same report or another).
    ///
    /// Stray branches and blocks are collected (call [`FileExtras::normalize`] before
    /// counting). Stated totals describe one section and cannot be added up (two
    /// sections may share lines), so once a file has two sections its totals come from
    /// the merged line records, except when neither section has per-line hits: then
    /// the larger of each count is kept, the closest lower bound of the union.
    pub fn absorb(&mut self, other: FileExtras) {
        self.stray_branches.extend(other.stray_branches);
        self.blocks.extend(other.blocks);
        self.stated = match (self.stated, other.stated) {
            (Some(a), Some(b)) if !a.per_line_hits && !b.per_line_hits => Some(StatedLines {
                covered: a.covered.max(b.covered),
                total: a.total.max(b.total),
                per_line_hits: false,
            }),
            _ => None,
        };
    }

    /// Sort and fold duplicates: a block written by several test binaries (`go test
    /// -coverpkg`) is one block, covered if any binary ran it (as `go tool cover`
    /// merges profiles); stray branches of one line keep the larger total and covered.
    pub fn normalize(&mut self) {
        self.blocks.sort_unstable();
        self.blocks.dedup_by(|later, kept| {
            if (later.start, later.end) != (kept.start, kept.end) {
                return false;
            }
            kept.covered |= later.covered;
            kept.statements = kept.statements.max(later.statements);
            true
        });
        self.stray_branches.sort_unstable_by_key(|b| b.line);
        self.stray_branches.dedup_by(|later, kept| {
            if later.line != kept.line {
                return false;
            }
            kept.total = kept.total.max(later.total);
            kept.covered = kept.covered.max(later.covered).min(kept.total);
            true
        });
    }
}

/// Counts of one file: its lines with `extras` applied. `extras` must be normalized.
pub(crate) fn counts(lines: &Lines, extras: Option<&FileExtras>) -> FileCounts {
    let t = lines.totals();
    let mut c = FileCounts {
        lines: (t.lines_covered, t.lines_total),
        branches: (t.branches_covered, t.branches_total),
        statements: (0, 0),
        per_line_hits: true,
    };
    let Some(x) = extras else { return c };
    if let Some(s) = x.stated {
        c.lines = (s.covered.min(s.total), s.total);
        c.per_line_hits = s.per_line_hits;
    }
    if !x.stray_branches.is_empty() {
        // A stray branch whose line has branch data from another section is the same
        // branch: count it once, from the line.
        let mut with_branches = lines.iter().filter(|l| l.branches_total > 0).peekable();
        for b in &x.stray_branches {
            while with_branches.next_if(|l| l.line < b.line).is_some() {}
            if with_branches.peek().is_some_and(|l| l.line == b.line) {
                continue;
            }
            c.branches.0 += u64::from(b.covered.min(b.total));
            c.branches.1 += u64::from(b.total);
        }
    }
    for b in &x.blocks {
        c.statements.1 += u64::from(b.statements);
        if b.covered {
            c.statements.0 += u64::from(b.statements);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::coverage::model::LineRecord;

    fn block(l: u32, n: u32, covered: bool) -> Block {
        Block {
            start: (l, 1),
            end: (l + 1, 2),
            statements: n,
            covered,
        }
    }

    #[test]
    fn blocks_merge_per_block() {
        let mut a = FileExtras {
            blocks: vec![block(3, 2, true), block(1, 1, false)],
            ..FileExtras::default()
        };
        a.absorb(FileExtras {
            blocks: vec![block(1, 1, true), block(3, 2, false), block(9, 4, false)],
            ..FileExtras::default()
        });
        a.normalize();
        assert_eq!(
            a.blocks,
            [block(1, 1, true), block(3, 2, true), block(9, 4, false)]
        );
        let c = counts(&Lines::default(), Some(&a));
        assert_eq!(c.statements, (3, 7));
    }

    #[test]
    fn stray_branches_count_once() {
        let lines: Lines = [LineRecord {
            line: 5,
            hits: 1,
            branches_covered: 1,
            branches_total: 2,
        }]
        .into_iter()
        .collect();
        let mut x = FileExtras {
            stray_branches: vec![
                LineBranches {
                    line: 9,
                    covered: 1,
                    total: 1,
                },
                LineBranches {
                    line: 5,
                    covered: 2,
                    total: 2,
                },
                LineBranches {
                    line: 2,
                    covered: 0,
                    total: 3,
                },
            ],
            ..FileExtras::default()
        };
        x.normalize();
        let c = counts(&lines, Some(&x));
        assert_eq!(c.branches, (2, 6), "line 5's branches come from the line");
        assert_eq!(c.lines, (1, 1));
    }

    #[test]
    fn stated_totals_survive_only_where_they_can() {
        let stated = |covered, total, per_line_hits| {
            Some(StatedLines {
                covered,
                total,
                per_line_hits,
            })
        };
        let cases = [
            (
                stated(1, 4, false),
                stated(3, 4, false),
                stated(3, 4, false),
            ),
            (stated(1, 4, true), stated(3, 4, true), None),
            (stated(1, 4, false), None, None),
            (None, stated(1, 4, true), None),
        ];
        for (a, b, want) in cases {
            let mut x = FileExtras {
                stated: a,
                ..FileExtras::default()
            };
            x.absorb(FileExtras {
                stated: b,
                ..FileExtras::default()
            });
            assert_eq!(x.stated, want, "{a:?} + {b:?}");
        }
        let lines: Lines = [LineRecord::new(1, 0), LineRecord::new(2, 0)]
            .into_iter()
            .collect();
        let c = counts(
            &lines,
            Some(&FileExtras {
                stated: stated(9, 7, false),
                ..FileExtras::default()
            }),
        );
        assert_eq!((c.lines, c.per_line_hits), ((7, 7), false));
    }
}
