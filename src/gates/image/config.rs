//! Typed configuration of the image gate, from [`RawInputs`] (stage two of input handling).
//!
//! Newtypes here cannot hold a bad value: the image is an [`oci::Repository`] (split from
//! its registry by docker's rule, [`oci::Parts`]), the registry a [`Registry`], each tag an
//! [`oci::Tag`]. Nothing here touches files, processes or the network; whether the context
//! directory exists is checked when the gate runs.

use std::path::PathBuf;

use super::build_options::{self, BuildOptions};
use super::host::Registry;
use super::metadata::TagTemplate;
use crate::oci::{self, Repository};
use crate::runner::inputs::{InputError, RawInputs};
use crate::secret::Secret;

/// Which builder runs the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Builder {
    /// buildx when `docker buildx version` works, otherwise `docker build`.
    #[default]
    Auto,
    /// `docker buildx build` (an error when buildx is missing).
    Buildx,
    /// The classic `docker build` followed by `docker push` per tag.
    Docker,
    /// `buildah build` and `buildah push`: no daemon (vfs storage, chroot isolation).
    Buildah,
}

impl std::str::FromStr for Builder {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "auto" => Ok(Self::Auto),
            "buildx" => Ok(Self::Buildx),
            "docker" => Ok(Self::Docker),
            "buildah" => Ok(Self::Buildah),
            _ => Err(()),
        }
    }
}

/// Whether to authenticate to Amazon ECR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum EcrMode {
    /// When the registry is an ECR host, or no registry is given and AWS credentials exist.
    #[default]
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

impl std::str::FromStr for EcrMode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "auto" => Ok(Self::Auto),
            "true" | "True" | "TRUE" => Ok(Self::On),
            "false" | "False" | "FALSE" => Ok(Self::Off),
            _ => Err(()),
        }
    }
}

/// Where registry credentials come from, in the order the gate tries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AuthSource {
    /// `registry-username` + `registry-password`.
    Password {
        /// User name.
        username: String,
        /// Password or token.
        password: Secret<String>,
    },
    /// `registry-secret`: an AWS Secrets Manager secret id whose JSON has `username`/`password`.
    SecretsManager {
        /// Secret id or ARN.
        secret_id: String,
    },
    /// Amazon ECR per `ecr` (`auto` is decided in `mod.rs`, which can see the credential chain).
    Ecr(EcrMode),
}

/// A `KEY=VALUE` pair from `build-args` or `labels`.
pub(super) type KeyValue = (String, String);

/// The image gate's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ImageConfig {
    /// Repository path.
    pub image: Repository,
    /// Registry, when given (or taken from a host in `image`).
    pub registry: Option<Registry>,
    /// Tags; empty means the defaults (`sha-<short sha>`, plus the git tag on tag pushes).
    pub tags: Vec<TagTemplate>,
    /// Build context, relative to the workspace unless absolute.
    pub context: PathBuf,
    /// Dockerfile, relative to the workspace unless absolute; `None` means `<context>/Dockerfile`.
    pub dockerfile: Option<PathBuf>,
    /// `--build-arg` pairs in input order.
    pub build_args: Vec<KeyValue>,
    /// User labels in input order (they win over the automatic OCI labels).
    pub labels: Vec<KeyValue>,
    /// Build stage.
    pub target: Option<String>,
    /// Target platforms.
    pub platforms: Vec<String>,
    /// Push after building.
    pub push: bool,
    /// Builder choice.
    pub builder: Builder,
    /// buildx `--cache-from` entries.
    pub cache_from: Vec<String>,
    /// buildx `--cache-to` entries.
    pub cache_to: Vec<String>,
    /// Credential source.
    pub auth: AuthSource,
    /// Region for ECR, Secrets Manager and STS.
    pub aws_region: Option<String>,
    /// Role to assume with the workflow's OIDC token.
    pub aws_role_arn: Option<String>,
    /// Create a missing ECR repository.
    pub create_repository: bool,
    /// `network`, `secrets`, `secret-files`, `ssh`.
    pub options: BuildOptions,
}

fn key_values(raw: &RawInputs, name: &str) -> Result<Vec<KeyValue>, InputError> {
    raw.multiline(name)
        .into_iter()
        .map(|line| match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !k.trim().contains(char::is_whitespace) => {
                Ok((k.trim().to_owned(), v.trim().to_owned()))
            }
            _ => Err(InputError::invalid(
                name,
                &line,
                "expected one `KEY=VALUE` per line",
            )),
        })
        .collect()
}

