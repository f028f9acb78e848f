//! The docker CLI as the image gate runs it: the buildx probe, the build, `docker push`
//! with retries, each streamed into its own log group, with our private `DOCKER_CONFIG`.
//!
//! Docker's output is the pull request's text (a Dockerfile can `RUN echo ::add-mask::x`):
//! every line of it reaches the log through [`log_untrusted_output`], inside a
//! stop-commands block, and nothing else here prints it; in error messages and the summary
//! it is escaped where it is rendered. Credentials never go on a command line: they are in
//! the private configuration (`workdir.rs`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::config::Builder;
use super::error::Error;
use super::output::{self, BuildxMetadata};
use super::plan::{self, BuildRequest};
use super::registry::Backoff;
use super::workdir::user_docker_dir;
use crate::oci::Digest;
use crate::runner::commands::{Commands, Stream};
use crate::runner::env::RunnerEnv;

/// How often a transiently failing `docker push` is tried.
const PUSH_ATTEMPTS: u32 = 4;
/// Output lines kept for an error message.
const TAIL_LINES: usize = 15;

/// The one place where docker's output (untrusted: the pull request controls the Dockerfile
/// and the build context) is written to the log: inside a stop-commands block, so a `RUN
/// echo ::add-mask::...` or `##[set-output ...]` in a build step is printed, never obeyed.
fn log_untrusted_output(block: &Stream, line: &str) {
    block.write(line);
}

/// A log group for one step. `app` opened a group for the whole gate; the runner does not
/// nest groups (a new `::group::` implicitly ends the open one), so a step group first ends
/// the gate's group explicitly, and `app`'s final `::endgroup::` is then a no-op.
pub(super) struct Section<'a>(&'a Commands);

impl<'a> Section<'a> {
    /// End the open group and start one titled `title`; it ends when dropped.
    pub(super) fn open(commands: &'a Commands, title: &str) -> Self {
        commands.endgroup();
        commands.group(title);
        Self(commands)
    }
}

impl Drop for Section<'_> {
    fn drop(&mut self) {
        self.0.endgroup();
    }
}

/// What a streamed command did.
pub(super) struct Streamed {
    /// Exit status zero.
    pub success: bool,
    /// The exit status as docker's `ExitStatus` prints it.
    pub status: String,
    /// Every line of stdout and stderr, in arrival order.
    pub lines: Vec<String>,
    /// The last non-empty line on stderr: where docker says why it failed.
    pub last_error: Option<String>,
}

impl Streamed {
    /// The last [`TAIL_LINES`] lines that are not BuildKit's bookkeeping.
    pub(super) fn tail(&self) -> String {
        let mut tail: Vec<&str> = self
            .lines
            .iter()
            .rev()
            .filter(|l| !output::is_bookkeeping(l))
            .take(TAIL_LINES)
            .map(String::as_str)
            .collect();
        tail.reverse();
        tail.join("\n")
    }

    /// Every line, joined.
    pub(super) fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// How a build ended, when the tool itself did its job.
pub(super) enum Build {
    /// The image was built (and with buildx and `push`, pushed).
    Built(Built),
    /// The change broke the build: the gate fails (a result, not an error).
    Broken(Broken),
}

/// A build the change broke.
pub(super) struct Broken {
    /// The exit status.
    pub status: String,
    /// Docker's last error line (the pull request's text).
    pub reason: String,
    /// The build's last lines (the pull request's text).
    pub tail: String,
}

/// What a successful build left behind.
pub(super) struct Built {
    /// The local image id (config digest): buildx's metadata, else the iid file.
    pub image_id: Option<Digest>,
    /// buildx's metadata file, when buildx built.
    pub buildx: Option<BuildxMetadata>,
}

/// The docker CLI with our private configuration.
#[derive(Debug, Default)]
pub(super) struct Docker {
    config_dir: Option<PathBuf>,
    buildkit: bool,
}

impl Docker {
    /// Use this `DOCKER_CONFIG` for every later command (`None`: the user's own).
    pub(super) fn use_config(&mut self, dir: Option<PathBuf>) {
        self.config_dir = dir;
    }

    /// Ask for BuildKit (`DOCKER_BUILDKIT=1`): secrets and ssh mounts need it, and a CLI
    /// that would otherwise use the legacy builder then says so instead of ignoring them.
    pub(super) fn require_buildkit(&mut self) {
        self.buildkit = true;
    }

    fn command(&self, args: &[OsString]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("docker");
        c.args(args).stdin(Stdio::null()).kill_on_drop(true);
        if let Some(d) = &self.config_dir {
            c.env("DOCKER_CONFIG", d);
        }
        // Line-oriented BuildKit output (no TTY animation) for the log.
        c.env("BUILDKIT_PROGRESS", "plain");
        if self.buildkit {
            c.env("DOCKER_BUILDKIT", "1");
        }
        c
    }

