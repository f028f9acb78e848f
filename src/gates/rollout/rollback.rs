//! `kubectl rollout undo` for the workloads the gate patched: read each again, plan what
//! to restore ([`Kind::plan_undo`]), send the JSON patch, and wait for the restored
//! template like any rollout.
//!
//! Reads and patches workloads and their history. A rollback that cannot be done is
//! reported, never an error: the gate has already failed, and says what it left behind.

use std::time::{Duration, Instant};

use kube::api::Patch;

use super::cluster::Cluster;
use super::error::{ApiError, Error};
use super::kinds::Kind;
use super::names::Workload;
use super::results::{RollbackReport, WorkloadReport};
use super::wait::{self, timed_out};
use super::workload::{self, Prepared};
use crate::error::error_chain;

/// Roll back every workload that was patched, all at once, and note the result in its
/// report.
pub async fn roll_back_patched(
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

/// `kubectl rollout undo` for one workload, then wait for the restored template.
pub async fn roll_back<K: Kind>(
    cluster: &Cluster,
    w: &Workload,
    timeout: Duration,
) -> RollbackReport {
    let started = Instant::now();
    let mut report = RollbackReport {
        to_revision: None,
        ok: false,
        message: String::new(),
        duration: Duration::ZERO,
    };
    report.message = match undo::<K>(cluster, w, timeout, &mut report.to_revision).await {
        Ok((ok, message)) => {
            report.ok = ok;
            message
        }
        Err(message) => message,
    };
    report.duration = started.elapsed();
    report
}

/// The rollback's steps: `Ok((rolled out again, kubectl's last message))`, or why it
/// could not be done. `to_revision` is set once a revision is chosen.
async fn undo<K: Kind>(
    cluster: &Cluster,
    w: &Workload,
    timeout: Duration,
    to_revision: &mut Option<i64>,
) -> Result<(bool, String), String> {
    // Read the workload again: the controller has moved on since the last event.
    let current: K = workload::get(cluster, w)
        .await
        .map_err(|e| format!("could not read {}: {}", w.short(), ApiError::from_kube(e)))?;
    let history = workload::history(cluster, &current)
        .await
        .map_err(|e| workload::history_gap::<K>(&e))?;
    let plan = current.plan_undo(&history).map_err(|e| e.to_string())?;
    tracing::info!(
        "{w}: rolling back to revision {} ({})",
        plan.to_revision,
        plan.images.join(", ")
    );
    // `Patch::Json` holds a `json_patch::Patch`; the type comes from the variant.
    let patch: Patch<serde_json::Value> = serde_json::from_value(plan.patch.clone())
        .map(Patch::Json)
        .map_err(|e| format!("internal error building the rollback patch: {e}"))?;
    *to_revision = Some(plan.to_revision);
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
