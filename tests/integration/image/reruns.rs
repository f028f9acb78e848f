//! Safe re-runs: a tag that already holds this very image is not pushed again (a notice,
//! success, the same digest); a tag holding another image is overwritten where the registry
//! allows it, and is a clear error naming the tag and both digests where it does not (an
//! `IMMUTABLE` ECR repository in moto).

use super::*;

/// A workspace that is a git repository with one commit; that commit's sha.
fn git_workspace() -> (tempfile::TempDir, String) {
    let dir = tempfile::Builder::new()
        .prefix("image-git-")
        .tempdir()
        .expect("temp");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(args)
            .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
            .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    git(&[
        "-c",
        "user.name=ci",
        "-c",
        "user.email=ci@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "one",
    ]);
    let sha = git(&["rev-parse", "HEAD"]);
    (dir, sha)
}

fn at_commit(h: Harness, workspace: &Path, sha: &str) -> Harness {
    h.env("GITHUB_WORKSPACE", workspace.display().to_string())
        .env("GITHUB_SHA", sha)
}

#[test]
fn a_rerun_of_the_same_image_pushes_nothing_and_another_image_overwrites() {
    let reg = registry();
    let image = "it/rerun";
    let (ws, sha) = git_workspace();
    let run = |label: &str| {
        let h = at_commit(with_password(gate(image), &reg), ws.path(), &sha)
            .input("labels", format!("team={label}"))
            .input("tags", "v1");
        let run = h.run();
        run.assert_code(0);
        run
    };
    let first = run("a");
    let digest = first.output("digest").unwrap().to_owned();
    assert!(!first.stdout.contains("already holds"), "{first}");
    let labels = docker_labels(&format!("{}/{image}:v1", reg.host));
    assert_eq!(
        labels["org.opencontainers.image.created"], "2026-01-02T03:04:05Z",
        "created is the commit's time, so a re-run builds the same image"
    );

    let again = run("a");
    assert_eq!(again.output("digest"), Some(digest.as_str()));
    assert!(
        again.stdout.contains(&format!(
            "::notice title=already pushed::{}/{image}:v1 already holds this image ({digest}): nothing to push",
            reg.host
        )),
        "{again}"
    );
    assert!(
        !again.stdout.contains("Pushed ") && !again.stdout.contains("digest: sha256"),
        "docker push did not run\n{again}"
    );

    let other = run("b");
    let new = other.output("digest").unwrap();
    assert_ne!(new, digest, "another image");
    assert_eq!(served_digest(&reg, image, "v1").as_deref(), Some(new));
}

#[test]
fn an_immutable_ecr_repository_refuses_another_image_by_name_and_digests() {
    let reg = registry();
    let image = "it/immutable";
    let conf = aws_config();
    rt().block_on(async {
        let ecr = aws_sdk_ecr::Client::new(&conf);
        let _ = ecr
            .delete_repository()
            .repository_name(image)
            .force(true)
            .send()
            .await;
        ecr.create_repository()
            .repository_name(image)
            .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
            .send()
            .await
            .expect("immutable repository in moto");
    });
    let (ws, sha) = git_workspace();
    let run = |label: &str| {
        at_commit(gate(image), ws.path(), &sha)
            .input("registry", &reg.host)
            .input("ecr", "true")
            .input("labels", format!("team={label}"))
            .input("tags", "v1")
            .run()
    };
    let first = run("a");
    first.assert_code(0);
    let digest = first.output("digest").unwrap().to_owned();
    // The same image again: fine, nothing pushed.
    let again = run("a");
    again.assert_code(0);
    assert!(again.stdout.contains("already holds this image"), "{again}");
    // Another image under the same tag: refused before anything is pushed.
    let other = run("b");
    other.assert_code(2);
    assert_one_error(
        &other,
        &format!(
            "{}/{image}:v1 already holds {digest} and the registry does not overwrite tags; this build is a different image (config sha256:",
            reg.host
        ),
    );
    assert!(
        !other.stdout.contains("docker push"),
        "no push attempted\n{other}"
    );
    assert_eq!(
        served_digest(&reg, image, "v1").as_deref(),
        Some(digest.as_str())
    );
}

/// buildah stamps the image with the commit's time (`--timestamp`), so the same commit
/// builds the same image even without a build cache, and a re-run pushes nothing.
#[test]
fn a_buildah_rerun_of_the_same_commit_pushes_nothing() {
    let reg = registry();
    let image = "it/rerun-buildah";
    let (ws, sha) = git_workspace();
    let run = || {
        let h = at_commit(with_password(gate(image), &reg), ws.path(), &sha)
            .input("builder", "buildah")
            .input("tags", "v1");
        let run = h.run();
        run.assert_code(0);
        run
    };
    let first = run();
    let again = run();
    assert_eq!(again.output("digest"), first.output("digest"));
    assert_eq!(again.output("image-id"), first.output("image-id"));
    assert!(again.stdout.contains("already holds this image"), "{again}");
}
