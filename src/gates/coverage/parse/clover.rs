//! Clover XML, from OpenClover, istanbul (`--reporter=clover`, so also Jest and Vitest)
//! and PHPUnit (`--coverage-clover`):
//! `<coverage><project>[<package>]<file name path><line num type count .../>`.
//!
//! A file's path is its `path` attribute when present (istanbul, OpenClover: the full
//! path), else `name` (PHPUnit writes the full path there). Files under
//! `<testproject>` (OpenClover's test sources) are not counted, as OpenClover's own
//! project totals do not count them.
//!
//! `<line>` types:
//! - `stmt`: an executable line, covered iff `count > 0`.
//! - `method`: not a line. It is the method itself (OpenClover: the declaration line
//!   with the number of times the method was entered; PHPUnit: the method's first
//!   line, with `count` > 0 iff the method ran), which the producers count as a method,
//!   never as a line or statement: PHPUnit's `Lines: 47/76` and OpenClover's
//!   `statements` count only `stmt` lines. Counting them as lines gave 64/97 on a
//!   PHPUnit report where PHPUnit printed 47/76.
//! - `cond`: an executable line with branch data. The attributes mean different
//!   things per producer, recognised by marks each one hard-codes:
//!   - istanbul (root `clover="3.2.0"` and `<project name="All files">`): `truecount`
//!     = covered branch outcomes on the line, `falsecount` = uncovered ones
//!     (`branches.total - branches.covered`); covered iff `count > 0`.
//!   - Devel::Cover (`<project name="Devel::Cover::Report::Clover">`): an `if` with 2
//!     outcomes, `truecount` = how many of them were taken, `falsecount` always 0, no
//!     `count`. Its `<metrics>` conditionals also hold boolean-condition outcomes
//!     (`a && b`) that no `<line>` carries, so our branch totals are the "bran" part only.
//!   - OpenClover and others: `truecount`/`falsecount` = how often the condition was
//!     true/false, so 2 outcomes, covered = `(truecount > 0) + (falsecount > 0)`, and
//!     the line is covered iff `count` (when given) or either count is > 0.
//!
//! Several elements on one line inside one `<file>` (a statement and a condition, two
//! conditions) are one record whose branch outcomes add up.

use std::io::BufRead;

use quick_xml::events::BytesStart;

use super::ErrorAt;
use super::fast::{Open, XmlHandler};
use super::hot::{Fault, HotTag};
use super::{Builder, ParseError, ParseErrorKind, SameLine, parse_u32_sat, sat_u16};
use crate::gates::coverage::model::{Format, LineRecord, Report};
use crate::xml::{Ctx, Ev, attrs, unescape};

/// Parse a Clover XML report.
pub fn parse<R: BufRead>(reader: R, origin: &str) -> Result<Report, ParseError> {
    super::fast::parse_full::<State, R>(reader, origin)
}

/// Producers whose `cond` lines mean different things (see the module docs).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// OpenClover and anything not recognised: true/false evaluation counts.
    #[default]
    OpenClover,
    /// istanbul: covered and uncovered outcome counts.
    Istanbul,
    /// Devel::Cover: covered outcomes of two.
    DevelCover,
}

/// The Clover handler, driven by the full reader or the fast one.
#[derive(Default)]
pub(crate) struct State {
    builder: Builder,
    /// The root says `clover="3.2.0"` (istanbul's constant; needs the project name too).
    clover_320: bool,
    /// Who wrote the report, which decides what `cond` lines mean.
    dialect: Dialect,
    /// Path of the open `<file>`.
    file: Option<String>,
    lines: Vec<LineRecord>,
}

/// What a Clover chunk carries: the producer marks, the open file and its lines.
type Carry = (bool, Dialect, Option<String>, Vec<LineRecord>);

impl XmlHandler for State {
    const ROOT: &'static str = "coverage";
    const SPLIT: &'static [u8] = b"<file ";
    type Carry = Carry;

    fn resume(carry: Option<&Carry>) -> Self {
        let Some((clover_320, dialect, file, lines)) = carry.cloned() else {
            return State::default();
        };
        State {
            clover_320,
            dialect,
            file,
            lines,
            ..State::default()
        }
    }

