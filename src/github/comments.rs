//! Issue comments on a pull request: list, create, update. The sticky comment is found by
//! a marker the caller chooses; this file only speaks the API.
//! <https://docs.github.com/en/rest/issues/comments>
//!
//! Writing needs `pull-requests: write` (or `issues: write`); fork tokens do not have it.

use http::Method;
use serde_json::{Value, json};

use super::{ApiError, GitHub};

/// A comment's id and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Id.
    pub id: u64,
    /// Markdown body.
    pub body: String,
    /// Web URL.
    pub html_url: String,
    /// Written by an app (`github-actions[bot]` and other bots) or by someone with write
    /// access to the repository (owner, member, collaborator): the authors a sticky
    /// comment of ours can have. A pull request's author from a fork is neither, so a
    /// comment they plant with our marker is never taken for ours.
    pub trusted_author: bool,
}

/// At most 3,000 comments are read (30 pages of 100): a marker further down is not found.
const MAX_PAGES: usize = 30;

fn comment(v: &Value) -> Option<Comment> {
    Some(Comment {
        id: v.get("id").and_then(Value::as_u64)?,
        body: v
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        html_url: v
            .get("html_url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        trusted_author: trusted_author(v),
    })
}

fn trusted_author(v: &Value) -> bool {
    let bot = v.pointer("/user/type").and_then(Value::as_str) == Some("Bot");
    let writer = matches!(
        v.get("author_association").and_then(Value::as_str),
        Some("OWNER" | "MEMBER" | "COLLABORATOR")
    );
    bot || writer
}

/// `GET /repos/{owner}/{repo}/issues/{number}/comments`, every page.
pub async fn list(gh: &GitHub, number: u64) -> Result<Vec<Comment>, ApiError> {
    let first = gh.repo_path(&format!("/issues/{number}/comments?per_page=100"));
    let items = gh.get_all_pages(&first, MAX_PAGES).await?;
    Ok(items.iter().filter_map(comment).collect())
}

/// `POST /repos/{owner}/{repo}/issues/{number}/comments`.
pub async fn create(gh: &GitHub, number: u64, body: &str) -> Result<Comment, ApiError> {
    let path = gh.repo_path(&format!("/issues/{number}/comments"));
    let resp = gh
        .send(Method::POST, &path, Some(&json!({ "body": body })))
        .await?;
    comment(&resp.body).ok_or_else(|| ApiError::Decode {
        method: Method::POST,
        path,
        reason: "no `id` in the created comment".into(),
    })
}

/// `PATCH /repos/{owner}/{repo}/issues/comments/{id}`.
pub async fn update(gh: &GitHub, id: u64, body: &str) -> Result<Comment, ApiError> {
    let path = gh.repo_path(&format!("/issues/comments/{id}"));
    let resp = gh
        .send(Method::PATCH, &path, Some(&json!({ "body": body })))
        .await?;
    comment(&resp.body).ok_or_else(|| ApiError::Decode {
        method: Method::PATCH,
        path,
        reason: "no `id` in the updated comment".into(),
    })
}
