//! What a person reads after a coverage gate run, whole: the workflow-command lines, the
//! `GITHUB_OUTPUT` file, the job summary, and every check-run request as the mock GitHub
//! received it (title, summary, text, annotations, conclusion). One snapshot per result:
//! pass, fail and error. Refactors of the shared reporting path must leave them unchanged.
//!
//! Redacted: temp paths, ports, heredoc delimiters, timestamps, durations, commit shas and
//! the token (`insta` filters, so the snapshots stay byte-stable across machines).

use serde_json::Value;

use crate::common::Run;
use crate::coverage::{PrRepo, TOKEN, action, pr_repo};
use crate::github_mock::{Fault, MockGitHub};

/// Lay a JSON body out flat, one `key.path: value` per line; multi-line strings as an
/// indented block, so markdown reads as markdown.
fn flatten(prefix: &str, v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) if s.contains('\n') => {
            out.push_str(&format!("{prefix}: |\n"));
            for line in s.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        other => out.push_str(&format!("{prefix}: {other}\n")),
    }
}

/// Every channel a person reads, as one document.
pub(crate) fn document(run: &Run, mock: &MockGitHub) -> String {
    let mut doc = format!("=== exit code\n{}\n", run.code);
    doc.push_str("\n=== workflow commands\n");
    for line in run.stdout.lines().filter(|l| l.starts_with("::")) {
        doc.push_str(line);
        doc.push('\n');
    }
    doc.push_str("\n=== GITHUB_OUTPUT\n");
    doc.push_str(&run.outputs_raw);
    doc.push_str("\n=== job summary\n");
    doc.push_str(&run.summary);
    doc.push_str("\n=== GitHub API requests\n");
    for r in mock.requests() {
        let op = r.operation.as_deref().unwrap_or("(no operation)");
        doc.push_str(&format!("--- {op}\n"));
        if let Some(body) = &r.body {
            flatten("", body, &mut doc);
        }
    }
    doc
}

/// Snapshot `doc` with every run-specific value redacted.
fn assert_snapshot(name: &str, repo: &PrRepo, doc: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    let workspace = repo.dir.path().display().to_string();
    for (literal, placeholder) in [
        (workspace.as_str(), "[WORKSPACE]"),
        (repo.head.as_str(), "[HEAD_SHA]"),
        (repo.base.as_str(), "[BASE_SHA]"),
        (TOKEN, "[TOKEN]"),
    ] {
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

pub(crate) fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

#[test]
fn coverage_pass() {
    let repo = pr_repo();
    let mock = MockGitHub::start();
    let run = action(&mock, &repo, repo.dir.path(), false)
        .input("threshold", "70")
        .input("diff-threshold", "40")
        .run();
    run.assert_code(0);
    assert_snapshot("coverage_pass", &repo, &document(&run, &mock));
}

#[test]
fn coverage_fail() {
    let repo = pr_repo();
    let mock = MockGitHub::start();
    let run = action(&mock, &repo, repo.dir.path(), false)
        .input("threshold", "75")
        .input("diff-threshold", "50")
        .run();
    run.assert_code(1);
    assert_snapshot("coverage_fail", &repo, &document(&run, &mock));
}

#[test]
fn coverage_error() {
    let repo = pr_repo();
    std::fs::write(
        repo.dir.path().join("coverage.xml"),
        "<?xml version=\"1.0\" ?>\n<coverage line-rate=\"0.5\">\n<packages><package",
    )
    .unwrap();
    let mock = MockGitHub::start();
    let run = action(&mock, &repo, repo.dir.path(), false)
        .input("threshold", "70")
        .run();
    run.assert_code(2);
    assert_snapshot("coverage_error", &repo, &document(&run, &mock));
}

#[test]
fn coverage_fail_on_a_fork_without_check_run_permission() {
    let repo = pr_repo();
    let mock = MockGitHub::start();
    mock.fault(Fault::read_only_token(1));
    let run = action(&mock, &repo, repo.dir.path(), true)
        .input("threshold", "75")
        .input("diff-threshold", "50")
        .run();
    run.assert_code(1);
    assert_snapshot("coverage_fail_degraded", &repo, &document(&run, &mock));
}
