//! Fail fast: every conclusive pod state ends the rollout long before the progress deadline
//! (the Deployments here have kubectl's default of 600 s, which the ticks never reach), and
//! every transient state waits with a warning line. kubectl judges both: once the fake is
//! settled past the deadline, `kubectl rollout status` fails a rollout the gate failed fast;
//! `kubectl get pods` shows the reason the gate named (the fake's pod shapes are kubectl's).
//! A token that may not watch pods turns fail fast off with a warning.

use std::time::Duration;

use super::{
    Cluster, Drive, Hold, assert_agrees, assert_contains, cluster, daemonset, deployment, drive,
    result_of, statefulset, text,
};
use crate::common::Run;

/// A Deployment of three replicas with kubectl's default progress deadline.
fn patient(name: &str, image: &str) -> String {
    deployment(name, image, "").replace(
        "progressDeadlineSeconds: 30",
        "progressDeadlineSeconds: 600",
    )
}

fn log(run: &Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

/// The gate fails fast on `image`, naming `reason`; kubectl, once the deadline has passed,
/// fails it too, and its pod listing shows `kubectl_reason`.
async fn fails_fast(image: &str, reason: &str, kubectl_reason: &str) {
    let c = cluster(&[patient("api", "example.com/api:1")]).await;
    let h = c.gate("deployment/api", image);
    let (run, driven) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["status"], "failed", "{image}: {api}");
    let message = text(&api["message"]);
    assert!(
        message.starts_with("failed fast after "),
        "{image}: {message}"
    );
    assert_contains(message, &format!(", container api: {reason}"));
    assert_eq!(api["fail_fast"]["reason"], reason, "{image}: {api}");
    assert_eq!(api["fail_fast"]["container"], "api");
    assert!(text(&api["fail_fast"]["pod"]).starts_with("api-"), "{api}");
    assert!(
        driven.ticks < Drive::default().max_ticks,
        "{image}: the verdict came while the fake was still ticking"
    );
    // The explanation still runs after a fast verdict.
    assert_contains(&run.summary, "**Recent events**");
    assert_contains(&log(&run), "failed fast");

    // kubectl would still be waiting: the progress deadline has not passed.
    let (code, out) = c.kubectl_status("deployment/api", "1s");
    assert_ne!(code, 0);
    assert!(!out.contains("exceeded its progress deadline"), "{out}");
    let (_, pods) = c.kubectl(&["get", "pods", "-l", "app=api"]);
    assert_contains(&pods, kubectl_reason);
    // Past the deadline, kubectl fails it too.
    for _ in 0..12 {
        c.fake.tick(60.0);
    }
    let kubectl = c.kubectl_status("deployment/api", "5s");
    assert_agrees(&run, &kubectl);
    assert_contains(&kubectl.1, "exceeded its progress deadline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pull_back_off_fails_fast() {
    fails_fast(
        "example.com/api:2-pull-error",
        "ImagePullBackOff",
        "ImagePullBackOff",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_image_name_fails_fast() {
    fails_fast(
        "example.com/api:2-invalid-name",
        "InvalidImageName",
        "InvalidImageName",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_container_config_error_fails_fast() {
    fails_fast(
        "example.com/api:2-config-error",
        "CreateContainerConfigError",
        "CreateContainerConfigError",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_container_error_fails_fast() {
    fails_fast(
        "example.com/api:2-create-error",
        "CreateContainerError",
        "CreateContainerError",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_fails_fast_after_the_restart_count() {
    fails_fast(
        "example.com/api:2-crash",
        "CrashLoopBackOff",
        "CrashLoopBackOff",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_oom_kills_fail_fast() {
    fails_fast("example.com/api:2-oom", "OOMKilled", "CrashLoopBackOff").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_and_daemonset_pods_fail_fast_by_revision_hash() {
    let c = cluster(&[
        statefulset("db", "example.com/db:1"),
        daemonset("agent", "example.com/agent:1"),
    ])
    .await;
    let h = c.gate(
        "statefulset/db\ndaemonset/agent",
        "example.com/app:2-pull-error",
    );
    let (run, _) = drive(
        &c,
        h,
        Drive {
            watches: 2,
            ..Drive::default()
        },
    )
    .await;
    run.assert_code(1);
    for w in ["default/statefulset/db", "default/daemonset/agent"] {
        let r = result_of(&run, w);
        assert_eq!(r["fail_fast"]["reason"], "ImagePullBackOff", "{r}");
    }
    // kubectl has no deadline for these kinds: it would wait for ever.
    assert_ne!(c.kubectl_status("statefulset/db", "1s").0, 0);
    assert_ne!(c.kubectl_status("daemonset/agent", "1s").0, 0);
}

/// The gate waits through a transient state until kubectl's own verdict (the 30 s progress
/// deadline), saying once that it is not conclusive.
async fn waits_through(image: &str, reason: &str, d: Drive) {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", image).input("timeout", "60s");
    // The clock stops at kubectl's verdict, so the gate's explanation reads that state.
    let d = Drive {
        hold: Hold::OnDeploymentFailure,
        ..d
    };
    let (run, _) = drive(&c, h, d).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["fail_fast"], serde_json::Value::Null, "{api}");
    assert_contains(text(&api["message"]), "exceeded its progress deadline");
    let log = log(&run);
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains(reason) && l.contains("not conclusive")),
        "no warning about {reason}:\n{log}"
    );
    assert_agrees(&run, &c.kubectl_status("deployment/api", "5s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pods_wait_for_an_autoscaler() {
    waits_through(
        "example.com/api:2-unschedulable",
        "Unschedulable",
        Drive::default(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_stuck_creating_waits() {
    // Slow ticks: the warning comes after the container has been creating for 3 s.
    let d = Drive {
        seconds: 1.0,
        every: Duration::from_millis(250),
        max_ticks: 200,
        ..Drive::default()
    };
    waits_through("example.com/api:2-stuck-creating", "ContainerCreating", d).await;
}

/// A rollout that gets through a transient state completes, with the warning on the way.
async fn completes_despite(c: &Cluster, image: &str, warned: Option<&str>, d: Drive) {
    let h = c.gate("deployment/api", image).input("timeout", "60s");
    let (run, _) = drive(c, h, d).await;
    run.assert_code(0);
    assert_eq!(
        result_of(&run, "default/deployment/api")["status"],
        "complete"
    );
    if let Some(reason) = warned {
        let log = log(&run);
        assert!(
            log.lines()
                .any(|l| l.contains("WARN") && l.contains(reason) && l.contains("not conclusive")),
            "no warning about {reason}:\n{log}"
        );
    }
    assert_agrees(&run, &c.kubectl_status("deployment/api", "5s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_pull_is_not_conclusive() {
    let c = cluster(&[patient("api", "example.com/api:1")]).await;
    completes_despite(
        &c,
        "example.com/api:2-pull-once",
        Some("ErrImagePull"),
        Drive::default(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_crash_is_below_the_restart_count() {
    let c = cluster(&[patient("api", "example.com/api:1")]).await;
    completes_despite(
        &c,
        "example.com/api:2-crash-once",
        Some("CrashLoopBackOff"),
        Drive::default(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restart_count_is_an_input() {
    // With `fail-fast-restarts: 1`, the single crash of `crash-once` is conclusive.
    let c = cluster(&[patient("api", "example.com/api:1")]).await;
    let h = c
        .gate("deployment/api", "example.com/api:2-crash-once")
        .input("fail-fast-restarts", "1");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["fail_fast"]["reason"], "CrashLoopBackOff", "{api}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_but_healthy_rollout_never_trips_it() {
    // Each new pod is ready 600 simulated seconds after it starts; the deadline is above
    // that, so kubectl calls the rollout a success, and so must the gate.
    let slow = deployment("api", "example.com/api:1", "").replace(
        "progressDeadlineSeconds: 30",
        "progressDeadlineSeconds: 900",
    );
    let c = cluster(&[slow]).await;
    let d = Drive {
        seconds: 30.0,
        every: Duration::from_millis(100),
        max_ticks: 200,
        ..Drive::default()
    };
    completes_despite(&c, "example.com/api:2-slow", None, d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_looping_old_pods_do_not_fail_the_new_revision() {
    // The running revision crash-loops; the fix rolls out and completes.
    let c = cluster(&[patient("api", "example.com/api:1-crash")]).await;
    c.fake.settle(10.0, 6);
    completes_despite(&c, "example.com/api:2", None, Drive::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_false_waits_as_kubectl_does() {
    let c = cluster(&[patient("api", "example.com/api:1")]).await;
    let h = c
        .gate("deployment/api", "example.com/api:2-pull-error")
        .input("fail-fast", "false")
        .input("timeout", "2s");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["status"], "timeout", "{api}");
    assert_eq!(api["fail_fast"], serde_json::Value::Null);
    assert_agrees(&run, &c.kubectl_status("deployment/api", "1s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_access_to_pods_fail_fast_steps_aside() {
    // A token that may not list pods: one warning, then kubectl's exact wait.
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    c.fake.forbid(fake_kube::ForbiddenRule {
        verbs: vec!["list".into(), "watch".into()],
        group: Some(String::new()),
        resource: "pods".into(),
        namespace: None,
        name: None,
    });
    let h = c
        .gate("deployment/api", "example.com/api:2-pull-error")
        .input("timeout", "60s");
    let d = Drive {
        hold: Hold::OnDeploymentFailure,
        ..Drive::default()
    };
    let (run, _) = drive(&c, h, d).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["fail_fast"], serde_json::Value::Null, "{api}");
    assert_contains(text(&api["message"]), "exceeded its progress deadline");
    assert_contains(&log(&run), "cannot watch its pods");
    assert_contains(&log(&run), "fail-fast is off, waiting as kubectl does");
    assert_agrees(&run, &c.kubectl_status("deployment/api", "5s"));
}
