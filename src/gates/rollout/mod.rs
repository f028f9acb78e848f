//! Rollout gate: point Kubernetes workloads at a new image, wait with `kubectl rollout
//! status` rules, explain failures, roll back on request.
//!
//! This file is the only part of the gate that does I/O: it builds the kube client (and
//! the EKS token), reads and patches workloads, watches them, reads pods, events and logs,
//! and runs the smoke command. Every decision is made by the pure modules: [`config`]
//! (inputs), [`status`] (is it done), [`explain`] (why not), [`undo`] (what to restore),
//! [`eks`] (the token), [`report`] (what people read).
//!
//! Order of work, so that an error never leaves an unexplained half-applied state: read
//! and check every workload first (unknown workload, RBAC, container, strategy: exit 2
//! before anything changed), then patch them one by one (an error names what was already
//! patched), then wait for all of them at once.

pub mod config;
pub mod eks;
pub mod explain;
pub mod report;
pub mod status;
pub mod undo;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::PathBuf;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use self::config::{
    KubeconfigSource, RolloutConfig, Workload, WorkloadKind, choose_container, format_duration,
};
use self::explain::Explanation;
use self::report::{RollbackReport, SmokeReport, Status, WorkloadReport};
use self::status::{Progress, RolloutObject, RolloutState};
use crate::gates::Context;
use crate::outcome::Outcome;
use crate::runner::inputs::{InputError, RawInputs};
use crate::secret::mask_values;
use crate::spec::{InputSpec, OutputSpec};

/// The rollout gate's inputs.
pub const INPUTS: &[InputSpec] = &[
    InputSpec::new("kubeconfig", "Kubeconfig content (plain YAML or base64).").secret(),
    InputSpec::new("kubeconfig-path", "Path of a kubeconfig file."),
    InputSpec::new("context", "Kubeconfig context to use."),
    InputSpec::new("eks-cluster", "EKS cluster name: build the EKS token from the AWS credential chain."),
    InputSpec::new("aws-region", "AWS region of the EKS cluster."),
    InputSpec::new("workloads", "Workloads, one per line: `deployment/api`, `statefulset/db`, `daemonset/agent`, or `namespace/kind/name`.").multiline(),
    InputSpec::new("namespace", "Namespace for workloads given without one.").default("default"),
    InputSpec::new("image", "Full image reference to roll out (the image gate's `image-ref` output fits)."),
    InputSpec::new("container", "Container to update (default: the only one, or the one named like the workload)."),
    InputSpec::new("timeout", "How long to wait for each rollout, e.g. `5m`, `90s`.").default("5m"),
    InputSpec::new("rollback-on-failure", "Restore the previous revision when the rollout fails.").default("false"),
    InputSpec::new("smoke-command", "Command to run once every workload is ready; non-zero exit fails the gate."),
];

/// The rollout gate's outputs.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "revision",
        description: "New revision of the (first) workload.",
    },
    OutputSpec {
        name: "previous-image",
        description: "Image the (first) workload ran before.",
    },
    OutputSpec {
        name: "rolled-back",
        description: "`true` when a failed rollout was rolled back.",
    },
    OutputSpec {
        name: "results",
        description: "JSON: per workload status, durations and reason.",
    },
];

/// Field manager recorded on our patches (`kubectl set image` uses `kubectl-set`).
pub const FIELD_MANAGER: &str = "rust-ci-action";
/// The annotation `kubectl rollout history` shows as CHANGE-CAUSE.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// The rollout gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The kubeconfig could not be loaded.
    #[error("could not load the kubeconfig from {from}: {message}")]
    Kubeconfig {
        /// Which source (`the kubeconfig input`, a path, ...).
        from: String,
        /// What was wrong (never the content).
        message: String,
    },
    /// No source of cluster access applied.
    #[error(
        "no cluster access: give the `kubeconfig` or `kubeconfig-path` input, set KUBECONFIG or provide ~/.kube/config ({kubeconfig}), or run inside a cluster ({in_cluster})"
    )]
    NoClusterAccess {
        /// Why the default kubeconfig could not be used.
        kubeconfig: String,
        /// Why the in-cluster config could not be used.
        in_cluster: String,
    },
    /// The kube client could not be built.
    #[error("could not build the Kubernetes client: {0}")]
    Client(String),
    /// The EKS token could not be built.
    #[error("could not build the EKS token for cluster `{cluster}`: {message}")]
    Eks {
        /// Cluster name.
        cluster: String,
        /// What went wrong.
        message: String,
    },
    /// The API server did not answer.
    #[error("cannot reach the Kubernetes API at {url}: {message}{applied}")]
    Unreachable {
        /// Cluster URL.
        url: String,
        /// The connection error.
        message: String,
        /// What was already patched, if anything.
        applied: String,
    },
    /// The API server refused our credentials.
    #[error("the Kubernetes API at {url} rejected the credentials (401): {message}{applied}")]
    Unauthorized {
        /// Cluster URL.
        url: String,
        /// The server's message.
        message: String,
        /// What was already patched.
        applied: String,
    },
    /// The workload does not exist.
    #[error("{kind} \"{name}\" not found in namespace \"{namespace}\"")]
    NotFound {
        /// Kind.
        kind: WorkloadKind,
        /// Name.
        name: String,
        /// Namespace.
        namespace: String,
    },
    /// RBAC denied a request.
    #[error("forbidden to {action} {workload}: {message}{applied}")]
    Forbidden {
        /// `get`, `patch`, `watch`, ...
        action: String,
        /// The workload.
        workload: String,
        /// The API server's message (names the missing permission).
        message: String,
        /// What was already patched.
        applied: String,
    },
    /// The container input names no container of the template.
    #[error("{workload}: no container named `{wanted}` (containers: {names})")]
    ContainerNotFound {
        /// The workload.
        workload: String,
        /// What was asked for.
        wanted: String,
        /// The containers there are.
        names: String,
    },
    /// The template has no containers.
    #[error("{workload}: the pod template has no containers")]
    NoContainers {
        /// The workload.
        workload: String,
    },
    /// Several containers and none chosen.
    #[error(
        "{workload} has several containers ({names}) and none is named like it: choose one with the `container` input"
    )]
    ContainerAmbiguous {
        /// The workload.
        workload: String,
        /// The containers there are.
        names: String,
    },
    /// OnDelete (kubectl cannot follow it either).
    #[error(
        "{workload}: {message}; it uses the OnDelete update strategy, which a rollout cannot wait for"
    )]
    Unsupported {
        /// The workload.
        workload: String,
        /// kubectl's message.
        message: String,
    },
    /// Any other API failure.
    #[error("could not {action} {workload}: {message}{applied}")]
    Api {
        /// What we tried.
        action: String,
        /// The workload.
        workload: String,
        /// The API server's message.
        message: String,
        /// What was already patched.
        applied: String,
    },
    /// The smoke command could not be started.
    #[error("could not start the smoke command `{command}`: {message}{applied}")]
    Smoke {
        /// The command.
        command: String,
        /// The spawn error.
        message: String,
        /// What was patched (and is still in place).
        applied: String,
    },
}

