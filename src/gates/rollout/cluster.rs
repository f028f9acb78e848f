//! Cluster access: the kubeconfig (the `kubeconfig` input, a `kubeconfig-path`, then
//! KUBECONFIG, `~/.kube/config` and the in-cluster service account), masking the
//! credentials in it before anything could log them, the EKS token and its refresher, and
//! the kube [`Client`] every other I/O file uses through [`Cluster`].
//!
//! Reads the kubeconfig file and the AWS credential chain, writes the private EKS token
//! file (with [`crate::private_file`]). Never logs a kubeconfig or a token; talks to no workload.

use std::path::PathBuf;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

use super::config::{EksTarget, KubeconfigSource, RolloutConfig, Target};
use super::error::{Action, ApiError, EksProblem, Error, KubeconfigProblem};
use super::names::Workload;
use super::{eks, eks_api};
use crate::error::error_chain;
use crate::gates::Context;
use crate::private_file::write_private;
use crate::secret::Secret;

/// The shared cluster handle.
pub(super) struct Cluster {
    /// The client, built once.
    pub client: Client,
    /// The API server's URL, for messages.
    pub url: String,
    /// Keeps the EKS token file and its refresher alive for the gate's lifetime.
    _eks: Option<EksRefresher>,
}

impl Cluster {
    /// The gate's error for a failed request about `w`.
    pub(super) fn error(&self, action: Action, w: &Workload, e: kube::Error) -> Error {
        Error::from_api(&self.url, action, w, ApiError::from_kube(e))
    }
}

/// Load the kubeconfig, add the EKS token when asked, and build the client.
pub(super) async fn connect(
    cfg: &RolloutConfig,
    t: &Target,
    ctx: &Context,
) -> Result<Cluster, Error> {
    // `eks-cluster` without a `kubeconfig`/`kubeconfig-path` input: EKS says where it is.
    let mut config = match (&cfg.kubeconfig, &t.eks) {
        (KubeconfigSource::Default, Some(eks)) => from_eks(eks).await?,
        _ => load_config(cfg, t, ctx).await?,
    };
    let mut refresher = None;
    if let Some(target) = &t.eks {
        let (r, path) = start_eks(target, ctx).await.map_err(|source| Error::Eks {
            cluster: target.cluster.clone(),
            source,
        })?;
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
    let client = Client::try_from(config).map_err(|e| Error::Client {
        source: ApiError::from_kube(e),
    })?;
    Ok(Cluster {
        client,
        url,
        _eks: refresher,
    })
}

/// The endpoint and CA from `DescribeCluster`, as a kube config (its user is set by the
/// caller: the EKS token file).
async fn from_eks(eks: &EksTarget) -> Result<kube::Config, Error> {
    let ep = eks_api::describe(eks)
        .await
        .map_err(|source| Error::EksCluster {
            cluster: eks.cluster.clone(),
            source,
        })?;
    tracing::info!("EKS cluster `{}`: API server {}", eks.cluster, ep.url);
    let from = format!("EKS cluster `{}`", eks.cluster);
    let kc = eks_api::kubeconfig(&eks.cluster, &ep).map_err(|e| Error::Kubeconfig {
        from: from.clone(),
        source: KubeconfigProblem::Other(Box::new(e)),
    })?;
    kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Kubeconfig {
            from,
            source: e.into(),
        })
}

async fn load_config(
    cfg: &RolloutConfig,
    t: &Target,
    ctx: &Context,
) -> Result<kube::Config, Error> {
    let opts = KubeConfigOptions {
        context: t.context.clone(),
        cluster: None,
        user: None,
    };
    let failed = |from: &str| {
        let from = from.to_owned();
        move |e: KubeconfigError| Error::Kubeconfig {
            from,
            source: e.into(),
        }
    };
    let (from, kc) = match &cfg.kubeconfig {
        KubeconfigSource::Inline(text) => {
            let from = "the `kubeconfig` input".to_owned();
            let kc = Kubeconfig::from_yaml(text.expose()).map_err(failed(&from))?;
            (from, kc)
        }
        KubeconfigSource::Path(p) => {
            let path = if p.is_absolute() {
                p.clone()
            } else {
                ctx.workspace.join(p)
            };
            let from = format!("`{}`", path.display());
            let kc = Kubeconfig::read_from(&path).map_err(failed(&from))?;
            (from, kc)
        }
        KubeconfigSource::Default => {
            return match kube::Config::from_kubeconfig(&opts).await {
                Ok(c) => Ok(c),
                // Nothing found at KUBECONFIG or ~/.kube/config: try the service account.
                Err(e @ (KubeconfigError::FindPath | KubeconfigError::ReadConfig(..)))
                    if t.context.is_none() =>
                {
                    kube::Config::incluster().map_err(|ie| Error::NoClusterAccess {
                        kubeconfig: e.into(),
                        in_cluster: Box::new(ie),
                    })
                }
                Err(e) => Err(failed("KUBECONFIG or ~/.kube/config")(e)),
            };
        }
    };
    for value in credential_values(&kc) {
        ctx.commands.add_mask(&value);
    }
    kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(failed(&from))
}

