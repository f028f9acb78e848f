//! Why the rollout gate could not do its job: [`Error`], one variant per thing that can
//! go wrong, each keeping its cause as its `source` (a Kubernetes API error as an
//! [`ApiError`], from `api_error.rs`); and [`Changes`], what the gate had already patched
//! when it failed, rendered once, at the end of the message.
//!
//! Pure: error values in, error values out. Messages are lower-case, name the workload or
//! the cluster, and never quote a kubeconfig.

use std::fmt;

use kube::config::KubeconfigError;

pub(super) use super::api_error::ApiError;
use super::eks::EksError;
use super::eks_api::DescribeError;
use super::names::Workload;
use crate::error::error_chain;
use crate::runner::inputs::InputError;

/// A boxed error from an SDK whose error type is large or generic.
pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The rollout gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The kubeconfig could not be loaded.
    #[error("could not load the kubeconfig from {from}")]
    Kubeconfig {
        /// Which source (`the kubeconfig input`, a path, ...).
        from: String,
        /// What was wrong (never the content).
        #[source]
        source: KubeconfigProblem,
    },
    /// No source of cluster access applied.
    #[error(
        "no cluster access: give the `kubeconfig` or `kubeconfig-path` input, set KUBECONFIG or provide ~/.kube/config ({}), or run inside a cluster ({})",
        error_chain(.kubeconfig),
        error_chain(.in_cluster.as_ref())
    )]
    NoClusterAccess {
        /// Why the default kubeconfig could not be used.
        kubeconfig: KubeconfigProblem,
        /// Why the in-cluster config could not be used.
        in_cluster: BoxError,
    },
    /// The kube client could not be built.
    #[error("could not build the Kubernetes client")]
    Client {
        /// Why.
        #[source]
        source: ApiError,
    },
    /// The EKS token could not be built.
    #[error("could not build the EKS token for cluster `{cluster}`")]
    Eks {
        /// Cluster name.
        cluster: String,
        /// What went wrong.
        #[source]
        source: EksProblem,
    },
    /// `DescribeCluster` could not say where the EKS cluster is.
    #[error("could not read EKS cluster `{cluster}` with DescribeCluster")]
    EksCluster {
        /// Cluster name.
        cluster: String,
        /// What went wrong.
        #[source]
        source: DescribeError,
    },
    /// The API server did not answer.
    #[error("cannot reach the Kubernetes API at {url}")]
    Unreachable {
        /// Cluster URL.
        url: String,
        /// The connection error.
        #[source]
        source: ApiError,
    },
    /// The API server refused our credentials.
    #[error("the Kubernetes API at {url} rejected the credentials (401)")]
    Unauthorized {
        /// Cluster URL.
        url: String,
        /// The server's answer.
        #[source]
        source: ApiError,
    },
    /// The workload does not exist. (The server's 404 message only repeats this.)
    #[error(
        "{} \"{}\" not found in namespace \"{}\"",
        .workload.kind, .workload.name, .workload.namespace
    )]
    NotFound {
        /// The workload.
        workload: Workload,
    },
    /// RBAC denied a request.
    #[error("forbidden to {action} {workload}")]
    Forbidden {
        /// What we tried.
        action: Action,
        /// The workload.
        workload: Workload,
        /// The server's answer (it names the missing permission).
        #[source]
        source: ApiError,
    },
    /// The container input names no container of the template.
    #[error("{workload}: no container named `{wanted}` (containers: {})", .names.join(", "))]
    ContainerNotFound {
        /// The workload.
        workload: Workload,
        /// What was asked for.
        wanted: String,
        /// The containers there are.
        names: Vec<String>,
    },
    /// The template has no containers.
    #[error("{workload}: the pod template has no containers")]
    NoContainers {
        /// The workload.
        workload: Workload,
    },
    /// Several containers and none chosen.
    #[error(
        "{workload} has several containers ({}) and none is named like it: choose one with the `container` input",
        .names.join(", ")
    )]
    ContainerAmbiguous {
        /// The workload.
        workload: Workload,
        /// The containers there are.
        names: Vec<String>,
    },
    /// OnDelete (kubectl cannot follow it either).
    #[error(
        "{workload}: {message}; it uses the OnDelete update strategy, which a rollout cannot wait for"
    )]
    Unsupported {
        /// The workload.
        workload: Workload,
        /// kubectl's message.
        message: String,
    },
    /// Any other API failure.
    #[error("could not {action} {workload}")]
    Api {
        /// What we tried.
        action: Action,
        /// The workload.
        workload: Workload,
        /// The server's answer.
        #[source]
        source: ApiError,
    },
    /// The watch kept failing (connection lost, server errors) until the deadline.
    #[error(
        "cannot reach the Kubernetes API at {url}: the watch on {workload} kept failing until the timeout"
    )]
    WatchFailing {
        /// Cluster URL.
        url: String,
        /// The workload.
        workload: Workload,
        /// The last failure.
        #[source]
        last: ApiError,
    },
    /// The watch stream ended, which kube's watcher never does while the server is there.
    #[error("cannot reach the Kubernetes API at {url}: the watch on {workload} ended")]
    WatchEnded {
        /// Cluster URL.
        url: String,
        /// The workload.
        workload: Workload,
    },
    /// The smoke command could not be started.
    #[error("could not start the smoke command `{command}`")]
    Smoke {
        /// The command.
        command: String,
        /// The spawn error.
        #[source]
        source: std::io::Error,
    },
    /// An error after the gate had patched workloads, which stay patched.
    ///
    /// The list of changes has to come last in the one line a person reads, after the
    /// cause and all its sources, so this variant's message carries the inner error's
    /// chain itself; the inner error is still its `source`.
    #[error("{}{changes}", error_chain(.error.as_ref()))]
    AfterChanges {
        /// What went wrong.
        #[source]
        error: Box<Error>,
        /// What had been patched (never empty).
        changes: Changes,
    },
    /// The error, after the GitHub deployment was recorded (marked `error` there): its id
    /// is still the step's `deployment-id` output.
    #[error("{}", error_chain(.error.as_ref()))]
    Recorded {
        /// What went wrong.
        #[source]
        error: Box<Error>,
        /// The GitHub deployment.
        deployment_id: u64,
    },
}

