//! Cobertura XML, as written by coverage.py, gcovr, istanbul, cargo-llvm-cov, grcov,
//! mypy and others: `<sources><source>` roots, then
//! `<packages><package><classes><class filename=...><lines><line number hits
//! branch condition-coverage="50% (1/2)"/>`.
//!
//! Only `<line>` elements directly under a class's `<lines>` count. The copies under
//! `<methods><method><lines>` repeat them (coverage.py, istanbul and gcovr all write
//! both) and are used only for a class that has no `<lines>` of its own. Totals come
//! from the records, never from `line-rate` or the root's counters.
//!
//! mypy's `--cobertura-xml-report` measures type precision, not tests, and puts a fake
//! `condition-coverage="50% (1/2)"` on every imprecise line; lines carrying mypy's
//! `precision` attribute therefore contribute no branch data.

use std::io::BufRead;

use super::ErrorAt;
use super::fast::{Open, XmlHandler};
use super::hot::{Fault, HotTag};
use super::{
    Builder, MAX_VALUE, ParseError, ParseErrorKind, SameLine, parse_u16_sat, parse_u32_sat,
};
use crate::gates::coverage::model::{Format, LineRecord, Report};
use crate::xml::{Ctx, Ev, attrs, unescape};
use quick_xml::events::BytesStart;

/// Parse a Cobertura report.
pub fn parse<R: BufRead>(reader: R, origin: &str) -> Result<Report, ParseError> {
    super::fast::parse_full::<State, R>(reader, origin)
}

/// The Cobertura handler, driven by the full reader or the fast one.
#[derive(Default)]
pub(crate) struct State {
    builder: Builder,
    sources: Vec<String>,
    /// Text of the `<source>` being read.
    source: Option<String>,
    /// Path of the open `<class>`.
    class: Option<String>,
    class_has_lines: bool,
    lines: Vec<LineRecord>,
    method_lines: Vec<LineRecord>,
}

/// What a Cobertura chunk carries: the open `<source>` and `<class>` and its lines.
type Carry = (
    Option<String>,
    Option<String>,
    bool,
    Vec<LineRecord>,
    Vec<LineRecord>,
);

impl XmlHandler for State {
    const ROOT: &'static str = "coverage";
    const SPLIT: &'static [u8] = b"<class ";
    type Carry = Carry;

    fn resume(carry: Option<&Carry>) -> Self {
        let Some((source, class, class_has_lines, lines, method_lines)) = carry.cloned() else {
            return State::default();
        };
        State {
            source,
            class,
            class_has_lines,
            lines,
            method_lines,
            ..State::default()
        }
    }

    fn carry(&self) -> Carry {
        (
            self.source.clone(),
            self.class.clone(),
            self.class_has_lines,
            self.lines.clone(),
            self.method_lines.clone(),
        )
    }

    fn absorb(&mut self, later: Self) {
        self.builder.absorb(later.builder);
        self.sources.extend(later.sources);
        self.source = later.source;
        self.class = later.class;
        self.class_has_lines = later.class_has_lines;
        self.lines = later.lines;
        self.method_lines = later.method_lines;
    }

    fn finish(self, origin: &str) -> Result<Report, ParseError> {
        self.builder.finish(Format::Cobertura, origin, self.sources)
    }

    fn hot(&mut self, tag: HotTag<'_>, open: &Open) -> Option<usize> {
        // As `on` below: a record only directly under a class's or method's `<lines>`.
        if self.class.is_none() || !open.parent_is(0, b"lines") {
            return None;
        }
        let in_class = open.parent_is(1, b"class");
        if !in_class && !open.parent_is(1, b"method") {
            return None;
        }
        let ([number, hits, cond, precision], gt) = tag.attrs(LINE_KEYS)?;
        let rec = line_values(number, hits, cond, precision).ok()?;
        if in_class {
            self.lines.push(rec);
        } else {
            self.method_lines.push(rec);
        }
        Some(gt)
    }

