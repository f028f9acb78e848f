//! Rollout gate: point Kubernetes workloads at a new image, wait with `kubectl rollout
//! status` rules, explain failures, roll back on request.
//!
//! This file is the gate's story and nothing else. The rooms:
//! - pure: [`config`] (inputs) with [`names`], [`duration`] and [`image_ref`];
//!   [`kinds`] (everything that differs by kind, one file per kind); [`status`] (is it
//!   done); [`failfast`] (is it hopeless already); [`explain`] and [`events`] (why not),
//!   both naming what is wrong with a pod as a [`problems::PodProblem`];
//!   [`undo`] (what to restore); [`eks`] (the token); [`results`] and [`render`] (what
//!   people read); [`error`] and [`api_error`];
//! - I/O, by what they talk to: [`cluster`] (kubeconfig, EKS, the client), [`eks_api`]
//!   (`DescribeCluster`), [`targets`] (one cluster through the rollout), [`workload`]
//!   (reading and patching workloads), [`wait`] (the watch), [`podwatch`] (the new
//!   revision's pods, for fail fast), [`record`] (the GitHub deployment), [`inspect`]
//!   (pods, events, logs), [`rollback`], [`smoke`] (the smoke command).
//!
//! Order of work, so that an error never leaves an unexplained half-applied state: connect
//! to every target and check every workload first (unknown workload, RBAC, container,
//! strategy: exit 2 before anything changed), then, on every target at once, patch the
//! workloads one by one (an error names what was already patched, and with
//! `rollback-on-failure` rolls those back and says so) and wait for all of them.

mod api_error;
mod cluster;
mod config;
mod duration;
mod eks;
mod eks_api;
mod error;
mod events;
mod explain;
pub mod failfast;
pub(crate) mod image_ref;
mod inspect;
pub mod kinds;
mod names;
mod podwatch;
mod problems;
mod record;
mod render;
mod results;
mod rollback;
mod smoke;
pub mod status;
mod targets;
mod undo;
mod wait;
mod workload;

pub use self::config::INPUTS;
pub use self::error::Error;
pub use self::render::OUTPUTS;

use tracing::Instrument as _;

use self::config::RolloutConfig;
use crate::gates::Context;
use crate::outcome::Outcome;
use crate::runner::inputs::RawInputs;

/// Run the rollout gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = RolloutConfig::try_from(raw)?;
    let image = cfg.image.as_str();

    // 1. Connect to every target and check everything before changing anything.
    let mut sites = Vec::with_capacity(cfg.targets.len());
    for t in &cfg.targets {
        sites.push(targets::prepare(&cfg, t, ctx).await?);
    }

    // The GitHub deployment, when asked for: recorded from here on.
    let recorder = match &cfg.environment {
        Some(env) => record::start(env, ctx, image).await,
        None => None,
    };

    // 2. Patch and wait, every target at once, each to its own verdict.
    let cause = ctx
        .env
        .run_url()
        .unwrap_or_else(|| format!("rust-ci-action: set image to {image}"));
    let mut results = futures::future::join_all(sites.iter_mut().map(|s| {
        let span = target_span(s.name.as_deref());
        s.roll_out(&cfg, &cause).instrument(span)
    }))
    .await;

    // 3. Smoke test once everything everywhere is ready.
    let all_ready = results.iter().all(|r| {
        r.as_ref()
            .is_ok_and(|reports| reports.iter().all(|w| w.status.ok()))
    });
    let smoke = match (&cfg.smoke_command, all_ready) {
        (Some(command), true) => Some(
            smoke::run(command, &ctx.workspace, cfg.timeout.get())
                .await
                .map_err(|source| Error::Smoke {
                    command: command.clone(),
                    source,
                }),
        ),
        _ => None,
    };
    let smoke_failed = match &smoke {
        Some(Ok(s)) => !s.passed,
        Some(Err(_)) => true,
        None => false,
    };

    // 4. When anything failed, roll back every target this run changed, when asked.
    if (!all_ready || smoke_failed) && cfg.rollback_on_failure {
        let undos = sites
            .iter_mut()
            .zip(results.iter_mut())
            .map(|(site, result)| {
                let span = target_span(site.name.as_deref());
                site.roll_back(&cfg, result.as_mut().ok().map(Vec::as_mut_slice))
                    .instrument(span)
            });
        futures::future::join_all(undos).await;
    }

    // 5. An error anywhere is the gate's error (naming what was patched where it struck).
    let first_error = sites
        .iter()
        .zip(results.iter_mut())
        .find_map(|(site, r)| match r {
            Err(_) => Some((site, std::mem::replace(r, Ok(Vec::new())))),
            Ok(_) => None,
        });
    let (smoke, smoke_error) = match smoke {
        Some(Ok(s)) => (Some(s), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let error = match first_error {
        Some((site, Err(e))) => Some(site.changes.wrap(e)),
        _ => smoke_error.map(|e| {
            let mut all = error::Changes::default();
            for c in sites.iter().flat_map(|s| s.changes.all()) {
                all.push(c.clone());
            }
            for r in results.iter().flatten().flatten() {
                if let Some(b) = &r.rollback {
                    let how = if b.ok { Ok(()) } else { Err(b.message.clone()) };
                    all.undone(&r.workload, how);
                }
            }
            all.wrap(e)
        }),
    };
    if let Some(e) = error {
        return Err(match &recorder {
            Some(r) => {
                r.finish("error", &crate::error::error_chain(&e)).await;
                Error::Recorded {
                    error: Box::new(e),
                    deployment_id: r.id(),
                }
            }
            None => e,
        });
    }
    let reports: Vec<results::WorkloadReport> = results
        .into_iter()
        .flat_map(Result::unwrap_or_default)
        .collect();
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

/// With several targets, log lines name theirs (`target{name=us}: ...`).
fn target_span(name: Option<&str>) -> tracing::Span {
    match name {
        Some(n) => tracing::info_span!("target", name = %n),
        None => tracing::Span::none(),
    }
}
