//! Watches lost mid-rollout: a dropped watch that kubectl resumes from its last
//! `resourceVersion`, and an expired one (410) that makes it relist.

use super::{ROLLED_OUT, SUCCESS_TRANSCRIPT};
use crate::common::{DEPLOYMENT, Harness, count_requests, distinct_lines, finish, rolled_out};

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
