//! EKS without a kubeconfig, against the AWS emulator (moto, started by `scripts/test.sh`):
//! `eks-cluster` and `aws-region` alone make the gate ask EKS `DescribeCluster` for the API
//! server and its CA. Moto serves the call (an endpoint with no API server behind it, CA
//! data that is no certificate), so what is tested here is that the gate asks, goes to the
//! endpoint it is given with the EKS token, and names the cluster when it cannot be read;
//! the kubeconfig built from an answer and the token refresh are unit tests (`eks_api.rs`,
//! `eks.rs`, `cluster.rs`).

use aws_sdk_eks::types::VpcConfigRequest;

use super::{cluster, deployment};
use crate::common::{Harness, service_env};

fn on_moto(h: Harness, c: &super::Cluster) -> Harness {
    h.env("AWS_ENDPOINT_URL", service_env("TEST_MOTO_URL"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "AWS_CONFIG_FILE",
            c.dir.path().join("no-aws-config").display().to_string(),
        )
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            c.dir
                .path()
                .join("no-aws-credentials")
                .display()
                .to_string(),
        )
}

async fn eks_client() -> aws_sdk_eks::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(service_env("TEST_MOTO_URL"))
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_eks::Client::new(&sdk)
}

/// The gate without any kubeconfig input.
fn gate(c: &super::Cluster, eks: &str) -> Harness {
    let h = c
        .gate("deployment/api", "example.com/api:2")
        .env("INPUT_KUBECONFIG", "")
        .input("eks-cluster", eks)
        .input("aws-region", "us-east-1");
    on_moto(h, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_cluster_gives_the_endpoint_and_ca() {
    let eks = eks_client().await;
    let name = format!("demo-{}", std::process::id());
    eks.create_cluster()
        .name(&name)
        .role_arn("arn:aws:iam::123456789012:role/eks")
        .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-1").build())
        .send()
        .await
        .expect("create the cluster in moto");
    let described = eks
        .describe_cluster()
        .name(&name)
        .send()
        .await
        .expect("describe");
    let endpoint = described
        .cluster()
        .and_then(|c| c.endpoint())
        .expect("moto's endpoint")
        .to_owned();

    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let run = tokio::task::spawn_blocking({
        let h = gate(&c, &name);
        move || h.run()
    })
    .await
    .expect("gate");
    // The endpoint and CA came from DescribeCluster, the token from the credential chain;
    // moto's endpoint has no API server behind it, so the gate cannot reach it, and says
    // where it tried.
    run.assert_code(2);
    assert!(
        run.stdout
            .contains(&format!("EKS cluster `{name}`: API server {endpoint}")),
        "{run}"
    );
    assert!(run.stdout.contains("::add-mask::k8s-aws-v1."), "{run}");
    let url = endpoint.trim_end_matches('/');
    assert!(
        run.errors()
            .iter()
            .any(|e| e.contains(&format!("cannot reach the Kubernetes API at {url}"))),
        "{run}"
    );
    assert_eq!(
        c.fake.requests().len(),
        0,
        "the fake behind the kubeconfig input is not used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_cluster_is_named() {
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let run = tokio::task::spawn_blocking({
        let h = gate(&c, "no-such-cluster");
        move || h.run()
    })
    .await
    .expect("gate");
    run.assert_code(2);
    assert_eq!(run.output("result"), Some("error"));
    assert!(
        run.errors().iter().any(|e| e
            .contains("could not read EKS cluster `no-such-cluster` with DescribeCluster")
            && e.contains("ResourceNotFound")),
        "{run}"
    );
}
