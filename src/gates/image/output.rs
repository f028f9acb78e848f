//! Reading what docker prints: the digest `docker push` reports, buildx's metadata file,
//! whether a failure is worth retrying, and whether a failed build is the change's doing.
//! Pure: text in, values out. Docker's output is the pull request's text; nothing here
//! prints it.

use crate::oci::Digest;

/// The digest `docker push` reports for a tag: the line `<tag>: digest: sha256:... size: N`.
pub(super) fn parse_push_digest(output: &str, tag: &str) -> Option<(Digest, u64)> {
    output.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix(tag)?.strip_prefix(": digest: ")?;
        let (digest, size) = rest.split_once(" size: ")?;
        Some((
            Digest::parse(digest.trim()).ok()?,
            size.trim().parse().ok()?,
        ))
    })
}

/// What `docker buildx build --metadata-file` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BuildxMetadata {
    /// `containerimage.digest`: the manifest (or index) digest, present when pushed.
    pub digest: Option<Digest>,
    /// `containerimage.config.digest`: the image id.
    pub config_digest: Option<Digest>,
}

/// Read buildx's metadata file; `None` when it is not the JSON object buildx writes.
pub(super) fn parse_buildx_metadata(json: &str) -> Option<BuildxMetadata> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let get = |k: &str| {
        v.get(k)
            .and_then(|d| d.as_str())
            .and_then(|d| Digest::parse(d).ok())
    };
    v.is_object().then(|| BuildxMetadata {
        digest: get("containerimage.digest"),
        config_digest: get("containerimage.config.digest"),
    })
}

/// Whether a failed push was refused because the tag exists and the registry does not
/// overwrite tags: Amazon ECR's `ImageTagAlreadyExistsException` (the registry API says "tag
/// invalid: The image tag '..' already exists in the '..' repository and cannot be
/// overwritten because the repository is immutable"), Harbor's and others' "immutable" tag
/// rules.
pub(super) fn is_tag_refused(output: &str) -> bool {
    let text = output.to_ascii_lowercase();
    text.contains("imagetagalreadyexistsexception")
        || text.contains("cannot be overwritten")
        || (text.contains("immutable") && (text.contains("tag") || text.contains("manifest")))
}

