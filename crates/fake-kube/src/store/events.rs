//! Kubernetes Events: recording one (or bumping the count of a repeat) as client-go's recorder
//! does, and converting between the stored core `v1` form and `events.k8s.io/v1`.

use serde_json::{Value, json};

use super::Store;
use crate::resources::{self, ResourceType};

/// Converts a stored (core v1) Event to its `events.k8s.io/v1` form.
pub fn events_to_v1(core: &Value) -> Value {
    let g = |k: &str| core.get(k).cloned().unwrap_or(Value::Null);
    let mut reporting = core
        .get("reportingComponent")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if reporting.is_empty() {
        reporting = core
            .pointer("/source/component")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
    }
    let mut out = json!({
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "metadata": g("metadata"),
        "eventTime": g("eventTime"),
        "reportingController": reporting,
        "reportingInstance": g("reportingInstance"),
        "reason": g("reason"),
        "regarding": g("involvedObject"),
        "note": g("message"),
        "type": g("type"),
        "deprecatedSource": g("source"),
        "deprecatedFirstTimestamp": g("firstTimestamp"),
        "deprecatedLastTimestamp": g("lastTimestamp"),
        "deprecatedCount": g("count"),
    });
    for k in ["action", "related", "series"] {
        if let Some(v) = core.get(k) {
            out[k] = v.clone();
        }
    }
    if let Some(m) = out.as_object_mut() {
        m.retain(|k, v| !v.is_null() || k == "eventTime");
    }
    out
}

/// Converts an `events.k8s.io/v1` Event to the stored core v1 form.
pub fn events_from_v1(v1: &Value) -> Value {
    let g = |k: &str| v1.get(k).cloned().unwrap_or(Value::Null);
    let mut out = json!({
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": g("metadata"),
        "eventTime": g("eventTime"),
        "reportingComponent": g("reportingController"),
        "reportingInstance": g("reportingInstance"),
        "reason": g("reason"),
        "involvedObject": g("regarding"),
        "message": g("note"),
        "type": g("type"),
        "source": g("deprecatedSource"),
        "firstTimestamp": g("deprecatedFirstTimestamp"),
        "lastTimestamp": g("deprecatedLastTimestamp"),
        "count": g("deprecatedCount"),
    });
    for k in ["action", "related", "series"] {
        if let Some(v) = v1.get(k) {
            out[k] = v.clone();
        }
    }
    if let Some(m) = out.as_object_mut() {
        m.retain(|k, v| !v.is_null() || k == "eventTime");
    }
    out
}

impl Store {
    /// Records (or bumps the count of) an event about `involved`, as client-go's recorder does.
    pub fn record_event(
        &mut self,
        involved_rt: &ResourceType,
        involved: &Value,
        event_type: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        let ns = involved
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let name = involved
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let uid = involved
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let now = self.clock.timestamp();
        let existing = self
            .list(&resources::EVENTS, Some(&ns))
            .into_iter()
            .find(|e| {
                e.pointer("/involvedObject/uid").and_then(Value::as_str) == Some(uid.as_str())
                    && e["reason"] == reason
                    && e["message"] == message
                    && e["type"] == event_type
            });
        if let Some(mut e) = existing {
            let count = e["count"].as_i64().unwrap_or(1) + 1;
            e["count"] = json!(count);
            e["lastTimestamp"] = json!(now);
            self.replace(&resources::EVENTS, e);
            return;
        }
        let event_name = format!("{name}.{}", self.ids.hex16());
        let mut involved_ref = json!({
            "kind": involved_rt.kind,
            "namespace": ns,
            "name": name,
            "uid": uid,
            "apiVersion": involved_rt.api_version(),
            "resourceVersion": involved.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!("")),
        });
        if involved_rt.plural == "pods" {
            if let Some(c) = involved
                .pointer("/spec/containers/0/name")
                .and_then(Value::as_str)
            {
                involved_ref["fieldPath"] = json!(format!("spec.containers{{{c}}}"));
            }
        }
        let event = json!({
            "metadata": {"name": event_name, "namespace": ns},
            "involvedObject": involved_ref,
            "reason": reason,
            "message": message,
            "source": {"component": component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": event_type,
            "eventTime": null,
            "reportingComponent": component,
            "reportingInstance": "",
        });
        self.insert_new(&resources::EVENTS, event);
    }
}
