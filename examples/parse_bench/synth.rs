//! Deterministic synthetic coverage reports for `parse_bench gen`, one writer per
//! format, all drawing the same files and lines from one seeded generator: each file
//! has about 400 executable lines (one in ten with 2 or 4 branch outcomes, a quarter
//! not hit). Files are written until the report reaches the requested size.

use std::io::{self, Write};

/// Executable lines per file.
const LINES_PER_FILE: u64 = 400;
/// Distinct files a `--same-files` report repeats.
const DISTINCT: u64 = 6_000;
/// Files per package (Cobertura `<package>`, JaCoCo `<package>`, Clover `<package>`).
const PER_PACKAGE: u64 = 50;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// One line of a file: number, hits, and (covered, total) branch outcomes when any.
struct GenLine {
    line: u64,
    hits: u64,
    branches: Option<(u64, u64)>,
}

/// The lines of file `id`: the same for the same id, whatever the format.
fn lines_of(id: u64) -> Vec<GenLine> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    let mut line = 1u64;
    let mut out = Vec::with_capacity(LINES_PER_FILE as usize);
    for _ in 0..LINES_PER_FILE {
        line += 1 + rng.next() % 3;
        let r = rng.next();
        let hits = if r.is_multiple_of(4) { 0 } else { r % 1000 };
        let branches = (r % 10 == 1).then(|| {
            let total = 2 + 2 * (r >> 20) % 3;
            ((r >> 30) % (total + 1), total)
        });
        out.push(GenLine {
            line,
            hits,
            branches,
        });
    }
    out
}

/// Counts bytes written, so a writer knows when the report is big enough.
pub(crate) struct Sized<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Sized<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Write a report of `format` of at least `bytes` bytes; `same_files` repeats the
/// first 6,000 files instead of inventing new ones.
pub(crate) fn generate<W: Write>(
    format: &str,
    w: W,
    bytes: u64,
    same_files: bool,
) -> io::Result<()> {
    let mut w = Sized {
        inner: w,
        written: 0,
    };
    let ids = (0u64..).map(|f| if same_files { f % DISTINCT } else { f });
    match format {
        "cobertura" => cobertura(&mut w, bytes, ids),
        "lcov" => lcov(&mut w, bytes, ids),
        "jacoco" => jacoco(&mut w, bytes, ids),
        "clover" => clover(&mut w, bytes, ids),
        other => Err(io::Error::other(format!("no generator for {other:?}"))),
    }?;
    w.flush()
}

