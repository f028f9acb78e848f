//! Rollback that always works: the gate restores the pod template it recorded before the
//! patch, so a Deployment with `revisionHistoryLimit: 0` (where `kubectl rollout undo` has
//! nothing to go back to) is restored; the rollback has its own budget
//! (`rollback-timeout`); an error after some workloads were patched rolls those back and
//! says so; and `container` may name an init container.

use super::{
    Drive, Hold, assert_contains, assert_error_line, cluster, deployment, drive,
    forbid_deployments, result_of, text, twins,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_works_without_any_history() {
    // The new revision rolls out completely (so the old ReplicaSet, scaled to zero, is
    // deleted at `revisionHistoryLimit: 0`), then the smoke command fails.
    let manifest = deployment("api", "example.com/api:1", "  revisionHistoryLimit: 0");
    let (ours, theirs) = twins(&[manifest]).await;
    let h = ours
        .gate("deployment/api", "example.com/api:2")
        .input("smoke-command", "exit 1")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&ours, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("true"), "{run}");
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["rollback"]["ok"], true, "{api}");
    assert_eq!(api["rollback"]["to_revision"], 1, "{api}");
    assert_eq!(ours.image_of("Deployment", "api"), "example.com/api:1");
    assert_eq!(ours.kubectl_status("deployment/api", "5s").0, 0);

    // kubectl cannot: no old ReplicaSet is kept, so `rollout undo` has nothing to restore.
    let (code, out) = theirs.kubectl(&["set", "image", "deployment/api", "api=example.com/api:2"]);
    assert_eq!(code, 0, "{out}");
    theirs.fake.settle(5.0, 30);
    let (code, out) = theirs.kubectl(&["rollout", "undo", "deployment/api"]);
    assert_ne!(code, 0, "kubectl rollout undo succeeded: {out}");
    assert_contains(&out, "no rollout history found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rollback_has_its_own_budget() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c
        .gate("deployment/api", "example.com/api:2-crash")
        .input("timeout", "60s")
        .input("rollback-timeout", "1s")
        .input("rollback-on-failure", "true");
    // The clock stops at the conclusive pod state and never resumes: the restored template
    // cannot roll out, so the rollback's 1s runs out (the rollout's 60s would not).
    let d = Drive {
        hold: Hold::OnConclusivePod,
        resume_after_patches: 1000,
        ..Drive::default()
    };
    let (run, _) = drive(&c, h, d).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["rollback"]["ok"], false, "{api}");
    let message = text(&api["rollback"]["message"]);
    assert!(
        message.starts_with("timed out after 1s waiting for the rollback"),
        "{message}"
    );
    assert_eq!(
        c.image_of("Deployment", "api"),
        "example.com/api:1",
        "the template was restored; only the wait ran out"
    );
    assert_error_line(&run, &["title=Rollback failed%3A default/deployment/api"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_after_a_patch_rolls_back_what_was_patched() {
    let c = cluster(&[
        deployment("api", "example.com/api:1", ""),
        deployment("locked", "example.com/locked:1", ""),
    ])
    .await;
    forbid_deployments(&c, &["patch"], Some("locked"));
    let h = c
        .gate("deployment/api\ndeployment/locked", "example.com/app:2")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(2);
    assert_eq!(run.output("result"), Some("error"));
    assert_error_line(
        &run,
        &[
            "forbidden to patch default/deployment/locked",
            "then rolled back: default/deployment/api container `api` example.com/api:1 → example.com/app:2 (restored)",
        ],
    );
    assert_eq!(c.image_of("Deployment", "api"), "example.com/api:1");
    assert_eq!(c.image_of("Deployment", "locked"), "example.com/locked:1");
    assert_eq!(c.kubectl_status("deployment/api", "5s").0, 0);
    let (_, history) = c.kubectl(&["rollout", "history", "deployment/api"]);
    assert!(
        !history.contains("actions/runs/77"),
        "the change cause is restored too: {history}"
    );
}

fn with_init(image: &str) -> String {
    deployment("api", "example.com/api:1", "").replace(
        "      containers:\n",
        &format!("      initContainers:\n      - name: migrate\n        image: {image}\n      containers:\n"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_container_can_be_rolled_out_and_back() {
    let c = cluster(&[with_init("example.com/migrate:1")]).await;
    let h = c
        .gate("deployment/api", "example.com/migrate:2")
        .input("container", "migrate");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["container"], "migrate");
    assert_eq!(api["previous_image"], "example.com/migrate:1");
    let spec = c.object("Deployment", "api")["spec"]["template"]["spec"].clone();
    assert_eq!(spec["initContainers"][0]["image"], "example.com/migrate:2");
    assert_eq!(spec["containers"][0]["image"], "example.com/api:1");
    assert_eq!(c.kubectl_status("deployment/api", "5s").0, 0);

    // A failing smoke command rolls the init container back.
    let h = c
        .gate("deployment/api", "example.com/migrate:3")
        .input("container", "migrate")
        .input("smoke-command", "exit 1")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("true"), "{run}");
    let spec = c.object("Deployment", "api")["spec"]["template"]["spec"].clone();
    assert_eq!(spec["initContainers"][0]["image"], "example.com/migrate:2");
    assert_eq!(c.kubectl_status("deployment/api", "5s").0, 0);
}
