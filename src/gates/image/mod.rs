//! Image gate: build a container image, authenticate to a registry (username/password,
//! AWS Secrets Manager, Amazon ECR), push, and verify the digest against the registry.
//!
//! This file is the only part of the gate that touches files, processes or the network
//! (the registry client in `registry.rs` aside); `config`, `plan` and `auth` are pure.
//!
//! Credentials go into a private `DOCKER_CONFIG` directory (0700, `config.json` 0600,
//! no `credsStore`) that only our docker child processes see and that is removed when the
//! gate returns, successfully or not (a drop guard). They are never on a command line and
//! never in the user's `~/.docker`. Every form of a password is masked before anything
//! else happens with it.
//!
//! Verdict: this gate has no policy to fail. Every problem (bad input, docker missing,
//! auth refused, a failed build or push, a digest the registry does not confirm) is an
//! `Err`, exit 2: the tool could not do its job. With `push: false` the gate builds and
//! passes; there is no digest to verify, so `digest` and `image-ref` are empty.

pub mod auth;
pub mod config;
pub mod plan;
pub mod registry;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ecr::error::ProvideErrorMetadata;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use self::auth::{AuthError, AuthUsed, Credentials};
use self::config::{AuthSource, Builder, EcrMode, ImageConfig, Registry};
use self::plan::{BuildRequest, Digest, RunInfo};
use self::registry::{Backoff, RegistryClient};
use crate::gates::Context;
use crate::outcome::{Outcome, Verdict};
use crate::runner::commands::Commands;
use crate::runner::inputs::{InputError, RawInputs};
use crate::secret::Secret;
use crate::spec::{InputSpec, OutputSpec};

/// The image gate's inputs.
pub const INPUTS: &[InputSpec] = &[
    InputSpec::new(
        "image",
        "Repository name, e.g. `team/api` (a leading `host[:port]/` is taken as the registry).",
    ),
    InputSpec::new(
        "registry",
        "Registry host[:port]. May be omitted with ECR: then it comes from the ECR token's endpoint.",
    ),
    InputSpec::new("tags", "Tags, one per line.")
        .default("sha-<short sha>, plus the git tag on tag pushes")
        .multiline(),
    InputSpec::new("context", "Build context directory.").default("."),
    InputSpec::new("dockerfile", "Dockerfile path.").default("<context>/Dockerfile"),
    InputSpec::new("build-args", "Build arguments, one `KEY=VALUE` per line.").multiline(),
    InputSpec::new(
        "labels",
        "Extra image labels, one `KEY=VALUE` per line (win over the automatic OCI labels).",
    )
    .multiline(),
    InputSpec::new("target", "Build stage to stop at."),
    InputSpec::new(
        "platforms",
        "Target platforms (buildx), comma- or newline-separated.",
    )
    .multiline(),
    InputSpec::new("push", "Push the image.").default("true"),
    InputSpec::new("builder", "`auto`, `buildx` or `docker`.").default("auto"),
    InputSpec::new("cache-from", "buildx `--cache-from` entries, one per line.").multiline(),
    InputSpec::new("cache-to", "buildx `--cache-to` entries, one per line.").multiline(),
    InputSpec::new("registry-username", "Registry user name."),
    InputSpec::new("registry-password", "Registry password or token.").secret(),
    InputSpec::new(
        "registry-secret",
        "AWS Secrets Manager secret id whose JSON holds `username` and `password`.",
    ),
    InputSpec::new(
        "ecr",
        "`auto`, `true` or `false`: authenticate to Amazon ECR.",
    )
    .default("auto"),
    InputSpec::new("aws-region", "AWS region for ECR, Secrets Manager and STS."),
    InputSpec::new(
        "aws-role-arn",
        "Role to assume with the workflow's OIDC token (needs `id-token: write`).",
    ),
    InputSpec::new(
        "create-repository",
        "Create the ECR repository (scan on push) when it is missing.",
    )
    .default("false"),
];

/// The image gate's outputs.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "digest",
        description: "Manifest digest verified against the registry (`sha256:...`).",
    },
    OutputSpec {
        name: "image-ref",
        description: "`registry/image@sha256:...`, ready for the rollout gate.",
    },
    OutputSpec {
        name: "tags",
        description: "Full references pushed, one per line.",
    },
    OutputSpec {
        name: "registry",
        description: "Registry host used.",
    },
    OutputSpec {
        name: "image-id",
        description: "Local image id (config digest).",
    },
];

/// How often a transiently failing `docker push` is tried.
const PUSH_ATTEMPTS: u32 = 4;
/// Output lines kept for an error message.
const TAIL_LINES: usize = 15;

