//! Rollout gate: point Kubernetes workloads at a new image, wait with `kubectl rollout
//! status` rules, explain failures, roll back on request.

use crate::gates::Context;
use crate::outcome::Outcome;
use crate::runner::inputs::RawInputs;
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
    OutputSpec { name: "revision", description: "New revision of the (first) workload." },
    OutputSpec { name: "previous-image", description: "Image the (first) workload ran before." },
    OutputSpec { name: "rolled-back", description: "`true` when a failed rollout was rolled back." },
    OutputSpec { name: "results", description: "JSON: per workload status, durations and reason." },
];

/// The rollout gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not built yet.
    #[error("the rollout gate is not available in this build")]
    Unavailable,
}

/// Run the rollout gate.
pub async fn run(_raw: &RawInputs, _ctx: &Context) -> Result<Outcome, Error> {
    Err(Error::Unavailable)
}