    async fn quiet(&self, args: &[&str]) -> Result<std::process::Output, Error> {
        let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        let run = self.command(&argv).output();
        match tokio::time::timeout(Duration::from_secs(60), run).await {
            Ok(Ok(o)) => Ok(o),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::DockerMissing),
            Ok(Err(source)) => Err(Error::Spawn {
                what: args.join(" "),
                source,
            }),
            Err(_) => Err(Error::DaemonUnreachable {
                detail: format!("`docker {}` did not answer within 60 s", args.join(" ")),
            }),
        }
    }

    /// Whether to build with buildx. No `docker version` probe up front: it costs a CLI
    /// start on every run, and a missing CLI or engine is named just as clearly when the
    /// build starts. `docker buildx version` runs only when a buildx plugin is installed.
    pub(super) async fn use_buildx(
        &self,
        builder: Builder,
        env: &RunnerEnv,
    ) -> Result<bool, Error> {
        let probe = match builder {
            Builder::Docker | Builder::Buildah => return Ok(false),
            Builder::Auto if !buildx_installed(env) => return Ok(false),
            Builder::Auto | Builder::Buildx => self.buildx().await,
        };
        match (builder, probe) {
            (Builder::Buildx, Err(detail)) => Err(Error::BuildxMissing { detail }),
            (_, probe) => Ok(probe.is_ok()),
        }
    }

    /// `Ok` when `docker buildx version` works, else what it said.
    async fn buildx(&self) -> Result<(), String> {
        match self.quiet(&["buildx", "version"]).await {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Build (and with buildx and `push`, push) as `req` says; iid and metadata files go
    /// into `workdir`. A build the change broke is `Ok(Build::Broken)`; one that failed for
    /// any other reason is an error.
    pub(super) async fn build(
        &self,
        commands: &Commands,
        req: &BuildRequest<'_>,
        use_buildx: bool,
        workdir: &Path,
    ) -> Result<Build, Error> {
        let iidfile = workdir.join("iid");
        let metadata_file = workdir.join("metadata.json");
        let (title, argv) = if use_buildx {
            (
                "docker buildx build",
                plan::buildx_argv(req, &metadata_file, &iidfile),
            )
        } else {
            ("docker build", plan::docker_build_argv(req, &iidfile))
        };
        let out = self.stream(commands, title, &argv).await?;
        if !out.success {
            return failed_build(out).map(Build::Broken);
        }
        let iid = std::fs::read_to_string(&iidfile)
            .ok()
            .and_then(|t| Digest::parse(t.trim()).ok());
        let buildx = if use_buildx {
            std::fs::read_to_string(&metadata_file)
                .ok()
                .and_then(|t| output::parse_buildx_metadata(&t))
        } else {
            None
        };
        let image_id = buildx
            .as_ref()
            .and_then(|m| m.config_digest.clone())
            .or(iid);
        Ok(Build::Built(Built { image_id, buildx }))
    }

    /// Run with output forwarded line by line to the log inside a group, and kept.
    async fn stream(
        &self,
        commands: &Commands,
        title: &str,
        args: &[OsString],
    ) -> Result<Streamed, Error> {
        stream_child(commands, title, self.command(args), || Error::DockerMissing).await
    }

    /// `docker push` one reference, retrying transient failures; the digest it reports.
    pub(super) async fn push(
        &self,
        commands: &Commands,
        reference: &str,
        tag: &str,
    ) -> Result<Digest, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let title = format!("docker push {reference}");
            let out = self
                .stream(commands, &title, &plan::push_argv(reference))
                .await?;
            if out.success {
                return output::parse_push_digest(&out.text(), tag)
                    .map(|(d, _)| d)
                    .ok_or_else(|| Error::NoDigest {
                        what: "docker push",
                        reference: reference.to_owned(),
                    });
            }
            failed_push("docker", reference, attempt, &out).await?;
        }
    }
}

/// After a failed push attempt: wait and return when another attempt may help (the
/// output says the failure was transient), else the error.
pub(super) async fn failed_push(
    tool: &str,
    reference: &str,
    attempt: u32,
    out: &Streamed,
) -> Result<(), Error> {
    if attempt < PUSH_ATTEMPTS && output::is_transient(&out.text()) {
        let delay = Backoff::default().delay(attempt) * 2;
        tracing::warn!("{tool} push {reference} failed transiently; retrying in {delay:?}");
        tokio::time::sleep(delay).await;
        return Ok(());
    }
    Err(Error::Push {
        reference: reference.to_owned(),
        tail: out.tail(),
        status: out.status.clone(),
    })
}

