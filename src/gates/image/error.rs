//! Why the image gate could not do its job: every variant is a tool error (exit 2,
//! `result=error`, one `::error` line). Messages are lower-case and do not repeat their
//! source; [`Error::title`] and [`Error::help`] give the check run's title and what to do.

use std::path::PathBuf;

use super::auth::AuthError;
use super::registry;
use crate::oci::Digest;
use crate::runner::inputs::InputError;

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
    /// Every `tags` line was left out for this run.
    #[error(
        "input `tags`: no line applies to this run (each has a placeholder without a value here, or `@default-branch` on another branch)"
    )]
    NoTagApplies,
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
    /// `builder: buildah` without buildah.
    #[error(
        "buildah is not installed (no `buildah` on PATH); on Debian and Ubuntu: `apt-get install buildah`"
    )]
    BuildahMissing,
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
    /// The build failed, and not because of the change (see `output::broken_by_the_change`):
    /// a base image that cannot be pulled, the disk, the builder itself.
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
    /// The tag exists with another image and the registry refuses to overwrite it.
    #[error(
        "{reference} already holds {existing} and the registry does not overwrite tags; this build is a different image (config {built}): push it under a new tag, or remove the old one"
    )]
    TagExists {
        /// Full reference.
        reference: String,
        /// The manifest digest the tag holds.
        existing: Digest,
        /// This build's image id (config digest), or `unknown`.
        built: String,
    },
    /// The registry refused the push because the tag exists (and could not be read before).
    #[error(
        "{reference}: the registry refused to overwrite an existing tag; push under a new tag, or remove the old one"
    )]
    TagRefused {
        /// Full reference.
        reference: String,
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
    /// A `secret-files` entry that cannot be used.
    #[error("input `secret-files`: secret `{id}`: {} {why}", path.display())]
    SecretFile {
        /// The secret's id.
        id: String,
        /// The path as given.
        path: PathBuf,
        /// Why it cannot be used.
        why: &'static str,
    },
    /// The task making the registry client did not finish.
    #[error("could not create the HTTP client: {0}")]
    HttpTask(String),
    /// A registry client could not be built.
    #[error("could not create the HTTP client")]
    Http(#[source] reqwest::Error),
}

impl Error {
    /// A few words for the check run's title and the summary's lead.
    pub fn title(&self) -> &'static str {
        match self {
            Error::Input(_)
            | Error::NoTags
            | Error::NoTagApplies
            | Error::NoRegistry
            | Error::NoRegion
            | Error::SecretFile { .. } => "Bad input",
            Error::ContextMissing(_) | Error::DockerfileMissing(_) => {
                "The build context or Dockerfile is missing"
            }
            Error::DockerMissing | Error::BuildahMissing | Error::BuildxMissing { .. } => {
                "The build tool is not installed"
            }
            Error::DaemonUnreachable { .. } => "The Docker daemon is not reachable",
            Error::Spawn { .. } => "A build tool could not be started",
            Error::DockerConfig(_) => "The private registry configuration could not be written",
            Error::Build { .. } => "The build could not run",
            Error::Push { .. } => "The push failed",
            Error::TagExists { .. } | Error::TagRefused { .. } => {
                "The tag exists and the registry keeps it"
            }
            Error::NoDigest { .. } | Error::DigestMismatch { .. } => {
                "The pushed image could not be verified"
            }
            Error::Registry(registry::Error::AuthRefused { .. })
            | Error::Registry(registry::Error::AuthRequired { .. })
            | Error::Auth(_) => "The registry credentials were refused",
            Error::Registry(_) => "The registry could not be used",
            Error::SecretNotFound { .. } | Error::SecretNotString { .. } => {
                "The registry credentials could not be read from AWS Secrets Manager"
            }
            Error::EcrAccessDenied { .. } => "Amazon ECR denied access",
            Error::Aws { .. } => "An AWS call failed",
            Error::Oidc { .. } => "The workflow's OIDC token could not be had",
            Error::HttpTask(_) | Error::Http(_) => "The HTTP client could not be created",
        }
    }

    /// What the user can do about it, where there is something to say.
    pub fn help(&self) -> Option<&'static str> {
        Some(match self {
            Error::Input(_)
            | Error::NoTags
            | Error::NoTagApplies
            | Error::NoRegistry
            | Error::NoRegion
            | Error::SecretFile { .. } => {
                "Check the step's `with:` inputs against the image action's README."
            }
            Error::ContextMissing(_) | Error::DockerfileMissing(_) => {
                "Check out the repository before this step (`actions/checkout`), and set `context` and `dockerfile` relative to the workspace."
            }
            Error::DockerMissing | Error::DaemonUnreachable { .. } => {
                "Run on a runner with Docker (GitHub-hosted Ubuntu runners have it), or set `builder: buildah` (or `auto`) where there is no daemon."
            }
            Error::BuildahMissing => {
                "Install buildah in the job (`sudo apt-get install -y buildah`), or use `builder: docker` on a runner with a daemon."
            }
            Error::BuildxMissing { .. } => {
                "Add `docker/setup-buildx-action` before this step, or use `builder: docker`."
            }
            Error::TagExists { .. } | Error::TagRefused { .. } => {
                "Push under a new tag (the default `sha-<short sha>` changes with each commit), or remove the old tag from the registry."
            }
            Error::Registry(registry::Error::AuthRefused { .. })
            | Error::Registry(registry::Error::AuthRequired { .. })
            | Error::Auth(_)
            | Error::SecretNotFound { .. }
            | Error::SecretNotString { .. } => {
                "Check `registry-username`/`registry-password`, or the AWS Secrets Manager secret named in `registry-secret` (a JSON object with `username` and `password`)."
            }
            Error::EcrAccessDenied { .. } => {
                "Give the role the ECR push permissions (ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage)."
            }
            Error::Oidc { .. } => {
                "Give the job `permissions: id-token: write` so it can request an OIDC token for `aws-role-arn`."
            }
            _ => return None,
        })
    }
}
