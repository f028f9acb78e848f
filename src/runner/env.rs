//! The runner's environment (`GITHUB_*`, `RUNNER_*`), deserialised with envy from pairs.
//!
//! This is the only module that reads the process environment ([`process_pairs`]); the
//! rest of the program gets a [`RunnerEnv`] value.

use std::path::PathBuf;

use serde::Deserialize;

use crate::secret::Secret;

/// Environment variables of the process as UTF-8 pairs (non-UTF-8 ones are skipped:
/// none of the variables we read can legitimately hold such bytes).
// The one place the program reads its environment; `clippy.toml` forbids it elsewhere.
#[allow(clippy::disallowed_methods)]
pub fn process_pairs() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The process's working directory (`None` when it is gone or unreadable).
// With `process_pairs`, the only reads of the process environment; see `clippy.toml`.
#[allow(clippy::disallowed_methods)]
pub fn process_cwd() -> Option<PathBuf> {
    std::env::current_dir().ok()
}

/// The variables the runner sets that we use
/// (<https://docs.github.com/en/actions/reference/variables-reference>).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct RunnerEnv {
    /// `GITHUB_ACTIONS=true` on a runner.
    #[serde(default, rename = "github_actions")]
    pub actions: Option<String>,
    /// REST API base (GitHub Enterprise Server sets its own).
    #[serde(default, rename = "github_api_url")]
    pub api_url: Option<String>,
    /// Web base, for links.
    #[serde(default, rename = "github_server_url")]
    pub server_url: Option<String>,
    /// `owner/repo`.
    #[serde(default, rename = "github_repository")]
    pub repository: Option<String>,
    /// The commit the workflow runs on (a merge commit on `pull_request`).
    #[serde(default, rename = "github_sha")]
    pub sha: Option<String>,
    /// `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/7/merge`.
    #[serde(default, rename = "github_ref")]
    pub git_ref: Option<String>,
    /// `branch` or `tag`.
    #[serde(default, rename = "github_ref_type")]
    pub ref_type: Option<String>,
    /// Short ref name.
    #[serde(default, rename = "github_ref_name")]
    pub ref_name: Option<String>,
    /// The event name.
    #[serde(default, rename = "github_event_name")]
    pub event_name: Option<String>,
    /// Path of the event payload.
    #[serde(default, rename = "github_event_path")]
    pub event_path: Option<PathBuf>,
    /// The checkout.
    #[serde(default, rename = "github_workspace")]
    pub workspace: Option<PathBuf>,
    /// Outputs file.
    #[serde(default, rename = "github_output")]
    pub output: Option<PathBuf>,
    /// Job summary file.
    #[serde(default, rename = "github_step_summary")]
    pub step_summary: Option<PathBuf>,
    /// Run id, for links.
    #[serde(default, rename = "github_run_id")]
    pub run_id: Option<String>,
    /// Run attempt.
    #[serde(default, rename = "github_run_attempt")]
    pub run_attempt: Option<String>,
    /// Workflow name.
    #[serde(default, rename = "github_workflow")]
    pub workflow: Option<String>,
    /// `1` when debug logging is on.
    #[serde(default, rename = "runner_debug")]
    pub runner_debug: Option<String>,
    /// `RUST_LOG`, which overrides the level.
    #[serde(default, rename = "rust_log")]
    pub rust_log: Option<String>,
    /// Token fallback for the local CLI.
    #[serde(default, rename = "github_token")]
    pub token: Option<String>,
    /// The runner's per-job temporary folder, emptied after every job.
    #[serde(default, rename = "runner_temp")]
    pub runner_temp: Option<PathBuf>,
    /// Where to ask for the workflow's OIDC token (only with `permissions: id-token: write`).
    #[serde(default, rename = "actions_id_token_request_url")]
    pub id_token_request_url: Option<String>,
    /// The bearer token for [`RunnerEnv::id_token_request_url`].
    #[serde(default, rename = "actions_id_token_request_token")]
    pub id_token_request_token: Option<Secret<String>>,
    /// The docker CLI's configuration folder, when not `~/.docker`.
    #[serde(default, rename = "docker_config")]
    pub docker_config: Option<PathBuf>,
    /// `DOCKER_HOST`: the engine the docker CLI talks to, when not the default socket.
    #[serde(default, rename = "docker_host")]
    pub docker_host: Option<String>,
    /// `PATH`, to tell whether a program is installed without starting it.
    #[serde(default, rename = "path")]
    pub path: Option<String>,
    /// The user's home folder.
    #[serde(default, rename = "home")]
    pub home: Option<PathBuf>,
    /// `RUST_CI_ACTION_CRASH_TEST`: test builds only (the `crash-test` feature) panic on
    /// purpose, `1` at start-up, `gate` inside the gate, to prove the crash contract.
    #[serde(default, rename = "rust_ci_action_crash_test")]
    pub crash_test: Option<String>,
    /// The process's working directory (not a variable: set with [`RunnerEnv::in_dir`]).
    #[serde(skip)]
    pub cwd: Option<PathBuf>,
}

