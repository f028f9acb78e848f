//! Monorepo components end to end: per-component rows, deltas against the recorded base,
//! threshold verdicts, the `components` JSON output, and `other` for files in none.

use serde_json::Value;

use crate::coverage::git;
use crate::coverage_review::{cobertura, commit, lines, pr_harness, push_run, src};
use crate::github_mock::MockGitHub;
use crate::github_world::install;

fn report(api: u32, web: u32) -> String {
    cobertura(&[
        ("services/api/main.py".into(), lines(api, 10)),
        ("web/app.ts".into(), lines(web, 10)),
        ("tools/gen.py".into(), lines(1, 2)),
    ])
}

#[test]
fn components_get_rows_deltas_verdicts_and_a_json_output() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::write(d.join(".gitignore"), "coverage.xml\n").unwrap();
    let files = [
        ("services/api/main.py", src(10)),
        ("web/app.ts", src(10)),
        ("tools/gen.py", src(2)),
    ];
    let base = commit(d, &files, "base");
    push_run(&mock, d, &base, &report(9, 5)).assert_code(0);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("services/api/main.py", src(11))], "feature");
    let components = "api: services/api/** threshold=80\nweb: web/** threshold=40\n";
    let run = pr_harness(&mock, d, &base, &head, &report(7, 6))
        .input("components", components)
        .run();
    run.assert_code(1);
    assert!(
        run.summary
            .contains("| Components | 1 below: api | — | ❌ fail |"),
        "{run}"
    );
    assert!(
        run.summary
            .contains("| api | 1 | 7/10 | 70.00% | -20.00 | 80% | ❌ fail |"),
        "{run}"
    );
    assert!(
        run.summary
            .contains("| web | 1 | 6/10 | 60.00% | +10.00 | 40% | ✅ pass |"),
        "{run}"
    );
    assert!(
        run.summary
            .contains("| other | 1 | 1/2 | 50.00% | +0.00 | — | — |"),
        "{run}"
    );
    let out: Value = serde_json::from_str(run.output("components").unwrap()).unwrap();
    let names: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "web", "other"]);
    assert_eq!(out[0]["line-coverage"], "70.00");
    assert_eq!(out[0]["base-line-coverage"], "90.00");
    assert_eq!(out[0]["result"], "fail");
    assert_eq!(out[1]["threshold"], "40");
    let w = world.lock().unwrap();
    let comment = w.comments.values().next().unwrap();
    assert!(
        comment.contains("| api | 1 | 7/10 | 70.00% | -20.00 | 80% | ❌ fail |"),
        "{comment}"
    );
    drop(w);

    let bad = pr_harness(&mock, d, &base, &head, &report(7, 6))
        .input("components", "api services/**")
        .run();
    bad.assert_code(2);
    assert!(bad.stdout.contains("components"), "{bad}");
}
