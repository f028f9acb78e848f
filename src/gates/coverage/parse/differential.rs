//! The full reader judges the fast path: on every fixture under `tests/fixtures`, on
//! hostile and broken variants of them, and with chunks cut everywhere, the fast path
//! (with its fallback) gives exactly what the full reader gives: the same report, or
//! the same error. And on the real reports it is really taken (no silent fallback).

use super::{chunk, parse, parse_chunked};
use crate::gates::coverage::model::{Format, Report};

/// Chunk sizes tried: the real one, and tiny ones that cut at every section.
const SIZES: [usize; 6] = [chunk::CHUNK, 1, 7, 64, 300, 4096];

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/coverage"
    ))];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p.display().to_string(), bytes));
            }
        }
    }
    out.sort();
    assert!(out.len() > 20, "fixtures not found");
    out
}

fn outcome(r: Result<Report, super::ParseError>) -> Result<Report, String> {
    r.map_err(|e| e.to_string())
}

/// Assert the fast path agrees with the full reader on `bytes`, for every format and
/// chunk size; true if the fast path accepted (did not fall back) at the real size.
pub(crate) fn agree(name: &str, format: Format, bytes: &[u8]) -> bool {
    let full = outcome(parse(format, bytes, "r"));
    for size in SIZES {
        let fast = outcome(parse_chunked(format, || Ok(bytes), "r", size));
        assert_eq!(fast, full, "{name} as {format}, chunks of {size}");
    }
    super::fast_only(format, bytes, chunk::CHUNK).is_some()
}

const FORMATS: [Format; 4] = [
    Format::Cobertura,
    Format::Jacoco,
    Format::Clover,
    Format::Lcov,
];

#[test]
fn every_fixture_parses_the_same_on_both_paths_and_takes_the_fast_one() {
    let mut taken = Vec::new();
    for (name, bytes) in fixtures() {
        for format in FORMATS {
            let accepted = agree(&name, format, &bytes);
            if accepted {
                taken.push((name.clone(), format));
            }
            // Every report of the format parses on the fast path, unless it needs
            // what the fast path leaves to the full reader.
            let real = parse(format, &bytes[..], "r").is_ok();
            assert_eq!(
                accepted, real,
                "{name} as {format}: fast path taken = {accepted}"
            );
            // Also when cut at every section: chunks join on real reports.
            let joined = super::fast_only(format, &bytes, 64).is_some();
            assert_eq!(
                joined, real,
                "{name} as {format} in chunks: taken = {joined}"
            );
        }
    }
    assert!(taken.len() >= 10, "fast path taken on {taken:?}");
}

#[test]
fn broken_variants_of_every_fixture_agree() {
    for (name, bytes) in fixtures() {
        for format in FORMATS {
            if parse(format, &bytes[..], "r").is_err() {
                continue;
            }
            // Cut short at a spread of places, and a byte changed at each of them.
            let n = bytes.len();
            for k in 1..24 {
                let at = n * k / 24;
                agree(&format!("{name}[..{at}]"), format, &bytes[..at]);
                for b in [b'<', b'>', b'&', b'"', b'/', b'\xff', b' '] {
                    let mut v = bytes.clone();
                    v[at] = b;
                    agree(&format!("{name} with {b:?} at {at}"), format, &v);
                }
            }
        }
    }
}

