//! Every language's trace form, and the rule that a location off the tracked files is
//! never used.

use super::*;
use crate::gates::tests::model::Bounded;
use crate::paths::PathMapper;

fn f(path: &str, line: u32) -> (String, u32) {
    (path.to_owned(), line)
}

fn found(text: &str, go: Option<&str>) -> Vec<(String, u32)> {
    frames(text, go)
        .into_iter()
        .map(|f| (f.path, f.line))
        .collect()
}

#[test]
fn python_tracebacks_innermost_first() {
    let native = r#"Traceback (most recent call last):
  File "/home/runner/work/p/p/tests/test_calc.py", line 46, in test_raises_in_helper
    helper_that_raises()
  File "/home/runner/work/p/p/tests/test_calc.py", line 42, in helper_that_raises
    raise ValueError("deep inside")
ValueError: deep inside"#;
    assert_eq!(
        found(native, None),
        [
            f("/home/runner/work/p/p/tests/test_calc.py", 42),
            f("/home/runner/work/p/p/tests/test_calc.py", 46)
        ]
    );
    let pytest = "def test_fails():\n>       assert total == 5\nE       assert 4 == 5\n\ntest_calc.py:16: AssertionError";
    assert_eq!(found(pytest, None), [f("test_calc.py", 16)]);
    let site = "  File \"/usr/lib/python3/dist-packages/x.py\", line 3, in f";
    assert!(found(site, None).is_empty());
}

#[test]
fn node_stacks() {
    let node = "Error: boom\n    at explode (/w/proj/calc.js:6:9)\n    at Object.explode (/w/proj/calc.test.js:16:5)\n    at new Promise (<anonymous>)\n    at callAsync (/w/node_modules/jest-circus/build/a.js:1774:10)\n    at file:///w/proj/esm.mjs:3:1";
    assert_eq!(
        found(node, None),
        [
            f("/w/proj/calc.js", 6),
            f("/w/proj/calc.test.js", 16),
            f("/w/proj/esm.mjs", 3)
        ]
    );
}

#[test]
fn rust_panics_old_and_new() {
    let new = "thread 'tests::fails' (1) panicked at src/lib.rs:17:9:\nassertion `left == right` failed\n   2: calc::tests::fails\n             at ./src/lib.rs:17:9\n   3: core::ops\n             at /rustc/abc/library/core/src/ops/function.rs:250:5";
    assert_eq!(
        found(new, None),
        [f("src/lib.rs", 17), f("./src/lib.rs", 17)]
    );
    let old = "thread 'main' panicked at 'boom', src/main.rs:3:5";
    assert_eq!(found(old, None), [f("src/main.rs", 3)]);
}

#[test]
fn go_assertion_lines_join_the_package() {
    let out = "=== RUN   TestAddFails\n    calc_test.go:14: Add(2, 2) = 4, want 5\n--- FAIL: TestAddFails (0.00s)\n";
    assert_eq!(
        found(out, Some("example.com/calc/calc")),
        [f("example.com/calc/calc/calc_test.go", 14)]
    );
    let panic = "panic: boom\n\ngoroutine 7 [running]:\nexample.com/calc.TestP(0xc0)\n\t/home/u/calc/calc_test.go:30 +0x1d\ntesting.tRunner(0xc0)\n\t/usr/lib/go-1.19/src/testing/testing.go:1446 +0x10b";
    assert_eq!(
        found(panic, Some("example.com/calc")),
        [f("/home/u/calc/calc_test.go", 30)]
    );
}

#[test]
fn java_frames_carry_their_package() {
    let trace = "junit.framework.AssertionFailedError: expected:<5> but was:<4>\n\tat org.junit.Assert.fail(Assert.java:89)\n\tat com.example.CalcTest.fails(CalcTest.java:21)\n\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n\tat com.example.CalcTest.errors(Unknown Source)";
    let fr = frames(trace, None);
    assert_eq!(fr[0].path, "org/junit/Assert.java");
    assert_eq!(
        (fr[1].path.as_str(), fr[1].line, fr[1].package),
        ("com/example/CalcTest.java", 21, true)
    );
    assert_eq!(fr.len(), 2);
}

#[test]
fn php_and_plain_path_line() {
    assert_eq!(
        found(
            "CalcTest::testFails\nFailed asserting that 4 is identical to 5.\n\n/w/tests/CalcTest.php:20",
            None
        ),
        [f("/w/tests/CalcTest.php", 20)]
    );
    assert!(
        found(
            "see https://example.com:8080/x and ratio 3:4 at 12:30",
            None
        )
        .is_empty()
    );
}