    fn carry(&self) -> Carry {
        (
            self.clover_320,
            self.dialect,
            self.file.clone(),
            self.lines.clone(),
        )
    }

    fn absorb(&mut self, later: Self) {
        self.builder.absorb(later.builder);
        self.clover_320 = later.clover_320;
        self.dialect = later.dialect;
        self.file = later.file;
        self.lines = later.lines;
    }

    fn finish(self, origin: &str) -> Result<Report, ParseError> {
        self.builder.finish(Format::Clover, origin, Vec::new())
    }

    fn hot(&mut self, tag: HotTag<'_>, open: &Open) -> Option<usize> {
        // As `on` below.
        if self.file.is_none() || !open.parent_is(0, b"file") {
            return None;
        }
        let ([num, kind, count, tc, fc], gt) = tag.attrs(LINE_KEYS)?;
        if let Some(rec) = self.line_values(num, kind, count, tc, fc).ok()? {
            self.lines.push(rec);
        }
        Some(gt)
    }

    fn on(&mut self, ev: Ev<'_>, ctx: &Ctx<'_>) -> Result<(), ParseError> {
        match ev {
            Ev::Start(e) | Ev::Empty(e) if e.name().0 == "line" => {
                if self.file.is_some()
                    && ctx.ancestor(1) == "file"
                    && let Some(rec) = self.line_record(&e, ctx)?
                {
                    self.lines.push(rec);
                }
            }
            Ev::Start(e) => match e.name().0 {
                "coverage" if ctx.ancestor(1).is_empty() => {
                    let [v] = attrs(ctx, &e, ["clover"])?;
                    self.clover_320 = v == Some("3.2.0");
                }
                "project" => {
                    let [name] = attrs(ctx, &e, ["name"])?;
                    self.dialect = match name {
                        Some("All files") if self.clover_320 => Dialect::Istanbul,
                        Some(n) if n.starts_with("Devel::Cover") => Dialect::DevelCover,
                        _ => Dialect::OpenClover,
                    };
                }
                "file" if !ctx.inside("testproject") => {
                    self.file = Some(file_path(&e, ctx)?);
                    self.lines.clear();
                }
                _ => {}
            },
            Ev::Empty(e) => {
                if e.name().0 == "file" && !ctx.inside("testproject") {
                    let path = file_path(&e, ctx)?;
                    self.lines.clear();
                    self.builder
                        .add(&path, &mut self.lines, SameLine::SumBranches);
                }
            }
            Ev::End("file") => {
                if let Some(path) = self.file.take() {
                    self.builder
                        .add(&path, &mut self.lines, SameLine::SumBranches);
                }
            }
            Ev::End(_) | Ev::Text(_) => {}
        }
        Ok(())
    }
}

/// The attributes of a `<line>`, in [`State::line_values`]' order.
const LINE_KEYS: [&[u8]; 5] = [b"num", b"type", b"count", b"truecount", b"falsecount"];

impl State {
    /// The record of a `<line>`, or `None` for a `method` line.
    fn line_record(
        &self,
        e: &BytesStart<'_>,
        ctx: &Ctx<'_>,
    ) -> Result<Option<LineRecord>, ParseError> {
        let [num, kind, count, tc, fc] =
            attrs(ctx, e, ["num", "type", "count", "truecount", "falsecount"])?;
        self.line_values(num, kind, count, tc, fc)
            .map_err(|f| f.error("line", ctx, e))
    }