impl TryFrom<&RawInputs> for ImageConfig {
    type Error = InputError;

    fn try_from(raw: &RawInputs) -> Result<Self, InputError> {
        let image_in = raw.require("image", "the repository to push, e.g. `team/api`")?;
        let invalid = |m: &str| InputError::invalid("image", image_in, m);
        // A repository name never holds `@`: say why before the grammar does.
        if image_in.contains('@') {
            return Err(invalid(
                "a repository name has no digest: the gate computes it",
            ));
        }
        let parts = oci::Parts::parse(image_in).map_err(|e| invalid(&e.to_string()))?;
        if parts.tag.is_some() {
            return Err(invalid("a repository name has no tag: put tags in `tags`"));
        }
        let host_in_image = parts.registry.as_ref().map(oci::Domain::as_str);
        let image = parts.repository;
        let registry = match (raw.get("registry"), host_in_image) {
            (Some(_), Some(_)) => {
                return Err(InputError::invalid(
                    "image",
                    image_in,
                    "the registry is given both here and in `registry`: keep one",
                ));
            }
            (Some(r), None) => {
                Some(Registry::parse(r).map_err(|m| InputError::invalid("registry", r, m))?)
            }
            (None, Some(h)) => {
                Some(Registry::parse(h).map_err(|m| InputError::invalid("image", image_in, m))?)
            }
            (None, None) => None,
        };
        let mut tags: Vec<TagTemplate> = Vec::new();
        for t in raw.multiline("tags") {
            let tag = TagTemplate::parse(&t).map_err(|e| InputError::invalid("tags", &t, e))?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let platforms: Vec<String> = raw
            .multiline("platforms")
            .iter()
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let builder: Builder = raw
            .parse("builder", "`auto`, `buildx`, `docker` or `buildah`")?
            .unwrap_or_default();
        if matches!(builder, Builder::Docker | Builder::Buildah) && platforms.len() > 1 {
            return Err(InputError::invalid(
                "platforms",
                &platforms.join(","),
                "more than one platform needs buildx (`builder: auto` or `buildx`)",
            ));
        }
        let username = raw.get("registry-username");
        let password = raw.get("registry-password");
        let ecr: EcrMode = raw
            .parse("ecr", "`auto`, `true` or `false`")?
            .unwrap_or_default();
        let auth = match (username, password) {
            (Some(u), Some(p)) => AuthSource::Password {
                username: u.to_owned(),
                password: Secret::new(p.to_owned()),
            },
            (Some(_), None) => {
                return Err(InputError::Missing {
                    name: "registry-password".into(),
                    hint: ": `registry-username` is given".into(),
                });
            }
            (None, Some(_)) => {
                return Err(InputError::Missing {
                    name: "registry-username".into(),
                    hint: ": `registry-password` is given".into(),
                });
            }
            (None, None) => match raw.get("registry-secret") {
                Some(id) => AuthSource::SecretsManager {
                    secret_id: id.to_owned(),
                },
                None => AuthSource::Ecr(ecr),
            },
        };
        if registry.is_none()
            && auth != AuthSource::Ecr(EcrMode::Auto)
            && auth != AuthSource::Ecr(EcrMode::On)
        {
            return Err(InputError::Missing {
                name: "registry".into(),
                hint: " unless Amazon ECR is used (then it comes from the ECR token)".into(),
            });
        }
        let aws_role_arn = raw.get("aws-role-arn").map(str::to_owned);
        if let Some(arn) = &aws_role_arn
            && !(arn.starts_with("arn:") && arn.contains(":role/"))
        {
            return Err(InputError::invalid(
                "aws-role-arn",
                arn,
                "expected a role ARN, `arn:aws:iam::<account>:role/<name>`",
            ));
        }
        let aws_region = raw.get("aws-region").map(str::to_owned);
        if let Some(r) = &aws_region
            && !(r
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && r.contains('-'))
        {
            return Err(InputError::invalid(
                "aws-region",
                r,
                "expected a region name such as `eu-west-1`",
            ));
        }
        Ok(Self {
            image,
            registry,
            tags,
            context: PathBuf::from(raw.get("context").unwrap_or(".")),
            dockerfile: raw.get("dockerfile").map(PathBuf::from),
            build_args: key_values(raw, "build-args")?,
            labels: key_values(raw, "labels")?,
            target: raw.get("target").map(str::to_owned),
            platforms,
            push: raw.boolean("push")?.unwrap_or(true),
            builder,
            cache_from: raw.multiline("cache-from"),
            cache_to: raw.multiline("cache-to"),
            auth,
            aws_region,
            aws_role_arn,
            create_repository: raw.boolean("create-repository")?.unwrap_or(false),
            options: build_options::parse(raw)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::metadata::{self, RunInfo};
    use super::*;
    use crate::oci::Tag;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        RawInputs::from_named(pairs.iter().copied())
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![("image", "team/api"), ("registry", "127.0.0.1:5000")]
    }

    #[test]
    fn defaults() {
        let c = ImageConfig::try_from(&raw(&base())).unwrap();
        assert_eq!(c.image.as_str(), "team/api");
        assert_eq!(c.registry.as_ref().unwrap().as_str(), "127.0.0.1:5000");
        assert!(c.tags.is_empty());
        assert_eq!(c.context, PathBuf::from("."));
        assert!(c.push);
        assert_eq!(c.builder, Builder::Auto);
        assert_eq!(c.auth, AuthSource::Ecr(EcrMode::Auto));
        assert!(!c.create_repository);
    }

    #[test]
    fn full_configuration() {
        let mut p = base();
        p.extend([
            ("tags", "v1\nlatest\nv1\n"),
            ("build-args", "A=1\nB = two words\nC="),
            ("labels", "org.opencontainers.image.title=api"),
            ("platforms", "linux/amd64, linux/arm64\nlinux/arm/v7"),
            ("push", "false"),
            ("builder", "buildx"),
            ("cache-from", "type=gha"),
            ("cache-to", "type=gha,mode=max"),
            ("registry-username", "ci"),
            ("registry-password", "hunter2"),
            ("registry-secret", "ignored/because/password/wins"),
            ("create-repository", "true"),
            ("aws-region", "eu-west-1"),
        ]);
        let c = ImageConfig::try_from(&raw(&p)).unwrap();
        assert_eq!(
            metadata::expand_tags(&c.tags, &RunInfo::default())
                .iter()
                .map(Tag::as_str)
                .collect::<Vec<_>>(),
            ["v1", "latest"]
        );
        assert_eq!(
            c.build_args,
            [
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), String::new())
            ]
        );
        assert_eq!(c.platforms, ["linux/amd64", "linux/arm64", "linux/arm/v7"]);
        assert!(!c.push);
        assert_eq!(c.builder, Builder::Buildx);
        assert!(
            matches!(&c.auth, AuthSource::Password { username, password } if username == "ci" && password.expose() == "hunter2")
        );
        assert!(
            !format!("{:?}", c.auth).contains("hunter2"),
            "Debug never shows the password"
        );
    }

    #[test]
    fn auth_order() {
        let mut p = base();
        p.push(("registry-secret", "ci/registry"));
        let c = ImageConfig::try_from(&raw(&p)).unwrap();
        assert_eq!(
            c.auth,
            AuthSource::SecretsManager {
                secret_id: "ci/registry".into()
            }
        );
        let c = ImageConfig::try_from(&raw(&[("image", "team/api"), ("ecr", "true")])).unwrap();
        assert_eq!(c.auth, AuthSource::Ecr(EcrMode::On));
        assert_eq!(
            c.registry, None,
            "ECR without registry: the token's endpoint decides"
        );
    }

    #[test]
    fn registry_inside_image() {
        let c = ImageConfig::try_from(&raw(&[("image", "localhost:5000/team/api")])).unwrap();
        assert_eq!(c.registry.unwrap().as_str(), "localhost:5000");
        assert_eq!(c.image.as_str(), "team/api");
        let c = ImageConfig::try_from(&raw(&[("image", "ghcr.io/octo/app")])).unwrap();
        assert_eq!(c.registry.unwrap().as_str(), "ghcr.io");
        // Docker's rule: an upper-case first component can only be a host; but printed
        // lower-case in `image-ref`, `registry/api` would name a Docker Hub repository, so
        // such a host is refused (found by the image-ref → rollout image property test).
        let e = ImageConfig::try_from(&raw(&[("image", "Registry/api")])).unwrap_err();
        assert!(
            e.to_string().contains("docker can tell from a repository"),
            "{e}"
        );
        let c =
            ImageConfig::try_from(&raw(&[("image", "team/api"), ("registry", "r.io")])).unwrap();
        assert_eq!(
            (c.registry.unwrap().as_str(), c.image.as_str()),
            ("r.io", "team/api")
        );
    }

    #[test]
    fn invalid_inputs_are_named_and_explained() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[],
                "input `image` is required: the repository to push, e.g. `team/api`",
            ),
            (
                &[("image", "Team/API"), ("registry", "r.io")],
                "input `image`: path component 1 is not valid (it has upper-case letters): expected lower-case path components of letters and digits separated by `.`, `_`, `__` or `-`, joined by `/`, found \"Team/API\"",
            ),
            (
                &[("image", "team/api:1.0"), ("registry", "r.io")],
                "input `image`: a repository name has no tag: put tags in `tags`, found \"team/api:1.0\"",
            ),
            (
                &[("image", "team//api"), ("registry", "r.io")],
                "input `image`: path component 2 is not valid: expected lower-case path components of letters and digits separated by `.`, `_`, `__` or `-`, joined by `/`, found \"team//api\"",
            ),
            (
                &[("image", "team/api@sha256:00"), ("registry", "r.io")],
                "input `image`: a repository name has no digest: the gate computes it, found \"team/api@sha256:00\"",
            ),
            (
                &[("image", "ghcr.io/a/b"), ("registry", "r.io")],
                "input `image`: the registry is given both here and in `registry`: keep one, found \"ghcr.io/a/b\"",
            ),
            (
                &[("image", "a"), ("registry", "r.io/team")],
                "input `registry`: expected host[:port] without a path: put the repository in `image`, found \"r.io/team\"",
            ),
            (
                &[("image", "a"), ("registry", "r.io:99999")],
                "input `registry`: expected host[:port] with a port from 1 to 65535, found \"r.io:99999\"",
            ),
            (
                &[("image", "a"), ("registry", "bad_host!")],
                "input `registry`: expected host[:port] with a DNS name or IP address as host, found \"bad_host!\"",
            ),
            (
                &[("image", "a"), ("ecr", "false")],
                "input `registry` is required unless Amazon ECR is used (then it comes from the ECR token)",
            ),
            (
                &[("image", "a"), ("registry", "r.io"), ("tags", "v1\n-bad")],
                "input `tags`: expected a tag of letters, digits, `_`, `.` and `-` (not starting with `.` or `-`), at most 128 characters, found \"-bad\"",
            ),
            (
                &[
                    ("image", "a"),
                    ("registry", "r.io"),
                    ("build-args", "NOEQUALS"),
                ],
                "input `build-args`: expected one `KEY=VALUE` per line, found \"NOEQUALS\"",
            ),
            (
                &[("image", "a"), ("registry", "r.io"), ("labels", "=v")],
                "input `labels`: expected one `KEY=VALUE` per line, found \"=v\"",
            ),
            (
                &[("image", "a"), ("registry", "r.io"), ("push", "yes")],
                "input `push`: expected one of true, True, TRUE, false, False, FALSE, found \"yes\"",
            ),
            (
                &[("image", "a"), ("registry", "r.io"), ("builder", "kaniko")],
                "input `builder`: expected `auto`, `buildx`, `docker` or `buildah`, found \"kaniko\"",
            ),
            (
                &[("image", "a"), ("registry", "r.io"), ("ecr", "maybe")],
                "input `ecr`: expected `auto`, `true` or `false`, found \"maybe\"",
            ),
            (
                &[
                    ("image", "a"),
                    ("registry", "r.io"),
                    ("registry-username", "u"),
                ],
                "input `registry-password` is required: `registry-username` is given",
            ),
            (
                &[
                    ("image", "a"),
                    ("registry", "r.io"),
                    ("registry-password", "p"),
                ],
                "input `registry-username` is required: `registry-password` is given",
            ),
            (
                &[
                    ("image", "a"),
                    ("registry", "r.io"),
                    ("builder", "docker"),
                    ("platforms", "linux/amd64,linux/arm64"),
                ],
                "input `platforms`: more than one platform needs buildx (`builder: auto` or `buildx`), found \"linux/amd64,linux/arm64\"",
            ),
            (
                &[
                    ("image", "a"),
                    ("registry", "r.io"),
                    ("aws-role-arn", "my-role"),
                ],
                "input `aws-role-arn`: expected a role ARN, `arn:aws:iam::<account>:role/<name>`, found \"my-role\"",
            ),
            (
                &[
                    ("image", "a"),
                    ("registry", "r.io"),
                    ("aws-region", "Europe"),
                ],
                "input `aws-region`: expected a region name such as `eu-west-1`, found \"Europe\"",
            ),
        ];
        for (pairs, want) in cases {
            let err = ImageConfig::try_from(&raw(pairs)).expect_err(want);
            assert_eq!(err.to_string(), *want, "{pairs:?}");
        }
    }
}
