//! The object store: one global, monotonically increasing `resourceVersion`, the change history
//! that watches replay, compaction, open watches and the simulated clock.
//!
//! Like etcd behind the real server, every write gets the next revision, and a watch that asks to
//! resume from a revision older than the compacted history gets a `410 Expired` `ERROR` event
//! inside a 200 stream, which is how clients learn they must relist
//! (<https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses>).
//! The store sends watch frames into per-watch channels while it holds its lock, so a frame for
//! revision N is always queued before any frame (or bookmark) for a later revision. No network
//! I/O here: the HTTP layer drains the channels.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::names::IdGen;
use crate::resources::{self, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::tables::{self, IncludeObject};

/// Identity of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// Storage bucket (`ResourceType::storage`).
    pub storage: &'static str,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl Key {
    /// The key of an object of `rt` named `name` in `namespace`.
    pub fn new(rt: &ResourceType, namespace: &str, name: &str) -> Self {
        Key {
            storage: rt.storage,
            namespace: if rt.namespaced {
                namespace.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }
}

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `ADDED`
    Added,
    /// `MODIFIED`
    Modified,
    /// `DELETED`
    Deleted,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed write, kept for watch replay until compaction.
#[derive(Debug, Clone)]
struct Change {
    revision: u64,
    event: EventType,
    key: Key,
    object: Value,
    previous: Option<Value>,
}

/// How a watch renders objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    /// The object itself.
    Json,
    /// A one-row `Table` (kubectl get --watch).
    Table(IncludeObject),
}

/// What a client asked to watch.
#[derive(Debug, Clone)]
pub struct WatchSpec {
    /// Resource (and API version) watched.
    pub rt: &'static ResourceType,
    /// Namespace, `None` for all.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `resourceVersion` to resume after; `None` or 0 means "current state first".
    pub resource_version: Option<u64>,
    /// `allowWatchBookmarks=true`.
    pub allow_bookmarks: bool,
    /// `sendInitialEvents=true` (watch-list).
    pub send_initial_events: bool,
    /// Rendering.
    pub render: Render,
    /// The raw query, for `/_fake/watches`.
    pub query: String,
}

/// An open watch.
#[derive(Debug)]
struct Watcher {
    id: u64,
    spec: WatchSpec,
    sent_columns: bool,
    tx: mpsc::UnboundedSender<String>,
}

/// An open watch as `GET /_fake/watches` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WatchInfo {
    /// Watch id.
    pub id: u64,
    /// `apps/v1/deployments`.
    pub resource: String,
    /// Namespace or `null`.
    pub namespace: Option<String>,
    /// Raw query string.
    pub query: String,
}

/// Maximum number of changes kept before the oldest are compacted away.
const HISTORY_LIMIT: usize = 50_000;

/// The store.
#[derive(Debug)]
pub struct Store {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    history: VecDeque<Change>,
    compacted: u64,
    watchers: Vec<Watcher>,
    next_watcher: u64,
    /// Deterministic names and uids.
    pub ids: IdGen,
    /// Simulated time.
    pub clock: Clock,
}

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

