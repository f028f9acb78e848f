//! The coverage gate end to end: local CLI, action mode with a real git repository and a
//! pull-request event, the shallow-clone fallback to the pull-request files API, degraded
//! (fork) mode, and bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Harness, Run, repo_root, shared_dir};
use crate::github_mock::{Fault, MockGitHub};

pub(crate) const TOKEN: &str = "ghs_coverageTOKENabcdef0123456789";

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository with `main` (base) and a feature commit that adds lines 11-16 to
/// `src/app.py` and a new file `src/new.py`.
pub(crate) struct PrRepo {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) base: String,
    pub(crate) head: String,
}

fn cobertura(files: &[(&str, &[(u32, u32)])]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" ?>\n<coverage version=\"7.6\" line-rate=\"0.99\" branch-rate=\"0\" lines-covered=\"999\" lines-valid=\"1000\">\n<sources><source>.</source></sources>\n<packages><package name=\"src\"><classes>\n",
    );
    for (name, lines) in files {
        x.push_str(&format!(
            "<class name=\"{name}\" filename=\"{name}\" line-rate=\"1\"><methods/><lines>\n"
        ));
        for (n, h) in *lines {
            x.push_str(&format!("<line number=\"{n}\" hits=\"{h}\"/>\n"));
        }
        x.push_str("</lines></class>\n");
    }
    x.push_str("</classes></package></packages></coverage>\n");
    x
}

pub(crate) fn pr_repo() -> PrRepo {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("src")).unwrap();
    let base_src: String = (1..=10).map(|i| format!("line{i} = {i}\n")).collect();
    std::fs::write(d.join("src/app.py"), &base_src).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    let base = git(d, &["rev-parse", "HEAD"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let head_src: String = base_src
        + &(11..=16)
            .map(|i| format!("added{i} = {i}\n"))
            .collect::<String>();
    std::fs::write(d.join("src/app.py"), head_src).unwrap();
    std::fs::write(d.join("src/new.py"), "a = 1\n# comment\nb = 2\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "feature"]);
    let head = git(d, &["rev-parse", "HEAD"]);
    // Lines 1-10 covered except 4; added 11-16: 11,12 covered, 13,14 not, 15 not
    // executable, 16 not; new.py: 1 covered, 3 not.
    let app: Vec<(u32, u32)> = vec![
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 0),
        (5, 1),
        (6, 1),
        (7, 1),
        (8, 1),
        (9, 1),
        (10, 1),
        (11, 2),
        (12, 1),
        (13, 0),
        (14, 0),
        (16, 0),
    ];
    std::fs::write(
        d.join("coverage.xml"),
        cobertura(&[("src/app.py", &app), ("src/new.py", &[(1, 1), (3, 0)])]),
    )
    .unwrap();
    PrRepo { dir, base, head }
}

fn event(dir: &Path, repo: &PrRepo, fork: bool) -> PathBuf {
    let mut v: Value = serde_json::from_slice(
        &std::fs::read(shared_dir().join("github-events/pull_request.synchronize.22.json"))
            .unwrap(),
    )
    .unwrap();
    v["pull_request"]["base"]["sha"] = json!(repo.base);
    v["pull_request"]["head"]["sha"] = json!(repo.head);
    if fork {
        v["pull_request"]["head"]["repo"]["full_name"] = json!("someone/Hello-World");
    }
    let p = dir.join("event.json");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    p
}

pub(crate) fn action(mock: &MockGitHub, repo: &PrRepo, workspace: &Path, fork: bool) -> Harness {
    let h = Harness::new();
    let ev = event(h.dir.path(), repo, fork);
    h.cwd(workspace)
        .env("GITHUB_WORKSPACE", workspace.display().to_string())
        .env("GITHUB_API_URL", &mock.url)
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", ev.display().to_string())
        .env("GITHUB_SHA", &repo.head)
        .input("github-token", TOKEN)
        .input("gate", "coverage")
        .input("files", "coverage.xml")
}

fn outputs(run: &Run, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|n| {
            (
                (*n).to_owned(),
                run.output(n).unwrap_or("<missing>").to_owned(),
            )
        })
        .collect()
}

