//! The inputs that change what a `RUN` step can reach: `network` (the network of `RUN`
//! steps), `secrets` and `secret-files` (BuildKit build secrets, mounted with
//! `RUN --mount=type=secret`), `ssh` (agent sockets or keys, `RUN --mount=type=ssh`).
//! Pure: raw inputs in, typed values out; whether a secret file exists is checked when the
//! gate runs (`workdir.rs`).
//!
//! A secret's value never appears in an error: a bad `secrets` line is named by its line
//! number only. Values are passed to BuildKit as files in the gate's private folder (0600),
//! never on a command line and never as a build argument (which lands in `docker history`).

use std::path::{Component, Path, PathBuf};

use crate::runner::inputs::{InputError, RawInputs};
use crate::secret::Secret;

/// The network of `RUN` steps (`docker build --network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Network {
    /// The builder's default (a bridge, when the engine has one).
    #[default]
    Default,
    /// No network: the only choice on hosts without a bridge, and the safest.
    None,
    /// The host's network.
    Host,
}

impl Network {
    /// The `--network` value, `None` for the builder's default (the flag is left out).
    pub(super) fn flag(self) -> Option<&'static str> {
        match self {
            Self::Default => None,
            Self::None => Some("none"),
            Self::Host => Some("host"),
        }
    }
}

impl std::str::FromStr for Network {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "default" => Ok(Self::Default),
            "none" => Ok(Self::None),
            "host" => Ok(Self::Host),
            _ => Err(()),
        }
    }
}

/// Where a build secret's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SecretSource {
    /// A value from `secrets` (written to a private file when the gate runs).
    Value(Secret<String>),
    /// A file from `secret-files`: relative to the workspace (and inside it), or absolute
    /// as the workflow author wrote it.
    File(PathBuf),
}

/// One build secret, mounted at `/run/secrets/<id>` by `RUN --mount=type=secret,id=<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BuildSecret {
    /// The id the Dockerfile names.
    pub id: String,
    /// Its bytes.
    pub source: SecretSource,
}

/// One `ssh` entry: `default` (the agent at `SSH_AUTH_SOCK`) or `id=path` (a key or socket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SshEntry {
    /// The id the Dockerfile names (`default` for the agent).
    pub id: String,
    /// Key files or sockets; empty means the agent at `SSH_AUTH_SOCK`.
    pub paths: Vec<PathBuf>,
}

impl SshEntry {
    /// The `--ssh` value docker reads.
    pub(super) fn flag(&self) -> String {
        if self.paths.is_empty() {
            return self.id.clone();
        }
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("{}={}", self.id, paths.join(","))
    }
}

/// The build options of these inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct BuildOptions {
    /// `network`.
    pub network: Network,
    /// `secrets` then `secret-files`, in input order.
    pub secrets: Vec<BuildSecret>,
    /// `ssh`.
    pub ssh: Vec<SshEntry>,
}

impl BuildOptions {
    /// Whether BuildKit is needed (the legacy builder has no secrets or ssh mounts).
    pub(super) fn needs_buildkit(&self) -> bool {
        !self.secrets.is_empty() || !self.ssh.is_empty()
    }

    /// Every secret value, for masking.
    pub(super) fn secret_values(&self) -> impl Iterator<Item = &Secret<String>> {
        self.secrets.iter().filter_map(|s| match &s.source {
            SecretSource::Value(v) => Some(v),
            SecretSource::File(_) => None,
        })
    }
}

/// An id BuildKit accepts and docker's `--secret`/`--ssh` parser cannot misread:
/// letters, digits, `_`, `.`, `-`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A path docker's comma-separated `--secret`/`--ssh` syntax can carry unquoted.
fn plain_path(p: &str) -> bool {
    !p.is_empty() && !p.contains([',', '"', '='])
}