/// A kube error reduced to what a person needs, without kube's repetitions.
#[derive(Debug, Clone)]
struct ApiFailure {
    code: Option<u16>,
    message: String,
    connection: bool,
}

fn api_failure(e: &kube::Error) -> ApiFailure {
    match e {
        kube::Error::Api(s) => ApiFailure {
            code: Some(s.code),
            message: if s.message.is_empty() {
                format!("{} ({})", s.reason, s.code)
            } else {
                s.message.clone()
            },
            connection: false,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            // The innermost causes say what happened (`Connection refused`); kube's own
            // wrappers only repeat them.
            let mut parts: Vec<String> = Vec::new();
            let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
            while let Some(c) = cur {
                let s = c.to_string();
                if !parts.iter().any(|p| p.contains(&s)) {
                    parts.push(s);
                }
                cur = c.source();
            }
            let message = parts.last().cloned().unwrap_or_else(|| e.to_string());
            ApiFailure {
                code: None,
                message,
                connection: true,
            }
        }
        other => ApiFailure {
            code: None,
            message: other.to_string(),
            connection: false,
        },
    }
}

/// What was changed before an error, so that nothing half-applied goes unexplained.
#[derive(Debug, Clone, Default)]
struct Applied(Vec<String>);

impl Applied {
    fn suffix(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!(
                "; already patched before this error (still in place): {}",
                self.0.join(", ")
            )
        }
    }
}

/// The shared cluster handle.
struct Cluster {
    client: Client,
    url: String,
    /// Keeps the EKS token file and its refresher alive for the gate's lifetime.
    _eks: Option<EksRefresher>,
}

impl Cluster {
    fn error(&self, action: &str, w: &Workload, e: &kube::Error, applied: &Applied) -> Error {
        let f = api_failure(e);
        match f.code {
            Some(404) if action == "get" => Error::NotFound {
                kind: w.kind,
                name: w.name.clone(),
                namespace: w.namespace.clone(),
            },
            Some(403) => Error::Forbidden {
                action: action.to_owned(),
                workload: w.to_string(),
                message: f.message,
                applied: applied.suffix(),
            },
            Some(401) => Error::Unauthorized {
                url: self.url.clone(),
                message: f.message,
                applied: applied.suffix(),
            },
            _ if f.connection => Error::Unreachable {
                url: self.url.clone(),
                message: f.message,
                applied: applied.suffix(),
            },
            _ => Error::Api {
                action: action.to_owned(),
                workload: w.to_string(),
                message: f.message,
                applied: applied.suffix(),
            },
        }
    }
}

/// Writes a fresh EKS token to a 0600 file that kube re-reads at least once a minute
/// (`token_file` in the kubeconfig user), so waits longer than the token's 15 minutes keep
/// working. The file lives in a private temp dir removed on drop.
struct EksRefresher {
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for EksRefresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn eks_credentials(
    region: Option<&str>,
) -> Result<(aws_credential_types::Credentials, String), String> {
    use aws_credential_types::provider::ProvideCredentials;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    let sdk = loader.load().await;
    let region = sdk
        .region()
        .map(ToString::to_string)
        .ok_or("no AWS region: give the `aws-region` input or set AWS_REGION")?;
    let provider = sdk
        .credentials_provider()
        .ok_or("no AWS credential provider is configured")?;
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| crate::report::github::error_chain(&e))?;
    Ok((creds, region))
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("new");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

async fn start_eks(
    target: &config::EksTarget,
    ctx: &Context,
) -> Result<(EksRefresher, PathBuf), Error> {
    let fail = |message: String| Error::Eks {
        cluster: target.cluster.clone(),
        message,
    };
    let (creds, region) = eks_credentials(target.region.as_deref())
        .await
        .map_err(fail)?;
    let tok = eks::token(
        &target.cluster,
        &region,
        &creds,
        std::time::SystemTime::now(),
    )
    .map_err(|e| fail(crate::report::github::error_chain(&e)))?;
    ctx.commands.add_mask(tok.token.expose());
    let dir = tempfile::Builder::new()
        .prefix("rust-ci-action-eks")
        .tempdir()
        .map_err(|e| fail(e.to_string()))?;
    let path = dir.path().join("token");
    write_private(&path, tok.token.expose()).map_err(|e| fail(e.to_string()))?;
    let (cluster, commands, file) = (target.cluster.clone(), ctx.commands.clone(), path.clone());
    let region_in = target.region.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(eks::REFRESH_EVERY).await;
            let fresh = match eks_credentials(region_in.as_deref()).await {
                Ok((c, r)) => eks::token(&cluster, &r, &c, std::time::SystemTime::now())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match fresh {
                Ok(t) => {
                    commands.add_mask(t.token.expose());
                    if let Err(e) = write_private(&file, t.token.expose()) {
                        tracing::warn!("could not refresh the EKS token file: {e}");
                    } else {
                        tracing::debug!("refreshed the EKS token");
                    }
                }
                Err(e) => tracing::warn!("could not refresh the EKS token: {e}"),
            }
        }
    });
    Ok((EksRefresher { task, _dir: dir }, path))
}

