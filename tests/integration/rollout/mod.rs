//! The rollout gate end to end: the real binary (through the [`Harness`]) against the fake
//! Kubernetes API server (`crates/fake-kube`, started in-process), with the real `kubectl
//! rollout status` run against the same fake state as the judge of every verdict.
//!
//! The fake's clock moves only when a test ticks it, so a scenario is: start the fake with
//! rolled-out workloads, start the gate in a thread, tick the fake once the gate is
//! watching (dropping watches or compacting history at chosen ticks), collect the run, then
//! ask kubectl.
//!
//! This file is the harness (manifests, the fake cluster, driving its clock, assertion
//! helpers); the tests are by subject: [`rollouts`] that succeed, [`failures`], the
//! [`watch`] surviving a flaky server, [`rollback`] and the smoke command, tool [`errors`],
//! cluster [`access`] (kubeconfig forms, EKS), and [`snapshot`]s of everything people read.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use fake_kube::{FakeKube, FakeKubeHandle, ForbiddenRule, Scenario};
use serde_json::Value;

use crate::common::{Harness, Run};

mod access;
mod deployments;
mod eks;
mod errors;
mod failfast;
mod failures;
mod restore;
mod rollback;
mod rollouts;
mod snapshot;
mod targets;
mod watch;

/// The real kubectl: `/usr/bin/kubectl` (this machine), else the first on `PATH` (GitHub's
/// runners have it in `/usr/local/bin`). Missing kubectl is a loud failure, never a skip.
fn kubectl_path() -> PathBuf {
    let preferred = PathBuf::from("/usr/bin/kubectl");
    if preferred.exists() {
        return preferred;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("kubectl"))
                .find(|p| p.exists())
        })
        .unwrap_or_else(|| {
            panic!("kubectl is required (at /usr/bin/kubectl or on PATH) to judge the rollout gate")
        })
}

fn deployment(name: &str, image: &str, extra_spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: default
spec:
  replicas: 3
  progressDeadlineSeconds: 30
  selector:
    matchLabels: {{app: {name}}}
{extra_spec}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: {name}
        image: {image}
"#
    )
}

fn statefulset(name: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: 2
  serviceName: {name}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: {name}, image: "{image}"}}]}}
"#
    )
}

fn daemonset(name: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}, namespace: default}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: {name}, image: "{image}"}}]}}
"#
    )
}

/// A fake cluster and a kubeconfig file for kubectl.
struct Cluster {
    fake: FakeKubeHandle,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn cluster(manifests: &[String]) -> Cluster {
    let scenario = Scenario::new()
        .with_manifests(&manifests.join("---\n"))
        .expect("manifests");
    Cluster::start(scenario).await
}

/// Two identical fake clusters: the gate works in the first, kubectl in the second.
async fn twins(manifests: &[String]) -> (Cluster, Cluster) {
    (cluster(manifests).await, cluster(manifests).await)
}

impl Cluster {
    /// A fake serving `scenario`, and a kubeconfig file for kubectl.
    async fn start(scenario: Scenario) -> Cluster {
        let fake = FakeKube::start(scenario).await.expect("start fake-kube");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = fake.write_kubeconfig(dir.path()).expect("kubeconfig");
        Cluster {
            fake,
            dir,
            kubeconfig,
        }
    }

    /// The gate, configured for this cluster, as a runner step of run 77 of o/r.
    fn gate(&self, workloads: &str, image: &str) -> Harness {
        Harness::new()
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_RUN_ID", "77")
            .env("HOME", self.dir.path().display().to_string())
            .env(
                "KUBECONFIG",
                self.dir.path().join("absent").display().to_string(),
            )
            .input("gate", "rollout")
            .input("kubeconfig", self.fake.kubeconfig("default"))
            .input("workloads", workloads)
            .input("image", image)
            .input("timeout", "20s")
    }

    fn object(&self, kind: &str, name: &str) -> Value {
        self.fake
            .get("apps/v1", kind, "default", name)
            .unwrap_or(Value::Null)
    }