    fn on(&mut self, ev: Ev<'_>, ctx: &Ctx<'_>) -> Result<(), ParseError> {
        match ev {
            Ev::Start(e) | Ev::Empty(e) if e.name().0 == "line" => {
                if ctx.ancestor(1) != "lines" || self.class.is_none() {
                    return Ok(());
                }
                let target = match ctx.ancestor(2) {
                    "class" => &mut self.lines,
                    "method" => &mut self.method_lines,
                    _ => return Ok(()),
                };
                target.push(line_record(&e, ctx)?);
            }
            Ev::Start(e) => match e.name().0 {
                "class" => {
                    self.class = Some(class_path(&e, ctx)?);
                    self.class_has_lines = false;
                    self.lines.clear();
                    self.method_lines.clear();
                }
                "lines" if ctx.ancestor(1) == "class" => self.class_has_lines = true,
                "source" if ctx.ancestor(1) == "sources" => self.source = Some(String::new()),
                _ => {}
            },
            Ev::Empty(e) => match e.name().0 {
                "class" => {
                    let path = class_path(&e, ctx)?;
                    self.lines.clear();
                    self.builder.add(&path, &mut self.lines, SameLine::Max);
                }
                "lines" if ctx.ancestor(1) == "class" => self.class_has_lines = true,
                "source" if ctx.ancestor(1) == "sources" => self.sources.push(String::new()),
                _ => {}
            },
            Ev::Text(t) => {
                if let Some(s) = &mut self.source {
                    // Text arrives in pieces around each `&amp;`: cap the whole.
                    if s.len() + t.len() > MAX_VALUE {
                        let kind = ParseErrorKind::TooLong("<source> path".to_owned());
                        return Err(ctx.error_at(t, kind));
                    }
                    s.push_str(t);
                }
            }
            Ev::End("class") => {
                if let Some(path) = self.class.take() {
                    if !self.class_has_lines {
                        std::mem::swap(&mut self.lines, &mut self.method_lines);
                    }
                    self.builder.add(&path, &mut self.lines, SameLine::Max);
                    self.method_lines.clear();
                    // The state between classes is always the same (chunks join on it).
                    self.class_has_lines = false;
                }
            }
            Ev::End("source") => {
                if let Some(s) = self.source.take() {
                    self.sources.push(s.trim().to_owned());
                }
            }
            Ev::End(_) => {}
        }
        Ok(())
    }
}

