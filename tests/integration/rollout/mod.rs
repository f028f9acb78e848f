//! The rollout gate end to end: the real binary (through the [`Harness`]) against the fake
//! Kubernetes API server (`crates/fake-kube`, started in-process), with the real `kubectl
//! rollout status` run against the same fake state as the judge of every verdict.
//!
//! The fake's clock moves only when a test ticks it, so a scenario is: start the fake with
//! rolled-out workloads, start the gate in a thread, tick the fake once the gate is
//! watching (dropping watches or compacting history at chosen ticks), collect the run, then
//! ask kubectl.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fake_kube::{FakeKube, FakeKubeHandle, ForbiddenRule, Scenario};
use serde_json::Value;

use crate::common::{Harness, Run};

mod snapshot;

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
    let fake = FakeKube::start(scenario).await.expect("start fake-kube");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = fake.write_kubeconfig(dir.path()).expect("kubeconfig");
    Cluster {
        fake,
        dir,
        kubeconfig,
    }
}

impl Cluster {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_in_several_steps_is_noticed_within_a_second() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", "example.com/api:2");
    let (run, driven) = drive(
        &c,
        h,
        Drive {
            seconds: 2.0,
            every: Duration::from_millis(400),
            watch_complete: Some("api"),
            ..Drive::default()
        },
    )
    .await;
    run.assert_code(0);
    assert_eq!(run.output("result"), Some("pass"));
    assert_eq!(run.output("previous-image"), Some("example.com/api:1"));
    assert_eq!(run.output("revision"), Some("2"));
    assert_eq!(run.output("rolled-back"), Some("false"));
    let res = results(&run);
    let api = result_for(&res, "default/deployment/api");
    assert_eq!(api["status"], "complete");
    assert_eq!(api["patched"], true);
    let progression = api["progression"].as_str().unwrap_or_default();
    assert!(
        progression.matches('→').count() >= 2,
        "several steps expected: {progression}"
    );
    assert!(
        progression.ends_with("3/3 updated, 3/3 available"),
        "{progression}"
    );
    assert!(
        run.summary
            .contains("| `default/deployment/api` | ✅ rolled out |"),
        "{}",
        run.summary
    );
    assert!(
        driven.ticks >= 3,
        "the rollout took several ticks: {driven:?}"
    );

