//! The image gate's inputs and outputs as the action declares them (`action.yml` and the
//! README are checked against these). Data only.

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
        "network",
        "Network of `RUN` steps: `default`, `none` or `host` (on hosts without a bridge network only `none` and `host` work).",
    )
    .default("default"),
    InputSpec::new(
        "secrets",
        "Build secrets, one `id=value` per line, for `RUN --mount=type=secret,id=<id>`. Each value is masked and reaches BuildKit through a private 0600 file, never the command line or the image.",
    )
    .multiline()
    .secret(),
    InputSpec::new(
        "secret-files",
        "Build secrets from files, one `id=path` per line (relative paths inside the workspace, or absolute).",
    )
    .multiline(),
    InputSpec::new(
        "ssh",
        "SSH for `RUN --mount=type=ssh`: `default` (the agent at `SSH_AUTH_SOCK`) or `id=path[,path]` (keys or sockets), one per line.",
    )
    .multiline(),
    InputSpec::new(
        "platforms",
        "Target platforms (buildx), comma- or newline-separated.",
    )
    .multiline(),
    InputSpec::new("push", "Push the image.").default("true"),
    InputSpec::new(
        "builder",
        "`auto` (docker when a daemon answers, else buildah when installed; buildx when docker has it), `buildx`, `docker` or `buildah` (no daemon).",
    )
    .default("auto"),
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
