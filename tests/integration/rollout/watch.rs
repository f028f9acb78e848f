//! The watch against a flaky API server: a dropped watch resumes from where it was, a
//! `410 Gone` on resume lists again, and neither changes the verdict.

use std::time::Duration;

use super::{Disrupt, Drive, assert_agrees, cluster, deployment, drive, requests_matching};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watch_mid_rollout_resumes() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", "example.com/api:2");
    let (run, driven) = drive(
        &c,
        h,
        Drive {
            seconds: 2.0,
            every: Duration::from_millis(300),
            disrupt: vec![(1, Disrupt::DropWatches), (3, Disrupt::DropWatches)],
            ..Drive::default()
        },
    )
    .await;
    run.assert_code(0);
    assert!(driven.ticks >= 3, "{driven:?}");
    let watches = requests_matching(&c, "GET", "/deployments", "watch=true");
    assert!(
        watches >= 2,
        "the gate re-watched after the drop ({watches} watch requests)"
    );
    assert_agrees(&run, &c.kubectl_status("deployment/api", "5s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_410_on_resume_relists() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", "example.com/api:2");
    let (run, _) = drive(
        &c,
        h,
        Drive {
            seconds: 2.0,
            every: Duration::from_millis(300),
            disrupt: vec![(1, Disrupt::CompactAndDrop)],
            ..Drive::default()
        },
    )
    .await;
    run.assert_code(0);
    let lists = c
        .fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == "GET" && r.path.ends_with("/deployments") && !r.query.contains("watch=true")
        })
        .count();
    assert!(
        lists >= 2,
        "after the 410 the gate listed again ({lists} lists)"
    );
    assert_agrees(&run, &c.kubectl_status("deployment/api", "5s"));
}
