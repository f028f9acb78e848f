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
//!
//! One job a file: this module holds the objects, revisions, history and compaction; `watch`
//! fans committed changes out to open watches (replay, selector transitions, bookmarks);
//! `events` records Events and converts them between `v1` and `events.k8s.io/v1`.

mod events;
#[cfg(test)]
mod tests;
mod watch;

pub use events::{events_from_v1, events_to_v1};
use watch::Watcher;
pub use watch::{Render, WatchInfo, WatchSpec};

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::names::IdGen;
use crate::resources::{self, ResourceType};

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
}
