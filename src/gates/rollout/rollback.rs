//! Rollback of the workloads the gate patched: each gets back exactly the pod template it
//! had before the patch ([`Prepared::record`], [`undo::restore_patch`]), not "the previous
//! revision" `kubectl rollout undo` would pick, so it works at any `revisionHistoryLimit`
//! (0 included); then the restored template is waited for like any rollout, within the
//! rollback's own budget (`rollback-timeout`).
//!
//! Patches workloads. A rollback that cannot be done is reported, never an error: the gate
//! has already failed, and says what it left behind.

use std::time::{Duration, Instant};

use kube::api::Patch;

use super::cluster::Cluster;
use super::error::{ApiError, Error};
use super::kinds::Kind;
use super::results::{RollbackReport, WorkloadReport};
use super::undo;
use super::wait::{self, timed_out};
use super::workload::{self, Prepared};
use crate::error::error_chain;

/// Roll back every workload that was patched, all at once, and note the result in its
/// report.
pub(super) async fn roll_back_patched(
    cluster: &Cluster,
    prepared: &[Prepared],
    reports: &mut [WorkloadReport],
    timeout: Duration,
) {
    let undos = prepared.iter().zip(reports.iter()).map(|(p, r)| {
        let patched = r.patched;
        async move {
            if patched {
                Some(p.roll_back(cluster, timeout).await)
            } else {
                None
            }
        }
    });
    let results = futures::future::join_all(undos).await;
    for (r, b) in reports.iter_mut().zip(results) {
        if let Some(b) = &b {
            if b.ok {
                tracing::info!("{}: rolled back: {}", r.workload, b.message);
            } else {
                tracing::warn!("{}: rollback failed: {}", r.workload, b.message);
            }
        }
        r.rollback = b;
    }
}

/// Roll back `patched` (after an error), all at once.
pub(super) async fn roll_back_all(
    cluster: &Cluster,
    patched: &[&Prepared],
    timeout: Duration,
) -> Vec<RollbackReport> {
    futures::future::join_all(patched.iter().map(|p| p.roll_back(cluster, timeout))).await
}

/// Restore the template `p` recorded before the patch, then wait for it.
pub(super) async fn roll_back<K: Kind>(
    cluster: &Cluster,
    p: &Prepared,
    timeout: Duration,
) -> RollbackReport {
    let started = Instant::now();
    let (ok, message) = match restore::<K>(cluster, p, timeout).await {
        Ok(done) => done,
        Err(message) => (false, message),
    };
    RollbackReport {
        to_revision: p.record.revision,
        ok,
        message,
        duration: started.elapsed(),
    }
}

/// The rollback's steps: `Ok((rolled out again, kubectl's last message))`, or why it
/// could not be done.
async fn restore<K: Kind>(
    cluster: &Cluster,
    p: &Prepared,
    timeout: Duration,
) -> Result<(bool, String), String> {
    let w = &p.workload;
    tracing::info!(
        "{w}: restoring the pod template recorded before the patch ({} `{}` back to {})",
        if p.init {
            "init container"
        } else {
            "container"
        },
        p.container,
        p.previous_image
    );
    let plan = undo::restore_patch(&p.record.template, p.record.change_cause.as_deref());
    // `Patch::Json` holds a `json_patch::Patch`; the type comes from the variant.
    let patch: Patch<serde_json::Value> = serde_json::from_value(plan)
        .map(Patch::Json)
        .map_err(|e| format!("internal error building the rollback patch: {e}"))?;
    let generation = workload::patch::<K>(cluster, w, &patch)
        .await
        .map_err(|e| format!("could not patch {}: {}", w.short(), ApiError::from_kube(e)))?;
    let wait_started = Instant::now();
    let deadline = tokio::time::Instant::from_std(wait_started + timeout);
    let waited = wait::wait_for::<K>(cluster, w, generation, wait_started, deadline, None)
        .await
        .map_err(|e: Error| error_chain(&e))?;
    Ok(match waited.succeeded() {
        Some(ok) => (ok, waited.last_message),
        None => {
            let mut message = timed_out("the rollback", timeout, &waited.last_message);
            if let Some(hint) = K::rollback_stuck_hint() {
                message.push_str("; ");
                message.push_str(hint);
            }
            (false, message)
        }
    })
}
