//! The tests gate end to end on reports made by the real tools (tests/fixtures/tests-gate/
//! <producer>/, each with the tool's own printed counts and the script that made it):
//! our counts equal the tool's, and each failure is annotated on the line that failed.
//! These tests only read the committed fixtures; regenerating them needs the tools
//! (each `make.sh` says which), not the test suite.

use std::path::{Path, PathBuf};

use crate::common::{Harness, Run, repo_root};
use crate::coverage::git;

/// A git repository holding a copy of one producer's fixture folder (so the project's
/// files are tracked, as in a real checkout).
pub(crate) fn fixture_repo(producer: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repo_root().join("tests/fixtures/tests-gate").join(producer),
        dir.path(),
    );
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "fixture"]);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The gate as an action step without a token (annotations as workflow commands).
pub(crate) fn gate(workspace: &Path, files: &str) -> Harness {
    Harness::new()
        .cwd(workspace)
        .env("GITHUB_WORKSPACE", workspace.display().to_string())
        .input("gate", "tests")
        .input("files", files)
}

/// `N word` pairs of a tool's summary line (`2 failed, 1 skipped`), or `word N` pairs
/// when `name_first` (`Errors: 2`).
fn counts(dir: &Path, file: &str, name_first: bool) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut out = Vec::new();
    for w in words.windows(2) {
        let (word, number) = if name_first {
            (&w[0], &w[1])
        } else {
            (&w[1], &w[0])
        };
        if let Ok(n) = number.parse::<u64>() {
            out.push((word.clone(), n));
        }
    }
    out
}

fn count(c: &[(String, u64)], word: &str) -> u64 {
    c.iter().find(|(w, _)| w == word).map_or(0, |(_, n)| *n)
}

fn out(run: &Run, name: &str) -> u64 {
    run.output(name)
        .unwrap_or_else(|| panic!("no output {name}\n{run}"))
        .parse()
        .unwrap()
}

/// Annotation commands at `path:line` of `level`.
fn annotated(run: &Run, level: &str, path: &str, line: u32) -> bool {
    let at = format!("file={path},line={line}");
    run.stdout.lines().any(|l| {
        l.starts_with(&format!("::{level} "))
            && l.split_once(&at)
                .is_some_and(|(_, rest)| rest.starts_with(',') || rest.starts_with("::"))
    })
}

#[track_caller]
fn assert_annotated(run: &Run, level: &str, path: &str, lines: &[u32]) {
    for &l in lines {
        assert!(
            annotated(run, level, path, l),
            "no ::{level} at {path}:{l}\n{run}"
        );
    }
}

#[test]
fn pytest_counts_and_lines() {
    let dir = fixture_repo("pytest");
    let c = counts(dir.path(), "counts.txt", false);
    for report in ["junit.xml", "junit-native.xml"] {
        let run = gate(dir.path(), report).run();
        run.assert_code(1);
        // pytest counts a test that passed on a rerun as passed; we say flaky.
        assert_eq!(
            out(&run, "passed") + out(&run, "flaky"),
            count(&c, "passed"),
            "{run}"
        );
        assert_eq!(out(&run, "flaky"), count(&c, "rerun"));
        assert_eq!(
            out(&run, "failed"),
            count(&c, "failed") + count(&c, "error")
        );
        assert_eq!(out(&run, "skipped"), count(&c, "skipped"));
        // The assertion, the fixture that raised, the raise inside the helper.
        assert_annotated(&run, "error", "proj/test_calc.py", &[16, 21, 42]);
    }
}

#[test]
fn jest_junit_counts_and_lines() {
    let dir = fixture_repo("jest");
    let c = counts(dir.path(), "counts.txt", false);
    let run = gate(dir.path(), "junit.xml").run();
    run.assert_code(1);
    assert_eq!(out(&run, "passed"), count(&c, "passed"));
    assert_eq!(out(&run, "failed"), count(&c, "failed"));
    assert_eq!(out(&run, "skipped"), count(&c, "skipped"));
    assert_eq!(out(&run, "total"), count(&c, "total"));
    // In the test file, not in the helper the stack starts in.
    assert_annotated(&run, "error", "proj/calc.test.js", &[10, 16]);
}

