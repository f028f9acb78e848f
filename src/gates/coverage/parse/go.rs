//! Go cover profiles (`go test -coverprofile`, also merged by gocovmerge or written by
//! `go tool covdata textfmt`): a `mode: set|count|atomic` line, then one block per line,
//! `<file>:<startLine>.<startCol>,<endLine>.<endCol> <numStmts> <count>`.
//!
//! The profile counts statements per block, not lines. A line is executable here if a
//! block with `numStmts > 0` covers it (start to end line inclusive), and covered if
//! any such block covering it has `count > 0`, which is how line-based tools (Codecov,
//! gocover-cobertura) read it. There is no branch data. Later `mode:` lines (profiles
//! concatenated by hand) are accepted and ignored.
//!
//! The blocks themselves are kept too (see [`FileExtras::blocks`]), for the number Go
//! prints: `go tool cover -func`'s `total: (statements)` is covered statements over
//! all statements, where a block written several times (`-coverpkg=./...` makes every
//! test binary write every block of the packages it covers) is one block, covered if
//! any binary ran it. Lines and statements differ: a line holds several blocks, a block
//! spans several lines.

use std::io::BufRead;

use super::{
    Builder, LineReader, Location, ParseError, ParseErrorKind, SameLine, check_len, excerpt,
    looks_binary, parse_u32_sat,
};
use crate::gates::coverage::extras::{Block, FileExtras};
use crate::gates::coverage::model::{Format, LineRecord, Report};

/// Longest block accepted, in lines. Real blocks span a few dozen lines; a bound keeps a
/// tiny malicious profile from expanding into billions of records.
pub const MAX_BLOCK_LINES: u64 = 100_000;

/// Blocks may expand to at most this many lines per input byte once past
/// [`MIN_EXPANSION_CHECKED`] lines. A real block line (~40 bytes) spans a few lines, so
/// only a crafted profile (thousands of huge blocks) gets near it; without the bound a
/// 64 KiB profile could ask for billions of records.
const MAX_LINES_PER_BYTE: u64 = 64;
const MIN_EXPANSION_CHECKED: u64 = 1_000_000;

const BLOCK: &str = "<file>:<line>.<column>,<line>.<column> <statements> <count>";
const MODE: &str = "mode: set, mode: count or mode: atomic";

/// Once a file's pending records exceed this, they are folded before more are added,
/// so overlapping blocks cannot grow memory past the file's distinct lines.
const FOLD_AT: usize = 1 << 16;

