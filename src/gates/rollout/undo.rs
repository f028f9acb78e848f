//! What a rollback restores: the pod template the gate recorded before its patch, sent as
//! a JSON patch ([`restore_patch`]). Pure: values in, a JSON patch out.
//!
//! Not `kubectl rollout undo`'s "previous revision" (the second-newest ReplicaSet or
//! ControllerRevision): that is wrong when the history was pruned or something else rolled
//! out in between, and impossible at `revisionHistoryLimit: 0`.

use serde_json::{Value, json};

/// The label the Deployment controller adds to each ReplicaSet's template (and pods).
pub(super) const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The JSON patch that restores a workload to what the gate recorded before patching it:
/// `template` (its `spec.template` as read) replaces the current one whole, and the
/// change-cause annotation gets its previous value back (or goes, when it had none; the
/// gate's own patch added it, so it is there to remove).
///
/// Unlike `kubectl rollout undo` this needs no history: it works at any
/// `revisionHistoryLimit`, including 0 (kubernetes/kubernetes#105732), and restores what
/// ran before this rollout even when "the previous revision" is something else.
pub(super) fn restore_patch(template: &Value, change_cause: Option<&str>) -> Value {
    let path = "/metadata/annotations/kubernetes.io~1change-cause";
    let cause = match change_cause {
        Some(c) => json!({"op": "add", "path": path, "value": c}),
        None => json!({"op": "remove", "path": path}),
    };
    json!([{"op": "replace", "path": "/spec/template", "value": template}, cause])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_restore_patch_puts_back_the_recorded_template_and_cause() {
        let t = json!({"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "api:1"}]}});
        assert_eq!(
            restore_patch(&t, Some("run 6")),
            json!([
                {"op": "replace", "path": "/spec/template", "value": t},
                {"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause", "value": "run 6"}
            ])
        );
        assert_eq!(
            restore_patch(&t, None)[1],
            json!({"op": "remove", "path": "/metadata/annotations/kubernetes.io~1change-cause"})
        );
    }
}
