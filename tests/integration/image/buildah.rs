//! `builder: buildah` end to end: no daemon, buildah's own push, the same outputs, the
//! digest verified against the registry, the htpasswd registry and the ECR path (moto);
//! `builder: auto` picking buildah when no Docker daemon answers; a build the change
//! breaks failing the gate, not erroring it.

use super::*;

/// The revision label of `image:tag` as the registry serves its config.
fn served_label(reg: &Registry, image: &str, tag: &str, label: &str) -> String {
    rt().block_on(async {
        let client = reqwest::Client::new();
        let manifest: serde_json::Value = client
            .get(format!("http://{}/v2/{image}/manifests/{tag}", reg.host))
            .basic_auth(&reg.user, Some(&reg.password))
            .header("Accept", ACCEPT)
            .send()
            .await
            .expect("manifest")
            .json()
            .await
            .expect("manifest json");
        let config = manifest["config"]["digest"].as_str().expect("config");
        let config: serde_json::Value = client
            .get(format!("http://{}/v2/{image}/blobs/{config}", reg.host))
            .basic_auth(&reg.user, Some(&reg.password))
            .send()
            .await
            .expect("config")
            .json()
            .await
            .expect("config json");
        config["config"]["Labels"][label]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    })
}

#[test]
fn buildah_builds_and_pushes_two_tags_with_a_password() {
    let reg = registry();
    let image = "it/buildah";
    let h = with_password(gate(image), &reg)
        .input("builder", "buildah")
        .input("tags", "v1\nlatest");
    let secrets = secret_forms(&reg.user, &reg.password);
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(0);
    let digest = run.output("digest").expect("digest");
    for tag in ["v1", "latest"] {
        assert_eq!(served_digest(&reg, image, tag).as_deref(), Some(digest));
    }
    assert_eq!(
        run.output("image-ref"),
        Some(format!("{}/{image}@{digest}", reg.host).as_str())
    );
    assert!(run.output("image-id").unwrap_or("").starts_with("sha256:"));
    assert!(run.summary.contains("(buildah)"), "{run}");
    assert!(run.stdout.contains("::group::buildah push"), "{run}");
    assert_eq!(
        served_label(&reg, image, "v1", "org.opencontainers.image.revision"),
        SHA
    );
    assert_nothing_leaked(&h, &run, &seen, &secrets);
}

#[test]
fn buildah_pushes_through_the_ecr_path() {
    let reg = registry();
    let image = "it/buildah-ecr";
    let h = gate(image)
        .input("registry", &reg.host)
        .input("ecr", "true")
        .input("create-repository", "true")
        .input("builder", "buildah")
        .input("tags", "v1");
    let secrets = secret_forms("AWS", &service_env("TEST_ECR_PASSWORD"));
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(0);
    assert_eq!(
        served_digest(&reg, image, "v1").as_deref(),
        run.output("digest")
    );
    assert!(run.summary.contains("Amazon ECR token"), "{run}");
    assert_nothing_leaked(&h, &run, &seen, &secrets);
}

#[test]
fn auto_picks_buildah_when_no_daemon_answers_and_says_so() {
    let reg = registry();
    let image = "it/buildah-auto";
    let h = with_password(gate(image), &reg)
        .env("DOCKER_HOST", "unix:///nonexistent")
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("as no Docker daemon answers at /nonexistent"),
        "{run}"
    );
    assert!(run.summary.contains("(buildah)"), "{run}");
    assert_eq!(
        served_digest(&reg, image, "v1").as_deref(),
        run.output("digest")
    );
    // With a daemon, auto keeps docker.
    let h = with_password(gate(image), &reg).input("tags", "v2");
    let run = h.run();
    run.assert_code(0);
    assert!(run.stdout.contains("(a Docker daemon answers)"), "{run}");
}

#[test]
fn a_failing_run_step_fails_the_buildah_gate() {
    let reg = registry();
    let ctx =
        broken_context("FROM scratch\nCOPY sh /bin/sh\nRUN [\"/bin/sh\", \"-c\", \"exit 3\"]\n");
    std::fs::copy("/bin/busybox", ctx.path().join("sh")).expect("busybox-static");
    let h = with_password(gate("it/buildah-broken"), &reg)
        .input("builder", "buildah")
        .input("context", ctx.path().display().to_string())
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(1);
    assert_eq!(run.output("result"), Some("fail"));
    assert!(run.summary.contains("exit status 3"), "{run}");
    assert!(registry_tags(&reg, "it/buildah-broken").is_empty());
}
