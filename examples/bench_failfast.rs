//! Benchmark: how soon the rollout gate's fail fast gives its verdict, against `kubectl
//! rollout status`, on the same broken rollout (`scripts/bench-failfast.sh` runs it).
//!
//! Each round starts two identical fake clusters (crates/fake-kube) holding a rolled-out
//! Deployment with kubectl's default `progressDeadlineSeconds: 600`. In one, the gate binary
//! patches the image to a broken one; in the other, `kubectl set image` does, then
//! `kubectl rollout status` waits. Both fakes tick together, 10 simulated seconds every
//! 100 ms. Measured per round, on the fake server's clock (simulated seconds) and on the
//! wall clock around the tick that produced the state:
//! - gate: from the tick that made the first pod state fail fast calls conclusive to the
//!   gate's `finished_at` (wall ms), and the simulated seconds from the patch to that tick;
//! - kubectl: simulated seconds from that same conclusive state to the tick at which the
//!   progress deadline was exceeded, and wall ms from that tick to kubectl's exit.
//!
//! Usage: `bench_failfast <gate binary> [rounds]`. Prints every round, then min/median/max.
// A benchmark: panics are its error reporting, and both children are reaped after the loop.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::zombie_processes)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_kube::{FakeKube, FakeKubeHandle, Scenario};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use rust_ci_action::gates::rollout::failfast::{FailFast, Finding, judge};
use rust_ci_action::gates::rollout::kinds::deployment::kubectl_deployment_status;
use rust_ci_action::gates::rollout::status::RolloutState;

const MANIFEST: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: default}
spec:
  replicas: 3
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: "example.com/api:1"}]}
"#;
const TICK_SECONDS: f64 = 10.0;
const TICK_EVERY: Duration = Duration::from_millis(100);

struct Round {
    gate_latency_ms: f64,
    gate_sim_s: f64,
    kubectl_sim_s: f64,
    kubectl_latency_ms: f64,
}

fn conclusive(fake: &FakeKubeHandle) -> bool {
    fake.list("v1", "Pod", None)
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Pod>(v).ok())
        .any(|p| {
            judge(&p, FailFast::default())
                .iter()
                .any(|f| matches!(f, Finding::Conclusive(_)))
        })
}

fn deadline_exceeded(fake: &FakeKubeHandle) -> bool {
    fake.get("apps/v1", "Deployment", "default", "api")
        .and_then(|v| serde_json::from_value::<Deployment>(v).ok())
        .is_some_and(|d| matches!(kubectl_deployment_status(&d), RolloutState::Failed(_)))
}

