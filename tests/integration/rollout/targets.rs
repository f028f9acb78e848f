//! Several clusters in one step (`targets`): two fake API servers behind two kubeconfig
//! contexts, rolled out at once. One fails, so the gate fails, and `rollback-on-failure`
//! rolls back both, the healthy one included; kubectl judges each cluster afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Cluster, Drive, assert_contains, cluster, deployment, drive, results};

/// One kubeconfig with a context per fake: `us` and `eu`.
fn kubeconfig(us: &Cluster, eu: &Cluster) -> String {
    let mut out = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for (n, c) in [("us", us), ("eu", eu)] {
        out.push_str(&format!(
            "- name: {n}\n  cluster:\n    server: {}\n",
            c.fake.url()
        ));
    }
    out.push_str("users:\n- name: fake\n  user:\n    token: fake-token\ncontexts:\n");
    for n in ["us", "eu"] {
        out.push_str(&format!(
            "- name: {n}\n  context:\n    cluster: {n}\n    user: fake\n    namespace: default\n"
        ));
    }
    out.push_str("current-context: us\n");
    out
}

fn patches(c: &Cluster) -> usize {
    c.fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_target_rolls_back_both() {
    let us = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let eu = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = us
        .gate("deployment/api", "example.com/api:2")
        .input("kubeconfig", kubeconfig(&us, &eu))
        .input("targets", "us\neu")
        .input("timeout", "3s")
        .input("rollback-timeout", "30s")
        .input("rollback-on-failure", "true");
    // `us` ticks and completes; `eu`'s clock stands still until the gate has patched it
    // twice (the rollout, then the rollback), so its rollout times out, and then its
    // rollback can finish.
    let done = AtomicBool::new(false);
    let gate = async {
        let driven = drive(
            &us,
            h,
            Drive {
                watches: 2,
                ..Drive::default()
            },
        )
        .await;
        done.store(true, Ordering::SeqCst);
        driven
    };
    let eu_clock = async {
        while !done.load(Ordering::SeqCst) {
            if patches(&eu) >= 2 {
                eu.fake.tick(5.0);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    };
    let ((run, _), ()) = tokio::join!(gate, eu_clock);
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("true"), "{run}");
    let all = results(&run);
    assert_eq!(all.len(), 2, "{all:?}");
    let at = |target: &str| {
        all.iter()
            .find(|r| r["target"] == target)
            .cloned()
            .unwrap_or_else(|| panic!("no result for {target}: {all:?}"))
    };
    let (r_us, r_eu) = (at("us"), at("eu"));
    assert_eq!(r_us["status"], "complete", "{r_us}");
    assert_eq!(r_eu["status"], "timeout", "{r_eu}");
    for r in [&r_us, &r_eu] {
        assert_eq!(r["rollback"]["ok"], true, "{r}");
    }
    assert_contains(&run.summary, "| Target | Result | Workloads | Rollback |");
    assert_contains(
        &run.summary,
        "| `us` | ✅ rolled out | 1/1 ready | ↩️ rolled back |",
    );
    assert_contains(
        &run.summary,
        "| `eu` | ❌ failed | 0/1 ready | ↩️ rolled back |",
    );
    assert!(
        run.errors()
            .iter()
            .any(|e| e.contains("Rollout failed%3A eu%3A default/deployment/api")),
        "{run}"
    );

    assert_contains(
        &run.stdout,
        "target{name=eu}: default/deployment/api: timed out after 3s",
    );

    // Both clusters are back at the old image, and kubectl calls both healthy.
    for c in [&us, &eu] {
        assert_eq!(c.image_of("Deployment", "api"), "example.com/api:1");
        c.fake.settle(5.0, 20);
        assert_eq!(c.kubectl_status("deployment/api", "5s").0, 0);
    }
}