/// The image gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No tags given and none can be derived.
    #[error(
        "input `tags` is required when the commit is unknown (no GITHUB_SHA for the default `sha-<short sha>`)"
    )]
    NoTags,
    /// No registry given and ECR not used.
    #[error(
        "input `registry` is required unless Amazon ECR is used (`ecr: true`, an ECR host, or AWS credentials)"
    )]
    NoRegistry,
    /// The build context is not a directory.
    #[error("build context {0} is not a directory")]
    ContextMissing(PathBuf),
    /// The Dockerfile does not exist.
    #[error("Dockerfile {0} does not exist")]
    DockerfileMissing(PathBuf),
    /// No docker CLI.
    #[error("docker is not installed (no `docker` on PATH)")]
    DockerMissing,
    /// The engine does not answer.
    #[error("the Docker daemon is not reachable: {detail}")]
    DaemonUnreachable {
        /// What docker said.
        detail: String,
    },
    /// `builder: buildx` without buildx.
    #[error("`builder: buildx` was asked for but `docker buildx version` fails: {detail}")]
    BuildxMissing {
        /// What docker said.
        detail: String,
    },
    /// A docker command could not be started.
    #[error("could not run docker {what}")]
    Spawn {
        /// The subcommand.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The private docker configuration could not be written.
    #[error("could not prepare the private docker configuration")]
    DockerConfig(#[source] std::io::Error),
    /// The build failed.
    #[error("docker build failed ({status}); last output:\n{tail}")]
    Build {
        /// Exit status.
        status: String,
        /// Last lines of output.
        tail: String,
    },
    /// A push failed.
    #[error("docker push {reference} failed ({status}); last output:\n{tail}")]
    Push {
        /// Full reference.
        reference: String,
        /// Exit status.
        status: String,
        /// Last lines of output.
        tail: String,
    },
    /// A push or build did not report a digest.
    #[error("{what} reported no digest for {reference}")]
    NoDigest {
        /// Which step.
        what: &'static str,
        /// Full reference.
        reference: String,
    },
    /// The registry serves another digest than the one pushed.
    #[error("digest mismatch for {reference}: pushed {pushed}, the registry serves {served}")]
    DigestMismatch {
        /// Full reference.
        reference: String,
        /// From the push.
        pushed: Digest,
        /// From the registry.
        served: Digest,
    },
    /// Registry API.
    #[error(transparent)]
    Registry(#[from] registry::Error),
    /// Credentials from a token or secret could not be read.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The Secrets Manager secret does not exist.
    #[error("AWS Secrets Manager secret `{id}` not found")]
    SecretNotFound {
        /// Secret id.
        id: String,
    },
    /// The secret has no string value.
    #[error(
        "AWS Secrets Manager secret `{id}` has no string value (binary secrets are not supported)"
    )]
    SecretNotString {
        /// Secret id.
        id: String,
    },
    /// ECR refused an action.
    #[error("Amazon ECR denied {action}: {detail}")]
    EcrAccessDenied {
        /// API action.
        action: &'static str,
        /// Code and message.
        detail: String,
    },
    /// An AWS call failed.
    #[error("AWS {action} failed: {detail}")]
    Aws {
        /// Service and action.
        action: String,
        /// Code and message, or the transport error chain.
        detail: String,
    },
    /// No region for AWS.
    #[error("no AWS region: set input `aws-region` (or AWS_REGION)")]
    NoRegion,
    /// The OIDC token for `aws-role-arn` could not be had.
    #[error("could not get the workflow's OIDC token for `aws-role-arn`: {detail}")]
    Oidc {
        /// What went wrong.
        detail: String,
    },
    /// A registry client could not be built.
    #[error("could not create the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// Run the image gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = ImageConfig::try_from(raw)?;
    if let AuthSource::Password { username, password } = &cfg.auth {
        mask(
            &ctx.commands,
            &Credentials {
                username: username.clone(),
                password: password.clone(),
            },
        );
    }
    let run_info = run_info(ctx);
    let tags = if cfg.tags.is_empty() {
        plan::default_tags(&run_info)
    } else {
        cfg.tags.clone()
    };
    if tags.is_empty() {
        return Err(Error::NoTags);
    }
    let context = ctx.workspace.join(&cfg.context);
    if !context.is_dir() {
        return Err(Error::ContextMissing(context));
    }
    let dockerfile = cfg
        .dockerfile
        .as_ref()
        .map_or_else(|| context.join("Dockerfile"), |d| ctx.workspace.join(d));
    if !dockerfile.is_file() {
        return Err(Error::DockerfileMissing(dockerfile));
    }
    let mut docker = Docker::default();
    // No `docker version` probe up front: it costs a CLI start on every run, and a missing
    // CLI or engine is named just as clearly when the build starts (see `build_error`).
    // The buildx probe runs only when a buildx plugin is installed, side by side with
    // authentication (which may talk to AWS).
    let (buildx, resolved) = tokio::join!(
        async {
            match cfg.builder {
                Builder::Docker => Err(String::new()),
                Builder::Auto if !buildx_installed() => {
                    Err("no docker-buildx CLI plugin".to_owned())
                }
                Builder::Auto | Builder::Buildx => docker.buildx().await,
            }
        },
        resolve_auth(&cfg, ctx),
    );
    let use_buildx = match cfg.builder {
        Builder::Docker => false,
        Builder::Buildx => {
            buildx.map_err(|detail| Error::BuildxMissing { detail })?;
            true
        }
        Builder::Auto => buildx.is_ok(),
    };
    let resolved = resolved?;
    tracing::info!("registry {}, auth: {}", resolved.registry, resolved.used);
    // The guard removes the directory (and the credentials in it) on every return path.
    let work = WorkDir::create(&resolved.registry, resolved.creds.as_ref())
        .map_err(Error::DockerConfig)?;
    docker.config_dir = work.config_dir();

    let client = RegistryClient::new(
        &resolved.registry,
        resolved.creds.clone(),
        Backoff::default(),
    )
    .map_err(Error::Http)?;

    if !use_buildx && (!cfg.cache_from.is_empty() || !cfg.cache_to.is_empty()) {
        ctx.commands.warning(
            "cache-from/cache-to ignored",
            "`cache-from` and `cache-to` are buildx options; the classic `docker build` is used here",
        );
    }

    let refs = plan::full_refs(&resolved.registry, &cfg.image, &tags);
    let auto_labels = plan::oci_labels(&run_info);
    let labels = plan::merge_labels(&auto_labels, &cfg.labels);
    let req = BuildRequest {
        context: &context,
        dockerfile: &dockerfile,
        refs: &refs,
        labels: &labels,
        build_args: &cfg.build_args,
        target: cfg.target.as_deref(),
        platforms: &cfg.platforms,
        cache_from: &cfg.cache_from,
        cache_to: &cfg.cache_to,
        push: cfg.push,
    };
    let iidfile = work.path().join("iid");
    let metadata_file = work.path().join("metadata.json");

    // The credential check runs while the build does: a refusal ends the build (the child
    // is killed when its future is dropped) before anything is pushed, without making every
    // good run wait for the check first.
    let auth_check = async {
        if cfg.push && resolved.creds.is_some() {
            client.check_auth(cfg.image.as_str()).await?;
        }
        Ok::<(), Error>(())
    };
    let started = Instant::now();
    let build = async {
        let (title, argv) = if use_buildx {
            (
                "docker buildx build",
                plan::buildx_argv(&req, &metadata_file, &iidfile),
            )
        } else {
            ("docker build", plan::docker_build_argv(&req, &iidfile))
        };
        let out = docker.stream(&ctx.commands, title, &argv).await?;
        if !out.success {
            return Err(build_error(out));
        }
        Ok(started.elapsed())
    };
    let ((), build_time) = tokio::try_join!(auth_check, build)?;

    let mut pushed: Vec<(String, Digest)> = Vec::new();
    let (image_id, push_time) = if use_buildx {
        let meta = std::fs::read_to_string(&metadata_file)
            .ok()
            .and_then(|t| plan::parse_buildx_metadata(&t));
        let iid = read_digest(&iidfile);
        let image_id = meta.as_ref().and_then(|m| m.config_digest.clone()).or(iid);
        if cfg.push {
            let digest = meta.and_then(|m| m.digest).ok_or_else(|| Error::NoDigest {
                what: "docker buildx build --metadata-file",
                reference: refs.join(", "),
            })?;
            pushed = refs.iter().map(|r| (r.clone(), digest.clone())).collect();
        }
        // buildx pushes during the build: the build time includes the push.
        (image_id, None)
    } else {
        let image_id = read_digest(&iidfile);
        let push_started = Instant::now();
        if cfg.push {
            for (reference, tag) in refs.iter().zip(&tags) {
                let digest = docker.push(&ctx.commands, reference, tag.as_str()).await?;
                pushed.push((reference.clone(), digest));
            }
        }
        (image_id, cfg.push.then(|| push_started.elapsed()))
    };

    let mut digest = None;
    let mut size = None;
    if cfg.push {
        let _section = Section::open(&ctx.commands, "verify digest");
        let mut verified: Option<Digest> = None;
        for ((reference, pushed_digest), tag) in pushed.iter().zip(&tags) {
            let served = client
                .manifest_digest(cfg.image.as_str(), tag.as_str())
                .await?;
            if &served != pushed_digest {
                return Err(Error::DigestMismatch {
                    reference: reference.clone(),
                    pushed: pushed_digest.clone(),
                    served,
                });
            }
            if let Some(first) = &verified
                && first != &served
            {
                return Err(Error::DigestMismatch {
                    reference: reference.clone(),
                    pushed: first.clone(),
                    served,
                });
            }
            tracing::info!("{reference}: {served} (confirmed by the registry)");
            verified = Some(served);
        }
        if let Some(d) = &verified {
            match client.image_size(cfg.image.as_str(), d).await {
                Ok(s) => size = Some(s),
                Err(e) => tracing::warn!(
                    "could not read the image size: {}",
                    crate::report::github::error_chain(&e)
                ),
            }
        }
        digest = verified;
    }
    drop(work);

    Ok(outcome(&Report {
        cfg: &cfg,
        registry: &resolved.registry,
        refs: &refs,
        digest: digest.as_ref(),
        image_id: image_id.as_ref(),
        size,
        builder: if use_buildx { "buildx" } else { "docker build" },
        build_time,
        push_time,
        auth: &resolved.used,
    }))
}

