//! `rollback-on-failure` and the smoke command: a Deployment and a DaemonSet are restored
//! exactly as `kubectl rollout undo` restores them (judged in a twin cluster), a StatefulSet
//! rollback is reported stuck as Kubernetes leaves it, and a failing smoke command fails
//! the gate and rolls back.

use std::path::Path;

use super::{
    Drive, assert_agrees, assert_contains, assert_error_line, assert_restored_like_kubectl_undo,
    cluster, daemonset, deployment, drive, result_of, statefulset, text, twins,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_on_failure_restores_what_kubectl_undo_would() {
    let (ours, theirs) = twins(&[deployment("api", "example.com/api:1", "")]).await;
    let h = ours
        .gate("deployment/api", "example.com/api:2-pull-error")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&ours, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("true"), "{run}");
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["rollback"]["to_revision"], 1, "{api}");
    assert_eq!(api["rollback"]["ok"], true, "{api}");
    assert_eq!(api["rolled_back"], true);
    assert_contains(
        &run.stdout,
        "::notice title=Rolled back%3A default/deployment/api",
    );
    assert_eq!(ours.image_of("Deployment", "api"), "example.com/api:1");
    assert_restored_like_kubectl_undo(
        &ours,
        &theirs,
        "Deployment",
        "deployment/api",
        "api=example.com/api:2-pull-error",
        (5.0, 30),
    );
    // After the rollback the workload is healthy again, and kubectl agrees.
    let kubectl = ours.kubectl_status("deployment/api", "5s");
    assert_eq!(kubectl.0, 0, "{}", kubectl.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_rollback_restores_the_previous_controller_revision() {
    let (ours, theirs) = twins(&[daemonset("agent", "example.com/agent:1")]).await;
    let h = ours
        .gate("daemonset/agent", "example.com/agent:2-crash")
        .input("timeout", "3s")
        .input("fail-fast", "false")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&ours, h, Drive::slowly()).await;
    run.assert_code(1);
    let agent = result_of(&run, "default/daemonset/agent");
    assert_eq!(agent["status"], "timeout", "{agent}");
    assert_eq!(agent["rollback"]["to_revision"], 1, "{agent}");
    assert_eq!(agent["rollback"]["ok"], true, "{agent}");
    assert_eq!(run.output("rolled-back"), Some("true"));
    assert_eq!(ours.image_of("DaemonSet", "agent"), "example.com/agent:1");
    assert_restored_like_kubectl_undo(
        &ours,
        &theirs,
        "DaemonSet",
        "daemonset/agent",
        "agent=example.com/agent:2-crash",
        (2.0, 10),
    );
    assert_eq!(
        ours.kubectl_status("daemonset/agent", "5s").0,
        0,
        "healthy again after the rollback"
    );
}

/// A StatefulSet rollback restores the template, but (as in Kubernetes) the controller does
/// not replace a pod stuck at the broken revision: the gate says the rollback did not
/// finish and why, and kubectl agrees the StatefulSet is not healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_rollback_is_reported_stuck_like_kubernetes_leaves_it() {
    let c = cluster(&[statefulset("db", "example.com/db:1")]).await;
    let h = c
        .gate("statefulset/db", "example.com/db:2-crash")
        .input("timeout", "3s")
        .input("fail-fast", "false")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&c, h, Drive::slowly()).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("false"));
    let db = result_of(&run, "default/statefulset/db");
    assert_eq!(db["status"], "timeout", "{db}");
    assert_eq!(db["rollback"]["to_revision"], 1, "{db}");
    assert_eq!(db["rollback"]["ok"], false, "{db}");
    assert_contains(text(&db["rollback"]["message"]), "forced-rollback");
    assert_eq!(
        c.image_of("StatefulSet", "db"),
        "example.com/db:1",
        "the template was restored"
    );
    assert_error_line(&run, &["title=Rollback failed%3A default/statefulset/db"]);
    assert_agrees(&run, &c.kubectl_status("statefulset/db", "3s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_command_runs_once_ready_and_its_failure_rolls_back() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    // Passing: runs in the workspace once the rollout is complete.
    let marker = c.dir.path().join("smoke.txt");
    let command = format!("pwd > {}", marker.display());
    let h = c
        .gate("deployment/api", "example.com/api:2")
        .input("smoke-command", &command);
    let workspace = h.dir.path().canonicalize().expect("workspace");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    let pwd = std::fs::read_to_string(&marker).unwrap_or_default();
    assert_eq!(
        Path::new(pwd.trim()),
        workspace,
        "the smoke command runs in the workspace"
    );
    assert_contains(&run.summary, "Smoke command ✅ `pwd > ");

    // Failing: the gate fails, shows the output, and restores the previous revision.
    let h = c
        .gate("deployment/api", "example.com/api:3")
        .input("smoke-command", "echo 'GET /health: 503'; exit 3")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("true"), "{run}");
    assert_error_line(&run, &["title=Smoke command failed", "GET /health: 503"]);
    let api = result_of(&run, "default/deployment/api");
    assert_eq!(api["status"], "complete", "the rollout itself completed");
    assert_eq!(api["rollback"]["to_revision"], 2);
    assert_eq!(c.image_of("Deployment", "api"), "example.com/api:2");
    // kubectl judges only the rollout: the rolled-back revision is healthy.
    assert_eq!(c.kubectl_status("deployment/api", "5s").0, 0);
}