/// A relative path that stays inside the folder it is relative to (no `..` out of it).
fn stays_inside(p: &Path) -> bool {
    let mut depth: i32 = 0;
    for c in p.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Read `network`, `secrets`, `secret-files` and `ssh`.
pub(super) fn parse(raw: &RawInputs) -> Result<BuildOptions, InputError> {
    let network: Network = raw
        .parse("network", "`default`, `none` or `host`")?
        .unwrap_or_default();
    let mut secrets: Vec<BuildSecret> = Vec::new();
    let mut add = |secret: BuildSecret| {
        if secrets.iter().any(|s| s.id == secret.id) {
            return Err(secret.id);
        }
        secrets.push(secret);
        Ok(())
    };
    for (n, line) in raw.multiline("secrets").iter().enumerate() {
        let secret_line = |message: &str| InputError::SecretLine {
            name: "secrets".into(),
            line: n + 1,
            message: message.into(),
        };
        let Some((id, value)) = line.split_once('=') else {
            return Err(secret_line("expected `id=value`"));
        };
        let id = id.trim();
        if !valid_id(id) {
            return Err(secret_line(
                "expected an id of letters, digits, `_`, `.` and `-` before `=`",
            ));
        }
        if value.is_empty() {
            return Err(secret_line(&format!(
                "secret `{id}` is empty (is the workflow secret set for this event?)"
            )));
        }
        add(BuildSecret {
            id: id.to_owned(),
            source: SecretSource::Value(Secret::new(value.to_owned())),
        })
        .map_err(|id| secret_line(&format!("secret `{id}` is given twice")))?;
    }
    for line in raw.multiline("secret-files") {
        let invalid = |m: &str| InputError::invalid("secret-files", &line, m);
        let Some((id, path)) = line.split_once('=') else {
            return Err(invalid("expected one `id=path` per line"));
        };
        let (id, path) = (id.trim(), path.trim());
        if !valid_id(id) {
            return Err(invalid(
                "expected an id of letters, digits, `_`, `.` and `-` before `=`",
            ));
        }
        if !plain_path(path) {
            return Err(invalid("expected a path without `,`, `\"` or `=`"));
        }
        let p = PathBuf::from(path);
        if p.is_relative() && !stays_inside(&p) {
            return Err(invalid(
                "a relative path must stay inside the workspace (write an absolute path to use one outside it)",
            ));
        }
        add(BuildSecret {
            id: id.to_owned(),
            source: SecretSource::File(p),
        })
        .map_err(|id| invalid(&format!("secret `{id}` is given twice")))?;
    }
    let mut ssh: Vec<SshEntry> = Vec::new();
    for line in raw.multiline("ssh") {
        let invalid = |m: &str| InputError::invalid("ssh", &line, m);
        let entry = match line.split_once('=') {
            None if line == "default" => SshEntry {
                id: line.clone(),
                paths: Vec::new(),
            },
            None => return Err(invalid("expected `default` or `id=path`")),
            Some((id, paths)) => {
                let id = id.trim();
                if !valid_id(id) {
                    return Err(invalid(
                        "expected an id of letters, digits, `_`, `.` and `-` before `=`",
                    ));
                }
                let paths: Vec<&str> = paths.split(',').map(str::trim).collect();
                if !paths.iter().all(|p| plain_path(p)) {
                    return Err(invalid("expected `id=path[,path...]`"));
                }
                SshEntry {
                    id: id.to_owned(),
                    paths: paths.into_iter().map(PathBuf::from).collect(),
                }
            }
        };
        if ssh.iter().any(|s| s.id == entry.id) {
            return Err(invalid("this id is given twice"));
        }
        ssh.push(entry);
    }
    Ok(BuildOptions {
        network,
        secrets,
        ssh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_pairs(pairs: &[(&str, &str)]) -> Result<BuildOptions, InputError> {
        parse(&RawInputs::from_named(pairs.iter().copied()))
    }

    #[test]
    fn defaults_are_empty() {
        let o = parse_pairs(&[]).unwrap();
        assert_eq!(o, BuildOptions::default());
        assert!(!o.needs_buildkit());
        assert_eq!(o.network.flag(), None);
    }

    #[test]
    fn every_input_read() {
        let o = parse_pairs(&[
            ("network", "none"),
            ("secrets", "npm_token=abc=def\n  gh = x y "),
            ("secret-files", "aws=.aws/credentials\nkey=/etc/key"),
            ("ssh", "default\ngithub=/home/u/.ssh/id_ed25519, /k2"),
        ])
        .unwrap();
        assert_eq!(o.network, Network::None);
        assert_eq!(o.network.flag(), Some("none"));
        let ids: Vec<&str> = o.secrets.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["npm_token", "gh", "aws", "key"]);
        let values: Vec<&str> = o.secret_values().map(|v| v.expose().as_str()).collect();
        assert_eq!(values, ["abc=def", " x y"], "the value is kept as written");
        assert_eq!(
            o.secrets[2].source,
            SecretSource::File(".aws/credentials".into())
        );
        assert_eq!(o.ssh[0].flag(), "default");
        assert_eq!(o.ssh[1].flag(), "github=/home/u/.ssh/id_ed25519,/k2");
        assert!(o.needs_buildkit());
        assert!(
            !format!("{o:?}").contains("abc=def"),
            "Debug never shows a value"
        );
        assert_eq!(
            parse_pairs(&[("network", "host")]).unwrap().network.flag(),
            Some("host")
        );
    }

    #[test]
    fn bad_lines_are_named_and_secret_values_never_shown() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("network", "bridge")],
                "input `network`: expected `default`, `none` or `host`, found \"bridge\"",
            ),
            (
                &[("secrets", "a=1\nhunter2-no-equals")],
                "input `secrets`, line 2: expected `id=value` (the line is not shown: it holds a secret)",
            ),
            (
                &[("secrets", "bad id=hunter2")],
                "input `secrets`, line 1: expected an id of letters, digits, `_`, `.` and `-` before `=` (the line is not shown: it holds a secret)",
            ),
            (
                &[("secrets", "tok=")],
                "input `secrets`, line 1: secret `tok` is empty (is the workflow secret set for this event?) (the line is not shown: it holds a secret)",
            ),
            (
                &[("secrets", "tok=hunter2\ntok=hunter3")],
                "input `secrets`, line 2: secret `tok` is given twice (the line is not shown: it holds a secret)",
            ),
            (
                &[("secrets", "tok=hunter2"), ("secret-files", "tok=f")],
                "input `secret-files`: secret `tok` is given twice, found \"tok=f\"",
            ),
            (
                &[("secret-files", "tok=../outside")],
                "input `secret-files`: a relative path must stay inside the workspace (write an absolute path to use one outside it), found \"tok=../outside\"",
            ),
            (
                &[("secret-files", "tok=a,b")],
                "input `secret-files`: expected a path without `,`, `\"` or `=`, found \"tok=a,b\"",
            ),
            (
                &[("secret-files", "justapath")],
                "input `secret-files`: expected one `id=path` per line, found \"justapath\"",
            ),
            (
                &[("ssh", "agent")],
                "input `ssh`: expected `default` or `id=path`, found \"agent\"",
            ),
            (
                &[("ssh", "default\ndefault")],
                "input `ssh`: this id is given twice, found \"default\"",
            ),
        ];
        for (pairs, want) in cases {
            let err = parse_pairs(pairs).expect_err(want).to_string();
            assert_eq!(err, *want, "{pairs:?}");
            assert!(!err.contains("hunter"), "{err}");
        }
        assert!(stays_inside(Path::new("a/../b")));
        assert!(!stays_inside(Path::new("a/../../b")));
    }
}
