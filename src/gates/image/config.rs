//! Typed configuration of the image gate, from [`RawInputs`] (stage two of input handling).
//!
//! Newtypes here cannot hold a bad value: an [`ImageRef`] is a valid repository path, a
//! [`Registry`] a valid `host[:port]`, a [`Tag`] a valid tag. Nothing here touches files,
//! processes or the network; whether the context directory exists is checked in `mod.rs`.

use std::fmt;
use std::path::PathBuf;

use crate::runner::inputs::{InputError, RawInputs};
use crate::secret::Secret;

/// A repository path inside a registry, e.g. `team/api`: lower-case path components as
/// the distribution reference grammar allows
/// (<https://github.com/distribution/reference/blob/main/reference.go>), at most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef(String);

impl ImageRef {
    /// The repository path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an image name is rejected, or `None` when it is valid.
fn image_problem(name: &str) -> Option<&'static str> {
    if name.len() > 255 {
        return Some("a repository name has at most 255 characters");
    }
    if name.contains('@') {
        return Some("a repository name has no digest: the gate computes it");
    }
    if name.contains(':') {
        return Some("a repository name has no tag: put tags in `tags`");
    }
    for part in name.split('/') {
        if !component_ok(part) {
            return Some(
                "expected lower-case path components of letters and digits separated by `.`, `_`, `__` or `-`, joined by `/`",
            );
        }
    }
    None
}

/// One path component: `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
fn component_ok(part: &str) -> bool {
    let b = part.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A registry `host[:port]` (no scheme, no path), e.g. `ghcr.io` or `127.0.0.1:5000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry(String);

impl Registry {
    /// Parse `host[:port]`, also accepting (and dropping) an `https://`/`http://` prefix and a
    /// trailing `/`, as `docker login` does.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let v = value
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        if v.is_empty() {
            return Err("expected host[:port]");
        }
        if v.contains('/') {
            return Err("expected host[:port] without a path: put the repository in `image`");
        }
        let bracketed = v.starts_with('[') && v.ends_with(']');
        let (host, port) = match v.rsplit_once(':') {
            Some((h, p)) if !bracketed => (h, Some(p)),
            _ => (v, None),
        };
        if let Some(p) = port
            && p.parse::<u16>().map_or(true, |n| n == 0)
        {
            return Err("expected host[:port] with a port from 1 to 65535");
        }
        let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
        {
            inner.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !host.is_empty()
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || c == b'-')
                })
        };
        if !host_ok {
            return Err("expected host[:port] with a DNS name or IP address as host");
        }
        Ok(Self(v.to_ascii_lowercase()))
    }

    /// `host[:port]`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host without the port.
    pub fn host(&self) -> &str {
        match self.0.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) => h,
            _ => &self.0,
        }
    }

    /// Docker treats `localhost` and 127.0.0.0/8 (and `::1`) as insecure registries by
    /// default and talks plain HTTP to them; everything else is HTTPS
    /// (<https://docs.docker.com/engine/daemon/insecure-registries/>). We do the same.
    pub fn is_loopback(&self) -> bool {
        let h = self.host().trim_start_matches('[').trim_end_matches(']');
        h == "localhost"
            || h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| a.is_loopback())
            || h.parse::<std::net::Ipv6Addr>()
                .is_ok_and(|a| a.is_loopback())
    }

    /// `https://host[:port]`, or `http://` for loopback registries. Docker Hub's API lives at
    /// `registry-1.docker.io`, not at `docker.io`.
    pub fn api_base(&self) -> String {
        let scheme = if self.is_loopback() { "http" } else { "https" };
        let host = if self.is_docker_hub() {
            "registry-1.docker.io"
        } else {
            self.as_str()
        };
        format!("{scheme}://{host}")
    }

    /// Docker Hub under any of its names.
    pub fn is_docker_hub(&self) -> bool {
        matches!(
            self.0.as_str(),
            "docker.io" | "index.docker.io" | "registry-1.docker.io"
        )
    }

    /// An Amazon ECR private registry host:
    /// `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` (also `dkr-ecr` dual-stack on
    /// `on.aws`). Returns the region.
    pub fn ecr_region(&self) -> Option<&str> {
        let mut parts = self.host().split('.');
        let account = parts.next()?;
        if account.len() != 12 || !account.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let rest: Vec<&str> = parts.collect();
        let (region, suffix) = match rest.as_slice() {
            ["dkr", "ecr" | "ecr-fips", region, suffix @ ..] => (*region, suffix),
            ["dkr-ecr" | "dkr-ecr-fips", region, suffix @ ..] => (*region, suffix),
            _ => return None,
        };
        let known = matches!(
            suffix,
            ["amazonaws", "com"] | ["amazonaws", "com", "cn"] | ["on", "aws"] | ["api", "aws"]
        );
        (known && !region.is_empty()).then_some(region)
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// Parse a tag.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let b = value.as_bytes();
        let ok_first = b
            .first()
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        let ok_rest = b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
        if ok_first && ok_rest && b.len() <= 128 {
            Ok(Self(value.to_owned()))
        } else {
            Err(
                "expected a tag of letters, digits, `_`, `.` and `-` (not starting with `.` or `-`), at most 128 characters",
            )
        }
    }

    /// Make a valid tag from arbitrary text (a git tag name such as `release/1.0`): other
    /// characters become `-`, leading `.`/`-` are dropped, the length is capped. `None`
    /// when nothing usable is left.
    pub fn sanitize(value: &str) -> Option<Self> {
        let mapped: String = value
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let trimmed: String = mapped
            .trim_start_matches(['.', '-'])
            .chars()
            .take(128)
            .collect();
        Self::parse(&trimmed).ok()
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which builder runs the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Builder {
    /// buildx when `docker buildx version` works, otherwise `docker build`.
    #[default]
    Auto,
    /// `docker buildx build` (an error when buildx is missing).
    Buildx,
    /// The classic `docker build` followed by `docker push` per tag.
    Docker,
}

impl std::str::FromStr for Builder {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "auto" => Ok(Self::Auto),
            "buildx" => Ok(Self::Buildx),
            "docker" => Ok(Self::Docker),
            _ => Err(()),
        }
    }
}

