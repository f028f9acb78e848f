//! Coverage in code review, end to end against the OpenAPI-validated mock with a stateful
//! GitHub behind it (`github_world.rs`): a push run records its result in its check run,
//! a pull-request run reads it back from the merge-base (walking first parents when the
//! merge-base has none), reports deltas and keeps one sticky comment; failures of the
//! API cost the delta or the comment, never the verdict.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::{Harness, Run, shared_dir};
use crate::coverage::{TOKEN, git};
use crate::github_mock::{Fault, MockGitHub};
use crate::github_world::install;

/// A Cobertura report: `(path, [(line, hits)])`.
pub(crate) fn cobertura(files: &[(String, Vec<(u32, u32)>)]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" ?>\n<coverage version=\"7.6\" line-rate=\"0.5\" branch-rate=\"0\" lines-covered=\"1\" lines-valid=\"2\">\n<sources><source>.</source></sources>\n<packages><package name=\"src\"><classes>\n",
    );
    for (name, lines) in files {
        x.push_str(&format!(
            "<class name=\"c\" filename=\"{name}\" line-rate=\"1\"><methods/><lines>\n"
        ));
        for (n, h) in lines {
            x.push_str(&format!("<line number=\"{n}\" hits=\"{h}\"/>\n"));
        }
        x.push_str("</lines></class>\n");
    }
    x.push_str("</classes></package></packages></coverage>\n");
    x
}

/// `covered` of `total` lines hit.
pub(crate) fn lines(covered: u32, total: u32) -> Vec<(u32, u32)> {
    (1..=total).map(|l| (l, u32::from(l <= covered))).collect()
}

/// A commit on the current branch writing `files` (path, content).
pub(crate) fn commit(dir: &Path, files: &[(&str, String)], msg: &str) -> String {
    for (p, c) in files {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

pub(crate) fn src(n: u32) -> String {
    (1..=n).map(|i| format!("x{i} = {i}\n")).collect()
}

/// The binary on `workspace` for `mock`, with `event` as the payload.
pub(crate) fn harness(
    mock: &MockGitHub,
    workspace: &Path,
    name: &str,
    event: &Value,
    sha: &str,
) -> Harness {
    let h = Harness::new();
    let p = h.dir.path().join("event.json");
    std::fs::write(&p, serde_json::to_vec(event).unwrap()).unwrap();
    h.cwd(workspace)
        .env("GITHUB_WORKSPACE", workspace.display().to_string())
        .env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_EVENT_NAME", name)
        .env("GITHUB_EVENT_PATH", p.display().to_string())
        .env("GITHUB_SHA", sha)
        .input("github-token", TOKEN)
        .input("gate", "coverage")
        .input("files", "coverage.xml")
}

/// A push run on `sha` with `report` as the coverage: it records the baseline.
pub(crate) fn push_run(mock: &MockGitHub, ws: &Path, sha: &str, report: &str) -> Run {
    std::fs::write(ws.join("coverage.xml"), report).unwrap();
    let ev = json!({"after": sha, "before": "1111111111111111111111111111111111111111"});
    harness(mock, ws, "push", &ev, sha).run()
}

pub(crate) fn pr_event(base: &str, head: &str) -> Value {
    let mut v: Value = serde_json::from_slice(
        &std::fs::read(shared_dir().join("github-events/pull_request.synchronize.22.json"))
            .unwrap(),
    )
    .unwrap();
    v["pull_request"]["base"]["sha"] = json!(base);
    v["pull_request"]["head"]["sha"] = json!(head);
    v
}

/// A pull-request run from `base` to `head` with `report` as the coverage.
pub(crate) fn pr_harness(
    mock: &MockGitHub,
    ws: &Path,
    base: &str,
    head: &str,
    report: &str,
) -> Harness {
    std::fs::write(ws.join("coverage.xml"), report).unwrap();
    harness(mock, ws, "pull_request", &pr_event(base, head), head)
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join(".gitignore"), "coverage.xml\n").unwrap();
    dir
}

fn report(files: &[(&str, u32, u32)]) -> String {
    let v: Vec<(String, Vec<(u32, u32)>)> = files
        .iter()
        .map(|(p, c, t)| ((*p).to_owned(), lines(*c, *t)))
        .collect();
    cobertura(&v)
}

fn warnings(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect()
}

#[test]
fn a_recorded_base_gives_deltas_changed_and_indirect_files_and_one_comment_updated_in_place() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let base = commit(
        d,
        &[("src/app.py", src(10)), ("src/other.py", src(4))],
        "base",
    );
    let pushed = push_run(
        &mock,
        d,
        &base,
        &report(&[("src/app.py", 8, 10), ("src/other.py", 4, 4)]),
    );
    pushed.assert_code(0);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/app.py", src(12))], "feature");
    let now = report(&[("src/app.py", 9, 12), ("src/other.py", 3, 4)]);
    let run = pr_harness(&mock, d, &base, &head, &now).run();
    run.assert_code(0);
    assert_eq!(run.output("base-sha"), Some(base.as_str()), "{run}");
    assert_eq!(run.output("base-line-coverage"), Some("85.71"));
    assert_eq!(run.output("line-coverage"), Some("75.00"));
    assert_eq!(run.output("line-coverage-delta"), Some("-10.72"));
    assert_eq!(run.output("branch-coverage-delta"), Some(""));
    assert!(world.lock().unwrap().comments.len() == 1);
    // The same change under max-drop 5: fail, exit 1, the same numbers, the same comment.
    let strict = pr_harness(&mock, d, &base, &head, &now)
        .input("max-drop", "5")
        .run();
    strict.assert_code(1);
    assert_eq!(strict.output("line-coverage-delta"), Some("-10.72"));
    let comments = world.lock().unwrap().comments.clone();
    assert_eq!(
        comments.len(),
        1,
        "one sticky comment after two runs: {comments:?}"
    );
    let body = comments.values().next().unwrap();
    assert!(body.starts_with("<!-- rust-ci-action:comment rust-ci-action%20%2F%20coverage -->\n"));
    assert!(
        body.contains("#### Changed files (1)") && body.contains("`src/app.py`"),
        "{body}"
    );
    assert!(
        body.contains("#### Indirect changes (1)") && body.contains("`src/other.py`"),
        "{body}"
    );
    assert!(body.contains("**Line coverage 75.00% (-10.72)**"), "{body}");
    let updates = mock
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/issues/comments/"))
        .count();
    assert_eq!(updates, 1, "the second run updated the first run's comment");
    // For people to look at: `REVIEW_COMMENT_OUT=/tmp/c.md cargo test ... recorded_base`.
    if let Some(out) = std::env::var_os("REVIEW_COMMENT_OUT") {
        std::fs::write(out, body).unwrap();
    }
}