/// Register every form of a credential with the runner before it can be logged.
fn mask(commands: &Commands, creds: &Credentials) {
    for m in creds.mask_values() {
        commands.add_mask(&m);
    }
}

fn run_info(ctx: &Context) -> RunInfo {
    RunInfo {
        server_url: ctx.env.server_url.clone(),
        repository: ctx.env.repository.clone(),
        sha: ctx.env.sha.clone(),
        git_ref: ctx.env.git_ref.clone(),
        ref_type: ctx.env.ref_type.clone(),
        ref_name: ctx.env.ref_name.clone(),
        created: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    }
}

/// A failed build; an engine that went away is named as such.
fn build_error(out: Streamed) -> Error {
    let text = out.text();
    // The classic CLI says "Cannot connect to the Docker daemon at ...", BuildKit's client
    // "failed to dial gRPC: cannot connect to the Docker daemon", a TCP host "error during
    // connect".
    if let Some(line) = text.lines().find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("connect to the docker daemon") || l.contains("error during connect")
    }) {
        return Error::DaemonUnreachable {
            detail: line.trim().to_owned(),
        };
    }
    Error::Build {
        tail: out.tail(),
        status: out.status,
    }
}

fn read_digest(path: &Path) -> Option<Digest> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| Digest::parse(t.trim()))
}

