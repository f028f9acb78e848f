//! The sticky pull-request comment: one per check name, found by a hidden marker on its
//! first line and updated in place, never a second one. Talks to GitHub; the body is
//! rendered in `render/comment.rs`.
//!
//! Writing needs `pull-requests: write`; fork tokens (and tokens without the permission)
//! get a 403, which costs the comment and one warning, never the verdict. So does any
//! other failing call (rate limits and 5xx after the client's retries).

use super::config::CommentMode;
use crate::github::{ApiError, GitHub, comments, query_value};

/// The hidden first line that marks this check name's comment. The name is
/// percent-encoded, so no `-->` can end the comment early and no name is a prefix of
/// another's marker.
pub(crate) fn marker(check_name: &str) -> String {
    format!(
        "<!-- rust-ci-action:comment {} -->",
        query_value(check_name)
    )
}

/// What happened to the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Posted {
    /// Not posted: the mode said no, and there was none to update.
    Skipped,
    /// Created.
    Created(String),
    /// Updated in place (or already up to date).
    Updated(String),
    /// Could not be written: the warning to give.
    Failed(String),
}

/// The comment to post on a pull request.
pub(super) struct Request<'a> {
    /// The pull request.
    pub number: u64,
    /// Whose comment it is (the marker names it).
    pub check_name: &'a str,
    /// `comment`.
    pub mode: CommentMode,
    /// Whether the run has something to say in `on-change` mode.
    pub changed: bool,
    /// The markdown.
    pub body: &'a str,
}

/// Post or update the comment.
pub(super) async fn post(gh: &GitHub, req: &Request<'_>) -> Posted {
    if req.mode == CommentMode::Off {
        return Posted::Skipped;
    }
    match upsert(gh, req).await {
        Ok(p) => p,
        Err(e) => {
            let hint = if e.is_permission() {
                " (the token needs `pull-requests: write`; a fork pull request's token is read-only: run the gate from a `workflow_run` job, see the README)"
            } else {
                ""
            };
            Posted::Failed(format!(
                "the pull-request comment was not written: {}{hint}",
                crate::error::error_chain(&e)
            ))
        }
    }
}

async fn upsert(gh: &GitHub, req: &Request<'_>) -> Result<Posted, ApiError> {
    let Request {
        number,
        check_name,
        mode,
        changed,
        body,
    } = *req;
    let mark = marker(check_name);
    let existing = comments::list(gh, number).await?;
    // The oldest comment that starts with our marker and was written by a bot or someone
    // with write access is ours; a later copy (a race between two runs) is left alone
    // rather than multiplied, and a copy planted by anyone else (a fork's author) is never
    // edited: our report would appear under their name, in a comment they can change.
    if let Some(c) = existing
        .iter()
        .find(|c| c.trusted_author && c.body.starts_with(&mark))
    {
        if c.body == body {
            return Ok(Posted::Updated(c.html_url.clone()));
        }
        let c = comments::update(gh, c.id, body).await?;
        return Ok(Posted::Updated(c.html_url));
    }
    if mode == CommentMode::OnChange && !changed {
        return Ok(Posted::Skipped);
    }
    let c = comments::create(gh, number, body).await?;
    Ok(Posted::Created(c.html_url))
}
