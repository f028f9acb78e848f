//! Build secrets end to end: a Dockerfile whose `RUN --mount=type=secret` steps read a
//! `secrets` value and a `secret-files` file (with `network: none`, the only network a
//! `RUN` step has on hosts without a bridge), then proof that neither secret is anywhere it
//! must not be: the image's history, config and layers (as `docker save` writes them), the
//! config blob the registry serves, stdout/stderr, `GITHUB_OUTPUT`, the summary, the check
//! run sent to the mock GitHub API, and every `/proc/*/cmdline` sampled while the gate ran.

use sha2::Digest as _;

use super::*;
use crate::github_mock::MockGitHub;

const VALUE: &str = "tok-value-9f8e7d6c5b4a";
const FILE_VALUE: &str = "file-secret-0a1b2c3d4e";

fn sha256_hex(s: &str) -> String {
    format!("{:x}", sha2::Sha256::digest(s.as_bytes()))
}

/// `docker <args>` on the test engine, its stdout.
fn docker(args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn build_secrets_reach_run_steps_and_nothing_else() {
    let reg = registry();
    let image = "it/secrets";
    let ctx = busybox_context(
        "RUN --mount=type=secret,id=tok --mount=type=secret,id=from_file \
         sha256sum /run/secrets/tok /run/secrets/from_file > /sums\n",
    );
    let mock = MockGitHub::start();
    let token = "ghs_secretsTestToken0123456789";
    let h = with_password(gate(image), &reg)
        .env("GITHUB_API_URL", &mock.url)
        .input("github-token", token)
        .input("context", ctx.path().display().to_string())
        .input("network", "none")
        .input("secrets", format!("tok={VALUE}"))
        .input("secret-files", "from_file=build-secrets/token.txt")
        .input("tags", "v1");
    std::fs::create_dir(h.path("build-secrets")).expect("dir");
    std::fs::write(h.path("build-secrets/token.txt"), FILE_VALUE).expect("secret file");
    let mut secrets = secret_forms(&reg.user, &reg.password);
    secrets.extend([
        VALUE.to_owned(),
        FILE_VALUE.to_owned(),
        token.to_owned(),
        STANDARD.encode(VALUE),
        STANDARD.encode(FILE_VALUE),
    ]);
    let (run, seen) = run_watched(&h, &secrets);
    run.assert_code(0);
    assert!(seen.saw_docker, "the sampler saw the build running");
    assert!(
        run.stdout.contains(&format!("::add-mask::{VALUE}")),
        "the value is masked on its own\n{run}"
    );
    assert_nothing_leaked(&h, &run, &seen, &secrets);
    // The value sat in a 0600 file in a 0700 folder while the build ran.
    assert!(
        seen.modes.contains(&("secret".to_owned(), 0o600))
            && seen.modes.contains(&("secrets".to_owned(), 0o700)),
        "{:?}",
        seen.modes
    );

    // The check run the gate reported: valid, and clean.
    mock.assert_valid();
    let sent: String = mock
        .requests()
        .iter()
        .filter_map(|r| r.body.as_ref().map(ToString::to_string))
        .collect();
    assert!(
        sent.contains("\"conclusion\":\"success\""),
        "a check run was completed: {sent}"
    );
    for s in &secrets {
        assert!(!sent.contains(s.as_str()), "secret {s:?} in the check run");
    }

    // The RUN step read both secrets: their hashes are in the image...
    let reference = format!("{}/{image}:v1", reg.host);
    // `docker save` writes an uncompressed tar of uncompressed layer tars and the config:
    // every byte of the image, searchable as is.
    let saved = docker(&["save", &reference]);
    let contains = |s: &str| saved.windows(s.len()).any(|w| w == s.as_bytes());
    for line in [
        format!("{}  /run/secrets/tok", sha256_hex(VALUE)),
        format!("{}  /run/secrets/from_file", sha256_hex(FILE_VALUE)),
    ] {
        assert!(contains(&line), "the RUN step read the secret: {line}");
    }
    // ...and the secrets themselves are not, in any layer, the config or the history.
    for s in [VALUE, FILE_VALUE] {
        assert!(!contains(s), "secret in the saved image");
    }
    let history = docker(&["history", "--no-trunc", &reference]);
    let inspect = docker(&["image", "inspect", &reference]);
    for text in [&history, &inspect] {
        let text = String::from_utf8_lossy(text);
        assert!(text.contains("sha256sum") || text.contains("Id"), "{text}");
        assert!(
            !text.contains(VALUE) && !text.contains(FILE_VALUE),
            "{text}"
        );
    }
    // The config blob the registry serves.
    let digest = run.output("digest").expect("digest");
    let config = rt().block_on(async {
        let client = reqwest::Client::new();
        let manifest: serde_json::Value = client
            .get(format!("http://{}/v2/{image}/manifests/{digest}", reg.host))
            .basic_auth(&reg.user, Some(&reg.password))
            .header("Accept", ACCEPT)
            .send()
            .await
            .expect("manifest")
            .json()
            .await
            .expect("manifest json");
        let config_digest = manifest["config"]["digest"].as_str().expect("config");
        client
            .get(format!(
                "http://{}/v2/{image}/blobs/{config_digest}",
                reg.host
            ))
            .basic_auth(&reg.user, Some(&reg.password))
            .send()
            .await
            .expect("config blob")
            .text()
            .await
            .expect("config text")
    });
    assert!(
        config.contains("sha256sum"),
        "the RUN step is in the history"
    );
    assert!(!config.contains(VALUE) && !config.contains(FILE_VALUE));
}

#[test]
fn a_secret_file_outside_the_workspace_is_refused() {
    let reg = registry();
    let h = with_password(gate("it/secret-escape"), &reg)
        .input("secret-files", "tok=../outside.txt")
        .input("tags", "v1");
    let run = h.run();
    run.assert_code(2);
    assert_one_error(&run, "a relative path must stay inside the workspace");

    let outside = tempfile::tempdir().expect("temp");
    std::fs::write(outside.path().join("t"), "x").expect("file");
    let h = with_password(gate("it/secret-escape"), &reg).input("tags", "v1");
    std::os::unix::fs::symlink(outside.path().join("t"), h.path("link")).expect("symlink");
    let run = h.input("secret-files", "tok=link").run();
    run.assert_code(2);
    assert_one_error(&run, "leads out of the workspace through a symlink");
    assert!(registry_tags(&reg, "it/secret-escape").is_empty());
}
