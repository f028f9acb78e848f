//! Table tests of [`super`]: normalisation, rejections, parts, domains, tags, digests,
//! round trips of built references and hostile inputs.

use super::*;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// `input | canonical | registry | repository | tag | digest` (`-` for none), after
/// distribution's `normalize_test.go` and `reference_test.go`, plus ours; `<d>` is [`D`].
const CASES: &[&str] = &[
    "ubuntu | docker.io/library/ubuntu | docker.io | library/ubuntu | - | -",
    "ubuntu:22.04 | docker.io/library/ubuntu:22.04 | docker.io | library/ubuntu | 22.04 | -",
    "team/api | docker.io/team/api | docker.io | team/api | - | -",
    "docker.io/ubuntu | docker.io/library/ubuntu | docker.io | library/ubuntu | - | -",
    "index.docker.io/team/api:v1 | docker.io/team/api:v1 | docker.io | team/api | v1 | -",
    "localhost/api | localhost/api | localhost | api | - | -",
    "localhost:5000/team/api:dev | localhost:5000/team/api:dev | localhost:5000 | team/api | dev | -",
    "127.0.0.1:5000/a/b/c:v1.0-rc_1 | 127.0.0.1:5000/a/b/c:v1.0-rc_1 | 127.0.0.1:5000 | a/b/c | v1.0-rc_1 | -",
    "[::1]:5000/api:x | [::1]:5000/api:x | [::1]:5000 | api | x | -",
    "[2001:db8::1]/api | [2001:db8::1]/api | [2001:db8::1] | api | - | -",
    // Upper case: the first component can only be a host (normalize.go).
    "Registry/api | Registry/api | Registry | api | - | -",
    "ghcr.io/o/my__app | ghcr.io/o/my__app | ghcr.io | o/my__app | - | -",
    "ghcr.io/o/my---app | ghcr.io/o/my---app | ghcr.io | o/my---app | - | -",
    "ghcr.io/o/app@<d> | ghcr.io/o/app@<d> | ghcr.io | o/app | - | <d>",
    "1.dkr.ecr.eu-west-1.amazonaws.com/api:v2@<d> | 1.dkr.ecr.eu-west-1.amazonaws.com/api:v2@<d> | 1.dkr.ecr.eu-west-1.amazonaws.com | api | v2 | <d>",
    "busybox@<d> | docker.io/library/busybox@<d> | docker.io | library/busybox | - | <d>",
    // A first component without `.`, `:` or upper case is part of the path.
    "registry/team/api | docker.io/registry/team/api | docker.io | registry/team/api | - | -",
];

#[test]
fn parses_and_normalises() {
    for case in CASES {
        let case = case.replace("<d>", D);
        let f: Vec<&str> = case.split(" | ").collect();
        let [input, canonical, registry, repository, tag, digest] = f[..] else {
            panic!("{case}");
        };
        let some = |v: &str| (v != "-").then(|| v.to_owned());
        let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(r.to_string(), canonical, "{input}");
        assert_eq!(r.registry().as_str(), registry, "{input}");
        assert_eq!(r.repository().as_str(), repository, "{input}");
        assert_eq!(r.tag().map(|t| t.to_string()), some(tag), "{input}");
        assert_eq!(r.digest().map(|d| d.to_string()), some(digest), "{input}");
        assert_eq!(r.as_written(), input);
        assert_eq!(r.name(), format!("{registry}/{repository}"));
        let again = Reference::parse(canonical).unwrap();
        assert_eq!(again, r, "the canonical form parses to the same reference");
    }
}

#[test]
fn rejects_what_docker_rejects() {
    use ParseError::{Digest as Dg, Empty, Identifier, Path, Registry as Rg, Tag as Tg, TooLong};
    let upper_hex = format!("nginx@sha256:{}", D[7..].to_ascii_uppercase());
    let (id, long) = ("a".repeat(64), format!("{}:1", "a".repeat(256)));
    let rg = |d: &str| Rg(d.to_owned());
    let p = |component, upper_case| Path {
        component,
        upper_case,
    };
    let cases: Vec<(&str, ParseError)> = vec![
        ("", Empty),
        (&id, Identifier),
        (&long, TooLong),
        ("Nginx/API", p(1, true)),
        ("team/Api:1", p(2, true)),
        ("UPPER", p(1, true)),
        ("a b", p(1, false)),
        ("registry.example.com/", p(1, false)),
        ("//a", p(1, false)),
        ("team//api", p(2, false)),
        ("api_/x", p(1, false)),
        ("ghcr.io/o/a.-b", p(2, false)),
        ("a..b", p(1, false)),
        ("a___b", p(1, false)),
        ("[zz]/api", p(1, false)),
        ("nginx:", Tg),
        ("nginx:-x", Tg),
        ("nginx::1", Tg),
        ("nginx@sha256:abc", Dg),
        (&upper_hex, Dg),
        ("nginx@md5", Dg),
        ("nginx@1sha:0123456789abcdef0123456789abcdef", Dg),
        ("reg_istry.example.com/api", rg("reg_istry.example.com")),
        ("localhost:port/api", rg("localhost:port")),
        ("-r.io/api", rg("-r.io")),
        ("[zz]:5000/api", rg("[zz]:5000")),
        ("[::1]x/api", rg("[::1]x")),
        ("r.io:/api", rg("r.io:")),
    ];
    for (input, want) in cases {
        assert_eq!(Reference::parse(input), Err(want), "{input:?}");
    }
}