fn kubeconfig_message(e: &KubeconfigError) -> String {
    match e {
        // The parser's message can quote the document, which may hold credentials.
        KubeconfigError::Parse(_) => "not a valid kubeconfig YAML document".to_owned(),
        other => crate::report::github::error_chain(other),
    }
}

/// Register the kubeconfig's credentials as masks before anything could log them.
///
/// The `kubeconfig` input as a whole is masked by `app` (it is a secret input), but when it
/// is base64 the decoded tokens are different strings, and a `kubeconfig-path` file is not
/// an input at all. Only credential values are masked: masking every line would also hide
/// harmless text such as `namespace: default` everywhere in the log.
fn mask_credentials(kc: &Kubeconfig, ctx: &Context) {
    const SECRET_KEYS: &[&str] = &[
        "token",
        "password",
        "client-key-data",
        "id-token",
        "refresh-token",
        "access-token",
        "client-secret",
    ];
    fn walk(v: &serde_json::Value, secret: bool, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if secret && !s.is_empty() => out.push(s.clone()),
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    walk(child, secret || SECRET_KEYS.contains(&k.as_str()), out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|c| walk(c, secret, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for user in &kc.auth_infos {
        if let Some(info) = &user.auth_info {
            let value = serde_json::to_value(info).unwrap_or_default();
            walk(&value, false, &mut found);
            // `exec` environment values and `auth-provider` config often hold secrets too
            // (but not the command name: masking `aws` would blank it all over the log).
            for env in value
                .pointer("/exec/env")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(
                    env.get("value").unwrap_or(&serde_json::Value::Null),
                    true,
                    &mut found,
                );
            }
            if let Some(config) = value.pointer("/auth-provider/config") {
                walk(config, true, &mut found);
            }
        }
    }
    // Very short values would blank common words; real credentials are long.
    for m in found
        .iter()
        .filter(|s| s.len() >= 6)
        .flat_map(|s| mask_values(s))
    {
        ctx.commands.add_mask(&m);
    }
}

async fn load_config(cfg: &RolloutConfig, ctx: &Context) -> Result<kube::Config, Error> {
    let opts = KubeConfigOptions {
        context: cfg.context.clone(),
        cluster: None,
        user: None,
    };
    let from_file = |from: String, kc: Result<Kubeconfig, KubeconfigError>| {
        kc.map_err(|e| Error::Kubeconfig {
            from,
            message: kubeconfig_message(&e),
        })
    };
    match &cfg.kubeconfig {
        KubeconfigSource::Inline(text) => {
            let from = "the `kubeconfig` input".to_owned();
            let kc = from_file(from.clone(), Kubeconfig::from_yaml(text.expose()))?;
            mask_credentials(&kc, ctx);
            kube::Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| Error::Kubeconfig {
                    from,
                    message: kubeconfig_message(&e),
                })
        }
        KubeconfigSource::Path(p) => {
            let path = if p.is_absolute() {
                p.clone()
            } else {
                ctx.workspace.join(p)
            };
            let from = format!("`{}`", path.display());
            let kc = from_file(from.clone(), Kubeconfig::read_from(&path))?;
            mask_credentials(&kc, ctx);
            kube::Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| Error::Kubeconfig {
                    from,
                    message: kubeconfig_message(&e),
                })
        }
        KubeconfigSource::Default => match kube::Config::from_kubeconfig(&opts).await {
            Ok(c) => Ok(c),
            // Nothing found at KUBECONFIG or ~/.kube/config: try the service account.
            Err(e @ (KubeconfigError::FindPath | KubeconfigError::ReadConfig(..)))
                if cfg.context.is_none() =>
            {
                kube::Config::incluster().map_err(|ie| Error::NoClusterAccess {
                    kubeconfig: kubeconfig_message(&e),
                    in_cluster: crate::report::github::error_chain(&ie),
                })
            }
            Err(e) => Err(Error::Kubeconfig {
                from: "KUBECONFIG or ~/.kube/config".into(),
                message: kubeconfig_message(&e),
            }),
        },
    }
}

async fn connect(cfg: &RolloutConfig, ctx: &Context) -> Result<Cluster, Error> {
    let mut config = load_config(cfg, ctx).await?;
    let mut refresher = None;
    if let Some(target) = &cfg.eks {
        let (r, path) = start_eks(target, ctx).await?;
        // Our token replaces whatever the kubeconfig user had (typically an `exec` of the
        // aws CLI, which need not exist on the runner).
        config.auth_info = kube::config::AuthInfo {
            token_file: Some(path.display().to_string()),
            ..Default::default()
        };
        refresher = Some(r);
    }
    let url = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_owned();
    let client = Client::try_from(config).map_err(|e| Error::Client(api_failure(&e).message))?;
    Ok(Cluster {
        client,
        url,
        _eks: refresher,
    })
}

/// A workload kind the gate can drive.
trait Workloadish:
    RolloutObject
    + Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
}
impl<T> Workloadish for T where
    T: RolloutObject
        + Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug
        + Send
        + Sync
        + 'static
{
}

/// What preflight learned about one workload.
#[derive(Debug, Clone)]
struct Prepared {
    workload: Workload,
    container: String,
    previous_image: String,
    generation: i64,
}

fn container_names<K: Workloadish>(obj: &K) -> Vec<(String, Option<String>)> {
    obj.template()
        .and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone()))
                .collect()
        })
        .unwrap_or_default()
}