    fn image_of(&self, kind: &str, name: &str) -> String {
        self.object(kind, name)
            .pointer("/spec/template/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// `kubectl rollout status` against the same fake: (exit code, stdout + stderr).
    fn kubectl_status(&self, target: &str, timeout: &str) -> (i32, String) {
        self.kubectl(&["rollout", "status", target, "--timeout", timeout])
    }

    fn kubectl(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(kubectl_path())
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("kubectl-cache"))
            .env("HOME", self.dir.path())
            .output()
            .expect("run kubectl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }
}

/// Something to do to the fake at a given tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disrupt {
    /// Close every open watch stream.
    DropWatches,
    /// Forget history, then close the watches: resuming gives 410 Gone.
    CompactAndDrop,
}

/// How to drive the fake's clock while the gate runs.
#[derive(Debug, Clone)]
struct Drive {
    /// Simulated seconds per tick.
    seconds: f64,
    /// Real time between ticks.
    every: Duration,
    /// Most ticks.
    max_ticks: u32,
    /// Disruptions after the given tick numbers (1-based).
    disrupt: Vec<(u32, Disrupt)>,
    /// Stop ticking once this Deployment is complete by kubectl's rules, and note when.
    watch_complete: Option<&'static str>,
    /// Start ticking once this many watches are open (one per workload the gate follows),
    /// so that every watch sees every step.
    watches: usize,
    /// When to stop the fake's clock so that what the gate reads after its verdict (pods,
    /// events, logs) is the state the verdict was reached in, whatever the machine's speed.
    hold: Hold,
    /// The clock starts again once the gate has sent this many more PATCHes (its
    /// rollbacks), or has exited.
    resume_after_patches: usize,
}

/// When [`drive`] stops ticking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// Never.
    Never,
    /// Once a Deployment has failed by kubectl's rules.
    OnDeploymentFailure,
    /// After this many ticks (for verdicts reached by the gate's own timeout).
    AfterTicks(u32),
    /// Once a pod shows a state fail fast calls conclusive.
    OnConclusivePod,
}

impl Drive {
    /// Two simulated seconds every 200 ms, for rollouts that fail by the gate's own
    /// (short) timeout and are then rolled back.
    fn slowly() -> Self {
        Self {
            seconds: 2.0,
            every: Duration::from_millis(200),
            max_ticks: 100,
            ..Self::default()
        }
    }
}

impl Default for Drive {
    fn default() -> Self {
        Self {
            seconds: 5.0,
            every: Duration::from_millis(150),
            max_ticks: 60,
            disrupt: Vec::new(),
            watch_complete: None,
            watches: 1,
            hold: Hold::Never,
            resume_after_patches: 1,
        }
    }
}

/// What driving observed.
#[derive(Debug, Default)]
struct Driven {
    ticks: u32,
    /// Wall clock just before the tick after which the watched Deployment was complete.
    completed_before: Option<jiff::Timestamp>,
}

/// Run the gate in a thread while ticking the fake; returns once the gate exits.
async fn drive(c: &Cluster, h: Harness, d: Drive) -> (Run, Driven) {
    let handle = tokio::task::spawn_blocking(move || h.run());
    let mut driven = Driven::default();
    let mut held = false;
    let started = Instant::now();
    // Tick only once the gate is watching: before that, nothing would change anyway, and a
    // disruption must hit a live watch.
    while c.fake.watches().len() < d.watches
        && !handle.is_finished()
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    while !handle.is_finished() && driven.ticks < d.max_ticks {
        if driven.completed_before.is_none() {
            let before = jiff::Timestamp::now();
            c.fake.tick(d.seconds);
            driven.ticks += 1;
            if let Some(name) = d.watch_complete {
                let dep: k8s_openapi::api::apps::v1::Deployment =
                    serde_json::from_value(c.object("Deployment", name)).expect("deployment");
                if matches!(
                    rust_ci_action::gates::rollout::kinds::deployment::kubectl_deployment_status(
                        &dep
                    ),
                    rust_ci_action::gates::rollout::status::RolloutState::Complete(_)
                ) {
                    driven.completed_before = Some(before);
                }
            }
            let hold_now = match d.hold {
                Hold::Never => false,
                Hold::OnDeploymentFailure => any_deployment_failed(c),
                Hold::AfterTicks(n) => driven.ticks >= n,
                Hold::OnConclusivePod => any_pod_conclusive(c),
            };
            if hold_now && !held {
                held = true;
                hold_until_patches(c, &handle, d.resume_after_patches).await;
            }
            for (at, what) in &d.disrupt {
                if *at == driven.ticks {
                    match what {
                        Disrupt::DropWatches => {
                            c.fake.drop_watches();
                        }
                        Disrupt::CompactAndDrop => {
                            c.fake.compact();
                            c.fake.drop_watches();
                        }
                    }
                }
            }
        }
        tokio::time::sleep(d.every).await;
    }
    let run = handle.await.expect("gate thread");
    (run, driven)
}

fn any_deployment_failed(c: &Cluster) -> bool {
    c.fake
        .list("apps/v1", "Deployment", None)
        .into_iter()
        .filter_map(|v| serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(v).ok())
        .any(|d| {
            matches!(
                rust_ci_action::gates::rollout::kinds::deployment::kubectl_deployment_status(&d),
                rust_ci_action::gates::rollout::status::RolloutState::Failed(_)
            )
        })
}

/// Whether any pod is in a state the gate's fail fast (default policy) calls conclusive.
fn any_pod_conclusive(c: &Cluster) -> bool {
    use rust_ci_action::gates::rollout::failfast::{FailFast, Finding, judge};
    c.fake
        .list("v1", "Pod", None)
        .into_iter()
        .filter_map(|v| serde_json::from_value::<k8s_openapi::api::core::v1::Pod>(v).ok())
        .any(|p| {
            judge(&p, FailFast::default())
                .iter()
                .any(|f| matches!(f, Finding::Conclusive(_)))
        })
}

/// Wait (at most 30s) until the gate sends `more` PATCHes or exits.
async fn hold_until_patches(c: &Cluster, gate: &tokio::task::JoinHandle<Run>, more: usize) {
    let patches = || {
        c.fake
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count()
    };
    let until = patches() + more;
    let started = Instant::now();
    while patches() < until && !gate.is_finished() && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn results(run: &Run) -> Vec<Value> {
    let text = run
        .output("results")
        .unwrap_or_else(|| panic!("no results output\n{run}"));
    serde_json::from_str::<Value>(text)
        .expect("results JSON")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn result_for<'a>(results: &'a [Value], workload: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["workload"] == workload)
        .unwrap_or_else(|| panic!("no result for {workload}: {results:?}"))
}

/// The gate's verdict and kubectl's must agree: 0 ↔ 0, 1 ↔ non-zero.
#[track_caller]
fn assert_agrees(run: &Run, kubectl: &(i32, String)) {
    let gate_ok = run.code == 0;
    let kubectl_ok = kubectl.0 == 0;
    assert_eq!(
        gate_ok, kubectl_ok,
        "gate and kubectl disagree\nkubectl exit {}: {}\n{run}",
        kubectl.0, kubectl.1
    );
}

fn requests_matching(c: &Cluster, method: &str, path_part: &str, query_part: &str) -> usize {
    c.fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == method && r.path.contains(path_part) && r.query.contains(query_part)
        })
        .count()
}

