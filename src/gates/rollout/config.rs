//! Typed rollout-gate configuration from raw inputs (stage two of input handling):
//! workloads, the wait timeout, the image reference and cluster access. Pure: parses
//! strings, never reads files, the environment or the network.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;

use crate::runner::inputs::{InputError, RawInputs};
use crate::secret::Secret;

/// The workload kinds `kubectl rollout status` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// Lower-case name as written in `kind/name` (and by kubectl).
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
        }
    }
}

impl FromStr for WorkloadKind {
    type Err = String;
    /// The names and short names kubectl accepts (`deploy`, `sts`, `ds`), with or without
    /// the `.apps` group, case-insensitively.
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        let bare = lower.strip_suffix(".apps").unwrap_or(&lower);
        match bare {
            "deployment" | "deployments" | "deploy" => Ok(WorkloadKind::Deployment),
            "statefulset" | "statefulsets" | "sts" => Ok(WorkloadKind::StatefulSet),
            "daemonset" | "daemonsets" | "ds" => Ok(WorkloadKind::DaemonSet),
            _ => Err(format!(
                "unknown workload kind `{s}`: expected deployment, statefulset or daemonset"
            )),
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One workload to roll out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    /// Namespace.
    pub namespace: String,
    /// Kind.
    pub kind: WorkloadKind,
    /// Object name.
    pub name: String,
}

impl Workload {
    /// Parse `kind/name` or `namespace/kind/name`; `default_namespace` fills in the first form.
    pub fn parse(line: &str, default_namespace: &str) -> Result<Self, String> {
        let parts: Vec<&str> = line.trim().split('/').collect();
        let (namespace, kind, name) = match parts.as_slice() {
            [kind, name] => (default_namespace, *kind, *name),
            [ns, kind, name] => (*ns, *kind, *name),
            _ => {
                return Err(format!(
                    "`{line}` is not `kind/name` or `namespace/kind/name` (e.g. `deployment/api`)"
                ));
            }
        };
        let kind: WorkloadKind = kind.parse()?;
        if !is_dns_label(namespace) {
            return Err(format!("`{namespace}` is not a valid namespace name"));
        }
        if !is_dns_subdomain(name) {
            return Err(format!("`{name}` is not a valid {kind} name"));
        }
        Ok(Self {
            namespace: namespace.to_owned(),
            kind,
            name: name.to_owned(),
        })
    }

    /// `deployment/api`, as kubectl names it.
    pub fn short(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

impl fmt::Display for Workload {
    /// `namespace/kind/name`: unambiguous across namespaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

/// RFC 1123 label: what Kubernetes allows as a namespace or container name.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: what Kubernetes allows as an object name.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// How long to wait: a Go-style duration (`5m`, `90s`, `1h30m`, `500ms`), positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WaitTimeout(Duration);

impl WaitTimeout {
    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for WaitTimeout {
    fn from(d: Duration) -> Self {
        Self(d)
    }
}

/// The longest wait accepted: a job cannot run longer than six hours anyway.
const MAX_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

impl FromStr for WaitTimeout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        const EXPECTED: &str = "a duration such as `5m`, `90s` or `1h30m`";
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(EXPECTED.into());
        }
        let mut total = Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(EXPECTED.into());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| EXPECTED.to_owned())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let part = match unit {
                "h" => number.checked_mul(3600).map(Duration::from_secs),
                "m" => number.checked_mul(60).map(Duration::from_secs),
                "s" => Some(Duration::from_secs(number)),
                "ms" => Some(Duration::from_millis(number)),
                _ => return Err(EXPECTED.into()),
            };
            total = part
                .and_then(|p| total.checked_add(p))
                .ok_or_else(|| EXPECTED.to_owned())?;
        }
        if total.is_zero() {
            return Err("a positive duration such as `5m`".into());
        }
        if total > MAX_TIMEOUT {
            return Err("a duration of at most 6h".into());
        }
        Ok(Self(total))
    }
}

impl fmt::Display for WaitTimeout {
    /// The shortest Go-style form: `5m`, `1h30m`, `90s` shows as `1m30s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_duration(self.0))
    }
}