    /// [`State::line_record`] from the raw attribute values (both routes).
    fn line_values<'v>(
        &self,
        num: Option<&'v str>,
        kind: Option<&'v str>,
        count: Option<&'v str>,
        tc: Option<&'v str>,
        fc: Option<&'v str>,
    ) -> Result<Option<LineRecord>, Fault<'v>> {
        let number = |attribute: &'static str, v: &'v str| {
            parse_u32_sat(v.as_bytes()).ok_or(Fault::Invalid(
                attribute,
                v,
                "a non-negative integer",
            ))
        };
        let line = number("num", num.ok_or(Fault::Missing("num"))?)?;
        if kind == Some("method") {
            return Ok(None);
        }
        let count = count.map(|c| number("count", c)).transpose()?;
        let is_cond = kind == Some("cond");
        if !is_cond {
            // stmt, or a type this parser does not know: a plain line.
            let hits = count.ok_or(Fault::Missing("count"))?;
            return Ok(Some(LineRecord::new(line, hits)));
        }
        let t = tc.map(|v| number("truecount", v)).transpose()?.unwrap_or(0);
        let f = fc
            .map(|v| number("falsecount", v))
            .transpose()?
            .unwrap_or(0);
        Ok(Some(match self.dialect {
            Dialect::Istanbul => {
                let total = sat_u16(u64::from(t) + u64::from(f));
                LineRecord {
                    line,
                    hits: count.unwrap_or(0),
                    branches_covered: sat_u16(u64::from(t)).min(total),
                    branches_total: total,
                }
            }
            Dialect::DevelCover => LineRecord {
                line,
                hits: count.unwrap_or(t),
                branches_covered: sat_u16(u64::from(t)).min(2),
                branches_total: 2,
            },
            Dialect::OpenClover => LineRecord {
                line,
                hits: count.unwrap_or_else(|| t.saturating_add(f)),
                branches_covered: u16::from(t > 0) + u16::from(f > 0),
                branches_total: 2,
            },
        }))
    }
}

