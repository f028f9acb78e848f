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