fn class_path(e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<String, ParseError> {
    let [filename] = attrs(ctx, e, ["filename"])?;
    let Some(raw) = filename else {
        return Err(ctx.error_at(
            e,
            ParseErrorKind::MissingAttribute {
                element: "class",
                attribute: "filename",
            },
        ));
    };
    Ok(unescape(ctx, e, raw)?)
}

/// The attributes a `<line>` record is made of, in [`line_values`]' order.
const LINE_KEYS: [&[u8]; 4] = [b"number", b"hits", b"condition-coverage", b"precision"];

fn line_record(e: &BytesStart<'_>, ctx: &Ctx<'_>) -> Result<LineRecord, ParseError> {
    let [number, hits, cond, precision] = attrs(
        ctx,
        e,
        ["number", "hits", "condition-coverage", "precision"],
    )?;
    line_values(number, hits, cond, precision).map_err(|f| f.error("line", ctx, e))
}

/// A `<line>`'s record from its raw attribute values (both routes).
fn line_values<'v>(
    number: Option<&'v str>,
    hits: Option<&'v str>,
    cond: Option<&'v str>,
    precision: Option<&'v str>,
) -> Result<LineRecord, Fault<'v>> {
    let number = number.ok_or(Fault::Missing("number"))?;
    let line = parse_u32_sat(number.as_bytes()).ok_or(Fault::Invalid(
        "number",
        number,
        "a non-negative integer",
    ))?;
    let hits = hits.ok_or(Fault::Missing("hits"))?;
    let hits = parse_u32_sat(hits.as_bytes()).ok_or(Fault::Invalid(
        "hits",
        hits,
        "a non-negative integer",
    ))?;
    let mut rec = LineRecord::new(line, hits);
    // mypy's type-precision report marks every imprecise line `branch="true"
    // condition-coverage="50% (1/2)"`: not branches. Only mypy writes `precision`.
    let cond = if precision.is_some() { None } else { cond };
    if let Some(cond) = cond {
        // "50% (1/2)": the fraction in parentheses is what counts. A value without one
        // (some writers put only "100%") carries no branch counts.
        // The delimiters are ASCII, so byte positions are char boundaries; a byte loop,
        // as these values are a dozen bytes (`str::find(char)`'s searcher set-up was 2 %
        // of the diff run's CPU).
        if let Some(open) = cond.bytes().position(|b| b == b'(') {
            let inner = cond[open + 1..].strip_suffix(')').map(str::trim);
            let parsed = inner.and_then(|inner| {
                let (c, t) = inner
                    .as_bytes()
                    .split_at(inner.bytes().position(|b| b == b'/')?);
                Some((parse_u16_sat(c)?, parse_u16_sat(&t[1..])?))
            });
            let Some((covered, total)) = parsed else {
                return Err(Fault::Invalid(
                    "condition-coverage",
                    cond,
                    "a percentage followed by (covered/total)",
                ));
            };
            rec.branches_total = total;
            rec.branches_covered = covered.min(total);
        }
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{err, errs, ok, paths, recs, t};
    use crate::gates::coverage::model::Format;

    const C: Format = Format::Cobertura;

    fn wrap(classes: &str) -> String {
        format!(
            r#"<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.9" branch-rate="0" lines-covered="999" lines-valid="999" version="7.4">
	<sources>
		<source>/home/u/proj</source>
		<source>/home/u/a&amp;b</source>
	</sources>
	<packages>
		<package name="p" line-rate="1">
			<classes>
{classes}
			</classes>
		</package>
	</packages>
</coverage>
"#
        )
    }

    #[test]
    fn coverage_py_shape_counts_records_not_rates() {
        let r = ok(
            C,
            &wrap(
                r#"<class name="a.py" filename="pkg/a.py" line-rate="1">
  <methods/>
  <lines>
    <line number="1" hits="1"/>
    <line number="2" hits="0"/>
    <line number="4" hits="3" branch="true" condition-coverage="50% (1/2)" missing-branches="6"/>
  </lines>
</class>"#,
            ),
        );
        assert_eq!(r.format, Format::Cobertura);
        assert_eq!(r.sources, ["/home/u/proj", "/home/u/a&b"]);
        assert_eq!(paths(&r), ["pkg/a.py"]);
        assert_eq!(
            recs(&r, "pkg/a.py"),
            [(1, true, 0, 0), (2, false, 0, 0), (4, true, 1, 2)]
        );
        assert_eq!(t(&r), (2, 3, 1, 2));
        assert!(r.has_branch_data);
    }

    #[test]
    fn method_lines_are_not_counted_twice() {
        // istanbul / gcovr shape: lines under <methods> repeat the class lines.
        let r = ok(
            C,
            &wrap(
                r#"<class name="a.js" filename="src/a.js" line-rate="0.5" branch-rate="1">
  <methods>
    <method name="f" hits="1" signature="()V">
      <lines><line number="1" hits="1"/></lines>
    </method>
  </methods>
  <lines>
    <line number="1" hits="1"/>
    <line number="2" hits="0"/>
  </lines>
</class>"#,
            ),
        );
        assert_eq!(t(&r), (1, 2, 0, 0));
    }

    #[test]
    fn class_without_lines_uses_method_lines() {
        let r = ok(
            C,
            &wrap(
                r#"<class name="A" filename="A.java"><methods><method name="f" signature="()V">
<lines><line number="3" hits="2"/><line number="4" hits="0"/></lines></method></methods></class>"#,
            ),
        );
        assert_eq!(recs(&r, "A.java"), [(3, true, 0, 0), (4, false, 0, 0)]);
    }

    #[test]
    fn classes_of_the_same_file_merge() {
        // Several <class> elements with one filename (Java inner classes, C++ gcovr,
        // mypy modules): each (path, line) once, covered if any copy is.
        let r = ok(
            C,
            &wrap(
                r#"<class name="A" filename="A.java"><methods/><lines>
  <line number="5" hits="0"/><line number="6" hits="0" branch="true" condition-coverage="0% (0/2)"/>
</lines></class>
<class name="A$1" filename="A.java"><lines>
  <line number="5" hits="4"/><line number="6" hits="1" branch="true" condition-coverage="50% (1/2)"/><line number="9" hits="1"/>
</lines></class>
<class name="B" filename="B.java"><lines/></class>
<class name="C" filename="C.java"/>"#,
            ),
        );
        assert_eq!(paths(&r), ["A.java", "B.java", "C.java"]);
        assert_eq!(
            recs(&r, "A.java"),
            [(5, true, 0, 0), (6, true, 1, 2), (9, true, 0, 0)]
        );
        assert_eq!(t(&r), (3, 3, 1, 2));
    }

    #[test]
    fn odd_but_valid_values() {
        let r = ok(
            C,
            &wrap(
                r#"<class name="x" filename="x&lt;1&gt;.c"><lines>
  <line number="3" hits="99999999999" branch="true" condition-coverage="100% (4/2)"/>
  <line number="1" hits="0" branch="true" condition-coverage="100%"/>
  <line number="2" hits="1" branch="false"></line>
  <line number="4" hits="1" branch="true" condition-coverage="75% ( 3/4 )"/>
</lines></class>"#,
            ),
        );
        assert_eq!(
            recs(&r, "x<1>.c"),
            [
                (1, false, 0, 0),
                (2, true, 0, 0),
                (3, true, 2, 2),
                (4, true, 3, 4)
            ]
        );
    }

    #[test]
    fn mypy_precision_lines_have_no_branches() {
        let r = ok(
            C,
            &wrap(
                r#"<class complexity="1.0" filename="m.py" name="m.py" branch-rate="0" line-rate="1"><methods/><lines>
<line branch="true" hits="1" number="21" precision="imprecise" condition-coverage="50% (1/2)"/>
<line branch="false" hits="0" number="22" precision="any"/></lines></class>"#,
            ),
        );
        assert_eq!(t(&r), (1, 2, 0, 0));
        assert!(!r.has_branch_data);
    }

    #[test]
    fn minimal_grcov_and_llvm_cov_shape() {
        // cargo-llvm-cov / grcov: no <sources> text, no DOCTYPE, single-quoted attrs.
        let r = ok(
            C,
            "<?xml version='1.0'?><coverage lines-valid='2'><sources><source/></sources>\
             <packages><package name='src'><classes><class name='lib' filename='src/lib.rs'>\
             <methods/><lines><line number='1' hits='5'/><line number='2' hits='0'/></lines>\
             </class></classes></package></packages></coverage>",
        );
        assert_eq!(r.sources, [""]);
        assert_eq!(t(&r), (1, 2, 0, 0));
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "coverage.xml: empty file"),
            (
                b"<html><body/></html>",
                "coverage.xml: not a coverage report (root element <html>)",
            ),
            (
                b"\x00\x9f\x92\x96garbage\x01",
                "coverage.xml: not a coverage report (binary data)",
            ),
            (
                b"<?xml version='1.0'?>\n<coverage>\n<packages>\n<package>\n<classes>\n<class name='a' filename='a.py'>\n<lines>\n<line hits='1'/>\n</lines></class></classes></package></packages></coverage>",
                "coverage.xml: line 8: <line> element without a number attribute",
            ),
            (
                b"<coverage><packages><package><classes><class name='a' filename='a.py'><lines>\n\n<line\n number='x' hits='1'/>",
                "coverage.xml: line 3: <line> element with invalid number=\"x\" (expected a non-negative integer)",
            ),
            (
                b"<coverage><packages><package><classes><class filename='a.py'><lines><line number='1'/>",
                "coverage.xml: line 1: <line> element without a hits attribute",
            ),
            (
                b"<coverage><packages><package><classes><class name='a'><lines/></class></classes></package></packages></coverage>",
                "coverage.xml: line 1: <class> element without a filename attribute",
            ),
            (
                b"<coverage><packages><package><classes><class filename='a.py'><lines><line number='1' hits='1' condition-coverage='50% (1of2)'/>",
                "coverage.xml: line 1: <line> element with invalid condition-coverage=\"50% (1of2)\" (expected a percentage followed by (covered/total))",
            ),
            (
                b"<coverage><packages><package><classes><class filename='a.py'><lines><line number='1' hits='1' condition-coverage='50% (1/)'/>",
                "coverage.xml: line 1: <line> element with invalid condition-coverage=\"50% (1/)\" (expected a percentage followed by (covered/total))",
            ),
            (
                b"<coverage><packages><package><classes><class filename='a.py'><lines><line number='1' hits='1'/>",
                "coverage.xml: byte 95: unexpected end of file inside <lines>",
            ),
            (
                b"<coverage><packages><package><classes><class filename='a.py'><lines><line number='1' hi",
                "coverage.xml: byte 87: unexpected end of file inside <lines>",
            ),
            (
                b"<coverage><packages></packages></coverage>",
                "coverage.xml: no file records",
            ),
            (b"<coverage/>", "coverage.xml: no file records"),
            (
                b"<coverage><packages><package><classes><class filename='a.py'>",
                "coverage.xml: byte 61: unexpected end of file inside <class>",
            ),
            (
                b"<coverage><packages><package><classes><class filename='a.py'><lines><line number/>",
                "coverage.xml: line 1: malformed XML: malformed attributes in <line>: expected name=\"value\"",
            ),
            (
                b"<coverage><packages><package><classes><class filename='a.py'><lines><line number=1/>",
                "coverage.xml: line 1: malformed XML: malformed attributes in <line>: attribute value without quotes",
            ),
            (
                b"<coverage><sources><source>&xxe;</source></sources>",
                "coverage.xml: byte 32: malformed XML: unknown entity &xxe;",
            ),
            (
                b"<coverage><packages><package><classes><class filename='&bogus;'/>",
                "coverage.xml: line 1: malformed XML: at 1..6: unrecognized entity `bogus`",
            ),
            (
                b"<?xml version='1.0'?>\n<!DOCTYPE coverage [\n<!ENTITY lol \"lol\">\n<!ENTITY lol2 \"&lol;&lol;\">\n]>\n<coverage/>",
                "coverage.xml: line 2: DOCTYPE with entity definitions is not allowed",
            ),
            (
                b"<coverage><packages></package></coverage>",
                "coverage.xml: byte 20: malformed XML: ill-formed document: expected `</packages>`, but `</package>` was found",
            ),
            (
                b"<coverage></coverage><coverage/>",
                "coverage.xml: line 1: content after the root element (<coverage>)",
            ),
            (b"\xff\xfe<\x00c\x00", "coverage.xml: UTF-16 encoding is not supported (convert the report to UTF-8)"),
            (
                b"<coverage><sources><source>\xff\xfe</source></sources></coverage>",
                "coverage.xml: invalid UTF-8 at line 1",
            ),
        ];
        errs(C, "coverage.xml", cases);
    }

    #[test]
    fn bom_and_crlf_are_fine() {
        let doc = "\u{feff}<?xml version=\"1.0\"?>\r\n<coverage>\r\n<packages><package><classes>\r\n\
                   <class filename=\"a.py\"><lines>\r\n<line number=\"1\" hits=\"1\"/>\r\n\
                   </lines></class></classes></package></packages></coverage>\r\n";
        assert_eq!(t(&ok(C, doc)), (1, 1, 0, 0));
        let bad = "\u{feff}<coverage>\r\n<packages><package><classes>\r\n<class filename=\"a.py\"><lines>\r\n<line hits=\"1\"/>";
        assert_eq!(
            err(C, "c.xml", bad.as_bytes()),
            "c.xml: line 4: <line> element without a number attribute"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = format!("<coverage>{}", "<a>".repeat(1000));
        assert_eq!(
            err(C, "c.xml", doc.as_bytes()),
            "c.xml: line 1: elements nested deeper than 256 levels"
        );
    }
}
