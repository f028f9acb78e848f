//! Where the registry and its credentials come from, in the order the inputs say:
//! `registry-username`/`registry-password`, a Secrets Manager secret (`registry-secret`),
//! or Amazon ECR (`ecr`, decided from the registry host or the AWS credential chain), or
//! none (docker's own configuration). AWS is loaded once, and only on the paths that need
//! it.

use super::auth::{AuthUsed, Credentials};
use super::aws::Aws;
use super::config::{AuthSource, EcrMode, ImageConfig};
use super::error::Error;
use super::host::Registry;
use crate::gates::Context;
use crate::runner::commands::Commands;

/// The registry and credentials the gate ended up with.
#[derive(Debug)]
pub(super) struct Login {
    /// The registry to push to.
    pub registry: Registry,
    /// Credentials, when the gate has its own.
    pub creds: Option<Credentials>,
    /// How they were had, for the summary.
    pub used: AuthUsed,
    /// The registry is known to refuse overwriting a tag (an `IMMUTABLE` ECR repository).
    pub immutable_tags: bool,
}

/// Register every form of a credential with the runner before it can be logged.
pub(super) fn mask(commands: &Commands, creds: &Credentials) {
    for m in creds.mask_values() {
        commands.add_mask(&m);
    }
}

/// Mask what the inputs themselves hold (a password given as input, each build secret's
/// value: `app` masks the `secrets` input whole, which does not cover one line of it).
pub(super) fn mask_inputs(cfg: &ImageConfig, commands: &Commands) {
    for value in cfg.options.secret_values() {
        commands.add_mask(value.expose());
    }
    if let AuthSource::Password { username, password } = &cfg.auth {
        let creds = Credentials {
            username: username.clone(),
            password: password.clone(),
        };
        mask(commands, &creds);
    }
}

/// Resolve the registry and credentials.
pub(super) async fn resolve(cfg: &ImageConfig, ctx: &Context) -> Result<Login, Error> {
    let registry = || cfg.registry.clone().ok_or(Error::NoRegistry);
    let role = cfg.aws_role_arn.as_deref();
    match &cfg.auth {
        AuthSource::Password { username, password } => Ok(Login {
            registry: registry()?,
            creds: Some(Credentials {
                username: username.clone(),
                password: password.clone(),
            }),
            immutable_tags: false,
            used: AuthUsed::Password {
                username: username.clone(),
            },
        }),
        AuthSource::SecretsManager { secret_id } => {
            let registry = registry()?;
            let aws = Aws::load(cfg.aws_region.as_deref()).await;
            let aws = aws.ready(role, &ctx.env, &ctx.commands).await?;
            let creds = aws.registry_secret(secret_id, &ctx.commands).await?;
            let used = AuthUsed::SecretsManager {
                secret_id: secret_id.clone(),
                username: creds.username.clone(),
            };
            Ok(Login {
                registry,
                creds: Some(creds),
                used,
                immutable_tags: false,
            })
        }
        AuthSource::Ecr(mode) => {
            let host_region = cfg.registry.as_ref().and_then(Registry::ecr_region);
            let region = cfg.aws_region.as_deref().or(host_region);
            let (use_ecr, loaded) = match mode {
                EcrMode::On => (true, None),
                EcrMode::Off => (false, None),
                EcrMode::Auto if host_region.is_some() => (true, None),
                EcrMode::Auto if cfg.registry.is_none() && role.is_some() => (true, None),
                EcrMode::Auto if cfg.registry.is_none() => {
                    let aws = Aws::load(region).await;
                    (aws.has_credentials().await, Some(aws))
                }
                EcrMode::Auto => (false, None),
            };
            if !use_ecr {
                let registry = registry()?;
                tracing::info!("no registry credentials given: using docker's own configuration");
                return Ok(Login {
                    registry,
                    creds: None,
                    immutable_tags: false,
                    used: AuthUsed::Anonymous,
                });
            }
            let aws = match loaded {
                Some(aws) => aws,
                None => Aws::load(region).await,
            };
            let aws = aws.ready(role, &ctx.env, &ctx.commands).await?;
            let region = aws.region()?;
            let (creds, endpoint) = aws.ecr_login(&ctx.commands).await?;
            let registry = match &cfg.registry {
                Some(r) => r.clone(),
                None => Registry::parse(&endpoint).map_err(|m| Error::Aws {
                    action: "ecr:GetAuthorizationToken".into(),
                    detail: format!("proxy endpoint {endpoint:?}: {m}"),
                })?,
            };
            if cfg.create_repository {
                aws.ensure_repository(cfg.image.as_str()).await?;
            }
            let immutable_tags = cfg.push && aws.tags_immutable(cfg.image.as_str()).await;
            Ok(Login {
                registry,
                immutable_tags,
                creds: Some(creds),
                used: AuthUsed::Ecr {
                    region,
                    role: cfg.aws_role_arn.clone(),
                },
            })
        }
    }
}