// ---------------------------------------------------------------------------------------
// Authentication

/// The registry and credentials the gate ended up with.
struct Resolved {
    registry: Registry,
    creds: Option<Credentials>,
    used: AuthUsed,
}

async fn resolve_auth(cfg: &ImageConfig, ctx: &Context) -> Result<Resolved, Error> {
    match &cfg.auth {
        AuthSource::Password { username, password } => Ok(Resolved {
            registry: cfg.registry.clone().ok_or(Error::NoRegistry)?,
            creds: Some(Credentials {
                username: username.clone(),
                password: password.clone(),
            }),
            used: AuthUsed::Password {
                username: username.clone(),
            },
        }),
        AuthSource::SecretsManager { secret_id } => {
            let registry = cfg.registry.clone().ok_or(Error::NoRegistry)?;
            let aws = aws_config(cfg, ctx, None).await?;
            let creds = fetch_secret(&aws, secret_id, &ctx.commands).await?;
            let used = AuthUsed::SecretsManager {
                secret_id: secret_id.clone(),
                username: creds.username.clone(),
            };
            Ok(Resolved {
                registry,
                creds: Some(creds),
                used,
            })
        }
        AuthSource::Ecr(mode) => {
            let ecr_host_region = cfg.registry.as_ref().and_then(|r| r.ecr_region());
            let use_ecr = match mode {
                EcrMode::On => true,
                EcrMode::Off => false,
                EcrMode::Auto if ecr_host_region.is_some() => true,
                EcrMode::Auto if cfg.registry.is_none() => {
                    cfg.aws_role_arn.is_some() || aws_credentials_present(cfg).await
                }
                EcrMode::Auto => false,
            };
            if !use_ecr {
                let registry = cfg.registry.clone().ok_or(Error::NoRegistry)?;
                tracing::info!("no registry credentials given: using docker's own configuration");
                return Ok(Resolved {
                    registry,
                    creds: None,
                    used: AuthUsed::Anonymous,
                });
            }
            let aws = aws_config(cfg, ctx, ecr_host_region).await?;
            let region = aws
                .region()
                .map(ToString::to_string)
                .ok_or(Error::NoRegion)?;
            let ecr = aws_sdk_ecr::Client::new(&aws);
            let out = ecr
                .get_authorization_token()
                .send()
                .await
                .map_err(|e| ecr_error("GetAuthorizationToken", &e))?;
            let data = out.authorization_data().first().ok_or_else(|| Error::Aws {
                action: "ecr:GetAuthorizationToken".into(),
                detail: "no authorization data in the answer".into(),
            })?;
            let token = Secret::new(data.authorization_token().unwrap_or_default().to_owned());
            ctx.commands.add_mask(token.expose());
            let creds = auth::decode_ecr_token(token.expose())?;
            mask(&ctx.commands, &creds);
            let registry = match &cfg.registry {
                Some(r) => r.clone(),
                None => {
                    let endpoint = data.proxy_endpoint().unwrap_or_default();
                    Registry::parse(endpoint).map_err(|m| Error::Aws {
                        action: "ecr:GetAuthorizationToken".into(),
                        detail: format!("proxy endpoint {endpoint:?}: {m}"),
                    })?
                }
            };
            if cfg.create_repository {
                ensure_repository(&ecr, cfg.image.as_str()).await?;
            }
            Ok(Resolved {
                registry,
                creds: Some(creds),
                used: AuthUsed::Ecr {
                    region,
                    role: cfg.aws_role_arn.clone(),
                },
            })
        }
    }
}

