//! Tests of the shared parsing helpers and of `parse_auto`.

use super::*;

#[test]
fn numbers_saturate() {
    let cases: &[(&str, Option<u32>)] = &[
        ("0", Some(0)),
        (" 42 ", Some(42)),
        ("4294967295", Some(u32::MAX)),
        ("4294967296", Some(u32::MAX)),
        ("99999999999999999999999999999", Some(u32::MAX)),
        ("", None),
        ("-1", None),
        ("1.5", None),
        ("+1", None),
        ("x", None),
    ];
    for (s, want) in cases {
        assert_eq!(parse_u32_sat(s.as_bytes()), *want, "{s:?}");
    }
    assert_eq!(parse_u16_sat(b"70000"), Some(u16::MAX));
}

#[test]
fn line_reader_splits_and_bounds() {
    let mut r = LineReader::new(&b"a\r\nbb\n\nc"[..]);
    let mut got = vec![];
    while let Some((_, l)) = r.next_line().unwrap_or_else(|e| panic!("{e}")) {
        got.push(String::from_utf8_lossy(l).into_owned());
    }
    assert_eq!(got, ["a", "bb", "", "c"]);
    assert_eq!(r.line_no(), 4);

    let long = vec![b'x'; MAX_LINE + 1];
    let mut r = LineReader::new(&long[..]);
    assert!(matches!(r.next_line(), Err(ParseErrorKind::LineTooLong(_))));
}

#[test]
fn binary_detection() {
    assert!(looks_binary(b"\x00\x01\x02"));
    assert!(looks_binary(b"\xff\xfe\xfd garbage"));
    assert!(!looks_binary("SF:é.rs\n".as_bytes()));
    assert!(!looks_binary(b"mode: set\n"));
}

#[test]
fn parse_auto_detects_and_rejects() {
    let r = parse_auto(&b"mode: set\na.go:1.1,2.2 1 1\n"[..], "c.out");
    assert_eq!(
        r.map(|r| r.format).map_err(|e| e.to_string()),
        Ok(Format::Go)
    );
    let cases: &[(&[u8], &str)] = &[
        (b"", "x: empty file"),
        (b"  \n", "x: empty file"),
        (
            b"\x00\x01\x02\x03",
            "x: not a coverage report (binary data)",
        ),
        (
            b"hello world",
            "x: not a coverage report (unrecognised format; set `format` explicitly)",
        ),
    ];
    for (input, want) in cases {
        let got = parse_auto(*input, "x")
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(got, Err((*want).to_owned()));
    }
}

#[test]
fn aliases_of_one_file_are_one_file() {
    // A report can name one file through any number of aliases (`d1/../a.py`); each
    // would otherwise be a file of its own until path mapping, in memory all the while.
    let xml = r#"<?xml version="1.0" ?>
<coverage version="7.6"><packages><package name="p"><classes>
<class name="a" filename="d0/../a.py"><lines><line number="3" hits="0"/></lines></class>
<class name="b" filename="./a.py"><lines><line number="1" hits="1"/></lines></class>
<class name="c" filename="a.py"><lines><line number="2" hits="1"/></lines></class>
<class name="d" filename="../a.py"><lines><line number="9" hits="1"/></lines></class>
</classes></package></packages></coverage>
"#;
    let lcov = "SF:src/../a.py\nDA:3,0\nend_of_record\nSF:a.py\nDA:1,1\nDA:2,1\nend_of_record\nSF:../a.py\nDA:9,1\nend_of_record\n";
    for (text, name) in [(xml, "coverage.xml"), (lcov, "lcov.info")] {
        let r = parse_auto(text.as_bytes(), name).unwrap_or_else(|e| panic!("{e}"));
        let files: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(files, ["a.py", "../a.py"], "{name}");
        assert_eq!(r.files[0].lines.iter().count(), 3, "{name}");
    }
}

#[test]
fn io_error_keeps_its_source() {
    let e = ParseError::new(
        "c.xml",
        Location::Whole,
        ParseErrorKind::Io(std::io::Error::other("disk on fire")),
    );
    assert_eq!(e.to_string(), "c.xml: cannot read the report");
    let src = std::error::Error::source(&e).map(|s| s.to_string());
    assert_eq!(src.as_deref(), Some("disk on fire"));
}

/// A value of `n` bytes that is fine in a path and in XML.
fn long(n: usize) -> String {
    "a/".repeat(n / 2) + &"b".repeat(n % 2)
}

