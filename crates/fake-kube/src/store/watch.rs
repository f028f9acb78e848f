//! Watch fan-out: what a client asked to watch, opening a watch (initial state, replay from a
//! revision, or one `410 Expired` `ERROR` frame when that revision is compacted), the frame each
//! committed change becomes for each watch (selector transitions turn into `ADDED`/`DELETED`),
//! and bookmarks. Frames go into per-watch channels; the HTTP layer drains them.

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Change, EventType, Key, Store, present};
use crate::resources::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::tables::{self, IncludeObject};

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
pub(super) struct Watcher {
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

fn watch_frame(event: &str, object: Value) -> String {
    let mut s = json!({"type": event, "object": object}).to_string();
    s.push('\n');
    s
}

impl Store {
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

    pub(super) fn notify(&mut self, change: &Change) {
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
}
