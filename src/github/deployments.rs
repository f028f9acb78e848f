//! Deployments: one per rollout, for a commit and an environment, then its statuses
//! (`in_progress`, then `success`, `failure` or `error`), which is what GitHub's
//! Deployments page, environment protection and the pull request timeline show.
//! <https://docs.github.com/en/rest/deployments/deployments#create-a-deployment>
//! <https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status>
//!
//! Bodies go out as GitHub documents them; what a gate records (which commit, which
//! description) is the gate's business.

use http::Method;
use serde_json::{Value, json};

use super::{ApiError, GitHub};

/// The longest description GitHub accepts on a status.
pub const MAX_DESCRIPTION: usize = 140;

/// A deployment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeployment<'a> {
    /// The commit deployed.
    pub sha: &'a str,
    /// Environment name (`staging`, `production`).
    pub environment: &'a str,
    /// Short description.
    pub description: &'a str,
    /// The environment goes away with the deployment (a preview).
    pub transient: bool,
    /// End users use the environment; `None` leaves GitHub's default (true only for
    /// `production`).
    pub production: Option<bool>,
}

/// `POST /repos/{owner}/{repo}/deployments`; returns the deployment's id.
///
/// `auto_merge: false` and `required_contexts: []`: the deployment records what the
/// workflow already deployed, so GitHub must neither merge the default branch into the
/// ref nor refuse while the run's own checks (this one among them) are still pending.
pub async fn create(gh: &GitHub, d: &NewDeployment<'_>) -> Result<u64, ApiError> {
    let path = gh.repo_path("/deployments");
    let mut body = json!({
        "ref": d.sha,
        "task": "deploy",
        "auto_merge": false,
        "required_contexts": [],
        "environment": d.environment,
        "description": cut(d.description),
        "transient_environment": d.transient,
    });
    if let Some(p) = d.production {
        body["production_environment"] = json!(p);
    }
    let resp = gh.send(Method::POST, &path, Some(&body)).await?;
    resp.body
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::Decode {
            method: Method::POST,
            path,
            reason: format!(
                "no deployment `id` (HTTP {}: {})",
                resp.status,
                resp.body
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
            ),
        })
}

/// A deployment status to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<'a> {
    /// `in_progress`, `success`, `failure`, `error`.
    pub state: &'a str,
    /// Short description (cut to [`MAX_DESCRIPTION`] characters).
    pub description: &'a str,
    /// The run's log.
    pub log_url: Option<&'a str>,
    /// Where the environment is reached.
    pub environment_url: Option<&'a str>,
}

/// `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
pub async fn add_status(gh: &GitHub, id: u64, s: &Status<'_>) -> Result<(), ApiError> {
    let path = gh.repo_path(&format!("/deployments/{id}/statuses"));
    let mut body = json!({"state": s.state, "description": cut(s.description)});
    if let Some(u) = s.log_url {
        body["log_url"] = json!(u);
    }
    if let Some(u) = s.environment_url {
        body["environment_url"] = json!(u);
    }
    gh.send(Method::POST, &path, Some(&body)).await?;
    Ok(())
}

/// `text` cut to [`MAX_DESCRIPTION`] characters, with `…` when cut.
pub fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_DESCRIPTION - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_fit_githubs_limit() {
        assert_eq!(cut("short"), "short");
        let long = "é".repeat(200);
        let c = cut(&long);
        assert_eq!(c.chars().count(), MAX_DESCRIPTION);
        assert!(c.ends_with('…'));
        assert_eq!(cut(&"x".repeat(140)), "x".repeat(140));
    }
}
