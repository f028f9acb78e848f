//! Everything a person reads from the image gate, whole, as `insta` snapshots: exit code,
//! workflow-command lines, `GITHUB_OUTPUT`, the job summary and the check run (title,
//! summary, text, annotations, conclusion), for passing, failing and erroring runs.
//!
//! Durations, digests, sizes, heredoc delimiters, ports, temporary paths and secrets are
//! redacted; what is left must not change unless what people read changes on purpose.

use serde_json::Value;

use super::{Registry, broken_context, busybox_context, gate, registry, with_password};
use crate::common::{Harness, Run};
use crate::github_mock::MockGitHub;

const TOKEN: &str = "ghs_transcriptToken0123456789";

/// The runner's view of one run, with a check run reported to the mock.
fn with_check_run(h: Harness, mock: &MockGitHub) -> Harness {
    h.env("GITHUB_API_URL", &mock.url)
        .input("github-token", TOKEN)
}

/// The parts of the check run a person sees: the final title, summary, text and
/// conclusion, and every annotation sent.
fn check_run_text(mock: &MockGitHub) -> String {
    mock.assert_valid();
    let requests = mock.requests();
    let bodies: Vec<&Value> = requests
        .iter()
        .filter(|r| r.path.contains("/check-runs"))
        .filter_map(|r| r.body.as_ref())
        .collect();
    let Some(last) = bodies.last() else {
        return "(no check run)\n".to_owned();
    };
    let field = |p: &str| last.pointer(p).and_then(Value::as_str).unwrap_or("-");
    let annotations: Vec<String> = bodies
        .iter()
        .filter_map(|b| b.pointer("/output/annotations").and_then(Value::as_array))
        .flatten()
        .map(|a| {
            format!(
                "- {} {}: {}",
                a["annotation_level"].as_str().unwrap_or("-"),
                a["title"].as_str().unwrap_or("-"),
                a["message"].as_str().unwrap_or("-")
            )
        })
        .collect();
    format!(
        "requests: {}\nstatus: {}\nconclusion: {}\ntitle: {}\n--- summary\n{}\n--- text\n{}\n--- annotations\n{}\n",
        bodies.len(),
        field("/status"),
        field("/conclusion"),
        field("/output/title"),
        field("/output/summary"),
        field("/output/text"),
        annotations.join("\n")
    )
}

/// Exit code, workflow commands, outputs, summary and (when a mock is given) the check
/// run, with every run-specific value replaced by a stable placeholder.
fn transcript(h: &Harness, run: &Run, mock: Option<&MockGitHub>, secrets: &[&str]) -> String {
    let commands: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::")).collect();
    let mut text = format!(
        "exit: {}\n=== workflow commands\n{}\n=== GITHUB_OUTPUT\n{}=== job summary\n{}",
        run.code,
        commands.join("\n"),
        run.outputs_raw,
        run.summary
    );
    if let Some(m) = mock {
        text.push_str("=== check run\n");
        text.push_str(&check_run_text(m));
    }
    for s in secrets.iter().chain(&[TOKEN]) {
        text = text.replace(s, "[secret]");
    }
    let harness = h.dir.path().display().to_string();
    steady(&text.replace(&harness, "[harness]"))
}

/// Drop what differs between two identical builds: BuildKit's bookkeeping lines (step
/// digests, `DONE` timings, context transfers, internal steps, whose numbering and order
/// race) and the docker client's choice among equivalent "cannot connect" messages. A
/// workflow-command message's `%0A` and markdown's escaped `\n` are shown as `⏎` plus a
/// line break, so the lines inside them are treated alike.
fn steady(text: &str) -> String {
    let text = text.replace("%0A", "⏎\n").replace("\\n", "⏎\n");
    let mut out: Vec<String> = Vec::new();
    // BuildKit separates steps with blank lines; whether one shows depends on timing.
    let mut after_step = false;
    for line in text.lines() {
        let (bare, marker) = match line.strip_suffix('⏎') {
            Some(b) => (b, "⏎"),
            None => (line, ""),
        };
        if std::mem::take(&mut after_step) && bare.is_empty() {
            continue;
        }
        if let Some(rest) = buildkit_step(bare) {
            after_step = true;
            let noise = [
                "sha256:",
                "[digest]",
                "DONE ",
                "transferring ",
                "[internal] ",
                "\\[internal\\] ",
                "CACHED",
            ];
            if !noise.iter().any(|n| rest.starts_with(n)) {
                out.push(format!("#N {rest}{marker}"));
            }
            continue;
        }
        out.push(match line.split_once("not reachable: ") {
            Some((head, _)) => format!("{head}not reachable: [what docker said]"),
            None => line.to_owned(),
        });
    }
    out.join("\n") + "\n"
}

/// The rest of a BuildKit progress line `#<step> <rest>`.
fn buildkit_step(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('#')?;
    // Markdown keeps `#3` from linking an issue with a word joiner after the `#`.
    let rest = rest.strip_prefix('\u{2060}').unwrap_or(rest);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    rest[digits..].strip_prefix(' ')
}

/// Snapshot with the redactions every transcript needs.
macro_rules! assert_transcript {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"sha256:[0-9a-f]{64}", "[digest]"),
                (r"::stop-commands::[0-9a-f]{32}", "::stop-commands::[token]"),
                (r"(?m)^::[0-9a-f]{32}::$", "::[token]::"),
                (r"sha256:[0-9a-f]{12}\b", "[short-digest]"),
                (r"ghadelimiter_[0-9a-f]+", "[delimiter]"),
                (r"\b\d+\.\d s\b", "[duration]"),
                (r"\b\d+(\.\d)? (B|KiB|MiB|GiB)\b", "[size]"),
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
                (r"/tmp/[\w.-]+", "[tmp]"),
                (r"#N \d+\.\d+ ", "#N [t] "),
            ],
        }, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