#[test]
fn hostile_inputs_agree() {
    let class = |body: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<coverage><sources><source>/s</source></sources><packages><package name=\"p\"><classes>\n{body}\n</classes></package></packages></coverage>\n"
        )
    };
    let cases = [
        // A section start inside a comment, CDATA, an attribute value, a DOCTYPE.
        class(
            "<!-- <class filename=\"x.py\"><lines><line number=\"1\" hits=\"1\"/></lines></class> --><class filename=\"a.py\"><lines><line number=\"2\" hits=\"0\"/></lines></class>",
        ),
        class(
            "<class filename=\"a.py\" name=\"<class \"><lines><line number=\"2\" hits=\"0\"/></lines></class>",
        ),
        class(
            "<class filename=\"a.py\"><lines><![CDATA[<class filename=\"b.py\">]]><line number=\"2\" hits=\"0\"/></lines></class>",
        ),
        class(
            "<class filename=\"a&amp;b.py\"><lines><line number=\"2\" hits=\"0\"/></lines></class><class filename=\"c.py\"><lines/></class>",
        ),
        // Sections left open across a cut, mismatched and stray end tags.
        class(
            "<class filename=\"a.py\"><lines><line number=\"1\" hits=\"1\"/>\n<class filename=\"b.py\"><lines/></class></lines></class>",
        ),
        class("<class filename=\"a.py\"><lines></class></lines>"),
        class("</classes><class filename=\"a.py\"/>"),
        class(
            "<class filename=\"a.py\"><lines><line number=\"1\" hits=\"1\"/></lines></class>\ntext<class filename=\"b.py\"/>",
        ),
        class("<class filename=\"a.py\"><lines><line number=\"1\" hits=\"x\"/></lines></class>"),
        class("<class filename=\"a.py\"><lines><line number=\"1\" hits=\"1\"/ ></lines></class>"),
        class(
            "<class filename=\"a.py\"><lines><line number=\"1\" hits=\"1\"></line ></lines></class>",
        ),
        class(
            "<class filename=\"a.py\"><lines><line number=\"1\" hits='1'/><line number=\"1\" hits=\"0\" branch=\"true\" condition-coverage=\"50% (1/2)\"/></lines></class><class filename=\"a.py\"><lines><line number=\"1\" hits=\"0\"/></lines></class>",
        ),
        class(
            "<class filename=\"a.py\"><lines><!----><!---><line number=\"1\" hits=\"1\"/></lines></class>",
        ),
        class(
            "<class filename=\"a.py\"><lines><line number=\"1\" hits=\"1\"/></lines></class><?pi x?>",
        ),
        format!("{}<x/>", class("<class filename=\"a.py\"/>")),
        format!("\u{feff}{}", class("<class filename=\"a.py\"/>")),
        format!(
            "<!DOCTYPE coverage [<!ENTITY a \"b\">]>{}",
            class("<class filename=\"a.py\"/>")
        ),
        format!(
            "<!DOCTYPE coverage SYSTEM \"a>b\">{}",
            class("<class filename=\"a.py\"/>")
        ),
        "<coverage/>".to_owned(),
        "<coverage></coverage>".to_owned(),
        "   ".to_owned(),
        "<coverage><class filename=\"a.py\">".to_owned(),
        format!(
            "<coverage>{}</coverage>",
            "<a>".repeat(300) + &"</a>".repeat(300)
        ),
        format!(
            "<coverage><packages><package><classes><class filename=\"{}\"/></classes></package></packages></coverage>",
            "a".repeat(70_000)
        ),
    ];
    let lcov = [
        // A section left open across a cut, closed by the next SF.
        "SF:a.c\nDA:1,1\nSF:b.c\nDA:2,0\nend_of_record\nSF:a.c\nDA:1,0\nDA:3,1\nend_of_record\n",
        "TN:\r\nSF:a.c\r\nDA:1,1\r\nBRDA:1,0,0,-\r\nBRDA:2,0,0,1\r\nLF:5\r\nLH:1\r\nend_of_record\r\n",
        "SF:a.c\nDA:1,1\nend_of_record\nSF:b.c\nDA:x,1\nend_of_record\n",
        "SF:a.c\nDA:1,1\nend_of_record\nSF:b.c\nDA:1,1\n",
        "SF:a.c\nDA:1,1\nend_of_record\nSF:\u{ff}\nend_of_record\n",
        "\n\n\nSF:a.c\nend_of_record",
    ];
    let cases = cases.iter().map(String::as_str).chain(lcov);
    for (i, c) in cases.enumerate() {
        for format in FORMATS {
            agree(&format!("case {i}"), format, c.as_bytes());
        }
    }
}