/// Every format: a path or value of exactly [`MAX_VALUE`] bytes is read, one byte more
/// is an input error naming the report and the line.
#[test]
fn paths_and_values_over_64_kib_are_input_errors() {
    type Case = (Format, fn(&str) -> String, &'static str);
    let cases: &[Case] = &[
        (
            Format::Lcov,
            |p| format!("TN:\nSF:{p}\nDA:1,1\nend_of_record\n"),
            "r: line 2: SF path longer than 65536 bytes",
        ),
        (
            Format::Go,
            |p| format!("mode: set\n{p}:1.1,2.2 1 1\n"),
            "r: line 2: file path longer than 65536 bytes",
        ),
        (
            Format::Cobertura,
            |p| {
                format!(
                    "<coverage>\n<packages><package><classes>\n<class filename=\"{p}\"><lines><line number=\"1\" hits=\"1\"/></lines></class>\n</classes></package></packages></coverage>"
                )
            },
            "r: line 3: attribute filename of <class> longer than 65536 bytes",
        ),
        (
            Format::Cobertura,
            |p| {
                format!(
                    "<coverage>\n<sources>\n<source>{p}</source></sources><packages><package><classes><class filename=\"a\"><lines><line number=\"1\" hits=\"1\"/></lines></class></classes></package></packages></coverage>"
                )
            },
            "r: line 3: text in <source> longer than 65536 bytes",
        ),
        (
            Format::Clover,
            |p| {
                format!(
                    "<coverage clover=\"4\"><project>\n<file name=\"x\"\n path=\"{p}\"><line num=\"1\" type=\"stmt\" count=\"1\"/></file></project></coverage>"
                )
            },
            "r: line 2: attribute path of <file> longer than 65536 bytes",
        ),
        (
            Format::Jacoco,
            |p| {
                format!(
                    "<report name=\"r\">\n<package name=\"p\">\n<sourcefile name=\"{p}\"><line nr=\"1\" mi=\"0\" ci=\"1\"/></sourcefile></package></report>"
                )
            },
            "r: line 3: attribute name of <sourcefile> longer than 65536 bytes",
        ),
    ];
    for (format, doc, want) in cases {
        let ok = doc(&long(MAX_VALUE - 2));
        if let Err(e) = parse(*format, ok.as_bytes(), "r") {
            panic!("{format}: a value of 64 KiB is fine, got {e}");
        }
        let bad = doc(&long(MAX_VALUE + 1));
        match parse(*format, bad.as_bytes(), "r") {
            Err(e) => assert_eq!(e.to_string(), *want, "{format}"),
            Ok(_) => panic!("{format}: a value over 64 KiB was accepted"),
        }
    }
}

/// Values under the cap that only add up to too much: a `<source>` in pieces around
/// references, and a JaCoCo package joined with its file name.
#[test]
fn pieces_that_add_up_over_64_kib_are_input_errors() {
    let piece = long(1000);
    let source: String = vec![piece.as_str(); 66].join("&amp;");
    let doc =
        format!("<coverage><sources>\n<source>{source}</source></sources><packages/></coverage>");
    let e = parse(Format::Cobertura, doc.as_bytes(), "r").map(|_| ());
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("r: line 2: <source> path longer than 65536 bytes".to_owned())
    );
    let half = long(MAX_VALUE / 2 + 10);
    let doc = format!(
        "<report name=\"r\">\n<package name=\"{half}\">\n<sourcefile name=\"{half}\"><line nr=\"1\" mi=\"0\" ci=\"1\"/></sourcefile></package></report>"
    );
    let e = parse(Format::Jacoco, doc.as_bytes(), "r").map(|_| ());
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("r: line 3: package and source file path longer than 65536 bytes".to_owned())
    );
}

/// A reader of `head`, then `fill` bytes without end; fails after `limit` bytes, so a
/// parser that keeps buffering fails with an I/O error instead of running out of memory.
struct Endless {
    head: Vec<u8>,
    fill: u8,
    given: usize,
    limit: usize,
}

impl std::io::Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.given >= self.limit {
            return Err(std::io::Error::other("read past the limit"));
        }
        let n = buf.len().min(self.limit - self.given);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = self.head.get(self.given + k).copied().unwrap_or(self.fill);
        }
        self.given += n;
        Ok(n)
    }
}

/// An attribute, a text or a comment that never ends: the XML reader stops after
/// [`crate::xml::MAX_MARKUP`] bytes with an input error at its line, having read little more
/// (quick-xml alone buffered all of it: a 300 MB attribute cost 2 GB).
#[test]
fn the_xml_reader_never_buffers_unbounded_markup() {
    let cases: &[(&str, u8)] = &[
        ("<coverage>\n<packages>\n<class filename=\"", b'a'),
        ("<coverage>\n<sources>\n<source>", b'a'),
        ("<coverage>\n<!-- ", b'-'),
        ("<coverage>\n<packages\n", b' '),
        ("<coverage>\n<sources><source>&", b'a'),
    ];
    let limit = 8 << 20;
    for (head, fill) in cases {
        let mut endless = Endless {
            head: head.as_bytes().to_vec(),
            fill: *fill,
            given: 0,
            limit,
        };
        let reader = std::io::BufReader::with_capacity(256 * 1024, &mut endless);
        let e = parse(Format::Cobertura, reader, "r").map(|_| ());
        let line = 1 + head.matches('\n').count();
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err(format!(
                "r: line {line}: XML markup (a tag, text or comment) longer than 262144 bytes"
            )),
            "{head:?}"
        );
        assert!(
            endless.given <= crate::xml::MAX_MARKUP + 2 * 256 * 1024,
            "{head:?}: read {} bytes",
            endless.given
        );
    }
}