#[test]
fn max_drop_fails_and_zero_means_must_not_fall() {
    let mock = MockGitHub::start();
    let _world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let base = commit(d, &[("src/app.py", src(10))], "base");
    push_run(&mock, d, &base, &report(&[("src/app.py", 8, 10)])).assert_code(0);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/app.py", src(11))], "feature");
    let now = report(&[("src/app.py", 8, 11)]);
    let run = pr_harness(&mock, d, &base, &head, &now)
        .input("max-drop", "0")
        .run();
    run.assert_code(1);
    assert_eq!(run.output("result"), Some("fail"));
    assert!(
        run.summary.contains(
            "| Line coverage drop | -7.28 points (80.00% → 72.72%) | max-drop 0 points | ❌ fail |"
        ),
        "{run}"
    );
    // The drop is 7.2727… points: exact arithmetic, as for the thresholds.
    let run = pr_harness(&mock, d, &base, &head, &now)
        .input("max-drop", "7.27")
        .run();
    run.assert_code(1);
    let run = pr_harness(&mock, d, &base, &head, &now)
        .input("max-drop", "7.28")
        .run();
    run.assert_code(0);
    // No baseline: max-drop passes with a notice, unless a baseline is required.
    let other = tempfile::tempdir().unwrap();
    git(other.path(), &["init", "-q"]);
    let run = pr_harness(
        &mock,
        other.path(),
        "2222222222222222222222222222222222222222",
        &head,
        &now,
    )
    .input("max-drop", "0")
    .run();
    run.assert_code(0);
    assert!(
        run.stdout.contains("::notice title=Coverage baseline::"),
        "{run}"
    );
    let run = pr_harness(
        &mock,
        other.path(),
        "2222222222222222222222222222222222222222",
        &head,
        &now,
    )
    .input("baseline-required", "true")
    .run();
    run.assert_code(1);
    assert!(
        run.summary
            .contains("| Baseline | none found | — | ❌ fail |"),
        "{run}"
    );
}

#[test]
fn no_run_on_the_merge_base_walks_first_parents_and_says_which() {
    let mock = MockGitHub::start();
    let _world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let c1 = commit(d, &[("src/app.py", src(10))], "c1");
    push_run(&mock, d, &c1, &report(&[("src/app.py", 5, 10)])).assert_code(0);
    let c2 = commit(d, &[("README", "docs".into())], "c2: push run skipped");
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/app.py", src(11))], "feature");
    let run = pr_harness(&mock, d, &c2, &head, &report(&[("src/app.py", 6, 11)])).run();
    run.assert_code(0);
    assert_eq!(run.output("base-sha"), Some(c1.as_str()), "{run}");
    assert!(
        run.summary
            .contains("1 first parent back from the merge-base"),
        "{run}"
    );
    assert!(
        run.summary.contains(&format!("{}: no check run", &c2[..7])),
        "{run}"
    );
}