/// Variables read besides every `GITHUB_*` one.
const OTHER_VARIABLES: &[&str] = &[
    "RUNNER_DEBUG",
    "RUST_LOG",
    "RUST_CI_ACTION_CRASH_TEST",
    "RUNNER_TEMP",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "DOCKER_CONFIG",
    "DOCKER_HOST",
    "PATH",
    "HOME",
];

impl RunnerEnv {
    /// Read from pairs; empty values count as absent (envy would give `Some("")`).
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let wanted = pairs.into_iter().filter_map(|(k, v)| {
            let (k, v) = (k.as_ref(), v.as_ref());
            let relevant = k.starts_with("GITHUB_") || OTHER_VARIABLES.contains(&k);
            (relevant && !v.trim().is_empty()).then(|| (k.to_owned(), v.to_owned()))
        });
        // Every field is an optional string or path, so deserialisation cannot fail.
        envy::from_iter(wanted).unwrap_or_default()
    }

    /// The same environment, run from `cwd`.
    pub fn in_dir(self, cwd: Option<PathBuf>) -> Self {
        Self { cwd, ..self }
    }

    /// The directory relative paths are resolved against: `GITHUB_WORKSPACE`, else the
    /// working directory, else `.`.
    pub fn workspace_dir(&self) -> PathBuf {
        self.workspace
            .clone()
            .or_else(|| self.cwd.clone())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// On a GitHub Actions runner.
    pub fn on_actions(&self) -> bool {
        self.actions.as_deref() == Some("true")
    }

    /// Debug logging asked for with `RUNNER_DEBUG=1`.
    pub fn debug(&self) -> bool {
        self.runner_debug.as_deref() == Some("1")
    }

    /// REST API base URL without a trailing slash.
    pub fn api_url(&self) -> String {
        self.api_url
            .as_deref()
            .unwrap_or("https://api.github.com")
            .trim_end_matches('/')
            .to_owned()
    }

    /// `(owner, repo)` from `GITHUB_REPOSITORY`.
    pub fn owner_repo(&self) -> Option<(String, String)> {
        let (o, r) = self.repository.as_deref()?.split_once('/')?;
        (!o.is_empty() && !r.is_empty()).then(|| (o.to_owned(), r.to_owned()))
    }

    /// Link to the workflow run, when known.
    pub fn run_url(&self) -> Option<String> {
        let server = self
            .server_url
            .as_deref()
            .unwrap_or("https://github.com")
            .trim_end_matches('/');
        Some(format!(
            "{server}/{}/actions/runs/{}",
            self.repository.as_deref()?,
            self.run_id.as_deref()?
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_runner_variables_and_ignores_empties() {
        let env = RunnerEnv::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3/"),
            ("GITHUB_REPOSITORY", "octo/hello"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SHA", ""),
            ("RUNNER_DEBUG", "1"),
            ("HOME", "/root"),
        ]);
        assert!(env.on_actions());
        assert!(env.debug());
        assert_eq!(env.api_url(), "https://ghe.example.com/api/v3");
        assert_eq!(env.owner_repo(), Some(("octo".into(), "hello".into())));
        assert_eq!(env.sha, None);
        assert_eq!(
            env.run_url().as_deref(),
            Some("https://github.com/octo/hello/actions/runs/42")
        );
        assert_eq!(env.home, Some(PathBuf::from("/root")));
        let local = RunnerEnv::from_pairs(Vec::<(String, String)>::new());
        assert!(!local.on_actions());
        assert_eq!(local.api_url(), "https://api.github.com");
        assert_eq!(local.workspace_dir(), PathBuf::from("."));
        let local = local.in_dir(Some("/src/app".into()));
        assert_eq!(local.workspace_dir(), PathBuf::from("/src/app"));
        assert_eq!(
            env.in_dir(Some("/src/app".into())).workspace_dir(),
            PathBuf::from("/src/app"),
            "no GITHUB_WORKSPACE in that environment"
        );
        let ws = RunnerEnv::from_pairs([("GITHUB_WORKSPACE", "/ws")]).in_dir(Some("/x".into()));
        assert_eq!(ws.workspace_dir(), PathBuf::from("/ws"));
    }

    #[test]
    fn reads_what_the_image_gate_needs() {
        let env = RunnerEnv::from_pairs([
            ("RUNNER_TEMP", "/home/runner/work/_temp"),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://token.example/x?api-version=2.0",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ghs_request"),
            ("DOCKER_CONFIG", "/etc/docker-ci"),
            ("ACTIONS_RUNTIME_TOKEN", "not read"),
        ]);
        assert_eq!(
            env.runner_temp,
            Some(PathBuf::from("/home/runner/work/_temp"))
        );
        assert_eq!(
            env.id_token_request_url.as_deref(),
            Some("https://token.example/x?api-version=2.0")
        );
        assert_eq!(
            env.id_token_request_token
                .as_ref()
                .map(|t| t.expose().as_str()),
            Some("ghs_request")
        );
        assert!(
            !format!("{env:?}").contains("ghs_request"),
            "Debug never shows the OIDC request token"
        );
        assert_eq!(env.docker_config, Some(PathBuf::from("/etc/docker-ci")));
        assert_eq!(env.home, None);
    }
}
