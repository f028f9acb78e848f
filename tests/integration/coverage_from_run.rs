//! Fork pull requests at full fidelity: a `workflow_run` job runs the gate with
//! `from-run`; the reports come from the triggering run's artifact (a real zip served by
//! the REST API), the pull request from the run's head commit (the open one whose head
//! matches, among closed and other pull requests), and the check run and comment go to
//! that commit and pull request, compared with the merge-base's recorded result.

use std::io::Write;

use serde_json::{Value, json};

use crate::common::shared_dir;
use crate::coverage::git;
use crate::coverage_review::{cobertura, commit, harness, lines, push_run, src};
use crate::github_mock::MockGitHub;
use crate::github_world::install;

fn zip(entries: &[(&str, String)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn pull(number: u64, state: &str, head: &str, repo: &str, base: &str) -> Value {
    json!({"number": number, "state": state,
           "head": {"sha": head, "repo": {"full_name": repo}},
           "base": {"sha": base, "ref": "main"}})
}

#[test]
fn a_workflow_run_job_reports_a_fork_pull_request_from_its_artifact() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::write(d.join(".gitignore"), "coverage.xml\n").unwrap();
    let base = commit(d, &[("src/app.py", src(10))], "base");
    push_run(
        &mock,
        d,
        &base,
        &cobertura(&[("src/app.py".into(), lines(8, 10))]),
    )
    .assert_code(0);
    std::fs::remove_file(d.join("coverage.xml")).unwrap();

    // The fork's head commit is not in this clone (the job checks out the default branch).
    let head = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
    let hits: Vec<(u32, u32)> = (1..=12)
        .map(|l| (l, u32::from(l <= 8 || l == 11)))
        .collect();
    let report = cobertura(&[("src/app.py".into(), hits)]);
    {
        let mut w = world.lock().unwrap();
        w.parents.insert(head.into(), vec![base.clone()]);
        w.workflow_runs.insert(
            77,
            json!({"id": 77, "head_sha": head, "pull_requests": [],
                   "head_repository": {"full_name": "someone/Hello-World"}}),
        );
        w.artifacts.insert(
            501,
            (77, "coverage".into(), zip(&[("coverage.xml", report)])),
        );
        w.artifacts
            .insert(502, (77, "other".into(), zip(&[("x", "y".into())])));
        w.commit_pulls.insert(
            head.into(),
            vec![
                pull(4, "closed", head, "someone/Hello-World", &base),
                pull(
                    6,
                    "open",
                    "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0",
                    "someone/Hello-World",
                    &base,
                ),
                pull(5, "open", head, "someone/Hello-World", &base),
            ],
        );
    }
    let patch = "@@ -10,0 +11,2 @@\n+x11 = 11\n+x12 = 12";
    mock.pr_files(vec![vec![
        json!({"sha": "x", "filename": "src/app.py", "status": "modified",
        "additions": 2, "deletions": 0, "changes": 2, "blob_url": "", "raw_url": "",
        "contents_url": "", "patch": patch}),
    ]]);
    let mut ev: Value = serde_json::from_slice(
        &std::fs::read(shared_dir().join("github-events/workflow_run.completed.0.json")).unwrap(),
    )
    .unwrap();
    ev["workflow_run"]["id"] = json!(77);
    ev["workflow_run"]["head_sha"] = json!(head);
    ev["workflow_run"]["pull_requests"] = json!([]);
    ev["workflow_run"]["head_repository"]["full_name"] = json!("someone/Hello-World");
    let before = mock.requests().len();
    let run = harness(&mock, d, "workflow_run", &ev, &base)
        .input("from-run", "77")
        .input("diff-threshold", "50")
        .run();
    run.assert_code(0);
    assert_eq!(run.output("line-coverage"), Some("75.00"), "{run}");
    assert_eq!(run.output("diff-coverage"), Some("50.00"), "{run}");
    assert_eq!(run.output("base-sha"), Some(base.as_str()), "{run}");
    assert_eq!(run.output("line-coverage-delta"), Some("-5.00"), "{run}");
    let reqs = mock.requests()[before..].to_vec();
    let created = reqs
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/check-runs"))
        .unwrap();
    assert_eq!(
        created.body.as_ref().unwrap()["head_sha"],
        head,
        "the check run is on the PR's head"
    );
    assert!(
        reqs.iter()
            .any(|r| r.path.ends_with("/actions/artifacts/501/zip"))
    );
    assert!(
        !reqs.iter().any(|r| r.path.contains("/artifacts/502")),
        "only the named artifact"
    );
    assert!(
        reqs.iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/issues/5/comments")),
        "comment on #5"
    );
    assert!(
        reqs.iter().any(|r| r.path.ends_with("/pulls/5/files")),
        "changed lines of #5 from the API"
    );
    let w = world.lock().unwrap();
    let body = w.comments.values().next().unwrap();
    assert!(
        body.contains("#### Changed files (1)") && body.contains("`src/app.py`"),
        "{body}"
    );
    drop(w);

    // No open pull request with that head: a clear error, exit 2.
    world.lock().unwrap().commit_pulls.clear();
    let run = harness(&mock, d, "workflow_run", &ev, &base)
        .input("from-run", "77")
        .run();
    run.assert_code(2);
    assert!(
        run.stdout.contains("no open pull request has the run"),
        "{run}"
    );
}