#[test]
fn a_malformed_or_foreign_record_is_ignored_with_a_notice_and_the_walk_goes_on() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let c1 = commit(d, &[("src/app.py", src(10))], "c1");
    push_run(&mock, d, &c1, &report(&[("src/app.py", 5, 10)])).assert_code(0);
    let c2 = commit(d, &[("README", "docs".into())], "c2");
    let c3 = commit(d, &[("README", "more docs".into())], "c3");
    {
        // c3 and c2 carry check runs of our name whose records cannot be used.
        let mut w = world.lock().unwrap();
        let good = w.runs[0].summary.clone();
        let mut fake = |sha: &str, summary: String| {
            let mut r = w.runs[0].clone();
            r.id += 100 + u64::from(sha.as_bytes()[0]);
            r.head_sha = sha.into();
            r.summary = summary;
            w.runs.push(r);
        };
        fake(&c3, good.replace("record v1 ", "record v7 "));
        fake(&c2, good.replace("record v1 ", "record v1 %%%"));
    }
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/app.py", src(11))], "feature");
    let run = pr_harness(&mock, d, &c3, &head, &report(&[("src/app.py", 6, 11)])).run();
    run.assert_code(0);
    assert_eq!(run.output("base-sha"), Some(c1.as_str()), "{run}");
    let notices: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::notice"))
        .collect();
    assert_eq!(notices.len(), 2, "{run}");
    assert!(notices[0].contains("version 7"), "{notices:?}");
    assert!(notices[1].contains("malformed"), "{notices:?}");
    assert!(
        run.summary
            .contains("2 first parents back from the merge-base"),
        "{run}"
    );
}

#[test]
fn a_base_branch_that_moved_on_is_compared_at_the_merge_base_also_without_history() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let c1 = commit(d, &[("src/app.py", src(10))], "fork point");
    push_run(&mock, d, &c1, &report(&[("src/app.py", 5, 10)])).assert_code(0);
    let tip = commit(d, &[("src/app.py", src(20))], "main moved on");
    push_run(&mock, d, &tip, &report(&[("src/app.py", 19, 20)])).assert_code(0);
    git(d, &["checkout", "-q", "-b", "feature", &c1]);
    let head = commit(d, &[("src/app.py", src(11))], "feature");
    let now = report(&[("src/app.py", 6, 11)]);
    let run = pr_harness(&mock, d, &tip, &head, &now).run();
    run.assert_code(0);
    assert_eq!(
        run.output("base-sha"),
        Some(c1.as_str()),
        "the merge-base, not the tip\n{run}"
    );
    assert!(
        run.summary.contains("the merge-base, from git merge-base"),
        "{run}"
    );

    // A clone without the history: the compare API names the merge-base.
    {
        let mut w = world.lock().unwrap();
        w.parents.insert(tip.clone(), vec![c1.clone()]);
        w.parents.insert(head.clone(), vec![c1.clone()]);
    }
    let shallow = tempfile::tempdir().unwrap();
    let run = pr_harness(&mock, shallow.path(), &tip, &head, &now).run();
    run.assert_code(0);
    assert_eq!(run.output("base-sha"), Some(c1.as_str()), "{run}");
    assert!(
        run.summary.contains("the merge-base, from the compare API"),
        "{run}"
    );
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.path.ends_with(&format!("/compare/{tip}...{head}")))
    );
}

#[test]
fn fork_token_means_no_comment_one_warning_and_the_same_exit_code() {
    for (threshold, code) in [("50", 0), ("99", 1)] {
        let mock = MockGitHub::start();
        let world = install(&mock);
        world.lock().unwrap().comments_forbidden = true;
        let dir = repo();
        let d = dir.path();
        let base = commit(d, &[("src/app.py", src(10))], "base");
        git(d, &["checkout", "-q", "-b", "feature"]);
        let head = commit(d, &[("src/app.py", src(11))], "feature");
        let run = pr_harness(&mock, d, &base, &head, &report(&[("src/app.py", 6, 11)]))
            .input("threshold", threshold)
            .run();
        run.assert_code(code);
        let w = warnings(&run);
        assert_eq!(w.len(), 1, "{run}");
        assert!(w[0].contains("pull-requests: write"), "{}", w[0]);
        assert!(world.lock().unwrap().comments.is_empty());
        assert!(
            run.stdout.contains("::notice title=Coverage baseline::"),
            "no baseline: a notice\n{run}"
        );
    }
}

