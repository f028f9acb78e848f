//! OCI image references: `[registry[:port]/]path[:tag][@digest]`, parsed by the grammar of
//! the distribution reference library that docker, containerd and the kubelet use
//! (<https://github.com/distribution/reference/blob/main/reference.go>) and normalised as
//! docker normalises them (`normalize.go` there): no registry means `docker.io`,
//! `index.docker.io` is `docker.io`, and a one-component Docker Hub path gets `library/`.
//!
//! The registry-vs-path rule for the first `/`-separated component is docker's: it names a
//! registry when it is `localhost`, contains a `.` or a `:`, or contains an upper-case
//! letter (path components are lower-case, so an upper-case first component can only be a
//! host). Hosts are kept as written, as docker keeps them.
//!
//! Pure: strings in, values out. Parsing is one pass over the input (no backtracking), so
//! a hostile reference costs linear time. This module knows no gate.
//!
//! ```text
//! Reference::parse("nginx:1.27")
//!   registry docker.io, repository library/nginx, tag 1.27
//!   shown as docker.io/library/nginx:1.27, written as nginx:1.27
//! ```
//!
//! (`tests::the_module_example` checks exactly this.)

use std::fmt;

/// Docker Hub's canonical registry name.
pub(crate) const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's legacy name, normalised to [`DOCKER_HUB`].
const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
const OFFICIAL_PREFIX: &str = "library/";
/// Longest repository path the grammar allows.
pub(crate) const MAX_REPOSITORY_LEN: usize = 255;
/// Longest tag the grammar allows.
const MAX_TAG_LEN: usize = 128;

/// Why a reference (or one of its parts) is not valid. Messages do not repeat the input:
/// callers name the input and quote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing given.
    #[error("expected an image reference such as `ghcr.io/team/api:1.2.3`")]
    Empty,
    /// A bare 64-hex-digit string: docker reads it as an image id.
    #[error("a 64-character hex string is an image id, not a repository name")]
    Identifier,
    /// The registry part is not `host[:port]`.
    #[error("registry `{0}` is not a valid host[:port]")]
    Registry(String),
    /// A path component (`component`, counted from 1 after any registry) breaks the grammar.
    #[error(
        "path component {component} is not valid{}: expected lower-case path components of letters and digits separated by `.`, `_`, `__` or `-`, joined by `/`",
        if *upper_case { " (it has upper-case letters)" } else { "" }
    )]
    Path {
        /// Which component, from 1.
        component: usize,
        /// Whether upper-case letters are what is wrong with it.
        upper_case: bool,
    },
    /// The path is longer than [`MAX_REPOSITORY_LEN`].
    #[error("a repository name has at most 255 characters")]
    TooLong,
    /// The tag breaks the grammar.
    #[error(
        "expected a tag of letters, digits, `_`, `.` and `-` (not starting with `.` or `-`), at most 128 characters"
    )]
    Tag,
    /// The digest breaks the grammar.
    #[error("expected a digest `algorithm:hex` (sha256: 64 lower-case hex digits)")]
    Digest,
}

/// A registry `host[:port]` as written: a DNS-like name or IPv4 address, or an IPv6
/// address in brackets, and an optional port of digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Domain(String);

impl Domain {
    /// Parse `host[:port]` (no scheme, no path).
    pub(crate) fn parse(value: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::Registry(value.to_owned());
        let (host, port) = if let Some(rest) = value.strip_prefix('[') {
            let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
            let v6_ok = !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
            if !v6_ok {
                return Err(bad());
            }
            match after {
                "" => (v6, None),
                _ => (v6, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        } else {
            let (host, port) = match value.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (value, None),
            };
            if !host.split('.').all(domain_component) {
                return Err(bad());
            }
            (host, port)
        };
        let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if host.is_empty() || !port_ok {
            return Err(bad());
        }
        Ok(Self(value.to_owned()))
    }

    /// A registry named on its own (the image gate's `registry` input): lower-cased, and
    /// one that docker reads as a registry when it starts an image name (it has a `.` or a
    /// port, or is `localhost`). Anything else, printed as `my-registry/team/api`, would
    /// name the Docker Hub repository `my-registry/team/api` instead.
    pub(crate) fn parse_registry(value: &str) -> Result<Self, ParseError> {
        let d = Self::parse(&value.to_ascii_lowercase())?;
        if split_registry(&format!("{}/x", d.as_str())).0.is_none() {
            return Err(ParseError::Registry(value.to_owned()));
        }
        Ok(d)
    }

    /// `host[:port]` as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The host without the port (an IPv6 address keeps its brackets).
    pub(crate) fn host(&self) -> &str {
        self.split().0
    }

    /// The port, when given.
    pub(crate) fn port(&self) -> Option<&str> {
        self.split().1
    }

    fn split(&self) -> (&str, Option<&str>) {
        let v = self.0.as_str();
        let after_host = if v.starts_with('[') {
            v.find(']').map_or(v.len(), |i| i + 1)
        } else {
            v.find(':').unwrap_or(v.len())
        };
        let (host, rest) = v.split_at(after_host);
        (host, rest.strip_prefix(':'))
    }

    /// Docker Hub under any of its names.
    pub(crate) fn is_docker_hub(&self) -> bool {
        matches!(
            self.0.as_str(),
            DOCKER_HUB | LEGACY_DOCKER_HUB | "registry-1.docker.io"
        )
    }

    /// `localhost`, 127.0.0.0/8 or `::1`: docker talks plain HTTP to these without
    /// configuration (<https://docs.docker.com/engine/daemon/insecure-registries/>).
    pub(crate) fn is_loopback(&self) -> bool {
        let h = self.host().trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost")
            || h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| a.is_loopback())
            || h.parse::<std::net::Ipv6Addr>()
                .is_ok_and(|a| a.is_loopback())
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        }
        _ => false,
    }
}

