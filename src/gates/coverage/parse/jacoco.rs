//! JaCoCo XML (`jacoco:report`, Kover, Gradle's `jacocoTestReport`):
//! `<report><package name="com/x"><sourcefile name="A.java"><line nr mi ci mb cb/>`.
//!
//! A file's path is the package name (already slash-separated) joined with the source
//! file's name. A line is executable iff it has instructions (`mi + ci > 0`), covered
//! iff any instruction ran (`ci > 0`); branches are `mb + cb` with `cb` covered.
//! `hits` holds `ci`, the covered instruction count, which JaCoCo reports instead of an
//! execution count. Class, method and counter elements are summaries and are ignored,
//! with one exception:
//!
//! gcovr's `--jacoco` (8.x) writes `<line nr="4"/>` without `mi`/`ci` (and `mb`/`cb`
//! only on branch lines): its lines say which lines are executable, not whether they
//! ran, and the counts are only in each source file's `<counter type="LINE" missed
//! covered>`. A source file that lists lines, none with `mi` or `ci`, and has that
//! counter takes its line totals from the counter, marked as having no per-line hits
//! (see [`StatedLines`]); its lines are kept (as not hit) for their branch data and so
//! that the file is known. JaCoCo itself always writes all five attributes.
//!
//! JaCoCo writes `<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">`;
//! the DTD is never fetched, and a DOCTYPE that defines entities is refused.

use std::io::BufRead;

use quick_xml::events::BytesStart;

use super::ErrorAt;
use super::fast::{Open, XmlHandler};
use super::hot::{Fault, HotTag};
use super::{
    Builder, ParseError, ParseErrorKind, SameLine, check_len, parse_u32_sat, parse_u64_sat,
};
use crate::gates::coverage::extras::{FileExtras, StatedLines};
use crate::gates::coverage::model::{Format, LineRecord, Report};
use crate::xml::{Ctx, Ev, attrs, unescape};

/// Parse a JaCoCo XML report.
pub fn parse<R: BufRead>(reader: R, origin: &str) -> Result<Report, ParseError> {
    super::fast::parse_full::<State, R>(reader, origin)
}

/// The JaCoCo handler, driven by the full reader or the fast one.
#[derive(Default)]
pub(crate) struct State {
    builder: Builder,
    /// Name of the open `<package>` (slash-separated, empty for the default package).
    package: String,
    /// Path of the open `<sourcefile>`.
    file: Option<String>,
    lines: Vec<LineRecord>,
    /// Lines of the open source file without `mi`/`ci` (gcovr), as not hit.
    bare: Vec<LineRecord>,
    /// Some line of the open source file has `mi` or `ci`.
    any_instructions: bool,
    /// The open source file's `<counter type="LINE">` as (missed, covered).
    line_counter: Option<(u64, u64)>,
}

/// What a JaCoCo chunk carries: the open package and source file and its lines.
type Carry = (
    String,
    Option<String>,
    Vec<LineRecord>,
    Vec<LineRecord>,
    bool,
    Option<(u64, u64)>,
);

impl XmlHandler for State {
    const ROOT: &'static str = "report";
    // A package, not a source file: the package's name is part of every path in it.
    const SPLIT: &'static [u8] = b"<package ";
    type Carry = Carry;

    fn resume(carry: Option<&Carry>) -> Self {
        let Some((package, file, lines, bare, any_instructions, line_counter)) = carry.cloned()
        else {
            return State::default();
        };
        State {
            package,
            file,
            lines,
            bare,
            any_instructions,
            line_counter,
            ..State::default()
        }
    }

    fn carry(&self) -> Carry {
        (
            self.package.clone(),
            self.file.clone(),
            self.lines.clone(),
            self.bare.clone(),
            self.any_instructions,
            self.line_counter,
        )
    }

    fn absorb(&mut self, later: Self) {
        self.builder.absorb(later.builder);
        self.package = later.package;
        self.file = later.file;
        self.lines = later.lines;
        self.bare = later.bare;
        self.any_instructions = later.any_instructions;
        self.line_counter = later.line_counter;
    }

    fn finish(self, origin: &str) -> Result<Report, ParseError> {
        self.builder.finish(Format::Jacoco, origin, Vec::new())
    }