/// Parse a Go cover profile.
pub fn parse<R: BufRead>(reader: R, origin: &str) -> Result<Report, ParseError> {
    let mut lines = LineReader::new(reader);
    let mut builder = Builder::default();
    let mut current: Option<String> = None;
    let mut recs: Vec<LineRecord> = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut fold_at = FOLD_AT;
    let mut saw_mode = false;
    let mut expanded: u64 = 0;
    loop {
        // Bytes before this line: the expansion bound lags by one line, which is fine.
        let seen = lines.bytes_seen();
        let (line_no, line) = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(kind) => {
                return Err(ParseError::new(
                    origin,
                    Location::Line(lines.line_no()),
                    kind,
                ));
            }
        };
        let err = |kind| ParseError::new(origin, Location::Line(line_no), kind);
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if let Some(mode) = line.strip_prefix(b"mode:") {
            if !matches!(mode.trim_ascii(), b"set" | b"count" | b"atomic") {
                return Err(err(ParseErrorKind::Syntax {
                    expected: MODE,
                    found: excerpt(line),
                }));
            }
            saw_mode = true;
            continue;
        }
        if !saw_mode {
            return Err(err(if looks_binary(line) {
                ParseErrorKind::NotAReport("binary data".to_owned())
            } else {
                ParseErrorKind::Syntax {
                    expected: MODE,
                    found: excerpt(line),
                }
            }));
        }
        let syntax = || {
            err(ParseErrorKind::Syntax {
                expected: BLOCK,
                found: excerpt(line),
            })
        };
        let Some(block) = parse_block(line) else {
            return Err(syntax());
        };
        check_len(block.path, || "file path".to_owned()).map_err(err)?;
        let Ok(path) = std::str::from_utf8(block.path) else {
            return Err(ParseError::new(
                origin,
                Location::Whole,
                ParseErrorKind::InvalidUtf8(line_no),
            ));
        };
        if block.end < block.start {
            return Err(syntax());
        }
        let span = u64::from(block.end - block.start) + 1;
        if span > MAX_BLOCK_LINES {
            return Err(err(ParseErrorKind::BlockTooLong(span)));
        }
        if current.as_deref() != Some(path) {
            if let Some(prev) = current.take() {
                let extras = FileExtras {
                    blocks: std::mem::take(&mut blocks),
                    ..FileExtras::default()
                };
                builder.add_with(&prev, &mut recs, SameLine::Max, extras);
                fold_at = FOLD_AT;
            }
            current = Some(path.to_owned());
        }
        if block.statements == 0 {
            continue;
        }
        blocks.push(Block {
            start: (block.start, block.start_col),
            end: (block.end, block.end_col),
            statements: block.statements,
            covered: block.count > 0,
        });
        expanded += span;
        if expanded > MIN_EXPANSION_CHECKED && expanded > MAX_LINES_PER_BYTE.saturating_mul(seen) {
            return Err(err(ParseErrorKind::Implausible(format!(
                "its blocks span {expanded} lines in {seen} bytes"
            ))));
        }
        recs.extend((block.start..=block.end).map(|l| LineRecord::new(l, block.count)));
        if recs.len() > fold_at {
            super::fold_lines(&mut recs, SameLine::Max);
            fold_at = (recs.len() * 2).max(FOLD_AT);
        }
    }
    if !saw_mode {
        return Err(ParseError::new(
            origin,
            Location::Whole,
            ParseErrorKind::Empty,
        ));
    }
    if let Some(prev) = current {
        let extras = FileExtras {
            blocks,
            ..FileExtras::default()
        };
        builder.add_with(&prev, &mut recs, SameLine::Max, extras);
    }
    builder.finish(Format::Go, origin, Vec::new())
}

struct Raw<'a> {
    path: &'a [u8],
    start: u32,
    start_col: u32,
    end: u32,
    end_col: u32,
    statements: u32,
    count: u32,
}

/// Split `file:l1.c1,l2.c2 n c` from the right, so paths may hold `:` and spaces.
fn parse_block(line: &[u8]) -> Option<Raw<'_>> {
    let (rest, count) = rsplit_once(line, b' ')?;
    let (rest, statements) = rsplit_once(rest, b' ')?;
    let (path, range) = rsplit_once(rest, b':')?;
    if path.is_empty() {
        return None;
    }
    let (from, to) = range.split_at(range.iter().position(|&b| b == b',')?);
    let to = &to[1..];
    let line_col = |pos: &[u8]| -> Option<(u32, u32)> {
        let dot = pos.iter().position(|&b| b == b'.')?;
        Some((parse_u32_sat(&pos[..dot])?, parse_u32_sat(&pos[dot + 1..])?))
    };
    let (start, start_col) = line_col(from)?;
    let (end, end_col) = line_col(to)?;
    Some(Raw {
        path,
        start,
        start_col,
        end,
        end_col,
        statements: parse_u32_sat(statements)?,
        count: parse_u32_sat(count)?,
    })
}

