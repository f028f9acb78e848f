//! One target (a cluster: a kubeconfig context, optionally with an EKS token) through the
//! rollout: connect and check its workloads ([`prepare`]), patch them and wait
//! ([`Site::roll_out`]), and roll back ([`Site::roll_back`]).
//!
//! Several targets run concurrently; each reaches its own verdict. A failure in one does
//! not stop the others: their tables stay complete, and a flaky target cannot hide a real
//! failure elsewhere. With `rollback-on-failure`, `mod.rs` then rolls back every target
//! this run changed. Talks to the clusters only.

use super::cluster::{self, Cluster};
use super::config::{RolloutConfig, Target};
use super::error::{Change, Changes, Error};
use super::results::WorkloadReport;
use super::rollback;
use super::workload::{self, Prepared};
use crate::gates::Context;

/// One target, connected and checked.
pub(super) struct Site {
    /// The target's name (`None` for the single, unnamed target).
    pub name: Option<String>,
    /// Its client.
    pub cluster: Cluster,
    /// Its workloads, checked.
    pub prepared: Vec<Prepared>,
    /// What this run patched there.
    pub changes: Changes,
}

/// Connect to `target` and check every workload there, changing nothing.
pub(super) async fn prepare(
    cfg: &RolloutConfig,
    target: &Target,
    ctx: &Context,
) -> Result<Site, Error> {
    let cluster = cluster::connect(cfg, target, ctx).await?;
    let place = target
        .name
        .as_deref()
        .map(|n| format!("target {n} ({})", cluster.url))
        .unwrap_or_else(|| format!("cluster {}", cluster.url));
    tracing::info!(
        "{place}: rolling out {} to {}",
        cfg.image.as_str(),
        cfg.workloads
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut prepared = Vec::with_capacity(cfg.workloads.len());
    for w in &cfg.workloads {
        prepared.push(workload::prepare(&cluster, w, cfg.container.as_deref()).await?);
    }
    Ok(Site {
        name: target.name.clone(),
        cluster,
        prepared,
        changes: Changes::default(),
    })
}

impl Site {
    /// Patch every workload, then wait for all of them. An error is returned as it is;
    /// [`Site::changes`] says what was patched before it.
    pub(super) async fn roll_out(
        &mut self,
        cfg: &RolloutConfig,
        cause: &str,
    ) -> Result<Vec<WorkloadReport>, Error> {
        let image = cfg.image.as_str();
        let mut started = Vec::with_capacity(self.prepared.len());
        for p in &self.prepared {
            let s = p.set_image(&self.cluster, image, cause).await?;
            if s.patched {
                self.changes.push(Change {
                    workload: p.workload.clone(),
                    container: p.container.clone(),
                    from: p.previous_image.clone(),
                    to: image.to_owned(),
                    undone: None,
                });
            }
            started.push(s);
        }
        let waits = self
            .prepared
            .iter()
            .zip(&started)
            .map(|(p, s)| p.follow(&self.cluster, image, *s, cfg.timeout.get(), cfg.fail_fast));
        let mut reports = futures::future::join_all(waits)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        for r in &mut reports {
            r.target.clone_from(&self.name);
        }
        Ok(reports)
    }

    /// Roll back what this run patched here: with the reports when the rollout reached a
    /// verdict (noting the rollback in each), else after an error (noting it in
    /// [`Site::changes`]).
    pub(super) async fn roll_back(
        &mut self,
        cfg: &RolloutConfig,
        reports: Option<&mut [WorkloadReport]>,
    ) {
        let timeout = cfg.rollback_timeout.get();
        match reports {
            Some(reports) => {
                rollback::roll_back_patched(&self.cluster, &self.prepared, reports, timeout).await;
            }
            None if !self.changes.all().is_empty() => {
                let patched: Vec<&Prepared> = self
                    .prepared
                    .iter()
                    .filter(|p| self.changes.all().iter().any(|c| c.workload == p.workload))
                    .collect();
                tracing::warn!(
                    "an error stopped the rollout after {} workload(s) were patched; rolling them back",
                    patched.len()
                );
                let undone = rollback::roll_back_all(&self.cluster, &patched, timeout).await;
                for (p, r) in patched.iter().zip(undone) {
                    if r.ok {
                        tracing::info!("{}: rolled back: {}", p.workload, r.message);
                        self.changes.undone(&p.workload, Ok(()));
                    } else {
                        tracing::warn!("{}: rollback failed: {}", p.workload, r.message);
                        self.changes.undone(&p.workload, Err(r.message));
                    }
                }
            }
            None => {}
        }
    }
}
