//! What to run, decided without running it: default tags, the automatic OCI labels, the
//! argument vectors of `docker buildx build`, `docker build` and `docker push`, and the
//! reading of what those commands print (push digests, buildx metadata, transient errors).
//!
//! Everything here is pure: values in, values out. `mod.rs` runs the commands.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use super::config::{ImageRef, Registry, Tag};

/// A content digest, `sha256:` and 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(String);

impl Digest {
    /// Parse a digest; only sha256 is produced by registries and builders today.
    pub fn parse(value: &str) -> Option<Self> {
        let hex = value.strip_prefix("sha256:")?;
        (hex.len() == 64
            && hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)))
        .then(|| Self(value.to_owned()))
    }

    /// The digest of some bytes.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        let sum = sha2::Sha256::digest(bytes);
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("sha256:{hex}"))
    }

    /// `sha256:...`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Facts about the workflow run that go into default tags and labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// `GITHUB_SERVER_URL`.
    pub server_url: Option<String>,
    /// `GITHUB_REPOSITORY`.
    pub repository: Option<String>,
    /// `GITHUB_SHA`.
    pub sha: Option<String>,
    /// `GITHUB_REF`, e.g. `refs/tags/v1.2.3`.
    pub git_ref: Option<String>,
    /// `GITHUB_REF_TYPE`, `branch` or `tag`.
    pub ref_type: Option<String>,
    /// `GITHUB_REF_NAME`.
    pub ref_name: Option<String>,
    /// When the build started, RFC 3339.
    pub created: String,
}

impl RunInfo {
    /// The first 7 characters of the commit, as `git rev-parse --short` prints by default.
    pub fn short_sha(&self) -> Option<&str> {
        let sha = self.sha.as_deref()?;
        (sha.len() >= 7 && sha.is_char_boundary(7)).then(|| &sha[..7])
    }

    /// The git tag name on tag pushes.
    pub fn git_tag(&self) -> Option<&str> {
        if let Some(t) = self
            .git_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/tags/"))
        {
            return Some(t);
        }
        (self.ref_type.as_deref() == Some("tag"))
            .then_some(self.ref_name.as_deref())
            .flatten()
    }
}

/// Tags when `tags` is not given: `sha-<short sha>`, plus the git tag (made a valid image
/// tag) on tag pushes. Empty when the run has no commit to name.
pub fn default_tags(run: &RunInfo) -> Vec<Tag> {
    let mut tags: Vec<Tag> = run
        .short_sha()
        .and_then(|s| Tag::parse(&format!("sha-{s}")).ok())
        .into_iter()
        .collect();
    if let Some(t) = run.git_tag().and_then(Tag::sanitize)
        && !tags.contains(&t)
    {
        tags.push(t);
    }
    tags
}

/// The standard OCI labels from the run
/// (<https://github.com/opencontainers/image-spec/blob/main/annotations.md>); missing facts
/// are left out rather than written empty.
pub fn oci_labels(run: &RunInfo) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    if let Some(repo) = &run.repository {
        let server = run
            .server_url
            .as_deref()
            .unwrap_or("https://github.com")
            .trim_end_matches('/');
        labels.push((
            "org.opencontainers.image.source".to_owned(),
            format!("{server}/{repo}"),
        ));
    }
    if let Some(sha) = &run.sha {
        labels.push(("org.opencontainers.image.revision".to_owned(), sha.clone()));
    }
    if !run.created.is_empty() {
        labels.push((
            "org.opencontainers.image.created".to_owned(),
            run.created.clone(),
        ));
    }
    if let Some(version) = run.git_tag().or_else(|| run.short_sha()) {
        labels.push((
            "org.opencontainers.image.version".to_owned(),
            version.to_owned(),
        ));
    }
    labels
}