/// A 403 for `verbs` on Deployments in `default` (all of them, or the one named).
fn forbid_deployments(c: &Cluster, verbs: &[&str], name: Option<&str>) {
    c.fake.forbid(ForbiddenRule {
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        group: Some("apps".into()),
        resource: "deployments".into(),
        namespace: Some("default".into()),
        name: name.map(str::to_owned),
    });
}

/// One workload's entry in the run's `results` output.
#[track_caller]
fn result_of(run: &Run, workload: &str) -> Value {
    result_for(&results(run), workload).clone()
}

/// A JSON value as text (`""` when it is not a string).
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Panic, showing `haystack`, unless it contains `needle`.
#[track_caller]
fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

/// Panic, showing the run, unless one `::error` line contains every needle.
#[track_caller]
fn assert_error_line(run: &Run, needles: &[&str]) {
    assert!(
        run.errors()
            .iter()
            .any(|e| needles.iter().all(|n| e.contains(n))),
        "no ::error line with {needles:?}\n{run}"
    );
}

/// Panic, showing the run, if an `::error` line contains `needle`.
#[track_caller]
fn assert_no_error_line(run: &Run, needle: &str) {
    assert!(
        !run.errors().iter().any(|e| e.contains(needle)),
        "an ::error line has {needle:?}\n{run}"
    );
}

/// Break `target` in `theirs` with `kubectl set image`, let the fake settle, undo it with
/// `kubectl rollout undo`, and check that the template the gate restored in `ours` is
/// kubectl's.
#[track_caller]
fn assert_restored_like_kubectl_undo(
    ours: &Cluster,
    theirs: &Cluster,
    kind: &str,
    target: &str,
    broken: &str,
    settle: (f64, u32),
) {
    let (code, text) = theirs.kubectl(&["set", "image", target, broken]);
    assert_eq!(code, 0, "{text}");
    theirs.fake.settle(settle.0, settle.1);
    let (code, text) = theirs.kubectl(&["rollout", "undo", target]);
    assert_eq!(code, 0, "{text}");
    theirs.fake.settle(settle.0, settle.1);
    let name = target.rsplit('/').next().unwrap_or(target);
    assert_eq!(
        ours.object(kind, name)["spec"]["template"],
        theirs.object(kind, name)["spec"]["template"],
        "the restored template equals kubectl's"
    );
}
