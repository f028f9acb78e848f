//! ReplicaSet revisions (`getNewReplicaSet`, `SetNewReplicaSetAnnotations`, `cleanupDeployment`):
//! finding or creating the ReplicaSet named `<deployment>-<pod-template-hash>` for the current
//! template, copying annotations to it, the revision and revision-history annotations, and
//! deleting old empty ReplicaSets beyond `revisionHistoryLimit`.

use serde_json::{Value, json};

use super::{
    DESIRED_REPLICAS, HASH_LABEL, MAX_REPLICAS, MAX_REV_HISTORY_CHARS, REVISION, REVISION_HISTORY,
    SKIP_COPY, Sync, annotation, max_surge, revision, spec_replicas,
};
use crate::controller::{controller_ref, int, name, namespace};
use crate::names::hash_value;
use crate::resources::{DEPLOYMENTS, REPLICASETS};

impl Sync<'_> {
    /// `copyDeploymentAnnotationsToReplicaSet` + revision bookkeeping of
    /// `SetNewReplicaSetAnnotations`; returns whether anything changed.
    fn set_new_rs_annotations(&self, rs: &mut Value, new_revision: i64, exists: bool) -> bool {
        let mut changed = false;
        if !rs["metadata"]["annotations"].is_object() {
            rs["metadata"]["annotations"] = json!({});
        }
        if let Some(d_ann) = self
            .d
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            for (k, v) in d_ann {
                if SKIP_COPY.contains(&k.as_str())
                    || rs["metadata"]["annotations"].get(k) == Some(v)
                {
                    continue;
                }
                rs["metadata"]["annotations"][k] = v.clone();
                changed = true;
            }
        }
        let old = annotation(rs, REVISION).map(str::to_string);
        let old_int: i64 = old.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0);
        if old_int < new_revision {
            rs["metadata"]["annotations"][REVISION] = json!(new_revision.to_string());
            changed = true;
            if let Some(old) = old {
                let history = annotation(rs, REVISION_HISTORY)
                    .unwrap_or_default()
                    .to_string();
                let mut revs: Vec<String> = history
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                revs.push(old);
                while revs.join(",").len() > MAX_REV_HISTORY_CHARS && revs.len() > 1 {
                    revs.remove(0);
                }
                rs["metadata"]["annotations"][REVISION_HISTORY] = json!(revs.join(","));
            }
        }
        if !exists {
            rs["metadata"]["annotations"][DESIRED_REPLICAS] = json!(self.spec.replicas.to_string());
            rs["metadata"]["annotations"][MAX_REPLICAS] =
                json!((self.spec.replicas + max_surge(&self.spec)).to_string());
            changed = true;
        }
        changed
    }

    fn set_deployment_revision(&mut self, revision: &str) {
        if annotation(&self.d, REVISION) != Some(revision) {
            if !self.d["metadata"]["annotations"].is_object() {
                self.d["metadata"]["annotations"] = json!({});
            }
            self.d["metadata"]["annotations"][REVISION] = json!(revision);
        }
    }

    /// `getNewReplicaSet`: finds (and re-revisions) or creates the ReplicaSet for the current
    /// template.
    pub(super) fn get_new_rs(&mut self, create: bool) {
        let max_old = self.old_rss.iter().map(revision).max().unwrap_or(0);
        let new_revision = max_old + 1;
        if let Some(existing) = self.new_rs.clone() {
            let mut rs = existing.clone();
            let changed = self.set_new_rs_annotations(&mut rs, new_revision, true);
            let min_ready = self.spec.min_ready;
            let min_ready_changed = int(&rs, "/spec/minReadySeconds") != min_ready;
            if changed || min_ready_changed {
                if min_ready_changed {
                    rs["spec"]["minReadySeconds"] = json!(min_ready);
                    let g = int(&rs, "/metadata/generation");
                    rs["metadata"]["generation"] = json!(g + 1);
                }
                let stored = self.store.replace(&REPLICASETS, rs);
                self.new_rs = Some(stored);
                // The real controller returns here and picks the deployment revision up on the
                // next sync; doing it now saves a tick without changing what clients see last.
            }
            let rev = annotation(self.new_rs.as_ref().unwrap_or(&existing), REVISION)
                .unwrap_or_default()
                .to_string();
            self.set_deployment_revision(&rev);
            if self.has_progress_deadline() && self.condition("Progressing").is_none() {
                let c = self.new_condition(
                    "Progressing",
                    "True",
                    "FoundNewReplicaSet",
                    format!("Found new replica set \"{}\"", name(&existing)),
                );
                self.set_own_condition(c);
            }
            return;
        }
        if !create {
            return;
        }
        let template = self
            .d
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let collision = self
            .d
            .pointer("/status/collisionCount")
            .and_then(Value::as_i64);
        let hash = hash_value(&template, collision);
        let mut rs_template = template.clone();
        rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
        let mut selector = self
            .d
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or_else(|| json!({}));
        selector["matchLabels"][HASH_LABEL] = json!(hash);
        let rs_name = format!("{}-{hash}", name(&self.d));
        let all_replicas: i64 = self.old_rss.iter().map(spec_replicas).sum();
        let replicas = self.new_rs_new_replicas(0, all_replicas);
        let mut rs = json!({
            "metadata": {
                "name": rs_name,
                "namespace": namespace(&self.d),
                "labels": rs_template["metadata"]["labels"].clone(),
                "ownerReferences": [controller_ref(&DEPLOYMENTS, &self.d)],
                "annotations": {},
            },
            "spec": {
                "replicas": replicas,
                "minReadySeconds": self.spec.min_ready,
                "selector": selector,
                "template": rs_template,
            },
        });
        if self.spec.min_ready == 0 {
            if let Some(s) = rs["spec"].as_object_mut() {
                s.remove("minReadySeconds");
            }
        }
        self.set_new_rs_annotations(&mut rs, new_revision, false);
        crate::defaults::apply(&REPLICASETS, &mut rs);
        let created = if let Some(existing) = self
            .store
            .get(&REPLICASETS, namespace(&self.d), &rs_name)
            .cloned()
        {
            // A leftover with the same name (hash collision): adopt it as the real controller
            // would after bumping collisionCount; rare enough to keep simple.
            existing
        } else {
            self.store.insert_new(&REPLICASETS, rs)
        };
        if replicas > 0 {
            self.record(
                "ScalingReplicaSet",
                &format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
            );
        }
        self.set_deployment_revision(&new_revision.to_string());
        if self.has_progress_deadline() {
            let c = self.new_condition(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                format!("Created new replica set \"{rs_name}\""),
            );
            self.set_own_condition(c);
        }
        self.new_rs = Some(created);
    }

    /// `cleanupDeployment`: deletes the oldest empty ReplicaSets beyond `revisionHistoryLimit`.
    pub(super) fn cleanup(&mut self) {
        let Some(limit) = self.spec.history_limit else {
            return;
        };
        let mut old = self.old_rss.clone();
        let diff = i64::try_from(old.len()).unwrap_or(0) - limit;
        if diff <= 0 {
            return;
        }
        old.sort_by_key(revision);
        for rs in old.iter().take(usize::try_from(diff).unwrap_or(0)) {
            if int(rs, "/status/replicas") != 0
                || spec_replicas(rs) != 0
                || int(rs, "/metadata/generation") > int(rs, "/status/observedGeneration")
            {
                continue;
            }
            self.store.remove(&REPLICASETS, namespace(rs), name(rs));
            self.old_rss.retain(|o| name(o) != name(rs));
        }
    }
}
