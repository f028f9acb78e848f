//! The triggering event, from the payload at `GITHUB_EVENT_PATH`: which commit a check run
//! belongs on, what a diff compares against, and whether the pull request comes from a fork.
//!
//! On `pull_request` events `GITHUB_SHA` is the test merge commit; a check run created on
//! it never shows on the pull request, so the head sha comes from the payload
//! (<https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#pull_request>).

use serde_json::Value;

/// A pull request the run belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Number.
    pub number: u64,
    /// Head commit.
    pub head_sha: String,
    /// Base commit.
    pub base_sha: String,
    /// Base branch name.
    pub base_ref: String,
    /// The head lives in another repository (fork PRs get a read-only token).
    pub from_fork: bool,
}

/// What the run is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventInfo {
    /// Event name (`pull_request`, `push`, ...), empty when unknown.
    pub name: String,
    /// The commit checks and annotations belong to.
    pub head_sha: Option<String>,
    /// The commit changes are measured against, when the event has one.
    pub base_sha: Option<String>,
    /// The pull request, on `pull_request`/`pull_request_target` events (and `workflow_run`
    /// events whose run GitHub ties to one).
    pub pull_request: Option<PullRequest>,
    /// The repository's default branch (`repository.default_branch` in the payload).
    pub default_branch: Option<String>,
}