async fn preflight<K: Workloadish>(
    cluster: &Cluster,
    w: &Workload,
    cfg: &RolloutConfig,
) -> Result<Prepared, Error> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &w.namespace);
    let obj = api
        .get(&w.name)
        .await
        .map_err(|e| cluster.error("get", w, &e, &Applied::default()))?;
    if let Some(message) = obj.unsupported_strategy() {
        return Err(Error::Unsupported {
            workload: w.to_string(),
            message,
        });
    }
    let containers = container_names(&obj);
    let names: Vec<String> = containers.iter().map(|(n, _)| n.clone()).collect();
    let container =
        choose_container(&names, cfg.container.as_deref(), &w.name).map_err(|c| match c {
            config::ContainerChoice::NotFound { wanted, .. } if wanted.is_empty() => {
                Error::NoContainers {
                    workload: w.to_string(),
                }
            }
            config::ContainerChoice::NotFound { wanted, names } => Error::ContainerNotFound {
                workload: w.to_string(),
                wanted,
                names: names.join(", "),
            },
            config::ContainerChoice::Ambiguous { names } => Error::ContainerAmbiguous {
                workload: w.to_string(),
                names: names.join(", "),
            },
        })?;
    let previous_image = containers
        .iter()
        .find(|(n, _)| *n == container)
        .and_then(|(_, i)| i.clone())
        .unwrap_or_default();
    Ok(Prepared {
        workload: w.clone(),
        container,
        previous_image,
        generation: obj.generation(),
    })
}

/// The strategic merge patch `kubectl set image` sends (containers merge by `name`), plus
/// the change-cause annotation.
fn image_patch(container: &str, image: &str, cause: &str) -> serde_json::Value {
    json!({
        "metadata": {"annotations": {CHANGE_CAUSE: cause}},
        "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}
    })
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}

/// Patch the image; returns the generation the API server assigned.
async fn set_image<K: Workloadish>(
    cluster: &Cluster,
    p: &Prepared,
    image: &str,
    cause: &str,
    applied: &Applied,
) -> Result<i64, Error> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &p.workload.namespace);
    let patch = image_patch(&p.container, image, cause);
    let obj = api
        .patch(&p.workload.name, &patch_params(), &Patch::Strategic(&patch))
        .await
        .map_err(|e| cluster.error("patch", &p.workload, &e, applied))?;
    Ok(obj.generation())
}

/// How a wait ended.
enum WaitEnd<K> {
    /// kubectl would exit (complete, or failed on its own terms).
    Settled(RolloutState, K),
    /// The timeout ran out first.
    TimedOut(Option<K>),
    /// The object went away.
    Deleted,
}

/// What a wait saw.
struct Waited<K> {
    end: WaitEnd<K>,
    last_message: String,
    progression: Vec<Progress>,
    observed_after: Option<Duration>,
    finished_at: Option<jiff::Timestamp>,
}

fn fatal_watch_error(e: &watcher::Error) -> Option<&kube::Error> {
    let inner = match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => k,
        _ => return None,
    };
    match inner {
        kube::Error::Api(s) if matches!(s.code, 401 | 403 | 404) => Some(inner),
        _ => None,
    }
}

fn watch_error_text(e: &watcher::Error) -> String {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => api_failure(k).message,
        watcher::Error::WatchError(s) => format!("{} ({})", s.message, s.code),
        other => other.to_string(),
    }
}

/// Watch one object until kubectl's rules settle, the object is deleted, or `deadline`.
///
/// Driven by `kube::runtime::watcher` with `default_backoff`: a dropped connection resumes
/// from the last resourceVersion, a `410 Gone` relists, transient errors back off. No
/// polling: a status change is evaluated the moment its event arrives. RBAC and auth errors
/// end the wait at once (retrying cannot fix them); other errors are retried until the
/// deadline, and if the watch is still failing then, the cluster was lost.
async fn wait_for<K: Workloadish>(
    cluster: &Cluster,
    w: &Workload,
    min_generation: i64,
    started: Instant,
    deadline: tokio::time::Instant,
    applied: &Applied,
) -> Result<Waited<K>, Error> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &w.namespace);
    let cfg = watcher::Config::default().fields(&format!("metadata.name={}", w.name));
    let mut stream = pin!(watcher(api, cfg).default_backoff());
    let mut waited = Waited {
        end: WaitEnd::Deleted,
        last_message: String::new(),
        progression: Vec::new(),
        observed_after: None,
        finished_at: None,
    };
    let mut last: Option<K> = None;
    let mut failing: Option<String> = None;
    let mut seen_in_listing = false;
    loop {
        let next = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(n) => n,
            Err(_) => {
                if let Some(message) = failing {
                    return Err(Error::Unreachable {
                        url: cluster.url.clone(),
                        message: format!(
                            "the watch on {w} kept failing until the timeout: {message}"
                        ),
                        applied: applied.suffix(),
                    });
                }
                waited.end = WaitEnd::TimedOut(last);
                return Ok(waited);
            }
        };
        let obj = match next {
            None => {
                // The watcher never ends on its own; treat an end like a lost cluster.
                return Err(Error::Unreachable {
                    url: cluster.url.clone(),
                    message: format!("the watch on {w} ended"),
                    applied: applied.suffix(),
                });
            }
            Some(Err(e)) => {
                if let Some(k) = fatal_watch_error(&e) {
                    return Err(cluster.error("watch", w, k, applied));
                }
                let text = watch_error_text(&e);
                tracing::debug!("{w}: watch interrupted, resuming: {text}");
                failing = Some(text);
                continue;
            }
            Some(Ok(watcher::Event::Init)) => {
                seen_in_listing = false;
                continue;
            }
            Some(Ok(watcher::Event::InitDone)) => {
                failing = None;
                if !seen_in_listing {
                    waited.end = WaitEnd::Deleted;
                    waited.last_message = format!("{} was deleted during the rollout", w.short());
                    return Ok(waited);
                }
                continue;
            }
            Some(Ok(watcher::Event::Delete(_))) => {
                waited.end = WaitEnd::Deleted;
                waited.last_message = format!("{} was deleted during the rollout", w.short());
                return Ok(waited);
            }
            Some(Ok(watcher::Event::InitApply(o))) => {
                seen_in_listing = true;
                o
            }
            Some(Ok(watcher::Event::Apply(o))) => o,
        };
        failing = None;
        if waited.observed_after.is_none() && obj.observed_generation() >= min_generation {
            waited.observed_after = Some(started.elapsed());
        }
        // Counts from before the controller saw our change describe the old rollout.
        let progress = obj.progress();
        if obj.observed_generation() >= min_generation
            && waited.progression.last() != Some(&progress)
        {
            waited.progression.push(progress);
        }
        let state = status::evaluate(&obj, min_generation);
        if state.message() != waited.last_message {
            tracing::info!("{w}: {}", state.message());
            waited.last_message = state.message().to_owned();
        }
        match state {
            RolloutState::Progressing(_) => last = Some(obj),
            settled => {
                waited.finished_at = Some(jiff::Timestamp::now());
                waited.end = WaitEnd::Settled(settled, obj);
                return Ok(waited);
            }
        }
    }
}

