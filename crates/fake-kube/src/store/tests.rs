//! Unit tests of the store: revisions, watch replay and expiry after compaction, and Events
//! recorded and converted both ways.

use serde_json::{Value, json};

use super::*;
use crate::resources::{DEPLOYMENTS, EVENTS_V1};
use crate::selectors::{FieldSelector, LabelSelector};

fn spec(rv: Option<u64>) -> WatchSpec {
    WatchSpec {
        rt: &DEPLOYMENTS,
        namespace: Some("default".into()),
        labels: LabelSelector::default(),
        fields: FieldSelector::default(),
        resource_version: rv,
        allow_bookmarks: true,
        send_initial_events: false,
        render: Render::Json,
        query: String::new(),
    }
}

fn deploy(name: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": "default"}, "spec": {}})
}

#[test]
fn revisions_and_watch_replay() {
    let mut s = Store::new(1_700_000_000_000, 1);
    let a = s.insert_new(&DEPLOYMENTS, deploy("a"));
    let rv_a: u64 = a["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .expect("rv");
    let mut rx = s.open_watch(spec(Some(rv_a)));
    let mut b = s.insert_new(&DEPLOYMENTS, deploy("b"));
    b["spec"]["x"] = json!(1);
    s.replace(&DEPLOYMENTS, b);
    let first: Value = serde_json::from_str(&rx.try_recv().expect("added")).expect("json");
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["kind"], "Deployment");
    let second: Value = serde_json::from_str(&rx.try_recv().expect("modified")).expect("json");
    assert_eq!(second["type"], "MODIFIED");
    assert_eq!(second["object"]["metadata"]["name"], "b");
    // Replay from the start.
    let mut replay = s.open_watch(spec(Some(rv_a)));
    assert!(replay.try_recv().expect("replayed").contains("ADDED"));
    // After compaction the old revision is gone.
    s.compact();
    let mut expired = s.open_watch(spec(Some(rv_a)));
    let err: Value = serde_json::from_str(&expired.try_recv().expect("error")).expect("json");
    assert_eq!(err["type"], "ERROR");
    assert_eq!(err["object"]["code"], 410);
    assert_eq!(err["object"]["reason"], "Expired");
    assert!(expired.try_recv().is_err());
    assert_eq!(s.drop_watches(), 2);
}

#[test]
fn events_convert_both_ways() {
    let mut s = Store::new(1_700_000_000_000, 1);
    let d = s.insert_new(&DEPLOYMENTS, deploy("a"));
    s.record_event(
        &DEPLOYMENTS,
        &d,
        "Normal",
        "ScalingReplicaSet",
        "Scaled up",
        "deployment-controller",
    );
    s.record_event(
        &DEPLOYMENTS,
        &d,
        "Normal",
        "ScalingReplicaSet",
        "Scaled up",
        "deployment-controller",
    );
    let events = s.list(&crate::resources::EVENTS, Some("default"));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["count"], 2);
    let v1 = present(&EVENTS_V1, &events[0]);
    assert_eq!(v1["regarding"]["name"], "a");
    assert_eq!(v1["note"], "Scaled up");
    let back = events_from_v1(&v1);
    assert_eq!(back["involvedObject"], events[0]["involvedObject"]);
}