/// What the gate asked the API server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the workload.
    Get,
    /// Patch the workload.
    Patch,
    /// List and watch the workload.
    Watch,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Get => "get",
            Action::Patch => "patch",
            Action::Watch => "watch",
        })
    }
}

impl Error {
    /// What went wrong, in a few words (the check run's title).
    pub fn title(&self) -> &'static str {
        match self {
            Error::Input(_) => "Bad input",
            Error::Kubeconfig { .. } => "The kubeconfig could not be loaded",
            Error::NoClusterAccess { .. } => "No cluster to talk to",
            Error::Client { .. } => "The Kubernetes client could not be built",
            Error::Eks { .. } => "No EKS token",
            Error::EksCluster { .. } => "EKS cluster not readable",
            Error::Unreachable { .. } | Error::WatchEnded { .. } => {
                "The Kubernetes API cannot be reached"
            }
            Error::Unauthorized { .. } => "The cluster rejected the credentials",
            Error::NotFound { .. } => "Workload not found",
            Error::Forbidden { .. } => "Not allowed by the cluster",
            Error::ContainerNotFound { .. }
            | Error::NoContainers { .. }
            | Error::ContainerAmbiguous { .. } => "No container to update",
            Error::Unsupported { .. } => "Workload cannot be rolled out",
            Error::Api { .. } => "The Kubernetes API failed",
            Error::WatchFailing { .. } => "The rollout could not be watched",
            Error::Smoke { .. } => "The smoke command could not start",
            Error::AfterChanges { error, .. } | Error::Recorded { error, .. } => error.title(),
        }
    }

    /// What the user can do about it, where there is something to say.
    pub fn help(&self) -> Option<&'static str> {
        Some(match self {
            Error::Forbidden { .. } => {
                "Grant the identity `get`, `patch` and `watch` on the workload (and `list` on pods, events and ReplicaSets to explain failures)."
            }
            Error::Unauthorized { .. } => {
                "Check that the kubeconfig's credentials (or the AWS role for `eks-cluster`) are current."
            }
            Error::ContainerAmbiguous { .. } => "Name the container with the `container` input.",
            Error::AfterChanges { error, .. } | Error::Recorded { error, .. } => {
                return error.help();
            }
            _ => return None,
        })
    }

    /// The error for a failed request about `workload`: 404 on a read is
    /// [`Error::NotFound`], 403 [`Error::Forbidden`], 401 [`Error::Unauthorized`], no answer
    /// [`Error::Unreachable`], anything else [`Error::Api`].
    pub fn from_api(url: &str, action: Action, workload: &Workload, source: ApiError) -> Self {
        match source.code() {
            Some(404) if action == Action::Get => Error::NotFound {
                workload: workload.clone(),
            },
            Some(403) => Error::Forbidden {
                action,
                workload: workload.clone(),
                source,
            },
            Some(401) => Error::Unauthorized {
                url: url.to_owned(),
                source,
            },
            _ if source.is_connection() => Error::Unreachable {
                url: url.to_owned(),
                source,
            },
            _ => Error::Api {
                action,
                workload: workload.clone(),
                source,
            },
        }
    }
}