/// Whether to authenticate to Amazon ECR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcrMode {
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
pub enum AuthSource {
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
pub type KeyValue = (String, String);

/// The image gate's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// Repository path.
    pub image: ImageRef,
    /// Registry, when given (or taken from a host in `image`).
    pub registry: Option<Registry>,
    /// Tags; empty means the defaults (`sha-<short sha>`, plus the git tag on tag pushes).
    pub tags: Vec<Tag>,
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

/// The first path component of `image` names a registry when it has a `.` or `:` or is
/// `localhost` (the rule docker uses to tell `ghcr.io/x` from `team/x`).
fn split_registry(image: &str) -> (Option<&str>, &str) {
    match image.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, image),
    }
}

impl TryFrom<&RawInputs> for ImageConfig {
    type Error = InputError;

    fn try_from(raw: &RawInputs) -> Result<Self, InputError> {
        let image_in = raw.require("image", "the repository to push, e.g. `team/api`")?;
        let (host_in_image, path) = split_registry(image_in);
        if let Some(problem) = image_problem(path) {
            return Err(InputError::invalid("image", image_in, problem));
        }
        let image = ImageRef(path.to_owned());
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
        let mut tags: Vec<Tag> = Vec::new();
        for t in raw.multiline("tags") {
            let tag = Tag::parse(&t).map_err(|m| InputError::invalid("tags", &t, m))?;
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
            .parse("builder", "`auto`, `buildx` or `docker`")?
            .unwrap_or_default();
        if builder == Builder::Docker && platforms.len() > 1 {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            c.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
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
                "input `image`: expected lower-case path components of letters and digits separated by `.`, `_`, `__` or `-`, joined by `/`, found \"Team/API\"",
            ),
            (
                &[("image", "team/api:1.0"), ("registry", "r.io")],
                "input `image`: a repository name has no tag: put tags in `tags`, found \"team/api:1.0\"",
            ),
            (
                &[("image", "team//api"), ("registry", "r.io")],
                "input `image`: expected lower-case path components of letters and digits separated by `.`, `_`, `__` or `-`, joined by `/`, found \"team//api\"",
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
                "input `builder`: expected `auto`, `buildx` or `docker`, found \"kaniko\"",
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

    #[test]
    fn image_names() {
        for ok in ["a", "team/api", "a.b/c_d/e__f/g--h", "x0/9y", "a-b"] {
            assert_eq!(image_problem(ok), None, "{ok}");
        }
        for bad in [
            "", "-a", "a-", "a..b", "a___b", "A", "a/", "/a", "a b", "a._b",
        ] {
            assert!(image_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn registries() {
        let r = Registry::parse("https://Localhost:5000/").unwrap();
        assert_eq!(r.as_str(), "localhost:5000");
        assert!(r.is_loopback());
        assert_eq!(r.api_base(), "http://localhost:5000");
        for (host, loopback) in [
            ("127.0.0.1:1", true),
            ("127.8.9.10", true),
            ("[::1]:5000", true),
            ("10.0.0.1", false),
            ("ghcr.io", false),
        ] {
            assert_eq!(
                Registry::parse(host).unwrap().is_loopback(),
                loopback,
                "{host}"
            );
        }
        assert_eq!(
            Registry::parse("ghcr.io").unwrap().api_base(),
            "https://ghcr.io"
        );
        assert_eq!(
            Registry::parse("docker.io").unwrap().api_base(),
            "https://registry-1.docker.io"
        );
        let ecr = Registry::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com").unwrap();
        assert_eq!(ecr.ecr_region(), Some("eu-west-1"));
        assert_eq!(
            Registry::parse("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")
                .unwrap()
                .ecr_region(),
            Some("cn-north-1")
        );
        assert_eq!(
            Registry::parse("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com")
                .unwrap()
                .ecr_region(),
            Some("us-east-1")
        );
        for not in [
            "ghcr.io",
            "12345.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.example.com",
            "127.0.0.1:5000",
        ] {
            assert_eq!(Registry::parse(not).unwrap().ecr_region(), None, "{not}");
        }
    }

    #[test]
    fn tag_sanitising() {
        assert_eq!(Tag::sanitize("v1.2.3").unwrap().as_str(), "v1.2.3");
        assert_eq!(
            Tag::sanitize("release/1.0").unwrap().as_str(),
            "release-1.0"
        );
        assert_eq!(Tag::sanitize("-.x").unwrap().as_str(), "x");
        assert_eq!(Tag::sanitize("///"), None);
        assert_eq!(Tag::sanitize(&"a".repeat(200)).unwrap().as_str().len(), 128);
    }
}
