//! Server-side printing: `meta.k8s.io/v1` `Table` responses, which `kubectl get` asks for.
//!
//! kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...` and prints the cells
//! it gets back; a server that answered with a plain list would make `kubectl get deploy` print
//! only NAME and AGE. Columns and cell formats follow `pkg/printers/internalversion/printers.go`;
//! ages are computed against the simulated clock
//! (<https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables>).
//! Pure functions.
//!
//! One job a file: this module assembles the `Table`; `columns` holds each resource's column
//! definitions; `cells` formats one object's row as kubectl's printers do.

mod cells;
mod columns;

pub use cells::{cells, pod_status_reason};
pub use columns::columns;

use serde_json::{Value, json};

use crate::resources::ResourceType;

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