/// The hot route (`hot.rs`, LCOV's one-pass `DA`/`BRDA`) on every shape it must take or
/// decline: odd spacing and quoting, repeated and unknown attributes, references,
/// numbers that saturate or are not numbers, elements where they do not count.
#[test]
fn hot_elements_agree() {
    let cobertura = |lines: &str| {
        format!(
            "<coverage><packages><package name=\"p\"><classes><class filename=\"a.py\"><methods><method name=\"f\"><lines>{lines}</lines></method></methods><lines>{lines}</lines>{lines}</class></classes></package></packages></coverage>"
        )
    };
    let jacoco = |lines: &str| {
        format!(
            "<report name=\"r\"><package name=\"p\"><sourcefile name=\"A.java\">{lines}<counter type=\"LINE\" missed=\"1\" covered=\"2\"/></sourcefile></package></report>"
        )
    };
    let clover = |lines: &str| {
        format!(
            "<coverage clover=\"3.2.0\"><project name=\"All files\"><package name=\"p\"><file name=\"a.js\" path=\"/a.js\">{lines}</file></package></project></coverage>"
        )
    };
    let xml_lines = [
        r#"<line number="1" hits="2" number="3"/>"#,
        r#"<line  number = "1" hits="2"/>"#,
        r#"<line number="1"hits="2"/>"#,
        r#"<line number="1" hits="2" condition-coverage="50% (1/2)" precision="3"/>"#,
        "<line number=\"1\" hits=\"2\" branch=\"true\" condition-coverage=\"50% (1/\u{3000}2)\"/>",
        "<line number=\"1\" hits=\"2\" branch=\"true\" condition-coverage=\"50% (1/2\u{3000})\"/>",
        r#"<line number="&#49;" hits="1"/>"#,
        r#"<line number="1" hits="1" weird%="x" a="x>y"/>"#,
        "<line\nnumber='1'\thits=\"1\"\n/>",
        r#"<line number="1" hits="4294967296"/><line number="99999999999" hits="1"/>"#,
        r#"<line number="1" hits="-1"/>"#,
        r#"<line number="" hits="1"/>"#,
        r#"<line hits="1"/>"#,
        r#"<line number="1" hits="1"><conditions/></line>"#,
        r#"<line/><line2 number="1" hits="1"/>"#,
        r#"<line nr="1" mi="0" ci="1"/><line nr="2"/><line nr="3" mi="0" ci="0" mb="0" cb="0"/>"#,
        r#"<line nr="1" mi="0" ci="1" mb="2" cb="1" nr="7" ci="0"/><line nr="x" mi="1"/>"#,
        r#"<line num="1" type="method" count="1"/><line num="2" type="cond" truecount="1" falsecount="0" count="3"/>"#,
        r#"<line num="3" type="stmt"/><line num="4" type="cond"/>"#,
        r#"<line number="1" hits="1" a="x"/"#,
    ];
    let mut cases: Vec<String> = Vec::new();
    for l in xml_lines {
        cases.extend([cobertura(l), jacoco(l), clover(l)]);
    }
    // A `<line>` before any section.
    cases.push(
        "<coverage><packages><package name=\"p\"><classes><lines><line number=\"1\" hits=\"1\"/></lines><class filename=\"a.py\"/></classes></package></packages></coverage>".to_owned(),
    );
    let lcov_lines = [
        "DA:1,1,abc\n",
        "DA:1,-1\n",
        "DA: 1,1\n",
        "DA:1,1 \n",
        "DA:4294967296,99999999999999999999999\n",
        "DA:1,\n",
        "DA:,1\n",
        "BRDA:1,0,a,b,1\nBRDA:1,0,0,-\nBRDA:1,0,0, 1\nBRDA:1,0,0,1\r\n",
        "BRDA:1,0,0\nBRDA:2\n",
        "BRDA:1,\n",
        "BRDA:1,0,0,1x\n",
        "BRDA:x,0,0,1\n",
    ];
    for l in lcov_lines {
        cases.push(format!("SF:a.c\nDA:1,1\n{l}end_of_record\n"));
        cases.push(format!("{l}SF:a.c\nDA:1,1\nend_of_record\n"));
    }
    cases.push("SF:a.c\nDA:1,1\nDA:2,0".to_owned());
    // Lines over the line cap on both hot shapes.
    cases.push(format!(
        "SF:a.c\nDA:1,{}\nend_of_record\n",
        "1".repeat(1 << 20)
    ));
    cases.push(format!(
        "SF:a.c\nBRDA:1,{},1\nend_of_record\n",
        "0".repeat(1 << 20)
    ));
    for (i, c) in cases.iter().enumerate() {
        for format in FORMATS {
            agree(
                &format!("hot case {i}: {}", &c[..c.len().min(200)]),
                format,
                c.as_bytes(),
            );
        }
    }
}