fn file_path(e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<String, ParseError> {
    let [path, name] = attrs(ctx, e, ["path", "name"])?;
    match path.or(name) {
        Some(raw) => Ok(unescape(ctx, e, raw)?),
        None => Err(ctx.error_at(
            e,
            ParseErrorKind::MissingAttribute {
                element: "file",
                attribute: "name",
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{err, ok, paths, recs, t};
    use crate::gates::coverage::model::Format;

    const K: Format = Format::Clover;

    #[test]
    fn istanbul_cond_counts_are_covered_and_uncovered_outcomes() {
        let r = ok(
            K,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<coverage generated="1700000000000" clover="3.2.0">
  <project timestamp="1700000000000" name="All files">
    <metrics statements="4" coveredstatements="3" conditionals="6" coveredconditionals="3" methods="1" coveredmethods="1" elements="11" coveredelements="7" complexity="0" loc="4" ncloc="4" packages="1" files="1" classes="1"/>
    <file name="a.js" path="/w/src/a.js">
      <metrics statements="4" coveredstatements="3" conditionals="6" coveredconditionals="3" methods="1" coveredmethods="1"/>
      <line num="1" count="1" type="stmt"/>
      <line num="2" count="1" type="cond" truecount="1" falsecount="1"/>
      <line num="3" count="0" type="cond" truecount="0" falsecount="2"/>
      <line num="4" count="5" type="cond" truecount="2" falsecount="0"/>
    </file>
  </project>
</coverage>"#,
        );
        assert_eq!(paths(&r), ["/w/src/a.js"]);
        assert_eq!(t(&r), (3, 4, 3, 6));
    }

    #[test]
    fn openclover_cond_counts_are_true_and_false_evaluations() {
        let r = ok(
            K,
            r#"<coverage generated="1" clover="4.5.2"><project timestamp="1" name="demo">
<package name="com.x"><file name="A.java" path="/w/src/com/x/A.java">
<class name="A"><metrics statements="2"/></class>
<line num="3" count="2" type="method" signature="f() : void" visibility="public"/>
<line num="4" count="2" type="stmt"/>
<line num="5" truecount="2" falsecount="0" type="cond"/>
<line num="6" truecount="0" falsecount="0" type="cond"/>
<line num="6" count="0" type="stmt"/>
<line num="7" truecount="1" falsecount="3" type="cond"/>
<line num="7" truecount="0" falsecount="1" type="cond"/>
</file></package></project>
<testproject timestamp="1" name="tests"><file name="T.java" path="/w/test/T.java"><line num="1" count="1" type="stmt"/></file></testproject>
</coverage>"#,
        );
        assert_eq!(paths(&r), ["/w/src/com/x/A.java"]);
        assert_eq!(
            recs(&r, "/w/src/com/x/A.java"),
            [
                (4, true, 0, 0),
                (5, true, 1, 2),
                (6, false, 0, 2),
                (7, true, 3, 4)
            ]
        );
        assert_eq!(t(&r), (3, 4, 4, 8), "the method line 3 is not a line");
    }

    #[test]
    fn devel_cover_truecount_is_covered_outcomes_of_two() {
        let r = ok(
            K,
            r#"<?xml version="1.0" encoding="utf-8"?>
<coverage generated="1" clover="1.01" >
    <project timestamp="1" name="Devel::Cover::Report::Clover">
        <package name="Shop">
            <file path="lib/Shop/Cart.pm" name="Cart.pm">
                <class name="Cart"><metrics conditionals="6" coveredconditionals="4"/></class>
                <line num="3" count="1" type="stmt" />
                <line num="3" count="1" type="stmt" />
                <line num="3" count="1" type="method" />
                <line num="13" count="2" type="stmt" />
                <line num="13" truecount="1" falsecount="0" type="cond" />
                <line num="33" count="2" type="stmt" />
                <line num="33" truecount="2" falsecount="0" type="cond" />
                <line num="40" count="0" type="stmt" />
                <line num="40" truecount="0" falsecount="0" type="cond" />
            </file>
        </package>
    </project>
</coverage>"#,
        );
        assert_eq!(
            recs(&r, "lib/Shop/Cart.pm"),
            [
                (3, true, 0, 0),
                (13, true, 1, 2),
                (33, true, 2, 2),
                (40, false, 0, 2)
            ]
        );
    }

    #[test]
    fn phpunit_shape_uses_name_as_path() {
        let r = ok(
            K,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<coverage generated="1700000000">
  <project timestamp="1700000000">
    <file name="/w/src/A.php">
      <class name="A" namespace="global"><metrics complexity="1" methods="1" coveredmethods="0" conditionals="0" coveredconditionals="0" statements="2" coveredstatements="1" elements="3" coveredelements="1"/></class>
      <line num="5" type="method" name="f" visibility="public" complexity="1" crap="1.04" count="1"/>
      <line num="7" type="stmt" count="1"/>
      <line num="8" type="stmt" count="0"/>
      <metrics loc="10" ncloc="10" classes="1" methods="1" coveredmethods="0" conditionals="0" coveredconditionals="0" statements="2" coveredstatements="1" elements="3" coveredelements="1"/>
    </file>
    <metrics files="1" loc="10"/>
  </project>
</coverage>"#,
        );
        assert_eq!(paths(&r), ["/w/src/A.php"]);
        // The method line 5 (count 1) is a method, not a line: PHPUnit's `Lines` is
        // its `statements` metric.
        assert_eq!(
            recs(&r, "/w/src/A.php"),
            [(7, true, 0, 0), (8, false, 0, 0)]
        );
        assert_eq!(t(&r), (1, 2, 0, 0));
        assert!(!r.has_branch_data);
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &str)] = &[
            (
                "<coverage><project><file path='a'><line count='1'/>",
                "clover.xml: line 1: <line> element without a num attribute",
            ),
            (
                "<coverage><project><file path='a'>\n<line num='1' type='stmt'/>",
                "clover.xml: line 2: <line> element without a count attribute",
            ),
            (
                "<coverage><project><file path='a'><line num='1' type='cond' truecount='x'/>",
                "clover.xml: line 1: <line> element with invalid truecount=\"x\" (expected a non-negative integer)",
            ),
            (
                "<coverage><project><file><line num='1' count='1'/></file></project></coverage>",
                "clover.xml: line 1: <file> element without a name attribute",
            ),
            (
                "<coverage><project/></coverage>",
                "clover.xml: no file records",
            ),
            (
                "<coverage><project><file path='a'><line num='1' count='1'/></file>",
                "clover.xml: byte 66: unexpected end of file inside <project>",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(err(K, "clover.xml", input.as_bytes()), *want);
        }
    }
}