/// The payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Unreadable.
    #[error("cannot read the event payload {path}")]
    Read {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON.
    #[error("event payload {path} is not valid JSON")]
    Json {
        /// Where it was read from.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

const NULL_SHA: &str = "0000000000000000000000000000000000000000";

fn sha(v: &Value) -> Option<String> {
    v.as_str()
        .filter(|s| !s.is_empty() && *s != NULL_SHA)
        .map(str::to_owned)
}

impl EventInfo {
    /// Resolve from the event name, the payload bytes (if any) and `GITHUB_SHA`.
    pub fn resolve(
        name: Option<&str>,
        payload: Option<(&str, &[u8])>,
        github_sha: Option<&str>,
    ) -> Result<Self, EventError> {
        let value: Value = match payload {
            Some((path, bytes)) => {
                serde_json::from_slice(bytes).map_err(|source| EventError::Json {
                    path: path.to_owned(),
                    source,
                })?
            }
            None => Value::Null,
        };
        Ok(Self::from_value(name.unwrap_or(""), &value, github_sha))
    }

    /// Resolve from an already parsed payload.
    pub fn from_value(name: &str, payload: &Value, github_sha: Option<&str>) -> Self {
        let fallback = github_sha.filter(|s| !s.is_empty()).map(str::to_owned);
        let mut info = EventInfo {
            name: name.to_owned(),
            head_sha: fallback.clone(),
            default_branch: payload
                .pointer("/repository/default_branch")
                .and_then(Value::as_str)
                .filter(|b| !b.is_empty())
                .map(str::to_owned),
            ..Default::default()
        };
        // The payload shape decides, so a `pull_request_target` or a workflow that
        // re-dispatches with a pull request payload still resolves.
        if let Some(pr) = payload.get("pull_request").filter(|p| p.is_object()) {
            let head_repo = pr.pointer("/head/repo/full_name").and_then(Value::as_str);
            let base_repo = pr.pointer("/base/repo/full_name").and_then(Value::as_str);
            let number = pr
                .get("number")
                .or_else(|| payload.get("number"))
                .and_then(Value::as_u64);
            let head_sha = pr.pointer("/head/sha").and_then(sha);
            let base_sha = pr.pointer("/base/sha").and_then(sha);
            if let (Some(number), Some(head_sha), Some(base_sha)) = (number, head_sha, base_sha) {
                info.head_sha = Some(head_sha.clone());
                info.base_sha = Some(base_sha.clone());
                info.pull_request = Some(PullRequest {
                    number,
                    head_sha,
                    base_sha,
                    base_ref: pr
                        .pointer("/base/ref")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    // A deleted fork shows as `head.repo: null`: still not our repository.
                    from_fork: head_repo.is_none() || head_repo != base_repo,
                });
            }
        } else if let Some(wr) = payload.get("workflow_run").filter(|w| w.is_object()) {
            // A `workflow_run` job runs on the default branch with `GITHUB_SHA` of that
            // branch; what it reports on is the triggering run's commit. GitHub lists the
            // run's pull requests only when the head is in this repository (fork pull
            // requests come with `pull_requests: []`), so a fork's run has no pull request.
            info.head_sha = wr.get("head_sha").and_then(sha).or(fallback);
            let pr = wr.pointer("/pull_requests/0");
            let number = pr.and_then(|p| p.get("number")).and_then(Value::as_u64);
            let base_sha = pr.and_then(|p| p.pointer("/base/sha")).and_then(sha);
            if let (Some(number), Some(head_sha), Some(base_sha)) =
                (number, info.head_sha.clone(), base_sha)
            {
                info.base_sha = Some(base_sha.clone());
                let head_repo = wr.pointer("/head_repository/full_name");
                info.pull_request = Some(PullRequest {
                    number,
                    head_sha,
                    base_sha,
                    base_ref: pr
                        .and_then(|p| p.pointer("/base/ref"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    from_fork: head_repo.is_none()
                        || head_repo != wr.pointer("/repository/full_name"),
                });
            }
        } else if let Some(mg) = payload.get("merge_group").filter(|m| m.is_object()) {
            info.head_sha = mg.get("head_sha").and_then(sha).or(fallback);
            info.base_sha = mg.get("base_sha").and_then(sha);
        } else if payload.get("after").is_some() && payload.get("before").is_some() {
            info.head_sha = payload.get("after").and_then(sha).or(fallback);
            info.base_sha = payload.get("before").and_then(sha);
        }
        info
    }
}

/// Read and resolve the event named by the runner environment. A missing payload file is
/// not an error (local runs); an unreadable or invalid one is.
pub fn load(env: &crate::runner::env::RunnerEnv) -> Result<EventInfo, EventError> {
    let payload = match &env.event_path {
        Some(p) => match std::fs::read(p) {
            Ok(bytes) => Some((p.display().to_string(), bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(EventError::Read {
                    path: p.display().to_string(),
                    source,
                });
            }
        },
        None => None,
    };
    EventInfo::resolve(
        env.event_name.as_deref(),
        payload.as_ref().map(|(p, b)| (p.as_str(), b.as_slice())),
        env.sha.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn shared_events() -> Vec<(String, Value)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/github-events");
        let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (
                    name,
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap(),
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[test]
    fn every_shared_payload_resolves() {
        let events = shared_events();
        assert!(
            events.len() >= 30,
            "expected the shared payloads, got {}",
            events.len()
        );
        for (file, v) in &events {
            let kind = file.split('.').next().unwrap();
            let info = EventInfo::from_value(kind, v, Some("f00d"));
            match kind {
                "pull_request" => {
                    let pr = info
                        .pull_request
                        .as_ref()
                        .unwrap_or_else(|| panic!("{file}"));
                    assert_eq!(pr.number, v["number"].as_u64().unwrap(), "{file}");
                    assert_eq!(Some(&pr.head_sha), info.head_sha.as_ref(), "{file}");
                    assert_eq!(pr.head_sha, v["pull_request"]["head"]["sha"], "{file}");
                    assert_eq!(pr.base_sha, v["pull_request"]["base"]["sha"], "{file}");
                    assert_ne!(info.head_sha.as_deref(), Some("f00d"), "{file}");
                    let same = v["pull_request"]["head"]["repo"]["full_name"]
                        == v["pull_request"]["base"]["repo"]["full_name"];
                    assert_eq!(pr.from_fork, !same, "{file}");
                }
                "merge_group" => {
                    assert_eq!(
                        info.head_sha.as_deref(),
                        v["merge_group"]["head_sha"].as_str()
                    );
                    assert_eq!(
                        info.base_sha.as_deref(),
                        v["merge_group"]["base_sha"].as_str()
                    );
                    assert!(info.pull_request.is_none());
                }
                "push" => {
                    assert_eq!(
                        info.head_sha.as_deref(),
                        v["after"]
                            .as_str()
                            .filter(|s| *s != NULL_SHA)
                            .or(Some("f00d")),
                        "{file}"
                    );
                    let before = v["before"].as_str().filter(|s| *s != NULL_SHA);
                    assert_eq!(info.base_sha.as_deref(), before, "{file}");
                }
                // The triggering run's commit, and its pull request when GitHub lists one.
                "workflow_run" => {
                    let wr = &v["workflow_run"];
                    assert_eq!(info.head_sha.as_deref(), wr["head_sha"].as_str(), "{file}");
                    assert_ne!(info.head_sha.as_deref(), Some("f00d"), "{file}");
                    match wr["pull_requests"].as_array().and_then(|a| a.first()) {
                        Some(p) => {
                            let pr = info
                                .pull_request
                                .as_ref()
                                .unwrap_or_else(|| panic!("{file}"));
                            assert_eq!(pr.number, p["number"].as_u64().unwrap(), "{file}");
                            assert_eq!(pr.base_sha, p["base"]["sha"], "{file}");
                            assert!(!pr.from_fork, "{file}");
                        }
                        None => assert!(info.pull_request.is_none(), "{file}"),
                    }
                }
                "workflow_dispatch" => {
                    assert_eq!(info.head_sha.as_deref(), Some("f00d"), "{file}");
                    assert_eq!(info.base_sha, None, "{file}");
                    assert!(info.pull_request.is_none(), "{file}");
                }
                other => panic!("unexpected payload kind {other}"),
            }
        }
    }

    #[test]
    fn fork_and_deleted_fork_are_detected() {
        let (_, mut v) = shared_events()
            .into_iter()
            .find(|(f, _)| f.starts_with("pull_request.opened"))
            .unwrap();
        v["pull_request"]["head"]["repo"]["full_name"] = "someone/fork".into();
        let info = EventInfo::from_value("pull_request_target", &v, None);
        assert!(info.pull_request.unwrap().from_fork);
        v["pull_request"]["head"]["repo"] = Value::Null;
        assert!(
            EventInfo::from_value("pull_request", &v, None)
                .pull_request
                .unwrap()
                .from_fork
        );
    }

    #[test]
    fn no_payload_falls_back_to_github_sha() {
        let info = EventInfo::resolve(Some("schedule"), None, Some("abc")).unwrap();
        assert_eq!(info.head_sha.as_deref(), Some("abc"));
        let err = EventInfo::resolve(None, Some(("/e.json", b"{not json")), None).unwrap_err();
        assert!(err.to_string().contains("/e.json"), "{err}");
    }

    #[test]
    fn the_default_branch_comes_from_the_repository() {
        let payload = br#"{"repository":{"default_branch":"trunk"},"after":"a","before":"b"}"#;
        let info = EventInfo::resolve(Some("push"), Some(("/e.json", payload)), None).unwrap();
        assert_eq!(info.default_branch.as_deref(), Some("trunk"));
        let info = EventInfo::resolve(Some("push"), None, None).unwrap();
        assert_eq!(info.default_branch, None);
    }
}