fn kubectl(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("kubectl");
    c.args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn gate(bin: &Path, dir: &Path, fake: &FakeKubeHandle, image: &str) -> Child {
    Command::new(bin)
        .env_clear()
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("absent"))
        .env("GITHUB_OUTPUT", dir.join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .env("INPUT_GATE", "rollout")
        .env("INPUT_KUBECONFIG", fake.kubeconfig("default"))
        .env("INPUT_WORKLOADS", "deployment/api")
        .env("INPUT_IMAGE", image)
        .env("INPUT_TIMEOUT", "60s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `finished_at` of the first workload in the `results` output.
fn finished_at(output: &str) -> jiff::Timestamp {
    let mut lines = output.lines();
    while let Some(l) = lines.next() {
        if l.starts_with("results<<") {
            let json: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
            return json[0]["finished_at"].as_str().unwrap().parse().unwrap();
        }
    }
    panic!("no results output:\n{output}");
}

async fn round(bin: &Path, image: &str) -> Round {
    let start = || async {
        let s = Scenario::new().with_manifests(MANIFEST).unwrap();
        FakeKube::start(s).await.unwrap()
    };
    let (ours, theirs) = (start().await, start().await);
    let dir = tempfile::tempdir().unwrap();
    let kc = theirs.write_kubeconfig(dir.path()).unwrap();
    let mut g = gate(bin, dir.path(), &ours, image);
    let status = kubectl(
        dir.path(),
        &kc,
        &["set", "image", "deployment/api", &format!("api={image}")],
    )
    .status()
    .unwrap();
    assert!(status.success());
    let mut k = kubectl(
        dir.path(),
        &kc,
        &["rollout", "status", "deployment/api", "--timeout", "120s"],
    )
    .spawn()
    .unwrap();
    // Tick once both watch (the gate: the workload and its pods; kubectl: the workload).
    let waiting = Instant::now();
    while (ours.watches().len() < 2 || theirs.watches().is_empty())
        && waiting.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let t0 = ours.tick(0.0).now_ms;
    theirs.tick(0.0);
    let (mut gate_state, mut kube_state, mut deadline_tick) = (None, None, None);
    let (mut gate_done, mut kube_done) = (None, None);
    while gate_done.is_none() || kube_done.is_none() {
        let before = jiff::Timestamp::now();
        let now = ours.tick(TICK_SECONDS).now_ms;
        theirs.tick(TICK_SECONDS);
        if gate_state.is_none() && conclusive(&ours) {
            gate_state = Some((before, now));
        }
        if kube_state.is_none() && conclusive(&theirs) {
            kube_state = Some(now);
        }
        if deadline_tick.is_none() && deadline_exceeded(&theirs) {
            deadline_tick = Some((Instant::now(), now));
        }
        tokio::time::sleep(TICK_EVERY).await;
        if gate_done.is_none() && g.try_wait().unwrap().is_some() {
            gate_done = Some(());
        }
        if kube_done.is_none() && k.try_wait().unwrap().is_some() {
            kube_done = Some(Instant::now());
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(120),
            "round took too long"
        );
    }
    let output = std::fs::read_to_string(dir.path().join("output")).unwrap();
    let (conclusive_at, conclusive_sim) = gate_state.expect("a conclusive state in our fake");
    let verdict = finished_at(&output);
    let (deadline_at, deadline_sim) = deadline_tick.expect("kubectl's deadline");
    let kube_conclusive = kube_state.expect("a conclusive state in kubectl's fake");
    Round {
        gate_latency_ms: verdict.duration_since(conclusive_at).as_secs_f64() * 1000.0,
        gate_sim_s: (conclusive_sim - t0) as f64 / 1000.0,
        kubectl_sim_s: (deadline_sim - kube_conclusive) as f64 / 1000.0,
        kubectl_latency_ms: kube_done
            .unwrap()
            .saturating_duration_since(deadline_at)
            .as_secs_f64()
            * 1000.0,
    }
}

fn stats(name: &str, unit: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    println!(
        "{name:<58} min {:>8.1} {unit}  median {median:>8.1} {unit}  max {:>8.1} {unit}",
        v[0],
        v[v.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = PathBuf::from(
        args.next()
            .expect("usage: bench_failfast <gate binary> [rounds]"),
    );
    let rounds: usize = args.next().map_or(5, |n| n.parse().unwrap());
    for (label, image) in [
        ("ImagePullBackOff", "example.com/api:2-pull-error"),
        ("CrashLoopBackOff", "example.com/api:2-crash"),
    ] {
        let mut all = Vec::new();
        for i in 0..rounds {
            let r = round(&bin, image).await;
            println!(
                "{label} round {}: gate {:.0} ms after the conclusive state ({:.0} simulated s after the patch); kubectl {:.0} simulated s after it, then {:.0} ms",
                i + 1,
                r.gate_latency_ms,
                r.gate_sim_s,
                r.kubectl_sim_s,
                r.kubectl_latency_ms
            );
            all.push(r);
        }
        println!("== {label}, {rounds} rounds");
        stats(
            "gate: conclusive pod state -> verdict (wall)",
            "ms",
            all.iter().map(|r| r.gate_latency_ms).collect(),
        );
        stats(
            "gate: patch -> conclusive state (fake clock)",
            "s ",
            all.iter().map(|r| r.gate_sim_s).collect(),
        );
        stats(
            "kubectl: conclusive pod state -> deadline (fake clock)",
            "s ",
            all.iter().map(|r| r.kubectl_sim_s).collect(),
        );
        stats(
            "kubectl: deadline -> exit (wall)",
            "ms",
            all.iter().map(|r| r.kubectl_latency_ms).collect(),
        );
    }
}
