//! JaCoCo XML (`jacoco:report`, Kover, Gradle's `jacocoTestReport`):
//! `<report><package name="com/x"><sourcefile name="A.java"><line nr mi ci mb cb/>`.
//!
//! A file's path is the package name (already slash-separated) joined with the source
//! file's name. A line is executable iff it has instructions (`mi + ci > 0`), covered
//! iff any instruction ran (`ci > 0`); branches are `mb + cb` with `cb` covered.
//! `hits` holds `ci`, the covered instruction count, which JaCoCo reports instead of an
//! execution count. Class, method and counter elements are summaries and are ignored.
//!
//! JaCoCo writes `<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">`;
//! the DTD is never fetched, and a DOCTYPE that defines entities is refused.

use std::io::BufRead;

use quick_xml::events::BytesStart;

use super::xml::{Ctx, Ev, Xml, attrs, unescape};
use super::{Builder, ParseError, ParseErrorKind, SameLine, parse_u32_sat};
use crate::gates::coverage::model::{Format, LineRecord, Report};

/// Parse a JaCoCo XML report.
pub fn parse<R: BufRead>(reader: R, origin: &str) -> Result<Report, ParseError> {
    let xml = Xml::new(reader, origin, "report")?;
    let mut st = State::default();
    xml.run(|ev, ctx| st.on(ev, ctx))?;
    st.builder.finish(Format::Jacoco, origin, Vec::new())
}

#[derive(Default)]
struct State {
    builder: Builder,
    /// Name of the open `<package>` (slash-separated, empty for the default package).
    package: String,
    /// Path of the open `<sourcefile>`.
    file: Option<String>,
    lines: Vec<LineRecord>,
}

impl State {
    fn on(&mut self, ev: Ev<'_>, ctx: &Ctx<'_>) -> Result<(), ParseError> {
        match ev {
            Ev::Start(e) | Ev::Empty(e) if e.name().0 == "line" => {
                if self.file.is_some()
                    && ctx.ancestor(1) == "sourcefile"
                    && let Some(rec) = line_record(&e, ctx)?
                {
                    self.lines.push(rec);
                }
            }
            Ev::Start(e) => match e.name().0 {
                "package" => self.package = required(&e, ctx, "package", "name")?,
                "sourcefile" if ctx.ancestor(1) == "package" => {
                    self.file = Some(self.path(&e, ctx)?);
                    self.lines.clear();
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
                    self.builder.add(&path, &mut self.lines, SameLine::Max);
                }
            }
            Ev::End("package") => self.package.clear(),
            Ev::End(_) | Ev::Text(_) => {}
        }
        Ok(())
    }

    fn path(&self, e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<String, ParseError> {
        let name = required(e, ctx, "sourcefile", "name")?;
        Ok(if self.package.is_empty() {
            name
        } else {
            format!("{}/{}", self.package, name)
        })
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
        Some(raw) => unescape(ctx, e, raw),
        None => Err(ctx.error_at(e, ParseErrorKind::MissingAttribute { element, attribute })),
    }
}

/// The record for a `<line>`, or `None` for a line without instructions.
fn line_record(e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<Option<LineRecord>, ParseError> {
    let [nr, mi, ci, mb, cb] = attrs(ctx, e, ["nr", "mi", "ci", "mb", "cb"])?;
    let Some(nr) = nr else {
        return Err(ctx.error_at(
            e,
            ParseErrorKind::MissingAttribute {
                element: "line",
                attribute: "nr",
            },
        ));
    };
    let num = |attribute: &'static str, v: Option<&str>| -> Result<u32, ParseError> {
        match v {
            // The DTD requires all five; a writer that leaves a counter out means 0.
            None => Ok(0),
            Some(v) => parse_u32_sat(v.as_bytes()).ok_or_else(|| {
                ctx.error_at(
                    e,
                    ParseErrorKind::InvalidAttribute {
                        element: "line",
                        attribute,
                        value: super::excerpt(v.as_bytes()),
                        expected: "a non-negative integer",
                    },
                )
            }),
        }
    };
    let line = num("nr", Some(nr))?;
    let (mi, ci, mb, cb) = (
        num("mi", mi)?,
        num("ci", ci)?,
        num("mb", mb)?,
        num("cb", cb)?,
    );
    if mi == 0 && ci == 0 {
        return Ok(None);
    }
    let total = super::sat_u16(u64::from(mb) + u64::from(cb));
    Ok(Some(LineRecord {
        line,
        hits: ci,
        branches_covered: super::sat_u16(u64::from(cb)).min(total),
        branches_total: total,
    }))
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
