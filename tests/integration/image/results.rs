//! Results against errors with the real engine: a build the change breaks (a failing `RUN`
//! step, a `COPY` source the context lacks, a Dockerfile that does not parse) is the gate
//! failing (exit 1, `result=fail`, docker's last lines in the summary, nothing pushed); a
//! build that fails for any other reason (here: a base image whose registry refuses the
//! connection) is an error (exit 2, `result=error`, one `::error` line).

use super::{
    assert_private_dir_gone, broken_context, busybox_context, gate, registry, registry_tags,
    with_password,
};
use crate::common::Harness;

/// Run the gate on this context with a password, push on; the harness and the run.
fn run_on(image: &str, ctx: &tempfile::TempDir) -> (Harness, crate::common::Run) {
    let h = with_password(gate(image), &registry())
        .input("context", ctx.path().display().to_string())
        .input("tags", "v1");
    let run = h.run();
    (h, run)
}

#[track_caller]
fn assert_fails_on_the_change(image: &str, ctx: &tempfile::TempDir, docker_says: &str) {
    let (h, run) = run_on(image, ctx);
    run.assert_code(1);
    assert_eq!(run.output("result"), Some("fail"), "{run}");
    assert_eq!(run.output("digest"), Some(""), "{run}");
    assert_eq!(run.output("image-ref"), Some(""), "{run}");
    assert!(
        registry_tags(&registry(), image).is_empty(),
        "nothing pushed\n{run}"
    );
    // Docker's last lines are in the summary, inside a fenced block.
    let block = run
        .summary
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .unwrap_or_else(|| panic!("no build output block\n{run}"));
    assert!(
        block.contains(docker_says),
        "{docker_says:?} not in the block\n{run}"
    );
    // One annotation (degraded mode: an `::error` line) naming docker's reason.
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(errors[0].contains("title=docker build failed"), "{run}");
    assert!(errors[0].contains(docker_says), "{run}");
    assert_private_dir_gone(&h);
}

#[test]
fn a_failing_run_step_fails_the_gate() {
    let ctx = busybox_context("RUN echo building && exit 3\n");
    assert_fails_on_the_change("it/fail-run", &ctx, "exit code: 3");
}

#[test]
fn a_missing_copy_source_fails_the_gate() {
    let ctx = broken_context("FROM scratch\nCOPY missing.txt /missing.txt\n");
    assert_fails_on_the_change("it/fail-copy", &ctx, "missing.txt");
}

#[test]
fn a_dockerfile_syntax_error_fails_the_gate() {
    let ctx = broken_context("FROM scratch\nCOPPY hello /hello\n");
    assert_fails_on_the_change("it/fail-syntax", &ctx, "unknown instruction: COPPY");
}

/// The legacy builder words each failure differently; the verdict is the same.
#[test]
fn the_legacy_builder_fails_the_gate_too() {
    let ctx = busybox_context("RUN exit 4\n");
    let h = with_password(gate("it/fail-legacy"), &registry())
        .env("DOCKER_BUILDKIT", "0")
        .input("context", ctx.path().display().to_string())
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(1);
    assert!(run.summary.contains("returned a non-zero code: 4"), "{run}");
}

/// A base image that cannot be pulled is not the change's doing: the registry (or the
/// network) is the problem, and the gate says it could not run.
#[test]
fn an_unreachable_base_image_registry_is_an_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let ctx = broken_context(&format!("FROM 127.0.0.1:{port}/base/image:1\n"));
    let (h, run) = run_on("it/error-pull", &ctx);
    run.assert_code(2);
    assert_eq!(run.output("result"), Some("error"), "{run}");
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(errors[0].contains("docker build failed"), "{run}");
    assert!(errors[0].contains("connection refused"), "{run}");
    assert_private_dir_gone(&h);
}

/// Build output is the pull request's text: what a `RUN` step prints never reaches the
/// runner as a workflow command, with either builder (the legacy one prints step output
/// at the start of a line).
#[test]
fn build_output_never_commands_the_runner() {
    let ctx = busybox_context(
        "RUN echo '::notice::from the Dockerfile' && echo 'x ##[notice]legacy form' && echo '::add-mask::hello'\n",
    );
    for buildkit in ["1", "0"] {
        let h = with_password(gate("it/untrusted-output"), &registry())
            .env("DOCKER_BUILDKIT", buildkit)
            .input("context", ctx.path().display().to_string())
            .input("push", "false")
            .input("tags", "v1");
        let run = h.run();
        run.assert_code(0);
        assert!(
            run.stdout.contains("::notice::from the Dockerfile"),
            "the line is shown\n{run}"
        );
        let seen = rust_ci_action::untrusted::commands_the_runner_sees(&run.stdout);
        for injected in ["notice", "legacy"] {
            assert!(
                !seen.iter().any(|c| c == injected),
                "DOCKER_BUILDKIT={buildkit}: the runner would run {injected}: {seen:?}\n{run}"
            );
        }
        assert_eq!(
            seen.iter().filter(|c| *c == "add-mask").count(),
            run.stdout
                .lines()
                .filter(|l| l.starts_with("::add-mask::") && !l.contains("hello"))
                .count(),
            "only our own masks"
        );
    }
}