/// A duration in the Go style, coarse units first: `1h30m`, `2m5s`, `1.25s`, `350ms`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        let hundredths = (ms % 1000) / 10;
        let text = format!("{secs}.{hundredths:02}");
        return format!("{}s", text.trim_end_matches('0').trim_end_matches('.'));
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// A container image reference, checked against the grammar of
/// `github.com/distribution/reference` (the one the kubelet and containerd parse with):
/// `[domain[:port]/]path[:tag][@algorithm:hex]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    raw: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// The reference as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// Everything before the tag and digest (`registry:5000/team/api`).
    pub fn repository(&self) -> &str {
        &self.repository
    }
    /// The tag, when given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The digest, when given.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl FromStr for ImageRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let raw = s.trim();
        if raw.is_empty() {
            return Err("an image reference such as `registry.example.com/team/api:1.2.3`".into());
        }
        if raw.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err("an image reference without whitespace".into());
        }
        let (name_tag, digest) = match raw.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (raw, None),
        };
        if let Some(d) = digest {
            check_digest(d)?;
        }
        // A tag is the part after the last `:` that comes after the last `/`; an earlier
        // `:` is a registry port.
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        if let Some(t) = tag {
            check_tag(t)?;
        }
        check_repository(repository)?;
        Ok(Self {
            raw: raw.to_owned(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }
}

fn check_digest(d: &str) -> Result<(), String> {
    let (alg, hex) = d
        .split_once(':')
        .ok_or_else(|| format!("digest `{d}` is not `algorithm:hex`"))?;
    let alg_ok = !alg.is_empty()
        && alg.split(['+', '.', '-', '_']).all(|c| {
            c.chars().next().is_some_and(|f| f.is_ascii_alphabetic())
                && c.chars().all(|ch| ch.is_ascii_alphanumeric())
        });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !alg_ok || !hex_ok {
        return Err(format!("digest `{d}` is not `algorithm:hex`"));
    }
    if alg == "sha256" && (hex.len() != 64 || hex.bytes().any(|b| b.is_ascii_uppercase())) {
        return Err(format!(
            "digest `{d}`: sha256 needs 64 lower-case hex digits"
        ));
    }
    Ok(())
}

fn check_tag(t: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes().next().is_some_and(word)
        && t.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag `{t}` is not valid (letters, digits, `_`, `.`, `-`; at most 128)"
        ))
    }
}

fn check_repository(repo: &str) -> Result<(), String> {
    if repo.len() > 255 {
        return Err("repository name longer than 255 characters".into());
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    // The first part is a registry host when it looks like one (Docker's rule).
    if parts.len() > 1
        && (parts[0].contains(['.', ':'])
            || parts[0] == "localhost"
            || parts[0].bytes().any(|b| b.is_ascii_uppercase()))
    {
        check_domain(parts[0])?;
        parts.remove(0);
    }
    for p in parts {
        if !is_path_component(p) {
            return Err(format!(
                "repository path component `{p}` is not valid (lower-case letters and digits, separated by `.`, `_`, `__` or dashes)"
            ));
        }
    }
    Ok(())
}

fn check_domain(d: &str) -> Result<(), String> {
    let bad = || format!("registry `{d}` is not a valid host[:port]");
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(bad());
        }
        (None, after.strip_prefix(':'))
    } else {
        match d.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(h) = host {
        let ok = !h.is_empty()
            && h.split('.').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            });
        if !ok {
            return Err(bad());
        }
    }
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    Ok(())
}

/// `[a-z0-9]+ (([_.]|__|[-]+) [a-z0-9]+)*`
fn is_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Which container of the pod template to update: the one asked for, else the only one,
/// else the one named like the workload.
pub fn choose_container(
    names: &[String],
    wanted: Option<&str>,
    workload_name: &str,
) -> Result<String, ContainerChoice> {
    if let Some(w) = wanted {
        return if names.iter().any(|n| n == w) {
            Ok(w.to_owned())
        } else {
            Err(ContainerChoice::NotFound {
                wanted: w.to_owned(),
                names: names.to_vec(),
            })
        };
    }
    match names {
        [] => Err(ContainerChoice::NotFound {
            wanted: String::new(),
            names: Vec::new(),
        }),
        [only] => Ok(only.clone()),
        _ => names
            .iter()
            .find(|n| *n == workload_name)
            .cloned()
            .ok_or_else(|| ContainerChoice::Ambiguous {
                names: names.to_vec(),
            }),
    }
}