/// Whether a failed `docker push` (or registry call) is worth retrying: dropped
/// connections, timeouts, 5xx and 429. Authentication and permission errors are not.
pub(super) fn is_transient(output: &str) -> bool {
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

/// Whether a line is BuildKit's bookkeeping rather than what a person needs to see why a
/// build failed: blank lines, and step lines (`#<n> ...`) that only carry a digest, a
/// timing (`DONE 0.1s`), a context transfer, a cache hit, an internal step or a `...`
/// continuation mark. Left out of
/// the last lines shown, so those are the build's own.
pub(super) fn is_bookkeeping(line: &str) -> bool {
    let line = line.trim_end();
    if line.is_empty() {
        return true;
    }
    let Some(rest) = line.strip_prefix('#') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Some(rest) = rest[digits..].strip_prefix(' ').filter(|_| digits > 0) else {
        return false;
    };
    // `#3 ...` marks a step whose output resumes after another step's lines.
    rest == "..."
        || ["sha256:", "DONE ", "transferring ", "CACHED", "[internal] "]
            .iter()
            .any(|p| rest.starts_with(p))
}

/// Whether a failed build failed because of what it was given (the Dockerfile or the
/// build context), judged from the last line docker printed on stderr as it exited: a `RUN`
/// step that ran and exited non-zero, a `COPY`/`ADD` source the context does not have, a
/// Dockerfile that does not parse. Anything else (the daemon, a registry or the network
/// while pulling a base image, the disk, a push) is not the change's doing. The wordings
/// are BuildKit's (docker 20.10 and later) and the legacy builder's.
pub(super) fn broken_by_the_change(error_line: &str) -> bool {
    let l = error_line.to_ascii_lowercase();
    // "executor failed running [/bin/sh -c x]: exit code: 3" (BuildKit 0.8-0.10),
    // "process \"/bin/sh -c x\" did not complete successfully: exit code: 3" (later),
    // "The command '/bin/sh -c x' returned a non-zero code: 3" (legacy). Without an exit
    // code the step never ran ("executor failed running [...]: network bridge not found").
    let exit_code = |marker: &str| {
        l.rsplit_once(marker)
            .is_some_and(|(_, code)| code.trim().parse::<i64>().is_ok())
    };
    let run_failed = ((l.contains("executor failed running")
        || l.contains("did not complete successfully"))
        && exit_code("exit code: "))
        || exit_code("returned a non-zero code: ");
    // "failed to compute cache key: \"/x\" not found: not found" (BuildKit),
    // "COPY failed: file not found in build context ..." (legacy).
    let source_missing = (l.contains("failed to compute cache key") && l.contains("not found"))
        || l.contains("copy failed: file not found")
        || l.contains("add failed: file not found")
        || l.contains("no source files were specified");
    // "dockerfile parse error line 1: unknown instruction: FROMM" (both).
    let unparsable = l.contains("dockerfile parse error");
    // buildah: `Error: building at STEP "RUN x": exit status 3`, `Error: building at STEP
    // "COPY a /a": checking on sources under "..": ... no such file or directory`, `Error:
    // no FROM statement found`.
    let buildah = (l.contains("building at step")
        && (exit_code("exit status ") || l.contains("checking on sources")))
        || l.contains("no from statement found");
    run_failed || source_missing || unparsable || buildah
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn refused_overwrites_are_recognised() {
        for t in [
            "tag invalid: The image tag 'v1' already exists in the 'team/api' repository and cannot be overwritten because the repository is immutable.",
            "An error occurred (ImageTagAlreadyExistsException) when calling the PutImage operation",
            "unknown: The image tag is immutable: harbor rule",
        ] {
            assert!(is_tag_refused(t), "{t}");
            assert!(!is_transient(t), "{t}");
        }
        for t in [
            "denied: requested access to the resource is denied",
            "connection reset by peer",
        ] {
            assert!(!is_tag_refused(t), "{t}");
        }
    }

    #[test]
    fn builds_broken_by_the_change() {
        for line in [
            "executor failed running [/bin/sh -c echo hi && exit 3]: exit code: 3",
            "ERROR: failed to solve: process \"/bin/sh -c false\" did not complete successfully: exit code: 1",
            "The command '/bin/sh -c false' returned a non-zero code: 1",
            "failed to compute cache key: \"/missing.txt\" not found: not found",
            "ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref abc::def: \"/missing.txt\": not found",
            "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist",
            "ADD failed: file not found in build context or excluded by .dockerignore: stat x: file does not exist",
            "failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 1: unknown instruction: FROMM",
            "Error response from daemon: dockerfile parse error line 1: unknown instruction: FROMM",
            "Error: building at STEP \"RUN /bin/sh -c exit 3\": exit status 3",
            "Error: building at STEP \"COPY nope /nope\": checking on sources under \"/tmp/ctx\": copier: stat: \"/nope\": no such file or directory",
            "Error: no FROM statement found",
        ] {
            assert!(broken_by_the_change(line), "{line}");
        }
        for line in [
            "executor failed running [/bin/sh -c echo hi]: network bridge not found",
            "failed to solve with frontend dockerfile.v0: failed to create LLB definition: failed to do request: Head \"https://nonexistent.invalid/v2/x/manifests/1\": dial tcp: lookup nonexistent.invalid: no such host",
            "Get \"https://nonexistent.invalid/v2/\": dial tcp: lookup nonexistent.invalid on 10.0.0.53:53: no such host",
            "failed to solve: rpc error: code = Unknown desc = failed to copy: write /var/lib/docker/x: no space left on device",
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            "ERROR: failed to solve: failed to push r.io/a:v1: unexpected status: 401 Unauthorized",
            "pull access denied for nope, repository does not exist or may require 'docker login'",
            "Error: creating build container: initializing source docker://nope.invalid/x:1: pinging container registry nope.invalid: Get \"https://nope.invalid/v2/\": dial tcp: lookup nope.invalid: no such host",
            "",
        ] {
            assert!(!broken_by_the_change(line), "{line}");
        }
    }

    #[test]
    fn buildkit_bookkeeping() {
        for line in [
            "",
            "  ",
            "#3 sha256:900721c440c88cd9508446dea2f1ded4982147c9020ac9334d6e2b6b82f7cc49",
            "#3 DONE 0.0s",
            "#12 transferring context: 2B done",
            "#4 CACHED",
            "#3 ...",
            "#1 [internal] load build definition from Dockerfile",
        ] {
            assert!(is_bookkeeping(line), "{line:?}");
        }
        for line in [
            "#4 [1/2] FROM docker.io/library/busybox",
            "#5 0.457 DONE with the tests",
            "#5 ERROR: executor failed running [/bin/sh -c false]: exit code: 1",
            "# DONE 0.0s",
            "#x DONE 0.0s",
            "------",
            "Step 2/2 : RUN false",
        ] {
            assert!(!is_bookkeeping(line), "{line:?}");
        }
    }
}