/// The automatic labels overridden by the user's (a user label with the same key wins and
/// takes the automatic one's place), then the user's other labels in their order.
pub fn merge_labels(
    automatic: &[(String, String)],
    user: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = automatic
        .iter()
        .map(|(k, v)| {
            let v = user
                .iter()
                .rev()
                .find(|(uk, _)| uk == k)
                .map_or(v, |(_, uv)| uv);
            (k.clone(), v.clone())
        })
        .collect();
    for (k, v) in user {
        match out.iter_mut().find(|(ok, _)| ok == k) {
            Some(slot) => slot.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

/// `registry/image:tag` for each tag.
pub fn full_refs(registry: &Registry, image: &ImageRef, tags: &[Tag]) -> Vec<String> {
    tags.iter()
        .map(|t| format!("{registry}/{image}:{t}"))
        .collect()
}

/// Everything a build needs, resolved (paths absolute or relative to the cwd of the child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRequest<'a> {
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
}

/// `docker buildx build ...`: every tag in one build; with `push`, `--push` (the registry
/// receives the image during the build), otherwise `--load` for a single platform (a
/// multi-platform result cannot be loaded into the engine's image store and stays in the
/// build cache). `--metadata-file` is where buildx writes the pushed digest.
pub fn buildx_argv(req: &BuildRequest<'_>, metadata_file: &Path, iidfile: &Path) -> Vec<OsString> {
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
pub fn docker_build_argv(req: &BuildRequest<'_>, iidfile: &Path) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["build".into()];
    common_flags(req, &mut argv);
    argv.push("--iidfile".into());
    argv.push(iidfile.into());
    argv.push(req.context.into());
    argv
}

/// `docker push <ref>`.
pub fn push_argv(reference: &str) -> Vec<OsString> {
    vec!["push".into(), reference.into()]
}

/// The digest `docker push` reports for a tag: the line `<tag>: digest: sha256:... size: N`.
pub fn parse_push_digest(output: &str, tag: &str) -> Option<(Digest, u64)> {
    output.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix(tag)?.strip_prefix(": digest: ")?;
        let (digest, size) = rest.split_once(" size: ")?;
        Some((Digest::parse(digest.trim())?, size.trim().parse().ok()?))
    })
}

/// What `docker buildx build --metadata-file` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildxMetadata {
    /// `containerimage.digest`: the manifest (or index) digest, present when pushed.
    pub digest: Option<Digest>,
    /// `containerimage.config.digest`: the image id.
    pub config_digest: Option<Digest>,
}

/// Read buildx's metadata file; `None` when it is not the JSON object buildx writes.
pub fn parse_buildx_metadata(json: &str) -> Option<BuildxMetadata> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let get = |k: &str| v.get(k).and_then(|d| d.as_str()).and_then(Digest::parse);
    v.is_object().then(|| BuildxMetadata {
        digest: get("containerimage.digest"),
        config_digest: get("containerimage.config.digest"),
    })
}

/// Whether a failed `docker push` (or registry call) is worth retrying: dropped
/// connections, timeouts, 5xx and 429. Authentication and permission errors are not.
pub fn is_transient(output: &str) -> bool {
    let text = output.to_ascii_lowercase();
    let permanent = [
        "unauthorized",
        "denied",
        "authentication required",
        "forbidden",
        "name unknown",
        "manifest invalid",
    ];
    if permanent.iter().any(|p| text.contains(p)) {
        return false;
    }
    let transient = [
        "connection reset",
        "connection refused",
        "broken pipe",
        "i/o timeout",
        "tls handshake timeout",
        "timeout exceeded",
        "unexpected eof",
        ": eof",
        "toomanyrequests",
        "too many requests",
        "429",
        "500 internal server error",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway timeout",
        "received unexpected http status: 5",
    ];
    transient.iter().any(|t| text.contains(t))
}

