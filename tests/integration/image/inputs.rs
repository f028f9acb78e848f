//! Inputs the gate cannot work with, and a docker it cannot use: each is one `::error`
//! line and exit 2.

use super::*;

#[test]
fn missing_dockerfile_is_an_input_error() {
    let reg = registry();
    let h = with_password(gate("it/bad"), &reg).input("dockerfile", "nope/Dockerfile");
    let run = h.run();
    run.assert_code(2);
    assert_one_error(&run, "nope/Dockerfile does not exist");
    assert_private_dir_gone(&h);
}

#[test]
fn missing_context_is_an_input_error() {
    let reg = registry();
    let h = with_password(gate("it/bad"), &reg).input("context", "/nonexistent/ctx");
    let run = h.run();
    run.assert_code(2);
    assert_one_error(&run, "build context /nonexistent/ctx is not a directory");
}

/// No daemon and no buildah (a PATH with docker alone): `builder: auto` falls back to
/// docker, whose error names the daemon.
#[test]
fn unreachable_daemon() {
    let reg = registry();
    let only_docker = tempfile::tempdir().unwrap();
    let docker = std::process::Command::new("sh")
        .args(["-c", "command -v docker"])
        .output()
        .unwrap();
    let docker = String::from_utf8(docker.stdout).unwrap();
    std::os::unix::fs::symlink(docker.trim(), only_docker.path().join("docker")).unwrap();
    let h = with_password(gate("it/bad"), &reg)
        .env("DOCKER_HOST", "unix:///nonexistent")
        .env("PATH", only_docker.path().display().to_string());
    let run = h.run();
    run.assert_code(2);
    assert_one_error(&run, "the Docker daemon is not reachable");
    assert_private_dir_gone(&h);
}

#[test]
fn docker_not_installed() {
    let reg = registry();
    let empty = tempfile::tempdir().unwrap();
    let h = with_password(gate("it/bad"), &reg).env("PATH", empty.path().display().to_string());
    let run = h.run();
    run.assert_code(2);
    assert_one_error(&run, "docker is not installed");
}

#[test]
fn invalid_image_reference() {
    let reg = registry();
    let run = with_password(gate("Team/API:1.0"), &reg).run();
    run.assert_code(2);
    assert_one_error(&run, "input `image`");
}
