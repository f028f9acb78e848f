//! The harness: a fake per test, a kubeconfig in a temp dir, and the real kubectl run against it
//! with a scrubbed environment while the test drives the clock.
//!
//! Nothing here measures time: waits poll the fake's own state (open watches, the request log)
//! with a generous bound that only exists so a broken test fails instead of hanging.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fake_kube::{FakeKube, FakeKubeHandle, Scenario};
use serde_json::Value;
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// A three-replica Deployment `api` with container `app`.
pub(crate) const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: default
  labels: {app: api}
spec:
  replicas: 3
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: app
        image: registry.example/api:v1
        ports: [{containerPort: 8080}]
"#;

/// A three-replica StatefulSet `web`.
pub(crate) const STATEFULSET: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: registry.example/nginx:1.27}]
"#;

/// A DaemonSet `agent` (one pod per simulated node).
pub(crate) const DAEMONSET: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: registry.example/agent:v1}]
"#;

/// Upper bound for any single wait; reaching it means the test is broken, not slow.
const HANG_GUARD: Duration = Duration::from_secs(180);

/// The kubectl binary; the tests need the real one and fail without it.
pub(crate) fn kubectl_path() -> PathBuf {
    let fixed = Path::new("/usr/bin/kubectl");
    if fixed.exists() {
        return fixed.to_path_buf();
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("kubectl");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    panic!(
        "kubectl is required by these tests (the fake is judged against it) but was not found at /usr/bin/kubectl or on PATH"
    );
}

/// Exit code and output of one kubectl run.
#[derive(Debug)]
pub(crate) struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics with both channels unless the exit code is `code`.
    pub(crate) fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A fake API server plus a kubectl environment pointing at it.
pub(crate) struct Harness {
    /// The fake.
    pub fake: FakeKubeHandle,
    dir: TempDir,
    kubeconfig: PathBuf,
}

impl Harness {
    /// Starts a fake with these manifests, settled (workloads fully rolled out).
    pub(crate) async fn start(manifests: &str) -> Self {
        let scenario = Scenario::new()
            .with_manifests(manifests)
            .expect("manifests parse");
        Self::start_with(scenario).await
    }

    /// Starts a fake for a scenario.
    pub(crate) async fn start_with(scenario: Scenario) -> Self {
        let fake = FakeKube::start(scenario).await.expect("fake starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = fake.write_kubeconfig(dir.path()).expect("kubeconfig");
        Harness {
            fake,
            dir,
            kubeconfig,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(kubectl_path());
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.dir.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs kubectl to completion.
    pub(crate) async fn kubectl(&self, args: &[&str]) -> Run {
        let child = self.command(args).spawn().expect("kubectl starts");
        finish(child).await
    }

    /// Starts kubectl in the background (for `rollout status`).
    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("kubectl starts")
    }

    /// Waits until a client holds a watch on `resource` (`apps/v1/deployments`); returns its id.
    pub(crate) async fn wait_for_watch(&self, resource: &str) -> u64 {
        self.wait_for_new_watch(resource, 0).await
    }

    /// Waits until a watch on `resource` with an id above `after` is open.
    pub(crate) async fn wait_for_new_watch(&self, resource: &str, after: u64) -> u64 {
        let found = poll(|| {
            self.fake
                .watches()
                .into_iter()
                .filter(|w| w.resource == resource && w.id > after)
                .map(|w| w.id)
                .max()
        })
        .await;
        found.unwrap_or_else(|| panic!("no client opened a watch on {resource}"))
    }

    /// Ticks `seconds` at a time until `done` holds; returns the ticks used.
    pub(crate) fn tick_until(
        &self,
        seconds: f64,
        max_ticks: u32,
        done: impl Fn(&FakeKubeHandle) -> bool,
    ) -> u32 {
        for n in 1..=max_ticks {
            self.fake.tick(seconds);
            if done(&self.fake) {
                return n;
            }
        }
        panic!("condition not reached after {max_ticks} ticks of {seconds}s");
    }

    /// The Deployment `name` in `default`.
    pub(crate) fn deployment(&self, name: &str) -> Value {
        self.fake
            .get("apps/v1", "Deployment", "default", name)
            .expect("deployment exists")
    }
}

/// Polls `f` until it returns `Some`, within the hang guard.
pub(crate) async fn poll<T>(f: impl Fn() -> Option<T>) -> Option<T> {
    let step = Duration::from_millis(20);
    let mut waited = Duration::ZERO;
    while waited < HANG_GUARD {
        if let Some(v) = f() {
            return Some(v);
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    None
}

/// Waits for a spawned kubectl and collects its output.
pub(crate) async fn finish(child: Child) -> Run {
    let output = tokio::time::timeout(HANG_GUARD, child.wait_with_output())
        .await
        .expect("kubectl finished within the hang guard")
        .expect("kubectl output");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Output lines with consecutive repeats collapsed (kubectl prints once per watch event).
pub(crate) fn distinct_lines(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in s.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        if out.last().map(String::as_str) != Some(line) {
            out.push(line.to_string());
        }
    }
    out
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

/// Whether a Deployment is fully rolled out by the same rules kubectl uses.
pub(crate) fn rolled_out(d: &Value) -> bool {
    let want = int(d, "/spec/replicas");
    int(d, "/metadata/generation") <= int(d, "/status/observedGeneration")
        && int(d, "/status/updatedReplicas") == want
        && int(d, "/status/replicas") == want
        && int(d, "/status/availableReplicas") == want
}

/// The reason of a Deployment's Progressing condition.
pub(crate) fn progressing_reason(d: &Value) -> String {
    d.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing"))
        .and_then(|c| c["reason"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Requests in the log matching a predicate.
pub(crate) fn count_requests(
    fake: &FakeKubeHandle,
    f: impl Fn(&fake_kube::RequestRecord) -> bool,
) -> usize {
    fake.requests().iter().filter(|r| f(r)).count()
}
