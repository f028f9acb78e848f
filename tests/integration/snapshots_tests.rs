//! What a person reads after a tests gate run, whole: workflow-command lines,
//! `GITHUB_OUTPUT`, the job summary and every check-run request the mock GitHub received.
//! One snapshot per result: pass (a flaky test allowed), fail (nextest: failures with
//! retries, a flaky test) and error (a truncated report). Redactions as for coverage.

use std::path::Path;

use crate::common::{Harness, shared_dir};
use crate::github_mock::MockGitHub;
use crate::snapshots_coverage::{document, regex_escape};
use crate::tests_gate::fixture_repo;

const TOKEN: &str = "ghs_testsGateTOKEN0123456789abcdef";

fn action(mock: &MockGitHub, ws: &Path) -> Harness {
    let h = Harness::new();
    let event = h.dir.path().join("event.json");
    std::fs::copy(
        shared_dir().join("github-events/pull_request.synchronize.22.json"),
        &event,
    )
    .unwrap();
    h.cwd(ws)
        .env("GITHUB_WORKSPACE", ws.display().to_string())
        .env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event.display().to_string())
        .env("GITHUB_SHA", "1111111111111111111111111111111111111111")
        .input("github-token", TOKEN)
        .input("gate", "tests")
}

fn assert_snapshot(name: &str, ws: &Path, doc: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    let workspace = ws.display().to_string();
    for (literal, placeholder) in [(workspace.as_str(), "[WORKSPACE]"), (TOKEN, "[TOKEN]")] {
        settings.add_filter(&regex_escape(literal), placeholder);
    }
    for (pattern, placeholder) in [
        (r"/tmp/\.tmp[0-9A-Za-z]+", "[TMP]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"ghadelimiter_[0-9a-f]{32}", "ghadelimiter_[DELIMITER]"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]"),
        (r"\b\d+(\.\d+)?\s?(ms|s)\b", "[DURATION]"),
    ] {
        settings.add_filter(pattern, placeholder);
    }
    settings.bind(|| insta::assert_snapshot!(name, doc));
}

#[test]
fn tests_pass() {
    let dir = fixture_repo("pytest");
    // Only the passing, skipped and flaky tests of the pytest fixture.
    let report = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let start = report
        .find("<testcase classname=\"test_calc\" name=\"test_fails\"")
        .unwrap();
    let end = report
        .find("<testcase classname=\"test_calc\" name=\"test_skipped\"")
        .unwrap();
    let passing = format!("{}{}", &report[..start], &report[end..]);
    let passing = passing.replace(
        &passing[passing
            .find("<testcase classname=\"test_calc\" name=\"test_raises_in_helper\"")
            .unwrap()..passing.find("</testsuite>").unwrap()],
        "",
    );
    std::fs::write(dir.path().join("passing.xml"), passing).unwrap();
    let mock = MockGitHub::start();
    let run = action(&mock, dir.path())
        .input("files", "passing.xml")
        .run();
    run.assert_code(0);
    mock.assert_valid();
    assert_snapshot("tests_pass", dir.path(), &document(&run, &mock));
}

#[test]
fn tests_fail() {
    let dir = fixture_repo("nextest");
    let mock = MockGitHub::start();
    let run = action(&mock, dir.path()).input("files", "junit.xml").run();
    run.assert_code(1);
    mock.assert_valid();
    assert_snapshot("tests_fail", dir.path(), &document(&run, &mock));
}

#[test]
fn tests_error() {
    let dir = fixture_repo("phpunit");
    let report = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    std::fs::write(dir.path().join("junit.xml"), &report[..report.len() / 2]).unwrap();
    let mock = MockGitHub::start();
    let run = action(&mock, dir.path()).input("files", "junit.xml").run();
    run.assert_code(2);
    mock.assert_valid();
    assert_snapshot("tests_error", dir.path(), &document(&run, &mock));
}