/// Why no container could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerChoice {
    /// The named container is not in the template (or the template has none).
    NotFound {
        /// What was asked for (empty: nothing was).
        wanted: String,
        /// The containers there are.
        names: Vec<String>,
    },
    /// Several containers, none named like the workload, and none asked for.
    Ambiguous {
        /// The containers there are.
        names: Vec<String>,
    },
}

/// Kubeconfig content as given: base64 of the YAML (what `base64 -w0 ~/.kube/config`
/// gives, the usual way to store it as a repository secret) or the YAML itself.
///
/// YAML always contains `:`, which base64 never does, so the two cannot be confused.
pub fn decode_kubeconfig(given: &str) -> Result<String, String> {
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
pub struct EksTarget {
    /// Cluster name (the `x-k8s-aws-id` header).
    pub cluster: String,
    /// Region; `None` means the AWS chain's (`AWS_REGION`, profile).
    pub region: Option<String>,
}

/// Where cluster access comes from, first that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigSource {
    /// The `kubeconfig` input (already base64-decoded).
    Inline(Secret<String>),
    /// The `kubeconfig-path` input.
    Path(PathBuf),
    /// `KUBECONFIG`, `~/.kube/config`, then the in-cluster service account.
    Default,
}

/// The rollout gate's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutConfig {
    /// Where the kubeconfig comes from.
    pub kubeconfig: KubeconfigSource,
    /// Kubeconfig context.
    pub context: Option<String>,
    /// EKS token generation.
    pub eks: Option<EksTarget>,
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
    /// Run once every workload is ready.
    pub smoke_command: Option<String>,
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
            None => WaitTimeout(Duration::from_secs(300)),
            Some(t) => t
                .parse()
                .map_err(|m: String| InputError::invalid("timeout", t, format!("expected {m}")))?,
        };
        let eks = raw.get("eks-cluster").map(|c| EksTarget {
            cluster: c.to_owned(),
            region: raw.get("aws-region").map(str::to_owned),
        });
        Ok(Self {
            kubeconfig,
            context: raw.get("context").map(str::to_owned),
            eks,
            workloads,
            image,
            container,
            timeout,
            rollback_on_failure: raw.boolean("rollback-on-failure")?.unwrap_or(false),
            smoke_command: raw.get("smoke-command").map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_parse_like_kubectl_names_them() {
        let cases = [
            ("deployment/api", "prod/deployment/api"),
            ("deploy/api", "prod/deployment/api"),
            ("Deployment.apps/api", "prod/deployment/api"),
            ("statefulset/db", "prod/statefulset/db"),
            ("sts/db", "prod/statefulset/db"),
            ("daemonsets/agent", "prod/daemonset/agent"),
            ("ds/agent", "prod/daemonset/agent"),
            ("other/deployment/web.v2", "other/deployment/web.v2"),
        ];
        for (line, want) in cases {
            assert_eq!(
                Workload::parse(line, "prod").unwrap().to_string(),
                want,
                "{line}"
            );
        }
        for bad in [
            "api",
            "pod/api",
            "a/b/c/d",
            "deployment/API",
            "deployment/",
            "Prod/deployment/api",
            "deployment/-x",
        ] {
            assert!(Workload::parse(bad, "prod").is_err(), "{bad}");
        }
        assert_eq!(
            Workload::parse("sts/db", "x").unwrap().short(),
            "statefulset/db"
        );
    }

    #[test]
    fn durations_follow_go_syntax() {
        for (s, secs) in [
            ("5m", 300),
            ("90s", 90),
            ("1h30m", 5400),
            ("1m30s", 90),
            ("2h", 7200),
            (" 45s ", 45),
        ] {
            assert_eq!(
                s.parse::<WaitTimeout>().unwrap().get(),
                Duration::from_secs(secs),
                "{s}"
            );
        }
        assert_eq!(
            "1500ms".parse::<WaitTimeout>().unwrap().get(),
            Duration::from_millis(1500)
        );
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "0s",
            "-5m",
            "1.5m",
            "7h",
            "5m ago",
            "99999999999999999999h",
        ] {
            assert!(bad.parse::<WaitTimeout>().is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_print_in_go_style() {
        let cases = [
            (Duration::from_secs(300), "5m"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_millis(350), "350ms"),
            (Duration::from_millis(1250), "1.25s"),
            (Duration::from_millis(12_040), "12.04s"),
            (Duration::from_millis(3005), "3s"),
            (Duration::from_secs(3601), "1h1s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn image_references_follow_the_distribution_grammar() {
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let good = [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "registry.example.com/team/api:1.2.3",
            "localhost:5000/api:dev",
            "localhost/api",
            "127.0.0.1:5000/a/b/c:v1.0-rc_1",
            "[::1]:5000/api:x",
            "ghcr.io/o/my__app",
            "ghcr.io/o/my---app",
        ];
        for g in good {
            assert!(
                g.parse::<ImageRef>().is_ok(),
                "{g}: {:?}",
                g.parse::<ImageRef>()
            );
        }
        let with_digest = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v2@{digest}");
        let r: ImageRef = with_digest.parse().unwrap();
        assert_eq!(
            r.repository(),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api"
        );
        assert_eq!(r.tag(), Some("v2"));
        assert_eq!(r.digest(), Some(digest));
        let port: ImageRef = "localhost:5000/api".parse().unwrap();
        assert_eq!(
            (port.repository(), port.tag()),
            ("localhost:5000/api", None)
        );

        let bad = [
            "",
            "Nginx/API",
            "nginx:",
            "nginx:-x",
            "nginx::1",
            "team/Api:1",
            "nginx@sha256:abc",
            "nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "a b",
            "registry.example.com/",
            "reg_istry.example.com/api",
            "localhost:port/api",
            "api_/x",
            "ghcr.io/o/a.-b",
        ];
        for b in bad {
            assert!(b.parse::<ImageRef>().is_err(), "{b} should be rejected");
        }
        let long = format!("{}:1", "a".repeat(256));
        assert!(long.parse::<ImageRef>().is_err());
    }

    #[test]
    fn container_choice() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            choose_container(&names(&["app"]), None, "api"),
            Ok("app".into())
        );
        assert_eq!(
            choose_container(&names(&["sidecar", "api"]), None, "api"),
            Ok("api".into())
        );
        assert_eq!(
            choose_container(&names(&["sidecar", "api"]), Some("sidecar"), "api"),
            Ok("sidecar".into())
        );
        assert_eq!(
            choose_container(&names(&["a", "b"]), None, "api"),
            Err(ContainerChoice::Ambiguous {
                names: names(&["a", "b"])
            })
        );
        assert_eq!(
            choose_container(&names(&["a"]), Some("c"), "api"),
            Err(ContainerChoice::NotFound {
                wanted: "c".into(),
                names: names(&["a"])
            })
        );
    }

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
        assert!(c.rollback_on_failure);
        assert_eq!(c.kubeconfig, KubeconfigSource::Path("/tmp/kc".into()));
        assert_eq!(
            c.eks,
            Some(EksTarget {
                cluster: "main".into(),
                region: Some("eu-west-1".into())
            })
        );

        let d = RolloutConfig::try_from(&raw(&[("workloads", "deploy/api"), ("image", "api:1")]))
            .unwrap();
        assert_eq!(d.timeout.get(), Duration::from_secs(300), "default 5m");
        assert_eq!(d.workloads[0].namespace, "default");
        assert_eq!(d.kubeconfig, KubeconfigSource::Default);
        assert!(!d.rollback_on_failure);
        assert_eq!(d.eks, None);
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