/// Read what explains a failure. Read errors do not turn a failed rollout into a tool
/// error: they become gaps in the explanation.
async fn explain_failure(
    cluster: &Cluster,
    w: &Workload,
    obj: Option<&Obj>,
    verdict: &str,
) -> Explanation {
    let client = &cluster.client;
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), &w.namespace);
    let mut gaps = Vec::new();
    let Some(obj) = obj else {
        let mut e = Explanation {
            verdict: verdict.to_owned(),
            ..Explanation::default()
        };
        e.gaps.push(format!("{} could not be read", w.short()));
        return e;
    };
    let selector = obj.selector();
    let lp = match &selector {
        Some(s) => ListParams::default().labels(s),
        None => ListParams::default(),
    };
    let all_pods = match pods_api.list(&lp).await {
        Ok(l) => l.items,
        Err(e) => {
            gaps.push(format!("could not list pods: {}", api_failure(&e).message));
            Vec::new()
        }
    };
    let mut replicasets: Vec<ReplicaSet> = Vec::new();
    // Events of the workload, its new ReplicaSet and the new revision's pods: the old
    // ones' start-up events are noise here.
    let mut event_objects: BTreeSet<(String, String)> = BTreeSet::new();
    event_objects.insert((obj.kind_name().to_owned(), w.name.clone()));
    let (new_pods, rs_refs): (Vec<&Pod>, Vec<ReplicaSet>) = match obj {
        Obj::Deployment(d) => {
            let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), &w.namespace);
            match rs_api.list(&lp).await {
                Ok(l) => replicasets = l.items,
                Err(e) => gaps.push(format!(
                    "could not list ReplicaSets: {}",
                    api_failure(&e).message
                )),
            }
            let owned: Vec<ReplicaSet> = explain::owned_replicasets(d, &replicasets)
                .into_iter()
                .cloned()
                .collect();
            let new_rs = explain::new_replicaset(d, &replicasets);
            if let Some(rs) = new_rs {
                event_objects.insert((
                    "ReplicaSet".into(),
                    rs.metadata.name.clone().unwrap_or_default(),
                ));
            }
            let pods =
                explain::pods_owned_by(new_rs.and_then(|rs| rs.metadata.uid.as_deref()), &all_pods);
            (pods, owned)
        }
        Obj::StatefulSet(s) => {
            let rev = s.status.as_ref().and_then(|st| st.update_revision.clone());
            (
                explain::pods_at_revision(s.metadata.uid.as_deref(), rev.as_deref(), &all_pods),
                Vec::new(),
            )
        }
        Obj::DaemonSet(d) => {
            let rev =
                newest_revision_name(client, &w.namespace, d.metadata.uid.as_deref(), &lp).await;
            (
                explain::pods_at_revision(d.metadata.uid.as_deref(), rev.as_deref(), &all_pods),
                Vec::new(),
            )
        }
    };
    for p in &new_pods {
        event_objects.insert(("Pod".into(), p.metadata.name.clone().unwrap_or_default()));
    }
    let events_api: Api<Event> = Api::namespaced(client.clone(), &w.namespace);
    let events = match events_api.list(&ListParams::default().limit(1000)).await {
        Ok(l) => l.items,
        Err(e) => {
            gaps.push(format!(
                "could not list events: {}",
                api_failure(&e).message
            ));
            Vec::new()
        }
    };
    let relevant = explain::relevant_events(&events, &event_objects, explain::MAX_EVENTS);
    let log = match explain::log_target(&new_pods) {
        Some(t) => {
            let params = LogParams {
                container: Some(t.container.clone()),
                previous: t.previous,
                tail_lines: Some(explain::LOG_LINES as i64),
                limit_bytes: Some(explain::LOG_BYTES as i64),
                ..LogParams::default()
            };
            match pods_api.logs(&t.pod, &params).await {
                Ok(text) => Some((
                    t,
                    explain::tail_log(&text, explain::LOG_LINES, explain::LOG_BYTES),
                )),
                Err(e) => {
                    gaps.push(format!(
                        "could not read the log of {}/{}: {}",
                        t.pod,
                        t.container,
                        api_failure(&e).message
                    ));
                    None
                }
            }
        }
        None => None,
    };
    let rs_list: Vec<&ReplicaSet> = rs_refs.iter().collect();
    let mut e = explain::explain(verdict, &new_pods, &rs_list, &relevant, log);
    e.gaps = gaps;
    e
}

async fn owned_revisions(
    client: &Client,
    namespace: &str,
    uid: Option<&str>,
    lp: &ListParams,
) -> Result<Vec<ControllerRevision>, kube::Error> {
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), namespace);
    let items = api.list(lp).await?.items;
    Ok(items
        .into_iter()
        .filter(|cr| {
            cr.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| Some(o.uid.as_str()) == uid && o.controller == Some(true))
        })
        .collect())
}

