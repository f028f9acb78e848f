//! What the gate pushes: every tag at the digest the registry serves, the automatic OCI
//! labels with the user's winning, default tags on a tag push, and a build without a push.

use super::*;

#[test]
fn pushes_two_tags_with_a_password_and_verifies_the_digest() {
    let reg = registry();
    let image = "it/password";
    let h = with_password(gate(image), &reg)
        .input("tags", "v1\nlatest")
        .input(
            "labels",
            "org.opencontainers.image.version=1.0.0\nteam=payments",
        )
        .input("build-args", "GREETING=bonjour");
    let secrets = secret_forms(&reg.user, &reg.password);
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(0);

    let digest = run.output("digest").expect("digest output").to_owned();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    for tag in ["v1", "latest"] {
        assert_eq!(
            served_digest(&reg, image, tag).as_deref(),
            Some(digest.as_str()),
            "registry digest of {tag}"
        );
    }
    assert_eq!(registry_tags(&reg, image), ["latest", "v1"]);
    assert_eq!(
        run.output("image-ref"),
        Some(format!("{}/{image}@{digest}", reg.host).as_str())
    );
    assert_eq!(
        run.output("tags"),
        Some(format!("{0}/{image}:v1\n{0}/{image}:latest", reg.host).as_str())
    );
    assert_eq!(run.output("registry"), Some(reg.host.as_str()));
    assert_eq!(run.output("result"), Some("pass"));
    let image_id = run.output("image-id").unwrap();
    assert!(image_id.starts_with("sha256:"), "{run}");
    assert_ne!(
        image_id, digest,
        "the image id is the config digest, not the manifest digest"
    );

    // Labels: automatic OCI labels, the user's win, build args reach the build.
    let labels = docker_labels(&format!("{}/{image}:v1", reg.host));
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://github.com/octo/hello"
    );
    assert_eq!(labels["org.opencontainers.image.revision"], SHA);
    assert_eq!(
        labels["org.opencontainers.image.version"], "1.0.0",
        "user labels win"
    );
    assert_eq!(labels["team"], "payments");
    assert_eq!(labels["org.example.greeting"], "bonjour");
    let created = labels["org.opencontainers.image.created"].as_str().unwrap();
    assert!(
        created.parse::<jiff::Timestamp>().is_ok(),
        "RFC 3339: {created}"
    );

    // The summary names tags, digest, size, durations and the auth path.
    for needle in [
        digest.as_str(),
        "| Size |",
        "| Build |",
        "| Push |",
        "`registry-username`/`registry-password`",
        ":v1`",
        ":latest`",
    ] {
        assert!(
            run.summary.contains(needle),
            "summary lacks {needle:?}\n{run}"
        );
    }
    // Build output is streamed inside groups.
    assert!(run.stdout.contains("::group::docker build"), "{run}");
    assert!(run.stdout.contains("::group::docker push"), "{run}");

    assert_no_secrets(&run, &secrets);
    assert!(
        seen.saw_docker,
        "the sampler never saw docker running: it proves nothing"
    );
    assert!(
        seen.leaked_cmdlines.is_empty(),
        "secret on a command line: {:?}",
        seen.leaked_cmdlines
    );
    assert!(
        seen.modes.contains(&("dir".into(), 0o700)),
        "{:?}",
        seen.modes
    );
    assert!(
        seen.modes.contains(&("config.json".into(), 0o600)),
        "{:?}",
        seen.modes
    );
    assert!(
        seen.modes.iter().all(|(_, m)| m & 0o077 == 0),
        "nothing readable by others: {:?}",
        seen.modes
    );
    assert_private_dir_gone(&h);
}

#[test]
fn default_tags_on_a_tag_push() {
    let reg = registry();
    let image = "it/defaults";
    let h = with_password(gate(image), &reg)
        .env("GITHUB_REF", "refs/tags/v1.2.3")
        .env("GITHUB_REF_TYPE", "tag")
        .env("GITHUB_REF_NAME", "v1.2.3");
    let run = h.run();
    run.assert_code(0);
    assert_eq!(registry_tags(&reg, image), ["sha-ec26c3e", "v1.2.3"]);
    let digest = run.output("digest").unwrap();
    assert_eq!(
        served_digest(&reg, image, "v1.2.3").as_deref(),
        Some(digest)
    );
    let labels = docker_labels(&format!("{}/{image}:v1.2.3", reg.host));
    // A semantic version's `v` is not part of the version (as docker/metadata-action).
    assert_eq!(labels["org.opencontainers.image.version"], "1.2.3");
}

/// On `pull_request` the commit is the pull request's head, not `GITHUB_SHA` (the test
/// merge commit): in the default tag, a template's `{{sha}}` and the revision label.
#[test]
fn pull_request_tags_and_labels_name_the_head_commit() {
    const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";
    let reg = registry();
    let image = "it/pr-head";
    let payload = serde_json::json!({
        "number": 7,
        "repository": {"full_name": "octo/hello", "default_branch": "main"},
        "pull_request": {
            "number": 7,
            "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": "octo/hello"}},
            "base": {"sha": "1111111111111111111111111111111111111111", "ref": "main",
                     "repo": {"full_name": "octo/hello"}}
        }
    });
    let build = |tags: Option<&str>| {
        let h = with_password(gate(image), &reg)
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_REF", "refs/pull/7/merge")
            .env("GITHUB_REF_NAME", "7/merge");
        std::fs::write(h.path("event.json"), payload.to_string()).unwrap();
        let event = h.path("event.json").display().to_string();
        let h = h.env("GITHUB_EVENT_PATH", event);
        let h = match tags {
            Some(t) => h.input("tags", t),
            None => h,
        };
        let run = h.run();
        run.assert_code(0);
        run
    };
    build(None);
    build(Some(
        "pr-{{pr}}\n{{branch}}\nlatest @default-branch\nv{{major}}",
    ));
    assert_eq!(registry_tags(&reg, image), ["pr-7", "sha-0123456"]);
    let labels = docker_labels(&format!("{}/{image}:pr-7", reg.host));
    assert_eq!(labels["org.opencontainers.image.revision"], HEAD);
    assert_eq!(labels["org.opencontainers.image.version"], "0123456");
}

#[test]
fn push_false_builds_only() {
    let reg = registry();
    let image = "it/no-push";
    let h = with_password(gate(image), &reg)
        .input("push", "false")
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(0);
    assert_eq!(run.output("result"), Some("pass"));
    assert_eq!(run.output("digest"), Some(""));
    assert_eq!(run.output("image-ref"), Some(""));
    assert!(run.output("image-id").unwrap().starts_with("sha256:"));
    assert!(registry_tags(&reg, image).is_empty());
    assert!(run.summary.contains("not pushed"), "{run}");
}
