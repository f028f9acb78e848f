//! The launcher (`dist/launcher.sh`) end to end against a local release server: download,
//! checksum, cache and run; refuse a tampered asset; prefer a binary in `dist/bin`; build
//! from source when no asset is listed; map runner platforms to release targets.

use std::path::PathBuf;
use std::process::Command;

use super::release::{Release, ReleaseServer, action_checkout, launch, sha256_hex, system_path};
use super::{VERSION, assert_same_as_direct};

/// The binary under test, which the release server hands out as the asset.
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rust-ci-action"))
}

#[test]
fn launcher_downloads_verifies_caches_and_runs_the_release_asset() {
    let r = Release::new();
    let server = ReleaseServer::start();
    server.put(
        &format!("v{VERSION}/{}", r.asset),
        std::fs::read(binary()).expect("read binary"),
    );
    let root = action_checkout(r.dir.path(), &r.asset, Some(&sha256_hex(&binary())));

    // First run: one download, verified, cached, the gate runs and passes.
    let first = launch(&root, &r.env("70", Some(&server)), &system_path());
    first.assert_code(0);
    assert_same_as_direct(&first, &r.ws, "70");
    assert_eq!(first.output("line-coverage"), Some("75.00"), "{first}");
    assert!(first.stderr.contains("verified sha256"), "{first}");
    let asset_path = format!("/download/v{VERSION}/{}", r.asset);
    assert_eq!(server.requests(), vec![asset_path.clone()]);
    assert_eq!(
        sha256_hex(&r.cached_dir().join("rust-ci-action")),
        sha256_hex(&binary())
    );
    assert!(r.cached_dir().with_extension("complete").is_file());

    // Second run, with a threshold that fails: served from the cache (no request), and the
    // binary's exit code 1 comes through unchanged.
    let second = launch(&root, &r.env("80", Some(&server)), &system_path());
    second.assert_code(1);
    assert_same_as_direct(&second, &r.ws, "80");
    assert_eq!(second.output("result"), Some("fail"), "{second}");
    assert!(!second.stderr.contains("downloading"), "{second}");
    assert_eq!(
        server.requests(),
        vec![asset_path],
        "the second run must not download"
    );
}

#[test]
fn launcher_refuses_a_tampered_asset() {
    let r = Release::new();
    let mut tampered = std::fs::read(binary()).expect("read binary");
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    let server = ReleaseServer::start();
    server.put(&format!("v{VERSION}/{}", r.asset), tampered);
    let root = action_checkout(r.dir.path(), &r.asset, Some(&sha256_hex(&binary())));

    let run = launch(&root, &r.env("70", Some(&server)), &system_path());
    run.assert_code(2);
    assert_eq!(run.errors().len(), 1, "{run}");
    let error = run.errors()[0];
    assert!(
        error.starts_with("::error title=rust-ci-action launcher::checksum mismatch for "),
        "{run}"
    );
    assert!(
        error.contains(&sha256_hex(&binary())) && error.contains("refusing to run it"),
        "{run}"
    );
    assert_eq!(run.outputs, vec![("result".to_owned(), "error".to_owned())]);
    assert!(
        !r.cached_dir().with_extension("complete").exists(),
        "a refused asset must not be cached"
    );
    assert!(!r.cached_dir().join("rust-ci-action").exists());
    let leftovers: Vec<_> = std::fs::read_dir(r.cached_dir()).expect("dir").collect();
    assert!(
        leftovers.is_empty(),
        "temp download left behind: {leftovers:?}"
    );
}