async fn newest_revision_name(
    client: &Client,
    namespace: &str,
    uid: Option<&str>,
    lp: &ListParams,
) -> Option<String> {
    let revs = owned_revisions(client, namespace, uid, lp).await.ok()?;
    revs.into_iter()
        .max_by_key(|cr| cr.revision)
        .and_then(|cr| cr.metadata.name)
}

/// The workload, whatever its kind.
#[derive(Debug, Clone)]
enum Obj {
    /// A Deployment.
    Deployment(Deployment),
    /// A StatefulSet.
    StatefulSet(StatefulSet),
    /// A DaemonSet.
    DaemonSet(DaemonSet),
}

impl Obj {
    fn kind_name(&self) -> &'static str {
        match self {
            Obj::Deployment(_) => "Deployment",
            Obj::StatefulSet(_) => "StatefulSet",
            Obj::DaemonSet(_) => "DaemonSet",
        }
    }
    fn selector(&self) -> Option<String> {
        let sel = match self {
            Obj::Deployment(d) => d.spec.as_ref().map(|s| &s.selector),
            Obj::StatefulSet(s) => s.spec.as_ref().map(|s| &s.selector),
            Obj::DaemonSet(d) => d.spec.as_ref().map(|s| &s.selector),
        };
        sel.and_then(explain::selector_query)
    }
}

/// Wraps a typed workload into [`Obj`] (for the kind-specific reads after a wait).
trait IntoObj {
    /// The wrapped object.
    fn into_obj(self) -> Obj;
}
impl IntoObj for Deployment {
    fn into_obj(self) -> Obj {
        Obj::Deployment(self)
    }
}
impl IntoObj for StatefulSet {
    fn into_obj(self) -> Obj {
        Obj::StatefulSet(self)
    }
}
impl IntoObj for DaemonSet {
    fn into_obj(self) -> Obj {
        Obj::DaemonSet(self)
    }
}

/// The revision a workload is at: the Deployment's revision annotation, else the number of
/// the StatefulSet's update revision or the DaemonSet's newest ControllerRevision.
async fn revision_of(client: &Client, w: &Workload, obj: &Obj) -> Option<String> {
    match obj {
        Obj::Deployment(d) => d
            .metadata
            .annotations
            .as_ref()?
            .get(explain::REVISION_ANNOTATION)
            .cloned(),
        Obj::StatefulSet(s) => {
            let lp = obj
                .selector()
                .map(|sel| ListParams::default().labels(&sel))
                .unwrap_or_default();
            let revs = owned_revisions(client, &w.namespace, s.metadata.uid.as_deref(), &lp)
                .await
                .ok()?;
            let update = s.status.as_ref().and_then(|st| st.update_revision.clone());
            let named = revs
                .iter()
                .find(|cr| cr.metadata.name == update)
                .map(|cr| cr.revision);
            named
                .or_else(|| revs.iter().map(|cr| cr.revision).max())
                .map(|r| r.to_string())
        }
        Obj::DaemonSet(d) => {
            let lp = obj
                .selector()
                .map(|sel| ListParams::default().labels(&sel))
                .unwrap_or_default();
            let revs = owned_revisions(client, &w.namespace, d.metadata.uid.as_deref(), &lp)
                .await
                .ok()?;
            revs.iter()
                .map(|cr| cr.revision)
                .max()
                .map(|r| r.to_string())
        }
    }
}

/// Everything one workload's rollout needs besides the cluster.
struct Job<'a> {
    prepared: &'a Prepared,
    image: &'a str,
    patched: bool,
    min_generation: i64,
    started: Instant,
    timeout: Duration,
    applied: &'a Applied,
}

async fn follow<K: Workloadish + IntoObj>(
    cluster: &Cluster,
    job: Job<'_>,
) -> Result<(WorkloadReport, Option<Obj>), Error> {
    let w = &job.prepared.workload;
    let deadline = tokio::time::Instant::from_std(job.started + job.timeout);
    let waited = wait_for::<K>(
        cluster,
        w,
        job.min_generation,
        job.started,
        deadline,
        job.applied,
    )
    .await?;
    let duration = job.started.elapsed();
    let (status, message, obj) = match waited.end {
        WaitEnd::Settled(RolloutState::Complete(m), o) => (
            if job.patched {
                Status::Complete
            } else {
                Status::Unchanged
            },
            m,
            Some(o.into_obj()),
        ),
        WaitEnd::Settled(RolloutState::Failed(m), o) => (Status::Failed, m, Some(o.into_obj())),
        WaitEnd::Settled(RolloutState::Progressing(m), o) => {
            (Status::TimedOut, m, Some(o.into_obj()))
        }
        WaitEnd::TimedOut(o) => {
            let last = if waited.last_message.is_empty() {
                "no status seen".to_owned()
            } else {
                waited.last_message.clone()
            };
            (
                Status::TimedOut,
                format!(
                    "timed out after {} waiting for the rollout: {last}",
                    format_duration(job.timeout)
                ),
                o.map(IntoObj::into_obj),
            )
        }
        WaitEnd::Deleted => (Status::Failed, waited.last_message.clone(), None),
    };
    let revision = match &obj {
        Some(o) => revision_of(&cluster.client, w, o).await,
        None => None,
    };
    let explanation = if status.ok() {
        None
    } else {
        tracing::warn!("{w}: {message}");
        Some(explain_failure(cluster, w, obj.as_ref(), &message).await)
    };
    Ok((
        WorkloadReport {
            workload: w.clone(),
            container: job.prepared.container.clone(),
            image: job.image.to_owned(),
            previous_image: job.prepared.previous_image.clone(),
            patched: job.patched,
            status,
            message,
            revision,
            progression: waited.progression,
            observed_after: waited.observed_after,
            duration,
            finished_at: waited.finished_at,
            explanation,
            rollback: None,
        },
        obj,
    ))
}

