//! The GitHub deployment of a rollout (input `environment`): created for the commit (the
//! pull request's head on pull-request events) once every workload has been checked, just
//! before the first patch, with status `in_progress`; then `success`, `failure` (a
//! rolled-back rollout says what it went back to) or `error`, each with the run's log URL
//! and `environment-url`.
//!
//! Talks to GitHub only. Recording is never the verdict: without a token, without a
//! commit, or when the token may not write deployments (`deployments: write`), the gate
//! says so in one warning and carries on as if `environment` were not set.

use crate::github::deployments::{self, NewDeployment, Status};
use crate::github::{ApiError, GitHub};

use super::config::EnvironmentConfig;
use crate::gates::Context;

/// A deployment being recorded.
pub(super) struct Recorder<'a> {
    gh: &'a GitHub,
    ctx: &'a Context,
    id: u64,
    environment: &'a EnvironmentConfig,
    log_url: Option<String>,
}

/// Create the deployment and its `in_progress` status; `None` (after one warning) when it
/// cannot be recorded.
pub(super) async fn start<'a>(
    env: &'a EnvironmentConfig,
    ctx: &'a Context,
    image: &str,
) -> Option<Recorder<'a>> {
    let Some(gh) = ctx.github.as_ref() else {
        warn(
            ctx,
            env,
            "no GitHub token and repository are known (set `github-token`)",
        );
        return None;
    };
    let Some(sha) = ctx.event.head_sha.as_deref() else {
        warn(ctx, env, "the run names no commit (`GITHUB_SHA`)");
        return None;
    };
    let description = format!("rolling out {image}");
    let created = deployments::create(
        gh,
        &NewDeployment {
            sha,
            environment: &env.name,
            description: &description,
            transient: env.transient,
            production: env.production,
        },
    )
    .await;
    let id = match created {
        Ok(id) => id,
        Err(e) => {
            warn(ctx, env, &failure(&e));
            return None;
        }
    };
    let r = Recorder {
        gh,
        ctx,
        id,
        environment: env,
        log_url: ctx.env.run_url(),
    };
    if let Err(e) = r.status("in_progress", &description).await {
        warn(ctx, env, &failure(&e));
        return None;
    }
    tracing::info!("recording deployment {id} in environment `{}`", env.name);
    Some(r)
}

impl Recorder<'_> {
    /// The deployment's id.
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// Add the final status (`success`, `failure`, `error`).
    pub(super) async fn finish(&self, state: &str, description: &str) {
        if let Err(e) = self.status(state, description).await {
            warn(self.ctx, self.environment, &failure(&e));
        }
    }

    async fn status(&self, state: &str, description: &str) -> Result<(), ApiError> {
        deployments::add_status(
            self.gh,
            self.id,
            &Status {
                state,
                description,
                log_url: self.log_url.as_deref(),
                environment_url: self.environment.url.as_deref(),
            },
        )
        .await
    }
}

fn failure(e: &ApiError) -> String {
    if e.is_permission() {
        format!("{e}; the token needs `permissions: deployments: write`")
    } else {
        e.to_string()
    }
}

fn warn(ctx: &Context, env: &EnvironmentConfig, why: &str) {
    ctx.commands.warning(
        "Deployment not recorded",
        &format!(
            "could not record the deployment in environment `{}`: {why} (the rollout's verdict does not depend on it)",
            env.name
        ),
    );
}
