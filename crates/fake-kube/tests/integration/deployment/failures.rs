//! Rollouts whose pods fail: image pull errors ending in `ProgressDeadlineExceeded`, crash loops
//! with back-off and logs, slow pods that outlast `--timeout`, unschedulable pods.

use super::ROLLED_OUT;
use crate::common::{DEPLOYMENT, Harness, distinct_lines, finish, progressing_reason, rolled_out};

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