/// The AWS configuration from the standard chain (environment, profile, web identity), with
/// the SDK's standard retry mode. With `aws-role-arn`, credentials come from assuming that
/// role with the workflow's OIDC token, so no separate credentials step is needed.
async fn aws_config(
    cfg: &ImageConfig,
    ctx: &Context,
    region_hint: Option<&str>,
) -> Result<aws_config::SdkConfig, Error> {
    use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4));
    if let Some(r) = cfg.aws_region.as_deref().or(region_hint) {
        loader = loader.region(Region::new(r.to_owned()));
    }
    let base = loader.load().await;
    if base.region().is_none() {
        return Err(Error::NoRegion);
    }
    let Some(role) = &cfg.aws_role_arn else {
        return Ok(base);
    };
    let token = oidc_token(ctx).await?;
    let session = format!(
        "rust-ci-action-{}",
        ctx.env.run_id.as_deref().unwrap_or("local")
    );
    let out = aws_sdk_sts::Client::new(&base)
        .assume_role_with_web_identity()
        .role_arn(role)
        .role_session_name(session)
        .web_identity_token(token.expose())
        .send()
        .await
        .map_err(|e| Error::Aws {
            action: format!("sts:AssumeRoleWithWebIdentity for {role}"),
            detail: sdk_detail(&e),
        })?;
    let c = out.credentials().ok_or_else(|| Error::Aws {
        action: format!("sts:AssumeRoleWithWebIdentity for {role}"),
        detail: "no credentials in the answer".into(),
    })?;
    ctx.commands.add_mask(c.secret_access_key());
    ctx.commands.add_mask(c.session_token());
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        expiry,
        "rust-ci-action-oidc",
    );
    tracing::info!("assumed {role} with the workflow's OIDC token");
    Ok(base
        .into_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build())
}

/// Whether the standard chain yields credentials (for `ecr: auto` without a registry).
async fn aws_credentials_present(cfg: &ImageConfig) -> bool {
    use aws_credential_types::provider::ProvideCredentials;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = &cfg.aws_region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let conf = loader.load().await;
    match conf.credentials_provider() {
        Some(p) => tokio::time::timeout(Duration::from_secs(10), p.provide_credentials())
            .await
            .is_ok_and(|r| r.is_ok()),
        None => false,
    }
}

/// The GitHub OIDC token for audience `sts.amazonaws.com`
/// (<https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect>).
/// The runner offers it only to jobs with `permissions: id-token: write`.
async fn oidc_token(ctx: &Context) -> Result<Secret<String>, Error> {
    let pairs = crate::runner::env::process_pairs();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(pk, v)| pk == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let (Some(url), Some(bearer)) = (
        get("ACTIONS_ID_TOKEN_REQUEST_URL"),
        get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        return Err(Error::Oidc {
            detail: "ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set: give the job `permissions: id-token: write`".into(),
        });
    };
    ctx.commands.add_mask(&bearer);
    let oidc = |detail: String| Error::Oidc { detail };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| oidc(e.to_string()))?;
    let mut url = reqwest::Url::parse(&url)
        .map_err(|e| oidc(format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL ({e})")))?;
    url.query_pairs_mut()
        .append_pair("audience", "sts.amazonaws.com");
    let resp = client
        .get(url)
        .bearer_auth(&bearer)
        .send()
        .await
        .map_err(|e| oidc(crate::report::github::error_chain(&e)))?;
    if !resp.status().is_success() {
        return Err(oidc(format!(
            "the token service answered HTTP {}",
            resp.status().as_u16()
        )));
    }
    let v: serde_json::Value = resp.json().await.map_err(|e| oidc(e.to_string()))?;
    let token = v
        .get("value")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| oidc("no `value` in the token service's answer".into()))?;
    ctx.commands.add_mask(token);
    Ok(Secret::new(token.to_owned()))
}

async fn fetch_secret(
    aws: &aws_config::SdkConfig,
    id: &str,
    commands: &Commands,
) -> Result<Credentials, Error> {
    let out = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| match e.code() {
            Some("ResourceNotFoundException") => Error::SecretNotFound { id: id.to_owned() },
            _ => Error::Aws {
                action: format!("secretsmanager:GetSecretValue for `{id}`"),
                detail: sdk_detail(&e),
            },
        })?;
    let text = Secret::new(
        out.secret_string()
            .ok_or_else(|| Error::SecretNotString { id: id.to_owned() })?
            .to_owned(),
    );
    // Mask before parsing, so a parse error can never echo it unmasked.
    for m in crate::secret::mask_values(text.expose()) {
        commands.add_mask(&m);
    }
    let creds = auth::parse_secret_json(id, text.expose())?;
    mask(commands, &creds);
    Ok(creds)
}

/// Create the ECR repository (scan on push) when it does not exist.
async fn ensure_repository(ecr: &aws_sdk_ecr::Client, name: &str) -> Result<(), Error> {
    match ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) if e.code() == Some("RepositoryNotFoundException") => {}
        Err(e) => return Err(ecr_error("DescribeRepositories", &e)),
    }
    let scan = aws_sdk_ecr::types::ImageScanningConfiguration::builder()
        .scan_on_push(true)
        .build();
    ecr.create_repository()
        .repository_name(name)
        .image_scanning_configuration(scan)
        .send()
        .await
        .map_err(|e| ecr_error("CreateRepository", &e))?;
    tracing::info!("created ECR repository {name} (scan on push)");
    Ok(())
}

fn ecr_error<E, R>(action: &'static str, e: &aws_sdk_ecr::error::SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if e.code() == Some("AccessDeniedException") {
        Error::EcrAccessDenied {
            action,
            detail: sdk_detail(e),
        }
    } else {
        Error::Aws {
            action: format!("ecr:{action}"),
            detail: sdk_detail(e),
        }
    }
}

