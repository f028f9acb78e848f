//! Which program builds: docker (buildx when it has it, else `docker build`) or buildah.
//! `builder: auto` takes docker when a Docker daemon answers, else buildah when it is
//! installed (Kubernetes-mode ARC runners, rootless and locked-down hosts have no Docker
//! socket), and says which; with neither, docker, whose error then names the missing
//! daemon.
//!
//! Whether a daemon answers is one `GET /_ping` on its unix socket (`DOCKER_HOST`, else
//! `/var/run/docker.sock`), not a `docker version` (a CLI start on every run). A TCP or SSH
//! `DOCKER_HOST` is taken as a daemon: the docker CLI reports on it when the build starts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::config::Builder;
use super::docker::Docker;
use super::error::Error;
use crate::runner::env::RunnerEnv;

/// The program that builds (and, except buildx, pushes after the build).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Engine {
    /// `docker buildx build` (pushes during the build).
    Buildx,
    /// `docker build`, then `docker push` per tag.
    Docker,
    /// `buildah build`, then `buildah push` per tag.
    Buildah,
}

impl Engine {
    /// The name the summary shows.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Buildx => "buildx",
            Self::Docker => "docker build",
            Self::Buildah => "buildah",
        }
    }
}

/// Decide the engine for `builder`.
pub(super) async fn choose(
    docker: &Docker,
    builder: Builder,
    env: &RunnerEnv,
) -> Result<Engine, Error> {
    if builder == Builder::Buildah {
        return Ok(Engine::Buildah);
    }
    let answers = builder != Builder::Auto || daemon_answers(env).await;
    if !answers {
        if let Some(buildah) = find_program(env, "buildah") {
            tracing::info!(
                "builder: buildah ({}), as no Docker daemon answers at {}",
                buildah.display(),
                daemon_socket(env)
                    .map_or_else(|| "DOCKER_HOST".to_owned(), |p| p.display().to_string())
            );
            return Ok(Engine::Buildah);
        }
        tracing::info!("no Docker daemon answers and buildah is not installed: trying docker");
    }
    let engine = if docker.use_buildx(builder, env).await? {
        Engine::Buildx
    } else {
        Engine::Docker
    };
    if builder == Builder::Auto && answers {
        tracing::info!("builder: {} (a Docker daemon answers)", engine.name());
    }
    Ok(engine)
}

/// The daemon's unix socket: `DOCKER_HOST` when it is `unix://`, the default socket when
/// `DOCKER_HOST` is unset, `None` for any other transport.
fn daemon_socket(env: &RunnerEnv) -> Option<PathBuf> {
    match env.docker_host.as_deref().filter(|h| !h.is_empty()) {
        None => Some(PathBuf::from("/var/run/docker.sock")),
        Some(h) => h.strip_prefix("unix://").map(PathBuf::from),
    }
}

/// Whether a Docker daemon answers `GET /_ping` (within 2 s).
async fn daemon_answers(env: &RunnerEnv) -> bool {
    let Some(socket) = daemon_socket(env) else {
        return true;
    };
    let ping = async {
        let mut s = tokio::net::UnixStream::connect(&socket).await.ok()?;
        s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            .await
            .ok()?;
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).await.ok()?;
        let head = &buf[..n];
        Some(head.starts_with(b"HTTP/1.") && head.get(9..12) == Some(b"200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), ping).await,
        Ok(Some(true))
    )
}

/// `name` in one of the `PATH` folders, as an executable file.
pub(super) fn find_program(env: &RunnerEnv, name: &str) -> Option<PathBuf> {
    let path = env.path.as_deref()?;
    std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}