    // The patch: strategic merge on the container by name, our field manager, the run URL.
    let patches: Vec<_> = c
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(
        patches[0].content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    assert!(
        patches[0].query.contains("fieldManager=rust-ci-action"),
        "{}",
        patches[0].query
    );
    let body: Value =
        serde_json::from_str(patches[0].body.as_deref().unwrap_or("{}")).expect("patch body");
    assert_eq!(
        body["spec"]["template"]["spec"]["containers"],
        serde_json::json!([{"name": "api", "image": "example.com/api:2"}])
    );
    assert_eq!(
        c.object("Deployment", "api")["metadata"]["annotations"]["kubernetes.io/change-cause"],
        "https://github.com/o/r/actions/runs/77"
    );
    // Watch-driven: one list and watches, never a stream of GETs of the object.
    let gets = requests_matching(&c, "GET", "/deployments/api", "");
    assert!(gets <= 2, "the gate polled the deployment {gets} times");
    assert!(requests_matching(&c, "GET", "/deployments", "watch=true") >= 1);

    // Completion latency: from the tick that completed the rollout to the gate noticing.
    let noticed: jiff::Timestamp = api["finished_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("finished_at");
    let before = driven
        .completed_before
        .expect("the fake completed the rollout");
    let latency = noticed.duration_since(before);
    eprintln!(
        "rollout completion latency (fake marks complete -> gate notices): {} ms",
        latency.as_millis()
    );
    assert!(
        latency.as_secs_f64() < 1.0,
        "completion noticed {latency:?} after the fake completed it"
    );

    let kubectl = c.kubectl_status("deployment/api", "5s");
    assert_agrees(&run, &kubectl);
    assert!(
        kubectl.1.contains("successfully rolled out"),
        "{}",
        kubectl.1
    );
    let history = c.kubectl(&["rollout", "history", "deployment/api"]);
    assert!(
        history.1.contains("https://github.com/o/r/actions/runs/77"),
        "{}",
        history.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pull_failure_ends_in_progress_deadline_exceeded() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", "example.com/api:2-pull-error");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("result"), Some("fail"));
    let res = results(&run);
    let api = result_for(&res, "default/deployment/api");
    assert_eq!(api["status"], "failed");
    let reason = api["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("exceeded its progress deadline"),
        "{reason}"
    );
    assert!(
        reason.contains("ImagePullBackOff") || reason.contains("ErrImagePull"),
        "{reason}"
    );
    let errors = run.errors();
    assert!(
        errors.iter().any(
            |e| e.contains("title=Rollout failed%3A default/deployment/api")
                && e.contains("ImagePull")
        ),
        "{errors:#?}"
    );
    assert!(
        run.summary.contains("`ImagePullBackOff`") || run.summary.contains("`ErrImagePull`"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("**ReplicaSets**"), "{}", run.summary);
    assert!(run.summary.contains("**Recent events**"), "{}", run.summary);
    assert!(
        run.summary.contains("Warning Failed pod/api-"),
        "{}",
        run.summary
    );
    assert!(
        !run.summary.contains("Started container api"),
        "only the new pods' events: {}",
        run.summary
    );
    assert!(
        api["progression"]
            .as_str()
            .unwrap_or_default()
            .starts_with("0 → 1/3 updated"),
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
    assert!(
        kubectl.1.contains("exceeded its progress deadline"),
        "{}",
        kubectl.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_is_explained_with_the_log_tail() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", "example.com/api:2-crash");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let res = results(&run);
    let reason = result_for(&res, "default/deployment/api")["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.contains("CrashLoopBackOff") || reason.contains("Error"),
        "{reason}"
    );
    assert!(
        run.summary.contains("**Last log lines of `api-"),
        "the crashed container's log: {}",
        run.summary
    );
    assert!(
        run.errors().iter().any(|e| e.contains("log of api-")),
        "{:#?}",
        run.errors()
    );
    let kubectl = c.kubectl_status("deployment/api", "5s");
    assert_agrees(&run, &kubectl);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_deployment_fails_at_once() {
    let c = cluster(&[deployment("api", "example.com/api:1", "  paused: true")]).await;
    let h = c.gate("deployment/api", "example.com/api:2");
    let started = Instant::now();
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let res = results(&run);
    let reason = result_for(&res, "default/deployment/api")["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("paused"), "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "did not wait out the 20s timeout"
    );
    // kubectl just waits on a paused deployment; with a timeout it fails too.
    let kubectl = c.kubectl_status("deployment/api", "2s");
    assert_agrees(&run, &kubectl);
}

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
    let res = results(&run);
    let api = result_for(&res, "default/deployment/api");
    assert_eq!(api["status"], "timeout");
    assert!(
        api["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("timed out after 3s"),
        "{api}"
    );
    let kubectl = c.kubectl_status("deployment/api", "2s");
    assert_agrees(&run, &kubectl);
    assert!(kubectl.1.contains("timed out"), "{}", kubectl.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_and_daemonset_roll_out() {
    let c = cluster(&[
        statefulset("db", "example.com/db:1"),
        daemonset("agent", "example.com/agent:1"),
    ])
    .await;
    let h = c.gate(
        "statefulset/db\ndefault/daemonset/agent",
        "example.com/shared:2",
    );
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    let res = results(&run);
    for w in ["default/statefulset/db", "default/daemonset/agent"] {
        let r = result_for(&res, w);
        assert_eq!(r["status"], "complete", "{r}");
        assert!(r["revision"].as_str().is_some_and(|v| v == "2"), "{r}");
    }
    assert_eq!(c.image_of("StatefulSet", "db"), "example.com/shared:2");
    assert_eq!(c.image_of("DaemonSet", "agent"), "example.com/shared:2");
    let k1 = c.kubectl_status("statefulset/db", "5s");
    let k2 = c.kubectl_status("daemonset/agent", "5s");
    assert_agrees(&run, &k1);
    assert_agrees(&run, &k2);
    assert!(
        k1.1.contains("partitioned roll out complete: 2 new pods have been updated"),
        "{}",
        k1.1
    );
    assert!(
        k2.1.contains("daemon set \"agent\" successfully rolled out"),
        "{}",
        k2.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_on_failure_restores_what_kubectl_undo_would() {
    // Two identical clusters: the gate rolls back in one, `kubectl rollout undo` in the other.
    let manifests = [deployment("api", "example.com/api:1", "")];
    let ours = cluster(&manifests).await;
    let theirs = cluster(&manifests).await;
    let h = ours
        .gate("deployment/api", "example.com/api:2-pull-error")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&ours, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("true"), "{run}");
    let res = results(&run);
    let api = result_for(&res, "default/deployment/api");
    assert_eq!(api["rollback"]["to_revision"], 1, "{api}");
    assert_eq!(api["rolled_back"], true);
    assert!(
        run.stdout
            .contains("::notice title=Rolled back%3A default/deployment/api"),
        "{run}"
    );
    assert_eq!(ours.image_of("Deployment", "api"), "example.com/api:1");

    // The same failure, undone by kubectl.
    let (code, text) = theirs.kubectl(&[
        "set",
        "image",
        "deployment/api",
        "api=example.com/api:2-pull-error",
    ]);
    assert_eq!(code, 0, "{text}");
    theirs.fake.settle(5.0, 30);
    let (code, text) = theirs.kubectl(&["rollout", "undo", "deployment/api"]);
    assert_eq!(code, 0, "{text}");
    theirs.fake.settle(5.0, 30);
    let ours_template = &ours.object("Deployment", "api")["spec"]["template"];
    let theirs_template = &theirs.object("Deployment", "api")["spec"]["template"];
    assert_eq!(
        ours_template, theirs_template,
        "the restored template equals kubectl's"
    );

    // After the rollback the workload is healthy again, and kubectl agrees.
    let kubectl = ours.kubectl_status("deployment/api", "5s");
    assert_eq!(kubectl.0, 0, "{}", kubectl.1);
    assert_eq!(api["rollback"]["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_image_is_not_patched_but_checked() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c.gate("deployment/api", "example.com/api:1");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    let res = results(&run);
    let api = result_for(&res, "default/deployment/api");
    assert_eq!(api["status"], "unchanged");
    assert_eq!(api["patched"], false);
    assert_eq!(requests_matching(&c, "PATCH", "", ""), 0);
    assert!(run.summary.contains("✅ unchanged"), "{}", run.summary);
    assert_agrees(&run, &c.kubectl_status("deployment/api", "5s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workloads_concurrently_one_failing_names_which() {
    let mut web = deployment("web", "example.com/web:1", "");
    // A second container makes `web` pick the container named like it; `api` has one.
    web.push_str("      - name: sidecar\n        image: example.com/sidecar:1\n");
    let c = cluster(&[deployment("api", "example.com/api:1", ""), web]).await;
    let h = c.gate("deployment/api\ndeployment/web", "example.com/app:2");
    // `api` fails on its own terms: it is paused, so the new template never rolls out.
    let (code, text) = c.kubectl(&["rollout", "pause", "deployment/api"]);
    assert_eq!(code, 0, "{text}");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    let res = results(&run);
    assert_eq!(
        result_for(&res, "default/deployment/api")["status"],
        "failed"
    );
    assert_eq!(
        result_for(&res, "default/deployment/web")["status"],
        "complete"
    );
    assert_eq!(
        result_for(&res, "default/deployment/web")["container"],
        "web"
    );
    assert_eq!(
        c.object("Deployment", "web")["spec"]["template"]["spec"]["containers"][1]["image"],
        "example.com/sidecar:1"
    );
    assert!(
        run.errors()
            .iter()
            .any(|e| e.contains("Rollout failed%3A default/deployment/api")),
        "{run}"
    );
    assert!(
        !run.errors()
            .iter()
            .any(|e| e.contains("Rollout failed%3A default/deployment/web")),
        "{run}"
    );
    assert_agrees(&run, &c.kubectl_status("deployment/api", "2s"));
    assert_eq!(c.kubectl_status("deployment/web", "5s").0, 0);
}

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
    c.fake.forbid(ForbiddenRule {
        verbs: vec!["patch".into()],
        group: Some("apps".into()),
        resource: "deployments".into(),
        namespace: Some("default".into()),
        name: Some("locked".into()),
    });
    c.fake
        .create(&deployment("locked", "example.com/api:1", ""))
        .expect("create");
    c.fake.settle(1.0, 50);

    struct Case {
        name: &'static str,
        harness: Harness,
        expect: &'static str,
        kubectl_target: &'static str,
    }
    let cases = vec![
        Case {
            name: "bad kubeconfig",
            harness: c
                .gate("deployment/api", "example.com/api:2")
                .input("kubeconfig", "apiVersion: v1\nkind: Config\nclusters: 7\n"),
            expect: "could not load the kubeconfig from the `kubeconfig` input",
            kubectl_target: "",
        },
        Case {
            name: "unreachable cluster",
            harness: c.gate("deployment/api", "example.com/api:2").input(
                "kubeconfig",
                c.fake
                    .kubeconfig("default")
                    .replace(&c.fake.url(), "http://127.0.0.1:9"),
            ),
            expect: "cannot reach the Kubernetes API at http://127.0.0.1:9",
            kubectl_target: "",
        },
        Case {
            name: "unknown workload",
            harness: c.gate("deployment/nope", "example.com/api:2"),
            expect: "deployment \"nope\" not found in namespace \"default\"",
            kubectl_target: "deployment/nope",
        },
        Case {
            name: "container ambiguous",
            harness: c.gate("deployment/multi", "example.com/api:2"),
            expect: "default/deployment/multi has several containers (app, sidecar)",
            kubectl_target: "",
        },
        Case {
            name: "container not found",
            harness: c
                .gate("deployment/api", "example.com/api:2")
                .input("container", "web"),
            expect: "no container named `web` (containers: api)",
            kubectl_target: "",
        },
        Case {
            name: "invalid image reference",
            harness: c.gate("deployment/api", "Example.com/API:2"),
            expect: "input `image`",
            kubectl_target: "",
        },
        Case {
            name: "OnDelete statefulset",
            harness: c.gate("statefulset/ondel", "example.com/db:2"),
            expect: "rollout status is only available for RollingUpdate strategy type",
            kubectl_target: "statefulset/ondel",
        },
        Case {
            name: "forbidden patch",
            harness: c.gate("deployment/api\ndeployment/locked", "example.com/api:2"),
            expect: "forbidden to patch default/deployment/locked",
            kubectl_target: "",
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
        assert!(
            errors[0].contains(case.expect),
            "{}: {}",
            case.name,
            errors[0]
        );
        if case.name == "forbidden patch" {
            // `api` was patched before `locked` was refused: the error says so.
            assert!(
                errors[0].contains(
                    "already patched before this error (still in place): default/deployment/api"
                ),
                "{}",
                errors[0]
            );
            assert_eq!(c.image_of("Deployment", "api"), "example.com/api:2");
        } else {
            assert_eq!(
                requests_matching(&c, "PATCH", "", ""),
                0,
                "{}: nothing patched",
                case.name
            );
        }
        if !case.kubectl_target.is_empty() {
            let (code, text) = c.kubectl_status(case.kubectl_target, "2s");
            assert_ne!(code, 0, "{}: kubectl agrees it cannot: {text}", case.name);
            let why = if case.name == "OnDelete statefulset" {
                "only available for RollingUpdate"
            } else {
                "not found"
            };
            assert!(text.contains(why), "{text}");
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_path_and_base64_inputs_work_and_never_leak() {
    use base64::Engine as _;
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let secret_kc = c
        .fake
        .kubeconfig("default")
        .replace("fake-token", "s3cr3t-t0ken-value");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&secret_kc);
    let h = c
        .gate("deployment/api", "example.com/api:1")
        .input("kubeconfig", &b64);
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    // The decoded kubeconfig's lines are registered as masks; nothing else shows them.
    assert!(
        run.stdout.contains("::add-mask::s3cr3t-t0ken-value"),
        "{run}"
    );
    let leaks: Vec<&str> = run
        .all_text()
        .lines()
        .filter(|l| !l.starts_with("::add-mask::") && l.contains("s3cr3t"))
        .map(|_| "leak")
        .collect();
    assert!(leaks.is_empty(), "{run}");
    let logged =
        c.fake.requests().iter().any(|r| {
            r.body.as_deref().unwrap_or("").contains("s3cr3t") || r.query.contains("s3cr3t")
        });
    assert!(!logged, "the token never travels in a request body or URL");

    let path = c.dir.path().join("kc.yaml");
    std::fs::write(&path, c.fake.kubeconfig("default")).expect("write kubeconfig");
    let h = Harness::new()
        .env("HOME", c.dir.path().display().to_string())
        .input("gate", "rollout")
        .input("kubeconfig-path", path.display().to_string())
        .input("workloads", "deployment/api")
        .input("image", "example.com/api:1");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);

    // The default chain: KUBECONFIG.
    let h = Harness::new()
        .env("HOME", c.dir.path().display().to_string())
        .env("KUBECONFIG", path.display().to_string())
        .input("gate", "rollout")
        .input("workloads", "deployment/api")
        .input("image", "example.com/api:1");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_rollback_restores_the_previous_controller_revision() {
    let manifests = [daemonset("agent", "example.com/agent:1")];
    let ours = cluster(&manifests).await;
    let theirs = cluster(&manifests).await;
    let h = ours
        .gate("daemonset/agent", "example.com/agent:2-crash")
        .input("timeout", "3s")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(
        &ours,
        h,
        Drive {
            seconds: 2.0,
            every: Duration::from_millis(200),
            max_ticks: 100,
            ..Drive::default()
        },
    )
    .await;
    run.assert_code(1);
    let res = results(&run);
    let agent = result_for(&res, "default/daemonset/agent");
    assert_eq!(agent["status"], "timeout", "{agent}");
    assert_eq!(agent["rollback"]["to_revision"], 1, "{agent}");
    assert_eq!(agent["rollback"]["ok"], true, "{agent}");
    assert_eq!(run.output("rolled-back"), Some("true"));
    assert_eq!(ours.image_of("DaemonSet", "agent"), "example.com/agent:1");

    let (code, text) = theirs.kubectl(&[
        "set",
        "image",
        "daemonset/agent",
        "agent=example.com/agent:2-crash",
    ]);
    assert_eq!(code, 0, "{text}");
    theirs.fake.settle(2.0, 10);
    let (code, text) = theirs.kubectl(&["rollout", "undo", "daemonset/agent"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        ours.object("DaemonSet", "agent")["spec"]["template"],
        theirs.object("DaemonSet", "agent")["spec"]["template"],
        "the restored template equals kubectl's"
    );
    assert_eq!(
        ours.kubectl_status("daemonset/agent", "5s").0,
        0,
        "healthy again after the rollback"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_token_from_the_aws_credential_chain() {
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c
        .gate("deployment/api", "example.com/api:2")
        .input("eks-cluster", "demo-cluster")
        .input("aws-region", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", "")
        .env("AWS_PROFILE", "")
        .env(
            "AWS_CONFIG_FILE",
            c.dir.path().join("no-aws-config").display().to_string(),
        )
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            c.dir
                .path()
                .join("no-aws-credentials")
                .display()
                .to_string(),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    // The token was built and masked before use; the secret key never shows.
    assert!(run.stdout.contains("::add-mask::k8s-aws-v1."), "{run}");
    assert!(!run.all_text().contains(SECRET_KEY), "{run}");
    assert!(
        !run.all_text()
            .lines()
            .any(|l| !l.starts_with("::add-mask::") && l.contains("k8s-aws-v1.")),
        "{run}"
    );
}

/// The kind workflow's fixtures (tests/fixtures/rollout/) and success inputs, against the
/// fake: every fixture parses and the gate rolls the three kinds out. (The fake serves no
/// Services: the StatefulSet's headless Service is skipped.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kind_workflow_fixtures_roll_out_on_the_fake() {
    let dir = crate::common::repo_root().join("tests/fixtures/rollout");
    let mut objects = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
    {
        let text = std::fs::read_to_string(f).expect("read fixture");
        let docs = fake_kube::scenario::parse_manifests(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        objects.extend(docs.into_iter().filter(|o| o["kind"] != "Service"));
    }
    assert_eq!(
        objects.len(),
        5,
        "namespace, two deployments, a statefulset, a daemonset"
    );
    let scenario = Scenario {
        objects,
        ..Scenario::new()
    };
    let fake = FakeKube::start(scenario).await.expect("start fake-kube");
    let tmp = tempfile::tempdir().expect("temp dir");
    let kubeconfig = fake.write_kubeconfig(tmp.path()).expect("kubeconfig");
    let c = Cluster {
        fake,
        dir: tmp,
        kubeconfig,
    };
    let h = c
        .gate(
            "deployment/web\nstatefulset/db\ndaemonset/agent",
            "registry.k8s.io/pause:3.10",
        )
        .input("namespace", "rollout-e2e")
        .input("timeout", "3m");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    assert_eq!(
        run.output("previous-image"),
        Some("registry.k8s.io/pause:3.9")
    );
    assert_eq!(run.output("revision"), Some("2"));
    let res = results(&run);
    let names: Vec<&str> = res.iter().filter_map(|r| r["workload"].as_str()).collect();
    assert_eq!(
        names,
        [
            "rollout-e2e/deployment/web",
            "rollout-e2e/statefulset/db",
            "rollout-e2e/daemonset/agent"
        ]
    );
    assert!(res.iter().all(|r| r["status"] == "complete"), "{res:?}");
    for w in ["deployment/web", "statefulset/db", "daemonset/agent"] {
        let (code, text) = c.kubectl(&[
            "-n",
            "rollout-e2e",
            "rollout",
            "status",
            w,
            "--timeout",
            "5s",
        ]);
        assert_eq!(code, 0, "{w}: {text}");
    }
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
    assert!(
        run.summary.contains("Smoke command ✅ `pwd > "),
        "{}",
        run.summary
    );

    // Failing: the gate fails, shows the output, and restores the previous revision.
    let h = c
        .gate("deployment/api", "example.com/api:3")
        .input("smoke-command", "echo 'GET /health: 503'; exit 3")
        .input("rollback-on-failure", "true");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("true"), "{run}");
    assert!(
        run.errors()
            .iter()
            .any(|e| e.contains("title=Smoke command failed") && e.contains("GET /health: 503")),
        "{run}"
    );
    let res = results(&run);
    let api = result_for(&res, "default/deployment/api");
    assert_eq!(api["status"], "complete", "the rollout itself completed");
    assert_eq!(api["rollback"]["to_revision"], 2);
    assert_eq!(c.image_of("Deployment", "api"), "example.com/api:2");
    // kubectl judges only the rollout: the rolled-back revision is healthy.
    assert_eq!(c.kubectl_status("deployment/api", "5s").0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_watch_is_an_error_that_names_what_was_patched() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    c.fake.forbid(ForbiddenRule {
        verbs: vec!["list".into(), "watch".into()],
        group: Some("apps".into()),
        resource: "deployments".into(),
        namespace: None,
        name: None,
    });
    let run = c.gate("deployment/api", "example.com/api:2").run();
    run.assert_code(2);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(
        errors[0].contains("forbidden to watch default/deployment/api"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("already patched before this error (still in place): default/deployment/api container `api` example.com/api:1 → example.com/api:2"),
        "{}",
        errors[0]
    );
    // kubectl cannot watch either.
    let (code, text) = c.kubectl_status("deployment/api", "3s");
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("forbidden"), "{text}");
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
        .input("rollback-on-failure", "true");
    let drive_slowly = Drive {
        seconds: 2.0,
        every: Duration::from_millis(200),
        max_ticks: 100,
        ..Drive::default()
    };
    let (run, _) = drive(&c, h, drive_slowly).await;
    run.assert_code(1);
    assert_eq!(run.output("rolled-back"), Some("false"));
    let res = results(&run);
    let db = result_for(&res, "default/statefulset/db");
    assert_eq!(db["status"], "timeout", "{db}");
    assert_eq!(db["rollback"]["to_revision"], 1, "{db}");
    assert_eq!(db["rollback"]["ok"], false, "{db}");
    assert!(
        db["rollback"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("forced-rollback"),
        "{db}"
    );
    assert_eq!(
        c.image_of("StatefulSet", "db"),
        "example.com/db:1",
        "the template was restored"
    );
    assert!(
        run.errors()
            .iter()
            .any(|e| e.contains("title=Rollback failed%3A default/statefulset/db")),
        "{run}"
    );
    let kubectl = c.kubectl_status("statefulset/db", "3s");
    assert_agrees(&run, &kubectl);
}
