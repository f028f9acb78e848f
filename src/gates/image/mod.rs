//! Image gate: build a container image, authenticate to a registry (username/password,
//! AWS Secrets Manager, Amazon ECR), push, and verify the digest against the registry.
//!
//! This file tells the story; the rooms beside it do one job each. Pure: `config` (typed
//! inputs), `build_options` (network, secrets, ssh), `host` (the registry), `metadata`
//! (the commit, tags, OCI labels), `plan` (what to run), `output` (reading what docker and
//! buildah print), `auth` (credential formats), `challenge` and `manifest` (registry
//! protocol), `render` (what people read). Input/output: `login` and `aws` (credentials),
//! `workdir` (the private temporary folder), `engine` (docker or buildah), `docker` and
//! `buildah` (the CLIs), `rerun` (what tags hold before a push), `git` (the commit's
//! time), `registry` and `verify` (the registry API).
//!
//! Verdict: the gate fails (`Verdict::Fail`, exit 1) when the change breaks the build: a
//! `RUN` step exits non-zero, a `COPY`/`ADD` source is missing from the context, the
//! Dockerfile does not parse (`output::broken_by_the_change` reads docker's last error
//! line). Every other problem (bad input, docker or its daemon missing, credentials refused,
//! a base image that cannot be pulled, a failed push, a digest the registry does not
//! confirm) is an `Err`, exit 2: the tool could not do its job. With `push: false` the
//! gate builds and passes; there is no digest to verify, so `digest` and `image-ref` are
//! empty.

mod auth;
mod aws;
mod build_options;
mod buildah;
mod challenge;
mod config;
mod docker;
mod engine;
mod error;
mod git;
mod host;
mod login;
mod manifest;
mod metadata;
mod output;
mod plan;
mod registry;
mod render;
mod rerun;
mod spec;
mod verify;
mod workdir;

use std::path::{Path, PathBuf};
use std::time::Instant;

use self::buildah::Buildah;
use self::config::ImageConfig;
use self::docker::{Build, Docker, Section};
use self::engine::Engine;
use self::metadata::RunInfo;
use self::plan::BuildRequest;
use self::registry::{Backoff, RegistryClient};
use self::workdir::WorkDir;
use crate::gates::Context;
use crate::oci::Tag;
use crate::outcome::Outcome;
use crate::runner::inputs::RawInputs;

pub use self::error::Error;
pub use self::spec::{INPUTS, OUTPUTS};

