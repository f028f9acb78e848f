//! LCOV tracefiles (geninfo/lcov, llvm-cov export, cargo-llvm-cov, grcov, c8/istanbul,
//! Bun, Deno, ...): `SF:<path>` ... `end_of_record` sections of `KEY:value` lines.
//!
//! Counted: `DA:<line>,<hits>[,<checksum>]` (one executable line) and
//! `BRDA:<line>,<block>,<branch>,<taken>` (one branch outcome; `-` means the block never
//! ran, so 0 taken but still counted). Several `BRDA`s on a line add up. `BRF`/`BRH`
//! summaries, `TN`, `FN*`, `VER` and keys this parser does not know are ignored.
//!
//! A `BRDA` on a line without a `DA` still counts as branch outcomes (a stray branch,
//! see [`FileExtras`]): istanbul (jest, nyc, c8) writes the default-parameter
//! branches of `function f(a = 1)` on the function's line, which has no statement and
//! so no `DA`, and its `BRF`/`BRH` and printed summary count them.
//!
//! `LF`/`LH` are the section's line totals when they differ from its `DA` records.
//! Only llvm-cov (`llvm-cov export -format=lcov`, `cargo llvm-cov --lcov`) writes such
//! sections, and its `LF`/`LH` are what `llvm-cov report` and `cargo llvm-cov` print:
//! the lines of the functions defined in the file. Its `DA` records are every line the
//! coverage mapping touches in the file, which also takes in the lines of macro
//! definitions expanded elsewhere: a header's `#define` body gets `DA` records (in the
//! header's own section) though no function of the header owns them, and `LF` leaves
//! them out (a `check.h` with one inline function and two multi-line macros: 10 `DA`,
//! `LF:1`; `cart.h` with `#define CART_MAX 8`: `DA:4,2`, `LF:0`). The records do not
//! say which lines are macro bodies: a macro's lines may sit right above a function
//! (contiguous with it), and comment lines inside a function have no `DA`, so the
//! function spans cannot be rebuilt from `FN` start lines either. Hence the stated
//! totals; the `DA` lines stay the per-line data (annotations, diff coverage), as
//! `llvm-cov show` shows them. geninfo, istanbul and coverage.py write `LF`/`LH`
//! equal to their `DA`s, so nothing changes for them. A file with several sections
//! takes its totals from the merged records (stated totals do not add up).
//!
//! Negative hit counts (old gcov overflow bug, which lcov itself clamps) read as 0. A
//! file that ends inside a section (no `end_of_record`) is truncated and an error.

use std::io::BufRead;

use super::chunk::Chunked;
use super::fast::Step;
use super::{
    Builder, LineReader, Location, MAX_LINE, ParseError, ParseErrorKind, SameLine, check_len,
    excerpt, looks_binary, parse_u32_sat, parse_u64_sat,
};
use crate::gates::coverage::extras::{FileExtras, LineBranches, StatedLines};
use crate::gates::coverage::model::{Format, LineRecord, Report};
use digits::digits;

mod digits;

const DA: &str = "DA:<line>,<hits>";
const BRDA: &str = "BRDA:<line>,<block>,<branch>,<taken>";

/// One open `SF` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    path: String,
    lines: Vec<LineRecord>,
    /// (line, taken?) per `BRDA`, applied to `lines` at `end_of_record`.
    branches: Vec<(u32, bool)>,
    /// `LF` and `LH`, when given.
    lf: Option<u64>,
    lh: Option<u64>,
}

/// Parse an LCOV tracefile.
pub fn parse<R: BufRead>(reader: R, origin: &str) -> Result<Report, ParseError> {
    let mut lines = LineReader::new(reader);
    let mut st = State::default();
    loop {
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
        st.line(line_no, line, origin)?;
    }
    if let Some(s) = st.section {
        return Err(ParseError::new(
            origin,
            Location::Byte(lines.bytes_seen()),
            ParseErrorKind::UnexpectedEof(format!(
                "the SF:{} section (no end_of_record)",
                excerpt(s.path.as_bytes())
            )),
        ));
    }
    if lines.line_no() == 0 {
        return Err(ParseError::new(
            origin,
            Location::Whole,
            ParseErrorKind::Empty,
        ));
    }
    st.builder.finish(Format::Lcov, origin, Vec::new())
}

