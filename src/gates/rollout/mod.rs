//! Rollout gate: point Kubernetes workloads at a new image, wait with `kubectl rollout
//! status` rules, explain failures, roll back on request.
//!
//! This file is the gate's story and nothing else. The rooms:
//! - pure: [`config`] (inputs) with [`names`], [`duration`] and [`image_ref`];
//!   [`kinds`] (everything that differs by kind, one file per kind); [`status`] (is it
//!   done); [`failfast`] (is it hopeless already); [`explain`] and [`events`] (why not); [`undo`] (what to restore); [`eks`] (the
//!   token); [`results`] and [`render`] (what people read); [`error`] and [`api_error`];
//! - I/O, by what they talk to: [`cluster`] (kubeconfig, EKS, the client), [`workload`]
//!   (reading and patching workloads), [`wait`] (the watch), [`podwatch`] (the new
//!   revision's pods, for fail fast), [`record`] (the GitHub deployment), [`inspect`] (pods, events,
//!   logs), [`rollback`], [`smoke`] (the smoke command).
//!
//! Order of work, so that an error never leaves an unexplained half-applied state: read
//! and check every workload first (unknown workload, RBAC, container, strategy: exit 2
//! before anything changed), then patch them one by one (an error names what was already
//! patched, and with `rollback-on-failure` rolls those back and says so), then wait for all
//! of them at once.

mod api_error;
mod cluster;
mod config;
mod duration;
mod eks;
mod error;
mod events;
mod explain;
pub mod failfast;
pub mod image_ref;
mod inspect;
pub mod kinds;
mod names;
mod podwatch;
mod record;
mod render;
mod results;
mod rollback;
mod smoke;
pub mod status;
mod undo;
mod wait;
mod workload;

pub use self::config::INPUTS;
pub use self::error::Error;
pub use self::render::OUTPUTS;

use self::config::RolloutConfig;
use self::error::{Change, Changes};
use crate::gates::Context;
use crate::outcome::Outcome;
use crate::runner::inputs::RawInputs;

/// Run the rollout gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = RolloutConfig::try_from(raw)?;
    let cluster = cluster::connect(&cfg, ctx).await?;
    let image = cfg.image.as_str();
    tracing::info!(
        "cluster {}: rolling out {image} to {}",
        cluster.url,
        cfg.workloads
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 1. Read and check everything before changing anything.
    let mut prepared = Vec::with_capacity(cfg.workloads.len());
    for w in &cfg.workloads {
        prepared.push(workload::prepare(&cluster, w, cfg.container.as_deref()).await?);
    }

    // The GitHub deployment, when asked for: recorded from here on.
    let recorder = match &cfg.environment {
        Some(env) => record::start(env, ctx, image).await,
        None => None,
    };

    // 2.-4. Patch, wait, smoke test, remembering what changed.
    let mut changes = Changes::default();
    let (mut reports, smoke) = match roll_out(&cfg, ctx, &cluster, &prepared, &mut changes).await {
        Ok(done) => done,
        Err(e) => {
            if cfg.rollback_on_failure && !changes.all().is_empty() {
                undo_after_error(&cfg, &cluster, &prepared, &mut changes).await;
            }
            let e = changes.wrap(e);
            if let Some(r) = &recorder {
                r.finish("error", &crate::error::error_chain(&e)).await;
            }
            return Err(e);
        }
    };
    let all_ready = reports.iter().all(|r| r.status.ok());
    let failed = !all_ready || smoke.as_ref().is_some_and(|s| !s.passed);

    // 5. Roll back what we changed when asked.
    if failed && cfg.rollback_on_failure {
        rollback::roll_back_patched(
            &cluster,
            &prepared,
            &mut reports,
            cfg.rollback_timeout.get(),
        )
        .await;
    }
    let mut outcome = render::outcome(image, &reports, smoke.as_ref());
    if let Some(r) = &recorder {
        let state = match outcome.verdict {
            crate::outcome::Verdict::Pass => "success",
            _ => "failure",
        };
        r.finish(
            state,
            &render::deployment_description(&outcome.title, &reports),
        )
        .await;
    }
    outcome.outputs.push((
        "deployment-id".into(),
        recorder.map(|r| r.id().to_string()).unwrap_or_default(),
    ));
    Ok(outcome)
}

/// Patch every workload, wait for all of them, then run the smoke command. An error is
/// returned as it is; `changes` says what was patched before it.
async fn roll_out(
    cfg: &RolloutConfig,
    ctx: &Context,
    cluster: &cluster::Cluster,
    prepared: &[workload::Prepared],
    changes: &mut Changes,
) -> Result<(Vec<results::WorkloadReport>, Option<results::SmokeReport>), Error> {
    let image = cfg.image.as_str();
    let timeout = cfg.timeout.get();
    let cause = ctx
        .env
        .run_url()
        .unwrap_or_else(|| format!("rust-ci-action: set image to {image}"));
    let mut started = Vec::with_capacity(prepared.len());
    for p in prepared {
        let s = p.set_image(cluster, image, &cause).await?;
        if s.patched {
            changes.push(Change {
                workload: p.workload.clone(),
                container: p.container.clone(),
                from: p.previous_image.clone(),
                to: image.to_owned(),
                undone: None,
            });
        }
        started.push(s);
    }

    // Wait for all of them at once.
    let waits = prepared
        .iter()
        .zip(&started)
        .map(|(p, s)| p.follow(cluster, image, *s, timeout, cfg.fail_fast));
    let reports = futures::future::join_all(waits)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;

    // Smoke test once everything is ready.
    let all_ready = reports.iter().all(|r| r.status.ok());
    let smoke = match (&cfg.smoke_command, all_ready) {
        (Some(command), true) => Some(smoke::run(command, &ctx.workspace, timeout).await.map_err(
            |source| Error::Smoke {
                command: command.clone(),
                source,
            },
        )?),
        _ => None,
    };
    Ok((reports, smoke))
}

/// Roll back the workloads patched before an error, and note in `changes` how each went.
async fn undo_after_error(
    cfg: &RolloutConfig,
    cluster: &cluster::Cluster,
    prepared: &[workload::Prepared],
    changes: &mut Changes,
) {
    let patched: Vec<&workload::Prepared> = prepared
        .iter()
        .filter(|p| changes.all().iter().any(|c| c.workload == p.workload))
        .collect();
    tracing::warn!(
        "an error stopped the rollout after {} workload(s) were patched; rolling them back",
        patched.len()
    );
    let undone = rollback::roll_back_all(cluster, &patched, cfg.rollback_timeout.get()).await;
    for (p, r) in patched.iter().zip(undone) {
        if r.ok {
            tracing::info!("{}: rolled back: {}", p.workload, r.message);
            changes.undone(&p.workload, Ok(()));
        } else {
            tracing::warn!("{}: rollback failed: {}", p.workload, r.message);
            changes.undone(&p.workload, Err(r.message));
        }
    }
}