/// Why a kubeconfig could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigProblem {
    /// The YAML parser's message can quote the document, which may hold credentials, so
    /// neither it nor the parser's error is kept.
    #[error("not a valid kubeconfig YAML document")]
    NotYaml,
    /// Anything else (no such file, unknown context, bad certificate data, ...).
    #[error(transparent)]
    Other(Box<KubeconfigError>),
}

impl From<KubeconfigError> for KubeconfigProblem {
    fn from(e: KubeconfigError) -> Self {
        match e {
            KubeconfigError::Parse(_) => KubeconfigProblem::NotYaml,
            other => KubeconfigProblem::Other(Box::new(other)),
        }
    }
}

/// Why the EKS token could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EksProblem {
    /// No region from the input or the AWS chain.
    #[error("no AWS region: give the `aws-region` input or set AWS_REGION")]
    NoRegion,
    /// The AWS config has no credential provider.
    #[error("no AWS credential provider is configured")]
    NoCredentialProvider,
    /// The provider could not produce credentials.
    #[error(transparent)]
    Credentials(BoxError),
    /// Signing the token failed.
    #[error(transparent)]
    Token(#[from] EksError),
    /// The private token file could not be written.
    #[error(transparent)]
    TokenFile(#[from] std::io::Error),
}

/// One workload patched by the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The workload.
    pub workload: Workload,
    /// The container whose image changed.
    pub container: String,
    /// Its image before.
    pub from: String,
    /// Its image now.
    pub to: String,
    /// What a rollback after the error did: `Some(Ok(()))` restored, `Some(Err(why))` not,
    /// `None` not attempted (`rollback-on-failure` off).
    pub undone: Option<Result<(), String>>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} container `{}` {} → {}",
            self.workload, self.container, self.from, self.to
        )
    }
}

/// What the gate changed so far, so that an error never leaves a half-applied rollout
/// unexplained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes(Vec<Change>);

impl Changes {
    /// Note a patch.
    pub fn push(&mut self, change: Change) {
        self.0.push(change);
    }

    /// The changes, in order.
    pub fn all(&self) -> &[Change] {
        &self.0
    }

    /// Note what the rollback of `workload` after an error did.
    pub fn undone(&mut self, workload: &Workload, result: Result<(), String>) {
        if let Some(c) = self.0.iter_mut().find(|c| &c.workload == workload) {
            c.undone = Some(result);
        }
    }

    /// `e`, said to have happened after these changes (unchanged when there are none).
    pub fn wrap(&self, e: Error) -> Error {
        if self.0.is_empty() {
            e
        } else {
            Error::AfterChanges {
                error: Box::new(e),
                changes: self.clone(),
            }
        }
    }
}

