//! Tool errors (exit 2, `result=error`, one `::error` line): everything that can be found
//! out before a change is, and nothing is patched; an error after a patch names what was
//! already patched.

use std::process::Command;

use super::{
    assert_contains, cluster, deployment, forbid_deployments, kubectl_path, requests_matching,
    statefulset,
};
use crate::common::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_errors_exit_2_before_anything_changes() {
    let two = deployment("multi", "example.com/a:1", "")
        .replace("- name: multi", "- name: app")
        .replace("        image: example.com/a:1\n", "        image: example.com/a:1\n      - name: sidecar\n        image: example.com/b:1\n");
    let on_delete = statefulset("ondel", "example.com/db:1").replace(
        "  serviceName: ondel\n",
        "  serviceName: ondel\n  updateStrategy: {type: OnDelete}\n",
    );
    let c = cluster(&[deployment("api", "example.com/api:1", ""), two, on_delete]).await;
    forbid_deployments(&c, &["patch"], Some("locked"));
    c.fake
        .create(&deployment("locked", "example.com/api:1", ""))
        .expect("create");
    c.fake.settle(1.0, 50);

    /// One way to fail: the run, what its `::error` line says, and what kubectl says
    /// about the same target (when it can be asked).
    struct Case {
        name: &'static str,
        harness: Harness,
        expect: &'static str,
        kubectl: Option<(&'static str, &'static str)>,
    }
    let unreachable = c
        .fake
        .kubeconfig("default")
        .replace(&c.fake.url(), "http://127.0.0.1:9");
    let cases = vec![
        Case {
            name: "bad kubeconfig",
            harness: c
                .gate("deployment/api", "example.com/api:2")
                .input("kubeconfig", "apiVersion: v1\nkind: Config\nclusters: 7\n"),
            expect: "could not load the kubeconfig from the `kubeconfig` input",
            kubectl: None,
        },
        Case {
            name: "unreachable cluster",
            harness: c
                .gate("deployment/api", "example.com/api:2")
                .input("kubeconfig", &unreachable),
            expect: "cannot reach the Kubernetes API at http://127.0.0.1:9",
            kubectl: None,
        },
        Case {
            name: "unknown workload",
            harness: c.gate("deployment/nope", "example.com/api:2"),
            expect: "deployment \"nope\" not found in namespace \"default\"",
            kubectl: Some(("deployment/nope", "not found")),
        },
        Case {
            name: "container ambiguous",
            harness: c.gate("deployment/multi", "example.com/api:2"),
            expect: "default/deployment/multi has several containers (app, sidecar)",
            kubectl: None,
        },
        Case {
            name: "container not found",
            harness: c
                .gate("deployment/api", "example.com/api:2")
                .input("container", "web"),
            expect: "no container named `web` (containers: api)",
            kubectl: None,
        },
        Case {
            name: "invalid image reference",
            harness: c.gate("deployment/api", "Example.com/API:2"),
            expect: "input `image`",
            kubectl: None,
        },
        Case {
            name: "OnDelete statefulset",
            harness: c.gate("statefulset/ondel", "example.com/db:2"),
            expect: "rollout status is only available for RollingUpdate strategy type",
            kubectl: Some(("statefulset/ondel", "only available for RollingUpdate")),
        },
    ];
    for case in cases {
        c.fake.clear_requests();
        let run = case.harness.run();
        assert_eq!(run.code, 2, "{}: {run}", case.name);
        assert_eq!(run.output("result"), Some("error"), "{}", case.name);
        let errors = run.errors();
        assert_eq!(
            errors.len(),
            1,
            "{}: one ::error line: {errors:#?}",
            case.name
        );
        assert_contains(errors[0], case.expect);
        assert_eq!(
            requests_matching(&c, "PATCH", "", ""),
            0,
            "{}: nothing patched",
            case.name
        );
        if let Some((target, why)) = case.kubectl {
            let (code, out) = c.kubectl_status(target, "2s");
            assert_ne!(code, 0, "{}: kubectl agrees it cannot: {out}", case.name);
            assert_contains(&out, why);
        }
    }
    // kubectl with the bad kubeconfig fails too.
    let bad = c.dir.path().join("bad-kubeconfig");
    std::fs::write(&bad, "apiVersion: v1\nkind: Config\nclusters: 7\n").expect("write");
    let out = Command::new(kubectl_path())
        .args(["rollout", "status", "deployment/api", "--kubeconfig"])
        .arg(&bad)
        .env("HOME", c.dir.path())
        .output()
        .expect("kubectl");
    assert!(
        !out.status.success(),
        "kubectl rejects the bad kubeconfig too"
    );

    // Refused after `api` was patched: the error says what is still in place.
    let run = c
        .gate("deployment/api\ndeployment/locked", "example.com/api:2")
        .run();
    run.assert_code(2);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{run}");
    assert_contains(errors[0], "forbidden to patch default/deployment/locked");
    assert_contains(
        errors[0],
        "already patched before this error (still in place): default/deployment/api",
    );
    assert_eq!(c.image_of("Deployment", "api"), "example.com/api:2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_watch_is_an_error_that_names_what_was_patched() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    forbid_deployments(&c, &["list", "watch"], None);
    let run = c.gate("deployment/api", "example.com/api:2").run();
    run.assert_code(2);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{run}");
    assert_contains(errors[0], "forbidden to watch default/deployment/api");
    assert_contains(
        errors[0],
        "already patched before this error (still in place): default/deployment/api container `api` example.com/api:1 → example.com/api:2",
    );
    // kubectl cannot watch either.
    let (code, out) = c.kubectl_status("deployment/api", "3s");
    assert_ne!(code, 0, "{out}");
    assert_contains(&out, "forbidden");
}
