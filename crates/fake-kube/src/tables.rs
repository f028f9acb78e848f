//! Server-side printing: `meta.k8s.io/v1` `Table` responses, which `kubectl get` asks for.
//!
//! kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...` and prints the cells
//! it gets back; a server that answered with a plain list would make `kubectl get deploy` print
//! only NAME and AGE. Columns and cell formats follow `pkg/printers/internalversion/printers.go`;
//! ages are computed against the simulated clock
//! (<https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables>).
//! Pure functions.

use serde_json::{Value, json};

use crate::clock::{human_duration, parse_time};
use crate::resources::ResourceType;
use crate::selectors::LabelSelector;

/// What each row's `object` holds (`includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The full object.
    Object,
}

impl IncludeObject {
    /// Parses the query parameter; anything unknown means the default.
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

fn col(name: &str, ty: &str, priority: i64, description: &str) -> Value {
    let mut c = json!({"name": name, "type": ty, "format": "", "description": description, "priority": priority});
    if name == "Name" {
        c["format"] = json!("name");
    }
    c
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// Column definitions for a resource.
pub fn columns(rt: &ResourceType) -> Vec<Value> {
    let name = col("Name", "string", 0, NAME_DOC);
    let age = col("Age", "string", 0, AGE_DOC);
    let containers = col(
        "Containers",
        "string",
        1,
        "Names of each container in the template.",
    );
    let images = col(
        "Images",
        "string",
        1,
        "Images referenced by each container in the template.",
    );
    let selector = col("Selector", "string", 1, "Label selector for pods.");
    match (rt.group, rt.plural) {
        ("apps", "deployments") => vec![
            name,
            col("Ready", "string", 0, "Number of the pod with ready state"),
            col(
                "Up-to-date",
                "integer",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "integer",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            age,
            containers,
            images,
            selector,
        ],
        ("apps", "replicasets") => vec![
            name,
            col(
                "Desired",
                "integer",
                0,
                "Replicas is the number of desired pods.",
            ),
            col(
                "Current",
                "integer",
                0,
                "Replicas is the most recently observed number of replicas.",
            ),
            col(
                "Ready",
                "integer",
                0,
                "The number of ready replicas for this replica set.",
            ),
            age,
            containers,
            images,
            selector,
        ],
        ("apps", "statefulsets") => vec![
            name,
            col("Ready", "string", 0, "Number of the pod with ready state"),
            age,
            containers,
            images,
        ],
        ("apps", "daemonsets") => vec![
            name,
            col(
                "Desired",
                "integer",
                0,
                "The total number of nodes that should be running the daemon pod.",
            ),
            col(
                "Current",
                "integer",
                0,
                "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
            ),
            col(
                "Ready",
                "integer",
                0,
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
            ),
            col(
                "Up-to-date",
                "integer",
                0,
                "The total number of nodes that are running updated daemon pod",
            ),
            col(
                "Available",
                "integer",
                0,
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
            ),
            col(
                "Node Selector",
                "string",
                0,
                "NodeSelector is a selector which must be true for the pod to fit on a node.",
            ),
            age,
            containers,
            images,
            selector,
        ],
        ("apps", "controllerrevisions") => vec![
            name,
            col("Controller", "string", 0, "Controller of the object"),
            col(
                "Revision",
                "integer",
                0,
                "Revision indicates the revision of the state represented by Data.",
            ),
            age,
        ],
        ("", "pods") => vec![
            name,
            col(
                "Ready",
                "string",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            col(
                "Status",
                "string",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            col(
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age,
            col(
                "IP",
                "string",
                1,
                "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
            col(
                "Node",
                "string",
                1,
                "NodeName is a request to schedule this pod onto a specific node.",
            ),
            col(
                "Nominated Node",
                "string",
                1,
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
            col(
                "Readiness Gates",
                "string",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        ("", "events") | ("events.k8s.io", "events") => vec![
            col(
                "Last Seen",
                "string",
                0,
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            col(
                "Type",
                "string",
                0,
                "Type of this event (Normal, Warning), new types could be added in the future.",
            ),
            col(
                "Reason",
                "string",
                0,
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            col(
                "Object",
                "string",
                0,
                "The object that this event is about.",
            ),
            col(
                "Subobject",
                "string",
                1,
                "The subobject that this event is about.",
            ),
            col("Source", "string", 1, "The component reporting this event."),
            col(
                "Message",
                "string",
                0,
                "A human-readable description of the status of this operation.",
            ),
            col(
                "First Seen",
                "string",
                1,
                "The time at which the event was first recorded.",
            ),
            col(
                "Count",
                "string",
                1,
                "The number of times this event has occurred.",
            ),
            col("Name", "string", 1, NAME_DOC),
        ],
        ("", "namespaces") => vec![
            name,
            col("Status", "string", 0, "The status of the namespace"),
            age,
        ],
        ("", "nodes") => vec![
            name,
            col("Status", "string", 0, "The status of the node"),
            col("Roles", "string", 0, "The roles of the node"),
            age,
            col(
                "Version",
                "string",
                0,
                "Kubelet Version reported by the node.",
            ),
            col(
                "Internal-IP",
                "string",
                1,
                "List of addresses reachable to the node. Queried from cloud provider, if available.",
            ),
            col(
                "External-IP",
                "string",
                1,
                "List of addresses reachable to the node. Queried from cloud provider, if available.",
            ),
            col(
                "OS-Image",
                "string",
                1,
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            ),
            col(
                "Kernel-Version",
                "string",
                1,
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            ),
            col(
                "Container-Runtime",
                "string",
                1,
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            ),
        ],
        _ => vec![name, col("Created At", "date", 0, AGE_DOC)],
    }
}

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

fn row(rt: &ResourceType, obj: &Value, now_ms: i64, include: IncludeObject) -> Value {
    let mut row = json!({"cells": cells(rt, obj, now_ms)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
            });
        }
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    row
}

/// A `Table` for `objects`; `with_columns` false omits the column definitions (watch events after
/// the first).
pub fn table(
    rt: &ResourceType,
    objects: &[Value],
    list_meta: Value,
    now_ms: i64,
    include: IncludeObject,
    with_columns: bool,
) -> Value {
    let columns = if with_columns {
        Value::Array(columns(rt))
    } else {
        Value::Null
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns,
        "rows": objects.iter().map(|o| row(rt, o, now_ms, include)).collect::<Vec<_>>(),
    })
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, PODS};

    #[test]
    fn deployment_and_pod_rows() {
        let now = 1_700_000_100_000;
        let d = json!({"metadata": {"name": "api", "creationTimestamp": "2023-11-14T22:13:20Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "api"}},
                "template": {"spec": {"containers": [{"name": "app", "image": "app:v1"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 1, "availableReplicas": 2}});
        assert_eq!(
            cells(&DEPLOYMENTS, &d, now),
            vec![
                json!("api"),
                json!("2/3"),
                json!(1),
                json!(2),
                json!("100s"),
                json!("app"),
                json!("app:v1"),
                json!("app=api")
            ]
        );
        let p = json!({"metadata": {"name": "api-x", "creationTimestamp": "2023-11-14T22:13:20Z"},
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": false, "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2023-11-14T22:14:30Z"}}}]}});
        let c = cells(&PODS, &p, now);
        assert_eq!(c[1], json!("0/1"));
        assert_eq!(c[2], json!("CrashLoopBackOff"));
        assert_eq!(c[3], json!("2 (30s ago)"));
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
    }
}