#[test]
fn launcher_prefers_a_binary_in_dist_and_reports_missing_builds() {
    let r = Release::new();
    let server = ReleaseServer::start();
    let env = r.env("70", Some(&server));

    // No asset listed for this platform and no cargo on PATH: one clear error.
    let root = action_checkout(r.dir.path(), &r.asset, None);
    let run = launch(&root, &env, &system_path());
    run.assert_code(2);
    assert!(
        run.stdout.contains(&format!(
            "no prebuilt binary for {} at v{VERSION}",
            r.target
        )) && run.stdout.contains("cargo is not installed"),
        "{run}"
    );

    // A binary in dist/bin is used as is: no download, no cache.
    let bin_dir = root.join("dist/bin");
    std::fs::create_dir_all(&bin_dir).expect("mkdir");
    std::fs::copy(
        binary(),
        bin_dir.join(format!("rust-ci-action-{}", r.target)),
    )
    .expect("copy");
    let run = launch(&root, &env, &system_path());
    run.assert_code(0);
    assert_eq!(run.output("result"), Some("pass"), "{run}");
    assert!(server.requests().is_empty());
    assert!(!r.cache().exists());
}

/// Without a prebuilt binary for the platform, the launcher builds the action's own source
/// with `cargo install --locked --path` into dist/bin and runs that; the next run uses it.
/// `cargo` here is a stand-in on PATH that logs its arguments and installs the test binary
/// (a real build of this crate takes minutes; the real cargo's flags are its own concern).
#[test]
fn launcher_builds_from_source_when_no_asset_is_listed() {
    let r = Release::new();
    let root = action_checkout(r.dir.path(), "none", None);
    let tools = r.dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("mkdir");
    let log = r.dir.path().join("cargo.log");
    let fake = format!(
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> '{log}'\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\n\
         mkdir -p \"$root/bin\" && cp '{bin}' \"$root/bin/rust-ci-action\"\n",
        log = log.display(),
        bin = binary().display(),
    );
    std::fs::write(tools.join("cargo"), fake).expect("fake cargo");
    assert!(
        Command::new("chmod")
            .arg("+x")
            .arg(tools.join("cargo"))
            .status()
            .expect("chmod")
            .success()
    );
    let path = format!("{}:{}", tools.display(), system_path());

    for _ in 0..2 {
        let run = launch(&root, &r.env("70", None), &path);
        run.assert_code(0);
        assert_eq!(run.output("result"), Some("pass"), "{run}");
    }
    let calls = std::fs::read_to_string(&log).expect("cargo was called");
    let dist = root.join("dist");
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        vec![format!(
            "install --locked --quiet --path {}/.. --root {}/bin/.cargo-install.{} --bin rust-ci-action",
            dist.display(),
            dist.display(),
            calls
                .split(".cargo-install.")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap_or("?"),
        )],
        "one build, then the built binary is reused"
    );
    assert!(
        dist.join(format!("bin/rust-ci-action-{}", r.target))
            .is_file()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dist.join("bin"))
        .expect("dist/bin")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary install root left behind: {leftovers:?}"
    );
}

#[test]
fn launcher_maps_runner_platforms_to_release_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = action_checkout(dir.path(), "none", None);
    for (os, arch, target) in [
        ("Linux", "X64", Some("x86_64-unknown-linux-gnu")),
        ("Linux", "ARM64", Some("aarch64-unknown-linux-gnu")),
        ("macOS", "X64", Some("x86_64-apple-darwin")),
        ("macOS", "ARM64", Some("aarch64-apple-darwin")),
        ("Windows", "X64", Some("x86_64-pc-windows-msvc")),
        ("Linux", "ARM", None),
        ("FreeBSD", "X64", None),
    ] {
        let mut cmd = Command::new("bash");
        cmd.arg(root.join("dist/launcher.sh"))
            .env_clear()
            .env("PATH", system_path())
            .env("HOME", dir.path())
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TOOL_CACHE", dir.path().join("cache"));
        let out = cmd.output().expect("launcher");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{os}/{arch}: {stdout}");
        match target {
            Some(t) => assert!(
                stdout.contains(&format!("no prebuilt binary for {t} at")),
                "{os}/{arch}: {stdout}"
            ),
            None => assert!(
                stdout.contains("unsupported runner"),
                "{os}/{arch}: {stdout}"
            ),
        }
    }
}