    fn hot(&mut self, tag: HotTag<'_>, open: &Open) -> Option<usize> {
        // As `on` below.
        if self.file.is_none() || !open.parent_is(0, b"sourcefile") {
            return None;
        }
        let ([nr, mi, ci, mb, cb], gt) = tag.attrs(LINE_KEYS)?;
        let line = line_values(nr, mi, ci, mb, cb).ok()?;
        self.line(line, mi.is_some() || ci.is_some());
        Some(gt)
    }

    fn on(&mut self, ev: Ev<'_>, ctx: &Ctx<'_>) -> Result<(), ParseError> {
        match ev {
            Ev::Start(e) | Ev::Empty(e) if e.name().0 == "line" => {
                if self.file.is_some() && ctx.ancestor(1) == "sourcefile" {
                    let line = line_record(&e, ctx)?;
                    self.line(line, has_instruction_attrs(&e, ctx)?);
                }
            }
            Ev::Start(e) | Ev::Empty(e) if e.name().0 == "counter" => {
                if self.file.is_some() && ctx.ancestor(1) == "sourcefile" {
                    self.line_counter = self.line_counter.or(line_counter(&e, ctx)?);
                }
            }
            Ev::Start(e) => match e.name().0 {
                "package" => self.package = required(&e, ctx, "package", "name")?,
                "sourcefile" if ctx.ancestor(1) == "package" => {
                    self.file = Some(self.path(&e, ctx)?);
                    self.lines.clear();
                    self.bare.clear();
                    self.any_instructions = false;
                    self.line_counter = None;
                }
                _ => {}
            },
            Ev::Empty(e) => {
                if e.name().0 == "sourcefile" && ctx.ancestor(1) == "package" {
                    let path = self.path(&e, ctx)?;
                    self.lines.clear();
                    self.builder.add(&path, &mut self.lines, SameLine::Max);
                }
            }
            Ev::End("sourcefile") => {
                if let Some(path) = self.file.take() {
                    // gcovr's shape: lines listed, none with instruction counts.
                    let bare_only = !self.any_instructions && !self.bare.is_empty();
                    match self.line_counter.filter(|_| bare_only) {
                        Some((missed, covered)) => {
                            let stated = StatedLines {
                                covered,
                                total: missed.saturating_add(covered),
                                per_line_hits: false,
                            };
                            let extras = FileExtras {
                                stated: Some(stated),
                                ..FileExtras::default()
                            };
                            self.builder
                                .add_with(&path, &mut self.bare, SameLine::Max, extras);
                        }
                        None => self.builder.add(&path, &mut self.lines, SameLine::Max),
                    }
                    self.lines.clear();
                    self.bare.clear();
                    // Reset here as well as at the next start, so the state between
                    // source files is always the same (chunks join on it).
                    self.any_instructions = false;
                    self.line_counter = None;
                }
            }
            Ev::End("package") => self.package.clear(),
            Ev::End(_) | Ev::Text(_) => {}
        }
        Ok(())
    }
}

impl State {
    /// One `<line>` of the open source file; `instructions`: it has `mi` or `ci`.
    fn line(&mut self, line: Line, instructions: bool) {
        match line {
            Line::Executable(rec) => self.lines.push(rec),
            Line::Bare(rec) => self.bare.push(rec),
            Line::Empty => {}
        }
        self.any_instructions |= instructions;
    }

