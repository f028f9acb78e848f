//! Coverage in code review at size: a 6,000-file report recorded on the base and changed
//! by a pull request. The comment, the check run's summary and text, and the job summary
//! each stay under GitHub's limit with the changed files present; the request count of a
//! typical pull-request run is pinned.

use crate::coverage::git;
use crate::coverage_review::{cobertura, commit, lines, pr_harness, push_run, src};
use crate::github_mock::MockGitHub;
use crate::github_world::install;

const DIRS: usize = 60;
const PER_DIR: usize = 100;

fn path(d: usize, f: usize) -> String {
    format!("pkg{d}/mod{f}.py")
}

fn report(changed_hits: u32) -> String {
    let mut files = Vec::with_capacity(DIRS * PER_DIR);
    for d in 0..DIRS {
        for f in 0..PER_DIR {
            let total = 10 + u32::try_from((d * 7 + f * 3) % 40).unwrap();
            let covered = if (d, f) == (7, 42) || (d, f) == (59, 2) {
                changed_hits.min(total)
            } else {
                u32::try_from((d * 13 + f * 7) % 100).unwrap() * total / 100
            };
            files.push((path(d, f), lines(covered, total)));
        }
    }
    cobertura(&files)
}

#[test]
fn six_thousand_files_fit_every_limit_with_the_changed_files_present() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::write(d.join(".gitignore"), "coverage.xml\n").unwrap();
    for dd in 0..DIRS {
        std::fs::create_dir_all(d.join(format!("pkg{dd}"))).unwrap();
        for f in 0..PER_DIR {
            std::fs::write(d.join(path(dd, f)), src(50)).unwrap();
        }
    }
    let base = commit(d, &[], "base");
    push_run(&mock, d, &base, &report(5)).assert_code(0);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let changed = [path(7, 42), path(59, 2)];
    let head = commit(
        d,
        &[
            (changed[0].as_str(), src(52)),
            (changed[1].as_str(), src(51)),
        ],
        "feature",
    );
    let before = mock.requests().len();
    let run = pr_harness(&mock, d, &base, &head, &report(9)).run();
    run.assert_code(0);
    let requests: Vec<String> = mock.requests()[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.operation.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        requests,
        [
            "POST POST /repos/{owner}/{repo}/check-runs",
            "GET GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
            "GET GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
            "POST POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
            "PATCH PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
        ],
        "a pull-request run with the history in the clone: five requests"
    );
    assert_eq!(run.output("base-sha"), Some(base.as_str()), "{run}");

    let w = world.lock().unwrap();
    let comment = w.comments.values().next().expect("a comment");
    let check = w
        .runs
        .iter()
        .find(|r| r.head_sha == head)
        .expect("the check run");
    for (what, text, limit) in [
        ("comment", comment.as_str(), 65_536),
        ("check-run summary", check.summary.as_str(), 65_535),
        ("check-run text", check.text.as_str(), 65_535),
        ("job summary", run.summary.as_str(), 1024 * 1024),
    ] {
        assert!(text.len() <= limit, "{what}: {} > {limit}", text.len());
        assert!(
            text.len() > limit / 4 || what.contains("summary"),
            "{what} uses its room: {}",
            text.len()
        );
        if what != "check-run summary" {
            for c in &changed {
                assert!(text.contains(&format!("`{c}`")), "{what} names {c}");
            }
        }
    }
    assert!(
        comment.contains("#### Changed files (2)"),
        "{comment:.2000}"
    );
    assert!(
        check
            .text
            .contains("_Not listed, to stay within this page's limit: ")
    );
    assert!(check.summary.contains("<!-- rust-ci-action:record v1 "));
    // Every file is in the job summary: 1 MiB holds them all.
    assert!(run.summary.contains("`pkg59/mod99.py`") && !run.summary.contains("_Not listed"));
    if let Some(out) = std::env::var_os("REVIEW_COMMENT_OUT") {
        std::fs::write(out, comment).unwrap();
    }
}
