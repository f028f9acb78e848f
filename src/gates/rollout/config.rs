//! The rollout gate's inputs: what it reads ([`INPUTS`]) and the typed configuration made
//! from them (stage two of input handling): workloads, the wait timeout, the image and
//! cluster access. Pure: parses strings, never reads files, the environment or the network
//! (a `kubeconfig-path` is only a path here; `cluster` reads it).

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;

use super::duration::WaitTimeout;
use super::failfast::{DEFAULT_RESTARTS, FailFast};
use super::image_ref::ImageRef;
use super::names::{Workload, is_dns_label};
use crate::runner::inputs::{InputError, RawInputs};
use crate::secret::Secret;
use crate::spec::InputSpec;

/// The rollout gate's inputs.
pub const INPUTS: &[InputSpec] = &[
    InputSpec::new("kubeconfig", "Kubeconfig content (plain YAML or base64).").secret(),
    InputSpec::new("kubeconfig-path", "Path of a kubeconfig file."),
    InputSpec::new("context", "Kubeconfig context to use."),
    InputSpec::new("targets", "Several clusters in one step, one per line: a kubeconfig context, optionally followed by `eks:<cluster>[@<region>]` for an EKS token. All are rolled out at once, each to its own verdict; the gate fails if any does, and `rollback-on-failure` rolls back every target it changed. Not with `context`/`eks-cluster`.").multiline(),
    InputSpec::new("eks-cluster", "EKS cluster name: build the EKS token from the AWS credential chain. Without a `kubeconfig`/`kubeconfig-path` input, the API server and its CA come from EKS `DescribeCluster`."),
    InputSpec::new("aws-region", "AWS region of the EKS cluster."),
    InputSpec::new("workloads", "Workloads, one per line: `deployment/api`, `statefulset/db`, `daemonset/agent`, or `namespace/kind/name`.").multiline(),
    InputSpec::new("namespace", "Namespace for workloads given without one.").default("default"),
    InputSpec::new("image", "Full image reference to roll out (the image gate's `image-ref` output fits)."),
    InputSpec::new("container", "Container to update (default: the only one, or the one named like the workload)."),
    InputSpec::new("timeout", "How long to wait for each rollout, e.g. `5m`, `90s`.").default("5m"),
    InputSpec::new("rollback-on-failure", "When the rollout fails (or an error stops it after some workloads were patched), restore each patched workload's pod template exactly as it was before the patch (works at any `revisionHistoryLimit`, 0 included).").default("false"),
    InputSpec::new("rollback-timeout", "How long to wait for a rollback, its own budget (default: the `timeout` value)."),
    InputSpec::new("smoke-command", "Command to run once every workload is ready; non-zero exit fails the gate."),
    InputSpec::new("environment", "GitHub environment to record the rollout in (needs `deployments: write`): a deployment for the commit (the pull request's head on pull-request events), `in_progress`, then `success`, `failure` or `error`."),
    InputSpec::new("environment-url", "URL of the environment, shown on the deployment."),
    InputSpec::new("production-environment", "Whether end users use the environment (`true`/`false`; GitHub's default: only `production` is)."),
    InputSpec::new("transient-environment", "Whether the environment goes away with the deployment (a preview).").default("false"),
    InputSpec::new("fail-fast", "Fail as soon as a pod of the new revision shows conclusive evidence (`ImagePullBackOff`, `InvalidImageName`, `CreateContainerConfigError`, `CreateContainerError`, a crash loop or repeated OOM kills); `false` waits for the progress deadline as `kubectl rollout status` does.").default("true"),
    InputSpec::new("fail-fast-restarts", "Restarts after which `CrashLoopBackOff` or `OOMKilled` is conclusive for `fail-fast`.").default("2"),
];

/// Kubeconfig content as given: base64 of the YAML (what `base64 -w0 ~/.kube/config`
/// gives, the usual way to store it as a repository secret) or the YAML itself.
///
/// YAML always contains `:`, which base64 never does, so the two cannot be confused.
pub(super) fn decode_kubeconfig(given: &str) -> Result<String, String> {
    let compact: String = given.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let looks_base64 = !compact.is_empty()
        && compact
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    if !looks_base64 {
        return Ok(given.to_owned());
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let bytes = engines
        .iter()
        .find_map(|e| e.decode(compact.as_bytes()).ok())
        .ok_or("neither YAML nor base64")?;
    String::from_utf8(bytes).map_err(|_| "base64 that does not decode to UTF-8 text".to_owned())
}

/// EKS: build the bearer token from the AWS credential chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EksTarget {
    /// Cluster name (the `x-k8s-aws-id` header).
    pub cluster: String,
    /// Region; `None` means the AWS chain's (`AWS_REGION`, profile).
    pub region: Option<String>,
}