fn mapper(tracked: &[&str]) -> PathMapper {
    PathMapper::new("/ws", tracked.iter().map(|s| (*s).to_owned()), None, None)
}

fn case(class: &str, file: Option<&str>, line: Option<u32>, details: &str) -> Case {
    let mut d = Bounded::default();
    d.push(details);
    Case {
        suite: "example.com/calc".into(),
        class: class.into(),
        file: file.map(str::to_owned),
        line,
        details: d,
        ..Case::default()
    }
}

fn at(c: &Case, tracked: &[&str]) -> Option<(String, Option<u32>)> {
    let m = mapper(tracked);
    let mut rm = m.for_report(&[]);
    locate(c, &mut rm).map(|l| (l.path, l.line))
}

#[test]
fn the_test_files_frame_wins_then_attributes_then_any_frame_then_the_file() {
    let js = "Error\n    at explode (/elsewhere/proj/src/calc.js:6:9)\n    at Object.explode (/elsewhere/proj/test/calc.test.js:16:5)";
    let files = ["src/calc.js", "test/calc.test.js"];
    let c = case("add", Some("test/calc.test.js"), None, js);
    assert_eq!(at(&c, &files), Some(("test/calc.test.js".into(), Some(16))));
    // PHPUnit: the line attribute is the method's; the trace has the failing line.
    let php = "x\n/w/tests/CalcTest.php:20";
    let c = case("CalcTest", Some("/w/tests/CalcTest.php"), Some(17), php);
    assert_eq!(
        at(&c, &["tests/CalcTest.php"]),
        Some(("tests/CalcTest.php".into(), Some(20)))
    );
    let c = case("CalcTest", Some("tests/CalcTest.php"), Some(17), "no trace");
    assert_eq!(
        at(&c, &["tests/CalcTest.php"]),
        Some(("tests/CalcTest.php".into(), Some(17)))
    );
    let c = case("", None, None, js);
    assert_eq!(at(&c, &files), Some(("src/calc.js".into(), Some(6))));
    let c = case("", Some("test/calc.test.js"), None, "no trace");
    assert_eq!(at(&c, &files), Some(("test/calc.test.js".into(), None)));
    assert_eq!(at(&case("", None, None, "no trace"), &files), None);
}

#[test]
fn never_a_file_that_is_not_the_one_named() {
    // Another package's CalcTest.java is another class.
    let c = case(
        "com.example.CalcTest",
        None,
        None,
        "\tat com.example.CalcTest.fails(CalcTest.java:21)",
    );
    assert_eq!(at(&c, &["src/test/java/org/other/CalcTest.java"]), None);
    assert_eq!(
        at(&c, &["src/test/java/com/example/CalcTest.java"]),
        Some(("src/test/java/com/example/CalcTest.java".into(), Some(21)))
    );
    // Untracked paths are dropped, not guessed.
    let c = case("", None, None, "panicked at src/gone.rs:3:5");
    assert_eq!(at(&c, &["src/lib.rs"]), None);
    // Python: the class (module) names the test file among several frames.
    let py = "  File \"/x/tests/test_a.py\", line 9, in test_x\n    helper()\n  File \"/x/pkg/helpers.py\", line 3, in helper";
    let c = case("tests.test_a", None, None, py);
    assert_eq!(
        at(&c, &["tests/test_a.py", "pkg/helpers.py"]),
        Some(("tests/test_a.py".into(), Some(9)))
    );
    // Go: the bare file name under the package's import path.
    let c = case("", None, None, "    calc_test.go:14: want 5");
    assert_eq!(at(&c, &["a/calc_test.go", "b/calc_test.go"]), None);
    let mut c2 = c.clone();
    c2.suite = "example.com/m/a".into();
    assert_eq!(
        at(&c2, &["a/calc_test.go", "b/calc_test.go"]),
        Some(("a/calc_test.go".into(), Some(14)))
    );
}

#[test]
fn hostile_text_is_read_in_linear_time() {
    // Many colons in one token and many matches in one token: each byte looked at once.
    let colons = "a:".repeat(200_000);
    assert!(found(&colons, None).is_empty());
    let matches = "x.rs:1".repeat(100_000);
    let fr = found(&matches, None);
    assert_eq!(fr.len(), 100_000);
    assert!(fr.iter().all(|(p, l)| p == "x.rs" && *l == 1));
}
