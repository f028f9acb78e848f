//! The whole fake cluster behind one lock: store, controllers, authorization rules and the request
//! log, with the operations the control API and the Rust handle expose.
//!
//! Everything here is synchronous and does no I/O; the server and the handle lock the cluster,
//! call one method, and unlock.

use serde::Serialize;
use serde_json::{Value, json};

use crate::api;
use crate::controller::{Controllers, TickReport};
use crate::resources;
use crate::scenario::{ForbiddenRule, Scenario};
use crate::status::ApiError;
use crate::store::Store;

/// One request the API server received (control endpoints excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// `GET`, `PATCH`, ...
    pub method: String,
    /// URL path.
    pub path: String,
    /// Raw query string (`""` when none).
    pub query: String,
    /// `Content-Type` header, if sent.
    pub content_type: Option<String>,
    /// `Accept` header, if sent.
    pub accept: Option<String>,
    /// `User-Agent` header, if sent.
    pub user_agent: Option<String>,
    /// Body of POST, PUT and PATCH requests, as text.
    pub body: Option<String>,
    /// Response status code.
    pub status: u16,
}

/// The result of ticking until nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleReport {
    /// Ticks run.
    pub ticks: u32,
    /// Whether the last tick changed nothing.
    pub settled: bool,
    /// Simulated time after the last tick, epoch milliseconds.
    pub now_ms: i64,
}

/// The fake cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Objects and watches.
    pub store: Store,
    /// Simulated controllers.
    pub controllers: Controllers,
    /// 403 rules.
    pub forbidden: Vec<ForbiddenRule>,
    /// User named in 403 messages.
    pub user: String,
    /// Request log.
    pub requests: Vec<RequestRecord>,
}

/// Milliseconds of simulated time for `seconds` (fractions allowed, negatives ignored).
fn to_ms(seconds: f64) -> i64 {
    if seconds.is_finite() && seconds > 0.0 {
        // Whole milliseconds are all the clock keeps; anything beyond i64 is not a test's concern.
        (seconds * 1000.0).round().min(9.0e15) as i64
    } else {
        0
    }
}

impl Cluster {
    /// A cluster for `scenario`, its clock starting at `start_ms`.
    pub fn new(scenario: &Scenario, start_ms: i64) -> Result<Self, ApiError> {
        let mut cluster = Cluster {
            store: Store::new(start_ms, scenario.seed),
            controllers: Controllers::new(scenario.nodes),
            forbidden: scenario.forbidden.clone(),
            user: scenario.user.clone(),
            requests: Vec::new(),
        };
        cluster.controllers.install_nodes(&mut cluster.store);
        cluster.create_objects(scenario.objects.clone())?;
        if scenario.settle {
            cluster.settle(1.0, 100);
        }
        Ok(cluster)
    }

    /// Advances the clock by `seconds` and runs every controller once.
    pub fn tick(&mut self, seconds: f64) -> TickReport {
        self.controllers.tick(&mut self.store, to_ms(seconds))
    }

    /// Ticks until a tick changes nothing or `max_ticks` ran.
    pub fn settle(&mut self, seconds: f64, max_ticks: u32) -> SettleReport {
        let mut ticks = 0;
        let mut settled = false;
        while ticks < max_ticks {
            ticks += 1;
            if !self.tick(seconds).changed {
                settled = true;
                break;
            }
        }
        SettleReport {
            ticks,
            settled,
            now_ms: self.store.clock.now_ms(),
        }
    }

    /// Creates objects as `POST` would, namespaces first.
    pub fn create_objects(&mut self, mut objects: Vec<Value>) -> Result<Vec<Value>, ApiError> {
        objects.sort_by_key(|o| o.get("kind").and_then(Value::as_str) != Some("Namespace"));
        let mut created = Vec::new();
        for obj in objects {
            let api_version = obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
            let rt = resources::by_kind(api_version, kind).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "no matches for kind \"{kind}\" in version \"{api_version}\""
                ))
            })?;
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string();
            let namespace = rt.namespaced.then_some(ns.as_str());
            created.push(api::create(&mut self.store, rt, namespace, obj, false)?);
        }
        Ok(created)
    }

    /// Forgets watch history so that resuming any earlier revision yields 410 Expired.
    ///
    /// The revision moves on by one as it does when etcd compacts after further writes, so even
    /// a client that saw the latest object (or bookmark) is told to relist; the relist then
    /// starts at the new revision and watches normally.
    pub fn compact(&mut self) -> u64 {
        self.store.compact()
    }

    /// Closes every open watch stream.
    pub fn drop_watches(&mut self) -> usize {
        self.store.drop_watches()
    }

    /// The 403 the rules give this request, if any.
    pub fn authorize(
        &self,
        verb: &str,
        rt: &resources::ResourceType,
        subresource: Option<&str>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<(), ApiError> {
        let denied = self
            .forbidden
            .iter()
            .any(|r| r.denies(verb, rt.group, rt.plural, subresource, namespace, name));
        if denied {
            return Err(ApiError::forbidden(
                rt,
                subresource,
                name.unwrap_or_default(),
                verb,
                &self.user,
                namespace.filter(|_| rt.namespaced),
            ));
        }
        Ok(())
    }

    /// A summary of the clock and revisions for `GET /_fake/state`.
    pub fn state(&self) -> Value {
        json!({
            "nowMs": self.store.clock.now_ms(),
            "now": self.store.clock.timestamp(),
            "resourceVersion": self.store.revision().to_string(),
            "compactedResourceVersion": self.store.compacted().to_string(),
            "nodes": self.controllers.nodes(),
        })
    }
}