/// `Code: message` for a service error, else the transport error chain (the SDK's own
/// `Display` says only "service error" or "dispatch failure").
fn sdk_detail<E, R>(e: &aws_sdk_ecr::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let Some(code) = e.code() {
        return match e.message() {
            Some(m) => format!("{code}: {m}"),
            None => code.to_owned(),
        };
    }
    crate::report::github::error_chain(e)
}

// ---------------------------------------------------------------------------------------
// Files

/// The gate's private temporary directory: iid and metadata files and, when there are
/// credentials, `config/` used as `DOCKER_CONFIG`. Removed on drop.
struct WorkDir {
    dir: tempfile::TempDir,
    has_config: bool,
}

impl WorkDir {
    fn create(registry: &Registry, creds: Option<&Credentials>) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("rust-ci-image-")
            .tempdir_in(temp_root())?;
        set_mode(dir.path(), 0o700)?;
        let Some(creds) = creds else {
            // No credentials of ours: docker keeps the user's configuration (a preceding
            // `docker login` step, credential helpers).
            return Ok(Self {
                dir,
                has_config: false,
            });
        };
        let config = dir.path().join("config");
        std::fs::create_dir(&config)?;
        set_mode(&config, 0o700)?;
        // A private DOCKER_CONFIG also hides the user's CLI plugins (buildx installed by
        // setup-buildx-action lives in ~/.docker/cli-plugins), builder instances
        // (~/.docker/buildx) and contexts; link those, which hold no credentials.
        let user = user_docker_dir();
        let mut current_context = None;
        if let Some(user) = &user {
            for name in ["cli-plugins", "buildx", "contexts"] {
                let src = user.join(name);
                if src.is_dir() {
                    symlink_dir(&src, &config.join(name))?;
                }
            }
            current_context = std::fs::read_to_string(user.join("config.json"))
                .ok()
                .and_then(|t| auth::current_context(&t));
        }
        let json = auth::docker_config_json(registry, Some(creds), current_context.as_deref());
        write_private(&config.join("config.json"), json.expose().as_bytes())?;
        Ok(Self {
            dir,
            has_config: true,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config_dir(&self) -> Option<PathBuf> {
        self.has_config.then(|| self.dir.path().join("config"))
    }
}

/// Where the private directory goes: `RUNNER_TEMP` on a runner, which the runner empties
/// after every job, so even a killed process (a cancelled job) leaves no credentials behind
/// on a self-hosted machine; the system temp directory elsewhere.
fn temp_root() -> PathBuf {
    let pairs = crate::runner::env::process_pairs();
    pairs
        .iter()
        .find(|(k, v)| k == "RUNNER_TEMP" && !v.is_empty())
        .map(|(_, v)| PathBuf::from(v))
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// Whether a `docker-buildx` CLI plugin is in one of the folders the docker CLI searches
/// (<https://github.com/docker/cli/blob/master/cli-plugins/manager/manager_unix.go>), so the
/// `docker buildx version` probe is only paid for where it can succeed.
fn buildx_installed() -> bool {
    let user = user_docker_dir();
    let extra = user
        .as_ref()
        .and_then(|u| std::fs::read_to_string(u.join("config.json")).ok())
        .map(|t| plan::plugin_extra_dirs(&t))
        .unwrap_or_default();
    plan::plugin_dirs(user.as_deref(), &extra)
        .iter()
        .any(|d| d.join("docker-buildx").is_file())
}

/// `DOCKER_CONFIG`, else `~/.docker`.
fn user_docker_dir() -> Option<PathBuf> {
    let pairs = crate::runner::env::process_pairs();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(pk, v)| pk == k && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
    };
    get("DOCKER_CONFIG").or_else(|| get("HOME").map(|h| h.join(".docker")))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn symlink_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(src, dst)
}

#[cfg(not(unix))]
fn symlink_dir(_src: &Path, _dst: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Create a file readable by its owner only (0600 from the start, not chmod-ed later).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

// ---------------------------------------------------------------------------------------
// Processes

/// A log group for one step. `app` opened a group for the whole gate; the runner does not
/// nest groups (a new `::group::` implicitly ends the open one), so a step group first ends
/// the gate's group explicitly, and `app`'s final `::endgroup::` is then a no-op.
struct Section<'a>(&'a Commands);

impl<'a> Section<'a> {
    fn open(commands: &'a Commands, title: &str) -> Self {
        commands.endgroup();
        commands.group(title);
        Self(commands)
    }
}

impl Drop for Section<'_> {
    fn drop(&mut self) {
        self.0.endgroup();
    }
}

/// What a streamed command did.
struct Streamed {
    success: bool,
    status: String,
    lines: Vec<String>,
}

impl Streamed {
    fn tail(&self) -> String {
        let start = self.lines.len().saturating_sub(TAIL_LINES);
        self.lines[start..].join("\n")
    }

    fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// The docker CLI with our private configuration.
#[derive(Debug, Default)]
struct Docker {
    config_dir: Option<PathBuf>,
}

impl Docker {
    fn command(&self, args: &[OsString]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("docker");
        c.args(args).stdin(Stdio::null()).kill_on_drop(true);
        if let Some(d) = &self.config_dir {
            c.env("DOCKER_CONFIG", d);
        }
        // Line-oriented BuildKit output (no TTY animation) for the log.
        c.env("BUILDKIT_PROGRESS", "plain");
        c
    }

