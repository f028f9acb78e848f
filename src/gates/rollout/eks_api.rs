//! EKS without a kubeconfig: `eks-cluster` (with `aws-region`, or the AWS chain's region)
//! and no `kubeconfig`/`kubeconfig-path` input: the API server's endpoint and CA come from
//! EKS `DescribeCluster` (aws-sdk-eks, the credential chain the token uses), and
//! [`kubeconfig`] turns them into a one-context kubeconfig for `cluster.rs`, whose user is
//! the refreshed EKS token file.
//!
//! Talks to EKS only; the kubeconfig it builds holds no credential.
//! <https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html>

use kube::config::Kubeconfig;
use serde_json::json;

use super::config::EksTarget;

/// What `DescribeCluster` says about reaching the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    /// `cluster.endpoint`: the API server's URL.
    pub url: String,
    /// `cluster.certificateAuthority.data`: base64 of the CA's PEM, as kubeconfig's
    /// `certificate-authority-data` takes it.
    pub ca_data: String,
}

/// Why the cluster could not be described.
#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    /// No region from the input or the AWS chain.
    #[error("no AWS region: give the `aws-region` input or set AWS_REGION")]
    NoRegion,
    /// The API call failed.
    #[error("DescribeCluster failed")]
    Api(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The cluster is not ready to be talked to.
    #[error("the cluster is {0}, not ACTIVE")]
    NotActive(String),
    /// The answer lacks the endpoint or the CA.
    #[error("DescribeCluster returned no {0}")]
    Missing(&'static str),
}

/// `DescribeCluster` for `target`.
pub(super) async fn describe(target: &EksTarget) -> Result<Endpoint, DescribeError> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = &target.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(DescribeError::NoRegion);
    }
    let out = aws_sdk_eks::Client::new(&sdk)
        .describe_cluster()
        .name(&target.cluster)
        .send()
        .await
        .map_err(|e| {
            // The SDK's own Display says only "service error"; the context has the cause.
            DescribeError::Api(
                aws_sdk_eks::error::DisplayErrorContext(e)
                    .to_string()
                    .into(),
            )
        })?;
    endpoint(out.cluster())
}

/// The endpoint and CA of a described cluster, or what is missing.
pub(super) fn endpoint(
    cluster: Option<&aws_sdk_eks::types::Cluster>,
) -> Result<Endpoint, DescribeError> {
    let c = cluster.ok_or(DescribeError::Missing("cluster"))?;
    if let Some(status) = c.status()
        && status.as_str() != "ACTIVE"
    {
        return Err(DescribeError::NotActive(status.as_str().to_owned()));
    }
    let url = c
        .endpoint()
        .filter(|u| !u.is_empty())
        .ok_or(DescribeError::Missing("endpoint"))?;
    let ca_data = c
        .certificate_authority()
        .and_then(|ca| ca.data())
        .filter(|d| !d.is_empty())
        .ok_or(DescribeError::Missing("certificate authority"))?;
    Ok(Endpoint {
        url: url.to_owned(),
        ca_data: ca_data.to_owned(),
    })
}

/// A kubeconfig with one context, `name`, for `ep`; its user has no credential (the
/// caller adds the EKS token file).
pub(super) fn kubeconfig(
    name: &str,
    ep: &Endpoint,
) -> Result<Kubeconfig, kube::config::KubeconfigError> {
    // JSON is YAML: the values are quoted whatever they hold.
    Kubeconfig::from_yaml(&json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": ep.url, "certificate-authority-data": ep.ca_data}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use aws_sdk_eks::types::{Certificate, Cluster, ClusterStatus};

    use super::*;

    #[test]
    fn an_active_cluster_gives_endpoint_and_ca() {
        let c = Cluster::builder()
            .status(ClusterStatus::Active)
            .endpoint("https://ABC.gr7.eu-west-1.eks.amazonaws.com")
            .certificate_authority(Certificate::builder().data("LS0tLS1CRUdJTg==").build())
            .build();
        let ep = endpoint(Some(&c)).unwrap();
        assert_eq!(ep.url, "https://ABC.gr7.eu-west-1.eks.amazonaws.com");
        assert_eq!(ep.ca_data, "LS0tLS1CRUdJTg==");
        let kc = kubeconfig("prod", &ep).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("prod"));
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some(ep.url.as_str()));
        assert_eq!(
            cluster.certificate_authority_data.as_deref(),
            Some("LS0tLS1CRUdJTg==")
        );
    }

    #[test]
    fn what_is_missing_is_said() {
        let creating = Cluster::builder()
            .status(ClusterStatus::Creating)
            .endpoint("https://x")
            .build();
        assert_eq!(
            endpoint(Some(&creating)).unwrap_err().to_string(),
            "the cluster is CREATING, not ACTIVE"
        );
        let bare = Cluster::builder().status(ClusterStatus::Active).build();
        assert_eq!(
            endpoint(Some(&bare)).unwrap_err().to_string(),
            "DescribeCluster returned no endpoint"
        );
        let no_ca = Cluster::builder().endpoint("https://x").build();
        assert_eq!(
            endpoint(Some(&no_ca)).unwrap_err().to_string(),
            "DescribeCluster returned no certificate authority"
        );
        assert!(endpoint(None).is_err());
    }
}
