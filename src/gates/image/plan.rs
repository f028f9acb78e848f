//! What to run, decided without running it: the references to push, the argument vectors
//! of `docker buildx build`, `docker build` and `docker push`, and the folders the docker
//! CLI finds plugins in.
//!
//! Everything here is pure: values in, values out. `docker.rs` runs the commands.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::error::Error;
use super::host::Registry;
use super::output::BuildxMetadata;
use crate::oci::{Digest, Reference, Repository, Tag};

/// The repository the gate pushes to, normalised as docker normalises it (a one-component
/// Docker Hub path gets `library/`).
pub(super) fn target(registry: &Registry, image: &Repository) -> Reference {
    Reference::new(Some(registry.domain().clone()), image.clone())
}

/// `registry/image:tag` for each tag.
pub(super) fn full_refs(target: &Reference, tags: &[Tag]) -> Vec<String> {
    tags.iter()
        .map(|t| target.clone().with_tag(t.clone()).to_string())
        .collect()
}

/// What `docker buildx build --push` pushed: every reference, at the digest its metadata
/// file records (all tags go in one push); no metadata or no digest is an error.
pub(super) fn pushed_by_buildx(
    meta: Option<&BuildxMetadata>,
    refs: &[String],
) -> Result<Vec<(String, Digest)>, Error> {
    let digest = meta.and_then(|m| m.digest.clone());
    let digest = digest.ok_or_else(|| Error::NoDigest {
        what: "docker buildx build --metadata-file",
        reference: refs.join(", "),
    })?;
    Ok(refs.iter().map(|r| (r.clone(), digest.clone())).collect())
}

/// Everything a build needs, resolved (paths absolute or relative to the cwd of the child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BuildRequest<'a> {
    /// Build context directory.
    pub context: &'a Path,
    /// Dockerfile.
    pub dockerfile: &'a Path,
    /// Full references to tag.
    pub refs: &'a [String],
    /// Labels, merged.
    pub labels: &'a [(String, String)],
    /// Build arguments.
    pub build_args: &'a [(String, String)],
    /// Stage.
    pub target: Option<&'a str>,
    /// Platforms.
    pub platforms: &'a [String],
    /// buildx cache sources.
    pub cache_from: &'a [String],
    /// buildx cache exports.
    pub cache_to: &'a [String],
    /// Push (buildx pushes during the build).
    pub push: bool,
    /// `--network` for `RUN` steps (`None`: the builder's default).
    pub network: Option<&'a str>,
    /// Build secrets: id and the file BuildKit reads it from (never the value itself).
    pub secrets: &'a [(String, PathBuf)],
    /// `--ssh` values.
    pub ssh: &'a [String],
    /// The commit's time (Unix seconds): buildah stamps the image and its files with it, so
    /// the same commit builds the same image.
    pub timestamp: Option<i64>,
}

fn common_flags(req: &BuildRequest<'_>, argv: &mut Vec<OsString>) {
    argv.push("--file".into());
    argv.push(req.dockerfile.into());
    for r in req.refs {
        argv.push("--tag".into());
        argv.push(r.into());
    }
    for (k, v) in req.labels {
        argv.push("--label".into());
        argv.push(format!("{k}={v}").into());
    }
    for (k, v) in req.build_args {
        argv.push("--build-arg".into());
        argv.push(format!("{k}={v}").into());
    }
    if let Some(t) = req.target {
        argv.push("--target".into());
        argv.push(t.into());
    }
    if !req.platforms.is_empty() {
        argv.push("--platform".into());
        argv.push(req.platforms.join(",").into());
    }
    if let Some(n) = req.network {
        argv.push("--network".into());
        argv.push(n.into());
    }
    for (id, file) in req.secrets {
        // Only the id and the file's path: the value stays in the 0600 file.
        let mut spec = OsString::from(format!("id={id},src="));
        spec.push(file);
        argv.push("--secret".into());
        argv.push(spec);
    }
    for s in req.ssh {
        argv.push("--ssh".into());
        argv.push(s.into());
    }
}

