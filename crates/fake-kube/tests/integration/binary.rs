//! The `fake-kube` binary in auto-tick mode: the clock runs by itself, so kubectl can be used in
//! real time, the way a shell script or another language's test would use the fake.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

use crate::common::{DEPLOYMENT, kubectl_path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_prints_its_address_and_ticks_by_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = format!(
        "nodes: 2\nautoTick: {{intervalMs: 50, seconds: 1}}\nforbidden:\n- {{verbs: [delete], resource: deployments}}\nobjects:\n{}",
        DEPLOYMENT
            .trim_start()
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 {
                format!("- {l}\n")
            } else {
                format!("  {l}\n")
            })
            .collect::<String>()
    );
    let scenario_path = dir.path().join("scenario.yaml");
    std::fs::write(&scenario_path, scenario).expect("write scenario");
    let mut server = Command::new(env!("CARGO_BIN_EXE_fake-kube"))
        .arg("--scenario")
        .arg(&scenario_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("fake-kube starts");
    let stdout = server.stdout.take().expect("stdout");
    let first = tokio::time::timeout(
        Duration::from_secs(60),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("first line within the hang guard")
    .expect("read")
    .expect("a line");
    let url = first
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters: [{{name: f, cluster: {{server: \"{url}\"}}}}]\nusers: [{{name: f, user: {{}}}}]\ncontexts: [{{name: f, context: {{cluster: f, user: f, namespace: default}}}}]\ncurrent-context: f\n"),
    )
    .expect("kubeconfig");
    let kubectl = |args: &[&str]| {
        let mut cmd = Command::new(kubectl_path());
        cmd.env_clear()
            .env("HOME", dir.path())
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args(args);
        cmd
    };
    let set = kubectl(&[
        "set",
        "image",
        "deployment/api",
        "app=registry.example/api:v2",
    ])
    .output()
    .await
    .expect("kubectl");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let status = kubectl(&["rollout", "status", "deployment/api", "--timeout=120s"])
        .output()
        .await
        .expect("kubectl");
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert_eq!(
        stdout.lines().last(),
        Some("deployment \"api\" successfully rolled out")
    );
    let nodes = kubectl(&["get", "nodes", "-o", "name"])
        .output()
        .await
        .expect("kubectl");
    assert_eq!(
        String::from_utf8_lossy(&nodes.stdout),
        "node/node-1\nnode/node-2\n"
    );
    let delete = kubectl(&["delete", "deployment", "api"])
        .output()
        .await
        .expect("kubectl");
    assert_eq!(delete.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&delete.stderr).contains("(Forbidden)"));
    server.kill().await.expect("stop fake-kube");
}
