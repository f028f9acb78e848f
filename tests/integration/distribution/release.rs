//! A release as the launcher sees it: a local release server, a checkout of the action laid
//! out as the runner does, and the composite step's run of `dist/launcher.sh`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use rust_ci_action::runner::outputs::parse_output_file;

use super::{VERSION, coverage_workspace};
use crate::common::{Run, repo_root};

/// The Rust target triple the launcher picks on this machine, and the runner's names.
pub(super) fn host_platform() -> (&'static str, &'static str, &'static str) {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => panic!("no launcher target for {other}"),
    };
    let (arch, target) = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => ("X64", "x86_64-unknown-linux-gnu"),
        ("linux", "aarch64") => ("ARM64", "aarch64-unknown-linux-gnu"),
        ("macos", "x86_64") => ("X64", "x86_64-apple-darwin"),
        ("macos", "aarch64") => ("ARM64", "aarch64-apple-darwin"),
        ("windows", "x86_64") => ("X64", "x86_64-pc-windows-msvc"),
        other => panic!("no launcher target for {other:?}"),
    };
    (os, arch, target)
}

/// A release server on 127.0.0.1: serves `files` under `/download/`, logs every request path.
pub(super) struct ReleaseServer {
    pub(super) url: String,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    log: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

impl ReleaseServer {
    pub(super) fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (f, l) = (files.clone(), log.clone());
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let (f, l) = (f.clone(), l.clone());
            async move {
                let path = uri.path().to_owned();
                l.lock().expect("log").push(path.clone());
                match f
                    .lock()
                    .expect("files")
                    .get(path.trim_start_matches("/download/"))
                {
                    Some(body) => (axum::http::StatusCode::OK, body.clone()),
                    None => (axum::http::StatusCode::NOT_FOUND, b"not found".to_vec()),
                }
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}/download", listener.local_addr().expect("addr"));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            files,
            log,
            _runtime: runtime,
        }
    }

    pub(super) fn put(&self, name: &str, body: Vec<u8>) {
        self.files
            .lock()
            .expect("files")
            .insert(name.to_owned(), body);
    }

    pub(super) fn requests(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

pub(super) fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_owned()
}

/// A copy of the action as the runner lays it out: `Cargo.toml` (the version) and `dist/`
/// with the real launcher and a checksums file made for `asset_sha`.
pub(super) fn action_checkout(dir: &Path, asset: &str, asset_sha: Option<&str>) -> PathBuf {
    let root = dir.join("action");
    std::fs::create_dir_all(root.join("dist")).expect("mkdir");
    std::fs::copy(repo_root().join("Cargo.toml"), root.join("Cargo.toml"))
        .expect("copy Cargo.toml");
    std::fs::copy(
        repo_root().join("dist/launcher.sh"),
        root.join("dist/launcher.sh"),
    )
    .expect("copy launcher");
    let mut sums = String::from("# test release\n# base-url: http://127.0.0.1:9/unused\n");
    if let Some(sha) = asset_sha {
        sums.push_str(&format!("{sha}  {asset}\n"));
    }
    std::fs::write(root.join("dist/checksums.txt"), sums).expect("write checksums");
    root
}

/// One launcher test's setup: a temp dir, this machine's runner names and release asset,
/// a coverage workspace and the environment the composite step would pass.
pub(super) struct Release {
    pub(super) dir: tempfile::TempDir,
    pub(super) arch: &'static str,
    pub(super) target: &'static str,
    /// `rust-ci-action-v<version>-<target>`.
    pub(super) asset: String,
    pub(super) ws: PathBuf,
}

impl Release {
    pub(super) fn new() -> Self {
        let (_, arch, target) = host_platform();
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = coverage_workspace(dir.path());
        Self {
            asset: format!("rust-ci-action-v{VERSION}-{target}"),
            dir,
            arch,
            target,
            ws,
        }
    }

    /// The runner's tool cache.
    pub(super) fn cache(&self) -> PathBuf {
        self.dir.path().join("toolcache")
    }

    /// Where the launcher caches this version's binary for this architecture.
    pub(super) fn cached_dir(&self) -> PathBuf {
        self.cache()
            .join("rust-ci-action")
            .join(VERSION)
            .join(self.arch.to_lowercase())
    }

    /// The step's variables: the coverage gate's inputs for `threshold` on the workspace,
    /// the tool cache, and the release server when there is one.
    pub(super) fn env(
        &self,
        threshold: &str,
        server: Option<&ReleaseServer>,
    ) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("GITHUB_WORKSPACE", self.ws.display().to_string()),
            ("INPUT_GATE", "coverage".into()),
            ("INPUT_FILES", "lcov.info".into()),
            ("INPUT_THRESHOLD", threshold.into()),
            ("RUNNER_TOOL_CACHE", self.cache().display().to_string()),
        ];
        if let Some(s) = server {
            env.push(("RUST_CI_ACTION_DOWNLOAD_URL", s.url.clone()));
        }
        env
    }
}

pub(super) fn system_path() -> String {
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()
}

/// Run `bash dist/launcher.sh` as the composite step would: a clean environment with the
/// runner's variables and the inputs as `INPUT_*`.
pub(super) fn launch(root: &Path, env: &[(&str, String)], path_var: &str) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("github_output");
    let summary = dir.path().join("summary");
    std::fs::write(&out, "").expect("output file");
    let (os, arch, _) = host_platform();
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("dist/launcher.sh"))
        .env_clear()
        .env("PATH", path_var)
        .env("HOME", dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("GITHUB_OUTPUT", &out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run launcher");
    let outputs_raw = std::fs::read_to_string(&out).unwrap_or_default();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        outputs: parse_output_file(&outputs_raw),
        outputs_raw,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    }
}