    async fn quiet(&self, args: &[&str]) -> Result<std::process::Output, Error> {
        let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        let run = self.command(&argv).output();
        match tokio::time::timeout(Duration::from_secs(60), run).await {
            Ok(Ok(o)) => Ok(o),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::DockerMissing),
            Ok(Err(source)) => Err(Error::Spawn {
                what: args.join(" "),
                source,
            }),
            Err(_) => Err(Error::DaemonUnreachable {
                detail: format!("`docker {}` did not answer within 60 s", args.join(" ")),
            }),
        }
    }

    /// `Ok` when `docker buildx version` works, else what it said.
    async fn buildx(&self) -> Result<(), String> {
        match self.quiet(&["buildx", "version"]).await {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Run with output forwarded line by line to the log inside a group, and kept.
    async fn stream(
        &self,
        commands: &Commands,
        title: &str,
        args: &[OsString],
    ) -> Result<Streamed, Error> {
        let _section = Section::open(commands, title);
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::DockerMissing,
                _ => Error::Spawn {
                    what: title.to_owned(),
                    source: e,
                },
            })?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().map(|s| forward(s, lines.clone()));
        let err = child.stderr.take().map(|s| forward(s, lines.clone()));
        let (_, _, status) = tokio::join!(
            async {
                if let Some(f) = out {
                    f.await;
                }
            },
            async {
                if let Some(f) = err {
                    f.await;
                }
            },
            child.wait()
        );
        let status = status.map_err(|source| Error::Spawn {
            what: title.to_owned(),
            source,
        })?;
        let lines = match Arc::try_unwrap(lines) {
            Ok(m) => m.into_inner().unwrap_or_else(|p| p.into_inner()),
            Err(shared) => shared.lock().map(|g| g.clone()).unwrap_or_default(),
        };
        Ok(Streamed {
            success: status.success(),
            status: status.to_string(),
            lines,
        })
    }

    /// `docker push` one reference, retrying transient failures; the digest it reports.
    async fn push(&self, commands: &Commands, reference: &str, tag: &str) -> Result<Digest, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let out = self
                .stream(
                    commands,
                    &format!("docker push {reference}"),
                    &plan::push_argv(reference),
                )
                .await?;
            if out.success {
                return plan::parse_push_digest(&out.text(), tag)
                    .map(|(d, _)| d)
                    .ok_or_else(|| Error::NoDigest {
                        what: "docker push",
                        reference: reference.to_owned(),
                    });
            }
            if attempt < PUSH_ATTEMPTS && plan::is_transient(&out.text()) {
                let delay = Backoff::default().delay(attempt) * 2;
                tracing::warn!("docker push {reference} failed transiently; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(Error::Push {
                reference: reference.to_owned(),
                tail: out.tail(),
                status: out.status,
            });
        }
    }
}

