//! StatefulSet and DaemonSet rollouts judged by the real kubectl: `rollout status`, `rollout
//! undo` through ControllerRevisions, partitions and OnDelete.

use serde_json::Value;

use crate::common::{DAEMONSET, Harness, STATEFULSET, distinct_lines, finish};

fn sts_done(v: &Value) -> bool {
    let replicas = v["spec"]["replicas"].as_i64().unwrap_or(0);
    v["status"]["observedGeneration"] == v["metadata"]["generation"]
        && v["status"]["updatedReplicas"].as_i64() == Some(replicas)
        && v["status"]["readyReplicas"].as_i64() == Some(replicas)
        && v["status"]["currentRevision"] == v["status"]["updateRevision"]
}

fn ds_done(v: &Value) -> bool {
    let desired = v["status"]["desiredNumberScheduled"].as_i64().unwrap_or(-1);
    v["status"]["observedGeneration"] == v["metadata"]["generation"]
        && v["status"]["updatedNumberScheduled"].as_i64() == Some(desired)
        && v["status"]["numberAvailable"].as_i64() == Some(desired)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_rolls_out_and_rolls_back() {
    let h = Harness::start(STATEFULSET).await;
    let get = h.kubectl(&["get", "sts"]).await.expect_code(0);
    assert_eq!(
        get.stdout
            .lines()
            .nth(1)
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>()),
        Some(vec!["web", "3/3"])
    );
    h.kubectl(&[
        "set",
        "image",
        "statefulset/web",
        "nginx=registry.example/nginx:1.28",
    ])
    .await
    .expect_code(0);
    let status = h.spawn(&["rollout", "status", "statefulset/web", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/statefulsets").await;
    let ticks = h.tick_until(1.0, 60, |f| {
        sts_done(
            &f.get("apps/v1", "StatefulSet", "default", "web")
                .unwrap_or_default(),
        )
    });
    assert!(
        ticks > 6,
        "three ordered pod replacements take several ticks, took {ticks}"
    );
    let run = finish(status).await.expect_code(0);
    let lines = distinct_lines(&run.stdout);
    assert_eq!(
        lines.first().map(String::as_str),
        Some("Waiting for statefulset spec update to be observed...")
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "Waiting for 1 pods to be ready..."),
        "{lines:?}"
    );
    // The server defaults rollingUpdate.partition to 0, so kubectl reports a partitioned rollout.
    assert_eq!(
        lines.last().map(String::as_str),
        Some("partitioned roll out complete: 3 new pods have been updated...")
    );

    let revisions = h
        .kubectl(&["get", "controllerrevisions"])
        .await
        .expect_code(0);
    assert_eq!(
        revisions.stdout.matches("statefulset.apps/web").count(),
        2,
        "{}",
        revisions.stdout
    );
    let undo = h
        .kubectl(&["rollout", "undo", "statefulset/web"])
        .await
        .expect_code(0);
    assert_eq!(undo.stdout.trim(), "statefulset.apps/web rolled back");
    let patch = h
        .fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "PATCH")
        .expect("patch");
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    assert!(
        patch
            .body
            .as_deref()
            .unwrap_or_default()
            .contains("\"$patch\":\"replace\"")
    );

    let status = h.spawn(&["rollout", "status", "statefulset/web", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/statefulsets").await;
    h.tick_until(1.0, 60, |f| {
        sts_done(
            &f.get("apps/v1", "StatefulSet", "default", "web")
                .unwrap_or_default(),
        )
    });
    let run = finish(status).await.expect_code(0);
    assert_eq!(
        distinct_lines(&run.stdout).last().map(String::as_str),
        Some("partitioned roll out complete: 3 new pods have been updated...")
    );
    let image = h
        .kubectl(&[
            "get",
            "pod",
            "web-0",
            "-o",
            "jsonpath={.spec.containers[0].image}",
        ])
        .await
        .expect_code(0);
    assert_eq!(image.stdout, "registry.example/nginx:1.27");
    let skipped = h
        .kubectl(&["rollout", "undo", "statefulset/web", "--to-revision=3"])
        .await
        .expect_code(0);
    assert_eq!(
        skipped.stdout.trim(),
        "statefulset.apps/web skipped rollback (current template already matches revision 3)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_partition_and_on_delete() {
    let h = Harness::start(STATEFULSET).await;
    h.kubectl(&[
        "patch",
        "statefulset/web",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}"#,
    ])
    .await
    .expect_code(0);
    h.kubectl(&[
        "set",
        "image",
        "statefulset/web",
        "nginx=registry.example/nginx:1.28",
    ])
    .await
    .expect_code(0);
    let status = h.spawn(&["rollout", "status", "statefulset/web", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/statefulsets").await;
    h.tick_until(1.0, 40, |f| {
        let s = f
            .get("apps/v1", "StatefulSet", "default", "web")
            .unwrap_or_default();
        s["status"]["updatedReplicas"] == 1 && s["status"]["readyReplicas"] == 3
    });
    let run = finish(status).await.expect_code(0);
    assert_eq!(
        distinct_lines(&run.stdout).last().map(String::as_str),
        Some("partitioned roll out complete: 1 new pods have been updated...")
    );
    let s = h
        .fake
        .get("apps/v1", "StatefulSet", "default", "web")
        .expect("sts");
    assert_ne!(
        s["status"]["currentRevision"], s["status"]["updateRevision"],
        "pods below the partition keep the old revision"
    );

    h.kubectl(&[
        "patch",
        "statefulset/web",
        "--type=merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#,
    ])
    .await
    .expect_code(0);
    let on_delete = h
        .kubectl(&["rollout", "status", "statefulset/web"])
        .await
        .expect_code(1);
    assert_eq!(
        on_delete.stderr.trim(),
        "error: rollout status is only available for RollingUpdate strategy type"
    );
    // OnDelete replaces nothing by itself; a deleted pod comes back at the update revision.
    h.kubectl(&[
        "set",
        "image",
        "statefulset/web",
        "nginx=registry.example/nginx:1.29",
    ])
    .await
    .expect_code(0);
    h.fake.settle(1.0, 20);
    let image = |pod: &str| {
        h.fake
            .get("v1", "Pod", "default", pod)
            .and_then(|p| {
                p.pointer("/spec/containers/0/image")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    assert_eq!(image("web-0"), "registry.example/nginx:1.27");
    h.kubectl(&["delete", "pod", "web-0"]).await.expect_code(0);
    h.tick_until(1.0, 10, |_| image("web-0") == "registry.example/nginx:1.29");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_rolls_out_and_rolls_back() {
    let h = Harness::start(DAEMONSET).await;
    let get = h.kubectl(&["get", "ds"]).await.expect_code(0);
    let row: Vec<&str> = get
        .stdout
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..7], ["agent", "3", "3", "3", "3", "3", "<none>"]);
    h.kubectl(&[
        "set",
        "image",
        "daemonset/agent",
        "agent=registry.example/agent:v2",
    ])
    .await
    .expect_code(0);
    let status = h.spawn(&["rollout", "status", "daemonset/agent", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/daemonsets").await;
    h.tick_until(1.0, 60, |f| {
        ds_done(
            &f.get("apps/v1", "DaemonSet", "default", "agent")
                .unwrap_or_default(),
        )
    });
    let run = finish(status).await.expect_code(0);
    let lines = distinct_lines(&run.stdout);
    assert!(lines.iter().any(|l| l == "Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated..."), "{lines:?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("daemon set \"agent\" successfully rolled out")
    );

    let history = h
        .kubectl(&["rollout", "history", "daemonset/agent"])
        .await
        .expect_code(0);
    assert_eq!(
        distinct_lines(&history.stdout)[1..],
        [
            "REVISION  CHANGE-CAUSE",
            "1         <none>",
            "2         <none>"
        ]
    );
    let undo = h
        .kubectl(&["rollout", "undo", "daemonset/agent"])
        .await
        .expect_code(0);
    assert_eq!(undo.stdout.trim(), "daemonset.apps/agent rolled back");
    h.tick_until(1.0, 60, |f| {
        ds_done(
            &f.get("apps/v1", "DaemonSet", "default", "agent")
                .unwrap_or_default(),
        )
    });
    let done = h
        .kubectl(&["rollout", "status", "daemonset/agent", "--timeout=30s"])
        .await
        .expect_code(0);
    assert_eq!(
        done.stdout.trim(),
        "daemon set \"agent\" successfully rolled out"
    );
    let images = h
        .kubectl(&[
            "get",
            "pods",
            "-l",
            "app=agent",
            "-o",
            "jsonpath={.items[*].spec.containers[0].image}",
        ])
        .await
        .expect_code(0);
    assert_eq!(
        images.stdout,
        "registry.example/agent:v1 registry.example/agent:v1 registry.example/agent:v1"
    );
    let skipped = h
        .kubectl(&["rollout", "undo", "daemonset/agent", "--to-revision=3"])
        .await
        .expect_code(0);
    assert_eq!(
        skipped.stdout.trim(),
        "daemonset.apps/agent skipped rollback (current template already matches revision 3)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_with_crashing_pods_never_finishes() {
    let h = Harness::start(DAEMONSET).await;
    h.kubectl(&[
        "set",
        "image",
        "daemonset/agent",
        "agent=registry.example/agent:oom",
    ])
    .await
    .expect_code(0);
    h.fake.settle(1.0, 8);
    let run = h
        .kubectl(&["rollout", "status", "daemonset/agent", "--timeout=5s"])
        .await
        .expect_code(1);
    assert_eq!(
        run.stderr.trim(),
        "error: timed out waiting for the condition"
    );
    assert!(
        run.stdout.contains("Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated..."),
        "maxUnavailable 1 stops the update at the first broken pod: {}",
        run.stdout
    );
    let pods = h.kubectl(&["get", "pods"]).await.expect_code(0);
    assert!(
        pods.stdout.contains("OOMKilled") || pods.stdout.contains("CrashLoopBackOff"),
        "{}",
        pods.stdout
    );
}