#[test]
fn pull_request_with_full_history_gates_diff_and_annotates_changed_lines() {
    let repo = pr_repo();
    let mock = MockGitHub::start();
    let run = action(&mock, &repo, repo.dir.path(), false)
        .input("threshold", "70")
        .input("diff-threshold", "50")
        .run();
    run.assert_code(1);
    mock.assert_valid();
    assert_eq!(
        outputs(
            &run,
            &[
                "result",
                "line-coverage",
                "lines-covered",
                "lines-total",
                "branch-coverage",
                "diff-coverage",
                "diff-lines-covered",
                "diff-lines-total"
            ]
        ),
        [
            ("result", "fail"),
            ("line-coverage", "70.58"),
            ("lines-covered", "12"),
            ("lines-total", "17"),
            ("branch-coverage", ""),
            ("diff-coverage", "42.85"),
            ("diff-lines-covered", "3"),
            ("diff-lines-total", "7")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert!(
        mock.requests().iter().all(|r| !r.path.contains("/pulls/")),
        "full history: no API diff"
    );
    let anns: Vec<Value> = mock
        .requests()
        .iter()
        .filter_map(|r| r.body.as_ref()?.pointer("/output/annotations").cloned())
        .flat_map(|a| a.as_array().unwrap().clone())
        .collect();
    let spans: Vec<(String, u64, u64)> = anns
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_owned(),
                a["start_line"].as_u64().unwrap(),
                a["end_line"].as_u64().unwrap(),
            )
        })
        .collect();
    // 13-16 is one range (15 is not executable); line 4 is uncovered but unchanged.
    assert_eq!(
        spans,
        vec![("src/app.py".into(), 13, 16), ("src/new.py".into(), 3, 3)]
    );
    assert!(anns.iter().all(|a| a["annotation_level"] == "warning"));
    let last = mock.requests().last().unwrap().body.clone().unwrap();
    assert_eq!(last["conclusion"], "failure");
    assert!(
        run.summary
            .contains("| Diff coverage | 42.85% (3/7 changed lines) | 50% | ❌ fail |"),
        "{run}"
    );
    assert!(
        run.summary
            .contains("| Line coverage | 70.58% (12/17 lines) | 70% | ✅ pass |"),
        "{run}"
    );
}

#[test]
fn shallow_clone_falls_back_to_the_pull_request_files_api_with_the_same_numbers() {
    let repo = pr_repo();
    let shallow = tempfile::tempdir().unwrap();
    let url = format!("file://{}", repo.dir.path().display());
    git(
        shallow.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &url, "w",
        ],
    );
    let ws = shallow.path().join("w");
    assert_eq!(git(&ws, &["rev-parse", "--is-shallow-repository"]), "true");
    std::fs::copy(
        repo.dir.path().join("coverage.xml"),
        ws.join("coverage.xml"),
    )
    .unwrap();
    // Serve the same diff as GitHub would, one file per page.
    let files: Vec<Value> = ["src/app.py", "src/new.py"]
        .iter()
        .map(|f| {
            let patch = git(repo.dir.path(), &["diff", "--no-color", &format!("{}...{}", repo.base, repo.head), "--", f]);
            let patch = patch.split_once("\n@@").map(|(_, p)| format!("@@{p}")).unwrap();
            json!({"sha": "x", "filename": f, "status": "modified", "additions": 1, "deletions": 0, "changes": 1, "blob_url": "", "raw_url": "", "contents_url": "", "patch": patch})
        })
        .collect();
    let mock = MockGitHub::start();
    mock.pr_files(files.into_iter().map(|f| vec![f]).collect());
    let run = action(&mock, &repo, &ws, false)
        .input("diff-threshold", "50")
        .run();
    run.assert_code(1);
    mock.assert_valid();
    assert_eq!(run.output("diff-lines-covered"), Some("3"), "{run}");
    assert_eq!(run.output("diff-lines-total"), Some("7"));
    let pages: Vec<String> = mock
        .requests()
        .iter()
        .filter(|r| r.path.contains("/pulls/2/files"))
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(
        pages,
        vec!["per_page=100".to_owned(), "per_page=100&page=2".to_owned()],
        "paginated"
    );
    assert!(run.summary.contains("pull request files API"), "{run}");
}

#[test]
fn fork_pull_request_still_gates_with_the_same_exit_code() {
    let repo = pr_repo();
    let mock = MockGitHub::start();
    mock.fault(Fault::read_only_token(10));
    let run = action(&mock, &repo, repo.dir.path(), true)
        .input("diff-threshold", "50")
        .run();
    run.assert_code(1);
    assert_eq!(run.output("result"), Some("fail"));
    assert_eq!(run.output("check-run-id"), Some(""));
    let warnings: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("file=src/app.py,line=13,endLine=16")),
        "{run}"
    );
    assert_eq!(
        warnings
            .iter()
            .filter(|l| l.contains("Resource not accessible"))
            .count(),
        1,
        "{run}"
    );
    assert!(run.summary.contains("No check run"), "{run}");
    // Same repository, passing thresholds: exit 0 even though reporting is degraded.
    let run = action(&mock, &repo, repo.dir.path(), true)
        .input("diff-threshold", "40")
        .run();
    run.assert_code(0);
}

