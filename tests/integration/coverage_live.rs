//! The producers run live: each fixture's `generate.sh` makes a fresh report with the
//! real tool (gcovr, PHPUnit + PCOV, jest, clang + llvm-cov, go) into a temp folder,
//! with the totals the tool printed, and the parser must agree with them, as with the
//! committed fixtures; the fresh totals must also equal the committed ones, so a fixture
//! is still what its tool makes. Needs the tools `scripts/test.sh` installs: part of the
//! service suite.

use std::process::Command;

use crate::common::repo_root;
use crate::coverage_fixtures::check_report;

const PRODUCERS: &[&str] = &[
    "gcovr-jacoco",
    "phpunit-clover",
    "jest-lcov",
    "llvm-cov-lcov",
    "go",
];

#[test]
fn fresh_reports_agree_with_the_tools_and_the_fixtures() {
    let mut failures = Vec::new();
    for name in PRODUCERS {
        let fixture = repo_root().join("tests/fixtures/coverage").join(name);
        let out = tempfile::tempdir().unwrap();
        let run = Command::new("bash")
            .arg(fixture.join("generate.sh"))
            .arg(out.path())
            .output()
            .expect("bash");
        if !run.status.success() {
            failures.push(format!(
                "{name}: generate.sh failed (tools installed by scripts/test.sh?): {}",
                String::from_utf8_lossy(&run.stderr)
            ));
            continue;
        }
        if let Err(e) = check_report(name, out.path()) {
            failures.push(format!("fresh {e}"));
        }
        let totals = |dir: &std::path::Path| -> serde_json::Value {
            let v: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join("expected.json")).unwrap_or_default(),
            )
            .unwrap_or_default();
            serde_json::json!([
                v["lines_covered"],
                v["lines_total"],
                v["branches_covered"],
                v["branches_total"],
                v["files"],
                v["statements_covered"],
                v["go_printed"],
            ])
        };
        if totals(out.path()) != totals(&fixture) {
            failures.push(format!(
                "{name}: the tool now prints {}, the fixture says {}",
                totals(out.path()),
                totals(&fixture)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
