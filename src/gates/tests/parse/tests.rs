//! Reader tests on inline reports: each dialect's shape, reruns, hostile input.

use super::*;
use crate::gates::tests::model::{MAX_TEXT, Status};

fn ok(input: &str) -> Tally {
    parse_str(input, "r.xml").unwrap_or_else(|e| panic!("{e}"))
}

fn err(input: &str) -> String {
    parse_str(input, "r.xml")
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn detects_by_content() {
    assert_eq!(
        detect(b"<?xml version=\"1.0\"?>\n<testsuites>"),
        Some(Format::Junit)
    );
    assert_eq!(
        detect(b"\xEF\xBB\xBF<!-- c --><testsuite name=\"x\">"),
        Some(Format::Junit)
    );
    assert_eq!(detect(b"  {\"Action\":\"run\"}"), Some(Format::GoJson));
    assert_eq!(detect(b"<coverage>"), None);
    assert_eq!(detect(b"TN:\nSF:a"), None);
}

#[test]
fn junit_nested_suites_statuses_and_text() {
    let t = ok(r#"<?xml version="1.0"?>
<testsuites><testsuite name="outer"><testsuite name="inner">
  <properties><property name="k" value="v"/></properties>
  <testcase classname="C" name="ok" time="0.5"/>
  <testcase classname="C" name="bad" file="t/a.py" line="7" time="1,234.5">
    <failure message="boom &amp; more" type="AssertionError">trace line 1
trace line 2</failure>
    <system-out>out &lt;b&gt;</system-out><system-err><![CDATA[err]]></system-err>
  </testcase>
  <testcase classname="C" name="err"><error type="NullPointerException"/></testcase>
  <testcase classname="C" name="skip"><skipped message="later"/></testcase>
</testsuite><testcase classname="D" name="outer-case"/></testsuite></testsuites>"#);
    assert_eq!(
        (t.passed, t.failed, t.errored, t.skipped, t.total()),
        (2, 1, 1, 1, 5)
    );
    let bad = &t.failures[0];
    assert_eq!(
        (bad.suite.as_str(), bad.full_name()),
        ("inner", "C.bad".to_owned())
    );
    assert_eq!(
        (bad.file.as_deref(), bad.line, bad.millis),
        (Some("t/a.py"), Some(7), 1_234_500)
    );
    assert_eq!(bad.message.text, "boom & more");
    assert_eq!(bad.details.text, "trace line 1\ntrace line 2");
    assert_eq!(bad.output.text, "out <b>err");
    assert_eq!(bad.output.text, "out <b>err");
    assert_eq!(t.failures[1].message.text, "NullPointerException");
    assert_eq!(t.failures[1].status, Some(Status::Errored));
    assert_eq!(t.slowest[0].name, "C.bad");
}

#[test]
fn junit_lone_testsuite_root_and_empty_report() {
    let t = ok(r#"<testsuite name="s"><testcase name="a"/></testsuite>"#);
    assert_eq!(t.passed, 1);
    assert_eq!(ok("<testsuites/>").total(), 0);
}

#[test]
fn nextest_and_surefire_reruns() {
    let t = ok(r#"<testsuites><testsuite name="s">
  <testcase name="flaky" classname="c">
    <flakyFailure message="first" type="panic">panicked at src/lib.rs:3:5<system-out>x</system-out></flakyFailure>
  </testcase>
  <testcase name="broken" classname="c">
    <failure message="third" type="panic">final</failure>
    <rerunFailure message="first">one</rerunFailure>
    <rerunFailure message="second">two</rerunFailure>
  </testcase>
  <testcase name="surefire" classname="c"><flakyError message="e" type="X"/></testcase>
</testsuite></testsuites>"#);
    assert_eq!((t.passed, t.failed, t.flaky, t.total()), (0, 1, 2, 3));
    assert_eq!(t.failures[0].retries, 2);
    assert_eq!(t.failures[0].details.text, "final");
    assert_eq!(t.flakies[0].retries, 1);
    assert_eq!(t.flakies[0].details.text, "panicked at src/lib.rs:3:5");
    assert_eq!(t.flakies[0].message.text, "first");
    assert_eq!(t.flakies[1].name, "surefire");
}

#[test]
fn hostile_junit_is_refused_or_bounded() {
    let e = err(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuites/>"#);
    assert!(e.contains("entity definitions"), "{e}");
    let e = err("<testsuites><testsuite><testcase name=\"a\">");
    assert!(e.contains("unexpected end of file"), "{e}");
    assert!(err("<coverage/>").contains("not a test report"));
    let e = err(r#"<testsuites><testcase name="a"><testcase name="b"/></testcase></testsuites>"#);
    assert!(e.contains("inside <testcase>"), "{e}");
    // A megabyte of output in one failure: read, and cut.
    let long = format!(
        "<testsuites><testcase name=\"a\"><failure>{}</failure><system-out>{}</system-out></testcase><testcase name=\"b\"/></testsuites>",
        "é".repeat(600_000),
        "x\n".repeat(600_000)
    );
    let t = ok(&long);
    assert_eq!((t.failed, t.passed), (1, 1));
    assert!(t.failures[0].details.cut && t.failures[0].details.text.len() <= MAX_TEXT);
    assert!(t.failures[0].output.cut);
    // Ant and Surefire write output as CDATA: a long section is cut the same way, and
    // whatever the cut leaves at its edge (brackets, a multi-byte character), the
    // section still ends at its own `]]>`.
    for filler in ["x", "]", "é", "]]", "]>"] {
        let body = filler.repeat(700_000 / filler.len());
        let long = format!(
            "<testsuite><testcase name=\"a\"><failure><![CDATA[{body}]]></failure><system-out><![CDATA[{body}]]]]></system-out></testcase><testcase name=\"b\"/></testsuite>"
        );
        let t = ok(&long);
        assert_eq!((t.failed, t.passed), (1, 1), "{filler}");
        assert!(t.failures[0].details.cut, "{filler}");
    }
    let e = err(&format!(
        "<testsuite><testcase name=\"a\"><system-out><![CDATA[{}",
        "x".repeat(300_000)
    ));
    assert!(e.contains("r.xml"), "{e}");
}

#[test]
fn go_test_json_events() {
    let t = ok(r#"{"Action":"run","Package":"m/p","Test":"TestA"}
{"Action":"output","Package":"m/p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"m/p","Test":"TestA","Output":"    a_test.go:12: want 5\n"}
{"Action":"fail","Package":"m/p","Test":"TestA","Elapsed":0.25}
# m/q [build failed]
{"Action":"run","Package":"m/p","Test":"TestB"}
{"Action":"pass","Package":"m/p","Test":"TestB","Elapsed":0}
{"Action":"run","Package":"m/p","Test":"TestS"}
{"Action":"skip","Package":"m/p","Test":"TestS","Elapsed":0}
{"Action":"run","Package":"m/p","Test":"TestPanics"}
{"Action":"output","Package":"m/p","Test":"TestPanics","Output":"panic: boom\n"}
{"Action":"fail","Package":"m/p","Elapsed":0.3}
{"Action":"run","Package":"m/p","Test":"TestA"}
{"Action":"pass","Package":"m/p","Test":"TestA","Elapsed":0.1}
"#);
    assert_eq!(
        (t.passed, t.failed, t.skipped, t.flaky, t.total()),
        (1, 1, 1, 1, 4)
    );
    assert_eq!(t.flakies[0].message.text, "a_test.go:12: want 5");
    assert_eq!(t.failures[0].name, "TestPanics");
    assert!(t.failures[0].details.text.contains("panic: boom"));
    let e = err("{\"Action\":\"run\"\n");
    assert!(e.contains("line 1: expected a test2json event"), "{e}");
}
