//! Diff coverage agrees with diff-cover (PyPI) on the same repository and report: the
//! repository is built by `tests/fixtures/diff/make_repo.sh` (renames, deletions, new
//! files, comment-only additions) and diff-cover runs live beside us. Needs `diff-cover`
//! and `coverage` on PATH, which `scripts/test.sh` installs: part of the service suite.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::common::{Harness, repo_root};
use crate::github_mock::MockGitHub;

#[test]
fn diff_coverage_matches_diff_cover() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let fixtures = repo_root().join("tests/fixtures/diff");
    let st = Command::new("bash")
        .arg(fixtures.join("make_repo.sh"))
        .arg(&repo)
        .status()
        .expect("bash");
    assert!(
        st.success(),
        "make_repo.sh failed: is coverage.py installed (scripts/test.sh)?"
    );
    let out = Command::new("python3")
        .arg(fixtures.join("diff_cover_totals.py"))
        .arg(&repo)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "diff-cover failed (installed by scripts/test.sh?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).expect("diff-cover JSON");

    let mock = MockGitHub::start();
    let run = Harness::new()
        .cwd(&repo)
        .env("GITHUB_WORKSPACE", repo.display().to_string())
        .env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_REPOSITORY", "octo/shop")
        .env("GITHUB_SHA", "de9da50b00000000000000000000000000000000")
        .input("github-token", "ghs_x")
        .input("gate", "coverage")
        .input("files", "coverage.xml")
        .input("base-ref", "main")
        .run();
    run.assert_code(0);
    mock.assert_valid();
    let total = theirs["total_num_lines"].as_u64().unwrap();
    let violations = theirs["total_num_violations"].as_u64().unwrap();
    assert_eq!(
        run.output("diff-lines-total"),
        Some(total.to_string().as_str()),
        "{run}"
    );
    assert_eq!(
        run.output("diff-lines-covered"),
        Some((total - violations).to_string().as_str()),
        "{run}"
    );

    // Every diff-cover violation lies in one of our annotation ranges, and every range
    // starts and ends on a violation line.
    let ranges: Vec<(String, u64, u64)> = mock
        .requests()
        .iter()
        .filter_map(|r| r.body.as_ref()?.pointer("/output/annotations").cloned())
        .flat_map(|a| a.as_array().unwrap().clone())
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_owned(),
                a["start_line"].as_u64().unwrap(),
                a["end_line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut expected: BTreeSet<(String, u64)> = BTreeSet::new();
    for (path, stats) in theirs["src_stats"].as_object().unwrap() {
        for l in stats["violation_lines"].as_array().unwrap() {
            expected.insert((path.clone(), l.as_u64().unwrap()));
        }
    }
    assert!(!expected.is_empty());
    for (p, l) in &expected {
        assert!(
            ranges.iter().any(|(rp, s, e)| rp == p && s <= l && l <= e),
            "diff-cover violation {p}:{l} not annotated; ours: {ranges:?}"
        );
    }
    for (p, s, e) in &ranges {
        assert!(
            expected.contains(&(p.clone(), *s)) && expected.contains(&(p.clone(), *e)),
            "range {p}:{s}-{e} not bounded by diff-cover violations {expected:?}"
        );
    }
}