    fn path(&self, e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<String, ParseError> {
        let name = required(e, ctx, "sourcefile", "name")?;
        let path = if self.package.is_empty() {
            name
        } else {
            format!("{}/{}", self.package, name)
        };
        check_len(path.as_bytes(), || {
            "package and source file path".to_owned()
        })
        .map_err(|kind| ctx.error_at(e, kind))?;
        Ok(path)
    }
}

fn required(
    e: &BytesStart<'_>,
    ctx: &Ctx<'_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<String, ParseError> {
    let [v] = attrs(ctx, e, [attribute])?;
    match v {
        Some(raw) => Ok(unescape(ctx, e, raw)?),
        None => Err(ctx.error_at(e, ParseErrorKind::MissingAttribute { element, attribute })),
    }
}

/// What a `<line>` says.
enum Line {
    /// Instructions ran or were missed on it.
    Executable(LineRecord),
    /// No `mi`/`ci` attributes at all (gcovr): executable, hits unknown; `hits` is 0.
    Bare(LineRecord),
    /// Attributes present but no instructions (`mi="0" ci="0"`).
    Empty,
}

/// Whether a `<line>` has `mi` or `ci`.
fn has_instruction_attrs(e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<bool, ParseError> {
    let [mi, ci] = attrs(ctx, e, ["mi", "ci"])?;
    Ok(mi.is_some() || ci.is_some())
}

/// `(missed, covered)` of a `<counter type="LINE">`; `None` for other counters.
fn line_counter(e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<Option<(u64, u64)>, ParseError> {
    let [kind, missed, covered] = attrs(ctx, e, ["type", "missed", "covered"])?;
    if kind != Some("LINE") {
        return Ok(None);
    }
    let num = |attribute: &'static str, v: Option<&str>| -> Result<u64, ParseError> {
        let v = v.ok_or_else(|| {
            ctx.error_at(
                e,
                ParseErrorKind::MissingAttribute {
                    element: "counter",
                    attribute,
                },
            )
        })?;
        parse_u64_sat(v.as_bytes()).ok_or_else(|| {
            ctx.error_at(
                e,
                ParseErrorKind::InvalidAttribute {
                    element: "counter",
                    attribute,
                    value: super::excerpt(v.as_bytes()),
                    expected: "a non-negative integer",
                },
            )
        })
    };
    Ok(Some((num("missed", missed)?, num("covered", covered)?)))
}

/// What a `<line>` says (see [`Line`]).
fn line_record(e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<Line, ParseError> {
    let [nr, mi, ci, mb, cb] = attrs(ctx, e, ["nr", "mi", "ci", "mb", "cb"])?;
    line_values(nr, mi, ci, mb, cb).map_err(|f| f.error("line", ctx, e))
}

/// The attributes of a `<line>`, in [`line_values`]' order.
const LINE_KEYS: [&[u8]; 5] = [b"nr", b"mi", b"ci", b"mb", b"cb"];

/// What a `<line>` says from its raw attribute values (both routes).
fn line_values<'v>(
    nr: Option<&'v str>,
    mi: Option<&'v str>,
    ci: Option<&'v str>,
    mb: Option<&'v str>,
    cb: Option<&'v str>,
) -> Result<Line, Fault<'v>> {
    let nr = nr.ok_or(Fault::Missing("nr"))?;
    let num = |attribute: &'static str, v: Option<&'v str>| -> Result<u32, Fault<'v>> {
        match v {
            // The DTD requires all five; a writer that leaves a counter out means 0.
            None => Ok(0),
            Some(v) => parse_u32_sat(v.as_bytes()).ok_or(Fault::Invalid(
                attribute,
                v,
                "a non-negative integer",
            )),
        }
    };
    let line = num("nr", Some(nr))?;
    let bare = mi.is_none() && ci.is_none();
    let (mi, ci, mb, cb) = (
        num("mi", mi)?,
        num("ci", ci)?,
        num("mb", mb)?,
        num("cb", cb)?,
    );
    let total = super::sat_u16(u64::from(mb) + u64::from(cb));
    let rec = LineRecord {
        line,
        hits: ci,
        branches_covered: super::sat_u16(u64::from(cb)).min(total),
        branches_total: total,
    };
    Ok(if bare {
        Line::Bare(rec)
    } else if mi == 0 && ci == 0 {
        Line::Empty
    } else {
        Line::Executable(rec)
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{err, ok, paths, recs, t};
    use crate::gates::coverage::model::Format;

    const J: Format = Format::Jacoco;

    const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="demo"><sessioninfo id="h-1" start="1" dump="2"/><package name="com/x"><class name="com/x/A" sourcefilename="A.java"><method name="f" desc="()V" line="3"><counter type="INSTRUCTION" missed="0" covered="3"/></method><counter type="LINE" missed="9" covered="9"/></class><sourcefile name="A.java"><line nr="3" mi="0" ci="3" mb="0" cb="0"/><line nr="4" mi="2" ci="0" mb="2" cb="0"/><line nr="5" mi="1" ci="2" mb="1" cb="3"/><line nr="6" mi="0" ci="0" mb="0" cb="0"/><counter type="LINE" missed="1" covered="2"/></sourcefile><sourcefile name="Empty.java"/></package><group name="sub"><package name=""><sourcefile name="Main.java"><line nr="1" mi="0" ci="1" mb="0" cb="0"/></sourcefile></package></group><counter type="LINE" missed="100" covered="100"/></report>"#;

    #[test]
    fn lines_and_branches_from_line_elements() {
        let r = ok(J, REPORT);
        assert_eq!(paths(&r), ["com/x/A.java", "com/x/Empty.java", "Main.java"]);
        assert_eq!(
            recs(&r, "com/x/A.java"),
            [(3, true, 0, 0), (4, false, 0, 2), (5, true, 3, 4)]
        );
        assert_eq!(t(&r), (3, 4, 3, 6));
        assert!(r.has_branch_data);
    }

    #[test]
    fn gcovr_lines_without_counts_take_the_line_counter() {
        // gcovr 8.8 --jacoco, shortened from the gcovr-jacoco fixture.
        let r = ok(
            J,
            r#"<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE report SYSTEM 'https://www.jacoco.org/jacoco/trunk/coverage/report.dtd'>
<report name="GCOVR report">
  <package name="src">
    <sourcefile name="main.c">
      <line nr="9"/>
      <line nr="11" mb="1" cb="1"/>
      <line nr="12"/>
      <counter type="LINE" missed="1" covered="2"/>
      <counter type="BRANCH" missed="1" covered="1"/>
    </sourcefile>
    <sourcefile name="none.c">
      <line nr="1"/>
    </sourcefile>
    <counter type="LINE" missed="1" covered="2"/>
  </package>
</report>"#,
        );
        assert_eq!(paths(&r), ["src/main.c", "src/none.c"]);
        assert_eq!(t(&r), (2, 3, 1, 2));
        let stated = r.extras.get("src/main.c").and_then(|x| x.stated);
        assert_eq!(stated.map(|s| s.per_line_hits), Some(false));
        assert_eq!(recs(&r, "src/none.c"), [], "no counter: nothing executable");
        // JaCoCo's own counters never replace its lines, not even in a file without
        // lines.
        assert!(ok(J, REPORT).extras.is_empty());
        let empty = "<report><package name='a'><sourcefile name='E.java'>\
                     <counter type='LINE' missed='0' covered='0'/></sourcefile></package></report>";
        assert!(ok(J, empty).extras.is_empty());
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &str)] = &[
            (
                "<report><package name='a'><sourcefile name='A.java'>\n<line mi='1'/>",
                "jacoco.xml: line 2: <line> element without a nr attribute",
            ),
            (
                "<report><package name='a'><sourcefile name='A.java'><line nr='1' mi='-1'/>",
                "jacoco.xml: line 1: <line> element with invalid mi=\"-1\" (expected a non-negative integer)",
            ),
            (
                "<report><package><sourcefile name='A.java'/></package></report>",
                "jacoco.xml: line 1: <package> element without a name attribute",
            ),
            (
                "<?xml version='1.0'?>\n<!DOCTYPE report [<!ENTITY a 'b'>]><report/>",
                "jacoco.xml: line 2: DOCTYPE with entity definitions is not allowed",
            ),
            (
                "<coverage/>",
                "jacoco.xml: not a coverage report (root element <coverage>)",
            ),
            (
                "<report><package name='a'><sourcefile name='A.java'><counter type='LINE' missed='x' covered='1'/>",
                "jacoco.xml: line 1: <counter> element with invalid missed=\"x\" (expected a non-negative integer)",
            ),
            (
                "<report name='x'><sessioninfo/></report>",
                "jacoco.xml: no file records",
            ),
            (
                "<report name='x'><package name='a'><sourcefile name='A.java'><line nr='1' mi='0' ci='1'/></sourcefile>",
                "jacoco.xml: byte 102: unexpected end of file inside <package>",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(err(J, "jacoco.xml", input.as_bytes()), *want);
        }
    }
}
