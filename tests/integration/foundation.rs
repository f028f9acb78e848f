//! The runner contract end to end through the built binary: tool errors and bad inputs,
//! degraded mode without a token, proxies, secrets in every channel, the panic hook, log
//! format and level, escaping, and the vendored GitHub reference data. The reporter's
//! check-run lifecycle and retries are in `reporter.rs`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::common::{Harness, shared_dir};
use crate::github_mock::{Fault, MockGitHub};

const TOKEN: &str = "ghs_testTOKEN0123456789abcdefSECRET";

fn pr_event(dir: &Path) -> PathBuf {
    let src = shared_dir().join("github-events/pull_request.synchronize.22.json");
    let dst = dir.join("event.json");
    std::fs::copy(src, &dst).unwrap();
    dst
}

fn action(mock: &MockGitHub) -> Harness {
    let h = Harness::new();
    let event = pr_event(h.dir.path());
    h.env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event.display().to_string())
        .env("GITHUB_SHA", "1111111111111111111111111111111111111111")
        .input("github-token", TOKEN)
}

#[test]
fn tool_error_exits_2_with_result_error_and_a_failed_check_run() {
    let mock = MockGitHub::start();
    let run = action(&mock).input("gate", "image").run();
    run.assert_code(2);
    assert_eq!(run.output("result"), Some("error"));
    assert_eq!(run.errors().len(), 1, "one ::error\n{run}");
    mock.assert_valid();
    let reqs = mock.requests();
    assert_eq!(
        reqs[0].body.as_ref().unwrap()["head_sha"],
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        "PR head, not GITHUB_SHA"
    );
    assert_eq!(
        reqs.last().unwrap().body.as_ref().unwrap()["conclusion"],
        "failure"
    );
    assert!(run.output("check-run-id").is_some_and(|v| !v.is_empty()));
    assert!(run.summary.contains("could not run"), "{run}");
}

#[test]
fn bad_inputs_are_errors_naming_the_input() {
    for (name, value, needle) in [
        ("gate", "coverge", "input `gate`"),
        ("max-annotations", "many", "input `max-annotations`"),
        ("log-format", "yaml", "input `log-format`"),
    ] {
        let mut h = Harness::new().input(name, value);
        if name != "gate" {
            h = h.input("gate", "coverage");
        }
        let run = h.run();
        run.assert_code(2);
        assert_eq!(run.output("result"), Some("error"), "{run}");
        assert_eq!(run.errors().len(), 1, "{run}");
        assert!(run.errors()[0].contains(needle), "{run}");
    }
}

#[test]
fn no_token_degrades_and_warns_once() {
    let mock = MockGitHub::start();
    let h = Harness::new();
    let event = pr_event(h.dir.path());
    let run = h
        .env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_EVENT_PATH", event.display().to_string())
        .input("gate", "rollout")
        .run();
    run.assert_code(2);
    assert!(mock.requests().is_empty());
    let warns: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect();
    assert_eq!(warns.len(), 1, "{run}");
    assert!(warns[0].contains("no GitHub token"), "{run}");
    assert_eq!(run.output("check-run-id"), Some(""));
}

#[test]
fn proxy_variables_are_honoured() {
    let mock = MockGitHub::start();
    let run = action(&mock)
        .env("GITHUB_API_URL", "http://api.github.invalid")
        .env("HTTP_PROXY", mock.url.clone())
        .input("gate", "image")
        .run();
    run.assert_code(2);
    let reqs = mock.requests();
    assert!(!reqs.is_empty(), "requests went through the proxy\n{run}");
    assert_eq!(
        reqs[0].headers.get("host").map(String::as_str),
        Some("api.github.invalid")
    );
    let run = action(&mock)
        .env("GITHUB_API_URL", "http://api.github.invalid")
        .env("HTTP_PROXY", mock.url.clone())
        .env("NO_PROXY", "api.github.invalid")
        .input("gate", "image")
        .run();
    assert_eq!(
        mock.requests().len(),
        reqs.len(),
        "NO_PROXY bypasses the proxy\n{run}"
    );
}

