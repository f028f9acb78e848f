//! Rollouts that fail on their own terms (exit 1, `result=fail`), each explained: an image
//! that cannot be pulled (with `fail-fast: false`, kubectl's exact wait), a crash loop with its log tail, a paused Deployment, a rollout
//! slower than the timeout, and one failing workload among two.

use std::time::Duration;

use super::{
    Drive, assert_agrees, assert_contains, assert_error_line, assert_no_error_line, cluster,
    deployment, drive, result_of, text,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pull_failure_ends_in_progress_deadline_exceeded() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c
        .gate("deployment/api", "example.com/api:2-pull-error")
        .input("fail-fast", "false");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("result"), Some("fail"));
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["status"], "failed");
    let reason = text(&api["reason"]);
    assert_contains(reason, "exceeded its progress deadline");
    assert!(
        reason.contains("ImagePullBackOff") || reason.contains("ErrImagePull"),
        "{reason}"
    );
    assert_error_line(
        &run,
        &[
            "title=Rollout failed%3A default/deployment/api",
            "ImagePull",
        ],
    );
    assert!(
        run.summary.contains("`ImagePullBackOff`") || run.summary.contains("`ErrImagePull`"),
        "{}",
        run.summary
    );
    for section in [
        "**ReplicaSets**",
        "**Recent events**",
        "Warning Failed pod/api-",
    ] {
        assert_contains(&run.summary, section);
    }
    assert!(
        !run.summary.contains("Started container api"),
        "only the new pods' events: {}",
        run.summary
    );
    assert!(
        text(&api["progression"]).starts_with("0 → 1/3 updated"),
        "{api}"
    );
    assert_eq!(run.output("rolled-back"), Some("false"));
    assert_eq!(
        c.image_of("Deployment", "api"),
        "example.com/api:2-pull-error",
        "no rollback unless asked"
    );

    let kubectl = c.kubectl_status("deployment/api", "5s");
    assert_agrees(&run, &kubectl);
    assert_contains(&kubectl.1, "exceeded its progress deadline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_is_explained_with_the_log_tail() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", "example.com/api:2-crash");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    let reason = text(&api["reason"]);
    assert!(
        reason.contains("CrashLoopBackOff") || reason.contains("Error"),
        "{reason}"
    );
    assert_contains(&run.summary, "**Last log lines of `api-");
    assert_error_line(&run, &["log of api-"]);
    assert_agrees(&run, &c.kubectl_status("deployment/api", "5s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_deployment_fails_at_once() {
    let c = cluster(&[deployment("api", "example.com/api:1", "  paused: true")]).await;
    let h = c.gate("deployment/api", "example.com/api:2");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(
        api["status"], "failed",
        "failed at once, not after waiting out the timeout: {api}"
    );
    assert_contains(text(&api["reason"]), "paused");
    // kubectl just waits on a paused deployment; with a timeout it fails too.
    assert_agrees(&run, &c.kubectl_status("deployment/api", "2s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_rollout_beyond_the_timeout_fails() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c
        .gate("deployment/api", "example.com/api:2-slow")
        .input("timeout", "3s");
    let (run, _) = drive(
        &c,
        h,
        Drive {
            seconds: 1.0,
            every: Duration::from_millis(250),
            ..Drive::default()
        },
    )
    .await;
    run.assert_code(1);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["status"], "timeout");
    assert!(
        text(&api["reason"]).starts_with("timed out after 3s"),
        "{api}"
    );
    let kubectl = c.kubectl_status("deployment/api", "2s");
    assert_agrees(&run, &kubectl);
    assert_contains(&kubectl.1, "timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workloads_concurrently_one_failing_names_which() {
    let mut web = deployment("web", "example.com/web:1", "");
    // A second container makes `web` pick the container named like it; `api` has one.
    web.push_str("      - name: sidecar\n        image: example.com/sidecar:1\n");
    let c = cluster(&[deployment("api", "example.com/api:1", ""), web]).await;
    let h = c.gate("deployment/api\ndeployment/web", "example.com/app:2");
    // `api` fails on its own terms: it is paused, so the new template never rolls out.
    let (code, out) = c.kubectl(&["rollout", "pause", "deployment/api"]);
    assert_eq!(code, 0, "{out}");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(
        result_of(&run, "default/deployment/api")["status"],
        "failed"
    );
    let web = result_of(&run, "default/deployment/web");
    assert_eq!(web["status"], "complete");
    assert_eq!(web["container"], "web");
    assert_eq!(
        c.object("Deployment", "web")["spec"]["template"]["spec"]["containers"][1]["image"],
        "example.com/sidecar:1"
    );
    assert_error_line(&run, &["Rollout failed%3A default/deployment/api"]);
    assert_no_error_line(&run, "Rollout failed%3A default/deployment/web");
    assert_agrees(&run, &c.kubectl_status("deployment/api", "2s"));
    assert_eq!(c.kubectl_status("deployment/web", "5s").0, 0);
}