/// The folders the docker CLI looks for plugins in: `cliPluginsExtraDirs` from its
/// `config.json`, `<config dir>/cli-plugins`, then the system folders.
pub fn plugin_dirs(user_config_dir: Option<&Path>, extra: &[PathBuf]) -> Vec<PathBuf> {
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
pub fn plugin_extra_dirs(config_json: &str) -> Vec<PathBuf> {
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

    fn run() -> RunInfo {
        RunInfo {
            server_url: Some("https://github.com".into()),
            repository: Some("octo/hello".into()),
            sha: Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821".into()),
            git_ref: Some("refs/heads/main".into()),
            ref_type: Some("branch".into()),
            ref_name: Some("main".into()),
            created: "2026-01-02T03:04:05Z".into(),
        }
    }

    #[test]
    fn default_tags_follow_the_run() {
        let tags = |r: &RunInfo| {
            default_tags(r)
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(tags(&run()), ["sha-ec26c3e"]);
        let tag_push = RunInfo {
            git_ref: Some("refs/tags/v1.2.3".into()),
            ref_type: Some("tag".into()),
            ref_name: Some("v1.2.3".into()),
            ..run()
        };
        assert_eq!(tags(&tag_push), ["sha-ec26c3e", "v1.2.3"]);
        let odd_tag = RunInfo {
            git_ref: Some("refs/tags/release/2.0".into()),
            ..run()
        };
        assert_eq!(tags(&odd_tag), ["sha-ec26c3e", "release-2.0"]);
        let only_type = RunInfo {
            git_ref: None,
            ref_type: Some("tag".into()),
            ref_name: Some("v9".into()),
            ..run()
        };
        assert_eq!(tags(&only_type), ["sha-ec26c3e", "v9"]);
        assert!(default_tags(&RunInfo::default()).is_empty());
    }

    #[test]
    fn oci_labels_and_user_labels_win() {
        let auto = oci_labels(&run());
        assert_eq!(
            auto,
            [
                (
                    "org.opencontainers.image.source".to_owned(),
                    "https://github.com/octo/hello".to_owned()
                ),
                (
                    "org.opencontainers.image.revision".to_owned(),
                    "ec26c3e57ca3a959ca5aad62de7213c562f8c821".to_owned()
                ),
                (
                    "org.opencontainers.image.created".to_owned(),
                    "2026-01-02T03:04:05Z".to_owned()
                ),
                (
                    "org.opencontainers.image.version".to_owned(),
                    "ec26c3e".to_owned()
                ),
            ]
        );
        let tagged = RunInfo {
            git_ref: Some("refs/tags/v2".into()),
            ..run()
        };
        assert_eq!(oci_labels(&tagged)[3].1, "v2");
        assert!(
            oci_labels(&RunInfo::default()).is_empty(),
            "nothing known, nothing invented"
        );

        let user = vec![
            ("team".to_owned(), "payments".to_owned()),
            (
                "org.opencontainers.image.version".to_owned(),
                "1.0.0".to_owned(),
            ),
            ("team".to_owned(), "billing".to_owned()),
        ];
        let merged = merge_labels(&auto, &user);
        assert_eq!(merged.len(), 5);
        assert_eq!(
            merged[3],
            (
                "org.opencontainers.image.version".to_owned(),
                "1.0.0".to_owned()
            )
        );
        assert_eq!(
            merged[4],
            ("team".to_owned(), "billing".to_owned()),
            "the last duplicate wins"
        );
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
        }
    }

    #[test]
    fn buildx_argv_has_everything_in_one_build() {
        let reg = Registry::parse("ghcr.io").unwrap();
        let tags = [Tag::parse("v1").unwrap(), Tag::parse("latest").unwrap()];
        let img = config_image("octo/app");
        let refs = full_refs(&reg, &img, &tags);
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

    fn config_image(name: &str) -> ImageRef {
        use crate::runner::inputs::RawInputs;
        let raw = RawInputs::from_named([("image", name), ("registry", "r.io")]);
        super::super::config::ImageConfig::try_from(&raw)
            .unwrap()
            .image
    }

    #[test]
    fn docker_build_argv_and_push() {
        let refs = vec!["127.0.0.1:5000/team/api:sha-1234567".to_owned()];
        let req = BuildRequest {
            context: Path::new("."),
            dockerfile: Path::new("./Dockerfile"),
            refs: &refs,
            labels: &[],
            build_args: &[],
            target: None,
            platforms: &[],
            cache_from: &["type=gha".to_owned()],
            cache_to: &["type=gha".to_owned()],
            push: true,
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
    fn push_output_digest() {
        let out = "The push refers to repository [127.0.0.1:5101/demo/hello]\n\
                   5f70bf18a086: Pushed\n\
                   v1: digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef size: 528\n";
        let (d, size) = parse_push_digest(out, "v1").unwrap();
        assert_eq!(
            d.as_str(),
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        );
        assert_eq!(size, 528);
        assert_eq!(parse_push_digest(out, "v2"), None);
        assert_eq!(
            parse_push_digest("v1: digest: sha256:zz size: 1", "v1"),
            None
        );
    }

    #[test]
    fn buildx_metadata() {
        let json = r#"{
          "buildx.build.ref": "builder/builder0/abc",
          "containerimage.config.digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
          "containerimage.digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
          "image.name": "ghcr.io/octo/app:v1,ghcr.io/octo/app:latest"
        }"#;
        let m = parse_buildx_metadata(json).unwrap();
        assert_eq!(m.digest.unwrap().as_str().chars().last(), Some('2'));
        assert_eq!(m.config_digest.unwrap().as_str().chars().last(), Some('1'));
        assert_eq!(parse_buildx_metadata("{}").unwrap().digest, None);
        assert_eq!(parse_buildx_metadata("not json"), None);
    }

    #[test]
    fn digests() {
        assert_eq!(
            Digest::of(b"").as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(
            Digest::parse(
                "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
            )
            .is_none()
        );
        assert!(Digest::parse("sha512:00").is_none());
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

    #[test]
    fn transient_errors() {
        for t in [
            "write tcp 127.0.0.1:1->127.0.0.1:2: write: connection reset by peer",
            "received unexpected HTTP status: 502 Bad Gateway",
            "toomanyrequests: rate limit",
            "net/http: TLS handshake timeout",
            "Put \"https://r/v2/x/blobs/uploads/\": EOF",
        ] {
            assert!(is_transient(t), "{t}");
        }
        for p in [
            "unauthorized: authentication required",
            "denied: requested access to the resource is denied",
            "An image does not exist locally with the tag: x",
        ] {
            assert!(!is_transient(p), "{p}");
        }
    }
}