fn rsplit_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().rposition(|&b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{errs, ok, paths, recs, t};
    use crate::gates::coverage::model::Format;

    const G: Format = Format::Go;

    #[test]
    fn blocks_to_lines() {
        let r = ok(
            G,
            "mode: count\n\
             example.com/m/a.go:3.14,5.2 2 1\n\
             example.com/m/a.go:5.2,7.3 1 0\n\
             example.com/m/a.go:9.1,9.20 0 0\n\
             example.com/m/b.go:1.1,1.5 1 0\n\
             example.com/m/a.go:10.1,10.9 1 4\n",
        );
        assert_eq!(paths(&r), ["example.com/m/a.go", "example.com/m/b.go"]);
        assert_eq!(
            recs(&r, "example.com/m/a.go"),
            [
                (3, true, 0, 0),
                (4, true, 0, 0),
                (5, true, 0, 0),
                (6, false, 0, 0),
                (7, false, 0, 0),
                (10, true, 0, 0)
            ]
        );
        assert_eq!(t(&r), (4, 7, 0, 0));
        assert!(!r.has_branch_data);
    }

    #[test]
    fn blocks_merge_per_block_across_test_binaries() {
        // `-coverpkg=./...`: each test binary writes every block; a.go 3.14,5.2 ran
        // only in the second binary, 9.1,9.20 has no statements.
        let r = ok(
            G,
            "mode: count\n\
             m/a.go:3.14,5.2 2 0\nm/a.go:5.2,7.3 1 0\nm/b.go:1.1,1.5 3 1\n\
             m/a.go:3.14,5.2 2 4\nm/a.go:5.2,7.3 1 0\nm/a.go:9.1,9.20 0 0\nm/b.go:1.1,1.5 3 0\n",
        );
        let blocks = |p: &str| {
            r.extras
                .get(p)
                .map(|x| {
                    x.blocks
                        .iter()
                        .map(|b| (b.start, b.end, b.statements, b.covered))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            blocks("m/a.go"),
            [((3, 14), (5, 2), 2, true), ((5, 2), (7, 3), 1, false)]
        );
        assert_eq!(blocks("m/b.go"), [((1, 1), (1, 5), 3, true)]);
        let statements: (u64, u64) = r.files.iter().fold((0, 0), |acc, f| {
            let c = r.counts(f).statements;
            (acc.0 + c.0, acc.1 + c.1)
        });
        assert_eq!(statements, (5, 6));
    }

    #[test]
    fn paths_with_colons_and_repeated_mode() {
        let r = ok(
            G,
            "mode: set\r\nC:/w/a b.go:1.1,2.1 1 1\nmode: set\nC:/w/a b.go:2.1,3.1 1 0\n",
        );
        assert_eq!(
            recs(&r, "C:/w/a b.go"),
            [(1, true, 0, 0), (2, true, 0, 0), (3, false, 0, 0)]
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "coverage.out: empty file"),
            (b"mode: set\n", "coverage.out: no file records"),
            (
                b"a.go:1.1,2.1 1 1\n",
                "coverage.out: line 1: expected mode: set, mode: count or mode: atomic, found \"a.go:1.1,2.1 1 1\"",
            ),
            (
                b"mode: fast\n",
                "coverage.out: line 1: expected mode: set, mode: count or mode: atomic, found \"mode: fast\"",
            ),
            (
                b"mode: set\na.go:1.1,2.1 1\n",
                "coverage.out: line 2: expected <file>:<line>.<column>,<line>.<column> <statements> <count>, found \"a.go:1.1,2.1 1\"",
            ),
            (
                b"mode: set\na.go:5.1,2.1 1 1\n",
                "coverage.out: line 2: expected <file>:<line>.<column>,<line>.<column> <statements> <count>, found \"a.go:5.1,2.1 1 1\"",
            ),
            (
                b"mode: set\na.go:1.1,4000000000.1 1 1\n",
                "coverage.out: line 2: block spans 4000000000 lines (more than 100000)",
            ),
            (
                b"mode: set\na.go:1.1,100000.1 1 1\nb.go:1.1,100000.1 1 1\nc.go:1.1,100000.1 1 1\nd.go:1.1,100000.1 1 1\ne.go:1.1,100000.1 1 1\nf.go:1.1,100000.1 1 1\ng.go:1.1,100000.1 1 1\nh.go:1.1,100000.1 1 1\ni.go:1.1,100000.1 1 1\nj.go:1.1,100000.1 1 1\nk.go:1.1,100000.1 1 1\n",
                "coverage.out: line 12: not a real cover profile (its blocks span 1100000 lines in 230 bytes)",
            ),
            (
                b"mode: set\nok.go:1.1,1.2 1 1\n\xff.go:1.1,2.1 1 1\n",
                "coverage.out: invalid UTF-8 at line 3",
            ),
            (
                b"\x89PNG\r\n\x1a\n\x00\x00",
                "coverage.out: line 1: not a coverage report (binary data)",
            ),
        ];
        errs(G, "coverage.out", cases);
    }
}
