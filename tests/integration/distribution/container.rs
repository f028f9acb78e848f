//! The container image runs a gate the way the binary does (needs the Docker engine from
//! scripts/services/docker.sh): built from the static release binary, started as the runner
//! starts a container action, compared with a direct run; its bundled Docker CLI reaches
//! the engine through the mounted socket.

use std::path::PathBuf;
use std::process::Command;

use rust_ci_action::runner::outputs::parse_output_file;

use super::{VERSION, assert_same_as_direct, coverage_workspace, direct_coverage_run};
use crate::common::{Run, repo_root, service_env};

const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";
const TAG: &str = "rust-ci-action:distribution-test";

fn docker() -> Command {
    let mut c = Command::new(std::env::var("DOCKER").unwrap_or_else(|_| "docker".into()));
    c.env("DOCKER_BUILDKIT", "0");
    c
}

fn must(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Build the statically linked release binary (incremental: a no-op when fresh), lay
/// out docker/rootfs and build ./Dockerfile with it.
fn build_image() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    must(
        Command::new(cargo)
            .current_dir(repo_root())
            .args([
                "build",
                "--release",
                "--locked",
                "--bin",
                "rust-ci-action",
                "--target",
                STATIC_TARGET,
            ])
            .env("RUSTFLAGS", "-C target-feature=+crt-static"),
        "static release build",
    );
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    let bin = target_dir
        .join(STATIC_TARGET)
        .join("release/rust-ci-action");
    must(
        Command::new(repo_root().join("docker/prepare-context.sh")).arg(&bin),
        "docker/prepare-context.sh",
    );
    must(
        docker()
            .current_dir(repo_root())
            .args(["build", "--quiet", "-t", TAG, "."]),
        "docker build",
    );
}

#[test]
fn container_image_runs_the_coverage_gate_like_the_binary() {
    let host = service_env("DOCKER_HOST");
    build_image();
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = coverage_workspace(dir.path());
    let files = dir.path().join("file_commands");
    std::fs::create_dir_all(&files).expect("mkdir");
    for threshold in ["70", "80"] {
        std::fs::write(files.join("output"), "").expect("output");
        std::fs::write(files.join("summary"), "").expect("summary");
        // As the runner starts a container action: workspace and file-command folders
        // mounted, inputs as INPUT_*, the socket mounted (here: unused by coverage).
        let out = docker()
            .args(["run", "--rm", "--network", "none"])
            .args(["-v", &format!("{}:/github/workspace", ws.display())])
            .args(["-v", &format!("{}:/github/file_commands", files.display())])
            .args(["-w", "/github/workspace"])
            .args([
                "-e",
                "GITHUB_ACTIONS=true",
                "-e",
                "GITHUB_WORKSPACE=/github/workspace",
            ])
            .args([
                "-e",
                "GITHUB_OUTPUT=/github/file_commands/output",
                "-e",
                "GITHUB_STEP_SUMMARY=/github/file_commands/summary",
            ])
            .args([
                "-e",
                "INPUT_GATE=coverage",
                "-e",
                "INPUT_FILES=lcov.info",
                "-e",
                &format!("INPUT_THRESHOLD={threshold}"),
            ])
            .arg(TAG)
            .output()
            .expect("docker run");
        let outputs_raw = std::fs::read_to_string(files.join("output")).expect("outputs");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: parse_output_file(&outputs_raw),
            outputs_raw,
            summary: std::fs::read_to_string(files.join("summary")).expect("summary"),
        };
        assert_same_as_direct(&run, &ws, threshold);
        assert!(run.output("line-coverage").is_some(), "{run}");
        assert_eq!(
            run.summary,
            direct_coverage_run(&ws, threshold).summary,
            "threshold {threshold}: job summaries differ"
        );
    }
    // The image gate's claim: the bundled Docker CLI reaches the engine through the
    // socket the runner mounts at /var/run/docker.sock.
    let socket = host
        .strip_prefix("unix://")
        .unwrap_or_else(|| panic!("DOCKER_HOST={host} is not a unix socket"));
    let version = must(
        docker()
            .args([
                "run",
                "--rm",
                "--network",
                "none",
                "-v",
                &format!("{socket}:/var/run/docker.sock"),
            ])
            .args([
                "--entrypoint",
                "/usr/local/bin/docker",
                TAG,
                "version",
                "--format",
                "{{.Server.Version}}",
            ]),
        "docker CLI inside the image",
    );
    assert!(!version.trim().is_empty());
    let v = must(
        docker().args(["run", "--rm", "--network", "none", TAG, "--version"]),
        "--version",
    );
    assert_eq!(v.trim(), format!("rust-ci-action {VERSION}"));
}
