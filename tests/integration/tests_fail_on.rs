//! The tests gate's `fail-on: new` end to end against the OpenAPI-validated mock with a
//! stateful GitHub behind it (`github_world.rs`): a push run records its failed tests in
//! its check run; a pull-request run reads that record back from the merge-base, and a
//! failure that also failed there is a warning (exit 0) while a new one fails (exit 1);
//! without a record the gate behaves as `fail-on: any`, with a notice; a failing API call
//! costs the comparison (one warning), never the verdict.

use std::path::Path;

use serde_json::json;

use crate::common::{Harness, Run};
use crate::coverage::git;
use crate::coverage_review::{commit, harness, pr_event};
use crate::github_mock::{Fault, MockGitHub};
use crate::github_world::install;

/// A JUnit report of suite `pkg`: each `(name, failed)`.
fn junit(tests: &[(&str, bool)]) -> String {
    let failures = tests.iter().filter(|(_, f)| *f).count();
    let mut x = format!(
        "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"pkg\" tests=\"{}\" failures=\"{failures}\">\n",
        tests.len()
    );
    for (name, failed) in tests {
        if *failed {
            x.push_str(&format!(
                "<testcase classname=\"Mod\" name=\"{name}\"><failure message=\"boom\">assert failed</failure></testcase>\n"
            ));
        } else {
            x.push_str(&format!("<testcase classname=\"Mod\" name=\"{name}\"/>\n"));
        }
    }
    x.push_str("</testsuite></testsuites>\n");
    x
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join(".gitignore"), "junit.xml\n").unwrap();
    dir
}

fn tests_gate(h: Harness, ws: &Path, report: &str) -> Harness {
    std::fs::write(ws.join("junit.xml"), report).unwrap();
    h.input("gate", "tests").input("files", "junit.xml")
}

fn push_run(mock: &MockGitHub, ws: &Path, sha: &str, report: &str) -> Run {
    let ev = json!({"after": sha, "before": "1111111111111111111111111111111111111111"});
    tests_gate(harness(mock, ws, "push", &ev, sha), ws, report).run()
}

fn pr_run(mock: &MockGitHub, ws: &Path, base: &str, head: &str, report: &str) -> Run {
    let ev = pr_event(base, head);
    tests_gate(harness(mock, ws, "pull_request", &ev, head), ws, report)
        .input("fail-on", "new")
        .run()
}

fn lines<'a>(run: &'a Run, prefix: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

/// A base commit whose push run recorded `Mod.a` as failing, and a feature commit on it.
fn base_and_head(mock: &MockGitHub, d: &Path) -> (String, String) {
    let base = commit(d, &[("src/lib.py", "x = 1\n".into())], "base");
    let pushed = push_run(mock, d, &base, &junit(&[("a", true), ("b", false)]));
    pushed.assert_code(1);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/lib.py", "x = 2\n".into())], "feature");
    (base, head)
}

#[test]
fn a_failure_that_also_failed_on_the_base_is_a_warning_and_a_new_one_fails() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let (base, head) = base_and_head(&mock, d);
    let short = &base[..7];
    // The push run left the failed test's id in its check run.
    let recorded = world
        .lock()
        .unwrap()
        .runs
        .iter()
        .any(|r| r.head_sha == base && r.summary.contains("<!-- rust-ci-action:record v1 "));
    assert!(recorded, "the base's check run holds a record");

    // Only the old failure: reported, annotated as a warning, exit 0.
    let old = pr_run(&mock, d, &base, &head, &junit(&[("a", true), ("b", false)]));
    old.assert_code(0);
    assert_eq!(old.output("result"), Some("pass"), "{old}");
    assert_eq!(old.output("failed"), Some("1"));
    let warnings = lines(&old, "::warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&format!("also failing on {short}")) && w.contains("Mod.a")),
        "{old}"
    );
    assert!(lines(&old, "::error").is_empty(), "{old}");
    let summary = world
        .lock()
        .unwrap()
        .runs
        .iter()
        .rev()
        .find(|r| r.head_sha == head)
        .map(|r| (r.summary.clone(), r.text.clone()))
        .unwrap();
    assert!(
        summary
            .0
            .contains("1 of 1 failures also failed on the base"),
        "{}",
        summary.0
    );
    assert!(
        summary.1.contains(&format!("also failing on `{short}`")),
        "{}",
        summary.1
    );

    // A new failure beside the old one: exit 1, the new one is the error.
    let new = pr_run(
        &mock,
        d,
        &base,
        &head,
        &junit(&[("a", true), ("b", false), ("c", true)]),
    );
    new.assert_code(1);
    assert_eq!(new.output("result"), Some("fail"));
    let errors = lines(&new, "::error");
    assert_eq!(errors.len(), 1, "{new}");
    assert!(errors[0].contains("Mod.c"), "{new}");

    // The same run under `fail-on: any` fails on the old failure too, without reading
    // the base.
    let before = mock.requests().len();
    let any = tests_gate(
        harness(&mock, d, "pull_request", &pr_event(&base, &head), &head),
        d,
        &junit(&[("a", true), ("b", false)]),
    )
    .run();
    any.assert_code(1);
    let read_base = mock.requests()[before..]
        .iter()
        .any(|r| r.method == "GET" && r.path.contains(&format!("/commits/{base}/check-runs")));
    assert!(!read_base, "fail-on: any reads no baseline");
}

#[test]
fn no_base_record_means_any_with_a_notice() {
    let mock = MockGitHub::start();
    let _world = install(&mock);
    let dir = repo();
    let d = dir.path();
    // No push run on the base: nothing recorded anywhere.
    let base = commit(d, &[("src/lib.py", "x = 1\n".into())], "base");
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/lib.py", "x = 2\n".into())], "feature");
    let run = pr_run(&mock, d, &base, &head, &junit(&[("a", true)]));
    run.assert_code(1);
    let notices = lines(&run, "::notice");
    assert!(
        notices
            .iter()
            .any(|n| n.contains("as with `fail-on: any`") && n.contains("no baseline record")),
        "{run}"
    );
    assert!(
        lines(&run, "::error").iter().any(|e| e.contains("Mod.a")),
        "{run}"
    );
}

#[test]
fn a_failing_api_call_costs_the_comparison_never_the_verdict() {
    let mock = MockGitHub::start();
    let _world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let (base, head) = base_and_head(&mock, d);
    mock.fault(Fault::status("GET", "/check-runs", 404, "Not Found", 20));
    let old = pr_run(&mock, d, &base, &head, &junit(&[("a", true), ("b", false)]));
    // The base could not be read: the old failure counts, one warning says why.
    old.assert_code(1);
    let warnings = lines(&old, "::warning");
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.contains("Tests baseline"))
            .count(),
        1,
        "{old}"
    );
}