/// `docker buildx build ...`: every tag in one build; with `push`, `--push` (the registry
/// receives the image during the build), otherwise `--load` for a single platform (a
/// multi-platform result cannot be loaded into the engine's image store and stays in the
/// build cache). `--metadata-file` is where buildx writes the pushed digest.
pub(super) fn buildx_argv(
    req: &BuildRequest<'_>,
    metadata_file: &Path,
    iidfile: &Path,
) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["buildx".into(), "build".into(), "--progress=plain".into()];
    common_flags(req, &mut argv);
    for c in req.cache_from {
        argv.push("--cache-from".into());
        argv.push(c.into());
    }
    for c in req.cache_to {
        argv.push("--cache-to".into());
        argv.push(c.into());
    }
    argv.push("--metadata-file".into());
    argv.push(metadata_file.into());
    argv.push("--iidfile".into());
    argv.push(iidfile.into());
    if req.push {
        argv.push("--push".into());
    } else if req.platforms.len() <= 1 {
        argv.push("--load".into());
    }
    argv.push(req.context.into());
    argv
}

/// `docker build ...` for the classic builder (BuildKit or legacy, as the engine and
/// `DOCKER_BUILDKIT` decide); pushing is a separate `docker push` per tag. Cache options
/// are buildx syntax and are not passed (`mod.rs` warns).
pub(super) fn docker_build_argv(req: &BuildRequest<'_>, iidfile: &Path) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["build".into()];
    common_flags(req, &mut argv);
    argv.push("--iidfile".into());
    argv.push(iidfile.into());
    argv.push(req.context.into());
    argv
}

/// `buildah build ...`: vfs storage (works in any container, no kernel overlay or fuse
/// needed), chroot isolation (no user namespaces or runc), OCI image format (buildah's
/// Docker format writes a random hostname and container id into the config, so no two
/// builds would be the same image), the same flags as `docker build` otherwise.
pub(super) fn buildah_build_argv(req: &BuildRequest<'_>, iidfile: &Path) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![
        "--storage-driver=vfs".into(),
        "build".into(),
        "--isolation=chroot".into(),
        "--format=oci".into(),
    ];
    common_flags(req, &mut argv);
    if let Some(t) = req.timestamp {
        argv.push(format!("--timestamp={t}").into());
    }
    argv.push("--iidfile".into());
    argv.push(iidfile.into());
    argv.push(req.context.into());
    argv
}

/// `buildah push <ref> docker://<ref>`, the pushed digest into `digestfile`, credentials
/// from `authfile` (a docker `config.json`); TLS verification off only for a loopback
/// registry, which docker also speaks plain HTTP to.
pub(super) fn buildah_push_argv(
    reference: &str,
    digestfile: &Path,
    authfile: Option<&Path>,
    loopback: bool,
) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![
        "--storage-driver=vfs".into(),
        "push".into(),
        "--digestfile".into(),
        digestfile.into(),
    ];
    if let Some(a) = authfile {
        argv.push("--authfile".into());
        argv.push(a.into());
    }
    if loopback {
        argv.push("--tls-verify=false".into());
    }
    argv.push(reference.into());
    argv.push(format!("docker://{reference}").into());
    argv
}

/// `docker push <ref>`.
pub(super) fn push_argv(reference: &str) -> Vec<OsString> {
    vec!["push".into(), reference.into()]
}

/// The folders the docker CLI looks for plugins in: `cliPluginsExtraDirs` from its
/// `config.json`, `<config dir>/cli-plugins`, then the system folders.
pub(super) fn plugin_dirs(user_config_dir: Option<&Path>, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    dirs.extend(user_config_dir.map(|d| d.join("cli-plugins")));
    dirs.extend(
        [
            "/usr/local/lib/docker/cli-plugins",
            "/usr/local/libexec/docker/cli-plugins",
            "/usr/lib/docker/cli-plugins",
            "/usr/libexec/docker/cli-plugins",
        ]
        .map(PathBuf::from),
    );
    dirs
}

