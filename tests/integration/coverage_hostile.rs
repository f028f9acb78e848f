//! The coverage gate on a stranger's pull request: names, links and reports the pull
//! request controls never become workflow commands, never read outside the workspace and
//! never crash the gate.

use crate::common::Harness;
use rust_ci_action::untrusted::commands_the_runner_sees as runner_commands;

fn cobertura(filename: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<coverage line-rate=\"0.5\" branch-rate=\"0\" version=\"7\" timestamp=\"1\">\n<sources><source>.</source></sources>\n<packages><package name=\"p\"><classes><class name=\"a\" filename=\"{filename}\"><lines><line number=\"1\" hits=\"1\"/><line number=\"2\" hits=\"0\"/></lines></class></classes></package></packages></coverage>\n"
    )
}

/// Commands the gate itself may write on these runs.
const OURS: &[&str] = &["group", "endgroup", "warning", "error", "notice"];

#[test]
fn directory_names_never_become_workflow_commands() {
    let names = [
        "x\n::add-mask::coverage\n::stop-commands::tok\n",
        "y\r::error title=forged::forged",
        "z ##[add-mask]coverage",
        "\u{2028}::warning::w",
    ];
    for name in names {
        let h = Harness::new().input("gate", "coverage");
        let dir = h.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cobertura-coverage.xml"), cobertura("a.py")).unwrap();
        std::fs::write(h.path("a.py"), "x = 1\ny = 2\n").unwrap();
        let run = h.env("RUNNER_DEBUG", "1").run();
        run.assert_code(0);
        let cmds = runner_commands(&run.stdout);
        assert!(
            cmds.iter().all(|c| OURS.contains(&c.as_str())),
            "{name:?}: commands {cmds:?}\n{run}"
        );
        assert!(!cmds.iter().any(|c| c == "error"), "{name:?}\n{run}");
    }
}

#[test]
fn report_names_in_errors_never_become_workflow_commands() {
    let h = Harness::new().input("gate", "coverage");
    let dir = h.path("d\r::add-mask::x\n##[stop-commands]t");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cobertura-coverage.xml"),
        "<coverage><packages><package>",
    )
    .unwrap();
    let run = h.run();
    run.assert_code(2);
    let cmds = runner_commands(&run.stdout);
    assert!(
        cmds.iter().all(|c| OURS.contains(&c.as_str())),
        "{cmds:?}\n{run}"
    );
    assert_eq!(cmds.iter().filter(|c| *c == "error").count(), 1, "{run}");
}

#[test]
fn a_symlink_out_of_the_workspace_is_refused_without_quoting_its_target() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join(".netrc");
    std::fs::write(
        &secret,
        "machine github.com login x password hunter2-TOPSECRET\n",
    )
    .unwrap();
    for (link, format) in [("lcov.info", "lcov"), ("coverage.xml", "cobertura")] {
        for explicit_files in [false, true] {
            let mut h = Harness::new()
                .input("gate", "coverage")
                .input("format", format);
            if explicit_files {
                h = h.input("files", link);
            }
            std::os::unix::fs::symlink(&secret, h.path(link)).unwrap();
            let run = h.run();
            run.assert_code(2);
            assert_eq!(run.output("result"), Some("error"));
            let all = run.all_text();
            assert!(
                !all.contains("hunter2") && !all.contains("machine github"),
                "{run}"
            );
            assert!(
                !all.contains(".netrc"),
                "nothing of the target is named\n{run}"
            );
            assert!(
                run.errors()[0].contains(link) && run.errors()[0].contains("outside the workspace"),
                "{run}"
            );
        }
    }
    // A symlinked directory on the way counts too, and a glob does not step around it.
    let h = Harness::new()
        .input("gate", "coverage")
        .input("files", "reports/**/*.info")
        .input("format", "lcov");
    std::fs::create_dir_all(h.path("reports")).unwrap();
    std::os::unix::fs::symlink(outside.path(), h.path("reports/out")).unwrap();
    std::fs::write(outside.path().join("x.info"), "hunter2\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("x.info"), h.path("reports/x.info")).unwrap();
    let run = h.run();
    run.assert_code(2);
    assert!(!run.all_text().contains("hunter2"), "{run}");
}

#[test]
fn absolute_paths_the_author_writes_stay_allowed_and_inside_links_work() {
    let outside = tempfile::tempdir().unwrap();
    let report = outside.path().join("cov.xml");
    std::fs::write(&report, cobertura("a.py")).unwrap();
    let h = Harness::new()
        .input("gate", "coverage")
        .input("files", report.display().to_string());
    let run = h.run();
    run.assert_code(0);
    // A link that stays inside the workspace is fine.
    let h = Harness::new().input("gate", "coverage");
    std::fs::create_dir_all(h.path("build")).unwrap();
    std::fs::write(h.path("build/cov.xml"), cobertura("a.py")).unwrap();
    std::os::unix::fs::symlink(h.path("build/cov.xml"), h.path("coverage.xml")).unwrap();
    h.run().assert_code(0);
}

#[test]
fn a_path_sharing_the_workspace_prefix_up_to_a_multibyte_character_does_not_crash() {
    let root = tempfile::tempdir().unwrap();
    let ws = root.path().join("ws4");
    std::fs::create_dir_all(&ws).unwrap();
    let foreign = format!("{}/wsé/x.rs", root.path().display());
    let h = Harness::new()
        .input("gate", "coverage")
        .env("GITHUB_WORKSPACE", ws.display().to_string())
        .cwd(&ws);
    std::fs::write(ws.join("coverage.xml"), cobertura(&foreign)).unwrap();
    let run = h.run();
    assert!(run.code == 0 || run.code == 1, "{run}");
    assert!(!run.stdout.contains("crashed"), "{run}");
}

/// A panic after the check run was created still completes it (conclusion `failure`, the
/// panic as a one-line reason), prints one `::error`, and exits 2 with `result=error`.
#[test]
fn a_panic_inside_the_gate_still_completes_the_check_run() {
    use crate::coverage::{action, pr_repo};
    use crate::github_mock::MockGitHub;
    let repo = pr_repo();
    let mock = MockGitHub::start();
    let run = action(&mock, &repo, repo.dir.path(), false)
        .env("RUST_CI_ACTION_CRASH_TEST", "gate")
        .run();
    run.assert_code(2);
    assert_eq!(run.output("result"), Some("error"), "{run}");
    assert_eq!(run.errors().len(), 1, "{run}");
    assert!(
        run.errors()[0].contains("crash test requested inside the gate"),
        "{run}"
    );
    let bodies: Vec<serde_json::Value> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("check-runs"))
        .filter_map(|r| r.body)
        .collect();
    let last = bodies.last().expect("check-run requests");
    assert_eq!(last["status"], "completed", "{bodies:?}");
    assert_eq!(last["conclusion"], "failure", "{bodies:?}");
    assert_eq!(
        last["output"]["title"], "rust-ci-action crashed",
        "{bodies:?}"
    );
    let summary = last["output"]["summary"].as_str().unwrap_or_default();
    let reason = summary.lines().next().unwrap_or_default();
    assert!(
        reason.contains("crash test requested inside the gate"),
        "{summary}"
    );
    mock.assert_valid();
}