fn cobertura<W: Write>(
    w: &mut Sized<W>,
    bytes: u64,
    ids: impl Iterator<Item = u64>,
) -> io::Result<()> {
    writeln!(w, r#"<?xml version="1.0" ?>"#)?;
    writeln!(
        w,
        r#"<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">"#
    )?;
    writeln!(
        w,
        r#"<coverage version="7.6.1" timestamp="1700000000000" lines-valid="0" lines-covered="0" line-rate="0" branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">"#
    )?;
    writeln!(
        w,
        "\t<sources>\n\t\t<source>/home/runner/work/big/big</source>\n\t</sources>\n\t<packages>"
    )?;
    for (f, id) in ids.enumerate() {
        let f = f as u64;
        if f.is_multiple_of(PER_PACKAGE) {
            if f > 0 {
                writeln!(w, "\t\t\t</classes>\n\t\t</package>")?;
                if w.written >= bytes {
                    break;
                }
            }
            writeln!(
                w,
                "\t\t<package name=\"pkg{}\" line-rate=\"0.5\" branch-rate=\"0.5\" complexity=\"0\">\n\t\t\t<classes>",
                f / PER_PACKAGE
            )?;
        }
        writeln!(
            w,
            "\t\t\t\t<class name=\"mod{id}.py\" filename=\"src/pkg{}/mod{id}.py\" complexity=\"0\" line-rate=\"0.5\" branch-rate=\"0.5\">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>",
            id / PER_PACKAGE
        )?;
        for l in lines_of(id) {
            let (line, hits) = (l.line, l.hits);
            match l.branches {
                Some((covered, total)) => writeln!(
                    w,
                    "\t\t\t\t\t\t<line number=\"{line}\" hits=\"{hits}\" branch=\"true\" condition-coverage=\"{}% ({covered}/{total})\"/>",
                    covered * 100 / total
                )?,
                None => writeln!(w, "\t\t\t\t\t\t<line number=\"{line}\" hits=\"{hits}\"/>")?,
            }
        }
        writeln!(w, "\t\t\t\t\t</lines>\n\t\t\t\t</class>")?;
    }
    writeln!(w, "\t</packages>\n</coverage>")
}

/// geninfo's shape: TN, SF, FN/FNDA, DA, BRDA, BRF/BRH, LF/LH, end_of_record.
fn lcov<W: Write>(w: &mut Sized<W>, bytes: u64, ids: impl Iterator<Item = u64>) -> io::Result<()> {
    for id in ids {
        if w.written >= bytes {
            break;
        }
        let lines = lines_of(id);
        writeln!(
            w,
            "TN:\nSF:/home/runner/work/big/big/src/pkg{}/mod{id}.c",
            id / PER_PACKAGE
        )?;
        writeln!(w, "FN:{},main\nFNDA:1,main\nFNF:1\nFNH:1", lines[0].line)?;
        let (mut brf, mut brh, mut lh) = (0, 0, 0);
        for l in &lines {
            writeln!(w, "DA:{},{}", l.line, l.hits)?;
            lh += u64::from(l.hits > 0);
            if let Some((covered, total)) = l.branches {
                for b in 0..total {
                    if l.hits == 0 {
                        writeln!(w, "BRDA:{},0,{b},-", l.line)?;
                    } else {
                        writeln!(w, "BRDA:{},0,{b},{}", l.line, u64::from(b < covered))?;
                        brh += u64::from(b < covered);
                    }
                }
                brf += total;
            }
        }
        writeln!(
            w,
            "BRF:{brf}\nBRH:{brh}\nLF:{}\nLH:{lh}\nend_of_record",
            lines.len()
        )?;
    }
    Ok(())
}

/// JaCoCo's shape: packages of classes (summaries) and source files with `<line nr mi
/// ci mb cb/>` and counters.
fn jacoco<W: Write>(
    w: &mut Sized<W>,
    bytes: u64,
    ids: impl Iterator<Item = u64>,
) -> io::Result<()> {
    writeln!(
        w,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="big"><sessioninfo id="runner-1" start="1700000000000" dump="1700000001000"/>"#
    )?;
    let mut open = false;
    for (f, id) in ids.enumerate() {
        let f = f as u64;
        if f.is_multiple_of(PER_PACKAGE) {
            if open {
                writeln!(w, "</package>")?;
                if w.written >= bytes {
                    open = false;
                    break;
                }
            }
            writeln!(w, "<package name=\"com/example/pkg{}\">", f / PER_PACKAGE)?;
            open = true;
        }
        let lines = lines_of(id);
        writeln!(
            w,
            "<class name=\"com/example/pkg{}/Mod{id}\" sourcefilename=\"Mod{id}.java\"><method name=\"run\" desc=\"()V\" line=\"{}\"><counter type=\"INSTRUCTION\" missed=\"1\" covered=\"1\"/></method><counter type=\"INSTRUCTION\" missed=\"1\" covered=\"1\"/></class>",
            id / PER_PACKAGE,
            lines[0].line
        )?;
        writeln!(w, "<sourcefile name=\"Mod{id}.java\">")?;
        let (mut lm, mut lc) = (0, 0);
        for l in &lines {
            let (mi, ci) = if l.hits == 0 {
                (3, 0)
            } else {
                (0, 3 + l.hits % 5)
            };
            let (mb, cb) = l.branches.map_or((0, 0), |(c, t)| (t - c, c));
            let (mb, cb) = if l.hits == 0 { (mb + cb, 0) } else { (mb, cb) };
            writeln!(
                w,
                "<line nr=\"{}\" mi=\"{mi}\" ci=\"{ci}\" mb=\"{mb}\" cb=\"{cb}\"/>",
                l.line
            )?;
            if ci > 0 {
                lc += 1;
            } else {
                lm += 1;
            }
        }
        writeln!(
            w,
            "<counter type=\"INSTRUCTION\" missed=\"{}\" covered=\"{}\"/><counter type=\"LINE\" missed=\"{lm}\" covered=\"{lc}\"/></sourcefile>",
            lm * 3,
            lc * 3
        )?;
    }
    if open {
        writeln!(w, "</package>")?;
    }
    writeln!(
        w,
        "<counter type=\"INSTRUCTION\" missed=\"0\" covered=\"0\"/></report>"
    )
}

/// istanbul's Clover shape: `<file name path>` with `<line num count type>`; `cond`
/// lines carry `truecount` (covered outcomes) and `falsecount` (uncovered ones).
fn clover<W: Write>(
    w: &mut Sized<W>,
    bytes: u64,
    ids: impl Iterator<Item = u64>,
) -> io::Result<()> {
    writeln!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<coverage generated=\"1700000000000\" clover=\"3.2.0\">\n  <project timestamp=\"1700000000000\" name=\"All files\">\n    <metrics statements=\"0\" coveredstatements=\"0\" conditionals=\"0\" coveredconditionals=\"0\" methods=\"0\" coveredmethods=\"0\" elements=\"0\" coveredelements=\"0\" complexity=\"0\" loc=\"0\" ncloc=\"0\" packages=\"0\" files=\"0\" classes=\"0\"/>"
    )?;
    let mut open = false;
    for (f, id) in ids.enumerate() {
        let f = f as u64;
        if f.is_multiple_of(PER_PACKAGE) {
            if open {
                writeln!(w, "    </package>")?;
                if w.written >= bytes {
                    open = false;
                    break;
                }
            }
            writeln!(
                w,
                "    <package name=\"pkg{}\">\n      <metrics statements=\"0\" coveredstatements=\"0\" conditionals=\"0\" coveredconditionals=\"0\" methods=\"0\" coveredmethods=\"0\"/>",
                f / PER_PACKAGE
            )?;
            open = true;
        }
        writeln!(
            w,
            "      <file name=\"mod{id}.js\" path=\"/home/runner/work/big/big/src/pkg{}/mod{id}.js\">\n        <metrics statements=\"400\" coveredstatements=\"300\" conditionals=\"0\" coveredconditionals=\"0\" methods=\"0\" coveredmethods=\"0\"/>",
            id / PER_PACKAGE
        )?;
        for l in lines_of(id) {
            match l.branches {
                Some((covered, total)) => writeln!(
                    w,
                    "        <line num=\"{}\" count=\"{}\" type=\"cond\" truecount=\"{covered}\" falsecount=\"{}\"/>",
                    l.line,
                    l.hits,
                    total - covered
                )?,
                None => writeln!(
                    w,
                    "        <line num=\"{}\" count=\"{}\" type=\"stmt\"/>",
                    l.line, l.hits
                )?,
            }
        }
        writeln!(w, "      </file>")?;
    }
    if open {
        writeln!(w, "    </package>")?;
    }
    writeln!(w, "  </project>\n</coverage>")
}