/// `cliPluginsExtraDirs` of a docker `config.json`.
pub(super) fn plugin_extra_dirs(config_json: &str) -> Vec<PathBuf> {
    serde_json::from_str::<serde_json::Value>(config_json)
        .ok()
        .and_then(|v| v.get("cliPluginsExtraDirs").cloned())
        .and_then(|d| d.as_array().cloned())
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn s(argv: &[OsString]) -> Vec<String> {
        argv.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn request<'a>(
        refs: &'a [String],
        labels: &'a [(String, String)],
        args: &'a [(String, String)],
        platforms: &'a [String],
        cf: &'a [String],
        ct: &'a [String],
    ) -> BuildRequest<'a> {
        BuildRequest {
            context: Path::new("/w/app"),
            dockerfile: Path::new("/w/app/Dockerfile.prod"),
            refs,
            labels,
            build_args: args,
            target: Some("runtime"),
            platforms,
            cache_from: cf,
            cache_to: ct,
            push: true,
            network: None,
            secrets: &[],
            ssh: &[],
            timestamp: None,
        }
    }

    /// A request with nothing but a context, a Dockerfile and references.
    fn bare<'a>(context: &'a str, dockerfile: &'a str, refs: &'a [String]) -> BuildRequest<'a> {
        BuildRequest {
            context: Path::new(context),
            dockerfile: Path::new(dockerfile),
            refs,
            labels: &[],
            build_args: &[],
            target: None,
            platforms: &[],
            cache_from: &[],
            cache_to: &[],
            push: false,
            network: None,
            secrets: &[],
            ssh: &[],
            timestamp: None,
        }
    }

    #[test]
    fn buildx_argv_has_everything_in_one_build() {
        let reg = Registry::parse("ghcr.io").unwrap();
        let tags = [Tag::parse("v1").unwrap(), Tag::parse("latest").unwrap()];
        let img = Repository::parse("octo/app").unwrap();
        let refs = full_refs(&target(&reg, &img), &tags);
        let labels = vec![("a".to_owned(), "b c".to_owned())];
        let args = vec![("VERSION".to_owned(), "1".to_owned())];
        let platforms = vec!["linux/amd64".to_owned(), "linux/arm64".to_owned()];
        let cf = vec!["type=gha".to_owned()];
        let ct = vec!["type=gha,mode=max".to_owned()];
        let req = request(&refs, &labels, &args, &platforms, &cf, &ct);
        let argv = buildx_argv(
            &req,
            &PathBuf::from("/t/meta.json"),
            &PathBuf::from("/t/iid"),
        );
        assert_eq!(
            s(&argv).join(" "),
            "buildx build --progress=plain --file /w/app/Dockerfile.prod --tag ghcr.io/octo/app:v1 --tag ghcr.io/octo/app:latest \
             --label a=b c --build-arg VERSION=1 --target runtime --platform linux/amd64,linux/arm64 \
             --cache-from type=gha --cache-to type=gha,mode=max --metadata-file /t/meta.json --iidfile /t/iid --push /w/app"
        );
        let label_pos = argv.iter().position(|a| a == "--label").unwrap();
        assert_eq!(
            argv[label_pos + 1],
            "a=b c",
            "a value with spaces stays one argument"
        );

        let local = BuildRequest {
            push: false,
            platforms: &[],
            ..req.clone()
        };
        let argv = s(&buildx_argv(&local, Path::new("m"), Path::new("i")));
        assert!(argv.contains(&"--load".to_owned()) && !argv.contains(&"--push".to_owned()));
        let multi_local = BuildRequest { push: false, ..req };
        let argv = s(&buildx_argv(&multi_local, Path::new("m"), Path::new("i")));
        assert!(!argv.contains(&"--load".to_owned()) && !argv.contains(&"--push".to_owned()));
    }

    #[test]
    fn buildx_pushes_every_tag_at_its_recorded_digest() {
        let refs = vec!["r.io/a:v1".to_owned(), "r.io/a:latest".to_owned()];
        let digest = Digest::of(b"index");
        let meta = BuildxMetadata {
            digest: Some(digest.clone()),
            config_digest: None,
        };
        let pushed = pushed_by_buildx(Some(&meta), &refs).unwrap();
        assert_eq!(
            pushed,
            [(refs[0].clone(), digest.clone()), (refs[1].clone(), digest)]
        );
        let unpushed = BuildxMetadata {
            digest: None,
            config_digest: None,
        };
        for meta in [None, Some(&unpushed)] {
            let err = pushed_by_buildx(meta, &refs).unwrap_err().to_string();
            assert_eq!(
                err,
                "docker buildx build --metadata-file reported no digest for r.io/a:v1, r.io/a:latest"
            );
        }
    }

    #[test]
    fn docker_hub_names_are_normalised() {
        let hub = Registry::parse("docker.io").unwrap();
        let refs = full_refs(
            &target(&hub, &Repository::parse("alpine").unwrap()),
            &[Tag::parse("v1").unwrap()],
        );
        assert_eq!(refs, ["docker.io/library/alpine:v1"]);
    }

    #[test]
    fn docker_build_argv_and_push() {
        let refs = vec!["127.0.0.1:5000/team/api:sha-1234567".to_owned()];
        let gha = ["type=gha".to_owned()];
        let req = BuildRequest {
            cache_from: &gha,
            cache_to: &gha,
            push: true,
            ..bare(".", "./Dockerfile", &refs)
        };
        assert_eq!(
            s(&docker_build_argv(&req, Path::new("/t/iid"))),
            [
                "build",
                "--file",
                "./Dockerfile",
                "--tag",
                "127.0.0.1:5000/team/api:sha-1234567",
                "--iidfile",
                "/t/iid",
                "."
            ]
        );
        assert_eq!(
            s(&push_argv(&refs[0])),
            ["push", "127.0.0.1:5000/team/api:sha-1234567"]
        );
    }

    #[test]
    fn network_secrets_and_ssh_flags_carry_no_value() {
        let refs = vec!["r.io/a:v1".to_owned()];
        let secrets = vec![("npm".to_owned(), PathBuf::from("/t/secrets/1"))];
        let ssh = vec!["default".to_owned(), "gh=/k".to_owned()];
        let req = BuildRequest {
            network: Some("none"),
            secrets: &secrets,
            ssh: &ssh,
            ..bare(".", "D", &refs)
        };
        assert_eq!(
            s(&docker_build_argv(&req, Path::new("i"))).join(" "),
            "build --file D --tag r.io/a:v1 --network none --secret id=npm,src=/t/secrets/1 \
             --ssh default --ssh gh=/k --iidfile i ."
        );
        let argv = s(&buildx_argv(&req, Path::new("m"), Path::new("i")));
        assert!(
            argv.join(" ")
                .contains("--network none --secret id=npm,src=/t/secrets/1")
        );
    }

    #[test]
    fn buildah_argv() {
        let refs = vec!["127.0.0.1:5000/a:v1".to_owned()];
        let req = BuildRequest {
            push: true,
            network: Some("none"),
            timestamp: Some(1_767_323_045),
            ..bare("/c", "/c/D", &refs)
        };
        assert_eq!(
            s(&buildah_build_argv(&req, Path::new("/t/iid"))).join(" "),
            "--storage-driver=vfs build --isolation=chroot --format=oci --file /c/D \
             --tag 127.0.0.1:5000/a:v1 --network none --timestamp=1767323045 --iidfile /t/iid /c"
        );
        assert_eq!(
            s(&buildah_push_argv(
                &refs[0],
                Path::new("/t/d"),
                Some(Path::new("/t/config.json")),
                true
            ))
            .join(" "),
            "--storage-driver=vfs push --digestfile /t/d --authfile /t/config.json \
             --tls-verify=false 127.0.0.1:5000/a:v1 docker://127.0.0.1:5000/a:v1"
        );
        let remote = s(&buildah_push_argv("r.io/a:v1", Path::new("d"), None, false));
        assert!(!remote.iter().any(|a| a.starts_with("--tls-verify")));
    }

    #[test]
    fn plugin_folders() {
        let extra = plugin_extra_dirs(r#"{"cliPluginsExtraDirs":["/opt/plugins"],"auths":{}}"#);
        assert_eq!(extra, [PathBuf::from("/opt/plugins")]);
        assert!(plugin_extra_dirs("{}").is_empty());
        let dirs = plugin_dirs(Some(Path::new("/home/u/.docker")), &extra);
        assert_eq!(dirs[0], PathBuf::from("/opt/plugins"));
        assert_eq!(dirs[1], PathBuf::from("/home/u/.docker/cli-plugins"));
        assert!(dirs.contains(&PathBuf::from("/usr/libexec/docker/cli-plugins")));
    }
}
