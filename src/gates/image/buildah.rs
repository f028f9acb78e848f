//! buildah as the image gate runs it: `buildah build` and `buildah push`, no daemon (vfs
//! storage, chroot isolation), each streamed into its own log group inside a stop-commands
//! block, like docker's output (`docker::stream_child`). Credentials reach buildah as the
//! gate's private docker `config.json` given as `--authfile` (a path; never a value on a
//! command line). The pushed digest comes from `--digestfile` and is verified against the
//! registry like docker's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::docker::{Build, Built, failed_build, failed_push, stream_child};
use super::error::Error;
use super::plan::{self, BuildRequest};
use crate::oci::Digest;
use crate::runner::commands::Commands;

/// buildah with the gate's credentials and private folder.
#[derive(Debug)]
pub(super) struct Buildah {
    /// The private docker `config.json` (`--authfile`), when the gate has credentials.
    pub authfile: Option<PathBuf>,
    /// The registry is on loopback (plain HTTP, as docker speaks to it).
    pub loopback: bool,
    /// The gate's private folder (iid and digest files).
    pub workdir: PathBuf,
}

impl Buildah {
    fn command(&self, args: &[OsString]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("buildah");
        c.args(args).stdin(Stdio::null()).kill_on_drop(true);
        c
    }

    /// Build as `req` says. A build the change broke is `Ok(Build::Broken)`.
    pub(super) async fn build(
        &self,
        commands: &Commands,
        req: &BuildRequest<'_>,
    ) -> Result<Build, Error> {
        let iidfile = self.workdir.join("iid");
        let argv = plan::buildah_build_argv(req, &iidfile);
        let out = stream_child(commands, "buildah build", self.command(&argv), || {
            Error::BuildahMissing
        })
        .await?;
        if !out.success {
            return failed_build(out).map(Build::Broken);
        }
        let image_id = std::fs::read_to_string(&iidfile)
            .ok()
            .and_then(|t| Digest::parse(t.trim()).ok());
        Ok(Build::Built(Built {
            image_id,
            buildx: None,
        }))
    }

    /// `buildah push` one reference, retrying transient failures; the digest it wrote.
    pub(super) async fn push(&self, commands: &Commands, reference: &str) -> Result<Digest, Error> {
        let digestfile = self.workdir.join("pushed-digest");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let _ = std::fs::remove_file(&digestfile);
            let argv = plan::buildah_push_argv(
                reference,
                &digestfile,
                self.authfile.as_deref(),
                self.loopback,
            );
            let title = format!("buildah push {reference}");
            let out = stream_child(commands, &title, self.command(&argv), || {
                Error::BuildahMissing
            })
            .await?;
            if out.success {
                return read_digest(&digestfile).ok_or_else(|| Error::NoDigest {
                    what: "buildah push --digestfile",
                    reference: reference.to_owned(),
                });
            }
            failed_push("buildah", reference, attempt, &out).await?;
        }
    }
}

fn read_digest(path: &Path) -> Option<Digest> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| Digest::parse(t.trim()).ok())
}