/// One cluster to roll out to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// Its name in reports (the context), `None` for the single target of a step without
    /// `targets`.
    pub name: Option<String>,
    /// Kubeconfig context.
    pub context: Option<String>,
    /// EKS token generation.
    pub eks: Option<EksTarget>,
}

impl Target {
    /// One `targets` line: `<context> [eks:<cluster>[@<region>]]`.
    pub(super) fn parse(line: &str) -> Result<Self, String> {
        let mut words = line.split_whitespace();
        let context = words.next().ok_or("expected a kubeconfig context")?;
        let eks = match words.next() {
            None => None,
            Some(w) => {
                let spec = w.strip_prefix("eks:").ok_or_else(|| {
                    format!("expected `eks:<cluster>[@<region>]` after the context, found `{w}`")
                })?;
                let (cluster, region) = match spec.split_once('@') {
                    Some((c, r)) => (c, Some(r.to_owned())),
                    None => (spec, None),
                };
                if cluster.is_empty() {
                    return Err("expected an EKS cluster name after `eks:`".into());
                }
                Some(EksTarget {
                    cluster: cluster.to_owned(),
                    region,
                })
            }
        };
        if let Some(extra) = words.next() {
            return Err(format!("unexpected `{extra}`"));
        }
        Ok(Self {
            name: Some(context.to_owned()),
            context: Some(context.to_owned()),
            eks,
        })
    }
}

/// Where cluster access comes from, first that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KubeconfigSource {
    /// The `kubeconfig` input (already base64-decoded).
    Inline(Secret<String>),
    /// The `kubeconfig-path` input.
    Path(PathBuf),
    /// `KUBECONFIG`, `~/.kube/config`, then the in-cluster service account.
    Default,
}

/// Where to record the rollout as a GitHub deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EnvironmentConfig {
    /// Environment name.
    pub name: String,
    /// `environment-url`.
    pub url: Option<String>,
    /// `production-environment`; `None` leaves GitHub's default.
    pub production: Option<bool>,
    /// `transient-environment`.
    pub transient: bool,
}

/// The rollout gate's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RolloutConfig {
    /// Where the kubeconfig comes from.
    pub kubeconfig: KubeconfigSource,
    /// The clusters, at least one.
    pub targets: Vec<Target>,
    /// Workloads, in the order given.
    pub workloads: Vec<Workload>,
    /// The image to roll out.
    pub image: ImageRef,
    /// The container to update.
    pub container: Option<String>,
    /// Bound on each wait.
    pub timeout: WaitTimeout,
    /// Roll back on failure.
    pub rollback_on_failure: bool,
    /// Bound on each rollback's wait.
    pub rollback_timeout: WaitTimeout,
    /// Run once every workload is ready.
    pub smoke_command: Option<String>,
    /// Fail fast on conclusive pod states; `None` waits as kubectl does.
    pub fail_fast: Option<FailFast>,
    /// Record a GitHub deployment.
    pub environment: Option<EnvironmentConfig>,
}