fn password_secrets(reg: &Registry) -> Vec<String> {
    super::secret_forms(&reg.user, &reg.password)
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn pass_pushes_two_tags() {
    let reg = registry();
    let mock = MockGitHub::start();
    let h = with_check_run(
        with_password(gate("snap/pass"), &reg).input("tags", "v1\nlatest"),
        &mock,
    );
    let run = h.run();
    run.assert_code(0);
    let secrets = password_secrets(&reg);
    assert_transcript!(
        "pass_pushes_two_tags",
        transcript(&h, &run, Some(&mock), &refs(&secrets))
    );
}

#[test]
fn pass_builds_without_pushing() {
    let reg = registry();
    let h = with_password(gate("snap/no-push"), &reg)
        .input("push", "false")
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(0);
    let secrets = password_secrets(&reg);
    assert_transcript!(
        "pass_builds_without_pushing",
        transcript(&h, &run, None, &refs(&secrets))
    );
}

#[test]
fn error_wrong_password() {
    let reg = registry();
    let mock = MockGitHub::start();
    let wrong = "not-the-password-transcript";
    let h = with_check_run(
        gate("snap/wrong-password")
            .input("registry", &reg.host)
            .input("registry-username", &reg.user)
            .input("registry-password", wrong)
            .input("tags", "v1"),
        &mock,
    );
    let run = h.run();
    run.assert_code(2);
    let secrets = super::secret_forms(&reg.user, wrong);
    assert_transcript!(
        "error_wrong_password",
        transcript(&h, &run, Some(&mock), &refs(&secrets))
    );
}

#[test]
fn error_missing_dockerfile() {
    let reg = registry();
    let h = with_password(gate("snap/bad"), &reg).input("dockerfile", "nope/Dockerfile");
    let run = h.run();
    run.assert_code(2);
    let secrets = password_secrets(&reg);
    assert_transcript!(
        "error_missing_dockerfile",
        transcript(&h, &run, None, &refs(&secrets))
    );
}

#[test]
fn error_unreachable_daemon() {
    let reg = registry();
    let h = with_password(gate("snap/bad"), &reg)
        .env("DOCKER_HOST", "unix:///nonexistent")
        .input("builder", "docker");
    let run = h.run();
    run.assert_code(2);
    let secrets = password_secrets(&reg);
    assert_transcript!(
        "error_unreachable_daemon",
        transcript(&h, &run, None, &refs(&secrets))
    );
}

/// The transcript of a build the change breaks: `ctx` pushed as `image:v1` with a
/// password, reported to a check run when `mock` is given; the run must fail (exit 1).
fn broken_build(image: &str, ctx: &tempfile::TempDir, mock: Option<&MockGitHub>) -> String {
    let reg = registry();
    let mut h = with_password(gate(image), &reg)
        .input("context", ctx.path().display().to_string())
        .input("tags", "v1");
    if let Some(m) = mock {
        h = with_check_run(h, m);
    }
    let run = h.run();
    run.assert_code(1);
    let secrets = password_secrets(&reg);
    transcript(&h, &run, mock, &refs(&secrets))
        .replace(&ctx.path().display().to_string(), "[context]")
}

/// A Dockerfile whose `COPY` names a file the context does not have.
#[test]
fn build_broken_by_a_missing_file() {
    let mock = MockGitHub::start();
    let ctx = broken_context("FROM scratch\nCOPY missing.txt /missing.txt\n");
    let text = broken_build("snap/copy", &ctx, Some(&mock));
    assert_transcript!("build_broken_by_a_missing_file", text);
}

/// A Dockerfile with an instruction docker does not know.
#[test]
fn build_broken_by_a_syntax_error() {
    let ctx = broken_context("FROMM scratch\n");
    let text = broken_build("snap/syntax", &ctx, None);
    assert_transcript!("build_broken_by_a_syntax_error", text);
}

/// A `RUN` step that exits non-zero, after printing a line that looks like a workflow
/// command (build output is the pull request's text).
#[test]
fn build_broken_by_a_failing_run_step() {
    let ctx = busybox_context("RUN echo '::warning::from the Dockerfile' && exit 3\n");
    let text = broken_build("snap/run", &ctx, None);
    assert_transcript!("build_broken_by_a_failing_run_step", text);
}

#[test]
fn pass_with_an_ecr_token() {
    let reg = registry();
    let ecr_password = crate::common::service_env("TEST_ECR_PASSWORD");
    let h = gate("snap/ecr")
        .input("registry", &reg.host)
        .input("ecr", "true")
        .input("create-repository", "true")
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(0);
    let secrets = super::secret_forms("AWS", &ecr_password);
    assert_transcript!(
        "pass_with_an_ecr_token",
        transcript(&h, &run, None, &refs(&secrets))
    );
}

#[test]
fn pass_with_a_secrets_manager_secret() {
    let reg = registry();
    let id = "ci/registry-transcript";
    let value = serde_json::json!({"username": reg.user, "password": reg.password}).to_string();
    super::create_secret(id, &value);
    let h = gate("snap/secret")
        .input("registry", &reg.host)
        .input("registry-secret", id)
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(0);
    let mut secrets = vec![value];
    secrets.extend(password_secrets(&reg));
    assert_transcript!(
        "pass_with_a_secrets_manager_secret",
        transcript(&h, &run, None, &refs(&secrets))
    );
}
