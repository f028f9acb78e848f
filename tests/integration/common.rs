//! The one harness for end-to-end tests: runs the built binary with a scrubbed
//! environment (no `CI`, `GITHUB_*`, `RUNNER_*`, `ACTIONS_*`, `INPUT_*`, `RUST_LOG`), temp
//! `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY`, and hands back exit code and every channel.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rust_ci_action::runner::outputs::parse_output_file;

/// The finished run.
#[derive(Debug)]
pub(crate) struct Run {
    /// Exit code.
    pub code: i32,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
    /// Parsed `GITHUB_OUTPUT`.
    pub outputs: Vec<(String, String)>,
    /// Raw `GITHUB_OUTPUT` text.
    pub outputs_raw: String,
    /// `GITHUB_STEP_SUMMARY` text.
    pub summary: String,
}

impl Run {
    /// One output's value.
    pub(crate) fn output(&self, name: &str) -> Option<&str> {
        self.outputs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every channel joined, for secret scans.
    pub(crate) fn all_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.stdout, self.stderr, self.outputs_raw, self.summary
        )
    }

    /// Lines of stdout starting with `::error`.
    pub(crate) fn errors(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::error"))
            .collect()
    }

    /// Panic with every channel shown unless the exit code matches.
    #[track_caller]
    pub(crate) fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- outputs\n{}\n--- summary\n{}",
            self.code, self.stdout, self.stderr, self.outputs_raw, self.summary
        )
    }
}

/// A configured invocation of the binary.
pub(crate) struct Harness {
    /// Temp dir holding the output and summary files (and anything the test puts there).
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    args: Vec<String>,
    cwd: PathBuf,
    uid: Option<u32>,
}

const SCRUB: &[&str] = &["GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_"];
const SCRUB_EXACT: &[&str] = &[
    "CI",
    "RUST_LOG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "NO_PROXY",
    "no_proxy",
];

impl Harness {
    /// A run as an action step: `GITHUB_ACTIONS=true`, temp output and summary files.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("github_output");
        let sum = dir.path().join("step_summary");
        std::fs::write(&out, "").expect("output file");
        std::fs::write(&sum, "").expect("summary file");
        let cwd = dir.path().to_path_buf();
        Self {
            env: vec![
                ("GITHUB_ACTIONS".into(), "true".into()),
                ("GITHUB_OUTPUT".into(), out.display().to_string()),
                ("GITHUB_STEP_SUMMARY".into(), sum.display().to_string()),
            ],
            dir,
            args: Vec::new(),
            cwd,
            uid: None,
        }
    }

    /// A local CLI run (no runner variables at all).
    pub(crate) fn local() -> Self {
        let mut h = Self::new();
        h.env.clear();
        h
    }

    /// Set an environment variable.
    pub(crate) fn env(mut self, k: &str, v: impl AsRef<str>) -> Self {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_owned(), v.as_ref().to_owned()));
        self
    }

    /// Set an input the way the runner does (`INPUT_` + upper-cased name).
    pub(crate) fn input(self, name: &str, v: impl AsRef<str>) -> Self {
        let key = format!("INPUT_{}", name.replace(' ', "_").to_uppercase());
        self.env(&key, v)
    }

    /// Add command-line arguments.
    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// Working directory (default: the temp dir).
    pub(crate) fn cwd(mut self, p: impl AsRef<Path>) -> Self {
        self.cwd = p.as_ref().to_path_buf();
        self
    }

    /// Run the binary as another user (Unix; the caller must be root), with the temp
    /// dir and the output files opened to that user.
    pub(crate) fn run_as(mut self, uid: u32) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let open = |p: &Path, mode| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
                .expect("chmod for another user");
        };
        open(self.dir.path(), 0o755);
        open(&self.dir.path().join("github_output"), 0o666);
        open(&self.dir.path().join("step_summary"), 0o666);
        self.uid = Some(uid);
        self
    }

    /// Path inside the temp dir.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Run the binary to completion.
    pub(crate) fn run(&self) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rust-ci-action"));
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .stdin(Stdio::null());
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if SCRUB.iter().any(|p| k.starts_with(p)) || SCRUB_EXACT.contains(&k.as_str()) {
                cmd.env_remove(&k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(uid) = self.uid {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(uid);
        }
        let out = cmd.output().expect("run rust-ci-action");
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        let outputs_raw = read("github_output");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: parse_output_file(&outputs_raw),
            outputs_raw,
            summary: read("step_summary"),
        }
    }
}

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// GitHub reference data: event payloads and the OpenAPI description, vendored from the
/// team's `../shared` into `tests/fixtures/github` so a clean clone is self-contained.
pub(crate) fn shared_dir() -> PathBuf {
    repo_root().join("tests/fixtures/github")
}

/// An environment variable the service suite must have; a missing one is a loud failure.
#[cfg(feature = "services")]
pub(crate) fn service_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the service suite through scripts/test.sh, which starts the services")
    })
}
