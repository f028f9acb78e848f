//! The gate's private temporary folder: the iid and metadata files docker writes and, when
//! the gate has credentials, `config/`, the `DOCKER_CONFIG` our docker children use.
//!
//! The folder is 0700 and `config.json` 0600 from the moment it exists (written by
//! [`crate::private_file`]), with no
//! `credsStore`, so credentials never reach the user's `~/.docker` or a credential helper;
//! it lives in `RUNNER_TEMP` (emptied by the runner after every job, so even a cancelled job
//! leaves nothing behind on a self-hosted machine) and is removed when the gate returns, on
//! every path (a drop guard). This file knows where the runner and the user keep things
//! only through [`RunnerEnv`]; it never reads the process environment.

use std::path::{Path, PathBuf};

use super::auth::{self, Credentials};
use super::build_options::{BuildSecret, SecretSource};
use super::error::Error;
use super::host::Registry;
use crate::private_file::write_private;
use crate::runner::env::RunnerEnv;

/// The private temporary folder. Removed on drop.
#[derive(Debug)]
pub(super) struct WorkDir {
    dir: tempfile::TempDir,
    has_config: bool,
}

impl WorkDir {
    /// Create the folder under [`temp_root`]; with credentials, write the private docker
    /// configuration into it.
    pub(super) fn create(
        env: &RunnerEnv,
        registry: &Registry,
        creds: Option<&Credentials>,
    ) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("rust-ci-image-")
            .tempdir_in(temp_root(env))?;
        set_mode(dir.path(), 0o700)?;
        let Some(creds) = creds else {
            // No credentials of ours: docker keeps the user's configuration (a preceding
            // `docker login` step, credential helpers).
            return Ok(Self {
                dir,
                has_config: false,
            });
        };
        let config = dir.path().join("config");
        create_private_dir(&config)?;
        // A private DOCKER_CONFIG also hides the user's CLI plugins (buildx installed by
        // setup-buildx-action lives in ~/.docker/cli-plugins), builder instances
        // (~/.docker/buildx) and contexts; link those, which hold no credentials.
        let user = user_docker_dir(env);
        let mut current_context = None;
        if let Some(user) = &user {
            for name in ["cli-plugins", "buildx", "contexts"] {
                let src = user.join(name);
                if src.is_dir() {
                    symlink_dir(&src, &config.join(name))?;
                }
            }
            current_context = std::fs::read_to_string(user.join("config.json"))
                .ok()
                .and_then(|t| auth::current_context(&t));
        }
        let json = auth::docker_config_json(registry, Some(creds), current_context.as_deref());
        write_private(&config.join("config.json"), json.expose().as_bytes())?;
        Ok(Self {
            dir,
            has_config: true,
        })
    }

    /// The folder.
    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The private `DOCKER_CONFIG`, when the gate has credentials.
    pub(super) fn config_dir(&self) -> Option<PathBuf> {
        self.has_config.then(|| self.dir.path().join("config"))
    }

    /// Each build secret as BuildKit will read it, `(id, file)`: a value from `secrets` is
    /// written to `secrets/<n>` here (0600 from creation, in a 0700 folder, removed with
    /// the folder); a file from `secret-files` must exist, and a relative one must stay
    /// inside the workspace also after symlinks are followed.
    pub(super) fn build_secrets(
        &self,
        secrets: &[BuildSecret],
        workspace: &Path,
    ) -> Result<Vec<(String, PathBuf)>, Error> {
        let folder = self.dir.path().join("secrets");
        let mut out = Vec::with_capacity(secrets.len());
        for (n, secret) in secrets.iter().enumerate() {
            let file = match &secret.source {
                SecretSource::Value(value) => {
                    if !folder.is_dir() {
                        create_private_dir(&folder).map_err(Error::DockerConfig)?;
                    }
                    let file = folder.join(n.to_string());
                    write_private(&file, value.expose().as_bytes()).map_err(Error::DockerConfig)?;
                    file
                }
                SecretSource::File(path) => secret_file(&secret.id, path, workspace)?,
            };
            out.push((secret.id.clone(), file));
        }
        Ok(out)
    }
}

/// A `secret-files` path, resolved and checked.
fn secret_file(id: &str, path: &Path, workspace: &Path) -> Result<PathBuf, Error> {
    let refused = |why: &'static str| Error::SecretFile {
        id: id.to_owned(),
        path: path.to_path_buf(),
        why,
    };
    if path.is_absolute() {
        // Written by the workflow's author, not found in the change: taken as is.
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(refused("is not a file"))
        };
    }
    let joined = workspace.join(path);
    let real = joined
        .canonicalize()
        .map_err(|_| refused("does not exist in the workspace"))?;
    let root = workspace
        .canonicalize()
        .map_err(|_| refused("cannot be resolved: the workspace does not exist"))?;
    if !real.starts_with(&root) {
        return Err(refused(
            "leads out of the workspace through a symlink (write an absolute path to use a file outside it)",
        ));
    }
    if !real.is_file() {
        return Err(refused("is not a file"));
    }
    Ok(real)
}

/// Where the private folder goes: `RUNNER_TEMP` on a runner, the system temporary folder
/// elsewhere.
fn temp_root(env: &RunnerEnv) -> PathBuf {
    env.runner_temp
        .clone()
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// The user's docker folder: `DOCKER_CONFIG`, else `~/.docker`.
pub(super) fn user_docker_dir(env: &RunnerEnv) -> Option<PathBuf> {
    env.docker_config
        .clone()
        .or_else(|| env.home.as_ref().map(|h| h.join(".docker")))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// A folder only its owner can enter, 0700 from the moment it exists (never a moment at
/// the umask's mode).
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)?;
    set_mode(path, 0o700)
}

#[cfg(unix)]
fn symlink_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(src, dst)
}

#[cfg(not(unix))]
fn symlink_dir(_src: &Path, _dst: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use crate::private_file::tests::mode;
    use crate::secret::Secret;

    #[test]
    fn the_folder_lives_in_runner_temp_and_goes_away() {
        let runner_temp = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".docker/cli-plugins")).unwrap();
        std::fs::write(
            home.path().join(".docker/config.json"),
            r#"{"currentContext":"remote","auths":{"x":{"auth":"dXNlcjpvbGQ="}}}"#,
        )
        .unwrap();
        let env = RunnerEnv {
            runner_temp: Some(runner_temp.path().to_path_buf()),
            home: Some(home.path().to_path_buf()),
            ..RunnerEnv::default()
        };
        let registry = Registry::parse("127.0.0.1:5000").unwrap();
        let creds = Credentials {
            username: "ci".into(),
            password: Secret::new("s3cret".into()),
        };
        let work = WorkDir::create(&env, &registry, Some(&creds)).unwrap();
        assert!(work.path().starts_with(runner_temp.path()));
        assert_eq!(mode(work.path()), 0o700);
        let config = work.config_dir().unwrap();
        assert_eq!(mode(&config.join("config.json")), 0o600);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(config.join("config.json")).unwrap()).unwrap();
        assert_eq!(json["currentContext"], "remote");
        assert_eq!(json["auths"]["127.0.0.1:5000"]["auth"], "Y2k6czNjcmV0");
        assert!(
            json["auths"].get("x").is_none(),
            "the user's credentials stay out"
        );
        assert!(config.join("cli-plugins").is_symlink());
        let path = work.path().to_path_buf();
        drop(work);
        assert!(!path.exists());

        let anonymous = WorkDir::create(&env, &registry, None).unwrap();
        assert_eq!(anonymous.config_dir(), None);
    }
}
