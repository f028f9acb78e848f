//! Deployment rollouts judged by the real kubectl: `get`, `set image`, `rollout status`,
//! `rollout undo`, `rollout pause/resume`, `logs`, one scenario per test.

use crate::common::{
    DEPLOYMENT, Harness, count_requests, distinct_lines, finish, poll, progressing_reason,
    rolled_out,
};

const ROLLED_OUT: &str = "deployment \"api\" successfully rolled out";

/// The distinct lines of a 3-replica rolling update with maxSurge 1, maxUnavailable 0.
const SUCCESS_TRANSCRIPT: &[&str] = &[
    "Waiting for deployment spec update to be observed...",
    "Waiting for deployment \"api\" rollout to finish: 0 out of 3 new replicas have been updated...",
    "Waiting for deployment \"api\" rollout to finish: 1 out of 3 new replicas have been updated...",
    "Waiting for deployment \"api\" rollout to finish: 2 out of 3 new replicas have been updated...",
    "Waiting for deployment \"api\" rollout to finish: 1 old replicas are pending termination...",
    ROLLED_OUT,
];

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
async fn image_pull_failure_ends_in_progress_deadline_exceeded() {
    let h = Harness::start(DEPLOYMENT).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:pull-error",
    ])
    .await
    .expect_code(0);
    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/deployments").await;
    h.tick_until(1.0, 10, |f| {
        f.list("v1", "Pod", Some("default")).iter().any(|p| {
            p.pointer("/status/containerStatuses/0/state/waiting/reason")
                .and_then(|r| r.as_str())
                == Some("ImagePullBackOff")
        })
    });
    let ticks = h.tick_until(60.0, 20, |f| {
        progressing_reason(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        ) == "ProgressDeadlineExceeded"
    });
    assert!(
        ticks >= 10,
        "the deadline is 600 simulated seconds, reached after {ticks} minutes"
    );
    let run = finish(status).await.expect_code(1);
    assert_eq!(
        run.stderr.trim(),
        "error: deployment \"api\" exceeded its progress deadline"
    );
    assert_eq!(
        distinct_lines(&run.stdout).last().map(String::as_str),
        Some(
            "Waiting for deployment \"api\" rollout to finish: 1 out of 3 new replicas have been updated..."
        )
    );

    let pods = h.kubectl(&["get", "pods"]).await.expect_code(0);
    assert!(pods.stdout.contains("ImagePullBackOff"), "{}", pods.stdout);
    assert_eq!(
        pods.stdout.matches(" Running ").count(),
        3,
        "old pods keep serving: {}",
        pods.stdout
    );
    let events = h
        .kubectl(&["get", "events", "--field-selector", "reason=Failed"])
        .await
        .expect_code(0);
    assert!(
        events
            .stdout
            .contains("Failed to pull image \"registry.example/api:pull-error\""),
        "{}",
        events.stdout
    );
    let conditions = h
        .kubectl(&[
            "get",
            "deploy",
            "api",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Progressing\")].message}",
        ])
        .await
        .expect_code(0);
    assert!(
        conditions.stdout.ends_with("has timed out progressing."),
        "{}",
        conditions.stdout
    );
    let pod = h
        .fake
        .list("v1", "Pod", Some("default"))
        .into_iter()
        .find(|p| {
            p.pointer("/spec/containers/0/image")
                .and_then(|i| i.as_str())
                == Some("registry.example/api:pull-error")
        })
        .expect("failing pod");
    let name = pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let logs = h.kubectl(&["logs", &name]).await.expect_code(1);
    assert_eq!(
        logs.stderr.trim(),
        format!(
            "Error from server (BadRequest): container \"app\" in pod \"{name}\" is waiting to start: trying and failing to pull image"
        )
    );

    // Rolling back recovers.
    h.kubectl(&["rollout", "undo", "deployment/api"])
        .await
        .expect_code(0);
    h.tick_until(1.0, 30, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    let again = h
        .kubectl(&["rollout", "status", "deployment/api", "--timeout=30s"])
        .await
        .expect_code(0);
    assert_eq!(again.stdout.trim(), ROLLED_OUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_shows_back_off_and_logs() {
    let h = Harness::start(DEPLOYMENT).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:crash",
    ])
    .await
    .expect_code(0);
    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/deployments").await;
    h.tick_until(1.0, 10, |f| {
        f.list("v1", "Pod", Some("default")).iter().any(|p| {
            p.pointer("/status/containerStatuses/0/restartCount")
                .and_then(|r| r.as_i64())
                .unwrap_or(0)
                >= 2
        })
    });
    let pods = h.kubectl(&["get", "pods"]).await.expect_code(0);
    let crashing = pods
        .stdout
        .lines()
        .find(|l| l.contains("CrashLoopBackOff"))
        .expect("a crash-looping pod")
        .to_string();
    let name = crashing
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        crashing.split_whitespace().nth(1) == Some("0/1"),
        "{crashing}"
    );

    let logs = h.kubectl(&["logs", &name, "--tail=2"]).await.expect_code(0);
    assert_eq!(
        logs.stdout.lines().collect::<Vec<_>>(),
        [
            "error: dial tcp 10.96.0.15:5432: connect: connection refused",
            "panic: cannot start without a database connection"
        ]
    );
    let previous = h
        .kubectl(&["logs", &name, "-c", "app", "--previous", "--limit-bytes=8"])
        .await
        .expect_code(0);
    assert_eq!(previous.stdout, "starting");
    let exit_code = h
        .kubectl(&[
            "get",
            "pod",
            &name,
            "-o",
            "jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}",
        ])
        .await
        .expect_code(0);
    assert_eq!(exit_code.stdout, "1");
    let events = h
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            &format!("involvedObject.name={name},reason=BackOff"),
        ])
        .await
        .expect_code(0);
    assert!(
        events
            .stdout
            .contains("Back-off restarting failed container app"),
        "{}",
        events.stdout
    );

    h.tick_until(60.0, 20, |f| {
        progressing_reason(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        ) == "ProgressDeadlineExceeded"
    });
    let run = finish(status).await.expect_code(1);
    assert_eq!(
        run.stderr.trim(),
        "error: deployment \"api\" exceeded its progress deadline"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_dropped_mid_rollout_is_resumed() {
    let h = Harness::start(DEPLOYMENT).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    let first = h.wait_for_watch("apps/v1/deployments").await;
    for _ in 0..6 {
        h.fake.tick(1.0);
    }
    assert_eq!(h.fake.drop_watches(), 1);
    h.wait_for_new_watch("apps/v1/deployments", first).await;
    h.tick_until(1.0, 60, |f| {
        rolled_out(
            &f.get("apps/v1", "Deployment", "default", "api")
                .unwrap_or_default(),
        )
    });
    let run = finish(status).await.expect_code(0);
    // Resuming from the last resourceVersion replays what happened while disconnected.
    assert_eq!(distinct_lines(&run.stdout), SUCCESS_TRANSCRIPT);
    let watches = count_requests(&h.fake, |r| {
        r.path.ends_with("/deployments") && r.query.contains("watch=true")
    });
    assert!(
        watches >= 2,
        "kubectl re-opened the watch ({watches} watch requests)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_resource_version_forces_a_relist() {
    let h = Harness::start(DEPLOYMENT).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .await
    .expect_code(0);
    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    let first = h.wait_for_watch("apps/v1/deployments").await;
    for _ in 0..6 {
        h.fake.tick(1.0);
    }
    let lists_before = count_requests(&h.fake, |r| {
        r.path.ends_with("/deployments") && r.method == "GET" && !r.query.contains("watch=true")
    });
    h.fake.compact();
    h.fake.drop_watches();
    // The resumed watch gets an ERROR 410 event; kubectl lists again and watches from there.
    h.wait_for_new_watch("apps/v1/deployments", first).await;
    let lists_after = count_requests(&h.fake, |r| {
        r.path.ends_with("/deployments") && r.method == "GET" && !r.query.contains("watch=true")
    });
    assert!(
        lists_after > lists_before,
        "kubectl relisted after 410 ({lists_before} -> {lists_after})"
    );
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_pods_outlast_the_rollout_timeout_then_become_ready() {
    let manifest = DEPLOYMENT.replace(
        "  replicas: 3\n",
        "  replicas: 3\n  progressDeadlineSeconds: 1200\n",
    );
    let h = Harness::start(&manifest).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:slow-start",
    ])
    .await
    .expect_code(0);
    h.fake.settle(1.0, 10);
    let timed_out = h
        .kubectl(&["rollout", "status", "deployment/api", "--timeout=5s"])
        .await
        .expect_code(1);
    assert_eq!(
        timed_out.stderr.trim(),
        "error: timed out waiting for the condition"
    );
    assert_eq!(
        distinct_lines(&timed_out.stdout),
        [
            "Waiting for deployment \"api\" rollout to finish: 1 out of 3 new replicas have been updated..."
        ]
    );
    let pods = h.kubectl(&["get", "pods"]).await.expect_code(0);
    assert!(
        pods.stdout
            .lines()
            .any(|l| l.contains(" 0/1 ") && l.contains(" Running ")),
        "{}",
        pods.stdout
    );

    // Ten simulated minutes later the first slow pod is ready and the rollout goes on.
    let status = h.spawn(&["rollout", "status", "deployment/api", "--timeout=120s"]);
    h.wait_for_watch("apps/v1/deployments").await;
    h.tick_until(60.0, 60, |f| {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pods_stay_pending() {
    let h = Harness::start(DEPLOYMENT).await;
    h.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:unschedulable",
    ])
    .await
    .expect_code(0);
    h.fake.settle(1.0, 10);
    let pods = h.kubectl(&["get", "pods"]).await.expect_code(0);
    assert!(
        pods.stdout.lines().any(|l| l.contains(" Pending ")),
        "{}",
        pods.stdout
    );
    let events = h
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "reason=FailedScheduling",
        ])
        .await
        .expect_code(0);
    assert!(
        events.stdout.contains("0/3 nodes are available"),
        "{}",
        events.stdout
    );
    let scheduled = h
        .kubectl(&["get", "pods", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"PodScheduled\")].reason}{end}"])
        .await
        .expect_code(0);
    assert_eq!(scheduled.stdout, "Unschedulable");
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