#[test]
fn no_pull_request_means_diff_coverage_is_off_and_said_so() {
    let repo = pr_repo();
    let run = Harness::new()
        .cwd(repo.dir.path())
        .env("GITHUB_WORKSPACE", repo.dir.path().display().to_string())
        .input("gate", "coverage")
        .input("threshold", "70.58")
        .run();
    run.assert_code(0);
    assert_eq!(run.output("diff-coverage"), Some(""));
    assert!(
        run.summary.contains("off: no pull request and no base-ref"),
        "{run}"
    );
    // base-ref turns it on without an event.
    let run = Harness::new()
        .cwd(repo.dir.path())
        .env("GITHUB_WORKSPACE", repo.dir.path().display().to_string())
        .input("gate", "coverage")
        .input("base-ref", "main")
        .run();
    run.assert_code(0);
    assert_eq!(run.output("diff-lines-total"), Some("7"), "{run}");
    // Exactness: 12/17 = 70.588…% fails 70.59 and passes 70.588.
    for (t, code) in [("70.59", 1), ("70.588", 0)] {
        let run = Harness::new()
            .cwd(repo.dir.path())
            .env("GITHUB_WORKSPACE", repo.dir.path().display().to_string())
            .input("gate", "coverage")
            .input("threshold", t)
            .run();
        run.assert_code(code);
    }
}

#[test]
fn local_cli_runs_the_readme_sample_and_prints_json() {
    let run = Harness::local()
        .cwd(repo_root())
        .args([
            "coverage",
            "--files",
            "examples/coverage/coverage.xml",
            "--threshold",
            "50",
            "--output",
            "json",
        ])
        .run();
    assert!(run.code == 0 || run.code == 1, "{run}");
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}\n{run}"));
    assert_eq!(v["result"], if run.code == 0 { "pass" } else { "fail" });
    assert!(v["lines-total"].as_str().unwrap().parse::<u64>().unwrap() > 0);
    assert!(
        !run.stdout.contains("::"),
        "no workflow commands off Actions\n{run}"
    );
    let text = Harness::local()
        .cwd(repo_root())
        .args([
            "coverage",
            "--files",
            "examples/coverage/coverage.xml",
            "--threshold",
            "50",
        ])
        .run();
    assert!(text.stdout.contains("Line coverage"), "{text}");
    assert!(!text.stdout.contains("|---"), "{text}");
}

#[test]
fn bad_reports_exit_2_with_one_error_naming_the_file() {
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\n<coverage><packages>&lol2;</packages></coverage>\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "coverage.xml"),
        ("truncated", cobertura(&[("a.py", &[(1, 1)])]).as_bytes()[..150].to_vec(), "coverage.xml"),
        ("not coverage", b"<html><body>hi</body></html>".to_vec(), "coverage.xml"),
        ("billion laughs", laughs.as_bytes().to_vec(), "coverage.xml"),
        ("garbage", (0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(), "coverage.xml"),
        ("malformed", b"<?xml version=\"1.0\"?>\n<coverage>\n<packages><package><classes><class filename=\"a.py\"><lines><line number=\"x\" hits=\"1\"/></lines></class></classes></package></packages></coverage>".to_vec(), "coverage.xml"),
    ];
    for (what, bytes, file) in cases {
        let h = Harness::new()
            .input("gate", "coverage")
            .input("files", file)
            .input("threshold", "1");
        std::fs::write(h.path(file), &bytes).unwrap();
        let run = h.run();
        run.assert_code(2);
        assert_eq!(run.output("result"), Some("error"), "{what}\n{run}");
        assert_eq!(run.errors().len(), 1, "{what}\n{run}");
        assert!(
            run.errors()[0].contains("coverage.xml"),
            "{what}: the error names the file\n{run}"
        );
        assert!(!run.stdout.contains("panicked"), "{what}\n{run}");
    }
    let run = Harness::new()
        .input("gate", "coverage")
        .input("files", "reports/**/*.xml\nmissing.info")
        .run();
    run.assert_code(2);
    assert!(
        run.errors()[0].contains("reports/**/*.xml, missing.info"),
        "{run}"
    );
    let run = Harness::new().input("gate", "coverage").run();
    run.assert_code(2);
    assert!(
        run.errors()[0].contains("coverage.xml, cobertura.xml"),
        "default patterns listed\n{run}"
    );
}