/// The LCOV reader's state, one line at a time: the full parser feeds it from a
/// [`LineReader`], the chunked one from chunks in memory.
#[derive(Default)]
pub(crate) struct State {
    builder: Builder,
    section: Option<Section>,
    // Reused between sections.
    spare_lines: Vec<LineRecord>,
    spare_branches: Vec<(u32, bool)>,
    saw_record: bool,
}

impl State {
    /// Close the open section into the builder.
    fn close(&mut self, mut s: Section) {
        let extras = finish_section(&mut s);
        self.builder
            .add_with(&s.path, &mut s.lines, SameLine::SumBranches, extras);
        self.spare_lines = s.lines;
        s.branches.clear();
        self.spare_branches = s.branches;
    }

    /// One line (without its line end), numbered `line_no` for messages.
    fn line(&mut self, line_no: u64, line: &[u8], origin: &str) -> Result<(), ParseError> {
        let first_record = !self.saw_record;
        let syntax = |expected: &'static str, line: &[u8]| {
            let kind = if first_record && looks_binary(line) {
                ParseErrorKind::NotAReport("binary data".to_owned())
            } else {
                ParseErrorKind::Syntax {
                    expected,
                    found: excerpt(line),
                }
            };
            ParseError::new(origin, Location::Line(line_no), kind)
        };
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return Ok(());
        }
        if trimmed == b"end_of_record" {
            let Some(s) = self.section.take() else {
                return Err(syntax("SF:<path> before end_of_record", line));
            };
            self.close(s);
            return Ok(());
        }
        let Some(colon) = memchr::memchr(b':', trimmed) else {
            return Err(syntax("an LCOV record (KEY:value or end_of_record)", line));
        };
        let (key, value) = (&trimmed[..colon], &trimmed[colon + 1..]);
        if key.is_empty() || !key.iter().all(|b| b.is_ascii_uppercase()) {
            return Err(syntax("an LCOV record (KEY:value or end_of_record)", line));
        }
        self.saw_record = true;
        match key {
            b"DA" => {
                let Some(s) = self.section.as_mut() else {
                    return Err(syntax("SF:<path> before DA", line));
                };
                let mut parts = value.splitn(3, |&b| b == b',');
                let parsed = (|| {
                    let line = parse_u32_sat(parts.next()?)?;
                    let hits = parse_hits(parts.next()?)?;
                    Some(LineRecord::new(line, hits))
                })();
                let Some(rec) = parsed else {
                    return Err(syntax(DA, line));
                };
                s.lines.push(rec);
            }
            b"BRDA" => {
                let Some(s) = self.section.as_mut() else {
                    return Err(syntax("SF:<path> before BRDA", line));
                };
                // LCOV 2 allows commas inside <branch> (an expression), so take the
                // first and the last field.
                let parsed = (|| {
                    let first = memchr::memchr(b',', value)?;
                    let last = memchr::memrchr(b',', value)?;
                    if last <= first {
                        return None;
                    }
                    let line = parse_u32_sat(&value[..first])?;
                    let taken = match value[last + 1..].trim_ascii() {
                        b"-" => false,
                        t => parse_hits(t)? > 0,
                    };
                    Some((line, taken))
                })();
                let Some(br) = parsed else {
                    return Err(syntax(BRDA, line));
                };
                s.branches.push(br);
            }
            b"SF" => {
                check_len(value, || "SF path".to_owned())
                    .map_err(|kind| ParseError::new(origin, Location::Line(line_no), kind))?;
                let Ok(path) = std::str::from_utf8(value) else {
                    return Err(ParseError::new(
                        origin,
                        Location::Whole,
                        ParseErrorKind::InvalidUtf8(line_no),
                    ));
                };
                // A new SF without end_of_record closes the previous section, as lcov's
                // own reader does.
                if let Some(s) = self.section.take() {
                    self.close(s);
                }
                self.section = Some(Section {
                    path: path.to_owned(),
                    lines: std::mem::take(&mut self.spare_lines),
                    branches: std::mem::take(&mut self.spare_branches),
                    lf: None,
                    lh: None,
                });
            }
            b"LF" | b"LH" => {
                // A summary outside a section, or one that is not a number, is ignored
                // like every summary used to be: the DA records still hold.
                if let (Some(s), Some(v)) = (self.section.as_mut(), parse_u64_sat(value)) {
                    if key == b"LF" {
                        s.lf = Some(v);
                    } else {
                        s.lh = Some(v);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Chunked for State {
    type Carry = Option<Section>;
    // After the line end of the line before, so a chunk starts with an empty line.
    const SPLIT: &'static [u8] = b"\nSF:";

    fn start(carry: Option<&Option<Section>>) -> Self {
        State {
            section: carry.cloned().flatten(),
            ..State::default()
        }
    }

    fn chunk(&mut self, text: &str, origin: &str, _first: bool, last: bool) -> Step {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // Most lines are a plain `DA` or `BRDA` inside a section: read in one pass.
            if let Some(s) = self.section.as_mut()
                && let Some(next) = s.hot(b, i)
            {
                self.saw_record = true;
                i = next;
                continue;
            }
            let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
            let line = &b[i..end];
            // The full reader's cap counts a line's `\r`.
            if line.len() > MAX_LINE {
                return Step::Bail;
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if self.line(0, line, origin).is_err() {
                return Step::Bail;
            }
            i = end + 1;
        }
        if last && self.section.is_some() {
            return Step::Bail;
        }
        Step::Done
    }

    fn carry(&self) -> Option<Section> {
        self.section.clone()
    }

    fn absorb(&mut self, later: Self) {
        self.builder.absorb(later.builder);
        self.section = later.section;
    }

    fn finish(self, origin: &str) -> Option<Report> {
        self.builder.finish(Format::Lcov, origin, Vec::new()).ok()
    }
}

impl Section {
    /// The line at `b[i..]` when it is exactly `DA:<digits>,<digits>` or
    /// `BRDA:<digits>,<anything>,<digits or ->` ending in `\n` (or the input): added as
    /// [`State::line`] adds it, and the index after its `\n`. `None` (nothing added)
    /// for any other line, and for one over [`MAX_LINE`] (the general route gives up).
    fn hot(&mut self, b: &[u8], i: usize) -> Option<usize> {
        let rest = &b[i..];
        if let Some(rest) = rest.strip_prefix(b"DA:") {
            let (line, n) = digits(rest)?;
            let rest = rest[n..].strip_prefix(b",")?;
            let (hits, m) = digits(rest)?;
            let end = i + 3 + n + 1 + m;
            let next = line_end(b, end)?;
            if end - i > MAX_LINE {
                return None;
            }
            self.lines
                .push(LineRecord::new(sat_u32(line), sat_u32(hits)));
            return Some(next);
        }
        let rest = rest.strip_prefix(b"BRDA:")?;
        let (line, n) = digits(rest)?;
        if rest.get(n) != Some(&b',') {
            return None;
        }
        // The last comma of the line (LCOV 2 allows commas inside the branch field).
        let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        if 5 + len > MAX_LINE {
            return None;
        }
        let last = memchr::memrchr(b',', &rest[..len])?;
        if last <= n {
            return None;
        }
        let taken = match &rest[last + 1..len] {
            b"-" => false,
            t => {
                let (v, m) = digits(t)?;
                if m != t.len() {
                    return None;
                }
                v > 0
            }
        };
        self.branches.push((sat_u32(line), taken));
        Some((i + 5 + len + 1).min(b.len()))
    }
}

/// As [`parse_u32_sat`] saturates.
fn sat_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The index after the line end at `b[end]` (or the end of input), when the line
/// ends there.
fn line_end(b: &[u8], end: usize) -> Option<usize> {
    match b.get(end) {
        None => Some(end),
        Some(b'\n') => Some(end + 1),
        Some(_) => None,
    }
}

/// A hit count: digits (saturating), or a negative number read as 0.
fn parse_hits(v: &[u8]) -> Option<u32> {
    match v.trim_ascii().strip_prefix(b"-") {
        Some(rest) => parse_u32_sat(rest).map(|_| 0),
        None => parse_u32_sat(v),
    }
}

/// Fold the section's `DA`s and attach its `BRDA`s to them; `BRDA`s on lines without a
/// `DA` and `LF`/`LH` that differ from the `DA`s go to the extras.
fn finish_section(s: &mut Section) -> FileExtras {
    super::fold_lines(&mut s.lines, SameLine::Max);
    let mut extras = FileExtras::default();
    if let (Some(lf), Some(lh)) = (s.lf, s.lh) {
        let total = s.lines.len() as u64;
        let covered = s.lines.iter().filter(|r| r.hits > 0).count() as u64;
        if lh <= lf && (lf, lh) != (total, covered) {
            extras.stated = Some(StatedLines {
                covered: lh,
                total: lf,
                per_line_hits: true,
            });
        }
    }
    if s.branches.is_empty() {
        return extras;
    }
    s.branches.sort_unstable_by_key(|b| b.0);
    let mut recs = s.lines.iter_mut().peekable();
    for group in s.branches.chunk_by(|a, b| a.0 == b.0) {
        let line = group[0].0;
        let total = super::sat_u16(group.len() as u64);
        let covered = super::sat_u16(group.iter().filter(|b| b.1).count() as u64);
        while recs.next_if(|r| r.line < line).is_some() {}
        match recs.peek_mut() {
            Some(rec) if rec.line == line => {
                rec.branches_total = total;
                rec.branches_covered = covered.min(total);
            }
            _ => extras.stray_branches.push(LineBranches {
                line,
                covered: covered.min(total),
                total,
            }),
        }
    }
    extras
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{errs, ok, paths, recs, t};
    use crate::gates::coverage::model::Format;

    const L: Format = Format::Lcov;

    #[test]
    fn geninfo_shape() {
        let r = ok(
            L,
            "TN:unit\nSF:/w/src/a.c\nFN:3,main\nFNDA:1,main\nFNF:1\nFNH:1\n\
             BRDA:4,0,0,1\nBRDA:4,0,1,0\nBRDA:6,0,0,-\nBRDA:6,0,1,-\nBRDA:9,0,0,1\nBRF:4\nBRH:1\n\
             DA:3,1\nDA:4,1\nDA:5,0,abcdef\nDA:6,0\nLF:4\nLH:2\nend_of_record\n",
        );
        assert_eq!(paths(&r), ["/w/src/a.c"]);
        // The BRDA on line 9 has no DA: a stray branch, counted.
        assert_eq!(
            recs(&r, "/w/src/a.c"),
            [
                (3, true, 0, 0),
                (4, true, 1, 2),
                (5, false, 0, 0),
                (6, false, 0, 2)
            ]
        );
        assert_eq!(t(&r), (2, 4, 2, 5));
        assert!(r.has_branch_data);
    }

    #[test]
    fn llvm_cov_lf_lh_are_the_totals() {
        // check.h of the llvm-cov-lcov fixture, shortened: DA 8, 9 and 13 are macro
        // bodies expanded in cart.c, only line 20 (an inline function) is LF.
        let one = "SF:/w/src/check.h\nFN:20,twice\nFNDA:1,twice\nFNF:1\nFNH:1\n\
                   DA:8,2\nDA:9,2\nDA:13,0\nDA:20,1\nBRF:0\nBRH:0\nLF:1\nLH:1\nend_of_record\n";
        let r = ok(L, one);
        assert_eq!(t(&r), (1, 1, 0, 0));
        assert_eq!(
            recs(&r, "/w/src/check.h"),
            [
                (8, true, 0, 0),
                (9, true, 0, 0),
                (13, false, 0, 0),
                (20, true, 0, 0)
            ],
            "the DA lines stay the per-line data"
        );
        // Two sections of one file: stated totals do not add up, the records do.
        assert_eq!(t(&ok(L, &format!("{one}{one}"))), (3, 4, 0, 0));
        // LH above LF is no summary; LF/LH equal to the DAs change nothing.
        for tail in ["LF:1\nLH:2", "LF:2\nLH:1"] {
            let r = ok(
                L,
                &format!("SF:a.c\nDA:1,1\nDA:2,0\n{tail}\nend_of_record\n"),
            );
            assert_eq!((t(&r), r.extras.len()), ((1, 2, 0, 0), 0), "{tail}");
        }
    }

    #[test]
    fn istanbul_branches_without_da_count() {
        // jest-lcov fixture, money.js: default parameters on the function's line 3.
        let r = ok(
            L,
            "TN:\nSF:src/money.js\nFN:3,format\nFNDA:2,format\nDA:4,2\nDA:5,2\nLF:2\nLH:2\n\
             BRDA:3,0,0,0\nBRDA:3,1,0,2\nBRDA:3,2,0,1\nBRDA:3,2,1,1\nBRDA:4,3,0,1\nBRDA:4,3,1,1\n\
             BRF:6\nBRH:5\nend_of_record\n",
        );
        assert_eq!(t(&r), (2, 2, 5, 6));
        assert_eq!(recs(&r, "src/money.js"), [(4, true, 2, 2), (5, true, 0, 0)]);
        assert!(r.has_branch_data);
    }

    #[test]
    fn repeated_sf_merges_and_crlf_is_fine() {
        let r = ok(
            L,
            "SF:a.rs\r\nDA:1,0\r\nDA:2,0\r\nBRDA:2,0,0,0\r\nBRDA:2,0,1,0\r\nend_of_record\r\n\
             SF:b.rs\nDA:1,1\nend_of_record\n\
             SF:a.rs\nDA:2,3\nDA:3,0\nDA:3,2\nBRDA:2,0,0,1\nBRDA:2,0,1,0\nend_of_record\n",
        );
        assert_eq!(paths(&r), ["a.rs", "b.rs"]);
        assert_eq!(
            recs(&r, "a.rs"),
            [(1, false, 0, 0), (2, true, 1, 2), (3, true, 0, 0)]
        );
        assert_eq!(t(&r), (3, 4, 1, 2));
    }

    #[test]
    fn odd_but_valid_values() {
        let r = ok(
            L,
            "VER:2.0\nSF:x.c\nDA:1,-5\nDA:2,18446744073709551616\nBRDA:2,e0,(a < b) == True,3\nFNL:0,1,2\nend_of_record\n",
        );
        assert_eq!(recs(&r, "x.c"), [(1, false, 0, 0), (2, true, 1, 1)]);
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "lcov.info: empty file"),
            (b"\n\n", "lcov.info: no file records"),
            (b"TN:\n", "lcov.info: no file records"),
            (
                b"TN:\nSF:a\nDA:1,1\nDA:2,1\nDA:3,1\nDA:4,1\nDA:x,1\nend_of_record\n",
                "lcov.info: line 7: expected DA:<line>,<hits>, found \"DA:x,1\"",
            ),
            (
                b"SF:a\nDA:1\nend_of_record\n",
                "lcov.info: line 2: expected DA:<line>,<hits>, found \"DA:1\"",
            ),
            (
                b"SF:a\nDA:1,1.5\nend_of_record\n",
                "lcov.info: line 2: expected DA:<line>,<hits>, found \"DA:1,1.5\"",
            ),
            (
                b"SF:a\nBRDA:1,0,x\nend_of_record\n",
                "lcov.info: line 2: expected BRDA:<line>,<block>,<branch>,<taken>, found \"BRDA:1,0,x\"",
            ),
            (
                b"DA:1,1\n",
                "lcov.info: line 1: expected SF:<path> before DA, found \"DA:1,1\"",
            ),
            (
                b"end_of_record\n",
                "lcov.info: line 1: expected SF:<path> before end_of_record, found \"end_of_record\"",
            ),
            (
                b"SF:a\nhello world\n",
                "lcov.info: line 2: expected an LCOV record (KEY:value or end_of_record), found \"hello world\"",
            ),
            (
                b"SF:a\nDA:1,1\n",
                "lcov.info: byte 12: unexpected end of file inside the SF:a section (no end_of_record)",
            ),
            (
                b"TN:\nSF:\xff\xfe.c\n",
                "lcov.info: invalid UTF-8 at line 2",
            ),
            (
                b"\x7fELF\x02\x01\x01\x00\x00",
                "lcov.info: line 1: not a coverage report (binary data)",
            ),
        ];
        errs(L, "lcov.info", cases);
    }
}
