//! Finding a gate's baseline record: the merge-base of the pull request (local git when
//! the history is in the clone, else the compare API's `merge_base_commit`), then the
//! check run of the same check name on it, read back with [`crate::baseline::decode`] for
//! the record kind asked for. When that commit has no usable record (its push run was
//! skipped, is still running, or failed before reporting) the first parents are walked,
//! at most [`WALK`] commits in all, and the result says which commit was used and why.
//!
//! Gate-agnostic (the coverage and tests gates both use it; it knows neither). Why the
//! merge-base and not the base branch's tip: the tip has moved on with other people's
//! work, and a comparison with it blames this change for theirs. Every call here needs
//! read access only (`checks: read`, `contents: read`), which fork tokens have. A failing
//! API call is a [`BaseState::Missing`] with `api_failed`, never an error: it costs the
//! comparison, never the verdict. Does git and GitHub I/O; decides nothing.

use std::path::Path;

use crate::baseline::{self, Ignored, Record};
use crate::gates::Context;
use crate::github::{ApiError, GitHub, commits};
use crate::outcome::{Annotation, Level};

/// Commits tried, the merge-base included: enough for a few skipped or still-running
/// pushes on the base branch, few enough that a run costs at most ~2×10 requests.
pub(crate) const WALK: usize = 10;

async fn git_line(ws: &Path, args: &[&str]) -> Option<String> {
    let out = crate::git::bytes(ws, args).await?;
    let s = String::from_utf8_lossy(&out).trim().to_owned();
    (s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())).then_some(s)
}

/// Where the commit graph is read from.
enum Graph {
    /// The clone has the history.
    Git,
    /// The compare API (parents of each commit come with it).
    Api(Vec<String>),
}

/// What was found for the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BaseState {
    /// Not a pull request: nothing to compare against (not worth a notice).
    NotApplicable,
    /// No baseline, and why (a notice, or a warning when an API call failed).
    Missing {
        /// Why, for people.
        why: String,
        /// An API call failed (a warning), rather than nothing being recorded (a notice).
        api_failed: bool,
    },
    /// A baseline.
    Found {
        /// The commit whose check run held it.
        sha: String,
        /// Which commit this is and why it was used.
        why: String,
        /// The record.
        record: Record,
        /// The base check run's web URL.
        url: String,
    },
}

/// Which record to look for: the gate that writes it and the title of the notices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted<'a> {
    /// The record's `kind` (the gate's name).
    pub kind: &'a str,
    /// Title of the notices about ignored records (`Coverage baseline`).
    pub title: &'a str,
}

/// The first seven characters of a commit id.
pub(crate) fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Find the record of `wanted.kind` under the context's check name for a change from
/// `base` (the base branch's commit the event names) to `head`.
pub(crate) async fn find(ctx: &Context, wanted: Wanted<'_>, base: &str, head: &str) -> BaseState {
    let Some(gh) = ctx.github.as_ref() else {
        return BaseState::Missing {
            why: "no GitHub token to read the base commit's check run".into(),
            api_failed: false,
        };
    };
    match walk(ctx, gh, wanted, base, head).await {
        Ok(state) => state,
        Err(e) => BaseState::Missing {
            why: format!(
                "reading the baseline failed ({})",
                crate::error::error_chain(&e)
            ),
            api_failed: true,
        },
    }
}

async fn walk(
    ctx: &Context,
    gh: &GitHub,
    wanted: Wanted<'_>,
    base: &str,
    head: &str,
) -> Result<BaseState, ApiError> {
    let ws = &ctx.workspace;
    let (merge_base, mut graph, source) = match git_line(ws, &["merge-base", base, head]).await {
        Some(mb) => (mb, Graph::Git, "git merge-base"),
        None => {
            let c = commits::compare(gh, base, head).await?;
            (
                c.merge_base,
                Graph::Api(c.merge_base_parents),
                "the compare API",
            )
        }
    };
    let mut sha = merge_base.clone();
    let mut skipped: Vec<String> = Vec::new();
    let mut notices: Vec<String> = Vec::new();
    for step in 0..WALK {
        let runs = commits::check_runs(gh, &sha, &ctx.check_name).await?;
        let mut reason = if runs.is_empty() {
            "no check run".to_owned()
        } else {
            "no completed check run".to_owned()
        };
        for run in runs.iter().filter(|r| r.status == "completed") {
            match baseline::decode(&run.summary, wanted.kind, &ctx.check_name) {
                Ok(record) => {
                    let why = if step == 0 {
                        format!("the merge-base, from {source}")
                    } else {
                        format!(
                            "{step} first parent{} back from the merge-base {} ({})",
                            if step == 1 { "" } else { "s" },
                            short(&merge_base),
                            skipped.join("; ")
                        )
                    };
                    for n in &notices {
                        ctx.commands.annotation(&Annotation::general(
                            Level::Notice,
                            wanted.title,
                            n,
                        ));
                    }
                    return Ok(BaseState::Found {
                        sha: sha.clone(),
                        why,
                        record,
                        url: run.html_url.clone(),
                    });
                }
                Err(Ignored::Missing) => reason = "a check run without a record".into(),
                Err(e) => {
                    notices.push(format!("check run on {}: {e}: ignored", short(&sha)));
                    reason = format!("a check run whose record was ignored: {e}");
                }
            }
        }
        skipped.push(format!("{}: {reason}", short(&sha)));
        let parent = match &mut graph {
            Graph::Git => {
                git_line(
                    ws,
                    &["rev-parse", "--verify", "--quiet", &format!("{sha}^1")],
                )
                .await
            }
            Graph::Api(parents) => {
                let p = parents.first().cloned();
                if let Some(p) = &p {
                    *parents = commits::compare(gh, p, p).await?.merge_base_parents;
                }
                p
            }
        };
        match parent {
            Some(p) => sha = p,
            None => break,
        }
    }
    Ok(BaseState::Missing {
        why: format!(
            "no baseline record on the merge-base {} or its first {} parents (tried {}){}",
            short(&merge_base),
            WALK - 1,
            skipped.join("; "),
            if notices.is_empty() {
                String::new()
            } else {
                format!("; {}", notices.join("; "))
            }
        ),
        api_failed: false,
    })
}