impl fmt::Display for Changes {
    /// `; already patched before this error (still in place): a, b`, or, once rolled back,
    /// `; patched before this error, then rolled back: a (restored), b (rollback failed:
    /// why)` (nothing when empty).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        let rolled_back = self.0.iter().any(|c| c.undone.is_some());
        f.write_str(if rolled_back {
            "; patched before this error, then rolled back: "
        } else {
            "; already patched before this error (still in place): "
        })?;
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{c}")?;
            match (&c.undone, rolled_back) {
                (Some(Ok(())), _) => f.write_str(" (restored)")?,
                (Some(Err(why)), _) => write!(f, " (rollback failed: {why})")?,
                (None, true) => f.write_str(" (still in place)")?,
                (None, false) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use kube::config::Kubeconfig;

    use super::*;

    fn api(code: u16, message: &str) -> ApiError {
        ApiError::from_kube(kube::Error::Api(Box::new(
            kube::core::Status::failure(message, "Reason").with_code(code),
        )))
    }

    fn deploy(name: &str) -> Workload {
        Workload::parse(&format!("deployment/{name}"), "default").unwrap()
    }

    #[test]
    fn request_errors_are_classified_by_status() {
        let url = "https://k8s.example.com";
        let w = deploy("api");
        let text = |e: Error| error_chain(&e);
        assert_eq!(
            text(Error::from_api(
                url,
                Action::Get,
                &w,
                api(404, "deployments.apps \"api\" not found")
            )),
            "deployment \"api\" not found in namespace \"default\"",
            "a 404 on the read names the workload once"
        );
        assert!(matches!(
            Error::from_api(url, Action::Patch, &w, api(404, "gone")),
            Error::Api { .. }
        ));
        assert_eq!(
            text(Error::from_api(
                url,
                Action::Patch,
                &w,
                api(403, "cannot patch")
            )),
            "forbidden to patch default/deployment/api: cannot patch"
        );
        assert_eq!(
            text(Error::from_api(
                url,
                Action::Watch,
                &w,
                api(401, "Unauthorized")
            )),
            "the Kubernetes API at https://k8s.example.com rejected the credentials (401): Unauthorized"
        );
        assert_eq!(
            text(Error::from_api(url, Action::Get, &w, api(500, ""))),
            "could not get default/deployment/api: Reason (500)",
            "an empty message falls back to reason and code"
        );
    }

    #[test]
    fn changes_are_said_once_after_the_whole_cause() {
        let mut changes = Changes::default();
        let plain = changes.wrap(Error::WatchEnded {
            url: "http://k".into(),
            workload: deploy("api"),
        });
        assert!(
            matches!(plain, Error::WatchEnded { .. }),
            "nothing changed: nothing to add"
        );
        for name in ["api", "web"] {
            changes.push(Change {
                workload: deploy(name),
                container: name.into(),
                from: format!("example.com/{name}:1"),
                to: "example.com/app:2".into(),
                undone: None,
            });
        }
        let e = changes.wrap(Error::from_api(
            "http://k",
            Action::Watch,
            &deploy("web"),
            api(403, "cannot list"),
        ));
        assert_eq!(
            error_chain(&e),
            "forbidden to watch default/deployment/web: cannot list; already patched before this error (still in place): default/deployment/api container `api` example.com/api:1 → example.com/app:2, default/deployment/web container `web` example.com/web:1 → example.com/app:2"
        );
        let Error::AfterChanges { error, changes: c } = &e else {
            panic!("{e:?}")
        };
        assert!(
            matches!(**error, Error::Forbidden { .. }),
            "the cause is kept as the source"
        );
        assert_eq!(c.all().len(), 2);

        changes.undone(&deploy("api"), Ok(()));
        changes.undone(&deploy("web"), Err("timed out after 1s".into()));
        let e = changes.wrap(Error::WatchEnded {
            url: "http://k".into(),
            workload: deploy("web"),
        });
        assert!(
            error_chain(&e).ends_with("; patched before this error, then rolled back: default/deployment/api container `api` example.com/api:1 → example.com/app:2 (restored), default/deployment/web container `web` example.com/web:1 → example.com/app:2 (rollback failed: timed out after 1s)"),
            "{}",
            error_chain(&e)
        );
    }

    #[test]
    fn a_kubeconfig_that_is_not_yaml_is_never_quoted() {
        let e = Kubeconfig::from_yaml("token: s3cr3t\n  - : [").unwrap_err();
        let problem = KubeconfigProblem::from(e);
        assert!(matches!(problem, KubeconfigProblem::NotYaml));
        let text = error_chain(&Error::Kubeconfig {
            from: "the `kubeconfig` input".into(),
            source: problem,
        });
        assert_eq!(
            text,
            "could not load the kubeconfig from the `kubeconfig` input: not a valid kubeconfig YAML document"
        );
    }
}