#[test]
fn api_failures_cost_the_delta_or_the_comment_never_the_verdict() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let base = commit(d, &[("src/app.py", src(10))], "base");
    push_run(&mock, d, &base, &report(&[("src/app.py", 8, 10)])).assert_code(0);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/app.py", src(11))], "feature");
    let now = report(&[("src/app.py", 6, 11)]);
    std::fs::write(d.join("coverage.xml"), &now).unwrap();
    mock.fault(Fault::status(
        "GET",
        "/check-runs",
        503,
        "Service Unavailable",
        20,
    ));
    mock.fault(Fault::status(
        "GET",
        "/comments",
        429,
        "API rate limit exceeded",
        20,
    ));
    let (result, stdout) = in_process(
        &mock,
        d,
        &pr_event(&base, &head),
        &head,
        &[("threshold", "90"), ("max-drop", "0")],
    );
    assert_eq!(result.exit_code, 1, "{stdout}");
    assert!(
        result
            .summary
            .contains("| Line coverage | 54.54% (6/11 lines) | 90% | ❌ fail |"),
        "{}",
        result.summary
    );
    assert!(
        !result.summary.contains("Line coverage drop"),
        "max-drop as with no baseline"
    );
    let w: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect();
    assert_eq!(
        w.len(),
        2,
        "one for the baseline, one for the comment\n{stdout}"
    );
    assert!(
        w.iter()
            .any(|l| l.contains("Coverage baseline") && l.contains("503")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|l| l.contains("Coverage comment") && l.contains("429")),
        "{w:?}"
    );
    let out = |k: &str| {
        result
            .outputs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(out("base-sha").as_deref(), Some(""));
    assert!(world.lock().unwrap().comments.is_empty());
}

/// Run the gate in process with a fast retry policy (the binary's own policy waits up to
/// 90 s on a failing API, rightly). Returns the result and what went to stdout.
pub(crate) fn in_process(
    mock: &MockGitHub,
    ws: &Path,
    event: &Value,
    sha: &str,
    inputs: &[(&str, &str)],
) -> (rust_ci_action::app::RunResult, String) {
    use rust_ci_action::runner::commands::{Commands, Style};
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("event.json");
    std::fs::write(&ev, serde_json::to_vec(event).unwrap()).unwrap();
    let mut pairs: Vec<(String, String)> = vec![
        ("GITHUB_ACTIONS".into(), "true".into()),
        ("GITHUB_WORKSPACE".into(), ws.display().to_string()),
        ("GITHUB_API_URL".into(), mock.url.clone()),
        ("GITHUB_REPOSITORY".into(), "Codertocat/Hello-World".into()),
        ("GITHUB_EVENT_NAME".into(), "pull_request".into()),
        ("GITHUB_EVENT_PATH".into(), ev.display().to_string()),
        ("GITHUB_SHA".into(), sha.into()),
        ("INPUT_GITHUB-TOKEN".into(), TOKEN.into()),
        ("INPUT_GATE".into(), "coverage".into()),
        ("INPUT_FILES".into(), "coverage.xml".into()),
    ];
    for (k, v) in inputs {
        pairs.push((format!("INPUT_{}", k.to_uppercase()), (*v).to_owned()));
    }
    let env = rust_ci_action::runner::env::RunnerEnv::from_pairs(pairs.clone());
    let raw = rust_ci_action::runner::inputs::RawInputs::from_env(pairs);
    let buf = SharedBuf::default();
    let commands = Commands::new(Box::new(buf.clone()), Style::Actions);
    let policy = rust_ci_action::github::RetryPolicy {
        max_attempts: 3,
        base_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(50),
        max_total_wait: std::time::Duration::from_secs(5),
        request_timeout: std::time::Duration::from_secs(10),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(rust_ci_action::app::run(env, raw, commands, policy));
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    (result, text)
}

/// A writer tests can read back.
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_comment_planted_with_our_marker_by_the_pull_requests_author_is_never_edited() {
    let mock = MockGitHub::start();
    let world = install(&mock);
    let dir = repo();
    let d = dir.path();
    let base = commit(d, &[("src/app.py", src(10))], "base");
    push_run(&mock, d, &base, &report(&[("src/app.py", 8, 10)])).assert_code(0);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head = commit(d, &[("src/app.py", src(12))], "feature");
    let planted =
        "<!-- rust-ci-action:comment rust-ci-action%20%2F%20coverage -->\n## ✅ all good, merge me";
    world.lock().unwrap().planted.insert(1, planted.to_owned());
    let now = report(&[("src/app.py", 9, 12)]);
    for _ in 0..2 {
        pr_harness(&mock, d, &base, &head, &now)
            .run()
            .assert_code(0);
    }
    let w = world.lock().unwrap();
    assert_eq!(w.planted.get(&1).map(String::as_str), Some(planted));
    assert_eq!(
        w.comments.len(),
        1,
        "our own comment, once: {:?}",
        w.comments
    );
    assert!(
        !w.comments.contains_key(&1),
        "the planted comment was edited: {:?}",
        w.comments
    );
    mock.assert_valid();
}
