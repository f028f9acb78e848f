//! ControllerRevisions for StatefulSets and DaemonSets (`pkg/controller/history`).
//!
//! A revision's `data` is the strategic merge patch `{"spec":{"template":{...,"$patch":"replace"}}}`
//! that `kubectl rollout undo` sends back verbatim, and kubectl decides "already at this revision"
//! by comparing those bytes with its own Go encoding of the live template. The store keeps JSON
//! maps with sorted keys, so `data` goes out byte-identical to Go's encoding as long as the
//! template carries the same defaulted fields (see `defaults`).

use serde_json::{Value, json};

use super::{controller_ref, int, name, namespace, owned};
use crate::names::{go_json, hash_bytes};
use crate::resources::{CONTROLLERREVISIONS, ResourceType};
use crate::store::Store;

/// The `data` of a revision for `owner`'s current template.
pub(super) fn revision_data(owner: &Value) -> Value {
    let mut template = owner
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    template["$patch"] = json!("replace");
    json!({"spec": {"template": template}})
}

/// The pod template a revision restores.
pub(super) fn template_of(revision: &Value) -> Value {
    let mut t = revision
        .pointer("/data/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    t
}

/// The result of syncing an owner's history.
pub(super) struct History {
    /// The revision of the current template.
    pub update: Value,
    /// Every revision the owner controls, by ascending `revision`.
    pub all: Vec<Value>,
    /// The hash of the update revision.
    pub hash: String,
}

/// Finds or creates the revision of `owner`'s current template, re-numbering an older equal
/// revision (a rollback) to the next revision number, as `history.FindEqualRevisions` does.
pub(super) fn sync(
    store: &mut Store,
    owner_rt: &ResourceType,
    owner: &Value,
    hash_label: &str,
) -> History {
    let mut all = owned(store, &CONTROLLERREVISIONS, owner);
    all.sort_by_key(|r| int(r, "/revision"));
    let data = revision_data(owner);
    let bytes = go_json(&data);
    let max = all.last().map_or(0, |r| int(r, "/revision"));
    let equal = all
        .iter()
        .position(|r| r.get("data").map(go_json).as_deref() == Some(bytes.as_str()));
    let update = match equal {
        Some(i) if int(&all[i], "/revision") == max => all[i].clone(),
        Some(i) => {
            let mut r = all[i].clone();
            r["revision"] = json!(max + 1);
            let stored = store.replace(&CONTROLLERREVISIONS, r);
            all[i] = stored.clone();
            all.sort_by_key(|r| int(r, "/revision"));
            stored
        }
        None => {
            let collision = owner
                .pointer("/status/collisionCount")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let mut hashed = bytes.clone().into_bytes();
            hashed.extend_from_slice(&collision.to_le_bytes());
            let hash = hash_bytes(&hashed);
            let mut labels = owner
                .pointer("/spec/template/metadata/labels")
                .cloned()
                .unwrap_or_else(|| json!({}));
            labels[hash_label] = json!(hash);
            let mut annotations = owner
                .pointer("/metadata/annotations")
                .cloned()
                .unwrap_or_else(|| json!({}));
            if let Some(a) = annotations.as_object_mut() {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
            let mut meta = json!({
                "name": format!("{}-{hash}", name(owner)),
                "namespace": namespace(owner),
                "labels": labels,
                "ownerReferences": [controller_ref(owner_rt, owner)],
            });
            if annotations.as_object().is_some_and(|a| !a.is_empty()) {
                meta["annotations"] = annotations;
            }
            let revision = json!({"metadata": meta, "data": data, "revision": max + 1});
            let stored = match store.get(
                &CONTROLLERREVISIONS,
                namespace(owner),
                &format!("{}-{hash}", name(owner)),
            ) {
                Some(existing) => existing.clone(),
                None => store.insert_new(&CONTROLLERREVISIONS, revision),
            };
            all.push(stored.clone());
            stored
        }
    };
    let hash = update
        .pointer("/metadata/labels")
        .and_then(|l| l.get(hash_label))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    History { update, all, hash }
}

/// Deletes the oldest revisions no pod uses beyond `revisionHistoryLimit`.
pub(super) fn truncate(store: &mut Store, history: &History, live: &[String], limit: i64) {
    let candidates: Vec<&Value> = history
        .all
        .iter()
        .filter(|r| !live.iter().any(|l| l == name(r)) && name(r) != name(&history.update))
        .collect();
    let excess = i64::try_from(candidates.len()).unwrap_or(0) - limit;
    for r in candidates
        .into_iter()
        .take(usize::try_from(excess.max(0)).unwrap_or(0))
    {
        store.remove(&CONTROLLERREVISIONS, namespace(r), name(r));
    }
}