#[test]
fn token_never_leaks_in_any_channel() {
    let mock = MockGitHub::start();
    for debug in ["0", "1"] {
        mock.fault(Fault::status(
            "PATCH",
            "/check-runs/",
            500,
            format!("echo {TOKEN}"),
            1,
        ));
        let run = action(&mock)
            .env("RUNNER_DEBUG", debug)
            .input("gate", "image")
            .run();
        let mask_line = format!("::add-mask::{TOKEN}");
        assert!(
            run.stdout.starts_with(&mask_line),
            "the token is masked before anything else\n{run}"
        );
        let rest = run.all_text().replacen(&mask_line, "", 1);
        assert!(!rest.contains(TOKEN), "token leaked (debug={debug})\n{run}");
        assert!(
            run.stdout.contains("***"),
            "the echoed token was scrubbed\n{run}"
        );
    }
    for r in mock.requests() {
        let without_auth: Vec<(&String, &String)> = r
            .headers
            .iter()
            .filter(|(k, _)| *k != "authorization")
            .collect();
        assert!(
            !format!("{without_auth:?} {} {} {}", r.path, r.query, r.body_text).contains(TOKEN)
        );
    }
}

#[test]
fn a_panic_prints_one_error_and_exits_2() {
    let run = Harness::new()
        .env("RUST_CI_ACTION_CRASH_TEST", "1")
        .input("gate", "coverage")
        .run();
    run.assert_code(2);
    assert_eq!(run.errors().len(), 1, "{run}");
    assert!(
        run.errors()[0].starts_with("::error title=rust-ci-action crashed::crash test requested"),
        "{run}"
    );
    assert_eq!(run.output("result"), Some("error"));
}

#[test]
fn logs_are_json_lines_on_request_and_debug_with_runner_debug() {
    let report = crate::common::repo_root()
        .join("examples/coverage/coverage.xml")
        .display()
        .to_string();
    let cov = || {
        Harness::new()
            .input("gate", "coverage")
            .input("files", &report)
    };
    let run = cov()
        .input("log-format", "json")
        .env("RUNNER_DEBUG", "1")
        .run();
    let json_lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(json_lines.iter().any(|v| v["level"] == "DEBUG"), "{run}");
    assert!(
        json_lines.iter().all(|v| v.get("timestamp").is_none()),
        "no timestamps: the runner adds them"
    );
    assert!(json_lines.iter().any(|v| v["level"] == "INFO"), "{run}");
    let quiet = cov().run();
    assert!(
        quiet.stdout.contains(" INFO ") && !quiet.stdout.contains("DEBUG"),
        "info by default\n{quiet}"
    );
    let overridden = cov()
        .env("RUST_LOG", "error")
        .env("RUNNER_DEBUG", "1")
        .run();
    assert!(
        !overridden.stdout.contains("DEBUG") && !overridden.stdout.contains(" INFO "),
        "RUST_LOG overrides\n{overridden}"
    );
}

#[test]
fn workflow_commands_from_values_are_escaped_and_outputs_cannot_be_injected() {
    // A gate title or message with newlines must stay one command line.
    let h = Harness::new()
        .input("gate", "coverage")
        .input("files", "a%b\nreport.xml");
    let run = h.run();
    run.assert_code(2);
    assert_eq!(run.errors().len(), 1, "{run}");
    assert!(
        run.errors()[0].contains("a%25b"),
        "message escaped like @actions/core\n{run}"
    );
}

/// The team's `shared/` folder: `../shared` from the main checkout, further up from a
/// worktree. `None` in a clone outside the team workspace.
fn team_shared() -> Option<PathBuf> {
    crate::common::repo_root()
        .ancestors()
        .skip(1)
        .map(|d| d.join("shared"))
        .find(|d| {
            d.join("github-openapi/api.github.com.subset.json")
                .is_file()
        })
}

fn file_names(dir: &Path) -> BTreeSet<OsString> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name())
        .collect()
}

#[test]
fn vendored_github_data_matches_the_shared_copy() {
    let Some(shared) = team_shared() else {
        // A clone outside the team workspace has only the vendored copy; it is the source.
        assert!(
            shared_dir()
                .join("github-openapi/api.github.com.subset.json")
                .is_file()
        );
        return;
    };
    for sub in ["github-events", "github-openapi"] {
        let (theirs, ours) = (shared.join(sub), shared_dir().join(sub));
        assert_eq!(
            file_names(&theirs),
            file_names(&ours),
            "{} and {} hold different files: copy {sub}/ again",
            theirs.display(),
            ours.display()
        );
        for name in file_names(&theirs) {
            assert!(
                std::fs::read(theirs.join(&name)).unwrap()
                    == std::fs::read(ours.join(&name)).unwrap(),
                "{} differs from the vendored copy",
                theirs.join(&name).display()
            );
        }
    }
}