/// Presents a stored object as `rt` serves it (kind, apiVersion, events conversion).
pub fn present(rt: &ResourceType, stored: &Value) -> Value {
    if rt.storage == "events" && !rt.group.is_empty() {
        return events_to_v1(stored);
    }
    let mut out = stored.clone();
    if let Some(m) = out.as_object_mut() {
        m.insert("kind".into(), json!(rt.kind));
        m.insert("apiVersion".into(), json!(rt.api_version()));
    }
    out
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

fn watch_frame(event: &str, object: Value) -> String {
    let mut s = json!({"type": event, "object": object}).to_string();
    s.push('\n');
    s
}

impl Store {
    /// An empty store at revision 1 with the default namespaces.
    pub fn new(start_ms: i64, seed: u64) -> Self {
        let mut store = Store {
            objects: BTreeMap::new(),
            revision: 1,
            history: VecDeque::new(),
            compacted: 0,
            watchers: Vec::new(),
            next_watcher: 1,
            ids: IdGen::new(seed),
            clock: Clock::new(start_ms),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let mut obj =
                json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}});
            crate::defaults::apply(&resources::NAMESPACES, &mut obj);
            store.insert_new(&resources::NAMESPACES, obj);
        }
        store
    }

    /// The latest committed revision.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Oldest revision a watch can still resume from.
    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    /// A stored object.
    pub fn get(&self, rt: &ResourceType, namespace: &str, name: &str) -> Option<&Value> {
        self.objects.get(&Key::new(rt, namespace, name))
    }

    /// Stored objects of a bucket, in key order, optionally in one namespace.
    pub fn list(&self, rt: &ResourceType, namespace: Option<&str>) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|(k, _)| k.storage == rt.storage)
            .filter(|(k, _)| namespace.is_none_or(|ns| !rt.namespaced || k.namespace == ns))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Stored objects after `start` (exclusive) in key order, for paginated lists.
    pub fn list_after(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        start: Option<&(String, String)>,
    ) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|(k, _)| k.storage == rt.storage)
            .filter(|(k, _)| namespace.is_none_or(|ns| !rt.namespaced || k.namespace == ns))
            .filter(|(k, _)| start.is_none_or(|(ns, name)| (&k.namespace, &k.name) > (ns, name)))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a namespace exists.
    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.get(&resources::NAMESPACES, "", ns).is_some()
    }

    fn key_of(rt: &ResourceType, obj: &Value) -> Key {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Key::new(rt, ns, name)
    }

    /// Stores a new object: assigns uid, creationTimestamp, generation and resourceVersion.
    /// The caller has checked that the name is free.
    pub fn insert_new(&mut self, rt: &ResourceType, mut obj: Value) -> Value {
        let uid = self.ids.uid();
        let now = self.clock.timestamp();
        let meta = meta_mut(&mut obj);
        meta.insert("uid".into(), json!(uid));
        meta.insert("creationTimestamp".into(), json!(now));
        meta.remove("deletionTimestamp");
        if rt.has_generation {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        if !rt.namespaced {
            meta.remove("namespace");
        }
        if let Some(m) = obj.as_object_mut() {
            m.remove("kind");
            m.remove("apiVersion");
        }
        self.commit(rt, obj, EventType::Added)
    }

    /// Stores a new version of an existing object (the caller has set spec, status, generation).
    pub fn replace(&mut self, rt: &ResourceType, mut obj: Value) -> Value {
        if let Some(m) = obj.as_object_mut() {
            m.remove("kind");
            m.remove("apiVersion");
        }
        self.commit(rt, obj, EventType::Modified)
    }

    /// Deletes an object; returns its last state (with the deletion's resourceVersion).
    pub fn remove(&mut self, rt: &ResourceType, namespace: &str, name: &str) -> Option<Value> {
        let key = Key::new(rt, namespace, name);
        let obj = self.objects.get(&key)?.clone();
        Some(self.commit(rt, obj, EventType::Deleted))
    }

    fn commit(&mut self, rt: &ResourceType, mut obj: Value, event: EventType) -> Value {
        self.revision += 1;
        let revision = self.revision;
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(revision.to_string()));
        let key = Self::key_of(rt, &obj);
        let previous = match event {
            EventType::Deleted => self.objects.remove(&key),
            _ => self.objects.insert(key.clone(), obj.clone()),
        };
        let change = Change {
            revision,
            event,
            key,
            object: obj.clone(),
            previous,
        };
        self.notify(&change);
        self.history.push_back(change);
        while self.history.len() > HISTORY_LIMIT {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted = dropped.revision;
            }
        }
        obj
    }

    /// Forgets the change history and moves the revision on by one: resuming any revision seen
    /// before yields 410.
    pub fn compact(&mut self) -> u64 {
        self.revision += 1;
        self.history.clear();
        self.compacted = self.revision;
        self.revision
    }

    /// Closes every open watch stream; returns how many were open.
    pub fn drop_watches(&mut self) -> usize {
        let n = self.watchers.iter().filter(|w| !w.tx.is_closed()).count();
        self.watchers.clear();
        n
    }

    /// Open watches.
    pub fn watches(&self) -> Vec<WatchInfo> {
        self.watchers
            .iter()
            .filter(|w| !w.tx.is_closed())
            .map(|w| WatchInfo {
                id: w.id,
                resource: format!("{}/{}", w.spec.rt.api_version(), w.spec.rt.plural),
                namespace: w.spec.namespace.clone(),
                query: w.spec.query.clone(),
            })
            .collect()
    }

    fn in_scope(spec: &WatchSpec, key: &Key) -> bool {
        key.storage == spec.rt.storage
            && spec
                .namespace
                .as_ref()
                .is_none_or(|ns| !spec.rt.namespaced || &key.namespace == ns)
    }

    fn selected(spec: &WatchSpec, obj: &Value) -> bool {
        let presented = present(spec.rt, obj);
        spec.labels.matches_object(&presented) && spec.fields.matches(&presented)
    }

    fn render(
        &self,
        spec: &WatchSpec,
        sent_columns: &mut bool,
        event: &str,
        obj: &Value,
    ) -> String {
        let presented = present(spec.rt, obj);
        let object = match spec.render {
            Render::Json => presented,
            Render::Table(include) => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(Value::Null);
                let with_columns = !*sent_columns;
                *sent_columns = true;
                tables::table(
                    spec.rt,
                    &[presented],
                    json!({"resourceVersion": rv}),
                    self.clock.now_ms(),
                    include,
                    with_columns,
                )
            }
        };
        watch_frame(event, object)
    }

    /// The frame for one change as `spec` sees it, honouring selector transitions: an object that
    /// starts matching is `ADDED`, one that stops matching is `DELETED`.
    fn frame_for(
        &self,
        spec: &WatchSpec,
        sent_columns: &mut bool,
        change: &Change,
    ) -> Option<String> {
        if !Self::in_scope(spec, &change.key) {
            return None;
        }
        let now = Self::selected(spec, &change.object);
        let before = change
            .previous
            .as_ref()
            .is_some_and(|p| Self::selected(spec, p));
        let event = match change.event {
            EventType::Added if now => EventType::Added,
            EventType::Deleted if now || before => EventType::Deleted,
            EventType::Modified if now && before => EventType::Modified,
            EventType::Modified if now => EventType::Added,
            EventType::Modified if before => EventType::Deleted,
            _ => return None,
        };
        Some(self.render(spec, sent_columns, event.as_str(), &change.object))
    }

    fn notify(&mut self, change: &Change) {
        let mut watchers = std::mem::take(&mut self.watchers);
        watchers.retain_mut(|w| {
            let mut sent = w.sent_columns;
            let frame = self.frame_for(&w.spec, &mut sent, change);
            w.sent_columns = sent;
            match frame {
                Some(f) => w.tx.send(f).is_ok(),
                None => !w.tx.is_closed(),
            }
        });
        self.watchers = watchers;
    }

    fn bookmark_frame(&self, spec: &WatchSpec, initial_end: bool) -> String {
        let mut meta =
            json!({"resourceVersion": self.revision.to_string(), "creationTimestamp": null});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let kind = match spec.render {
            Render::Json => spec.rt.kind,
            Render::Table(_) => "Table",
        };
        let api_version = match spec.render {
            Render::Json => spec.rt.api_version(),
            Render::Table(_) => "meta.k8s.io/v1".into(),
        };
        watch_frame(
            "BOOKMARK",
            json!({"kind": kind, "apiVersion": api_version, "metadata": meta}),
        )
    }

    /// Opens a watch: queues the initial or replayed events, then registers it for new ones.
    /// A resume point older than the compacted history yields one `ERROR` 410 frame and the end
    /// of the stream, as the real watch cache does.
    pub fn open_watch(&mut self, spec: WatchSpec) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut sent_columns = false;
        match spec.resource_version.filter(|rv| *rv > 0) {
            Some(rv) if rv < self.compacted => {
                let err = ApiError::expired(format!(
                    "too old resource version: {rv} ({})",
                    self.compacted
                ));
                let _ = tx.send(watch_frame("ERROR", err.to_status()));
                return rx;
            }
            Some(rv) if !spec.send_initial_events => {
                for change in self.history.iter().filter(|c| c.revision > rv) {
                    if let Some(f) = self.frame_for(&spec, &mut sent_columns, change) {
                        let _ = tx.send(f);
                    }
                }
            }
            _ => {
                let current: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(|(k, _)| Self::in_scope(&spec, k))
                    .map(|(_, v)| v.clone())
                    .filter(|v| Self::selected(&spec, v))
                    .collect();
                for obj in current {
                    let f = self.render(&spec, &mut sent_columns, "ADDED", &obj);
                    let _ = tx.send(f);
                }
                if spec.send_initial_events && spec.allow_bookmarks {
                    let _ = tx.send(self.bookmark_frame(&spec, true));
                }
            }
        }
        let id = self.next_watcher;
        self.next_watcher += 1;
        self.watchers.push(Watcher {
            id,
            spec,
            sent_columns,
            tx,
        });
        rx
    }

    /// Sends a `BOOKMARK` at the current revision to every watch that allows them.
    pub fn send_bookmarks(&mut self) {
        let frames: Vec<Option<String>> = self
            .watchers
            .iter()
            .map(|w| {
                w.spec
                    .allow_bookmarks
                    .then(|| self.bookmark_frame(&w.spec, false))
            })
            .collect();
        for (w, frame) in self.watchers.iter().zip(frames) {
            if let Some(f) = frame {
                let _ = w.tx.send(f);
            }
        }
        self.watchers.retain(|w| !w.tx.is_closed());
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, EVENTS_V1};

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
}