/// Reports are parsed in parallel, but the error reported is the first failing report in
/// `files` order, and a good set of several reports merges as one.
#[test]
fn several_reports_parse_in_parallel_with_ordered_errors() {
    let names = ["r0.xml", "r1.xml", "r2.xml", "r3.xml", "r4.xml", "r5.xml"];
    let write_all = |h: &Harness, broken: &[usize]| {
        for (i, n) in names.iter().enumerate() {
            let file = format!("f{i}.py");
            let body = cobertura(&[(file.as_str(), &[(1, 1), (2, u32::from(i % 2 == 0))])]);
            let bytes = if broken.contains(&i) {
                body.as_bytes()[..body.len() / 2].to_vec()
            } else {
                body.into_bytes()
            };
            std::fs::write(h.path(n), bytes).unwrap();
        }
    };
    for _ in 0..5 {
        let h = Harness::new()
            .input("gate", "coverage")
            .input("files", names.join("\n"));
        write_all(&h, &[2, 4]);
        let run = h.run();
        run.assert_code(2);
        assert_eq!(run.errors().len(), 1, "{run}");
        assert!(run.errors()[0].contains("r2.xml"), "{run}");
    }
    let h = Harness::new()
        .input("gate", "coverage")
        .input("files", names.join("\n"));
    write_all(&h, &[]);
    let run = h.run();
    run.assert_code(0);
    assert_eq!(run.output("lines-total"), Some("12"), "{run}");
    assert_eq!(run.output("lines-covered"), Some("9"), "{run}");
}

/// An unreadable report and a directory named in `files`: exit 2, one error naming the
/// path and the reason. Root reads any file, so as root the binary runs as `nobody`.
#[test]
fn unreadable_report_and_directory_exit_2() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let h = Harness::new()
        .input("gate", "coverage")
        .input("files", "coverage.xml")
        .input("threshold", "1");
    let report = h.path("coverage.xml");
    std::fs::write(&report, cobertura(&[("a.py", &[(1, 1)])])).unwrap();
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let h = if root { h.run_as(65534) } else { h };
    let run = h.run();
    run.assert_code(2);
    assert_eq!(run.output("result"), Some("error"), "{run}");
    assert_eq!(run.errors().len(), 1, "{run}");
    assert!(
        run.errors()[0].contains("coverage.xml: cannot read")
            && run.errors()[0].contains("ermission denied"),
        "{run}"
    );

    let h = Harness::new()
        .input("gate", "coverage")
        .input("files", "reports");
    std::fs::create_dir(h.path("reports")).unwrap();
    let run = h.run();
    run.assert_code(2);
    assert_eq!(run.errors().len(), 1, "{run}");
    assert!(
        run.errors()[0].contains("\"reports\" is a directory, not a report"),
        "{run}"
    );
}

#[test]
fn branch_threshold_without_branch_data_is_an_error() {
    let h = Harness::new()
        .input("gate", "coverage")
        .input("branch-threshold", "50");
    std::fs::write(h.path("coverage.xml"), cobertura(&[("a.py", &[(1, 1)])])).unwrap();
    let run = h.run();
    run.assert_code(2);
    assert!(run.errors()[0].contains("no branch data"), "{run}");
}

#[test]
fn token_never_leaks_through_pass_fail_and_api_errors() {
    let repo = pr_repo();
    let mock = MockGitHub::start();
    for (threshold, fault) in [("10", false), ("99", false), ("10", true)] {
        if fault {
            mock.fault(Fault::status(
                "PATCH",
                "/check-runs/",
                502,
                format!("bad {TOKEN}"),
                100,
            ));
        }
        let run = action(&mock, &repo, repo.dir.path(), false)
            .env("RUNNER_DEBUG", "1")
            .input("threshold", threshold)
            .run();
        let mask_line = format!("::add-mask::{TOKEN}");
        assert!(run.stdout.starts_with(&mask_line), "{run}");
        assert!(
            !run.all_text().replacen(&mask_line, "", 1).contains(TOKEN),
            "{run}"
        );
    }
    for r in mock.requests() {
        let rest: Vec<_> = r
            .headers
            .iter()
            .filter(|(k, _)| *k != "authorization")
            .collect();
        assert!(!format!("{rest:?}{}{}{}", r.path, r.query, r.body_text).contains(TOKEN));
    }
}
