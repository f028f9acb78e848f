//! `kubectl get` against the server's Table output, and `kubectl scale` and `describe`, which go
//! through the `scale` subresource and read events.

use crate::common::{DEPLOYMENT, Harness, rolled_out};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_deployment_prints_the_server_table() {
    let h = Harness::start(DEPLOYMENT).await;
    let run = h.kubectl(&["get", "deploy"]).await.expect_code(0);
    let lines: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    assert_eq!(&lines[1][..4], ["api", "3/3", "3", "3"]);
    let wide = h
        .kubectl(&["get", "deploy", "api", "-o", "wide"])
        .await
        .expect_code(0);
    assert!(
        wide.stdout.contains("registry.example/api:v1"),
        "{}",
        wide.stdout
    );
    assert!(wide.stdout.contains("app=api"), "{}", wide.stdout);
    let pods = h
        .kubectl(&["get", "pods", "-l", "app=api"])
        .await
        .expect_code(0);
    assert_eq!(
        pods.stdout.matches(" Running ").count(),
        3,
        "{}",
        pods.stdout
    );
    let missing = h.kubectl(&["get", "deploy", "nope"]).await.expect_code(1);
    assert_eq!(
        missing.stderr.trim(),
        "Error from server (NotFound): deployments.apps \"nope\" not found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_and_describe_use_subresources_and_events() {
    let h = Harness::start(DEPLOYMENT).await;
    let scale = h
        .kubectl(&["scale", "deployment/api", "--replicas=5"])
        .await
        .expect_code(0);
    assert_eq!(scale.stdout.trim(), "deployment.apps/api scaled");
    assert!(
        h.fake
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/deployments/api/scale"))
    );
    h.tick_until(1.0, 30, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    assert_eq!(h.deployment("api")["status"]["readyReplicas"], 5);
    let describe = h
        .kubectl(&["describe", "deployment", "api"])
        .await
        .expect_code(0);
    assert!(
        describe.stdout.contains("Scaled up replica set api-"),
        "{}",
        describe.stdout
    );
    assert!(
        describe
            .stdout
            .contains("5 desired | 5 updated | 5 total | 5 available | 0 unavailable"),
        "{}",
        describe.stdout
    );
}
