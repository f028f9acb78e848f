//! The `image` input: a container image reference checked against the distribution
//! grammar (the project's one parser, [`crate::oci`]), so a typo fails before anything is
//! patched. What goes into the pod spec is the reference as the user wrote it. Pure.

use std::fmt;
use std::str::FromStr;

use crate::oci::Reference;

/// A container image reference, checked against the grammar of
/// `github.com/distribution/reference` (the one the kubelet and containerd parse with):
/// `[domain[:port]/]path[:tag][@algorithm:hex]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    reference: Reference,
    /// Everything before the tag and digest, as written.
    repository: String,
}

impl ImageRef {
    /// The reference as given.
    pub(crate) fn as_str(&self) -> &str {
        self.reference.as_written()
    }
    #[cfg(test)]
    /// Everything before the tag and digest, as written (`registry:5000/team/api`).
    pub(crate) fn repository(&self) -> &str {
        &self.repository
    }
    #[cfg(test)]
    /// The tag, when given.
    pub(crate) fn tag(&self) -> Option<&str> {
        self.reference.tag().map(|t| t.as_str())
    }
    #[cfg(test)]
    /// The digest, when given.
    pub(crate) fn digest(&self) -> Option<&str> {
        self.reference.digest().map(|d| d.as_str())
    }
    #[cfg(test)]
    /// The parsed, normalised reference.
    pub(crate) fn reference(&self) -> &Reference {
        &self.reference
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let raw = s.trim();
        let reference = Reference::parse(raw).map_err(|e| e.to_string())?;
        let name = raw.split_once('@').map_or(raw, |(n, _)| n);
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let repository = match name[last_slash..].rfind(':') {
            Some(i) => &name[..last_slash + i],
            None => name,
        };
        Ok(Self {
            reference,
            repository: repository.to_owned(),
        })
    }
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

    /// Every `image-ref` the image gate can output (a normalised reference with a digest,
    /// printed as the gate prints it) parses as the rollout gate's `image`, to the same
    /// reference. A few thousand generated references over the grammar's corners.
    #[test]
    fn every_image_gate_output_is_a_rollout_input() {
        use crate::oci::{Digest, Domain, Repository, Tag};
        let mut seed = 0x9e37_79b9_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let hosts = [
            None,
            Some("docker.io"),
            Some("index.docker.io"),
            Some("ghcr.io"),
            Some("localhost"),
            Some("localhost:5000"),
            Some("127.0.0.1:5000"),
            Some("[::1]:5000"),
            Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some("Registry.Example.com:443"),
            Some("my-registry"),
        ];
        let comps = [
            "api", "team", "a", "my__app", "my---app", "a.b", "x-1", "v2", "library",
        ];
        let tags = [
            "latest",
            "1.2.3",
            "v1.0-rc_1",
            "_x",
            "A",
            "sha-0123abc",
            &"t".repeat(128),
        ];
        for i in 0..3000 {
            let host = hosts[next(hosts.len())];
            let mut path: Vec<&str> = (0..1 + next(3)).map(|_| comps[next(comps.len())]).collect();
            if host.is_none() && path.len() > 1 && (path[0].contains('.') || path[0] == "localhost")
            {
                path[0] = "team";
            }
            let Ok(repo) = Repository::parse(&path.join("/")) else {
                continue;
            };
            // As the image gate reads its `registry` input; one docker would not read as a
            // registry is refused there.
            let domain = match host.map(Domain::parse_registry) {
                Some(Ok(d)) => Some(d),
                Some(Err(_)) => continue,
                None => None,
            };
            let mut r = Reference::new(domain, repo);
            if next(2) == 0 {
                r = r.with_tag(Tag::parse(tags[next(tags.len())]).unwrap());
            }
            let digest = Digest::of(format!("layer {i}").as_bytes());
            let output = r.clone().with_digest(digest).to_string();
            let input: ImageRef = output
                .parse()
                .unwrap_or_else(|e| panic!("image-ref `{output}` is not a rollout image: {e}"));
            assert_eq!(input.as_str(), output);
            assert_eq!(input.reference().to_string(), output, "{output}");
        }
    }
}
