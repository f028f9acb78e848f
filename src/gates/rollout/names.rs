//! Workloads as kubectl names them (`deployment/api`, `prod/sts/db`), the facts that
//! differ by kind without needing an object (names, wording), Kubernetes name rules, and
//! the choice of the container to update. Pure: strings in, values out.

use std::fmt;
use std::str::FromStr;

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

/// What differs between kinds in words, without an object to look at.
struct Facts {
    name: &'static str,
    described: &'static str,
    ready: &'static str,
}

impl WorkloadKind {
    /// Every kind, in the order the `workloads` input documents them.
    pub const ALL: [WorkloadKind; 3] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];

    /// The one table of per-kind words; behaviour that needs the object lives in
    /// `kinds/` (one file per kind).
    fn facts(self) -> &'static Facts {
        match self {
            WorkloadKind::Deployment => &Facts {
                name: "deployment",
                described: "deployment",
                ready: "available",
            },
            WorkloadKind::StatefulSet => &Facts {
                name: "statefulset",
                described: "statefulset",
                ready: "ready",
            },
            WorkloadKind::DaemonSet => &Facts {
                name: "daemonset",
                described: "daemon set",
                ready: "available",
            },
        }
    }

    /// Lower-case name as written in `kind/name` (and by kubectl).
    pub fn name(self) -> &'static str {
        self.facts().name
    }

    /// How kubectl's messages call the kind (`daemon set "agent" successfully rolled out`).
    pub fn described(self) -> &'static str {
        self.facts().described
    }

    /// What the last count of a progression line counts: ready replicas for a
    /// StatefulSet (its status has no available count kubectl uses), available ones
    /// otherwise.
    pub fn ready_word(self) -> &'static str {
        self.facts().ready
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
pub(super) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: what Kubernetes allows as an object name.
pub(super) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Which container of the pod template to update: the one asked for, else the only one,
/// else the one named like the workload.
pub(super) fn choose_container(
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
pub(super) enum ContainerChoice {
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
    fn every_kind_parses_back_from_its_name_and_has_words() {
        for kind in WorkloadKind::ALL {
            assert_eq!(kind.name().parse::<WorkloadKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.name());
            assert!(!kind.described().is_empty() && !kind.ready_word().is_empty());
        }
        assert_eq!(WorkloadKind::DaemonSet.described(), "daemon set");
        assert_eq!(WorkloadKind::StatefulSet.ready_word(), "ready");
        assert_eq!(WorkloadKind::Deployment.ready_word(), "available");
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
}