/// Run the image gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = ImageConfig::try_from(raw)?;
    login::mask_inputs(&cfg, &ctx.commands);
    let mut run_info = run_info(ctx);
    let tags = tags(&cfg, &run_info)?;
    let (context, dockerfile) = build_files(&cfg, &ctx.workspace)?;

    // Which builder, and who we are at the registry (which may talk to AWS), side by side.
    let mut docker = Docker::default();
    // The commit's time (for the `created` label) is read beside them.
    let (engine, login, commit_time) = tokio::join!(
        engine::choose(&docker, cfg.builder, &ctx.env),
        login::resolve(&cfg, ctx),
        git::commit_time(&ctx.workspace, run_info.revision().unwrap_or_default())
    );
    let (engine, login) = (engine?, login?);
    let use_buildx = engine == Engine::Buildx;
    if let Some(t) = commit_time {
        run_info.created = t.to_string();
    }
    tracing::info!("registry {}, auth: {}", login.registry, login.used);
    // The guard removes the folder (and the credentials in it) on every return path.
    let work = WorkDir::create(&ctx.env, &login.registry, login.creds.as_ref())
        .map_err(Error::DockerConfig)?;
    docker.use_config(work.config_dir());
    if cfg.options.needs_buildkit() {
        docker.require_buildkit();
    }
    let secrets = work.build_secrets(&cfg.options.secrets, &ctx.workspace)?;
    let ssh: Vec<String> = cfg.options.ssh.iter().map(|s| s.flag()).collect();
    // The HTTP client loads the system's CA roots (about 100 ms): made on a blocking thread
    // while the build starts, not before it (see scripts/bench-image.sh).
    let client = {
        let (registry, creds) = (login.registry.clone(), login.creds.clone());
        tokio::task::spawn_blocking(move || {
            RegistryClient::new(&registry, creds, Backoff::default())
        })
    };
    if !use_buildx && (!cfg.cache_from.is_empty() || !cfg.cache_to.is_empty()) {
        ctx.commands.warning(
            "cache-from/cache-to ignored",
            &format!(
                "`cache-from` and `cache-to` are buildx options; {} is used here",
                engine.name()
            ),
        );
    }

    let target = plan::target(&login.registry, &cfg.image);
    let repository = target.repository().as_str();
    let refs = plan::full_refs(&target, &tags);
    let labels = metadata::merge_labels(&metadata::oci_labels(&run_info), &cfg.labels);
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
        network: cfg.options.network.flag(),
        secrets: &secrets,
        ssh: &ssh,
        timestamp: commit_time.map(|t| t.as_second()),
    };

    // The credential check runs while the build does: a refusal ends the build (the child
    // is killed when its future is dropped) before anything is pushed, without making every
    // good run wait for the check first.
    // What the tags hold already (safe re-runs) is read after the check, also while the
    // build runs; buildx pushes during the build, so there is nothing to decide then.
    let auth_check = async {
        let client = client
            .await
            .map_err(|e| Error::HttpTask(e.to_string()))?
            .map_err(Error::Http)?;
        if cfg.push && login.creds.is_some() {
            client.check_auth(repository).await?;
        }
        let existing = if cfg.push && engine != Engine::Buildx {
            rerun::existing(&client, repository, &tags).await
        } else {
            Vec::new()
        };
        Ok::<_, Error>((client, existing))
    };
    let buildah = Buildah {
        authfile: work.config_dir().map(|d| d.join("config.json")),
        loopback: login.registry.is_loopback(),
        workdir: work.path().to_path_buf(),
    };
    let started = Instant::now();
    let build = async {
        let build = match engine {
            Engine::Buildah => buildah.build(&ctx.commands, &req).await?,
            _ => {
                docker
                    .build(&ctx.commands, &req, use_buildx, work.path())
                    .await?
            }
        };
        Ok::<_, Error>((build, started.elapsed()))
    };
    // `biased`: the build is polled first, so its log group always opens before a refusal
    // can end the join (the transcript does not depend on which finishes first).
    let ((build, build_time), (client, existing)) = tokio::try_join!(biased; build, auth_check)?;
    let builder = engine.name();
    let built = match build {
        Build::Built(built) => built,
        // The change broke the build: a result, the gate fails.
        Build::Broken(broken) => {
            return Ok(render::failed(&render::Failed {
                target: &target,
                registry: &login.registry,
                builder,
                build_time,
                status: &broken.status,
                reason: &broken.reason,
                tail: &broken.tail,
                auth: &login.used,
            }));
        }
    };

    // buildx pushed during the build (its time includes the push); the classic builder
    // pushes each tag now.
    let (pushed, push_time) = match (cfg.push, use_buildx) {
        (false, _) => (Vec::new(), None),
        (true, true) => (plan::pushed_by_buildx(built.buildx.as_ref(), &refs)?, None),
        (true, false) => {
            let push_started = Instant::now();
            let image_id = built.image_id.as_ref();
            let steps = rerun::plan(&existing, &refs, image_id, login.immutable_tags)?;
            let pusher = match engine {
                Engine::Buildah => rerun::Pusher::Buildah(&buildah),
                _ => rerun::Pusher::Docker(&docker),
            };
            let pushed = rerun::push(
                &pusher,
                &ctx.commands,
                &refs,
                &tags,
                &steps,
                &existing,
                image_id,
            )
            .await?;
            (pushed, Some(push_started.elapsed()))
        }
    };
    let verified = if cfg.push {
        let _section = Section::open(&ctx.commands, "verify digest");
        verify::verify(&client, repository, &pushed, &tags).await?
    } else {
        verify::Verified::default()
    };
    drop(work);

    Ok(render::outcome(&render::Report {
        target: &target,
        registry: &login.registry,
        refs: &refs,
        digest: verified.digest.as_ref(),
        image_id: built.image_id.as_ref(),
        size: verified.size,
        builder,
        build_time,
        push_time,
        auth: &login.used,
    }))
}

/// The tags given (templates filled from the run), or the defaults from the run; none at
/// all is an error.
fn tags(cfg: &ImageConfig, run: &RunInfo) -> Result<Vec<Tag>, Error> {
    if cfg.tags.is_empty() {
        let tags = metadata::default_tags(run);
        return if tags.is_empty() {
            Err(Error::NoTags)
        } else {
            Ok(tags)
        };
    }
    let tags = metadata::expand_tags(&cfg.tags, run);
    if tags.is_empty() {
        return Err(Error::NoTagApplies);
    }
    Ok(tags)
}

/// The build context and Dockerfile, resolved against the workspace; both must exist.
fn build_files(cfg: &ImageConfig, workspace: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let context = workspace.join(&cfg.context);
    if !context.is_dir() {
        return Err(Error::ContextMissing(context));
    }
    let dockerfile = cfg
        .dockerfile
        .as_ref()
        .map_or_else(|| context.join("Dockerfile"), |d| workspace.join(d));
    if !dockerfile.is_file() {
        return Err(Error::DockerfileMissing(dockerfile));
    }
    Ok((context, dockerfile))
}

/// The facts of the run that go into default tags and labels.
fn run_info(ctx: &Context) -> RunInfo {
    RunInfo {
        server_url: ctx.env.server_url.clone(),
        repository: ctx.env.repository.clone(),
        sha: ctx.env.sha.clone(),
        git_ref: ctx.env.git_ref.clone(),
        ref_type: ctx.env.ref_type.clone(),
        ref_name: ctx.env.ref_name.clone(),
        event_name: Some(ctx.event.name.clone()).filter(|n| !n.is_empty()),
        event_head_sha: ctx.event.head_sha.clone(),
        pr_number: ctx.event.pull_request.as_ref().map(|p| p.number),
        default_branch: ctx.event.default_branch.clone(),
        created: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    }
}