/// Run `cmd` with its output forwarded line by line to the log inside a group titled
/// `title` (a stop-commands block: the output is the pull request's text), and kept.
/// `missing` is the error when the program is not installed.
pub(super) async fn stream_child(
    commands: &Commands,
    title: &str,
    mut cmd: tokio::process::Command,
    missing: fn() -> Error,
) -> Result<Streamed, Error> {
    let _section = Section::open(commands, title);
    let block = commands.stream();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => missing(),
            _ => Error::Spawn {
                what: title.to_owned(),
                source: e,
            },
        })?;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child
        .stdout
        .take()
        .map(|s| forward(s, false, lines.clone(), &block));
    let err = child
        .stderr
        .take()
        .map(|s| forward(s, true, lines.clone(), &block));
    let (_, _, status) = tokio::join!(
        async {
            if let Some(f) = out {
                f.await;
            }
        },
        async {
            if let Some(f) = err {
                f.await;
            }
        },
        child.wait()
    );
    let status = status.map_err(|source| Error::Spawn {
        what: title.to_owned(),
        source,
    })?;
    let lines: Vec<(bool, String)> = match Arc::try_unwrap(lines) {
        Ok(m) => m.into_inner().unwrap_or_else(|p| p.into_inner()),
        Err(shared) => shared.lock().map(|g| g.clone()).unwrap_or_default(),
    };
    let last_error = lines
        .iter()
        .rev()
        .find(|(stderr, l)| *stderr && !l.trim().is_empty())
        .map(|(_, l)| l.trim().to_owned());
    Ok(Streamed {
        success: status.success(),
        status: status.to_string(),
        lines: lines.into_iter().map(|(_, l)| l).collect(),
        last_error,
    })
}

/// Why a build failed: the change ([`output::broken_by_the_change`]), an engine that went
/// away (named as such), or something else the tool could not get past.
pub(super) fn failed_build(out: Streamed) -> Result<Broken, Error> {
    if let Some(reason) = &out.last_error
        && output::broken_by_the_change(reason)
    {
        return Ok(Broken {
            reason: reason.clone(),
            tail: out.tail(),
            status: out.status,
        });
    }
    let text = out.text();
    // The classic CLI says "Cannot connect to the Docker daemon at ...", BuildKit's client
    // "failed to dial gRPC: cannot connect to the Docker daemon", a TCP host "error during
    // connect".
    if let Some(line) = text.lines().find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("connect to the docker daemon") || l.contains("error during connect")
    }) {
        return Err(Error::DaemonUnreachable {
            detail: line.trim().to_owned(),
        });
    }
    Err(Error::Build {
        tail: out.tail(),
        status: out.status,
    })
}

/// Forward a child's output to the log line by line and keep it, marked with whether it
/// came from stderr.
async fn forward<R: AsyncRead + Unpin>(
    reader: R,
    stderr: bool,
    keep: Arc<Mutex<Vec<(bool, String)>>>,
    block: &Stream,
) {
    let mut r = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                log_untrusted_output(block, &line);
                if let Ok(mut k) = keep.lock() {
                    k.push((stderr, line));
                }
            }
        }
    }
}

/// Whether a `docker-buildx` CLI plugin is in one of the folders the docker CLI searches
/// (<https://github.com/docker/cli/blob/master/cli-plugins/manager/manager_unix.go>), so the
/// `docker buildx version` probe is only paid for where it can succeed.
fn buildx_installed(env: &RunnerEnv) -> bool {
    let user = user_docker_dir(env);
    let extra = user
        .as_ref()
        .and_then(|u| std::fs::read_to_string(u.join("config.json")).ok())
        .map(|t| plan::plugin_extra_dirs(&t))
        .unwrap_or_default();
    plan::plugin_dirs(user.as_deref(), &extra)
        .iter()
        .any(|d| d.join("docker-buildx").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(lines: Vec<String>) -> Streamed {
        Streamed {
            success: false,
            status: "exit status: 1".into(),
            last_error: lines.last().cloned(),
            lines,
        }
    }

    #[test]
    fn an_absent_engine_is_named_whatever_the_client_says() {
        for line in [
            "Cannot connect to the Docker daemon at unix:///nonexistent. Is the docker daemon running?",
            "failed to dial gRPC: cannot connect to the Docker daemon. Is 'docker daemon' running on this host?",
            "error during connect: Get \"http://10.0.0.1:2375/_ping\": dial tcp: i/o timeout",
        ] {
            let out = failed(vec![
                "#1 [internal] load build definition".into(),
                line.into(),
            ]);
            assert!(
                matches!(failed_build(out), Err(Error::DaemonUnreachable { .. })),
                "{line}"
            );
        }
        let out = failed((0..40).map(|i| format!("line {i}")).collect());
        let msg = failed_build(out)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.starts_with("docker build failed (exit status: 1); last output:\nline 25\n"),
            "{msg}"
        );
        assert!(
            msg.ends_with("line 39") && !msg.contains("line 24"),
            "{msg}"
        );
    }

    /// A `RUN` step may print anything, also what an absent engine prints: docker's last
    /// error line decides.
    #[test]
    fn the_last_error_line_decides() {
        let out = failed(vec![
            "#5 0.2 Cannot connect to the Docker daemon at unix:///var/run/docker.sock.".into(),
            "executor failed running [/bin/sh -c docker ps]: exit code: 1".into(),
        ]);
        let Ok(broken) = failed_build(out) else {
            panic!("the change broke it")
        };
        assert_eq!(
            broken.reason,
            "executor failed running [/bin/sh -c docker ps]: exit code: 1"
        );
        assert!(broken.tail.starts_with("#5 0.2 Cannot connect"));
    }
}
