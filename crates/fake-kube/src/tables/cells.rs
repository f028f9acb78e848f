//! One object's row cells, per resource, formatted as kubectl's printers do (`printDeployment`,
//! `printPod`, `printEvent` ...): ready counts, the pod STATUS reason, restarts, ages against the
//! simulated clock. Pure.

use serde_json::{Value, json};

use crate::clock::{human_duration, parse_time};
use crate::resources::ResourceType;
use crate::selectors::LabelSelector;

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn i(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

fn age(v: &Value, pointer: &str, now_ms: i64) -> String {
    match v
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(parse_time)
    {
        Some(t) => human_duration(now_ms - t),
        None => "<unknown>".into(),
    }
}

fn template_columns(obj: &Value) -> (String, String) {
    let containers = obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = containers.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

fn selector_string(obj: &Value) -> String {
    match obj.pointer("/spec/selector") {
        Some(sel) => {
            let q = LabelSelector::from_object(sel).to_query();
            if q.is_empty() { "<none>".into() } else { q }
        }
        None => "<none>".into(),
    }
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.to_string()
    }
}

/// kubectl's pod STATUS column (`printPod`).
pub fn pod_status_reason(pod: &Value) -> (String, i64, i64, Option<i64>) {
    let mut reason = s(pod, "/status/phase").to_string();
    if !s(pod, "/status/reason").is_empty() {
        reason = s(pod, "/status/reason").to_string();
    }
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut restarts = 0;
    let mut ready = 0;
    let mut last_restart: Option<i64> = None;
    let mut has_running = false;
    for cs in statuses.iter().rev() {
        restarts += i(cs, "/restartCount");
        if let Some(t) = cs
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            .and_then(parse_time)
        {
            last_restart = Some(last_restart.map_or(t, |l: i64| l.max(t)));
        }
        if !s(cs, "/state/waiting/reason").is_empty() {
            reason = s(cs, "/state/waiting/reason").to_string();
        } else if !s(cs, "/state/terminated/reason").is_empty() {
            reason = s(cs, "/state/terminated/reason").to_string();
        } else if cs.pointer("/state/terminated").is_some() {
            reason = format!("ExitCode:{}", i(cs, "/state/terminated/exitCode"));
        } else if cs.get("ready") == Some(&Value::Bool(true))
            && cs.pointer("/state/running").is_some()
        {
            has_running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && has_running {
        reason = "Running".into();
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        reason = "Terminating".into();
    }
    (reason, ready, restarts, last_restart)
}

/// One row's cells.
pub fn cells(rt: &ResourceType, obj: &Value, now_ms: i64) -> Vec<Value> {
    let name = s(obj, "/metadata/name").to_string();
    let created = age(obj, "/metadata/creationTimestamp", now_ms);
    match (rt.group, rt.plural) {
        ("apps", "deployments") => {
            let (c, im) = template_columns(obj);
            vec![
                json!(name),
                json!(format!(
                    "{}/{}",
                    i(obj, "/status/readyReplicas"),
                    i(obj, "/spec/replicas")
                )),
                json!(i(obj, "/status/updatedReplicas")),
                json!(i(obj, "/status/availableReplicas")),
                json!(created),
                json!(c),
                json!(im),
                json!(selector_string(obj)),
            ]
        }
        ("apps", "replicasets") => {
            let (c, im) = template_columns(obj);
            vec![
                json!(name),
                json!(i(obj, "/spec/replicas")),
                json!(i(obj, "/status/replicas")),
                json!(i(obj, "/status/readyReplicas")),
                json!(created),
                json!(c),
                json!(im),
                json!(selector_string(obj)),
            ]
        }
        ("apps", "statefulsets") => {
            let (c, im) = template_columns(obj);
            vec![
                json!(name),
                json!(format!(
                    "{}/{}",
                    i(obj, "/status/readyReplicas"),
                    i(obj, "/spec/replicas")
                )),
                json!(created),
                json!(c),
                json!(im),
            ]
        }
        ("apps", "daemonsets") => {
            let (c, im) = template_columns(obj);
            let node_selector = obj
                .pointer("/spec/template/spec/nodeSelector")
                .and_then(Value::as_object)
                .map(|m| {
                    let mut parts: Vec<String> = m
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect();
                    parts.sort();
                    parts.join(",")
                })
                .unwrap_or_default();
            vec![
                json!(name),
                json!(i(obj, "/status/desiredNumberScheduled")),
                json!(i(obj, "/status/currentNumberScheduled")),
                json!(i(obj, "/status/numberReady")),
                json!(i(obj, "/status/updatedNumberScheduled")),
                json!(i(obj, "/status/numberAvailable")),
                json!(or_none(&node_selector)),
                json!(created),
                json!(c),
                json!(im),
                json!(selector_string(obj)),
            ]
        }
        ("apps", "controllerrevisions") => {
            let controller = obj
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|refs| {
                    refs.iter()
                        .find(|r| r.get("controller") == Some(&Value::Bool(true)))
                })
                .map(|r| {
                    let group = s(r, "/apiVersion")
                        .split_once('/')
                        .map(|(g, _)| g)
                        .unwrap_or_default();
                    let kind = s(r, "/kind").to_lowercase();
                    if group.is_empty() {
                        format!("{kind}/{}", s(r, "/name"))
                    } else {
                        format!("{kind}.{group}/{}", s(r, "/name"))
                    }
                })
                .unwrap_or_else(|| "<none>".into());
            vec![
                json!(name),
                json!(controller),
                json!(i(obj, "/revision")),
                json!(created),
            ]
        }
        ("", "pods") => {
            let (reason, ready, restarts, last_restart) = pod_status_reason(obj);
            let total = obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let restarts_cell = match last_restart {
                Some(t) if restarts != 0 => {
                    format!("{restarts} ({} ago)", human_duration(now_ms - t))
                }
                _ => restarts.to_string(),
            };
            vec![
                json!(name),
                json!(format!("{ready}/{total}")),
                json!(reason),
                json!(restarts_cell),
                json!(created),
                json!(or_none(s(obj, "/status/podIP"))),
                json!(or_none(s(obj, "/spec/nodeName"))),
                json!(or_none(s(obj, "/status/nominatedNodeName"))),
                json!("<none>"),
            ]
        }
        ("", "events") | ("events.k8s.io", "events") => {
            let core = if rt.group.is_empty() {
                obj.clone()
            } else {
                crate::store::events_from_v1(obj)
            };
            let first = if core
                .pointer("/firstTimestamp")
                .and_then(Value::as_str)
                .is_some()
            {
                age(&core, "/firstTimestamp", now_ms)
            } else {
                age(&core, "/eventTime", now_ms)
            };
            let mut last = if core
                .pointer("/lastTimestamp")
                .and_then(Value::as_str)
                .is_some()
            {
                age(&core, "/lastTimestamp", now_ms)
            } else {
                first.clone()
            };
            let mut count = i(&core, "/count");
            if core.get("series").is_some_and(Value::is_object) {
                count = i(&core, "/series/count");
                last = format!(
                    "{} (x{count} over {first})",
                    age(&core, "/series/lastObservedTime", now_ms)
                );
            } else if count > 1 {
                last = format!("{last} (x{count} over {first})");
            }
            let kind = s(&core, "/involvedObject/kind").to_lowercase();
            let target = if s(&core, "/involvedObject/name").is_empty() {
                kind
            } else {
                format!("{kind}/{}", s(&core, "/involvedObject/name"))
            };
            let mut source = s(&core, "/source/component").to_string();
            if source.is_empty() {
                source = s(&core, "/reportingComponent").to_string();
            }
            if !s(&core, "/source/host").is_empty() {
                source = format!("{source}, {}", s(&core, "/source/host"));
            }
            vec![
                json!(last),
                json!(s(&core, "/type")),
                json!(s(&core, "/reason")),
                json!(target),
                json!(s(&core, "/involvedObject/fieldPath")),
                json!(source),
                json!(s(&core, "/message").trim()),
                json!(first),
                json!(count),
                json!(s(&core, "/metadata/name")),
            ]
        }
        ("", "namespaces") => vec![json!(name), json!(s(obj, "/status/phase")), json!(created)],
        ("", "nodes") => vec![
            json!(name),
            json!("Ready"),
            json!("<none>"),
            json!(created),
            json!(s(obj, "/status/nodeInfo/kubeletVersion")),
            json!(
                obj.pointer("/status/addresses/0/address")
                    .and_then(Value::as_str)
                    .unwrap_or("<none>")
            ),
            json!("<none>"),
            json!(s(obj, "/status/nodeInfo/osImage")),
            json!(s(obj, "/status/nodeInfo/kernelVersion")),
            json!(s(obj, "/status/nodeInfo/containerRuntimeVersion")),
        ],
        _ => vec![json!(name), json!(s(obj, "/metadata/creationTimestamp"))],
    }
}
