//! Cluster access: the `kubeconfig` input as base64, `kubeconfig-path`, KUBECONFIG, and the
//! EKS token built from the AWS credential chain; credentials never show in any channel.

use super::{Drive, cluster, deployment, drive};
use crate::common::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_path_and_base64_inputs_work_and_never_leak() {
    use base64::Engine as _;
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let secret_kc = c
        .fake
        .kubeconfig("default")
        .replace("fake-token", "s3cr3t-t0ken-value");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&secret_kc);
    let h = c
        .gate("deployment/api", "example.com/api:1")
        .input("kubeconfig", &b64);
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    // The input as given is masked whole (it is a secret input); once decoded, only the
    // credential values in it are masked, not its harmless lines. Nothing else shows them.
    assert!(
        run.stdout.contains("::add-mask::s3cr3t-t0ken-value"),
        "{run}"
    );
    assert!(
        run.stdout.contains(&format!("::add-mask::{b64}")),
        "the input whole: {run}"
    );
    for harmless in [
        "namespace: default",
        "current-context: fake",
        "apiVersion: v1",
    ] {
        assert!(
            !run.stdout.contains(&format!("::add-mask::{harmless}")),
            "{harmless} is not masked: {run}"
        );
    }
    let leaks: Vec<&str> = run
        .all_text()
        .lines()
        .filter(|l| !l.starts_with("::add-mask::") && l.contains("s3cr3t"))
        .map(|_| "leak")
        .collect();
    assert!(leaks.is_empty(), "{run}");
    let logged =
        c.fake.requests().iter().any(|r| {
            r.body.as_deref().unwrap_or("").contains("s3cr3t") || r.query.contains("s3cr3t")
        });
    assert!(!logged, "the token never travels in a request body or URL");

    let path = c.dir.path().join("kc.yaml");
    std::fs::write(&path, c.fake.kubeconfig("default")).expect("write kubeconfig");
    let h = Harness::new()
        .env("HOME", c.dir.path().display().to_string())
        .input("gate", "rollout")
        .input("kubeconfig-path", path.display().to_string())
        .input("workloads", "deployment/api")
        .input("image", "example.com/api:1");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);

    // The default chain: KUBECONFIG.
    let h = Harness::new()
        .env("HOME", c.dir.path().display().to_string())
        .env("KUBECONFIG", path.display().to_string())
        .input("gate", "rollout")
        .input("workloads", "deployment/api")
        .input("image", "example.com/api:1");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_token_from_the_aws_credential_chain() {
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let c = cluster(&[deployment("api", "example.com/api:1", "")]).await;
    let h = c
        .gate("deployment/api", "example.com/api:2")
        .input("eks-cluster", "demo-cluster")
        .input("aws-region", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", "")
        .env("AWS_PROFILE", "")
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
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let (run, _) = drive(&c, h, Drive::default()).await;
    run.assert_code(0);
    // The token was built and masked before use; the secret key never shows.
    assert!(run.stdout.contains("::add-mask::k8s-aws-v1."), "{run}");
    assert!(!run.all_text().contains(SECRET_KEY), "{run}");
    assert!(
        !run.all_text()
            .lines()
            .any(|l| !l.starts_with("::add-mask::") && l.contains("k8s-aws-v1.")),
        "{run}"
    );
}