impl TryFrom<&RawInputs> for RolloutConfig {
    type Error = InputError;
    fn try_from(raw: &RawInputs) -> Result<Self, InputError> {
        let kubeconfig = if let Some(k) = raw.get("kubeconfig") {
            // The value itself must never appear in an error message.
            let text = decode_kubeconfig(k).map_err(|m| {
                InputError::invalid(
                    "kubeconfig",
                    "***",
                    format!("expected kubeconfig YAML or its base64, found {m}"),
                )
            })?;
            KubeconfigSource::Inline(Secret::new(text))
        } else if let Some(p) = raw.get("kubeconfig-path") {
            KubeconfigSource::Path(PathBuf::from(p))
        } else {
            KubeconfigSource::Default
        };
        let namespace = raw.get("namespace").unwrap_or("default");
        if !is_dns_label(namespace) {
            return Err(InputError::invalid(
                "namespace",
                namespace,
                "expected a namespace name",
            ));
        }
        let lines = raw.multiline("workloads");
        if lines.is_empty() {
            return Err(InputError::Missing {
                name: "workloads".into(),
                hint: ": one per line, e.g. `deployment/api`".into(),
            });
        }
        let mut workloads: Vec<Workload> = Vec::new();
        for line in &lines {
            let w = Workload::parse(line, namespace)
                .map_err(|m| InputError::invalid("workloads", line, m))?;
            if workloads.contains(&w) {
                return Err(InputError::invalid(
                    "workloads",
                    line,
                    format!("{w} is listed twice"),
                ));
            }
            workloads.push(w);
        }
        let image_text = raw.require("image", "the full image reference to roll out")?;
        let image: ImageRef = image_text.parse().map_err(|m: String| {
            InputError::invalid(
                "image",
                image_text,
                format!("expected an image reference: {m}"),
            )
        })?;
        let container = raw.get("container").map(str::to_owned);
        if let Some(c) = &container
            && !is_dns_label(c)
        {
            return Err(InputError::invalid(
                "container",
                c,
                "expected a container name",
            ));
        }
        let timeout = match raw.get("timeout") {
            None => WaitTimeout::from(Duration::from_secs(300)),
            Some(t) => t
                .parse()
                .map_err(|m: String| InputError::invalid("timeout", t, format!("expected {m}")))?,
        };
        let rollback_timeout = match raw.get("rollback-timeout") {
            None => timeout,
            Some(t) => t.parse().map_err(|m: String| {
                InputError::invalid("rollback-timeout", t, format!("expected {m}"))
            })?,
        };
        let production = raw.boolean("production-environment")?;
        let transient = raw.boolean("transient-environment")?.unwrap_or(false);
        let environment = raw.get("environment").map(|name| EnvironmentConfig {
            name: name.to_owned(),
            url: raw.get("environment-url").map(str::to_owned),
            production,
            transient,
        });
        let eks = raw.get("eks-cluster").map(|c| EksTarget {
            cluster: c.to_owned(),
            region: raw.get("aws-region").map(str::to_owned),
        });
        let target_lines = raw.multiline("targets");
        let targets = if target_lines.is_empty() {
            vec![Target {
                name: None,
                context: raw.get("context").map(str::to_owned),
                eks,
            }]
        } else {
            if let Some(c) = raw.get("context").or(raw.get("eks-cluster")) {
                return Err(InputError::invalid(
                    "targets",
                    c,
                    "`targets` names each cluster: leave `context` and `eks-cluster` out",
                ));
            }
            let mut targets: Vec<Target> = Vec::new();
            for line in &target_lines {
                let t = Target::parse(line).map_err(|m| InputError::invalid("targets", line, m))?;
                if targets.iter().any(|o| o.name == t.name) {
                    return Err(InputError::invalid("targets", line, "listed twice"));
                }
                targets.push(t);
            }
            targets
        };
        let restarts = match raw.get("fail-fast-restarts") {
            None => DEFAULT_RESTARTS,
            Some(t) => t
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    InputError::invalid(
                        "fail-fast-restarts",
                        t,
                        "expected a whole number of restarts from 1 to 1000",
                    )
                })?,
        };
        let fail_fast = raw
            .boolean("fail-fast")?
            .unwrap_or(true)
            .then_some(FailFast { restarts });
        Ok(Self {
            kubeconfig,
            targets,
            workloads,
            image,
            container,
            timeout,
            rollback_on_failure: raw.boolean("rollback-on-failure")?.unwrap_or(false),
            rollback_timeout,
            smoke_command: raw.get("smoke-command").map(str::to_owned),
            fail_fast,
            environment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_yaml_or_its_base64() {
        let yaml = "apiVersion: v1\nkind: Config\n";
        assert_eq!(decode_kubeconfig(yaml).unwrap(), yaml);
        let b64 = base64::engine::general_purpose::STANDARD.encode(yaml);
        assert_eq!(decode_kubeconfig(&b64).unwrap(), yaml);
        let wrapped = format!("{}\n{}\n", &b64[..10], &b64[10..]);
        assert_eq!(
            decode_kubeconfig(&wrapped).unwrap(),
            yaml,
            "line-wrapped base64 (base64 without -w0)"
        );
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(yaml);
        assert_eq!(decode_kubeconfig(&url).unwrap(), yaml);
        assert!(decode_kubeconfig("////").is_err(), "not UTF-8");
        assert!(decode_kubeconfig("abc").is_err(), "neither");
    }

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        RawInputs::from_named(pairs.iter().copied())
    }

    #[test]
    fn config_from_inputs() {
        let c = RolloutConfig::try_from(&raw(&[
            ("workloads", "deployment/api\n\n other/sts/db \n"),
            ("namespace", "prod"),
            ("image", "registry.example.com/api:2"),
            ("timeout", "90s"),
            ("rollback-on-failure", "true"),
            ("eks-cluster", "main"),
            ("aws-region", "eu-west-1"),
            ("kubeconfig-path", "/tmp/kc"),
        ]))
        .unwrap();
        assert_eq!(
            c.workloads
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["prod/deployment/api", "other/statefulset/db"]
        );
        assert_eq!(c.timeout.get(), Duration::from_secs(90));
        assert_eq!(
            c.rollback_timeout.get(),
            Duration::from_secs(90),
            "the rollback budget defaults to the timeout"
        );
        assert!(c.rollback_on_failure);
        assert_eq!(c.kubeconfig, KubeconfigSource::Path("/tmp/kc".into()));
        assert_eq!(
            c.targets,
            [Target {
                name: None,
                context: None,
                eks: Some(EksTarget {
                    cluster: "main".into(),
                    region: Some("eu-west-1".into())
                })
            }]
        );
        let multi = RolloutConfig::try_from(&raw(&[
            ("workloads", "deploy/api"),
            ("image", "api:1"),
            ("targets", "staging-us\nstaging-eu eks:eu-main@eu-west-1\n"),
        ]))
        .unwrap();
        assert_eq!(
            multi.targets,
            [
                Target {
                    name: Some("staging-us".into()),
                    context: Some("staging-us".into()),
                    eks: None
                },
                Target {
                    name: Some("staging-eu".into()),
                    context: Some("staging-eu".into()),
                    eks: Some(EksTarget {
                        cluster: "eu-main".into(),
                        region: Some("eu-west-1".into())
                    })
                }
            ]
        );

        let d = RolloutConfig::try_from(&raw(&[("workloads", "deploy/api"), ("image", "api:1")]))
            .unwrap();
        assert_eq!(d.timeout.get(), Duration::from_secs(300), "default 5m");
        assert_eq!(d.workloads[0].namespace, "default");
        assert_eq!(d.kubeconfig, KubeconfigSource::Default);
        assert!(!d.rollback_on_failure);
        assert_eq!(
            d.targets,
            [Target {
                name: None,
                context: None,
                eks: None
            }]
        );
        assert_eq!(d.fail_fast, Some(FailFast { restarts: 2 }), "on by default");
        let off = RolloutConfig::try_from(&raw(&[
            ("workloads", "deploy/api"),
            ("image", "api:1"),
            ("fail-fast", "false"),
            ("fail-fast-restarts", "5"),
        ]))
        .unwrap();
        assert_eq!(off.fail_fast, None);
        assert_eq!(off.environment, None);
        let env = RolloutConfig::try_from(&raw(&[
            ("workloads", "deploy/api"),
            ("image", "api:1"),
            ("environment", "staging"),
            ("environment-url", "https://staging.example.com"),
            ("transient-environment", "true"),
        ]))
        .unwrap();
        assert_eq!(
            env.environment,
            Some(EnvironmentConfig {
                name: "staging".into(),
                url: Some("https://staging.example.com".into()),
                production: None,
                transient: true,
            })
        );
        let five = RolloutConfig::try_from(&raw(&[
            ("workloads", "deploy/api"),
            ("image", "api:1"),
            ("fail-fast-restarts", "5"),
            ("rollback-timeout", "10m"),
        ]))
        .unwrap();
        assert_eq!(five.rollback_timeout.get(), Duration::from_secs(600));
        assert_eq!(five.timeout.get(), Duration::from_secs(300));
        assert_eq!(five.fail_fast, Some(FailFast { restarts: 5 }));
    }

    #[test]
    fn config_errors_name_the_input() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("image", "api:1")], "input `workloads` is required"),
            (&[("workloads", "deploy/api")], "input `image` is required"),
            (
                &[("workloads", "deploy/api"), ("image", "API:1")],
                "input `image`",
            ),
            (
                &[("workloads", "pod/api"), ("image", "api:1")],
                "unknown workload kind `pod`",
            ),
            (
                &[
                    ("workloads", "deploy/api\ndeployment/api"),
                    ("image", "api:1"),
                ],
                "listed twice",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("timeout", "5"),
                ],
                "input `timeout`",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("rollback-on-failure", "yes"),
                ],
                "rollback-on-failure",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("container", "Web"),
                ],
                "input `container`",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("fail-fast-restarts", "0"),
                ],
                "input `fail-fast-restarts`",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("fail-fast", "soon"),
                ],
                "fail-fast",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("rollback-timeout", "soon"),
                ],
                "input `rollback-timeout`",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("targets", "a\na"),
                ],
                "listed twice",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("targets", "a gke:x"),
                ],
                "expected `eks:<cluster>[@<region>]`",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("targets", "a"),
                    ("context", "b"),
                ],
                "leave `context` and `eks-cluster` out",
            ),
            (
                &[
                    ("workloads", "deploy/api"),
                    ("image", "api:1"),
                    ("namespace", "Prod"),
                ],
                "input `namespace`",
            ),
        ];
        for (pairs, want) in cases {
            let err = RolloutConfig::try_from(&raw(pairs))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn a_bad_kubeconfig_is_never_echoed() {
        let err = RolloutConfig::try_from(&raw(&[
            ("workloads", "deploy/api"),
            ("image", "api:1"),
            ("kubeconfig", "c2VjcmV0/w=="),
        ]))
        .unwrap_err()
        .to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
        assert!(err.contains("input `kubeconfig`"), "{err}");
    }
}