/// Forward a child's output to the log line by line (through `tracing`, so a line that
/// looks like a workflow command is never interpreted as one) and keep it.
async fn forward<R: AsyncRead + Unpin>(reader: R, keep: Arc<Mutex<Vec<String>>>) {
    let mut r = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                tracing::info!("{line}");
                if let Ok(mut k) = keep.lock() {
                    k.push(line);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Report

/// What the outcome is made of.
struct Report<'a> {
    cfg: &'a ImageConfig,
    registry: &'a Registry,
    refs: &'a [String],
    digest: Option<&'a Digest>,
    image_id: Option<&'a Digest>,
    size: Option<(u64, usize)>,
    builder: &'a str,
    build_time: Duration,
    push_time: Option<Duration>,
    auth: &'a AuthUsed,
}

/// The outcome: title, summary table, tag list, outputs. Pure.
fn outcome(r: &Report<'_>) -> Outcome {
    let repo = format!("{}/{}", r.registry, r.cfg.image);
    let image_ref = r.digest.map(|d| format!("{repo}@{d}")).unwrap_or_default();
    let title = match r.digest {
        Some(d) => format!(
            "Pushed {repo}@{} ({} tag{})",
            short(d),
            r.refs.len(),
            if r.refs.len() == 1 { "" } else { "s" }
        ),
        None => format!("Built {repo} (not pushed)"),
    };
    let mut summary = String::from("| | |\n|---|---|\n");
    summary.push_str(&format!("| Image | `{repo}` |\n"));
    summary.push_str(&format!(
        "| Digest | {} |\n",
        r.digest
            .map_or("not pushed".to_owned(), |d| format!("`{d}`"))
    ));
    if let Some((bytes, platforms)) = r.size {
        let plat = if platforms > 1 {
            format!(" over {platforms} platforms")
        } else {
            String::new()
        };
        summary.push_str(&format!(
            "| Size | {} (compressed{plat}) |\n",
            human_size(bytes)
        ));
    }
    summary.push_str(&format!(
        "| Build | {} ({}) |\n",
        seconds(r.build_time),
        r.builder
    ));
    match r.push_time {
        Some(t) => summary.push_str(&format!("| Push | {} |\n", seconds(t))),
        None if r.digest.is_some() => summary.push_str("| Push | during the build |\n"),
        None => {}
    }
    summary.push_str(&format!("| Auth | {} |\n", r.auth));
    if let Some(id) = r.image_id {
        summary.push_str(&format!("| Image id | `{id}` |\n"));
    }
    let mut text = String::from("| Tag | Verified digest |\n|---|---|\n");
    for reference in r.refs {
        let d = r
            .digest
            .map_or("not pushed".to_owned(), |d| format!("`{d}`"));
        text.push_str(&format!("| `{reference}` | {d} |\n"));
    }
    Outcome {
        verdict: Verdict::Pass,
        title,
        summary,
        text,
        annotations: Vec::new(),
        outputs: vec![
            (
                "digest".into(),
                r.digest.map(ToString::to_string).unwrap_or_default(),
            ),
            ("image-ref".into(), image_ref),
            ("tags".into(), r.refs.join("\n")),
            ("registry".into(), r.registry.to_string()),
            (
                "image-id".into(),
                r.image_id.map(ToString::to_string).unwrap_or_default(),
            ),
        ],
    }
}

fn short(d: &Digest) -> String {
    d.as_str().chars().take("sha256:".len() + 12).collect()
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_reports_without_secrets() {
        let raw = RawInputs::from_named([
            ("image", "team/api"),
            ("registry", "127.0.0.1:5000"),
            ("registry-username", "ci"),
            ("registry-password", "hunter2"),
        ]);
        let cfg = ImageConfig::try_from(&raw).unwrap();
        let registry = cfg.registry.clone().unwrap();
        let d = Digest::of(b"manifest");
        let id = Digest::of(b"config");
        let refs = vec![
            "127.0.0.1:5000/team/api:v1".to_owned(),
            "127.0.0.1:5000/team/api:latest".to_owned(),
        ];
        let used = AuthUsed::Password {
            username: "ci".into(),
        };
        let o = outcome(&Report {
            cfg: &cfg,
            registry: &registry,
            refs: &refs,
            digest: Some(&d),
            image_id: Some(&id),
            size: Some((1_572_864, 1)),
            builder: "docker build",
            build_time: Duration::from_millis(1234),
            push_time: Some(Duration::from_millis(250)),
            auth: &used,
        });
        assert_eq!(o.verdict, Verdict::Pass);
        assert_eq!(o.outputs[0], ("digest".to_owned(), d.to_string()));
        assert_eq!(o.outputs[1].1, format!("127.0.0.1:5000/team/api@{d}"));
        assert_eq!(
            o.outputs[2].1,
            "127.0.0.1:5000/team/api:v1\n127.0.0.1:5000/team/api:latest"
        );
        let all = format!("{}{}{}{:?}", o.title, o.summary, o.text, o.outputs);
        assert!(!all.contains("hunter2"));
        let redacted = o
            .summary
            .replace(d.as_str(), "<digest>")
            .replace(id.as_str(), "<id>");
        insta::assert_snapshot!(redacted, @r"
        | | |
        |---|---|
        | Image | `127.0.0.1:5000/team/api` |
        | Digest | `<digest>` |
        | Size | 1.5 MiB (compressed) |
        | Build | 1.2 s (docker build) |
        | Push | 0.2 s |
        | Auth | `registry-username`/`registry-password` (user `ci`) |
        | Image id | `<id>` |
        ");
        let not_pushed = outcome(&Report {
            digest: None,
            size: None,
            push_time: None,
            ..Report {
                cfg: &cfg,
                registry: &registry,
                refs: &refs,
                digest: None,
                image_id: Some(&id),
                size: None,
                builder: "docker build",
                build_time: Duration::ZERO,
                push_time: None,
                auth: &used,
            }
        });
        assert_eq!(
            not_pushed.title,
            "Built 127.0.0.1:5000/team/api (not pushed)"
        );
        assert_eq!(not_pushed.outputs[0].1, "");
        assert_eq!(not_pushed.outputs[1].1, "");
    }

    #[test]
    fn an_absent_engine_is_named_whatever_the_client_says() {
        for line in [
            "Cannot connect to the Docker daemon at unix:///nonexistent. Is the docker daemon running?",
            "failed to dial gRPC: cannot connect to the Docker daemon. Is 'docker daemon' running on this host?",
            "error during connect: Get \"http://10.0.0.1:2375/_ping\": dial tcp: i/o timeout",
        ] {
            let out = Streamed {
                success: false,
                status: "exit status: 1".into(),
                lines: vec!["#1 [internal] load build definition".into(), line.into()],
            };
            assert!(
                matches!(build_error(out), Error::DaemonUnreachable { .. }),
                "{line}"
            );
        }
        let out = Streamed {
            success: false,
            status: "exit status: 1".into(),
            lines: (0..40).map(|i| format!("line {i}")).collect(),
        };
        let msg = build_error(out).to_string();
        assert!(
            msg.starts_with("docker build failed (exit status: 1); last output:\nline 25\n"),
            "{msg}"
        );
        assert!(
            msg.ends_with("line 39") && !msg.contains("line 24"),
            "{msg}"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