#[test]
fn nextest_counts_retries_and_lines() {
    let dir = fixture_repo("nextest");
    let c = counts(dir.path(), "counts.txt", false);
    let run = gate(dir.path(), "junit.xml").run();
    run.assert_code(1);
    // "4 tests run: 2 passed (1 flaky), 2 failed, 1 skipped": nextest leaves skipped
    // tests out of its JUnit report.
    assert_eq!(out(&run, "total"), count(&c, "tests"));
    assert_eq!(
        out(&run, "passed") + out(&run, "flaky"),
        count(&c, "passed")
    );
    assert_eq!(out(&run, "flaky"), count(&c, "flaky"));
    assert_eq!(out(&run, "failed"), count(&c, "failed"));
    assert_annotated(&run, "error", "proj/src/lib.rs", &[17, 40]);
    assert_annotated(&run, "warning", "proj/src/lib.rs", &[29]);
    let failed: serde_json::Value =
        serde_json::from_str(run.output("failed-tests").unwrap()).unwrap();
    assert_eq!(failed[0]["name"], "calc.tests::fails");
    assert_eq!(failed[0]["line"], 17);
    // With `flaky: fail` the flaky test alone is enough to fail.
    let run = gate(dir.path(), "junit.xml").input("flaky", "fail").run();
    assert_annotated(&run, "error", "proj/src/lib.rs", &[29]);
}

#[test]
fn ant_junit4_counts_and_lines() {
    let dir = fixture_repo("ant");
    let c = counts(dir.path(), "counts.txt", true);
    let run = gate(dir.path(), "TEST-*.xml").run();
    run.assert_code(1);
    assert_eq!(out(&run, "total"), count(&c, "run"));
    assert_eq!(
        out(&run, "failed"),
        count(&c, "failures") + count(&c, "errors")
    );
    assert_eq!(out(&run, "skipped"), count(&c, "skipped"));
    assert_annotated(
        &run,
        "error",
        "proj/src/test/java/com/example/CalcTest.java",
        &[21, 27, 38],
    );
}

#[test]
fn phpunit_counts_and_lines() {
    let dir = fixture_repo("phpunit");
    let c = counts(dir.path(), "counts.txt", true);
    let run = gate(dir.path(), "junit.xml").run();
    run.assert_code(1);
    assert_eq!(out(&run, "total"), count(&c, "tests"));
    assert_eq!(
        out(&run, "failed"),
        count(&c, "failures") + count(&c, "errors")
    );
    assert_eq!(out(&run, "skipped"), count(&c, "skipped"));
    // The failing lines, not the test methods' first lines (PHPUnit's `line`).
    assert_annotated(&run, "error", "proj/tests/CalcTest.php", &[20, 25, 38]);
}

#[test]
fn go_test_json_counts_and_lines() {
    let dir = fixture_repo("go");
    let c = counts(dir.path(), "counts.txt", true);
    let run = gate(dir.path(), "go-test.json").run();
    run.assert_code(1);
    assert_eq!(out(&run, "passed"), count(&c, "pass"));
    assert_eq!(out(&run, "failed"), count(&c, "fail"));
    assert_eq!(out(&run, "skipped"), count(&c, "skip"));
    assert_annotated(&run, "error", "proj/calc/calc_test.go", &[14, 26]);
}

#[test]
fn local_cli_prints_the_summary() {
    let dir = fixture_repo("nextest");
    let run = Harness::local()
        .cwd(dir.path())
        .args(["tests", "--files", "junit.xml"])
        .run();
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("1 passed, 2 failed, 1 flaky of 4 tests"),
        "{run}"
    );
    assert!(run.stdout.contains("calc.tests::fails"), "{run}");
}

#[test]
fn no_report_and_no_tests_are_errors() {
    let dir = fixture_repo("go");
    let run = gate(dir.path(), "missing.xml").run();
    run.assert_code(2);
    assert_eq!(run.output("result"), Some("error"));
    std::fs::write(dir.path().join("empty.xml"), "<testsuites/>").unwrap();
    let run = gate(dir.path(), "empty.xml").run();
    run.assert_code(2);
    assert!(run.stdout.contains("no test"), "{run}");
}

/// Every fuzz regression input (of every target) through the tests gate's readers: no
/// panic, and a tally that stays within its bounds.
#[test]
fn fuzz_regression_inputs_stay_fixed_for_the_test_readers() {
    use rust_ci_action::gates::tests::model::{MAX_KEPT, MAX_TEXT, Tally};
    use rust_ci_action::gates::tests::parse;
    let root = repo_root().join("fuzz/regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&root).unwrap().filter_map(Result::ok) {
        for input in std::fs::read_dir(target.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            let bytes = std::fs::read(input.path()).unwrap();
            n += 1;
            for format in [parse::Format::Junit, parse::Format::GoJson] {
                let mut tally = Tally::default();
                if parse::parse(format, &bytes[..], "r", &mut tally).is_ok() {
                    assert!(tally.failures.len() <= MAX_KEPT);
                    assert!(
                        tally
                            .failures
                            .iter()
                            .all(|c| c.details.text.len() <= MAX_TEXT)
                    );
                }
            }
        }
    }
    assert!(n > 3, "no inputs under {}", root.display());
}
