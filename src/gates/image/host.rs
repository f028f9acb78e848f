//! The registry the image gate pushes to: `host[:port]` as an [`oci::Domain`], lower-cased,
//! with a real port; where its API lives (plain HTTP for loopback, as docker does) and
//! whether it is Amazon ECR. Pure.

use std::fmt;

use crate::oci;

/// A registry `host[:port]` (no scheme, no path), e.g. `ghcr.io` or `127.0.0.1:5000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Registry(oci::Domain);

impl Registry {
    /// Parse `host[:port]`, also accepting (and dropping) an `https://`/`http://` prefix and a
    /// trailing `/`, as `docker login` does. The host follows the reference grammar
    /// ([`oci::Domain`]); the port must be one a connection can use.
    pub(super) fn parse(value: &str) -> Result<Self, &'static str> {
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
        oci::Domain::parse(&v.to_ascii_lowercase())
            .map_err(|_| "expected host[:port] with a DNS name or IP address as host")?;
        let domain = oci::Domain::parse_registry(v).map_err(|_| {
            "expected a registry docker can tell from a repository: one with a `.` or a port, or `localhost` (printed lower-case, `Registry/api` or `my-registry/api` would name a Docker Hub repository)"
        })?;
        if let Some(p) = domain.port()
            && p.parse::<u16>().map_or(true, |n| n == 0)
        {
            return Err("expected host[:port] with a port from 1 to 65535");
        }
        Ok(Self(domain))
    }

    /// `host[:port]`.
    pub(super) fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The registry as the first part of an image reference.
    pub(super) fn domain(&self) -> &oci::Domain {
        &self.0
    }

    /// The host without the port.
    pub(super) fn host(&self) -> &str {
        self.0.host()
    }

    /// Docker treats `localhost` and 127.0.0.0/8 (and `::1`) as insecure registries by
    /// default and talks plain HTTP to them; everything else is HTTPS
    /// (<https://docs.docker.com/engine/daemon/insecure-registries/>). We do the same.
    pub(super) fn is_loopback(&self) -> bool {
        self.0.is_loopback()
    }

    /// `https://host[:port]`, or `http://` for loopback registries. Docker Hub's API lives at
    /// `registry-1.docker.io`, not at `docker.io`.
    pub(super) fn api_base(&self) -> String {
        let scheme = if self.is_loopback() { "http" } else { "https" };
        let host = if self.is_docker_hub() {
            "registry-1.docker.io"
        } else {
            self.as_str()
        };
        format!("{scheme}://{host}")
    }

    /// Docker Hub under any of its names.
    pub(super) fn is_docker_hub(&self) -> bool {
        self.0.is_docker_hub()
    }

    /// An Amazon ECR private registry host:
    /// `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` (also `dkr-ecr` dual-stack on
    /// `on.aws`). Returns the region.
    pub(super) fn ecr_region(&self) -> Option<&str> {
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
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn registry_input_errors() {
        for (input, want) in [
            ("", "expected host[:port]"),
            (
                "r.io/team",
                "expected host[:port] without a path: put the repository in `image`",
            ),
            (
                "r.io:99999",
                "expected host[:port] with a port from 1 to 65535",
            ),
            ("r.io:0", "expected host[:port] with a port from 1 to 65535"),
            (
                "bad_host!",
                "expected host[:port] with a DNS name or IP address as host",
            ),
        ] {
            assert_eq!(Registry::parse(input), Err(want), "{input:?}");
        }
    }
}