/// `kubectl rollout undo` for one workload, then wait for the restored template.
async fn roll_back(
    cluster: &Cluster,
    p: &Prepared,
    obj: Option<&Obj>,
    timeout: Duration,
) -> RollbackReport {
    let started = Instant::now();
    let w = &p.workload;
    let fail = |message: String| RollbackReport {
        to_revision: None,
        ok: false,
        message,
        duration: started.elapsed(),
    };
    // Read the workload again: the controller has moved on since the last event.
    let fresh = match w.kind {
        WorkloadKind::Deployment => {
            Api::<Deployment>::namespaced(cluster.client.clone(), &w.namespace)
                .get(&w.name)
                .await
                .map(Obj::Deployment)
        }
        WorkloadKind::StatefulSet => {
            Api::<StatefulSet>::namespaced(cluster.client.clone(), &w.namespace)
                .get(&w.name)
                .await
                .map(Obj::StatefulSet)
        }
        WorkloadKind::DaemonSet => {
            Api::<DaemonSet>::namespaced(cluster.client.clone(), &w.namespace)
                .get(&w.name)
                .await
                .map(Obj::DaemonSet)
        }
    };
    let current = match (fresh, obj) {
        (Ok(o), _) => o,
        (Err(e), _) => {
            return fail(format!(
                "could not read {}: {}",
                w.short(),
                api_failure(&e).message
            ));
        }
    };
    let lp = current
        .selector()
        .map(|s| ListParams::default().labels(&s))
        .unwrap_or_default();
    let plan = match &current {
        Obj::Deployment(d) => {
            match Api::<ReplicaSet>::namespaced(cluster.client.clone(), &w.namespace)
                .list(&lp)
                .await
            {
                Ok(l) => undo::deployment_undo(d, &l.items),
                Err(e) => {
                    return fail(format!(
                        "could not list ReplicaSets: {}",
                        api_failure(&e).message
                    ));
                }
            }
        }
        Obj::StatefulSet(s) => match owned_revisions(
            &cluster.client,
            &w.namespace,
            s.metadata.uid.as_deref(),
            &lp,
        )
        .await
        {
            Ok(revs) => undo::revision_undo(
                &format!("statefulset \"{}\"", w.name),
                s.metadata.uid.as_deref(),
                &s.spec.clone().unwrap_or_default().template,
                &revs,
            ),
            Err(e) => {
                return fail(format!(
                    "could not list ControllerRevisions: {}",
                    api_failure(&e).message
                ));
            }
        },
        Obj::DaemonSet(d) => match owned_revisions(
            &cluster.client,
            &w.namespace,
            d.metadata.uid.as_deref(),
            &lp,
        )
        .await
        {
            Ok(revs) => undo::revision_undo(
                &format!("daemon set \"{}\"", w.name),
                d.metadata.uid.as_deref(),
                &d.spec.clone().unwrap_or_default().template,
                &revs,
            ),
            Err(e) => {
                return fail(format!(
                    "could not list ControllerRevisions: {}",
                    api_failure(&e).message
                ));
            }
        },
    };
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return fail(e.to_string()),
    };
    tracing::info!(
        "{w}: rolling back to revision {} ({})",
        plan.to_revision,
        plan.images.join(", ")
    );
    // `Patch::Json` holds a `json_patch::Patch`; the type comes from the variant.
    let patch: Patch<()> = match serde_json::from_value(plan.patch.clone()) {
        Ok(p) => Patch::Json(p),
        Err(e) => return fail(format!("internal error building the rollback patch: {e}")),
    };
    let generation = match w.kind {
        WorkloadKind::Deployment => patch_json::<Deployment>(cluster, w, &patch).await,
        WorkloadKind::StatefulSet => patch_json::<StatefulSet>(cluster, w, &patch).await,
        WorkloadKind::DaemonSet => patch_json::<DaemonSet>(cluster, w, &patch).await,
    };
    let generation = match generation {
        Ok(g) => g,
        Err(m) => {
            let mut r = fail(format!("could not patch {}: {m}", w.short()));
            r.to_revision = Some(plan.to_revision);
            return r;
        }
    };
    let wait_started = Instant::now();
    let deadline = tokio::time::Instant::from_std(wait_started + timeout);
    let none = Applied::default();
    let waited = match w.kind {
        WorkloadKind::Deployment => {
            wait_for::<Deployment>(cluster, w, generation, wait_started, deadline, &none)
                .await
                .map(|x| (x.end_message(), x.last_message))
        }
        WorkloadKind::StatefulSet => {
            wait_for::<StatefulSet>(cluster, w, generation, wait_started, deadline, &none)
                .await
                .map(|x| (x.end_message(), x.last_message))
        }
        WorkloadKind::DaemonSet => {
            wait_for::<DaemonSet>(cluster, w, generation, wait_started, deadline, &none)
                .await
                .map(|x| (x.end_message(), x.last_message))
        }
    };
    let (ok, message) = match waited {
        Ok((Some(true), m)) => (true, m),
        Ok((Some(false), m)) => (false, m),
        Ok((None, m)) => {
            let mut message = format!(
                "timed out after {} waiting for the rollback: {m}",
                format_duration(timeout)
            );
            // A StatefulSet waits for a pod of the broken revision to become ready before it
            // replaces it, so reverting the template alone can leave it stuck; Kubernetes
            // documents deleting those pods by hand.
            if w.kind == WorkloadKind::StatefulSet {
                message.push_str("; a StatefulSet keeps pods of the broken revision until they are deleted (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#forced-rollback)");
            }
            (false, message)
        }
        Err(e) => (false, e.to_string()),
    };
    RollbackReport {
        to_revision: Some(plan.to_revision),
        ok,
        message,
        duration: started.elapsed(),
    }
}

impl<K> Waited<K> {
    /// `Some(true)` complete, `Some(false)` failed or deleted, `None` timed out.
    fn end_message(&self) -> Option<bool> {
        match &self.end {
            WaitEnd::Settled(RolloutState::Complete(_), _) => Some(true),
            WaitEnd::Settled(..) | WaitEnd::Deleted => Some(false),
            WaitEnd::TimedOut(_) => None,
        }
    }
}

