//! The `image` input: a container image reference checked against the distribution
//! grammar, so a typo fails before anything is patched. Pure.

use std::fmt;
use std::str::FromStr;

/// A container image reference, checked against the grammar of
/// `github.com/distribution/reference` (the one the kubelet and containerd parse with):
/// `[domain[:port]/]path[:tag][@algorithm:hex]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    raw: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// The reference as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// Everything before the tag and digest (`registry:5000/team/api`).
    pub fn repository(&self) -> &str {
        &self.repository
    }
    /// The tag, when given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The digest, when given.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl FromStr for ImageRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let raw = s.trim();
        if raw.is_empty() {
            return Err("an image reference such as `registry.example.com/team/api:1.2.3`".into());
        }
        if raw.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err("an image reference without whitespace".into());
        }
        let (name_tag, digest) = match raw.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (raw, None),
        };
        if let Some(d) = digest {
            check_digest(d)?;
        }
        // A tag is the part after the last `:` that comes after the last `/`; an earlier
        // `:` is a registry port.
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        if let Some(t) = tag {
            check_tag(t)?;
        }
        check_repository(repository)?;
        Ok(Self {
            raw: raw.to_owned(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }
}

fn check_digest(d: &str) -> Result<(), String> {
    let (alg, hex) = d
        .split_once(':')
        .ok_or_else(|| format!("digest `{d}` is not `algorithm:hex`"))?;
    let alg_ok = !alg.is_empty()
        && alg.split(['+', '.', '-', '_']).all(|c| {
            c.chars().next().is_some_and(|f| f.is_ascii_alphabetic())
                && c.chars().all(|ch| ch.is_ascii_alphanumeric())
        });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !alg_ok || !hex_ok {
        return Err(format!("digest `{d}` is not `algorithm:hex`"));
    }
    if alg == "sha256" && (hex.len() != 64 || hex.bytes().any(|b| b.is_ascii_uppercase())) {
        return Err(format!(
            "digest `{d}`: sha256 needs 64 lower-case hex digits"
        ));
    }
    Ok(())
}

fn check_tag(t: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes().next().is_some_and(word)
        && t.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag `{t}` is not valid (letters, digits, `_`, `.`, `-`; at most 128)"
        ))
    }
}

fn check_repository(repo: &str) -> Result<(), String> {
    if repo.len() > 255 {
        return Err("repository name longer than 255 characters".into());
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    // The first part is a registry host when it looks like one (Docker's rule).
    if parts.len() > 1
        && (parts[0].contains(['.', ':'])
            || parts[0] == "localhost"
            || parts[0].bytes().any(|b| b.is_ascii_uppercase()))
    {
        check_domain(parts[0])?;
        parts.remove(0);
    }
    for p in parts {
        if !is_path_component(p) {
            return Err(format!(
                "repository path component `{p}` is not valid (lower-case letters and digits, separated by `.`, `_`, `__` or dashes)"
            ));
        }
    }
    Ok(())
}

fn check_domain(d: &str) -> Result<(), String> {
    let bad = || format!("registry `{d}` is not a valid host[:port]");
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(bad());
        }
        (None, after.strip_prefix(':'))
    } else {
        match d.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(h) = host {
        let ok = !h.is_empty()
            && h.split('.').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            });
        if !ok {
            return Err(bad());
        }
    }
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    Ok(())
}

/// `[a-z0-9]+ (([_.]|__|[-]+) [a-z0-9]+)*`
fn is_path_component(p: &str) -> bool {
    let b = p.as_bytes();
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
        let sep = &p[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_follow_the_distribution_grammar() {
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let good = [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "registry.example.com/team/api:1.2.3",
            "localhost:5000/api:dev",
            "localhost/api",
            "127.0.0.1:5000/a/b/c:v1.0-rc_1",
            "[::1]:5000/api:x",
            "ghcr.io/o/my__app",
            "ghcr.io/o/my---app",
        ];
        for g in good {
            assert!(
                g.parse::<ImageRef>().is_ok(),
                "{g}: {:?}",
                g.parse::<ImageRef>()
            );
        }
        let with_digest = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v2@{digest}");
        let r: ImageRef = with_digest.parse().unwrap();
        assert_eq!(
            r.repository(),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api"
        );
        assert_eq!(r.tag(), Some("v2"));
        assert_eq!(r.digest(), Some(digest));
        let port: ImageRef = "localhost:5000/api".parse().unwrap();
        assert_eq!(
            (port.repository(), port.tag()),
            ("localhost:5000/api", None)
        );

        let bad = [
            "",
            "Nginx/API",
            "nginx:",
            "nginx:-x",
            "nginx::1",
            "team/Api:1",
            "nginx@sha256:abc",
            "nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "a b",
            "registry.example.com/",
            "reg_istry.example.com/api",
            "localhost:port/api",
            "api_/x",
            "ghcr.io/o/a.-b",
        ];
        for b in bad {
            assert!(b.parse::<ImageRef>().is_err(), "{b} should be rejected");
        }
        let long = format!("{}:1", "a".repeat(256));
        assert!(long.parse::<ImageRef>().is_err());
    }
}
