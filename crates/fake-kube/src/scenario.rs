//! What a fake cluster starts with: objects, forbidden operations, node count, clock mode.
//!
//! A scenario is plain data, buildable in Rust or read from YAML (`fake-kube --scenario file`):
//!
//! ```yaml
//! nodes: 3
//! user: system:serviceaccount:ci:deployer
//! autoTick: {intervalMs: 200, seconds: 5}
//! forbidden:
//!   - {verbs: [patch], group: apps, resource: deployments, namespace: prod, name: api}
//! objects:
//!   - apiVersion: apps/v1
//!     kind: Deployment
//!     ...
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Errors reading a scenario or manifests.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The YAML or JSON could not be parsed.
    #[error("invalid scenario or manifest")]
    Parse(#[source] serde_yaml::Error),
    /// A manifest document is not an object with apiVersion and kind.
    #[error("manifest document {index} has no apiVersion or kind")]
    NotAnObject {
        /// Zero-based document index.
        index: usize,
    },
}

/// Denies some requests with 403, as RBAC would.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ForbiddenRule {
    /// Verbs denied (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, ...);
    /// empty means all.
    pub verbs: Vec<String>,
    /// API group (`apps`, `""` for core); `None` matches any.
    pub group: Option<String>,
    /// Resource, optionally with subresource (`deployments`, `deployments/scale`, `pods/log`);
    /// `*` matches any.
    pub resource: String,
    /// Namespace; `None` matches any.
    pub namespace: Option<String>,
    /// Object name; `None` matches any.
    pub name: Option<String>,
}

impl ForbiddenRule {
    /// Whether this rule denies the request.
    pub fn denies(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> bool {
        let full = match subresource {
            Some(s) => format!("{resource}/{s}"),
            None => resource.to_string(),
        };
        (self.verbs.is_empty() || self.verbs.iter().any(|v| v == verb || v == "*"))
            && self.group.as_deref().is_none_or(|g| g == group || g == "*")
            && (self.resource == "*" || self.resource == full)
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| Some(ns) == namespace)
            && self.name.as_deref().is_none_or(|n| Some(n) == name)
    }
}

/// A clock that advances by itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoTick {
    /// Real milliseconds between ticks.
    pub interval_ms: u64,
    /// Simulated seconds per tick.
    pub seconds: f64,
}

/// The initial state and behaviour of a fake cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Scenario {
    /// Objects created at start (any served kind; namespace defaults to `default`).
    pub objects: Vec<Value>,
    /// Requests answered with 403.
    pub forbidden: Vec<ForbiddenRule>,
    /// Number of simulated nodes (DaemonSet pods, scheduling).
    pub nodes: u32,
    /// The user named in 403 messages.
    pub user: String,
    /// Advance the clock automatically instead of only on `POST /_fake/tick`.
    pub auto_tick: Option<AutoTick>,
    /// Tick until the initial objects are stable before serving, so workloads start rolled out.
    pub settle: bool,
    /// Real milliseconds between watch bookmarks.
    pub bookmark_interval_ms: u64,
    /// Seed of the name and uid generator.
    pub seed: u64,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            objects: Vec::new(),
            forbidden: Vec::new(),
            nodes: 3,
            user: "system:serviceaccount:default:deployer".into(),
            auto_tick: None,
            settle: true,
            bookmark_interval_ms: 1000,
            seed: 1,
        }
    }
}

impl Scenario {
    /// The default scenario: three nodes, no objects, manual clock.
    pub fn new() -> Self {
        Scenario::default()
    }

    /// Parses a scenario document (YAML or JSON).
    pub fn from_yaml(text: &str) -> Result<Self, ScenarioError> {
        serde_yaml::from_str(text).map_err(ScenarioError::Parse)
    }

    /// Adds the objects of a (multi-document) YAML or JSON manifest.
    pub fn with_manifests(mut self, text: &str) -> Result<Self, ScenarioError> {
        self.objects.extend(parse_manifests(text)?);
        Ok(self)
    }

    /// Adds a rule answering matching requests with 403.
    pub fn with_forbidden(mut self, rule: ForbiddenRule) -> Self {
        self.forbidden.push(rule);
        self
    }

    /// Lets the clock advance `seconds` every `interval_ms` of real time.
    pub fn with_auto_tick(mut self, interval_ms: u64, seconds: f64) -> Self {
        self.auto_tick = Some(AutoTick {
            interval_ms,
            seconds,
        });
        self
    }

    /// Sets the number of nodes.
    pub fn with_nodes(mut self, nodes: u32) -> Self {
        self.nodes = nodes;
        self
    }
}

/// Parses multi-document YAML (or JSON) into objects, expanding `kind: List`.
pub fn parse_manifests(text: &str) -> Result<Vec<Value>, ScenarioError> {
    let mut out = Vec::new();
    for (index, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(doc).map_err(ScenarioError::Parse)?;
        if value.is_null() {
            continue;
        }
        if value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
        {
            if let Some(items) = value.get("items").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
                continue;
            }
        }
        if value.get("kind").is_none() || value.get("apiVersion").is_none() {
            return Err(ScenarioError::NotAnObject { index });
        }
        out.push(value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scenarios_and_manifests() {
        let s = Scenario::from_yaml(
            "nodes: 2\nforbidden:\n- {verbs: [patch], group: apps, resource: deployments}\nobjects:\n- {apiVersion: v1, kind: Namespace, metadata: {name: x}}\n",
        )
        .expect("parses");
        assert_eq!(s.nodes, 2);
        assert!(s.settle);
        assert!(s.forbidden[0].denies(
            "patch",
            "apps",
            "deployments",
            None,
            Some("default"),
            Some("api")
        ));
        assert!(!s.forbidden[0].denies(
            "get",
            "apps",
            "deployments",
            None,
            Some("default"),
            Some("api")
        ));
        let objs = parse_manifests("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}]}\n").expect("parses");
        assert_eq!(objs.len(), 2);
        assert!(matches!(
            parse_manifests("- 1"),
            Err(ScenarioError::NotAnObject { index: 0 })
        ));
    }
}
