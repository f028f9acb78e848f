//! `kubectl rollout undo` (to the previous or a named revision, and the revision history it leaves)
//! and `rollout pause`/`resume`.

use super::ROLLED_OUT;
use crate::common::{
    DEPLOYMENT, Harness, count_requests, distinct_lines, finish, progressing_reason, rolled_out,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_undo_restores_the_previous_template() {
    let h = Harness::start(DEPLOYMENT).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    h.kubectl(&[
        "annotate",
        "deployment/api",
        "kubernetes.io/change-cause=ship v2",
    ])
    .await
    .expect_code(0);
    h.tick_until(1.0, 60, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    h.fake.clear_requests();

    let undo = h
        .kubectl(&["rollout", "undo", "deployment/api"])
        .await
        .expect_code(0);
    assert_eq!(undo.stdout.trim(), "deployment.apps/api rolled back");
    // kubectl 1.32 lists ReplicaSets and sends a JSON patch replacing the template and annotations.
    let patch = h
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("patch sent");
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/json-patch+json")
    );
    assert!(
        patch
            .body
            .as_deref()
            .unwrap_or_default()
            .contains("\"path\":\"/spec/template\"")
    );
    assert_eq!(
        count_requests(&h.fake, |r| r.path.ends_with("/replicasets")
            && r.query.contains("labelSelector=app%3Dapi")),
        1
    );

    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/deployments").await;
    h.tick_until(1.0, 60, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    let run = finish(status).await.expect_code(0);
    assert_eq!(
        distinct_lines(&run.stdout).last().map(String::as_str),
        Some(ROLLED_OUT)
    );

    let d = h.deployment("api");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/api:v1"
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    let history = h
        .kubectl(&["rollout", "history", "deployment/api"])
        .await
        .expect_code(0);
    assert_eq!(
        distinct_lines(&history.stdout)[2..],
        ["2         ship v2", "3         <none>"]
    );
    let rs = h.kubectl(&["get", "rs", "-o", "jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}{\"\\n\"}{end}"]).await.expect_code(0);
    assert!(
        rs.stdout.lines().any(|l| l == "1"),
        "revision 1 moved to history: {}",
        rs.stdout
    );

    let skipped = h
        .kubectl(&["rollout", "undo", "deployment/api", "--to-revision=3"])
        .await
        .expect_code(0);
    assert_eq!(
        skipped.stdout.trim(),
        "deployment.apps/api skipped rollback (current template already matches revision 3)"
    );
    let missing = h
        .kubectl(&["rollout", "undo", "deployment/api", "--to-revision=9"])
        .await
        .expect_code(1);
    assert_eq!(
        missing.stderr.trim(),
        "error: unable to find specified revision 9 in history"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_deployment_does_not_progress_until_resumed() {
    let h = Harness::start(DEPLOYMENT).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    h.tick_until(1.0, 60, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    let pause = h
        .kubectl(&["rollout", "pause", "deployment/api"])
        .await
        .expect_code(0);
    assert_eq!(pause.stdout.trim(), "deployment.apps/api paused");
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v3",
    ])
    .await
    .expect_code(0);
    h.fake.settle(1.0, 20);
    let d = h.deployment("api");
    assert_eq!(progressing_reason(&d), "DeploymentPaused");
    assert_eq!(
        h.fake.list("apps/v1", "ReplicaSet", Some("default")).len(),
        2,
        "no new ReplicaSet while paused"
    );

    let waiting = h
        .kubectl(&["rollout", "status", "deployment/api", "--timeout=5s"])
        .await
        .expect_code(1);
    assert_eq!(
        waiting.stderr.trim(),
        "error: timed out waiting for the condition"
    );
    assert_eq!(
        distinct_lines(&waiting.stdout),
        [
            "Waiting for deployment \"api\" rollout to finish: 0 out of 3 new replicas have been updated..."
        ]
    );
    let undo = h
        .kubectl(&["rollout", "undo", "deployment/api"])
        .await
        .expect_code(1);
    assert_eq!(
        undo.stderr.trim(),
        "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
    );

    let resume = h
        .kubectl(&["rollout", "resume", "deployment/api"])
        .await
        .expect_code(0);
    assert_eq!(resume.stdout.trim(), "deployment.apps/api resumed");
    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/deployments").await;
    h.tick_until(1.0, 60, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    let run = finish(status).await.expect_code(0);
    assert_eq!(
        distinct_lines(&run.stdout).last().map(String::as_str),
        Some(ROLLED_OUT)
    );
    assert_eq!(
        h.deployment("api")["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/api:v3"
    );
}