/// The credentials in a kubeconfig, to register as masks before anything could log them.
///
/// The `kubeconfig` input as a whole is masked by `app` (it is a secret input), but when it
/// is base64 the decoded tokens are different strings, and a `kubeconfig-path` file is not
/// an input at all. Only credential values are masked: masking every line would also hide
/// harmless text such as `namespace: default` everywhere in the log. Each value comes once;
/// values shorter than six characters are left out: they would blank common words, and real credentials are
/// long.
pub(super) fn credential_values(kc: &Kubeconfig) -> Vec<String> {
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
    let mut seen = std::collections::HashSet::new();
    found.retain(|s| s.len() >= 6 && seen.insert(s.clone()));
    found
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

async fn eks_token(cluster: &str, region: Option<&str>) -> Result<Secret<String>, EksProblem> {
    use aws_credential_types::provider::ProvideCredentials;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    let sdk = loader.load().await;
    let region = sdk
        .region()
        .map(ToString::to_string)
        .ok_or(EksProblem::NoRegion)?;
    let provider = sdk
        .credentials_provider()
        .ok_or(EksProblem::NoCredentialProvider)?;
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| EksProblem::Credentials(Box::new(e)))?;
    Ok(eks::token(
        cluster,
        &region,
        &creds,
        std::time::SystemTime::now(),
    )?)
}

/// Build the first token (masked before use), write it, and start refreshing it.
async fn start_eks(
    target: &EksTarget,
    ctx: &Context,
) -> Result<(EksRefresher, PathBuf), EksProblem> {
    let tok = eks_token(&target.cluster, target.region.as_deref()).await?;
    ctx.commands.add_mask(tok.expose());
    let dir = tempfile::Builder::new()
        .prefix("rust-ci-action-eks")
        .tempdir()?;
    let path = dir.path().join("token");
    write_private(&path, tok.expose().as_bytes())?;
    let (target, commands, file) = (target.clone(), ctx.commands.clone(), path.clone());
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(eks::REFRESH_EVERY).await;
            match eks_token(&target.cluster, target.region.as_deref()).await {
                Ok(t) => {
                    commands.add_mask(t.expose());
                    if let Err(e) = write_private(&file, t.expose().as_bytes()) {
                        tracing::warn!("could not refresh the EKS token file: {e}");
                    } else {
                        tracing::debug!("refreshed the EKS token");
                    }
                }
                Err(e) => tracing::warn!("could not refresh the EKS token: {}", error_chain(&e)),
            }
        }
    });
    Ok((EksRefresher { task, _dir: dir }, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_credential_values_are_masked() {
        let kc = Kubeconfig::from_yaml(
            r#"
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://k8s.example.com", certificate-authority-data: Q0VSVA==}
users:
- name: token-user
  user: {token: s3cr3t-t0ken}
- name: basic
  user: {username: admin, password: hunter2-hunter2}
- name: short
  user: {token: abc}
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token]
      env: [{name: AWS_SECRET_ACCESS_KEY, value: wJalrXUtnFEMI}]
- name: oidc
  user:
    auth-provider:
      name: oidc
      config: {client-id: my-client-id-1, id-token: eyJhbGciOi}
contexts:
- name: c
  context: {cluster: c, user: token-user, namespace: default}
current-context: c
"#,
        )
        .unwrap();
        let mut got = credential_values(&kc);
        got.sort();
        assert_eq!(
            got,
            [
                "eyJhbGciOi",
                "hunter2-hunter2",
                "my-client-id-1",
                "s3cr3t-t0ken",
                "wJalrXUtnFEMI"
            ],
            "tokens, passwords, exec env values and auth-provider config; not `abc` (too \
             short), not `admin`, `aws`, `default` or the server"
        );
    }
}