/// A repository path inside a registry, e.g. `team/api`: lower-case components of
/// letters and digits separated by `.`, `_`, `__` or dashes, joined by `/`, at most
/// 255 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Repository(String);

impl Repository {
    /// Parse a path (no registry, tag or digest).
    pub(crate) fn parse(path: &str) -> Result<Self, ParseError> {
        if path.len() > MAX_REPOSITORY_LEN {
            return Err(ParseError::TooLong);
        }
        match path.split('/').position(|c| !path_component(c)) {
            None => Ok(Self(path.to_owned())),
            Some(i) => {
                let bad = path.split('/').nth(i).unwrap_or_default();
                let lower = bad.to_ascii_lowercase();
                Err(ParseError::Path {
                    component: i + 1,
                    upper_case: lower != bad && path_component(&lower),
                })
            }
        }
    }

    /// The path.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn path_component(part: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = part.as_bytes();
    if !b.first().is_some_and(|c| alnum(*c)) || !b.last().is_some_and(|c| alnum(*c)) {
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
        let sep = &b[start..i];
        let ok = matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|c| *c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// An image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Tag(String);

impl Tag {
    /// Parse a tag.
    pub(crate) fn parse(value: &str) -> Result<Self, ParseError> {
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let b = value.as_bytes();
        let ok = b.first().is_some_and(|c| word(*c))
            && b.iter().all(|c| word(*c) || matches!(c, b'.' | b'-'))
            && b.len() <= MAX_TAG_LEN;
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::Tag)
        }
    }

    /// Make a valid tag from arbitrary text (a git tag name such as `release/1.0`): other
    /// characters become `-`, leading `.`/`-` are dropped, the length is capped. `None`
    /// when nothing usable is left.
    pub(crate) fn sanitize(value: &str) -> Option<Self> {
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
            .take(MAX_TAG_LEN)
            .collect();
        Self::parse(&trimmed).ok()
    }

    /// The tag.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A content digest, `algorithm:hex`. The grammar allows any algorithm with at least 32
/// hex digits; the algorithms the OCI image spec registers are held to their exact form
/// (`sha256`: 64, `sha512`: 128 lower-case hex digits), as go-digest holds them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(String);

impl Digest {
    /// Parse a digest.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let (alg, hex) = value.split_once(':').ok_or(ParseError::Digest)?;
        let alg_ok = alg.split(['+', '.', '-', '_']).all(|c| {
            c.bytes().next().is_some_and(|f| f.is_ascii_alphabetic())
                && c.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        let lower_hex = |n: usize| {
            hex.len() == n
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let hex_ok = match alg {
            "sha256" => lower_hex(64),
            "sha512" => lower_hex(128),
            _ => hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        };
        if alg_ok && hex_ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::Digest)
        }
    }