#[test]
fn parts_keep_what_was_written() {
    let p = Parts::parse("team/api").unwrap();
    assert_eq!((p.registry, p.repository.as_str()), (None, "team/api"));
    let p = Parts::parse("docker.io/alpine").unwrap();
    assert_eq!(p.registry.unwrap().as_str(), "docker.io");
    assert_eq!(
        p.repository.as_str(),
        "alpine",
        "no library/ when as written"
    );
    let p = Parts::parse(&format!("r.io:5000/a:v1@{D}")).unwrap();
    assert_eq!(p.tag.unwrap().as_str(), "v1");
    assert_eq!(p.digest.unwrap().as_str(), D);
}

#[test]
fn domains() {
    // input, host, port, loopback, Docker Hub
    let cases = [
        ("ghcr.io", "ghcr.io", None, false, false),
        ("localhost:5000", "localhost", Some("5000"), true, false),
        ("127.8.9.10", "127.8.9.10", None, true, false),
        ("[::1]:5000", "[::1]", Some("5000"), true, false),
        ("10.0.0.1:443", "10.0.0.1", Some("443"), false, false),
        ("docker.io", "docker.io", None, false, true),
        ("index.docker.io", "index.docker.io", None, false, true),
        (
            "registry-1.docker.io",
            "registry-1.docker.io",
            None,
            false,
            true,
        ),
    ];
    for (input, host, port, loopback, hub) in cases {
        let d = Domain::parse(input).unwrap();
        let got = (d.host(), d.port(), d.is_loopback(), d.is_docker_hub());
        assert_eq!(got, (host, port, loopback, hub), "{input}");
    }
    for bad in [
        "", ":5000", "a:", "a:b", "a_b", "a.", ".a", "[]", "[::1", "a b",
    ] {
        assert!(Domain::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn tags_and_digests() {
    assert!(Tag::parse(&"a".repeat(128)).is_ok());
    assert!(Tag::parse(&"a".repeat(129)).is_err());
    assert!(Tag::parse("_x").is_ok());
    assert!(Tag::parse(".x").is_err());
    let sanitized = |v: &str| Tag::sanitize(v).map(|t| t.as_str().to_owned());
    assert_eq!(sanitized("release/1.0").as_deref(), Some("release-1.0"));
    assert_eq!(sanitized("-.x").as_deref(), Some("x"));
    assert_eq!(sanitized("///"), None);
    assert_eq!(sanitized(&"a".repeat(200)).map(|t| t.len()), Some(128));

    let empty = Digest::of(b"");
    let want = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(empty.as_str(), want);
    assert_eq!(empty.short(), "sha256:e3b0c44298fc");
    assert!(Digest::parse(&format!("sha512:{}", "0".repeat(128))).is_ok());
    assert!(Digest::parse(&format!("sha512:{}", "0".repeat(64))).is_err());
    assert!(Digest::parse(&format!("sha256+b64.x:{}", "F".repeat(32))).is_ok());
    assert!(Digest::parse("sha512:00").is_err());
}

/// What the image gate prints as `image-ref` (`registry/path@digest`, built from
/// parts) always parses back to the same reference, for every registry and path form.
#[test]
fn built_references_round_trip() {
    let registries = [
        "ghcr.io",
        "127.0.0.1:5000",
        "localhost",
        "[::1]:5000",
        "docker.io",
        "index.docker.io",
        "Registry.Example.COM:443",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    ];
    let paths = ["api", "team/api", "a.b/c_d/e__f/g--h", "x0/9y/z"];
    let tags = [None, Some("v1"), Some("sha-ec26c3e"), Some("_x.Y-1")];
    for reg in registries {
        for path in paths {
            for tag in tags {
                let domain = Domain::parse(reg).unwrap();
                let mut built = Reference::new(Some(domain), Repository::parse(path).unwrap());
                if let Some(t) = tag {
                    built = built.with_tag(Tag::parse(t).unwrap());
                }
                let built = built.with_digest(Digest::of(path.as_bytes()));
                let text = built.to_string();
                let parsed = Reference::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(parsed, built, "{text}");
                assert_eq!(parsed.to_string(), text);
            }
        }
    }
}

/// One pass over the input: a long hostile reference is refused (or accepted) without
/// blowing up.
#[test]
fn hostile_inputs_are_linear() {
    let many_dashes = format!("a{}b", "-".repeat(100_000));
    assert_eq!(Repository::parse(&many_dashes), Err(ParseError::TooLong));
    let deep = "a/".repeat(50_000);
    assert!(Reference::parse(&deep).is_err());
    let colons = format!("r.io/a{}", ":".repeat(100_000));
    assert_eq!(Reference::parse(&colons), Err(ParseError::Tag));
}

#[test]
fn the_module_example() {
    let r = Reference::parse("nginx:1.27").unwrap();
    assert_eq!(r.registry().as_str(), "docker.io");
    assert_eq!(r.repository().as_str(), "library/nginx");
    assert_eq!(r.tag().map(|t| t.as_str()), Some("1.27"));
    assert_eq!(r.to_string(), "docker.io/library/nginx:1.27");
    assert_eq!(r.as_written(), "nginx:1.27");
}