async fn patch_json<K: Workloadish>(
    cluster: &Cluster,
    w: &Workload,
    patch: &Patch<()>,
) -> Result<i64, String> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &w.namespace);
    api.patch(&w.name, &patch_params(), patch)
        .await
        .map(|o| o.generation())
        .map_err(|e| api_failure(&e).message)
}

/// Run the smoke command with `sh -c` in the workspace, bounded by `timeout`.
async fn smoke(command: &str, ctx: &Context, timeout: Duration) -> Result<SmokeReport, String> {
    let started = Instant::now();
    tracing::info!("running the smoke command: {command}");
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(&ctx.workspace)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let (passed, detail, output) =
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Err(_) => (
                false,
                format!("timed out after {}", format_duration(timeout)),
                String::new(),
            ),
            Ok(Err(e)) => (
                false,
                format!("could not be waited for: {e}"),
                String::new(),
            ),
            Ok(Ok(out)) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                match out.status.code() {
                    Some(0) => (true, "exited with 0".to_owned(), text),
                    Some(c) => (false, format!("exited with {c}"), text),
                    None => (false, "was killed by a signal".to_owned(), text),
                }
            }
        };
    Ok(SmokeReport {
        command: command.to_owned(),
        passed,
        detail,
        output_tail: explain::tail_log(&output, explain::LOG_LINES, explain::LOG_BYTES),
        duration: started.elapsed(),
    })
}

/// Run the rollout gate.
pub async fn run(raw: &RawInputs, ctx: &Context) -> Result<Outcome, Error> {
    let cfg = RolloutConfig::try_from(raw)?;
    let cluster = connect(&cfg, ctx).await?;
    tracing::info!(
        "cluster {}: rolling out {} to {}",
        cluster.url,
        cfg.image,
        cfg.workloads
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 1. Read and check everything before changing anything.
    let mut prepared = Vec::with_capacity(cfg.workloads.len());
    for w in &cfg.workloads {
        let p = match w.kind {
            WorkloadKind::Deployment => preflight::<Deployment>(&cluster, w, &cfg).await?,
            WorkloadKind::StatefulSet => preflight::<StatefulSet>(&cluster, w, &cfg).await?,
            WorkloadKind::DaemonSet => preflight::<DaemonSet>(&cluster, w, &cfg).await?,
        };
        prepared.push(p);
    }

    // 2. Patch, one by one, remembering what changed.
    let image = cfg.image.as_str();
    let cause = ctx
        .env
        .run_url()
        .unwrap_or_else(|| format!("rust-ci-action: set image to {image}"));
    let mut applied = Applied::default();
    let mut jobs: Vec<(bool, i64, Instant)> = Vec::with_capacity(prepared.len());
    for p in &prepared {
        let started = Instant::now();
        if p.previous_image == image {
            tracing::info!(
                "{}: container `{}` already runs {image}; checking that it is healthy",
                p.workload,
                p.container
            );
            jobs.push((false, p.generation, started));
            continue;
        }
        let generation = match p.workload.kind {
            WorkloadKind::Deployment => {
                set_image::<Deployment>(&cluster, p, image, &cause, &applied).await?
            }
            WorkloadKind::StatefulSet => {
                set_image::<StatefulSet>(&cluster, p, image, &cause, &applied).await?
            }
            WorkloadKind::DaemonSet => {
                set_image::<DaemonSet>(&cluster, p, image, &cause, &applied).await?
            }
        };
        tracing::info!(
            "{}: container `{}` {} → {image} (generation {generation})",
            p.workload,
            p.container,
            p.previous_image
        );
        applied.0.push(format!(
            "{} container `{}` {} → {image}",
            p.workload, p.container, p.previous_image
        ));
        jobs.push((true, generation, started));
    }

    // 3. Wait for all of them at once.
    let waits = prepared
        .iter()
        .zip(&jobs)
        .map(|(p, (patched, min_generation, started))| {
            let job = Job {
                prepared: p,
                image,
                patched: *patched,
                min_generation: *min_generation,
                started: *started,
                timeout: cfg.timeout.get(),
                applied: &applied,
            };
            let cluster = &cluster;
            async move {
                match p.workload.kind {
                    WorkloadKind::Deployment => follow::<Deployment>(cluster, job).await,
                    WorkloadKind::StatefulSet => follow::<StatefulSet>(cluster, job).await,
                    WorkloadKind::DaemonSet => follow::<DaemonSet>(cluster, job).await,
                }
            }
        });
    let finished = futures::future::join_all(waits).await;
    let mut reports = Vec::with_capacity(finished.len());
    let mut objects = Vec::with_capacity(finished.len());
    for f in finished {
        let (r, o) = f?;
        reports.push(r);
        objects.push(o);
    }

    // 4. Smoke test once everything is ready.
    let all_ready = reports.iter().all(|r| r.status.ok());
    let smoke_report =
        match (&cfg.smoke_command, all_ready) {
            (Some(cmd), true) => Some(smoke(cmd, ctx, cfg.timeout.get()).await.map_err(
                |message| Error::Smoke {
                    command: cmd.clone(),
                    message,
                    applied: applied.suffix(),
                },
            )?),
            _ => None,
        };
    let failed = !all_ready || smoke_report.as_ref().is_some_and(|s| !s.passed);

    // 5. Roll back what we changed when asked.
    if failed && cfg.rollback_on_failure {
        let undos = prepared
            .iter()
            .zip(&reports)
            .zip(&objects)
            .map(|((p, r), o)| {
                let cluster = &cluster;
                let timeout = cfg.timeout.get();
                async move {
                    if r.patched {
                        Some(roll_back(cluster, p, o.as_ref(), timeout).await)
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
    Ok(report::outcome(image, &reports, smoke_report.as_ref()))
}
