//! The coverage gate end to end on real producers' reports (the fixtures of
//! `tests/fixtures/coverage/`): Go profiles held to statements as `go test -cover`
//! prints them, and gcovr's JaCoCo files, whose lines carry no hits, reported as such.

use std::path::Path;

use crate::common::{Harness, repo_root};

/// Copy a fixture folder into the harness workspace.
fn copy_fixture(name: &str, to: &Path) {
    let from = repo_root().join("tests/fixtures/coverage").join(name);
    for entry in walkdir::WalkDir::new(&from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(&from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn harness(fixture: &str) -> Harness {
    let h = Harness::new().input("gate", "coverage");
    copy_fixture(fixture, &h.path(""));
    let ws = h.path("").display().to_string();
    h.env("GITHUB_WORKSPACE", ws)
}

#[test]
fn go_threshold_is_the_statement_coverage_go_prints() {
    // go tool cover -func printed `total: (statements) 66.7%` (26/39 = 66.66…%); our
    // line coverage of the same profile is 37/59 = 62.71%.
    let run = harness("go")
        .input("files", "coverage.out")
        .input("threshold", "66.6")
        .run();
    run.assert_code(0);
    assert_eq!(run.output("statement-coverage"), Some("66.66"), "{run}");
    assert_eq!(run.output("statements-covered"), Some("26"), "{run}");
    assert_eq!(run.output("statements-total"), Some("39"), "{run}");
    assert_eq!(run.output("line-coverage"), Some("62.71"), "{run}");
    assert!(
        run.summary
            .contains("| Statement coverage | 66.66% (26/39 statements) | 66.6% | ✅ pass |"),
        "{run}"
    );
    assert!(
        run.summary
            .contains("| Line coverage | 62.71% (37/59 lines) | — | — |"),
        "{run}"
    );
    // Exact, like every threshold: 66.666…% is below 66.67.
    harness("go")
        .input("files", "coverage.out")
        .input("threshold", "66.67")
        .run()
        .assert_code(1);
    // Lines on request.
    let run = harness("go")
        .input("files", "coverage.out")
        .input("threshold", "66.6")
        .input("coverage-metric", "lines")
        .run();
    run.assert_code(1);
    assert!(
        run.summary
            .contains("| Line coverage | 62.71% (37/59 lines) | 66.6% | ❌ fail |"),
        "{run}"
    );
    // file-threshold follows the metric: cart/unused.go and report/report.go run no
    // statement; every other file runs at least 60% of its statements.
    let run = harness("go")
        .input("files", "coverage.out")
        .input("file-threshold", "60")
        .run();
    run.assert_code(1);
    assert_eq!(
        run.output("files-below-threshold"),
        Some("cart/unused.go\nreport/report.go"),
        "{run}"
    );
}

#[test]
fn statements_without_a_go_profile_are_an_input_error() {
    let run = harness("jest-lcov")
        .input("files", "lcov.info")
        .input("coverage-metric", "statements")
        .input("threshold", "50")
        .run();
    run.assert_code(2);
    assert!(
        run.errors()[0].contains("no report is a Go profile"),
        "{run}"
    );
    // Without Go profiles the statement outputs are empty.
    let run = harness("jest-lcov").input("files", "lcov.info").run();
    run.assert_code(0);
    assert_eq!(run.output("statement-coverage"), Some(""), "{run}");
    assert_eq!(run.output("branches-total"), Some("29"), "{run}");
}

#[test]
fn gcovr_jacoco_files_have_totals_but_no_per_line_data() {
    // The sources gcovr measured, so the report's paths map to tracked files.
    let h = harness("gcovr");
    copy_fixture("gcovr-jacoco", &h.path(""));
    let run = h
        .input("files", "jacoco.xml")
        .input("annotate", "all")
        .input("threshold", "76.9")
        .run();
    run.assert_code(0);
    assert_eq!(run.output("lines-covered"), Some("40"), "{run}");
    assert_eq!(run.output("lines-total"), Some("52"), "{run}");
    assert_eq!(run.output("branch-coverage"), Some("66.66"), "{run}");
    assert!(
        run.summary
            .contains("4 files have no per-line data in their report"),
        "{run}"
    );
    assert!(run.summary.contains("`src/unused.c`"), "{run}");
    assert!(
        !run.stdout.contains("Not covered by tests"),
        "no annotations without per-line hits\n{run}"
    );
    // The same run's Cobertura report has per-line data: annotations, no note.
    let run = harness("gcovr")
        .input("files", "coverage.xml")
        .input("annotate", "all")
        .run();
    run.assert_code(0);
    assert!(run.stdout.contains("file=src/unused.c,line=2"), "{run}");
    assert!(!run.summary.contains("per-line data"), "{run}");
}
