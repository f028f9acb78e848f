//! Rolling updates that succeed, as `kubectl rollout status` reports them step by step, and the
//! `maxUnavailable` and `Recreate` strategies.

use super::{ROLLED_OUT, SUCCESS_TRANSCRIPT};
use crate::common::{
    DEPLOYMENT, Harness, distinct_lines, finish, poll, progressing_reason, rolled_out,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_succeeds_in_several_steps() {
    let h = Harness::start(DEPLOYMENT).await;
    let set = h
        .kubectl(&[
            "set",
            "image",
            "deployment/api",
            "app=registry.example/api:v2",
        ])
        .await
        .expect_code(0);
    assert_eq!(set.stdout.trim(), "deployment.apps/api image updated");
    let patch = h
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("kubectl sent a patch");
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    assert_eq!(patch.query, "fieldManager=kubectl-set");

    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/deployments").await;
    let ticks = h.tick_until(1.0, 60, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    assert!(
        ticks > 5,
        "a rolling update of 3 pods takes several ticks, took {ticks}"
    );
    let run = finish(status).await.expect_code(0);
    assert_eq!(distinct_lines(&run.stdout), SUCCESS_TRANSCRIPT);

    let d = h.deployment("api");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(progressing_reason(&d), "NewReplicaSetAvailable");
    let rs = h.kubectl(&["get", "rs", "-o", "wide"]).await.expect_code(0);
    assert_eq!(
        rs.stdout.lines().count(),
        3,
        "two ReplicaSets:\n{}",
        rs.stdout
    );
    let history = h
        .kubectl(&["rollout", "history", "deployment/api"])
        .await
        .expect_code(0);
    assert_eq!(
        distinct_lines(&history.stdout),
        [
            "deployment.apps/api",
            "REVISION  CHANGE-CAUSE",
            "1         <none>",
            "2         <none>"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_unavailable_and_recreate_strategies() {
    let four = DEPLOYMENT.replace("replicas: 3", "replicas: 4");
    let recreate = DEPLOYMENT
        .replace("name: api", "name: rec")
        .replace("{app: api}", "{app: rec}")
        .replace(
            "  replicas: 3\n",
            "  replicas: 2\n  strategy: {type: Recreate}\n",
        );
    let h = Harness::start(&format!("{four}---\n{recreate}")).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    h.kubectl(&[
        "set",
        "image",
        "deployment/rec",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    let api = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/deployments").await;
    let rec = h.spawn(&["rollout", "status", "deployment/rec", "--timeout=120s"]);
    poll(|| (h.fake.watches().len() == 2).then_some(()))
        .await
        .expect("both watching");
    let both_done = |f: &fake_kube::FakeKubeHandle| {
        ["api", "rec"].iter().all(|n| {
            rolled_out(
                &f.get("apps/v1", "Deployment", "default", n)
                    .unwrap_or_default(),
            )
        })
    };
    for _ in 0..60 {
        h.fake.tick(1.0);
        // Recreate never runs old and new pods side by side.
        let running: Vec<i64> = h
            .fake
            .list("apps/v1", "ReplicaSet", Some("default"))
            .iter()
            .filter(|rs| rs["metadata"]["labels"]["app"] == "rec")
            .map(|rs| rs["status"]["replicas"].as_i64().unwrap_or(0))
            .filter(|r| *r > 0)
            .collect();
        assert!(running.len() <= 1, "old and new pods at once: {running:?}");
        if both_done(&h.fake) {
            break;
        }
    }
    let api = finish(api).await.expect_code(0);
    let lines = distinct_lines(&api.stdout);
    assert!(lines.iter().any(|l| l == "Waiting for deployment \"api\" rollout to finish: 3 of 4 updated replicas are available..."), "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some(ROLLED_OUT));
    let rec = finish(rec).await.expect_code(0);
    assert_eq!(
        distinct_lines(&rec.stdout).last().map(String::as_str),
        Some("deployment \"rec\" successfully rolled out")
    );
}
