//! A faithful fake Kubernetes API server for rollout tests, with a simulated control plane on a
//! clock the test controls.
//!
//! It speaks the real wire format (discovery, JSON objects, `Table` output, chunked watch streams,
//! `Status` errors, the four PATCH formats) well enough for the real `kubectl` and kube-rs, and it
//! runs deployment, replicaset, statefulset and daemonset controllers plus a scheduler/kubelet
//! that move one step per tick. Image names choose pod behaviour (`pull-error`, `crash`, `oom`,
//! `slow`, `unschedulable`; see [`controller::kubelet`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_kube::Error> {
//! let fake = fake_kube::FakeKube::start(fake_kube::Scenario::new()).await?;
//! let url = fake.url(); // http://127.0.0.1:PORT, put it in a kubeconfig
//! fake.tick(5.0);
//! # Ok(()) }
//! ```
//!
//! The library writes nothing to stdout or stderr; the binary prints the listening line.
//!
//! Known differences from a real API server, none of which kubectl's rollout commands or a
//! kube-rs rollout gate depend on: no authentication or RBAC beyond the scenario's 403 rules; no
//! managed fields, so server-side apply never reports conflicts and never removes fields a
//! manager stopped sending; `fieldValidation=Strict` does not reject unknown fields; LISTs at an
//! exact old `resourceVersion` and continued pages are served from current state; deletes are
//! immediate (no graceful termination, finalizers or foreground propagation); `/openapi/v3` has
//! no schemas and `/openapi/v2` is 404 (so `kubectl explain` does not work); only JSON (no
//! protobuf or CBOR); strategic-merge keys are chosen by field name; `pod-template-hash` values
//! differ from a real cluster's for the same template.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod api;
pub mod clock;
pub mod cluster;
mod control;
pub mod controller;
pub mod defaults;
pub mod discovery;
pub mod names;
pub mod openapi;
pub mod patch;
pub mod resources;
pub mod scenario;
pub mod selectors;
mod server;
pub mod status;
pub mod store;
pub mod tables;
pub mod validation;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::task::JoinHandle;

pub use cluster::{RequestRecord, SettleReport};
pub use controller::TickReport;
pub use scenario::{AutoTick, ForbiddenRule, Scenario, ScenarioError};
pub use status::ApiError;
pub use store::WatchInfo;

/// Errors of starting or driving the fake.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A scenario or manifest could not be read.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The API server rejected an object.
    #[error("object rejected: {0}")]
    Rejected(String),
    /// A kubeconfig could not be written.
    #[error("cannot write kubeconfig {path}")]
    Kubeconfig {
        /// Target path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Rejected(e.message)
    }
}

/// Entry point: starts fake API servers.
#[derive(Debug, Clone, Copy)]
pub struct FakeKube;

impl FakeKube {
    /// Starts a fake on `127.0.0.1` with an ephemeral port.
    pub async fn start(scenario: Scenario) -> Result<FakeKubeHandle, Error> {
        Self::start_on(scenario, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a fake on a given address.
    pub async fn start_on(scenario: Scenario, addr: SocketAddr) -> Result<FakeKubeHandle, Error> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        // Simulated time starts an hour behind the wall clock: tests move it forward by minutes,
        // and clients that compute ages from their own clock (`kubectl describe`) then still
        // see timestamps in the past rather than `<invalid>`.
        let start_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(0) * 1000)
            .unwrap_or(0)
            - 3_600_000;
        let cluster = cluster::Cluster::new(&scenario, start_ms)?;
        let shared = Arc::new(server::Shared {
            cluster: Mutex::new(cluster),
            addr: local,
        });
        let mut tasks = Vec::new();
        let router = server::router(shared.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "fake API server stopped");
            }
        }));
        let bookmarks = shared.clone();
        let every = Duration::from_millis(scenario.bookmark_interval_ms.max(10));
        tasks.push(tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            loop {
                interval.tick().await;
                bookmarks.lock().store.send_bookmarks();
            }
        }));
        if let Some(auto) = scenario.auto_tick {
            let ticking = shared.clone();
            tasks.push(tokio::spawn(async move {
                let mut interval =
                    tokio::time::interval(Duration::from_millis(auto.interval_ms.max(1)));
                interval.tick().await;
                loop {
                    interval.tick().await;
                    ticking.lock().tick(auto.seconds);
                }
            }));
        }
        Ok(FakeKubeHandle { shared, tasks })
    }
}

/// A running fake; dropping it stops the server.
#[derive(Debug)]
pub struct FakeKubeHandle {
    shared: server::App,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeKubeHandle {
    fn drop(&mut self) {
        self.shared.lock().drop_watches();
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeKubeHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// A kubeconfig pointing at this server, with `namespace` as the context's namespace.
    pub fn kubeconfig(&self, namespace: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\nusers:\n- name: fake\n  user:\n    token: fake-token\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: {namespace}\ncurrent-context: fake\n",
            self.url()
        )
    }

    /// Writes [`Self::kubeconfig`] for namespace `default` to `dir/kubeconfig`.
    pub fn write_kubeconfig(&self, dir: &Path) -> Result<PathBuf, Error> {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, self.kubeconfig("default")).map_err(|source| Error::Kubeconfig {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Advances the clock by `seconds` and runs every controller once.
    pub fn tick(&self, seconds: f64) -> TickReport {
        self.shared.lock().tick(seconds)
    }

    /// Ticks `seconds` at a time until nothing changes, at most `max_ticks` times.
    pub fn settle(&self, seconds: f64, max_ticks: u32) -> SettleReport {
        self.shared.lock().settle(seconds, max_ticks)
    }

    /// Closes every open watch stream; returns how many were open.
    pub fn drop_watches(&self) -> usize {
        self.shared.lock().drop_watches()
    }

    /// Forgets watch history; returns the new compacted revision.
    pub fn compact(&self) -> u64 {
        self.shared.lock().compact()
    }

    /// Creates the objects of a (multi-document) YAML or JSON manifest.
    pub fn create(&self, manifests: &str) -> Result<Vec<Value>, Error> {
        let objects = scenario::parse_manifests(manifests)?;
        Ok(self.shared.lock().create_objects(objects)?)
    }

    /// Adds a 403 rule.
    pub fn forbid(&self, rule: ForbiddenRule) {
        self.shared.lock().forbidden.push(rule);
    }

    /// The request log (control endpoints excluded).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Clears the request log.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Open watch streams.
    pub fn watches(&self) -> Vec<WatchInfo> {
        self.shared.lock().store.watches()
    }

    /// The current store revision.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().store.revision()
    }

    /// An object as the API serves it, if it exists.
    pub fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let rt = resources::by_kind(api_version, kind)?;
        let cluster = self.shared.lock();
        cluster
            .store
            .get(rt, namespace, name)
            .map(|o| server::present(rt, o))
    }

    /// Every object of a kind in a namespace (all namespaces for `None`), as the API serves them.
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let Some(rt) = resources::by_kind(api_version, kind) else {
            return Vec::new();
        };
        let cluster = self.shared.lock();
        cluster
            .store
            .list(rt, namespace)
            .iter()
            .map(|o| server::present(rt, o))
            .collect()
    }
}