    /// The sha256 digest of some bytes.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        let sum = sha2::Sha256::digest(bytes);
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("sha256:{hex}"))
    }

    /// `algorithm:hex`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The algorithm and the first 12 hex digits, as docker abbreviates ids.
    pub fn short(&self) -> &str {
        let cut = self.0.find(':').map_or(0, |i| i + 1) + 12;
        self.0.get(..cut).unwrap_or(&self.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference split into its parts exactly as written: the registry only when the first
/// component names one, the path without `library/`. For inputs that take the registry
/// from elsewhere (the image gate's `image` beside its `registry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parts {
    /// The registry, when the reference names one.
    pub registry: Option<Domain>,
    /// The repository path.
    pub repository: Repository,
    /// The tag, when given.
    pub tag: Option<Tag>,
    /// The digest, when given.
    pub digest: Option<Digest>,
}

impl Parts {
    /// Split and check `[registry/]path[:tag][@digest]`.
    pub(crate) fn parse(value: &str) -> Result<Self, ParseError> {
        if value.is_empty() {
            return Err(ParseError::Empty);
        }
        if value.len() == 64
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ParseError::Identifier);
        }
        // A name has no `@`: the first one starts the digest.
        let (name_tag, digest) = match value.split_once('@') {
            Some((n, d)) => (n, Some(Digest::parse(d)?)),
            None => (value, None),
        };
        let (registry, rest) = split_registry(name_tag);
        let registry = registry.map(Domain::parse).transpose()?;
        // A path has no `:`: the first one after the registry starts the tag.
        let (path, tag) = match rest.split_once(':') {
            Some((p, t)) => (p, Some(Tag::parse(t)?)),
            None => (rest, None),
        };
        Ok(Self {
            registry,
            repository: Repository::parse(path)?,
            tag,
            digest,
        })
    }
}

/// Docker's rule for the first `/`-separated component: a registry when it is
/// `localhost`, contains `.` or `:`, or has an upper-case letter; otherwise part of the
/// path. `(registry, rest)`.
pub(crate) fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first == "localhost"
                || first.contains(['.', ':'])
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// A normalised image reference: always a registry (`docker.io` by default), the
/// repository path (`library/` added for Docker Hub's one-component names), and an
/// optional tag and digest. `Display` prints the canonical form
/// `registry/path[:tag][@digest]`; [`Reference::as_written`] keeps the input.
/// Two references are equal when their canonical forms are.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    written: String,
    registry: Domain,
    repository: Repository,
    tag: Option<Tag>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parse and normalise a reference, e.g. a user's `image` input.
    pub(crate) fn parse(value: &str) -> Result<Self, ParseError> {
        let parts = Parts::parse(value)?;
        let mut r = Self::new(parts.registry, parts.repository);
        r.tag = parts.tag;
        r.digest = parts.digest;
        r.written = value.to_owned();
        Ok(r)
    }

    /// `registry/repository`, normalised (no registry means Docker Hub).
    pub(crate) fn new(registry: Option<Domain>, repository: Repository) -> Self {
        let registry = match registry {
            Some(d) if d.as_str() != LEGACY_DOCKER_HUB => d,
            _ => Domain(DOCKER_HUB.to_owned()),
        };
        let repository = if registry.as_str() == DOCKER_HUB && !repository.0.contains('/') {
            Repository(format!("{OFFICIAL_PREFIX}{}", repository.0))
        } else {
            repository
        };
        let mut r = Self {
            written: String::new(),
            registry,
            repository,
            tag: None,
            digest: None,
        };
        r.written = r.to_string();
        r
    }

    /// The same reference with this tag.
    pub(crate) fn with_tag(mut self, tag: Tag) -> Self {
        self.tag = Some(tag);
        self.written = self.to_string();
        self
    }

    /// The same reference with this digest.
    pub(crate) fn with_digest(mut self, digest: Digest) -> Self {
        self.digest = Some(digest);
        self.written = self.to_string();
        self
    }

    #[cfg(test)]
    /// The registry.
    pub(crate) fn registry(&self) -> &Domain {
        &self.registry
    }

    /// The repository path inside the registry.
    pub(crate) fn repository(&self) -> &Repository {
        &self.repository
    }

    /// `registry/repository`, without tag and digest.
    pub(crate) fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    #[cfg(test)]
    /// The tag, when given.
    pub(crate) fn tag(&self) -> Option<&Tag> {
        self.tag.as_ref()
    }

    #[cfg(test)]
    /// The digest, when given.
    pub(crate) fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The reference exactly as parsed (the canonical form for built ones). This is what
    /// goes into a pod spec, so a workload shows what the user wrote.
    pub(crate) fn as_written(&self) -> &str {
        &self.written
    }
}

impl PartialEq for Reference {
    fn eq(&self, other: &Self) -> bool {
        (&self.registry, &self.repository, &self.tag, &self.digest)
            == (
                &other.registry,
                &other.repository,
                &other.tag,
                &other.digest,
            )
    }
}

impl Eq for Reference {}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests;
